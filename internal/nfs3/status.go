package nfs3

import (
	"context"
	"errors"
	"strconv"
	"syscall"
)

// Stat is nfsstat3 (RFC 1813 section 2.6).
type Stat uint32

// The values of nfsstat3, named after RFC 1813 (NFS3ERR_PERM is
// NFS3ErrPerm).
const (
	NFS3OK             Stat = 0
	NFS3ErrPerm        Stat = 1
	NFS3ErrNoEnt       Stat = 2
	NFS3ErrIO          Stat = 5
	NFS3ErrNXIO        Stat = 6
	NFS3ErrAcces       Stat = 13
	NFS3ErrExist       Stat = 17
	NFS3ErrXDev        Stat = 18
	NFS3ErrNoDev       Stat = 19
	NFS3ErrNotDir      Stat = 20
	NFS3ErrIsDir       Stat = 21
	NFS3ErrInval       Stat = 22
	NFS3ErrFBig        Stat = 27
	NFS3ErrNoSpc       Stat = 28
	NFS3ErrROFS        Stat = 30
	NFS3ErrMLink       Stat = 31
	NFS3ErrNameTooLong Stat = 63
	NFS3ErrNotEmpty    Stat = 66
	NFS3ErrDQuot       Stat = 69
	NFS3ErrStale       Stat = 70
	NFS3ErrRemote      Stat = 71
	NFS3ErrBadHandle   Stat = 10001
	NFS3ErrNotSync     Stat = 10002
	NFS3ErrBadCookie   Stat = 10003
	NFS3ErrNotSupp     Stat = 10004
	NFS3ErrTooSmall    Stat = 10005
	NFS3ErrServerFault Stat = 10006
	NFS3ErrBadType     Stat = 10007
	NFS3ErrJukebox     Stat = 10008
)

var statNames = map[Stat]string{
	NFS3OK:             "NFS3_OK",
	NFS3ErrPerm:        "NFS3ERR_PERM",
	NFS3ErrNoEnt:       "NFS3ERR_NOENT",
	NFS3ErrIO:          "NFS3ERR_IO",
	NFS3ErrNXIO:        "NFS3ERR_NXIO",
	NFS3ErrAcces:       "NFS3ERR_ACCES",
	NFS3ErrExist:       "NFS3ERR_EXIST",
	NFS3ErrXDev:        "NFS3ERR_XDEV",
	NFS3ErrNoDev:       "NFS3ERR_NODEV",
	NFS3ErrNotDir:      "NFS3ERR_NOTDIR",
	NFS3ErrIsDir:       "NFS3ERR_ISDIR",
	NFS3ErrInval:       "NFS3ERR_INVAL",
	NFS3ErrFBig:        "NFS3ERR_FBIG",
	NFS3ErrNoSpc:       "NFS3ERR_NOSPC",
	NFS3ErrROFS:        "NFS3ERR_ROFS",
	NFS3ErrMLink:       "NFS3ERR_MLINK",
	NFS3ErrNameTooLong: "NFS3ERR_NAMETOOLONG",
	NFS3ErrNotEmpty:    "NFS3ERR_NOTEMPTY",
	NFS3ErrDQuot:       "NFS3ERR_DQUOT",
	NFS3ErrStale:       "NFS3ERR_STALE",
	NFS3ErrRemote:      "NFS3ERR_REMOTE",
	NFS3ErrBadHandle:   "NFS3ERR_BADHANDLE",
	NFS3ErrNotSync:     "NFS3ERR_NOT_SYNC",
	NFS3ErrBadCookie:   "NFS3ERR_BAD_COOKIE",
	NFS3ErrNotSupp:     "NFS3ERR_NOTSUPP",
	NFS3ErrTooSmall:    "NFS3ERR_TOOSMALL",
	NFS3ErrServerFault: "NFS3ERR_SERVERFAULT",
	NFS3ErrBadType:     "NFS3ERR_BADTYPE",
	NFS3ErrJukebox:     "NFS3ERR_JUKEBOX",
}

// String returns the RFC 1813 name of s.
func (s Stat) String() string {
	if n, ok := statNames[s]; ok {
		return n
	}
	return "nfsstat3(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// errnoTable maps the errors of the backend (syscall.Errno, see package
// vfs) to nfsstat3, as the Linux nfsd's nfserrno() does. Errnos not in the
// table become NFS3ERR_SERVERFAULT and are logged (the Linux nfsd answers
// NFS3ERR_IO and logs). EAGAIN is NFS3ERR_JUKEBOX ("try again later")
// except in SETATTR with a guard, where the backend uses it for a ctime
// mismatch: NFS3ERR_NOT_SYNC (see Server.setattr).
var errnoTable = map[syscall.Errno]Stat{
	syscall.EPERM:        NFS3ErrPerm,
	syscall.ENOENT:       NFS3ErrNoEnt,
	syscall.EIO:          NFS3ErrIO,
	syscall.ENXIO:        NFS3ErrNXIO,
	syscall.E2BIG:        NFS3ErrFBig,
	syscall.EBADF:        NFS3ErrStale,
	syscall.EACCES:       NFS3ErrAcces,
	syscall.EEXIST:       NFS3ErrExist,
	syscall.EXDEV:        NFS3ErrXDev,
	syscall.ENODEV:       NFS3ErrNoDev,
	syscall.ENOTDIR:      NFS3ErrNotDir,
	syscall.EISDIR:       NFS3ErrIsDir,
	syscall.EINVAL:       NFS3ErrInval,
	syscall.EFBIG:        NFS3ErrFBig,
	syscall.ENOSPC:       NFS3ErrNoSpc,
	syscall.EROFS:        NFS3ErrROFS,
	syscall.EMLINK:       NFS3ErrMLink,
	syscall.ENAMETOOLONG: NFS3ErrNameTooLong,
	syscall.ENOTEMPTY:    NFS3ErrNotEmpty,
	syscall.EDQUOT:       NFS3ErrDQuot,
	syscall.ESTALE:       NFS3ErrStale,
	syscall.EREMOTE:      NFS3ErrRemote,
	syscall.ETIMEDOUT:    NFS3ErrJukebox,
	syscall.EAGAIN:       NFS3ErrJukebox,
	syscall.ENOMEM:       NFS3ErrJukebox,
	syscall.ETXTBSY:      NFS3ErrIO,
	syscall.EOPNOTSUPP:   NFS3ErrNotSupp,
	syscall.EREMOTEIO:    NFS3ErrIO,
	syscall.EUCLEAN:      NFS3ErrIO,
	syscall.ENOKEY:       NFS3ErrPerm,
	syscall.ELOOP:        NFS3ErrInval, // nfserr_symlink, which nfsd3_map_status makes INVAL
	syscall.EBUSY:        NFS3ErrAcces, // nfsd_unlink, nfsd_rename: a mount point
	syscall.EMFILE:       NFS3ErrJukebox,
	syscall.ENFILE:       NFS3ErrJukebox,
}

// statusOf maps a backend error to nfsstat3. known is false for an error
// not in the table (the caller logs it); the status is then
// NFS3ERR_SERVERFAULT. A cancelled call (the connection went away) is
// NFS3ERR_JUKEBOX, a reply nobody will read.
func statusOf(err error) (st Stat, known bool) {
	if err == nil {
		return NFS3OK, true
	}
	errno, ok := err.(syscall.Errno)
	if !ok && !errors.As(err, &errno) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return NFS3ErrJukebox, true
		}
		return NFS3ErrServerFault, false
	}
	if st, ok := errnoTable[errno]; ok {
		return st, true
	}
	return NFS3ErrServerFault, false
}
