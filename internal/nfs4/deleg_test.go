package nfs4_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// cbClient serves a test client's back channel: it records the
// CB_RECALLs it gets, and answers CB_SEQUENCE and CB_RECALL with NFS4_OK.
type cbClient struct {
	mu       sync.Mutex
	refuse   bool // answer CB_NULL with PROC_UNAVAIL
	nulls    int
	recalled []c4.Stateid
	seqs     []uint32
	creds    []uint32
	got      chan c4.Stateid
}

func newCB() *cbClient { return &cbClient{got: make(chan c4.Stateid, 16)} }

func (cb *cbClient) ServeRPC(_ context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	if call.Prog != c4.CbProgram || call.Vers != 1 {
		return oncrpc.ErrProcUnavail
	}
	if call.Proc == 0 {
		cb.mu.Lock()
		defer cb.mu.Unlock()
		cb.nulls++
		if cb.refuse {
			return oncrpc.ErrProcUnavail
		}
		return nil
	}
	r := xdr.NewReader(call.Args)
	tag := r.Opaque(64)
	r.Uint32() // minorversion
	r.Uint32() // callback_ident
	n := r.Uint32()
	w.Uint32(0) // NFS4_OK
	w.Opaque(tag)
	w.Uint32(n)
	for range n {
		switch op := r.Uint32(); op {
		case 11: // CB_SEQUENCE
			sid := r.Fixed(16)
			seq, slot, hi := r.Uint32(), r.Uint32(), r.Uint32()
			r.Bool()
			if r.Uint32() != 0 {
				return oncrpc.ErrGarbageArgs
			}
			cb.mu.Lock()
			cb.seqs = append(cb.seqs, seq)
			cb.creds = append(cb.creds, call.CredFlavor)
			cb.mu.Unlock()
			w.Uint32(op)
			w.Uint32(0)
			w.Fixed(sid)
			w.Uint32(seq)
			w.Uint32(slot)
			w.Uint32(hi)
			w.Uint32(hi)
		case 4: // CB_RECALL
			var s c4.Stateid
			s.Seqid = r.Uint32()
			copy(s.Other[:], r.Fixed(12))
			r.Bool()
			r.Opaque(128)
			cb.mu.Lock()
			cb.recalled = append(cb.recalled, s)
			cb.mu.Unlock()
			cb.got <- s
			w.Uint32(op)
			w.Uint32(0)
		default:
			return oncrpc.ErrGarbageArgs
		}
	}
	if r.Err() != nil {
		return oncrpc.ErrGarbageArgs
	}
	return nil
}

func (cb *cbClient) wait(t *testing.T) c4.Stateid {
	t.Helper()
	select {
	case s := <-cb.got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no CB_RECALL")
	}
	return c4.Stateid{}
}

func (ts *testServer) backSession(t *testing.T, owner string, cb *cbClient) *c4.Session {
	t.Helper()
	s, err := ts.dial(t).NewSessionBack(ctx(t), 1, []byte(owner), verf(owner), cb)
	if err != nil {
		t.Fatal(err)
	}
	if s.Flags&c4.CREATE_SESSION4_FLAG_CONN_BACK_CHAN == 0 {
		t.Fatalf("back channel not accepted: session flags %#x", s.Flags)
	}
	return s
}

// openDeleg opens name in dir for reading on s and returns the file's
// handle, the open stateid and the delegation.
func openDeleg(t *testing.T, s *c4.Session, dir []byte, owner, name string, create bool) ([]byte, c4.Stateid, c4.Delegation) {
	t.Helper()
	o := c4.StateOwner{Clientid: s.Clientid, Owner: []byte(owner)}
	op := c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_NONE, o, name)
	if create {
		op = c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_READ, c4.OPEN4_SHARE_DENY_NONE, o, name, c4.UNCHECKED4, c4.NewFattr())
	}
	res := mustOK(t, do(t, s, c4.Putfh(dir), op, c4.Getfh()))
	or, err := res.Ops[2].Open()
	if err != nil {
		t.Fatal(err)
	}
	return fhOf(t, res.Ops[3]), or.Stateid, or.Delegation
}

