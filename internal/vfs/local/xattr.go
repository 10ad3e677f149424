package local

import (
	"context"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/perm"
)

var _ vfs.Xattrs = (*FS)(nil)

// xattrPrefix is the namespace NFS extended attributes live in.
const xattrPrefix = "user."

// xattrNode resolves id for an extended attribute operation after the
// permission check, returning the /proc path through which the object's
// O_PATH descriptor reaches the xattr syscalls (which do not take O_PATH
// descriptors). Symbolic links have no user attributes (EPERM, as
// Linux).
func (f *FS) xattrNode(c *vfs.Cred, id vfs.ID, write bool) (*node, string, error) {
	var st unix.Stat_t
	n, err := f.get(id, &st)
	if err != nil {
		return nil, "", err
	}
	var a vfs.Attr
	toAttr(&st, &a)
	switch {
	case a.Type != vfs.TypeRegular && a.Type != vfs.TypeDir:
		err = syscall.EPERM
	case write:
		err = perm.Write(&a, c)
	default:
		err = perm.Read(&a, c)
	}
	if err != nil {
		f.cache.release(n)
		return nil, "", err
	}
	return n, "/proc/self/fd/" + strconv.Itoa(n.fd), nil
}

func xattrName(name string) (string, error) {
	if name == "" || len(name) > vfs.MaxXattrName-len(xattrPrefix) || strings.IndexByte(name, 0) >= 0 {
		return "", syscall.EINVAL
	}
	return xattrPrefix + name, nil
}

// GetXattr implements vfs.Xattrs.
func (f *FS) GetXattr(ctx context.Context, c *vfs.Cred, id vfs.ID, name string) ([]byte, error) {
	key, err := xattrName(name)
	if err != nil {
		return nil, err
	}
	n, p, err := f.xattrNode(c, id, false)
	if err != nil {
		return nil, err
	}
	defer f.cache.release(n)
	buf := make([]byte, vfs.MaxXattrValue)
	k, err := unix.Getxattr(p, key, buf)
	if err != nil {
		return nil, err
	}
	return buf[:k], nil
}

// SetXattr implements vfs.Xattrs.
func (f *FS) SetXattr(ctx context.Context, c *vfs.Cred, id vfs.ID, name string, value []byte, how int) error {
	key, err := xattrName(name)
	if err != nil {
		return err
	}
	if len(value) > vfs.MaxXattrValue {
		return syscall.E2BIG
	}
	flags := 0
	switch how {
	case vfs.XattrCreate:
		flags = unix.XATTR_CREATE
	case vfs.XattrReplace:
		flags = unix.XATTR_REPLACE
	case vfs.XattrEither:
	default:
		return syscall.EINVAL
	}
	n, p, err := f.xattrNode(c, id, true)
	if err != nil {
		return err
	}
	defer f.cache.release(n)
	return unix.Setxattr(p, key, value, flags)
}

// ListXattrs implements vfs.Xattrs: the names of the user namespace,
// without their prefix.
func (f *FS) ListXattrs(ctx context.Context, c *vfs.Cred, id vfs.ID) ([]string, error) {
	n, p, err := f.xattrNode(c, id, false)
	if err != nil {
		return nil, err
	}
	defer f.cache.release(n)
	buf := make([]byte, vfs.MaxXattrValue)
	k, err := unix.Listxattr(p, buf)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range strings.Split(string(buf[:k]), "\x00") {
		if name, ok := strings.CutPrefix(s, xattrPrefix); ok && name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// RemoveXattr implements vfs.Xattrs.
func (f *FS) RemoveXattr(ctx context.Context, c *vfs.Cred, id vfs.ID, name string) error {
	key, err := xattrName(name)
	if err != nil {
		return err
	}
	n, p, err := f.xattrNode(c, id, true)
	if err != nil {
		return err
	}
	defer f.cache.release(n)
	return unix.Removexattr(p, key)
}
