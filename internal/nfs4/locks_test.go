package nfs4_test

import (
	"bytes"
	"testing"
	"time"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// openFile opens (creating it, UNCHECKED4) name in dir on a session and
// returns the file's handle and the open stateid.
func openFile(t *testing.T, s *c4.Session, dir []byte, owner string, name string, access, deny uint32) ([]byte, c4.Stateid) {
	t.Helper()
	res := mustOK(t, do(t, s, c4.Putfh(dir),
		c4.OpenCreate(0, access, deny, c4.StateOwner{Clientid: s.Clientid, Owner: []byte(owner)}, name, c4.UNCHECKED4, c4.NewFattr()),
		c4.Getfh()))
	return fhOf(t, res.Ops[3]), stateidOf(t, res.Ops[2])
}

// wantDenied checks a LOCK or LOCKT result against the expected
// LOCK4denied.
func wantDenied(t *testing.T, o c4.OpResult, want c4.LockDenied) {
	t.Helper()
	d, err := o.Denied()
	if err != nil {
		t.Fatalf("op %d: %v, want NFS4ERR_DENIED", o.Op, err)
	}
	if d.Offset != want.Offset || d.Length != want.Length || d.Locktype != want.Locktype ||
		d.Owner.Clientid != want.Owner.Clientid || !bytes.Equal(d.Owner.Owner, want.Owner.Owner) {
		t.Errorf("op %d: denied %+v (owner %q), want %+v (owner %q)", o.Op, *d, d.Owner.Owner, want, want.Owner.Owner)
	}
}

// TestLockConflict: two clients' byte-range locks (RFC 8881 sections
// 18.10-18.12, RFC 7530 sections 16.10-16.12): a conflicting LOCK is
// NFS4ERR_DENIED with the holder's range, type and lock-owner (also for
// LOCKT), a lock-owner does not conflict with itself, and after LOCKU
// the other client gets its lock. Client A is NFSv4.0 (with open and
// lock seqids), client B NFSv4.1.
func TestLockConflict(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	a := newClient40(t, ts, "lock-a")
	b := ts.session(t, "lock-b")
	dir := rootFH(t, a.c, 0, nil, "a")

	fh, aOpen := a.open(t, dir, "locked", c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_NONE)
	aOwner := c4.StateOwner{Clientid: a.clientid, Owner: []byte("lock-owner-A")}
	res := mustOK(t, call(t, a.c, 0, c4.Putfh(fh),
		c4.LockNew(c4.WRITE_LT, false, 0, 100, a.next(), aOpen, 0, aOwner)))
	aLock := stateidOf(t, res.Ops[1])
	if aLock.Seqid != 1 || aLock.Other == aOpen.Other {
		t.Errorf("new lock stateid %+v (open's other %x)", aLock, aOpen.Other)
	}
	// The lock-owner's next seqid: 0 went with the first LOCK; every
	// LOCK and LOCKU below, failed or not, uses the next (RFC 7530
	// section 9.1.7: NFS4ERR_INVAL does not keep the seqid).
	lseq := uint32(1)
	// A range of length 0, or past the end of the offsets, is
	// NFS4ERR_INVAL (RFC 7530 section 16.10.4, RFC 8881 section 18.10.3).
	for _, rg := range [][2]uint64{{0, 0}, {1 << 63, 1<<63 + 1}, {0xffffffffffffffff, 2}} {
		res := call(t, a.c, 0, c4.Putfh(fh), c4.LockExisting(c4.WRITE_LT, false, rg[0], rg[1], aLock, lseq))
		lseq++
		wantStatuses(t, res, c4.NFS4ERR_INVAL, ok(c4.OP_PUTFH), fail(c4.OP_LOCK, c4.NFS4ERR_INVAL))
		res = call(t, a.c, 0, c4.Putfh(fh), c4.Lockt(c4.WRITE_LT, rg[0], rg[1], aOwner))
		wantStatuses(t, res, c4.NFS4ERR_INVAL, ok(c4.OP_PUTFH), fail(c4.OP_LOCKT, c4.NFS4ERR_INVAL))
	}
	// A's own LOCKT over its lock: no conflict with itself.
	mustOK(t, call(t, a.c, 0, c4.Putfh(fh), c4.Lockt(c4.WRITE_LT, 0, 10, aOwner)))

	_, bOpen := openFile(t, b, dir, "open-owner-B", "locked", c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_NONE)
	bOwner := c4.StateOwner{Clientid: b.Clientid, Owner: []byte("lock-owner-B")}
	holder := c4.LockDenied{Offset: 0, Length: 100, Locktype: c4.WRITE_LT, Owner: aOwner}

	res = do(t, b, c4.Putfh(fh), c4.LockNew(c4.WRITE_LT, false, 50, 10, 0, bOpen, 0, bOwner))
	wantStatuses(t, res, c4.NFS4ERR_DENIED, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_LOCK, c4.NFS4ERR_DENIED))
	wantDenied(t, res.Ops[2], holder)
	// A read lock conflicts with a write lock too; LOCKT says so.
	res = do(t, b, c4.Putfh(fh), c4.Lockt(c4.READ_LT, 99, 1, bOwner))
	wantStatuses(t, res, c4.NFS4ERR_DENIED, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_LOCKT, c4.NFS4ERR_DENIED))
	wantDenied(t, res.Ops[2], holder)
	// Beyond the range, and to the end of file from 100: no conflict.
	mustOK(t, do(t, b, c4.Putfh(fh), c4.Lockt(c4.WRITE_LT, 100, 0xffffffffffffffff, bOwner)))

	// A unlocks (LOCKU with the lock-owner's next seqid): the lock
	// stateid's seqid goes up.
	res = mustOK(t, call(t, a.c, 0, c4.Putfh(fh), c4.Locku(c4.WRITE_LT, lseq, aLock, 0, 100)))
	aUnlocked := stateidOf(t, res.Ops[1])
	if aUnlocked.Other != aLock.Other || aUnlocked.Seqid != aLock.Seqid+1 {
		t.Errorf("LOCKU stateid %+v, want seqid %d of %x", aUnlocked, aLock.Seqid+1, aLock.Other)
	}

	// Now B locks, then extends with its existing lock-owner.
	res = mustOK(t, do(t, b, c4.Putfh(fh), c4.LockNew(c4.WRITE_LT, false, 50, 10, 0, bOpen, 0, bOwner)))
	bLock := stateidOf(t, res.Ops[2])
	res = mustOK(t, do(t, b, c4.Putfh(fh), c4.LockExisting(c4.READ_LT, false, 200, 10, bLock, 0)))
	if s := stateidOf(t, res.Ops[2]); s.Other != bLock.Other || s.Seqid != bLock.Seqid+1 {
		t.Errorf("second LOCK stateid %+v, want seqid %d of %x", s, bLock.Seqid+1, bLock.Other)
	}
	// A (4.0) sees B's lock with B's lock-owner.
	res = call(t, a.c, 0, c4.Putfh(fh), c4.Lockt(c4.WRITE_LT, 0, 0xffffffffffffffff, aOwner))
	wantStatuses(t, res, c4.NFS4ERR_DENIED, ok(c4.OP_PUTFH), fail(c4.OP_LOCKT, c4.NFS4ERR_DENIED))
	wantDenied(t, res.Ops[1], c4.LockDenied{Offset: 50, Length: 10, Locktype: c4.WRITE_LT, Owner: bOwner})
	// Read locks share: A's read lock over B's read range is granted.
	lseq++
	mustOK(t, call(t, a.c, 0, c4.Putfh(fh), c4.LockExisting(c4.READ_LT, false, 205, 1, aUnlocked, lseq)))
	lseq++
	// The old lock stateid is NFS4ERR_OLD_STATEID.
	res = call(t, a.c, 0, c4.Putfh(fh), c4.LockExisting(c4.READ_LT, false, 300, 1, aLock, lseq))
	wantStatuses(t, res, c4.NFS4ERR_OLD_STATEID, ok(c4.OP_PUTFH), fail(c4.OP_LOCK, c4.NFS4ERR_OLD_STATEID))
}

