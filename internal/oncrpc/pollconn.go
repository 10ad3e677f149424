package oncrpc

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/poll"
)

// PollScheduler is a Scheduler that also watches sockets: the worker
// pool of vnfsd (sched.Queue). A Server whose Sched is one serves its TCP
// connections without a goroutine each, the way Linux's sunrpc queues
// transports: when a connection has data, its readiness callback queues
// a read with the connection's virtual server; a worker of the pool reads
// one call record, queues the next read if more is buffered (or re-arms
// the watch), and serves the call. The wait for a quiet tenant's call is
// then decided by the pool's round robin, not by how many connections
// of a busy tenant the Go runtime's poller wakes at once.
type PollScheduler interface {
	Scheduler
	// Enqueue is Go that never waits, even past the queue's bound on
	// waiting requests: the server queues at most one read per
	// connection, and connections are bounded by MaxConns.
	Enqueue(fn func()) error
	// Watch calls ready once when fd has data to read; Arm re-arms it.
	Watch(fd int, ready func()) (*poll.Watch, error)
}

// pollStaging is the size of a polled connection's receive buffer, held
// only while the connection has unparsed bytes.
const pollStaging = 16 << 10

// errAgain: a non-blocking read found nothing.
var errAgain = errors.New("oncrpc: no data")

// recordReader assembles call records (RFC 5531 section 11) from a
// stream that arrives in pieces. It is readRecord turned inside out:
// fill reads whatever is there, next returns a record once its last
// fragment is complete.
type recordReader struct {
	max  int
	buf  []byte // staging; unparsed bytes are buf[r:w]
	r, w int
	rec  []byte // the record being assembled; nil between records
	left int    // bytes of the current fragment not yet in rec
	in   bool   // inside a fragment (its header consumed)
	last bool   // the current fragment is the record's last
}

// next returns the next complete record (from the buffer pool) or nil
// when more input is needed. A record over max fails with an error
// wrapping ErrRecordTooLarge, before its oversized fragment is read.
func (rr *recordReader) next() ([]byte, error) {
	for {
		if !rr.in {
			if rr.w-rr.r < 4 {
				return nil, nil
			}
			h := binary.BigEndian.Uint32(rr.buf[rr.r:])
			rr.r += 4
			n := int(h & fragmentLen)
			if int64(len(rr.rec))+int64(n) > int64(rr.max) {
				return nil, &recordError{size: int64(len(rr.rec)) + int64(n), max: int64(rr.max)}
			}
			if rr.rec == nil {
				rr.rec = getBuf(n)
			} else if cap(rr.rec)-len(rr.rec) < n {
				nb := append(getBuf(len(rr.rec)+n), rr.rec...)
				putBuf(rr.rec)
				rr.rec = nb
			}
			rr.left, rr.last, rr.in = n, h&lastFragment != 0, true
		}
		k := min(rr.left, rr.w-rr.r)
		rr.rec = append(rr.rec, rr.buf[rr.r:rr.r+k]...)
		rr.r += k
		rr.left -= k
		if rr.left > 0 {
			return nil, nil
		}
		rr.in = false
		if rr.last {
			rec := rr.rec
			rr.rec = nil
			return rec, nil
		}
	}
}

// fill reads once with read: straight into the record when a large
// fragment body is all that is expected, else into the staging buffer.
func (rr *recordReader) fill(read func([]byte) (int, error)) (int, error) {
	if rr.r == rr.w {
		rr.r, rr.w = 0, 0
		if rr.in && rr.left >= pollStaging {
			n, err := read(rr.rec[len(rr.rec) : len(rr.rec)+rr.left])
			rr.rec = rr.rec[:len(rr.rec)+n]
			rr.left -= n
			return n, err
		}
	}
	if rr.buf == nil {
		rr.buf = getBuf(pollStaging)[:pollStaging]
	}
	if rr.w == len(rr.buf) {
		// next consumed all it could: what is left is under 4 bytes.
		rr.w = copy(rr.buf, rr.buf[rr.r:rr.w])
		rr.r = 0
	}
	n, err := read(rr.buf[rr.w:])
	rr.w += n
	return n, err
}

// buffered reports unparsed bytes in the staging buffer.
func (rr *recordReader) buffered() bool { return rr.r < rr.w }

