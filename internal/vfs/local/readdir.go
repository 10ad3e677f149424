package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/perm"
)

// direntBufSize is the getdents64 buffer of one ReadDir call.
const direntBufSize = 32 << 10

var direntPool = sync.Pool{New: func() any { b := make([]byte, direntBufSize); return &b }}

// Offsets in struct linux_dirent64.
const (
	direntIno    = 0
	direntOff    = 8
	direntReclen = 16
	direntName   = 19
)

// Cookies of the entries "." and "..", which ReadDir lists first whatever
// the file system's order (ext4 returns them in hash order).
const (
	cookieDot    = 1
	cookieDotDot = 2
)

// ReadDir implements vfs.FS.
//
// The listing starts with "." (cookie 1) and ".." (cookie 2); the other
// entries follow in the file system's order with its own directory offsets
// (d_off of getdents64) as cookies: on ext4 the hash of the next name,
// which stays valid while other entries are added and removed and across
// restarts; on tmpfs, btrfs and XFS offsets 1 and 2 mean "after ." and
// "after .." too. (On ext4 a real offset of 1 or 2 would need a hash of
// 0, probability 2^-62, and would only make that resumption restart the
// listing.) Each call reads a descriptor of its own, positioned with lseek
// to the cookie; an offset the file system rejects gives EINVAL.
func (f *FS) ReadDir(ctx context.Context, c *vfs.Cred, dir vfs.ID, cookie uint64, plus bool, fn func(e *vfs.DirEntry) bool) (bool, error) {
	var st unix.Stat_t
	dn, err := f.get(dir, &st)
	if err != nil {
		return false, err
	}
	defer f.cache.release(dn)
	var da vfs.Attr
	toAttr(&st, &da)
	if err := perm.ReadDir(&da, c); err != nil {
		return false, err
	}
	if cookie > math.MaxInt64 {
		return false, syscall.EINVAL
	}
	fd, err := openat(dn.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	if cookie > cookieDotDot {
		if _, err := unix.Seek(fd, int64(cookie), 0); err != nil {
			return false, err
		}
	}
	// READDIRPLUS looks entries up, which needs search permission; without
	// it the entries come without handle and attributes (as from nfsd).
	lookups := plus && perm.Lookup(&da, c) == nil
	atRoot := f.isRoot(&st)
	var e vfs.DirEntry
	if cookie < cookieDot {
		e = vfs.DirEntry{Name: ".", Fileid: da.Fileid, Cookie: cookieDot}
		if lookups {
			f.plusEntry(dn, &da, atRoot, &e)
		}
		if !fn(&e) {
			return false, nil
		}
	}
	if cookie < cookieDotDot {
		e = vfs.DirEntry{Name: "..", Fileid: f.rootIno, Cookie: cookieDotDot}
		if !atRoot {
			var pst unix.Stat_t
			if err := fstatat(dn.fd, "..", &pst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return false, err
			}
			e.Fileid = pst.Ino
		}
		if lookups {
			f.plusEntry(dn, &da, atRoot, &e)
		}
		if !fn(&e) {
			return false, nil
		}
	}
	bp := direntPool.Get().(*[]byte)
	defer direntPool.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		nb, err := getdents(fd, buf)
		if err != nil {
			return false, err
		}
		if nb == 0 {
			return true, nil
		}
		for pos := 0; pos < nb; {
			rec := buf[pos:nb]
			if len(rec) < direntName {
				return false, syscall.EIO
			}
			reclen := int(binary.NativeEndian.Uint16(rec[direntReclen:]))
			if reclen < direntName || reclen > len(rec) {
				return false, syscall.EIO
			}
			name := rec[direntName:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			pos += reclen
			if len(name) <= 2 && (string(name) == "." || string(name) == "..") {
				continue
			}
			e = vfs.DirEntry{
				Name:   string(name),
				Fileid: binary.NativeEndian.Uint64(rec[direntIno:]),
				Cookie: binary.NativeEndian.Uint64(rec[direntOff:]),
			}
			if lookups {
				f.plusEntry(dn, &da, atRoot, &e)
			}
			if !fn(&e) {
				return false, nil
			}
		}
	}
}

// plusEntry fills the ID and attributes of e, an entry of directory dn.
// They stay empty for an entry that vanished or is a mount point.
func (f *FS) plusEntry(dn *node, da *vfs.Attr, atRoot bool, e *vfs.DirEntry) {
	switch {
	case e.Name == "." || (e.Name == ".." && atRoot):
		e.ID = append(vfs.ID(nil), dn.key...)
		if e.Name == ".." {
			e.ID = append(e.ID[:0], f.rootID...)
		}
		e.Attr, e.HaveAttr = *da, true
		e.Fileid = da.Fileid
		return
	}
	var h handleID
	if err := f.entryAt(dn, e.Name, &h, &e.Attr); err != nil {
		e.Attr = vfs.Attr{}
		return
	}
	e.ID = h.id()
	e.HaveAttr = true
	e.Fileid = e.Attr.Fileid
}

// entryAt returns the handle and attributes of the entry name of a
// listing of dn with two syscalls relative to the directory descriptor
// (fstatat and name_to_handle_at, neither following a final symlink)
// instead of lookupAt's open, fstat, name_to_handle_at and close: it is
// called once per entry of READDIRPLUS, and the name comes from
// getdents, so it is a single component. If the entry is replaced
// between the two calls the attributes may belong to the old object and
// the handle to the new one; the client's next GETATTR of the handle sees
// the truth (nfsd has the same window between its lookups).
func (f *FS) entryAt(dn *node, name string, h *handleID, a *vfs.Attr) error {
	var st unix.Stat_t
	if err := fstatat(dn.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	mnt, err := nameToHandle(dn.fd, name, 0, h)
	if err != nil {
		return err
	}
	if st.Dev != f.rootDev || mnt != f.mountID {
		return syscall.EACCES // a mount point below the export: not crossed
	}
	toAttr(&st, a)
	return nil
}

func getdents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}
