package vserver

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Protocol numbers used by the tests (RFC 1813).
const (
	nfsProcGetattr   = 1
	nfs3OK           = 0
	nfs3ErrBadHandle = 10001
	nf3Dir           = 2
)

var loopback = []netip.Addr{netip.MustParseAddr("127.0.0.1")}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start runs a vserver on 127.0.0.1 with system-chosen ports until the
// end of the test (or an explicit stop).
func start(t *testing.T, cfg Config) (*Server, func()) {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.Addrs == nil {
		cfg.Addrs = loopback
	}
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return s, stop
}

func portOf(t *testing.T, addr string) uint32 {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(ap.Port())
}

func getport(t *testing.T, pmapAddr string, prog, vers, prot uint32, udp bool) uint32 {
	t.Helper()
	args := enc(func(w *xdr.Writer) { w.Uint32(prog); w.Uint32(vers); w.Uint32(prot); w.Uint32(0) })
	var res []byte
	if udp {
		res = udpCall(t, pmapAddr, oncrpc.ProgPortmap, 2, portmap.PmapProcGetport, args)
	} else {
		res = rpcCall(t, pmapAddr, oncrpc.ProgPortmap, 2, portmap.PmapProcGetport, args)
	}
	r := xdr.NewReader(res)
	port := r.Uint32()
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return port
}

// mnt mounts path over TCP and returns the root handle.
func mnt(t *testing.T, mountAddr, path string) []byte {
	t.Helper()
	res := rpcCall(t, mountAddr, oncrpc.ProgMount, 3, mount.ProcMnt, enc(func(w *xdr.Writer) { w.String(path) }))
	r := xdr.NewReader(res)
	if st := r.Uint32(); st != uint32(mount.MNT3OK) {
		t.Fatalf("MNT %s: status %d", path, st)
	}
	h := r.Opaque(mount.FHSize3)
	flavors := r.ArrayLen(16, 4)
	if r.Err() != nil || flavors != 1 || r.Uint32() != oncrpc.AuthSys {
		t.Fatalf("MNT %s: bad mountres3_ok (%v)", path, r.Err())
	}
	return append([]byte(nil), h...)
}

type fattr struct {
	typ, mode, nlink, uid, gid uint32
	size                       uint64
	fileid                     uint64
}

// getattr calls NFSPROC3_GETATTR and returns the status and, if OK, some
// of the attributes.
func getattr(t *testing.T, nfsAddr string, h []byte) (uint32, fattr) {
	t.Helper()
	res := rpcCall(t, nfsAddr, oncrpc.ProgNFS, 3, nfsProcGetattr, enc(func(w *xdr.Writer) { w.Opaque(h) }))
	r := xdr.NewReader(res)
	st := r.Uint32()
	if st != nfs3OK {
		return st, fattr{}
	}
	var a fattr
	a.typ, a.mode, a.nlink, a.uid, a.gid = r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32()
	a.size = r.Uint64()
	r.Uint64()            // used
	r.Uint32()            // rdev
	r.Uint32()            //
	r.Uint64()            // fsid
	a.fileid = r.Uint64() //
	for i := 0; i < 6; i++ {
		r.Uint32() // atime, mtime, ctime
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Fatalf("GETATTR: bad fattr3: %v, %d bytes left", r.Err(), r.Len())
	}
	return st, a
}

type dumpEntry struct{ host, path string }

