package open

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

func withSeqid(s Stateid, seqid uint32) Stateid {
	s.Seqid = seqid
	return s
}

// withOther returns s with the stateid counter id in its other field.
func withOther(s Stateid, id uint64) Stateid {
	binary.BigEndian.PutUint64(s.Other[4:], id)
	return s
}

// TestExpiredBound: the table remembers the last expiredStateids
// stateids of released clients, no more.
func TestExpiredBound(t *testing.T) {
	e := newEnv(t, Limits{})
	e.tb.mu.Lock()
	for id := uint64(1); id <= expiredStateids+10; id++ {
		e.tb.noteExpiredLocked(id)
	}
	n := len(e.tb.expired)
	_, first := e.tb.expired[1]
	_, eleventh := e.tb.expired[11]
	_, last := e.tb.expired[expiredStateids+10]
	e.tb.mu.Unlock()
	if n != expiredStateids || first || !eleventh || !last {
		t.Errorf("%d remembered (want %d), first %v (want false), 11th %v, last %v", n, expiredStateids, first, eleventh, last)
	}
}

// TestStateidChecks: the checks of a presented stateid (RFC 8881 section
// 8.2.4, RFC 7530 section 9.1.4.3), through CheckIO.
func TestStateidChecks(t *testing.T) {
	e := newEnv(t, Limits{})
	// 4.1 client 1: open of fA, upgraded (seqid 2).
	e.mustOpen(c41(1), "o1", 0, fA, ShareRead, 0)
	s41 := e.mustOpen(c41(1), "o1", 0, fA, ShareWrite, 0).Stateid
	if s41.Seqid != 2 {
		t.Fatalf("upgrade seqid %d, want 2", s41.Seqid)
	}
	// 4.0 client 3: confirmed open of fA (seqid 2), read only.
	s40 := e.open40(3, "o3", 100, fA, ShareRead, 0)
	if s40.Seqid != 2 {
		t.Fatalf("confirmed seqid %d, want 2", s40.Seqid)
	}
	// 4.1 client 4: write-only open of fB, and a lock stateid on it.
	w41 := e.mustOpen(c41(4), "o4", 0, fB, ShareWrite, 0).Stateid
	lk, err := e.lockNew(c41(4), fB, WriteLT, 0, 10, w41, 0, "l4", 0)
	if err != nil {
		t.Fatal(err)
	}
	l41 := lk.Stateid
	// To be revoked: client 5 on export 2, client 6 expired.
	r41 := e.mustOpen(c41(5), "o5", 0, fC, ShareRead, 0).Stateid
	x41 := e.mustOpen(c41(6), "o6", 0, fB, ShareRead, 0).Stateid
	if n := e.tb.RevokeExport(2); n != 1 {
		t.Fatalf("RevokeExport = %d, want 1", n)
	}
	if n := e.tb.RevokeClient(6, nfserr.Expired); n != 1 {
		t.Fatalf("RevokeClient = %d, want 1", n)
	}

	otherEpoch := func(s Stateid) Stateid { s.Other[3]++; return s }
	unknown := s41
	unknown.Other[11] = 0x77

	for _, c := range []struct {
		name   string
		c      Caller
		file   lock.FileID
		s      Stateid
		access uint8
		want   nfserr.Status
	}{
		{"4.1 current", c41(1), fA, s41, ShareRead, nfserr.OK},
		{"4.1 write", c41(1), fA, s41, ShareWrite, nfserr.OK},
		{"4.1 seqid 0 is current", c41(1), fA, withSeqid(s41, 0), ShareRead, nfserr.OK},
		{"4.1 older", c41(1), fA, withSeqid(s41, 1), ShareRead, nfserr.OldStateid},
		{"4.1 newer", c41(1), fA, withSeqid(s41, 3), ShareRead, nfserr.BadStateid},
		{"4.1 far newer", c41(1), fA, withSeqid(s41, 1<<31), ShareRead, nfserr.BadStateid},
		{"4.1 other epoch", c41(1), fA, otherEpoch(s41), ShareRead, nfserr.BadStateid},
		{"4.1 unknown", c41(1), fA, unknown, ShareRead, nfserr.BadStateid},
		{"4.1 other file", c41(1), fB, s41, ShareRead, nfserr.BadStateid},
		{"4.1 other client", c41(2), fA, s41, ShareRead, nfserr.BadStateid},
		{"4.1 admin revoked", c41(5), fC, r41, ShareRead, nfserr.AdminRevoked},
		{"4.1 expired", c41(6), fB, x41, ShareRead, nfserr.Expired},
		{"4.0 current", c40(0), fA, s40, ShareRead, nfserr.OK},
		{"4.0 seqid 0 is old", c40(0), fA, withSeqid(s40, 0), ShareRead, nfserr.OldStateid},
		{"4.0 older", c40(0), fA, withSeqid(s40, 1), ShareRead, nfserr.OldStateid},
		{"4.0 newer", c40(0), fA, withSeqid(s40, 3), ShareRead, nfserr.BadStateid},
		{"4.0 other epoch", c40(0), fA, otherEpoch(s40), ShareRead, nfserr.StaleStateid},
		{"4.0 unknown", c40(0), fA, unknown, ShareRead, nfserr.BadStateid},
		{"4.0 other file", c40(0), fB, s40, ShareRead, nfserr.BadStateid},
		{"4.0 write on read-only open", c40(0), fA, s40, ShareWrite, nfserr.Openmode},
		{"read on write-only open", c41(4), fB, w41, ShareRead, nfserr.OK},
		{"lock stateid read", c41(4), fB, l41, ShareRead, nfserr.OK},
		{"lock stateid write", c41(4), fB, l41, ShareWrite, nfserr.OK},
		{"lock stateid old", c41(4), fB, withSeqid(l41, 5), ShareWrite, nfserr.BadStateid},
		{"invalid special", c41(1), fA, InvalidStateid, ShareRead, nfserr.BadStateid},
		{"current special", c41(1), fA, CurrentStateid, ShareRead, nfserr.BadStateid},
		{"ones with seqid 5", c41(1), fA, Stateid{Seqid: 5, Other: allOnes}, ShareRead, nfserr.BadStateid},
		{"zeros with seqid 5", c41(1), fA, Stateid{Seqid: 5}, ShareRead, nfserr.BadStateid},
		{"anonymous read", c41(1), fA, AnonymousStateid, ShareRead, nfserr.OK},
		{"bypass read", c41(1), fA, BypassStateid, ShareRead, nfserr.OK},
		{"bypass write (an anonymous write)", c41(1), fA, BypassStateid, ShareWrite, nfserr.OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.tb.CheckIO(c.c, c.file, c.s, c.access)
			if got := st(err); got != c.want {
				t.Errorf("CheckIO = %v, want %v", got, c.want)
			}
		})
	}
	// The client a stateid renews.
	if id, err := e.tb.CheckIO(c40(0), fA, s40, ShareRead); err != nil || id != 3 {
		t.Errorf("CheckIO clientid = %d, %v; want 3", id, err)
	}
	// TEST_STATEID answers the same, without the filehandle.
	got := e.tb.TestStateid(c41(1), []Stateid{s41, withSeqid(s41, 1), withSeqid(s41, 3), otherEpoch(s41), AnonymousStateid, r41, withSeqid(s41, 0)})
	want := []nfserr.Status{nfserr.OK, nfserr.OldStateid, nfserr.BadStateid, nfserr.BadStateid, nfserr.BadStateid, nfserr.BadStateid, nfserr.OK}
	if !slices.Equal(got, want) {
		t.Errorf("TestStateid = %v, want %v", got, want)
	}
	if got := e.tb.TestStateid(c41(5), []Stateid{r41}); got[0] != nfserr.AdminRevoked {
		t.Errorf("TestStateid revoked = %v", got)
	}
}

