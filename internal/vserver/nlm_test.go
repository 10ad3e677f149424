package vserver

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/nlm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// nlmClient is an NLM caller from a given loopback source address.
type nlmClient struct {
	t    *testing.T
	c    *oncrpc.Client
	name string
	svid int32
}

func dialNLMFrom(t *testing.T, addr string, src string, svid int32) *nlmClient {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	c := oncrpc.NewClient(nc)
	t.Cleanup(func() { c.Close() })
	return &nlmClient{t: t, c: c, name: src, svid: svid}
}

func (n *nlmClient) call(proc uint32, args []byte) *xdr.Reader {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cred := oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: n.name, UID: 1000, GID: 1000})
	res, err := n.c.Call(ctx, oncrpc.ProgNLM, 4, proc, cred, args)
	if err != nil {
		n.t.Fatalf("NLM proc %d: %v", proc, err)
	}
	r := xdr.NewReader(res)
	r.Opaque(nlm.MaxNetobj) // cookie
	return r
}

func (n *nlmClient) lock4(fh []byte, off, length uint64) nlm.Lock4 {
	return nlm.Lock4{CallerName: n.name, FH: fh, OH: []byte("owner-" + n.name), Svid: n.svid, Offset: off, Len: length}
}

func (n *nlmClient) lock(fh []byte, reclaim bool) nlm.Stat {
	a := nlm.LockArgs{Cookie: []byte{1}, Exclusive: true, Lock: n.lock4(fh, 0, 100), Reclaim: reclaim, State: 1}
	r := n.call(nlm.ProcLock, enc(a.Encode))
	return nlm.Stat(r.Uint32())
}

func (n *nlmClient) test(fh []byte) (nlm.Stat, int32) {
	a := nlm.TestArgs{Cookie: []byte{2}, Exclusive: true, Lock: n.lock4(fh, 50, 10)}
	r := n.call(nlm.ProcTest, enc(a.Encode))
	st := nlm.Stat(r.Uint32())
	var svid int32
	if st == nlm.Denied {
		r.Bool() // exclusive
		svid = r.Int32()
	}
	return st, svid
}

// TestNLMPerVserver: NLM and NSM (on one port) are registered with the
// vserver's portmapper; a (re)started vserver holds its own grace period (only
// reclaims), which another vserver in the same process does not share;
// a conflicting lock of another client is refused and TEST names the
// holder; unlocking by client address frees that client's locks only.
func TestNLMPerVserver(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o666); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "a", StateDir: t.TempDir(), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.41")},
		Exports: []ExportConfig{{ID: 1, Path: "/data", Dir: dir}}}
	a, _ := start(t, cfg)
	b, _ := start(t, Config{Name: "b", StateDir: t.TempDir(), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.42")},
		Exports: []ExportConfig{{ID: 1, Path: "/data", Dir: t.TempDir()}}})

	addrs := a.Addrs()
	for _, svc := range []struct {
		name string
		prog uint32
		vers uint32
	}{{ServiceNLM, oncrpc.ProgNLM, 4}, {ServiceNLM, oncrpc.ProgNSM, 1}} {
		want := netip.MustParseAddrPort(addrs[svc.name]).Port()
		if got := getport(t, addrs[ServicePortmap], svc.prog, svc.vers, 6, false); got != uint32(want) {
			t.Fatalf("GETPORT %s = %d, listening on %s", svc.name, got, addrs[svc.name])
		}
	}

	call := viaAddr(t, addrs[ServiceMount])
	root := mntVia(t, call, "/data")
	st, fh := lookup(t, viaAddr(t, addrs[ServiceNFS]), root, "f")
	if st != nfs3OK {
		t.Fatalf("LOOKUP f: %d", st)
	}
	c1 := dialNLMFrom(t, addrs[ServiceNLM], "127.0.0.1", 11)
	c2 := dialNLMFrom(t, addrs[ServiceNLM], "127.0.0.5", 22)

	// Just started: grace. New locks refused, reclaims granted.
	if !a.LockStats().InGrace || !b.LockStats().InGrace {
		t.Fatal("a started vserver is not in its grace period")
	}
	if got := c1.lock(fh, false); got != nlm.DeniedGracePeriod {
		t.Fatalf("new lock during grace: %v, want NLM4_DENIED_GRACE_PERIOD", got)
	}
	if got := c1.lock(fh, true); got != nlm.Granted {
		t.Fatalf("reclaim during grace: %v", got)
	}
	a.locks.EndGrace()

	// Vserver b restarts: a is not affected.
	b2 := restartVserver(t, b)
	if !b2.LockStats().InGrace {
		t.Fatal("restarted vserver b not in grace")
	}
	if a.LockStats().InGrace {
		t.Fatal("vserver a entered grace when b restarted")
	}

	if got := c2.lock(fh, false); got != nlm.Denied {
		t.Fatalf("conflicting lock: %v, want NLM4_DENIED", got)
	}
	if got, svid := c2.test(fh); got != nlm.Denied || svid != 11 {
		t.Fatalf("TEST: %v holder svid %d, want DENIED by svid 11", got, svid)
	}
	// Unlock by an address that holds nothing changes nothing.
	if n, err := a.UnlockClient(netip.MustParseAddr("127.0.0.9")); err != nil || n != 0 {
		t.Fatalf("UnlockClient of a stranger: %d %v", n, err)
	}
	if got := c2.lock(fh, false); got != nlm.Denied {
		t.Fatalf("lock after unrelated unlock: %v", got)
	}
	if n, err := a.UnlockClient(netip.MustParseAddr("127.0.0.1")); err != nil || n == 0 {
		t.Fatalf("UnlockClient 127.0.0.1: %d %v", n, err)
	}
	if got := c2.lock(fh, false); got != nlm.Granted {
		t.Fatalf("lock after the holder's locks were dropped: %v", got)
	}
	// And c2's lock is not touched by unlocking c1 again; unlock_fs drops it.
	a.UnlockClient(netip.MustParseAddr("127.0.0.1"))
	if got := c1.lock(fh, false); got != nlm.Denied {
		t.Fatalf("c1 lock while c2 holds: %v", got)
	}
	if n, err := a.UnlockExport("/data"); err != nil || n == 0 {
		t.Fatalf("UnlockExport: %d %v", n, err)
	}
	if _, err := a.UnlockExport("/nope"); err == nil {
		t.Fatal("UnlockExport of an unknown export succeeded")
	}
	if got := c1.lock(fh, false); got != nlm.Granted {
		t.Fatalf("c1 lock after unlock_fs: %v", got)
	}
}

// restartVserver shuts s down and starts a new vserver with its config.
func restartVserver(t *testing.T, s *Server) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config()
	cfg.Addrs = nil // the normalised config lists them in Listeners
	n, _ := start(t, cfg)
	return n
}
