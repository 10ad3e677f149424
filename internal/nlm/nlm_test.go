package nlm

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

func TestConflictingLockRefused(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 100, true, false, 0, 100)
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	wantStat(t, "A LOCK again", f.a.lock(aw), Granted)

	bw := f.b.lockArgs(h1, 200, true, false, 50, 10)
	wantStat(t, "B LOCK overlapping", f.b.lock(bw), Denied)
	br := f.b.lockArgs(h1, 200, false, false, 99, 1)
	wantStat(t, "B read LOCK overlapping a write lock", f.b.lock(br), Denied)
	wantStat(t, "B LOCK after the range", f.b.lock(f.b.lockArgs(h1, 200, true, false, 100, 0)), Granted)

	// Another process of client A conflicts as well.
	wantStat(t, "A other svid", f.a.lock(f.a.lockArgs(h1, 101, false, false, 10, 1)), Denied)

	// TEST reports the holder.
	tr := f.b.test(bw)
	if tr.Stat != Denied || !tr.Holder.Exclusive || tr.Holder.Svid != 100 || tr.Holder.Offset != 0 ||
		tr.Holder.Len != 100 || string(tr.Holder.OH) != "oh-127.0.0.2" || !bytes.Equal(tr.Cookie, bw.Cookie) {
		t.Fatalf("TEST: %+v", tr)
	}
	// B's lock to EOF is reported with length 0.
	tr = f.a.test(f.a.lockArgs(h1, 100, false, false, 1<<40, 1))
	if tr.Stat != Denied || tr.Holder.Svid != 200 || tr.Holder.Offset != 100 || tr.Holder.Len != 0 {
		t.Fatalf("TEST to EOF: %+v", tr)
	}
	if tr := f.b.test(f.b.lockArgs(f.handle(expRW, "f2"), 200, true, false, 0, 0)); tr.Stat != Granted {
		t.Fatalf("TEST of a free file: %+v", tr)
	}

	// Read locks of both clients coexist on another file.
	h2 := f.handle(expRW, "f2")
	wantStat(t, "A read f2", f.a.lock(f.a.lockArgs(h2, 100, false, false, 0, 0)), Granted)
	wantStat(t, "B read f2", f.b.lock(f.b.lockArgs(h2, 200, false, false, 0, 0)), Granted)

	// After A unlocks, B gets the range.
	wantStat(t, "A UNLOCK", f.a.unlock(aw), Granted)
	wantStat(t, "A UNLOCK of nothing", f.a.unlock(aw), Granted)
	wantStat(t, "B LOCK after unlock", f.b.lock(bw), Granted)

	// The monitor list holds both clients, with their names and the
	// server address they used.
	hosts := f.nsm.Hosts()
	if len(hosts) != 2 || hosts[0].Addr != addrA || hosts[0].Name != "host-127.0.0.2" || hosts[0].Local != serverAddr || hosts[0].State != 3 {
		t.Fatalf("monitor list: %+v", hosts)
	}
}

