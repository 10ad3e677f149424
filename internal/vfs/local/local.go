// Package local is the vfs backend on an ordinary Linux directory.
//
// Object IDs are the kernel's file handles (name_to_handle_at(2)): one byte
// of handle type followed by the handle bytes, at most vfs.MaxIDLen long.
// They survive server restarts; an object is reopened from its ID with
// open_by_handle_at(2), which needs CAP_DAC_READ_SEARCH (New refuses to
// start without it and says so). The ID of a deleted object gives ESTALE,
// as does a malformed ID or one that names an object on another file
// system than the export root's.
//
// Confinement: every name is a single component resolved relative to an
// open directory descriptor with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so no
// symbolic link, ".." or crafted name can reach outside the export; ".." of
// the export root is the root; symbolic links are never followed by the
// server; a lookup does not cross into another mount below the export
// (EACCES). As a defence in depth, a directory ID opened from its handle
// (not reached by name) is checked to lie below the export root by walking
// its ".." chain; a directory outside gives ESTALE. Regular files cannot be
// checked that way: their handles are protected by the MAC of package fh.
//
// The server runs as root and checks permissions itself with the rules of
// package vfs/perm (those of the Linux kernel and nfsd); new objects are
// created as root and then given to the caller with fchownat(2) and
// fchmod, so the process umask plays no part.
//
// Open descriptors are kept in a bounded LRU cache keyed by ID (an O_PATH
// descriptor per object; for regular files also a read-only and a
// read-write descriptor, opened when first needed), so hot files are not
// reopened for every call. Descriptors of an evicted object are closed when
// the calls using it are done.
package local

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/perm"
)

// ErrNeedCapability is returned by New when the process may not use
// open_by_handle_at(2).
var ErrNeedCapability = errors.New("vfs/local: open_by_handle_at needs CAP_DAC_READ_SEARCH (run vnfsd as root or grant it with setcap cap_dac_read_search+ep)")

// DefaultFDCacheSize is the descriptor cache bound when Options leaves it 0.
const DefaultFDCacheSize = 1024

// Options configure a backend.
type Options struct {
	// FDCacheSize bounds the open descriptors kept (0: DefaultFDCacheSize).
	// Calls in flight may briefly hold a few more.
	FDCacheSize int
	// Logger receives warnings (nil: discarded).
	Logger *slog.Logger
}

// FS serves one directory tree. It implements vfs.FS.
type FS struct {
	path    string
	log     *slog.Logger
	cache   *fdCache
	root    *node // pinned; its fd (O_RDONLY|O_DIRECTORY) is the mount fd for open_by_handle_at
	rootID  vfs.ID
	rootDev uint64
	rootIno uint64
	mountID int32
	// protectedHardlinks mirrors fs.protected_hardlinks at start.
	protectedHardlinks bool
	closeOnce          sync.Once
	closed             atomic.Bool
}

var _ vfs.FS = (*FS)(nil)

// New opens the directory root for serving.
func New(root string, opts Options) (*FS, error) {
	if opts.FDCacheSize < 0 {
		return nil, fmt.Errorf("vfs/local: FDCacheSize %d is negative", opts.FDCacheSize)
	}
	if opts.FDCacheSize == 0 {
		opts.FDCacheSize = DefaultFDCacheSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vfs/local: opening %s: %w", root, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("vfs/local: %s: %w", root, err)
	}
	var h handleID
	mountID, err := nameToHandle(fd, "", unix.AT_EMPTY_PATH, &h)
	if err != nil {
		if errors.Is(err, syscall.EOPNOTSUPP) {
			return nil, fmt.Errorf("vfs/local: the file system of %s does not support file handles (name_to_handle_at): %w", root, err)
		}
		return nil, fmt.Errorf("vfs/local: name_to_handle_at %s: %w", root, err)
	}
	probe, err := openByHandle(fd, h.b[:h.n], unix.O_PATH)
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			return nil, ErrNeedCapability
		}
		return nil, fmt.Errorf("vfs/local: open_by_handle_at %s: %w", root, err)
	}
	unix.Close(probe)
	// chmod and utimes of O_PATH descriptors go through /proc/self/fd.
	var pst unix.Stat_t
	var pp procPath
	pp.set(fd)
	if err := unix.Stat(string(pp[:strings.IndexByte(string(pp[:]), 0)]), &pst); err != nil || pst.Ino != st.Ino {
		return nil, fmt.Errorf("vfs/local: /proc/self/fd is not usable (is /proc mounted?): %v", err)
	}
	f := &FS{
		path:               root,
		log:                log,
		cache:              newFDCache(opts.FDCacheSize),
		rootID:             h.id(),
		rootDev:            st.Dev,
		rootIno:            st.Ino,
		mountID:            mountID,
		protectedHardlinks: readProtectedHardlinks(),
	}
	f.root = newNode(string(f.rootID), fd, unix.S_IFDIR)
	f.root.pinned = true
	f.cache.release(f.cache.add(f.root))
	ok = true
	return f, nil
}

func readProtectedHardlinks() bool {
	b, err := os.ReadFile("/proc/sys/fs/protected_hardlinks")
	if err != nil {
		return true
	}
	return strings.TrimSpace(string(b)) != "0"
}

