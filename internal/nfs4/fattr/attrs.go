// Package fattr is fattr4, the attributes of NFSv4: their numbers, the
// sets this server supports per minor version, the encoding of GETATTR and
// READDIR attributes from a vfs.Attr, the decoding of the settable
// attributes of SETATTR, CREATE and OPEN into a vfs.SetAttr, VERIFY and
// NVERIFY comparison, and owner mapping.
//
// References: RFC 7530 section 5 (4.0), RFC 8881 section 5 (4.1), RFC
// 7862 section 12.2 (4.2) and RFC 8276 section 8 (xattr_support).
//
// A bitmap4 is a plain []uint32 here: attribute n is bit n%32 of word
// n/32 (RFC 8881 section 3.3.7).
package fattr

// Attribute numbers (RFC 8881 section 5.6 Table 2 and section 5.7 Table 3,
// RFC 7862 section 12.2, RFC 8275, RFC 8276 section 8): the
// RFC name without FATTR4_, each word capitalized, prefixed with Attr.
const (
	// REQUIRED attributes (RFC 8881 section 5.6).
	AttrSupportedAttrs = 0
	AttrType           = 1
	AttrFhExpireType   = 2
	AttrChange         = 3
	AttrSize           = 4
	AttrLinkSupport    = 5
	AttrSymlinkSupport = 6
	AttrNamedAttr      = 7
	AttrFsid           = 8
	AttrUniqueHandles  = 9
	AttrLeaseTime      = 10
	AttrRdattrError    = 11
	AttrFilehandle     = 19
	// AttrSuppattrExclcreat is REQUIRED in 4.1 and later.
	AttrSuppattrExclcreat = 75

	// RECOMMENDED attributes of 4.0 (RFC 7530 section 5.7, RFC 8881
	// section 5.7).
	AttrAcl             = 12
	AttrAclsupport      = 13
	AttrArchive         = 14
	AttrCansettime      = 15
	AttrCaseInsensitive = 16
	AttrCasePreserving  = 17
	AttrChownRestricted = 18
	AttrFileid          = 20
	AttrFilesAvail      = 21
	AttrFilesFree       = 22
	AttrFilesTotal      = 23
	AttrFsLocations     = 24
	AttrHidden          = 25
	AttrHomogeneous     = 26
	AttrMaxfilesize     = 27
	AttrMaxlink         = 28
	AttrMaxname         = 29
	AttrMaxread         = 30
	AttrMaxwrite        = 31
	AttrMimetype        = 32
	AttrMode            = 33
	AttrNoTrunc         = 34
	AttrNumlinks        = 35
	AttrOwner           = 36
	AttrOwnerGroup      = 37
	AttrQuotaAvailHard  = 38
	AttrQuotaAvailSoft  = 39
	AttrQuotaUsed       = 40
	AttrRawdev          = 41
	AttrSpaceAvail      = 42
	AttrSpaceFree       = 43
	AttrSpaceTotal      = 44
	AttrSpaceUsed       = 45
	AttrSystem          = 46
	AttrTimeAccess      = 47
	AttrTimeAccessSet   = 48
	AttrTimeBackup      = 49
	AttrTimeCreate      = 50
	AttrTimeDelta       = 51
	AttrTimeMetadata    = 52
	AttrTimeModify      = 53
	AttrTimeModifySet   = 54
	AttrMountedOnFileid = 55

	// RECOMMENDED attributes new in 4.1 (RFC 8881 section 5.7).
	AttrDirNotifDelay    = 56
	AttrDirentNotifDelay = 57
	AttrDacl             = 58
	AttrSacl             = 59
	AttrChangePolicy     = 60
	AttrFsStatus         = 61
	AttrFsLayoutTypes    = 62
	AttrLayoutHint       = 63
	AttrLayoutTypes      = 64
	AttrLayoutBlksize    = 65
	AttrLayoutAlignment  = 66
	AttrFsLocationsInfo  = 67
	AttrMdsthreshold     = 68
	AttrRetentionGet     = 69
	AttrRetentionSet     = 70
	AttrRetentevtGet     = 71
	AttrRetentevtSet     = 72
	AttrRetentionHold    = 73
	AttrModeSetMasked    = 74
	AttrFsCharsetCap     = 76

	// RECOMMENDED attributes new in 4.2 (RFC 7862 section 12.2) and its
	// extensions.
	AttrCloneBlksize   = 77
	AttrSpaceFreed     = 78
	AttrChangeAttrType = 79
	AttrSecLabel       = 80
	AttrModeUmask      = 81 // RFC 8275
	AttrXattrSupport   = 82 // RFC 8276 section 8
)

