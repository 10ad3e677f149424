package deleg

import (
	"sync"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func fid(s string) lock.FileID       { return lock.FileID{Export: 1, Object: s} }
func want(t *testing.T, what string, err error, st nfserr.Status) {
	t.Helper()
	if got := nfserr.Of(err); got != st {
		t.Errorf("%s: %v, want %v", what, got, st)
	}
}

type env struct {
	tb      *Table
	clk     *clock
	mu      sync.Mutex
	recalls []*Deleg
	reach   bool
	called  chan struct{}
}

func newEnv(t *testing.T, reach bool) *env {
	e := &env{clk: &clock{t: time.Unix(1000, 0)}, reach: reach, called: make(chan struct{}, 100)}
	var n byte
	e.tb = New(Config{
		Alloc: func() [12]byte { n++; return [12]byte{11: n} },
		Recall: func(d *Deleg) bool {
			e.mu.Lock()
			e.recalls = append(e.recalls, d)
			e.mu.Unlock()
			e.called <- struct{}{}
			return e.reach
		},
		Timeout:      10 * time.Second,
		Now:          e.clk.now,
		MaxPerClient: 3,
	})
	return e
}

func (e *env) waitRecall(t *testing.T) {
	t.Helper()
	select {
	case <-e.called:
	case <-time.After(10 * time.Second):
		t.Fatal("no recall")
	}
}

// TestGrantRecallReturn: the life of a read delegation that is recalled
// and returned in time.
func TestGrantRecallReturn(t *testing.T) {
	e := newEnv(t, true)
	d, ok := e.tb.Grant(1, fid("a"), []byte("fh-a"))
	if !ok || d.Stateid.Seqid != 1 {
		t.Fatalf("grant: %v %+v", ok, d)
	}
	if _, ok := e.tb.Grant(1, fid("a"), nil); ok {
		t.Error("second delegation of one client on one file")
	}
	d2, ok := e.tb.Grant(2, fid("a"), nil)
	if !ok {
		t.Fatal("read delegations of two clients on one file")
	}
	if e.tb.Conflict(fid("a"), 1) != true {
		t.Error("client 1 must wait for client 2's delegation")
	}
	e.waitRecall(t)
	if e.recalls[0] != d2 {
		t.Errorf("recalled %+v, want client 2's", e.recalls[0])
	}
	if !e.tb.Conflict(fid("a"), 1) {
		t.Error("conflict gone before the return")
	}
	if len(e.called) != 0 {
		t.Error("recall sent twice")
	}
	if _, ok := e.tb.Grant(3, fid("a"), nil); ok {
		t.Error("granted during a recall")
	}
	// The holder still reads with it; writes are not allowed.
	found, err := e.tb.CheckIO(2, 1, fid("a"), d2.Stateid, false)
	want(t, "read with the delegation", err, nfserr.OK)
	if !found {
		t.Error("delegation stateid not found")
	}
	_, err = e.tb.CheckIO(2, 1, fid("a"), d2.Stateid, true)
	want(t, "write with a read delegation", err, nfserr.Openmode)
	_, err = e.tb.CheckIO(2, 1, fid("b"), d2.Stateid, false)
	want(t, "another file", err, nfserr.BadStateid)
	_, err = e.tb.CheckIO(1, 1, fid("a"), d2.Stateid, false)
	want(t, "another client's", err, nfserr.BadStateid)
	_, err = e.tb.CheckIO(2, 0, fid("a"), d2.Stateid, false)
	want(t, "presented in a 4.0 COMPOUND", err, nfserr.BadStateid)
	_, err = e.tb.CheckIO(2, 1, fid("a"), Stateid{Seqid: 2, Other: d2.Stateid.Other}, false)
	want(t, "future seqid", err, nfserr.BadStateid)
	_, err = e.tb.CheckIO(2, 1, fid("a"), Stateid{Seqid: 0, Other: d2.Stateid.Other}, false)
	want(t, "seqid 0 (current)", err, nfserr.OK)
	if found, _ := e.tb.CheckIO(2, 1, fid("a"), Stateid{Other: [12]byte{1}}, false); found {
		t.Error("an open's stateid taken for a delegation")
	}

	want(t, "return on another file", e.tb.Return(2, 1, fid("b"), d2.Stateid), nfserr.BadStateid)
	want(t, "return", e.tb.Return(2, 1, fid("a"), d2.Stateid), nfserr.OK)
	want(t, "return again", e.tb.Return(2, 1, fid("a"), d2.Stateid), nfserr.BadStateid)
	if e.tb.Conflict(fid("a"), 1) {
		t.Error("conflict after the return")
	}
	if e.tb.Conflict(fid("a"), 0) != true {
		t.Error("an NFSv3 writer must wait for client 1's delegation")
	}
	e.waitRecall(t)
	// No new delegation on a file recalled lately.
	want(t, "return", e.tb.Return(1, 1, fid("a"), d.Stateid), nfserr.OK)
	if _, ok := e.tb.Grant(1, fid("a"), nil); ok {
		t.Error("granted right after a recall")
	}
	e.clk.add(11 * time.Second)
	e.tb.Reap(e.clk.now())
	if _, ok := e.tb.Grant(1, fid("a"), nil); !ok {
		t.Error("not granted long after the recall")
	}
}

// TestRevocation: a recalled delegation not returned within the timeout
// is revoked; its stateid is NFS4ERR_DELEG_REVOKED until FREE_STATEID.
func TestRevocation(t *testing.T) {
	e := newEnv(t, true)
	d, _ := e.tb.Grant(1, fid("a"), nil)
	e.tb.Conflict(fid("a"), 2)
	e.waitRecall(t)
	e.clk.add(9 * time.Second)
	if n := e.tb.Reap(e.clk.now()); n != 0 {
		t.Fatalf("revoked %d before the timeout", n)
	}
	e.clk.add(time.Second)
	if n := e.tb.Reap(e.clk.now()); n != 1 {
		t.Fatalf("revoked %d at the timeout, want 1", n)
	}
	if e.tb.Conflict(fid("a"), 2) {
		t.Error("a revoked delegation conflicts")
	}
	if e.tb.Revoked(1) != 1 || !e.tb.Holds(1) {
		t.Errorf("revoked %d, holds %v", e.tb.Revoked(1), e.tb.Holds(1))
	}
	_, err := e.tb.CheckIO(1, 1, fid("a"), d.Stateid, false)
	want(t, "read with a revoked delegation", err, nfserr.DelegRevoked)
	if found, st := e.tb.Test(1, d.Stateid); !found || st != nfserr.DelegRevoked {
		t.Errorf("TEST_STATEID: %v %v", found, st)
	}
	want(t, "return of a revoked one", e.tb.Return(1, 1, fid("a"), d.Stateid), nfserr.DelegRevoked)
	found, err := e.tb.Free(1, d.Stateid)
	want(t, "free", err, nfserr.OK)
	if !found || e.tb.Revoked(1) != 0 || e.tb.Holds(1) {
		t.Errorf("after free: found %v revoked %d holds %v", found, e.tb.Revoked(1), e.tb.Holds(1))
	}
	if s := e.tb.Stats(); s != (Stats{}) {
		t.Errorf("stats %+v", s)
	}
}

// TestUnreachable: a holder that cannot be called back loses its
// delegation at once.
func TestUnreachable(t *testing.T) {
	e := newEnv(t, false)
	d, _ := e.tb.Grant(1, fid("a"), nil)
	if !e.tb.Conflict(fid("a"), 2) {
		t.Fatal("no conflict")
	}
	e.waitRecall(t)
	deadline := time.Now().Add(10 * time.Second)
	for e.tb.Conflict(fid("a"), 2) {
		if time.Now().After(deadline) {
			t.Fatal("unreachable holder's delegation still conflicts")
		}
		time.Sleep(time.Millisecond)
	}
	if found, st := e.tb.Test(1, d.Stateid); !found || st != nfserr.DelegRevoked {
		t.Errorf("TEST_STATEID: %v %v", found, st)
	}
	found, err := e.tb.Free(1, Stateid{Other: [12]byte{5}})
	if found || err != nil {
		t.Errorf("free of an unknown stateid: %v %v", found, err)
	}
}

// TestLimitsAndRelease: MaxPerClient holds, FREE_STATEID of a live one
// is refused, ReleaseClient drops everything of the client.
func TestLimitsAndRelease(t *testing.T) {
	e := newEnv(t, true)
	var ds []*Deleg
	for _, f := range []string{"a", "b", "c", "d"} {
		if d, ok := e.tb.Grant(1, fid(f), nil); ok {
			ds = append(ds, d)
		}
	}
	if len(ds) != 3 {
		t.Fatalf("%d granted, want MaxPerClient 3", len(ds))
	}
	_, err := e.tb.Free(1, ds[0].Stateid)
	want(t, "free of a live delegation", err, nfserr.LocksHeld)
	if got := len(e.tb.Held(1)); got != 3 {
		t.Errorf("held %d", got)
	}
	e.tb.ReleaseClient(1)
	if e.tb.Holds(1) || e.tb.Conflict(fid("a"), 2) || e.tb.Known(ds[1].Stateid) {
		t.Error("state left after ReleaseClient")
	}
	if s := e.tb.Stats(); s != (Stats{}) {
		t.Errorf("stats %+v", s)
	}
}
