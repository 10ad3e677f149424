package oncrpc

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Defaults of a Server's limits.
const (
	DefaultMaxInFlight  = 64              // requests in flight per TCP connection
	DefaultMaxConns     = 1024            // TCP connections per Server
	DefaultIdleTimeout  = 6 * time.Minute // as Linux nfsd closes idle sockets
	DefaultWriteTimeout = 60 * time.Second
	// MaxDatagram is the largest UDP call accepted (RFC 768 limit).
	MaxDatagram = 65535
	// udpInFlight bounds the UDP calls in flight per Server.
	udpInFlight = 256
)

// ErrServerClosed is returned by Serve and ServePacket after Shutdown.
var ErrServerClosed = errors.New("oncrpc: server closed")

// Scheduler runs request handlers. The shared worker pool of vnfsd
// (internal/sched) implements it per virtual server; Go may block to
// apply backpressure and fails when the scheduler is closed. A nil
// Scheduler runs every request on its own goroutine.
type Scheduler interface {
	Go(ctx context.Context, fn func()) error
}

// Server serves the programs of a Mux over TCP (Serve) and UDP
// (ServePacket). Configure the exported fields before serving.
type Server struct {
	Mux    *Mux
	Logger *slog.Logger
	// MaxRecordSize is the largest call record accepted over TCP; 0 means
	// DefaultMaxRecordSize. A larger record closes the connection.
	MaxRecordSize int
	// MaxInFlight bounds the calls of one TCP connection being served at
	// once; the connection is not read further until one completes.
	MaxInFlight int
	// MaxConns bounds the open TCP connections; more are closed at once.
	MaxConns int
	// IdleTimeout closes a connection that sends nothing for that long.
	IdleTimeout time.Duration
	// DRC, if not nil, answers retransmitted non-idempotent calls.
	DRC *DRC
	// Sched, if not nil, runs the handlers.
	Sched Scheduler

	mu        sync.Mutex
	closing   atomic.Bool
	started   bool
	ctx       context.Context
	cancel    context.CancelFunc
	listeners map[net.Listener]struct{}
	packets   map[net.PacketConn]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup // connection and packet loops

	stop        chan struct{} // closed by Shutdown
	janitorOnce sync.Once

	stats serverStats
}

type serverStats struct {
	calls, dropped, garbage, authErrors, tooLarge, replayed, rejectedConns atomic.Uint64
}

// Stats are a Server's counters.
type Stats struct {
	Conns                                                                  int
	Calls, Dropped, Garbage, AuthErrors, TooLarge, Replayed, RejectedConns uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{Conns: n, Calls: s.stats.calls.Load(), Dropped: s.stats.dropped.Load(),
		Garbage: s.stats.garbage.Load(), AuthErrors: s.stats.authErrors.Load(),
		TooLarge: s.stats.tooLarge.Load(), Replayed: s.stats.replayed.Load(),
		RejectedConns: s.stats.rejectedConns.Load()}
}

// ConnInfo describes one open TCP connection.
type ConnInfo struct {
	Local, Remote netip.AddrPort
	Since         time.Time
}

// Conns lists the open TCP connections.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, ConnInfo{Local: c.local, Remote: c.remote, Since: c.since})
	}
	return out
}

func (s *Server) init() {
	if s.started {
		return
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.listeners = map[net.Listener]struct{}{}
	s.packets = map[net.PacketConn]struct{}{}
	s.conns = map[*conn]struct{}{}
	s.stop = make(chan struct{})
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Mux == nil {
		s.Mux = NewMux()
	}
	if s.MaxRecordSize <= 0 {
		s.MaxRecordSize = DefaultMaxRecordSize
	}
	if s.MaxInFlight <= 0 {
		s.MaxInFlight = DefaultMaxInFlight
	}
	if s.MaxConns <= 0 {
		s.MaxConns = DefaultMaxConns
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = DefaultIdleTimeout
	}
}

// Serve accepts TCP connections on l and serves them until Shutdown,
// after which it returns ErrServerClosed. l is closed by Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	s.init()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporaryAccept(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.Logger.Warn("rpc accept", "addr", l.Addr().String(), "err", err, "retry", backoff)
				time.Sleep(backoff)
				continue
			}
			s.mu.Lock()
			delete(s.listeners, l)
			s.mu.Unlock()
			return err
		}
		backoff = 0
		s.startConn(nc)
	}
}

