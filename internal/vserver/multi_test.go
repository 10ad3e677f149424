package vserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// This file tests several vservers in one process: separate addresses,
// separate network namespaces, the shared scheduler hook, and what a
// stopped vserver leaves behind.

// rpcFunc makes one call and returns the results of a successful reply.
type rpcFunc func(prog, vers, proc uint32, args []byte) []byte

func viaAddr(t *testing.T, addr string) rpcFunc {
	return func(prog, vers, proc uint32, args []byte) []byte { return rpcCall(t, addr, prog, vers, proc, args) }
}

func viaClient(t *testing.T, c *oncrpc.Client) rpcFunc {
	return func(prog, vers, proc uint32, args []byte) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cred := oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "vserver-test", UID: 1000, GID: 1000})
		res, err := c.Call(ctx, prog, vers, proc, cred, args)
		if err != nil {
			t.Fatalf("call %d/%d/%d: %v", prog, vers, proc, err)
		}
		return res
	}
}

func mntVia(t *testing.T, call rpcFunc, path string) []byte {
	t.Helper()
	r := xdr.NewReader(call(oncrpc.ProgMount, 3, mount.ProcMnt, enc(func(w *xdr.Writer) { w.String(path) })))
	if st := r.Uint32(); st != uint32(mount.MNT3OK) {
		t.Fatalf("MNT %s: status %d", path, st)
	}
	h := append([]byte(nil), r.Opaque(mount.FHSize3)...)
	if r.Err() != nil {
		t.Fatalf("MNT %s: %v", path, r.Err())
	}
	return h
}

// nfsStatus calls an NFSv3 procedure and returns the nfsstat3 of the
// reply and the rest of the results.
func nfsStatus(t *testing.T, call rpcFunc, proc uint32, args []byte) (uint32, *xdr.Reader) {
	t.Helper()
	r := xdr.NewReader(call(oncrpc.ProgNFS, 3, proc, args))
	st := r.Uint32()
	if r.Err() != nil {
		t.Fatalf("NFS proc %d: %v", proc, r.Err())
	}
	return st, r
}

// lookup calls LOOKUP and returns its status and, if NFS3_OK, the handle.
func lookup(t *testing.T, call rpcFunc, dir []byte, name string) (uint32, []byte) {
	t.Helper()
	st, r := nfsStatus(t, call, nfs3.ProcLOOKUP, enc(func(w *xdr.Writer) { w.Opaque(dir); w.String(name) }))
	if st != nfs3OK {
		return st, nil
	}
	h := append([]byte(nil), r.Opaque(nfs3.FHSize3)...)
	if r.Err() != nil {
		t.Fatalf("LOOKUP %s: %v", name, r.Err())
	}
	return st, h
}

