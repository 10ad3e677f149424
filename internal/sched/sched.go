// Package sched is the worker pool that all virtual NFS servers of a vnfsd
// process share.
//
// A Pool runs the requests of many Queues, one Queue per virtual server.
// Each Queue has a threads value with the semantics of Linux nfsd's
// threads file (/proc/fs/nfsd/threads): 0 means stopped, a positive value
// means running with at most that many requests in flight. The pool keeps
// as many workers as the largest threads value of its queues, so no queue
// ever waits for a worker because of another queue's configuration, and
// a queue at its limit is passed over until one of its requests completes.
//
// Between queues that have work and room, workers choose by round robin,
// which is deficit round robin (Shreedhar and Varghese, 1995) with the
// cost of every request and the quantum of every queue both equal to one:
// a queue that enqueues one request while others hold thousands has it
// dispatched after at most one request of each other queue that has work,
// however long their backlogs.
//
// Everything is bounded: MaxThreads per queue, the waiting requests of a
// queue (Go blocks, which the RPC server turns into TCP backpressure), and
// the number of queues. An idle Queue is a small struct: it owns no
// goroutine, no channel and no buffer.
package sched

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/poll"
)

// Limits.
const (
	// MaxThreads is the largest threads value of a queue, as NFSD_MAXSERVS
	// of Linux nfsd.
	MaxThreads = 8192
	// DefaultMaxQueued is the bound on waiting requests of a queue created
	// with maxQueued 0.
	DefaultMaxQueued = 1024
	// MaxQueued is the largest bound on waiting requests of a queue.
	MaxQueued = 1 << 20
	// DefaultMaxQueues bounds the queues of a Pool whose Options.MaxQueues
	// is 0.
	DefaultMaxQueues = 1 << 16
)

// yieldAfter is how long (ns) a worker runs requests back to back before
// it yields its P. A worker that always finds work never blocks, and the
// Go runtime preempts it only after 10 ms, while the goroutines it
// readied (a client's connection reader, say) wait behind it.
const yieldAfter = 50_000

// Errors.
var (
	// ErrClosed is returned by the methods of a closed Queue or Pool.
	ErrClosed = errors.New("sched: closed")
	// ErrStopped is returned by Go on a queue whose threads value is 0.
	ErrStopped = errors.New("sched: queue stopped (threads 0)")
	// ErrTooManyQueues is returned by NewQueue when the pool holds
	// Options.MaxQueues queues.
	ErrTooManyQueues = errors.New("sched: too many queues")
	// ErrInvalid wraps an argument out of range.
	ErrInvalid = errors.New("sched: invalid argument")
)

// Options configure a Pool.
type Options struct {
	// Logger receives the panics of work functions; nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxQueues bounds the number of queues; 0 means DefaultMaxQueues.
	MaxQueues int
}

// Pool is a set of workers shared by Queues. The zero Pool is usable and
// equivalent to NewPool(Options{}).
type Pool struct {
	mu   sync.Mutex
	cond sync.Cond // workers wait here for work; L is &mu

	inited    bool
	log       *slog.Logger
	maxQueues int
	epoch     time.Time
	closed    bool

	queues []*Queue // every queue not yet removed; Queue.idx is its index

	// Round robin ring of the queues that can dispatch now (waiting work
	// and in-flight below their limit); head is served next.
	head, tail *Queue

	target  int // wanted number of workers: max limit over queues
	workers int // live workers, counting those about to exit
	idle    int // workers waiting on cond that nobody has signalled
	waking  int // workers signalled but not yet running
	// runnable is the sum over queues of min(waiting, limit-inflight): the
	// requests that could be dispatched right now.
	runnable int
	wg       sync.WaitGroup

	completed, panics uint64

	// poller, made by the first Watch, tells the workers between two
	// requests which sockets of the pool's queues have calls waiting.
	poller atomic.Pointer[poll.Poller]

	testHookDispatch func(*Queue) // called under mu at each dispatch
}