// TestSeqidWrap: stateid seqids wrap to 1, never to 0, and compare in
// serial arithmetic.
func TestSeqidWrap(t *testing.T) {
	if nextSeqid(0xffffffff) != 1 || nextSeqid(1) != 2 {
		t.Fatal("nextSeqid")
	}
	for _, c := range []struct {
		minor, got, cur uint32
		want            nfserr.Status
	}{
		{1, 5, 5, nfserr.OK},
		{1, 0, 5, nfserr.OK},
		{0, 0, 5, nfserr.OldStateid},
		{0, 0xffffffff, 1, nfserr.OldStateid}, // just before the wrap
		{0, 1, 0xffffffff, nfserr.BadStateid},
		{0, 4, 5, nfserr.OldStateid},
		{0, 6, 5, nfserr.BadStateid},
	} {
		if got := st(checkGeneration(c.minor, c.got, c.cur)); got != c.want {
			t.Errorf("checkGeneration(%d, %d, %d) = %v, want %v", c.minor, c.got, c.cur, got, c.want)
		}
	}
}

// TestShareDeny: share reservations of two open-owners conflict (RFC
// 7530 section 9.9), whether of one client, of two clients, or of an
// NFSv4 open and an NLM share.
func TestShareDeny(t *testing.T) {
	const (
		R, W, B = ShareRead, ShareWrite, ShareBoth
		N       = 0
	)
	for _, c := range []struct {
		a1, d1, a2, d2 uint8
		ok             bool
	}{
		{R, N, R, N, true},
		{R, N, W, N, true},
		{R, W, W, N, false},
		{R, W, R, N, true},
		{B, B, R, N, false},
		{R, N, R, R, false},
		{W, N, R, W, false},
		{R, R, W, W, true},
		{W, R, W, N, true},
		{B, N, R, W, false},
	} {
		name := func(a, d uint8) string { return "a" + string('0'+rune(a)) + "d" + string('0'+rune(d)) }
		want := nfserr.OK
		if !c.ok {
			want = nfserr.ShareDenied
		}
		t.Run(name(c.a1, c.d1)+"-"+name(c.a2, c.d2), func(t *testing.T) {
			// Two owners of one client, then two clients.
			for _, second := range []Caller{c41(1), c41(2)} {
				e := newEnv(t, Limits{})
				e.mustOpen(c41(1), "first", 0, fA, c.a1, c.d1)
				_, err := e.open(second, "second", 0, fA, c.a2, c.d2, false)
				e.want("second open", err, want)
			}
			// NLM share, then NFSv4 open.
			e := newEnv(t, Limits{})
			if _, err := e.m.Share(lock.Share{File: fA, Owner: nlmOwner, Access: c.a1, Deny: c.d1}, false); err != nil {
				t.Fatal(err)
			}
			_, err := e.open(c41(1), "second", 0, fA, c.a2, c.d2, false)
			e.want("v4 after NLM", err, want)
			// NFSv4 open, then NLM share.
			e = newEnv(t, Limits{})
			e.mustOpen(c41(1), "first", 0, fA, c.a1, c.d1)
			_, err = e.m.Share(lock.Share{File: fA, Owner: nlmOwner, Access: c.a2, Deny: c.d2}, false)
			if (err == nil) != c.ok {
				t.Errorf("NLM after v4: %v, want ok=%v", err, c.ok)
			}
		})
	}
}

// TestUpgradeDowngrade: OPEN upgrades OR the bits; OPEN_DOWNGRADE takes
// a union of OPENs in effect (RFC 7530 section 16.19.4).
func TestUpgradeDowngrade(t *testing.T) {
	setup := func(t *testing.T) (*env, Stateid) {
		e := newEnv(t, Limits{})
		r1 := e.mustOpen(c41(1), "o", 0, fA, ShareRead, 0)
		r2 := e.mustOpen(c41(1), "o", 0, fA, ShareWrite, ShareWrite)
		if r1.Upgrade || !r2.Upgrade || r2.Access != ShareBoth || r2.Deny != ShareWrite || r2.Stateid.Seqid != 2 || r2.Stateid.Other != r1.Stateid.Other {
			t.Fatalf("upgrade: %+v then %+v", r1, r2)
		}
		return e, r2.Stateid
	}
	for _, c := range []struct {
		access, deny uint8
		want         nfserr.Status
	}{
		{ShareRead, 0, nfserr.OK},
		{ShareWrite, ShareWrite, nfserr.OK},
		{ShareBoth, ShareWrite, nfserr.OK}, // the union of both: no change
		{ShareBoth, 0, nfserr.Inval},       // no subset of the OPENs gives it
		{ShareRead, ShareWrite, nfserr.Inval},
		{ShareWrite, 0, nfserr.Inval},
		{ShareBoth, ShareBoth, nfserr.Inval},
		{0, 0, nfserr.Inval},
		{4, 0, nfserr.Inval},
		{ShareRead, 4, nfserr.Inval},
	} {
		e, s := setup(t)
		sid, err := e.downgrade(c41(1), fA, 0, s, c.access, c.deny)
		if st(err) != c.want {
			t.Errorf("downgrade to %d/%d: %v, want %v", c.access, c.deny, st(err), c.want)
			continue
		}
		if err == nil && (sid.Seqid != 3 || sid.Other != s.Other) {
			t.Errorf("downgrade to %d/%d: stateid %+v", c.access, c.deny, sid)
		}
		// The share reservation is what the open holds now.
		shares := e.m.Shares()
		wantShare := lock.Share{File: fA, Owner: lock.Owner{Client: "nfs4:1", ID: "o:o"}, Access: ShareBoth, Deny: ShareWrite}
		if err == nil {
			wantShare.Access, wantShare.Deny = c.access, c.deny
		}
		if len(shares) != 1 || shares[0] != wantShare {
			t.Errorf("downgrade to %d/%d: shares %+v, want %+v", c.access, c.deny, shares, wantShare)
		}
	}

	// After a downgrade to READ, another owner may write; the dropped
	// OPEN is no longer in effect; an OPEN brings it back.
	e, s := setup(t)
	_, err := e.open(c41(2), "p", 0, fA, ShareWrite, 0, false)
	e.want("write open against deny write", err, nfserr.ShareDenied)
	s, err = e.downgrade(c41(1), fA, 0, s, ShareRead, 0)
	e.want("downgrade", err, nfserr.OK)
	e.mustOpen(c41(2), "p", 0, fA, ShareWrite, 0)
	_, err = e.downgrade(c41(1), fA, 0, s, ShareWrite, ShareWrite)
	e.want("downgrade to a dropped OPEN", err, nfserr.Inval)
	r := e.mustOpen(c41(1), "o", 0, fA, ShareWrite, 0)
	if r.Stateid.Seqid != 4 || r.Access != ShareBoth || r.Deny != 0 {
		t.Errorf("reopen: %+v", r)
	}
	_, err = e.downgrade(c41(1), fA, 0, withSeqid(s, 2), ShareRead, 0)
	e.want("downgrade with old stateid", err, nfserr.OldStateid)
	_, err = e.downgrade(c41(1), fB, 0, s, ShareRead, 0)
	e.want("downgrade other file", err, nfserr.BadStateid)
}