func TestBlockingLockGranted(t *testing.T) {
	for _, async := range []bool{false, true} {
		name := "GRANTED"
		if async {
			name = "GRANTED_MSG"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, serverOpts{})
			h1 := f.handle(expRW, "f1")
			aw := f.a.lockArgs(h1, 1, true, false, 0, 0)
			wantStat(t, "A LOCK", f.a.lock(aw), Granted)
			bw := f.b.lockArgs(h1, 2, true, true, 10, 5)
			lockB := func() {
				if !async {
					wantStat(t, "B blocking LOCK", f.b.res(ProcLock, bw), Blocked)
					return
				}
				if _, err := f.b.call(ProcLockMsg, bw); err != nil {
					t.Fatal(err)
				}
				f.b.wait("res")
			}
			lockB()
			lockB() // retransmission (or polling): still one waiter
			if async {
				for _, raw := range f.b.result(ProcLockRes) {
					var r Res
					r.Decode(xdr.NewReader(raw))
					if r.Stat != Blocked || !bytes.Equal(r.Cookie, bw.Cookie) {
						t.Fatalf("LOCK_RES %+v", r)
					}
				}
			}
			if n := len(f.locks.Waiters()); n != 1 {
				t.Fatalf("%d waiters", n)
			}
			if len(f.b.grants()) != 0 {
				t.Fatal("GRANTED before the holder unlocked")
			}
			wantStat(t, "A UNLOCK", f.a.unlock(aw), Granted)
			f.b.wait("granted")
			g := f.b.grants()[0]
			if !bytes.Equal(g.Lock.FH, h1) || g.Lock.Svid != 2 || g.Lock.Offset != 10 || g.Lock.Len != 5 ||
				!g.Exclusive || string(g.Lock.OH) != "oh-127.0.0.3" || g.Lock.CallerName != "vserver" {
				t.Fatalf("GRANTED args %+v", g)
			}
			// The client confirmed: the block is gone and B holds the lock.
			eventually(t, "grant confirmed", func() bool {
				f.nlm.mu.Lock()
				defer f.nlm.mu.Unlock()
				return len(f.nlm.blocks) == 0 && len(f.nlm.byCookie) == 0
			})
			tr := f.a.test(f.a.lockArgs(h1, 1, false, false, 12, 1))
			if tr.Stat != Denied || tr.Holder.Svid != 2 {
				t.Fatalf("B does not hold the lock: %+v", tr)
			}
			// A LOCK retransmitted after the grant is granted.
			wantStat(t, "B LOCK after grant", f.b.lock(bw), Granted)
			if n := len(f.b.grants()); n != 1 {
				t.Fatalf("%d GRANTED callbacks", n)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 1, true, false, 0, 0)
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	bw := f.b.lockArgs(h1, 2, false, true, 0, 10)
	wantStat(t, "B blocking LOCK", f.b.lock(bw), Blocked)
	cancel := &CancArgs{Cookie: bw.Cookie, Block: true, Exclusive: false, Lock: bw.Lock}
	wantStat(t, "B CANCEL", f.b.res(ProcCancel, cancel), Granted)
	wantStat(t, "B CANCEL again", f.b.res(ProcCancel, cancel), Granted)
	if n := len(f.locks.Waiters()); n != 0 {
		t.Fatalf("%d waiters after CANCEL", n)
	}
	wantStat(t, "A UNLOCK", f.a.unlock(aw), Granted)
	if tr := f.a.test(f.a.lockArgs(h1, 9, true, false, 0, 0)); tr.Stat != Granted {
		t.Fatalf("lock still held after CANCEL: %+v", tr)
	}
	if len(f.b.grants()) != 0 {
		t.Fatal("GRANTED for a cancelled request")
	}

	// CANCEL_MSG: empty reply, CANCEL_RES callback.
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	wantStat(t, "B blocking LOCK", f.b.lock(bw), Blocked)
	if res, err := f.b.call(ProcCancelMsg, cancel); err != nil || len(res) != 0 {
		t.Fatalf("CANCEL_MSG: %v %x", err, res)
	}
	f.b.wait("res")
	var r Res
	r.Decode(xdr.NewReader(f.b.result(ProcCancelRes)[0]))
	if r.Stat != Granted || !bytes.Equal(r.Cookie, bw.Cookie) {
		t.Fatalf("CANCEL_RES %+v", r)
	}
	if n := len(f.locks.Waiters()); n != 0 {
		t.Fatalf("%d waiters after CANCEL_MSG", n)
	}
}

// TestCancelOverridesGrant: a CANCEL while the GRANTED callback is in
// progress releases the lock.
func TestCancelOverridesGrant(t *testing.T) {
	f := newFixture(t, serverOpts{timeout: time.Minute})
	f.b.setMode(grantHang)
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 1, true, false, 0, 0)
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	bw := f.b.lockArgs(h1, 2, true, true, 0, 0)
	wantStat(t, "B blocking LOCK", f.b.lock(bw), Blocked)
	wantStat(t, "A UNLOCK", f.a.unlock(aw), Granted)
	f.b.wait("granted")
	wantStat(t, "B CANCEL", f.b.res(ProcCancel, &CancArgs{Cookie: bw.Cookie, Block: true, Exclusive: true, Lock: bw.Lock}), Granted)
	wantStat(t, "A LOCK after the cancelled grant", f.a.lock(aw), Granted)
}

