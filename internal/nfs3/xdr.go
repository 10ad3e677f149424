package nfs3

// XDR types of RFC 1813 section 2.5 (basic data types) and 3.3 (the
// arguments and results of every procedure), each with Encode and Decode,
// so that a client (the project's load generator, the tests) speaks the
// protocol with the same code as the server.
//
// Decoding works on an in-memory record (xdr.Reader): file handles and
// opaque data (WRITE data, SYMLINK targets, READ data) alias the record and
// are valid only while it is; names are copied into strings. Errors are
// sticky in the Reader: check r.Err() once after Decode.
//
// Decoding limits are deliberately larger than the protocol's own limits
// for handles (NFS3_FHSIZE), names (NAME_MAX) and symlink targets
// (PATH_MAX), so that an over-long value reaches the server and gets its
// NFSv3 status (NFS3ERR_BADHANDLE, NFS3ERR_NAMETOOLONG) instead of
// GARBAGE_ARGS; anything beyond the decoding limits is garbage.

import (
	"encoding/binary"

	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Sizes of RFC 1813 section 2.4.
const (
	FHSize3        = 64 // NFS3_FHSIZE: the largest file handle
	CookieVerfSize = 8  // NFS3_COOKIEVERFSIZE
	CreateVerfSize = 8  // NFS3_CREATEVERFSIZE
	WriteVerfSize  = 8  // NFS3_WRITEVERFSIZE
)

// Decoding limits (see the comment at the top of the file).
const (
	maxFHDecode   = 1024     // nfs_fh3 opaque
	maxNameDecode = 4096     // filename3
	maxPathDecode = 64 << 10 // nfspath3
	maxDataDecode = 64 << 20 // READ and WRITE data
	maxEntries    = 1 << 20  // entries of a READDIR(PLUS) result (client side)
)

// Byte sizes of fixed-size items on the wire.
const (
	fattr3Size    = 84 // fattr3
	wccAttrSize   = 24 // wcc_attr
	postOpMaxSize = 4 + fattr3Size
)

var be = binary.BigEndian

// Nfstime3 is nfstime3.
type Nfstime3 struct {
	Seconds  uint32
	Nseconds uint32
}

// Timespec returns t as a vfs.Timespec (seconds are unsigned on the wire,
// as the Linux nfsd reads them).
func (t Nfstime3) Timespec() vfs.Timespec {
	return vfs.Timespec{Sec: int64(t.Seconds), Nsec: t.Nseconds}
}

// TimeFromVFS returns ts as an nfstime3 (seconds truncated to 32 bits, as
// the Linux nfsd does).
func TimeFromVFS(ts vfs.Timespec) Nfstime3 {
	return Nfstime3{Seconds: uint32(ts.Sec), Nseconds: ts.Nsec}
}

// Encode appends t.
func (t *Nfstime3) Encode(w *xdr.Writer) {
	w.Uint32(t.Seconds)
	w.Uint32(t.Nseconds)
}

// Decode reads t.
func (t *Nfstime3) Decode(r *xdr.Reader) {
	t.Seconds = r.Uint32()
	t.Nseconds = r.Uint32()
}

// Specdata3 is specdata3 (a device's major and minor numbers).
type Specdata3 struct {
	Specdata1 uint32
	Specdata2 uint32
}

// Fattr3 is fattr3, the attributes of an object.
type Fattr3 struct {
	Type   vfs.FileType // ftype3: NF3REG = 1 ... NF3FIFO = 7
	Mode   uint32
	Nlink  uint32
	UID    uint32
	GID    uint32
	Size   uint64
	Used   uint64
	Rdev   Specdata3
	Fsid   uint64
	Fileid uint64
	Atime  Nfstime3
	Mtime  Nfstime3
	Ctime  Nfstime3
}

// FattrFromVFS converts backend attributes to fattr3 with the given fsid,
// as the Linux nfsd does: permission bits only in mode, the size of a
// symbolic link at most PATH_MAX, an unknown type reported as NF3REG.
func FattrFromVFS(a *vfs.Attr, fsid uint64) Fattr3 {
	f := Fattr3{
		Type:   a.Type,
		Mode:   a.Mode & 0o7777,
		Nlink:  a.Nlink,
		UID:    a.UID,
		GID:    a.GID,
		Size:   a.Size,
		Used:   a.Used,
		Rdev:   Specdata3{a.RdevMajor, a.RdevMinor},
		Fsid:   fsid,
		Fileid: a.Fileid,
		Atime:  TimeFromVFS(a.Atime),
		Mtime:  TimeFromVFS(a.Mtime),
		Ctime:  TimeFromVFS(a.Ctime),
	}
	if f.Type < vfs.TypeRegular || f.Type > vfs.TypeFIFO {
		f.Type = vfs.TypeRegular
	}
	if f.Type == vfs.TypeSymlink && f.Size > vfs.MaxPathLen {
		f.Size = vfs.MaxPathLen
	}
	return f
}

// Encode appends a.
func (a *Fattr3) Encode(w *xdr.Writer) { putFattr3(w.Grow(fattr3Size), a) }

// putFattr3 writes a into b, which has fattr3Size bytes.
func putFattr3(b []byte, a *Fattr3) {
	_ = b[fattr3Size-1]
	be.PutUint32(b[0:], uint32(a.Type))
	be.PutUint32(b[4:], a.Mode)
	be.PutUint32(b[8:], a.Nlink)
	be.PutUint32(b[12:], a.UID)
	be.PutUint32(b[16:], a.GID)
	be.PutUint64(b[20:], a.Size)
	be.PutUint64(b[28:], a.Used)
	be.PutUint32(b[36:], a.Rdev.Specdata1)
	be.PutUint32(b[40:], a.Rdev.Specdata2)
	be.PutUint64(b[44:], a.Fsid)
	be.PutUint64(b[52:], a.Fileid)
	be.PutUint32(b[60:], a.Atime.Seconds)
	be.PutUint32(b[64:], a.Atime.Nseconds)
	be.PutUint32(b[68:], a.Mtime.Seconds)
	be.PutUint32(b[72:], a.Mtime.Nseconds)
	be.PutUint32(b[76:], a.Ctime.Seconds)
	be.PutUint32(b[80:], a.Ctime.Nseconds)
}

// Decode reads a.
func (a *Fattr3) Decode(r *xdr.Reader) {
	a.Type = vfs.FileType(r.Uint32())
	a.Mode = r.Uint32()
	a.Nlink = r.Uint32()
	a.UID = r.Uint32()
	a.GID = r.Uint32()
	a.Size = r.Uint64()
	a.Used = r.Uint64()
	a.Rdev.Specdata1 = r.Uint32()
	a.Rdev.Specdata2 = r.Uint32()
	a.Fsid = r.Uint64()
	a.Fileid = r.Uint64()
	a.Atime.Decode(r)
	a.Mtime.Decode(r)
	a.Ctime.Decode(r)
}

// PostOpAttr is post_op_attr.
type PostOpAttr struct {
	Present bool // attributes_follow
	Attr    Fattr3
}

// Encode appends p.
func (p *PostOpAttr) Encode(w *xdr.Writer) {
	w.Bool(p.Present)
	if p.Present {
		p.Attr.Encode(w)
	}
}

// Decode reads p.
func (p *PostOpAttr) Decode(r *xdr.Reader) {
	p.Present = r.Bool()
	if p.Present {
		p.Attr.Decode(r)
	} else {
		p.Attr = Fattr3{}
	}
}

// WccAttr is wcc_attr, the attributes a client checks its cache with.
type WccAttr struct {
	Size  uint64
	Mtime Nfstime3
	Ctime Nfstime3
}

// PreOpAttr is pre_op_attr.
type PreOpAttr struct {
	Present bool // attributes_follow
	Attr    WccAttr
}

// PreOpFromVFS returns the pre_op_attr of backend attributes.
func PreOpFromVFS(a *vfs.Attr) PreOpAttr {
	return PreOpAttr{Present: true, Attr: WccAttr{Size: a.Size, Mtime: TimeFromVFS(a.Mtime), Ctime: TimeFromVFS(a.Ctime)}}
}

// Encode appends p.
func (p *PreOpAttr) Encode(w *xdr.Writer) {
	w.Bool(p.Present)
	if p.Present {
		b := w.Grow(wccAttrSize)
		be.PutUint64(b[0:], p.Attr.Size)
		be.PutUint32(b[8:], p.Attr.Mtime.Seconds)
		be.PutUint32(b[12:], p.Attr.Mtime.Nseconds)
		be.PutUint32(b[16:], p.Attr.Ctime.Seconds)
		be.PutUint32(b[20:], p.Attr.Ctime.Nseconds)
	}
}

// Decode reads p.
func (p *PreOpAttr) Decode(r *xdr.Reader) {
	p.Present = r.Bool()
	p.Attr = WccAttr{}
	if p.Present {
		p.Attr.Size = r.Uint64()
		p.Attr.Mtime.Decode(r)
		p.Attr.Ctime.Decode(r)
	}
}

// WccData is wcc_data.
type WccData struct {
	Before PreOpAttr
	After  PostOpAttr
}

// Encode appends d.
func (d *WccData) Encode(w *xdr.Writer) {
	d.Before.Encode(w)
	d.After.Encode(w)
}

// Decode reads d.
func (d *WccData) Decode(r *xdr.Reader) {
	d.Before.Decode(r)
	d.After.Decode(r)
}

// PostOpFH3 is post_op_fh3.
type PostOpFH3 struct {
	Present bool // handle_follows
	Handle  []byte
}

// Encode appends p.
func (p *PostOpFH3) Encode(w *xdr.Writer) {
	w.Bool(p.Present)
	if p.Present {
		w.Opaque(p.Handle)
	}
}

// Decode reads p; the handle aliases the input.
func (p *PostOpFH3) Decode(r *xdr.Reader) {
	p.Present = r.Bool()
	p.Handle = nil
	if p.Present {
		p.Handle = decodeFH(r)
	}
}

// time_how of RFC 1813 section 2.5.
const (
	dontChange      = 0
	setToServerTime = 1
	setToClientTime = 2
)

// Sattr3 is sattr3, the attributes to set, in the representation of the
// backend interface: Valid holds vfs.Set* bits (vfs.SetAtime and
// vfs.SetMtime for SET_TO_CLIENT_TIME, vfs.SetAtimeNow and vfs.SetMtimeNow
// for SET_TO_SERVER_TIME).
type Sattr3 vfs.SetAttr

// Encode appends s.
func (s *Sattr3) Encode(w *xdr.Writer) {
	w.Bool(s.Valid&vfs.SetMode != 0)
	if s.Valid&vfs.SetMode != 0 {
		w.Uint32(s.Mode)
	}
	w.Bool(s.Valid&vfs.SetUID != 0)
	if s.Valid&vfs.SetUID != 0 {
		w.Uint32(s.UID)
	}
	w.Bool(s.Valid&vfs.SetGID != 0)
	if s.Valid&vfs.SetGID != 0 {
		w.Uint32(s.GID)
	}
	w.Bool(s.Valid&vfs.SetSize != 0)
	if s.Valid&vfs.SetSize != 0 {
		w.Uint64(s.Size)
	}
	encodeSetTime(w, s.Valid, vfs.SetAtime, vfs.SetAtimeNow, s.Atime)
	encodeSetTime(w, s.Valid, vfs.SetMtime, vfs.SetMtimeNow, s.Mtime)
}

func encodeSetTime(w *xdr.Writer, valid, client, server uint32, t vfs.Timespec) {
	switch {
	case valid&client != 0:
		w.Uint32(setToClientTime)
		w.Uint32(uint32(t.Sec))
		w.Uint32(t.Nsec)
	case valid&server != 0:
		w.Uint32(setToServerTime)
	default:
		w.Uint32(dontChange)
	}
}

// Decode reads s; a time_how other than the three of the RFC is an error.
func (s *Sattr3) Decode(r *xdr.Reader) {
	*s = Sattr3{}
	if r.Bool() {
		s.Valid |= vfs.SetMode
		s.Mode = r.Uint32()
	}
	if r.Bool() {
		s.Valid |= vfs.SetUID
		s.UID = r.Uint32()
	}
	if r.Bool() {
		s.Valid |= vfs.SetGID
		s.GID = r.Uint32()
	}
	if r.Bool() {
		s.Valid |= vfs.SetSize
		s.Size = r.Uint64()
	}
	s.Atime = decodeSetTime(r, &s.Valid, vfs.SetAtime, vfs.SetAtimeNow)
	s.Mtime = decodeSetTime(r, &s.Valid, vfs.SetMtime, vfs.SetMtimeNow)
}

func decodeSetTime(r *xdr.Reader, valid *uint32, client, server uint32) vfs.Timespec {
	switch r.Uint32() {
	case dontChange:
	case setToServerTime:
		*valid |= server
	case setToClientTime:
		*valid |= client
		var t Nfstime3
		t.Decode(r)
		return t.Timespec()
	default:
		r.SetErr(xdr.ErrBadValue)
	}
	return vfs.Timespec{}
}

// Diropargs3 is diropargs3: a directory and a name in it.
type Diropargs3 struct {
	Dir  []byte
	Name string
}

// Encode appends d.
func (d *Diropargs3) Encode(w *xdr.Writer) {
	w.Opaque(d.Dir)
	w.String(d.Name)
}

// Decode reads d. As the Linux nfsd does, a name containing '/' or NUL is
// undecodable (GARBAGE_ARGS); an empty or over-long name decodes, for the
// procedure to answer with its status.
func (d *Diropargs3) Decode(r *xdr.Reader) {
	d.Dir = decodeFH(r)
	d.Name = decodeFilename(r)
}

func decodeFH(r *xdr.Reader) []byte { return r.Opaque(maxFHDecode) }

func decodeFilename(r *xdr.Reader) string {
	b := r.Opaque(maxNameDecode)
	for _, c := range b {
		if c == '/' || c == 0 {
			r.SetErr(xdr.ErrBadValue)
			return ""
		}
	}
	return string(b)
}

// GETATTR3args is the argument of GETATTR.
type GETATTR3args struct{ Object []byte }

// Encode appends a.
func (a *GETATTR3args) Encode(w *xdr.Writer) { w.Opaque(a.Object) }

// Decode reads a.
func (a *GETATTR3args) Decode(r *xdr.Reader) { a.Object = decodeFH(r) }

// GETATTR3res is the result of GETATTR.
type GETATTR3res struct {
	Status        Stat
	ObjAttributes Fattr3 // if Status is NFS3OK
}

// Encode appends s.
func (s *GETATTR3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	if s.Status == NFS3OK {
		s.ObjAttributes.Encode(w)
	}
}

// Decode reads s.
func (s *GETATTR3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	if s.Status == NFS3OK {
		s.ObjAttributes.Decode(r)
	}
}

// Sattrguard3 is sattrguard3.
type Sattrguard3 struct {
	Check    bool
	ObjCtime Nfstime3
}

// SETATTR3args is the argument of SETATTR.
type SETATTR3args struct {
	Object        []byte
	NewAttributes Sattr3
	Guard         Sattrguard3
}

// Encode appends a.
func (a *SETATTR3args) Encode(w *xdr.Writer) {
	w.Opaque(a.Object)
	a.NewAttributes.Encode(w)
	w.Bool(a.Guard.Check)
	if a.Guard.Check {
		a.Guard.ObjCtime.Encode(w)
	}
}

// Decode reads a.
func (a *SETATTR3args) Decode(r *xdr.Reader) {
	a.Object = decodeFH(r)
	a.NewAttributes.Decode(r)
	a.Guard = Sattrguard3{Check: r.Bool()}
	if a.Guard.Check {
		a.Guard.ObjCtime.Decode(r)
	}
}

// WccRes is the result of the procedures whose result is a status and
// one wcc_data in both arms: SETATTR (obj_wcc), REMOVE and RMDIR (dir_wcc).
type WccRes struct {
	Status Stat
	Wcc    WccData
}

// SETATTR3res, REMOVE3res and RMDIR3res are the results of SETATTR,
// REMOVE and RMDIR.
type (
	SETATTR3res = WccRes
	REMOVE3res  = WccRes
	RMDIR3res   = WccRes
)

// Encode appends s.
func (s *WccRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.Wcc.Encode(w)
}

// Decode reads s.
func (s *WccRes) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.Wcc.Decode(r)
}