// TestCloseReleasesLocks: a CLOSE of an open whose lock stateids hold
// locks frees them (RFC 7530 section 16.2.4 and RFC 8881 section 18.2.4
// allow it in place of NFS4ERR_LOCKS_HELD), in 4.0 and 4.1, with the
// open's lock stateids.
func TestCloseReleasesLocks(t *testing.T) {
	t.Run("4.1", func(t *testing.T) {
		e := newEnv(t, Limits{})
		os := e.mustOpen(c41(1), "o", 0, fA, ShareBoth, 0).Stateid
		lr, err := e.lockNew(c41(1), fA, WriteLT, 0, 10, os, 0, "l", 0)
		e.want("lock", err, nfserr.OK)
		lr2, err := e.lockOld(c41(1), fA, WriteLT, 20, 10, lr.Stateid, 0)
		e.want("second lock", err, nfserr.OK)
		ls, err := e.locku(c41(1), fA, 0, lr2.Stateid, 0, 10)
		e.want("locku", err, nfserr.OK)
		if ls.Seqid != 3 || ls.Other != lr.Stateid.Other {
			t.Errorf("locku stateid %+v", ls)
		}
		// A lock stateid without locks stays valid (RFC 8881 8.2.4).
		if _, err := e.tb.CheckIO(c41(1), fA, ls, ShareWrite); err != nil {
			t.Errorf("lock stateid after LOCKU: %v", err)
		}
		// Another lock-owner's lock through another open of the file.
		os2 := e.mustOpen(c41(1), "o2", 0, fA, ShareRead, 0).Stateid
		_, err = e.lockNew(c41(1), fA, ReadLT, 100, 10, os2, 0, "l2", 0)
		e.want("lock of the second open", err, nfserr.OK)
		cs, err := e.close(c41(1), fA, 0, os)
		e.want("close with a lock held", err, nfserr.OK)
		if cs != InvalidStateid {
			t.Errorf("4.1 CLOSE stateid %+v, want the invalid special stateid", cs)
		}
		if got := e.held(1, "l", fA); len(got) != 0 {
			t.Errorf("locks left after close: %v", got)
		}
		if got := e.held(1, "l2", fA); len(got) != 1 {
			t.Errorf("the other open's lock: %v, want it kept", got)
		}
		_, err = e.tb.CheckIO(c41(1), fA, ls, ShareRead)
		e.want("lock stateid after close", err, nfserr.BadStateid)
		_, err = e.tb.CheckIO(c41(1), fA, os, ShareRead)
		e.want("open stateid after close", err, nfserr.BadStateid)
		_, err = e.close(c41(1), fA, 0, os2)
		e.want("close of the second open", err, nfserr.OK)
		if len(e.m.Shares()) != 0 || len(e.m.Locks()) != 0 || e.tb.HasState(1) {
			t.Errorf("state left: shares %v, locks %v, HasState %v", e.m.Shares(), e.m.Locks(), e.tb.HasState(1))
		}
		if s := e.tb.Stats(); s != (Stats{}) {
			t.Errorf("stats %+v, want none", s)
		}
	})
	t.Run("4.0", func(t *testing.T) {
		e := newEnv(t, Limits{})
		os := e.open40(1, "o", 1, fA, ShareBoth, 0) // seqids 1, 2
		lr, err := e.lockNew(c40(1), fA, ReadLT, 5, all, os, 3, "l", 0)
		e.want("lock", err, nfserr.OK)
		cs, err := e.close(c40(1), fA, 4, os)
		e.want("close with a lock held", err, nfserr.OK)
		if cs.Seqid != os.Seqid+1 || cs.Other != os.Other {
			t.Errorf("4.0 CLOSE stateid %+v, open %+v", cs, os)
		}
		if got := e.held(1, "l", fA); len(got) != 0 {
			t.Errorf("locks left after close: %v", got)
		}
		_, err = e.tb.CheckIO(c40(0), fA, lr.Stateid, ShareRead)
		e.want("lock stateid after close", err, nfserr.BadStateid)
		if e.tb.HasState(1) {
			t.Error("HasState after close")
		}
		// The retransmitted CLOSE gets its reply.
		_, _, err = e.tb.Close(c40(1), fA, 4, os)
		var rp *Replay
		if !errors.As(err, &rp) || string(rp.Reply) != "close@4" {
			t.Errorf("CLOSE replay: %v", err)
		}
		// The owner's next request drops the closed open.
		_, err = e.close(c40(1), fA, 5, cs)
		e.want("close again", err, nfserr.BadStateid)
	})
}

