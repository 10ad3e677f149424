package nfs4_test

import (
	"testing"
	"time"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
)

// TestGracePerServer: two servers (two vservers) with their own lock
// managers and recovery records. Restarting one puts only it in grace
// (RFC 8881 section 8.4.2, RFC 7530 section 9.6.2): there a new OPEN or
// LOCK is NFS4ERR_GRACE (for 4.0 and 4.1 clients, before and after
// RECLAIM_COMPLETE), a client without a recovery record cannot reclaim
// (NFS4ERR_RECLAIM_BAD), the client with one reclaims its open with
// CLAIM_PREVIOUS and its lock with reclaim set; its RECLAIM_COMPLETE, the
// last one expected, ends the grace period, after which reclaims are
// NFS4ERR_NO_GRACE and new state is granted. Meanwhile the other server's
// clients go on without error.
func TestGracePerServer(t *testing.T) {
	recA, recB := state.NewMemoryRecovery(), state.NewMemoryRecovery()
	bA := newBackend(t)
	// A lease of 2 s: the servers' reapers tick every 200 ms.
	lease := 2 * time.Second
	srvA := newServer(t, bA, serverOpts{Name: "vsA", Rec: recA, Lease: lease})
	srvB := newServer(t, newBackend(t), serverOpts{Name: "vsB", Rec: recB, Lease: lease})
	for _, s := range []*testServer{srvA, srvB} {
		if !s.waitGraceEnd(2 * time.Second) {
			t.Fatal("a server without recovery records stays in grace")
		}
	}

	// Client 1 on A: an open and a lock; it gets a recovery record.
	owner1 := []byte("grace-client-1")
	c1 := srvA.session(t, string(owner1))
	dirA := rootFH(t, nil, 0, c1, "a")
	fh1, open1 := openFile(t, c1, dirA, "oo1", "reclaimed", c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_WRITE)
	lo1 := c4.StateOwner{Clientid: c1.Clientid, Owner: []byte("lo1")}
	mustOK(t, do(t, c1, c4.Putfh(fh1), c4.LockNew(c4.WRITE_LT, false, 0, 10, 0, open1, 0, lo1)))
	if !recA.Has(owner1) {
		t.Fatal("the client holding state on A has no recovery record")
	}

	// Client 2 on B.
	c2 := srvB.session(t, "grace-client-2")
	dirB := rootFH(t, nil, 0, c2, "a")
	openFile(t, c2, dirB, "oo2", "b-file", c4.OPEN4_SHARE_ACCESS_BOTH, 0)
	if recB.Has(owner1) || recA.Has([]byte("grace-client-2")) {
		t.Error("recovery records shared between the servers")
	}

	// Restart A.
	srvA = srvA.restart(10 * time.Second)
	if !srvA.srv.InGrace() || srvB.srv.InGrace() {
		t.Fatalf("after A's restart: A in grace %v, B %v; want true, false", srvA.srv.InGrace(), srvB.srv.InGrace())
	}

	// B's client goes on: new opens and locks, and a new client too.
	fhB, openB := openFile(t, c2, dirB, "oo2", "b-file2", c4.OPEN4_SHARE_ACCESS_BOTH, 0)
	mustOK(t, do(t, c2, c4.Putfh(fhB), c4.LockNew(c4.WRITE_LT, false, 0, 1, 0, openB, 0, c4.StateOwner{Clientid: c2.Clientid, Owner: []byte("lo2")})))
	c2b := srvB.session(t, "grace-client-2b")
	openFile(t, c2b, dirB, "oo2b", "b-file3", c4.OPEN4_SHARE_ACCESS_READ, 0)
	c40B := newClient40(t, srvB, "grace-b40")
	c40B.open(t, dirB, "b-file4", c4.OPEN4_SHARE_ACCESS_BOTH, 0)

	// On A, a client without a recovery record.
	c3, err := srvA.dial(t).OpenSession(ctx(t), 1, []byte("grace-client-3"), verf("c3"))
	if err != nil {
		t.Fatal(err)
	}
	oo3 := c4.StateOwner{Clientid: c3.Clientid, Owner: []byte("oo3")}
	newOpen := c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_BOTH, 0, oo3, "new-in-grace", c4.UNCHECKED4, c4.NewFattr())
	res := do(t, c3, c4.Putfh(dirA), newOpen)
	wantStatuses(t, res, c4.NFS4ERR_GRACE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_GRACE))
	res = do(t, c3, c4.Putfh(fh1), c4.OpenPrevious(0, c4.OPEN4_SHARE_ACCESS_READ, 0, oo3))
	wantStatuses(t, res, c4.NFS4ERR_RECLAIM_BAD, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_RECLAIM_BAD))
	mustOK(t, do(t, c3, c4.ReclaimComplete(false)))
	res = do(t, c3, c4.Putfh(dirA), newOpen)
	wantStatuses(t, res, c4.NFS4ERR_GRACE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_GRACE))
	// A 4.0 client on A: NFS4ERR_GRACE too.
	c40 := newClient40(t, srvA, "grace-a40")
	res = call(t, c40.c, 0, c4.Putfh(dirA),
		c4.OpenCreate(c40.next(), c4.OPEN4_SHARE_ACCESS_READ, 0, c40.owner, "new-in-grace-40", c4.UNCHECKED4, c4.NewFattr()))
	wantStatuses(t, res, c4.NFS4ERR_GRACE, ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_GRACE))

	// Client 1 comes back (same owner and verifier: a new client ID) and
	// reclaims its open and its lock.
	c1, err = srvA.dial(t).OpenSession(ctx(t), 1, owner1, verf(string(owner1)))
	if err != nil {
		t.Fatal(err)
	}
	oo1 := c4.StateOwner{Clientid: c1.Clientid, Owner: []byte("oo1")}
	res = mustOK(t, do(t, c1, c4.Putfh(fh1), c4.OpenPrevious(0, c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_WRITE, oo1)))
	reopen := stateidOf(t, res.Ops[2])
	lo1 = c4.StateOwner{Clientid: c1.Clientid, Owner: []byte("lo1")}
	res = mustOK(t, do(t, c1, c4.Putfh(fh1), c4.LockNew(c4.WRITE_LT, true, 0, 10, 0, reopen, 0, lo1)))
	lock1 := stateidOf(t, res.Ops[2])
	// A new lock (not a reclaim) is still refused.
	res = do(t, c1, c4.Putfh(fh1), c4.LockExisting(c4.WRITE_LT, false, 100, 10, lock1, 0))
	wantStatuses(t, res, c4.NFS4ERR_GRACE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_LOCK, c4.NFS4ERR_GRACE))
	// The reclaimed share reservation holds against others.
	res = do(t, c3, c4.Putfh(fh1), c4.OpenFH(c4.OPEN4_SHARE_ACCESS_WRITE, 0, oo3))
	if res.Status != c4.NFS4ERR_GRACE && res.Status != c4.NFS4ERR_SHARE_DENIED {
		t.Errorf("OPEN of the reclaimed file for write by another client: %v, want NFS4ERR_GRACE or NFS4ERR_SHARE_DENIED", res.Status)
	}

	mustOK(t, do(t, c1, c4.ReclaimComplete(false)))
	if srvA.srv.InGrace() {
		t.Error("A still in grace after the RECLAIM_COMPLETE of its only recoverable client")
	}
	res = do(t, c1, c4.Putfh(fh1), c4.OpenPrevious(0, c4.OPEN4_SHARE_ACCESS_READ, 0, oo1))
	wantStatuses(t, res, c4.NFS4ERR_NO_GRACE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_NO_GRACE))
	// New state right after the grace period ended: the NFSv4 grace is
	// over (InGrace false), so must be the lock manager's, which the
	// server ends through OnGraceEnd.
	t.Run("new state right after RECLAIM_COMPLETE", func(t *testing.T) {
		res := do(t, c3, c4.Putfh(dirA), newOpen, c4.Getfh())
		if res.Status != c4.NFS4_OK {
			t.Errorf("new OPEN right after the grace period ended (InGrace %v, OnGraceEnd called %v): %v %s, want NFS4_OK",
				srvA.srv.InGrace(), srvA.graceEnded.Load(), res.Status, describe(res))
		}
		res = do(t, c1, c4.Putfh(fh1), c4.LockExisting(c4.WRITE_LT, false, 100, 10, lock1, 0))
		if res.Status != c4.NFS4_OK {
			t.Errorf("new LOCK right after the grace period ended (InGrace %v, OnGraceEnd called %v): %v %s, want NFS4_OK",
				srvA.srv.InGrace(), srvA.graceEnded.Load(), res.Status, describe(res))
		}
	})
	// Once the server reported the end of grace, new state is granted.
	if !srvA.waitGraceEnd(time.Second) {
		t.Fatal("OnGraceEnd not called after the grace period ended")
	}
	res = mustOK(t, do(t, c3, c4.Putfh(dirA), newOpen, c4.Getfh()))
	fh3, open3 := fhOf(t, res.Ops[3]), stateidOf(t, res.Ops[2])
	mustOK(t, do(t, c3, c4.Putfh(fh3), c4.LockNew(c4.WRITE_LT, false, 0, 1, 0, open3, 0, c4.StateOwner{Clientid: c3.Clientid, Owner: []byte("lo3")})))
	// Seqid 0: the lock stateid as it is now (RFC 8881 section 8.2.2),
	// after the LOCK of the subtest above.
	cur1 := lock1
	cur1.Seqid = 0
	mustOK(t, do(t, c1, c4.Putfh(fh1), c4.LockExisting(c4.WRITE_LT, false, 200, 10, cur1, 0)))
	res = call(t, c40.c, 0, c4.Putfh(dirA),
		c4.OpenCreate(c40.next(), c4.OPEN4_SHARE_ACCESS_READ, 0, c40.owner, "new-in-grace-40", c4.UNCHECKED4, c4.NewFattr()))
	mustOK(t, res)

	// B never was in grace.
	if !srvB.graceEnded.Load() || srvB.srv.InGrace() {
		t.Error("B in grace")
	}
}

