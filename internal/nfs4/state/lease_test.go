package state

import (
	"slices"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

func TestLeaseExpiryWithoutState(t *testing.T) {
	e := newEnv(t, nil)
	id, sid := e.client41("x", "p", 1)
	id40 := e.client40("y", "p", 1)
	e.clock.Add(testLease)
	if got := e.tb.Reap(e.clock.Now()); len(got) != 0 {
		t.Fatalf("Reap at exactly one lease destroyed %x", got)
	}
	e.clock.Add(time.Second)
	got := e.tb.Reap(e.clock.Now())
	slices.Sort(got)
	want := []uint64{id, id40}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Reap = %x, want %x", got, want)
	}
	if e.exp.count(id) != 1 || e.exp.count(id40) != 1 {
		t.Errorf("OnExpire calls %d %d, want 1 1", e.exp.count(id), e.exp.count(id40))
	}
	_, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1})
	wantErr(t, "SEQUENCE of an expired client", err, nfserr.Badsession)
	wantErr(t, "RENEW of an expired client", e.tb.Renew(id40), nfserr.StaleClientid)
	if got := e.tb.Reap(e.clock.Now().Add(time.Hour)); len(got) != 0 || e.exp.total() != 2 {
		t.Errorf("second Reap: %x, %d OnExpire calls", got, e.exp.total())
	}
}

func TestCourtesyClient(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CourtesyLimit = time.Hour })
	id, sid := e.client41("x", "p", 1)
	id40 := e.client40("y", "p", 1)
	for _, c := range []uint64{id, id40} {
		if err := e.tb.SetHasState(c, true); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(testLease + time.Minute)
	if got := e.tb.Reap(e.clock.Now()); len(got) != 0 {
		t.Fatalf("Reap destroyed courtesy clients %x", got)
	}
	if st := e.tb.Stats(); st.Courtesy != 2 || st.Confirmed != 2 {
		t.Fatalf("stats %+v, want 2 courtesy clients", st)
	}
	if !e.info(id).Courtesy {
		t.Fatal("client not reported as courtesy")
	}
	// Both come back: revived, nothing released.
	e.seq(sid, 0, 1)
	wantErr(t, "RENEW of a courtesy client", e.tb.Renew(id40), nfserr.OK)
	if e.info(id).Courtesy || e.info(id40).Courtesy || e.exp.total() != 0 {
		t.Fatalf("clients not revived (%d OnExpire calls)", e.exp.total())
	}
	// Courtesy limit: the state goes CourtesyLimit after the lease ended.
	e.clock.Add(testLease + time.Hour)
	if got := e.tb.Reap(e.clock.Now()); len(got) != 0 {
		t.Fatalf("Reap at the courtesy limit destroyed %x", got)
	}
	e.clock.Add(time.Second)
	got := e.tb.Reap(e.clock.Now())
	if len(got) != 2 || e.exp.count(id) != 1 || e.exp.count(id40) != 1 {
		t.Fatalf("Reap past the courtesy limit: %x, OnExpire %d %d", got, e.exp.count(id), e.exp.count(id40))
	}
	e.tb.Reap(e.clock.Now().Add(time.Hour))
	if e.exp.total() != 2 {
		t.Errorf("OnExpire called %d times, want 2", e.exp.total())
	}
}