// TestLockConflicts: v4 against v4 and NLM, and the LOCK4denied.
func TestLockConflicts(t *testing.T) {
	e := newEnv(t, Limits{})
	o1 := e.mustOpen(c41(1), "o1", 0, fA, ShareBoth, 0).Stateid
	o2 := e.mustOpen(c41(2), "o2", 0, fA, ShareBoth, 0).Stateid
	o1b := e.mustOpen(c41(1), "o1", 0, fB, ShareBoth, 0).Stateid
	o2b := e.mustOpen(c41(2), "o2", 0, fB, ShareRead, 0).Stateid

	l1, err := e.lockNew(c41(1), fA, WriteLT, 100, 100, o1, 0, "L1", 0)
	e.want("L1 lock", err, nfserr.OK)
	if l1.Stateid.Seqid != 1 {
		t.Fatalf("new lock stateid seqid %d", l1.Stateid.Seqid)
	}
	den1 := &LockDenied{Offset: 100, Length: 100, Type: WriteLT, Clientid: 1, Owner: []byte("L1")}
	check := func(what string, res LockResult, err error, want *LockDenied) {
		t.Helper()
		if want == nil {
			if err != nil || res.Denied != nil {
				t.Errorf("%s: %v %+v, want success", what, err, res.Denied)
			}
			return
		}
		if st(err) != nfserr.Denied || res.Denied == nil {
			t.Errorf("%s: %v %+v, want DENIED", what, err, res.Denied)
			return
		}
		if d := res.Denied; d.Offset != want.Offset || d.Length != want.Length || d.Type != want.Type ||
			d.Clientid != want.Clientid || string(d.Owner) != string(want.Owner) {
			t.Errorf("%s: denied %+v (%q), want %+v (%q)", what, *d, d.Owner, *want, want.Owner)
		}
	}
	res, err := e.lockNew(c41(2), fA, ReadLT, 150, 1, o2, 0, "L2", 0)
	check("other client", res, err, den1)
	res, err = e.lockNew(c41(1), fA, WritewLT, 199, 1, o1, 0, "L1b", 0)
	check("other lock-owner of the client, blocking type", res, err, den1)
	res, err = e.lockNew(c41(2), fA, ReadLT, 200, 10, o2, 0, "L2", 0)
	check("adjacent", res, err, nil)
	l2 := res.Stateid
	res, err = e.lockOld(c41(1), fA, WriteLT, 50, 60, l1.Stateid, 0)
	check("own overlapping", res, err, nil)
	if res.Stateid.Seqid != 2 {
		t.Errorf("lock stateid seqid %d, want 2", res.Stateid.Seqid)
	}
	l1 = res
	if got := e.held(1, "L1", fA); !slices.Equal(got, []lock.Range{{Start: 50, End: 199}}) {
		t.Errorf("L1 holds %v", got)
	}
	den1.Offset, den1.Length = 50, 150

	// LOCKT: no state; the owner may be unknown.
	d, err := e.tb.LockT(c41(2), fA, ReadLT, 0, all, []byte("nobody"))
	check("LOCKT", LockResult{Denied: d}, err, den1)
	d, err = e.tb.LockT(c41(1), fA, WriteLT, 60, 10, []byte("L1"))
	check("LOCKT own", LockResult{Denied: d}, err, nil)
	_, err = e.tb.LockT(c41(1), fA, ReadLT, 60, 0, []byte("L1"))
	e.want("LOCKT length 0", err, nfserr.Inval)

	// To the end of the file: length all ones.
	res, err = e.lockOld(c41(2), fA, ReadLT, 1000, all, l2, 0)
	check("to EOF", res, err, nil)
	res, err = e.lockOld(c41(1), fA, WriteLT, 5000, 1, res.Stateid, 0)
	e.want("lock with other owner's stateid", err, nfserr.BadStateid)
	res, err = e.lockNew(c41(1), fB, WriteLT, 0, 1, o1b, 0, "L1", 0)
	check("L1 on fB", res, err, nil)
	l1b := res.Stateid
	res, err = e.lockOld(c41(1), fA, WriteLT, 5000, 1, l1.Stateid, 0)
	check("against EOF lock", res, err, &LockDenied{Offset: 1000, Length: all, Type: ReadLT, Clientid: 2, Owner: []byte("L2")})
	_, err = e.lockOld(c41(1), fA, WriteLT, 5000, 1, l1b, 0)
	e.want("lock stateid of another file", err, nfserr.BadStateid)

	// NLM against v4, both ways, on fB.
	if _, err := e.m.Lock(lock.Request{File: fB, Owner: nlmOwner, Type: lock.Write, Range: lock.Range{Start: 10, End: 19}}); err != nil {
		t.Fatal(err)
	}
	res, err = e.lockNew(c41(2), fB, ReadLT, 15, 1, o2b, 0, "L2", 0)
	check("v4 against NLM", res, err, &LockDenied{Offset: 10, Length: 10, Type: WriteLT, Clientid: 0, Owner: []byte("nlm:10.0.0.9 svid 42")})
	h, err := e.m.Lock(lock.Request{File: fB, Owner: nlmOwner, Type: lock.Read, Range: lock.Range{Start: 0, End: 0}})
	if err != lock.ErrConflict || h.Owner != (lock.Owner{Client: "nfs4:1", ID: "l:L1"}) {
		t.Errorf("NLM against v4: %v %+v", err, h)
	}
	// A failed first LOCK leaves no lock stateid.
	if s := e.tb.Stats(); s.LockStateids != 3 {
		t.Errorf("lock stateids %d, want 3", s.LockStateids)
	}

	// OPENMODE: a write lock needs write access.
	res, err = e.lockNew(c41(2), fB, WriteLT, 100, 1, o2b, 0, "L3", 0)
	e.want("write lock on read open", err, nfserr.Openmode)
	res, err = e.lockNew(c41(2), fB, ReadLT, 100, 1, o2b, 0, "L3", 0)
	check("read lock on read open", res, err, nil)
}

// TestLockRange: offset and length (RFC 7530 section 16.10.4).
func TestLockRange(t *testing.T) {
	for _, c := range []struct {
		off, length uint64
		want        lock.Range
		err         nfserr.Status
	}{
		{0, 1, lock.Range{Start: 0, End: 0}, nfserr.OK},
		{10, 5, lock.Range{Start: 10, End: 14}, nfserr.OK},
		{10, all, lock.Range{Start: 10, End: lock.EOF}, nfserr.OK},
		{all, all, lock.Range{Start: all, End: lock.EOF}, nfserr.OK},
		{0, 0, lock.Range{}, nfserr.Inval},
		{1, all - 1, lock.Range{Start: 1, End: all - 1}, nfserr.OK}, // sum is exactly 2^64-1
		{2, all - 1, lock.Range{}, nfserr.Inval},                    // sum exceeds 2^64-1
		{all, 1, lock.Range{}, nfserr.Inval},
	} {
		r, err := lockRange(c.off, c.length)
		if st(err) != c.err || (err == nil && r != c.want) {
			t.Errorf("lockRange(%d, %d) = %v, %v; want %v, %v", c.off, c.length, r, st(err), c.want, c.err)
		}
	}
	e := newEnv(t, Limits{})
	os := e.mustOpen(c41(1), "o", 0, fA, ShareBoth, 0).Stateid
	_, err := e.lockNew(c41(1), fA, WriteLT, 0, 0, os, 0, "l", 0)
	e.want("LOCK length 0", err, nfserr.Inval)
	_, err = e.lockNew(c41(1), fA, WriteLT, 2, all-1, os, 0, "l", 0)
	e.want("LOCK overflow", err, nfserr.Inval)
	_, err = e.lockNew(c41(1), fA, 7, 0, 1, os, 0, "l", 0)
	e.want("LOCK type 7", err, nfserr.Inval)
	res, err := e.lockNew(c41(1), fA, WriteLT, 0, 1, os, 0, "l", 0)
	e.want("LOCK", err, nfserr.OK)
	_, err = e.locku(c41(1), fA, 0, res.Stateid, 0, 0)
	e.want("LOCKU length 0", err, nfserr.Inval)
}

// TestLockuSplit: LOCKU of the middle of a lock splits it.
func TestLockuSplit(t *testing.T) {
	e := newEnv(t, Limits{})
	o1 := e.mustOpen(c41(1), "o1", 0, fA, ShareBoth, 0).Stateid
	o2 := e.mustOpen(c41(2), "o2", 0, fA, ShareBoth, 0).Stateid
	l1, err := e.lockNew(c41(1), fA, WriteLT, 0, 100, o1, 0, "L1", 0)
	e.want("lock", err, nfserr.OK)
	s, err := e.locku(c41(1), fA, 0, l1.Stateid, 40, 20)
	e.want("locku", err, nfserr.OK)
	if got := e.held(1, "L1", fA); !slices.Equal(got, []lock.Range{{Start: 0, End: 39}, {Start: 60, End: 99}}) {
		t.Fatalf("held after split %v", got)
	}
	l2, err := e.lockNew(c41(2), fA, WriteLT, 40, 20, o2, 0, "L2", 0)
	e.want("lock the hole", err, nfserr.OK)
	res, err := e.lockOld(c41(2), fA, WriteLT, 39, 1, l2.Stateid, 0)
	if st(err) != nfserr.Denied || res.Denied.Offset != 0 || res.Denied.Length != 40 {
		t.Errorf("left part: %v %+v", err, res.Denied)
	}
	res, err = e.lockOld(c41(2), fA, ReadLT, 60, 1, l2.Stateid, 0)
	if st(err) != nfserr.Denied || res.Denied.Offset != 60 || res.Denied.Length != 40 {
		t.Errorf("right part: %v %+v", err, res.Denied)
	}
	s, err = e.locku(c41(1), fA, 0, s, 0, 40)
	e.want("locku left", err, nfserr.OK)
	s, err = e.locku(c41(1), fA, 0, s, 50, all)
	e.want("locku right", err, nfserr.OK)
	if s.Seqid != 4 {
		t.Errorf("lock stateid seqid %d, want 4", s.Seqid)
	}
	_, err = e.close(c41(1), fA, 0, o1)
	e.want("close", err, nfserr.OK)
}

