package state

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// expireLog records OnExpire calls.
type expireLog struct {
	mu  sync.Mutex
	ids []uint64
}

func (l *expireLog) fn(id uint64) {
	l.mu.Lock()
	l.ids = append(l.ids, id)
	l.mu.Unlock()
}

func (l *expireLog) count(id uint64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.ids {
		if x == id {
			n++
		}
	}
	return n
}

func (l *expireLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}

type env struct {
	t     *testing.T
	tb    *Table
	clock *fakeClock
	exp   *expireLog
	rec   *MemoryRecovery
}

const testLease = 90 * time.Second

// newEnv returns a table with a fake clock, no grace period and no
// recovery records unless mod sets them.
func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), exp: &expireLog{}, rec: NewMemoryRecovery()}
	cfg := Config{
		Lease:    testLease,
		Grace:    -1,
		Now:      e.clock.Now,
		Boot:     7,
		OnExpire: e.exp.fn,
		Recovery: e.rec,
	}
	if mod != nil {
		mod(&cfg)
	}
	if r, ok := cfg.Recovery.(*MemoryRecovery); ok {
		e.rec = r
	}
	tb, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.tb = tb
	return e
}

func wantErr(t *testing.T, what string, err error, want nfserr.Status) {
	t.Helper()
	if want == nfserr.OK {
		if err != nil {
			t.Fatalf("%s: got %v, want NFS4_OK", what, err)
		}
		return
	}
	var st nfserr.Status
	if !errors.As(err, &st) || st != want {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func verf(b byte) Verifier { return Verifier{b, b, b, b, b, b, b, b} }

var (
	foreAttrs = ChannelAttrs{MaxRequestSize: 1 << 20, MaxResponseSize: 1 << 20, MaxResponseSizeCached: 2048, MaxOperations: 16, MaxRequests: 8}
	backAttrs = ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 1}
)

// setclientid runs SETCLIENTID and SETCLIENTID_CONFIRM.
func (e *env) client40(owner, principal string, v byte) uint64 {
	e.t.Helper()
	r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte(owner), Verifier: verf(v), Principal: principal})
	if err != nil {
		e.t.Fatalf("SETCLIENTID %s: %v", owner, err)
	}
	if _, err := e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, principal); err != nil {
		e.t.Fatalf("SETCLIENTID_CONFIRM %s: %v", owner, err)
	}
	return r.ClientID
}

// exchange runs EXCHANGE_ID.
func (e *env) exchange(owner, principal string, v byte) ExchangeIDResult {
	e.t.Helper()
	r, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte(owner), Verifier: verf(v), Principal: principal, Minor: 1})
	if err != nil {
		e.t.Fatalf("EXCHANGE_ID %s: %v", owner, err)
	}
	return r
}

// session creates a session for an EXCHANGE_ID result.
func (e *env) session(r ExchangeIDResult, principal string) SessionID {
	e.t.Helper()
	cs, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID,
		Fore: foreAttrs, Back: backAttrs, Principal: principal, Conn: 1})
	if err != nil {
		e.t.Fatalf("CREATE_SESSION %x: %v", r.ClientID, err)
	}
	return cs.SessionID
}

// client41 establishes a confirmed NFSv4.1 client with one session.
func (e *env) client41(owner, principal string, v byte) (uint64, SessionID) {
	e.t.Helper()
	r := e.exchange(owner, principal, v)
	return r.ClientID, e.session(r, principal)
}

// seq runs a SEQUENCE and its Done.
func (e *env) seq(sid SessionID, slot, seqid uint32) {
	e.t.Helper()
	q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: slot, SequenceID: seqid, Conn: 1})
	if err != nil {
		e.t.Fatalf("SEQUENCE slot %d seq %d: %v", slot, seqid, err)
	}
	if err := q.Done(nil); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) alive(id uint64) bool {
	_, err := e.tb.Client(id)
	return err == nil
}

func (e *env) info(id uint64) ClientInfo {
	e.t.Helper()
	ci, err := e.tb.Client(id)
	if err != nil {
		e.t.Fatalf("client %x: %v", id, err)
	}
	return ci
}