// TestUnresponsiveClient: a client that never answers GRANTED blocks
// neither the server nor other clients; its lock is released after the
// callback attempts and goes to the next waiter.
func TestUnresponsiveClient(t *testing.T) {
	f := newFixture(t, serverOpts{timeout: 300 * time.Millisecond, tries: 2})
	c := newClientHost(t, f.server, addrC)
	f.b.setMode(grantHang)
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 1, true, false, 0, 0)
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	bw := f.b.lockArgs(h1, 2, true, true, 0, 0)
	wantStat(t, "B blocking LOCK", f.b.lock(bw), Blocked)
	cw := c.lockArgs(h1, 3, true, true, 0, 0)
	wantStat(t, "C blocking LOCK", c.lock(cw), Blocked)

	wantStat(t, "A UNLOCK", f.a.unlock(aw), Granted)
	f.b.wait("granted")
	// While B's callback hangs, the server serves everybody.
	start := time.Now()
	wantStat(t, "A LOCK f2", f.a.lock(f.a.lockArgs(f.handle(expRW, "f2"), 1, true, false, 0, 0)), Granted)
	if tr := c.test(cw); tr.Stat != Denied || tr.Holder.Svid != 2 {
		t.Fatalf("B should hold the lock while its callback is pending: %+v", tr)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("calls took %v during a pending callback", d)
	}
	// B never answers: after two attempts the lock goes to C.
	c.wait("granted")
	if n := len(f.b.grants()); n != 2 {
		t.Fatalf("B got %d GRANTED calls, want 2", n)
	}
	if tr := f.a.test(aw); tr.Stat != Denied || tr.Holder.Svid != 3 {
		t.Fatalf("C does not hold the lock: %+v", tr)
	}
	eventually(t, "blocks finished", func() bool {
		f.nlm.mu.Lock()
		defer f.nlm.mu.Unlock()
		return len(f.nlm.blocks) == 0
	})
}

// TestRefusedGrant: a client that answers GRANTED with DENIED no longer
// wants the lock: it is released at once.
func TestRefusedGrant(t *testing.T) {
	f := newFixture(t, serverOpts{})
	f.b.setMode(grantRefuse)
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 1, true, false, 0, 0)
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	wantStat(t, "B blocking LOCK", f.b.lock(f.b.lockArgs(h1, 2, true, true, 0, 0)), Blocked)
	wantStat(t, "A UNLOCK", f.a.unlock(aw), Granted)
	f.b.wait("granted")
	eventually(t, "refused lock released", func() bool { return len(f.locks.Locks()) == 0 })
	wantStat(t, "A LOCK again", f.a.lock(aw), Granted)
}

func TestDeadlock(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1, h2 := f.handle(expRW, "f1"), f.handle(expRW, "f2")
	wantStat(t, "A LOCK f1", f.a.lock(f.a.lockArgs(h1, 1, true, false, 0, 0)), Granted)
	wantStat(t, "B LOCK f2", f.b.lock(f.b.lockArgs(h2, 2, true, false, 0, 0)), Granted)
	wantStat(t, "A waits for f2", f.a.lock(f.a.lockArgs(h2, 1, true, true, 0, 0)), Blocked)
	wantStat(t, "B waits for f1", f.b.lock(f.b.lockArgs(h1, 2, true, true, 0, 0)), Deadlck)
}

