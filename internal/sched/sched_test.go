package sched

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests poll for states (eventually) with a generous deadline; they
// never assert on how long something took.

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// noLeaks fails the test if goroutines started during it outlive it.
func noLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(20 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutines: %d at start, %d now\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// gate blocks tasks until opened; it opens when the test ends, so that a
// failing test does not leave the pool's Close waiting on held tasks.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{ch: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

func quietPool(t *testing.T) *Pool {
	t.Helper()
	p := NewPool(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(p.Close)
	return p
}

func mustQueue(t *testing.T, p *Pool, name string, threads, maxQueued int) *Queue {
	t.Helper()
	q, err := p.NewQueue(name, threads, maxQueued)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func mustGo(t *testing.T, q *Queue, fn func()) {
	t.Helper()
	if err := q.Go(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// gauge counts concurrently running tasks and keeps the maximum.
type gauge struct{ cur, max atomic.Int64 }

func (g *gauge) enter() int64 {
	n := g.cur.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return n
		}
	}
}

func (g *gauge) exit() { g.cur.Add(-1) }

func TestThreadsLimitNeverExceeded(t *testing.T) {
	for _, threads := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(threads), func(t *testing.T) {
			noLeaks(t)
			p := quietPool(t)
			mustQueue(t, p, "big", 16, 0) // the pool has more workers than q may use
			q := mustQueue(t, p, "q", threads, 200)
			var g gauge
			release := newGate(t).ch // tokens are sent; closed if the test fails
			const n = 100
			for i := 0; i < n; i++ {
				mustGo(t, q, func() {
					g.enter()
					<-release
					g.exit()
				})
			}
			eventually(t, "limit reached", func() bool { return g.cur.Load() >= int64(threads) })
			if s := q.Stats(); s.InFlight != threads || s.Queued != n-threads {
				t.Fatalf("stats %+v", s)
			}
			for i := 0; i < n; i++ {
				release <- struct{}{}
			}
			eventually(t, "all done", func() bool { return q.Stats().Completed == n })
			if m := g.max.Load(); m != int64(threads) {
				t.Fatalf("max in flight %d, threads %d", m, threads)
			}
		})
	}
}

func TestPoolSizeFollowsMax(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	workers := func(want int) {
		t.Helper()
		if got := p.Size(); got != want {
			t.Fatalf("Size %d, want %d", got, want)
		}
		eventually(t, fmt.Sprintf("%d workers", want), func() bool { return p.Stats().Workers == want })
	}
	workers(0)
	a := mustQueue(t, p, "a", 4, 0)
	workers(4)
	b := mustQueue(t, p, "b", 10, 0)
	workers(10)
	c := mustQueue(t, p, "c", 0, 0) // stopped: does not count
	workers(10)
	if err := b.SetThreads(2); err != nil {
		t.Fatal(err)
	}
	workers(4)
	if err := c.SetThreads(7); err != nil {
		t.Fatal(err)
	}
	workers(7)
	c.Close()
	workers(4)
	a.Close()
	workers(2)
	if err := b.SetThreads(0); err != nil {
		t.Fatal(err)
	}
	workers(0)
	if err := b.SetThreads(MaxThreads); err != nil {
		t.Fatal(err)
	}
	workers(MaxThreads)
	b.Close()
	workers(0)
	if s := p.Stats(); s.Queues != 0 || s.Running != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// dispatchLog records the order in which the pool dispatches requests.
type dispatchLog struct {
	mu  sync.Mutex
	seq []string
}

func (l *dispatchLog) hook(q *Queue) {
	l.mu.Lock()
	l.seq = append(l.seq, q.name)
	l.mu.Unlock()
}

func (l *dispatchLog) reset() {
	l.mu.Lock()
	l.seq = l.seq[:0]
	l.mu.Unlock()
}

func (l *dispatchLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seq...)
}

func index(seq []string, name string) int {
	for i, s := range seq {
		if s == name {
			return i
		}
	}
	return -1
}

// TestFairnessQuietQueue: a queue enqueuing one request while busy queues
// hold a thousand each gets it dispatched after at most one request of
// each busy queue, and always within the pool size. The order is made
// deterministic by holding every worker until the backlogs and the quiet
// request are queued.
func TestFairnessQuietQueue(t *testing.T) {
	const size = 4
	for _, tc := range []struct {
		name string
		busy int  // busy queues, each with 1000 waiting requests
		gate bool // workers held by a separate queue (busy queues below their limit)
		want int  // largest index of the quiet request in the dispatch order
	}{
		{"busy queue at its limit", 1, false, 0},
		{"one busy queue with room", 1, true, 1},
		{"three busy queues with room", 3, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			p := quietPool(t)
			var log dispatchLog
			p.mu.Lock()
			p.testHookDispatch = log.hook
			p.mu.Unlock()
			gate := newGate(t)
			var busy []*Queue
			for i := 0; i < tc.busy; i++ {
				busy = append(busy, mustQueue(t, p, fmt.Sprintf("busy%d", i), size, 2000))
			}
			holder := busy[0]
			if tc.gate {
				holder = mustQueue(t, p, "gate", size, 0)
			}
			for i := 0; i < size; i++ {
				mustGo(t, holder, func() { <-gate.ch })
			}
			eventually(t, "workers held", func() bool { return holder.Stats().InFlight == size })
			var ran atomic.Int64
			for _, b := range busy {
				for i := 0; i < 1000; i++ {
					mustGo(t, b, func() { ran.Add(1) })
				}
			}
			quiet := mustQueue(t, p, "quiet", 1, 0)
			if p.Size() != size {
				t.Fatalf("pool size %d", p.Size())
			}
			log.reset()
			mustGo(t, quiet, func() {})
			gate.open()
			eventually(t, "backlog done", func() bool { return ran.Load() == int64(1000*tc.busy) })
			seq := log.snapshot()
			i := index(seq, "quiet")
			if i < 0 || i > tc.want || i >= size {
				t.Fatalf("quiet request dispatched at %d, want <= %d; order starts %v", i, tc.want, seq[:min(len(seq), 10)])
			}
		})
	}
}