// TestReadDelegation: a 4.1 client with a back channel gets a read
// delegation on a read-only open; another client's write open is
// NFS4ERR_DELAY while the server recalls it (CB_SEQUENCE + CB_RECALL on
// the holder's connection); after DELEGRETURN the open succeeds. A
// client without a back channel gets none; a write with the delegation
// stateid is NFS4ERR_OPENMODE; an NFSv3 writer (ConflictsWith) waits too.
func TestReadDelegation(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	cb := newCB()
	a := ts.backSession(t, "deleg-a", cb)
	dir := rootFH(t, a.C, 1, a, "a")
	fh, _, d := openDeleg(t, a, dir, "oa", "f", true)
	if d.Type != c4.OPEN_DELEGATE_READ || d.Recall {
		t.Fatalf("delegation %+v, want a read delegation", d)
	}
	// The holder reads with it; a write with it is NFS4ERR_OPENMODE.
	mustOK(t, do(t, a, c4.Putfh(fh), c4.Read(d.Stateid, 0, 10)))
	wantStatuses(t, do(t, a, c4.Putfh(fh), c4.Write(d.Stateid, 0, c4.UNSTABLE4, []byte("x"))),
		c4.NFS4ERR_OPENMODE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_WRITE, c4.NFS4ERR_OPENMODE))

	// A client without a back channel gets no delegation.
	b := ts.session(t, "deleg-b")
	_, _, bd := openDeleg(t, b, dir, "ob", "f", false)
	if bd.Type != c4.OPEN_DELEGATE_NONE {
		t.Errorf("client without back channel: delegation %+v", bd)
	}
	// b's write open must wait for a's delegation.
	ob := c4.StateOwner{Clientid: b.Clientid, Owner: []byte("ob2")}
	wopen := c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_WRITE, c4.OPEN4_SHARE_DENY_NONE, ob, "f")
	wantStatuses(t, do(t, b, c4.Putfh(dir), wopen), c4.NFS4ERR_DELAY,
		ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_DELAY))
	if got := cb.wait(t); got != d.Stateid {
		t.Errorf("recalled %+v, want %+v", got, d.Stateid)
	}
	file := ts.fileID(t, fh)
	if !ts.srv.ConflictsWith(file, 0) {
		t.Error("an NFSv3 writer does not wait for the delegation")
	}
	// The holder may still open under it before returning it.
	mustOK(t, do(t, a, c4.Putfh(fh), c4.Open(c4.OpenArgs{ShareAccess: c4.OPEN4_SHARE_ACCESS_READ,
		Owner: c4.StateOwner{Clientid: a.Clientid, Owner: []byte("oa3")}, Claim: c4.CLAIM_DELEG_CUR_FH, DelegStateid: d.Stateid})))
	mustOK(t, do(t, a, c4.Putfh(fh), c4.Delegreturn(d.Stateid)))
	mustOK(t, do(t, b, c4.Putfh(dir), wopen))
	if ts.srv.ConflictsWith(file, 0) {
		t.Error("conflict after DELEGRETURN")
	}
	wantStatuses(t, do(t, a, c4.Putfh(fh), c4.Delegreturn(d.Stateid)), c4.NFS4ERR_BAD_STATEID,
		ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_DELEGRETURN, c4.NFS4ERR_BAD_STATEID))
	// No delegation while another client has the file open for writing.
	_, _, d2 := openDeleg(t, a, dir, "oa", "f", false)
	if d2.Type == c4.OPEN_DELEGATE_READ {
		t.Error("read delegation granted beside another client's write open")
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.seqs) != 1 || cb.seqs[0] != 1 || cb.creds[0] != oncrpc.AuthNone {
		t.Errorf("CB_SEQUENCE ids %v (creds %v), want [1] with AUTH_NONE", cb.seqs, cb.creds)
	}
	if cb.nulls != 1 {
		t.Errorf("%d CB_NULL probes, want 1 (after CREATE_SESSION)", cb.nulls)
	}
}