// PoolStats is a snapshot of a Pool.
type PoolStats struct {
	Size      int    // workers the pool converges to (Size())
	Workers   int    // worker goroutines alive now
	Idle      int    // workers waiting for work
	Queues    int    // queues not yet removed
	Running   int    // queues with threads > 0
	Queued    int    // waiting requests, all queues
	InFlight  int    // running requests, all queues
	Completed uint64 // requests completed since NewPool
	Panics    uint64 // work functions that panicked
}

type qstate uint8

const (
	qRunning qstate = iota
	qStopped        // threads 0: refuses work, drains what it holds
	qClosing        // Close called: refuses work, drains, then is removed
	qClosed
)

// item is one waiting request.
type item struct {
	fn  func()
	enq int64 // nanoseconds since the pool's epoch
}

// fifo is a ring buffer of items, allocated on first use.
type fifo struct {
	buf  []item // len is a power of two, or 0
	head int
	n    int
}

func (f *fifo) push(it item) {
	if f.n == len(f.buf) {
		nb := make([]item, max(8, 2*len(f.buf)))
		for i := 0; i < f.n; i++ {
			nb[i] = f.buf[(f.head+i)&(len(f.buf)-1)]
		}
		f.buf, f.head = nb, 0
	}
	f.buf[(f.head+f.n)&(len(f.buf)-1)] = it
	f.n++
}

// shrinkAbove: an empty fifo larger than this many items (64 KiB) gives
// its buffer back, so that a burst into a queue with a large maxQueued
// does not pin memory once the queue is idle. Smaller buffers are kept:
// freeing them would reallocate on every burst.
const shrinkAbove = 4096

func (f *fifo) pop() item {
	it := f.buf[f.head]
	f.buf[f.head] = item{}
	f.head = (f.head + 1) & (len(f.buf) - 1)
	f.n--
	if f.n == 0 {
		f.head = 0
		if len(f.buf) > shrinkAbove {
			f.buf = nil
		}
	}
	return it
}

// Queue is the share of one virtual server in a Pool. Its Go method
// satisfies oncrpc.Scheduler.
type Queue struct {
	p    *Pool
	name string

	// Guarded by p.mu.
	state     qstate
	threads   int // configured value
	limit     int // dispatch limit: threads, or the old threads while draining
	maxQueued int
	items     fifo
	inflight  int
	runnable  int  // this queue's part of p.runnable
	inRing    bool // in p's ring
	next      *Queue
	prev      *Queue
	idx       int           // index in p.queues
	space     chan struct{} // closed when room appears; made by a blocked Go
	drained   chan struct{} // closed when a closing queue is removed
	blocked   int           // Go calls waiting for room

	completed, rejected, panics  uint64
	waitTotal, waitMax, runTotal int64 // nanoseconds
}

// QueueStats is a snapshot of a Queue.
type QueueStats struct {
	Name      string
	Threads   int // configured threads value
	MaxQueued int
	Queued    int // waiting requests
	InFlight  int // running requests
	Blocked   int // Go calls waiting for room
	Completed uint64
	Rejected  uint64 // Go calls refused (stopped, closed, context done)
	Panics    uint64
	// WaitTotal is the sum of the times requests spent waiting between Go
	// and the start of their run, WaitMax the longest; RunTotal is the sum
	// of their run times.
	WaitTotal, WaitMax, RunTotal time.Duration
}

// NewPool returns a pool without workers; they start with the first
// running queue.
func NewPool(opts Options) *Pool {
	p := &Pool{}
	p.log = opts.Logger
	p.maxQueues = opts.MaxQueues
	p.mu.Lock()
	p.init()
	p.mu.Unlock()
	return p
}

func (p *Pool) init() {
	if p.inited {
		return
	}
	p.inited = true
	p.cond.L = &p.mu
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.maxQueues <= 0 {
		p.maxQueues = DefaultMaxQueues
	}
	p.epoch = time.Now()
}

func (p *Pool) now() int64 { return int64(time.Since(p.epoch)) }

