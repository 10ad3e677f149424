// Package perm decides, in user space, what a client identity may do to a
// file, for backends whose server process runs as root (vfs/local).
//
// The rules are those of the Linux kernel's generic_permission plus the
// additions and exceptions of the Linux NFS server (fs/nfsd/vfs.c,
// nfsd_permission, nfsd_setattr and friends), so that a client sees the
// same behaviour as against knfsd:
//
//   - Classes: the owner class if the caller's uid owns the object, else the
//     group class if the object's gid is the caller's gid or one of its
//     supplementary groups, else the other class. Only the bits of that one
//     class count (an owner with mode 0077 is refused).
//   - uid 0 bypasses read and write checks (CAP_DAC_OVERRIDE); it may
//     search any directory, and execute a non-directory only if at least
//     one execute bit is set.
//   - nfsd's owner override: for READ, WRITE, COMMIT and SETATTR of the
//     size or of the times to "now", the owner is granted access whatever
//     the mode bits (clients create a file 0444 and then write to it).
//     Directories get no owner override (nfsd_open gives none either).
//   - nfsd's "read access to binaries": a READ of a regular file is also
//     granted when execute permission is.
//   - Lookup needs search (x) permission on the directory; creating,
//     removing, renaming and linking need write and search permission on
//     the directory. In a sticky directory (S_ISVTX), only the owner of
//     the entry, the owner of the directory or root may remove or replace
//     it (EPERM). Moving a directory to another parent also needs write
//     permission on the moved directory (for its ".." entry).
//   - SETATTR: changing the mode needs ownership or root (EPERM); a
//     non-root caller who is not in the file's (new) group loses S_ISGID.
//     Changing the owner needs root, except "changing" it to the current
//     owner by that owner; changing the group needs ownership and
//     membership of the new group, or root (EPERM). A change of owner or
//     group of a non-directory clears S_ISUID, and S_ISGID when group
//     execute is set. Changing the size needs write permission (owner
//     override applies, EACCES); times set to "now" need ownership or write
//     permission (EACCES); explicit times need ownership or root (EPERM).
//     Mode changes on symbolic links are ignored.
//   - A write or truncation by a non-root caller clears S_ISUID, and
//     S_ISGID when group execute is set (the kernel's file_remove_privs;
//     the backend does it explicitly because it writes as root).
//   - New objects belong to the caller's uid and gid, or to the directory's
//     gid when the directory has S_ISGID (and new subdirectories then
//     inherit S_ISGID). A non-root caller outside that group loses S_ISGID
//     on a new group-executable non-directory (mode_strip_sgid). Only root
//     may create block and character devices.
//   - Hard links, as with fs.protected_hardlinks=1: a caller who neither
//     owns the file nor is root may link only to a regular file that is
//     not setuid, not setgid-and-group-executable, and that it may both
//     read and write (EPERM).
//   - ACCESS reports what the mode bits grant, as nfsd_access does (the
//     owner override is not reported), for READ, LOOKUP (directories),
//     EXECUTE (non-directories), MODIFY, EXTEND and DELETE (directories:
//     write and search on the directory itself).
//
// POSIX ACLs, file capabilities, immutable/append-only flags and LSMs are
// not evaluated here. The backend operates as root, so for the flags the
// kernel itself still refuses the operation (EPERM); ACLs are ignored.
//
// Everything here is a pure function of vfs.Attr and vfs.Cred.
package perm