// Close releases the descriptors. Calls still running finish; later calls
// fail with EIO. The IDs stay valid for a new FS on the same directory.
func (f *FS) Close() error {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		f.cache.close()
	})
	return nil
}

// Path returns the directory served.
func (f *FS) Path() string { return f.path }

// CacheStats returns the number of objects and descriptors in the cache.
func (f *FS) CacheStats() (objects, fds int) { return f.cache.stats() }

// errClosed is returned by calls on a closed FS.
var errClosed = syscall.EIO

func fileType(mode uint32) vfs.FileType {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return vfs.TypeRegular
	case unix.S_IFDIR:
		return vfs.TypeDir
	case unix.S_IFBLK:
		return vfs.TypeBlock
	case unix.S_IFCHR:
		return vfs.TypeChar
	case unix.S_IFLNK:
		return vfs.TypeSymlink
	case unix.S_IFSOCK:
		return vfs.TypeSocket
	case unix.S_IFIFO:
		return vfs.TypeFIFO
	}
	return 0
}

func toAttr(st *unix.Stat_t, a *vfs.Attr) {
	*a = vfs.Attr{
		Type:      fileType(st.Mode),
		Mode:      st.Mode & 0o7777,
		Nlink:     uint32(min(st.Nlink, math.MaxUint32)),
		UID:       st.Uid,
		GID:       st.Gid,
		Size:      uint64(st.Size),
		Used:      uint64(st.Blocks) * 512,
		RdevMajor: unix.Major(st.Rdev),
		RdevMinor: unix.Minor(st.Rdev),
		Fsid:      uint64(unix.Major(st.Dev))<<32 | uint64(unix.Minor(st.Dev)),
		Fileid:    st.Ino,
		Atime:     vfs.Timespec{Sec: st.Atim.Sec, Nsec: uint32(st.Atim.Nsec)},
		Mtime:     vfs.Timespec{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)},
		Ctime:     vfs.Timespec{Sec: st.Ctim.Sec, Nsec: uint32(st.Ctim.Nsec)},
	}
}

// checkName validates a single name component. "." and ".." pass.
func checkName(name string) error {
	if name == "" {
		return syscall.EINVAL
	}
	if len(name) > vfs.MaxNameLen {
		return syscall.ENAMETOOLONG
	}
	if strings.IndexByte(name, '/') >= 0 || strings.IndexByte(name, 0) >= 0 {
		return syscall.EINVAL
	}
	return nil
}

func isDot(name string) bool { return name == "." || name == ".." }

// get returns the node of id with a reference, and its current status.
// An object whose link count dropped to 0 is stale.
func (f *FS) get(id vfs.ID, st *unix.Stat_t) (*node, error) {
	n := f.cache.get(id)
	if n == nil {
		var err error
		if n, err = f.open(id); err != nil {
			return nil, err
		}
	}
	if err := fstat(n.fd, st); err != nil {
		f.cache.release(n)
		return nil, err
	}
	if st.Nlink == 0 {
		f.cache.invalidate(n)
		f.cache.release(n)
		return nil, syscall.ESTALE
	}
	return n, nil
}

// open opens id from its handle and caches it.
func (f *FS) open(id vfs.ID) (*node, error) {
	if len(id) < 2 || len(id) > vfs.MaxIDLen {
		return nil, syscall.ESTALE
	}
	if !f.cache.tryAcquire(f.root) {
		return nil, errClosed
	}
	fd, err := openByHandle(f.root.fd, id, unix.O_PATH|unix.O_NOFOLLOW)
	f.cache.release(f.root)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EPERM):
			f.log.Error("open_by_handle_at refused: CAP_DAC_READ_SEARCH lost?", "path", f.path, "err", err)
			return nil, err
		case errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
			return nil, err
		}
		return nil, syscall.ESTALE
	}
	var st unix.Stat_t
	if err := f.checkOpened(fd, id, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return f.cache.add(newNode(string(id), fd, st.Mode&unix.S_IFMT)), nil
}

