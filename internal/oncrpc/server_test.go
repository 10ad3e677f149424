package oncrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/sched"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

const testProg = 200999

// testHandler implements the procedures of the test program:
// 0 NULL, 1 echo (args back), 2 garbage, 3 system error, 4 panic,
// 5 block until released, 6 count (non-idempotent), 7 drop, 8 auth error
// (TOOWEAK), 9 big reply (arg: size).
type testHandler struct {
	release chan struct{}
	running atomic.Int32
	maxRun  atomic.Int32
	counted atomic.Int32
}

func (h *testHandler) ServeRPC(ctx context.Context, c *Call, w *xdr.Writer) error {
	switch c.Proc {
	case 0:
		return nil
	case 1:
		w.B = append(w.B, c.Args...)
		return nil
	case 2:
		return ErrGarbageArgs
	case 3:
		return errors.New("backend exploded")
	case 4:
		panic("handler bug")
	case 5:
		n := h.running.Add(1)
		for {
			m := h.maxRun.Load()
			if n <= m || h.maxRun.CompareAndSwap(m, n) {
				break
			}
		}
		<-h.release
		h.running.Add(-1)
		w.Uint32(5)
		return nil
	case 10:
		// A call back to the client on the same connection: the
		// results are the back call's, or the error's text.
		res, err := c.Back().Call(ctx, 77, 1, 3, Cred{Flavor: AuthSys, Body: authSysBody("m", 0, 0)}, c.Args)
		if err != nil {
			res = []byte(err.Error())
		}
		w.Opaque(res)
		return nil
	case 6:
		w.Uint32(uint32(h.counted.Add(1)))
		return nil
	case 7:
		return ErrDrop
	case 8:
		return &AuthError{Stat: AuthTooWeak}
	case 9:
		n := int(binary.BigEndian.Uint32(c.Args))
		p := w.Grow(n)
		for i := range p {
			p[i] = byte(i)
		}
		return nil
	}
	return ErrProcUnavail
}

type fixture struct {
	srv  *Server
	h    *testHandler
	addr string
	log  *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pollMode makes the servers of newFixture and of the tests that build
// their own serve TCP in poll mode, with a queue of a sched.Pool as
// their Sched; TestPollMode sets it and runs those tests again.
var pollMode bool

func withMode(t *testing.T, s *Server) {
	if !pollMode {
		return
	}
	p := sched.NewPool(sched.Options{})
	q, err := p.NewQueue("test", 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Sched = q
	t.Cleanup(p.Close) // after the server's shutdown, registered later
}

// TestPollMode runs the TCP tests with the pool's workers reading the
// connections instead of a goroutine per connection.
func TestPollMode(t *testing.T) {
	pollMode = true
	defer func() { pollMode = false }()
	t.Run("Engaged", func(t *testing.T) {
		f := newFixture(t, nil)
		c := f.client(t)
		if _, err := c.Call(ctxT(t), testProg, 2, 0, AuthNoneCred(), nil); err != nil {
			t.Fatal(err)
		}
		f.srv.mu.Lock()
		defer f.srv.mu.Unlock()
		for c := range f.srv.conns {
			if c.ps == nil {
				t.Fatal("connection served by a goroutine, not polled")
			}
		}
	})
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"CallAndErrors", TestCallAndErrors},
		{"MalformedCorpus", TestMalformedCorpus},
		{"MultiFragmentRecord", TestMultiFragmentRecord},
		{"RecordTooLarge", TestRecordTooLarge},
		{"InFlightBound", TestInFlightBound},
		{"RepliesWhole", TestRepliesWhole},
		{"GracefulShutdown", TestGracefulShutdown},
		{"ShutdownDeadline", TestShutdownDeadline},
		{"DRC", TestDRC},
		{"DRCInProgress", TestDRCInProgress},
		{"MaxConns", TestMaxConns},
		{"IdleTimeout", TestIdleTimeout},
		{"Backchannel", TestBackchannel},
	} {
		t.Run(tc.name, tc.fn)
	}
}