// TestGrace: after a restart (a new lock manager in grace, with the NSM
// state of the previous incarnation), the clients are notified, only
// reclaims are accepted during grace, and new locks afterwards.
func TestGrace(t *testing.T) {
	store := &nsm.MemStore{}
	hosts := &hostMap{m: map[netip.Addr]*clientHost{}}
	s1 := newServer(t, serverOpts{store: store}, hosts)
	if _, err := s1.nsm.Restarted(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s1.nsm.State(); st != 1 {
		t.Fatalf("first state %d", st)
	}
	a := newClientHost(t, s1, addrA)
	b := newClientHost(t, s1, addrB)
	h1 := s1.handle(expRW, "f1")
	aw := a.lockArgs(h1, 1, true, false, 0, 100)
	wantStat(t, "A LOCK", a.lock(aw), Granted)
	s1.stop()

	// Restart.
	s2 := newServer(t, serverOpts{store: store, grace: time.Hour}, hosts)
	a.connect(s2)
	b.connect(s2)
	done, err := s2.nsm.Restarted(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a.wait("notify")
	<-done
	a.mu.Lock()
	got := a.notifies
	a.mu.Unlock()
	if len(got) != 1 || got[0].MonName != "127.0.0.1" || got[0].State != 3 {
		t.Fatalf("SM_NOTIFY to A: %+v", got)
	}
	b.mu.Lock()
	nb := len(b.notifies)
	b.mu.Unlock()
	if nb != 0 {
		t.Fatal("B held no lock but was notified")
	}

	bw := b.lockArgs(h1, 2, true, false, 50, 10)
	wantStat(t, "B LOCK in grace", b.lock(bw), DeniedGracePeriod)
	wantStat(t, "B TEST in grace", b.test(bw).Stat, DeniedGracePeriod)
	wantStat(t, "A UNLOCK in grace", a.unlock(aw), DeniedGracePeriod)
	reclaim := *aw
	reclaim.Reclaim = true
	wantStat(t, "A reclaim", a.lock(&reclaim), Granted)
	bReclaim := *bw
	bReclaim.Reclaim = true
	wantStat(t, "B conflicting reclaim", b.lock(&bReclaim), Denied)

	s2.locks.EndGrace()
	wantStat(t, "B LOCK after grace, conflicting", b.lock(bw), Denied)
	wantStat(t, "B LOCK after grace", b.lock(b.lockArgs(h1, 2, true, false, 100, 10)), Granted)
	wantStat(t, "A reclaim after grace", a.lock(&reclaim), DeniedGracePeriod)
}

func TestUnlockAddr(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1, h2 := f.handle(expRW, "f1"), f.handle(expRW, "f2")
	wantStat(t, "A f1", f.a.lock(f.a.lockArgs(h1, 1, true, false, 0, 10)), Granted)
	wantStat(t, "A f2", f.a.lock(f.a.lockArgs(h2, 5, false, false, 0, 0)), Granted)
	wantStat(t, "B f1", f.b.lock(f.b.lockArgs(h1, 2, true, false, 10, 10)), Granted)
	wantStat(t, "B waits on A", f.b.lock(f.b.lockArgs(h1, 3, true, true, 0, 5)), Blocked)
	if n := f.nlm.UnlockAddr(addrA); n != 2 {
		t.Fatalf("UnlockAddr released %d", n)
	}
	f.b.wait("granted")
	for _, l := range f.locks.Locks() {
		if l.Owner.Client == ClientKey(addrA) {
			t.Fatalf("A's lock survived: %+v", l)
		}
	}
	eventually(t, "B's locks", func() bool { return len(f.locks.Locks()) == 2 })
	if f.locks.ClientActive(ClientKey(addrA)) {
		t.Fatal("A still active")
	}
}

func TestFreeAll(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	wantStat(t, "A f1", f.a.lock(f.a.lockArgs(h1, 1, true, false, 0, 10)), Granted)
	wantStat(t, "B f1", f.b.lock(f.b.lockArgs(h1, 2, true, false, 10, 10)), Granted)
	if _, err := f.a.call(ProcFreeAll, &Notify{Name: "host-127.0.0.2", State: 5}); err != nil {
		t.Fatal(err)
	}
	ls := f.locks.Locks()
	if len(ls) != 1 || ls[0].Owner.Client != ClientKey(addrB) {
		t.Fatalf("locks after FREE_ALL: %+v", ls)
	}
}

// TestClientReboot: an SM_NOTIFY from a rebooted client drops its locks;
// the same notification arriving again after it locked anew does not.
func TestClientReboot(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 1, true, false, 0, 10)
	wantStat(t, "A f1", f.a.lock(aw), Granted)
	wantStat(t, "B f1", f.b.lock(f.b.lockArgs(h1, 2, true, false, 10, 10)), Granted)
	wantStat(t, "B waits on A", f.b.lock(f.b.lockArgs(h1, 3, false, true, 5, 1)), Blocked)
	notify := func(state int32) {
		var w xdr.Writer
		(&nsm.StatChge{MonName: "host-127.0.0.2", State: state}).Encode(&w)
		if _, err := f.a.callRaw(nsm.Prog, nsm.Vers, nsm.ProcNotify, w.B); err != nil {
			t.Fatal(err)
		}
	}
	notify(5)
	f.b.wait("granted")
	if f.locks.ClientActive(ClientKey(addrA)) {
		t.Fatal("A's locks survived its reboot")
	}
	wantStat(t, "A locks again", f.a.lock(f.a.lockArgs(h1, 1, true, false, 20, 10)), Granted)
	notify(5) // a retransmission
	if !f.locks.ClientActive(ClientKey(addrA)) {
		t.Fatal("a repeated SM_NOTIFY dropped the new locks")
	}
	if got := f.nsm.Hosts(); got[0].State != 5 {
		t.Fatalf("state of A not recorded: %+v", got)
	}
	eventually(t, "B's locks", func() bool { return len(f.locks.Locks()) == 3 })
}

func TestShare(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	share := func(c *clientHost, proc uint32, mode, access uint32, reclaim bool) Stat {
		t.Helper()
		b, err := c.call(proc, &ShareArgs{Cookie: []byte{7}, Reclaim: reclaim,
			Share: Share4{CallerName: "x", FH: h1, OH: []byte("oh"), Mode: mode, Access: access}})
		if err != nil {
			t.Fatal(err)
		}
		var r ShareRes
		rd := xdr.NewReader(b)
		r.Decode(rd)
		if rd.Err() != nil || !bytes.Equal(r.Cookie, []byte{7}) || r.Sequence != 0 {
			t.Fatalf("bad shareres %+v %v", r, rd.Err())
		}
		return r.Stat
	}
	wantStat(t, "A share rw deny w", share(f.a, ProcShare, FshModeDW, FshAccessRW, false), Granted)
	wantStat(t, "B share r", share(f.b, ProcShare, FshModeDN, FshAccessR, false), Granted)
	wantStat(t, "B share w", share(f.b, ProcShare, FshModeDN, FshAccessW, false), Denied)
	wantStat(t, "A unshare", share(f.a, ProcUnshare, 0, 0, false), Granted)
	wantStat(t, "B share w after unshare", share(f.b, ProcShare, FshModeDN, FshAccessW, false), Granted)
	f.locks.StartGrace(time.Hour)
	wantStat(t, "share in grace", share(f.a, ProcShare, FshModeDN, FshAccessR, false), DeniedGracePeriod)
	wantStat(t, "share reclaim in grace", share(f.a, ProcShare, FshModeDN, FshAccessR, true), Granted)
	wantStat(t, "unshare in grace", share(f.a, ProcUnshare, 0, 0, false), DeniedGracePeriod)
	f.locks.EndGrace()
	wantStat(t, "share reclaim after grace", share(f.a, ProcShare, FshModeDN, FshAccessR, true), Granted)
	if n := len(f.locks.Shares()); n != 2 {
		t.Fatalf("%d shares", n)
	}
}

func TestHandlesAndAccess(t *testing.T) {
	f := newFixture(t, serverOpts{})
	bad := f.handle(expRW, "f1")
	bad[len(bad)-1] ^= 1
	for _, c := range []struct {
		name string
		fh   []byte
		want Stat
	}{
		{"forged handle", bad, StaleFH},
		{"garbage handle", []byte("nonsense"), StaleFH},
		{"empty handle", nil, StaleFH},
		{"unknown export", f.handle(99, "f1"), StaleFH},
		{"object gone", f.handle(expRW, "gone"), StaleFH},
		{"directory", f.handle(expRW, "dir"), Failed},
		{"backend error", f.handle(expRW, "broken"), Failed},
		{"client not admitted", f.handle(expRestricted, "f1"), Failed},
		{"read-only export", f.handle(expRO, "f1"), Granted},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := f.a.lockArgs(c.fh, 1, true, false, 0, 0)
			wantStat(t, "LOCK", f.a.lock(a), c.want)
			wantStat(t, "TEST", f.a.test(a).Stat, c.want)
		})
	}
	// UNLOCK needs the handle and the export, not the object.
	h3 := f.handle(expRW, "f3")
	a3 := f.a.lockArgs(h3, 1, true, false, 0, 0)
	wantStat(t, "LOCK f3", f.a.lock(a3), Granted)
	f.fs.remove("f3")
	wantStat(t, "UNLOCK of a removed file", f.a.unlock(a3), Granted)
	wantStat(t, "UNLOCK forged", f.a.unlock(f.a.lockArgs(bad, 1, true, false, 0, 0)), StaleFH)
	if len(f.locks.Locks()) != 1 { // the read-only export's
		t.Fatalf("locks: %+v", f.locks.Locks())
	}
	// Offsets beyond 2^63-1.
	h1 := f.handle(expRW, "f1")
	for _, c := range []struct{ off, n uint64 }{{math.MaxInt64 + 1, 0}, {math.MaxInt64, 2}, {1, math.MaxUint64}} {
		wantStat(t, "LOCK FBIG", f.a.lock(f.a.lockArgs(h1, 1, true, false, c.off, c.n)), FBig)
		wantStat(t, "UNLOCK FBIG", f.a.unlock(f.a.lockArgs(h1, 1, true, false, c.off, c.n)), FBig)
	}
	wantStat(t, "LOCK last byte", f.a.lock(f.a.lockArgs(h1, 1, true, false, math.MaxInt64, 1)), Granted)
}

