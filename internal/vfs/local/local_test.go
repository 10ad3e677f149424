package local

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/f"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opts Options
		want error
	}{
		{"missing", dir + "/missing", Options{}, syscall.ENOENT},
		{"not a directory", file, Options{}, syscall.ENOTDIR},
		{"negative cache", dir, Options{FDCacheSize: -1}, nil},
	}
	for _, tt := range tests {
		f, err := New(tt.path, tt.opts)
		if err == nil {
			f.Close()
			t.Errorf("%s: New succeeded", tt.name)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestNewWithoutCapability(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), noCapEnv+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if string(out) != ErrNeedCapability.Error() {
		t.Fatalf("New without CAP_DAC_READ_SEARCH: %q, want %q", out, ErrNeedCapability.Error())
	}
}

func TestRootAndGetAttr(t *testing.T) {
	e := newEnv(t, Options{})
	if len(e.root) < 2 || len(e.root) > vfs.MaxIDLen {
		t.Fatalf("root id %x has a bad length", e.root)
	}
	a := e.getattr(e.root)
	st := e.stat()
	if a.Type != vfs.TypeDir || a.Fileid != st.Ino || a.Mode != 0o777 || a.Nlink != uint32(st.Nlink) {
		t.Errorf("root attr %+v, stat %+v", a, st)
	}
	if want := uint64(unix.Major(st.Dev))<<32 | uint64(unix.Minor(st.Dev)); a.Fsid != want {
		t.Errorf("Fsid %#x, want %#x", a.Fsid, want)
	}
	id, _ := e.create(root, e.root, "f", nil)
	e.write(root, id, "0123456789", 0)
	a = e.getattr(id)
	st = e.stat("f")
	if a.Type != vfs.TypeRegular || a.Size != 10 || a.Used != uint64(st.Blocks)*512 || a.Fileid != st.Ino ||
		a.Mtime != (vfs.Timespec{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)}) ||
		a.Ctime != (vfs.Timespec{Sec: st.Ctim.Sec, Nsec: uint32(st.Ctim.Nsec)}) {
		t.Errorf("file attr %+v, stat %+v", a, st)
	}
	if err := unix.Mknod(e.path("null"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	_, a = e.lookup(e.root, "null")
	if a.Type != vfs.TypeChar || a.RdevMajor != 1 || a.RdevMinor != 3 {
		t.Errorf("device attr %+v", a)
	}
}

func TestLookup(t *testing.T) {
	e := newEnv(t, Options{})
	sub, _ := e.mkdir(alice, e.root, "sub", nil)
	e.create(root, sub, "file", nil)
	private, _ := e.mkdir(root, e.root, "private", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o700})
	e.create(root, private, "secret", nil)
	fileID, _ := e.lookup(sub, "file")
	tests := []struct {
		name string
		c    *vfs.Cred
		dir  vfs.ID
		in   string
		want error
	}{
		{"file", root, sub, "file", nil},
		{"missing", root, sub, "nope", syscall.ENOENT},
		{"empty", root, sub, "", syscall.EINVAL},
		{"slash", root, e.root, "sub/file", syscall.EINVAL},
		{"trailing slash", root, e.root, "sub/", syscall.EINVAL},
		{"nul", root, sub, "file\x00", syscall.EINVAL},
		{"too long", root, sub, strings.Repeat("a", 256), syscall.ENAMETOOLONG},
		{"longest", root, sub, strings.Repeat("a", 255), syscall.ENOENT},
		{"in a file", root, fileID, "x", syscall.ENOTDIR},
		{"no search permission", bob, private, "secret", syscall.EACCES},
		{"root searches anything", root, private, "secret", nil},
		{"dot without search permission", bob, private, ".", syscall.EACCES},
		{"stale dir", root, vfs.ID{1, 2, 3}, "x", syscall.ESTALE},
	}
	for _, tt := range tests {
		_, _, err := e.fs.Lookup(ctx, tt.c, tt.dir, tt.in)
		wantErr(t, tt.name, err, tt.want)
	}
	// "." is the directory, ".." its parent, ".." of the root the root.
	dot, _ := e.lookup(sub, ".")
	if !bytes.Equal(dot, sub) {
		t.Errorf(". of sub = %x, want %x", dot, sub)
	}
	up, _ := e.lookup(sub, "..")
	if !bytes.Equal(up, e.root) {
		t.Errorf(".. of sub = %x, want root %x", up, e.root)
	}
	for _, n := range []string{".", ".."} {
		id, a := e.lookup(e.root, n)
		if !bytes.Equal(id, e.root) || a.Fileid != e.stat().Ino {
			t.Errorf("%s of root = %x (%d), want root %x", n, id, a.Fileid, e.root)
		}
	}
	// The ID from Lookup is the same as the one Create returned.
	id, a, err := e.fs.Create(ctx, alice, sub, "mine", vfs.Guarded, nil, [8]byte{})
	if err != nil {
		t.Fatal(err)
	}
	id2, a2 := e.lookup(sub, "mine")
	if !bytes.Equal(id, id2) || a.Fileid != a2.Fileid {
		t.Errorf("Lookup id %x, Create id %x", id2, id)
	}
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	e := newEnv(t, Options{})
	if err := os.Symlink("/etc", e.path("etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", e.path("passwd")); err != nil {
		t.Fatal(err)
	}
	var etcBefore, pwBefore unix.Stat_t
	if err := unix.Stat("/etc", &etcBefore); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat("/etc/passwd", &pwBefore); err != nil {
		t.Fatal(err)
	}
	id, a := e.lookup(e.root, "etc")
	if a.Type != vfs.TypeSymlink || a.Fileid == etcBefore.Ino {
		t.Fatalf("Lookup of a symlink to /etc: %+v", a)
	}
	target, err := e.fs.ReadLink(ctx, root, id)
	if err != nil || target != "/etc" {
		t.Fatalf("ReadLink = %q, %v", target, err)
	}
	pw, _ := e.lookup(e.root, "passwd")
	ops := []struct {
		name string
		err  error
		want error
	}{
		{"Lookup through", func() error { _, _, err := e.fs.Lookup(ctx, root, id, "passwd"); return err }(), syscall.ENOTDIR},
		{"ReadDir", func() error {
			_, err := e.fs.ReadDir(ctx, root, id, 0, false, func(*vfs.DirEntry) bool { return true })
			return err
		}(), syscall.ENOTDIR},
		{"Create in", func() error {
			_, _, err := e.fs.Create(ctx, root, id, "x", vfs.Unchecked, nil, [8]byte{})
			return err
		}(), syscall.ENOTDIR},
		{"Read", func() error { _, _, err := e.fs.Read(ctx, root, pw, make([]byte, 10), 0); return err }(), syscall.EINVAL},
		{"Write", func() error { _, _, err := e.fs.Write(ctx, root, pw, []byte("x"), 0, vfs.FileSync); return err }(), syscall.EINVAL},
		{"Truncate", func() error {
			_, err := e.fs.SetAttr(ctx, root, pw, &vfs.SetAttr{Valid: vfs.SetSize}, nil)
			return err
		}(), syscall.EINVAL},
		{"chmod (ignored)", func() error {
			_, err := e.fs.SetAttr(ctx, root, pw, &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600}, nil)
			return err
		}(), nil},
		{"chown", func() error {
			_, err := e.fs.SetAttr(ctx, root, pw, &vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 4321, GID: 4321}, nil)
			return err
		}(), nil},
		{"utimes", func() error {
			_, err := e.fs.SetAttr(ctx, root, id, &vfs.SetAttr{Valid: vfs.SetMtime | vfs.SetAtime, Mtime: vfs.Timespec{Sec: 1000}, Atime: vfs.Timespec{Sec: 1000}}, nil)
			return err
		}(), nil},
		{"Link to", e.fs.Link(ctx, root, pw, e.root, "hard"), nil},
	}
	for _, op := range ops {
		wantErr(t, op.name, op.err, op.want)
	}
	// The link itself changed, never its target.
	if st := e.stat("passwd"); st.Uid != 4321 || st.Mode&0o777 != 0o777 {
		t.Errorf("symlink after chown/chmod: uid %d mode %#o", st.Uid, st.Mode)
	}
	if st := e.stat("etc"); st.Mtim.Sec != 1000 {
		t.Errorf("symlink mtime %d, want 1000", st.Mtim.Sec)
	}
	if st := e.stat("hard"); st.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("hard link to a symlink is not a symlink: %#o", st.Mode)
	}
	var etcAfter, pwAfter unix.Stat_t
	unix.Stat("/etc", &etcAfter)
	unix.Stat("/etc/passwd", &pwAfter)
	if etcAfter.Mtim != etcBefore.Mtim || pwAfter.Uid != pwBefore.Uid || pwAfter.Mode != pwBefore.Mode || pwAfter.Ctim != pwBefore.Ctim {
		t.Errorf("the target of a symlink was changed")
	}
}

