package fattr

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// TestAttrNumbers checks every attribute number against RFC 8881 Tables 2
// and 3, RFC 7862 section 12.2, RFC 8275 and RFC 8276.
func TestAttrNumbers(t *testing.T) {
	for _, tc := range []struct {
		got, want int
		name      string
	}{
		{AttrSupportedAttrs, 0, "supported_attrs"}, {AttrType, 1, "type"},
		{AttrFhExpireType, 2, "fh_expire_type"}, {AttrChange, 3, "change"},
		{AttrSize, 4, "size"}, {AttrLinkSupport, 5, "link_support"},
		{AttrSymlinkSupport, 6, "symlink_support"}, {AttrNamedAttr, 7, "named_attr"},
		{AttrFsid, 8, "fsid"}, {AttrUniqueHandles, 9, "unique_handles"},
		{AttrLeaseTime, 10, "lease_time"}, {AttrRdattrError, 11, "rdattr_error"},
		{AttrAcl, 12, "acl"}, {AttrAclsupport, 13, "aclsupport"},
		{AttrArchive, 14, "archive"}, {AttrCansettime, 15, "cansettime"},
		{AttrCaseInsensitive, 16, "case_insensitive"}, {AttrCasePreserving, 17, "case_preserving"},
		{AttrChownRestricted, 18, "chown_restricted"}, {AttrFilehandle, 19, "filehandle"},
		{AttrFileid, 20, "fileid"}, {AttrFilesAvail, 21, "files_avail"},
		{AttrFilesFree, 22, "files_free"}, {AttrFilesTotal, 23, "files_total"},
		{AttrFsLocations, 24, "fs_locations"}, {AttrHidden, 25, "hidden"},
		{AttrHomogeneous, 26, "homogeneous"}, {AttrMaxfilesize, 27, "maxfilesize"},
		{AttrMaxlink, 28, "maxlink"}, {AttrMaxname, 29, "maxname"},
		{AttrMaxread, 30, "maxread"}, {AttrMaxwrite, 31, "maxwrite"},
		{AttrMimetype, 32, "mimetype"}, {AttrMode, 33, "mode"},
		{AttrNoTrunc, 34, "no_trunc"}, {AttrNumlinks, 35, "numlinks"},
		{AttrOwner, 36, "owner"}, {AttrOwnerGroup, 37, "owner_group"},
		{AttrQuotaAvailHard, 38, "quota_avail_hard"}, {AttrQuotaAvailSoft, 39, "quota_avail_soft"},
		{AttrQuotaUsed, 40, "quota_used"}, {AttrRawdev, 41, "rawdev"},
		{AttrSpaceAvail, 42, "space_avail"}, {AttrSpaceFree, 43, "space_free"},
		{AttrSpaceTotal, 44, "space_total"}, {AttrSpaceUsed, 45, "space_used"},
		{AttrSystem, 46, "system"}, {AttrTimeAccess, 47, "time_access"},
		{AttrTimeAccessSet, 48, "time_access_set"}, {AttrTimeBackup, 49, "time_backup"},
		{AttrTimeCreate, 50, "time_create"}, {AttrTimeDelta, 51, "time_delta"},
		{AttrTimeMetadata, 52, "time_metadata"}, {AttrTimeModify, 53, "time_modify"},
		{AttrTimeModifySet, 54, "time_modify_set"}, {AttrMountedOnFileid, 55, "mounted_on_fileid"},
		{AttrDirNotifDelay, 56, "dir_notif_delay"}, {AttrDirentNotifDelay, 57, "dirent_notif_delay"},
		{AttrDacl, 58, "dacl"}, {AttrSacl, 59, "sacl"},
		{AttrChangePolicy, 60, "change_policy"}, {AttrFsStatus, 61, "fs_status"},
		{AttrFsLayoutTypes, 62, "fs_layout_type"}, {AttrLayoutHint, 63, "layout_hint"},
		{AttrLayoutTypes, 64, "layout_type"}, {AttrLayoutBlksize, 65, "layout_blksize"},
		{AttrLayoutAlignment, 66, "layout_alignment"}, {AttrFsLocationsInfo, 67, "fs_locations_info"},
		{AttrMdsthreshold, 68, "mdsthreshold"}, {AttrRetentionGet, 69, "retention_get"},
		{AttrRetentionSet, 70, "retention_set"}, {AttrRetentevtGet, 71, "retentevt_get"},
		{AttrRetentevtSet, 72, "retentevt_set"}, {AttrRetentionHold, 73, "retention_hold"},
		{AttrModeSetMasked, 74, "mode_set_masked"}, {AttrSuppattrExclcreat, 75, "suppattr_exclcreat"},
		{AttrFsCharsetCap, 76, "fs_charset_cap"}, {AttrCloneBlksize, 77, "clone_blksize"},
		{AttrSpaceFreed, 78, "space_freed"}, {AttrChangeAttrType, 79, "change_attr_type"},
		{AttrSecLabel, 80, "sec_label"}, {AttrModeUmask, 81, "mode_umask"},
		{AttrXattrSupport, 82, "xattr_support"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestSupported(t *testing.T) {
	for _, tc := range []struct {
		minor uint32
		want  []uint32
	}{
		{0, []uint32{0xFCFFAFFF, 0x00F9BE3E}},
		{1, []uint32{0xFCFFAFFF, 0x00F9BE3E, 0x800}},
		{2, []uint32{0xFCFFAFFF, 0x00F9BE3E, 0x48800}},
		{3, []uint32{0xFCFFAFFF, 0x00F9BE3E, 0x48800}},
	} {
		got := Supported(tc.minor)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Supported(%d) = %#x, want %#x", tc.minor, got, tc.want)
		}
		got[0] = 0 // a copy: the next call is unaffected
		if Supported(tc.minor)[0] != tc.want[0] {
			t.Error("Supported returned shared storage")
		}
	}
	// Every supported attribute but the two set-only ones has a value in
	// the table of the encoding tests, and the other way round.
	fromTable := bm(AttrTimeAccessSet, AttrTimeModifySet)
	for _, a := range attrValues {
		fromTable = Set(fromTable, uint32(a.n))
	}
	if !slices.Equal(fromTable, Supported(2)) {
		t.Errorf("attrValues covers %#x, Supported(2) is %#x", fromTable, Supported(2))
	}
	if got, want := SuppattrExclcreat(), bm(AttrMode, AttrOwner, AttrOwnerGroup); !slices.Equal(got, want) {
		t.Errorf("SuppattrExclcreat = %#x, want %#x", got, want)
	}
	if got, want := Settable(), []uint32{0x10, 0x410032}; !slices.Equal(got, want) {
		t.Errorf("Settable = %#x, want %#x", got, want)
	}
	if !Subset(SuppattrExclcreat(), Settable()) || !Subset(Settable(), Supported(0)) {
		t.Error("exclcreat ⊄ settable ⊄ supported")
	}
}

// TestEncodeEach encodes every supported attribute alone and compares the
// whole fattr4 with the hand-computed XDR.
func TestEncodeEach(t *testing.T) {
	for i, a := range attrValues {
		if i > 0 && attrValues[i-1].n >= a.n {
			t.Fatalf("attrValues not in ascending order at %d", a.n)
		}
		val := hx(t, a.val)
		want := append(hx(t, oneBit(a.n)), hx(t, fmt.Sprintf("%08x", len(val)))...)
		want = append(want, val...)
		var w xdr.Writer
		w.B = append(w.B, 0xEE) // what was written before stays
		if err := Encode(&w, bm(a.n), testSource(2, nil)); err != nil {
			t.Errorf("attr %d: %v", a.n, err)
			continue
		}
		if w.B[0] != 0xEE || !bytes.Equal(w.B[1:], want) {
			t.Errorf("attr %d:\n got %x\nwant %x", a.n, w.B[1:], want)
		}
	}
}

// TestEncodeAll asks for every attribute at once: the values come in
// ascending order, the bitmap is the supported set, and statfs is called
// once.
func TestEncodeAll(t *testing.T) {
	var want []byte
	var retBits []uint32
	for _, a := range attrValues {
		want = append(want, hx(t, a.val)...)
		retBits = Set(retBits, uint32(a.n))
	}
	// Everything but the set-only attributes (which are NFS4ERR_INVAL).
	req := []uint32{0xFFFFFFFF, 0xFFFFFFFF &^ (1<<16 | 1<<22), 0xFFFFFFFF &^ (1<<6 | 1<<8 | 1<<10), 0xFFFFFFFF}
	req[1] &^= 1 << 31 // layout_hint (63)
	calls := 0
	var w xdr.Writer
	if err := Encode(&w, req, testSource(2, &calls)); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("StatFS called %d times, want 1", calls)
	}
	// The returned bitmap: supported minus time_access_set and
	// time_modify_set.
	r := xdr.NewReader(w.B)
	n := r.Uint32()
	got := make([]uint32, n)
	for i := range got {
		got[i] = r.Uint32()
	}
	wantBm := []uint32{0xFCFFAFFF, 0x00F9BE3E &^ (1<<16 | 1<<22), 0x48800}
	if !slices.Equal(got, wantBm) || !slices.Equal(got, Intersect(retBits, wantBm)) {
		t.Errorf("bitmap %#x, want %#x", got, wantBm)
	}
	vals := r.Opaque(1 << 20)
	if r.Err() != nil || r.Len() != 0 {
		t.Fatalf("fattr4 does not parse: %v, %d left", r.Err(), r.Len())
	}
	// attrValues holds the gettable attributes, so their concatenation is
	// the expected attrlist4.
	if !bytes.Equal(vals, want) {
		t.Errorf("attrlist4\n got %x\nwant %x", vals, want)
	}
}

func TestEncodeOmitted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		minor uint32
		req   []uint32
		nilFS bool
		want  string
	}{
		{"empty request", 2, nil, false, "00000000 00000000"},
		{"zero words", 2, []uint32{0, 0, 0, 0, 0}, false, "00000000 00000000"},
		{"unsupported only", 2, bm(AttrAcl, AttrArchive, AttrHidden, AttrFsLocations, AttrMimetype,
			AttrQuotaUsed, AttrSystem, AttrTimeBackup, AttrTimeCreate, AttrFsStatus,
			AttrCloneBlksize, AttrSpaceFreed, AttrSecLabel, AttrModeUmask, 200), false, "00000000 00000000"},
		{"type among unsupported", 2, bm(AttrAcl, AttrType, AttrTimeCreate, 95),
			false, oneBit(AttrType) + " 00000004 00000001"},
		{"4.1 attribute in 4.0", 0, bm(AttrSuppattrExclcreat, AttrChangeAttrType, AttrXattrSupport, AttrModeSetMasked),
			false, "00000000 00000000"},
		{"4.2 attributes in 4.1", 1, bm(AttrChangeAttrType, AttrXattrSupport, AttrSuppattrExclcreat),
			false, oneBit(AttrSuppattrExclcreat) + " 0000000C 00000002 00000000 00000032"},
		{"supported_attrs in 4.0", 0, bm(AttrSupportedAttrs), false,
			oneBit(AttrSupportedAttrs) + " 0000000C 00000002 FCFFAFFF 00F9BE3E"},
		{"supported_attrs in 4.1", 1, bm(AttrSupportedAttrs), false,
			oneBit(AttrSupportedAttrs) + " 00000010 00000003 FCFFAFFF 00F9BE3E 00000800"},
		{"no StatFS", 2, bm(AttrSize, AttrFilesAvail, AttrSpaceTotal, AttrSpaceUsed), true,
			"00000002 00000010 00002000 00000010 01020304 05060708 00000000 00001000"},
		{"StatFS", 2, bm(AttrFilesTotal, AttrSpaceFree), false,
			"00000002 00800000 00000800 00000010 00000000 000F4240 00000080 00000000"},
	} {
		src := testSource(tc.minor, nil)
		if tc.nilFS {
			src.StatFS = nil
		}
		var w xdr.Writer
		if err := Encode(&w, tc.req, src); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if want := hx(t, tc.want); !bytes.Equal(w.B, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, w.B, want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	statErr := fmt.Errorf("statfs: %w", syscall.EIO)
	for _, tc := range []struct {
		name  string
		minor uint32
		req   []uint32
		edit  func(*Source)
		want  error
	}{
		{"time_access_set", 0, bm(AttrType, AttrTimeAccessSet), nil, nfserr.Inval},
		{"time_modify_set", 2, bm(AttrTimeModifySet), nil, nfserr.Inval},
		{"mode_set_masked in 4.1", 1, bm(AttrModeSetMasked), nil, nfserr.Inval},
		{"layout_hint in 4.2", 2, bm(AttrLayoutHint), nil, nfserr.Inval},
		{"statfs fails", 2, bm(AttrSize, AttrSpaceAvail), func(s *Source) {
			s.StatFS = func() (vfs.FSStat, error) { return vfs.FSStat{}, statErr }
		}, statErr},
		{"bad type", 2, bm(AttrSize, AttrType), func(s *Source) { s.Attr.Type = 0 }, nfserr.Serverfault},
		{"type 8", 2, bm(AttrType), func(s *Source) { s.Attr.Type = 8 }, nfserr.Serverfault},
		{"long handle", 2, bm(AttrType, AttrFilehandle, AttrFileid), func(s *Source) { s.FH = make([]byte, FHSize+1) },
			nfserr.Serverfault},
	} {
		src := testSource(tc.minor, nil)
		if tc.edit != nil {
			tc.edit(src)
		}
		w := xdr.Writer{B: []byte{1, 2, 3}}
		err := Encode(&w, tc.req, src)
		if err != tc.want {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if !bytes.Equal(w.B, []byte{1, 2, 3}) {
			t.Errorf("%s: wrote %x on error", tc.name, w.B)
		}
	}
	// mode_set_masked does not exist in 4.0: omitted, no error.
	var w xdr.Writer
	if err := Encode(&w, bm(AttrModeSetMasked), testSource(0, nil)); err != nil || !bytes.Equal(w.B, hx(t, "00000000 00000000")) {
		t.Errorf("4.0 mode_set_masked: %v %x", err, w.B)
	}
	// A filehandle of exactly FHSize bytes is fine.
	src := testSource(2, nil)
	src.FH = bytes.Repeat([]byte{0xAB}, FHSize)
	w = xdr.Writer{}
	if err := Encode(&w, bm(AttrFilehandle), src); err != nil || len(w.B) != 4+4+4+4+FHSize {
		t.Errorf("128-byte handle: %v, %d bytes", err, len(w.B))
	}
}

func TestEncodeStatFSLazy(t *testing.T) {
	calls := 0
	src := testSource(2, &calls)
	var w xdr.Writer
	req := Supported(2)
	for _, n := range []uint32{AttrFilesAvail, AttrFilesFree, AttrFilesTotal, AttrSpaceAvail, AttrSpaceFree, AttrSpaceTotal} {
		req[n/32] &^= 1 << (n % 32)
	}
	req[1] &^= 1<<16 | 1<<22 // the set-only attributes
	if err := Encode(&w, req, src); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Errorf("StatFS called %d times without a statfs attribute", calls)
	}
}

func TestEncodeSourceFields(t *testing.T) {
	src := testSource(2, nil)
	src.MaxName = 143
	src.TimeDelta = vfs.Timespec{Sec: 1}
	src.MountedOnFileid = 42
	src.XattrSupport = false
	src.IDMap = NumericIDMap{Domain: "example.org"} // still numeric out
	src.Attr.Type = vfs.TypeChar
	src.Attr.Mode = 0o7777
	var w xdr.Writer
	req := bm(AttrType, AttrMaxname, AttrMode, AttrOwner, AttrTimeDelta, AttrMountedOnFileid, AttrXattrSupport)
	if err := Encode(&w, req, src); err != nil {
		t.Fatal(err)
	}
	want := hx(t, "00000003 20000002 00880012 00040000"+
		" 0000002C"+
		" 00000004"+ // NF4CHR
		" 0000008F"+ // maxname 143
		" 00000FFF"+ // mode
		" 00000004 31303030"+ // owner "1000"
		" 00000000 00000001 00000000"+ // time_delta 1 s
		" 00000000 0000002A"+ // mounted_on_fileid
		" 00000000") // xattr_support false
	if !bytes.Equal(w.B, want) {
		t.Errorf("\n got %x\nwant %x", w.B, want)
	}

	// A custom IDMap names owners.
	src.IDMap = mapIDs{}
	w = xdr.Writer{}
	if err := Encode(&w, bm(AttrOwner, AttrOwnerGroup), src); err != nil {
		t.Fatal(err)
	}
	want = hx(t, "00000002 00000000 00000030 00000020"+
		" 0000000A 75736572 31303030 4078 0000"+ // "user1000@x"
		" 00000009 67726F75 70313030 40 000000") // "group100@"
	if !bytes.Equal(w.B, want) {
		t.Errorf("\n got %x\nwant %x", w.B, want)
	}
}

// mapIDs is an IDMap naming IDs "user<uid>@x" and "group<gid>@".
type mapIDs struct{}

func (mapIDs) UIDToName(uid uint32) string { return fmt.Sprintf("user%d@x", uid) }
func (mapIDs) GIDToName(gid uint32) string { return fmt.Sprintf("group%d@", gid) }
func (mapIDs) NameToUID(name string) (uint32, error) {
	switch name {
	case "busy":
		return 0, nfserr.Delay
	case "plain":
		return 0, errors.New("no such user")
	case "ok":
		return 0, nfserr.OK // not an error status: BADOWNER
	}
	return 77, nil
}
func (mapIDs) NameToGID(name string) (uint32, error) { return 88, nil }

func TestEncodeRdattrError(t *testing.T) {
	var w xdr.Writer
	EncodeRdattrError(&w, nfserr.Noent)
	if want := hx(t, "00000001 00000800 00000004 00000002"); !bytes.Equal(w.B, want) {
		t.Errorf("got %x, want %x", w.B, want)
	}
	w = xdr.Writer{}
	EncodeRdattrError(&w, nfserr.Stale)
	if want := hx(t, "00000001 00000800 00000004 00000046"); !bytes.Equal(w.B, want) {
		t.Errorf("got %x, want %x", w.B, want)
	}
}

func TestChangeFromCtime(t *testing.T) {
	for _, tc := range []struct {
		t    vfs.Timespec
		want uint64
	}{
		{vfs.Timespec{}, 0},
		{vfs.Timespec{Sec: 1, Nsec: 2}, 1000000002},
		{vfs.Timespec{Sec: 1700000000, Nsec: 999999999}, 1700000000999999999},
	} {
		if got := ChangeFromCtime(tc.t); got != tc.want {
			t.Errorf("ChangeFromCtime(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
	if ChangeFromCtime(vfs.Timespec{Sec: 5, Nsec: 1}) <= ChangeFromCtime(vfs.Timespec{Sec: 4, Nsec: 999999999}) {
		t.Error("not monotonic across a second")
	}
}

func TestBitmapHelpers(t *testing.T) {
	b := Set(nil, 70)
	if !slices.Equal(b, []uint32{0, 0, 1 << 6}) {
		t.Errorf("Set(nil, 70) = %#x", b)
	}
	b = Set(b, 0)
	b = Set(b, 33)
	if !slices.Equal(b, []uint32{1, 2, 1 << 6}) {
		t.Errorf("Set = %#x", b)
	}
	for _, tc := range []struct {
		n    uint32
		want bool
	}{{0, true}, {1, false}, {33, true}, {70, true}, {71, false}, {96, false}, {1 << 31, false}} {
		if IsSet(b, tc.n) != tc.want {
			t.Errorf("IsSet(%d) = %v", tc.n, !tc.want)
		}
	}
	if got := Intersect([]uint32{3, 6, 8}, []uint32{1, 2}); !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("Intersect = %#x", got)
	}
	if got := Intersect([]uint32{3, 4}, []uint32{4, 3, 1}); len(got) != 0 {
		t.Errorf("Intersect = %#x, want empty", got)
	}
	if got := Trim([]uint32{1, 0, 0}); !slices.Equal(got, []uint32{1}) {
		t.Errorf("Trim = %#x", got)
	}
	if !Subset([]uint32{1, 0, 0, 0}, []uint32{3}) || Subset([]uint32{1, 0, 1}, []uint32{3}) ||
		Subset([]uint32{4}, []uint32{3}) || !Subset(nil, nil) {
		t.Error("Subset")
	}
}

func TestOneBitHelper(t *testing.T) {
	// The helper the other tests build bitmaps with, checked by hand.
	for n, want := range map[int]string{
		0:  "00000001 00000001",
		11: "00000001 00000800",
		33: "00000002 00000000 00000002",
		82: "00000003 00000000 00000000 00040000",
	} {
		if got := hex.EncodeToString(hx(t, oneBit(n))); got != hex.EncodeToString(hx(t, want)) {
			t.Errorf("oneBit(%d) = %s", n, got)
		}
	}
}

// Encode is on the path of every GETATTR and READDIR entry: with room in
// the writer, the only allocations are the two owner strings.
func TestEncodeAllocs(t *testing.T) {
	src := testSource(1, nil)
	req := bm(AttrType, AttrChange, AttrSize, AttrFsid, AttrFileid, AttrMode, AttrNumlinks,
		AttrOwner, AttrOwnerGroup, AttrRawdev, AttrSpaceUsed, AttrTimeAccess, AttrTimeMetadata,
		AttrTimeModify, AttrMountedOnFileid)
	w := xdr.Writer{B: make([]byte, 0, 1024)}
	allocs := testing.AllocsPerRun(100, func() {
		w.Truncate(0)
		if err := Encode(&w, req, src); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations per Encode, want at most 2", allocs)
	}
}
