package nfs4client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// words builds XDR by hand for the expected encodings: uint32 values,
// and []byte and string items appended as they are (already padded by
// the test).
func words(items ...any) []byte {
	var b []byte
	for _, it := range items {
		switch v := it.(type) {
		case int:
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		default:
			panic("words: bad item")
		}
	}
	return b
}

// TestEncodeOps checks the arguments of operations against their XDR in
// RFC 7531 and RFC 5662, written out word by word.
func TestEncodeOps(t *testing.T) {
	other := [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	sid := Stateid{Seqid: 7, Other: other}
	owner := StateOwner{Clientid: 0x0102030405060708, Owner: []byte("own")}
	var sess SessionID
	copy(sess[:], "0123456789abcdef")
	for _, tc := range []struct {
		name string
		op   Op
		num  uint32
		want []byte
	}{
		{"PUTROOTFH", Putrootfh(), 24, nil},
		{"PUTFH", Putfh([]byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee}), 22, words(5, []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0})},
		{"LOOKUP", Lookup("abc"), 15, words(3, "abc\x00")},
		{"GETATTR", Getattr(FATTR4_TYPE, FATTR4_MODE, FATTR4_SUPPATTR_EXCLCREAT), 9, words(3, 1<<1, 1<<1, 1<<11)},
		{"READDIR", Readdir(3, [8]byte{'v'}, 100, 200, NewBitmap(FATTR4_FSID)), 26,
			words(uint64(3), "v\x00\x00\x00\x00\x00\x00\x00", 100, 200, 1, 1<<8)},
		{"CREATE dir", Mkdir("d", NewFattr(Mode(0o755))), 6, words(2, 1, "d\x00\x00\x00", 2, 0, 1<<1, 4, 0o755)},
		{"CREATE symlink", Symlink("l", "tgt", NewFattr()), 6, words(5, 3, "tgt\x00", 1, "l\x00\x00\x00", 0, 0)},
		{"CREATE chr", Create(NF4CHR, "c", NewFattr(), "", Specdata{1, 2}), 6, words(4, 1, 2, 1, "c\x00\x00\x00", 0, 0)},
		{"CREATE fifo", Create(NF4FIFO, "f", NewFattr(), "ignored", Specdata{1, 2}), 6, words(7, 1, "f\x00\x00\x00", 0, 0)},
		{"RENAME", Rename("a", "bb"), 29, words(1, "a\x00\x00\x00", 2, "bb\x00\x00")},
		{"SETATTR", Setattr(sid, NewFattr(Size(9), Mode(0o600))), 34,
			words(7, other[:], 2, 1<<4, 1<<1, 12, uint64(9), 0o600)},
		{"OPEN create unchecked", OpenCreate(5, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE, owner, "f", UNCHECKED4, NewFattr(Mode(0o644))), 18,
			words(5, 3, 2, uint64(0x0102030405060708), 3, "own\x00", 1, 0, 2, 0, 1<<1, 4, 0o644, 0, 1, "f\x00\x00\x00")},
		{"OPEN exclusive4_1", Open(OpenArgs{ShareAccess: 1, Owner: owner, Create: true, Mode: EXCLUSIVE4_1, Verf: [8]byte{9}, Claim: CLAIM_NULL, File: "x"}), 18,
			words(0, 1, 0, uint64(0x0102030405060708), 3, "own\x00", 1, 3, []byte{9, 0, 0, 0, 0, 0, 0, 0}, 0, 0, 0, 1, "x\x00\x00\x00")},
		{"OPEN nocreate previous", OpenPrevious(1, 1, 0, owner), 18,
			words(1, 1, 0, uint64(0x0102030405060708), 3, "own\x00", 0, 1, 0)},
		{"OPEN claim_fh", OpenFH(2, 0, owner), 18, words(0, 2, 0, uint64(0x0102030405060708), 3, "own\x00", 0, 4)},
		{"OPEN_CONFIRM", OpenConfirm(sid, 8), 20, words(7, other[:], 8)},
		{"OPEN_DOWNGRADE", OpenDowngrade(sid, 8, 1, 0), 21, words(7, other[:], 8, 1, 0)},
		{"CLOSE", Close(4, sid), 4, words(4, 7, other[:])},
		{"READ", Read(sid, 10, 20), 25, words(7, other[:], uint64(10), 20)},
		{"WRITE", Write(sid, 1, FILE_SYNC4, []byte("hello")), 38, words(7, other[:], uint64(1), 2, 5, "hello\x00\x00\x00")},
		{"LOCK new", LockNew(WRITE_LT, false, 0, 100, 3, sid, 0, owner), 12,
			words(2, 0, uint64(0), uint64(100), 1, 3, 7, other[:], 0, uint64(0x0102030405060708), 3, "own\x00")},
		{"LOCK existing", LockExisting(READ_LT, true, 5, 6, sid, 2), 12,
			words(1, 1, uint64(5), uint64(6), 0, 7, other[:], 2)},
		{"LOCKT", Lockt(READ_LT, 1, 2, owner), 13, words(1, uint64(1), uint64(2), uint64(0x0102030405060708), 3, "own\x00")},
		{"LOCKU", Locku(WRITE_LT, 3, sid, 1, 2), 14, words(2, 3, 7, other[:], uint64(1), uint64(2))},
		{"SETCLIENTID", Setclientid([8]byte{'v'}, []byte("id"), 0x40000000, "tcp", "1.2.3.4.0.1", 9), 35,
			words("v\x00\x00\x00\x00\x00\x00\x00", 2, "id\x00\x00", 0x40000000, 3, "tcp\x00", 11, "1.2.3.4.0.1\x00", 9)},
		{"SETCLIENTID_CONFIRM", SetclientidConfirm(5, [8]byte{1}), 36, words(uint64(5), []byte{1, 0, 0, 0, 0, 0, 0, 0})},
		{"EXCHANGE_ID", ExchangeID(ExchangeIDArgs{Verifier: [8]byte{2}, OwnerID: []byte("o"), Flags: 1}), 42,
			words([]byte{2, 0, 0, 0, 0, 0, 0, 0}, 1, "o\x00\x00\x00", 1, 0, 0)},
		{"EXCHANGE_ID impl", ExchangeID(ExchangeIDArgs{OwnerID: []byte{}, ImplID: &ImplID{Domain: "d", Name: "n", Date: Nfstime{1, 2}}}), 42,
			words(make([]byte, 8), 0, 0, 0, 1, 1, "d\x00\x00\x00", 1, "n\x00\x00\x00", uint64(1), 2)},
		{"CREATE_SESSION", CreateSession(CreateSessionArgs{Clientid: 9, Sequence: 1, Flags: 2,
			Fore:      ChannelAttrs{0, 1, 2, 3, 4, 5, nil},
			Back:      ChannelAttrs{6, 7, 8, 9, 10, 11, []uint32{12}},
			CbProgram: 13, SecParms: []CallbackSec{{Flavor: AUTH_NONE}}}), 43,
			words(uint64(9), 1, 2, 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 11, 1, 12, 13, 1, 0)},
		{"SEQUENCE", Sequence(sess, 3, 0, 4, true), 53, words("0123456789abcdef", 3, 0, 4, 1)},
		{"DESTROY_SESSION", DestroySession(sess), 44, words("0123456789abcdef")},
		{"DESTROY_CLIENTID", DestroyClientid(7), 57, words(uint64(7))},
		{"RECLAIM_COMPLETE", ReclaimComplete(true), 58, words(1)},
		{"TEST_STATEID", TestStateid(sid, sid), 55, words(2, 7, other[:], 7, other[:])},
		{"FREE_STATEID", FreeStateid(sid), 45, words(7, other[:])},
		{"VERIFY", Verify(NewFattr(Type(NF4DIR))), 37, words(1, 1<<1, 4, 2)},
		{"SECINFO_NO_NAME", SecinfoNoName(SECINFO_STYLE4_PARENT), 52, words(1)},
	} {
		if tc.op.Num != tc.num {
			t.Errorf("%s: op number %d, want %d", tc.name, tc.op.Num, tc.num)
		}
		if !bytes.Equal(tc.op.Args, tc.want) {
			t.Errorf("%s: args\n%x\nwant\n%x", tc.name, tc.op.Args, tc.want)
		}
	}
}