// LOOKUP3args is the argument of LOOKUP.
type LOOKUP3args struct{ What Diropargs3 }

// Encode appends a.
func (a *LOOKUP3args) Encode(w *xdr.Writer) { a.What.Encode(w) }

// Decode reads a.
func (a *LOOKUP3args) Decode(r *xdr.Reader) { a.What.Decode(r) }

// LOOKUP3res is the result of LOOKUP.
type LOOKUP3res struct {
	Status        Stat
	Object        []byte     // if NFS3OK
	ObjAttributes PostOpAttr // if NFS3OK
	DirAttributes PostOpAttr
}

// Encode appends s.
func (s *LOOKUP3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	if s.Status == NFS3OK {
		w.Opaque(s.Object)
		s.ObjAttributes.Encode(w)
	}
	s.DirAttributes.Encode(w)
}

// Decode reads s.
func (s *LOOKUP3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	if s.Status == NFS3OK {
		s.Object = decodeFH(r)
		s.ObjAttributes.Decode(r)
	}
	s.DirAttributes.Decode(r)
}

// ACCESS3args is the argument of ACCESS.
type ACCESS3args struct {
	Object []byte
	Access uint32 // ACCESS3_* bits (vfs.Access*)
}

// Encode appends a.
func (a *ACCESS3args) Encode(w *xdr.Writer) {
	w.Opaque(a.Object)
	w.Uint32(a.Access)
}

