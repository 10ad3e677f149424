package nlm

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The tests run the NLM and NSM programs of a "virtual server" on
// 127.0.0.1 behind a real oncrpc.Server, and fake client hosts on other
// loopback addresses (127.0.0.2, ...), each with an RPC server carrying a
// real portmapper (package portmap), a fake lock manager (answering
// GRANTED and receiving the _RES messages) and a fake status monitor
// (receiving SM_NOTIFY). The server's Dial hook sends what goes to port
// 111 of a client host to its RPC server's port; everything else is
// dialled as addressed.

// waitFor bounds waits for events that must happen.
const waitFor = 10 * time.Second

// fakeFS is a backend holding a fixed set of objects; only GetAttr is
// used by NLM.
type fakeFS struct {
	vfs.FS
	mu   sync.Mutex
	objs map[string]vfs.FileType
}

func (f *fakeFS) GetAttr(ctx context.Context, id vfs.ID) (vfs.Attr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.objs[string(id)]
	if !ok {
		return vfs.Attr{}, syscall.ESTALE
	}
	if t == 0 {
		return vfs.Attr{}, syscall.EIO
	}
	return vfs.Attr{Type: t}, nil
}

func (f *fakeFS) remove(id string) {
	f.mu.Lock()
	delete(f.objs, id)
	f.mu.Unlock()
}

// Exports of the fixture.
const (
	expRW         = 1
	expRO         = 2
	expRestricted = 3 // only 10.0.0.0/8
)

var (
	serverAddr = netip.MustParseAddr("127.0.0.1")
	addrA      = netip.MustParseAddr("127.0.0.2")
	addrB      = netip.MustParseAddr("127.0.0.3")
	addrC      = netip.MustParseAddr("127.0.0.4")
)

// server is the virtual server side: lock manager, NSM, NLM, RPC server.
type server struct {
	t     *testing.T
	locks *lock.Manager
	nsm   *nsm.NSM
	store nsm.StateStore
	nlm   *Server
	rpc   *oncrpc.Server
	addr  netip.AddrPort
	codec *fh.Codec
	fs    *fakeFS
	table *export.Table
	hosts *hostMap
}

type hostMap struct {
	mu sync.Mutex
	m  map[netip.Addr]*clientHost
}

func (h *hostMap) get(a netip.Addr) *clientHost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[a]
}

var testKey = fh.Key{1, 2, 3}

func logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

type serverOpts struct {
	store   nsm.StateStore
	timeout time.Duration
	tries   int
	grace   time.Duration
	delegs  func(lock.FileID) bool
}