func TestEscapes(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"export/in", "outside/deep"} {
		if err := os.MkdirAll(base+"/"+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := openEnv(t, base+"/export", Options{})
	// ".." of the root is the root; names with '/' are refused.
	up, _ := e.lookup(e.root, "..")
	if !bytes.Equal(up, e.root) {
		t.Errorf(".. of root = %x", up)
	}
	for _, n := range []string{"../outside", "in/../../outside", "/etc", "in/"} {
		_, _, err := e.fs.Lookup(ctx, root, e.root, n)
		wantErr(t, "Lookup "+n, err, syscall.EINVAL)
		_, _, err = e.fs.Create(ctx, root, e.root, n, vfs.Unchecked, nil, [8]byte{})
		wantErr(t, "Create "+n, err, syscall.EINVAL)
		wantErr(t, "Rename to "+n, e.fs.Rename(ctx, root, e.root, "in", e.root, n), syscall.EINVAL)
	}
	// A directory outside the export, named by a forged ID: refused, and
	// also its subdirectory (the ".." walk), but not one inside.
	for _, d := range []string{base + "/outside", base + "/outside/deep", base} {
		id := handleOf(t, d)
		_, err := e.fs.GetAttr(ctx, id)
		wantErr(t, "GetAttr of "+d, err, syscall.ESTALE)
		_, _, err = e.fs.Lookup(ctx, root, id, "deep")
		wantErr(t, "Lookup in "+d, err, syscall.ESTALE)
	}
	if _, err := e.fs.GetAttr(ctx, handleOf(t, base+"/export/in")); err != nil {
		t.Errorf("GetAttr of a directory inside by handle: %v", err)
	}
	// Malformed IDs.
	good := handleOf(t, base+"/export/in")
	bad := []vfs.ID{
		nil, {}, {1}, bytes.Repeat([]byte{1}, vfs.MaxIDLen+1),
		append(vfs.ID{good[0] ^ 0x40}, good[1:]...),   // another handle type
		append(append(vfs.ID{}, good...), 0, 0, 0, 0), // trailing bytes
		good[:len(good)-1],
	}
	for i, id := range bad {
		_, err := e.fs.GetAttr(ctx, id)
		wantErr(t, "malformed id "+string(rune('0'+i)), err, syscall.ESTALE)
	}
}

func TestRestart(t *testing.T) {
	e := newEnv(t, Options{})
	sub, _ := e.mkdir(alice, e.root, "sub", nil)
	file, _ := e.create(alice, sub, "file", nil)
	e.write(alice, file, "persist", 0)
	link, _, err := e.fs.Symlink(ctx, alice, sub, "l", "file", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.fs.Close()
	if _, err := e.fs.GetAttr(ctx, file); !errors.Is(err, syscall.EIO) {
		t.Errorf("GetAttr after Close: %v, want EIO", err)
	}
	if _, err := e.fs.Root(ctx); !errors.Is(err, syscall.EIO) {
		t.Errorf("Root after Close: %v, want EIO", err)
	}
	e2 := openEnv(t, e.dir, Options{})
	if !bytes.Equal(e2.root, e.root) {
		t.Errorf("root id changed across restart: %x -> %x", e.root, e2.root)
	}
	buf := make([]byte, 16)
	n, eof, err := e2.fs.Read(ctx, alice, file, buf, 0)
	if err != nil || string(buf[:n]) != "persist" || !eof {
		t.Errorf("Read after restart: %q %v %v", buf[:n], eof, err)
	}
	if a, err := e2.fs.GetAttr(ctx, sub); err != nil || a.Type != vfs.TypeDir {
		t.Errorf("GetAttr of dir after restart: %+v %v", a, err)
	}
	if s, err := e2.fs.ReadLink(ctx, alice, link); err != nil || s != "file" {
		t.Errorf("ReadLink after restart: %q %v", s, err)
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t, Options{})
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	ro, _ := e.mkdir(root, e.root, "ro", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o755})
	e.create(root, ro, "existing", nil)
	sgid, _ := e.mkdir(root, e.root, "sgid", &vfs.SetAttr{Valid: vfs.SetMode | vfs.SetGID, Mode: 0o2777, GID: 77})
	e.mkdir(root, e.root, "adir", nil)

	tests := []struct {
		name       string
		c          *vfs.Cred
		dir        vfs.ID
		file       string
		mode       vfs.CreateMode
		sa         *vfs.SetAttr
		want       error
		uid, gid   uint32
		perm       uint32
		size       uint64
		checkAttrs bool
	}{
		{"default mode", alice, e.root, "a", vfs.Unchecked, nil, nil, 1000, 1000, 0o644, 0, true},
		{"mode not masked by umask", alice, e.root, "b", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o777}, nil, 1000, 1000, 0o777, 0, true},
		{"read-only mode", alice, e.root, "c", vfs.Guarded, &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o444}, nil, 1000, 1000, 0o444, 0, true},
		{"with size", bob, e.root, "d", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetSize, Size: 1000}, nil, 1001, 1001, 0o644, 1000, true},
		{"uid/gid ignored for non-root", bob, e.root, "e", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 0, GID: 0}, nil, 1001, 1001, 0o644, 0, true},
		{"root chooses owner", root, e.root, "f", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 5, GID: 6}, nil, 5, 6, 0o644, 0, true},
		{"setgid dir gives its group", alice, sgid, "g", vfs.Unchecked, nil, nil, 1000, 77, 0o644, 0, true},
		{"setgid dir strips setgid of non-member", alice, sgid, "h", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o2755}, nil, 1000, 77, 0o755, 0, true},
		{"guarded existing", alice, e.root, "a", vfs.Guarded, nil, syscall.EEXIST, 0, 0, 0, 0, false},
		{"unchecked existing truncates", bob, e.root, "d", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetSize | vfs.SetMode, Size: 10, Mode: 0o600}, nil, 1001, 1001, 0o644, 10, true},
		{"unchecked existing other's file, truncate refused", alice, e.root, "d", vfs.Unchecked, &vfs.SetAttr{Valid: vfs.SetSize, Size: 0}, syscall.EACCES, 0, 0, 0, 0, false},
		{"unchecked existing in read-only dir", bob, ro, "existing", vfs.Unchecked, nil, nil, 0, 0, 0o644, 0, true},
		{"guarded existing in read-only dir", bob, ro, "existing", vfs.Guarded, nil, syscall.EEXIST, 0, 0, 0, 0, false},
		{"new in read-only dir", bob, ro, "new", vfs.Unchecked, nil, syscall.EACCES, 0, 0, 0, 0, false},
		{"over a directory", root, e.root, "adir", vfs.Unchecked, nil, syscall.EEXIST, 0, 0, 0, 0, false},
		{"dot", root, e.root, ".", vfs.Unchecked, nil, syscall.EEXIST, 0, 0, 0, 0, false},
		{"dotdot", root, e.root, "..", vfs.Guarded, nil, syscall.EEXIST, 0, 0, 0, 0, false},
		{"name too long", root, e.root, strings.Repeat("x", 256), vfs.Unchecked, nil, syscall.ENAMETOOLONG, 0, 0, 0, 0, false},
		{"bad mode", root, e.root, "z", vfs.CreateMode(3), nil, syscall.EINVAL, 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		id, a, err := e.fs.Create(ctx, tt.c, tt.dir, tt.file, tt.mode, tt.sa, [8]byte{})
		wantErr(t, tt.name, err, tt.want)
		if err != nil || !tt.checkAttrs {
			continue
		}
		if a.Type != vfs.TypeRegular || a.UID != tt.uid || a.GID != tt.gid || a.Mode != tt.perm || a.Size != tt.size {
			t.Errorf("%s: attr %+v, want uid %d gid %d mode %#o size %d", tt.name, a, tt.uid, tt.gid, tt.perm, tt.size)
		}
		if ga := e.getattr(id); ga != a {
			t.Errorf("%s: GetAttr %+v differs from Create's %+v", tt.name, ga, a)
		}
	}
	// The owner can write a file created read-only (nfsd's owner override).
	c, _ := e.lookup(e.root, "c")
	e.write(alice, c, "data", 0)
}

