package state

import (
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// TestSetClientID covers the cases of RFC 7530 section 16.33.5 and the
// confirmation that follows each (section 16.34).
func TestSetClientID(t *testing.T) {
	cbOld := Callback{Program: 0x40000000, Addr: Netaddr{"tcp", "10.0.0.1.3.1"}, Ident: 1}
	cbNew := Callback{Program: 0x40000001, Addr: Netaddr{"tcp", "10.0.0.1.3.2"}, Ident: 2}
	oldAddr := Netaddr{"tcp", "10.0.0.1.8.1"}
	// confirmed sets up a confirmed record for "x" by p1 with verifier 1.
	confirmed := func(e *env, state bool) uint64 {
		r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1", Callback: cbOld, Addr: oldAddr})
		wantErr(t, "setup SETCLIENTID", err, nfserr.OK)
		_, err = e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, "p1")
		wantErr(t, "setup SETCLIENTID_CONFIRM", err, nfserr.OK)
		if state {
			wantErr(t, "SetHasState", e.tb.SetHasState(r.ClientID, true), nfserr.OK)
		}
		return r.ClientID
	}
	tests := []struct {
		name      string
		setup     func(e *env) uint64 // returns the earlier client ID
		verifier  byte
		principal string
		want      nfserr.Status
		sameID    bool // the new client ID equals the earlier one
		// after the new record's confirmation:
		confirmWant nfserr.Status
		oldAlive    bool // the earlier record still answers RENEW
		oldExpired  bool // OnExpire ran for the earlier client
		callback    Callback
	}{
		{
			name:        "new client",
			setup:       func(e *env) uint64 { return 0 },
			verifier:    1,
			principal:   "p1",
			confirmWant: nfserr.OK,
			callback:    cbNew,
		},
		{
			name: "unconfirmed retry",
			setup: func(e *env) uint64 {
				r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1", Callback: cbOld})
				wantErr(t, "setup", err, nfserr.OK)
				return r.ClientID
			},
			verifier:    1,
			principal:   "p1",
			confirmWant: nfserr.OK,
			callback:    cbNew,
		},
		{
			name: "unconfirmed retry with another principal",
			setup: func(e *env) uint64 {
				r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1", Callback: cbOld})
				wantErr(t, "setup", err, nfserr.OK)
				return r.ClientID
			},
			verifier:    2,
			principal:   "p2",
			confirmWant: nfserr.OK,
			callback:    cbNew,
		},
		{
			name:        "confirmed, same verifier: callback update",
			setup:       func(e *env) uint64 { return confirmed(e, true) },
			verifier:    1,
			principal:   "p1",
			sameID:      true,
			confirmWant: nfserr.OK,
			oldAlive:    true,
			callback:    cbNew,
		},
		{
			name:        "confirmed, other verifier: client reboot",
			setup:       func(e *env) uint64 { return confirmed(e, true) },
			verifier:    2,
			principal:   "p1",
			confirmWant: nfserr.OK,
			oldExpired:  true,
			callback:    cbNew,
		},
		{
			name:      "principal mismatch, client with state",
			setup:     func(e *env) uint64 { return confirmed(e, true) },
			verifier:  1,
			principal: "p2",
			want:      nfserr.ClidInuse,
			oldAlive:  true,
		},
		{
			name:        "principal mismatch, client without state",
			setup:       func(e *env) uint64 { return confirmed(e, false) },
			verifier:    1,
			principal:   "p2",
			confirmWant: nfserr.OK,
			oldExpired:  true,
			callback:    cbNew,
		},
		{
			name: "principal mismatch, courtesy client",
			setup: func(e *env) uint64 {
				id := confirmed(e, true)
				e.clock.Add(testLease + 1)
				return id
			},
			verifier:    1,
			principal:   "p2",
			confirmWant: nfserr.OK,
			oldExpired:  true,
			callback:    cbNew,
		},
		{
			name: "revoked client, same verifier: new client ID",
			setup: func(e *env) uint64 {
				id := confirmed(e, true)
				e.clock.Add(testLease + 1)
				if !e.tb.Revoke(id) {
					t.Fatal("Revoke of a courtesy client failed")
				}
				return id
			},
			verifier:    1,
			principal:   "p1",
			confirmWant: nfserr.OK,
			oldExpired:  true,
			callback:    cbNew,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			prev := tc.setup(e)
			r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(tc.verifier), Principal: tc.principal,
				Callback: cbNew, Addr: Netaddr{"tcp", "10.0.0.2.8.1"}})
			wantErr(t, "SETCLIENTID", err, tc.want)
			if tc.want == nfserr.ClidInuse {
				if r.InUse != oldAddr {
					t.Errorf("client_using = %+v, want %+v", r.InUse, oldAddr)
				}
				if e.tb.Renew(prev) != nil || e.exp.total() != 0 {
					t.Errorf("CLID_INUSE changed the confirmed record")
				}
				return
			}
			if r.ClientID>>32 != 7 {
				t.Errorf("client ID %x does not carry the boot epoch", r.ClientID)
			}
			if got := r.ClientID == prev; got != tc.sameID {
				t.Errorf("client ID %x, earlier %x: same = %v, want %v", r.ClientID, prev, got, tc.sameID)
			}
			if ci := e.info(r.ClientID); tc.sameID != ci.Confirmed {
				t.Errorf("Client(%x).Confirmed = %v before SETCLIENTID_CONFIRM", r.ClientID, ci.Confirmed)
			}
			// The earlier unconfirmed record (if any) can no longer be
			// confirmed: its confirm verifier is gone.
			cb, err := e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, tc.principal)
			wantErr(t, "SETCLIENTID_CONFIRM", err, tc.confirmWant)
			if cb != tc.callback {
				t.Errorf("callback %+v, want %+v", cb, tc.callback)
			}
			if err := e.tb.Renew(r.ClientID); err != nil {
				t.Errorf("RENEW of the confirmed client: %v", err)
			}
			if prev != 0 && prev != r.ClientID {
				gotAlive := e.tb.Renew(prev) == nil
				if gotAlive != tc.oldAlive {
					t.Errorf("earlier client alive = %v, want %v", gotAlive, tc.oldAlive)
				}
			}
			wantExp := 0
			if tc.oldExpired {
				wantExp = 1
			}
			if got := e.exp.count(prev); prev != 0 && got != wantExp {
				t.Errorf("OnExpire(earlier) called %d times, want %d", got, wantExp)
			}
			if tc.sameID && !e.info(r.ClientID).HasState {
				t.Errorf("callback update lost the client's state")
			}
		})
	}
}