// TestSeqid40: the owner seqids of 4.0 (RFC 7530 section 9.1.7) and the
// replay of the last reply (section 9.1.9).
func TestSeqid40(t *testing.T) {
	e := newEnv(t, Limits{})
	c := c40(5)
	replay := func(what string, err error, want string) {
		t.Helper()
		var rp *Replay
		if !errors.As(err, &rp) || string(rp.Reply) != want {
			t.Errorf("%s: %v, want replay of %q", what, err, want)
		}
	}
	res := e.mustOpen(c, "oo", 10, fA, ShareBoth, 0)
	s, err := e.confirm(c, fA, 11, res.Stateid)
	e.want("confirm", err, nfserr.OK)
	_, err = e.confirm(c, fA, 11, res.Stateid)
	replay("confirm again", err, "confirm@11")
	_, err = e.tb.BeginOpen(c, []byte("oo"), 11)
	replay("open with the last seqid", err, "confirm@11")
	_, err = e.tb.BeginOpen(c, []byte("oo"), 13)
	e.want("open seqid+2", err, nfserr.BadSeqid)
	_, err = e.tb.BeginOpen(c, []byte("oo"), 10)
	e.want("open seqid-1", err, nfserr.BadSeqid)
	e.mustOpen(c, "oo", 12, fB, ShareRead, 0)
	_, err = e.tb.BeginOpen(c, []byte("oo"), 12)
	replay("open replay", err, "open@12")

	// A non-mutating error does not consume the seqid...
	_, err = e.close(c, fB, 13, s)
	e.want("close of another file", err, nfserr.BadStateid)
	// ... a mutating one does.
	_, err = e.downgrade(c, fA, 13, s, ShareWrite, ShareRead)
	e.want("bad downgrade", err, nfserr.Inval)
	_, _, err = e.tb.OpenDowngrade(c, fA, 13, s, ShareRead, 0)
	replay("downgrade replay", err, "downgrade@13")
	// An error of the server's own (the file system's) counts too.
	tx, err := e.tb.BeginOpen(c, []byte("oo"), 14)
	e.want("begin", err, nfserr.OK)
	tx.Done(nfserr.Noent, []byte("noent@14"))
	_, err = e.tb.BeginOpen(c, []byte("oo"), 14)
	replay("open NOENT replay", err, "noent@14")

	// Lock-owners: open_to_lock_owner4 consumes both seqids.
	l, err := e.lockNew(c, fA, WriteLT, 0, 10, s, 15, "lo", 0)
	e.want("lock new owner", err, nfserr.OK)
	_, _, err = e.tb.Lock(c, LockArgs{File: fA, Type: WriteLT, Offset: 0, Length: 10, NewLockOwner: true,
		OpenSeqid: 15, OpenStateid: s, LockOwnerClientid: 5, LockOwner: []byte("lo"), LockSeqid: 0})
	replay("lock new owner replay", err, "lock@15")
	// An open_to_lock_owner4 for a lock-owner that has a lock stateid
	// for the file already gets that stateid again (as Linux nfsd does;
	// pynfs LOCK24), its seqids checked as ever.
	l2, err := e.lockNew(c, fA, WriteLT, 20, 10, s, 16, "lo", 1)
	e.want("open_to_lock_owner with existing lock state", err, nfserr.OK)
	if l2.Stateid.Other != l.Stateid.Other || l2.Stateid.Seqid != l.Stateid.Seqid+1 {
		t.Errorf("open_to_lock_owner with existing lock state: %+v, want %+v one seqid on", l2.Stateid, l.Stateid)
	}
	_, err = e.lockNew(c, fA, WriteLT, 20, 10, s, 17, "lo", 3)
	e.want("open_to_lock_owner with lock seqid+2", err, nfserr.BadSeqid)
	_, err = e.lockOld(c, fA, WriteLT, 20, 10, l2.Stateid, 2)
	e.want("exist lock owner", err, nfserr.OK)
	_, _, err = e.tb.Locku(c, fA, 2, l.Stateid, 0, 10)
	replay("locku with the last seqid", err, "lockx@2")
	_, err = e.locku(c, fA, 4, l.Stateid, 0, 10)
	e.want("locku seqid+2", err, nfserr.BadSeqid)
	_, err = e.locku(c, fA, 3, withSeqid(l.Stateid, 1), 0, 10)
	e.want("locku with an old stateid", err, nfserr.OldStateid) // mutating
	_, err = e.locku(c, fA, 4, withSeqid(l.Stateid, 9), 0, 10)
	e.want("locku with a newer stateid", err, nfserr.BadStateid) // not mutating
	ls, err := e.locku(c, fA, 4, withSeqid(l.Stateid, 3), 0, 10)
	e.want("locku", err, nfserr.OK)
	if ls.Seqid != 4 {
		t.Errorf("lock stateid seqid %d, want 4", ls.Seqid)
	}
	// DENIED is mutating for the open-owner. The lock-owner, left
	// without a lock stateid, is new again: the Linux client frees it
	// and reuses the owner string, with seqid 0, for the next process.
	o2 := e.open40(6, "o2", 1, fA, ShareBoth, 0)
	_, err = e.lockNew(c40(6), fA, WriteLT, 20, 1, o2, 3, "lo2", 7)
	e.want("conflict", err, nfserr.Denied)
	_, err = e.lockNew(c40(6), fA, WriteLT, 20, 1, o2, 4, "lo2", 0)
	e.want("owner string reused after a DENIED", err, nfserr.Denied)
	_, err = e.lockNew(c40(6), fA, WriteLT, 40, 1, o2, 5, "lo2", 0)
	e.want("after a DENIED", err, nfserr.OK)
	// The lock-owner's clientid must be the open's (4.0).
	_, _, err = e.tb.Lock(c40(6), LockArgs{File: fA, Type: WriteLT, Offset: 50, Length: 1, NewLockOwner: true,
		OpenSeqid: 6, OpenStateid: o2, LockOwnerClientid: 5, LockOwner: []byte("lo3")})
	e.want("lock-owner of another client", err, nfserr.BadStateid)
}