func getattrStatus(t *testing.T, call rpcFunc, h []byte) uint32 {
	t.Helper()
	st, _ := nfsStatus(t, call, nfsProcGetattr, enc(func(w *xdr.Writer) { w.Opaque(h) }))
	return st
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// TestTwoVservers: two vservers on 127.0.0.2 and 127.0.0.3, on the same
// ports, both export /data backed by different directories. Each client
// sees only its own vserver's files, and a handle of one vserver is
// NFS3ERR_BADHANDLE at the other (its MAC is made with the other key;
// nfs3 answers BADHANDLE for a handle that fails verification).
func TestTwoVservers(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	for dir, name := range map[string]string{dirA: "only-in-a", dirB: "only-in-b"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := start(t, Config{Name: "a", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}, StateDir: t.TempDir(),
		Exports: []ExportConfig{{ID: 1, Path: "/data", Dir: dirA}}})
	pa := a.Addrs()
	// The same ports on the other address: nothing but the address
	// tells the two apart.
	b, _ := start(t, Config{Name: "b", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.3")}, StateDir: t.TempDir(),
		NFSPort: int(portOf(t, pa[ServiceNFS])), MountPort: int(portOf(t, pa[ServiceMount])), PortmapPort: int(portOf(t, pa[ServicePortmap])),
		Exports: []ExportConfig{{ID: 1, Path: "/data", Dir: dirB}}})
	pb := b.Addrs()
	if portOf(t, pb[ServiceNFS]) != portOf(t, pa[ServiceNFS]) || !strings.HasPrefix(pb[ServiceNFS], "127.0.0.3:") {
		t.Fatalf("addresses of b: %v (a: %v)", pb, pa)
	}

	type side struct {
		name        string
		nfs, mnt    rpcFunc
		own, others string
		root        []byte
		file        []byte
	}
	sides := []*side{
		{name: "a", nfs: viaAddr(t, pa[ServiceNFS]), mnt: viaAddr(t, pa[ServiceMount]), own: "only-in-a", others: "only-in-b"},
		{name: "b", nfs: viaAddr(t, pb[ServiceNFS]), mnt: viaAddr(t, pb[ServiceMount]), own: "only-in-b", others: "only-in-a"},
	}
	for _, s := range sides {
		s.root = mntVia(t, s.mnt, "/data")
		st, h := lookup(t, s.nfs, s.root, s.own)
		if st != nfs3OK {
			t.Fatalf("%s: LOOKUP %s: status %d", s.name, s.own, st)
		}
		s.file = h
		if st, _ := lookup(t, s.nfs, s.root, s.others); st != uint32(nfs3.NFS3ErrNoEnt) {
			t.Errorf("%s: LOOKUP %s (the other vserver's file): status %d, want NFS3ERR_NOENT", s.name, s.others, st)
		}
	}
	for i, s := range sides {
		o := sides[1-i]
		for what, h := range map[string][]byte{"root": o.root, "file": o.file} {
			if st := getattrStatus(t, s.nfs, h); st != uint32(nfs3.NFS3ErrBadHandle) {
				t.Errorf("%s: GETATTR of %s's %s handle: status %d, want NFS3ERR_BADHANDLE", s.name, o.name, what, st)
			}
			if st := getattrStatus(t, o.nfs, h); st != nfs3OK {
				t.Errorf("%s: GETATTR of its own %s handle: status %d", o.name, what, st)
			}
		}
	}
	// Each portmapper answers for its own vserver only, at its own address.
	res := rpcCall(t, pb[ServicePortmap], oncrpc.ProgPortmap, 4, portmap.RPCBProcGetaddr, enc(func(w *xdr.Writer) {
		w.Uint32(oncrpc.ProgNFS)
		w.Uint32(3)
		w.String("tcp")
		w.String("")
		w.String("")
	}))
	if got, want := xdr.NewReader(res).String(64), portmap.UniversalAddr(netip.MustParseAddrPort(pb[ServiceNFS])); got != want {
		t.Errorf("GETADDR at b = %q, want %q", got, want)
	}
}

// testNetns creates a network namespace with its loopback up and deletes
// it at the end of the test.
func testNetns(t *testing.T) string {
	t.Helper()
	needRoot(t)
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ip(8) not found (Debian package iproute2)")
	}
	var b [4]byte
	rand.Read(b[:])
	name := "vnfsd-test-" + hex.EncodeToString(b[:])
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", name, err, out)
		}
	})
	run("-n", name, "link", "set", "lo", "up")
	return "/run/netns/" + name
}

// dialIn connects to addr from inside the network namespace ns: the
// socket is created by a goroutine whose locked thread has entered the
// namespace, and keeps belonging to it afterwards. (Written apart from
// the server's inNetns on purpose.)
func dialIn(ns, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer self.Close()
		target, err := os.Open(ns)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		c, derr := net.DialTimeout("tcp", addr, 10*time.Second)
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("back to the host namespace: %w", err)} // the thread stays locked and dies
			if c != nil {
				c.Close()
			}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{c, derr}
	}()
	r := <-ch
	return r.c, r.err
}