func dump(t *testing.T, mountAddr string, udp bool) []dumpEntry {
	t.Helper()
	var res []byte
	if udp {
		res = udpCall(t, mountAddr, oncrpc.ProgMount, 3, mount.ProcDump, nil)
	} else {
		res = rpcCall(t, mountAddr, oncrpc.ProgMount, 3, mount.ProcDump, nil)
	}
	r := xdr.NewReader(res)
	list := []dumpEntry{}
	for r.Bool() {
		list = append(list, dumpEntry{r.String(mount.MNTNameLen), r.String(mount.MNTPathLen)})
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return list
}

// TestMountGetattrRestart is the path a client takes: ask the portmapper
// for the NFS and MOUNT ports, mount /export, GETATTR the root handle,
// unmount; then restart the vserver on the same state directory and use
// the old handle again.
func TestMountGetattrRestart(t *testing.T) {
	state := t.TempDir()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{StateDir: state, Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: dir, Squash: export.NoRootSquash}}}
	s, stop := start(t, cfg)
	addrs := s.Addrs()
	for _, k := range []string{ServiceNFS, ServiceMount, ServiceMountUDP, ServicePortmap, ServicePortmapUDP} {
		if addrs[k] == "" {
			t.Fatalf("no address for %s: %v", k, addrs)
		}
	}
	if addrs[ServiceMount] != addrs[ServiceMountUDP] || addrs[ServicePortmap] != addrs[ServicePortmapUDP] {
		t.Fatalf("TCP and UDP on different ports: %v", addrs)
	}
	pm := addrs[ServicePortmap]

	// Portmapper, version 2, over TCP and UDP.
	for _, udp := range []bool{false, true} {
		if p := getport(t, pm, oncrpc.ProgNFS, 3, portmap.IPProtoTCP, udp); p != portOf(t, addrs[ServiceNFS]) {
			t.Errorf("GETPORT nfs/tcp = %d, nfs listens on %s", p, addrs[ServiceNFS])
		}
		if p := getport(t, pm, oncrpc.ProgMount, 3, portmap.IPProtoTCP, udp); p != portOf(t, addrs[ServiceMount]) {
			t.Errorf("GETPORT mount/tcp = %d, mount listens on %s", p, addrs[ServiceMount])
		}
		if p := getport(t, pm, oncrpc.ProgMount, 3, portmap.IPProtoUDP, udp); p != portOf(t, addrs[ServiceMountUDP]) {
			t.Errorf("GETPORT mount/udp = %d, mount listens on %s", p, addrs[ServiceMountUDP])
		}
		if p := getport(t, pm, oncrpc.ProgPortmap, 2, portmap.IPProtoUDP, udp); p != portOf(t, addrs[ServicePortmapUDP]) {
			t.Errorf("GETPORT portmap/udp = %d, portmap listens on %s", p, addrs[ServicePortmapUDP])
		}
		if p := getport(t, pm, oncrpc.ProgNFS, 3, portmap.IPProtoUDP, udp); p != 0 {
			t.Errorf("GETPORT nfs/udp = %d, want 0 (NFS is TCP only)", p)
		}
	}
	// rpcbind version 4 GETADDR: the universal address of the NFS port
	// on the address the call arrived on.
	res := rpcCall(t, pm, oncrpc.ProgPortmap, 4, portmap.RPCBProcGetaddr, enc(func(w *xdr.Writer) {
		w.Uint32(oncrpc.ProgNFS)
		w.Uint32(3)
		w.String("tcp")
		w.String("")
		w.String("")
	}))
	nfsAP := netip.MustParseAddrPort(addrs[ServiceNFS])
	if got, want := xdr.NewReader(res).String(64), portmap.UniversalAddr(nfsAP); got != want {
		t.Errorf("GETADDR nfs = %q, want %q", got, want)
	}

	// MOUNT over TCP, GETATTR, DUMP, UMNT.
	h := mnt(t, addrs[ServiceMount], "/export")
	st, a := getattr(t, addrs[ServiceNFS], h)
	if st != nfs3OK || a.typ != nf3Dir || a.mode&0o777 != 0o755 {
		t.Fatalf("GETATTR of the root handle: status %d, attributes %+v", st, a)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(inode(fi)); a.fileid != want {
		t.Errorf("fileid %d, the directory's inode is %d", a.fileid, want)
	}
	if got := dump(t, addrs[ServiceMount], true); len(got) != 1 || got[0] != (dumpEntry{"127.0.0.1", "/export"}) {
		t.Errorf("DUMP after MNT: %v", got)
	}
	rpcCall(t, addrs[ServiceMount], oncrpc.ProgMount, 3, mount.ProcUmnt, enc(func(w *xdr.Writer) { w.String("/export") }))
	if got := dump(t, addrs[ServiceMount], false); len(got) != 0 {
		t.Errorf("DUMP after UMNT: %v", got)
	}

	// MNT over UDP gives the same handle.
	res = udpCall(t, addrs[ServiceMountUDP], oncrpc.ProgMount, 3, mount.ProcMnt, enc(func(w *xdr.Writer) { w.String("/export") }))
	r := xdr.NewReader(res)
	if st := r.Uint32(); st != 0 || !bytes.Equal(r.Opaque(64), h) {
		t.Fatalf("MNT over UDP: status %d, other handle", st)
	}

	// Restart on the same state directory: the old handle still works.
	stop()
	s2, _ := start(t, cfg)
	st, a2 := getattr(t, s2.Addrs()[ServiceNFS], h)
	if st != nfs3OK || a2.fileid != a.fileid {
		t.Fatalf("old handle after restart: status %d, fileid %d (was %d)", st, a2.fileid, a.fileid)
	}
}