// TestOpenConfirm: a new 4.0 open-owner must be confirmed (RFC 7530
// section 16.18).
func TestOpenConfirm(t *testing.T) {
	e := newEnv(t, Limits{})
	c := c40(1)
	res := e.mustOpen(c, "u", 1, fA, ShareRead, ShareWrite)
	if !res.Confirm || res.Stateid.Seqid != 1 {
		t.Fatalf("first open: %+v", res)
	}
	_, err := e.tb.CheckIO(c, fA, res.Stateid, ShareRead)
	e.want("read before confirm", err, nfserr.BadStateid)
	_, err = e.close(c, fA, 2, res.Stateid)
	e.want("close before confirm", err, nfserr.BadStateid)
	_, err = e.lockNew(c, fA, ReadLT, 0, 1, res.Stateid, 2, "l", 0)
	e.want("lock before confirm", err, nfserr.BadStateid)
	_, err = e.confirm(c, fB, 2, res.Stateid)
	e.want("confirm on another file", err, nfserr.BadStateid)
	// The share is held while unconfirmed.
	_, err = e.open(c41(9), "w", 0, fA, ShareWrite, 0, false)
	e.want("write against unconfirmed deny", err, nfserr.ShareDenied)

	// A second OPEN replaces the unconfirmed owner and its open.
	res2 := e.mustOpen(c, "u", 50, fB, ShareRead, 0)
	if !res2.Confirm {
		t.Error("replacing owner not to be confirmed")
	}
	_, err = e.confirm(c, fA, 51, res.Stateid)
	e.want("confirm of the replaced open", err, nfserr.BadStateid)
	e.mustOpen(c41(9), "w", 0, fA, ShareWrite, 0)

	s, err := e.confirm(c, fB, 51, res2.Stateid)
	e.want("confirm", err, nfserr.OK)
	if s.Seqid != 2 || s.Other != res2.Stateid.Other {
		t.Errorf("confirmed stateid %+v", s)
	}
	_, err = e.confirm(c, fB, 52, s)
	e.want("confirm twice", err, nfserr.BadStateid)
	if r := e.mustOpen(c, "u", 52, fC, ShareRead, 0); r.Confirm {
		t.Error("confirmed owner asked to confirm")
	}
	if _, err := e.tb.CheckIO(c, fB, s, ShareRead); err != nil {
		t.Errorf("read after confirm: %v", err)
	}
	// A reclaim confirms (as Linux nfsd).
	e.m.StartGrace(1 << 40)
	if r, err := e.open(c40(2), "rc", 1, fA, ShareRead, 0, true); err != nil || r.Confirm {
		t.Errorf("reclaim open: %+v %v", r, err)
	}
	e.m.EndGrace()
	// No OPEN_CONFIRM in 4.1.
	r41 := e.mustOpen(c41(3), "v", 0, fA, ShareRead, 0)
	if r41.Confirm {
		t.Error("4.1 open asked to confirm")
	}
	_, err = e.confirm(c41(3), fA, 0, r41.Stateid)
	e.want("4.1 OPEN_CONFIRM", err, nfserr.Notsupp)
}

// TestReleaseClient: a client's release frees its shares and locks for
// other clients.
func TestReleaseClient(t *testing.T) {
	e := newEnv(t, Limits{})
	o1 := e.open40(1, "o", 1, fA, ShareBoth, ShareWrite)
	_, err := e.lockNew(c40(1), fA, WriteLT, 0, all, o1, 3, "l", 0)
	e.want("lock", err, nfserr.OK)
	o1b := e.mustOpen(c41(3), "x", 0, fB, ShareBoth, 0).Stateid
	_, err = e.lockNew(c41(3), fB, WriteLT, 0, 1, o1b, 0, "l", 0)
	e.want("lock fB", err, nfserr.OK)

	_, err = e.open(c41(2), "p", 0, fA, ShareWrite, 0, false)
	e.want("other client before", err, nfserr.ShareDenied)
	if !e.tb.HasState(1) || !e.tb.HasState(3) || e.tb.HasState(2) {
		t.Fatal("HasState before")
	}
	e.tb.ReleaseClient(1)
	if e.tb.HasState(1) || !e.tb.HasState(3) {
		t.Error("HasState after")
	}
	o2 := e.mustOpen(c41(2), "p", 0, fA, ShareWrite, 0).Stateid
	_, err = e.lockNew(c41(2), fA, WriteLT, 0, 1, o2, 0, "m", 0)
	e.want("lock after release", err, nfserr.OK)
	// A stateid of a released client is NFS4ERR_EXPIRED (RFC 7530
	// section 9.6.3): its lease expired, or it rebooted.
	_, err = e.tb.CheckIO(c40(0), fA, o1, ShareRead)
	e.want("released stateid", err, nfserr.Expired)
	_, err = e.tb.CheckIO(c40(0), fA, withOther(o1, 1<<40), ShareRead)
	e.want("stateid never issued", err, nfserr.BadStateid)
	for _, l := range e.m.Locks() {
		if l.Owner.Client == "nfs4:1" {
			t.Errorf("lock left %+v", l)
		}
	}
	for _, s := range e.m.Shares() {
		if s.Owner.Client == "nfs4:1" {
			t.Errorf("share left %+v", s)
		}
	}
	// No state for a released clientid, even from a late operation.
	_, err = e.open(c40(1), "o", 9, fA, ShareRead, 0, false)
	e.want("open of a released client", err, nfserr.Expired)
	e.tb.ReleaseClient(2)
	e.tb.ReleaseClient(3)
	if s := e.tb.Stats(); s != (Stats{}) {
		t.Errorf("stats %+v", s)
	}
	if s := e.m.Stats(); s.Locks != 0 || s.Shares != 0 {
		t.Errorf("manager %+v", s)
	}
}

// TestGrace: during the grace period only reclaims are granted.
func TestGrace(t *testing.T) {
	e := newEnv(t, Limits{})
	pre := e.mustOpen(c41(1), "o", 0, fA, ShareBoth, ShareWrite).Stateid
	e.m.StartGrace(1 << 40)
	defer e.m.EndGrace()
	_, err := e.open(c41(2), "p", 0, fB, ShareRead, 0, false)
	e.want("open in grace", err, nfserr.Grace)
	o2 := e.mustOpenReclaim(c41(2), "p", fB, ShareBoth)
	_, err = e.lockNew(c41(2), fB, WriteLT, 0, 1, o2, 0, "l", 0)
	e.want("lock in grace", err, nfserr.Grace)
	_, err = e.lockNew(c41(2), fB, WriteLT, 0, 1, o2, 0, "l", 0)
	e.want("lock in grace again", err, nfserr.Grace)
	res, q, err := e.tb.Lock(c41(2), LockArgs{File: fB, Type: WriteLT, Reclaim: true, Offset: 0, Length: 1,
		NewLockOwner: true, OpenStateid: o2, LockOwner: []byte("l")})
	q.Done(err, nil)
	e.want("reclaim lock", err, nfserr.OK)
	_, err = e.tb.LockT(c41(3), fB, ReadLT, 0, 1, []byte("t"))
	e.want("LOCKT in grace", err, nfserr.Grace)
	_, err = e.tb.CheckIO(c41(3), fB, AnonymousStateid, ShareWrite)
	e.want("anonymous write in grace", err, nfserr.Grace)
	// Downgrades, unlocks and closes are no new state.
	_, err = e.locku(c41(2), fB, 0, res.Stateid, 0, 1)
	e.want("locku in grace", err, nfserr.OK)
	pre, err = e.downgrade(c41(1), fA, 0, pre, ShareBoth, ShareWrite)
	e.want("downgrade in grace", err, nfserr.OK)
	_, err = e.close(c41(1), fA, 0, pre)
	e.want("close in grace", err, nfserr.OK)

	e.m.EndGrace()
	_, err = e.open(c41(2), "p", 0, fC, ShareRead, 0, true)
	e.want("reclaim out of grace", err, nfserr.NoGrace)
	_, q, err = e.tb.Lock(c41(2), LockArgs{File: fB, Type: WriteLT, Reclaim: true, Offset: 5, Length: 1,
		LockStateid: withSeqid(res.Stateid, 0)})
	q.Done(err, nil)
	e.want("reclaim lock out of grace", err, nfserr.NoGrace)
	_, err = e.open(c41(2), "p", 0, fC, ShareRead, 0, false)
	e.want("open after grace", err, nfserr.OK)
}

func (e *env) mustOpenReclaim(c Caller, owner string, f lock.FileID, access uint8) Stateid {
	e.t.Helper()
	res, err := e.open(c, owner, 0, f, access, 0, true)
	if err != nil {
		e.t.Fatalf("reclaim open: %v", err)
	}
	return res.Stateid
}