// TestShareReservation: OPEN's share_deny (RFC 8881 section 9.7, RFC 7530
// section 9.9): client A opens with deny WRITE, so client B's OPEN for
// write is NFS4ERR_SHARE_DENIED while its OPEN for read is granted, and a
// deny of A's access is refused too; after A's OPEN_DOWNGRADE to its
// first OPEN's read and deny none, B opens for write; after the CLOSEs,
// B's deny both is granted.
func TestShareReservation(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	a := ts.session(t, "share-a")
	b := ts.session(t, "share-b")
	c40 := newClient40(t, ts, "share-c40")
	dir := rootFH(t, nil, 0, a, "a")

	// A opens for read, then again for both with deny write (an upgrade
	// of the same open: the stateid's seqid goes to 2).
	_, aRead := openFile(t, a, dir, "oa", "shared", c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_NONE)
	fh, aOpen := openFile(t, a, dir, "oa", "shared", c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_WRITE)
	if aOpen.Other != aRead.Other || aOpen.Seqid != aRead.Seqid+1 {
		t.Errorf("OPEN upgrade: stateid %+v, want seqid %d of %x", aOpen, aRead.Seqid+1, aRead.Other)
	}
	bOwner := c4.StateOwner{Clientid: b.Clientid, Owner: []byte("ob")}
	for _, tc := range []struct {
		access, deny uint32
		want         c4.Status
	}{
		{c4.OPEN4_SHARE_ACCESS_WRITE, c4.OPEN4_SHARE_DENY_NONE, c4.NFS4ERR_SHARE_DENIED},
		{c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_NONE, c4.NFS4ERR_SHARE_DENIED},
		{c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_READ, c4.NFS4ERR_SHARE_DENIED},  // A reads
		{c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_WRITE, c4.NFS4ERR_SHARE_DENIED}, // A writes
	} {
		res := do(t, b, c4.Putfh(dir), c4.OpenNull(0, tc.access, tc.deny, bOwner, "shared"))
		wantStatuses(t, res, tc.want, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, tc.want))
	}
	// The same for a 4.0 client.
	res := call(t, c40.c, 0, c4.Putfh(dir), c4.OpenNull(c40.next(), c4.OPEN4_SHARE_ACCESS_WRITE, 0, c40.owner, "shared"))
	wantStatuses(t, res, c4.NFS4ERR_SHARE_DENIED, ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_SHARE_DENIED))

	// I/O with the anonymous stateid is subject to share reservations
	// too: WRITE against A's deny write is NFS4ERR_LOCKED, READ is fine
	// (RFC 8881 section 9.7, RFC 7530 section 9.9).
	res = do(t, b, c4.Putfh(fh), c4.Write(c4.AnonymousStateid, 0, c4.UNSTABLE4, []byte("x")))
	wantStatuses(t, res, c4.NFS4ERR_LOCKED, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_WRITE, c4.NFS4ERR_LOCKED))
	mustOK(t, do(t, b, c4.Putfh(fh), c4.Read(c4.AnonymousStateid, 0, 1)))

	res = mustOK(t, do(t, b, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_NONE, bOwner, "shared")))
	bRead := stateidOf(t, res.Ops[2])
	// WRITE with B's read-only open: NFS4ERR_OPENMODE.
	res = do(t, b, c4.Putfh(fh), c4.Write(bRead, 0, c4.UNSTABLE4, []byte("x")))
	wantStatuses(t, res, c4.NFS4ERR_OPENMODE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_WRITE, c4.NFS4ERR_OPENMODE))

	// A downgrade must be the union of some of the OPENs' bits (RFC 7530
	// section 16.19.4): write alone was never asked, NFS4ERR_INVAL.
	res = do(t, a, c4.Putfh(fh), c4.OpenDowngrade(aOpen, 0, c4.OPEN4_SHARE_ACCESS_WRITE, c4.OPEN4_SHARE_DENY_NONE))
	wantStatuses(t, res, c4.NFS4ERR_INVAL, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN_DOWNGRADE, c4.NFS4ERR_INVAL))
	// A downgrades to its first OPEN's read, deny none: B may now write.
	res = mustOK(t, do(t, a, c4.Putfh(fh), c4.OpenDowngrade(aOpen, 0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_NONE)))
	aDown := stateidOf(t, res.Ops[2])
	if aDown.Other != aOpen.Other || aDown.Seqid != aOpen.Seqid+1 {
		t.Errorf("OPEN_DOWNGRADE stateid %+v, want seqid %d", aDown, aOpen.Seqid+1)
	}
	res = mustOK(t, do(t, b, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_WRITE, c4.OPEN4_SHARE_DENY_NONE, bOwner, "shared")))
	bBoth := stateidOf(t, res.Ops[2])
	if bBoth.Other != bRead.Other {
		t.Errorf("second OPEN of the same open-owner and file: stateid other %x, want the first's %x", bBoth.Other, bRead.Other)
	}
	mustOK(t, do(t, b, c4.Putfh(fh), c4.Write(bBoth, 0, c4.UNSTABLE4, []byte("x"))))
	// A's old stateid (before the downgrade) is old now.
	res = do(t, a, c4.Putfh(fh), c4.Read(aOpen, 0, 1))
	wantStatuses(t, res, c4.NFS4ERR_OLD_STATEID, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_READ, c4.NFS4ERR_OLD_STATEID))

	// B cannot deny read while A reads; after A's CLOSE it can.
	bOwner2 := c4.StateOwner{Clientid: b.Clientid, Owner: []byte("ob2")}
	res = do(t, b, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_BOTH, bOwner2, "shared"))
	wantStatuses(t, res, c4.NFS4ERR_SHARE_DENIED, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_SHARE_DENIED))
	mustOK(t, do(t, a, c4.Putfh(fh), c4.Close(0, aDown)))
	// B's own first open-owner reads and writes: a deny both of
	// another owner conflicts with it.
	res = do(t, b, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_BOTH, bOwner2, "shared"))
	wantStatuses(t, res, c4.NFS4ERR_SHARE_DENIED, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_SHARE_DENIED))
	mustOK(t, do(t, b, c4.Putfh(fh), c4.Close(0, bBoth)))
	mustOK(t, do(t, b, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_BOTH, bOwner2, "shared")))
}

