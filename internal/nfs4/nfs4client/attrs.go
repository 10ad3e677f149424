package nfs4client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Limits of what the client decodes from a server (RFC 8881 leaves these
// unbounded; a test client has no use for more).
const (
	// MaxBitmapWords bounds a bitmap4 (attributes go up to 82 in 4.2,
	// three words).
	MaxBitmapWords = 8
	// MaxAttrVals bounds the attr_vals of an fattr4.
	MaxAttrVals = 64 << 10
	// MaxName bounds a component4 or other name the server returns.
	MaxName = 4096
	// MaxData bounds READ data and other large opaques of a reply (the
	// oncrpc.Client accepts replies of 4 MiB).
	MaxData = 4 << 20
	// MaxArray bounds the other arrays of a reply (TEST_STATEID's
	// statuses, SECINFO's flavors).
	MaxArray = 1024
	// MaxResults bounds the results of one COMPOUND4res.
	MaxResults = 1024
	// MaxEntries bounds the entries of one READDIR reply.
	MaxEntries = 1 << 16
)

// ErrUnknownAttr is returned by Fattr.Decode for an attribute whose XDR
// the client does not know (it cannot be skipped).
var ErrUnknownAttr = errors.New("nfs4client: attribute not decodable by this client")

// Bitmap is a bitmap4: bit n of word n/32 is attribute n.
type Bitmap []uint32

// NewBitmap returns the bitmap with the given attributes set.
func NewBitmap(attrs ...uint32) Bitmap {
	var b Bitmap
	for _, a := range attrs {
		b = b.With(a)
	}
	return b
}

// With returns b with attribute a set (b is not modified).
func (b Bitmap) With(a uint32) Bitmap {
	w := int(a / 32)
	out := slices.Clone(b)
	for len(out) <= w {
		out = append(out, 0)
	}
	out[w] |= 1 << (a % 32)
	return out
}

// Has reports whether attribute a is set.
func (b Bitmap) Has(a uint32) bool {
	w := int(a / 32)
	return w < len(b) && b[w]&(1<<(a%32)) != 0
}

// Attrs returns the attributes set, in increasing order.
func (b Bitmap) Attrs() []uint32 {
	var out []uint32
	for w, v := range b {
		for i := uint32(0); i < 32; i++ {
			if v&(1<<i) != 0 {
				out = append(out, uint32(w)*32+i)
			}
		}
	}
	return out
}

func (b Bitmap) encode(w *xdr.Writer) {
	w.Uint32(uint32(len(b)))
	for _, v := range b {
		w.Uint32(v)
	}
}

func decodeBitmap(r *xdr.Reader) Bitmap {
	n := r.ArrayLen(MaxBitmapWords, 4)
	if r.Err() != nil {
		return nil
	}
	b := make(Bitmap, n)
	for i := range b {
		b[i] = r.Uint32()
	}
	return b
}

// Fattr is an fattr4: an attribute mask and the values of those
// attributes, in increasing attribute order (RFC 8881 section 3.3.7).
type Fattr struct {
	Mask Bitmap
	Vals []byte
}

func (f Fattr) encode(w *xdr.Writer) {
	f.Mask.encode(w)
	w.Opaque(f.Vals)
}

func decodeFattr(r *xdr.Reader) Fattr {
	m := decodeBitmap(r)
	v := r.Opaque(MaxAttrVals)
	return Fattr{Mask: m, Vals: v}
}

// Attr is the value of one attribute for an fattr4 argument (SETATTR,
// CREATE, OPEN, VERIFY): its number and its XDR.
type Attr struct {
	Num uint32
	Val []byte
}

// NewFattr returns the fattr4 of attrs (in any order; a later value of an
// attribute replaces an earlier one).
func NewFattr(attrs ...Attr) Fattr {
	byNum := map[uint32][]byte{}
	for _, a := range attrs {
		byNum[a.Num] = a.Val
	}
	nums := make([]uint32, 0, len(byNum))
	for n := range byNum {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	var f Fattr
	f.Vals = []byte{}
	for _, n := range nums {
		f.Mask = f.Mask.With(n)
		f.Vals = append(f.Vals, byNum[n]...)
	}
	return f
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Mode is FATTR4_MODE (mode4).
func Mode(m uint32) Attr { return Attr{FATTR4_MODE, u32(m)} }

// Size is FATTR4_SIZE (uint64_t).
func Size(n uint64) Attr { return Attr{FATTR4_SIZE, u64(n)} }

// Type is FATTR4_TYPE (nfs_ftype4), for VERIFY.
func Type(t uint32) Attr { return Attr{FATTR4_TYPE, u32(t)} }

// Owner is FATTR4_OWNER (utf8str_mixed).
func Owner(s string) Attr {
	var w xdr.Writer
	w.String(s)
	return Attr{FATTR4_OWNER, w.B}
}

// Fsid is an fsid4.
type Fsid struct{ Major, Minor uint64 }

// Nfstime is an nfstime4.
type Nfstime struct {
	Seconds  int64
	Nseconds uint32
}

// Specdata is a specdata4.
type Specdata struct{ Specdata1, Specdata2 uint32 }

// AttrValues are decoded attribute values. Only the attributes of Mask
// are meaningful; Raw holds each one's XDR.
type AttrValues struct {
	Mask Bitmap
	Raw  map[uint32][]byte

	SupportedAttrs    Bitmap
	Type              uint32
	FhExpireType      uint32
	Change            uint64
	Size              uint64
	LinkSupport       bool
	SymlinkSupport    bool
	NamedAttr         bool
	Fsid              Fsid
	UniqueHandles     bool
	LeaseTime         uint32
	RdattrError       Status
	Filehandle        []byte
	Fileid            uint64
	Maxfilesize       uint64
	Maxlink           uint32
	Maxname           uint32
	Maxread           uint64
	Maxwrite          uint64
	Mode              uint32
	Numlinks          uint32
	Owner             string
	OwnerGroup        string
	Rawdev            Specdata
	SpaceAvail        uint64
	SpaceFree         uint64
	SpaceTotal        uint64
	SpaceUsed         uint64
	TimeAccess        Nfstime
	TimeMetadata      Nfstime
	TimeModify        Nfstime
	MountedOnFileid   uint64
	SuppattrExclcreat Bitmap
}

// attrKind is the XDR type of an attribute value.
type attrKind uint8

const (
	kindU32 attrKind = iota + 1
	kindU64
	kindBool
	kindFsid
	kindBitmap
	kindFH
	kindString
	kindTime
	kindSpecdata
)

// attrKinds lists the attributes the client can decode, with their types
// (RFC 8881 sections 5.6 and 5.7).
var attrKinds = map[uint32]attrKind{
	FATTR4_SUPPORTED_ATTRS: kindBitmap, FATTR4_TYPE: kindU32, FATTR4_FH_EXPIRE_TYPE: kindU32,
	FATTR4_CHANGE: kindU64, FATTR4_SIZE: kindU64, FATTR4_LINK_SUPPORT: kindBool,
	FATTR4_SYMLINK_SUPPORT: kindBool, FATTR4_NAMED_ATTR: kindBool, FATTR4_FSID: kindFsid,
	FATTR4_UNIQUE_HANDLES: kindBool, FATTR4_LEASE_TIME: kindU32, FATTR4_RDATTR_ERROR: kindU32,
	FATTR4_ACLSUPPORT: kindU32, FATTR4_ARCHIVE: kindBool, FATTR4_CANSETTIME: kindBool,
	FATTR4_CASE_INSENSITIVE: kindBool, FATTR4_CASE_PRESERVING: kindBool,
	FATTR4_CHOWN_RESTRICTED: kindBool, FATTR4_FILEHANDLE: kindFH, FATTR4_FILEID: kindU64,
	FATTR4_FILES_AVAIL: kindU64, FATTR4_FILES_FREE: kindU64, FATTR4_FILES_TOTAL: kindU64,
	FATTR4_HIDDEN: kindBool, FATTR4_HOMOGENEOUS: kindBool, FATTR4_MAXFILESIZE: kindU64,
	FATTR4_MAXLINK: kindU32, FATTR4_MAXNAME: kindU32, FATTR4_MAXREAD: kindU64,
	FATTR4_MAXWRITE: kindU64, FATTR4_MIMETYPE: kindString, FATTR4_MODE: kindU32,
	FATTR4_NO_TRUNC: kindBool, FATTR4_NUMLINKS: kindU32, FATTR4_OWNER: kindString,
	FATTR4_OWNER_GROUP: kindString, FATTR4_QUOTA_AVAIL_HARD: kindU64,
	FATTR4_QUOTA_AVAIL_SOFT: kindU64, FATTR4_QUOTA_USED: kindU64, FATTR4_RAWDEV: kindSpecdata,
	FATTR4_SPACE_AVAIL: kindU64, FATTR4_SPACE_FREE: kindU64, FATTR4_SPACE_TOTAL: kindU64,
	FATTR4_SPACE_USED: kindU64, FATTR4_SYSTEM: kindBool, FATTR4_TIME_ACCESS: kindTime,
	FATTR4_TIME_BACKUP: kindTime, FATTR4_TIME_CREATE: kindTime, FATTR4_TIME_DELTA: kindTime,
	FATTR4_TIME_METADATA: kindTime, FATTR4_TIME_MODIFY: kindTime,
	FATTR4_MOUNTED_ON_FILEID: kindU64, FATTR4_SUPPATTR_EXCLCREAT: kindBitmap,
}

// Decode decodes the values of f. Every attribute of the mask must be one
// the client knows (ErrUnknownAttr otherwise), and the values must fill
// Vals exactly.
func (f Fattr) Decode() (*AttrValues, error) {
	v := &AttrValues{Mask: f.Mask, Raw: map[uint32][]byte{}}
	r := xdr.NewReader(f.Vals)
	for _, a := range f.Mask.Attrs() {
		k, ok := attrKinds[a]
		if !ok {
			return nil, fmt.Errorf("%w: %d", ErrUnknownAttr, a)
		}
		start := r.Offset()
		switch k {
		case kindU32:
			x := r.Uint32()
			switch a {
			case FATTR4_TYPE:
				v.Type = x
			case FATTR4_FH_EXPIRE_TYPE:
				v.FhExpireType = x
			case FATTR4_LEASE_TIME:
				v.LeaseTime = x
			case FATTR4_RDATTR_ERROR:
				v.RdattrError = Status(x)
			case FATTR4_MAXLINK:
				v.Maxlink = x
			case FATTR4_MAXNAME:
				v.Maxname = x
			case FATTR4_MODE:
				v.Mode = x
			case FATTR4_NUMLINKS:
				v.Numlinks = x
			}
		case kindU64:
			x := r.Uint64()
			switch a {
			case FATTR4_CHANGE:
				v.Change = x
			case FATTR4_SIZE:
				v.Size = x
			case FATTR4_FILEID:
				v.Fileid = x
			case FATTR4_MAXFILESIZE:
				v.Maxfilesize = x
			case FATTR4_MAXREAD:
				v.Maxread = x
			case FATTR4_MAXWRITE:
				v.Maxwrite = x
			case FATTR4_SPACE_AVAIL:
				v.SpaceAvail = x
			case FATTR4_SPACE_FREE:
				v.SpaceFree = x
			case FATTR4_SPACE_TOTAL:
				v.SpaceTotal = x
			case FATTR4_SPACE_USED:
				v.SpaceUsed = x
			case FATTR4_MOUNTED_ON_FILEID:
				v.MountedOnFileid = x
			}
		case kindBool:
			x := r.Bool()
			switch a {
			case FATTR4_LINK_SUPPORT:
				v.LinkSupport = x
			case FATTR4_SYMLINK_SUPPORT:
				v.SymlinkSupport = x
			case FATTR4_NAMED_ATTR:
				v.NamedAttr = x
			case FATTR4_UNIQUE_HANDLES:
				v.UniqueHandles = x
			}
		case kindFsid:
			v.Fsid = Fsid{r.Uint64(), r.Uint64()}
		case kindBitmap:
			b := decodeBitmap(r)
			if a == FATTR4_SUPPORTED_ATTRS {
				v.SupportedAttrs = b
			} else {
				v.SuppattrExclcreat = b
			}
		case kindFH:
			v.Filehandle = r.Opaque(NFS4_FHSIZE)
		case kindString:
			s := r.String(MaxName)
			switch a {
			case FATTR4_OWNER:
				v.Owner = s
			case FATTR4_OWNER_GROUP:
				v.OwnerGroup = s
			}
		case kindTime:
			t := Nfstime{r.Int64(), r.Uint32()}
			switch a {
			case FATTR4_TIME_ACCESS:
				v.TimeAccess = t
			case FATTR4_TIME_METADATA:
				v.TimeMetadata = t
			case FATTR4_TIME_MODIFY:
				v.TimeModify = t
			}
		case kindSpecdata:
			v.Rawdev = Specdata{r.Uint32(), r.Uint32()}
		}
		if r.Err() != nil {
			return nil, fmt.Errorf("nfs4client: attribute %d: %w", a, r.Err())
		}
		v.Raw[a] = f.Vals[start:r.Offset()]
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("nfs4client: %d bytes after the attribute values", r.Len())
	}
	return v, nil
}