// checkOpened verifies an object opened from handle id: same file system
// as the root, not deleted, the canonical handle, and for directories
// below the export root.
func (f *FS) checkOpened(fd int, id vfs.ID, st *unix.Stat_t) error {
	if err := fstat(fd, st); err != nil {
		return err
	}
	if st.Dev != f.rootDev || st.Nlink == 0 {
		return syscall.ESTALE
	}
	var h handleID
	mnt, err := nameToHandle(fd, "", unix.AT_EMPTY_PATH, &h)
	if err != nil || mnt != f.mountID || string(h.b[:h.n]) != string(id) {
		return syscall.ESTALE
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Ino != f.rootIno {
		if err := f.checkBelowRoot(fd); err != nil {
			f.log.Warn("directory handle outside the export refused", "path", f.path, "ino", st.Ino)
			return err
		}
	}
	return nil
}

// maxDepth bounds the ".." walk of checkBelowRoot.
const maxDepth = 4096

// checkBelowRoot walks ".." from directory fd up to the export root;
// ESTALE if the root is not reached.
func (f *FS) checkBelowRoot(fd int) error {
	cur := fd
	defer func() {
		if cur != fd {
			unix.Close(cur)
		}
	}()
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		return syscall.ESTALE
	}
	for range maxDepth {
		p, err := openat(cur, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if cur != fd {
			unix.Close(cur)
		}
		cur = p
		if err != nil {
			cur = fd
			return syscall.ESTALE
		}
		var pst unix.Stat_t
		if err := fstat(p, &pst); err != nil {
			return syscall.ESTALE
		}
		if pst.Dev == f.rootDev && pst.Ino == f.rootIno {
			return nil
		}
		if pst.Dev == st.Dev && pst.Ino == st.Ino {
			return syscall.ESTALE // reached "/" (its own parent)
		}
		st = pst
	}
	return syscall.ESTALE
}

// ioFD returns a descriptor of regular file n for data I/O: writable if
// write is set, else any open one (read-only preferred).
func (f *FS) ioFD(n *node, write bool) (int, error) {
	if write {
		if fd := n.wfd.Load(); fd >= 0 {
			return int(fd), nil
		}
	} else {
		if fd := n.rfd.Load(); fd >= 0 {
			return int(fd), nil
		}
		if fd := n.wfd.Load(); fd >= 0 {
			return int(fd), nil
		}
	}
	n.ioMu.Lock()
	defer n.ioMu.Unlock()
	slot, flags := &n.rfd, unix.O_RDONLY
	if write {
		slot, flags = &n.wfd, unix.O_RDWR
	}
	if fd := slot.Load(); fd >= 0 {
		return int(fd), nil
	}
	fd, err := reopenFD(n.fd, flags|unix.O_NONBLOCK)
	if err != nil {
		return -1, err
	}
	slot.Store(int32(fd))
	f.cache.grow(n)
	return fd, nil
}

// forget drops the cache entry of an object that a Remove, Rmdir or
// Rename may have deleted, if its link count is now 0.
func (f *FS) forget(h *handleID) {
	if h.n == 0 {
		return
	}
	n := f.cache.peek(h.b[:h.n])
	if n == nil {
		return
	}
	var st unix.Stat_t
	if err := fstat(n.fd, &st); err != nil || st.Nlink == 0 {
		f.cache.invalidate(n)
	}
	f.cache.release(n)
}

// isRoot reports whether st is the export root.
func (f *FS) isRoot(st *unix.Stat_t) bool { return st.Dev == f.rootDev && st.Ino == f.rootIno }

// Root implements vfs.FS.
func (f *FS) Root(ctx context.Context) (vfs.ID, error) {
	if f.closed.Load() {
		return nil, errClosed
	}
	return append(vfs.ID(nil), f.rootID...), nil
}

// GetAttr implements vfs.FS.
func (f *FS) GetAttr(ctx context.Context, id vfs.ID) (vfs.Attr, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return vfs.Attr{}, err
	}
	f.cache.release(n)
	var a vfs.Attr
	toAttr(&st, &a)
	return a, nil
}

// SetAttr implements vfs.FS.
func (f *FS) SetAttr(ctx context.Context, c *vfs.Cred, id vfs.ID, sa *vfs.SetAttr, guard *vfs.Timespec) (vfs.Attr, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return vfs.Attr{}, err
	}
	defer f.cache.release(n)
	if sa == nil {
		sa = &vfs.SetAttr{}
	}
	var a vfs.Attr
	toAttr(&st, &a)
	if guard != nil && *guard != a.Ctime {
		return a, syscall.EAGAIN
	}
	plan, err := perm.SetAttr(&a, c, sa)
	if err != nil {
		return a, err
	}
	if err := f.applySetAttr(n, &a, c, &plan); err != nil {
		return a, err
	}
	if err := fstat(n.fd, &st); err != nil {
		return a, err
	}
	toAttr(&st, &a)
	return a, nil
}

// applySetAttr makes the (already permitted) change sa to n, whose
// attributes were a: size, then owner, then mode, then times.
func (f *FS) applySetAttr(n *node, a *vfs.Attr, c *vfs.Cred, sa *vfs.SetAttr) error {
	if sa.Valid&vfs.SetSize != 0 {
		if sa.Size > math.MaxInt64 {
			return syscall.EFBIG
		}
		wfd, err := f.ioFD(n, true)
		if err != nil {
			return err
		}
		if err := ftruncate(wfd, int64(sa.Size)); err != nil {
			return err
		}
		if m, kill := perm.KillPriv(a, c); kill && sa.Valid&vfs.SetMode == 0 {
			if err := chmodFD(n.fd, m); err != nil {
				return err
			}
		}
	}
	if sa.Valid&(vfs.SetUID|vfs.SetGID) != 0 {
		uid, gid := -1, -1
		if sa.Valid&vfs.SetUID != 0 {
			uid = int(sa.UID)
		}
		if sa.Valid&vfs.SetGID != 0 {
			gid = int(sa.GID)
		}
		if err := chownFD(n.fd, uid, gid); err != nil {
			return err
		}
	}
	if sa.Valid&vfs.SetMode != 0 && n.typ != unix.S_IFLNK {
		if err := chmodFD(n.fd, sa.Mode&0o7777); err != nil {
			return err
		}
	}
	return setTimes(n.fd, sa)
}

