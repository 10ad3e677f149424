package fattr

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// hx decodes hex written with spaces between groups: the expected XDR of
// the tests, computed by hand.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// testStat is what testSource's StatFS returns.
var testStat = vfs.FSStat{
	TotalBytes: 0x10000000000,
	FreeBytes:  0x8000000000,
	AvailBytes: 0x7000000000,
	TotalFiles: 1000000,
	FreeFiles:  900000,
	AvailFiles: 800000,
}

// testSource returns a Source with known values; *calls counts StatFS calls.
func testSource(minor uint32, calls *int) *Source {
	return &Source{
		MinorVersion: minor,
		Attr: vfs.Attr{
			Type:      vfs.TypeRegular,
			Mode:      0o104755, // S_IFREG bits must not leak out
			Nlink:     3,
			UID:       1000,
			GID:       100,
			Size:      0x0102030405060708,
			Used:      0x1000,
			RdevMajor: 8,
			RdevMinor: 1,
			Fsid:      99, // not used: Source.Fsid is
			Fileid:    0xAABBCCDD11223344,
			Atime:     vfs.Timespec{Sec: 1700000000, Nsec: 5},
			Mtime:     vfs.Timespec{Sec: -1, Nsec: 500000000},
			Ctime:     vfs.Timespec{Sec: 0x100000000, Nsec: 999999999},
		},
		FH:          []byte{1, 2, 3, 4, 5},
		Fsid:        Fsid{Major: 7, Minor: 0xFFFFFFFFFFFFFFFF},
		LeaseTime:   90,
		Change:      0x1122334455667788,
		MaxRead:     1 << 20,
		MaxWrite:    1 << 19,
		MaxFileSize: 1<<63 - 1,
		MaxLink:     65000,
		StatFS: func() (vfs.FSStat, error) {
			if calls != nil {
				*calls++
			}
			return testStat, nil
		},
		XattrSupport: true,
	}
}

// attrValues is the hand-computed XDR of every supported attribute of
// testSource(2), in ascending attribute order.
var attrValues = []struct {
	n   int
	val string
}{
	{AttrSupportedAttrs, "00000003 FCFFAFFF 00F9BE3E 00048800"},
	{AttrType, "00000001"},
	{AttrFhExpireType, "00000000"},
	{AttrChange, "11223344 55667788"},
	{AttrSize, "01020304 05060708"},
	{AttrLinkSupport, "00000001"},
	{AttrSymlinkSupport, "00000001"},
	{AttrNamedAttr, "00000000"},
	{AttrFsid, "00000000 00000007 FFFFFFFF FFFFFFFF"},
	{AttrUniqueHandles, "00000001"},
	{AttrLeaseTime, "0000005A"},
	{AttrRdattrError, "00000000"},
	{AttrAclsupport, "00000000"},
	{AttrCansettime, "00000001"},
	{AttrCaseInsensitive, "00000000"},
	{AttrCasePreserving, "00000001"},
	{AttrChownRestricted, "00000001"},
	{AttrFilehandle, "00000005 01020304 05000000"},
	{AttrFileid, "AABBCCDD 11223344"},
	{AttrFilesAvail, "00000000 000C3500"},
	{AttrFilesFree, "00000000 000DBBA0"},
	{AttrFilesTotal, "00000000 000F4240"},
	{AttrHomogeneous, "00000001"},
	{AttrMaxfilesize, "7FFFFFFF FFFFFFFF"},
	{AttrMaxlink, "0000FDE8"},
	{AttrMaxname, "000000FF"},
	{AttrMaxread, "00000000 00100000"},
	{AttrMaxwrite, "00000000 00080000"},
	{AttrMode, "000009ED"},
	{AttrNoTrunc, "00000001"},
	{AttrNumlinks, "00000003"},
	{AttrOwner, "00000004 31303030"},
	{AttrOwnerGroup, "00000003 31303000"},
	{AttrRawdev, "00000008 00000001"},
	{AttrSpaceAvail, "00000070 00000000"},
	{AttrSpaceFree, "00000080 00000000"},
	{AttrSpaceTotal, "00000100 00000000"},
	{AttrSpaceUsed, "00000000 00001000"},
	{AttrTimeAccess, "00000000 6553F100 00000005"},
	{AttrTimeDelta, "00000000 00000000 00000001"},
	{AttrTimeMetadata, "00000001 00000000 3B9AC9FF"},
	{AttrTimeModify, "FFFFFFFF FFFFFFFF 1DCD6500"},
	{AttrMountedOnFileid, "AABBCCDD 11223344"},
	{AttrSuppattrExclcreat, "00000002 00000000 00000032"},
	{AttrChangeAttrType, "00000003"},
	{AttrXattrSupport, "00000001"},
}

// oneBit returns the bitmap4 XDR of a bitmap with only attribute n set.
func oneBit(n int) string {
	s := hex.EncodeToString([]byte{0, 0, 0, byte(n/32 + 1)})
	for i := 0; i < n/32; i++ {
		s += " 00000000"
	}
	var w [4]byte
	v := uint32(1) << (n % 32)
	w[0], w[1], w[2], w[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return s + " " + hex.EncodeToString(w[:])
}

// bm returns a bitmap with the given attributes set.
func bm(attrs ...int) []uint32 {
	var b []uint32
	for _, n := range attrs {
		b = Set(b, uint32(n))
	}
	return b
}