// TestRoundRobinOrder: with one free worker, backlogged queues are served
// in strict rotation, whether their threads limit takes them out of the
// ring after each dispatch (threads 1) or not (threads 2).
func TestRoundRobinOrder(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprint(threads), func(t *testing.T) {
			noLeaks(t)
			p := quietPool(t)
			var log dispatchLog
			p.mu.Lock()
			p.testHookDispatch = log.hook
			p.mu.Unlock()
			// Hold every worker (the pool has threads of them).
			holder := mustQueue(t, p, "gate", threads, 0)
			gates := make([]*gate, threads)
			for i := range gates {
				gate := newGate(t)
				gates[i] = gate
				mustGo(t, holder, func() { <-gate.ch })
			}
			eventually(t, "workers held", func() bool { return holder.Stats().InFlight == threads })
			var ran atomic.Int64
			for i, name := range []string{"a", "b", "c"} {
				q := mustQueue(t, p, name, threads, 0)
				for j := 0; j < []int{5, 3, 5}[i]; j++ {
					mustGo(t, q, func() { ran.Add(1) })
				}
			}
			log.reset()
			gates[0].open() // one worker free, the others held
			eventually(t, "all done", func() bool { return ran.Load() == 13 })
			if got, want := fmt.Sprint(log.snapshot()), "[a b c a b c a b c a c a c]"; got != want {
				t.Fatalf("order %s, want %s", got, want)
			}
			for _, g := range gates[1:] {
				g.open()
			}
		})
	}
}