func TestExclusiveCreate(t *testing.T) {
	e := newEnv(t, Options{})
	v1 := [8]byte{0x81, 2, 3, 4, 0xf5, 6, 7, 8}
	v2 := [8]byte{9, 9, 9, 9, 9, 9, 9, 9}
	id, a, err := e.fs.Create(ctx, alice, e.root, "x", vfs.Exclusive, nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	if a.UID != 1000 || a.Mode != 0o644 || a.Size != 0 {
		t.Errorf("exclusive create attr %+v", a)
	}
	// A retransmission (same verifier) gets the same file.
	id2, _, err := e.fs.Create(ctx, alice, e.root, "x", vfs.Exclusive, nil, v1)
	if err != nil || !bytes.Equal(id, id2) {
		t.Errorf("retried exclusive create: %x, %v; want %x", id2, err, id)
	}
	// Another client's verifier: EEXIST.
	_, _, err = e.fs.Create(ctx, alice, e.root, "x", vfs.Exclusive, nil, v2)
	wantErr(t, "exclusive create, other verifier", err, syscall.EEXIST)
	// After the client set the real times the verifier is gone.
	if _, err := e.fs.SetAttr(ctx, alice, id, &vfs.SetAttr{Valid: vfs.SetAtimeNow | vfs.SetMtimeNow}, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.fs.Create(ctx, alice, e.root, "x", vfs.Exclusive, nil, v1)
	wantErr(t, "exclusive create after setattr", err, syscall.EEXIST)
	// A file with the verifier's times but data is not a retransmission.
	id3, _, err := e.fs.Create(ctx, alice, e.root, "y", vfs.Exclusive, nil, v2)
	if err != nil {
		t.Fatal(err)
	}
	e.write(alice, id3, "data", 0)
	if _, err := e.fs.SetAttr(ctx, alice, id3, &vfs.SetAttr{Valid: vfs.SetAtime | vfs.SetMtime,
		Atime: vfs.Timespec{Sec: 0x09090909}, Mtime: vfs.Timespec{Sec: 0x09090909}}, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.fs.Create(ctx, alice, e.root, "y", vfs.Exclusive, nil, v2)
	wantErr(t, "exclusive create of a written file", err, syscall.EEXIST)
	// A directory of that name.
	e.mkdir(root, e.root, "d", nil)
	_, _, err = e.fs.Create(ctx, alice, e.root, "d", vfs.Exclusive, nil, v1)
	wantErr(t, "exclusive create over a dir", err, syscall.EEXIST)
}

func TestMkdirSymlinkMknod(t *testing.T) {
	e := newEnv(t, Options{})
	sgid, _ := e.mkdir(root, e.root, "sgid", &vfs.SetAttr{Valid: vfs.SetMode | vfs.SetGID, Mode: 0o2777, GID: 77})
	ro, _ := e.mkdir(root, e.root, "ro", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o755})
	type result struct {
		typ      vfs.FileType
		uid, gid uint32
		mode     uint32
	}
	tests := []struct {
		name string
		op   func() (vfs.ID, vfs.Attr, error)
		want error
		res  result
	}{
		{"mkdir default", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mkdir(ctx, alice, e.root, "d1", nil) }, nil,
			result{vfs.TypeDir, 1000, 1000, 0o755}},
		{"mkdir mode", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mkdir(ctx, alice, e.root, "d2", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o1777})
		}, nil, result{vfs.TypeDir, 1000, 1000, 0o1777}},
		{"mkdir in setgid dir inherits", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mkdir(ctx, alice, sgid, "d3", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o750})
		}, nil, result{vfs.TypeDir, 1000, 77, 0o2750}},
		{"mkdir existing", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mkdir(ctx, alice, e.root, "d1", nil) }, syscall.EEXIST, result{}},
		{"mkdir dot", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mkdir(ctx, alice, e.root, "..", nil) }, syscall.EEXIST, result{}},
		{"mkdir read-only dir", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mkdir(ctx, bob, ro, "x", nil) }, syscall.EACCES, result{}},
		{"mkdir bad name", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mkdir(ctx, bob, e.root, "a/b", nil) }, syscall.EINVAL, result{}},
		{"symlink", func() (vfs.ID, vfs.Attr, error) { return e.fs.Symlink(ctx, bob, e.root, "s1", "../../etc/shadow", nil) }, nil,
			result{vfs.TypeSymlink, 1001, 1001, 0o777}},
		{"symlink with times", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Symlink(ctx, bob, e.root, "s2", "x", &vfs.SetAttr{Valid: vfs.SetMtime | vfs.SetMode, Mtime: vfs.Timespec{Sec: 12345}, Mode: 0o600})
		}, nil, result{vfs.TypeSymlink, 1001, 1001, 0o777}},
		{"symlink empty target", func() (vfs.ID, vfs.Attr, error) { return e.fs.Symlink(ctx, bob, e.root, "s3", "", nil) }, syscall.ENOENT, result{}},
		{"symlink long target", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Symlink(ctx, bob, e.root, "s4", strings.Repeat("a", vfs.MaxPathLen+1), nil)
		}, syscall.ENAMETOOLONG, result{}},
		{"symlink existing", func() (vfs.ID, vfs.Attr, error) { return e.fs.Symlink(ctx, bob, e.root, "d1", "x", nil) }, syscall.EEXIST, result{}},
		{"mknod fifo", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mknod(ctx, bob, e.root, "fifo", vfs.TypeFIFO, 0, 0, &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600})
		}, nil, result{vfs.TypeFIFO, 1001, 1001, 0o600}},
		{"mknod socket", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mknod(ctx, bob, e.root, "sock", vfs.TypeSocket, 0, 0, nil)
		}, nil,
			result{vfs.TypeSocket, 1001, 1001, 0o644}},
		{"mknod char as root", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mknod(ctx, root, e.root, "chr", vfs.TypeChar, 1, 3, nil) }, nil,
			result{vfs.TypeChar, 0, 0, 0o644}},
		{"mknod block as root", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mknod(ctx, root, e.root, "blk", vfs.TypeBlock, 7, 0, nil)
		}, nil,
			result{vfs.TypeBlock, 0, 0, 0o644}},
		{"mknod char as user", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mknod(ctx, bob, e.root, "chr2", vfs.TypeChar, 1, 3, nil) }, syscall.EPERM, result{}},
		{"mknod regular", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mknod(ctx, root, e.root, "r", vfs.TypeRegular, 0, 0, nil)
		}, syscall.EINVAL, result{}},
		{"mknod dir", func() (vfs.ID, vfs.Attr, error) { return e.fs.Mknod(ctx, root, e.root, "r", vfs.TypeDir, 0, 0, nil) }, syscall.EINVAL, result{}},
		{"mknod existing", func() (vfs.ID, vfs.Attr, error) {
			return e.fs.Mknod(ctx, root, e.root, "fifo", vfs.TypeFIFO, 0, 0, nil)
		}, syscall.EEXIST, result{}},
	}
	for _, tt := range tests {
		id, a, err := tt.op()
		wantErr(t, tt.name, err, tt.want)
		if err != nil {
			continue
		}
		if a.Type != tt.res.typ || a.UID != tt.res.uid || a.GID != tt.res.gid || a.Mode != tt.res.mode {
			t.Errorf("%s: attr %+v, want %+v", tt.name, a, tt.res)
		}
		if ga := e.getattr(id); ga.Fileid != a.Fileid || ga.Type != a.Type {
			t.Errorf("%s: GetAttr of the new ID: %+v", tt.name, ga)
		}
	}
	if st := e.stat("chr"); st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("char device rdev %#x", st.Rdev)
	}
	if st := e.stat("s2"); st.Mtim.Sec != 12345 {
		t.Errorf("symlink mtime %d", st.Mtim.Sec)
	}
	if s, err := os.Readlink(e.path("s1")); err != nil || s != "../../etc/shadow" {
		t.Errorf("symlink target %q %v", s, err)
	}
	// Half-created objects do not stay behind after a failure: none here,
	// but nothing root-owned and unnamed was left in the export either.
	ents, _ := os.ReadDir(e.dir)
	for _, d := range ents {
		fi, _ := d.Info()
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid == 0 && !strings.HasPrefix(d.Name(), "chr") && d.Name() != "blk" && d.Name() != "sgid" && d.Name() != "ro" {
			t.Errorf("%s is owned by root", d.Name())
		}
	}
}

