package nsm

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

const waitFor = 10 * time.Second

// peer is a fake host: an RPC server with a real portmapper and one
// program that records its calls.
type peer struct {
	addr  netip.Addr
	port  uint16
	srv   *oncrpc.Server
	calls chan *oncrpc.Call
	hang  chan struct{}
}

// newPeer serves prog/vers at addr; with hang set its calls never return
// (until the test ends).
func newPeer(t *testing.T, addr netip.Addr, prog, vers uint32, hang bool) *peer {
	t.Helper()
	p := &peer{addr: addr, calls: make(chan *oncrpc.Call, 100), hang: make(chan struct{})}
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).AddrPort().Port()
	pm, err := portmap.New(portmap.Config{Mappings: []portmap.Mapping{{Prog: prog, Vers: vers, Netid: "tcp", Port: p.port}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := oncrpc.NewMux()
	mux.Register(pm.Program(portmap.TCP))
	mux.Register(oncrpc.Program{Name: "peer", Prog: prog, Low: vers, High: vers,
		Handler: oncrpc.HandlerFunc(func(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
			c := *call
			c.Args = bytes.Clone(call.Args)
			p.calls <- &c
			if hang {
				<-p.hang
				return oncrpc.ErrDrop
			}
			return nil
		})})
	p.srv = &oncrpc.Server{Mux: mux}
	go p.srv.Serve(l)
	t.Cleanup(func() {
		close(p.hang)
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		p.srv.Shutdown(ctx)
	})
	return p
}

func (p *peer) next(t *testing.T) *oncrpc.Call {
	t.Helper()
	select {
	case c := <-p.calls:
		return c
	case <-time.After(waitFor):
		t.Fatalf("peer %v: no call within %v", p.addr, waitFor)
		return nil
	}
}

// dialer sends port 111 of a peer's address to the peer's port.
func dialer(peers ...*peer) Dialer {
	return func(ctx context.Context, local netip.Addr, remote netip.AddrPort) (net.Conn, error) {
		if remote.Port() == PortmapPort {
			for _, p := range peers {
				if p.addr == remote.Addr() {
					return DialTCP(ctx, local, netip.AddrPortFrom(p.addr, p.port))
				}
			}
			return nil, syscall.ECONNREFUSED
		}
		return DialTCP(ctx, local, remote)
	}
}

func newNSM(t *testing.T, cfg Config) *NSM {
	t.Helper()
	if cfg.State == nil {
		cfg.State = &MemStore{}
	}
	if cfg.Dial == nil {
		cfg.Dial = func(context.Context, netip.Addr, netip.AddrPort) (net.Conn, error) {
			return nil, syscall.ECONNREFUSED
		}
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

var (
	ip1 = netip.MustParseAddr("127.0.0.2")
	ip2 = netip.MustParseAddr("127.0.0.3")
	ip3 = netip.MustParseAddr("127.0.0.4")
	ip4 = netip.MustParseAddr("127.0.0.5")
	srv = netip.MustParseAddr("127.0.0.1")
)

type errStore struct{ MemStore }

func (*errStore) Save(int32, []Host) error { return errors.New("disk full") }

func TestStateNumbers(t *testing.T) {
	for _, c := range []struct{ from, want int32 }{{0, 1}, {1, 3}, {4, 5}, {7, 9}, {1<<31 - 1, 1}} {
		// A monitored host: the new state must be stored before anyone
		// is told of it.
		st := &MemStore{state: c.from, hosts: []Host{{Name: "h", Addr: ip1}}}
		n := newNSM(t, Config{State: st, NotifyAttempts: 1, NotifyTimeout: 50 * time.Millisecond})
		done, err := n.Restarted(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		<-done
		if n.State() != c.want || st.state != c.want {
			t.Errorf("from %d: state %d, stored %d, want %d", c.from, n.State(), st.state, c.want)
		}
	}
	// Nobody monitored: the state is raised but not written.
	quiet := &MemStore{state: 5}
	n := newNSM(t, Config{State: quiet})
	if _, err := n.Restarted(context.Background()); err != nil || n.State() != 7 || quiet.Saves() != 0 {
		t.Fatalf("restart with no host: %v, state %d, %d saves", err, n.State(), quiet.Saves())
	}
	n = newNSM(t, Config{State: &errStore{MemStore{state: 3, hosts: []Host{{Name: "h", Addr: ip1}}}}})
	if _, err := n.Restarted(context.Background()); err == nil || n.State() != 3 {
		t.Fatalf("failed save: %v, state %d", err, n.State())
	}
	if err := n.Monitor(Host{Name: "x", Addr: ip1}); err == nil {
		t.Fatal("Monitor with a failing store succeeded")
	}
}

// TestRestartNotifies: every monitored host gets SM_NOTIFY with the new
// state, concurrently: a host that never answers delays nobody, and Close
// ends its attempt.
func TestRestartNotifies(t *testing.T) {
	hung := newPeer(t, ip1, Prog, Vers, true)
	p2 := newPeer(t, ip2, Prog, Vers, false)
	p3 := newPeer(t, ip3, Prog, Vers, false)
	store := &MemStore{state: 5}
	n := newNSM(t, Config{State: store, Dial: dialer(hung, p2, p3), Name: "vs",
		NotifyAttempts: 3, NotifyTimeout: time.Hour, NotifyBackoff: time.Millisecond})
	for _, h := range []Host{
		{Name: "a", Addr: ip1, Local: srv},
		{Name: "b", Addr: ip2, Local: srv},
		{Name: "c", Addr: ip3}, // server address unknown: Config.Name
		{Name: "d", Addr: ip4}, // nothing listens
	} {
		if err := n.Monitor(h); err != nil {
			t.Fatal(err)
		}
	}
	if store.Saves() != 4 {
		t.Fatalf("%d saves", store.Saves())
	}
	if err := n.Monitor(Host{Name: "a", Addr: ip1, Local: srv, State: 9}); err != nil || store.Saves() != 4 {
		t.Fatalf("re-Monitor: %v, %d saves", err, store.Saves())
	}
	done, err := n.Restarted(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if store.state != 7 {
		t.Fatalf("stored state %d", store.state)
	}
	hung.next(t) // the hung host has the call and does not answer ...
	for _, c := range []struct {
		p    *peer
		name string
	}{{p2, "127.0.0.1"}, {p3, "vs"}} {
		call := c.p.next(t) // ... while the others are notified
		var s StatChge
		r := xdr.NewReader(call.Args)
		s.Decode(r)
		if r.Err() != nil || call.Proc != ProcNotify || s.MonName != c.name || s.State != 7 {
			t.Fatalf("notify to %v: proc %d %+v %v", c.p.addr, call.Proc, s, r.Err())
		}
		if c.p == p2 && call.Remote.Addr() != srv {
			t.Fatalf("notify from %v, want the server address", call.Remote)
		}
	}
	select {
	case <-done:
		t.Fatal("notifications done while one is pending")
	default:
	}
	n.Close()
	<-done
}

func TestRestartGivesUp(t *testing.T) {
	n := newNSM(t, Config{NotifyAttempts: 3, NotifyTimeout: time.Second, NotifyBackoff: time.Millisecond})
	if err := n.Monitor(Host{Name: "gone", Addr: ip4}); err != nil {
		t.Fatal(err)
	}
	done, err := n.Restarted(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("notification of an unreachable host did not give up")
	}
	if len(n.Hosts()) != 1 {
		t.Fatal("unreachable host dropped from the list")
	}
}

func callNSM(n *NSM, remote string, proc uint32, args []byte) ([]byte, error) {
	c := &oncrpc.Call{Prog: Prog, Vers: Vers, Proc: proc, Args: args,
		Remote: netip.MustParseAddrPort(remote), Local: netip.AddrPortFrom(srv, 0)}
	var w xdr.Writer
	err := n.ServeRPC(context.Background(), c, &w)
	return w.B, err
}

func enc(e interface{ Encode(*xdr.Writer) }) []byte {
	var w xdr.Writer
	e.Encode(&w)
	return w.B
}

type notified struct {
	name  string
	addr  netip.Addr
	state int32
}

func TestIncomingNotify(t *testing.T) {
	store := &MemStore{}
	n := newNSM(t, Config{State: store})
	var mu sync.Mutex
	var got []notified
	n.SetNotify(func(name string, addr netip.Addr, state int32) {
		mu.Lock()
		got = append(got, notified{name, addr, state})
		mu.Unlock()
	})
	take := func() []notified {
		mu.Lock()
		defer mu.Unlock()
		g := got
		got = nil
		return g
	}
	a := netip.MustParseAddr("10.0.0.1")
	b := netip.MustParseAddr("10.0.0.2")
	n.Monitor(Host{Name: "alpha", Addr: a, State: 3})
	n.Monitor(Host{Name: "beta", Addr: b, State: 3})
	notify := func(from, name string, state int32) {
		t.Helper()
		if res, err := callNSM(n, from, ProcNotify, enc(&StatChge{MonName: name, State: state})); err != nil || len(res) != 0 {
			t.Fatalf("SM_NOTIFY: %v %x", err, res)
		}
	}
	// By the caller's address.
	notify("10.0.0.1:900", "some-other-name", 5)
	if g := take(); !slices.Equal(g, []notified{{"alpha", a, 5}}) {
		t.Fatalf("by address: %+v", g)
	}
	// Repeated: ignored.
	notify("10.0.0.1:900", "alpha", 5)
	if g := take(); len(g) != 0 {
		t.Fatalf("repeated: %+v", g)
	}
	// By name, from another address (case-insensitive).
	notify("192.168.1.1:900", "BETA", 7)
	if g := take(); !slices.Equal(g, []notified{{"beta", b, 7}}) {
		t.Fatalf("by name: %+v", g)
	}
	// By mon_name being the address.
	notify("192.168.1.1:900", "10.0.0.1", 9)
	if g := take(); !slices.Equal(g, []notified{{"alpha", a, 9}}) {
		t.Fatalf("by address as name: %+v", g)
	}
	// Unknown host.
	notify("192.168.1.1:900", "gamma", 3)
	if g := take(); len(g) != 0 {
		t.Fatalf("unknown: %+v", g)
	}
	// The states were persisted; a new NSM on the store keeps them.
	_, hosts, _ := store.Load()
	if len(hosts) != 2 || hosts[0].State != 9 || hosts[1].State != 7 {
		t.Fatalf("stored hosts %+v", hosts)
	}
}

func TestRPCMonitor(t *testing.T) {
	lockd := newPeer(t, srv, 100021, 4, false)
	store := &MemStore{}
	n := newNSM(t, Config{State: store, Dial: dialer(lockd)})
	mon := Mon{MonName: "10.1.2.3", ID: MonID{MyName: "localhost", MyProg: 100021, MyVers: 4, MyProc: 16}, Priv: [16]byte{1, 2, 3}}
	statRes := func(b []byte) (uint32, int32) {
		r := xdr.NewReader(b)
		st, state := r.Uint32(), r.Int32()
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		return st, state
	}
	// Remote SM_MON: refused.
	res, err := callNSM(n, "10.9.9.9:700", ProcMon, enc(&mon))
	if st, _ := statRes(res); err != nil || st != StatFail || len(n.Hosts()) != 0 {
		t.Fatalf("remote SM_MON: %v %d %+v", err, st, n.Hosts())
	}
	// Local SM_MON of a name that is not an address: refused.
	bad := mon
	bad.MonName = "host.example"
	res, _ = callNSM(n, "127.0.0.1:700", ProcMon, enc(&bad))
	if st, _ := statRes(res); st != StatFail {
		t.Fatalf("SM_MON of a name: %d", st)
	}
	res, _ = callNSM(n, "127.0.0.1:700", ProcMon, enc(&mon))
	if st, _ := statRes(res); st != StatSucc || len(n.Hosts()) != 1 || n.Hosts()[0].MyProc != 16 {
		t.Fatalf("local SM_MON: %d %+v", st, n.Hosts())
	}
	// SM_STAT.
	res, _ = callNSM(n, "10.9.9.9:700", ProcStat, enc(&StatChge{MonName: "10.1.2.3"})[:4+8])
	if st, _ := statRes(res); st != StatSucc {
		t.Fatalf("SM_STAT of an address: %d", st)
	}
	var w xdr.Writer
	w.String("no.such.name")
	res, _ = callNSM(n, "10.9.9.9:700", ProcStat, w.B)
	if st, _ := statRes(res); st != StatFail {
		t.Fatalf("SM_STAT of a name: %d", st)
	}
	// The host reboots: the registered procedure is called back.
	if _, err := callNSM(n, "10.1.2.3:800", ProcNotify, enc(&StatChge{MonName: "10.1.2.3", State: 11})); err != nil {
		t.Fatal(err)
	}
	c := lockd.next(t)
	r := xdr.NewReader(c.Args)
	name, state, priv := r.String(MaxStrLen), r.Int32(), r.Fixed(PrivSize)
	if c.Prog != 100021 || c.Vers != 4 || c.Proc != 16 || name != "10.1.2.3" || state != 11 || !bytes.Equal(priv, mon.Priv[:]) {
		t.Fatalf("status callback: %d/%d/%d %q %d %x", c.Prog, c.Vers, c.Proc, name, state, priv)
	}
	// Remote SM_UNMON and SM_UNMON_ALL change nothing.
	unmon := append(enc(&StatChge{MonName: "10.1.2.3"})[:12], enc(&mon.ID)...)
	callNSM(n, "10.9.9.9:700", ProcUnmon, unmon)
	callNSM(n, "10.9.9.9:700", ProcUnmonAll, enc(&mon.ID))
	if len(n.Hosts()) != 1 {
		t.Fatal("remote SM_UNMON removed an entry")
	}
	// An in-process entry is not touched by SM_UNMON_ALL of another id.
	n.Monitor(Host{Name: "client", Addr: ip1})
	res, _ = callNSM(n, "127.0.0.1:700", ProcUnmon, unmon)
	if st := xdr.NewReader(res).Int32(); st != n.State() || len(n.Hosts()) != 1 || n.Hosts()[0].Name != "client" {
		t.Fatalf("SM_UNMON: %+v", n.Hosts())
	}
	callNSM(n, "127.0.0.1:700", ProcMon, enc(&mon))
	callNSM(n, "127.0.0.1:700", ProcUnmonAll, enc(&mon.ID))
	if len(n.Hosts()) != 1 || n.Hosts()[0].Name != "client" {
		t.Fatalf("SM_UNMON_ALL: %+v", n.Hosts())
	}
	callNSM(n, "127.0.0.1:700", ProcUnmonAll, enc(&MonID{}))
	if len(n.Hosts()) != 1 {
		t.Fatal("SM_UNMON_ALL of an empty my_id removed the lock manager's entry")
	}
}

func TestSimuCrash(t *testing.T) {
	n := newNSM(t, Config{State: &MemStore{state: 3}})
	callNSM(n, "10.0.0.1:700", ProcSimuCrash, nil)
	callNSM(n, "127.0.0.1:2000", ProcSimuCrash, nil)
	if n.State() != 3 {
		t.Fatalf("SM_SIMU_CRASH from remote or unprivileged caller: state %d", n.State())
	}
	if res, err := callNSM(n, "127.0.0.1:700", ProcSimuCrash, nil); err != nil || len(res) != 0 || n.State() != 5 {
		t.Fatalf("SM_SIMU_CRASH: %v %x state %d", err, res, n.State())
	}
}

func TestMalformedArgs(t *testing.T) {
	n := newNSM(t, Config{})
	long := string(bytes.Repeat([]byte{'x'}, MaxStrLen+1))
	for _, c := range []struct {
		name string
		proc uint32
		args []byte
	}{
		{"stat empty", ProcStat, nil},
		{"stat long", ProcStat, enc(&StatChge{MonName: long})},
		{"mon short", ProcMon, enc(&Mon{MonName: "1.2.3.4"})[:20]},
		{"mon long name", ProcMon, enc(&Mon{MonName: long})},
		{"mon long my_name", ProcMon, enc(&Mon{MonName: "1.2.3.4", ID: MonID{MyName: long}})},
		{"unmon short", ProcUnmon, enc(&StatChge{MonName: "x"})},
		{"unmon_all short", ProcUnmonAll, []byte{0, 0, 0, 0}},
		{"notify short", ProcNotify, enc(&StatChge{MonName: "x"})[:8]},
		{"notify long", ProcNotify, enc(&StatChge{MonName: long})},
		{"notify huge length", ProcNotify, []byte{0xff, 0xff, 0xff, 0xff}},
	} {
		for _, from := range []string{"127.0.0.1:700", "10.0.0.1:700"} {
			if _, err := callNSM(n, from, c.proc, c.args); err != oncrpc.ErrGarbageArgs {
				t.Errorf("%s from %s: %v, want GARBAGE_ARGS", c.name, from, err)
			}
		}
	}
	for _, p := range []uint32{7, 8, 100} {
		if _, err := callNSM(n, "127.0.0.1:700", p, nil); err != oncrpc.ErrProcUnavail {
			t.Errorf("proc %d: %v", p, err)
		}
	}
	if len(n.Hosts()) != 0 {
		t.Fatal("malformed calls changed the list")
	}
	if p := n.Program(); p.Prog != 100024 || p.Low != 1 || p.High != 1 {
		t.Fatalf("program %+v", p)
	}
}

func TestEviction(t *testing.T) {
	store := &MemStore{}
	n := newNSM(t, Config{State: store, MaxHosts: 2})
	if err := n.Monitor(Host{Name: "a", Addr: ip1}); err != nil {
		t.Fatal(err)
	}
	if err := n.Monitor(Host{Name: "b", Addr: ip2}); err != nil {
		t.Fatal(err)
	}
	if err := n.Monitor(Host{Name: "c", Addr: ip3}); err != ErrTooManyHosts {
		t.Fatalf("third host: %v", err)
	}
	n.Unmonitor(ip1)
	if len(n.Hosts()) != 2 {
		t.Fatal("Unmonitor removed the entry at once")
	}
	if err := n.Monitor(Host{Name: "c", Addr: ip3}); err != nil {
		t.Fatal(err)
	}
	if got := n.Hosts(); len(got) != 2 || got[0].Addr != ip2 || got[1].Addr != ip3 {
		t.Fatalf("hosts %+v", got)
	}
	// A renamed host is saved again.
	saves := store.Saves()
	n.Monitor(Host{Name: "b2", Addr: ip2})
	if store.Saves() != saves+1 || n.Hosts()[0].Name != "b2" {
		t.Fatal("rename not saved")
	}
	if err := n.Monitor(Host{Name: "x"}); err != ErrBadHost {
		t.Fatalf("no address: %v", err)
	}
	// Loaded entries are idle: a restart frees their room.
	n2 := newNSM(t, Config{State: store, MaxHosts: 2})
	if err := n2.Monitor(Host{Name: "d", Addr: ip4}); err != nil {
		t.Fatalf("after reload: %v", err)
	}
	n.Close()
	if err := n.Monitor(Host{Name: "e", Addr: ip4}); err != ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}

func TestStores(t *testing.T) {
	hosts := []Host{
		{Name: "a", Addr: ip1, Local: srv, State: 3},
		{Name: "b", Addr: netip.MustParseAddr("2001:db8::1"), State: -1, MyName: "me", MyProg: 1, MyVers: 2, MyProc: 3, Priv: [16]byte{9}},
	}
	fs := FileStore{Path: filepath.Join(t.TempDir(), "sm")}
	if st, h, err := fs.Load(); err != nil || st != 0 || h != nil {
		t.Fatalf("empty store: %d %v %v", st, h, err)
	}
	if err := fs.Save(7, hosts); err != nil {
		t.Fatal(err)
	}
	st, got, err := fs.Load()
	if err != nil || st != 7 || !slices.Equal(got, hosts) {
		t.Fatalf("load: %d %+v %v", st, got, err)
	}
	b, _ := os.ReadFile(fs.Path)
	for i := range b {
		Unmarshal(b[:i]) // never panics
	}
	bad := bytes.Clone(b)
	bad[3] = 2
	if _, _, err := Unmarshal(bad); err == nil {
		t.Fatal("version 2 accepted")
	}
	if _, _, err := Unmarshal(b[:len(b)-4]); err == nil {
		t.Fatal("truncated list accepted")
	}
	n := newNSM(t, Config{State: fs})
	if n.State() != 7 || len(n.Hosts()) != 2 {
		t.Fatalf("NSM from file: %d %+v", n.State(), n.Hosts())
	}
}
