package fattr

import (
	"slices"
	"strings"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

func TestDecodeSettable(t *testing.T) {
	maskSize := bm(AttrSize)
	maskMode := bm(AttrMode)
	maskOwner := bm(AttrOwner)
	maskGroup := bm(AttrOwnerGroup)
	maskAtime := bm(AttrTimeAccessSet)
	maskMtime := bm(AttrTimeModifySet)
	longOwner := "00000401 " + strings.Repeat("31", 1025) + "000000" // 1025 digits
	for _, tc := range []struct {
		name  string
		minor uint32
		mask  []uint32
		vals  string
		idmap IDMap
		want  vfs.SetAttr
		err   error
	}{
		// Accepted.
		{name: "nothing", mask: nil, vals: ""},
		{name: "zero words", mask: []uint32{0, 0, 0, 0}, vals: ""},
		{name: "size", mask: maskSize, vals: "00000000 00001000",
			want: vfs.SetAttr{Valid: vfs.SetSize, Size: 4096}},
		{name: "size max", mask: maskSize, vals: "FFFFFFFF FFFFFFFF",
			want: vfs.SetAttr{Valid: vfs.SetSize, Size: 1<<64 - 1}},
		{name: "mode", mask: maskMode, vals: "000001A4",
			want: vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o644}},
		{name: "mode 07777", mask: maskMode, vals: "00000FFF",
			want: vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o7777}},
		{name: "owner", mask: maskOwner, vals: "00000004 31303030",
			want: vfs.SetAttr{Valid: vfs.SetUID, UID: 1000}},
		{name: "owner 0", mask: maskOwner, vals: "00000001 30000000",
			want: vfs.SetAttr{Valid: vfs.SetUID, UID: 0}},
		{name: "owner max", mask: maskOwner, vals: "0000000A 34323934 39363732 3935 0000",
			want: vfs.SetAttr{Valid: vfs.SetUID, UID: 4294967295}},
		{name: "group", mask: maskGroup, vals: "00000003 31303000",
			want: vfs.SetAttr{Valid: vfs.SetGID, GID: 100}},
		{name: "owner by name", mask: bm(AttrOwner, AttrOwnerGroup),
			vals:  "00000011 616C6963 65404578 616D706C 652E4F52 47000000 00000011 73746166 66406578 616D706C 652E6F72 67000000",
			idmap: NumericIDMap{Domain: "example.org", Users: map[string]uint32{"alice": 501}, Groups: map[string]uint32{"staff": 20}},
			want:  vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 501, GID: 20}},
		{name: "custom idmap", mask: bm(AttrOwner, AttrOwnerGroup), vals: "00000001 61000000 00000001 62000000",
			idmap: mapIDs{}, want: vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 77, GID: 88}},
		{name: "atime server", mask: maskAtime, vals: "00000000",
			want: vfs.SetAttr{Valid: vfs.SetAtimeNow}},
		{name: "atime client", mask: maskAtime, vals: "00000001 00000000 6553F100 00000005",
			want: vfs.SetAttr{Valid: vfs.SetAtime, Atime: vfs.Timespec{Sec: 1700000000, Nsec: 5}}},
		{name: "mtime server", mask: maskMtime, vals: "00000000",
			want: vfs.SetAttr{Valid: vfs.SetMtimeNow}},
		{name: "mtime client negative", mask: maskMtime, vals: "00000001 FFFFFFFF FFFFFFFF 3B9AC9FF",
			want: vfs.SetAttr{Valid: vfs.SetMtime, Mtime: vfs.Timespec{Sec: -1, Nsec: 999999999}}},
		{name: "all in order", minor: 1,
			mask: bm(AttrSize, AttrMode, AttrOwner, AttrOwnerGroup, AttrTimeAccessSet, AttrTimeModifySet),
			vals: "00000000 00000000" + " 000001ED" + " 00000002 37370000" + " 00000002 38380000" +
				" 00000001 00000000 00000010 00000020" + " 00000000",
			want: vfs.SetAttr{Valid: vfs.SetSize | vfs.SetMode | vfs.SetUID | vfs.SetGID | vfs.SetAtime | vfs.SetMtimeNow,
				Size: 0, Mode: 0o755, UID: 77, GID: 88, Atime: vfs.Timespec{Sec: 16, Nsec: 32}}},
		{name: "padding bytes are not checked", mask: maskGroup, vals: "00000001 39FFFFFF",
			want: vfs.SetAttr{Valid: vfs.SetGID, GID: 9}},

		// NFS4ERR_ATTRNOTSUPP.
		{name: "acl", mask: bm(AttrAcl), vals: "00000000", err: nfserr.Attrnotsupp},
		{name: "archive", mask: bm(AttrArchive), vals: "00000001", err: nfserr.Attrnotsupp},
		{name: "hidden", mask: bm(AttrHidden), vals: "00000001", err: nfserr.Attrnotsupp},
		{name: "time_create", mask: bm(AttrTimeCreate), vals: "00000000 00000000 00000000", err: nfserr.Attrnotsupp},
		{name: "mode_set_masked", minor: 1, mask: bm(AttrModeSetMasked), vals: "00000000 00000000", err: nfserr.Attrnotsupp},
		{name: "bit 200", mask: bm(200), vals: "", err: nfserr.Attrnotsupp},
		{name: "4.1 attribute in 4.0", mask: bm(AttrSuppattrExclcreat), vals: "00000000", err: nfserr.Attrnotsupp},
		{name: "4.2 attribute in 4.1", minor: 1, mask: bm(AttrXattrSupport), vals: "00000000", err: nfserr.Attrnotsupp},
		{name: "unsupported before read-only", mask: bm(AttrType, AttrAcl, AttrSize), vals: "", err: nfserr.Attrnotsupp},
		{name: "unsupported after settable", mask: bm(AttrSize, AttrMode, AttrSystem), vals: "00000000 00000000 000001A4 00000000",
			err: nfserr.Attrnotsupp},

		// NFS4ERR_INVAL: supported but read-only.
		{name: "supported_attrs", mask: bm(AttrSupportedAttrs), vals: "00000000", err: nfserr.Inval},
		{name: "type", mask: bm(AttrType), vals: "00000001", err: nfserr.Inval},
		{name: "change", mask: bm(AttrChange), vals: "00000000 00000001", err: nfserr.Inval},
		{name: "fileid", mask: bm(AttrFileid), vals: "00000000 00000001", err: nfserr.Inval},
		{name: "time_modify", mask: bm(AttrTimeModify), vals: "00000000 00000000 00000000", err: nfserr.Inval},
		{name: "rdattr_error", mask: bm(AttrRdattrError), vals: "00000000", err: nfserr.Inval},
		{name: "suppattr_exclcreat in 4.1", minor: 1, mask: bm(AttrSuppattrExclcreat), vals: "00000000", err: nfserr.Inval},
		{name: "xattr_support in 4.2", minor: 2, mask: bm(AttrXattrSupport), vals: "00000000", err: nfserr.Inval},
		{name: "read-only after settable", mask: bm(AttrSize, AttrNumlinks), vals: "00000000 00000000 00000001", err: nfserr.Inval},

		// Values.
		{name: "size short", mask: maskSize, vals: "00000000", err: nfserr.Badxdr},
		{name: "size and more", mask: maskSize, vals: "00000000 00000000 00000000", err: nfserr.Badxdr},
		{name: "values without mask", mask: nil, vals: "00000000", err: nfserr.Badxdr},
		{name: "mode short", mask: maskMode, vals: "0000", err: nfserr.Badxdr},
		{name: "mode 010000", mask: maskMode, vals: "00001000", err: nfserr.Inval},
		{name: "mode with type bits", mask: maskMode, vals: "000081A4", err: nfserr.Inval},
		{name: "owner name", mask: maskOwner, vals: "00000003 61626300", err: nfserr.Badowner},
		{name: "owner leading zero", mask: maskOwner, vals: "00000005 30313030 30000000", err: nfserr.Badowner},
		{name: "owner too big", mask: maskOwner, vals: "0000000A 34323934 39363732 3936 0000", err: nfserr.Badowner},
		{name: "owner negative", mask: maskOwner, vals: "00000002 2D310000", err: nfserr.Badowner},
		{name: "owner empty", mask: maskOwner, vals: "00000000", err: nfserr.Inval},
		{name: "owner not UTF-8", mask: maskOwner, vals: "00000001 FF000000", err: nfserr.Inval},
		{name: "owner truncated UTF-8", mask: maskOwner, vals: "00000002 31C30000", err: nfserr.Inval},
		{name: "owner longer than input", mask: maskOwner, vals: "00000008 31303030", err: nfserr.Badxdr},
		{name: "owner huge length", mask: maskOwner, vals: "FFFFFFFF", err: nfserr.Badxdr},
		{name: "owner over MaxOwnerLen", mask: maskOwner, vals: longOwner, err: nfserr.Badowner},
		{name: "owner padding missing", mask: maskOwner, vals: "00000003 313030", err: nfserr.Badxdr},
		{name: "owner no length", mask: maskOwner, vals: "", err: nfserr.Badxdr},
		{name: "name without domain configured", mask: maskOwner, vals: "00000005 616C6963 65000000", err: nfserr.Badowner},
		{name: "name of other domain", mask: maskOwner, vals: "00000007 61406F74 68657200",
			idmap: NumericIDMap{Domain: "example.org", Users: map[string]uint32{"a": 1}}, err: nfserr.Badowner},
		{name: "group bad", mask: maskGroup, vals: "00000004 77686565", err: nfserr.Badowner},
		{name: "idmap status passed", mask: maskOwner, vals: "00000004 62757379", idmap: mapIDs{}, err: nfserr.Delay},
		{name: "idmap plain error", mask: maskOwner, vals: "00000005 706C6169 6E000000", idmap: mapIDs{}, err: nfserr.Badowner},
		{name: "idmap OK as error", mask: maskOwner, vals: "00000002 6F6B0000", idmap: mapIDs{}, err: nfserr.Badowner},
		{name: "time_how 2", mask: maskAtime, vals: "00000002", err: nfserr.Badxdr},
		{name: "time_how huge", mask: maskMtime, vals: "80000000", err: nfserr.Badxdr},
		{name: "time_how missing", mask: maskMtime, vals: "", err: nfserr.Badxdr},
		{name: "client time short", mask: maskAtime, vals: "00000001 00000000 00000001", err: nfserr.Badxdr},
		{name: "nseconds 1e9", mask: maskMtime, vals: "00000001 00000000 00000001 3B9ACA00", err: nfserr.Inval},
		{name: "server time with a time", mask: maskAtime, vals: "00000000 00000000 00000001 00000000", err: nfserr.Badxdr},
		{name: "bad mode before short size", mask: bm(AttrMode, AttrTimeModifySet), vals: "00010000", err: nfserr.Inval},
		{name: "second value short", mask: bm(AttrMode, AttrOwner), vals: "000001A4 00000004 3130", err: nfserr.Badxdr},
	} {
		sa, set, err := DecodeSettable(hx(t, tc.vals), tc.mask, tc.idmap, tc.minor)
		if err != tc.err {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if sa != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, sa, tc.want)
		}
		if tc.err != nil {
			if set != nil {
				t.Errorf("%s: attrsset %#x on error", tc.name, set)
			}
			continue
		}
		if want := Trim(slices.Clone(tc.mask)); !slices.Equal(set, want) {
			t.Errorf("%s: attrsset %#x, want %#x", tc.name, set, want)
		}
	}
}

// The mask is not changed, and the set returned does not alias it.
func TestDecodeSettableMaskUntouched(t *testing.T) {
	mask := []uint32{1 << AttrSize, 0, 0}
	_, set, err := DecodeSettable(hx(t, "00000000 00000001"), mask, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	set[0] = 0
	if !slices.Equal(mask, []uint32{1 << AttrSize, 0, 0}) {
		t.Errorf("mask changed: %#x", mask)
	}
}