func TestMsgProcedures(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	aw := f.a.lockArgs(h1, 1, true, false, 0, 10)
	wantStat(t, "A LOCK", f.a.lock(aw), Granted)
	bw := f.b.lockArgs(h1, 2, false, false, 5, 1)
	if res, err := f.b.call(ProcTestMsg, &TestArgs{Cookie: bw.Cookie, Lock: bw.Lock}); err != nil || len(res) != 0 {
		t.Fatalf("TEST_MSG: %v %x", err, res)
	}
	f.b.wait("res")
	var tr TestRes
	tr.Decode(xdr.NewReader(f.b.result(ProcTestRes)[0]))
	if tr.Stat != Denied || tr.Holder.Svid != 1 || tr.Holder.Len != 10 {
		t.Fatalf("TEST_RES %+v", tr)
	}
	if _, err := f.a.call(ProcUnlockMsg, &UnlockArgs{Cookie: aw.Cookie, Lock: aw.Lock}); err != nil {
		t.Fatal(err)
	}
	f.a.wait("res")
	var r Res
	r.Decode(xdr.NewReader(f.a.result(ProcUnlockRes)[0]))
	if r.Stat != Granted || !bytes.Equal(r.Cookie, aw.Cookie) {
		t.Fatalf("UNLOCK_RES %+v", r)
	}
	if _, err := f.b.call(ProcLockMsg, bw); err != nil {
		t.Fatal(err)
	}
	f.b.wait("res")
	r = Res{}
	r.Decode(xdr.NewReader(f.b.result(ProcLockRes)[0]))
	if r.Stat != Granted {
		t.Fatalf("LOCK_RES %+v", r)
	}
	// GRANTED sent to the server: it waits for nothing.
	wantStat(t, "GRANTED to the server", f.b.res(ProcGranted, &TestArgs{Cookie: []byte{1}, Lock: bw.Lock}), Denied)
	for _, p := range []uint32{ProcGrantedMsg, ProcTestRes, ProcLockRes, ProcCancelRes, ProcUnlockRes, ProcGrantedRes} {
		var w xdr.Writer
		(&TestArgs{Cookie: []byte{1}, Lock: bw.Lock}).Encode(&w)
		if p == ProcGrantedRes {
			w = xdr.Writer{}
			(&Res{Cookie: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Stat: Granted}).Encode(&w)
		}
		if res, err := f.b.callRaw(Prog, Vers, p, w.B); err != nil || len(res) != 0 {
			t.Fatalf("proc %d: %v %x", p, err, res)
		}
	}
}