import (
	"syscall"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// Permission bits asked for, as the kernel's MAY_EXEC, MAY_WRITE, MAY_READ.
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// Mode bits.
const (
	ModeSetuid = 0o4000
	ModeSetgid = 0o2000
	ModeSticky = 0o1000
	modeXGrp   = 0o010
	modeXAny   = 0o111
	modePerm   = 0o7777
)

// Nobody is the identity used for a nil Cred.
var Nobody = vfs.Cred{UID: 65534, GID: 65534}

func cred(c *vfs.Cred) *vfs.Cred {
	if c == nil {
		return &Nobody
	}
	return c
}

// IsRoot reports whether c is uid 0.
func IsRoot(c *vfs.Cred) bool { return cred(c).UID == 0 }

// InGroup reports whether gid is c's primary or a supplementary group.
func InGroup(c *vfs.Cred, gid uint32) bool {
	c = cred(c)
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// Generic reports whether c holds all of mask (MayRead|MayWrite|MayExec)
// on an object with attributes a, as the kernel's generic_permission.
func Generic(a *vfs.Attr, c *vfs.Cred, mask uint32) bool {
	c = cred(c)
	var bits uint32
	switch {
	case c.UID == a.UID:
		bits = a.Mode >> 6
	case InGroup(c, a.GID):
		bits = a.Mode >> 3
	default:
		bits = a.Mode
	}
	if mask&^(bits&7) == 0 {
		return true
	}
	if c.UID != 0 {
		return false
	}
	// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
	if a.Type == vfs.TypeDir {
		return true
	}
	return mask&MayExec == 0 || a.Mode&modeXAny != 0
}

// typeError is the error nfsd gives when an operation that needs a regular
// file is applied to something else.
func typeError(a *vfs.Attr) error {
	if a.Type == vfs.TypeDir {
		return syscall.EISDIR
	}
	return syscall.EINVAL
}

// Read checks a READ of file data: regular files only; owner override;
// read permission, or execute permission ("read access to binaries").
func Read(a *vfs.Attr, c *vfs.Cred) error {
	if a.Type != vfs.TypeRegular {
		return typeError(a)
	}
	c = cred(c)
	if c.UID == a.UID || Generic(a, c, MayRead) || Generic(a, c, MayExec) {
		return nil
	}
	return syscall.EACCES
}

// Write checks a WRITE or COMMIT of file data: regular files only; owner
// override; write permission.
func Write(a *vfs.Attr, c *vfs.Cred) error {
	if a.Type != vfs.TypeRegular {
		return typeError(a)
	}
	c = cred(c)
	if c.UID == a.UID || Generic(a, c, MayWrite) {
		return nil
	}
	return syscall.EACCES
}

// Lookup checks a lookup in directory dir: search permission.
func Lookup(dir *vfs.Attr, c *vfs.Cred) error {
	if dir.Type != vfs.TypeDir {
		return syscall.ENOTDIR
	}
	if !Generic(dir, c, MayExec) {
		return syscall.EACCES
	}
	return nil
}

// ReadDir checks the listing of directory dir: read permission (no owner
// override for directories, as in nfsd).
func ReadDir(dir *vfs.Attr, c *vfs.Cred) error {
	if dir.Type != vfs.TypeDir {
		return syscall.ENOTDIR
	}
	if !Generic(dir, c, MayRead) {
		return syscall.EACCES
	}
	return nil
}

// Create checks the creation of an entry in dir: write and search
// permission on the directory.
func Create(dir *vfs.Attr, c *vfs.Cred) error {
	if dir.Type != vfs.TypeDir {
		return syscall.ENOTDIR
	}
	if !Generic(dir, c, MayWrite|MayExec) {
		return syscall.EACCES
	}
	return nil
}

// Mknod checks the creation of a special file of type typ in dir.
func Mknod(dir *vfs.Attr, c *vfs.Cred, typ vfs.FileType) error {
	if err := Create(dir, c); err != nil {
		return err
	}
	if (typ == vfs.TypeBlock || typ == vfs.TypeChar) && !IsRoot(c) {
		return syscall.EPERM // CAP_MKNOD
	}
	return nil
}

// sticky is the kernel's check_sticky: true if c may not remove victim
// from dir because of the sticky bit.
func sticky(dir, victim *vfs.Attr, c *vfs.Cred) bool {
	c = cred(c)
	if dir.Mode&ModeSticky == 0 {
		return false
	}
	return c.UID != victim.UID && c.UID != dir.UID && c.UID != 0
}

// Delete checks the removal of victim from dir (may_delete): write and
// search permission on dir (EACCES), and the sticky rule (EPERM).
func Delete(dir, victim *vfs.Attr, c *vfs.Cred) error {
	if err := Create(dir, c); err != nil {
		return err
	}
	if sticky(dir, victim, c) {
		return syscall.EPERM
	}
	return nil
}

// Rename checks moving src from fromDir to toDir, replacing dst (nil if
// the target name does not exist).
func Rename(fromDir, src, toDir, dst *vfs.Attr, c *vfs.Cred) error {
	if err := Delete(fromDir, src, c); err != nil {
		return err
	}
	if dst != nil {
		if err := Delete(toDir, dst, c); err != nil {
			return err
		}
	} else if err := Create(toDir, c); err != nil {
		return err
	}
	// A directory moved to another parent gets a new "..": write
	// permission on it is needed (vfs_rename).
	if src.Type == vfs.TypeDir && (fromDir.Fsid != toDir.Fsid || fromDir.Fileid != toDir.Fileid) {
		if !Generic(src, c, MayWrite) {
			return syscall.EACCES
		}
	}
	return nil
}

// Link checks making a hard link to target in dir, with the rules of
// fs.protected_hardlinks=1 when protected is set.
func Link(dir, target *vfs.Attr, c *vfs.Cred, protected bool) error {
	if err := Create(dir, c); err != nil {
		return err
	}
	if target.Type == vfs.TypeDir {
		return syscall.EISDIR // nfsd_link
	}
	c = cred(c)
	if !protected || c.UID == 0 || c.UID == target.UID {
		return nil
	}
	// safe_hardlink_source
	if target.Type != vfs.TypeRegular ||
		target.Mode&ModeSetuid != 0 ||
		target.Mode&(ModeSetgid|modeXGrp) == ModeSetgid|modeXGrp ||
		!Generic(target, c, MayRead|MayWrite) {
		return syscall.EPERM
	}
	return nil
}

// Access returns the subset of want (vfs.Access* bits) that c holds on an
// object with attributes a, as nfsd_access computes it.
func Access(a *vfs.Attr, c *vfs.Cred, want uint32) uint32 {
	var got uint32
	grant := func(bit, mask uint32) {
		if want&bit != 0 && Generic(a, c, mask) {
			got |= bit
		}
	}
	grant(vfs.AccessRead, MayRead)
	if a.Type == vfs.TypeDir {
		grant(vfs.AccessLookup, MayExec)
		grant(vfs.AccessModify, MayExec|MayWrite)
		grant(vfs.AccessExtend, MayExec|MayWrite)
		grant(vfs.AccessDelete, MayExec|MayWrite)
	} else {
		grant(vfs.AccessExecute, MayExec)
		grant(vfs.AccessModify, MayWrite)
		grant(vfs.AccessExtend, MayWrite)
	}
	return got
}

// SetAttr checks the change sa of an object with attributes a by c and
// returns the change to apply: mode bits sanitized (setgid dropped for a
// non-member, set-id bits dropped on a change of owner), mode changes of
// symbolic links dropped. The returned Valid may be 0 (nothing to do).
func SetAttr(a *vfs.Attr, c *vfs.Cred, sa *vfs.SetAttr) (vfs.SetAttr, error) {
	c = cred(c)
	out := *sa
	root := c.UID == 0
	owner := c.UID == a.UID
	if a.Type == vfs.TypeSymlink {
		out.Valid &^= vfs.SetMode
	}
	if out.Valid&vfs.SetSize != 0 {
		if a.Type != vfs.TypeRegular {
			return out, typeError(a)
		}
		if err := Write(a, c); err != nil {
			return out, err
		}
	}
	if out.Valid&vfs.SetUID != 0 && !root && !(owner && out.UID == a.UID) {
		return out, syscall.EPERM
	}
	if out.Valid&vfs.SetGID != 0 && !root && !(owner && (out.GID == a.GID || InGroup(c, out.GID))) {
		return out, syscall.EPERM
	}
	if out.Valid&vfs.SetMode != 0 {
		if !root && !owner {
			return out, syscall.EPERM
		}
		out.Mode &= modePerm
		gid := a.GID
		if out.Valid&vfs.SetGID != 0 {
			gid = out.GID
		}
		if !root && !InGroup(c, gid) {
			out.Mode &^= ModeSetgid
		}
		if a.Type != vfs.TypeDir && out.Valid&(vfs.SetUID|vfs.SetGID) != 0 {
			out.Mode &^= ModeSetuid
			if out.Mode&modeXGrp != 0 {
				out.Mode &^= ModeSetgid
			}
		}
	}
	const explicit = vfs.SetAtime | vfs.SetMtime
	const now = vfs.SetAtimeNow | vfs.SetMtimeNow
	switch {
	case out.Valid&explicit != 0:
		if !root && !owner {
			return out, syscall.EPERM
		}
	case out.Valid&now != 0:
		if !root && !owner && !Generic(a, c, MayWrite) {
			return out, syscall.EACCES
		}
	}
	return out, nil
}

// KillPriv returns the mode a regular file gets when c writes to it or
// truncates it, and whether it differs from a.Mode: a non-root writer
// clears S_ISUID, and S_ISGID if group execute is set.
func KillPriv(a *vfs.Attr, c *vfs.Cred) (uint32, bool) {
	if a.Type != vfs.TypeRegular || IsRoot(c) {
		return a.Mode, false
	}
	m := a.Mode &^ ModeSetuid
	if m&modeXGrp != 0 {
		m &^= ModeSetgid
	}
	return m, m != a.Mode
}

// NewObject returns the owner, group and mode of an object of type typ
// that c creates in dir with the requested mode.
func NewObject(dir *vfs.Attr, c *vfs.Cred, typ vfs.FileType, mode uint32) (uid, gid, outMode uint32) {
	c = cred(c)
	uid, gid, outMode = c.UID, c.GID, mode&modePerm
	if dir.Mode&ModeSetgid == 0 {
		return uid, gid, outMode
	}
	gid = dir.GID
	if typ == vfs.TypeDir {
		outMode |= ModeSetgid
	} else if outMode&(ModeSetgid|modeXGrp) == ModeSetgid|modeXGrp && c.UID != 0 && !InGroup(c, gid) {
		outMode &^= ModeSetgid
	}
	return uid, gid, outMode
}