// highPorts returns a random port p in [40000, 60000) such that nothing
// listens on 127.0.0.1 at p, ..., p+n-1 over TCP in the host namespace.
func highPorts(t *testing.T, n int) int {
	t.Helper()
next:
	for i := 0; i < 100; i++ {
		r, _ := rand.Int(rand.Reader, big.NewInt(20000))
		port := 40000 + int(r.Int64())
		for p := port; p < port+n; p++ {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), 5*time.Second)
			if err == nil {
				c.Close()
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				continue next
			}
		}
		return port
	}
	t.Fatal("no free high ports")
	return 0
}

// TestNetns: a vserver whose listener is in a network namespace the test
// created is reachable from a client in that namespace and not from the
// host's, while a vserver of the same process serves the host namespace.
func TestNetns(t *testing.T) {
	ns := testNetns(t)
	dirNS, dirHost := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dirNS, "in-netns"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	port := highPorts(t, 3)
	inner, stopInner := start(t, Config{Name: "in-netns", StateDir: t.TempDir(), Addrs: []netip.Addr{},
		Listeners: []Listener{{Addr: netip.MustParseAddr("127.0.0.1"), Netns: ns}},
		NFSPort:   port, MountPort: port + 1, PortmapPort: port + 2,
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: dirNS}}})
	host, _ := start(t, Config{Name: "host", StateDir: t.TempDir(), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.4")},
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: dirHost}}})

	want := "127.0.0.1:" + strconv.Itoa(port)
	if a := inner.Addrs()[ServiceNFS]; a != want {
		t.Fatalf("NFS of the vserver in the namespace on %s, want %s", a, want)
	}
	// From the host namespace, nothing listens there.
	for _, p := range []int{port, port + 1, port + 2} {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		if c, err := net.DialTimeout("tcp", addr, 10*time.Second); err == nil {
			c.Close()
			t.Fatalf("host namespace reached %s", addr)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("host namespace dial %s: %v, want ECONNREFUSED", addr, err)
		}
	}

	// From inside: portmapper, MNT, LOOKUP, GETATTR.
	clientIn := func(p int) *oncrpc.Client {
		t.Helper()
		c, err := dialIn(ns, "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("dial in the namespace: %v", err)
		}
		cl := oncrpc.NewClient(c)
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	pm := viaClient(t, clientIn(port+2))
	args := enc(func(w *xdr.Writer) { w.Uint32(oncrpc.ProgNFS); w.Uint32(3); w.Uint32(portmap.IPProtoTCP); w.Uint32(0) })
	if got := xdr.NewReader(pm(oncrpc.ProgPortmap, 2, portmap.PmapProcGetport, args)).Uint32(); got != uint32(port) {
		t.Errorf("GETPORT nfs in the namespace = %d, want %d", got, port)
	}
	nfsIn := viaClient(t, clientIn(port))
	root := mntVia(t, viaClient(t, clientIn(port+1)), "/export")
	if st := getattrStatus(t, nfsIn, root); st != nfs3OK {
		t.Fatalf("GETATTR in the namespace: status %d", st)
	}
	if st, _ := lookup(t, nfsIn, root, "in-netns"); st != nfs3OK {
		t.Fatalf("LOOKUP in the namespace: status %d", st)
	}
	// The vserver in the namespace lists its clients, all from 127.0.0.1.
	clients := inner.Clients()
	if len(clients) != 3 {
		t.Errorf("clients of the vserver in the namespace: %v, want 3 connections", clients)
	}
	for _, c := range clients {
		if c.Remote.Addr() != netip.MustParseAddr("127.0.0.1") || c.Since.IsZero() {
			t.Errorf("client %+v", c)
		}
	}

	// The host vserver of the same process works alongside.
	hp := host.Addrs()
	hroot := mnt(t, hp[ServiceMount], "/export")
	if st, _ := getattr(t, hp[ServiceNFS], hroot); st != nfs3OK {
		t.Fatalf("GETATTR on the host vserver: status %d", st)
	}

	// Stopped: refused in the namespace too.
	stopInner()
	if c, err := dialIn(ns, want); err == nil {
		c.Close()
		t.Fatal("the stopped vserver still accepts in the namespace")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial the stopped vserver: %v, want ECONNREFUSED", err)
	}
}