func TestNoCourtesy(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CourtesyLimit = -1 })
	id, _ := e.client41("x", "p", 1)
	e.tb.SetHasState(id, true)
	e.clock.Add(testLease + 1)
	if got := e.tb.Reap(e.clock.Now()); !slices.Equal(got, []uint64{id}) || e.exp.count(id) != 1 {
		t.Fatalf("Reap without courtesy: %x, OnExpire %d", got, e.exp.count(id))
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, nil)
	id, sid := e.client41("x", "p", 1)
	id40 := e.client40("y", "p", 1)
	for _, c := range []uint64{id, id40} {
		if err := e.tb.SetHasState(c, true); err != nil {
			t.Fatal(err)
		}
		if err := e.tb.RecordClient(c); err != nil {
			t.Fatal(err)
		}
	}
	if e.tb.Revoke(id) || e.tb.Revoke(id40) {
		t.Fatal("Revoke of clients with valid leases succeeded")
	}
	if !e.tb.Revoke(7<<32|999) || !e.tb.Revoke(1<<32|1) {
		t.Fatal("Revoke of unknown clients reported a conflict")
	}
	e.clock.Add(testLease + 1)
	if !e.tb.Revoke(id) || !e.tb.Revoke(id40) {
		t.Fatal("Revoke of courtesy clients failed")
	}
	if e.exp.count(id) != 1 || e.exp.count(id40) != 1 {
		t.Fatalf("OnExpire %d %d, want 1 1", e.exp.count(id), e.exp.count(id40))
	}
	if !e.tb.Revoke(id) || e.exp.count(id) != 1 {
		t.Fatal("second Revoke")
	}
	if e.rec.Has([]byte("x")) || e.rec.Has([]byte("y")) {
		t.Error("recovery records kept after revocation")
	}
	// 4.1: SEQUENCE works and reports the revocation.
	q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if q.StatusFlags != SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED {
		t.Errorf("status flags %#x, want SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED", q.StatusFlags)
	}
	q.Done(nil)
	// 4.0: NFS4ERR_EXPIRED, and no new state.
	wantErr(t, "RENEW", e.tb.Renew(id40), nfserr.Expired)
	wantErr(t, "SetHasState", e.tb.SetHasState(id40, true), nfserr.Expired)
	wantErr(t, "CheckNonReclaim", e.tb.CheckNonReclaim(id40), nfserr.Expired)
	// The 4.1 client gets state again: OnExpire is re-armed.
	wantErr(t, "SetHasState 4.1", e.tb.SetHasState(id, true), nfserr.OK)
	wantErr(t, "clear flag", e.tb.SetStatusFlags(id, 0, SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED), nfserr.OK)
	q, _ = e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 2})
	if q.StatusFlags != 0 {
		t.Errorf("status flags after clearing %#x", q.StatusFlags)
	}
	q.Done(nil)
	// The revoked 4.0 record lives one lease, then goes without a second
	// OnExpire.
	e.clock.Add(testLease / 2)
	e.tb.Reap(e.clock.Now())
	wantErr(t, "RENEW within a lease of the revocation", e.tb.Renew(id40), nfserr.Expired)
	e.clock.Add(testLease)
	got := e.tb.Reap(e.clock.Now())
	if !slices.Contains(got, id40) || e.exp.count(id40) != 1 {
		t.Fatalf("revoked record: Reap %x, OnExpire %d", got, e.exp.count(id40))
	}
	wantErr(t, "RENEW after the revoked record went", e.tb.Renew(id40), nfserr.StaleClientid)
	// The 4.1 client (courtesy with new state) expires once more.
	if !slices.Contains(got, id) {
		e.clock.Add(DefaultCourtesyLimit + time.Second)
		e.tb.Reap(e.clock.Now())
	}
	if e.exp.count(id) != 2 {
		t.Errorf("OnExpire(4.1 client) %d, want 2 (revocation, then expiry of its new state)", e.exp.count(id))
	}
}

func TestBusyClientNotReaped(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CourtesyLimit = -1 })
	id, sid := e.client41("x", "p", 1)
	e.tb.SetHasState(id, true)
	q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(10 * testLease)
	if got := e.tb.Reap(e.clock.Now()); len(got) != 0 {
		t.Fatalf("Reap destroyed a client with a request in progress")
	}
	if e.tb.Revoke(id) {
		t.Fatal("Revoke of a client with a request in progress")
	}
	q.Done(nil) // renews
	if got := e.tb.Reap(e.clock.Now()); len(got) != 0 {
		t.Fatalf("Reap right after Done destroyed %x", got)
	}
	e.clock.Add(testLease + 1)
	if got := e.tb.Reap(e.clock.Now()); !slices.Equal(got, []uint64{id}) {
		t.Fatalf("Reap = %x", got)
	}
}

