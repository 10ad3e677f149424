package state

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

func graceEnv(t *testing.T, owners ...string) *env {
	rec := NewMemoryRecovery()
	for _, o := range owners {
		rec.Add([]byte(o))
	}
	return newEnv(t, func(c *Config) {
		c.Grace = time.Minute
		c.Recovery = rec
	})
}

func TestGraceReclaim(t *testing.T) {
	e := graceEnv(t, "a", "b40")
	if !e.tb.InGrace() {
		t.Fatal("not in grace")
	}
	a, _ := e.client41("a", "p", 1)
	n, _ := e.client41("new", "p", 1)
	b40 := e.client40("b40", "p", 1)
	n40 := e.client40("new40", "p", 1)
	tests := []struct {
		name       string
		id         uint64
		reclaim    nfserr.Status
		nonReclaim nfserr.Status
	}{
		{"recoverable 4.1", a, nfserr.OK, nfserr.Grace},
		{"new 4.1", n, nfserr.ReclaimBad, nfserr.Grace},
		{"recoverable 4.0", b40, nfserr.OK, nfserr.Grace},
		{"new 4.0", n40, nfserr.ReclaimBad, nfserr.Grace},
		{"unknown", 7<<32 | 999, nfserr.StaleClientid, nfserr.StaleClientid},
		{"earlier instance", 1<<32 | 1, nfserr.StaleClientid, nfserr.StaleClientid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "CheckReclaim", e.tb.CheckReclaim(tc.id), tc.reclaim)
			wantErr(t, "CheckNonReclaim", e.tb.CheckNonReclaim(tc.id), tc.nonReclaim)
			if e.tb.MayReclaim(tc.id) != (tc.reclaim == nfserr.OK) {
				t.Error("MayReclaim disagrees with CheckReclaim")
			}
		})
	}
	// RECLAIM_COMPLETE: no more reclaims for a, and a second one fails.
	wantErr(t, "RECLAIM_COMPLETE one fs", e.tb.ReclaimComplete(a, true), nfserr.OK)
	wantErr(t, "CheckReclaim after one-fs RECLAIM_COMPLETE", e.tb.CheckReclaim(a), nfserr.OK)
	wantErr(t, "RECLAIM_COMPLETE", e.tb.ReclaimComplete(a, false), nfserr.OK)
	wantErr(t, "second RECLAIM_COMPLETE", e.tb.ReclaimComplete(a, false), nfserr.CompleteAlready)
	wantErr(t, "CheckReclaim after RECLAIM_COMPLETE", e.tb.CheckReclaim(a), nfserr.NoGrace)
	wantErr(t, "RECLAIM_COMPLETE of a 4.0 client", e.tb.ReclaimComplete(b40, false), nfserr.StaleClientid)
	wantErr(t, "RECLAIM_COMPLETE unknown", e.tb.ReclaimComplete(7<<32|999, false), nfserr.StaleClientid)
	// b40 (NFSv4.0) has no RECLAIM_COMPLETE: grace goes on to its deadline.
	if !e.tb.InGrace() {
		t.Fatal("grace ended with a recoverable 4.0 client")
	}
	e.clock.Add(time.Minute - time.Second)
	if !e.tb.InGrace() {
		t.Fatal("grace ended before its deadline")
	}
	e.clock.Add(time.Second)
	if e.tb.InGrace() {
		t.Fatal("grace goes on past its deadline")
	}
	wantErr(t, "CheckReclaim after grace", e.tb.CheckReclaim(b40), nfserr.NoGrace)
	wantErr(t, "CheckNonReclaim 4.0 after grace", e.tb.CheckNonReclaim(b40), nfserr.OK)
	wantErr(t, "CheckNonReclaim 4.1 after RECLAIM_COMPLETE", e.tb.CheckNonReclaim(a), nfserr.OK)
	// A 4.1 client without RECLAIM_COMPLETE may not get new state
	// (RFC 8881 section 18.51.3).
	wantErr(t, "CheckNonReclaim 4.1 before RECLAIM_COMPLETE", e.tb.CheckNonReclaim(n), nfserr.Grace)
	wantErr(t, "RECLAIM_COMPLETE after grace", e.tb.ReclaimComplete(n, false), nfserr.OK)
	wantErr(t, "CheckNonReclaim 4.1 after late RECLAIM_COMPLETE", e.tb.CheckNonReclaim(n), nfserr.OK)
}

