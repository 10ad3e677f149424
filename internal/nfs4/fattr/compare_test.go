package fattr

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

func TestCompare(t *testing.T) {
	statErr := fmt.Errorf("statfs: %w", syscall.EIO)
	for _, tc := range []struct {
		name  string
		minor uint32
		mask  []uint32
		vals  string
		edit  func(*Source)
		equal bool
		err   error
	}{
		{name: "nothing", mask: nil, vals: "", equal: true},
		{name: "change same", mask: bm(AttrChange), vals: "11223344 55667788", equal: true},
		{name: "change differs", mask: bm(AttrChange), vals: "11223344 55667789", equal: false},
		{name: "type and size", mask: bm(AttrType, AttrSize), vals: "00000001 01020304 05060708", equal: true},
		{name: "size differs", mask: bm(AttrType, AttrSize), vals: "00000001 01020304 05060709", equal: false},
		{name: "type differs", mask: bm(AttrType, AttrSize), vals: "00000002 01020304 05060708", equal: false},
		{name: "fsid", mask: bm(AttrFsid), vals: "00000000 00000007 FFFFFFFF FFFFFFFF", equal: true},
		{name: "filehandle", mask: bm(AttrFilehandle), vals: "00000005 01020304 05000000", equal: true},
		{name: "filehandle shorter", mask: bm(AttrFilehandle), vals: "00000004 01020304", equal: false},
		{name: "filehandle other", mask: bm(AttrFilehandle), vals: "00000005 01020304 06000000", equal: false},
		{name: "owner", mask: bm(AttrOwner, AttrOwnerGroup), vals: "00000004 31303030 00000003 31303000", equal: true},
		{name: "owner differs", mask: bm(AttrOwner, AttrOwnerGroup), vals: "00000004 31303031 00000003 31303000", equal: false},
		{name: "owner long", mask: bm(AttrOwner), vals: "00000008 31303030 31303030", equal: false},
		{name: "times", mask: bm(AttrTimeAccess, AttrTimeMetadata, AttrTimeModify),
			vals: "00000000 6553F100 00000005 00000001 00000000 3B9AC9FF FFFFFFFF FFFFFFFF 1DCD6500", equal: true},
		{name: "nseconds differ", mask: bm(AttrTimeModify), vals: "FFFFFFFF FFFFFFFF 1DCD6501", equal: false},
		{name: "bools", mask: bm(AttrLinkSupport, AttrNamedAttr, AttrCaseInsensitive), vals: "00000001 00000000 00000000", equal: true},
		{name: "bool differs", mask: bm(AttrNamedAttr), vals: "00000001", equal: false},
		{name: "rawdev", mask: bm(AttrRawdev), vals: "00000008 00000001", equal: true},
		{name: "statfs", mask: bm(AttrFilesTotal, AttrSpaceTotal), vals: "00000000 000F4240 00000100 00000000", equal: true},
		{name: "supported_attrs", minor: 0, mask: bm(AttrSupportedAttrs), vals: "00000002 FCFFAFFF 00F9BE3E", equal: true},
		{name: "supported_attrs trailing zeros", minor: 0, mask: bm(AttrSupportedAttrs),
			vals: "00000004 FCFFAFFF 00F9BE3E 00000000 00000000", equal: true},
		{name: "supported_attrs of 4.2 in 4.1", minor: 1, mask: bm(AttrSupportedAttrs),
			vals: "00000003 FCFFAFFF 00F9BE3E 00048800", equal: false},
		{name: "suppattr_exclcreat", minor: 1, mask: bm(AttrSuppattrExclcreat), vals: "00000002 00000000 00000032", equal: true},
		{name: "mounted_on_fileid", mask: bm(AttrMountedOnFileid), vals: "AABBCCDD 11223344", equal: true},
		{name: "change_attr_type", minor: 2, mask: bm(AttrChangeAttrType, AttrXattrSupport), vals: "00000003 00000001", equal: true},
		{name: "mismatch then malformed", mask: bm(AttrSize, AttrNamedAttr), vals: "00000000 00000000 00000002", err: nfserr.Badxdr},

		// Errors.
		{name: "acl", mask: bm(AttrAcl), vals: "00000000", err: nfserr.Attrnotsupp},
		{name: "time_create", mask: bm(AttrType, AttrTimeCreate), vals: "00000001 00000000 00000000 00000000", err: nfserr.Attrnotsupp},
		{name: "4.2 attribute in 4.0", mask: bm(AttrXattrSupport), vals: "00000001", err: nfserr.Attrnotsupp},
		{name: "bit 300", mask: bm(300), vals: "", err: nfserr.Attrnotsupp},
		{name: "unsupported before INVAL", mask: bm(AttrRdattrError, AttrAcl), vals: "00000000 00000000", err: nfserr.Attrnotsupp},
		{name: "rdattr_error", mask: bm(AttrRdattrError), vals: "00000000", err: nfserr.Inval},
		{name: "time_access_set", mask: bm(AttrTimeAccessSet), vals: "00000000", err: nfserr.Inval},
		{name: "time_modify_set", mask: bm(AttrSize, AttrTimeModifySet), vals: "01020304 05060708 00000000", err: nfserr.Inval},
		{name: "statfs without StatFS", mask: bm(AttrSpaceFree), vals: "00000080 00000000",
			edit: func(s *Source) { s.StatFS = nil }, err: nfserr.Attrnotsupp},
		{name: "statfs fails", mask: bm(AttrFilesFree), vals: "00000000 000DBBA0",
			edit: func(s *Source) { s.StatFS = func() (vfs.FSStat, error) { return vfs.FSStat{}, statErr } }, err: statErr},
		{name: "short", mask: bm(AttrSize), vals: "01020304", err: nfserr.Badxdr},
		{name: "left over", mask: bm(AttrSize), vals: "01020304 05060708 00000000", err: nfserr.Badxdr},
		{name: "values without mask", mask: nil, vals: "00000000", err: nfserr.Badxdr},
		{name: "bool 2", mask: bm(AttrLinkSupport), vals: "00000002", err: nfserr.Badxdr},
		{name: "filehandle too long", mask: bm(AttrFilehandle), vals: "00000081" + strings.Repeat("00", 132), err: nfserr.Badxdr},
		{name: "owner past end", mask: bm(AttrOwner), vals: "00000005 31303030", err: nfserr.Badxdr},
		{name: "bitmap too long", mask: bm(AttrSupportedAttrs), vals: "00000021", err: nfserr.Badxdr},
		{name: "bitmap past end", mask: bm(AttrSupportedAttrs), vals: "00000003 FCFFAFFF 00F9BE3E", err: nfserr.Badxdr},
		{name: "bad type in source", mask: bm(AttrType), vals: "00000001",
			edit: func(s *Source) { s.Attr.Type = 0 }, err: nfserr.Serverfault},
	} {
		src := testSource(tc.minor, nil)
		if tc.edit != nil {
			tc.edit(src)
		}
		equal, err := Compare(hx(t, tc.vals), tc.mask, src)
		if err != tc.err {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err == nil && equal != tc.equal {
			t.Errorf("%s: equal %v, want %v", tc.name, equal, tc.equal)
		}
		if err != nil && equal {
			t.Errorf("%s: equal with an error", tc.name)
		}
	}
}

// Compare accepts what Encode writes, for every attribute that can be
// verified, and calls StatFS only when needed.
func TestCompareEncoded(t *testing.T) {
	for _, a := range attrValues {
		if a.n == AttrRdattrError {
			continue
		}
		calls := 0
		src := testSource(2, &calls)
		equal, err := Compare(hx(t, a.val), bm(a.n), src)
		if err != nil || !equal {
			t.Errorf("attr %d: equal %v, err %v", a.n, equal, err)
		}
		wantCalls := 0
		if IsSet(statfsAttrs[:], uint32(a.n)) {
			wantCalls = 1
		}
		if calls != wantCalls {
			t.Errorf("attr %d: %d StatFS calls, want %d", a.n, calls, wantCalls)
		}
	}
}