// TestSetClientIDReboot checks that the old incarnation stays valid until
// the new one is confirmed (RFC 7530 section 16.33.5).
func TestSetClientIDReboot(t *testing.T) {
	e := newEnv(t, nil)
	old := e.client40("x", "p1", 1)
	r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(2), Principal: "p1"})
	wantErr(t, "SETCLIENTID", err, nfserr.OK)
	wantErr(t, "RENEW old before confirm", e.tb.Renew(old), nfserr.OK)
	wantErr(t, "RENEW unconfirmed", e.tb.Renew(r.ClientID), nfserr.StaleClientid)
	_, err = e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, "p1")
	wantErr(t, "SETCLIENTID_CONFIRM", err, nfserr.OK)
	wantErr(t, "RENEW old after confirm", e.tb.Renew(old), nfserr.StaleClientid)
	if e.exp.count(old) != 1 {
		t.Fatalf("OnExpire(old) = %d calls, want 1", e.exp.count(old))
	}
}

func TestSetClientIDConfirm(t *testing.T) {
	type setup struct {
		id      uint64
		confirm Verifier
	}
	tests := []struct {
		name  string
		setup func(e *env) setup
		// principal of the confirm
		principal string
		want      nfserr.Status
	}{
		{
			name: "ok",
			setup: func(e *env) setup {
				r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1"})
				return setup{r.ClientID, r.Confirm}
			},
			principal: "p1",
			want:      nfserr.OK,
		},
		{
			name:      "client ID of an earlier instance",
			setup:     func(e *env) setup { return setup{id: 6<<32 | 1} },
			principal: "p1",
			want:      nfserr.StaleClientid,
		},
		{
			name:      "unknown client ID",
			setup:     func(e *env) setup { return setup{id: 7<<32 | 99} },
			principal: "p1",
			want:      nfserr.StaleClientid,
		},
		{
			name: "confirm verifier mismatch",
			setup: func(e *env) setup {
				r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1"})
				c := r.Confirm
				c[0] ^= 0xff
				return setup{r.ClientID, c}
			},
			principal: "p1",
			want:      nfserr.StaleClientid,
		},
		{
			name: "principal mismatch",
			setup: func(e *env) setup {
				r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1"})
				return setup{r.ClientID, r.Confirm}
			},
			principal: "p2",
			want:      nfserr.ClidInuse,
		},
		{
			name: "retransmitted confirm",
			setup: func(e *env) setup {
				r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1"})
				if _, err := e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, "p1"); err != nil {
					t.Fatal(err)
				}
				return setup{r.ClientID, r.Confirm}
			},
			principal: "p1",
			want:      nfserr.OK,
		},
		{
			name: "retransmitted confirm with another verifier",
			setup: func(e *env) setup {
				r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1"})
				if _, err := e.tb.SetClientIDConfirm(r.ClientID, r.Confirm, "p1"); err != nil {
					t.Fatal(err)
				}
				return setup{r.ClientID, verf(9)}
			},
			principal: "p1",
			want:      nfserr.StaleClientid,
		},
		{
			name: "confirmed client with another principal",
			setup: func(e *env) setup {
				id := e.client40("x", "p1", 1)
				return setup{id, verf(0)}
			},
			principal: "p2",
			want:      nfserr.ClidInuse,
		},
		{
			// p2 displaces a stateless client of p1; before p2 confirms,
			// the old client gets state under a valid lease.
			name: "old record got state meanwhile, another principal",
			setup: func(e *env) setup {
				old := e.client40("x", "p1", 1)
				r, err := e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(2), Principal: "p2"})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.tb.SetHasState(old, true); err != nil {
					t.Fatal(err)
				}
				return setup{r.ClientID, r.Confirm}
			},
			principal: "p2",
			want:      nfserr.ClidInuse,
		},
		{
			name: "NFSv4.1 client ID",
			setup: func(e *env) setup {
				id, _ := e.client41("y", "p1", 1)
				return setup{id, Verifier{}}
			},
			principal: "p1",
			want:      nfserr.StaleClientid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s := tc.setup(e)
			_, err := e.tb.SetClientIDConfirm(s.id, s.confirm, tc.principal)
			wantErr(t, "SETCLIENTID_CONFIRM", err, tc.want)
		})
	}
}