func TestBackpressure(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	q := mustQueue(t, p, "q", 1, 2)
	hold := newGate(t)
	mustGo(t, q, func() { <-hold.ch })
	eventually(t, "running", func() bool { return q.Stats().InFlight == 1 })
	var ran atomic.Int64
	mustGo(t, q, func() { ran.Add(1) })
	mustGo(t, q, func() { ran.Add(1) })

	// Full: Go blocks until ctx is canceled.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- q.Go(ctx, func() { ran.Add(100) }) }()
	eventually(t, "Go blocked", func() bool { return q.Stats().Blocked == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked Go returned %v", err)
	}
	// Full: Go blocks until room appears.
	go func() { errc <- q.Go(context.Background(), func() { ran.Add(1) }) }()
	eventually(t, "Go blocked again", func() bool { return q.Stats().Blocked == 1 })
	if s := q.Stats(); s.Queued != 2 || s.Rejected != 1 {
		t.Fatalf("stats %+v", s)
	}
	hold.open()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	eventually(t, "drained", func() bool { return q.Stats().Completed == 4 })
	if ran.Load() != 3 {
		t.Fatalf("ran %d (the canceled request must not run)", ran.Load())
	}
	// A canceled context does not matter while there is room.
	if err := q.Go(ctx, func() {}); err != nil {
		t.Fatal(err)
	}
}

func TestCloseSemantics(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	other := mustQueue(t, p, "other", 2, 0)
	q := mustQueue(t, p, "q", 1, 3)
	hold := newGate(t)
	var finished atomic.Bool
	mustGo(t, q, func() {
		<-hold.ch
		finished.Store(true)
	})
	eventually(t, "running", func() bool { return q.Stats().InFlight == 1 })
	var ran atomic.Int64
	for i := 0; i < 3; i++ {
		mustGo(t, q, func() { ran.Add(1) })
	}
	blocked := make(chan error)
	go func() { blocked <- q.Go(context.Background(), func() { ran.Add(100) }) }()
	eventually(t, "Go blocked", func() bool { return q.Stats().Blocked == 1 })

	closed := make(chan struct{})
	go func() {
		q.Close()
		close(closed)
	}()
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Fatalf("Go blocked during Close returned %v", err)
	}
	if err := q.Go(context.Background(), func() {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Go after Close returned %v", err)
	}
	if err := q.SetThreads(3); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetThreads after Close returned %v", err)
	}
	hold.open()
	<-closed
	if !finished.Load() || ran.Load() != 3 {
		t.Fatalf("Close returned before the accepted work: finished %v, ran %d", finished.Load(), ran.Load())
	}
	q.Close() // idempotent
	if s := p.Stats(); s.Queues != 1 || s.Size != 2 {
		t.Fatalf("pool stats %+v", s)
	}
	mustGo(t, other, func() {})

	// Pool.Close closes the remaining queues, runs their waiting work
	// and stops the workers.
	hold2 := newGate(t)
	mustGo(t, other, func() { <-hold2.ch })
	mustGo(t, other, func() { <-hold2.ch })
	eventually(t, "running", func() bool { return other.Stats().InFlight == 2 })
	for i := 0; i < 5; i++ {
		mustGo(t, other, func() { ran.Add(1) })
	}
	pclosed := make(chan struct{})
	go func() {
		p.Close()
		close(pclosed)
	}()
	eventually(t, "queue closing", func() bool {
		return errors.Is(other.Go(context.Background(), func() {}), ErrClosed)
	})
	hold2.open()
	<-pclosed
	if ran.Load() != 8 {
		t.Fatalf("ran %d after Pool.Close, want 8", ran.Load())
	}
	if s := p.Stats(); s.Workers != 0 || s.Queues != 0 {
		t.Fatalf("stats after Close %+v", s)
	}
	if _, err := p.NewQueue("late", 1, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewQueue after Close: %v", err)
	}
	p.Close()
}