func TestNMLockNotMonitored(t *testing.T) {
	f := newFixture(t, serverOpts{})
	wantStat(t, "NM_LOCK", f.a.res(ProcNMLock, f.a.lockArgs(f.handle(expRW, "f1"), 1, true, false, 0, 0)), Granted)
	if h := f.nsm.Hosts(); len(h) != 0 {
		t.Fatalf("NM_LOCK monitored the client: %+v", h)
	}
}

// failingStore cannot save.
type failingStore struct{ nsm.MemStore }

func (*failingStore) Save(int32, []nsm.Host) error { return context.DeadlineExceeded }

func TestMonitorFailure(t *testing.T) {
	f := newFixture(t, serverOpts{store: &failingStore{}})
	h1 := f.handle(expRW, "f1")
	wantStat(t, "LOCK without monitoring", f.a.lock(f.a.lockArgs(h1, 1, true, false, 0, 0)), DeniedNoLocks)
	wantStat(t, "NM_LOCK", f.a.res(ProcNMLock, f.a.lockArgs(h1, 1, true, false, 0, 0)), Granted)
}

// TestMalformedArgs sends broken arguments to every procedure.
func TestMalformedArgs(t *testing.T) {
	f := newFixture(t, serverOpts{})
	h1 := f.handle(expRW, "f1")
	long := bytes.Repeat([]byte{'x'}, MaxNetobj+1)
	good := f.a.lockArgs(h1, 1, true, false, 0, 0)
	enc := func(e interface{ Encode(*xdr.Writer) }) []byte {
		var w xdr.Writer
		e.Encode(&w)
		return w.B
	}
	mod := func(fn func(a *LockArgs)) []byte {
		a := *good
		fn(&a)
		return enc(&a)
	}
	lockProcs := []uint32{ProcLock, ProcLockMsg, ProcNMLock}
	cases := []struct {
		name  string
		procs []uint32
		args  []byte
	}{
		{"empty", []uint32{ProcTest, ProcLock, ProcCancel, ProcUnlock, ProcGranted, ProcTestMsg, ProcLockMsg,
			ProcCancelMsg, ProcUnlockMsg, ProcGrantedMsg, ProcGrantedRes, ProcShare, ProcUnshare, ProcNMLock, ProcFreeAll}, nil},
		{"cookie too long", lockProcs, mod(func(a *LockArgs) { a.Cookie = long })},
		{"fh too long", lockProcs, mod(func(a *LockArgs) { a.Lock.FH = long })},
		{"oh too long", lockProcs, mod(func(a *LockArgs) { a.Lock.OH = long })},
		{"caller_name too long", lockProcs, mod(func(a *LockArgs) { a.Lock.CallerName = string(long) })},
		{"truncated", lockProcs, enc(good)[:len(enc(good))-4]},
		{"bool 2", lockProcs, func() []byte { b := enc(good); b[len(b)-8+3] = 2; return b }()},
		{"huge length", []uint32{ProcLock, ProcTest, ProcUnlock, ProcCancel}, []byte{0xff, 0xff, 0xff, 0xff}},
		{"share mode 4", []uint32{ProcShare, ProcUnshare}, enc(&ShareArgs{Share: Share4{FH: h1, Mode: 4}})},
		{"share access 4", []uint32{ProcShare}, enc(&ShareArgs{Share: Share4{FH: h1, Access: 4}})},
		{"free_all name too long", []uint32{ProcFreeAll}, enc(&Notify{Name: string(long)})},
		{"granted_res bad stat", []uint32{ProcGrantedRes}, enc(&Res{Stat: 10})},
	}
	for _, c := range cases {
		for _, p := range c.procs {
			if _, err := f.a.callRaw(Prog, Vers, p, c.args); !isRPC(err, oncrpc.GarbageArgs) {
				t.Errorf("%s, proc %d: %v, want GARBAGE_ARGS", c.name, p, err)
			}
		}
	}
	// The longest legal values are accepted.
	max := bytes.Repeat([]byte{'y'}, MaxNetobj)
	a := *good
	a.Cookie, a.Lock.OH, a.Lock.CallerName = max, max, string(max)
	wantStat(t, "maximal netobjs", f.a.lock(&a), Granted)
	a.Lock.FH = max
	wantStat(t, "maximal fh", f.a.lock(&a), StaleFH)
	for _, p := range []uint32{16, 17, 18, 19, 24, 1000} {
		if _, err := f.a.callRaw(Prog, Vers, p, enc(good)); !isRPC(err, oncrpc.ProcUnavail) {
			t.Errorf("proc %d: %v, want PROC_UNAVAIL", p, err)
		}
	}
	for _, v := range []uint32{1, 3, 5} {
		_, err := f.a.callRaw(Prog, v, ProcNull, nil)
		if !isRPC(err, oncrpc.ProgMismatch) {
			t.Errorf("version %d: %v, want PROG_MISMATCH", v, err)
		}
	}
	if _, err := f.a.callRaw(Prog, Vers, ProcNull, nil); err != nil {
		t.Fatal(err)
	}
	// Nothing of the above left state behind but the maximal lock.
	if ls := f.locks.Locks(); len(ls) != 1 || !slices.Equal([]byte(ls[0].Owner.ID), max) {
		t.Fatalf("locks: %+v", ls)
	}
	_ = lock.Range{End: lock.EOF}
}