// TestCheckSpecial: I/O with the anonymous stateid honors share denies.
func TestCheckSpecial(t *testing.T) {
	e := newEnv(t, Limits{})
	s := e.mustOpen(c41(1), "o", 0, fA, ShareRead, ShareWrite).Stateid
	for _, c := range []struct {
		s      Stateid
		access uint8
		want   nfserr.Status
	}{
		{AnonymousStateid, ShareRead, nfserr.OK},
		{AnonymousStateid, ShareWrite, nfserr.Locked},
		{BypassStateid, ShareRead, nfserr.OK},
		{BypassStateid, ShareWrite, nfserr.Locked}, // an anonymous write
		{AnonymousStateid, 0, nfserr.OK},
	} {
		if _, err := e.tb.CheckIO(c41(2), fA, c.s, c.access); st(err) != c.want {
			t.Errorf("CheckIO(%+v, %d) = %v, want %v", c.s, c.access, st(err), c.want)
		}
	}
	if _, err := e.tb.CheckIO(c41(2), fB, AnonymousStateid, ShareWrite); err != nil {
		t.Errorf("other file: %v", err)
	}
	_, err := e.downgrade(c41(1), fA, 0, s, ShareRead, 0)
	e.want("downgrade", err, nfserr.Inval) // (R, N) was never opened
	e.mustOpen(c41(1), "o", 0, fA, ShareRead, 0)
	s, err = e.downgrade(c41(1), fA, 0, withSeqid(s, 0), ShareRead, 0)
	e.want("downgrade", err, nfserr.OK)
	if _, err := e.tb.CheckIO(c41(2), fA, AnonymousStateid, ShareWrite); err != nil {
		t.Errorf("after the deny went: %v", err)
	}
}

// TestFreeStateid: FREE_STATEID (RFC 8881 section 18.38).
func TestFreeStateid(t *testing.T) {
	e := newEnv(t, Limits{})
	os := e.mustOpen(c41(1), "o", 0, fA, ShareBoth, 0).Stateid
	l, err := e.lockNew(c41(1), fA, WriteLT, 0, 1, os, 0, "l", 0)
	e.want("lock", err, nfserr.OK)
	for _, c := range []struct {
		name string
		c    Caller
		s    Stateid
		want nfserr.Status
	}{
		{"lock with locks", c41(1), l.Stateid, nfserr.LocksHeld},
		{"open", c41(1), os, nfserr.LocksHeld},
		{"other client", c41(2), l.Stateid, nfserr.BadStateid},
		{"old", c41(1), withSeqid(os, 7), nfserr.BadStateid},
		{"special", c41(1), AnonymousStateid, nfserr.BadStateid},
	} {
		e.want(c.name, e.tb.FreeStateid(c.c, c.s), c.want)
	}
	ls, err := e.locku(c41(1), fA, 0, l.Stateid, 0, 1)
	e.want("locku", err, nfserr.OK)
	e.want("free old lock stateid", e.tb.FreeStateid(c41(1), l.Stateid), nfserr.OldStateid)
	e.want("free lock stateid", e.tb.FreeStateid(c41(1), withSeqid(ls, 0)), nfserr.OK)
	e.want("free twice", e.tb.FreeStateid(c41(1), ls), nfserr.BadStateid)
	// The lock-owner went with its last stateid (4.1).
	if s := e.tb.Stats(); s.LockOwners != 0 || s.LockStateids != 0 || s.Opens != 1 {
		t.Errorf("stats %+v", s)
	}
	// Revoked state is freed by FREE_STATEID.
	e.tb.RevokeClient(1, nfserr.AdminRevoked)
	if e.tb.Revoked(1) != 1 || !e.tb.HasState(1) {
		t.Errorf("revoked %d", e.tb.Revoked(1))
	}
	e.want("use revoked", statusOf(e.tb.TestStateid(c41(1), []Stateid{os})[0]), nfserr.AdminRevoked)
	e.want("free revoked", e.tb.FreeStateid(c41(1), os), nfserr.OK)
	if e.tb.Revoked(1) != 0 || e.tb.HasState(1) || len(e.m.Shares()) != 0 {
		t.Errorf("after free: revoked %d HasState %v shares %v", e.tb.Revoked(1), e.tb.HasState(1), e.m.Shares())
	}
}

func statusOf(s nfserr.Status) error {
	if s == nfserr.OK {
		return nil
	}
	return s
}

// TestReleaseLockOwner: RELEASE_LOCKOWNER (RFC 7530 section 16.37).
func TestReleaseLockOwner(t *testing.T) {
	e := newEnv(t, Limits{})
	os := e.open40(1, "o", 1, fA, ShareBoth, 0)
	l, err := e.lockNew(c40(1), fA, WriteLT, 0, 1, os, 3, "l", 0)
	e.want("lock", err, nfserr.OK)
	e.want("release with locks", e.tb.ReleaseLockOwner(1, []byte("l")), nfserr.LocksHeld)
	_, err = e.locku(c40(1), fA, 1, l.Stateid, 0, 1)
	e.want("locku", err, nfserr.OK)
	e.want("release", e.tb.ReleaseLockOwner(1, []byte("l")), nfserr.OK)
	e.want("release unknown", e.tb.ReleaseLockOwner(1, []byte("zz")), nfserr.OK)
	_, err = e.tb.CheckIO(c40(0), fA, l.Stateid, ShareRead)
	e.want("lock stateid after release", err, nfserr.BadStateid)
	// The lock-owner is new again: any seqid starts it.
	_, err = e.lockNew(c40(1), fA, WriteLT, 0, 1, os, 4, "l", 77)
	e.want("lock after release", err, nfserr.OK)
}

// TestLimits: owners and stateids are bounded; idle owners are reaped.
func TestLimits(t *testing.T) {
	e := newEnv(t, Limits{MaxOwnersPerClient: 2, MaxStateidsPerClient: 3, MaxReply: 8})
	e.mustOpen(c41(1), "a", 0, fA, ShareRead, 0)
	e.mustOpen(c41(1), "b", 0, fA, ShareRead, 0)
	_, err := e.open(c41(1), "c", 0, fA, ShareRead, 0, false)
	e.want("third owner (4.1)", err, nfserr.Delay)
	e.mustOpen(c41(1), "a", 0, fB, ShareRead, 0)
	_, err = e.open(c41(1), "a", 0, fC, ShareRead, 0, false)
	e.want("fourth stateid (4.1)", err, nfserr.Delay)
	// Another client has its own limits.
	e.open40(2, "a", 1, fA, ShareRead, 0)
	s := e.open40(2, "b", 1, fA, ShareRead, 0)
	_, err = e.open(c40(2), "c", 1, fA, ShareRead, 0, false)
	e.want("third owner (4.0)", err, nfserr.Resource)
	// Once b's open is closed, b is idle and reaped for c.
	_, err = e.close(c40(2), fA, 3, s)
	e.want("close", err, nfserr.OK)
	e.mustOpen(c40(2), "c", 1, fA, ShareRead, 0)
	if st := e.tb.Stats(); st.OpenOwners != 4 || st.Opens != 5 {
		t.Errorf("stats %+v", st)
	}
	// A reply longer than MaxReply is not cached.
	tx, err := e.tb.BeginOpen(c40(2), []byte("a"), 3)
	e.want("begin", err, nfserr.OK)
	tx.Done(nfserr.Noent, []byte("0123456789"))
	_, err = e.tb.BeginOpen(c40(2), []byte("a"), 3)
	e.want("replay of an uncached reply", err, nfserr.Serverfault)
	// Owner length.
	_, err = e.tb.BeginOpen(c41(1), make([]byte, MaxOwnerLen+1), 0)
	e.want("long owner", err, nfserr.Inval)
	// Table-wide limits.
	e = newEnv(t, Limits{MaxOwners: 1, MaxStateids: 1})
	e.mustOpen(c41(1), "a", 0, fA, ShareRead, 0)
	_, err = e.open(c41(2), "b", 0, fA, ShareRead, 0, false)
	e.want("table owners", err, nfserr.Delay)
	_, err = e.open(c41(1), "a", 0, fB, ShareRead, 0, false)
	e.want("table stateids", err, nfserr.Delay)
}

