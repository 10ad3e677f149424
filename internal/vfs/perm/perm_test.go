package perm

import (
	"errors"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

var (
	root  = &vfs.Cred{UID: 0, GID: 0}
	alice = &vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{1000, 50}}
	bob   = &vfs.Cred{UID: 1001, GID: 1001}
	carol = &vfs.Cred{UID: 1002, GID: 2000, Groups: []uint32{1000}} // in alice's group via supplementary groups
)

func file(mode, uid, gid uint32) *vfs.Attr {
	return &vfs.Attr{Type: vfs.TypeRegular, Mode: mode, UID: uid, GID: gid, Fileid: 10}
}

func dir(mode, uid, gid uint32) *vfs.Attr {
	return &vfs.Attr{Type: vfs.TypeDir, Mode: mode, UID: uid, GID: gid, Fileid: 20}
}

func errIs(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func TestInGroup(t *testing.T) {
	tests := []struct {
		c    *vfs.Cred
		gid  uint32
		want bool
	}{
		{alice, 1000, true},
		{alice, 50, true},
		{alice, 51, false},
		{carol, 2000, true},
		{carol, 1000, true},
		{nil, 65534, true},
		{nil, 0, false},
	}
	for _, tt := range tests {
		if got := InGroup(tt.c, tt.gid); got != tt.want {
			t.Errorf("InGroup(%+v, %d) = %v, want %v", tt.c, tt.gid, got, tt.want)
		}
	}
}

func TestGeneric(t *testing.T) {
	tests := []struct {
		name string
		a    *vfs.Attr
		c    *vfs.Cred
		mask uint32
		want bool
	}{
		{"owner read 0644", file(0o644, 1000, 1000), alice, MayRead, true},
		{"owner write 0644", file(0o644, 1000, 1000), alice, MayWrite, true},
		{"owner exec 0644", file(0o644, 1000, 1000), alice, MayExec, false},
		{"owner class is exclusive", file(0o077, 1000, 1000), alice, MayRead, false},
		{"group read 0640", file(0o640, 1000, 1000), carol, MayRead, true},
		{"group write 0640", file(0o640, 1000, 1000), carol, MayWrite, false},
		{"group via primary gid", file(0o060, 1, 2000), carol, MayRead | MayWrite, true},
		{"group class is exclusive", file(0o604, 1, 1000), carol, MayRead, false},
		{"other read 0644", file(0o644, 1000, 1000), bob, MayRead, true},
		{"other write 0644", file(0o644, 1000, 1000), bob, MayWrite, false},
		{"other rw 0606", file(0o606, 1000, 1000), bob, MayRead | MayWrite, true},
		{"root read 0000", file(0, 1000, 1000), root, MayRead, true},
		{"root write 0000", file(0, 1000, 1000), root, MayWrite, true},
		{"root exec 0000", file(0, 1000, 1000), root, MayExec, false},
		{"root exec 0001", file(0o001, 1000, 1000), root, MayExec, true},
		{"root exec 0100", file(0o100, 1000, 1000), root, MayExec, true},
		{"root search dir 0000", dir(0, 1000, 1000), root, MayExec | MayWrite | MayRead, true},
		{"nil cred is nobody", file(0o604, 1000, 1000), nil, MayRead, true},
		{"nil cred no write", file(0o604, 1000, 1000), nil, MayWrite, false},
		{"empty mask", file(0, 1000, 1000), bob, 0, true},
	}
	for _, tt := range tests {
		if got := Generic(tt.a, tt.c, tt.mask); got != tt.want {
			t.Errorf("%s: Generic = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReadWrite(t *testing.T) {
	tests := []struct {
		name      string
		a         *vfs.Attr
		c         *vfs.Cred
		read, wrt error
	}{
		{"owner 0444 (owner override)", file(0o444, 1000, 1000), alice, nil, nil},
		{"owner 0000 (owner override)", file(0, 1000, 1000), alice, nil, nil},
		{"other 0644", file(0o644, 1000, 1000), bob, nil, syscall.EACCES},
		{"other 0600", file(0o600, 1000, 1000), bob, syscall.EACCES, syscall.EACCES},
		{"other 0711 read binary", file(0o711, 1000, 1000), bob, nil, syscall.EACCES},
		{"other 0602", file(0o602, 1000, 1000), bob, syscall.EACCES, nil},
		{"group 0660", file(0o660, 1000, 1000), carol, nil, nil},
		{"root 0000", file(0, 1000, 1000), root, nil, nil},
		{"directory", dir(0o777, 1000, 1000), alice, syscall.EISDIR, syscall.EISDIR},
		{"symlink", &vfs.Attr{Type: vfs.TypeSymlink, Mode: 0o777}, alice, syscall.EINVAL, syscall.EINVAL},
		{"fifo", &vfs.Attr{Type: vfs.TypeFIFO, Mode: 0o666}, alice, syscall.EINVAL, syscall.EINVAL},
	}
	for _, tt := range tests {
		if err := Read(tt.a, tt.c); !errIs(err, tt.read) {
			t.Errorf("%s: Read = %v, want %v", tt.name, err, tt.read)
		}
		if err := Write(tt.a, tt.c); !errIs(err, tt.wrt) {
			t.Errorf("%s: Write = %v, want %v", tt.name, err, tt.wrt)
		}
	}
}

func TestDirOps(t *testing.T) {
	tests := []struct {
		name                    string
		d                       *vfs.Attr
		c                       *vfs.Cred
		lookup, readdir, create error
	}{
		{"owner 0755", dir(0o755, 1000, 1000), alice, nil, nil, nil},
		{"other 0755", dir(0o755, 1000, 1000), bob, nil, nil, syscall.EACCES},
		{"other 0711", dir(0o711, 1000, 1000), bob, nil, syscall.EACCES, syscall.EACCES},
		{"other 0744", dir(0o744, 1000, 1000), bob, syscall.EACCES, nil, syscall.EACCES},
		{"other 0703 (wx)", dir(0o703, 1000, 1000), bob, nil, syscall.EACCES, nil},
		{"other 0702 (w only)", dir(0o702, 1000, 1000), bob, syscall.EACCES, syscall.EACCES, syscall.EACCES},
		{"owner 0000: no override on dirs", dir(0, 1000, 1000), alice, syscall.EACCES, syscall.EACCES, syscall.EACCES},
		{"group 0770", dir(0o770, 1, 1000), carol, nil, nil, nil},
		{"root 0000", dir(0, 1000, 1000), root, nil, nil, nil},
		{"not a dir", file(0o777, 1000, 1000), alice, syscall.ENOTDIR, syscall.ENOTDIR, syscall.ENOTDIR},
	}
	for _, tt := range tests {
		if err := Lookup(tt.d, tt.c); !errIs(err, tt.lookup) {
			t.Errorf("%s: Lookup = %v, want %v", tt.name, err, tt.lookup)
		}
		if err := ReadDir(tt.d, tt.c); !errIs(err, tt.readdir) {
			t.Errorf("%s: ReadDir = %v, want %v", tt.name, err, tt.readdir)
		}
		if err := Create(tt.d, tt.c); !errIs(err, tt.create) {
			t.Errorf("%s: Create = %v, want %v", tt.name, err, tt.create)
		}
	}
}

func TestMknod(t *testing.T) {
	d := dir(0o777, 1000, 1000)
	tests := []struct {
		c    *vfs.Cred
		typ  vfs.FileType
		want error
	}{
		{alice, vfs.TypeFIFO, nil},
		{alice, vfs.TypeSocket, nil},
		{alice, vfs.TypeChar, syscall.EPERM},
		{alice, vfs.TypeBlock, syscall.EPERM},
		{root, vfs.TypeChar, nil},
		{root, vfs.TypeBlock, nil},
	}
	for _, tt := range tests {
		if err := Mknod(d, tt.c, tt.typ); !errIs(err, tt.want) {
			t.Errorf("Mknod(uid %d, type %d) = %v, want %v", tt.c.UID, tt.typ, err, tt.want)
		}
	}
	if err := Mknod(dir(0o755, 1000, 1000), bob, vfs.TypeFIFO); !errIs(err, syscall.EACCES) {
		t.Errorf("Mknod in unwritable dir = %v, want EACCES", err)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name   string
		d, v   *vfs.Attr
		c      *vfs.Cred
		expect error
	}{
		{"writable dir", dir(0o777, 1, 1), file(0o644, 1000, 1000), bob, nil},
		{"unwritable dir", dir(0o755, 1, 1), file(0o644, 1001, 1001), bob, syscall.EACCES},
		{"no search", dir(0o776, 1, 1), file(0o644, 1001, 1001), bob, syscall.EACCES},
		{"sticky: other's file", dir(0o1777, 1, 1), file(0o644, 1000, 1000), bob, syscall.EPERM},
		{"sticky: own file", dir(0o1777, 1, 1), file(0o644, 1001, 1001), bob, nil},
		{"sticky: dir owner", dir(0o1777, 1001, 1), file(0o644, 1000, 1000), bob, nil},
		{"sticky: root", dir(0o1777, 1, 1), file(0o644, 1000, 1000), root, nil},
		{"sticky: group member", dir(0o1777, 1, 1000), file(0o666, 1000, 1000), carol, syscall.EPERM},
	}
	for _, tt := range tests {
		if err := Delete(tt.d, tt.v, tt.c); !errIs(err, tt.expect) {
			t.Errorf("%s: Delete = %v, want %v", tt.name, err, tt.expect)
		}
	}
}

func TestRename(t *testing.T) {
	d1 := dir(0o777, 1, 1)
	d2 := &vfs.Attr{Type: vfs.TypeDir, Mode: 0o777, UID: 1, GID: 1, Fileid: 21}
	stickyDir := &vfs.Attr{Type: vfs.TypeDir, Mode: 0o1777, UID: 1, GID: 1, Fileid: 22}
	roDir := &vfs.Attr{Type: vfs.TypeDir, Mode: 0o755, UID: 1, GID: 1, Fileid: 23}
	subdirOther := &vfs.Attr{Type: vfs.TypeDir, Mode: 0o755, UID: 1000, GID: 1000, Fileid: 30}
	subdirOwn := &vfs.Attr{Type: vfs.TypeDir, Mode: 0o755, UID: 1001, GID: 1001, Fileid: 31}
	tests := []struct {
		name               string
		from, src, to, dst *vfs.Attr
		c                  *vfs.Cred
		want               error
	}{
		{"same dir", d1, file(0o644, 1000, 1000), d1, nil, bob, nil},
		{"across dirs", d1, file(0o644, 1000, 1000), d2, nil, bob, nil},
		{"replace", d1, file(0o644, 1000, 1000), d2, file(0o600, 1000, 1000), bob, nil},
		{"source dir read-only", roDir, file(0o644, 1001, 1001), d2, nil, bob, syscall.EACCES},
		{"target dir read-only", d1, file(0o644, 1001, 1001), roDir, nil, bob, syscall.EACCES},
		{"sticky source", stickyDir, file(0o644, 1000, 1000), d1, nil, bob, syscall.EPERM},
		{"sticky target victim", d1, file(0o644, 1001, 1001), stickyDir, file(0o644, 1000, 1000), bob, syscall.EPERM},
		{"sticky target, no victim", d1, file(0o644, 1001, 1001), stickyDir, nil, bob, nil},
		{"dir to other parent, not writable", d1, subdirOther, d2, nil, bob, syscall.EACCES},
		{"dir within parent, not writable", d1, subdirOther, d1, nil, bob, nil},
		{"own dir to other parent", d1, subdirOwn, d2, nil, bob, nil},
		{"root moves any dir", d1, subdirOther, d2, nil, root, nil},
	}
	for _, tt := range tests {
		if err := Rename(tt.from, tt.src, tt.to, tt.dst, tt.c); !errIs(err, tt.want) {
			t.Errorf("%s: Rename = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestLink(t *testing.T) {
	d := dir(0o777, 1, 1)
	tests := []struct {
		name      string
		d, target *vfs.Attr
		c         *vfs.Cred
		protected bool
		want      error
	}{
		{"own file", d, file(0o600, 1001, 1001), bob, true, nil},
		{"other's rw file", d, file(0o666, 1000, 1000), bob, true, nil},
		{"other's read-only file, protected", d, file(0o644, 1000, 1000), bob, true, syscall.EPERM},
		{"other's read-only file, unprotected", d, file(0o644, 1000, 1000), bob, false, nil},
		{"other's setuid file", d, file(0o4666, 1000, 1000), bob, true, syscall.EPERM},
		{"other's setgid+gx file", d, file(0o2676, 1000, 1000), bob, true, syscall.EPERM},
		{"other's setgid no gx file", d, file(0o2666, 1000, 1000), bob, true, nil},
		{"other's fifo", d, &vfs.Attr{Type: vfs.TypeFIFO, Mode: 0o666, UID: 1000}, bob, true, syscall.EPERM},
		{"root", d, file(0o4600, 1000, 1000), root, true, nil},
		{"directory", d, dir(0o777, 1001, 1001), bob, true, syscall.EISDIR},
		{"unwritable dir", dir(0o755, 1, 1), file(0o600, 1001, 1001), bob, true, syscall.EACCES},
	}
	for _, tt := range tests {
		if err := Link(tt.d, tt.target, tt.c, tt.protected); !errIs(err, tt.want) {
			t.Errorf("%s: Link = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAccess(t *testing.T) {
	all := uint32(vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete | vfs.AccessExecute)
	tests := []struct {
		name string
		a    *vfs.Attr
		c    *vfs.Cred
		want uint32
		got  uint32
	}{
		{"owner rw file", file(0o644, 1000, 1000), alice, all, vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend},
		{"owner 0444 file: no override in ACCESS", file(0o444, 1000, 1000), alice, all, vfs.AccessRead},
		{"owner rwx file", file(0o700, 1000, 1000), alice, all, vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend | vfs.AccessExecute},
		{"other 0711 file", file(0o711, 1000, 1000), bob, all, vfs.AccessExecute},
		{"only asked bits", file(0o777, 1000, 1000), bob, vfs.AccessRead, vfs.AccessRead},
		{"root 0000 file", file(0, 1000, 1000), root, all, vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend},
		{"root 0100 file", file(0o100, 1000, 1000), root, all, vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend | vfs.AccessExecute},
		{"owner dir 0755", dir(0o755, 1000, 1000), alice, all, vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete},
		{"other dir 0755", dir(0o755, 1000, 1000), bob, all, vfs.AccessRead | vfs.AccessLookup},
		{"other dir 0733", dir(0o733, 1000, 1000), bob, all, vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete},
		{"other dir 0722 (no x)", dir(0o722, 1000, 1000), bob, all, 0},
		{"root dir 0000", dir(0, 1000, 1000), root, all, vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete},
		{"symlink", &vfs.Attr{Type: vfs.TypeSymlink, Mode: 0o777, UID: 1000}, bob, all, vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend | vfs.AccessExecute},
	}
	for _, tt := range tests {
		if got := Access(tt.a, tt.c, tt.want); got != tt.got {
			t.Errorf("%s: Access = %#x, want %#x", tt.name, got, tt.got)
		}
	}
}

func TestSetAttr(t *testing.T) {
	sym := &vfs.Attr{Type: vfs.TypeSymlink, Mode: 0o777, UID: 1000, GID: 1000}
	tests := []struct {
		name    string
		a       *vfs.Attr
		c       *vfs.Cred
		sa      vfs.SetAttr
		want    error
		valid   uint32 // expected Valid of the result (when want == nil)
		newMode uint32 // expected Mode of the result when SetMode stays
	}{
		{"owner chmod", file(0o644, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600}, nil, vfs.SetMode, 0o600},
		{"chmod masks type bits", file(0o644, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o100600}, nil, vfs.SetMode, 0o600},
		{"other chmod", file(0o666, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600}, syscall.EPERM, 0, 0},
		{"root chmod", file(0o644, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o6755}, nil, vfs.SetMode, 0o6755},
		{"owner setgid in group", file(0o644, 1000, 50), alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o2755}, nil, vfs.SetMode, 0o2755},
		{"owner setgid not in group", file(0o644, 1000, 7), alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o2755}, nil, vfs.SetMode, 0o755},
		{"owner setuid kept", file(0o644, 1000, 7), alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o4755}, nil, vfs.SetMode, 0o4755},
		{"symlink chmod ignored", sym, alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600}, nil, 0, 0},
		{"chown by root", file(0o644, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetUID, UID: 5}, nil, vfs.SetUID, 0},
		{"chown by owner to other", file(0o644, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetUID, UID: 1001}, syscall.EPERM, 0, 0},
		{"chown by owner to self", file(0o644, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetUID, UID: 1000}, nil, vfs.SetUID, 0},
		{"chown by other to self", file(0o644, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetUID, UID: 1001}, syscall.EPERM, 0, 0},
		{"chgrp by owner to member group", file(0o644, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetGID, GID: 50}, nil, vfs.SetGID, 0},
		{"chgrp by owner to foreign group", file(0o644, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetGID, GID: 7}, syscall.EPERM, 0, 0},
		{"chgrp by owner to same group", file(0o644, 1000, 7), alice, vfs.SetAttr{Valid: vfs.SetGID, GID: 7}, nil, vfs.SetGID, 0},
		{"chgrp by non-owner member", file(0o666, 1000, 1000), carol, vfs.SetAttr{Valid: vfs.SetGID, GID: 1000}, syscall.EPERM, 0, 0},
		{"chgrp by root", file(0o644, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetGID, GID: 9}, nil, vfs.SetGID, 0},
		{"chmod+chgrp to non-member clears setgid", file(0o644, 1000, 50), alice, vfs.SetAttr{Valid: vfs.SetMode | vfs.SetGID, Mode: 0o2644, GID: 1000}, nil, vfs.SetMode | vfs.SetGID, 0o2644},
		{"chmod+chown clears set-id on files", file(0o644, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetMode | vfs.SetUID, Mode: 0o6755, UID: 5}, nil, vfs.SetMode | vfs.SetUID, 0o755},
		{"chmod+chown keeps setgid without gx", file(0o644, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetMode | vfs.SetUID, Mode: 0o6745, UID: 5}, nil, vfs.SetMode | vfs.SetUID, 0o2745},
		{"chmod+chown on dir keeps set-id", dir(0o755, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetMode | vfs.SetUID, Mode: 0o2755, UID: 5}, nil, vfs.SetMode | vfs.SetUID, 0o2755},
		{"size by owner of 0444", file(0o444, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetSize}, nil, vfs.SetSize, 0},
		{"size by other, 0644", file(0o644, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetSize}, syscall.EACCES, 0, 0},
		{"size by other, 0666", file(0o666, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetSize}, nil, vfs.SetSize, 0},
		{"size of dir", dir(0o777, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetSize}, syscall.EISDIR, 0, 0},
		{"size of symlink", sym, alice, vfs.SetAttr{Valid: vfs.SetSize}, syscall.EINVAL, 0, 0},
		{"times now by writer", file(0o666, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetAtimeNow | vfs.SetMtimeNow}, nil, vfs.SetAtimeNow | vfs.SetMtimeNow, 0},
		{"times now by non-writer", file(0o644, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetAtimeNow | vfs.SetMtimeNow}, syscall.EACCES, 0, 0},
		{"times now by owner of 0000", file(0, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetMtimeNow}, nil, vfs.SetMtimeNow, 0},
		{"explicit times by writer", file(0o666, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetMtime}, syscall.EPERM, 0, 0},
		{"explicit and now by writer", file(0o666, 1000, 1000), bob, vfs.SetAttr{Valid: vfs.SetMtime | vfs.SetAtimeNow}, syscall.EPERM, 0, 0},
		{"explicit times by owner", file(0, 1000, 1000), alice, vfs.SetAttr{Valid: vfs.SetAtime | vfs.SetMtime}, nil, vfs.SetAtime | vfs.SetMtime, 0},
		{"explicit times by root", file(0, 1000, 1000), root, vfs.SetAttr{Valid: vfs.SetAtime}, nil, vfs.SetAtime, 0},
		{"nothing", file(0, 1000, 1000), bob, vfs.SetAttr{}, nil, 0, 0},
	}
	for _, tt := range tests {
		got, err := SetAttr(tt.a, tt.c, &tt.sa)
		if !errIs(err, tt.want) {
			t.Errorf("%s: SetAttr error = %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err != nil {
			continue
		}
		if got.Valid != tt.valid {
			t.Errorf("%s: Valid = %#x, want %#x", tt.name, got.Valid, tt.valid)
		}
		if got.Valid&vfs.SetMode != 0 && got.Mode != tt.newMode {
			t.Errorf("%s: Mode = %#o, want %#o", tt.name, got.Mode, tt.newMode)
		}
	}
}

func TestKillPriv(t *testing.T) {
	tests := []struct {
		a    *vfs.Attr
		c    *vfs.Cred
		mode uint32
		kill bool
	}{
		{file(0o4755, 1000, 1000), alice, 0o755, true},
		{file(0o2755, 1000, 1000), alice, 0o755, true},
		{file(0o2745, 1000, 1000), alice, 0o2745, false}, // setgid without group x: mandatory locking marker
		{file(0o6777, 1000, 1000), bob, 0o777, true},
		{file(0o6777, 1000, 1000), root, 0o6777, false},
		{file(0o644, 1000, 1000), alice, 0o644, false},
		{dir(0o2755, 1000, 1000), alice, 0o2755, false},
	}
	for _, tt := range tests {
		m, k := KillPriv(tt.a, tt.c)
		if m != tt.mode || k != tt.kill {
			t.Errorf("KillPriv(%#o, uid %d) = %#o, %v; want %#o, %v", tt.a.Mode, tt.c.UID, m, k, tt.mode, tt.kill)
		}
	}
}

func TestNewObject(t *testing.T) {
	tests := []struct {
		name          string
		d             *vfs.Attr
		c             *vfs.Cred
		typ           vfs.FileType
		mode          uint32
		uid, gid, out uint32
	}{
		{"plain file", dir(0o777, 1, 1), alice, vfs.TypeRegular, 0o644, 1000, 1000, 0o644},
		{"plain dir", dir(0o777, 1, 1), alice, vfs.TypeDir, 0o755, 1000, 1000, 0o755},
		{"setgid dir: file gets dir's group", dir(0o2777, 1, 77), alice, vfs.TypeRegular, 0o644, 1000, 77, 0o644},
		{"setgid dir: subdir inherits setgid", dir(0o2777, 1, 77), alice, vfs.TypeDir, 0o755, 1000, 77, 0o2755},
		{"setgid dir: non-member loses setgid on gx file", dir(0o2777, 1, 77), alice, vfs.TypeRegular, 0o2755, 1000, 77, 0o755},
		{"setgid dir: member keeps setgid", dir(0o2777, 1, 50), alice, vfs.TypeRegular, 0o2755, 1000, 50, 0o2755},
		{"setgid dir: root keeps setgid", dir(0o2777, 1, 77), root, vfs.TypeRegular, 0o2755, 0, 77, 0o2755},
		{"setgid dir: setgid without gx kept", dir(0o2777, 1, 77), alice, vfs.TypeRegular, 0o2745, 1000, 77, 0o2745},
		{"type bits masked", dir(0o777, 1, 1), bob, vfs.TypeRegular, 0o100640, 1001, 1001, 0o640},
	}
	for _, tt := range tests {
		uid, gid, out := NewObject(tt.d, tt.c, tt.typ, tt.mode)
		if uid != tt.uid || gid != tt.gid || out != tt.out {
			t.Errorf("%s: NewObject = %d, %d, %#o; want %d, %d, %#o", tt.name, uid, gid, out, tt.uid, tt.gid, tt.out)
		}
	}
}