// NewQueue adds a queue. threads is 0 (created stopped) to MaxThreads;
// maxQueued bounds the requests waiting for a worker (0 means
// DefaultMaxQueued, at most MaxQueued). name appears in logs and stats.
func (p *Pool) NewQueue(name string, threads, maxQueued int) (*Queue, error) {
	if threads < 0 || threads > MaxThreads {
		return nil, fmt.Errorf("%w: threads %d not in [0, %d]", ErrInvalid, threads, MaxThreads)
	}
	if maxQueued == 0 {
		maxQueued = DefaultMaxQueued
	}
	if maxQueued < 0 || maxQueued > MaxQueued {
		return nil, fmt.Errorf("%w: maxQueued %d not in [0, %d]", ErrInvalid, maxQueued, MaxQueued)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	if p.closed {
		return nil, ErrClosed
	}
	if len(p.queues) >= p.maxQueues {
		return nil, ErrTooManyQueues
	}
	q := &Queue{p: p, name: name, threads: threads, limit: threads, maxQueued: maxQueued, idx: len(p.queues)}
	if threads == 0 {
		q.state = qStopped
	}
	p.queues = append(p.queues, q)
	p.retarget()
	return q, nil
}

// Size returns the number of workers the pool converges to: the largest
// threads value over its queues (a stopped or closing queue counts with
// its former value while it drains waiting requests). Workers above it
// exit after their current request.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := PoolStats{Size: p.target, Workers: p.workers, Idle: p.idle, Queues: len(p.queues),
		Completed: p.completed, Panics: p.panics}
	for _, q := range p.queues {
		if q.threads > 0 {
			s.Running++
		}
		s.Queued += q.items.n
		s.InFlight += q.inflight
	}
	return s
}

// Close closes every queue, runs the requests they hold, and returns when
// every worker has exited. Go and NewQueue fail with ErrClosed afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	p.init()
	p.closed = true
	for _, q := range append([]*Queue(nil), p.queues...) {
		p.closeQueue(q)
	}
	p.mu.Unlock()
	p.wg.Wait()
	if pl := p.poller.Load(); pl != nil {
		pl.Close()
	}
}

// Name returns the name given to NewQueue.
func (q *Queue) Name() string { return q.name }

// Threads returns the configured threads value.
func (q *Queue) Threads() int {
	q.p.mu.Lock()
	defer q.p.mu.Unlock()
	return q.threads
}

// SetThreads changes the threads value, as writing nfsd's threads file
// does: 0 stops the queue (Go fails with ErrStopped; requests already
// accepted still run, at most the former threads value at once), a
// positive value starts or resizes it. Lowering the value lets running
// requests finish; no new one starts until the queue is below the new
// value. The pool grows or shrinks to the largest value of its queues.
func (q *Queue) SetThreads(n int) error {
	if n < 0 || n > MaxThreads {
		return fmt.Errorf("%w: threads %d not in [0, %d]", ErrInvalid, n, MaxThreads)
	}
	p := q.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.state >= qClosing {
		return ErrClosed
	}
	q.threads = n
	if n > 0 {
		q.state = qRunning
		q.limit = n
	} else {
		q.state = qStopped
		if q.items.n == 0 {
			q.limit = 0
		}
		q.wakeBlocked()
	}
	p.update(q)
	p.retarget()
	p.wake()
	return nil
}

// Go queues fn to run on a worker of the pool. When the queue already
// holds its maxQueued waiting requests, Go waits for room or for ctx to
// be done, whichever comes first (ctx bounds only that wait). It returns
// ErrStopped if the queue's threads value is 0 and ErrClosed after
// Close; fn is then not run. A panic in fn is logged and recovered.
func (q *Queue) Go(ctx context.Context, fn func()) error {
	return q.enqueue(ctx, fn)
}

// Enqueue is Go that never waits: it queues fn even when the queue holds
// its maxQueued waiting requests. It is for callers that bound what they
// queue themselves and must not block, such as the readiness callbacks
// of Watch (the RPC server queues at most one read per connection).
func (q *Queue) Enqueue(fn func()) error {
	return q.enqueue(nil, fn)
}