// TestGraceDeadline: a restarted server whose recoverable client does not
// come back leaves grace at the deadline (Config.Grace), reports it
// (OnGraceEnd) and then grants new state; the client's recovery record is
// removed.
func TestGraceDeadline(t *testing.T) {
	rec := state.NewMemoryRecovery([]byte("gone-client"))
	ts := newServer(t, newBackend(t), serverOpts{Rec: rec, Lease: time.Second, Grace: 500 * time.Millisecond})
	if !ts.srv.InGrace() {
		t.Fatal("not in grace with a recovery record")
	}
	s := ts.session(t, "deadline")
	dir := rootFH(t, nil, 0, s, "a")
	newOpen := c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_BOTH, 0, c4.StateOwner{Clientid: s.Clientid, Owner: []byte("oo")}, "f", c4.UNCHECKED4, c4.NewFattr())
	res := do(t, s, c4.Putfh(dir), newOpen)
	wantStatuses(t, res, c4.NFS4ERR_GRACE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_GRACE))
	if !ts.waitGraceEnd(2 * time.Second) {
		t.Fatal("OnGraceEnd not called after the grace deadline")
	}
	mustOK(t, do(t, s, c4.Putfh(dir), newOpen))
	if rec.Has([]byte("gone-client")) {
		t.Error("the record of the client that did not come back is kept after grace")
	}
}