// TestNetnsErrors: bad namespace paths are refused by New (form) or
// Start (existence, type), with the reason.
func TestNetnsErrors(t *testing.T) {
	needRoot(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		ns, want string
		atStart  bool
	}{
		{"run/netns/x", "must be absolute", false},
		{"/run/netns/../netns/x", "not clean", false},
		{"/run/netns/vnfsd-test-does-not-exist", "no such file", true},
		{file, "not a network namespace", true},
		{"/proc/self/ns/uts", "not a network namespace", true},
	} {
		cfg := Config{Name: "v", StateDir: t.TempDir(), Listeners: []Listener{{Addr: lo, Netns: tc.ns}}}
		s, err := New(cfg)
		if !tc.atStart {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New with netns %q: %v, want %q", tc.ns, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("New with netns %q: %v", tc.ns, err)
		}
		err = s.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start with netns %q: %v, want %q", tc.ns, err, tc.want)
		}
		if cerr := CheckNetns(tc.ns); cerr == nil || !strings.Contains(cerr.Error(), tc.want) {
			t.Errorf("CheckNetns(%q) = %v", tc.ns, cerr)
		}
		s.Shutdown(context.Background())
	}
	if err := CheckNetns("/proc/self/ns/net"); err != nil {
		t.Errorf("CheckNetns of the process's own namespace: %v", err)
	}
}

// countingSched runs every request on a goroutine and counts them.
type countingSched struct{ n atomic.Int64 }

func (c *countingSched) Go(ctx context.Context, fn func()) error {
	c.n.Add(1)
	go fn()
	return nil
}

// refusingSched refuses everything, as a closed queue does.
type refusingSched struct{}

func (refusingSched) Go(ctx context.Context, fn func()) error { return errors.New("queue closed") }

