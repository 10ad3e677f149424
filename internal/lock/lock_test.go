package lock

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	fA = FileID{Export: 1, Object: "A"}
	fB = FileID{Export: 1, Object: "B"}
	fC = FileID{Export: 2, Object: "A"}

	alice = Owner{Client: "nlm:10.0.0.1", ID: "alice", Svid: 10}
	alic2 = Owner{Client: "nlm:10.0.0.1", ID: "alice2", Svid: 11}
	bob   = Owner{Client: "nlm:10.0.0.2", ID: "bob", Svid: 20}
	carol = Owner{Client: "v4:7", ID: "carol"}
)

func rq(f FileID, o Owner, t Type, start, end uint64) Request {
	return Request{File: f, Owner: o, Type: t, Range: Range{start, end}}
}

func mustLock(t *testing.T, m *Manager, r Request) {
	t.Helper()
	if h, err := m.Lock(r); err != nil {
		t.Fatalf("Lock %v: %v (holder %v)", r, err, h)
	}
}

func TestNewRange(t *testing.T) {
	for _, c := range []struct {
		off, len uint64
		want     Range
	}{
		{0, 0, Range{0, EOF}},
		{10, 0, Range{10, EOF}},
		{10, 1, Range{10, 10}},
		{10, 5, Range{10, 14}},
		{EOF - 1, 2, Range{EOF - 1, EOF}},
		{EOF - 1, 3, Range{EOF - 1, EOF}}, // overflow: to EOF
		{1 << 63, 1 << 63, Range{1 << 63, EOF}},
		{EOF, 1, Range{EOF, EOF}},
	} {
		if got := NewRange(c.off, c.len); got != c.want {
			t.Errorf("NewRange(%d, %d) = %v, want %v", c.off, c.len, got, c.want)
		}
	}
	if n := (Range{5, EOF}).Length(); n != 0 {
		t.Errorf("Length to EOF = %d", n)
	}
	if n := (Range{5, 9}).Length(); n != 5 {
		t.Errorf("Length = %d", n)
	}
}

func TestConflicts(t *testing.T) {
	m := New(Config{})
	mustLock(t, m, rq(fA, alice, Read, 0, 99))
	mustLock(t, m, rq(fA, bob, Read, 50, 149)) // shared locks coexist
	if h, err := m.Lock(rq(fA, carol, Write, 140, 140)); err != ErrConflict || h.Owner != bob || h.Type != Read || h.Range != (Range{50, 149}) {
		t.Fatalf("write over a read lock: %v %+v", err, h)
	}
	mustLock(t, m, rq(fA, carol, Write, 150, EOF)) // adjacent, no overlap
	if _, err := m.Lock(rq(fA, alice, Read, 1000, 1000)); err != ErrConflict {
		t.Fatalf("read under a write lock: %v", err)
	}
	mustLock(t, m, rq(fB, bob, Write, 0, EOF)) // other file
	mustLock(t, m, rq(fC, bob, Write, 0, EOF)) // same object, other export
	// Another owner of the same client conflicts too.
	if _, err := m.Lock(rq(fA, alic2, Write, 0, 0)); err != ErrConflict {
		t.Fatalf("other owner of the same client: %v", err)
	}
	if h, ok := m.Test(rq(fA, alic2, Read, 150, 150)); !ok || h.Owner != carol {
		t.Fatalf("Test: %v %v", h, ok)
	}
	if _, ok := m.Test(rq(fA, carol, Write, 150, 200)); ok {
		t.Fatal("Test reports the owner's own lock")
	}
	if _, err := m.Lock(rq(fA, alice, 3, 0, 0)); err != ErrInvalid {
		t.Fatalf("bad type: %v", err)
	}
	if _, err := m.Lock(rq(fA, alice, Read, 5, 4)); err != ErrInvalid {
		t.Fatalf("empty range: %v", err)
	}
	checkCounts(t, m)
}

func ownerLocks(m *Manager, o Owner) []string {
	var out []string
	for _, l := range m.Locks() {
		if l.Owner == o {
			end := fmt.Sprint(l.Range.End)
			if l.Range.End == EOF {
				end = "EOF"
			}
			out = append(out, fmt.Sprintf("%s %s %d-%s", l.File.Object, l.Type, l.Range.Start, end))
		}
	}
	return out
}

