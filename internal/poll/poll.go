//go:build linux

// Package poll tells a worker pool which of its sockets have data to
// read, in one epoll instance of its own.
//
// Why not leave it to the Go runtime: Go's network poller is consulted
// by a P only when its run queues are empty (or by sysmon after 10 ms).
// A server saturated by one tenant always has runnable goroutines, so the
// readiness of a quiet tenant's socket is noticed only when the backlog
// of every ready connection has been worked off: with 64 busy
// connections on one CPU that is about 1.3 ms (bench/fairness). Here,
// readiness is harvested by the pool's workers between two requests
// (Poll, a non-blocking epoll_wait) and by one goroutine of the Poller
// when the pool is idle; each ready socket's callback queues it with its
// own virtual server, so the pool's deficit round robin, not the order
// of arrival, decides who is served next.
//
// Every Watch is one-shot (EPOLLONESHOT): after its callback runs, it
// reports nothing until Arm is called again. The owner reads the socket
// and re-arms it, which is level-triggered: data already waiting makes
// the watch ready at once, so no wakeup is lost between the last read
// and Arm.
package poll

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxEvents is the most readiness events taken by one Poll.
const maxEvents = 128

// safetyInterval bounds how long the idle goroutine waits on the epoll
// descriptor before it looks again, should an edge of the nested epoll
// be missed.
const safetyInterval = time.Second

// ErrClosed is returned after Close.
var ErrClosed = errors.New("poll: closed")

// Poller is one epoll instance and the callbacks of its watches.
type Poller struct {
	epfd int
	file *os.File // epfd, for waiting in Go's poller when idle
	rc   syscall.RawConn

	mu      sync.Mutex
	watches map[uint64]*Watch
	nextID  uint64
	closed  atomic.Bool

	hmu    sync.Mutex // held by the harvest that owns events
	events [maxEvents]unix.EpollEvent
	done   chan struct{}

	polls, fired atomic.Uint64
}

// Watch is one socket registered with a Poller.
type Watch struct {
	p     *Poller
	id    uint64
	fd    int
	ready func()
}

// New creates a Poller and starts its idle goroutine.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("poll: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("poll: set nonblock: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("poll: %w", err)
	}
	p := &Poller{epfd: epfd, file: f, rc: rc, watches: map[uint64]*Watch{}, done: make(chan struct{})}
	go p.idle()
	return p, nil
}

// Add registers fd, armed: ready is called (once) when fd has data to
// read, its peer closed, or an error is pending. ready runs on a worker
// between requests or on the Poller's goroutine; it must not block.
func (p *Poller) Add(fd int, ready func()) (*Watch, error) {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.nextID++
	w := &Watch{p: p, id: p.nextID, fd: fd, ready: ready}
	p.watches[w.id] = w
	p.mu.Unlock()
	if err := p.ctl(unix.EPOLL_CTL_ADD, w); err != nil {
		p.mu.Lock()
		delete(p.watches, w.id)
		p.mu.Unlock()
		return nil, err
	}
	return w, nil
}

func (p *Poller) ctl(op int, w *Watch) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT}
	// The event carries the watch's id, never reused, so that an event
	// of a socket closed meanwhile (its descriptor perhaps reused) finds
	// nothing.
	ev.Fd, ev.Pad = int32(uint32(w.id)), int32(uint32(w.id>>32))
	if err := unix.EpollCtl(p.epfd, op, w.fd, &ev); err != nil {
		return fmt.Errorf("poll: epoll_ctl: %w", err)
	}
	return nil
}

// Arm makes the watch report readiness again, once.
func (w *Watch) Arm() error {
	if w.p.closed.Load() {
		return ErrClosed
	}
	return w.p.ctl(unix.EPOLL_CTL_MOD, w)
}

// Close unregisters the watch; its callback is not called afterwards
// unless a harvest already took it. Call it before closing the socket.
func (w *Watch) Close() {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return
	}
	delete(p.watches, w.id)
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
}

// Poll harvests the sockets that are ready now, without waiting, and
// runs their callbacks. It returns how many it found; 0 also when
// another harvest is under way at the same moment (the pool's workers
// call it after every request and need not queue up for it).
func (p *Poller) Poll() int {
	if p.closed.Load() || !p.hmu.TryLock() {
		return 0
	}
	return p.harvest()
}

// harvest is Poll with p.hmu held; it releases it.
func (p *Poller) harvest() int {
	n, err := unix.EpollWait(p.epfd, p.events[:], 0)
	if err != nil || n <= 0 {
		p.hmu.Unlock()
		return 0
	}
	p.polls.Add(1)
	var buf [maxEvents]func()
	ready := buf[:0]
	p.mu.Lock()
	for i := range n {
		ev := &p.events[i]
		id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
		if w := p.watches[id]; w != nil {
			ready = append(ready, w.ready)
		}
	}
	p.mu.Unlock()
	// events is free again before the callbacks run, so that another
	// worker may harvest meanwhile.
	p.hmu.Unlock()
	for _, f := range ready {
		f()
	}
	p.fired.Add(uint64(len(ready)))
	return len(ready)
}

// idle waits in Go's poller for the epoll descriptor to become readable
// and harvests, for when no worker is running to do it.
func (p *Poller) idle() {
	defer close(p.done)
	for !p.closed.Load() {
		p.file.SetReadDeadline(time.Now().Add(safetyInterval))
		err := p.rc.Read(func(uintptr) bool {
			// false: nothing was ready (a worker took it first), so
			// wait for the descriptor to become readable again. The
			// lock is taken, not tried: had a worker's harvest begun
			// just before the event that woke this goroutine, skipping
			// would leave that event unharvested with its edge spent.
			if p.closed.Load() {
				return true
			}
			p.hmu.Lock()
			return p.harvest() > 0
		})
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !p.closed.Load() {
			time.Sleep(time.Millisecond)
		}
	}
}

// Stats are a Poller's counters.
type Stats struct {
	Watches      int
	Polls, Fired uint64 // harvests that found something; callbacks run
}

// Stats returns the poller's counters.
func (p *Poller) Stats() Stats {
	p.mu.Lock()
	n := len(p.watches)
	p.mu.Unlock()
	return Stats{Watches: n, Polls: p.polls.Load(), Fired: p.fired.Load()}
}

// Close stops the idle goroutine and closes the epoll descriptor. The
// watches' sockets are not closed.
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return nil
	}
	p.closed.Store(true)
	p.watches = map[uint64]*Watch{}
	p.mu.Unlock()
	p.file.SetReadDeadline(time.Unix(1, 0))
	<-p.done
	return p.file.Close()
}