// setTimes applies the time fields of sa to fd (no-op if none is set).
func setTimes(fd int, sa *vfs.SetAttr) error {
	if sa.Valid&(vfs.SetAtime|vfs.SetAtimeNow|vfs.SetMtime|vfs.SetMtimeNow) == 0 {
		return nil
	}
	ts := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
	switch {
	case sa.Valid&vfs.SetAtime != 0:
		ts[0] = unix.Timespec{Sec: sa.Atime.Sec, Nsec: int64(sa.Atime.Nsec)}
	case sa.Valid&vfs.SetAtimeNow != 0:
		ts[0].Nsec = unix.UTIME_NOW
	}
	switch {
	case sa.Valid&vfs.SetMtime != 0:
		ts[1] = unix.Timespec{Sec: sa.Mtime.Sec, Nsec: int64(sa.Mtime.Nsec)}
	case sa.Valid&vfs.SetMtimeNow != 0:
		ts[1].Nsec = unix.UTIME_NOW
	}
	if ts[0].Nsec >= 1e9 && ts[0].Nsec != unix.UTIME_NOW && ts[0].Nsec != unix.UTIME_OMIT ||
		ts[1].Nsec >= 1e9 && ts[1].Nsec != unix.UTIME_NOW && ts[1].Nsec != unix.UTIME_OMIT {
		return syscall.EINVAL
	}
	return utimesFD(fd, &ts)
}

func ftruncate(fd int, size int64) error {
	for {
		err := unix.Ftruncate(fd, size)
		if err != unix.EINTR {
			return err
		}
	}
}

// Lookup implements vfs.FS.
func (f *FS) Lookup(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string) (vfs.ID, vfs.Attr, error) {
	var st unix.Stat_t
	dn, err := f.get(dir, &st)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer f.cache.release(dn)
	var da vfs.Attr
	toAttr(&st, &da)
	if err := perm.Lookup(&da, c); err != nil {
		return nil, vfs.Attr{}, err
	}
	if err := checkName(name); err != nil {
		return nil, vfs.Attr{}, err
	}
	if name == "." || (name == ".." && f.isRoot(&st)) {
		if name == "." {
			return append(vfs.ID(nil), dn.key...), da, nil
		}
		return append(vfs.ID(nil), f.rootID...), da, nil
	}
	var h handleID
	var a vfs.Attr
	// Fast path: the handle of the name, and the object already open.
	mnt, err := nameToHandle(dn.fd, name, 0, &h)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	if mnt != f.mountID {
		return nil, vfs.Attr{}, syscall.EACCES // a mount point below the export: not crossed
	}
	if n := f.cache.get(h.b[:h.n]); n != nil {
		var cst unix.Stat_t
		err := fstat(n.fd, &cst)
		f.cache.release(n)
		if err == nil && cst.Nlink > 0 && cst.Dev == f.rootDev {
			toAttr(&cst, &a)
			return h.id(), a, nil
		}
	}
	if err := f.lookupAt(dn, name, &h, &a); err != nil {
		return nil, vfs.Attr{}, err
	}
	return h.id(), a, nil
}

// lookupAt resolves name in the open directory dn without following
// symbolic links and without crossing mounts, fills h and a, and caches
// the object's descriptor (READDIRPLUS entries use entryAt, which opens nothing).
func (f *FS) lookupAt(dn *node, name string, h *handleID, a *vfs.Attr) error {
	fd, err := openat(dn.fd, name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	mnt, err := nameToHandle(fd, "", unix.AT_EMPTY_PATH, h)
	if err != nil {
		unix.Close(fd)
		return err
	}
	if st.Dev != f.rootDev || mnt != f.mountID {
		unix.Close(fd)
		return syscall.EACCES // a mount point below the export: not crossed
	}
	toAttr(&st, a)
	if n := f.cache.get(h.b[:h.n]); n != nil {
		unix.Close(fd)
		f.cache.release(n)
		return nil
	}
	f.cache.release(f.cache.add(newNode(string(h.b[:h.n]), fd, st.Mode&unix.S_IFMT)))
	return nil
}

// Access implements vfs.FS.
func (f *FS) Access(ctx context.Context, c *vfs.Cred, id vfs.ID, want uint32) (uint32, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return 0, err
	}
	f.cache.release(n)
	var a vfs.Attr
	toAttr(&st, &a)
	return perm.Access(&a, c, want), nil
}

// ReadLink implements vfs.FS.
func (f *FS) ReadLink(ctx context.Context, c *vfs.Cred, id vfs.ID) (string, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return "", err
	}
	defer f.cache.release(n)
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", syscall.EINVAL
	}
	var buf [vfs.MaxPathLen + 1]byte
	k, err := unix.Readlinkat(n.fd, "", buf[:])
	if err != nil {
		return "", err
	}
	if k > vfs.MaxPathLen {
		return "", syscall.ENAMETOOLONG
	}
	return string(buf[:k]), nil
}