// TestHandleConfinedToExport: a handle of export 1 with export 2's id
// written into it, a handle with a flipped bit and a handle of another
// vserver are all BADHANDLE.
func TestHandleConfinedToExport(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	s, _ := start(t, Config{StateDir: t.TempDir(), Exports: []ExportConfig{
		{ID: 1, Path: "/one", Dir: d1},
		{ID: 2, Path: "/two", Dir: d2},
	}})
	addrs := s.Addrs()
	h1 := mnt(t, addrs[ServiceMount], "/one")
	h2 := mnt(t, addrs[ServiceMount], "/two")
	for _, h := range [][]byte{h1, h2} {
		if st, _ := getattr(t, addrs[ServiceNFS], h); st != nfs3OK {
			t.Fatalf("GETATTR of a fresh root handle: status %d", st)
		}
	}
	// Handle layout (package fh): version, id length, export id (4 bytes).
	swapped := append([]byte(nil), h1...)
	copy(swapped[2:6], h2[2:6])
	if bytes.Equal(swapped, h1) {
		t.Fatal("export ids of the two handles are equal")
	}
	flipped := append([]byte(nil), h1...)
	flipped[len(flipped)-1] ^= 1

	other, _ := start(t, Config{StateDir: t.TempDir(), Exports: []ExportConfig{{ID: 1, Path: "/one", Dir: d1}}})
	foreign := mnt(t, other.Addrs()[ServiceMount], "/one")

	for name, h := range map[string][]byte{"export id replaced": swapped, "bit flipped": flipped, "other vserver": foreign, "truncated": h1[:len(h1)-1]} {
		if st, _ := getattr(t, addrs[ServiceNFS], h); st != nfs3ErrBadHandle {
			t.Errorf("%s: GETATTR status %d, want NFS3ERR_BADHANDLE", name, st)
		}
	}
}

