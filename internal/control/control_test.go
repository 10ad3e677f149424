package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/store"
	"github.com/vnfsd/vnfsd/internal/vserver"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Servers in these tests listen on 127.0.0.90 with system-chosen ports.
const testAddr = "127.0.0.90"

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var root = ns.Scope{}

func open(t *testing.T, dir string, seeds ...Seed) *Control {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := Open(context.Background(), Options{DataDir: dir, NoSync: true, Logger: log, Seeds: seeds, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func quickServer(threads int, addrs ...string) ServerConfig {
	cfg := DefaultServerConfig()
	cfg.Threads = threads
	cfg.NFSPort, cfg.MountPort, cfg.PortmapPort = 0, 0, PortOff
	for _, a := range addrs {
		cfg.Listeners = append(cfg.Listeners, Listener{Addr: a})
	}
	return cfg
}

func rpc(t *testing.T, addr string, prog, vers, proc uint32, args []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	res, err := c.Call(ctx, prog, vers, proc, oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "control-test"}), args)
	if err != nil {
		t.Fatalf("call on %s: %v", addr, err)
	}
	return res
}

func mnt(t *testing.T, addr, path string) []byte {
	t.Helper()
	var w xdr.Writer
	w.String(path)
	r := xdr.NewReader(rpc(t, addr, oncrpc.ProgMount, 3, mount.ProcMnt, w.B))
	if st := r.Uint32(); st != uint32(mount.MNT3OK) {
		t.Fatalf("MNT %s: status %d", path, st)
	}
	return append([]byte(nil), r.Opaque(mount.FHSize3)...)
}

func getattr(t *testing.T, addr string, h []byte) uint32 {
	t.Helper()
	var w xdr.Writer
	w.Opaque(h)
	return xdr.NewReader(rpc(t, addr, oncrpc.ProgNFS, 3, 1, w.B)).Uint32()
}

// TestReopen: after Close and Open on the same directory, namespaces,
// servers, listeners, exports and handle keys are back, and handles given
// out before still work.
func TestReopen(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	ctx := context.Background()
	c := open(t, dir)
	acme, err := c.CreateNamespace(ctx, root, "/acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateNamespace(ctx, root, "/acme/prod"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PutServer(ctx, root, "/acme", quickServer(3, testAddr)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PutServer(ctx, root, "/acme/prod", quickServer(0, testAddr)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/gone", "/data"} {
		if _, err := c.AddExport(ctx, root, "/acme", ExportSpec{Path: p, Dir: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveExport(ctx, root, "/acme", "/gone"); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateToken(ctx, root, "/acme", "t")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.GetServer(ctx, root, "/acme")
	if err != nil || !s.Status.Running {
		t.Fatalf("%+v %v", s, err)
	}
	h := mnt(t, s.Status.Listening[vserver.ServiceMount], "/data")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c = open(t, dir)
	n, err := c.GetNamespace(ctx, root, "/acme")
	if err != nil || n.UUID != acme.UUID {
		t.Fatalf("namespace after reopen: %+v %v", n, err)
	}
	s, err = c.GetServer(ctx, root, "/acme")
	if err != nil || !s.Status.Running || s.Threads != 3 || len(s.Listeners) != 1 || s.Listeners[0].Addr != testAddr {
		t.Fatalf("server after reopen: %+v %v", s, err)
	}
	p, err := c.GetServer(ctx, root, "/acme/prod")
	if err != nil || p.Status.Running || p.Threads != 0 {
		t.Fatalf("stopped server after reopen: %+v %v", p, err)
	}
	exps, err := c.ListExports(ctx, root, "/acme")
	if err != nil || len(exps) != 1 || exps[0].ID != 2 || exps[0].Path != "/data" {
		t.Fatalf("exports after reopen: %+v %v", exps, err)
	}
	if st := getattr(t, s.Status.Listening[vserver.ServiceNFS], h); st != 0 {
		t.Fatalf("GETATTR of a handle from before the restart: status %d", st)
	}
	if sc, err := c.Authenticate(ctx, tok.Token); err != nil || sc.Root != "/acme" {
		t.Fatalf("token after reopen: %+v %v", sc, err)
	}
	// The next export ID continues after the highest ever given.
	e, err := c.AddExport(ctx, root, "/acme", ExportSpec{Path: "/again", Dir: data})
	if err != nil || e.ID != 3 {
		t.Fatalf("export after reopen: %+v %v", e, err)
	}
	if c.PoolSize() != 3 {
		t.Fatalf("pool size %d", c.PoolSize())
	}
}

// TestSeed: the seed creates its namespace and server, moves a legacy
// handle key into place, keeps export IDs across starts while the
// directory stays, and is re-applied (flags win) at every start.
func TestSeed(t *testing.T) {
	dir, data, other := t.TempDir(), t.TempDir(), t.TempDir()
	ctx := context.Background()
	legacy := filepath.Join(dir, StateDirName, vserver.KeyFile)
	os.MkdirAll(filepath.Dir(legacy), 0o700)
	key := bytes.Repeat([]byte{7}, 32)
	if err := os.WriteFile(legacy, key, 0o600); err != nil {
		t.Fatal(err)
	}
	threads := 2
	ls := []Listener{{Addr: testAddr}}
	seed := Seed{
		Namespace:     "/tenants/default",
		Patch:         ServerPatch{Threads: &threads, Listeners: &ls},
		Exports:       []ExportSpec{{Path: "/export", Dir: data, Squash: SquashNone}},
		LegacyKeyFile: legacy,
	}
	zero, off := 0, PortOff
	seed.Patch.NFSPort, seed.Patch.MountPort, seed.Patch.PortmapPort = &zero, &zero, &off
	c := open(t, dir, seed)
	s, err := c.GetServer(ctx, root, "/tenants/default")
	if err != nil || !s.Status.Running || s.Threads != 2 {
		t.Fatalf("seeded server: %+v %v", s, err)
	}
	if b, err := os.ReadFile(filepath.Join(c.ServerStateDir(s.UUID), vserver.KeyFile)); err != nil || !bytes.Equal(b, key) {
		t.Fatalf("legacy key not moved: %v", err)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Fatalf("legacy key still there: %v", err)
	}
	// Changes through the API that the seed does not cover survive.
	lease := 30
	if _, err := c.PatchServer(ctx, root, "/tenants/default", ServerPatch{LeaseSeconds: &lease, Threads: new(int)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddExport(ctx, root, "/tenants/default", ExportSpec{Path: "/extra", Dir: other}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	seed.Exports[0].ReadOnly = true
	c = open(t, dir, seed)
	s, _ = c.GetServer(ctx, root, "/tenants/default")
	exps, _ := c.ListExports(ctx, root, "/tenants/default")
	if s.Threads != 2 || s.LeaseSeconds != 30 || !s.Status.Running || len(exps) != 2 || exps[0].ID != 1 || !exps[0].ReadOnly || exps[1].Path != "/extra" {
		t.Fatalf("after the second start: %+v %+v", s, exps)
	}
	c.Close()

	// Another directory under the same export path gets another ID.
	seed.Exports[0].Dir = other
	c = open(t, dir, seed)
	exps, _ = c.ListExports(ctx, root, "/tenants/default")
	if len(exps) != 2 || exps[1].Path != "/export" || exps[1].ID != 3 || exps[1].Dir != other {
		t.Fatalf("after changing the directory: %+v", exps)
	}
	c.Close()

	bad := seed
	bad.Exports = []ExportSpec{{Path: "/export", Dir: filepath.Join(data, "missing")}}
	if _, err := Open(ctx, Options{DataDir: dir, NoSync: true, Seeds: []Seed{bad}}); err == nil {
		t.Fatal("Open with a seed exporting a missing directory succeeded")
	}
}

// TestStateCleanup: a state directory without a server record (left by a
// crash after a delete's commit) is removed at Open, so that a new server
// never inherits an old handle key.
func TestStateCleanup(t *testing.T) {
	dir := t.TempDir()
	orphan := filepath.Join(dir, StateDirName, VserversDirName, "3f1e1a9c-2a43-4d5b-9a7e-2a3a6b1c0d4e")
	other := filepath.Join(dir, StateDirName, VserversDirName, "not-a-uuid")
	for _, d := range []string{orphan, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c := open(t, dir)
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan state kept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("foreign directory removed: %v", err)
	}
	// The same for a namespace whose server is created anew.
	ctx := context.Background()
	n, _ := c.CreateNamespace(ctx, root, "/a")
	stale := filepath.Join(c.ServerStateDir(n.UUID), vserver.KeyFile)
	os.MkdirAll(filepath.Dir(stale), 0o700)
	os.WriteFile(stale, bytes.Repeat([]byte{1}, 32), 0o600)
	if _, _, err := c.PutServer(ctx, root, "/a", quickServer(1, testAddr)); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(stale); err != nil || bytes.Equal(b, bytes.Repeat([]byte{1}, 32)) {
		t.Fatalf("new server kept a stale key: %v", err)
	}
}

func TestRootToken(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := open(t, dir)
	path := c.RootTokenPath()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(b))
	if sc, err := c.Authenticate(ctx, tok); err != nil || sc.Root != "/" {
		t.Fatalf("root token: %+v %v", sc, err)
	}
	c.Close()
	c = open(t, dir)
	if _, err := c.Authenticate(ctx, tok); err != nil {
		t.Fatalf("root token after reopen: %v", err)
	}
	if _, err := c.Authenticate(ctx, "root."+strings.Repeat("A", 43)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("wrong root secret: %v", err)
	}
	c.Close()
	os.Chmod(path, 0o644)
	if _, err := Open(ctx, Options{DataDir: dir, NoSync: true}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable root token: %v", err)
	}
	os.WriteFile(path, []byte("garbage\n"), 0o600)
	if _, err := Open(ctx, Options{DataDir: dir, NoSync: true}); err == nil {
		t.Fatal("garbage root token accepted")
	}
}

// TestCorruptRecord: a record of an unknown format is refused, not
// misread.
func TestCorruptRecord(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := open(t, dir)
	n, _ := c.CreateNamespace(ctx, root, "/a")
	if _, _, err := c.PutServer(ctx, root, "/a", quickServer(0)); err != nil {
		t.Fatal(err)
	}
	err := c.Store().Update(ctx, func(tx store.Tx) error {
		return tx.Put(serverKey(n.UUID), []byte(`{"v":2}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetServer(ctx, root, "/a"); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("GetServer of a v2 record: %v", err)
	}
	c.Close()
	if _, err := Open(ctx, Options{DataDir: dir, NoSync: true}); err == nil {
		t.Fatal("Open with a v2 record succeeded")
	}
}

// TestConcurrentChanges: mutations and reads of many servers at once keep
// the store and the data plane consistent (run with -race).
func TestConcurrentChanges(t *testing.T) {
	c := open(t, t.TempDir())
	ctx := context.Background()
	const n = 6
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("/t%d", i)
		if _, err := c.CreateNamespace(ctx, root, p); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.PutServer(ctx, root, p, quickServer(0, testAddr)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		p := fmt.Sprintf("/t%d", i)
		go func() {
			defer wg.Done()
			for j := 0; j < 8; j++ {
				th := (i + j) % 4
				if _, err := c.PatchServer(ctx, root, p, ServerPatch{Threads: &th}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 8; j++ {
				if _, err := c.GetServer(ctx, root, p); err != nil {
					t.Error(err)
				}
				if _, err := c.ListNamespaces(ctx, root, "/", true); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	want := 0
	for i := 0; i < n; i++ {
		s, err := c.GetServer(ctx, root, fmt.Sprintf("/t%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if s.Status.Running != (s.Threads > 0) {
			t.Fatalf("%s: threads %d, running %v (%s)", s.Namespace, s.Threads, s.Status.Running, s.Status.Error)
		}
		want = max(want, s.Threads)
	}
	if c.PoolSize() != want {
		t.Fatalf("pool size %d, want %d", c.PoolSize(), want)
	}
	if _, err := c.DeleteNamespace(ctx, root, "/t0"); err != nil {
		t.Fatal(err)
	}
}

// TestClosed: after Close, mutations fail.
func TestClosed(t *testing.T) {
	c := open(t, t.TempDir())
	ctx := context.Background()
	c.CreateNamespace(ctx, root, "/a")
	c.Close()
	if _, _, err := c.PutServer(ctx, root, "/a", quickServer(1, testAddr)); err == nil {
		t.Fatal("PutServer after Close succeeded")
	}
}

// TestRecordSizeLimit: a configuration too large for one store value is
// refused as invalid input, not as an internal failure.
func TestRecordSizeLimit(t *testing.T) {
	var clients []string
	for i := 0; i < MaxExportClients; i++ {
		clients = append(clients, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
	}
	rec := newServerRecord()
	for i := 0; i < 300; i++ {
		rec.Exports = append(rec.Exports, Export{ID: uint32(i + 1), Path: fmt.Sprintf("/e%d", i), Dir: "/srv", Squash: SquashRoot, Clients: clients})
	}
	st := store.NewMemory()
	defer st.Close()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		return putServer(tx, "3f1e1a9c-2a43-4d5b-9a7e-2a3a6b1c0d4e", rec)
	})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("oversized record: %v", err)
	}
}