// Read implements vfs.FS.
func (f *FS) Read(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64) (int, bool, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return 0, false, err
	}
	defer f.cache.release(n)
	var a vfs.Attr
	toAttr(&st, &a)
	if err := perm.Read(&a, c); err != nil {
		return 0, false, err
	}
	if off >= math.MaxInt64 {
		return 0, true, nil
	}
	if uint64(len(p)) > math.MaxInt64-off {
		// pread fails with EINVAL when offset+count passes the largest
		// file offset; nothing can be there anyway (pynfs RD5a).
		p = p[:math.MaxInt64-off]
	}
	fd, err := f.ioFD(n, false)
	if err != nil {
		return 0, false, err
	}
	k := 0
	for k < len(p) {
		r, err := unix.Pread(fd, p[k:], int64(off)+int64(k))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if k > 0 {
				break
			}
			return 0, false, err
		}
		if r == 0 {
			break
		}
		k += r
	}
	end := off + uint64(k)
	if k == len(p) && end < uint64(st.Size) {
		return k, false, nil
	}
	// Near the end: decide with the size after the read, as nfsd does.
	if err := fstat(n.fd, &st); err != nil {
		return k, false, err
	}
	return k, (len(p) > 0 && k == 0) || end >= uint64(st.Size), nil
}

// Write implements vfs.FS.
func (f *FS) Write(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64, how vfs.Stability) (int, vfs.Stability, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return 0, vfs.Unstable, err
	}
	defer f.cache.release(n)
	var a vfs.Attr
	toAttr(&st, &a)
	if err := perm.Write(&a, c); err != nil {
		return 0, vfs.Unstable, err
	}
	if off > math.MaxInt64 || uint64(len(p)) > math.MaxInt64-off {
		return 0, vfs.Unstable, syscall.EFBIG
	}
	fd, err := f.ioFD(n, true)
	if err != nil {
		return 0, vfs.Unstable, err
	}
	if m, kill := perm.KillPriv(&a, c); kill {
		if err := unix.Fchmod(fd, m); err != nil {
			return 0, vfs.Unstable, err
		}
	}
	k := 0
	for k < len(p) {
		r, err := unix.Pwrite(fd, p[k:], int64(off)+int64(k))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if k > 0 {
				break // a short write; the client sends the rest again
			}
			return 0, vfs.Unstable, err
		}
		if r == 0 {
			break
		}
		k += r
	}
	switch how {
	case vfs.FileSync:
		if err := fsync(fd, false); err != nil {
			return k, vfs.Unstable, err
		}
		return k, vfs.FileSync, nil
	case vfs.DataSync:
		if err := fsync(fd, true); err != nil {
			return k, vfs.Unstable, err
		}
		return k, vfs.DataSync, nil
	}
	return k, vfs.Unstable, nil
}

func fsync(fd int, dataOnly bool) error {
	for {
		var err error
		if dataOnly {
			err = unix.Fdatasync(fd)
		} else {
			err = unix.Fsync(fd)
		}
		if err != unix.EINTR {
			return err
		}
	}
}

// Commit implements vfs.FS. The whole file is synced (the range is a
// lower bound of what must be made durable).
func (f *FS) Commit(ctx context.Context, c *vfs.Cred, id vfs.ID, off uint64, count uint32) error {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return err
	}
	defer f.cache.release(n)
	var a vfs.Attr
	toAttr(&st, &a)
	if err := perm.Write(&a, c); err != nil {
		return err
	}
	fd, err := f.ioFD(n, false)
	if err != nil {
		return err
	}
	return fsync(fd, false)
}

// dirOp gets the directory dir for an operation that creates or removes
// the entry name: the directory's node (with a reference) and attributes.
func (f *FS) dirOp(dir vfs.ID, name string, st *unix.Stat_t, da *vfs.Attr) (*node, error) {
	dn, err := f.get(dir, st)
	if err != nil {
		return nil, err
	}
	toAttr(st, da)
	if da.Type != vfs.TypeDir {
		f.cache.release(dn)
		return nil, syscall.ENOTDIR
	}
	if err := checkName(name); err != nil {
		f.cache.release(dn)
		return nil, err
	}
	return dn, nil
}

// newMode returns the requested mode of a new object or the default.
func newMode(sa *vfs.SetAttr, def uint32) uint32 {
	if sa != nil && sa.Valid&vfs.SetMode != 0 {
		return sa.Mode & 0o7777
	}
	return def
}

// verifierTimes returns the atime and mtime seconds that store an
// exclusive-create verifier (high bits cleared, as nfsd does, so that file
// systems with 32-bit signed times keep them exactly).
func verifierTimes(verf [8]byte) (atime, mtime int64) {
	return int64(binary.BigEndian.Uint32(verf[0:4]) & 0x7fffffff), int64(binary.BigEndian.Uint32(verf[4:8]) & 0x7fffffff)
}