// newServer starts a server; hosts is shared between restarts.
func newServer(t *testing.T, o serverOpts, hosts *hostMap) *server {
	t.Helper()
	if o.store == nil {
		o.store = &nsm.MemStore{}
	}
	if o.timeout == 0 {
		o.timeout = 2 * time.Second
	}
	s := &server{t: t, store: o.store, codec: fh.NewCodec(testKey), hosts: hosts,
		fs: &fakeFS{objs: map[string]vfs.FileType{"f1": vfs.TypeRegular, "f2": vfs.TypeRegular,
			"f3": vfs.TypeRegular, "dir": vfs.TypeDir, "broken": 0}}}
	var err error
	s.table, err = export.NewTable(
		&export.Export{ID: expRW, Path: "/rw", FS: s.fs},
		&export.Export{ID: expRO, Path: "/ro", FS: s.fs, ReadOnly: true},
		&export.Export{ID: expRestricted, Path: "/restricted", FS: s.fs, Clients: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
	)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context, local netip.Addr, remote netip.AddrPort) (net.Conn, error) {
		if remote.Port() == nsm.PortmapPort {
			h := hosts.get(remote.Addr())
			if h == nil {
				return nil, syscall.ECONNREFUSED
			}
			remote = netip.AddrPortFrom(remote.Addr(), h.port)
		}
		return nsm.DialTCP(ctx, local, remote)
	}
	s.locks = lock.New(lock.Config{})
	if o.grace > 0 {
		s.locks.StartGrace(o.grace)
	}
	s.nsm, err = nsm.New(nsm.Config{State: o.store, Logger: logger(t), Dial: dial, Name: "vserver",
		NotifyAttempts: 2, NotifyTimeout: time.Second, NotifyBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.nlm = New(Config{Locks: s.locks, Exports: func() *export.Table { return s.table }, Handles: s.codec,
		NSM: s.nsm, Logger: logger(t), CallbackTimeout: o.timeout, CallbackAttempts: o.tries, Dial: dial, Name: "vserver",
		Delegations: o.delegs})
	mux := oncrpc.NewMux()
	mux.Register(s.nlm.Program())
	mux.Register(s.nsm.Program())
	s.rpc = &oncrpc.Server{Mux: mux, Logger: logger(t)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().(*net.TCPAddr).AddrPort()
	go s.rpc.Serve(l)
	t.Cleanup(s.stop)
	return s
}

var stopped sync.Map

func (s *server) stop() {
	if _, done := stopped.LoadOrStore(s, true); done {
		return
	}
	s.nlm.Close()
	s.nsm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s.rpc.Shutdown(ctx)
}

// handle returns the handle of object id in export exp.
func (s *server) handle(exp uint32, id string) []byte { return s.codec.Encode(exp, []byte(id)) }

func (s *server) file(exp uint32, id string) lock.FileID {
	return lock.FileID{Export: exp, Object: id}
}

// grantMode selects how a fake client answers GRANTED.
type grantMode int

const (
	grantAccept grantMode = iota // answer NLM4_GRANTED
	grantRefuse                  // answer NLM4_DENIED
	grantHang                    // never answer
)

// clientHost is a fake NFS client machine.
type clientHost struct {
	t    *testing.T
	addr netip.Addr
	srv  *oncrpc.Server
	port uint16
	// conn is the client's connection to the server, from addr.
	conn *oncrpc.Client

	mu       sync.Mutex
	mode     grantMode
	granted  []TestArgs          // GRANTED and GRANTED_MSG received
	results  map[uint32][][]byte // _RES messages received, by procedure
	notifies []nsm.StatChge
	events   chan string
	hang     chan struct{}
	// waiting holds, per svid, the channel of a process waiting for a
	// blocked lock (as the Linux client's nlm_blocked list); with
	// strict set, a GRANTED for nobody is answered NLM4_DENIED.
	waiting map[int32]chan struct{}
	strict  bool
}

// expect registers svid as waiting for a GRANTED callback.
func (h *clientHost) expect(svid int32) chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.waiting[svid] = ch
	h.mu.Unlock()
	return ch
}

// unexpect withdraws svid; it reports whether the GRANTED came already.
func (h *clientHost) unexpect(svid int32, ch chan struct{}) bool {
	h.mu.Lock()
	delete(h.waiting, svid)
	h.mu.Unlock()
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// newClientHost starts a fake client host at addr and connects it to s.
func newClientHost(t *testing.T, s *server, addr netip.Addr) *clientHost {
	t.Helper()
	h := &clientHost{t: t, addr: addr, results: map[uint32][][]byte{}, events: make(chan string, 100),
		hang: make(chan struct{}), waiting: map[int32]chan struct{}{}}
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	h.port = l.Addr().(*net.TCPAddr).AddrPort().Port()
	pm, err := portmap.New(portmap.Config{Mappings: []portmap.Mapping{
		{Prog: Prog, Vers: Vers, Netid: "tcp", Port: h.port},
		{Prog: nsm.Prog, Vers: nsm.Vers, Netid: "tcp", Port: h.port},
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := oncrpc.NewMux()
	mux.Register(pm.Program(portmap.TCP))
	mux.Register(oncrpc.Program{Name: "nlm-client", Prog: Prog, Low: Vers, High: Vers, Handler: oncrpc.HandlerFunc(h.serveNLM)})
	mux.Register(oncrpc.Program{Name: "statd-client", Prog: nsm.Prog, Low: nsm.Vers, High: nsm.Vers, Handler: oncrpc.HandlerFunc(h.serveNSM)})
	h.srv = &oncrpc.Server{Mux: mux, Logger: logger(t)}
	go h.srv.Serve(l)
	s.hosts.mu.Lock()
	s.hosts.m[addr] = h
	s.hosts.mu.Unlock()
	h.connect(s)
	t.Cleanup(func() {
		close(h.hang)
		h.conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		h.srv.Shutdown(ctx)
	})
	return h
}

// connect (re)connects the client to server s.
func (h *clientHost) connect(s *server) {
	if h.conn != nil {
		h.conn.Close()
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: h.addr.AsSlice()}}
	nc, err := d.Dial("tcp", s.addr.String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.conn = oncrpc.NewClient(nc)
}

func (h *clientHost) event(e string) {
	select {
	case h.events <- e:
	default:
	}
}

// wait waits for event e (and skips others).
func (h *clientHost) wait(e string) {
	h.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case got := <-h.events:
			if got == e {
				return
			}
		case <-deadline:
			h.t.Fatalf("client %v: no %s within %v", h.addr, e, waitFor)
		}
	}
}

func (h *clientHost) setMode(m grantMode) {
	h.mu.Lock()
	h.mode = m
	h.mu.Unlock()
}

func (h *clientHost) grants() []TestArgs {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]TestArgs(nil), h.granted...)
}

func (h *clientHost) result(proc uint32) [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.results[proc]
}

// serveNLM is the client's lock manager: GRANTED callbacks and results.
func (h *clientHost) serveNLM(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	r := xdr.NewReader(call.Args)
	switch call.Proc {
	case ProcNull:
		return nil
	case ProcGranted, ProcGrantedMsg:
		var a TestArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		a.Cookie = append([]byte(nil), a.Cookie...)
		a.Lock.FH = append([]byte(nil), a.Lock.FH...)
		a.Lock.OH = append([]byte(nil), a.Lock.OH...)
		h.mu.Lock()
		h.granted = append(h.granted, a)
		mode := h.mode
		if ch := h.waiting[a.Lock.Svid]; ch != nil {
			delete(h.waiting, a.Lock.Svid)
			ch <- struct{}{}
		} else if h.strict {
			mode = grantRefuse
		}
		h.mu.Unlock()
		h.event("granted")
		if mode == grantHang {
			<-h.hang
			return oncrpc.ErrDrop
		}
		st := Granted
		if mode == grantRefuse {
			st = Denied
		}
		if call.Proc == ProcGranted {
			res := Res{Cookie: a.Cookie, Stat: st}
			res.Encode(w)
			return nil
		}
		// As the Linux lockd: answer GRANTED_MSG with GRANTED_RES.
		go func() {
			var args xdr.Writer
			res := Res{Cookie: a.Cookie, Stat: st}
			res.Encode(&args)
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			h.conn.Call(ctx, Prog, Vers, ProcGrantedRes, oncrpc.AuthNoneCred(), args.B)
		}()
		return nil
	case ProcTestRes, ProcLockRes, ProcCancelRes, ProcUnlockRes:
		h.mu.Lock()
		h.results[call.Proc] = append(h.results[call.Proc], append([]byte(nil), call.Args...))
		h.mu.Unlock()
		h.event("res")
		return nil
	}
	return oncrpc.ErrProcUnavail
}

// serveNSM is the client's status monitor: it records SM_NOTIFY.
func (h *clientHost) serveNSM(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	if call.Proc != nsm.ProcNotify {
		return oncrpc.ErrProcUnavail
	}
	var s nsm.StatChge
	r := xdr.NewReader(call.Args)
	s.Decode(r)
	if r.Err() != nil {
		return oncrpc.ErrGarbageArgs
	}
	h.mu.Lock()
	h.notifies = append(h.notifies, s)
	h.mu.Unlock()
	h.event("notify")
	return nil
}

// call sends an NLM call to the server and returns the results.
func (h *clientHost) call(proc uint32, args interface{ Encode(*xdr.Writer) }) ([]byte, error) {
	var w xdr.Writer
	if args != nil {
		args.Encode(&w)
	}
	return h.callRaw(Prog, Vers, proc, w.B)
}

func (h *clientHost) callRaw(prog, vers, proc uint32, args []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	return h.conn.Call(ctx, prog, vers, proc, oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "client"}), args)
}

