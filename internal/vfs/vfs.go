// Package vfs defines the storage backend interface of vnfsd.
//
// A backend serves one exported directory tree. Objects are named by an
// ID: opaque bytes, stable for the object's lifetime and across server
// restarts, at most MaxIDLen long. The protocol layers wrap IDs into file
// handles (package fh) and never interpret them, so a backend built on
// inode numbers (such as libcephfs' low-level API) fits as well as the
// local one built on name_to_handle_at.
//
// Errors are syscall.Errno values (ENOENT, EEXIST, ENOTDIR, EISDIR,
// ENOTEMPTY, EACCES, EPERM, EROFS, ENAMETOOLONG, ESTALE, ENOSPC, EDQUOT,
// EXDEV, EINVAL, EIO, ...), possibly wrapped; the protocol layers map them
// to their own status codes. ESTALE means the ID names no object any more.
//
// Every call that can be refused by permissions takes the caller's Cred,
// already mapped by the export's squash rules; the backend enforces file
// permissions for it (see package vfs/perm for the rules of the local
// backend).
package vfs

import (
	"context"
)

// MaxIDLen is the longest object ID a backend may return. With the 22
// bytes of framing and MAC added by package fh, an NFSv3 handle stays
// within its 64-byte limit.
const MaxIDLen = 40

// MaxNameLen is the longest name component accepted (NAME_MAX).
const MaxNameLen = 255

// MaxPathLen is the longest symlink target accepted (PATH_MAX).
const MaxPathLen = 4096

// ID identifies an object within a backend.
type ID []byte

// Cred is the identity an operation runs as.
type Cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// FileType numbers match ftype3 of RFC 1813 (and nfs_ftype4 of RFC 7530
// for the types they share).
type FileType uint32

const (
	TypeRegular FileType = 1
	TypeDir     FileType = 2
	TypeBlock   FileType = 3
	TypeChar    FileType = 4
	TypeSymlink FileType = 5
	TypeSocket  FileType = 6
	TypeFIFO    FileType = 7
)

// Timespec is a point in time as seconds and nanoseconds since the epoch.
type Timespec struct {
	Sec  int64
	Nsec uint32
}

// Attr is the attributes of an object.
type Attr struct {
	Type      FileType
	Mode      uint32 // permission bits, setuid, setgid and sticky (07777)
	Nlink     uint32
	UID       uint32
	GID       uint32
	Size      uint64
	Used      uint64 // bytes allocated
	RdevMajor uint32
	RdevMinor uint32
	Fsid      uint64
	Fileid    uint64
	Atime     Timespec
	Mtime     Timespec
	Ctime     Timespec
}

// SetAttr says which attributes to change; Valid holds Set* bits.
type SetAttr struct {
	Valid uint32
	Mode  uint32
	UID   uint32
	GID   uint32
	Size  uint64
	Atime Timespec // used with SetAtime
	Mtime Timespec // used with SetMtime
}

// SetAttr.Valid bits.
const (
	SetMode     = 1 << iota
	SetUID      // change owner
	SetGID      // change group
	SetSize     // truncate or extend
	SetAtime    // to Atime
	SetAtimeNow // to the server's current time
	SetMtime    // to Mtime
	SetMtimeNow // to the server's current time
)

// Access bits; the same values as ACCESS3_* (RFC 1813) and ACCESS4_*.
const (
	AccessRead    = 0x01
	AccessLookup  = 0x02
	AccessModify  = 0x04
	AccessExtend  = 0x08
	AccessDelete  = 0x10
	AccessExecute = 0x20
)

// Stability of a write, as stable_how of RFC 1813.
type Stability uint32

const (
	Unstable Stability = 0
	DataSync Stability = 1
	FileSync Stability = 2
)

// CreateMode is createmode3 of RFC 1813.
type CreateMode uint32

const (
	Unchecked CreateMode = 0
	Guarded   CreateMode = 1
	Exclusive CreateMode = 2
)

// DirEntry is one entry produced by ReadDir.
type DirEntry struct {
	Name   string
	Fileid uint64
	// Cookie is the position after this entry; passing it to ReadDir
	// resumes with the next entry. Cookies are never 0 and stay valid
	// while other entries are added and removed.
	Cookie uint64
	// ID and Attr are filled only when ReadDir is called with plus;
	// HaveAttr is false if the entry vanished meanwhile.
	ID       ID
	Attr     Attr
	HaveAttr bool
}

// FSStat is the dynamic file system information (FSSTAT).
type FSStat struct {
	TotalBytes uint64
	FreeBytes  uint64
	AvailBytes uint64 // available to the caller (quota or reserve applied)
	TotalFiles uint64
	FreeFiles  uint64
	AvailFiles uint64
}