// Create implements vfs.FS.
func (f *FS) Create(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string, mode vfs.CreateMode, sa *vfs.SetAttr, verf [8]byte) (vfs.ID, vfs.Attr, error) {
	if mode > vfs.Exclusive {
		return nil, vfs.Attr{}, syscall.EINVAL
	}
	var st unix.Stat_t
	var da vfs.Attr
	dn, err := f.dirOp(dir, name, &st, &da)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer f.cache.release(dn)
	if err := perm.Lookup(&da, c); err != nil {
		return nil, vfs.Attr{}, err
	}
	if isDot(name) {
		return nil, vfs.Attr{}, syscall.EEXIST
	}
	canCreate := perm.Create(&da, c)
	for range 4 {
		if canCreate == nil {
			fd, err := openat(dn.fd, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW, 0)
			if err == nil {
				return f.finishCreate(dn, &da, name, fd, c, mode, sa, verf)
			}
			if err != unix.EEXIST {
				return nil, vfs.Attr{}, err
			}
			if mode == vfs.Guarded {
				return nil, vfs.Attr{}, syscall.EEXIST
			}
		}
		// The name exists (or we may not create it): look at it.
		var h handleID
		var a vfs.Attr
		err := f.lookupAt(dn, name, &h, &a)
		if err == unix.ENOENT {
			if canCreate != nil {
				return nil, vfs.Attr{}, canCreate
			}
			continue // removed meanwhile: create again
		}
		if err != nil {
			return nil, vfs.Attr{}, err
		}
		if a.Type != vfs.TypeRegular {
			return nil, vfs.Attr{}, syscall.EEXIST
		}
		switch mode {
		case vfs.Guarded:
			return nil, vfs.Attr{}, syscall.EEXIST
		case vfs.Exclusive:
			at, mt := verifierTimes(verf)
			if a.Atime.Sec != at || a.Mtime.Sec != mt || a.Size != 0 {
				return nil, vfs.Attr{}, syscall.EEXIST
			}
			return h.id(), a, nil
		}
		// Unchecked: an existing file is used; only a size is applied.
		id := h.id()
		if sa != nil && sa.Valid&vfs.SetSize != 0 {
			a, err = f.SetAttr(ctx, c, id, &vfs.SetAttr{Valid: vfs.SetSize, Size: sa.Size}, nil)
			if err != nil {
				return nil, vfs.Attr{}, err
			}
		}
		return id, a, nil
	}
	return nil, vfs.Attr{}, syscall.EEXIST
}

// finishCreate gives a file just created (fd open read-write) its owner,
// mode, size and times, and caches it.
func (f *FS) finishCreate(dn *node, da *vfs.Attr, name string, fd int, c *vfs.Cred, mode vfs.CreateMode, sa *vfs.SetAttr, verf [8]byte) (vfs.ID, vfs.Attr, error) {
	var set vfs.SetAttr
	if sa != nil {
		set = *sa
	}
	if mode == vfs.Exclusive {
		at, mt := verifierTimes(verf)
		set.Valid &^= vfs.SetAtimeNow | vfs.SetMtimeNow
		set.Valid |= vfs.SetAtime | vfs.SetMtime
		set.Atime = vfs.Timespec{Sec: at}
		set.Mtime = vfs.Timespec{Sec: mt}
	}
	if set.Valid&vfs.SetSize != 0 && set.Size == 0 {
		set.Valid &^= vfs.SetSize // a new file is empty
	}
	id, a, err := f.setupNew(dn, da, name, fd, c, vfs.TypeRegular, &set, 0o644)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	n := newNode(string(id), fd, unix.S_IFREG)
	n.rfd.Store(int32(fd))
	n.wfd.Store(int32(fd))
	f.cache.release(f.cache.add(n))
	return id, a, nil
}

// setupNew gives a new object (open as fd, named name in dn) its owner,
// mode, size and times and returns its ID and attributes. On failure the
// object is removed again and fd closed.
func (f *FS) setupNew(dn *node, da *vfs.Attr, name string, fd int, c *vfs.Cred, typ vfs.FileType, sa *vfs.SetAttr, defMode uint32) (id vfs.ID, a vfs.Attr, err error) {
	var st unix.Stat_t
	defer func() {
		if err != nil {
			f.undoCreate(dn, name, fd, typ)
			unix.Close(fd)
		}
	}()
	if err = fstat(fd, &st); err != nil {
		return nil, a, err
	}
	if fileType(st.Mode) != typ {
		return nil, a, syscall.EEXIST // replaced behind our back
	}
	uid, gid, m := perm.NewObject(da, c, typ, newMode(sa, defMode))
	if perm.IsRoot(c) && sa.Valid&vfs.SetUID != 0 {
		uid = sa.UID // only root may choose the owner on create (nfsd)
	}
	if perm.IsRoot(c) && sa.Valid&vfs.SetGID != 0 {
		gid = sa.GID
	}
	if err = chownFD(fd, int(uid), int(gid)); err != nil {
		return nil, a, err
	}
	if typ != vfs.TypeSymlink {
		if err = chmodFD(fd, m); err != nil {
			return nil, a, err
		}
	}
	if typ == vfs.TypeRegular && sa.Valid&vfs.SetSize != 0 {
		if sa.Size > math.MaxInt64 {
			return nil, a, syscall.EFBIG
		}
		if err = ftruncate(fd, int64(sa.Size)); err != nil {
			return nil, a, err
		}
	}
	if err = setTimes(fd, sa); err != nil {
		return nil, a, err
	}
	var h handleID
	mnt, err := nameToHandle(fd, "", unix.AT_EMPTY_PATH, &h)
	if err != nil {
		return nil, a, err
	}
	if mnt != f.mountID {
		return nil, a, syscall.EXDEV
	}
	if err = fstat(fd, &st); err != nil {
		return nil, a, err
	}
	toAttr(&st, &a)
	return h.id(), a, nil
}