func TestEncodeCompound(t *testing.T) {
	got := Compound{Tag: "tg", Minor: 1, Ops: []Op{Putrootfh(), Lookup("a")}}.Encode()
	want := words(2, "tg\x00\x00", 1, 2, 24, 15, 1, "a\x00\x00\x00")
	if !bytes.Equal(got, want) {
		t.Errorf("COMPOUND4args\n%x\nwant\n%x", got, want)
	}
	// WriteData encodes as Write does, with the data referenced, and
	// AppendEncode appends.
	sid := Stateid{Seqid: 7, Other: [12]byte{1, 2, 3}}
	for _, data := range [][]byte{[]byte("hello"), {}, nil, make([]byte, 4096)} {
		w, wd := Write(sid, 9, FILE_SYNC4, data), WriteData(sid, 9, FILE_SYNC4, data)
		a := Compound{Minor: 1, Ops: []Op{Putrootfh(), w, Commit(0, 0)}}.Encode()
		b := Compound{Minor: 1, Ops: []Op{Putrootfh(), wd, Commit(0, 0)}}.AppendEncode([]byte("prefix"))
		if !bytes.Equal(b[:6], []byte("prefix")) || !bytes.Equal(a, b[6:]) {
			t.Errorf("WriteData of %d bytes\n%x\nwant\n%x", len(data), b[6:], a)
		}
		if len(data) > 0 && &wd.Data[0] != &data[0] {
			t.Error("WriteData copied the data")
		}
	}
}