func TestUnconfirmedReaped(t *testing.T) {
	e := newEnv(t, nil)
	r := e.exchange("x", "p", 1)
	s, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("y"), Principal: "p"})
	e.clock.Add(testLease + 1)
	if got := e.tb.Reap(e.clock.Now()); len(got) != 0 {
		t.Errorf("Reap reported unconfirmed records %x", got)
	}
	if e.alive(r.ClientID) || e.alive(s.ClientID) || e.exp.total() != 0 {
		t.Error("unconfirmed records not dropped, or OnExpire called for them")
	}
}

func TestMaxClients(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxClients = 3 })
	a, _ := e.client41("a", "p", 1)
	b := e.client40("b", "p", 1)
	c40 := e.client40("c40", "p", 1)
	for _, id := range []uint64{a, b, c40} {
		e.tb.SetHasState(id, true)
	}
	_, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("d"), Principal: "p", Minor: 1})
	wantErr(t, "EXCHANGE_ID in a full table", err, nfserr.Delay)
	_, err = e.tb.SetClientID(SetClientIDArgs{ID: []byte("d"), Principal: "p"})
	wantErr(t, "SETCLIENTID in a full table", err, nfserr.Delay)
	// Existing clients are still served.
	if r := e.exchange("a", "p", 1); r.ClientID != a {
		t.Fatalf("EXCHANGE_ID of an existing client: %+v", r)
	}
	// a renewed last at 0, c at 5 s, b at 10 s; at 96 s a and c are
	// courtesy clients and the new client evicts a, whose lease expired
	// first.
	e.clock.Add(5 * time.Second)
	e.tb.Renew(c40)
	e.clock.Add(5 * time.Second)
	e.tb.Renew(b)
	e.clock.Add(testLease - 4*time.Second)
	_, err = e.tb.SetClientID(SetClientIDArgs{ID: []byte("d"), Principal: "p"})
	if err != nil {
		t.Fatalf("SETCLIENTID with courtesy clients to evict: %v", err)
	}
	if e.alive(a) || !e.alive(b) || !e.alive(c40) || e.exp.count(a) != 1 {
		t.Errorf("eviction: alive a %v b %v c %v (want false true true), OnExpire(a) %d", e.alive(a), e.alive(b), e.alive(c40), e.exp.count(a))
	}
	if st := e.tb.Stats(); st.Confirmed+st.Unconfirmed != 3 {
		t.Errorf("stats %+v, want 3 records", st)
	}
}

func TestOwnerLimits(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: make([]byte, MaxOwnerLen+1), Minor: 1})
	wantErr(t, "EXCHANGE_ID long owner", err, nfserr.Inval)
	_, err = e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("x"), Principal: string(make([]byte, MaxPrincipalLen+1)), Minor: 1})
	wantErr(t, "EXCHANGE_ID long principal", err, nfserr.Inval)
}

// TestFullTableCallbackUpdate: a courtesy client updating its callback in
// a full table is not evicted to make room for its own request.
func TestFullTableCallbackUpdate(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxClients = 2 })
	id := e.client40("x", "p", 1)
	e.tb.SetHasState(id, true)
	e.clock.Add(testLease + 1)
	r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p"})
	wantErr(t, "SETCLIENTID callback update", err, nfserr.OK)
	if r.ClientID != id || e.exp.total() != 0 {
		t.Fatalf("client ID %x (want %x), %d OnExpire calls", r.ClientID, id, e.exp.total())
	}
	// The table is now full (confirmed and unconfirmed record); another
	// client evicts the courtesy client, with its pending update.
	_, err = e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("y"), Principal: "p", Minor: 1})
	wantErr(t, "EXCHANGE_ID", err, nfserr.OK)
	if e.alive(id) || e.exp.count(id) != 1 {
		t.Fatalf("courtesy client not evicted for another client")
	}
}