// undoCreate removes name from dn if it is still the object open as fd.
func (f *FS) undoCreate(dn *node, name string, fd int, typ vfs.FileType) {
	var st, nst unix.Stat_t
	if fstat(fd, &st) != nil || fstatat(dn.fd, name, &nst, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return
	}
	if st.Dev != nst.Dev || st.Ino != nst.Ino {
		return
	}
	flags := 0
	if typ == vfs.TypeDir {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(dn.fd, name, flags); err != nil {
		f.log.Warn("removing a half-created object failed", "path", f.path, "name", name, "err", err)
	}
}

// createAt runs mk to make name in dir and sets the new object up.
func (f *FS) createAt(c *vfs.Cred, dir vfs.ID, name string, typ vfs.FileType, sa *vfs.SetAttr, defMode uint32, check func(da *vfs.Attr) error, mk func(dirfd int) error) (vfs.ID, vfs.Attr, error) {
	var st unix.Stat_t
	var da vfs.Attr
	dn, err := f.dirOp(dir, name, &st, &da)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer f.cache.release(dn)
	if err := check(&da); err != nil {
		return nil, vfs.Attr{}, err
	}
	if isDot(name) {
		return nil, vfs.Attr{}, syscall.EEXIST
	}
	if err := mk(dn.fd); err != nil {
		if err == unix.EEXIST || err == unix.ENOTEMPTY {
			return nil, vfs.Attr{}, syscall.EEXIST
		}
		return nil, vfs.Attr{}, err
	}
	flags := unix.O_PATH | unix.O_NOFOLLOW
	if typ == vfs.TypeDir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := openat(dn.fd, name, flags, 0)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	var set vfs.SetAttr
	if sa != nil {
		set = *sa
	}
	id, a, err := f.setupNew(dn, &da, name, fd, c, typ, &set, defMode)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	f.cache.release(f.cache.add(newNode(string(id), fd, typeBits(typ))))
	return id, a, nil
}

func typeBits(t vfs.FileType) uint32 {
	switch t {
	case vfs.TypeRegular:
		return unix.S_IFREG
	case vfs.TypeDir:
		return unix.S_IFDIR
	case vfs.TypeBlock:
		return unix.S_IFBLK
	case vfs.TypeChar:
		return unix.S_IFCHR
	case vfs.TypeSymlink:
		return unix.S_IFLNK
	case vfs.TypeSocket:
		return unix.S_IFSOCK
	case vfs.TypeFIFO:
		return unix.S_IFIFO
	}
	return 0
}

// Mkdir implements vfs.FS.
func (f *FS) Mkdir(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string, sa *vfs.SetAttr) (vfs.ID, vfs.Attr, error) {
	return f.createAt(c, dir, name, vfs.TypeDir, sa, 0o755,
		func(da *vfs.Attr) error { return perm.Create(da, c) },
		func(dirfd int) error { return unix.Mkdirat(dirfd, name, 0o700) })
}

// Symlink implements vfs.FS.
func (f *FS) Symlink(ctx context.Context, c *vfs.Cred, dir vfs.ID, name, target string, sa *vfs.SetAttr) (vfs.ID, vfs.Attr, error) {
	return f.createAt(c, dir, name, vfs.TypeSymlink, sa, 0o777,
		func(da *vfs.Attr) error {
			if err := perm.Create(da, c); err != nil {
				return err
			}
			switch {
			case target == "":
				return syscall.ENOENT
			case len(target) > vfs.MaxPathLen:
				return syscall.ENAMETOOLONG
			case strings.IndexByte(target, 0) >= 0:
				return syscall.EINVAL
			}
			return nil
		},
		func(dirfd int) error { return unix.Symlinkat(target, dirfd, name) })
}

// Mknod implements vfs.FS.
func (f *FS) Mknod(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string, typ vfs.FileType, major, minor uint32, sa *vfs.SetAttr) (vfs.ID, vfs.Attr, error) {
	var dev uint64
	switch typ {
	case vfs.TypeBlock, vfs.TypeChar:
		dev = unix.Mkdev(major, minor)
	case vfs.TypeSocket, vfs.TypeFIFO:
	default:
		return nil, vfs.Attr{}, syscall.EINVAL
	}
	return f.createAt(c, dir, name, typ, sa, 0o644,
		func(da *vfs.Attr) error { return perm.Mknod(da, c, typ) },
		func(dirfd int) error { return unix.Mknodat(dirfd, name, typeBits(typ), int(dev)) })
}

// removeOp checks and performs the removal of name from dir.
func (f *FS) removeOp(c *vfs.Cred, dir vfs.ID, name string, rmdir bool) error {
	var st unix.Stat_t
	var da vfs.Attr
	dn, err := f.dirOp(dir, name, &st, &da)
	if err != nil {
		return err
	}
	defer f.cache.release(dn)
	if isDot(name) {
		return syscall.EACCES // nfsd_unlink
	}
	if err := perm.Create(&da, c); err != nil {
		return err
	}
	var vst unix.Stat_t
	if err := fstatat(dn.fd, name, &vst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	var va vfs.Attr
	toAttr(&vst, &va)
	if err := perm.Delete(&da, &va, c); err != nil {
		return err
	}
	isDir := va.Type == vfs.TypeDir
	switch {
	case rmdir && !isDir:
		return syscall.ENOTDIR
	case !rmdir && isDir:
		return syscall.EISDIR
	}
	var h handleID
	if _, err := nameToHandle(dn.fd, name, 0, &h); err != nil {
		h.n = 0
	}
	flags := 0
	if rmdir {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(dn.fd, name, flags); err != nil {
		switch err {
		case unix.EEXIST:
			return syscall.ENOTEMPTY
		case unix.EBUSY:
			return syscall.EACCES // a mount point (nfsd_unlink)
		}
		return err
	}
	f.forget(&h)
	return nil
}

// Remove implements vfs.FS.
func (f *FS) Remove(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string) error {
	return f.removeOp(c, dir, name, false)
}

// Rmdir implements vfs.FS.
func (f *FS) Rmdir(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string) error {
	return f.removeOp(c, dir, name, true)
}

// Rename implements vfs.FS.
func (f *FS) Rename(ctx context.Context, c *vfs.Cred, fromDir vfs.ID, fromName string, toDir vfs.ID, toName string) error {
	var fst, tst unix.Stat_t
	fn, err := f.get(fromDir, &fst)
	if err != nil {
		return err
	}
	defer f.cache.release(fn)
	tn, err := f.get(toDir, &tst)
	if err != nil {
		return err
	}
	defer f.cache.release(tn)
	var fa, ta vfs.Attr
	toAttr(&fst, &fa)
	toAttr(&tst, &ta)
	if err := perm.Create(&fa, c); err != nil {
		return err
	}
	if err := perm.Create(&ta, c); err != nil {
		return err
	}
	if err := checkName(fromName); err != nil {
		return err
	}
	if err := checkName(toName); err != nil {
		return err
	}
	if isDot(fromName) || isDot(toName) {
		return syscall.EPERM // nfsd_rename
	}
	var sst unix.Stat_t
	if err := fstatat(fn.fd, fromName, &sst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	var sa, dstA vfs.Attr
	toAttr(&sst, &sa)
	var dst *vfs.Attr
	var h handleID
	var dstSt unix.Stat_t
	switch err := fstatat(tn.fd, toName, &dstSt, unix.AT_SYMLINK_NOFOLLOW); err {
	case nil:
		toAttr(&dstSt, &dstA)
		dst = &dstA
		if _, err := nameToHandle(tn.fd, toName, 0, &h); err != nil {
			h.n = 0
		}
	case unix.ENOENT:
	default:
		return err
	}
	if err := perm.Rename(&fa, &sa, &ta, dst, c); err != nil {
		return err
	}
	if err := unix.Renameat2(fn.fd, fromName, tn.fd, toName, 0); err != nil {
		switch err {
		case unix.EEXIST:
			return syscall.ENOTEMPTY
		case unix.EBUSY:
			return syscall.EACCES
		}
		return err
	}
	if dst != nil && (dstSt.Ino != sst.Ino || dstSt.Dev != sst.Dev) {
		f.forget(&h)
	}
	return nil
}

// Link implements vfs.FS.
func (f *FS) Link(ctx context.Context, c *vfs.Cred, id vfs.ID, dir vfs.ID, name string) error {
	var st unix.Stat_t
	var da vfs.Attr
	dn, err := f.dirOp(dir, name, &st, &da)
	if err != nil {
		return err
	}
	defer f.cache.release(dn)
	if err := perm.Create(&da, c); err != nil {
		return err
	}
	var tst unix.Stat_t
	tn, err := f.get(id, &tst)
	if err != nil {
		return err
	}
	defer f.cache.release(tn)
	var ta vfs.Attr
	toAttr(&tst, &ta)
	if ta.Type == vfs.TypeDir {
		return syscall.EISDIR
	}
	if isDot(name) {
		return syscall.EEXIST
	}
	if err := perm.Link(&da, &ta, c, f.protectedHardlinks); err != nil {
		return err
	}
	return unix.Linkat(tn.fd, "", dn.fd, name, unix.AT_EMPTY_PATH)
}

// StatFS implements vfs.FS.
func (f *FS) StatFS(ctx context.Context, c *vfs.Cred, id vfs.ID) (vfs.FSStat, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return vfs.FSStat{}, err
	}
	defer f.cache.release(n)
	var s unix.Statfs_t
	if err := unix.Fstatfs(n.fd, &s); err != nil {
		return vfs.FSStat{}, err
	}
	bs := uint64(s.Bsize)
	return vfs.FSStat{
		TotalBytes: s.Blocks * bs,
		FreeBytes:  s.Bfree * bs,
		AvailBytes: s.Bavail * bs,
		TotalFiles: s.Files,
		FreeFiles:  s.Ffree,
		AvailFiles: s.Ffree,
	}, nil
}