// FS is a storage backend rooted at one exported directory.
//
// Implementations must be safe for concurrent use. No operation may
// reach an object outside the tree below the root: names are single
// components (no '/'; "." and ".." are handled by Lookup, with ".." of the
// root being the root), and symbolic links are never followed.
type FS interface {
	// Root returns the ID of the exported directory.
	Root(ctx context.Context) (ID, error)

	// GetAttr returns the attributes of id. It needs no permission.
	GetAttr(ctx context.Context, id ID) (Attr, error)

	// SetAttr changes attributes. If guard is non-nil the change is made
	// only if the object's ctime equals *guard (else EAGAIN is returned,
	// which NFSv3 reports as NOT_SYNC). It returns the new attributes.
	SetAttr(ctx context.Context, c *Cred, id ID, sa *SetAttr, guard *Timespec) (Attr, error)

	// Lookup finds name in directory dir.
	Lookup(ctx context.Context, c *Cred, dir ID, name string) (ID, Attr, error)

	// Access returns the subset of the Access* bits in want that c holds on id.
	Access(ctx context.Context, c *Cred, id ID, want uint32) (uint32, error)

	// ReadLink returns the target of a symbolic link.
	ReadLink(ctx context.Context, c *Cred, id ID) (string, error)

	// Read reads up to len(p) bytes at off into p. eof is true when the
	// read reached the end of the file.
	Read(ctx context.Context, c *Cred, id ID, p []byte, off uint64) (n int, eof bool, err error)

	// Write writes p at off with at least the stability asked for and
	// returns how many bytes were written and the stability achieved.
	Write(ctx context.Context, c *Cred, id ID, p []byte, off uint64, how Stability) (n int, committed Stability, err error)

	// Commit makes earlier unstable writes to [off, off+count) durable
	// (count 0 means to the end of the file).
	Commit(ctx context.Context, c *Cred, id ID, off uint64, count uint32) error

	// Create makes a regular file. With Unchecked an existing file is
	// opened (and truncated if sa sets Size); with Guarded it is EEXIST;
	// with Exclusive, verf is stored with the file and a retried create
	// with the same verf returns the existing file, a different verf EEXIST.
	Create(ctx context.Context, c *Cred, dir ID, name string, mode CreateMode, sa *SetAttr, verf [8]byte) (ID, Attr, error)

	Mkdir(ctx context.Context, c *Cred, dir ID, name string, sa *SetAttr) (ID, Attr, error)
	Symlink(ctx context.Context, c *Cred, dir ID, name, target string, sa *SetAttr) (ID, Attr, error)
	// Mknod makes a device (TypeBlock, TypeChar), socket or FIFO.
	Mknod(ctx context.Context, c *Cred, dir ID, name string, typ FileType, major, minor uint32, sa *SetAttr) (ID, Attr, error)

	// Remove unlinks a non-directory; Rmdir removes an empty directory.
	Remove(ctx context.Context, c *Cred, dir ID, name string) error
	Rmdir(ctx context.Context, c *Cred, dir ID, name string) error

	// Rename moves fromDir/fromName to toDir/toName with rename(2)
	// semantics (replacing a compatible target).
	Rename(ctx context.Context, c *Cred, fromDir ID, fromName string, toDir ID, toName string) error

	// Link makes a hard link to id as dir/name.
	Link(ctx context.Context, c *Cred, id ID, dir ID, name string) error

	// ReadDir lists dir starting after cookie (0: from the start) and
	// calls fn for each entry until fn returns false. The listing starts
	// with "." and ".." (".." of the root is the root itself); NFSv4
	// leaves those two out. It returns eof=true
	// when the listing reached the end of the directory. A cookie that
	// the backend can no longer resolve gives EINVAL (BAD_COOKIE).
	// (The entry for which fn returned false is not consumed.)
	ReadDir(ctx context.Context, c *Cred, dir ID, cookie uint64, plus bool, fn func(e *DirEntry) bool) (eof bool, err error)

	// StatFS returns the file system usage seen from id.
	StatFS(ctx context.Context, c *Cred, id ID) (FSStat, error)
}

// Space is implemented by backends that support the space operations of
// NFSv4.2 (RFC 7862): finding data and holes, reserving and releasing
// blocks, and copying within the backend. Permissions are those of
// Read (Seek) and Write (the others, on the destination for Copy).
type Space interface {
	// Seek returns the offset of the first byte of data (data true) or
	// of a hole at or after off, and whether that offset is the end of
	// the file (the implicit hole there). An offset at or past the end
	// of the file, or no data after it, is ENXIO.
	Seek(ctx context.Context, c *Cred, id ID, off uint64, data bool) (uint64, bool, error)
	// Allocate reserves blocks for [off, off+length), growing the file
	// if needed (fallocate mode 0).
	Allocate(ctx context.Context, c *Cred, id ID, off, length uint64) error
	// Deallocate releases the blocks of [off, off+length) (reads of it
	// return zeros; the size does not change).
	Deallocate(ctx context.Context, c *Cred, id ID, off, length uint64) error
	// Copy copies count bytes (0: to the end of src) from src at srcOff
	// to dst at dstOff and returns how many were copied (fewer at the
	// end of src). The data is unstable until a Commit of dst.
	Copy(ctx context.Context, c *Cred, src ID, srcOff uint64, dst ID, dstOff, count uint64) (uint64, error)
}

// Xattr flags of SetXattr (RFC 8276 setxattr_option4).
const (
	XattrEither  = 0 // create or replace
	XattrCreate  = 1 // fail with EEXIST if it exists
	XattrReplace = 2 // fail with ENODATA if it does not
)

// Limits of extended attributes (Linux's XATTR_NAME_MAX, XATTR_SIZE_MAX).
const (
	MaxXattrName  = 255
	MaxXattrValue = 64 << 10
)

// Xattrs is implemented by backends that keep user extended attributes
// (RFC 8276: NFS names them without the "user." prefix). Get and List
// need read permission, Set and Remove write permission. A missing
// attribute is ENODATA; a value over MaxXattrValue E2BIG.
type Xattrs interface {
	GetXattr(ctx context.Context, c *Cred, id ID, name string) ([]byte, error)
	SetXattr(ctx context.Context, c *Cred, id ID, name string, value []byte, how int) error
	ListXattrs(ctx context.Context, c *Cred, id ID) ([]string, error)
	RemoveXattr(ctx context.Context, c *Cred, id ID, name string) error
}