// Decode reads a.
func (a *ACCESS3args) Decode(r *xdr.Reader) {
	a.Object = decodeFH(r)
	a.Access = r.Uint32()
}

// ACCESS3res is the result of ACCESS.
type ACCESS3res struct {
	Status        Stat
	ObjAttributes PostOpAttr
	Access        uint32 // if NFS3OK
}

// Encode appends s.
func (s *ACCESS3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.ObjAttributes.Encode(w)
	if s.Status == NFS3OK {
		w.Uint32(s.Access)
	}
}

// Decode reads s.
func (s *ACCESS3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.ObjAttributes.Decode(r)
	if s.Status == NFS3OK {
		s.Access = r.Uint32()
	}
}

// READLINK3args is the argument of READLINK.
type READLINK3args struct{ Symlink []byte }

// Encode appends a.
func (a *READLINK3args) Encode(w *xdr.Writer) { w.Opaque(a.Symlink) }

// Decode reads a.
func (a *READLINK3args) Decode(r *xdr.Reader) { a.Symlink = decodeFH(r) }

// READLINK3res is the result of READLINK.
type READLINK3res struct {
	Status            Stat
	SymlinkAttributes PostOpAttr
	Data              string // nfspath3, if NFS3OK
}

// Encode appends s.
func (s *READLINK3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.SymlinkAttributes.Encode(w)
	if s.Status == NFS3OK {
		w.String(s.Data)
	}
}