func TestUnlockExport(t *testing.T) {
	f := newFixture(t, serverOpts{})
	rw, ro := f.handle(expRW, "f1"), f.handle(expRO, "f1")
	wantStat(t, "A rw", f.a.lock(f.a.lockArgs(rw, 1, true, false, 0, 0)), Granted)
	wantStat(t, "A ro", f.a.lock(f.a.lockArgs(ro, 1, true, false, 0, 0)), Granted)
	wantStat(t, "B waits on rw", f.b.lock(f.b.lockArgs(rw, 2, true, true, 0, 0)), Blocked)
	if n := f.nlm.UnlockExport(expRW); n != 1 {
		t.Fatalf("UnlockExport released %d", n)
	}
	ls := f.locks.Locks()
	if len(ls) != 1 || ls[0].File.Export != expRO || len(f.locks.Waiters()) != 0 {
		t.Fatalf("locks %+v waiters %+v", ls, f.locks.Waiters())
	}
	f.nlm.mu.Lock()
	nb := len(f.nlm.blocks)
	f.nlm.mu.Unlock()
	if nb != 0 || len(f.b.grants()) != 0 {
		t.Fatalf("%d blocks, %d grants after UnlockExport", nb, len(f.b.grants()))
	}
	// B may lock again (and is granted at once).
	wantStat(t, "B rw", f.b.lock(f.b.lockArgs(rw, 2, true, true, 0, 0)), Granted)
}