// Values of attributes this server reports as constants.
const (
	// FH4Persistent is fh_expire_type FH4_PERSISTENT (RFC 8881 section
	// 4.2.3): vnfsd's handles name objects by stable backend IDs and a
	// MAC, so they never expire while the object exists.
	FH4Persistent = 0

	// FHSize is NFS4_FHSIZE, the longest nfs_fh4 (RFC 8881 section 3.2).
	FHSize = 128

	// MaxOwnerLen bounds an owner or owner_group string accepted from a
	// client (utf8str_mixed has no bound of its own); longer strings get
	// NFS4ERR_BADOWNER.
	MaxOwnerLen = 1024

	// maxBitmapWords bounds a bitmap4 read from a client's attribute
	// values (the supported_attrs or suppattr_exclcreat of VERIFY).
	maxBitmapWords = 32
)

// change_attr_type4 (RFC 7862 section 12.2.3).
const (
	ChangeTypeIsMonotonicIncr        = 0
	ChangeTypeIsVersionCounter       = 1
	ChangeTypeIsVersionCounterNopnfs = 2
	ChangeTypeIsTimeMetadata         = 3
	ChangeTypeIsUndefined            = 4
)

// words is the number of bitmap words that hold every attribute this
// package supports (the highest is xattr_support, 82).
const words = 3

type bitmap [words]uint32

func bitmapOf(attrs ...int) bitmap {
	var b bitmap
	for _, n := range attrs {
		b[n/32] |= 1 << (n % 32)
	}
	return b
}

func (b bitmap) or(o bitmap) bitmap {
	for i := range b {
		b[i] |= o[i]
	}
	return b
}

func (b bitmap) andNot(o bitmap) bitmap {
	for i := range b {
		b[i] &^= o[i]
	}
	return b
}

func (b bitmap) isZero() bool { return b == bitmap{} }

// slice returns b as a bitmap4 without trailing zero words (a new slice).
func (b bitmap) slice() []uint32 {
	return Trim(append([]uint32(nil), b[:]...))
}

// fromSlice returns the first words of bm as a bitmap (higher words are
// dropped).
func fromSlice(bm []uint32) bitmap {
	var b bitmap
	copy(b[:], bm)
	return b
}

var (
	// supported0 is what this package encodes for 4.0 (RFC 7530 section
	// 5): every REQUIRED attribute and the RECOMMENDED ones that a POSIX
	// file system answers. Not supported: acl (no ACL model behind the
	// vfs), archive, hidden, system (Windows flags), fs_locations (no
	// migration or referrals), mimetype, the quota attributes, time_backup
	// and time_create (vfs.Attr has no birth time).
	//
	// aclsupport IS supported, with the value 0: no ACE type is
	// supported. acl itself is not supported, so a client never sees an
	// empty ACL that would deny everything, and setting an acl gets
	// NFS4ERR_ATTRNOTSUPP.
	supported0 = bitmapOf(
		AttrSupportedAttrs, AttrType, AttrFhExpireType, AttrChange, AttrSize,
		AttrLinkSupport, AttrSymlinkSupport, AttrNamedAttr, AttrFsid,
		AttrUniqueHandles, AttrLeaseTime, AttrRdattrError, AttrAclsupport,
		AttrCansettime, AttrCaseInsensitive, AttrCasePreserving,
		AttrChownRestricted, AttrFilehandle, AttrFileid, AttrFilesAvail,
		AttrFilesFree, AttrFilesTotal, AttrHomogeneous, AttrMaxfilesize,
		AttrMaxlink, AttrMaxname, AttrMaxread, AttrMaxwrite, AttrMode,
		AttrNoTrunc, AttrNumlinks, AttrOwner, AttrOwnerGroup, AttrRawdev,
		AttrSpaceAvail, AttrSpaceFree, AttrSpaceTotal, AttrSpaceUsed,
		AttrTimeAccess, AttrTimeAccessSet, AttrTimeDelta, AttrTimeMetadata,
		AttrTimeModify, AttrTimeModifySet, AttrMountedOnFileid)

	// supported1 adds suppattr_exclcreat, REQUIRED in 4.1 (RFC 8881
	// section 5.8.1.14). The pNFS, retention, notification, dacl/sacl
	// and mode_set_masked attributes are not supported.
	supported1 = supported0.or(bitmapOf(AttrSuppattrExclcreat))

	// supported2 adds change_attr_type (RFC 7862 section 12.2.3) and
	// xattr_support (RFC 8276 section 8). clone_blksize and space_freed
	// are left out (no CLONE; no estimate of freed space), as are
	// sec_label and mode_umask (RFC 8275).
	supported2 = supported1.or(bitmapOf(AttrChangeAttrType, AttrXattrSupport))

	// settable is what SETATTR, CREATE and OPEN's createattrs can set
	// (RFC 8881 section 5.6/5.7, access W).
	settable = bitmapOf(AttrSize, AttrMode, AttrOwner, AttrOwnerGroup,
		AttrTimeAccessSet, AttrTimeModifySet)

	// exclcreat is suppattr_exclcreat (RFC 8881 section 5.8.1.14): what
	// OPEN with EXCLUSIVE4_1 can set. The settable attributes without
	// time_access_set and time_modify_set, because the backends keep the
	// create verifier in atime and mtime, and without size, because a
	// retried exclusive create recognizes its file by size 0 too.
	exclcreat = bitmapOf(AttrMode, AttrOwner, AttrOwnerGroup)

	// writeOnly0 and writeOnly1 are the set-only attributes (RFC 8881
	// section 5.5): GETATTR, READDIR, VERIFY and NVERIFY asking for one
	// get NFS4ERR_INVAL.
	writeOnly0 = bitmapOf(AttrTimeAccessSet, AttrTimeModifySet)
	writeOnly1 = writeOnly0.or(bitmapOf(AttrLayoutHint, AttrRetentionSet,
		AttrRetentevtSet, AttrModeSetMasked))

	// statfsAttrs need Source.StatFS.
	statfsAttrs = bitmapOf(AttrFilesAvail, AttrFilesFree, AttrFilesTotal,
		AttrSpaceAvail, AttrSpaceFree, AttrSpaceTotal)
)