// enqueue is Go; a nil ctx means queue past maxQueued rather than wait.
func (q *Queue) enqueue(ctx context.Context, fn func()) error {
	if fn == nil {
		return fmt.Errorf("%w: nil func", ErrInvalid)
	}
	p := q.p
	now := p.now()
	p.mu.Lock()
	for q.state != qRunning || q.items.n >= q.maxQueued && ctx != nil {
		if q.state != qRunning {
			q.rejected++
			err := ErrStopped
			if q.state >= qClosing {
				err = ErrClosed
			}
			p.mu.Unlock()
			return err
		}
		if q.space == nil {
			q.space = make(chan struct{})
		}
		space := q.space
		q.blocked++
		p.mu.Unlock()
		var err error
		select {
		case <-space:
		case <-ctx.Done():
			err = ctx.Err()
		}
		p.mu.Lock()
		q.blocked--
		if err != nil {
			q.rejected++
			p.mu.Unlock()
			return err
		}
		now = p.now()
	}
	q.items.push(item{fn: fn, enq: now})
	p.update(q)
	p.wake()
	p.mu.Unlock()
	return nil
}

// Watch registers the socket fd with the pool's poller (made on first
// use): ready is called once, without blocking, when fd has data to
// read; poll.Watch.Arm asks for the next time. The pool's workers look
// for ready sockets after every request, so a call arriving for a quiet
// queue is queued (and then dispatched by round robin) within about one
// request's time, however many other connections the busy queues have.
func (q *Queue) Watch(fd int, ready func()) (*poll.Watch, error) {
	p := q.p
	pl := p.poller.Load()
	if pl == nil {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		if pl = p.poller.Load(); pl == nil {
			var err error
			if pl, err = poll.New(); err != nil {
				p.mu.Unlock()
				return nil, err
			}
			p.poller.Store(pl)
		}
		p.mu.Unlock()
	}
	return pl.Add(fd, ready)
}