// lockArgs builds the arguments of a lock request of this client.
func (h *clientHost) lockArgs(fhandle []byte, svid int32, excl, block bool, off, n uint64) *LockArgs {
	return &LockArgs{Cookie: []byte{byte(svid), 0xc0}, Block: block, Exclusive: excl, State: 3,
		Lock: Lock4{CallerName: "host-" + h.addr.String(), FH: fhandle, OH: []byte("oh-" + h.addr.String()), Svid: svid, Offset: off, Len: n}}
}

func (h *clientHost) res(proc uint32, args interface{ Encode(*xdr.Writer) }) Stat {
	h.t.Helper()
	b, err := h.call(proc, args)
	if err != nil {
		h.t.Fatalf("proc %d: %v", proc, err)
	}
	var r Res
	rd := xdr.NewReader(b)
	r.Decode(rd)
	if rd.Err() != nil {
		h.t.Fatalf("proc %d: bad reply: %v", proc, rd.Err())
	}
	return r.Stat
}

func (h *clientHost) lock(a *LockArgs) Stat { return h.res(ProcLock, a) }

func (h *clientHost) unlock(a *LockArgs) Stat {
	return h.res(ProcUnlock, &UnlockArgs{Cookie: a.Cookie, Lock: a.Lock})
}

func (h *clientHost) test(a *LockArgs) TestRes {
	h.t.Helper()
	b, err := h.call(ProcTest, &TestArgs{Cookie: a.Cookie, Exclusive: a.Exclusive, Lock: a.Lock})
	if err != nil {
		h.t.Fatal(err)
	}
	var r TestRes
	rd := xdr.NewReader(b)
	r.Decode(rd)
	if rd.Err() != nil {
		h.t.Fatal(rd.Err())
	}
	return r
}

func wantStat(t *testing.T, what string, got, want Stat) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

func isRPC(err error, st oncrpc.AcceptStat) bool {
	var re *oncrpc.RPCError
	return errors.As(err, &re) && !re.Denied && re.AcceptStat == st
}

// fixture is a server with clients A and B.
type fixture struct {
	*server
	a, b *clientHost
}

func newFixture(t *testing.T, o serverOpts) *fixture {
	hosts := &hostMap{m: map[netip.Addr]*clientHost{}}
	s := newServer(t, o, hosts)
	return &fixture{server: s, a: newClientHost(t, s, addrA), b: newClientHost(t, s, addrB)}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitFor)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func xdrReader(b []byte) *xdr.Reader { return xdr.NewReader(b) }