// TestReachable: the unions of subsets of the OPENs' pairs.
func TestReachable(t *testing.T) {
	used := uint16(1<<pair(ShareRead, 0) | 1<<pair(ShareWrite, ShareWrite))
	for _, c := range []struct {
		a, d uint8
		ok   bool
	}{
		{ShareRead, 0, true}, {ShareWrite, ShareWrite, true}, {ShareBoth, ShareWrite, true},
		{ShareBoth, 0, false}, {ShareWrite, 0, false}, {ShareRead, ShareWrite, false},
	} {
		if reachable(used, pair(c.a, c.d)) != c.ok {
			t.Errorf("reachable %d/%d != %v", c.a, c.d, c.ok)
		}
	}
	if got := subsets(used, pair(ShareRead, ShareWrite)); got != 1<<pair(ShareRead, 0) {
		t.Errorf("subsets = %b", got)
	}
}

// TestRevoke: revoked state loses its shares and locks; its stateids
// answer NFS4ERR_ADMIN_REVOKED until freed or replaced.
func TestRevoke(t *testing.T) {
	e := newEnv(t, Limits{})
	os := e.mustOpen(c41(1), "o", 0, fC, ShareBoth, ShareWrite).Stateid
	l, err := e.lockNew(c41(1), fC, WriteLT, 0, 10, os, 0, "l", 0)
	e.want("lock", err, nfserr.OK)
	keep := e.mustOpen(c41(1), "o", 0, fA, ShareRead, 0).Stateid
	if id, ok := e.tb.ClientOf(l.Stateid); !ok || id != 1 {
		t.Errorf("ClientOf = %d, %v", id, ok)
	}
	if _, ok := e.tb.ClientOf(AnonymousStateid); ok {
		t.Error("ClientOf special")
	}
	if n := e.tb.RevokeExport(2); n != 2 {
		t.Errorf("RevokeExport = %d, want 2", n)
	}
	if n := e.tb.Revoked(1); n != 2 {
		t.Errorf("Revoked = %d", n)
	}
	_, err = e.tb.CheckIO(c41(1), fC, l.Stateid, ShareWrite)
	e.want("lock stateid", err, nfserr.AdminRevoked)
	_, err = e.tb.CheckIO(c41(1), fA, keep, ShareRead)
	e.want("other export", err, nfserr.OK)
	o2 := e.mustOpen(c41(2), "p", 0, fC, ShareWrite, 0).Stateid
	_, err = e.lockNew(c41(2), fC, WriteLT, 5, 1, o2, 0, "m", 0)
	e.want("lock of another client", err, nfserr.OK)
	_, err = e.locku(c41(1), fC, 0, l.Stateid, 0, 10)
	e.want("locku revoked", err, nfserr.AdminRevoked)
	_, err = e.close(c41(1), fC, 0, os)
	e.want("close revoked", err, nfserr.AdminRevoked)
	e.want("free revoked lock", e.tb.FreeStateid(c41(1), l.Stateid), nfserr.OK)
	if n := e.tb.Revoked(1); n != 1 {
		t.Errorf("Revoked after free = %d", n)
	}
	// Opening again replaces the revoked open.
	r := e.mustOpen(c41(1), "o", 0, fC, ShareRead, 0)
	if r.Stateid.Other == os.Other || r.Stateid.Seqid != 1 || r.Upgrade {
		t.Errorf("reopen %+v", r)
	}
	if n := e.tb.Revoked(1); n != 0 {
		t.Errorf("Revoked after reopen = %d", n)
	}
	if got := e.m.Shares(); len(got) != 3 {
		t.Errorf("shares %v", got)
	}
}

// TestManagerLimit: the lock.Manager's MaxLocks (ENOLCK) is
// NFS4ERR_RESOURCE in 4.0 and NFS4ERR_DELAY in 4.1, changing nothing.
func TestManagerLimit(t *testing.T) {
	m := lock.New(lock.Config{MaxLocks: 3})
	e := &env{t: t, tb: New(m, testEpoch, Limits{}), m: m}
	os := e.mustOpen(c41(1), "o", 0, fA, ShareBoth, 0).Stateid // 1 share
	l, err := e.lockNew(c41(1), fA, WriteLT, 0, 10, os, 0, "l", 0)
	e.want("lock", err, nfserr.OK) // 2
	s, err := e.locku(c41(1), fA, 0, l.Stateid, 2, 2)
	e.want("split", err, nfserr.OK) // 3
	_, err = e.lockOld(c41(1), fA, WriteLT, 20, 1, s, 0)
	e.want("fourth", err, nfserr.Delay)
	_, err = e.locku(c41(1), fA, 0, s, 6, 1)
	e.want("split beyond the limit", err, nfserr.Delay)
	if got := e.held(1, "l", fA); !slices.Equal(got, []lock.Range{{Start: 0, End: 1}, {Start: 4, End: 9}}) {
		t.Errorf("held %v", got)
	}
	_, err = e.open(c41(1), "o", 0, fB, ShareRead, 0, false)
	e.want("share beyond the limit", err, nfserr.Delay)
	e.tb.ReleaseClient(1)
	o40 := e.open40(2, "o", 1, fA, ShareBoth, 0)
	l40, err := e.lockNew(c40(2), fA, WriteLT, 0, 10, o40, 3, "l", 0)
	e.want("lock 4.0", err, nfserr.OK)
	_, err = e.locku(c40(2), fA, 1, l40.Stateid, 2, 2)
	e.want("split 4.0", err, nfserr.OK)
	_, err = e.locku(c40(2), fA, 2, withSeqid(l40.Stateid, 2), 6, 1)
	e.want("split beyond the limit 4.0", err, nfserr.Resource)
	// RESOURCE does not consume the seqid.
	_, err = e.locku(c40(2), fA, 2, withSeqid(l40.Stateid, 2), 0, all)
	e.want("unlock all", err, nfserr.OK)
}

// TestAllocOther: Others handed out for stateids kept elsewhere are
// unique, of the epoch, and unknown to the Table.
func TestAllocOther(t *testing.T) {
	e := newEnv(t, Limits{})
	a, b := e.tb.AllocOther(), e.tb.AllocOther()
	s := e.mustOpen(c41(1), "o", 0, fA, ShareRead, 0).Stateid
	if a == b || a == s.Other || b == s.Other || e.tb.Epoch() != testEpoch {
		t.Fatalf("AllocOther %x %x, open %x", a, b, s.Other)
	}
	if ep, _ := splitOther(a); ep != testEpoch {
		t.Errorf("epoch %d", ep)
	}
	_, err := e.tb.CheckIO(c41(1), fA, Stateid{Seqid: 1, Other: a}, ShareRead)
	e.want("foreign stateid", err, nfserr.BadStateid)
}
