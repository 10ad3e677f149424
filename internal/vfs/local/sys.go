package local

import (
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// Raw system calls taking a name component, with the name copied into a
// buffer on the stack: the x/sys/unix wrappers allocate a C string for
// every call, and these are on the LOOKUP and READDIRPLUS paths.

// cname is a NUL-terminated copy of a name component (or "").
type cname [vfs.MaxNameLen + 1]byte

// set copies s (already checked: no NUL, at most MaxNameLen bytes).
func (b *cname) set(s string) *byte {
	n := copy(b[:len(b)-1], s)
	b[n] = 0
	return &b[0]
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	var b cname
	p := b.set(name)
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(flags|unix.O_CLOEXEC|unix.O_LARGEFILE), uintptr(mode), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

func fstatat(dirfd int, name string, st *unix.Stat_t, flags int) error {
	var b cname
	p := b.set(name)
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	return errnoErr(e)
}

func fstat(fd int, st *unix.Stat_t) error {
	_, _, e := unix.RawSyscall(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(st)), 0)
	return errnoErr(e)
}

// maxHandleSize is MAX_HANDLE_SZ of <linux/fcntl.h>.
const maxHandleSize = 128

// fileHandle is struct file_handle with room for the largest handle.
type fileHandle struct {
	size uint32
	typ  int32
	data [maxHandleSize]byte
}

// handleID is an ID as a fixed array: 1 byte handle type + handle bytes.
type handleID struct {
	n int
	b [vfs.MaxIDLen]byte
}

func (h *handleID) id() vfs.ID { return append(vfs.ID(nil), h.b[:h.n]...) }

// nameToHandle returns the object ID of dirfd/name (name "" with
// AT_EMPTY_PATH: dirfd itself) and its mount ID. Symbolic links are not
// followed.
func nameToHandle(dirfd int, name string, flags int, out *handleID) (mountID int32, err error) {
	var b cname
	p := b.set(name)
	var fh fileHandle
	fh.size = maxHandleSize
	_, _, e := unix.Syscall6(unix.SYS_NAME_TO_HANDLE_AT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(&fh)), uintptr(unsafe.Pointer(&mountID)), uintptr(flags), 0)
	if e != 0 {
		return 0, e
	}
	if fh.typ < 0 || fh.typ > 255 || fh.size > maxHandleSize || int(fh.size)+1 > vfs.MaxIDLen {
		return 0, errHandleTooLong{typ: fh.typ, size: fh.size}
	}
	out.b[0] = byte(fh.typ)
	out.n = 1 + copy(out.b[1:], fh.data[:fh.size])
	return mountID, nil
}

// errHandleTooLong reports a file handle that does not fit an ID.
type errHandleTooLong struct {
	typ  int32
	size uint32
}

func (e errHandleTooLong) Error() string {
	return "vfs/local: file handle of type " + strconv.Itoa(int(e.typ)) + " and " +
		strconv.Itoa(int(e.size)) + " bytes does not fit an object id (at most " +
		strconv.Itoa(vfs.MaxIDLen-1) + " bytes, type at most 255)"
}

// Is makes errors.Is(err, syscall.EOVERFLOW) true.
func (e errHandleTooLong) Is(target error) bool { return target == syscall.EOVERFLOW }

// openByHandle opens the object named by id on the file system of mountfd.
// A malformed id gives ESTALE.
func openByHandle(mountfd int, id []byte, flags int) (int, error) {
	if len(id) < 2 || len(id) > vfs.MaxIDLen {
		return -1, syscall.ESTALE
	}
	var fh fileHandle
	fh.typ = int32(id[0])
	fh.size = uint32(copy(fh.data[:], id[1:]))
	for {
		r, _, e := unix.Syscall(unix.SYS_OPEN_BY_HANDLE_AT, uintptr(mountfd), uintptr(unsafe.Pointer(&fh)),
			uintptr(flags|unix.O_CLOEXEC|unix.O_LARGEFILE))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// procPath is "/proc/self/fd/N", NUL-terminated, for the system calls that
// have no form taking an O_PATH descriptor (fchmodat, utimensat).
type procPath [32]byte

func (b *procPath) set(fd int) *byte {
	n := copy(b[:], "/proc/self/fd/")
	n += len(strconv.AppendInt(b[n:n], int64(fd), 10))
	b[n] = 0
	return &b[0]
}

// chmodFD changes the mode of the object fd refers to (any type; fd may be
// O_PATH). Symbolic links have no mode and are not passed here.
func chmodFD(fd int, mode uint32) error {
	var b procPath
	p := b.set(fd)
	_, _, e := unix.Syscall6(unix.SYS_FCHMODAT, atFDCWD, uintptr(unsafe.Pointer(p)), uintptr(mode), 0, 0, 0)
	return errnoErr(e)
}

// utimesFD sets the times of the object fd refers to (any type, including
// a symbolic link opened O_PATH|O_NOFOLLOW: the /proc link resolves to the
// link itself and is not followed further).
func utimesFD(fd int, ts *[2]unix.Timespec) error {
	var b procPath
	p := b.set(fd)
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, atFDCWD, uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	return errnoErr(e)
}

// chownFD changes owner and group (-1: unchanged) of the object fd refers
// to, without following symbolic links.
func chownFD(fd int, uid, gid int) error {
	var b cname
	p := b.set("")
	_, _, e := unix.Syscall6(unix.SYS_FCHOWNAT, uintptr(fd), uintptr(unsafe.Pointer(p)),
		uintptr(uid), uintptr(gid), uintptr(unix.AT_EMPTY_PATH), 0)
	return errnoErr(e)
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}

// reopenFD opens the object fd refers to (an O_PATH descriptor of a
// regular file) again through /proc/self/fd with flags.
func reopenFD(fd int, flags int) (int, error) {
	var b procPath
	p := b.set(fd)
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(p)),
			uintptr(flags|unix.O_CLOEXEC|unix.O_LARGEFILE), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// atFDCWD is AT_FDCWD as a system call argument.
const atFDCWD = ^uintptr(0) - 99 // -100