func TestCoalesceAndSplit(t *testing.T) {
	type op struct {
		unlock bool
		typ    Type
		s, e   uint64
	}
	for _, c := range []struct {
		name string
		ops  []op
		want []string
	}{
		{"merge overlapping", []op{{false, Read, 0, 10}, {false, Read, 5, 20}}, []string{"A read 0-20"}},
		{"merge adjacent", []op{{false, Write, 0, 9}, {false, Write, 10, 19}}, []string{"A write 0-19"}},
		{"no merge across gap", []op{{false, Write, 0, 9}, {false, Write, 11, 19}}, []string{"A write 0-9", "A write 11-19"}},
		{"bridge", []op{{false, Read, 0, 9}, {false, Read, 20, 29}, {false, Read, 10, 19}}, []string{"A read 0-29"}},
		{"upgrade middle", []op{{false, Read, 0, 99}, {false, Write, 40, 59}}, []string{"A read 0-39", "A write 40-59", "A read 60-99"}},
		{"downgrade all", []op{{false, Write, 0, 99}, {false, Read, 0, EOF}}, []string{"A read 0-EOF"}},
		{"downgrade merges", []op{{false, Read, 0, 9}, {false, Write, 10, 19}, {false, Read, 20, 29}, {false, Read, 10, 19}}, []string{"A read 0-29"}},
		{"unlock middle", []op{{false, Write, 0, EOF}, {true, 0, 10, 19}}, []string{"A write 0-9", "A write 20-EOF"}},
		{"unlock across", []op{{false, Read, 0, 9}, {false, Write, 10, 19}, {true, 0, 5, 14}}, []string{"A read 0-4", "A write 15-19"}},
		{"unlock nothing", []op{{false, Read, 10, 19}, {true, 0, 0, 9}}, []string{"A read 10-19"}},
		{"unlock all", []op{{false, Read, 10, 19}, {false, Write, 30, 40}, {true, 0, 0, EOF}}, nil},
		{"to EOF", []op{{false, Write, 100, EOF}, {false, Write, 50, 99}}, []string{"A write 50-EOF"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := New(Config{})
			for _, o := range c.ops {
				if o.unlock {
					if err := m.Unlock(fA, alice, Range{o.s, o.e}); err != nil {
						t.Fatal(err)
					}
				} else {
					mustLock(t, m, rq(fA, alice, o.typ, o.s, o.e))
				}
			}
			if got := ownerLocks(m, alice); !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			checkCounts(t, m)
		})
	}
}

// notes records waiter notifications.
type notes struct {
	mu  sync.Mutex
	got []string
}

func (n *notes) fn(name string) func(error) {
	return func(err error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.got = append(n.got, fmt.Sprintf("%s:%v", name, err))
	}
}

func (n *notes) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.got
	n.got = nil
	return g
}

func TestWaitersFIFO(t *testing.T) {
	m := New(Config{})
	var n notes
	mustLock(t, m, rq(fA, alice, Write, 0, 99))
	wb, err := m.LockWait(rq(fA, bob, Write, 0, 9), n.fn("bob"))
	if err != nil || wb == nil {
		t.Fatalf("bob: %v %v", wb, err)
	}
	wc, err := m.LockWait(rq(fA, carol, Write, 5, 5), n.fn("carol"))
	if err != nil || wc == nil {
		t.Fatalf("carol: %v %v", wc, err)
	}
	wa2, err := m.LockWait(rq(fA, alic2, Read, 50, 50), n.fn("alice2"))
	if err != nil || wa2 == nil {
		t.Fatalf("alice2: %v %v", wa2, err)
	}
	if got := len(m.Waiters()); got != 3 {
		t.Fatalf("%d waiters", got)
	}
	// Downgrading 50 lets the reader in; the writers still wait.
	mustLock(t, m, rq(fA, alice, Read, 50, 50))
	if got := n.take(); !slices.Equal(got, []string{"alice2:<nil>"}) {
		t.Fatalf("after downgrade: %v", got)
	}
	// Releasing 0-9: bob is first in line and takes it; carol (5) now
	// waits behind bob.
	if err := m.Unlock(fA, alice, Range{0, 9}); err != nil {
		t.Fatal(err)
	}
	if got := n.take(); !slices.Equal(got, []string{"bob:<nil>"}) {
		t.Fatalf("after unlock: %v", got)
	}
	if h, ok := m.Test(rq(fA, carol, Write, 5, 5)); !ok || h.Owner != bob {
		t.Fatalf("bob does not hold 0-9: %v", h)
	}
	if m.Cancel(wb) {
		t.Fatal("Cancel of a granted waiter succeeded")
	}
	if !m.Cancel(wc) {
		t.Fatal("Cancel of a queued waiter failed")
	}
	if m.Cancel(wc) {
		t.Fatal("second Cancel succeeded")
	}
	if err := m.Unlock(fA, bob, Range{0, EOF}); err != nil {
		t.Fatal(err)
	}
	if got := n.take(); len(got) != 0 {
		t.Fatalf("cancelled waiter notified: %v", got)
	}
	checkCounts(t, m)
}