// Close removes the queue from the pool: Go fails with ErrClosed from
// now on, goroutines blocked in Go return ErrClosed, the requests already
// accepted run, and Close returns once they have all completed. It must
// not be called from a request of the same queue.
func (q *Queue) Close() {
	p := q.p
	p.mu.Lock()
	p.closeQueue(q)
	done := q.drained
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Stats returns a snapshot of the queue.
func (q *Queue) Stats() QueueStats {
	q.p.mu.Lock()
	defer q.p.mu.Unlock()
	return QueueStats{Name: q.name, Threads: q.threads, MaxQueued: q.maxQueued,
		Queued: q.items.n, InFlight: q.inflight, Blocked: q.blocked,
		Completed: q.completed, Rejected: q.rejected, Panics: q.panics,
		WaitTotal: time.Duration(q.waitTotal), WaitMax: time.Duration(q.waitMax),
		RunTotal: time.Duration(q.runTotal)}
}

// closeQueue starts closing q; q.drained, if not nil, is closed when q is
// removed. Called with p.mu held.
func (p *Pool) closeQueue(q *Queue) {
	if q.state >= qClosing {
		return
	}
	q.state = qClosing
	q.threads = 0
	if q.items.n == 0 {
		q.limit = 0
	}
	q.wakeBlocked()
	if q.items.n == 0 && q.inflight == 0 {
		p.remove(q)
	} else {
		q.drained = make(chan struct{})
		p.update(q)
	}
	p.retarget()
}

// wakeBlocked releases the Go calls waiting for room. Called with p.mu
// held.
func (q *Queue) wakeBlocked() {
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
}

// remove takes a drained closing queue out of the pool. Called with p.mu
// held; the caller retargets.
func (p *Pool) remove(q *Queue) {
	q.state = qClosed
	q.limit = 0
	p.update(q)
	last := len(p.queues) - 1
	p.queues[q.idx] = p.queues[last]
	p.queues[q.idx].idx = q.idx
	p.queues[last] = nil
	p.queues = p.queues[:last]
	if q.drained != nil {
		close(q.drained)
	}
}

// update recomputes q's runnable count and its membership of the ring
// after a change of its items, in-flight count or limit. A queue that
// joins the ring goes to its tail. Called with p.mu held.
func (p *Pool) update(q *Queue) {
	r := min(q.items.n, q.limit-q.inflight)
	if r < 0 {
		r = 0
	}
	p.runnable += r - q.runnable
	q.runnable = r
	switch {
	case r > 0 && !q.inRing:
		q.inRing = true
		q.next, q.prev = nil, p.tail
		if p.tail != nil {
			p.tail.next = q
		} else {
			p.head = q
		}
		p.tail = q
	case r == 0 && q.inRing:
		p.unlink(q)
	}
}

func (p *Pool) unlink(q *Queue) {
	if q.prev != nil {
		q.prev.next = q.next
	} else {
		p.head = q.next
	}
	if q.next != nil {
		q.next.prev = q.prev
	} else {
		p.tail = q.prev
	}
	q.next, q.prev, q.inRing = nil, nil, false
}

// retarget sets the pool size to the largest limit over the queues,
// starting workers or waking idle ones so that the surplus exits. Called
// with p.mu held.
func (p *Pool) retarget() {
	t := 0
	for _, q := range p.queues {
		t = max(t, q.limit)
	}
	shrink := t < p.target
	p.target = t
	for p.workers < t {
		p.workers++
		p.wg.Add(1)
		go p.worker()
	}
	if shrink && p.idle > 0 {
		p.waking += p.idle
		p.idle = 0
		p.cond.Broadcast()
	}
}

// wake signals idle workers while there is more dispatchable work than
// workers already signalled. Called with p.mu held.
func (p *Pool) wake() {
	for p.idle > 0 && p.waking < p.runnable {
		p.idle--
		p.waking++
		p.cond.Signal()
	}
}

// dispatch takes the next request by round robin over the ring, or
// returns nil. Called with p.mu held.
func (p *Pool) dispatch() (*Queue, item) {
	q := p.head
	if q == nil {
		return nil, item{}
	}
	it := q.items.pop()
	q.inflight++
	if q.space != nil && q.items.n < q.maxQueued {
		q.wakeBlocked()
	}
	// Served: to the tail of the ring if it can still dispatch.
	p.unlink(q)
	p.update(q)
	if q.state != qRunning && q.items.n == 0 && q.limit != 0 {
		// Drained: the pool no longer needs workers for it.
		q.limit = 0
		p.update(q)
		p.retarget()
	}
	if p.testHookDispatch != nil {
		p.testHookDispatch(q)
	}
	return q, it
}

// complete accounts a finished request. Called with p.mu held.
func (p *Pool) complete(q *Queue, wait, run int64, panicked bool) {
	q.inflight--
	q.completed++
	p.completed++
	q.waitTotal += wait
	q.waitMax = max(q.waitMax, wait)
	q.runTotal += run
	if panicked {
		q.panics++
		p.panics++
	}
	p.update(q)
	if q.state == qClosing && q.items.n == 0 && q.inflight == 0 {
		p.remove(q)
		p.retarget()
	}
}

func (p *Pool) worker() {
	defer p.wg.Done()
	since := int64(-1) // when this worker last started running on a P
	p.mu.Lock()
	for {
		if p.workers > p.target {
			p.workers--
			p.wake() // the work this worker leaves goes to an idle one
			p.mu.Unlock()
			return
		}
		q, it := p.dispatch()
		if q == nil {
			p.idle++
			p.cond.Wait()
			p.waking--
			since = -1
			continue
		}
		p.wake()
		p.mu.Unlock()
		t0 := p.now()
		if since < 0 {
			since = t0
		}
		panicked := p.run(q, it.fn)
		t1 := p.now()
		if pl := p.poller.Load(); pl != nil {
			// Calls that arrived meanwhile join their queues now, before
			// this worker picks its next request.
			pl.Poll()
		}
		p.mu.Lock()
		p.complete(q, t0-it.enq, t1-t0, panicked)
		if t1-since >= yieldAfter {
			// Let the goroutines this worker readied (reply writers,
			// connection readers) run now rather than after the runtime
			// preempts a worker that always finds work.
			p.mu.Unlock()
			runtime.Gosched()
			since = -1
			p.mu.Lock()
		}
	}
}

// run calls fn, recovering a panic.
func (p *Pool) run(q *Queue, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			p.log.Error("sched: request panicked", "queue", q.name, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
	return false
}