func TestReadWrite(t *testing.T) {
	e := newEnv(t, Options{})
	f, _ := e.create(alice, e.root, "f", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o644})
	e.write(alice, f, "hello, world", 0)
	tests := []struct {
		name string
		off  uint64
		n    int
		data string
		eof  bool
	}{
		{"all", 0, 100, "hello, world", true},
		{"exact", 0, 12, "hello, world", true},
		{"head", 0, 5, "hello", false},
		{"middle", 7, 3, "wor", false},
		{"tail", 7, 5, "world", true},
		{"past end", 100, 10, "", true},
		{"at end", 12, 10, "", true},
		{"zero length in file", 3, 0, "", false},
		{"zero length at end", 12, 0, "", true},
		{"huge offset", 1 << 63, 10, "", true},
		{"offset+count past the largest offset", 1<<63 - 4, 10, "", true},
	}
	for _, tt := range tests {
		buf := make([]byte, tt.n)
		n, eof, err := e.fs.Read(ctx, bob, f, buf, tt.off)
		if err != nil || string(buf[:n]) != tt.data || eof != tt.eof {
			t.Errorf("%s: Read = %q, eof %v, %v; want %q, eof %v", tt.name, buf[:n], eof, err, tt.data, tt.eof)
		}
	}
	for _, how := range []vfs.Stability{vfs.Unstable, vfs.DataSync, vfs.FileSync} {
		n, got, err := e.fs.Write(ctx, alice, f, []byte("HELLO"), 0, how)
		if err != nil || n != 5 || got != how {
			t.Errorf("Write(%d) = %d, %d, %v", how, n, got, err)
		}
	}
	if err := e.fs.Commit(ctx, alice, f, 0, 0); err != nil {
		t.Errorf("Commit: %v", err)
	}
	if b, _ := os.ReadFile(e.path("f")); string(b) != "HELLO, world" {
		t.Errorf("file content %q", b)
	}
	// Sparse extension.
	e.write(alice, f, "end", 1<<20)
	if a := e.getattr(f); a.Size != 1<<20+3 {
		t.Errorf("size after sparse write %d", a.Size)
	}

	// Permissions.
	ro, _ := e.create(alice, e.root, "ro", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o444})
	bin, _ := e.create(alice, e.root, "bin", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o711})
	secret, _ := e.create(alice, e.root, "secret", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600})
	dir, _ := e.mkdir(alice, e.root, "dir", nil)
	sym, _, _ := e.fs.Symlink(ctx, alice, e.root, "sym", "f", nil)
	fifo, _, _ := e.fs.Mknod(ctx, alice, e.root, "fifo", vfs.TypeFIFO, 0, 0, &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o666})
	perms := []struct {
		name      string
		c         *vfs.Cred
		id        vfs.ID
		read, wrt error
	}{
		{"owner writes own 0444 file", alice, ro, nil, nil},
		{"other reads 0444", bob, ro, nil, syscall.EACCES},
		{"other reads 0711 binary", bob, bin, nil, syscall.EACCES},
		{"other 0600", bob, secret, syscall.EACCES, syscall.EACCES},
		{"root 0600", root, secret, nil, nil},
		{"directory", alice, dir, syscall.EISDIR, syscall.EISDIR},
		{"symlink", alice, sym, syscall.EINVAL, syscall.EINVAL},
		{"fifo", alice, fifo, syscall.EINVAL, syscall.EINVAL},
		{"stale", alice, vfs.ID{1, 0, 0, 0, 0, 0, 0, 0, 0}, syscall.ESTALE, syscall.ESTALE},
	}
	for _, tt := range perms {
		_, _, err := e.fs.Read(ctx, tt.c, tt.id, make([]byte, 4), 0)
		wantErr(t, tt.name+": Read", err, tt.read)
		_, _, err = e.fs.Write(ctx, tt.c, tt.id, []byte("x"), 0, vfs.FileSync)
		wantErr(t, tt.name+": Write", err, tt.wrt)
		wantErr(t, tt.name+": Commit", e.fs.Commit(ctx, tt.c, tt.id, 0, 0), tt.wrt)
	}
	_, _, err := e.fs.Write(ctx, alice, f, []byte("x"), 1<<63, vfs.Unstable)
	wantErr(t, "write beyond the maximum offset", err, syscall.EFBIG)
}