// TestDelegatedFileLockDropped: an exclusive LOCK of a file with NFSv4
// delegations being recalled gets no reply (the client retransmits, as
// with Linux lockd); a shared LOCK of it, and locks of other files, are
// served.
func TestDelegatedFileLockDropped(t *testing.T) {
	var mu sync.Mutex
	asked := 0
	f := newFixture(t, serverOpts{delegs: func(file lock.FileID) bool {
		mu.Lock()
		defer mu.Unlock()
		asked++
		return file.Object == "f2"
	}})
	var w xdr.Writer
	f.a.lockArgs(f.handle(expRW, "f2"), 100, true, false, 0, 10).Encode(&w)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := f.a.conn.Call(ctx, Prog, Vers, ProcLock, oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "client"}), w.B)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exclusive LOCK of a delegated file: %v, want no reply", err)
	}
	wantStat(t, "shared LOCK of the delegated file", f.a.lock(f.a.lockArgs(f.handle(expRW, "f2"), 100, false, false, 0, 10)), Granted)
	wantStat(t, "exclusive LOCK of another file", f.a.lock(f.a.lockArgs(f.handle(expRW, "f1"), 100, true, false, 0, 10)), Granted)
	mu.Lock()
	defer mu.Unlock()
	if asked != 2 {
		t.Errorf("delegations asked %d times, want 2 (exclusive locks only)", asked)
	}
}