// TestSched: every call of every service, TCP and UDP, goes through the
// vserver's scheduler; with a scheduler that refuses, nothing is served.
func TestSched(t *testing.T) {
	var sc countingSched
	s, _ := start(t, Config{StateDir: t.TempDir(), Sched: &sc, Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	a := s.Addrs()
	h := mnt(t, a[ServiceMount], "/export")
	getattr(t, a[ServiceNFS], h)
	getport(t, a[ServicePortmap], oncrpc.ProgNFS, 3, portmap.IPProtoTCP, false)
	udpCall(t, a[ServiceMountUDP], oncrpc.ProgMount, 3, mount.ProcNull, nil)
	udpCall(t, a[ServicePortmapUDP], oncrpc.ProgPortmap, 2, portmap.PmapProcNull, nil)
	if n := sc.n.Load(); n != 5 {
		t.Fatalf("scheduler ran %d requests, want 5", n)
	}

	r, _ := start(t, Config{StateDir: t.TempDir(), Sched: refusingSched{}, Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, r.Addrs()[ServiceNFS])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Call(ctx, oncrpc.ProgNFS, 3, 0, oncrpc.AuthNoneCred(), nil); err == nil {
		t.Fatal("call answered although the scheduler refused it")
	}
}

// TestVersions: the NFS program answers PROG_MISMATCH with the range of
// Config.Versions.
func TestVersions(t *testing.T) {
	s, _ := start(t, Config{StateDir: t.TempDir(), Versions: []uint32{3}, Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, s.Addrs()[ServiceNFS])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Call(ctx, oncrpc.ProgNFS, 4, 0, oncrpc.AuthNoneCred(), nil)
	var re *oncrpc.RPCError
	if !errors.As(err, &re) || re.AcceptStat != oncrpc.ProgMismatch || re.Low != 3 || re.High != 3 {
		t.Fatalf("NFSv4 NULL: %v, want PROG_MISMATCH 3..3", err)
	}
	cfg := s.Config()
	if len(cfg.Versions) != 1 || cfg.Versions[0] != 3 || s.Lease() != DefaultLease || s.Grace() != DefaultLease {
		t.Fatalf("config %+v, lease %v, grace %v", cfg, s.Lease(), s.Grace())
	}
}

// openFDs counts the descriptors of the process.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestShutdownReleases: right after Shutdown every port refuses
// connections, an open connection is closed, and the vserver's
// goroutines and descriptors are gone.
func TestShutdownReleases(t *testing.T) {
	// Warm up what the runtime opens once (the netpoller).
	if l, err := net.Listen("tcp4", "127.0.0.1:0"); err == nil {
		l.Close()
	}
	fds := openFDs(t)
	goroutines := runtime.NumGoroutine()

	s, err := New(Config{Name: "release", Addrs: loopback, StateDir: t.TempDir(), Logger: testLogger(t),
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := s.Addrs()
	conn, err := net.DialTimeout("tcp", a[ServiceNFS], 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A served call, so that the connection is known to the server.
	h := mnt(t, a[ServiceMount], "/export")
	udpCall(t, a[ServiceMountUDP], oncrpc.ProgMount, 3, mount.ProcNull, nil)
	nc := oncrpc.NewClient(conn)
	if st := getattrStatus(t, viaClient(t, nc), h); st != nfs3OK {
		t.Fatalf("GETATTR: %d", st)
	}
	found := 0
	for _, c := range s.Clients() {
		if c.Remote.String() == conn.LocalAddr().String() && c.Local.String() == a[ServiceNFS] {
			found++
		}
	}
	if found != 1 {
		t.Errorf("clients %v: the open connection from %v listed %d times", s.Clients(), conn.LocalAddr(), found)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{ServiceNFS, ServiceMount, ServicePortmap} {
		if c, err := net.DialTimeout("tcp", a[svc], 10*time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Shutdown", svc)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s after Shutdown: %v, want ECONNREFUSED", svc, err)
		}
	}
	if _, err := nc.Call(ctx, oncrpc.ProgNFS, 3, 0, oncrpc.AuthNoneCred(), nil); err == nil {
		t.Error("the connection still answers after Shutdown")
	}
	nc.Close()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("Start after Shutdown succeeded")
	}
	if n := openFDs(t); n != fds {
		t.Errorf("%d descriptors open after Shutdown, %d before Start", n, fds)
	}
	// Goroutines that have signalled their end may not have exited yet:
	// wait for the count to come back (a leak never does).
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Shutdown, %d before Start:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
}

// TestUDPIdle: a UDP socket whose serving loop has gone idle (and given
// back its receive buffer) is served again when the next datagram comes,
// any number of times.
func TestUDPIdle(t *testing.T) {
	s, err := New(Config{Name: "idle", Addrs: loopback, StateDir: t.TempDir(), Logger: testLogger(t),
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: t.TempDir()}}})
	if err != nil {
		t.Fatal(err)
	}
	idle := make(chan struct{}, 16)
	s.udpIdle = 20 * time.Millisecond
	s.testHookUDPIdle = func() { idle <- struct{}{} }
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	a := s.Addrs()
	for i := 0; i < 3; i++ {
		udpCall(t, a[ServiceMountUDP], oncrpc.ProgMount, 3, mount.ProcNull, nil)
		<-idle // the loop ended and waits for the next datagram
	}
	res := udpCall(t, a[ServiceMountUDP], oncrpc.ProgMount, 3, mount.ProcDump, nil)
	if r := xdr.NewReader(res); r.Bool() || r.Err() != nil {
		t.Fatalf("DUMP over UDP after idling: %v", r.Err())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