func TestWriteKillsSetID(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name string
		mode uint32
		c    *vfs.Cred
		want uint32
	}{
		{"setuid by owner", 0o4755, alice, 0o755},
		{"setgid+gx by owner", 0o2775, alice, 0o775},
		{"setgid without gx", 0o2745, alice, 0o2745},
		{"setuid by group writer", 0o4775, &vfs.Cred{UID: 7, GID: 1000}, 0o775},
		{"setuid by root", 0o6755, root, 0o6755},
	}
	for i, tt := range tests {
		name := string(rune('a' + i))
		id, _ := e.create(root, e.root, name, &vfs.SetAttr{Valid: vfs.SetMode | vfs.SetUID | vfs.SetGID, Mode: tt.mode, UID: 1000, GID: 1000})
		if a := e.getattr(id); a.Mode != tt.mode {
			t.Fatalf("%s: mode after create %#o", tt.name, a.Mode)
		}
		e.write(tt.c, id, "x", 0)
		if a := e.getattr(id); a.Mode != tt.want {
			t.Errorf("%s: mode after write %#o, want %#o", tt.name, a.Mode, tt.want)
		}
		// Truncation kills them too.
		if _, err := e.fs.SetAttr(ctx, root, id, &vfs.SetAttr{Valid: vfs.SetMode, Mode: tt.mode}, nil); err != nil {
			t.Fatal(err)
		}
		a, err := e.fs.SetAttr(ctx, tt.c, id, &vfs.SetAttr{Valid: vfs.SetSize, Size: 0}, nil)
		if err != nil || a.Mode != tt.want || a.Size != 0 {
			t.Errorf("%s: after truncate %+v %v, want mode %#o", tt.name, a, err, tt.want)
		}
	}
}