// Decode reads s.
func (s *READLINK3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.SymlinkAttributes.Decode(r)
	if s.Status == NFS3OK {
		s.Data = r.String(maxPathDecode)
	}
}

// READ3args is the argument of READ.
type READ3args struct {
	File   []byte
	Offset uint64
	Count  uint32
}

// Encode appends a.
func (a *READ3args) Encode(w *xdr.Writer) {
	w.Opaque(a.File)
	w.Uint64(a.Offset)
	w.Uint32(a.Count)
}

// Decode reads a.
func (a *READ3args) Decode(r *xdr.Reader) {
	a.File = decodeFH(r)
	a.Offset = r.Uint64()
	a.Count = r.Uint32()
}

// READ3res is the result of READ.
type READ3res struct {
	Status         Stat
	FileAttributes PostOpAttr
	Count          uint32 // if NFS3OK
	EOF            bool   // if NFS3OK
	Data           []byte // if NFS3OK; aliases the input when decoded
}

// Encode appends s.
func (s *READ3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.FileAttributes.Encode(w)
	if s.Status == NFS3OK {
		w.Uint32(s.Count)
		w.Bool(s.EOF)
		w.Opaque(s.Data)
	}
}

// Decode reads s.
func (s *READ3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.FileAttributes.Decode(r)
	if s.Status == NFS3OK {
		s.Count = r.Uint32()
		s.EOF = r.Bool()
		s.Data = r.Opaque(maxDataDecode)
	}
}

// WRITE3args is the argument of WRITE.
type WRITE3args struct {
	File   []byte
	Offset uint64
	Count  uint32
	Stable vfs.Stability // stable_how
	Data   []byte        // aliases the input when decoded
}