// TestBackChannelProbe: a back channel that does not answer CB_NULL is
// down: SEQUENCE reports SEQ4_STATUS_CB_PATH_DOWN and OPEN grants no
// delegation; once the client answers and binds the connection again
// (BIND_CONN_TO_SESSION), the path is up again.
func TestBackChannelProbe(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	cb := newCB()
	cb.refuse = true
	a := ts.backSession(t, "probe-a", cb)
	deadline := time.Now().Add(10 * time.Second)
	for {
		seq, err := do(t, a).Ops[0].Sequence()
		if err != nil {
			t.Fatal(err)
		}
		if seq.StatusFlags&c4.SEQ4_STATUS_CB_PATH_DOWN != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CB_PATH_DOWN after a refused CB_NULL (flags %#x)", seq.StatusFlags)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dir := rootFH(t, a.C, 1, a, "a")
	if _, _, d := openDeleg(t, a, dir, "oa", "p", true); d.Type == c4.OPEN_DELEGATE_READ {
		t.Error("delegation granted over a back channel that failed its probe")
	}
	cb.mu.Lock()
	cb.refuse = false
	cb.mu.Unlock()
	var w xdr.Writer
	w.Fixed(a.ID[:])
	w.Uint32(c4.CDFC4_BACK_OR_BOTH)
	w.Bool(false)
	mustOK(t, call(t, a.C, 1, c4.Raw(c4.OP_BIND_CONN_TO_SESSION, w.B)))
	for {
		seq, _ := do(t, a).Ops[0].Sequence()
		if seq.StatusFlags&c4.SEQ4_STATUS_CB_PATH_DOWN == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("CB_PATH_DOWN after a successful probe")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, d := openDeleg(t, a, dir, "oa2", "q", true); d.Type != c4.OPEN_DELEGATE_READ {
		t.Errorf("delegation %+v after the path came up", d)
	}
}

// TestDelegationRevoked: a delegation not returned within a lease of its
// recall is revoked: the conflicting open succeeds, the holder's
// SEQUENCE reports SEQ4_STATUS_RECALLABLE_STATE_REVOKED, the stateid is
// NFS4ERR_DELEG_REVOKED for READ and TEST_STATEID until FREE_STATEID.
func TestDelegationRevoked(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{Lease: 2 * time.Second})
	cb := newCB()
	a := ts.backSession(t, "revoke-a", cb)
	dir := rootFH(t, a.C, 1, a, "a")
	fh, _, d := openDeleg(t, a, dir, "oa", "g", true)
	if d.Type != c4.OPEN_DELEGATE_READ {
		t.Fatalf("delegation %+v", d)
	}
	b := ts.session(t, "revoke-b")
	ob := c4.StateOwner{Clientid: b.Clientid, Owner: []byte("ob")}
	wopen := c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_WRITE, c4.OPEN4_SHARE_DENY_NONE, ob, "g")
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := do(t, b, c4.Putfh(dir), wopen)
		if res.Status == c4.NFS4_OK {
			break
		}
		if res.Status != c4.NFS4ERR_DELAY || time.Now().After(deadline) {
			t.Fatalf("write open: %s", describe(res))
		}
		do(t, a) // a's lease stays renewed: only its delegation goes
		time.Sleep(200 * time.Millisecond)
	}
	cb.wait(t)
	res := do(t, a, c4.Putfh(fh), c4.Read(d.Stateid, 0, 1))
	if res.Status != c4.NFS4ERR_DELEG_REVOKED {
		t.Errorf("READ with the revoked delegation: %s", describe(res))
	}
	seq, err := do(t, a).Ops[0].Sequence()
	if err != nil || seq.StatusFlags&c4.SEQ4_STATUS_RECALLABLE_STATE_REVOKED == 0 {
		t.Errorf("SEQUENCE flags %#x (%v), want RECALLABLE_STATE_REVOKED", seq.StatusFlags, err)
	}
	st, err := mustOK(t, do(t, a, c4.TestStateid(d.Stateid))).Ops[1].TestStateid()
	if err != nil || len(st) != 1 || st[0] != c4.NFS4ERR_DELEG_REVOKED {
		t.Errorf("TEST_STATEID %v %v", st, err)
	}
	mustOK(t, do(t, a, c4.FreeStateid(d.Stateid)))
	seq, _ = do(t, a).Ops[0].Sequence()
	if seq.StatusFlags&c4.SEQ4_STATUS_RECALLABLE_STATE_REVOKED != 0 {
		t.Errorf("SEQUENCE flags %#x after FREE_STATEID", seq.StatusFlags)
	}
}

// fileID is the lock.FileID of a handle of the test export.
func (ts *testServer) fileID(t *testing.T, h []byte) lock.FileID {
	t.Helper()
	exp, id, err := fh.NewCodec(ts.b.key).Decode(h)
	if err != nil {
		t.Fatal(err)
	}
	return lock.FileID{Export: exp, Object: string(id)}
}