func TestSetAttr(t *testing.T) {
	e := newEnv(t, Options{})
	f, _ := e.create(alice, e.root, "f", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o644})
	e.write(alice, f, "0123456789", 0)
	cur := e.getattr(f)
	stale := cur.Ctime
	stale.Nsec ^= 1
	tests := []struct {
		name  string
		c     *vfs.Cred
		sa    vfs.SetAttr
		guard *vfs.Timespec
		want  error
		check func(a vfs.Attr) bool
	}{
		{"guard mismatch", alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o600}, &stale, syscall.EAGAIN, nil},
		{"guard match", alice, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o640}, &cur.Ctime, nil, func(a vfs.Attr) bool { return a.Mode == 0o640 }},
		{"chmod by other", bob, vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o777}, nil, syscall.EPERM, nil},
		{"chown by owner", alice, vfs.SetAttr{Valid: vfs.SetUID, UID: 1001}, nil, syscall.EPERM, nil},
		{"chgrp by owner to member group", alice, vfs.SetAttr{Valid: vfs.SetGID, GID: 50}, nil, nil, func(a vfs.Attr) bool { return a.GID == 50 }},
		{"chgrp by owner to foreign group", alice, vfs.SetAttr{Valid: vfs.SetGID, GID: 51}, nil, syscall.EPERM, nil},
		{"chown by root", root, vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 1001, GID: 1001}, nil, nil,
			func(a vfs.Attr) bool { return a.UID == 1001 && a.GID == 1001 }},
		{"truncate by old owner, now other", alice, vfs.SetAttr{Valid: vfs.SetSize, Size: 3}, nil, syscall.EACCES, nil},
		{"truncate by owner", bob, vfs.SetAttr{Valid: vfs.SetSize, Size: 3}, nil, nil, func(a vfs.Attr) bool { return a.Size == 3 }},
		{"extend by owner", bob, vfs.SetAttr{Valid: vfs.SetSize, Size: 5000}, nil, nil, func(a vfs.Attr) bool { return a.Size == 5000 }},
		{"explicit times by owner", bob, vfs.SetAttr{Valid: vfs.SetAtime | vfs.SetMtime,
			Atime: vfs.Timespec{Sec: 1e9, Nsec: 5}, Mtime: vfs.Timespec{Sec: 2e9, Nsec: 7}}, nil, nil,
			func(a vfs.Attr) bool {
				return a.Atime == vfs.Timespec{Sec: 1e9, Nsec: 5} && a.Mtime == vfs.Timespec{Sec: 2e9, Nsec: 7}
			}},
		{"only mtime", bob, vfs.SetAttr{Valid: vfs.SetMtime, Mtime: vfs.Timespec{Sec: 3}}, nil, nil,
			func(a vfs.Attr) bool { return a.Atime.Sec == 1e9 && a.Mtime.Sec == 3 }},
		{"explicit times by non-owner", alice, vfs.SetAttr{Valid: vfs.SetMtime, Mtime: vfs.Timespec{Sec: 3}}, nil, syscall.EPERM, nil},
		{"times now by non-writer", alice, vfs.SetAttr{Valid: vfs.SetAtimeNow | vfs.SetMtimeNow}, nil, syscall.EACCES, nil},
		{"times now by owner", bob, vfs.SetAttr{Valid: vfs.SetAtimeNow | vfs.SetMtimeNow}, nil, nil,
			func(a vfs.Attr) bool { return a.Mtime.Sec > 2e9-1e9 && a.Atime.Sec > 1e9 }},
		{"bad nanoseconds", root, vfs.SetAttr{Valid: vfs.SetMtime, Mtime: vfs.Timespec{Nsec: 1e9}}, nil, syscall.EINVAL, nil},
		{"size too big", root, vfs.SetAttr{Valid: vfs.SetSize, Size: 1 << 63}, nil, syscall.EFBIG, nil},
		{"nothing", bob, vfs.SetAttr{}, nil, nil, func(a vfs.Attr) bool { return a.Size == 5000 }},
	}
	for _, tt := range tests {
		a, err := e.fs.SetAttr(ctx, tt.c, f, &tt.sa, tt.guard)
		wantErr(t, tt.name, err, tt.want)
		if err == nil && tt.check != nil && !tt.check(a) {
			t.Errorf("%s: attr %+v", tt.name, a)
		}
		if err == nil && a != e.getattr(f) {
			t.Errorf("%s: returned attr differs from GetAttr", tt.name)
		}
	}
	dir, _ := e.mkdir(root, e.root, "d", nil)
	_, err := e.fs.SetAttr(ctx, root, dir, &vfs.SetAttr{Valid: vfs.SetSize}, nil)
	wantErr(t, "truncate dir", err, syscall.EISDIR)
	a, err := e.fs.SetAttr(ctx, root, dir, &vfs.SetAttr{Valid: vfs.SetMode | vfs.SetUID, Mode: 0o3775, UID: 5}, nil)
	if err != nil || a.Mode != 0o3775 || a.UID != 5 {
		t.Errorf("dir chmod+chown: %+v %v", a, err)
	}
}

func TestAccess(t *testing.T) {
	e := newEnv(t, Options{})
	f, _ := e.create(alice, e.root, "f", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o640})
	d, _ := e.mkdir(alice, e.root, "d", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o755})
	all := uint32(0x3f)
	tests := []struct {
		c    *vfs.Cred
		id   vfs.ID
		want uint32
	}{
		{alice, f, vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend},
		{&vfs.Cred{UID: 5, GID: 1000}, f, vfs.AccessRead},
		{bob, f, 0},
		{alice, d, vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete},
		{bob, d, vfs.AccessRead | vfs.AccessLookup},
		{root, d, vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete},
	}
	for i, tt := range tests {
		got, err := e.fs.Access(ctx, tt.c, tt.id, all)
		if err != nil || got != tt.want {
			t.Errorf("%d: Access = %#x, %v; want %#x", i, got, err, tt.want)
		}
	}
	if _, err := e.fs.Access(ctx, alice, vfs.ID{1, 1}, all); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("Access of a bad id: %v", err)
	}
}