// midRecord reports a record begun but not complete.
func (rr *recordReader) midRecord() bool { return rr.rec != nil || rr.buffered() }

// release returns the buffers to the pool.
func (rr *recordReader) release() {
	putBuf(rr.rec)
	rr.rec = nil
	if rr.buf != nil && !rr.buffered() {
		putBuf(rr.buf)
		rr.buf = nil
		rr.r, rr.w = 0, 0
	}
}

// pollState is the part of a polled connection that a goroutine-served
// one does not have.
type pollState struct {
	sched PollScheduler
	fd    int // owned: closed when the connection finishes
	watch *poll.Watch

	mu       sync.Mutex
	rr       recordReader
	queued   bool // a read is queued or running: it alone reads
	paused   bool // MaxInFlight calls in flight: nobody reads
	inflight int
	closing  bool // read no more; finish when nothing is in flight
	finished bool
	active   atomic.Int64 // unix nanoseconds of the last call read
}

// newPollState readies c for poll mode, or returns nil (changing
// nothing) when its connection has no descriptor to watch.
//
// The connection leaves Go's network poller: its descriptor is
// duplicated and c.nc closed, so that a call's arrival wakes only the
// pool's epoll, not the runtime's poller as well. Reads and writes are
// then plain system calls on a non-blocking descriptor.
func (s *Server) newPollState(c *conn, ps PollScheduler) *pollState {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	if cerr := rc.Control(func(f uintptr) {
		fd, err = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0)
	}); cerr != nil || err != nil || fd < 0 {
		return nil
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil
	}
	c.nc.Close()
	st := &pollState{sched: ps, fd: fd, rr: recordReader{max: s.MaxRecordSize}}
	st.active.Store(time.Now().UnixNano())
	return st
}

// startPollConn registers a connection readied by newPollState (and
// already counted in s.conns and s.wg) with the pool's poller.
func (s *Server) startPollConn(c *conn) {
	st := c.ps
	// Held until the watch is known: its callback may run at once.
	st.mu.Lock()
	defer st.mu.Unlock()
	w, err := st.sched.Watch(st.fd, c.pollReady)
	if err != nil {
		s.Logger.Warn("rpc connection not watched, closing", "remote", c.remote.String(), "err", err)
		c.pollClose()
		return
	}
	st.watch = w
	s.startJanitor()
}

// pollReady is the watch's callback: the connection has data (or was
// closed by the peer). It queues a read.
func (c *conn) pollReady() {
	ps := c.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closing || ps.queued {
		// closing: the read that finds nothing in flight finishes; a
		// watch closed while its event was being harvested ends here.
		c.pollMaybeFinish()
		return
	}
	ps.queued = true
	c.pollQueue()
}

// pollQueue queues a read. Called with ps.mu held and ps.queued set.
func (c *conn) pollQueue() {
	ps := c.ps
	if err := ps.sched.Enqueue(c.pollRead); err != nil {
		ps.queued = false
		c.s.Logger.Debug("rpc scheduler refused call, closing connection", "remote", c.remote.String(), "err", err)
		c.pollClose()
	}
}