func TestStopStart(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	q := mustQueue(t, p, "q", 2, 0)
	hold := newGate(t)
	var g gauge
	for i := 0; i < 10; i++ {
		mustGo(t, q, func() {
			g.enter()
			<-hold.ch
			g.exit()
		})
	}
	eventually(t, "running", func() bool { return g.cur.Load() == 2 })
	// Fill the queue so that a Go blocks; stopping releases it.
	if err := q.SetThreads(2); err != nil { // same value: no change
		t.Fatal(err)
	}
	small := mustQueue(t, p, "small", 1, 1)
	mustGo(t, small, func() {}) // waits: both workers are held by q
	blocked := make(chan error)
	go func() { blocked <- small.Go(context.Background(), func() {}) }()
	eventually(t, "Go blocked", func() bool { return small.Stats().Blocked == 1 })
	if err := small.SetThreads(0); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; !errors.Is(err, ErrStopped) {
		t.Fatalf("Go blocked when the queue stopped: %v", err)
	}
	if err := q.SetThreads(0); err != nil {
		t.Fatal(err)
	}
	if err := q.Go(context.Background(), func() {}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Go on stopped queue: %v", err)
	}
	if q.Threads() != 0 || p.Size() != 2 {
		t.Fatalf("threads %d size %d: the accepted work drains with the former value", q.Threads(), p.Size())
	}
	hold.open()
	eventually(t, "drained", func() bool { return q.Stats().Completed == 10 && small.Stats().Completed == 1 })
	eventually(t, "no workers", func() bool { return p.Size() == 0 && p.Stats().Workers == 0 })
	if g.max.Load() != 2 {
		t.Fatalf("max in flight %d", g.max.Load())
	}
	if err := q.SetThreads(3); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	mustGo(t, q, func() { close(done) })
	<-done
	if p.Size() != 3 {
		t.Fatalf("size %d", p.Size())
	}
}

// TestSetThreadsUnderLoad raises and lowers the limit of a loaded queue:
// raising lets more run at once, and after lowering no request starts
// while the queue is at or above the new limit.
func TestSetThreadsUnderLoad(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	q := mustQueue(t, p, "q", 2, 1000)
	release := newGate(t).ch // tokens are sent; closed if the test fails
	var g gauge
	var lowered atomic.Bool
	var violations atomic.Int64
	const n = 200
	for i := 0; i < n; i++ {
		mustGo(t, q, func() {
			c := g.enter()
			if lowered.Load() && c > 1 {
				violations.Add(1)
			}
			<-release
			g.exit()
		})
	}
	eventually(t, "2 running", func() bool { return g.cur.Load() == 2 })
	if err := q.SetThreads(6); err != nil {
		t.Fatal(err)
	}
	eventually(t, "6 running", func() bool { return g.cur.Load() == 6 })
	if p.Size() != 6 {
		t.Fatalf("size %d", p.Size())
	}
	if err := q.SetThreads(1); err != nil {
		t.Fatal(err)
	}
	lowered.Store(true) // the 6 running requests started before
	if p.Size() != 1 {
		t.Fatalf("size %d", p.Size())
	}
	for i := 0; i < n; i++ {
		release <- struct{}{}
	}
	eventually(t, "all done", func() bool { return q.Stats().Completed == n })
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d requests started above the lowered limit", v)
	}
	eventually(t, "surplus workers exit", func() bool { return p.Stats().Workers == 1 })
}

