package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// hx decodes hex written with spaces, newlines and "//" comments for
// readability.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	var clean []string
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		clean = append(clean, strings.Fields(line)...)
	}
	b, err := hex.DecodeString(strings.Join(clean, ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestArgsRoundTrip(t *testing.T) {
	covered := map[uint32]bool{}
	for _, s := range samples() {
		covered[s.op.Num] = true
		for minor := s.minor; minor <= 2; minor++ {
			var w xdr.Writer
			encodeOp(&w, s.op)
			r := xdr.NewReader(w.B)
			got, err := DecodeOp(r, minor, DefaultLimits)
			if err != nil {
				t.Errorf("%s minor %d: %v", s.name, minor, err)
				continue
			}
			if r.Len() != 0 {
				t.Errorf("%s minor %d: %d bytes left", s.name, minor, r.Len())
			}
			if !reflect.DeepEqual(got, s.op) {
				t.Errorf("%s minor %d:\n got %+v\nwant %+v", s.name, minor, got.Args, s.op.Args)
			}
		}
		if s.minor > 0 {
			// The sample does not exist in the minor version below:
			// either the operation (OP_ILLEGAL) or an arm (BADXDR).
			var w xdr.Writer
			encodeOp(&w, s.op)
			got, err := DecodeOp(xdr.NewReader(w.B), s.minor-1, DefaultLimits)
			want := nfserr.Badxdr
			if !OpDefined(s.op.Num, s.minor-1) {
				want = nfserr.OpIllegal
			}
			if err != want || got.Args != nil {
				t.Errorf("%s minor %d: %v %v, want %v", s.name, s.minor-1, got, err, want)
			}
		}
	}
	for op := uint32(OpAccess); op <= OpRemovexattr; op++ {
		if !covered[op] {
			t.Errorf("no sample for %v", Opnum(op))
		}
	}
}

func TestOpDefined(t *testing.T) {
	for _, tc := range []struct {
		op    uint32
		minor uint32
		want  bool
	}{
		{0, 0, false}, {1, 1, false}, {2, 2, false}, {OpAccess, 0, true},
		{OpReleaseLockowner, 0, true}, {OpSetclientid, 1, true}, {OpOpenConfirm, 2, true},
		{OpBackchannelCtl, 0, false}, {OpBackchannelCtl, 1, true}, {OpReclaimComplete, 1, true},
		{OpSequence, 0, false}, {OpAllocate, 1, false}, {OpAllocate, 2, true}, {OpClone, 2, true},
		{OpGetxattr, 1, false}, {OpRemovexattr, 2, true}, {76, 2, false}, {OpRemovexattr, 3, true},
		{OpIllegal, 0, false}, {OpIllegal, 2, false}, {0xffffffff, 2, false},
	} {
		if got := OpDefined(tc.op, tc.minor); got != tc.want {
			t.Errorf("OpDefined(%d, %d) = %v", tc.op, tc.minor, got)
		}
	}
}

func TestDecodeOpIllegal(t *testing.T) {
	for _, tc := range []struct {
		op    uint32
		minor uint32
	}{{OpSequence, 0}, {OpExchangeId, 0}, {OpSeek, 1}, {OpSetxattr, 1}, {OpIllegal, 1}, {2, 0}, {76, 2}, {1 << 31, 0}} {
		var w xdr.Writer
		w.Uint32(tc.op)
		w.Uint32(0) // would-be arguments
		r := xdr.NewReader(w.B)
		op, err := DecodeOp(r, tc.minor, DefaultLimits)
		if err != nfserr.OpIllegal || op.Num != OpIllegal || op.Args != nil {
			t.Errorf("op %d minor %d: %+v %v", tc.op, tc.minor, op, err)
		}
		if r.Offset() != 4 {
			t.Errorf("op %d: reader at %d", tc.op, r.Offset())
		}
	}
	// A 4.0-only operation decodes in 4.1 (the server answers NOTSUPP).
	var w xdr.Writer
	encodeOp(&w, Op{OpRenew, &RenewArgs{Clientid: 5}})
	op, err := DecodeOp(xdr.NewReader(w.B), 1, DefaultLimits)
	if err != nil || op.Num != OpRenew || op.Args.(*RenewArgs).Clientid != 5 {
		t.Errorf("RENEW in 4.1: %+v %v", op, err)
	}
	// A missing operation number.
	op, err = DecodeOp(xdr.NewReader([]byte{0, 0}), 1, DefaultLimits)
	if err != nfserr.Badxdr || op.Num != OpIllegal {
		t.Errorf("short opnum: %+v %v", op, err)
	}
}

// A Linux 4.1 client's first COMPOUND after mount, written by hand from
// RFC 5662: SEQUENCE, PUTROOTFH, GETATTR.
func TestLinuxSequencePutrootfhGetattr(t *testing.T) {
	b := hx(t, `
		00000000                               // tag: empty
		00000001                               // minorversion
		00000003                               // 3 operations
		00000035                               // OP_SEQUENCE
		5f3c1a2b 00000001 00000002 00000000    //   sa_sessionid
		00000001                               //   sa_sequenceid
		00000000                               //   sa_slotid
		00000000                               //   sa_highest_slotid
		00000000                               //   sa_cachethis
		00000018                               // OP_PUTROOTFH
		00000009                               // OP_GETATTR
		00000003 0010011a 00b0a23a 00000000    //   attr_request
	`)
	r := xdr.NewReader(b)
	h, err := DecodeCompoundHeader(r, DefaultLimits)
	if err != nil || len(h.Tag) != 0 || h.MinorVersion != 1 || h.NumOps != 3 {
		t.Fatalf("header %+v %v", h, err)
	}
	if err := CheckNumOps(h, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{OpSequence, &SequenceArgs{Sessionid: sess, Sequenceid: 1}},
		{OpPutrootfh, nil},
		{OpGetattr, &GetattrArgs{AttrRequest: Bitmap4{0x0010011a, 0x00b0a23a, 0}}},
	}
	for i, w := range want {
		op, err := DecodeOp(r, h.MinorVersion, DefaultLimits)
		if err != nil || !reflect.DeepEqual(op, w) {
			t.Errorf("op %d: %+v %v, want %+v", i, op, err, w)
		}
	}
	if r.Len() != 0 {
		t.Errorf("%d bytes left", r.Len())
	}
	ga := want[2].Args.(*GetattrArgs)
	for _, bit := range []uint32{1, 3, 4, 8, 20, 33, 35, 36, 37, 41, 45, 47, 52, 53, 55} {
		if !ga.AttrRequest.IsSet(bit) {
			t.Errorf("attribute %d not requested", bit)
		}
	}
	if ga.AttrRequest.IsSet(0) || ga.AttrRequest.IsSet(64) || ga.AttrRequest.IsSet(1000) {
		t.Error("unexpected attribute")
	}
}

// OPEN of 4.0 (RFC 7531): create "foo" UNCHECKED4 with size and mode.
func TestOpenVector(t *testing.T) {
	b := hx(t, `00000012 00000005 00000003 00000000
		0102030405060708 00000008 6f70656e2069643a
		00000001 00000000
		00000002 00000010 00000002 0000000c 0000000000000000 000001a4
		00000000 00000003 666f6f00`)
	op, err := DecodeOp(xdr.NewReader(b), 0, DefaultLimits)
	want := &OpenArgs{Seqid: 5, ShareAccess: 3, ShareDeny: 0,
		Owner:   StateOwner4{Clientid: 0x0102030405060708, Owner: []byte("open id:")},
		Openhow: Openflag4{Opentype: Open4Create, How: Createhow4{Mode: Unchecked4, Createattrs: Fattr4{Mask: Bitmap4{0x10, 2}, Vals: hx(t, "0000000000000000 000001a4")}}},
		Claim:   OpenClaim4{Claim: ClaimNull, File: []byte("foo")}}
	if err != nil || op.Num != OpOpen || !reflect.DeepEqual(op.Args, want) {
		t.Errorf("got %+v %v", op.Args, err)
	}
	// The same with CLAIM_FH (4) is BADXDR in 4.0 and has no file in 4.1.
	b2 := append(append([]byte(nil), b[:len(b)-12]...), hx(t, "00000004")...)
	if _, err := DecodeOp(xdr.NewReader(b2), 0, DefaultLimits); err != nfserr.Badxdr {
		t.Errorf("CLAIM_FH in 4.0: %v", err)
	}
	r := xdr.NewReader(b2)
	op, err = DecodeOp(r, 1, DefaultLimits)
	if err != nil || op.Args.(*OpenArgs).Claim.Claim != ClaimFH || r.Len() != 0 {
		t.Errorf("CLAIM_FH in 4.1: %+v %v", op, err)
	}
}

// LOCK with a new lock owner (RFC 7531 locker4 TRUE arm).
func TestLockVector(t *testing.T) {
	b := hx(t, `0000000c 00000002 00000000 0000000000000000 ffffffffffffffff
		00000001 00000006 00000001 0102030405060708090a0b0c
		00000000 0000000000000005 00000004 6c6b6f77`)
	op, err := DecodeOp(xdr.NewReader(b), 0, DefaultLimits)
	want := &LockArgs{Locktype: WriteLt, Length: Uint64Max, Locker: Locker4{NewLockOwner: true, OpenOwner: OpenToLockOwner4{
		OpenSeqid: 6, OpenStateid: Stateid4{1, [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		LockOwner: StateOwner4{Clientid: 5, Owner: []byte("lkow")}}}}
	if err != nil || !reflect.DeepEqual(op.Args, want) {
		t.Errorf("got %+v %v", op.Args, err)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	covered := map[uint32]bool{}
	for _, s := range resSamples() {
		covered[s.op] = true
		var w xdr.Writer
		s.res.Encode(&w)
		r := xdr.NewReader(w.B)
		got := decodeRes(r, s.op)
		if r.Err() != nil || r.Len() != 0 {
			t.Errorf("%s: %v, %d bytes left", s.name, r.Err(), r.Len())
		}
		if !reflect.DeepEqual(got, s.res) {
			t.Errorf("%s:\n got %+v\nwant %+v", s.name, got, s.res)
		}
		st := reflect.ValueOf(s.res).Elem().Field(0).Interface().(nfserr.Status)
		if st != nfserr.OK && !ErrorHasBody(s.op, st) && len(w.B) != 4 {
			t.Errorf("%s: error result of %d bytes", s.name, len(w.B))
		}
	}
	for op := uint32(OpAccess); op <= OpRemovexattr; op++ {
		if !covered[op] {
			t.Errorf("no result sample for %v", Opnum(op))
		}
	}
}

func TestResultVectors(t *testing.T) {
	cinfo := ChangeInfo4{Atomic: true, Before: 100, After: 101}
	for _, tc := range []struct {
		name string
		res  encoder
		want string
	}{
		{"SEQUENCE", &SequenceRes{Status: nfserr.OK, Sessionid: sess, Sequenceid: 5, HighestSlotid: 63, TargetHighestSlotid: 63, StatusFlags: 0x100},
			"00000000 5f3c1a2b000000010000000200000000 00000005 00000000 0000003f 0000003f 00000100"},
		{"SEQUENCE error", &SequenceRes{Status: nfserr.Badsession, Sequenceid: 5}, "00002744"},
		{"LOCK denied", &LockRes{Status: nfserr.Denied, Denied: Lock4Denied{Offset: 100, Length: 10, Locktype: WriteLt,
			Owner: StateOwner4{Clientid: 1, Owner: []byte("abc")}}},
			"0000271a 0000000000000064 000000000000000a 00000002 0000000000000001 00000003 61626300"},
		{"LOCKT ok", &LocktRes{Status: nfserr.OK, Denied: Lock4Denied{Offset: 1}}, "00000000"},
		{"SETATTR error", &SetattrRes{Status: nfserr.Inval}, "00000016 00000000"},
		{"SETATTR ok", &SetattrRes{Status: nfserr.OK, Attrsset: Bitmap4{0x10}}, "00000000 00000001 00000010"},
		{"SETCLIENTID inuse", &SetclientidRes{Status: nfserr.ClidInuse, ClientUsing: Netaddr4{"tcp", "1.2.3.4.0.1"}},
			"00002721 00000003 74637000 0000000b 312e322e332e342e302e3100"},
		{"READDIR", &ReaddirRes{Status: nfserr.OK, Cookieverf: verf, Entries: []Entry4{
			{Cookie: 3, Name: []byte("a"), Attrs: Fattr4{Mask: Bitmap4{0x10}, Vals: hx(t, "0000000000001000")}}}, EOF: true},
			"00000000 7665726966696572 00000001 0000000000000003 00000001 61000000 00000001 00000010 00000008 0000000000001000 00000000 00000001"},
		{"OPEN read deleg", &OpenRes{Status: nfserr.OK, Stateid: sid1, Cinfo: cinfo, Rflags: Open4ResultLocktypePosix, Attrset: nil,
			Delegation: OpenDelegation4{Type: OpenDelegateRead, Stateid: sid2, Recall: false,
				Permissions: Nfsace4{Type: 0, Flag: 0, AccessMask: 0, Who: []byte{}}}},
			"00000000 00000007 0102030405060708090a0b0c 00000001 0000000000000064 0000000000000065 00000004 00000000" +
				" 00000001 fffffffe a000000000000000000000a1 00000000 00000000 00000000 00000000 00000000"},
		{"EXCHANGE_ID", &ExchangeIdRes{Status: nfserr.OK, Clientid: 0x0102030405060708, Sequenceid: 1, Flags: 0x80010000,
			StateProtect: StateProtect4R{How: SP4None}, ServerOwner: ServerOwner4{MinorID: 0, MajorID: []byte("srv")}, ServerScope: []byte("srv")},
			"00000000 0102030405060708 00000001 80010000 00000000 0000000000000000 00000003 73727600 00000003 73727600 00000000"},
		{"GETFH", &GetfhRes{Status: nfserr.OK, Object: []byte{1, 2, 3, 4, 5}}, "00000000 00000005 0102030405000000"},
		{"READ", &ReadRes{Status: nfserr.OK, EOF: true, Data: []byte("abcde")}, "00000000 00000001 00000005 6162636465000000"},
		{"LAYOUTGET trylater", &LayoutgetRes{Status: nfserr.Layouttrylater, WillSignalLayoutAvail: true}, "0000274a 00000001"},
		{"COPY noreqs", &CopyRes{Status: nfserr.OffloadNoReqs, Requirements: CopyRequirements4{false, true}}, "0000276e 00000000 00000001"},
		{"OFFLOAD_STATUS", &OffloadStatusRes{Status: nfserr.OK, Count: 2, Complete: st(nfserr.Io)}, "00000000 0000000000000002 00000001 00000005"},
	} {
		var w xdr.Writer
		tc.res.Encode(&w)
		if want := hx(t, tc.want); !bytes.Equal(w.B, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, w.B, want)
		}
	}
	var w xdr.Writer
	EncodeStatusOnly(&w, nfserr.Stale)
	if !bytes.Equal(w.B, hx(t, "00000046")) {
		t.Errorf("EncodeStatusOnly: %x", w.B)
	}
}

func TestEntrySizes(t *testing.T) {
	for _, e := range []Entry4{
		{Cookie: 3, Name: []byte("a"), Attrs: fat1},
		{Cookie: 4, Name: []byte("abcd"), Attrs: Fattr4{}},
		{Cookie: 5, Name: []byte("abcdefg"), Attrs: Fattr4{Mask: Bitmap4{1, 2, 3}, Vals: make([]byte, 13)}},
	} {
		var w xdr.Writer
		e.Encode(&w)
		if e.EncodedLen() != len(w.B) {
			t.Errorf("%q: EncodedLen %d, encoded %d", e.Name, e.EncodedLen(), len(w.B))
		}
		if want := 8 + 4 + (len(e.Name)+3)&^3; e.DirLen() != want {
			t.Errorf("%q: DirLen %d, want %d", e.Name, e.DirLen(), want)
		}
	}
	var w xdr.Writer
	(&ReaddirRes{Status: nfserr.OK}).Encode(&w)
	if len(w.B) != ReaddirResOverhead {
		t.Errorf("ReaddirResOverhead %d, encoded %d", ReaddirResOverhead, len(w.B))
	}
	w = xdr.Writer{}
	(&SequenceRes{Status: nfserr.OK}).Encode(&w)
	if len(w.B) != SequenceResOKSize {
		t.Errorf("SequenceResOKSize %d, encoded %d", SequenceResOKSize, len(w.B))
	}
}

func TestErrorHasBody(t *testing.T) {
	for _, tc := range []struct {
		op   uint32
		st   nfserr.Status
		want bool
	}{
		{OpSetattr, nfserr.Perm, true}, {OpSetattr, nfserr.OK, true}, {OpLock, nfserr.Denied, true},
		{OpLock, nfserr.Grace, false}, {OpLockt, nfserr.Denied, true}, {OpSetclientid, nfserr.ClidInuse, true},
		{OpSetclientid, nfserr.Inval, false}, {OpGetdeviceinfo, nfserr.Toosmall, true}, {OpReaddir, nfserr.Toosmall, false},
		{OpLayoutget, nfserr.Layouttrylater, true}, {OpCopy, nfserr.OffloadNoReqs, true}, {OpOpen, nfserr.Denied, false},
		{OpLookup, nfserr.Noent, false},
	} {
		if got := ErrorHasBody(tc.op, tc.st); got != tc.want {
			t.Errorf("ErrorHasBody(%v, %v) = %v", Opnum(tc.op), tc.st, got)
		}
	}
}

// compoundOfSamples encodes every sample valid in minor version 2 as one
// COMPOUND and returns it with the end offset of each operation.
func compoundOfSamples() ([]byte, []Op, []int) {
	var ops []Op
	for _, s := range samples() {
		ops = append(ops, s.op)
	}
	var w xdr.Writer
	w.String("tag")
	w.Uint32(2)
	w.Uint32(uint32(len(ops)))
	ends := make([]int, len(ops))
	for i, op := range ops {
		encodeOp(&w, op)
		ends[i] = w.Len()
	}
	return w.B, ops, ends
}

// Every prefix of a valid COMPOUND decodes the operations it holds whole
// and fails the next with BADXDR (a truncated header fails the header).
func TestTruncation(t *testing.T) {
	b, ops, ends := compoundOfSamples()
	const hdrLen = 4 + 4 + 4 + 4
	for n := 0; n <= len(b); n++ {
		r := xdr.NewReader(b[:n])
		h, err := DecodeCompoundHeader(r, DefaultLimits)
		if n < hdrLen {
			if err != nfserr.Badxdr {
				t.Fatalf("prefix %d: header %v", n, err)
			}
			continue
		}
		if err != nil || int(h.NumOps) != len(ops) {
			t.Fatalf("prefix %d: header %+v %v", n, h, err)
		}
		for i := range ops {
			op, err := DecodeOp(r, 2, DefaultLimits)
			if ends[i] <= n {
				if err != nil || !reflect.DeepEqual(op, ops[i]) {
					t.Fatalf("prefix %d op %d: %+v %v", n, i, op, err)
				}
				continue
			}
			start := hdrLen
			if i > 0 {
				start = ends[i-1]
			}
			wantNum := ops[i].Num
			if n-start < 4 {
				wantNum = OpIllegal
			}
			if err != nfserr.Badxdr || op.Num != wantNum || op.Args != nil {
				t.Fatalf("prefix %d op %d (%v): %+v %v", n, i, Opnum(ops[i].Num), op, err)
			}
			break
		}
	}
}

func TestHeader(t *testing.T) {
	lim := DefaultLimits
	lim.MaxTag = 4
	b := encodeCompound("abcd", 0)
	h, err := DecodeCompoundHeader(xdr.NewReader(b), lim)
	if err != nil || string(h.Tag) != "abcd" || h.NumOps != 0 {
		t.Errorf("%+v %v", h, err)
	}
	b = encodeCompound("abcde", 0)
	if _, err := DecodeCompoundHeader(xdr.NewReader(b), lim); err != nfserr.Badxdr {
		t.Errorf("long tag: %v", err)
	}
	// Invalid UTF-8 and a minor version of 7 are the server's business.
	b = encodeCompound("\xff\xfe", 7)
	if h, err := DecodeCompoundHeader(xdr.NewReader(b), DefaultLimits); err != nil || h.MinorVersion != 7 {
		t.Errorf("%+v %v", h, err)
	}
	for _, tc := range []struct {
		minor, n uint32
		want     error
	}{{0, 200, nil}, {0, 201, nfserr.Resource}, {1, 201, nfserr.TooManyOps}, {2, 0xffffffff, nfserr.TooManyOps}} {
		if err := CheckNumOps(CompoundHeader{MinorVersion: tc.minor, NumOps: tc.n}, DefaultLimits); err != tc.want {
			t.Errorf("CheckNumOps(%d, %d) = %v", tc.minor, tc.n, err)
		}
	}
	// Status values are errors the server can test with errors.Is.
	if err := CheckNumOps(CompoundHeader{NumOps: 1000}, DefaultLimits); !errors.Is(err, nfserr.Resource) {
		t.Error(err)
	}
}

// Invalid XDR in arguments: each case is one nfs_argop4.
func TestMalformed(t *testing.T) {
	sidHex := "00000001 000000000000000000000000"
	for _, tc := range []struct {
		name  string
		minor uint32
		hex   string
	}{
		{"bool 2", 0, "00000013 00000002"}, // OPENATTR createdir
		{"lock type 0", 0, "0000000d 00000000 0000000000000000 0000000000000001 0000000000000001 00000000"},
		{"lock type 5", 0, "0000000e 00000005 00000001 " + sidHex + " 0000000000000000 0000000000000001"},
		{"stable_how 3", 0, "00000026 " + sidHex + " 0000000000000000 00000003 00000000"},
		{"opentype 2", 0, "00000012 00000000 00000001 00000000 0000000000000001 00000000 00000002"},
		{"createmode 4", 1, "00000012 00000000 00000001 00000000 0000000000000001 00000000 00000001 00000004"},
		{"exclusive4_1 in 4.0", 0, "00000012 00000000 00000001 00000000 0000000000000001 00000000 00000001 00000003 0000000000000000 00000000 00000000"},
		{"claim 7", 1, "00000012 00000000 00000001 00000000 0000000000000001 00000000 00000000 00000007"},
		{"claim deleg cur fh in 4.0", 0, "00000012 00000000 00000001 00000000 0000000000000001 00000000 00000000 00000005 " + sidHex},
		{"fh 129 bytes", 0, "00000016 00000081" + strings.Repeat("00", 132)},
		{"bitmap 65 words", 0, "00000009 00000041" + strings.Repeat("00000000", 65)},
		{"owner over NFS4_OPAQUE_LIMIT", 0, "00000027 0000000000000001 00000401" + strings.Repeat("00", 1028)},
		{"state protect 3", 1, "0000002a 0000000000000000 00000001 6f000000 00000000 00000003 00000000"},
		{"cb sec flavor 2", 1, "00000028 40000000 00000001 00000002"},
		{"auth_sys 17 gids", 1, "00000028 40000000 00000001 00000001 00000000 00000000 00000000 00000000 00000011" + strings.Repeat("00000000", 17)},
		{"machinename 256", 1, "00000028 40000000 00000001 00000001 00000000 00000100" + strings.Repeat("00", 256) + "00000000 00000000 00000000"},
		{"rdma_ird 2", 1, "0000002b 0000000000000001 00000001 00000000" + strings.Repeat("00000000", 6) + "00000002 00000000 00000000"},
		{"impl id 2", 1, "0000002a 0000000000000000 00000001 6f000000 00000000 00000000 00000002"},
		{"deleg claim null", 1, "00000038 00000000 00000000 00000003"},
		{"netloc 4", 2, "0000003d " + sidHex + " 00000004"},
		{"newoffset 2", 1, "00000031 0000000000000000 0000000000000000 00000000 " + sidHex + " 00000002"},
		{"truncated sequence", 1, "00000035 5f3c1a2b 00000001 00000002 00000000 00000001"},
		{"name over MaxName", 0, "0000000f 00001001" + strings.Repeat("61", 4100)},
		{"write over MaxWrite", 0, "00000026 " + sidHex + " 0000000000000000 00000000 00100001" + strings.Repeat("00", 1<<20+4)},
		{"newtime 3", 1, "00000031 0000000000000000 0000000000000000 00000000 " + sidHex + " 00000000 00000003"},
	} {
		op, err := DecodeOp(xdr.NewReader(hx(t, tc.hex)), tc.minor, DefaultLimits)
		if err != nfserr.Badxdr || op.Args != nil || op.Num == OpIllegal {
			t.Errorf("%s: %+v %v", tc.name, op, err)
		}
	}
	// The largest name and write decode, and WRITE data aliases the input.
	name := hx(t, "0000000f 00001000"+strings.Repeat("61", 4096))
	if op, err := DecodeOp(xdr.NewReader(name), 0, DefaultLimits); err != nil || len(op.Args.(*LookupArgs).Objname) != 4096 {
		t.Errorf("4096-byte name: %v", err)
	}
	wb := hx(t, "00000026 "+sidHex+" 0000000000000000 00000002 00000005 6162636465000000")
	op, err := DecodeOp(xdr.NewReader(wb), 0, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if d := op.Args.(*WriteArgs).Data; string(d) != "abcde" || &d[0] != &wb[36] || cap(d) != 5 {
		t.Errorf("WRITE data %q does not alias the input", d)
	}
}

// Huge counts and lengths are refused before anything is allocated.
func TestHugeCounts(t *testing.T) {
	sidHex := "00000001 000000000000000000000000"
	cases := []string{
		"00000037 7fffffff " + sidHex,                                        // TEST_STATEID: 2^31 stateids
		"00000037 00000400 " + sidHex,                                        // 1024 stateids (MaxArray) in 20 bytes
		"00000009 ffffffff 00000000",                                         // GETATTR bitmap
		"00000028 40000000 ffffffff 00000000",                                // BACKCHANNEL_CTL sec parms
		"00000026 " + sidHex + " 0000000000000000 00000000 ffffffff",         // WRITE data
		"00000049 00000000 00000001 61000000 fffffff0",                       // SETXATTR value
		"00000040 0000000000000000 0000000000000000 " + sidHex + " 10000000", // LAYOUTERROR
		"0000003c " + sidHex + sidHex + " 0000000000000000 0000000000000000 0000000000000000 00000000 00000000 00100000", // COPY sources
		"0000002a 0000000000000000 00000001 6f000000 00000000 00000002 00000000 00000000 fffffff0",                       // SSV hash algs
	}
	for _, c := range cases {
		b := hx(t, c)
		var m1, m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m1)
		for range 100 {
			op, err := DecodeOp(xdr.NewReader(b), 2, DefaultLimits)
			if err != nfserr.Badxdr {
				t.Fatalf("%s: %+v %v", c, op, err)
			}
		}
		runtime.ReadMemStats(&m2)
		if d := m2.TotalAlloc - m1.TotalAlloc; d > 100*1024 {
			t.Errorf("%s: %d bytes allocated for 100 decodes", c, d)
		}
	}
	// The callback reply's result count too.
	b := hx(t, "00000000 00000000 7fffffff 00000004")
	if _, err := DecodeCbCompoundRes(xdr.NewReader(b), DefaultLimits); err != nfserr.Badxdr {
		t.Errorf("CB result count: %v", err)
	}
}

func TestBitmap(t *testing.T) {
	var b Bitmap4
	if b.IsSet(0) || !b.IsZero() {
		t.Error("empty bitmap")
	}
	b.Set(1)
	b.Set(33)
	b.Set(82)
	if len(b) != 3 || b[0] != 2 || b[1] != 2 || b[2] != 1<<18 {
		t.Errorf("Set: %#x", b)
	}
	for n, want := range map[uint32]bool{0: false, 1: true, 32: false, 33: true, 82: true, 83: false, 300: false} {
		if b.IsSet(n) != want {
			t.Errorf("IsSet(%d) = %v", n, !want)
		}
	}
	and := b.And(Bitmap4{0xffffffff, 0})
	if !reflect.DeepEqual(and, Bitmap4{2}) {
		t.Errorf("And: %#x", and)
	}
	if got := b.And(Bitmap4{0, 0, 0}); got != nil {
		t.Errorf("And to zero: %#x", got)
	}
	b.Clear(82)
	b.Clear(500)
	if b.IsSet(82) || len(b.Trim()) != 2 || b.IsZero() {
		t.Errorf("Clear: %#x", b)
	}
	var w xdr.Writer
	b.Encode(&w)
	if !bytes.Equal(w.B, hx(t, "00000003 00000002 00000002 00000000")) {
		t.Errorf("Encode: %x", w.B)
	}
	var d Bitmap4
	r := xdr.NewReader(hx(t, "00000008"+strings.Repeat("00000001", 8)))
	d.Decode(r)
	if r.Err() != nil || len(d) != 8 || !d.IsSet(224) {
		t.Errorf("8 words: %v %#x", r.Err(), d)
	}
	r = xdr.NewReader(hx(t, "00000000"))
	d.Decode(r)
	if r.Err() != nil || d != nil {
		t.Errorf("0 words: %v %#x", r.Err(), d)
	}
}

func TestStateids(t *testing.T) {
	for _, tc := range []struct {
		s                   Stateid4
		zero, ones, special bool
	}{
		{AnonymousStateid, true, false, true},
		{ReadBypassStateid, false, true, true},
		{CurrentStateid, true, false, true},
		{InvalidStateid, true, false, true},
		{sid1, false, false, false},
		{Stateid4{Seqid: 0xffffffff, Other: [12]byte{11: 0xff}}, false, false, false},
	} {
		if tc.s.OtherZero() != tc.zero || tc.s.OtherOnes() != tc.ones || tc.s.IsSpecial() != tc.special {
			t.Errorf("%+v", tc.s)
		}
	}
	if CurrentStateid.Seqid != 1 || InvalidStateid.Seqid != 0xffffffff || ReadBypassStateid.Seqid != 0xffffffff {
		t.Error("special stateid seqids")
	}
	var w xdr.Writer
	ReadBypassStateid.Encode(&w)
	if !bytes.Equal(w.B, bytes.Repeat([]byte{0xff}, 16)) {
		t.Errorf("%x", w.B)
	}
}

func TestSettime(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want Settime4
		err  bool
	}{
		{"00000000", Settime4{SetIt: SetToServerTime4}, false},
		{"00000001 ffffffffffffffff 3b9ac9ff", Settime4{SetIt: SetToClientTime4, Time: Nfstime4{-1, 999999999}}, false},
		{"00000002", Settime4{SetIt: 2}, true},
		{"00000001 00000000", Settime4{SetIt: 1}, true},
	} {
		r := xdr.NewReader(hx(t, tc.hex))
		var s Settime4
		s.Decode(r)
		if (r.Err() != nil) != tc.err || (!tc.err && s != tc.want) {
			t.Errorf("%s: %+v %v", tc.hex, s, r.Err())
		}
		if !tc.err {
			var w xdr.Writer
			s.Encode(&w)
			if !bytes.Equal(w.B, hx(t, tc.hex)) {
				t.Errorf("%s: encoded %x", tc.hex, w.B)
			}
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Opnum(OpAccess).String(), "ACCESS"}, {Opnum(OpSetclientidConfirm).String(), "SETCLIENTID_CONFIRM"},
		{Opnum(OpBindConnToSession).String(), "BIND_CONN_TO_SESSION"}, {Opnum(OpReadPlus).String(), "READ_PLUS"},
		{Opnum(OpRemovexattr).String(), "REMOVEXATTR"}, {Opnum(OpIllegal).String(), "ILLEGAL"},
		{Opnum(2).String(), "nfs_opnum4(2)"}, {Opnum(76).String(), "nfs_opnum4(76)"},
		{Op{Num: OpSequence}.String(), "SEQUENCE"},
		{CbOpnum(CbOpSequence).String(), "CB_SEQUENCE"}, {CbOpnum(CbOpOffload).String(), "CB_OFFLOAD"},
		{CbOpnum(CbOpIllegal).String(), "CB_ILLEGAL"}, {CbOpnum(0).String(), "nfs_cb_opnum4(0)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for op := uint32(OpAccess); op <= OpRemovexattr; op++ {
		if strings.HasPrefix(Opnum(op).String(), "nfs_opnum4") {
			t.Errorf("no name for %d", op)
		}
	}
}

func TestCallback(t *testing.T) {
	args := CbCompoundArgs{Tag: []byte("cb"), MinorVersion: 1, CallbackIdent: 0, Ops: []CbArg{
		&CbSequenceArgs{Sessionid: sess, Sequenceid: 1, Slotid: 0, HighestSlotid: 0, Cachethis: false,
			ReferringCallLists: []ReferringCallList4{{Sessionid: sess, ReferringCalls: []ReferringCall4{{5, 2}}}}},
		&CbRecallArgs{Stateid: sid1, Truncate: true, FH: []byte{1, 2, 3}},
		&CbGetattrArgs{FH: []byte{4}, AttrRequest: Bitmap4{0x18}},
		&CbRecallAnyArgs{ObjectsToKeep: 0, TypeMask: Bitmap4{1<<RCA4TypeMaskRdataDlg | 1<<RCA4TypeMaskWdataDlg}},
		&CbRecallSlotArgs{TargetHighestSlotid: 4},
		&CbNotifyLockArgs{FH: []byte{9, 9}, LockOwner: own1},
	}}
	var w xdr.Writer
	args.Encode(&w)
	// Hand-checked prefix (RFC 5662 CB_COMPOUND4args, CB_SEQUENCE4args).
	prefix := hx(t, `00000002 63620000 00000001 00000000 00000006
		0000000b 5f3c1a2b000000010000000200000000 00000001 00000000 00000000 00000000
		00000001 5f3c1a2b000000010000000200000000 00000001 00000005 00000002
		00000004 00000007 0102030405060708090a0b0c 00000001 00000003 01020300`)
	if !bytes.HasPrefix(w.B, prefix) {
		t.Errorf("CB_COMPOUND:\n got %x\nwant %x...", w.B, prefix)
	}
	r := xdr.NewReader(w.B)
	tag, minor, ident, ops := decodeCbArgs(r)
	if r.Err() != nil || r.Len() != 0 || string(tag) != "cb" || minor != 1 || ident != 0 || !reflect.DeepEqual(ops, args.Ops) {
		t.Errorf("round trip: %v %+v", r.Err(), ops)
	}

	res := CbCompoundRes{Status: nfserr.OK, Tag: []byte("cb"), Results: []CbResult{
		{Op: CbOpSequence, Status: nfserr.OK, Res: &CbSequenceRes{Sessionid: sess, Sequenceid: 1, HighestSlotid: 0, TargetHighestSlotid: 3}},
		{Op: CbOpRecall, Status: nfserr.OK},
		{Op: CbOpGetattr, Status: nfserr.OK, Res: &CbGetattrRes{ObjAttributes: fat1}},
		{Op: CbOpRecallAny, Status: nfserr.Inval},
		{Op: CbOpGetattr, Status: nfserr.Badhandle},
		{Op: CbOpIllegal, Status: nfserr.OpIllegal},
	}}
	b := encodeCbRes(res)
	got, err := DecodeCbCompoundRes(xdr.NewReader(b), DefaultLimits)
	if err != nil || !reflect.DeepEqual(got, res) {
		t.Errorf("CB_COMPOUND4res: %+v %v", got, err)
	}
	// A reply by hand: CB_RECALL failed with NFS4ERR_BADHANDLE.
	got, err = DecodeCbCompoundRes(xdr.NewReader(hx(t, "00002711 00000000 00000001 00000004 00002711")), DefaultLimits)
	if err != nil || got.Status != nfserr.Badhandle || len(got.Results) != 1 || got.Results[0] != (CbResult{Op: CbOpRecall, Status: nfserr.Badhandle}) {
		t.Errorf("%+v %v", got, err)
	}
	// Unknown op, truncation.
	for _, h := range []string{
		"00000000 00000000 00000001 00000002 00000000",
		"00000000 00000000 00000002 00000004 00000000 0000000b",
		"00000000 00000000 00000001 0000000b 00000000 5f3c1a2b",
		"00000000 00000004 6162",
	} {
		if _, err := DecodeCbCompoundRes(xdr.NewReader(hx(t, h)), DefaultLimits); err != nfserr.Badxdr {
			t.Errorf("%s: %v", h, err)
		}
	}
	// Every prefix of the reply fails cleanly.
	for n := 0; n < len(b); n++ {
		if _, err := DecodeCbCompoundRes(xdr.NewReader(b[:n]), DefaultLimits); err != nfserr.Badxdr {
			t.Fatalf("prefix %d: %v", n, err)
		}
	}
}