func TestGraceEndsEarly(t *testing.T) {
	e := graceEnv(t, "a", "b", "gone")
	a, _ := e.client41("a", "p", 1)
	b, _ := e.client41("b", "p", 1)
	// A new client's RECLAIM_COMPLETE does not count.
	n, _ := e.client41("n", "p", 1)
	wantErr(t, "RECLAIM_COMPLETE n", e.tb.ReclaimComplete(n, false), nfserr.OK)
	wantErr(t, "RECLAIM_COMPLETE a", e.tb.ReclaimComplete(a, false), nfserr.OK)
	wantErr(t, "RECLAIM_COMPLETE b", e.tb.ReclaimComplete(b, false), nfserr.OK)
	if !e.tb.InGrace() {
		t.Fatal("grace ended while \"gone\" may still reclaim")
	}
	// "gone" comes back as a new incarnation and completes.
	g, _ := e.client41("gone", "p", 1)
	wantErr(t, "RECLAIM_COMPLETE gone", e.tb.ReclaimComplete(g, false), nfserr.OK)
	if e.tb.InGrace() || e.tb.Stats().InGrace {
		t.Fatal("grace goes on after every recoverable client completed")
	}
	// Every client that completed is recorded for the next restart.
	for _, o := range []string{"a", "b", "gone", "n"} {
		if !e.rec.Has([]byte(o)) {
			t.Errorf("owner %q not recorded", o)
		}
	}
}

func TestGraceDeadlineDropsRecords(t *testing.T) {
	e := graceEnv(t, "back", "never", "back40")
	back, _ := e.client41("back", "p", 1)
	b40 := e.client40("back40", "p", 1)
	wantErr(t, "RecordClient", e.tb.RecordClient(b40), nfserr.OK) // it reclaimed an open
	wantErr(t, "RECLAIM_COMPLETE", e.tb.ReclaimComplete(back, false), nfserr.OK)
	e.clock.Add(time.Minute)
	e.tb.Reap(e.clock.Now())
	if e.tb.InGrace() {
		t.Fatal("in grace after the deadline")
	}
	for o, want := range map[string]bool{"back": true, "back40": true, "never": false} {
		if e.rec.Has([]byte(o)) != want {
			t.Errorf("record of %q kept = %v, want %v", o, !want, want)
		}
	}
}

func TestNoGrace(t *testing.T) {
	// No recovery records: no grace period.
	e := newEnv(t, func(c *Config) { c.Grace = time.Minute })
	if e.tb.InGrace() {
		t.Error("in grace without recoverable clients")
	}
	// Grace disabled: records are dropped by the first Reap.
	e = newEnv(t, func(c *Config) { c.Recovery = NewMemoryRecovery([]byte("a")) })
	if e.tb.InGrace() {
		t.Error("in grace with Grace < 0")
	}
	e.tb.Reap(e.clock.Now())
	if e.rec.Has([]byte("a")) {
		t.Error("record kept without a grace period")
	}
	// Default grace: one lease.
	e = newEnv(t, func(c *Config) { c.Grace = 0; c.Recovery = NewMemoryRecovery([]byte("a")) })
	if want := e.clock.Now().Add(testLease); !e.tb.GraceEnd().Equal(want) || !e.tb.InGrace() {
		t.Errorf("grace end %v, want %v", e.tb.GraceEnd(), want)
	}
	e.tb.EndGrace()
	if e.tb.InGrace() || e.rec.Has([]byte("a")) {
		t.Error("EndGrace did not end the grace period and drop the record")
	}
}

func TestRecordClient(t *testing.T) {
	e := newEnv(t, nil)
	id := e.client40("x", "p", 1)
	id41, sid := e.client41("y", "p", 1)
	wantErr(t, "RecordClient", e.tb.RecordClient(id), nfserr.OK)
	wantErr(t, "RecordClient again", e.tb.RecordClient(id), nfserr.OK)
	wantErr(t, "RecordClient 4.1", e.tb.RecordClient(id41), nfserr.OK)
	wantErr(t, "RecordClient unknown", e.tb.RecordClient(7<<32|999), nfserr.StaleClientid)
	r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("u"), Principal: "p"})
	wantErr(t, "RecordClient unconfirmed", e.tb.RecordClient(r.ClientID), nfserr.StaleClientid)
	if !e.rec.Has([]byte("x")) || !e.rec.Has([]byte("y")) {
		t.Fatal("records not written")
	}
	// Client reboot: the old record goes with the old client, the new
	// client records again.
	r, _ = e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(2), Principal: "p"})
	if _, err := e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, "p"); err != nil {
		t.Fatal(err)
	}
	if e.rec.Has([]byte("x")) {
		t.Error("record of the replaced client kept")
	}
	wantErr(t, "RecordClient new incarnation", e.tb.RecordClient(r.ClientID), nfserr.OK)
	if !e.rec.Has([]byte("x")) {
		t.Error("new incarnation not recorded")
	}
	// DESTROY_CLIENTID removes the record.
	e.tb.DestroySession(sid, nil)
	wantErr(t, "DESTROY_CLIENTID", e.tb.DestroyClientID(id41), nfserr.OK)
	if e.rec.Has([]byte("y")) {
		t.Error("record kept after DESTROY_CLIENTID")
	}
	// Expiry removes the record.
	e.clock.Add(testLease + 1)
	e.tb.Reap(e.clock.Now())
	if e.rec.Has([]byte("x")) {
		t.Error("record kept after expiry")
	}
	// A failing store: the error is returned, nothing is recorded.
	z := e.client40("z", "p", 1)
	boom := errors.New("disk on fire")
	e.rec.Fail = boom
	if err := e.tb.RecordClient(z); !errors.Is(err, boom) {
		t.Fatalf("RecordClient with a failing store: %v", err)
	}
	e.rec.Fail = nil
	wantErr(t, "RecordClient after the failure", e.tb.RecordClient(z), nfserr.OK)
	if !e.rec.Has([]byte("z")) {
		t.Error("record not written after the store recovered")
	}
}