// readNB reads what the socket holds, without waiting.
func (c *conn) readNB(b []byte) (int, error) {
	for {
		n, err := unix.Read(c.ps.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errAgain
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// pollWrite writes b whole, waiting (in poll(2), on the worker's thread)
// while the socket's send buffer is full, at most DefaultWriteTimeout.
func (c *conn) pollWrite(b []byte) error {
	fd := c.ps.fd
	deadline := time.Now().Add(DefaultWriteTimeout)
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if n > 0 {
			b = b[n:]
		}
		switch {
		case err == nil || err == unix.EINTR:
		case err == unix.EAGAIN:
			left := time.Until(deadline)
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

// pollRead runs on a worker: it reads one call, hands the connection to
// the next reader, and serves the call in this worker.
func (c *conn) pollRead() {
	ps := c.ps
	s := c.s
	ps.mu.Lock()
	if ps.closing || s.closing.Load() {
		ps.queued = false
		c.pollClose()
		ps.mu.Unlock()
		return
	}
	var rec []byte
	var err error
	for {
		if rec, err = ps.rr.next(); rec != nil || err != nil {
			break
		}
		var n int
		n, err = ps.rr.fill(c.readNB)
		if n > 0 {
			continue
		}
		if err == errAgain {
			ps.queued = false
			ps.rr.releaseIdle()
			if aerr := ps.watch.Arm(); aerr != nil {
				c.pollClose()
			}
			ps.mu.Unlock()
			return
		}
		if err == io.EOF && ps.rr.midRecord() {
			err = io.ErrUnexpectedEOF
		}
		break
	}
	if err != nil {
		ps.queued = false
		c.logReadError(err)
		c.pollClose()
		ps.mu.Unlock()
		return
	}
	ps.inflight++
	ps.active.Store(time.Now().UnixNano())
	switch {
	case ps.inflight >= s.MaxInFlight:
		ps.queued = false
		ps.paused = true
	case ps.rr.buffered():
		c.pollQueue() // the next call may be complete already
	default:
		ps.queued = false
		if ps.watch.Arm() != nil {
			c.pollClose()
		}
	}
	ps.mu.Unlock()

	s.handle(rec, c.local, c.remote, c)

	ps.mu.Lock()
	ps.inflight--
	if ps.paused && !ps.closing {
		ps.paused = false
		ps.queued = true
		c.pollQueue()
	}
	c.pollMaybeFinish()
	ps.mu.Unlock()
}

// releaseIdle gives the staging buffer back when it holds nothing.
func (rr *recordReader) releaseIdle() {
	if rr.buf != nil && !rr.buffered() && rr.rec == nil {
		putBuf(rr.buf)
		rr.buf = nil
		rr.r, rr.w = 0, 0
	}
}

// pollClose stops reading; the connection is closed once its calls in
// flight have sent their replies. Called with ps.mu held.
func (c *conn) pollClose() {
	ps := c.ps
	if !ps.closing {
		ps.closing = true
		if ps.watch != nil {
			ps.watch.Close()
		}
		c.endBack() // a handler may wait for a back reply
	}
	c.pollMaybeFinish()
}

// pollMaybeFinish closes a closing connection with nothing in flight and
// no read queued. Called with ps.mu held.
func (c *conn) pollMaybeFinish() {
	ps := c.ps
	if !ps.closing || ps.finished || ps.inflight > 0 || ps.queued {
		return
	}
	ps.finished = true
	ps.rr.release()
	// No write after the close: a back channel call may come late,
	// and the descriptor's number may be reused at once.
	c.wmu.Lock()
	c.broken.Store(true)
	c.wmu.Unlock()
	unix.Close(ps.fd)
	s := c.s
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// logReadError logs why a connection stops being read.
func (c *conn) logReadError(err error) {
	s := c.s
	var ne net.Error
	switch {
	case errors.Is(err, ErrRecordTooLarge):
		s.stats.tooLarge.Add(1)
		s.Logger.Warn("rpc record too large, closing connection",
			"remote", c.remote.String(), "err", err)
	case err == io.EOF || s.closing.Load() || c.broken.Load():
	case errors.As(err, &ne) && ne.Timeout():
		s.Logger.Debug("rpc connection idle, closing", "remote", c.remote.String())
	default:
		s.Logger.Debug("rpc connection read", "remote", c.remote.String(), "err", err)
	}
}

// startJanitor starts, once per Server, the goroutine that closes polled
// connections idle for IdleTimeout (goroutine-served ones use a read
// deadline instead).
func (s *Server) startJanitor() {
	s.janitorOnce.Do(func() {
		s.wg.Add(1)
		go s.janitor()
	})
}

func (s *Server) janitor() {
	defer s.wg.Done()
	every := min(max(s.IdleTimeout/4, 10*time.Millisecond), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.stop:
			return
		case <-t.C:
		}
		limit := time.Now().Add(-s.IdleTimeout).UnixNano()
		s.mu.Lock()
		var idle []*conn
		for c := range s.conns {
			if c.ps != nil && c.ps.active.Load() < limit {
				idle = append(idle, c)
			}
		}
		s.mu.Unlock()
		for _, c := range idle {
			ps := c.ps
			ps.mu.Lock()
			if ps.inflight == 0 && !ps.queued && ps.active.Load() < limit {
				s.Logger.Debug("rpc connection idle, closing", "remote", c.remote.String())
				c.pollClose()
			}
			ps.mu.Unlock()
		}
	}
}