func newFixture(t *testing.T, cfg func(s *Server)) *fixture {
	t.Helper()
	h := &testHandler{release: make(chan struct{})}
	mux := NewMux()
	if err := mux.Register(Program{Name: "test", Prog: testProg, Low: 2, High: 3, Handler: h,
		NonIdempotent: func(vers, proc uint32) bool { return proc == 6 || proc == 5 }}); err != nil {
		t.Fatal(err)
	}
	lb := &syncBuf{}
	srv := &Server{Mux: mux, Logger: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	withMode(t, srv)
	if cfg != nil {
		cfg(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		select {
		case <-h.release:
		default:
			close(h.release)
		}
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &fixture{srv: srv, h: h, addr: l.Addr().String(), log: lb}
}

func (f *fixture) client(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(context.Background(), f.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCallAndErrors(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client(t)
	ctx := ctxT(t)
	sys := AuthSysCred(AuthSysParams{Machine: "m", UID: 1, GID: 2, GIDs: []uint32{3, 4}})
	res, err := c.Call(ctx, testProg, 2, 1, sys, []byte("abcd"))
	if err != nil || string(res) != "abcd" {
		t.Fatalf("echo: %q %v", res, err)
	}
	for _, tc := range []struct {
		name             string
		prog, vers, proc uint32
		want             RPCError
	}{
		{"prog unavail", 4242, 1, 0, RPCError{AcceptStat: ProgUnavail}},
		{"prog mismatch low", testProg, 1, 0, RPCError{AcceptStat: ProgMismatch, Low: 2, High: 3}},
		{"prog mismatch high", testProg, 4, 0, RPCError{AcceptStat: ProgMismatch, Low: 2, High: 3}},
		{"proc unavail", testProg, 2, 99, RPCError{AcceptStat: ProcUnavail}},
		{"garbage", testProg, 2, 2, RPCError{AcceptStat: GarbageArgs}},
		{"system err", testProg, 2, 3, RPCError{AcceptStat: SystemErr}},
		{"panic", testProg, 3, 4, RPCError{AcceptStat: SystemErr}},
		{"auth error", testProg, 2, 8, RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthTooWeak}},
	} {
		_, err := c.Call(ctx, tc.prog, tc.vers, tc.proc, AuthNoneCred(), nil)
		var re *RPCError
		if !errors.As(err, &re) || *re != tc.want {
			t.Errorf("%s: got %v (%#v), want %#v", tc.name, err, re, tc.want)
		}
	}
	if !strings.Contains(f.log.String(), "backend exploded") || !strings.Contains(f.log.String(), "handler bug") {
		t.Errorf("handler failures not logged:\n%s", f.log)
	}
	// The server is still up after all that.
	if _, err := c.Call(ctx, testProg, 3, 0, AuthNoneCred(), nil); err != nil {
		t.Fatal(err)
	}
}

// rawCall builds a call record (with record mark) by hand.
func rawCall(xid, rpcvers, prog, vers, proc uint32, credFlavor uint32, cred []byte, verfFlavor uint32, verf []byte, args []byte) []byte {
	var w xdr.Writer
	w.Reserve(4)
	w.Uint32(xid)
	w.Uint32(MsgCall)
	w.Uint32(rpcvers)
	w.Uint32(prog)
	w.Uint32(vers)
	w.Uint32(proc)
	w.Uint32(credFlavor)
	w.Opaque(cred)
	w.Uint32(verfFlavor)
	w.Opaque(verf)
	w.B = append(w.B, args...)
	w.PutUint32At(0, lastFragment|uint32(len(w.B)-4))
	return w.B
}

func mark(rec []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, lastFragment|uint32(len(rec))), rec...)
}

func readReply(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	rec, err := readRecord(nc, 1<<20)
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	return rec
}

func authSysBody(machine string, ngids int, trailing int) []byte {
	var w xdr.Writer
	w.Uint32(1)
	w.String(machine)
	w.Uint32(0)
	w.Uint32(0)
	w.Uint32(uint32(ngids))
	for i := 0; i < ngids; i++ {
		w.Uint32(uint32(i))
	}
	w.B = append(w.B, make([]byte, trailing)...)
	return w.B
}

// TestMalformedCorpus sends malformed and unusual records on one
// connection; each gets the RPC answer RFC 5531 asks for (or none, when
// no answer is possible), and a NULL call afterwards still works.
func TestMalformedCorpus(t *testing.T) {
	f := newFixture(t, nil)
	okCall := rawCall(7, 2, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil)
	bigGroups := authSysBody("m", 17, 0)
	for _, tc := range []struct {
		name string
		send []byte
		want *RPCError // nil: no reply (dropped), then the NULL call's reply
	}{
		{"empty record", mark(nil), nil},
		{"xid only", mark([]byte{0, 0, 0, 1}), nil},
		{"reply instead of call", mark([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}), nil},
		{"header cut after prog", mark(rawCall(1, 2, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil)[4:20]), nil},
		{"rpc version 3", rawCall(1, 3, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: RPCMismatch, Low: 2, High: 2}},
		{"cred cut short", mark(rawCall(1, 2, testProg, 2, 0, AuthSys, authSysBody("m", 1, 0), AuthNone, nil, nil)[4:36]),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"cred length huge", mark(append(rawCall(1, 2, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil)[4:32], 0xff, 0xff, 0xff, 0xff)),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"cred over 400 bytes", rawCall(1, 2, testProg, 2, 0, AuthSys, make([]byte, 404), AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"AUTH_SYS 17 groups", rawCall(1, 2, testProg, 2, 0, AuthSys, bigGroups, AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"AUTH_SYS machine 256 bytes", rawCall(1, 2, testProg, 2, 0, AuthSys, authSysBody(strings.Repeat("m", 256), 0, 0), AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"AUTH_SYS trailing bytes", rawCall(1, 2, testProg, 2, 0, AuthSys, authSysBody("m", 0, 4), AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"AUTH_SYS gid count beyond body", rawCall(1, 2, testProg, 2, 0, AuthSys, authSysBody("m", 0, 0)[:16+4], AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"AUTH_DH", rawCall(1, 2, testProg, 2, 0, AuthDH, []byte{1, 2, 3, 4}, AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"RPCSEC_GSS", rawCall(1, 2, testProg, 2, 0, RPCSecGSS, []byte{0, 0, 0, 1}, AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"unknown flavor", rawCall(1, 2, testProg, 2, 0, 77, nil, AuthNone, nil, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadCred}},
		{"verifier not AUTH_NONE", rawCall(1, 2, testProg, 2, 0, AuthNone, nil, AuthSys, []byte{0, 0, 0, 0}, nil),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadVerf}},
		{"verifier cut short", mark(rawCall(1, 2, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil)[4:36]),
			&RPCError{Denied: true, RejectStat: AuthErrorS, AuthStat: AuthBadVerf}},
		{"unknown program", rawCall(1, 2, 55555, 1, 0, AuthNone, nil, AuthNone, nil, nil), &RPCError{AcceptStat: ProgUnavail}},
		{"unknown version", rawCall(1, 2, testProg, 9, 0, AuthNone, nil, AuthNone, nil, nil), &RPCError{AcceptStat: ProgMismatch, Low: 2, High: 3}},
		{"unknown procedure", rawCall(1, 2, testProg, 2, 1000, AuthNone, nil, AuthNone, nil, nil), &RPCError{AcceptStat: ProcUnavail}},
		{"garbage arguments", rawCall(1, 2, testProg, 2, 2, AuthNone, nil, AuthNone, nil, []byte{1}), &RPCError{AcceptStat: GarbageArgs}},
		{"dropped by handler", rawCall(1, 2, testProg, 2, 7, AuthNone, nil, AuthNone, nil, nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", f.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if _, err := nc.Write(append(append([]byte(nil), tc.send...), okCall...)); err != nil {
				t.Fatal(err)
			}
			// Calls on a connection run concurrently: match replies by XID.
			replies := map[uint32][]byte{}
			n := 1
			if tc.want != nil {
				n = 2
			}
			for i := 0; i < n; i++ {
				rec := readReply(t, nc)
				replies[binary.BigEndian.Uint32(rec)] = rec
			}
			if tc.want != nil {
				_, err := ParseReply(replies[1], 1)
				var re *RPCError
				if !errors.As(err, &re) || *re != *tc.want {
					t.Fatalf("got %v (%#v), want %#v", err, re, tc.want)
				}
			}
			if _, err := ParseReply(replies[7], 7); err != nil {
				t.Fatalf("NULL call after the malformed one: %v", err)
			}
		})
	}
}

func TestMultiFragmentRecord(t *testing.T) {
	f := newFixture(t, nil)
	rec := rawCall(9, 2, testProg, 2, 1, AuthNone, nil, AuthNone, nil, []byte("0123456789abcdef"))[4:]
	var stream []byte
	// Fragments of 5 bytes, an empty fragment in the middle, the last one marked.
	for i := 0; i < len(rec); i += 5 {
		end := min(i+5, len(rec))
		h := uint32(end - i)
		if end == len(rec) {
			h |= lastFragment
		}
		if i == 10 {
			stream = binary.BigEndian.AppendUint32(stream, 0)
		}
		stream = binary.BigEndian.AppendUint32(stream, h)
		stream = append(stream, rec[i:end]...)
	}
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Byte by byte, to exercise partial reads.
	for i := range stream {
		if _, err := nc.Write(stream[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := ParseReply(readReply(t, nc), 9)
	if err != nil || string(res) != "0123456789abcdef" {
		t.Fatalf("echo: %q %v", res, err)
	}
}

func TestRecordTooLarge(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxRecordSize = 1000 })
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Two fragments that together exceed the maximum.
	var stream []byte
	stream = binary.BigEndian.AppendUint32(stream, 600)
	stream = append(stream, make([]byte, 600)...)
	stream = binary.BigEndian.AppendUint32(stream, lastFragment|600)
	nc.Write(stream)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := nc.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("connection not closed: %d %v", n, err)
	}
	if !strings.Contains(f.log.String(), "record too large") {
		t.Fatalf("not logged:\n%s", f.log)
	}
	if f.srv.Stats().TooLarge != 1 {
		t.Fatalf("stats: %+v", f.srv.Stats())
	}
	// A record just under the limit still works on a new connection.
	c := f.client(t)
	if _, err := c.Call(ctxT(t), testProg, 2, 1, AuthNoneCred(), make([]byte, 1000-40)); err != nil {
		t.Fatal(err)
	}
}

// TestInFlightBound checks that one connection never has more than
// MaxInFlight calls being served, and that they all complete.
func TestInFlightBound(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxInFlight = 3 })
	c := f.client(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Call(ctx, testProg, 2, 5, AuthNoneCred(), []byte{byte(i), 0, 0, 0})
			errs <- err
		}()
	}
	for f.h.running.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	close(f.h.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if m := f.h.maxRun.Load(); m != 3 {
		t.Fatalf("max in flight %d, want 3", m)
	}
}

// TestRepliesWhole runs many concurrent calls with large replies on one
// connection: every reply must arrive whole and matched to its call.
func TestRepliesWhole(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 1000 + i*7919
			res, err := c.Call(ctx, testProg, 2, 9, AuthNoneCred(), binary.BigEndian.AppendUint32(nil, uint32(n)))
			if err != nil {
				t.Error(err)
				return
			}
			if len(res) != n {
				t.Errorf("reply of %d bytes, want %d", len(res), n)
				return
			}
			for j, b := range res {
				if b != byte(j) {
					t.Errorf("reply byte %d corrupted", j)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestGracefulShutdown: a call in flight when Shutdown starts is answered,
// then the connection closes and Shutdown returns.
func TestGracefulShutdown(t *testing.T) {
	h := &testHandler{release: make(chan struct{})}
	mux := NewMux()
	mux.Register(Program{Name: "test", Prog: testProg, Low: 2, High: 2, Handler: h})
	srv := &Server{Mux: mux}
	withMode(t, srv)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c, err := Dial(context.Background(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	got := make(chan error, 1)
	go func() {
		res, err := c.Call(ctx, testProg, 2, 5, AuthNoneCred(), nil)
		if err == nil && len(res) != 4 {
			err = errors.New("short result")
		}
		got <- err
	}()
	for h.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	// The listener goes away at once.
	for {
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			break
		}
		nc.Close()
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	default:
	}
	close(h.release)
	if err := <-got; err != nil {
		t.Fatalf("in-flight call: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := c.Call(ctx, testProg, 2, 0, AuthNoneCred(), nil); err == nil {
		t.Fatal("call after shutdown succeeded")
	}
}

func TestShutdownDeadline(t *testing.T) {
	h := &testHandler{release: make(chan struct{})}
	defer close(h.release)
	mux := NewMux()
	mux.Register(Program{Name: "test", Prog: testProg, Low: 2, High: 2, Handler: h})
	srv := &Server{Mux: mux}
	withMode(t, srv)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	c, _ := Dial(context.Background(), l.Addr().String())
	defer c.Close()
	go c.Call(context.Background(), testProg, 2, 5, AuthNoneCred(), nil)
	for h.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
}

// TestDRC: a retransmitted non-idempotent call is answered from the cache
// without running again; one with other arguments under the same XID runs.
func TestDRC(t *testing.T) {
	drc := NewDRC(4)
	f := newFixture(t, func(s *Server) { s.DRC = drc })
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	call := rawCall(100, 2, testProg, 2, 6, AuthNone, nil, AuthNone, nil, []byte{1, 2, 3, 4})
	nc.Write(call)
	first := readReply(t, nc)
	// Retransmission on a new connection (another source port).
	nc2, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	nc2.Write(call)
	if again := readReply(t, nc2); !bytes.Equal(first, again) {
		t.Fatalf("replayed reply differs")
	}
	if n := f.h.counted.Load(); n != 1 {
		t.Fatalf("non-idempotent call ran %d times", n)
	}
	// Same XID, other arguments: a different call.
	nc.Write(rawCall(100, 2, testProg, 2, 6, AuthNone, nil, AuthNone, nil, []byte{9, 9, 9, 9}))
	readReply(t, nc)
	if n := f.h.counted.Load(); n != 2 {
		t.Fatalf("distinct call under a reused XID ran %d times in all, want 2", n)
	}
	// Idempotent procedures are not cached.
	nc.Write(rawCall(101, 2, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil))
	readReply(t, nc)
	// Fill beyond the bound: the oldest entry is evicted.
	for x := uint32(200); x < 210; x++ {
		nc.Write(rawCall(x, 2, testProg, 2, 6, AuthNone, nil, AuthNone, nil, nil))
		readReply(t, nc)
	}
	if st := drc.Stats(); st.Entries > 4 || st.Hits != 1 {
		t.Fatalf("DRC stats %+v", st)
	}
	nc.Write(call)
	readReply(t, nc)
	if n := f.h.counted.Load(); n != 13 {
		t.Fatalf("evicted call should run again: ran %d, want 13", n)
	}
}

// TestDRCInProgress: a retransmission that arrives while the original is
// still running is dropped, and the original is answered once.
func TestDRCInProgress(t *testing.T) {
	drc := NewDRC(16)
	f := newFixture(t, func(s *Server) { s.DRC = drc })
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	call := rawCall(300, 2, testProg, 2, 5, AuthNone, nil, AuthNone, nil, nil)
	nc.Write(call)
	for f.h.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	nc.Write(call)
	for drc.Stats().InProgress == 0 {
		time.Sleep(time.Millisecond)
	}
	close(f.h.release)
	readReply(t, nc)
	// Only one reply: the next record is the NULL call's.
	nc.Write(rawCall(301, 2, testProg, 2, 0, AuthNone, nil, AuthNone, nil, nil))
	if _, err := ParseReply(readReply(t, nc), 301); err != nil {
		t.Fatal(err)
	}
}

func TestMaxConns(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxConns = 2 })
	a, b := f.client(t), f.client(t)
	ctx := ctxT(t)
	for _, c := range []*Client{a, b} {
		if _, err := c.Call(ctx, testProg, 2, 0, AuthNoneCred(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.srv.Conns()); n != 2 {
		t.Fatalf("Conns lists %d connections, want 2", n)
	}
	c3 := f.client(t)
	if _, err := c3.Call(ctx, testProg, 2, 0, AuthNoneCred(), nil); err == nil {
		t.Fatal("third connection served")
	}
	if f.srv.Stats().RejectedConns != 1 {
		t.Fatalf("stats %+v", f.srv.Stats())
	}
}

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.IdleTimeout = 50 * time.Millisecond })
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection not closed: %v", err)
	}
}

type countingSched struct{ n atomic.Int32 }

func (s *countingSched) Go(ctx context.Context, fn func()) error {
	s.n.Add(1)
	go fn()
	return nil
}

func TestSchedulerAndUDP(t *testing.T) {
	sched := &countingSched{}
	f := newFixture(t, func(s *Server) { s.Sched = sched })
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.ServePacket(pc)
	c := f.client(t)
	if _, err := c.Call(ctxT(t), testProg, 2, 0, AuthNoneCred(), nil); err != nil {
		t.Fatal(err)
	}
	uc, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	call := rawCall(55, 2, testProg, 2, 1, AuthNone, nil, AuthNone, nil, []byte("udp!"))[4:]
	buf := make([]byte, 1000)
	for try := 0; ; try++ {
		uc.Write(call)
		uc.SetReadDeadline(time.Now().Add(time.Second))
		n, err := uc.Read(buf)
		if err != nil {
			if try < 5 {
				continue
			}
			t.Fatal(err)
		}
		res, err := ParseReply(buf[:n], 55)
		if err != nil || string(res) != "udp!" {
			t.Fatalf("udp echo %q %v", res, err)
		}
		break
	}
	if sched.n.Load() < 2 {
		t.Fatalf("scheduler ran %d calls", sched.n.Load())
	}
}

func TestMuxRegister(t *testing.T) {
	m := NewMux()
	h := HandlerFunc(func(context.Context, *Call, *xdr.Writer) error { return nil })
	if err := m.Register(Program{Prog: 1, Low: 1, High: 1, Handler: h}); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(Program{Prog: 1, Low: 1, High: 1, Handler: h}); err == nil {
		t.Fatal("duplicate registered")
	}
	if err := m.Register(Program{Prog: 2, Low: 2, High: 1, Handler: h}); err == nil {
		t.Fatal("empty range registered")
	}
	if err := m.Register(Program{Prog: 3, Low: 1, High: 1}); err == nil {
		t.Fatal("nil handler registered")
	}
	m.Unregister(1)
	if m.Lookup(1) != nil {
		t.Fatal("unregistered program found")
	}
}

// TestBackchannel: a handler calls the client back over the connection
// its call came on (Call.Back); the client's reply, interleaved with its
// calls, reaches the handler; a connection that ends fails the back call.
func TestBackchannel(t *testing.T) {
	f := newFixture(t, nil)
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(rawCall(1, 2, testProg, 2, 10, AuthNone, nil, AuthNone, nil, []byte{1, 2, 3, 4}))
	back := readReply(t, nc)
	var c Call
	if err := DecodeCall(back, &c); err != nil {
		t.Fatalf("back call: %v", err)
	}
	if c.Prog != 77 || c.Vers != 1 || c.Proc != 3 || c.CredFlavor != AuthSys || !bytes.Equal(c.Args, []byte{1, 2, 3, 4}) {
		t.Fatalf("back call %+v", c)
	}
	// A call of the client's own before the back reply is served.
	nc.Write(rawCall(2, 2, testProg, 2, 1, AuthNone, nil, AuthNone, nil, []byte{5, 5, 5, 5}))
	if res, err := ParseReply(readReply(t, nc), 2); err != nil || !bytes.Equal(res, []byte{5, 5, 5, 5}) {
		t.Fatalf("echo meanwhile: %x %v", res, err)
	}
	// A reply to no call is dropped.
	var w xdr.Writer
	appendAccepted(&w, c.XID+1000, Success)
	nc.Write(mark(w.B))
	w = xdr.Writer{}
	appendAccepted(&w, c.XID, Success)
	w.Uint32(0xabcd)
	nc.Write(mark(w.B))
	res, err := ParseReply(readReply(t, nc), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := xdr.NewReader(res)
	if got := r.Opaque(100); !bytes.Equal(got, []byte{0, 0, 0xab, 0xcd}) {
		t.Fatalf("back call results %x (%q), want 0000abcd", got, got)
	}

	// The client goes away instead of answering.
	nc2, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	nc2.Write(rawCall(3, 2, testProg, 2, 10, AuthNone, nil, AuthNone, nil, nil))
	readReply(t, nc2)
	nc2.Close()
	// The handler's Call returns; the server's shutdown (cleanup) would
	// hang on it otherwise.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.srv.mu.Lock()
		n := len(f.srv.conns)
		f.srv.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections left, want 1: the back call held the closed one", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDRCBytes: the cache keeps at most MaxDRCBytes of replies, dropping
// the least recently used; the byte count follows finish and forget.
func TestDRCBytes(t *testing.T) {
	d := NewDRC(1 << 20)
	reply := make([]byte, MaxCachedReply)
	key := func(i int) drcKey { return drcKey{xid: uint32(i)} }
	n := 2 * MaxDRCBytes / len(reply)
	for i := 0; i < n; i++ {
		if st, _ := d.start(key(i)); st != drcNew {
			t.Fatalf("entry %d: state %v", i, st)
		}
		d.finish(key(i), reply)
	}
	st := d.Stats()
	if st.Bytes > MaxDRCBytes || st.Bytes != st.Entries*len(reply) || st.Entries != MaxDRCBytes/len(reply) {
		t.Fatalf("stats %+v after %d replies of %d bytes, want at most %d bytes", st, n, len(reply), MaxDRCBytes)
	}
	if s, _ := d.start(key(0)); s != drcNew {
		t.Error("the oldest reply was kept")
	}
	d.forget(key(0))
	if s, r := d.start(key(n - 1)); s != drcReplay || len(r) != len(reply) {
		t.Errorf("the newest reply: state %v, %d bytes", s, len(r))
	}
	d.start(key(-1))
	d.forget(key(-1))
	if got := d.Stats().Bytes; got != st.Bytes {
		t.Errorf("bytes %d after a forget, want %d", got, st.Bytes)
	}
}

// TestClientDeadlineNotKept: a call's context deadline bounds that call
// only; a later call without one still works after it has passed.
func TestClientDeadlineNotKept(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Call(ctx, testProg, 2, 0, AuthNoneCred(), nil); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	if _, err := c.Call(context.Background(), testProg, 2, 1, AuthNoneCred(), []byte{1, 2, 3, 4}); err != nil {
		t.Fatalf("call after an earlier call's deadline passed: %v", err)
	}
}