// isTemporaryAccept reports accept errors that a server should ride out
// (descriptor or memory exhaustion, connections aborted before accept)
// rather than stop on.
func isTemporaryAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM)
}

func (s *Server) startConn(nc net.Conn) {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.MaxConns {
		s.mu.Unlock()
		s.stats.rejectedConns.Add(1)
		s.Logger.Warn("rpc connection refused: too many connections",
			"remote", nc.RemoteAddr().String(), "max", s.MaxConns)
		nc.Close()
		return
	}
	c := &conn{s: s, nc: nc, local: addrPort(nc.LocalAddr()), remote: addrPort(nc.RemoteAddr()), since: time.Now()}
	if ps, ok := s.Sched.(PollScheduler); ok {
		c.ps = s.newPollState(c, ps)
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	if c.ps != nil {
		s.startPollConn(c)
		return
	}
	c.sem = make(chan struct{}, s.MaxInFlight)
	go c.serve()
}

func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// conn is one TCP connection.
type conn struct {
	s             *Server
	nc            net.Conn
	local, remote netip.AddrPort
	since         time.Time
	sem           chan struct{} // one token per call in flight
	inflight      sync.WaitGroup
	dmu           sync.Mutex // orders read-deadline changes against Shutdown
	wmu           sync.Mutex // one reply written at a time, whole
	broken        atomic.Bool
	replyHint     atomic.Int64
	ps            *pollState // set when the pool's workers read it (PollScheduler)

	// The back channel (backchannel.go): made on first use.
	bmu    sync.Mutex
	bs     *backState
	bended bool // the connection is done
}

func (c *conn) serve() {
	s := c.s
	defer func() {
		c.endBack() // before the wait: a handler may wait for a back reply
		c.inflight.Wait()
		c.wmu.Lock()
		c.broken.Store(true)
		c.wmu.Unlock()
		c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	br := bufio.NewReaderSize(c.nc, 16<<10)
	for {
		c.dmu.Lock()
		if s.closing.Load() {
			c.dmu.Unlock()
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(s.IdleTimeout))
		c.dmu.Unlock()
		rec, err := readRecord(br, s.MaxRecordSize)
		if err != nil {
			c.logReadError(err)
			return
		}
		c.sem <- struct{}{}
		if s.closing.Load() {
			<-c.sem
			putBuf(rec)
			return
		}
		c.inflight.Add(1)
		fn := func() {
			defer func() {
				<-c.sem
				c.inflight.Done()
			}()
			s.handle(rec, c.local, c.remote, c)
		}
		if s.Sched != nil {
			if err := s.Sched.Go(s.ctx, fn); err != nil {
				<-c.sem
				c.inflight.Done()
				putBuf(rec)
				s.Logger.Debug("rpc scheduler refused call, closing connection", "remote", c.remote.String(), "err", err)
				return
			}
		} else {
			go fn()
		}
	}
}

// send writes one reply record (w.B with its 4 reserved bytes) whole.
func (c *conn) send(b []byte) {
	c.replyHint.Store(int64(len(b)))
	c.sendRecord(b)
}

// sendRecord writes one record (b with its 4 reserved bytes) whole.
func (c *conn) sendRecord(b []byte) {
	// One fragment: the last-fragment bit and the length.
	b[0], b[1], b[2], b[3] = byte((len(b)-4)>>24)|0x80, byte((len(b)-4)>>16), byte((len(b)-4)>>8), byte(len(b)-4)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.broken.Load() {
		return
	}
	if c.ps != nil {
		if err := c.pollWrite(b); err != nil {
			// Cut mid-record: the client must reconnect.
			c.broken.Store(true)
			unix.Shutdown(c.ps.fd, unix.SHUT_RDWR)
			c.s.Logger.Debug("rpc reply write", "remote", c.remote.String(), "err", err)
		}
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(DefaultWriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		// A partial write leaves the stream unusable: close it so the
		// client reconnects and retransmits.
		c.broken.Store(true)
		c.nc.Close()
		c.s.Logger.Debug("rpc reply write", "remote", c.remote.String(), "err", err)
	}
}

// replier sends a finished reply; for TCP it is the conn, for UDP the
// packet connection and the peer's address.
type replier interface {
	send(b []byte)
	hint() int
}

func (c *conn) hint() int { return int(c.replyHint.Load()) }

type packetReply struct {
	pc   net.PacketConn
	addr net.Addr
	s    *Server
}

func (p *packetReply) send(b []byte) {
	if _, err := p.pc.WriteTo(b[4:], p.addr); err != nil {
		p.s.Logger.Debug("rpc udp reply", "remote", p.addr.String(), "err", err)
	}
}

func (p *packetReply) hint() int { return 0 }

// handle decodes and serves one call record and sends its reply. It owns
// rec and returns it to the pool.
func (s *Server) handle(rec []byte, local, remote netip.AddrPort, rp replier) {
	cn, _ := rp.(*conn)
	if cn != nil && isReply(rec) && cn.deliverReply(rec) {
		return // the reply to a back channel call, which owns rec now
	}
	defer putBuf(rec)
	s.stats.calls.Add(1)
	call := callPool.Get().(*Call)
	defer putCall(call)
	call.Local, call.Remote = local, remote
	call.conn = cn
	w := &call.reply // in the pooled Call, so that it does not escape per call
	w.B = getBuf(max(rp.hint(), 512))
	defer func() { putBuf(w.B); w.B = nil }()
	w.Reserve(4)
	err := DecodeCall(rec, call)
	ae, isAuth := err.(*AuthError)
	switch {
	case err == nil:
	case errors.Is(err, ErrRPCVersion):
		appendRPCMismatch(w, call.XID)
		rp.send(w.B)
		return
	case isAuth:
		s.stats.authErrors.Add(1)
		appendAuthError(w, call.XID, ae.Stat)
		rp.send(w.B)
		return
	default: // short header, not a call: nothing to answer
		s.stats.dropped.Add(1)
		s.Logger.Debug("rpc record dropped", "remote", remote.String(), "err", err)
		return
	}
	prog := s.Mux.Lookup(call.Prog)
	if prog == nil {
		appendAccepted(w, call.XID, ProgUnavail)
		rp.send(w.B)
		return
	}
	if call.Vers < prog.Low || call.Vers > prog.High {
		appendProgMismatch(w, call.XID, prog.Low, prog.High)
		rp.send(w.B)
		return
	}
	var key drcKey
	cached := false
	if s.DRC != nil {
		if prog.CacheCall != nil {
			cached = prog.CacheCall(call)
		} else {
			cached = prog.NonIdempotent != nil && prog.NonIdempotent(call.Vers, call.Proc)
		}
	}
	if cached {
		key = keyOf(call)
		st, reply := s.DRC.start(key)
		switch st {
		case drcInProgress:
			s.stats.dropped.Add(1)
			putBuf(reply)
			return
		case drcReplay:
			s.stats.replayed.Add(1)
			w.B = append(w.B[:4], reply...)
			putBuf(reply)
			rp.send(w.B)
			return
		}
	}
	hdr := w.Len()
	appendAccepted(w, call.XID, Success)
	herr := s.serveCall(prog, call, w)
	if herr != nil {
		w.Truncate(hdr)
		switch {
		case errors.Is(herr, ErrDrop):
			if cached {
				s.DRC.forget(key)
			}
			s.stats.dropped.Add(1)
			return
		case asAuthError(herr) != nil:
			s.stats.authErrors.Add(1)
			appendAuthError(w, call.XID, asAuthError(herr).Stat)
		case errors.Is(herr, ErrProcUnavail):
			appendAccepted(w, call.XID, ProcUnavail)
		case errors.Is(herr, ErrGarbageArgs):
			s.stats.garbage.Add(1)
			appendAccepted(w, call.XID, GarbageArgs)
		default:
			if !errors.Is(herr, ErrSystem) {
				s.Logger.Error("rpc handler failed", "prog", prog.Name, "vers", call.Vers,
					"proc", call.Proc, "remote", remote.String(), "err", herr)
			}
			appendAccepted(w, call.XID, SystemErr)
		}
	}
	if cached {
		if call.skipCache || len(w.B)-4 > MaxCachedReply {
			s.DRC.forget(key)
		} else {
			s.DRC.finish(key, w.B[4:])
		}
	}
	rp.send(w.B)
}

func asAuthError(err error) *AuthError {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// Calls are pooled: a handler must not keep a *Call after it returns.
var callPool = sync.Pool{New: func() any { return new(Call) }}

func putCall(c *Call) {
	sys := c.sys
	*c = Call{}
	c.reply.B = nil
	c.sys.Machine, c.sys.GIDs = sys.Machine, sys.GIDs[:0]
	callPool.Put(c)
}

// serveCall runs the handler, turning a panic into SYSTEM_ERR so that one
// bad request cannot take the server down.
func (s *Server) serveCall(prog *Program, call *Call, w *xdr.Writer) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.Logger.Error("rpc handler panic", "prog", prog.Name, "vers", call.Vers, "proc", call.Proc,
				"remote", call.Remote.String(), "panic", v, "stack", string(debug.Stack()))
			err = ErrSystem
		}
	}()
	return prog.Handler.ServeRPC(s.ctx, call, w)
}

// ServePacket serves calls arriving as UDP datagrams on pc (no record
// marking; one call per datagram) until Shutdown, after which it returns
// ErrServerClosed. pc is closed by Shutdown.
func (s *Server) ServePacket(pc net.PacketConn) error {
	s.mu.Lock()
	s.init()
	if s.closing.Load() {
		s.mu.Unlock()
		pc.Close()
		return ErrServerClosed
	}
	s.packets[pc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	var inflight sync.WaitGroup
	sem := make(chan struct{}, udpInFlight)
	local := addrPort(pc.LocalAddr())
	defer func() {
		inflight.Wait()
		s.mu.Lock()
		delete(s.packets, pc)
		s.mu.Unlock()
		pc.Close()
		s.wg.Done()
	}()
	for {
		buf := getBuf(MaxDatagram)[:MaxDatagram]
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			putBuf(buf)
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		sem <- struct{}{}
		inflight.Add(1)
		rp := &packetReply{pc: pc, addr: addr, s: s}
		remote := addrPort(addr)
		fn := func() {
			defer func() {
				<-sem
				inflight.Done()
			}()
			s.handle(buf[:n], local, remote, rp)
		}
		if s.Sched != nil {
			if err := s.Sched.Go(s.ctx, fn); err != nil {
				<-sem
				inflight.Done()
				putBuf(buf)
				s.stats.dropped.Add(1)
			}
		} else {
			go fn()
		}
	}
}

// Shutdown stops accepting connections and reading calls, lets the calls
// in flight finish and their replies be written, then closes every
// connection. If ctx ends first, the remaining connections are closed at
// once, handlers see their context canceled, and ctx.Err() is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.init()
	if !s.closing.Swap(true) {
		close(s.stop)
	}
	for l := range s.listeners {
		l.Close()
	}
	s.listeners = map[net.Listener]struct{}{}
	past := time.Unix(1, 0)
	for pc := range s.packets {
		pc.SetReadDeadline(past)
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		if c.ps != nil {
			c.ps.mu.Lock()
			c.pollClose()
			c.ps.mu.Unlock()
			continue
		}
		c.dmu.Lock()
		c.nc.SetReadDeadline(past)
		c.dmu.Unlock()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		s.mu.Lock()
		conns = conns[:0]
		for c := range s.conns {
			conns = append(conns, c)
		}
		for pc := range s.packets {
			pc.Close()
		}
		s.mu.Unlock()
		for _, c := range conns {
			if c.ps != nil {
				// Cut it; the descriptor is closed when the calls in
				// flight are done with it.
				c.ps.mu.Lock()
				unix.Shutdown(c.ps.fd, unix.SHUT_RDWR)
				c.pollClose()
				c.ps.mu.Unlock()
				continue
			}
			c.nc.Close()
		}
		return ctx.Err()
	}
}