// TestRestart simulates a restart of the server: a new Table on the same
// recovery store with another boot epoch.
func TestRestart(t *testing.T) {
	rec := NewMemoryRecovery()
	clock := newClock()
	cfg := Config{Now: clock.Now, Boot: 100, Recovery: rec, Grace: time.Minute}
	t1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := t1.ExchangeID(ExchangeIDArgs{OwnerID: []byte("c41"), Principal: "p", Minor: 1})
	cs, err := t1.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID, Fore: foreAttrs, Back: backAttrs, Principal: "p"})
	if err != nil {
		t.Fatal(err)
	}
	t1.SetHasState(r.ClientID, true)
	t1.RecordClient(r.ClientID)
	s, _ := t1.SetClientID(SetClientIDArgs{ID: []byte("c40"), Principal: "p"})
	t1.SetClientIDConfirm(s.ClientID, s.Confirm, "p")
	t1.RecordClient(s.ClientID)

	cfg.Boot = 101
	t2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !t2.InGrace() {
		t.Fatal("restarted table not in grace")
	}
	// Everything of the earlier instance is stale.
	wantErr(t, "RENEW", t2.Renew(s.ClientID), nfserr.StaleClientid)
	_, err = t2.SetClientIDConfirm(s.ClientID, s.Confirm, "p")
	wantErr(t, "SETCLIENTID_CONFIRM", err, nfserr.StaleClientid)
	_, err = t2.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID + 1, Fore: foreAttrs, Back: backAttrs, Principal: "p"})
	wantErr(t, "CREATE_SESSION", err, nfserr.StaleClientid)
	wantErr(t, "DESTROY_CLIENTID", t2.DestroyClientID(r.ClientID), nfserr.StaleClientid)
	_, err = t2.Sequence(SequenceArgs{SessionID: cs.SessionID, SlotID: 0, SequenceID: 1})
	wantErr(t, "SEQUENCE", err, nfserr.Badsession)
	if binary.BigEndian.Uint32(cs.SessionID[:4]) != 100 {
		t.Errorf("session ID %x lacks the epoch", cs.SessionID)
	}
	wantErr(t, "CheckReclaim", t2.CheckReclaim(r.ClientID), nfserr.StaleClientid)
	if t2.Revoke(r.ClientID) != true {
		t.Error("Revoke of a stale client ID reported a conflict")
	}
	// The clients come back and may reclaim.
	r2, _ := t2.ExchangeID(ExchangeIDArgs{OwnerID: []byte("c41"), Principal: "p", Minor: 1})
	if r2.ClientID>>32 != 101 || r2.Confirmed {
		t.Fatalf("EXCHANGE_ID after restart: %+v", r2)
	}
	if _, err := t2.CreateSession(CreateSessionArgs{ClientID: r2.ClientID, SequenceID: r2.SequenceID, Fore: foreAttrs, Back: backAttrs, Principal: "p"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CheckReclaim 4.1", t2.CheckReclaim(r2.ClientID), nfserr.OK)
	s2, _ := t2.SetClientID(SetClientIDArgs{ID: []byte("c40"), Principal: "p"})
	t2.SetClientIDConfirm(s2.ClientID, s2.Confirm, "p")
	wantErr(t, "CheckReclaim 4.0", t2.CheckReclaim(s2.ClientID), nfserr.OK)
}

func TestEpochRandom(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Epoch() == 0 || a.Epoch() == b.Epoch() {
		t.Errorf("epochs %d %d", a.Epoch(), b.Epoch())
	}
	if a.LeaseTime() != DefaultLease {
		t.Errorf("lease %v", a.LeaseTime())
	}
}
