package local

import (
	"context"
	"math"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/perm"
)

var _ vfs.Space = (*FS)(nil)

// maxCopyChunk bounds one copy_file_range call, so that a large COPY is
// done in steps (the kernel caps a call near 2 GiB anyway).
const maxCopyChunk = 1 << 30

// ioNode opens id for I/O after checking the caller's permission to read
// (write false) or write it. The caller releases n.
func (f *FS) ioNode(c *vfs.Cred, id vfs.ID, write bool) (*node, int, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return nil, -1, err
	}
	var a vfs.Attr
	toAttr(&st, &a)
	if write {
		err = perm.Write(&a, c)
	} else {
		err = perm.Read(&a, c)
	}
	if err == nil && a.Type != vfs.TypeRegular {
		err = syscall.EINVAL
		if a.Type == vfs.TypeDir {
			err = syscall.EISDIR
		}
	}
	if err != nil {
		f.cache.release(n)
		return nil, -1, err
	}
	fd, err := f.ioFD(n, write)
	if err != nil {
		f.cache.release(n)
		return nil, -1, err
	}
	return n, fd, nil
}

// Seek implements vfs.Space with lseek(2) SEEK_DATA and SEEK_HOLE. The
// descriptor's file offset is not used by any other operation (they use
// pread and pwrite), so sharing the descriptor is safe.
func (f *FS) Seek(ctx context.Context, c *vfs.Cred, id vfs.ID, off uint64, data bool) (uint64, bool, error) {
	n, fd, err := f.ioNode(c, id, false)
	if err != nil {
		return 0, false, err
	}
	defer f.cache.release(n)
	if off > math.MaxInt64 {
		return 0, false, syscall.ENXIO
	}
	whence := unix.SEEK_HOLE
	if data {
		whence = unix.SEEK_DATA
	}
	r, err := unix.Seek(fd, int64(off), whence)
	if err != nil {
		return 0, false, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, false, err
	}
	return uint64(r), r >= st.Size, nil
}

// Allocate implements vfs.Space with fallocate(2) mode 0.
func (f *FS) Allocate(ctx context.Context, c *vfs.Cred, id vfs.ID, off, length uint64) error {
	return f.fallocate(c, id, 0, off, length)
}

// Deallocate implements vfs.Space with fallocate(2) FALLOC_FL_PUNCH_HOLE.
func (f *FS) Deallocate(ctx context.Context, c *vfs.Cred, id vfs.ID, off, length uint64) error {
	return f.fallocate(c, id, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length)
}

func (f *FS) fallocate(c *vfs.Cred, id vfs.ID, mode uint32, off, length uint64) error {
	if length == 0 || off > math.MaxInt64 || length > math.MaxInt64-off {
		return syscall.EINVAL
	}
	n, fd, err := f.ioNode(c, id, true)
	if err != nil {
		return err
	}
	defer f.cache.release(n)
	for {
		err = unix.Fallocate(fd, mode, int64(off), int64(length))
		if err != unix.EINTR {
			return err
		}
	}
}

// Copy implements vfs.Space with copy_file_range(2), which lets the file
// system share or copy blocks without passing the data through vnfsd.
func (f *FS) Copy(ctx context.Context, c *vfs.Cred, src vfs.ID, srcOff uint64, dst vfs.ID, dstOff, count uint64) (uint64, error) {
	if srcOff > math.MaxInt64 || dstOff > math.MaxInt64 {
		return 0, syscall.EINVAL
	}
	sn, sfd, err := f.ioNode(c, src, false)
	if err != nil {
		return 0, err
	}
	defer f.cache.release(sn)
	dn, dfd, err := f.ioNode(c, dst, true)
	if err != nil {
		return 0, err
	}
	defer f.cache.release(dn)
	if count == 0 {
		var st unix.Stat_t
		if err := unix.Fstat(sfd, &st); err != nil {
			return 0, err
		}
		if uint64(st.Size) <= srcOff {
			return 0, nil
		}
		count = uint64(st.Size) - srcOff
	}
	if count > math.MaxInt64-dstOff {
		return 0, syscall.EFBIG
	}
	so, do := int64(srcOff), int64(dstOff)
	var done uint64
	for done < count {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		k, err := unix.CopyFileRange(sfd, &so, dfd, &do, int(min(count-done, maxCopyChunk)), 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if k == 0 {
			break // the end of the source
		}
		done += uint64(k)
	}
	return done, nil
}