func TestRemoveRmdir(t *testing.T) {
	e := newEnv(t, Options{})
	e.create(alice, e.root, "f", nil)
	e.create(alice, e.root, "g", nil)
	sub, _ := e.mkdir(alice, e.root, "full", nil)
	e.create(alice, sub, "x", nil)
	e.mkdir(alice, e.root, "empty", nil)
	e.mkdir(alice, e.root, "empty2", nil)
	tmp, _ := e.mkdir(root, e.root, "tmp", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o1777})
	e.create(alice, tmp, "alices", nil)
	e.create(bob, tmp, "bobs", nil)
	ro, _ := e.mkdir(root, e.root, "ro", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o755})
	e.create(root, ro, "bobs", &vfs.SetAttr{Valid: vfs.SetUID | vfs.SetGID, UID: 1001, GID: 1001})
	tests := []struct {
		name  string
		c     *vfs.Cred
		dir   vfs.ID
		file  string
		rmdir bool
		want  error
	}{
		{"remove dir", alice, e.root, "empty", false, syscall.EISDIR},
		{"rmdir file", alice, e.root, "f", true, syscall.ENOTDIR},
		{"rmdir non-empty", alice, e.root, "full", true, syscall.ENOTEMPTY},
		{"remove missing", alice, e.root, "nope", false, syscall.ENOENT},
		{"rmdir missing", alice, e.root, "nope", true, syscall.ENOENT},
		{"remove dot", alice, e.root, ".", false, syscall.EACCES},
		{"rmdir dotdot", alice, sub, "..", true, syscall.EACCES},
		{"remove bad name", alice, e.root, "a/b", false, syscall.EINVAL},
		{"remove long name", alice, e.root, strings.Repeat("n", 256), false, syscall.ENAMETOOLONG},
		{"remove in file", alice, e.getID("f"), "x", false, syscall.ENOTDIR},
		{"remove from read-only dir", bob, ro, "bobs", false, syscall.EACCES},
		{"sticky: other's file", bob, tmp, "alices", false, syscall.EPERM},
		{"sticky: own file", bob, tmp, "bobs", false, nil},
		{"sticky: root", root, tmp, "alices", false, nil},
		{"remove file", bob, e.root, "f", false, nil},
		{"rmdir empty", bob, e.root, "empty", true, nil},
	}
	for _, tt := range tests {
		var err error
		if tt.rmdir {
			err = e.fs.Rmdir(ctx, tt.c, tt.dir, tt.file)
		} else {
			err = e.fs.Remove(ctx, tt.c, tt.dir, tt.file)
		}
		wantErr(t, tt.name, err, tt.want)
	}
	if _, err := os.Lstat(e.path("f")); !os.IsNotExist(err) {
		t.Errorf("f still exists: %v", err)
	}

	// IDs of removed objects are stale, also while their descriptors are
	// cached with data descriptors open.
	g, _ := e.lookup(e.root, "g")
	e.write(alice, g, "data", 0)
	dir2, _ := e.lookup(e.root, "empty2")
	if err := e.fs.Remove(ctx, alice, e.root, "g"); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.Rmdir(ctx, alice, e.root, "empty2"); err != nil {
		t.Fatal(err)
	}
	_, err := e.fs.GetAttr(ctx, g)
	wantErr(t, "GetAttr after remove", err, syscall.ESTALE)
	_, _, err = e.fs.Read(ctx, alice, g, make([]byte, 4), 0)
	wantErr(t, "Read after remove", err, syscall.ESTALE)
	_, err = e.fs.GetAttr(ctx, dir2)
	wantErr(t, "GetAttr of removed dir", err, syscall.ESTALE)
	_, _, err = e.fs.Create(ctx, alice, dir2, "x", vfs.Unchecked, nil, [8]byte{})
	wantErr(t, "Create in removed dir", err, syscall.ESTALE)

	// Removed behind the server's back: stale too (nlink check of the
	// cached descriptor).
	h, _ := e.create(alice, e.root, "h", nil)
	e.write(alice, h, "x", 0)
	if err := os.Remove(e.path("h")); err != nil {
		t.Fatal(err)
	}
	_, err = e.fs.GetAttr(ctx, h)
	wantErr(t, "GetAttr after external remove", err, syscall.ESTALE)
	_, _, err = e.fs.Write(ctx, alice, h, []byte("x"), 0, vfs.Unstable)
	wantErr(t, "Write after external remove", err, syscall.ESTALE)

	// A file with another link stays valid.
	k, _ := e.create(alice, e.root, "k", nil)
	if err := e.fs.Link(ctx, alice, k, e.root, "k2"); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.Remove(ctx, alice, e.root, "k"); err != nil {
		t.Fatal(err)
	}
	if a, err := e.fs.GetAttr(ctx, k); err != nil || a.Nlink != 1 {
		t.Errorf("GetAttr of a file with a remaining link: %+v %v", a, err)
	}
}

func (e *env) getID(name string) vfs.ID {
	id, _ := e.lookup(e.root, name)
	return id
}

func TestRename(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.mkdir(alice, e.root, "a", nil)
	b, _ := e.mkdir(alice, e.root, "b", nil)
	f, _ := e.create(alice, a, "f", nil)
	e.write(alice, f, "f", 0)
	victim, _ := e.create(alice, b, "victim", nil)
	e.write(alice, victim, "v", 0)
	e.mkdir(alice, a, "d", nil)
	full, _ := e.mkdir(alice, b, "full", nil)
	e.create(alice, full, "x", nil)
	e.mkdir(alice, b, "emptydir", nil)
	e.create(alice, b, "file2", nil)
	tmp, _ := e.mkdir(root, e.root, "tmp", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o1777})
	e.create(alice, tmp, "alices", nil)
	other, _ := e.mkdir(bob, e.root, "bobsdir", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o777})
	e.mkdir(alice, other, "alicesub", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o755})
	tests := []struct {
		name     string
		c        *vfs.Cred
		from     vfs.ID
		fromName string
		to       vfs.ID
		toName   string
		want     error
	}{
		{"missing", alice, a, "nope", b, "x", syscall.ENOENT},
		{"dot source", alice, a, ".", b, "x", syscall.EPERM},
		{"dotdot target", alice, a, "f", b, "..", syscall.EPERM},
		{"bad name", alice, a, "f", b, "x/y", syscall.EINVAL},
		{"dir over file", alice, a, "d", b, "file2", syscall.ENOTDIR},
		{"file over dir", alice, a, "f", b, "emptydir", syscall.EISDIR},
		{"dir over non-empty dir", alice, a, "d", b, "full", syscall.ENOTEMPTY},
		{"dir into itself", alice, e.root, "a", a, "inside", syscall.EINVAL},
		{"no write permission", bob, a, "f", b, "g", syscall.EACCES},
		{"sticky source", bob, tmp, "alices", other, "stolen", syscall.EPERM},
		{"move other's dir to another parent", bob, other, "alicesub", e.root, "moved", syscall.EACCES},
		{"same name", alice, a, "f", a, "f", nil},
		{"replace file", alice, a, "f", b, "victim", nil},
		{"dir over empty dir", alice, a, "d", b, "emptydir", nil},
		{"back", alice, b, "victim", a, "f", nil},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, e.fs.Rename(ctx, tt.c, tt.from, tt.fromName, tt.to, tt.toName), tt.want)
	}
	// The replaced file's ID is stale; the moved file keeps its ID.
	_, err := e.fs.GetAttr(ctx, victim)
	wantErr(t, "GetAttr of replaced file", err, syscall.ESTALE)
	buf := make([]byte, 4)
	if n, _, err := e.fs.Read(ctx, alice, f, buf, 0); err != nil || string(buf[:n]) != "f" {
		t.Errorf("Read of moved file: %q %v", buf[:n], err)
	}
	if id, _ := e.lookup(a, "f"); !bytes.Equal(id, f) {
		t.Errorf("moved file has a new id")
	}
}