func TestRenew(t *testing.T) {
	e := newEnv(t, nil)
	id := e.client40("x", "p1", 1)
	r, _ := e.tb.SetClientID(SetClientIDArgs{ID: []byte("u"), Verifier: verf(1), Principal: "p1"})
	gone := e.client40("g", "p1", 1)
	revoked := e.client40("r", "p1", 1)
	if err := e.tb.SetHasState(revoked, true); err != nil {
		t.Fatal(err)
	}
	// Expire gone (no state: destroyed) and revoked (courtesy, then
	// revoked); keep id alive.
	e.clock.Add(testLease / 2)
	wantErr(t, "RENEW", e.tb.Renew(id), nfserr.OK)
	e.clock.Add(testLease/2 + 1)
	e.tb.Reap(e.clock.Now())
	if !e.tb.Revoke(revoked) {
		t.Fatal("Revoke failed")
	}
	tests := []struct {
		name string
		id   uint64
		want nfserr.Status
	}{
		{"confirmed", id, nfserr.OK},
		{"earlier instance", 6<<32 | uint64(uint32(id)), nfserr.StaleClientid},
		{"unknown", 7<<32 | 1000, nfserr.StaleClientid},
		{"unconfirmed", r.ClientID, nfserr.StaleClientid},
		{"expired and destroyed", gone, nfserr.StaleClientid},
		{"state revoked", revoked, nfserr.Expired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "RENEW", e.tb.Renew(tc.id), tc.want)
		})
	}
}

func TestSetClientIDLimits(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.tb.SetClientID(SetClientIDArgs{ID: make([]byte, MaxOwnerLen+1), Principal: "p"})
	wantErr(t, "SETCLIENTID long id", err, nfserr.Inval)
	_, err = e.tb.SetClientID(SetClientIDArgs{ID: make([]byte, MaxOwnerLen), Principal: "p"})
	wantErr(t, "SETCLIENTID id of NFS4_OPAQUE_LIMIT", err, nfserr.OK)
}
