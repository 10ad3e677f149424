package fattr

import (
	"bytes"
	"math/bits"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Fsid is fsid4 (RFC 8881 section 3.3.5).
type Fsid struct {
	Major, Minor uint64
}

// Source is everything Encode and Compare need to answer for one object.
// A server may reuse one Source for many objects (READDIR), changing the
// per-object fields between calls.
type Source struct {
	// MinorVersion selects supported_attrs (Supported) and which
	// attributes exist: suppattr_exclcreat from 4.1, change_attr_type and
	// xattr_support from 4.2.
	MinorVersion uint32

	// Attr gives type, size, mode, numlinks, owner and owner_group (UID
	// and GID through IDMap), rawdev, space_used (Used), fileid and the
	// times: time_access (Atime), time_modify (Mtime) and time_metadata
	// (Ctime). Attr.Fsid is not used: see Fsid.
	Attr vfs.Attr

	// FH is the filehandle attribute (at most FHSize bytes).
	FH []byte

	// Fsid is the fsid attribute.
	Fsid Fsid

	// LeaseTime is lease_time in seconds.
	LeaseTime uint32

	// Change is the change attribute (RFC 8881 section 5.8.1.4). The
	// server computes it; this package reports change_attr_type
	// NFS4_CHANGE_TYPE_IS_TIME_METADATA (4.2), so it must be derived from
	// time_metadata, as ChangeFromCtime does.
	Change uint64

	// StatFS returns the file system statistics behind files_avail,
	// files_free, files_total, space_avail, space_free and space_total.
	// It is called (once) only if one of those is asked for, so a GETATTR
	// without them does not cost a statfs. An error fails Encode or
	// Compare with that error. If StatFS is nil those six attributes are
	// left out of the reply, as if unsupported for this object, and
	// Compare refuses them with NFS4ERR_ATTRNOTSUPP.
	StatFS func() (vfs.FSStat, error)

	// MaxRead, MaxWrite and MaxFileSize are maxread, maxwrite and
	// maxfilesize; MaxName is maxname (0 means vfs.MaxNameLen) and
	// MaxLink maxlink.
	MaxRead, MaxWrite, MaxFileSize uint64
	MaxName, MaxLink               uint32

	// MountedOnFileid is mounted_on_fileid (RFC 8881 section 5.8.2.23):
	// the fileid of the directory this file system is mounted on if the
	// object is the root of one, else the object's fileid. 0 means
	// Attr.Fileid.
	MountedOnFileid uint64

	// TimeDelta is time_delta, the server's time granularity; the zero
	// value means 1 ns (what ext4, xfs and btrfs keep).
	TimeDelta vfs.Timespec

	// XattrSupport is xattr_support (RFC 8276 section 8, 4.2 only):
	// whether the object's file system supports extended attributes.
	XattrSupport bool

	// IDMap translates Attr.UID and Attr.GID to owner and owner_group;
	// nil means NumericIDMap{}.
	IDMap IDMap
}

// ChangeFromCtime returns a change attribute derived from time_metadata:
// the ctime in nanoseconds since the epoch. It grows with every change of
// a Linux file system object (which sets ctime from a clock with
// nanosecond resolution), as NFS4_CHANGE_TYPE_IS_TIME_METADATA promises.
func ChangeFromCtime(ctime vfs.Timespec) uint64 {
	return uint64(ctime.Sec)*1e9 + uint64(ctime.Nsec)
}

// Encode writes the fattr4 (RFC 8881 section 3.3.7) of src for the
// attributes in request, as GETATTR (RFC 8881 section 18.7.3) and READDIR
// return it: the bitmap of the attributes returned, which is request
// intersected with Supported(src.MinorVersion) (without trailing zero
// words), then the attrlist4 with their values in ascending attribute
// order. Requested attributes that are not supported are silently left
// out.
//
// A set-only attribute (time_access_set, time_modify_set, and in 4.1 also
// layout_hint, retention_set, retentevt_set, mode_set_masked) in request
// is NFS4ERR_INVAL (RFC 8881 section 5.5). An error of src.StatFS is
// returned as it is; an object type that is not an nfs_ftype4, or a
// filehandle longer than FHSize, is NFS4ERR_SERVERFAULT. On error nothing
// is written.
func Encode(w *xdr.Writer, request []uint32, src *Source) error {
	if intersects(request, writeOnlyFor(src.MinorVersion)) {
		return nfserr.Inval
	}
	ret := fromSlice(request)
	sup := supportedFor(src.MinorVersion)
	for i := range ret {
		ret[i] &= sup[i]
	}
	var st vfs.FSStat
	if intersects(ret[:], statfsAttrs) {
		if src.StatFS == nil {
			ret = ret.andNot(statfsAttrs)
		} else {
			var err error
			if st, err = src.StatFS(); err != nil {
				return err
			}
		}
	}
	start := w.Len()
	writeBitmap(w, ret[:])
	lenOff := w.Reserve(4)
	for i, v := range ret {
		for v != 0 {
			bit := bits.TrailingZeros32(v)
			v &^= 1 << bit
			if err := encodeAttr(w, i*32+bit, src, &st); err != nil {
				w.Truncate(start)
				return err
			}
		}
	}
	w.PutUint32At(lenOff, uint32(w.Len()-lenOff-4))
	return nil
}

// EncodeRdattrError writes the fattr4 of a READDIR entry whose attributes
// could not be fetched (RFC 8881 section 18.23.3 and 5.8.1.12): only
// rdattr_error, with value st. The server uses it when the client asked
// for rdattr_error (IsSet(request, AttrRdattrError)); otherwise the whole
// READDIR fails with st.
func EncodeRdattrError(w *xdr.Writer, st nfserr.Status) {
	w.Uint32(1)                    // bitmap4 of one word
	w.Uint32(1 << AttrRdattrError) // rdattr_error only
	w.Uint32(4)                    // attrlist4 length
	w.Uint32(uint32(st))
}

// Compare compares the attribute values vals (the attrlist4 of a fattr4
// whose bitmap is mask) with those of src, for VERIFY and NVERIFY (RFC
// 8881 sections 18.31 and 18.15): each attribute of src is encoded as
// Encode would and compared with the client's value, read as the
// attribute's XDR type (so that, for example, a bitmap4 with trailing
// zero words still matches).
//
// Errors: an attribute not supported for src (including the StatFS ones
// when src.StatFS is nil) is NFS4ERR_ATTRNOTSUPP; then rdattr_error or a
// set-only attribute in mask is NFS4ERR_INVAL (RFC 8881 section 18.31.4);
// values that do not decode as their type, or bytes left over, are
// NFS4ERR_BADXDR. An error of src.StatFS is returned as it is.
func Compare(vals []byte, mask []uint32, src *Source) (equal bool, err error) {
	sup := supportedFor(src.MinorVersion)
	if src.StatFS == nil {
		sup = sup.andNot(statfsAttrs)
	}
	if !Subset(mask, sup[:]) {
		return false, nfserr.Attrnotsupp
	}
	if IsSet(mask, AttrRdattrError) || intersects(mask, writeOnlyFor(src.MinorVersion)) {
		return false, nfserr.Inval
	}
	m := fromSlice(mask) // mask is a subset of sup: nothing is lost
	var st vfs.FSStat
	if intersects(m[:], statfsAttrs) {
		if st, err = src.StatFS(); err != nil {
			return false, err
		}
	}
	r := xdr.NewReader(vals)
	var ours, theirs xdr.Writer
	equal = true
	for i, v := range m {
		for v != 0 {
			bit := bits.TrailingZeros32(v)
			v &^= 1 << bit
			n := i*32 + bit
			ours.Truncate(0)
			if err := encodeAttr(&ours, n, src, &st); err != nil {
				return false, err
			}
			theirs.Truncate(0)
			if !canonical(r, kindOf(n), &theirs) {
				return false, nfserr.Badxdr
			}
			if !bytes.Equal(ours.B, theirs.B) {
				equal = false
			}
		}
	}
	if r.Err() != nil || r.Len() != 0 {
		return false, nfserr.Badxdr
	}
	return equal, nil
}

// writeBitmap writes bitmap4 bm without its trailing zero words.
func writeBitmap(w *xdr.Writer, bm []uint32) {
	bm = Trim(bm)
	w.Uint32(uint32(len(bm)))
	for _, v := range bm {
		w.Uint32(v)
	}
}

func writeTime(w *xdr.Writer, t vfs.Timespec) {
	w.Int64(t.Sec)
	w.Uint32(t.Nsec)
}

// encodeAttr writes the value of attribute n (one that supportedFor
// returned) with the XDR type RFC 8881 section 5.6/5.7 gives it.
func encodeAttr(w *xdr.Writer, n int, src *Source, st *vfs.FSStat) error {
	a := &src.Attr
	switch n {
	case AttrSupportedAttrs: // bitmap4
		b := supportedFor(src.MinorVersion)
		writeBitmap(w, b[:])
	case AttrType: // nfs_ftype4
		if a.Type < vfs.TypeRegular || a.Type > vfs.TypeFIFO {
			return nfserr.Serverfault
		}
		w.Uint32(uint32(a.Type)) // NF4REG=1 ... NF4FIFO=7, as vfs.FileType
	case AttrFhExpireType: // uint32_t
		w.Uint32(FH4Persistent)
	case AttrChange: // changeid4
		w.Uint64(src.Change)
	case AttrSize: // uint64_t
		w.Uint64(a.Size)
	case AttrLinkSupport, AttrSymlinkSupport, AttrUniqueHandles, AttrCansettime,
		AttrCasePreserving, AttrChownRestricted, AttrHomogeneous, AttrNoTrunc: // bool
		w.Bool(true)
	case AttrNamedAttr, AttrCaseInsensitive: // bool
		w.Bool(false)
	case AttrFsid: // fsid4
		w.Uint64(src.Fsid.Major)
		w.Uint64(src.Fsid.Minor)
	case AttrLeaseTime: // nfs_lease4
		w.Uint32(src.LeaseTime)
	case AttrRdattrError: // nfsstat4: the attributes were fetched
		w.Uint32(uint32(nfserr.OK))
	case AttrAclsupport: // uint32_t: no ACE type (RFC 8881 section 6.2.1.2)
		w.Uint32(0)
	case AttrFilehandle: // nfs_fh4
		if len(src.FH) > FHSize {
			return nfserr.Serverfault
		}
		w.Opaque(src.FH)
	case AttrFileid:
		w.Uint64(a.Fileid)
	case AttrFilesAvail:
		w.Uint64(st.AvailFiles)
	case AttrFilesFree:
		w.Uint64(st.FreeFiles)
	case AttrFilesTotal:
		w.Uint64(st.TotalFiles)
	case AttrMaxfilesize:
		w.Uint64(src.MaxFileSize)
	case AttrMaxlink:
		w.Uint32(src.MaxLink)
	case AttrMaxname:
		if src.MaxName == 0 {
			w.Uint32(vfs.MaxNameLen)
		} else {
			w.Uint32(src.MaxName)
		}
	case AttrMaxread:
		w.Uint64(src.MaxRead)
	case AttrMaxwrite:
		w.Uint64(src.MaxWrite)
	case AttrMode: // mode4
		w.Uint32(a.Mode & 0o7777)
	case AttrNumlinks:
		w.Uint32(a.Nlink)
	case AttrOwner: // utf8str_mixed
		w.String(idmapOf(src.IDMap).UIDToName(a.UID))
	case AttrOwnerGroup:
		w.String(idmapOf(src.IDMap).GIDToName(a.GID))
	case AttrRawdev: // specdata4
		w.Uint32(a.RdevMajor)
		w.Uint32(a.RdevMinor)
	case AttrSpaceAvail:
		w.Uint64(st.AvailBytes)
	case AttrSpaceFree:
		w.Uint64(st.FreeBytes)
	case AttrSpaceTotal:
		w.Uint64(st.TotalBytes)
	case AttrSpaceUsed:
		w.Uint64(a.Used)
	case AttrTimeAccess: // nfstime4
		writeTime(w, a.Atime)
	case AttrTimeDelta:
		if src.TimeDelta == (vfs.Timespec{}) {
			writeTime(w, vfs.Timespec{Nsec: 1})
		} else {
			writeTime(w, src.TimeDelta)
		}
	case AttrTimeMetadata:
		writeTime(w, a.Ctime)
	case AttrTimeModify:
		writeTime(w, a.Mtime)
	case AttrMountedOnFileid:
		if src.MountedOnFileid == 0 {
			w.Uint64(a.Fileid)
		} else {
			w.Uint64(src.MountedOnFileid)
		}
	case AttrSuppattrExclcreat: // bitmap4
		writeBitmap(w, exclcreat[:])
	case AttrChangeAttrType: // change_attr_type4
		w.Uint32(ChangeTypeIsTimeMetadata)
	case AttrXattrSupport: // bool
		w.Bool(src.XattrSupport)
	default:
		return nfserr.Serverfault // not in any supported set
	}
	return nil
}

// defaultIDMap is NumericIDMap{} as an IDMap, made once.
var defaultIDMap IDMap = NumericIDMap{}

func idmapOf(m IDMap) IDMap {
	if m == nil {
		return defaultIDMap
	}
	return m
}

// kind is the XDR type of a supported attribute, for reading a client's
// value in Compare.
type kind int

const (
	kindUint32 kind = iota // uint32_t, enums
	kindUint64
	kindBool
	kindTime     // nfstime4
	kindFsid     // fsid4
	kindSpecdata // specdata4
	kindBitmap   // bitmap4
	kindFH       // nfs_fh4
	kindString   // utf8str_mixed
)

func kindOf(n int) kind {
	switch n {
	case AttrType, AttrFhExpireType, AttrLeaseTime, AttrRdattrError, AttrAclsupport,
		AttrMaxlink, AttrMaxname, AttrMode, AttrNumlinks, AttrChangeAttrType:
		return kindUint32
	case AttrLinkSupport, AttrSymlinkSupport, AttrNamedAttr, AttrUniqueHandles,
		AttrCansettime, AttrCaseInsensitive, AttrCasePreserving, AttrChownRestricted,
		AttrHomogeneous, AttrNoTrunc, AttrXattrSupport:
		return kindBool
	case AttrTimeAccess, AttrTimeDelta, AttrTimeMetadata, AttrTimeModify:
		return kindTime
	case AttrFsid:
		return kindFsid
	case AttrRawdev:
		return kindSpecdata
	case AttrSupportedAttrs, AttrSuppattrExclcreat:
		return kindBitmap
	case AttrFilehandle:
		return kindFH
	case AttrOwner, AttrOwnerGroup:
		return kindString
	}
	// change, size, fileid, files_*, maxfilesize, maxread, maxwrite,
	// space_*, mounted_on_fileid.
	return kindUint64
}

// canonical reads a value of kind k from r and writes it to w as Encode
// would write the same value; false if it does not decode.
func canonical(r *xdr.Reader, k kind, w *xdr.Writer) bool {
	switch k {
	case kindUint32:
		w.Uint32(r.Uint32())
	case kindUint64:
		w.Uint64(r.Uint64())
	case kindBool:
		w.Bool(r.Bool())
	case kindTime:
		w.Int64(r.Int64())
		w.Uint32(r.Uint32())
	case kindFsid:
		w.Uint64(r.Uint64())
		w.Uint64(r.Uint64())
	case kindSpecdata:
		w.Uint32(r.Uint32())
		w.Uint32(r.Uint32())
	case kindBitmap:
		var b [maxBitmapWords]uint32
		n := r.ArrayLen(maxBitmapWords, 4)
		for i := 0; i < n; i++ {
			b[i] = r.Uint32()
		}
		writeBitmap(w, b[:n])
	case kindFH:
		w.Opaque(r.Opaque(FHSize))
	case kindString:
		// Bounded by the input: a string longer than any owner this
		// server writes simply compares unequal.
		w.Opaque(r.Opaque(r.Len()))
	}
	return r.Err() == nil
}