// TestNFSPortAnswersNoMount: each service has its own listeners.
func TestNFSPortAnswersNoMount(t *testing.T) {
	s, _ := start(t, Config{StateDir: t.TempDir(), Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, s.Addrs()[ServiceNFS])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Call(ctx, oncrpc.ProgMount, 3, mount.ProcNull, oncrpc.AuthNoneCred(), nil); err == nil {
		t.Fatal("MOUNT NULL answered on the NFS port")
	}
}

func TestDisabledServices(t *testing.T) {
	s, _ := start(t, Config{StateDir: t.TempDir(), MountPort: Disabled, PortmapPort: Disabled, NLMPort: Disabled,
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	addrs := s.Addrs()
	if len(addrs) != 1 || addrs[ServiceNFS] == "" {
		t.Fatalf("addresses %v, want NFS only", addrs)
	}
	rpcCall(t, addrs[ServiceNFS], oncrpc.ProgNFS, 3, 0, nil)
}

// TestFixedPorts: a fixed port is used as given, for TCP and UDP alike.
func TestFixedPorts(t *testing.T) {
	port := freePort(t)
	s, _ := start(t, Config{StateDir: t.TempDir(), MountPort: port, PortmapPort: Disabled,
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	want := "127.0.0.1:" + strconv.Itoa(port)
	if a := s.Addrs(); a[ServiceMount] != want || a[ServiceMountUDP] != want {
		t.Fatalf("addresses %v, want mount on %s", a, want)
	}
	// The port is taken now: a second vserver on it fails to start and
	// says which service.
	s2, err := New(Config{Name: "second", Addrs: loopback, StateDir: t.TempDir(), MountPort: port, PortmapPort: Disabled,
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "mount") {
		s2.Shutdown(context.Background())
		t.Fatalf("second vserver on a taken port: %v", err)
	}
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown after failed start: %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		pc, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			pc.Close()
			return port
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ok := func() Config {
		return Config{Name: "v", Addrs: loopback, StateDir: t.TempDir(),
			Exports: []ExportConfig{{ID: 1, Path: "/a", Dir: dir}}}
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "no name"},
		{"no address", func(c *Config) { c.Addrs = nil }, "no listen address"},
		{"invalid address", func(c *Config) { c.Addrs = []netip.Addr{{}} }, "invalid listen address"},
		{"address twice", func(c *Config) { c.Addrs = append(loopback, loopback...) }, "given twice"},
		{"no state dir", func(c *Config) { c.StateDir = "" }, "no state directory"},
		{"nfs disabled", func(c *Config) { c.NFSPort = Disabled }, "nfs port -1"},
		{"port too big", func(c *Config) { c.MountPort = 65536 }, "mount port 65536"},
		{"negative port", func(c *Config) { c.PortmapPort = -2 }, "portmap port -2"},
		{"MaxIO small", func(c *Config) { c.MaxIO = 512 }, "MaxIO"},
		{"MaxIO big", func(c *Config) { c.MaxIO = 1 << 30 }, "MaxIO"},
		{"relative export path", func(c *Config) { c.Exports[0].Path = "a" }, "must be absolute"},
		{"no export dir", func(c *Config) { c.Exports[0].Dir = "" }, "no directory"},
		{"export id twice", func(c *Config) { c.Exports = append(c.Exports, ExportConfig{ID: 1, Path: "/b", Dir: dir}) }, "id 1 already used"},
		{"export path twice", func(c *Config) { c.Exports = append(c.Exports, ExportConfig{ID: 2, Path: "/a/", Dir: dir}) }, "given twice"},
		{"bad squash", func(c *Config) { c.Exports[0].Squash = 7 }, "unknown squash"},
		{"listener twice", func(c *Config) { c.Listeners = []Listener{{Addr: loopback[0]}} }, "given twice"},
		{"netns listener twice", func(c *Config) {
			c.Listeners = []Listener{{Addr: loopback[0], Netns: "/run/netns/x"}, {Addr: netip.MustParseAddr("::ffff:127.0.0.1"), Netns: "/run/netns/x"}}
		}, "127.0.0.1 in /run/netns/x given twice"},
		{"invalid listener", func(c *Config) { c.Listeners = []Listener{{Netns: "/run/netns/x"}} }, "invalid listen address"},
		{"relative netns", func(c *Config) { c.Listeners = []Listener{{Addr: loopback[0], Netns: "netns/x"}} }, "must be absolute"},
		{"no listener", func(c *Config) { c.Addrs, c.Listeners = nil, []Listener{} }, "no listen address"},
		{"NFSv4.3", func(c *Config) { c.Versions, c.Minor4 = []uint32{3, 4}, []uint32{1, 3} }, "NFSv4 minor version 3 not supported"},
		{"NFSv2", func(c *Config) { c.Versions = []uint32{2} }, "NFS version 2 not supported"},
		{"version twice", func(c *Config) { c.Versions = []uint32{3, 3} }, "NFS version 3 given twice"},
		{"lease short", func(c *Config) { c.Lease = 9 * time.Second }, "lease time 9s"},
		{"lease long", func(c *Config) { c.Lease = time.Hour + 1 }, "lease time"},
		{"grace negative", func(c *Config) { c.Grace = -time.Second }, "grace time -1s"},
		{"grace long", func(c *Config) { c.Grace = 2 * time.Hour }, "grace time 2h0m0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.change(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(ok()); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	// The same address in another namespace, limits of lease and grace.
	c := ok()
	c.Listeners = []Listener{{Addr: loopback[0], Netns: "/run/netns/x"}, {Addr: netip.MustParseAddr("::1")}}
	c.Lease, c.Grace, c.Versions = MinLease, MaxLease, []uint32{3}
	s, err := New(c)
	if err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	got := s.Config()
	wantLs := []Listener{{Addr: loopback[0]}, {Addr: loopback[0], Netns: "/run/netns/x"}, {Addr: netip.MustParseAddr("::1")}}
	if !slices.Equal(got.Listeners, wantLs) || !slices.Equal(got.Addrs, []netip.Addr{loopback[0], netip.MustParseAddr("::1")}) {
		t.Errorf("normalized listeners %v, addrs %v; want listeners %v", got.Listeners, got.Addrs, wantLs)
	}
	if s.Lease() != MinLease || s.Grace() != MaxLease {
		t.Errorf("lease %v, grace %v", s.Lease(), s.Grace())
	}
}

// TestStateDir: New creates the state directory and the key, and a second
// New reads the same key (the handle codecs agree).
func TestStateDir(t *testing.T) {
	state := filepath.Join(t.TempDir(), "a", "state")
	c := Config{Name: "v", Addrs: loopback, StateDir: state}
	s1, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(state, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	s2, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	h := s1.Handles().Encode(9, []byte("object"))
	if id, obj, err := s2.Handles().Decode(h); err != nil || id != 9 || string(obj) != "object" {
		t.Fatalf("handle of the first instance refused by the second: %v", err)
	}
	if s1.writeVerf == s2.writeVerf {
		t.Fatal("two instances drew the same write verifier")
	}
	if err := os.WriteFile(filepath.Join(state, KeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}

func TestDefaults(t *testing.T) {
	s, err := New(Config{Name: "v", Addrs: loopback, StateDir: t.TempDir(),
		Exports: []ExportConfig{{ID: 1, Path: "/a/", Dir: "/nonexistent"}}})
	if err != nil {
		t.Fatal(err)
	}
	e := s.cfg.Exports[0]
	if e.Path != "/a" || e.AnonUID != export.Nobody || e.AnonGID != export.Nobody || s.cfg.MaxIO != DefaultMaxIO {
		t.Fatalf("defaults not applied: %+v, MaxIO %d", e, s.cfg.MaxIO)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		s.Shutdown(context.Background())
		t.Fatalf("start with a missing export directory: %v", err)
	}
}

func inode(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }

// TestShowmount lists exports and mounts with showmount(8) of nfs-utils
// (Debian package nfs-common), which asks the portmapper on port 111 for
// MOUNT version 1 and calls EXPORT and DUMP.
func TestShowmount(t *testing.T) {
	showmount, err := exec.LookPath("showmount")
	if err != nil {
		t.Skip("showmount not found: install Debian package nfs-common (its daemons need not run)")
	}
	const host = "127.0.0.72" // showmount always asks port 111
	cfg := Config{Name: "showmount", Addrs: []netip.Addr{netip.MustParseAddr(host)}, StateDir: t.TempDir(),
		PortmapPort: 111, Logger: testLogger(t),
		Exports: []ExportConfig{
			{ID: 1, Path: "/export", Dir: t.TempDir()},
			{ID: 2, Path: "/limited", Dir: t.TempDir(), Clients: []netip.Prefix{
				netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}},
		}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Skipf("cannot start on %s:111 (not root, or an rpcbind listens there): %v", host, err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	mnt(t, s.Addrs()[ServiceMount], "/limited")
	client := dump(t, s.Addrs()[ServiceMount], false)[0].host

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, showmount, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("showmount %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("-e", host)
	for _, want := range []string{"/export  (everyone)", "/limited 127.0.0.0/8,192.168.1.7"} {
		if !strings.Contains(out, want) {
			t.Errorf("showmount -e lacks %q:\n%s", want, out)
		}
	}
	out = run("-a", host)
	if want := client + ":/limited"; !strings.Contains(out, want) {
		t.Errorf("showmount -a lacks %q:\n%s", want, out)
	}
}

// TestDualStack: a vserver on an IPv4 and an IPv6 address serves each
// service on one port on both, and its portmapper registers tcp6/udp6
// entries and answers with the address family the call arrived on.
func TestDualStack(t *testing.T) {
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		l.Close()
	}
	s, _ := start(t, Config{StateDir: t.TempDir(), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	addrs := s.Addrs()
	nfsPort := portOf(t, addrs[ServiceNFS])
	pm6 := net.JoinHostPort("::1", strconv.Itoa(int(portOf(t, addrs[ServicePortmap]))))
	rpcCall(t, net.JoinHostPort("::1", strconv.Itoa(int(nfsPort))), oncrpc.ProgNFS, 3, 0, nil)

	getaddr := func(addr string, udp bool, prog uint32) string {
		args := enc(func(w *xdr.Writer) { w.Uint32(prog); w.Uint32(3); w.String(""); w.String(""); w.String("") })
		var res []byte
		if udp {
			res = udpCall(t, addr, oncrpc.ProgPortmap, 4, portmap.RPCBProcGetaddr, args)
		} else {
			res = rpcCall(t, addr, oncrpc.ProgPortmap, 4, portmap.RPCBProcGetaddr, args)
		}
		return xdr.NewReader(res).String(portmap.MaxUaddrLen)
	}
	mountPort := uint16(portOf(t, addrs[ServiceMount]))
	for _, tc := range []struct {
		addr string
		udp  bool
		prog uint32
		want string
	}{
		{addrs[ServicePortmap], false, oncrpc.ProgNFS, portmap.UniversalAddr(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(nfsPort)))},
		{pm6, false, oncrpc.ProgNFS, portmap.UniversalAddr(netip.AddrPortFrom(netip.IPv6Loopback(), uint16(nfsPort)))},
		{pm6, true, oncrpc.ProgMount, portmap.UniversalAddr(netip.AddrPortFrom(netip.IPv6Loopback(), mountPort))},
		{pm6, true, oncrpc.ProgNFS, ""}, // no NFS over UDP
	} {
		if got := getaddr(tc.addr, tc.udp, tc.prog); got != tc.want {
			t.Errorf("GETADDR %d via %s (udp %v) = %q, want %q", tc.prog, tc.addr, tc.udp, got, tc.want)
		}
	}
	if p := getport(t, pm6, oncrpc.ProgNFS, 3, portmap.IPProtoTCP, false); p != nfsPort {
		t.Errorf("GETPORT over IPv6 = %d, want %d", p, nfsPort)
	}
	// DUMP over IPv4 lists the tcp6 entry of NFS with the IPv6 address.
	res := rpcCall(t, addrs[ServicePortmap], oncrpc.ProgPortmap, 3, portmap.RPCBProcDump, nil)
	r := xdr.NewReader(res)
	found := false
	for r.Bool() {
		prog, vers, netid, uaddr := r.Uint32(), r.Uint32(), r.String(64), r.String(128)
		r.String(256)
		if prog == oncrpc.ProgNFS && vers == 3 && netid == "tcp6" {
			found = uaddr == portmap.UniversalAddr(netip.AddrPortFrom(netip.IPv6Loopback(), uint16(nfsPort)))
		}
	}
	if r.Err() != nil || !found {
		t.Fatalf("DUMP over IPv4 lacks nfs/tcp6 at ::1 (%v)", r.Err())
	}
}
