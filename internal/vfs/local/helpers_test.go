package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

var (
	ctx   = context.Background()
	root  = &vfs.Cred{UID: 0, GID: 0}
	alice = &vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{1000, 50}}
	bob   = &vfs.Cred{UID: 1001, GID: 1001}
)

// noCapEnv names the directory a child test process opens with
// CAP_DAC_READ_SEARCH dropped (see TestNewWithoutCapability).
const noCapEnv = "VNFSD_LOCAL_TEST_NOCAP_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(noCapEnv); dir != "" {
		os.Exit(runWithoutCapability(dir))
	}
	if os.Geteuid() != 0 {
		fmt.Println("vfs/local tests need root (CAP_DAC_READ_SEARCH, chown, mknod, mount)")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWithoutCapability drops CAP_DAC_READ_SEARCH and CAP_SYS_ADMIN (which
// newer kernels accept for open_by_handle_at in some cases) from this
// thread's effective set, calls New and prints the error.
func runWithoutCapability(dir string) int {
	runtime.LockOSThread() // capabilities are per thread
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		fmt.Print("capget: ", err)
		return 1
	}
	for _, c := range []uint{unix.CAP_DAC_READ_SEARCH, unix.CAP_SYS_ADMIN} {
		data[c/32].Effective &^= 1 << (c % 32)
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		fmt.Print("capset: ", err)
		return 1
	}
	f, err := New(dir, Options{})
	if err == nil {
		f.Close()
		fmt.Print("no error")
		return 0
	}
	fmt.Print(err.Error())
	return 0
}

// env is an exported directory and its backend.
type env struct {
	t    testing.TB
	dir  string
	fs   *FS
	root vfs.ID
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return openEnv(t, dir, opts)
}

func openEnv(t testing.TB, dir string, opts Options) *env {
	t.Helper()
	f, err := New(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := f.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, fs: f, root: r}
}

func (e *env) path(p ...string) string { return filepath.Join(append([]string{e.dir}, p...)...) }

func (e *env) lookup(dir vfs.ID, name string) (vfs.ID, vfs.Attr) {
	e.t.Helper()
	id, a, err := e.fs.Lookup(ctx, root, dir, name)
	if err != nil {
		e.t.Fatalf("Lookup %q: %v", name, err)
	}
	return id, a
}

func (e *env) create(c *vfs.Cred, dir vfs.ID, name string, sa *vfs.SetAttr) (vfs.ID, vfs.Attr) {
	e.t.Helper()
	id, a, err := e.fs.Create(ctx, c, dir, name, vfs.Unchecked, sa, [8]byte{})
	if err != nil {
		e.t.Fatalf("Create %q: %v", name, err)
	}
	return id, a
}

func (e *env) mkdir(c *vfs.Cred, dir vfs.ID, name string, sa *vfs.SetAttr) (vfs.ID, vfs.Attr) {
	e.t.Helper()
	id, a, err := e.fs.Mkdir(ctx, c, dir, name, sa)
	if err != nil {
		e.t.Fatalf("Mkdir %q: %v", name, err)
	}
	return id, a
}

func (e *env) write(c *vfs.Cred, id vfs.ID, data string, off uint64) {
	e.t.Helper()
	n, _, err := e.fs.Write(ctx, c, id, []byte(data), off, vfs.Unstable)
	if err != nil || n != len(data) {
		e.t.Fatalf("Write: %d, %v", n, err)
	}
}

func (e *env) getattr(id vfs.ID) vfs.Attr {
	e.t.Helper()
	a, err := e.fs.GetAttr(ctx, id)
	if err != nil {
		e.t.Fatalf("GetAttr: %v", err)
	}
	return a
}

func (e *env) stat(p ...string) *unix.Stat_t {
	e.t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(e.path(p...), &st); err != nil {
		e.t.Fatal(err)
	}
	return &st
}

// listAll lists dir fully, in calls of at most batch entries (0: one call).
func (e *env) listAll(c *vfs.Cred, dir vfs.ID, plus bool, batch int) []vfs.DirEntry {
	e.t.Helper()
	var out []vfs.DirEntry
	cookie := uint64(0)
	for calls := 0; ; calls++ {
		if calls > 100000 {
			e.t.Fatal("ReadDir does not end")
		}
		got := 0
		eof, err := e.fs.ReadDir(ctx, c, dir, cookie, plus, func(d *vfs.DirEntry) bool {
			if batch > 0 && got == batch {
				return false
			}
			got++
			out = append(out, *d)
			cookie = d.Cookie
			return true
		})
		if err != nil {
			e.t.Fatalf("ReadDir at cookie %d: %v", cookie, err)
		}
		if eof {
			return out
		}
	}
}

// handleOf returns the ID of path made directly with name_to_handle_at,
// as a client could only get by forging.
func handleOf(t testing.TB, path string) vfs.ID {
	t.Helper()
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return append(vfs.ID{byte(h.Type())}, h.Bytes()...)
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// countFDs returns the number of open descriptors of this process.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// mountTmpfs mounts a tmpfs of size on dir and unmounts it at cleanup
// (registered before any backend on it, so it runs after their Close).
func mountTmpfs(t testing.TB, dir, size string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0777"); err != nil {
		t.Skipf("cannot mount tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}