func TestNotifyMayCallManager(t *testing.T) {
	m := New(Config{})
	mustLock(t, m, rq(fA, alice, Write, 0, 0))
	done := make(chan error, 1)
	_, err := m.LockWait(rq(fA, bob, Write, 0, 0), func(err error) {
		// Re-entering the manager from notify must not deadlock.
		done <- errors.Join(err, m.Unlock(fA, bob, Range{0, 0}))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(fA, alice, Range{0, EOF}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(m.Locks()) != 0 {
		t.Fatalf("locks left: %v", m.Locks())
	}
	checkCounts(t, m)
}

func TestDeadlock(t *testing.T) {
	m := New(Config{})
	var n notes
	mustLock(t, m, rq(fA, alice, Write, 0, 0))
	mustLock(t, m, rq(fB, bob, Write, 0, 0))
	mustLock(t, m, rq(fC, carol, Write, 0, 0))
	if _, err := m.LockWait(rq(fB, alice, Write, 0, 0), n.fn("alice")); err != nil {
		t.Fatal(err) // alice waits for bob
	}
	if _, err := m.LockWait(rq(fC, bob, Write, 0, 0), n.fn("bob")); err != nil {
		t.Fatal(err) // bob waits for carol
	}
	// carol -> alice closes alice -> bob -> carol -> alice.
	if _, err := m.LockWait(rq(fA, carol, Write, 0, 0), n.fn("carol")); err != ErrDeadlock {
		t.Fatalf("cycle of three: %v", err)
	}
	// Another owner may wait for alice.
	if _, err := m.LockWait(rq(fA, alic2, Write, 0, 0), n.fn("alice2")); err != nil {
		t.Fatal(err)
	}
	// Once carol is gone, the chain ends and bob, then alice get their locks.
	m.UnlockOwner(carol)
	if got := n.take(); !slices.Equal(got, []string{"bob:<nil>"}) {
		t.Fatalf("%v", got)
	}
	m.UnlockOwner(bob)
	if got := n.take(); !slices.Equal(got, []string{"alice:<nil>"}) {
		t.Fatalf("%v", got)
	}
	checkCounts(t, m)
}

func TestGrace(t *testing.T) {
	m := New(Config{})
	m.StartGrace(time.Hour)
	if !m.InGrace() || m.GraceEnds().IsZero() || !m.Stats().InGrace {
		t.Fatal("grace not on")
	}
	if _, err := m.Lock(rq(fA, alice, Write, 0, 9)); err != ErrGrace {
		t.Fatalf("lock in grace: %v", err)
	}
	if _, err := m.LockWait(rq(fA, alice, Write, 0, 9), func(error) {}); err != ErrGrace {
		t.Fatalf("blocking lock in grace: %v", err)
	}
	if _, err := m.Share(Share{File: fA, Owner: alice, Access: ShareRead}, false); err != ErrGrace {
		t.Fatalf("share in grace: %v", err)
	}
	r := rq(fA, alice, Write, 0, 9)
	r.Reclaim = true
	mustLock(t, m, r)
	r2 := rq(fA, bob, Write, 5, 5)
	r2.Reclaim = true
	if _, err := m.Lock(r2); err != ErrConflict {
		t.Fatalf("conflicting reclaim: %v", err)
	}
	if _, err := m.Share(Share{File: fA, Owner: alice, Access: ShareRead}, true); err != nil {
		t.Fatalf("share reclaim: %v", err)
	}
	m.EndGrace()
	if m.InGrace() {
		t.Fatal("grace still on")
	}
	if _, err := m.Lock(r); err != ErrNoGrace {
		t.Fatalf("reclaim after grace: %v", err)
	}
	mustLock(t, m, rq(fA, bob, Write, 10, 10))

	// The timer ends a grace period by itself.
	m.StartGrace(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for m.InGrace() {
		if time.Now().After(deadline) {
			t.Fatal("grace period did not end")
		}
		time.Sleep(time.Millisecond)
	}
	// A restarted grace period is not ended by the old timer.
	m.StartGrace(time.Millisecond)
	m.StartGrace(time.Hour)
	time.Sleep(20 * time.Millisecond)
	if !m.InGrace() {
		t.Fatal("old timer ended the new grace period")
	}
	m.EndGrace()
}

func TestUnlockClientExportOwner(t *testing.T) {
	m := New(Config{})
	var n notes
	mustLock(t, m, rq(fA, alice, Write, 0, 9))
	mustLock(t, m, rq(fA, alic2, Read, 20, 29))
	mustLock(t, m, rq(fB, alice, Read, 0, EOF))
	mustLock(t, m, rq(fC, alice, Read, 0, EOF))
	mustLock(t, m, rq(fA, bob, Read, 20, 29))
	if _, err := m.Share(Share{File: fB, Owner: alice, Access: ShareRead, Deny: ShareWrite}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LockWait(rq(fA, carol, Write, 0, 0), n.fn("carol")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LockWait(rq(fB, alic2, Write, 0, 0), n.fn("alice2")); err != nil {
		t.Fatal(err)
	}
	if !m.ClientActive(alice.Client) || !m.ClientActive(carol.Client) || m.ClientActive("nobody") {
		t.Fatal("ClientActive")
	}

	// UnlockOwner(alice) leaves alice2 (same client) alone.
	if got := m.UnlockOwner(alice); got != 4 {
		t.Fatalf("UnlockOwner dropped %d", got)
	}
	got := n.take()
	slices.Sort(got)
	if !slices.Equal(got, []string{"alice2:<nil>", "carol:<nil>"}) {
		t.Fatalf("after UnlockOwner: %v", got)
	}
	if ownerLocks(m, alic2) == nil || ownerLocks(m, bob) == nil {
		t.Fatal("other owners lost their locks")
	}

	// UnlockClient drops the client's owners, cancels its waiters.
	mustLock(t, m, rq(fC, bob, Write, 0, 0))
	if _, err := m.LockWait(rq(fC, alice, Read, 0, 0), n.fn("alice")); err != nil {
		t.Fatal(err)
	}
	if got := m.UnlockClient(alice.Client); got != 2 {
		t.Fatalf("UnlockClient dropped %d", got)
	}
	if got := n.take(); !slices.Equal(got, []string{"alice:" + ErrCancelled.Error()}) {
		t.Fatalf("after UnlockClient: %v", got)
	}
	if m.ClientActive(alice.Client) {
		t.Fatal("client still active")
	}
	if ownerLocks(m, bob) == nil || ownerLocks(m, carol) == nil {
		t.Fatal("other clients lost their locks")
	}

	// UnlockExport(1) leaves export 2 alone.
	if got := m.UnlockExport(1); got != 2 {
		t.Fatalf("UnlockExport dropped %d: %v", got, m.Locks())
	}
	for _, l := range m.Locks() {
		if l.File.Export == 1 {
			t.Fatalf("lock left on export 1: %v", l)
		}
	}
	if len(m.Locks()) != 1 {
		t.Fatalf("locks: %v", m.Locks())
	}
	checkCounts(t, m)
}

func TestLimits(t *testing.T) {
	m := New(Config{MaxLocks: 3, MaxWaiters: 1})
	mustLock(t, m, rq(fA, alice, Write, 0, 99))
	mustLock(t, m, rq(fB, alice, Write, 0, 99))
	if _, err := m.Share(Share{File: fC, Owner: bob, Access: ShareRead}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock(rq(fC, alice, Write, 0, 0)); err != ErrNoLocks {
		t.Fatalf("fourth lock: %v", err)
	}
	// Splitting a lock by unlocking its middle needs one more.
	if err := m.Unlock(fA, alice, Range{10, 19}); err != ErrNoLocks {
		t.Fatalf("splitting unlock: %v", err)
	}
	if got := ownerLocks(m, alice); len(got) != 2 {
		t.Fatalf("failed unlock changed the locks: %v", got)
	}
	// So does an upgrade in the middle.
	if _, err := m.Lock(rq(fA, alice, Read, 10, 19)); err != ErrNoLocks {
		t.Fatalf("splitting downgrade: %v", err)
	}
	// Merging and whole unlocks are fine.
	mustLock(t, m, rq(fA, alice, Write, 100, 199))
	if err := m.Unlock(fA, alice, Range{0, 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LockWait(rq(fA, bob, Write, 50, 50), func(error) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LockWait(rq(fA, bob, Write, 60, 60), func(error) {}); err != ErrTooManyWaiters {
		t.Fatalf("second waiter: %v", err)
	}
	// A waiter that cannot be granted for lack of room is dropped with
	// ErrNoLocks.
	m2 := New(Config{MaxLocks: 2})
	mustLock(t, m2, rq(fA, alice, Write, 0, 0))
	mustLock(t, m2, rq(fB, bob, Write, 0, 0))
	var n notes
	if _, err := m2.LockWait(rq(fA, bob, Write, 0, 0), n.fn("bob")); err != nil {
		t.Fatal(err)
	}
	if err := m2.Unlock(fA, alice, Range{0, 0}); err != nil {
		t.Fatal(err)
	}
	// alice's lock is gone, bob's new one fits.
	if got := n.take(); !slices.Equal(got, []string{"bob:<nil>"}) {
		t.Fatalf("%v", got)
	}
	checkCounts(t, m)
	checkCounts(t, m2)
}

func TestShares(t *testing.T) {
	m := New(Config{})
	if _, err := m.Share(Share{File: fA, Owner: alice, Access: ShareRead | ShareWrite, Deny: ShareWrite}, false); err != nil {
		t.Fatal(err)
	}
	// Reading without denying is compatible; writing is denied.
	if _, err := m.Share(Share{File: fA, Owner: bob, Access: ShareRead}, false); err != nil {
		t.Fatal(err)
	}
	if h, err := m.Share(Share{File: fA, Owner: carol, Access: ShareWrite}, false); err != ErrConflict || h.Owner != alice {
		t.Fatalf("write access against deny-write: %v %v", err, h)
	}
	// Denying read conflicts with the readers.
	if _, err := m.Share(Share{File: fA, Owner: carol, Access: 0, Deny: ShareRead}, false); err != ErrConflict {
		t.Fatalf("deny read against readers: %v", err)
	}
	// The owner may change its own reservation.
	if _, err := m.Share(Share{File: fA, Owner: alice, Access: ShareRead}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Share(Share{File: fA, Owner: carol, Access: ShareWrite}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Share(Share{File: fA, Owner: carol, Access: 4}, false); err != ErrInvalid {
		t.Fatalf("bad access: %v", err)
	}
	if got := len(m.Shares()); got != 3 {
		t.Fatalf("%d shares", got)
	}
	if !m.Unshare(fA, bob) || m.Unshare(fA, bob) || m.Unshare(fB, bob) {
		t.Fatal("Unshare")
	}
	// Shares and locks are independent.
	mustLock(t, m, rq(fA, bob, Write, 0, EOF))
	if st := m.Stats(); st.Shares != 2 || st.Locks != 1 {
		t.Fatalf("stats %+v", st)
	}
	checkCounts(t, m)
}

// TestConcurrent runs random operations from many goroutines (run with
// -race) and then checks that no conflicting locks were granted and that
// the counters and indexes add up.
func TestConcurrent(t *testing.T) {
	m := New(Config{MaxLocks: 200, MaxWaiters: 50})
	files := []FileID{fA, fB, fC, {3, "x"}}
	owners := []Owner{alice, alic2, bob, carol, {Client: "c5", ID: "e"}, {Client: "c6", ID: "f"}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	grants := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			var mine []*Waiter
			for i := 0; i < 3000; i++ {
				f := files[rng.IntN(len(files))]
				o := owners[rng.IntN(len(owners))]
				r := randRange(rng)
				req := Request{File: f, Owner: o, Type: Type(1 + rng.IntN(2)), Range: r}
				switch rng.IntN(12) {
				case 0, 1, 2:
					m.Lock(req)
				case 3, 4:
					w, _ := m.LockWait(req, func(err error) {
						mu.Lock()
						grants++
						mu.Unlock()
					})
					if w != nil {
						mine = append(mine, w)
					}
				case 5:
					if len(mine) > 0 {
						j := rng.IntN(len(mine))
						m.Cancel(mine[j])
						mine = append(mine[:j], mine[j+1:]...)
					}
				case 6, 7, 8, 9:
					m.Unlock(f, o, r)
				case 10:
					m.Test(req)
					m.Share(Share{File: f, Owner: o, Access: uint8(rng.IntN(4)), Deny: uint8(rng.IntN(4))}, false)
				default:
					switch rng.IntN(8) {
					case 0:
						m.UnlockClient(o.Client)
					case 1:
						m.UnlockExport(f.Export)
					case 2:
						m.Locks()
						m.Stats()
					default:
						m.UnlockOwner(o)
						m.Unshare(f, o)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	checkCounts(t, m)
	for _, o := range owners {
		m.UnlockClient(o.Client)
	}
	checkCounts(t, m)
	if st := m.Stats(); st.Locks != 0 || st.Waiters != 0 || st.Shares != 0 {
		t.Fatalf("state left: %+v", st)
	}
	if grants == 0 {
		t.Fatal("no waiter was ever notified")
	}
}
