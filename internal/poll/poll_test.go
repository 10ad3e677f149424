//go:build linux

package poll

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func socketpair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// TestIdleWakeups: with nobody calling Poll, the Poller's own goroutine
// must deliver every readiness, round after round, without the safety
// interval (a lost wakeup shows as a round taking about a second).
func TestIdleWakeups(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const conns, rounds = 4, 300
	type pair struct{ a, b int }
	var pairs []pair
	ready := make(chan int, conns)
	var watches []*Watch
	for i := range conns {
		a, b := socketpair(t)
		pairs = append(pairs, pair{a, b})
		w, err := p.Add(a, func() { ready <- i })
		if err != nil {
			t.Fatal(err)
		}
		watches = append(watches, w)
	}
	var slow int
	for r := range rounds {
		for _, pr := range pairs {
			if _, err := unix.Write(pr.b, []byte{byte(r)}); err != nil {
				t.Fatal(err)
			}
		}
		for range conns {
			t0 := time.Now()
			var i int
			select {
			case i = <-ready:
			case <-time.After(5 * time.Second):
				t.Fatalf("round %d: readiness not delivered", r)
			}
			if time.Since(t0) > safetyInterval/2 {
				slow++
			}
			var b [8]byte
			if n, err := unix.Read(pairs[i].a, b[:]); err != nil || n != 1 {
				t.Fatalf("read: %d %v", n, err)
			}
			if err := watches[i].Arm(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if slow > 0 {
		t.Fatalf("%d of %d wakeups came only after the safety interval", slow, conns*rounds)
	}
}

// TestOneShotAndArm: a watch fires once per Arm, and Arm with data
// already waiting fires at once (level-triggered re-arm).
func TestOneShotAndArm(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, b := socketpair(t)
	var mu sync.Mutex
	fired := 0
	w, err := p.Add(a, func() { mu.Lock(); fired++; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return fired }
	unix.Write(b, []byte("x"))
	waitFor(t, func() bool { return count() == 1 })
	unix.Write(b, []byte("y"))
	time.Sleep(50 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("fired %d times before Arm, want 1", n)
	}
	if err := w.Arm(); err != nil { // data still unread
		t.Fatal(err)
	}
	waitFor(t, func() bool { return count() == 2 })
	w.Close()
	w.Arm() // after Close: an error, and no callback
	unix.Write(b, []byte("z"))
	time.Sleep(50 * time.Millisecond)
	if n := count(); n != 2 {
		t.Fatalf("fired %d times after Close, want 2", n)
	}
	if st := p.Stats(); st.Watches != 0 || st.Fired != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEdgeDuringWorkerHarvest: an event whose edge wakes the idle
// goroutine while a worker's harvest is under way (one that called
// epoll_wait just before the event came, so found nothing) must still be
// delivered, not left for the safety interval.
func TestEdgeDuringWorkerHarvest(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, b := socketpair(t)
	ready := make(chan struct{}, 1)
	w, err := p.Add(a, func() { ready <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	for r := range 5 {
		p.hmu.Lock() // a worker's harvest, its epoll_wait already done
		unix.Write(b, []byte{1})
		time.Sleep(20 * time.Millisecond) // the edge wakes the idle goroutine
		p.hmu.Unlock()
		select {
		case <-ready:
		case <-time.After(safetyInterval / 2):
			t.Fatalf("round %d: event left to the safety interval", r)
		}
		var buf [8]byte
		unix.Read(a, buf[:])
		if err := w.Arm(); err != nil {
			t.Fatal(err)
		}
	}
}