// Encode appends a (Count as given, so that a test can send a count that
// differs from the data length).
func (a *WRITE3args) Encode(w *xdr.Writer) {
	w.Opaque(a.File)
	w.Uint64(a.Offset)
	w.Uint32(a.Count)
	w.Uint32(uint32(a.Stable))
	w.Opaque(a.Data)
}

// Decode reads a. As in the Linux nfsd, a count that differs from the
// length of the data is undecodable; so is a stable_how outside the enum.
func (a *WRITE3args) Decode(r *xdr.Reader) {
	a.File = decodeFH(r)
	a.Offset = r.Uint64()
	a.Count = r.Uint32()
	a.Stable = vfs.Stability(r.Uint32())
	a.Data = r.Opaque(maxDataDecode)
	if r.Err() != nil {
		return
	}
	if a.Stable > vfs.FileSync || uint64(len(a.Data)) != uint64(a.Count) {
		r.SetErr(xdr.ErrBadValue)
	}
}

// WRITE3res is the result of WRITE.
type WRITE3res struct {
	Status    Stat
	FileWcc   WccData
	Count     uint32              // if NFS3OK
	Committed vfs.Stability       // if NFS3OK
	Verf      [WriteVerfSize]byte // if NFS3OK
}

// Encode appends s.
func (s *WRITE3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.FileWcc.Encode(w)
	if s.Status == NFS3OK {
		w.Uint32(s.Count)
		w.Uint32(uint32(s.Committed))
		w.Fixed(s.Verf[:])
	}
}

// Decode reads s.
func (s *WRITE3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.FileWcc.Decode(r)
	if s.Status == NFS3OK {
		s.Count = r.Uint32()
		s.Committed = vfs.Stability(r.Uint32())
		copy(s.Verf[:], r.Fixed(WriteVerfSize))
	}
}

// Createhow3 is createhow3.
type Createhow3 struct {
	Mode          vfs.CreateMode       // UNCHECKED, GUARDED, EXCLUSIVE
	ObjAttributes Sattr3               // UNCHECKED and GUARDED
	Verf          [CreateVerfSize]byte // EXCLUSIVE
}

// CREATE3args is the argument of CREATE.
type CREATE3args struct {
	Where Diropargs3
	How   Createhow3
}

// Encode appends a.
func (a *CREATE3args) Encode(w *xdr.Writer) {
	a.Where.Encode(w)
	w.Uint32(uint32(a.How.Mode))
	switch a.How.Mode {
	case vfs.Unchecked, vfs.Guarded:
		a.How.ObjAttributes.Encode(w)
	case vfs.Exclusive:
		w.Fixed(a.How.Verf[:])
	}
}