// TestLeaseExpiryFreesLocks: a client that stops renewing its lease loses
// its lock (or share reservation) to another client that wants it (RFC
// 8881 section 8.3, RFC 7530 section 9.6.3: once the lease expired the
// server may release the state; package state keeps it as a courtesy
// client only until another client conflicts with it, Table.Revoke).
// Lease 1 s; client B renews while it waits.
func TestLeaseExpiryFreesLocks(t *testing.T) {
	for _, holder := range []string{"4.1 lock", "4.0 lock", "4.1 share"} {
		t.Run(holder, func(t *testing.T) {
			t.Parallel()
			lease := time.Second
			ts := newServer(t, newBackend(t), serverOpts{Lease: lease})
			if !ts.waitGraceEnd(2 * time.Second) {
				t.Fatal("grace period did not end without recovery records")
			}
			b := ts.session(t, "lease-b")
			dir := rootFH(t, nil, 0, b, "a")
			var fh []byte
			switch holder {
			case "4.0 lock":
				a := newClient40(t, ts, "lease-a40")
				var open c4.Stateid
				fh, open = a.open(t, dir, "leased", c4.OPEN4_SHARE_ACCESS_BOTH, 0)
				mustOK(t, call(t, a.c, 0, c4.Putfh(fh),
					c4.LockNew(c4.WRITE_LT, false, 0, 0xffffffffffffffff, a.next(), open, 0, c4.StateOwner{Clientid: a.clientid, Owner: []byte("la")})))
			case "4.1 lock":
				a := ts.session(t, "lease-a41")
				var open c4.Stateid
				fh, open = openFile(t, a, dir, "oa", "leased", c4.OPEN4_SHARE_ACCESS_BOTH, 0)
				mustOK(t, do(t, a, c4.Putfh(fh),
					c4.LockNew(c4.WRITE_LT, false, 0, 0xffffffffffffffff, 0, open, 0, c4.StateOwner{Clientid: a.Clientid, Owner: []byte("la")})))
			case "4.1 share":
				a := ts.session(t, "lease-a41s")
				fh, _ = openFile(t, a, dir, "oa", "leased", c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_BOTH)
			}
			start := time.Now()
			var want c4.Status
			var try func() *c4.Result
			if holder == "4.1 share" {
				want = c4.NFS4ERR_SHARE_DENIED
				owner := c4.StateOwner{Clientid: b.Clientid, Owner: []byte("ob")}
				try = func() *c4.Result {
					return do(t, b, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, "leased"))
				}
			} else {
				want = c4.NFS4ERR_DENIED
				_, bOpen := openFile(t, b, dir, "ob", "leased", c4.OPEN4_SHARE_ACCESS_BOTH, 0)
				lock := c4.LockNew(c4.WRITE_LT, false, 0, 10, 0, bOpen, 0, c4.StateOwner{Clientid: b.Clientid, Owner: []byte("lb")})
				try = func() *c4.Result { return do(t, b, c4.Putfh(fh), lock) }
			}
			if res := try(); res.Status != want {
				t.Fatalf("while the holder's lease is valid: %v %s, want %v", res.Status, describe(res), want)
			}
			// A sends nothing more. B asks again every 200 ms (which
			// renews B's lease) until A's lease expired and a bit more.
			var got c4.Status
			for time.Since(start) < 2*lease+500*time.Millisecond {
				time.Sleep(200 * time.Millisecond)
				res := try()
				if got = res.Status; got == c4.NFS4_OK {
					break
				}
				if got != want {
					t.Fatalf("%v %s", got, describe(res))
				}
			}
			if got != c4.NFS4_OK {
				t.Fatalf("%v %v after the holder's lease (%v) expired, want NFS4_OK", got, time.Since(start)-lease, lease)
			}
			if since := time.Since(start); since < lease {
				t.Errorf("granted after %v, before the holder's lease of %v expired", since, lease)
			}
		})
	}
}