func supportedFor(minor uint32) bitmap {
	switch minor {
	case 0:
		return supported0
	case 1:
		return supported1
	}
	return supported2
}

func writeOnlyFor(minor uint32) bitmap {
	if minor == 0 {
		return writeOnly0
	}
	return writeOnly1
}

// Supported returns supported_attrs for a minor version (RFC 8881 section
// 5.8.1.1): the attributes Encode returns. Minor versions above 2 get the
// set of 4.2. The result is a new slice.
func Supported(minor uint32) []uint32 { return supportedFor(minor).slice() }

// Settable returns the attributes DecodeSettable accepts.
func Settable() []uint32 { return settable.slice() }

// SuppattrExclcreat returns suppattr_exclcreat (RFC 8881 section
// 5.8.1.14), the attributes OPEN with EXCLUSIVE4_1 may set; a server
// refuses others in cva_attrs with NFS4ERR_INVAL (RFC 8881 section
// 18.16.3). It is mode, owner and owner_group.
func SuppattrExclcreat() []uint32 { return exclcreat.slice() }

// IsSet reports whether attribute n is set in bm.
func IsSet(bm []uint32, n uint32) bool {
	w := n / 32
	return w < uint32(len(bm)) && bm[w]&(1<<(n%32)) != 0
}

// Set sets attribute n in bm, growing it as needed, and returns it.
func Set(bm []uint32, n uint32) []uint32 {
	w := int(n / 32)
	for len(bm) <= w {
		bm = append(bm, 0)
	}
	bm[w] |= 1 << (n % 32)
	return bm
}

// Intersect returns a new bitmap of the attributes set in both a and b,
// without trailing zero words.
func Intersect(a, b []uint32) []uint32 {
	n := min(len(a), len(b))
	r := make([]uint32, n)
	for i := range r {
		r[i] = a[i] & b[i]
	}
	return Trim(r)
}

// Subset reports whether every attribute set in a is set in b.
func Subset(a, b []uint32) bool {
	for i, v := range a {
		var o uint32
		if i < len(b) {
			o = b[i]
		}
		if v&^o != 0 {
			return false
		}
	}
	return true
}

// Trim returns bm without its trailing zero words (a reslice of bm).
func Trim(bm []uint32) []uint32 {
	for len(bm) > 0 && bm[len(bm)-1] == 0 {
		bm = bm[:len(bm)-1]
	}
	return bm
}

// intersects reports whether bm has an attribute set in b.
func intersects(bm []uint32, b bitmap) bool {
	for i := 0; i < len(bm) && i < words; i++ {
		if bm[i]&b[i] != 0 {
			return true
		}
	}
	return false
}