// Decode reads a; an unknown createmode3 is an error.
func (a *CREATE3args) Decode(r *xdr.Reader) {
	a.Where.Decode(r)
	a.How = Createhow3{Mode: vfs.CreateMode(r.Uint32())}
	switch a.How.Mode {
	case vfs.Unchecked, vfs.Guarded:
		a.How.ObjAttributes.Decode(r)
	case vfs.Exclusive:
		copy(a.How.Verf[:], r.Fixed(CreateVerfSize))
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

// DiropRes is the result of the procedures that make an object: CREATE,
// MKDIR, SYMLINK and MKNOD.
type DiropRes struct {
	Status        Stat
	Obj           PostOpFH3  // if NFS3OK
	ObjAttributes PostOpAttr // if NFS3OK
	DirWcc        WccData
}

// CREATE3res, MKDIR3res, SYMLINK3res and MKNOD3res are the results of
// CREATE, MKDIR, SYMLINK and MKNOD.
type (
	CREATE3res  = DiropRes
	MKDIR3res   = DiropRes
	SYMLINK3res = DiropRes
	MKNOD3res   = DiropRes
)

// Encode appends s.
func (s *DiropRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	if s.Status == NFS3OK {
		s.Obj.Encode(w)
		s.ObjAttributes.Encode(w)
	}
	s.DirWcc.Encode(w)
}

// Decode reads s.
func (s *DiropRes) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	if s.Status == NFS3OK {
		s.Obj.Decode(r)
		s.ObjAttributes.Decode(r)
	}
	s.DirWcc.Decode(r)
}

// MKDIR3args is the argument of MKDIR.
type MKDIR3args struct {
	Where      Diropargs3
	Attributes Sattr3
}

// Encode appends a.
func (a *MKDIR3args) Encode(w *xdr.Writer) {
	a.Where.Encode(w)
	a.Attributes.Encode(w)
}

// Decode reads a.
func (a *MKDIR3args) Decode(r *xdr.Reader) {
	a.Where.Decode(r)
	a.Attributes.Decode(r)
}

// SYMLINK3args is the argument of SYMLINK (symlinkdata3 inlined).
type SYMLINK3args struct {
	Where             Diropargs3
	SymlinkAttributes Sattr3
	SymlinkData       []byte // nfspath3; aliases the input when decoded
}

// Encode appends a.
func (a *SYMLINK3args) Encode(w *xdr.Writer) {
	a.Where.Encode(w)
	a.SymlinkAttributes.Encode(w)
	w.Opaque(a.SymlinkData)
}

// Decode reads a.
func (a *SYMLINK3args) Decode(r *xdr.Reader) {
	a.Where.Decode(r)
	a.SymlinkAttributes.Decode(r)
	a.SymlinkData = r.Opaque(maxPathDecode)
}

// Mknoddata3 is mknoddata3.
type Mknoddata3 struct {
	Type       vfs.FileType
	Attributes Sattr3    // NF3CHR, NF3BLK, NF3SOCK, NF3FIFO
	Spec       Specdata3 // NF3CHR, NF3BLK
}

// MKNOD3args is the argument of MKNOD.
type MKNOD3args struct {
	Where Diropargs3
	What  Mknoddata3
}

// Encode appends a.
func (a *MKNOD3args) Encode(w *xdr.Writer) {
	a.Where.Encode(w)
	w.Uint32(uint32(a.What.Type))
	switch a.What.Type {
	case vfs.TypeChar, vfs.TypeBlock:
		a.What.Attributes.Encode(w)
		w.Uint32(a.What.Spec.Specdata1)
		w.Uint32(a.What.Spec.Specdata2)
	case vfs.TypeSocket, vfs.TypeFIFO:
		a.What.Attributes.Encode(w)
	}
}

// Decode reads a. NF3REG, NF3DIR and NF3LNK decode (with no data; MKNOD
// answers NFS3ERR_BADTYPE); a value outside ftype3 is an error, as in the
// Linux nfsd.
func (a *MKNOD3args) Decode(r *xdr.Reader) {
	a.Where.Decode(r)
	a.What = Mknoddata3{Type: vfs.FileType(r.Uint32())}
	switch a.What.Type {
	case vfs.TypeChar, vfs.TypeBlock:
		a.What.Attributes.Decode(r)
		a.What.Spec.Specdata1 = r.Uint32()
		a.What.Spec.Specdata2 = r.Uint32()
	case vfs.TypeSocket, vfs.TypeFIFO:
		a.What.Attributes.Decode(r)
	case vfs.TypeRegular, vfs.TypeDir, vfs.TypeSymlink:
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

// REMOVE3args and RMDIR3args are the arguments of REMOVE and RMDIR.
type (
	REMOVE3args = DiropArgs
	RMDIR3args  = DiropArgs
)

// DiropArgs is the argument of REMOVE and RMDIR (one diropargs3).
type DiropArgs struct{ Object Diropargs3 }

// Encode appends a.
func (a *DiropArgs) Encode(w *xdr.Writer) { a.Object.Encode(w) }

// Decode reads a.
func (a *DiropArgs) Decode(r *xdr.Reader) { a.Object.Decode(r) }

// RENAME3args is the argument of RENAME.
type RENAME3args struct {
	From Diropargs3
	To   Diropargs3
}

// Encode appends a.
func (a *RENAME3args) Encode(w *xdr.Writer) {
	a.From.Encode(w)
	a.To.Encode(w)
}

// Decode reads a.
func (a *RENAME3args) Decode(r *xdr.Reader) {
	a.From.Decode(r)
	a.To.Decode(r)
}

// RENAME3res is the result of RENAME.
type RENAME3res struct {
	Status     Stat
	FromdirWcc WccData
	TodirWcc   WccData
}

// Encode appends s.
func (s *RENAME3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.FromdirWcc.Encode(w)
	s.TodirWcc.Encode(w)
}

// Decode reads s.
func (s *RENAME3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.FromdirWcc.Decode(r)
	s.TodirWcc.Decode(r)
}

// LINK3args is the argument of LINK.
type LINK3args struct {
	File []byte
	Link Diropargs3
}

// Encode appends a.
func (a *LINK3args) Encode(w *xdr.Writer) {
	w.Opaque(a.File)
	a.Link.Encode(w)
}

// Decode reads a.
func (a *LINK3args) Decode(r *xdr.Reader) {
	a.File = decodeFH(r)
	a.Link.Decode(r)
}

// LINK3res is the result of LINK.
type LINK3res struct {
	Status         Stat
	FileAttributes PostOpAttr
	LinkdirWcc     WccData
}

// Encode appends s.
func (s *LINK3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.FileAttributes.Encode(w)
	s.LinkdirWcc.Encode(w)
}

// Decode reads s.
func (s *LINK3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.FileAttributes.Decode(r)
	s.LinkdirWcc.Decode(r)
}

// READDIR3args is the argument of READDIR.
type READDIR3args struct {
	Dir        []byte
	Cookie     uint64
	Cookieverf [CookieVerfSize]byte
	Count      uint32
}

// Encode appends a.
func (a *READDIR3args) Encode(w *xdr.Writer) {
	w.Opaque(a.Dir)
	w.Uint64(a.Cookie)
	w.Fixed(a.Cookieverf[:])
	w.Uint32(a.Count)
}

// Decode reads a.
func (a *READDIR3args) Decode(r *xdr.Reader) {
	a.Dir = decodeFH(r)
	a.Cookie = r.Uint64()
	copy(a.Cookieverf[:], r.Fixed(CookieVerfSize))
	a.Count = r.Uint32()
}

// Entry3 is one entry3 of a READDIR result.
type Entry3 struct {
	Fileid uint64
	Name   string
	Cookie uint64
}

// entry3Size is the encoded size of an entry3 (with its value_follows)
// whose name has n bytes.
func entry3Size(n int) int { return 4 + 8 + 4 + n + xdr.Pad(n) + 8 }

func (e *Entry3) encode(w *xdr.Writer) {
	w.Uint64(e.Fileid)
	w.String(e.Name)
	w.Uint64(e.Cookie)
}

func (e *Entry3) decode(r *xdr.Reader) {
	e.Fileid = r.Uint64()
	e.Name = r.String(maxNameDecode)
	e.Cookie = r.Uint64()
}

// READDIR3res is the result of READDIR.
type READDIR3res struct {
	Status        Stat
	DirAttributes PostOpAttr
	Cookieverf    [CookieVerfSize]byte // if NFS3OK
	Entries       []Entry3             // if NFS3OK
	EOF           bool                 // if NFS3OK
}

// Encode appends s.
func (s *READDIR3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.DirAttributes.Encode(w)
	if s.Status != NFS3OK {
		return
	}
	w.Fixed(s.Cookieverf[:])
	for i := range s.Entries {
		w.Bool(true)
		s.Entries[i].encode(w)
	}
	w.Bool(false)
	w.Bool(s.EOF)
}

// Decode reads s.
func (s *READDIR3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.DirAttributes.Decode(r)
	s.Entries = s.Entries[:0]
	if s.Status != NFS3OK {
		return
	}
	copy(s.Cookieverf[:], r.Fixed(CookieVerfSize))
	for r.Bool() && r.Err() == nil {
		if len(s.Entries) >= maxEntries {
			r.SetErr(xdr.ErrTooLong)
			return
		}
		var e Entry3
		e.decode(r)
		s.Entries = append(s.Entries, e)
	}
	s.EOF = r.Bool()
}

// READDIRPLUS3args is the argument of READDIRPLUS.
type READDIRPLUS3args struct {
	Dir        []byte
	Cookie     uint64
	Cookieverf [CookieVerfSize]byte
	Dircount   uint32
	Maxcount   uint32
}

// Encode appends a.
func (a *READDIRPLUS3args) Encode(w *xdr.Writer) {
	w.Opaque(a.Dir)
	w.Uint64(a.Cookie)
	w.Fixed(a.Cookieverf[:])
	w.Uint32(a.Dircount)
	w.Uint32(a.Maxcount)
}

// Decode reads a.
func (a *READDIRPLUS3args) Decode(r *xdr.Reader) {
	a.Dir = decodeFH(r)
	a.Cookie = r.Uint64()
	copy(a.Cookieverf[:], r.Fixed(CookieVerfSize))
	a.Dircount = r.Uint32()
	a.Maxcount = r.Uint32()
}

// Entryplus3 is one entryplus3 of a READDIRPLUS result.
type Entryplus3 struct {
	Fileid         uint64
	Name           string
	Cookie         uint64
	NameAttributes PostOpAttr
	NameHandle     PostOpFH3
}

// READDIRPLUS3res is the result of READDIRPLUS.
type READDIRPLUS3res struct {
	Status        Stat
	DirAttributes PostOpAttr
	Cookieverf    [CookieVerfSize]byte // if NFS3OK
	Entries       []Entryplus3         // if NFS3OK
	EOF           bool                 // if NFS3OK
}

// Encode appends s.
func (s *READDIRPLUS3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.DirAttributes.Encode(w)
	if s.Status != NFS3OK {
		return
	}
	w.Fixed(s.Cookieverf[:])
	for i := range s.Entries {
		e := &s.Entries[i]
		w.Bool(true)
		w.Uint64(e.Fileid)
		w.String(e.Name)
		w.Uint64(e.Cookie)
		e.NameAttributes.Encode(w)
		e.NameHandle.Encode(w)
	}
	w.Bool(false)
	w.Bool(s.EOF)
}

// Decode reads s; the entries' handles alias the input.
func (s *READDIRPLUS3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.DirAttributes.Decode(r)
	s.Entries = s.Entries[:0]
	if s.Status != NFS3OK {
		return
	}
	copy(s.Cookieverf[:], r.Fixed(CookieVerfSize))
	for r.Bool() && r.Err() == nil {
		if len(s.Entries) >= maxEntries {
			r.SetErr(xdr.ErrTooLong)
			return
		}
		var e Entryplus3
		e.Fileid = r.Uint64()
		e.Name = r.String(maxNameDecode)
		e.Cookie = r.Uint64()
		e.NameAttributes.Decode(r)
		e.NameHandle.Decode(r)
		s.Entries = append(s.Entries, e)
	}
	s.EOF = r.Bool()
}

// HandleArgs is the argument of FSSTAT, FSINFO and PATHCONF: one handle.
type HandleArgs struct{ Object []byte }

// FSSTAT3args, FSINFO3args and PATHCONF3args are the arguments of FSSTAT,
// FSINFO (fsroot) and PATHCONF (object).
type (
	FSSTAT3args   = HandleArgs
	FSINFO3args   = HandleArgs
	PATHCONF3args = HandleArgs
)

// Encode appends a.
func (a *HandleArgs) Encode(w *xdr.Writer) { w.Opaque(a.Object) }

// Decode reads a.
func (a *HandleArgs) Decode(r *xdr.Reader) { a.Object = decodeFH(r) }

// FSSTAT3res is the result of FSSTAT.
type FSSTAT3res struct {
	Status        Stat
	ObjAttributes PostOpAttr
	// If NFS3OK:
	Tbytes, Fbytes, Abytes uint64
	Tfiles, Ffiles, Afiles uint64
	Invarsec               uint32
}

// Encode appends s.
func (s *FSSTAT3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.ObjAttributes.Encode(w)
	if s.Status == NFS3OK {
		for _, v := range [...]uint64{s.Tbytes, s.Fbytes, s.Abytes, s.Tfiles, s.Ffiles, s.Afiles} {
			w.Uint64(v)
		}
		w.Uint32(s.Invarsec)
	}
}

// Decode reads s.
func (s *FSSTAT3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.ObjAttributes.Decode(r)
	if s.Status == NFS3OK {
		s.Tbytes, s.Fbytes, s.Abytes = r.Uint64(), r.Uint64(), r.Uint64()
		s.Tfiles, s.Ffiles, s.Afiles = r.Uint64(), r.Uint64(), r.Uint64()
		s.Invarsec = r.Uint32()
	}
}

// FSINFO properties bits.
const (
	FSFLink        = 0x0001 // FSF3_LINK
	FSFSymlink     = 0x0002 // FSF3_SYMLINK
	FSFHomogeneous = 0x0008 // FSF3_HOMOGENEOUS
	FSFCanSetTime  = 0x0010 // FSF3_CANSETTIME
)

// FSINFO3res is the result of FSINFO.
type FSINFO3res struct {
	Status        Stat
	ObjAttributes PostOpAttr
	// If NFS3OK:
	Rtmax, Rtpref, Rtmult uint32
	Wtmax, Wtpref, Wtmult uint32
	Dtpref                uint32
	Maxfilesize           uint64
	TimeDelta             Nfstime3
	Properties            uint32
}

// Encode appends s.
func (s *FSINFO3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.ObjAttributes.Encode(w)
	if s.Status == NFS3OK {
		for _, v := range [...]uint32{s.Rtmax, s.Rtpref, s.Rtmult, s.Wtmax, s.Wtpref, s.Wtmult, s.Dtpref} {
			w.Uint32(v)
		}
		w.Uint64(s.Maxfilesize)
		s.TimeDelta.Encode(w)
		w.Uint32(s.Properties)
	}
}

// Decode reads s.
func (s *FSINFO3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.ObjAttributes.Decode(r)
	if s.Status == NFS3OK {
		s.Rtmax, s.Rtpref, s.Rtmult = r.Uint32(), r.Uint32(), r.Uint32()
		s.Wtmax, s.Wtpref, s.Wtmult = r.Uint32(), r.Uint32(), r.Uint32()
		s.Dtpref = r.Uint32()
		s.Maxfilesize = r.Uint64()
		s.TimeDelta.Decode(r)
		s.Properties = r.Uint32()
	}
}

// PATHCONF3res is the result of PATHCONF.
type PATHCONF3res struct {
	Status        Stat
	ObjAttributes PostOpAttr
	// If NFS3OK:
	Linkmax         uint32
	NameMax         uint32
	NoTrunc         bool
	ChownRestricted bool
	CaseInsensitive bool
	CasePreserving  bool
}

// Encode appends s.
func (s *PATHCONF3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.ObjAttributes.Encode(w)
	if s.Status == NFS3OK {
		w.Uint32(s.Linkmax)
		w.Uint32(s.NameMax)
		w.Bool(s.NoTrunc)
		w.Bool(s.ChownRestricted)
		w.Bool(s.CaseInsensitive)
		w.Bool(s.CasePreserving)
	}
}

// Decode reads s.
func (s *PATHCONF3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.ObjAttributes.Decode(r)
	if s.Status == NFS3OK {
		s.Linkmax = r.Uint32()
		s.NameMax = r.Uint32()
		s.NoTrunc = r.Bool()
		s.ChownRestricted = r.Bool()
		s.CaseInsensitive = r.Bool()
		s.CasePreserving = r.Bool()
	}
}

// COMMIT3args is the argument of COMMIT.
type COMMIT3args struct {
	File   []byte
	Offset uint64
	Count  uint32
}

// Encode appends a.
func (a *COMMIT3args) Encode(w *xdr.Writer) {
	w.Opaque(a.File)
	w.Uint64(a.Offset)
	w.Uint32(a.Count)
}

// Decode reads a.
func (a *COMMIT3args) Decode(r *xdr.Reader) {
	a.File = decodeFH(r)
	a.Offset = r.Uint64()
	a.Count = r.Uint32()
}

// COMMIT3res is the result of COMMIT.
type COMMIT3res struct {
	Status  Stat
	FileWcc WccData
	Verf    [WriteVerfSize]byte // if NFS3OK
}

// Encode appends s.
func (s *COMMIT3res) Encode(w *xdr.Writer) {
	w.Uint32(uint32(s.Status))
	s.FileWcc.Encode(w)
	if s.Status == NFS3OK {
		w.Fixed(s.Verf[:])
	}
}

// Decode reads s.
func (s *COMMIT3res) Decode(r *xdr.Reader) {
	s.Status = Stat(r.Uint32())
	s.FileWcc.Decode(r)
	if s.Status == NFS3OK {
		copy(s.Verf[:], r.Fixed(WriteVerfSize))
	}
}