func TestLink(t *testing.T) {
	e := newEnv(t, Options{})
	f, _ := e.create(alice, e.root, "f", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o644})
	rw, _ := e.create(alice, e.root, "rw", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o666})
	d, _ := e.mkdir(alice, e.root, "d", nil)
	ro, _ := e.mkdir(root, e.root, "ro", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o755})
	tests := []struct {
		name string
		c    *vfs.Cred
		id   vfs.ID
		dir  vfs.ID
		in   string
		want error
	}{
		{"link", alice, f, d, "f2", nil},
		{"existing name", alice, f, e.root, "rw", syscall.EEXIST},
		{"dot", alice, f, d, ".", syscall.EEXIST},
		{"directory", alice, d, e.root, "d2", syscall.EISDIR},
		{"into a file", alice, f, rw, "x", syscall.ENOTDIR},
		{"read-only dir", bob, rw, ro, "x", syscall.EACCES},
		{"protected: other's read-only file", bob, f, e.root, "bobs", syscall.EPERM},
		{"protected: other's rw file", bob, rw, e.root, "bobs2", nil},
		{"bad name", alice, f, d, "a/b", syscall.EINVAL},
		{"stale", alice, vfs.ID{1, 2, 3}, d, "z", syscall.ESTALE},
	}
	e.fs.protectedHardlinks = true
	for _, tt := range tests {
		wantErr(t, tt.name, e.fs.Link(ctx, tt.c, tt.id, tt.dir, tt.in), tt.want)
	}
	if a := e.getattr(f); a.Nlink != 2 {
		t.Errorf("nlink %d after link", a.Nlink)
	}
	if id, _ := e.lookup(d, "f2"); !bytes.Equal(id, f) {
		t.Errorf("the link has another id")
	}
}

func TestStatFS(t *testing.T) {
	e := newEnv(t, Options{})
	s, err := e.fs.StatFS(ctx, alice, e.root)
	if err != nil {
		t.Fatal(err)
	}
	var sf unix.Statfs_t
	if err := unix.Statfs(e.dir, &sf); err != nil {
		t.Fatal(err)
	}
	if s.TotalBytes != sf.Blocks*uint64(sf.Bsize) || s.TotalFiles != sf.Files || s.AvailBytes > s.FreeBytes || s.FreeBytes > s.TotalBytes {
		t.Errorf("StatFS %+v, statfs %+v", s, sf)
	}
	if _, err := e.fs.StatFS(ctx, alice, vfs.ID{1, 2}); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("StatFS of a bad id: %v", err)
	}
}

func TestReadLink(t *testing.T) {
	e := newEnv(t, Options{})
	long := strings.Repeat("x/", 2047) + "y" // 4095 bytes
	s, _, err := e.fs.Symlink(ctx, alice, e.root, "s", long, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.fs.ReadLink(ctx, bob, s)
	if err != nil || got != long {
		t.Errorf("ReadLink of a long target: %d bytes, %v", len(got), err)
	}
	f, _ := e.create(alice, e.root, "f", nil)
	_, err = e.fs.ReadLink(ctx, alice, f)
	wantErr(t, "ReadLink of a file", err, syscall.EINVAL)
}

func TestMountPointsAreNotCrossed(t *testing.T) {
	e := newEnv(t, Options{})
	if err := os.Mkdir(e.path("mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, e.path("mnt"), "64k")
	if err := os.WriteFile(e.path("mnt", "inner"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.fs.Lookup(ctx, root, e.root, "mnt")
	wantErr(t, "Lookup of a mount point", err, syscall.EACCES)
	found := false
	for _, d := range e.listAll(root, e.root, true, 0) {
		if d.Name == "mnt" {
			found = true
			if d.HaveAttr || d.ID != nil {
				t.Errorf("READDIRPLUS entry of a mount point has attributes or an id: %+v", d)
			}
		}
	}
	if !found {
		t.Errorf("mount point not listed")
	}
	// A handle of an object on the other file system is stale.
	_, err = e.fs.GetAttr(ctx, handleOf(t, e.path("mnt", "inner")))
	wantErr(t, "GetAttr of an object on another fs", err, syscall.ESTALE)
}

func TestENOSPC(t *testing.T) {
	dir := t.TempDir()
	mountTmpfs(t, dir, "256k")
	e := openEnv(t, dir, Options{})
	id, _ := e.create(alice, e.root, "big", nil)
	chunk := bytes.Repeat([]byte{0xaa}, 64<<10)
	var off uint64
	var err error
	for i := 0; i < 64; i++ {
		var n int
		n, _, err = e.fs.Write(ctx, alice, id, chunk, off, vfs.Unstable)
		off += uint64(n)
		if err != nil {
			break
		}
	}
	wantErr(t, "writing past the size of a tmpfs", err, syscall.ENOSPC)
	if off == 0 || off > 256<<10 {
		t.Errorf("wrote %d bytes before ENOSPC", off)
	}
	s, err := e.fs.StatFS(ctx, alice, e.root)
	if err != nil || s.TotalBytes != 256<<10 || s.AvailBytes != 0 {
		t.Errorf("StatFS of a full 256k tmpfs: %+v %v", s, err)
	}
	if err := e.fs.Remove(ctx, alice, e.root, "big"); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.fs.StatFS(ctx, alice, e.root); s.AvailBytes != 256<<10 {
		t.Errorf("space not freed after remove (cached descriptor kept?): %+v", s)
	}
}

func TestNilArgumentsAndRandomIDs(t *testing.T) {
	e := newEnv(t, Options{})
	id, a, err := e.fs.Create(ctx, nil, e.root, "anon", vfs.Unchecked, nil, [8]byte{})
	if err != nil || a.UID != 65534 || a.GID != 65534 {
		t.Fatalf("Create with a nil Cred: %+v %v (want nobody's file)", a, err)
	}
	if _, err := e.fs.SetAttr(ctx, nil, id, nil, nil); err != nil {
		t.Errorf("SetAttr with nil arguments: %v", err)
	}
	// Random IDs never panic and never name an object by chance.
	var seed uint32 = 1
	for i := range 2000 {
		n := i % (vfs.MaxIDLen + 3)
		id := make(vfs.ID, n)
		for j := range id {
			seed = seed*1664525 + 1013904223
			id[j] = byte(seed >> 24)
		}
		if i%2 == 0 && n > 0 {
			id[0] = e.root[0] // a valid handle type
		}
		if _, err := e.fs.GetAttr(ctx, id); !errors.Is(err, syscall.ESTALE) {
			t.Fatalf("GetAttr of random id %x: %v", id, err)
		}
	}
}