func TestPanicIsRecovered(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	q := mustQueue(t, p, "q", 1, 0)
	mustGo(t, q, func() { panic("boom") })
	done := make(chan struct{})
	mustGo(t, q, func() { close(done) })
	<-done
	eventually(t, "counted", func() bool { return q.Stats().Completed == 2 })
	if s := q.Stats(); s.Panics != 1 || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestInvalidArguments(t *testing.T) {
	noLeaks(t)
	p := NewPool(Options{MaxQueues: 2})
	defer p.Close()
	for _, tc := range []struct{ threads, maxQueued int }{
		{-1, 0}, {MaxThreads + 1, 0}, {1, -1}, {1, MaxQueued + 1},
	} {
		if _, err := p.NewQueue("x", tc.threads, tc.maxQueued); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewQueue(%d, %d): %v", tc.threads, tc.maxQueued, err)
		}
	}
	q := mustQueue(t, p, "a", 1, 0)
	mustQueue(t, p, "b", 0, 0)
	if _, err := p.NewQueue("c", 1, 0); !errors.Is(err, ErrTooManyQueues) {
		t.Fatalf("third queue: %v", err)
	}
	if err := q.SetThreads(-1); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := q.SetThreads(MaxThreads + 1); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := q.Go(context.Background(), nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if s := q.Stats(); s.MaxQueued != DefaultMaxQueued || s.Name != "a" {
		t.Fatalf("stats %+v", s)
	}
	q.Close()
	mustQueue(t, p, "c", 1, 0) // room again
}

func TestZeroPool(t *testing.T) {
	noLeaks(t)
	var p Pool
	q := mustQueue(t, &p, "q", 1, 0)
	done := make(chan struct{})
	mustGo(t, q, func() { close(done) })
	<-done
	p.Close()
}

// TestStress runs random Go, SetThreads and Close calls from several
// goroutines: every accepted request runs exactly once, and no queue
// ever runs more requests than the largest threads value it had.
func TestStress(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	const nq = 6
	type qstate struct {
		q       *Queue
		g       gauge
		maxEver atomic.Int64
		over    atomic.Int64
	}
	qs := make([]*qstate, nq)
	for i := range qs {
		qs[i] = &qstate{q: mustQueue(t, p, fmt.Sprint("q", i), 1+i, 16)}
		qs[i].maxEver.Store(int64(1 + i))
	}
	var accepted, ran atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			for i := 0; i < 2000; i++ {
				s := qs[r.IntN(nq)]
				switch x := r.IntN(100); {
				case x < 3:
					n := r.IntN(10)
					for {
						m := s.maxEver.Load()
						if int64(n) <= m || s.maxEver.CompareAndSwap(m, int64(n)) {
							break
						}
					}
					s.q.SetThreads(n)
				default:
					ctx, cancel := context.WithCancel(context.Background())
					if r.IntN(4) == 0 {
						cancel()
					}
					err := s.q.Go(ctx, func() {
						if s.g.enter() > s.maxEver.Load() {
							s.over.Add(1)
						}
						runtime.Gosched()
						s.g.exit()
						ran.Add(1)
					})
					cancel()
					if err == nil {
						accepted.Add(1)
					} else if !errors.Is(err, ErrStopped) && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
						t.Errorf("Go: %v", err)
					}
				}
			}
		}(uint64(w))
	}
	wg.Wait()
	qs[0].q.Close()
	p.Close()
	if accepted.Load() != ran.Load() {
		t.Fatalf("accepted %d, ran %d", accepted.Load(), ran.Load())
	}
	for _, s := range qs {
		if s.over.Load() != 0 {
			t.Fatalf("%s exceeded its threads", s.q.name)
		}
	}
	if accepted.Load() == 0 {
		t.Fatal("nothing accepted")
	}
}

// TestBufferReleased: a burst into a queue with a large maxQueued does
// not pin its buffer once the queue is idle again; small buffers stay.
func TestBufferReleased(t *testing.T) {
	noLeaks(t)
	p := quietPool(t)
	for _, tc := range []struct {
		burst int
		kept  bool
	}{{100, true}, {shrinkAbove + 1, false}} {
		q := mustQueue(t, p, fmt.Sprint("burst", tc.burst), 1, MaxQueued)
		if q.Name() != fmt.Sprint("burst", tc.burst) {
			t.Fatal(q.Name())
		}
		hold := newGate(t)
		mustGo(t, q, func() { <-hold.ch })
		eventually(t, "held", func() bool { return q.Stats().InFlight == 1 })
		var ran atomic.Int64
		for i := 0; i < tc.burst; i++ {
			mustGo(t, q, func() { ran.Add(1) })
		}
		hold.open()
		eventually(t, "drained", func() bool { return ran.Load() == int64(tc.burst) })
		p.mu.Lock()
		kept := q.items.buf != nil
		p.mu.Unlock()
		if kept != tc.kept {
			t.Fatalf("burst %d: buffer kept %v", tc.burst, kept)
		}
		q.Close()
	}
}