// TestDecodeResult splits hand-written COMPOUND4res into results.
func TestDecodeResult(t *testing.T) {
	other := make([]byte, 12)
	other[0] = 0xee
	reply := words(int(NFS4ERR_DENIED), 1, "t\x00\x00\x00", 5,
		OP_PUTROOTFH, 0,
		OP_GETFH, 0, 3, []byte{1, 2, 3, 0},
		OP_SETATTR, int(NFS4_OK), 1, 1<<4,
		OP_OPEN, 0, 9, other, 1, uint64(1), uint64(2), 4, 1, 1, 3, 3,
		OP_LOCK, int(NFS4ERR_DENIED), uint64(5), uint64(6), 2, uint64(77), 2, "lo\x00\x00")
	res, err := DecodeResult(reply)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != NFS4ERR_DENIED || res.Tag != "t" || len(res.Ops) != 5 {
		t.Fatalf("result %v %q %d ops", res.Status, res.Tag, len(res.Ops))
	}
	if fh, err := res.Ops[1].Getfh(); err != nil || !bytes.Equal(fh, []byte{1, 2, 3}) {
		t.Errorf("GETFH %x %v", fh, err)
	}
	if b, err := res.Ops[2].Setattr(); err != nil || !b.Has(FATTR4_SIZE) || len(b.Attrs()) != 1 {
		t.Errorf("SETATTR %v %v", b, err)
	}
	op, err := res.Ops[3].Open()
	if err != nil {
		t.Fatal(err)
	}
	if op.Stateid.Seqid != 9 || op.Stateid.Other[0] != 0xee || !op.Cinfo.Atomic || op.Cinfo.After != 2 ||
		op.Rflags != 4 || !op.Attrset.Has(0) || op.Delegation.Type != OPEN_DELEGATE_NONE_EXT || op.Delegation.Why != 3 {
		t.Errorf("OPEN %+v", op)
	}
	d, err := res.Ops[4].Denied()
	if err != nil || d.Offset != 5 || d.Length != 6 || d.Locktype != WRITE_LT || d.Owner.Clientid != 77 || string(d.Owner.Owner) != "lo" {
		t.Errorf("LOCK4denied %+v %v", d, err)
	}
	var oe *OpError
	if err := res.Err(); !errors.As(err, &oe) || oe.Index != 4 || oe.Op != OP_LOCK || !errors.Is(err, NFS4ERR_DENIED) {
		t.Errorf("Err() = %v", err)
	}
	if _, err := res.Ops[4].Stateid(); !errors.Is(err, NFS4ERR_DENIED) {
		t.Errorf("Stateid of a failed LOCK: %v", err)
	}

	// An unknown operation's result is taken whole when it is last, and
	// refused before.
	res, err = DecodeResult(words(0, 0, 2, OP_PUTROOTFH, 0, 9999, 0, 1, 2))
	if err != nil || len(res.Ops) != 2 || len(res.Ops[1].Body) != 8 {
		t.Errorf("unknown last result: %+v %v", res, err)
	}
	if _, err := DecodeResult(words(0, 0, 2, 9999, 0, 1, OP_PUTROOTFH, 0)); !errors.Is(err, ErrUnknownResult) {
		t.Errorf("unknown result before the last: %v", err)
	}
	for name, b := range map[string][]byte{
		"truncated header": words(0, 0),
		"truncated result": words(0, 0, 1, OP_GETFH, 0, 8, 1),
		"trailing bytes":   words(0, 0, 1, OP_PUTROOTFH, 0, 5),
		"too many results": words(0, 0, 100, OP_PUTROOTFH, 0),
		"fh too long":      words(0, 0, 1, OP_GETFH, 0, 129, make([]byte, 132)),
		"bad bool":         words(0, 0, 1, OP_READ, 0, 2, 0),
	} {
		if _, err := DecodeResult(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestDecodeResults checks the typed decoders of the other results.
func TestDecodeResults(t *testing.T) {
	sess := "0123456789abcdef"
	for _, tc := range []struct {
		name  string
		op    uint32
		body  []byte
		check func(o OpResult) error
	}{
		{"READ", OP_READ, words(1, 3, "abc\x00"), func(o OpResult) error {
			r, err := o.Read()
			if err == nil && (!r.EOF || string(r.Data) != "abc") {
				err = errors.New("bad")
			}
			return err
		}},
		{"WRITE", OP_WRITE, words(3, 2, "verf0001"), func(o OpResult) error {
			r, err := o.Write()
			if err == nil && (r.Count != 3 || r.Committed != 2 || string(r.Verf[:]) != "verf0001") {
				err = errors.New("bad")
			}
			return err
		}},
		{"EXCHANGE_ID", OP_EXCHANGE_ID, words(uint64(5), 6, 0x80010000, 0, uint64(1), 2, "ma\x00\x00", 1, "s\x00\x00\x00", 1,
			1, "d\x00\x00\x00", 1, "n\x00\x00\x00", uint64(3), 4), func(o OpResult) error {
			r, err := o.ExchangeID()
			if err == nil && (r.Clientid != 5 || r.Sequenceid != 6 || r.Flags != 0x80010000 || r.ServerOwner.MinorID != 1 ||
				string(r.ServerOwner.MajorID) != "ma" || string(r.ServerScope) != "s" || r.ImplID == nil || r.ImplID.Name != "n") {
				err = errors.New("bad")
			}
			return err
		}},
		{"CREATE_SESSION", OP_CREATE_SESSION, words(sess, 1, 2, 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 11, 1, 12), func(o OpResult) error {
			r, err := o.CreateSession()
			if err == nil && (string(r.Sessionid[:]) != sess || r.Sequence != 1 || r.Flags != 2 || r.Fore.MaxRequests != 5 ||
				r.Back.MaxOperations != 10 || !slices.Equal(r.Back.RdmaIrd, []uint32{12})) {
				err = errors.New("bad")
			}
			return err
		}},
		{"SEQUENCE", OP_SEQUENCE, words(sess, 1, 2, 3, 4, 5), func(o OpResult) error {
			r, err := o.Sequence()
			if err == nil && (r.Sequenceid != 1 || r.Slotid != 2 || r.HighestSlotid != 3 || r.TargetHighestSlotid != 4 || r.StatusFlags != 5) {
				err = errors.New("bad")
			}
			return err
		}},
		{"READDIR", OP_READDIR, words("cookieve", 1, uint64(3), 1, "a\x00\x00\x00", 1, 1<<1, 4, 2, 1, uint64(4), 2, "bb\x00\x00", 0, 0, 0, 1),
			func(o OpResult) error {
				r, err := o.Readdir()
				if err == nil && (len(r.Entries) != 2 || r.Entries[0].Name != "a" || r.Entries[1].Cookie != 4 || !r.EOF ||
					!r.Entries[0].Attrs.Mask.Has(FATTR4_TYPE)) {
					err = errors.New("bad")
				}
				return err
			}},
		{"SETCLIENTID", OP_SETCLIENTID, words(uint64(8), "confirm!"), func(o OpResult) error {
			id, c, err := o.Setclientid()
			if err == nil && (id != 8 || string(c[:]) != "confirm!") {
				err = errors.New("bad")
			}
			return err
		}},
		{"TEST_STATEID", OP_TEST_STATEID, words(2, 0, int(NFS4ERR_BAD_STATEID)), func(o OpResult) error {
			s, err := o.TestStateid()
			if err == nil && !slices.Equal(s, []Status{NFS4_OK, NFS4ERR_BAD_STATEID}) {
				err = errors.New("bad")
			}
			return err
		}},
		{"SECINFO_NO_NAME", OP_SECINFO_NO_NAME, words(2, 6, 2, "oi\x00\x00", 0, 1, 1), func(o OpResult) error {
			s, err := o.Secinfo()
			if err == nil && (len(s) != 2 || s[0].Flavor != RPCSEC_GSS || string(s[0].OID) != "oi" || s[0].Service != 1 || s[1].Flavor != AUTH_SYS) {
				err = errors.New("bad")
			}
			return err
		}},
		{"ACCESS", OP_ACCESS, words(3, 1), func(o OpResult) error {
			s, a, err := o.Access()
			if err == nil && (s != 3 || a != 1) {
				err = errors.New("bad")
			}
			return err
		}},
		{"RENAME", OP_RENAME, words(0, uint64(1), uint64(2), 1, uint64(3), uint64(4)), func(o OpResult) error {
			c, err := o.ChangeInfo()
			if err == nil && (c.Atomic || c.Before != 1 || c.After != 2) {
				err = errors.New("bad")
			}
			return err
		}},
	} {
		reply := append(words(0, 0, 1, tc.op, 0), tc.body...)
		res, err := DecodeResult(reply)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := tc.check(res.Ops[0]); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		// A body one word short does not decode.
		if _, err := DecodeResult(reply[:len(reply)-4]); err == nil {
			t.Errorf("%s: truncated body decoded", tc.name)
		}
	}
}

func TestFattr(t *testing.T) {
	f := NewFattr(Mode(0o644), Size(10), Owner("1000"), Mode(0o600))
	if !slices.Equal(f.Mask.Attrs(), []uint32{FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER}) {
		t.Fatalf("mask %v", f.Mask.Attrs())
	}
	if want := words(uint64(10), 0o600, 4, "1000"); !bytes.Equal(f.Vals, want) {
		t.Fatalf("vals %x, want %x", f.Vals, want)
	}
	v, err := f.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != 10 || v.Mode != 0o600 || v.Owner != "1000" || !bytes.Equal(v.Raw[FATTR4_MODE], words(0o600)) {
		t.Errorf("decoded %+v", v)
	}
	for name, g := range map[string]Fattr{
		"unknown attribute": {Mask: NewBitmap(12), Vals: words(0)},
		"trailing bytes":    {Mask: NewBitmap(FATTR4_MODE), Vals: words(1, 2)},
		"short":             {Mask: NewBitmap(FATTR4_SIZE), Vals: words(1)},
	} {
		if _, err := g.Decode(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := (Fattr{Mask: NewBitmap(12)}).Decode(); !errors.Is(err, ErrUnknownAttr) {
		t.Errorf("unknown attribute: %v", err)
	}
	all := NewBitmap(FATTR4_FSID, FATTR4_TIME_MODIFY, FATTR4_FILEHANDLE, FATTR4_SUPPORTED_ATTRS, FATTR4_RDATTR_ERROR)
	vals := words(2, 3, 1<<20, uint64(1), uint64(2), 1, 2, "fh\x00\x00", uint64(7), 8)
	v, err = Fattr{Mask: all, Vals: vals}.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if !v.SupportedAttrs.Has(0) || !v.SupportedAttrs.Has(1) || !v.SupportedAttrs.Has(52) || v.RdattrError != NFS4ERR_PERM ||
		v.Fsid != (Fsid{1, 2}) || string(v.Filehandle) != "fh" || v.TimeModify != (Nfstime{7, 8}) {
		t.Errorf("decoded %+v", v)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{NFS4_OK: "NFS4_OK", NFS4ERR_SEQ_MISORDERED: "NFS4ERR_SEQ_MISORDERED",
		NFS4ERR_BADHANDLE: "NFS4ERR_BADHANDLE", 10073: "nfsstat4(10073)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", uint32(s), s.String(), want)
		}
	}
}
