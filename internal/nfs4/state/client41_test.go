package state

import (
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// TestExchangeID covers the nine cases of RFC 8881 section 18.35.5.
func TestExchangeID(t *testing.T) {
	const flagsOld, flagsNew = 0x10000, 0x20000
	// confirmedRec sets up a confirmed record for "x" by p1, verifier 1,
	// with one session (CREATE_SESSION sequence 1).
	confirmedRec := func(e *env, state bool, courtesy bool) uint64 {
		r, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("x"), Verifier: verf(1), Principal: "p1", Minor: 1, Flags: flagsOld})
		wantErr(t, "setup EXCHANGE_ID", err, nfserr.OK)
		e.session(r, "p1")
		if state {
			wantErr(t, "SetHasState", e.tb.SetHasState(r.ClientID, true), nfserr.OK)
		}
		if courtesy {
			e.clock.Add(testLease + 1)
		}
		return r.ClientID
	}
	unconfirmedRec := func(e *env) uint64 {
		r, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("x"), Verifier: verf(1), Principal: "p1", Minor: 1, Flags: flagsOld})
		wantErr(t, "setup EXCHANGE_ID", err, nfserr.OK)
		return r.ClientID
	}
	const (
		sameID = iota + 1
		newID
	)
	tests := []struct {
		name      string
		setup     func(e *env) uint64
		verifier  byte
		principal string
		update    bool
		want      nfserr.Status
		id        int // sameID or newID on success
		confirmed bool
		seq       uint32
		flags     uint32
		// state of the earlier record right after the call
		oldConfirmedAlive bool // still a confirmed record
		oldExpired        int  // OnExpire calls for it so far
	}{
		{
			name:      "1 new owner",
			setup:     func(e *env) uint64 { return 0 },
			verifier:  1,
			principal: "p1",
			id:        newID,
			seq:       1,
			flags:     flagsNew,
		},
		{
			name:              "2 non-update on existing client ID",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          1,
			principal:         "p1",
			id:                sameID,
			confirmed:         true,
			seq:               2,
			flags:             flagsOld,
			oldConfirmedAlive: true,
		},
		{
			name:              "3 client collision, state under a valid lease",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          1,
			principal:         "p2",
			want:              nfserr.ClidInuse,
			oldConfirmedAlive: true,
		},
		{
			name:       "3 client collision, no state",
			setup:      func(e *env) uint64 { return confirmedRec(e, false, false) },
			verifier:   1,
			principal:  "p2",
			id:         newID,
			seq:        1,
			flags:      flagsNew,
			oldExpired: 1,
		},
		{
			name:       "3 client collision, courtesy client",
			setup:      func(e *env) uint64 { return confirmedRec(e, true, true) },
			verifier:   1,
			principal:  "p2",
			id:         newID,
			seq:        1,
			flags:      flagsNew,
			oldExpired: 1,
		},
		{
			name:      "4 replacement of unconfirmed record",
			setup:     unconfirmedRec,
			verifier:  2,
			principal: "p2",
			id:        newID,
			seq:       1,
			flags:     flagsNew,
		},
		{
			name:              "5 client restart",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          2,
			principal:         "p1",
			id:                newID,
			seq:               1,
			flags:             flagsNew,
			oldConfirmedAlive: true, // until CREATE_SESSION
		},
		{
			name:              "6 update",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          1,
			principal:         "p1",
			update:            true,
			id:                sameID,
			confirmed:         true,
			seq:               2,
			flags:             flagsNew,
			oldConfirmedAlive: true,
		},
		{
			name:      "7 update but no confirmed record",
			setup:     unconfirmedRec,
			verifier:  1,
			principal: "p1",
			update:    true,
			want:      nfserr.Noent,
		},
		{
			name:              "8 update but wrong verifier",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          2,
			principal:         "p1",
			update:            true,
			want:              nfserr.NotSame,
			oldConfirmedAlive: true,
		},
		{
			name:              "8 update but wrong verifier and principal",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          2,
			principal:         "p2",
			update:            true,
			want:              nfserr.NotSame,
			oldConfirmedAlive: true,
		},
		{
			name:              "9 update but wrong principal",
			setup:             func(e *env) uint64 { return confirmedRec(e, true, false) },
			verifier:          1,
			principal:         "p2",
			update:            true,
			want:              nfserr.Perm,
			oldConfirmedAlive: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			prev := tc.setup(e)
			var prevInfo ClientInfo
			if prev != 0 {
				prevInfo = e.info(prev)
			}
			r, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("x"), Verifier: verf(tc.verifier), Principal: tc.principal,
				Update: tc.update, Minor: 1, Flags: flagsNew})
			wantErr(t, "EXCHANGE_ID", err, tc.want)
			if prev != 0 {
				ci, err := e.tb.Client(prev)
				alive := err == nil && ci.Confirmed
				if alive != tc.oldConfirmedAlive {
					t.Errorf("earlier confirmed record alive = %v, want %v", alive, tc.oldConfirmedAlive)
				}
				if got := e.exp.count(prev); got != tc.oldExpired {
					t.Errorf("OnExpire(earlier) = %d calls, want %d", got, tc.oldExpired)
				}
				if tc.want != nfserr.OK && err == nil && ci.Flags != prevInfo.Flags {
					t.Errorf("failed EXCHANGE_ID changed the record's flags")
				}
			}
			if tc.want != nfserr.OK {
				if tc.want == nfserr.Noent {
					// Case 7 leaves the unconfirmed record intact.
					if ci, err := e.tb.Client(prev); err != nil || ci.Confirmed {
						t.Errorf("unconfirmed record not intact: %+v %v", ci, err)
					}
				}
				return
			}
			switch tc.id {
			case sameID:
				if r.ClientID != prev {
					t.Errorf("client ID %x, want the existing %x", r.ClientID, prev)
				}
			case newID:
				if r.ClientID == prev || r.ClientID == 0 || r.ClientID>>32 != 7 {
					t.Errorf("client ID %x, want a new one (earlier %x)", r.ClientID, prev)
				}
				if ci := e.info(r.ClientID); ci.Confirmed {
					t.Errorf("new record is confirmed")
				}
			}
			if r.Confirmed != tc.confirmed || r.SequenceID != tc.seq || r.Flags != tc.flags {
				t.Errorf("result %+v, want confirmed %v seq %d flags %#x", r, tc.confirmed, tc.seq, tc.flags)
			}
			if tc.id == newID && prev != 0 {
				// The earlier unconfirmed record is gone (case 4).
				if !prevInfo.Confirmed && e.alive(prev) {
					t.Errorf("earlier unconfirmed record %x still exists", prev)
				}
			}
		})
	}
}

// TestExchangeIDRestartConfirm: in case 5 the old record and its state
// are released when CREATE_SESSION confirms the new one.
func TestExchangeIDRestartConfirm(t *testing.T) {
	e := newEnv(t, nil)
	old, oldSess := e.client41("x", "p1", 1)
	if err := e.tb.SetHasState(old, true); err != nil {
		t.Fatal(err)
	}
	r := e.exchange("x", "p1", 2)
	e.seq(oldSess, 0, 1) // the old incarnation still works
	if e.exp.count(old) != 0 {
		t.Fatal("old state released before CREATE_SESSION")
	}
	e.session(r, "p1")
	if e.alive(old) {
		t.Error("old record survived the confirmation of the new one")
	}
	if e.exp.count(old) != 1 {
		t.Errorf("OnExpire(old) = %d calls, want 1", e.exp.count(old))
	}
	_, err := e.tb.Sequence(SequenceArgs{SessionID: oldSess, SequenceID: 2})
	wantErr(t, "SEQUENCE on the old session", err, nfserr.Badsession)
}

func TestExchangeIDVersusSetClientID(t *testing.T) {
	e := newEnv(t, nil)
	id40 := e.client40("x", "p1", 1)
	_, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("x"), Verifier: verf(1), Principal: "p1", Minor: 1, Update: true})
	wantErr(t, "EXCHANGE_ID update over a 4.0 record", err, nfserr.Noent)
	if err := e.tb.SetHasState(id40, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("x"), Verifier: verf(1), Principal: "p2", Minor: 1})
	wantErr(t, "EXCHANGE_ID, 4.0 record of another principal with state", err, nfserr.ClidInuse)
	r := e.exchange("x", "p1", 1)
	if r.ClientID == id40 || r.Confirmed {
		t.Fatalf("EXCHANGE_ID over a 4.0 record: %+v", r)
	}
	e.session(r, "p1")
	if e.alive(id40) || e.exp.count(id40) != 1 {
		t.Fatalf("4.0 record not replaced on CREATE_SESSION")
	}
	// And SETCLIENTID against a 4.1 client with state.
	if err := e.tb.SetHasState(r.ClientID, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.tb.SetClientID(SetClientIDArgs{ID: []byte("x"), Verifier: verf(1), Principal: "p1"})
	wantErr(t, "SETCLIENTID over a 4.1 client with state", err, nfserr.ClidInuse)
	_, err = e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte("y"), Minor: 0})
	wantErr(t, "EXCHANGE_ID minor version 0", err, nfserr.Inval)
}

func TestDestroyClientID(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env) uint64
		want  nfserr.Status
		gone  bool
	}{
		{"earlier instance", func(e *env) uint64 { return 3<<32 | 1 }, nfserr.StaleClientid, false},
		{"unknown", func(e *env) uint64 { return 7<<32 | 77 }, nfserr.StaleClientid, false},
		{"unconfirmed", func(e *env) uint64 { return e.exchange("x", "p", 1).ClientID }, nfserr.OK, true},
		{"with a session", func(e *env) uint64 { id, _ := e.client41("x", "p", 1); return id }, nfserr.ClientidBusy, false},
		{"with state, no session", func(e *env) uint64 {
			id, sid := e.client41("x", "p", 1)
			if err := e.tb.SetHasState(id, true); err != nil {
				t.Fatal(err)
			}
			wantErr(t, "DESTROY_SESSION", e.tb.DestroySession(sid, nil), nfserr.OK)
			return id
		}, nfserr.ClientidBusy, false},
		{"no session, no state", func(e *env) uint64 {
			id, sid := e.client41("x", "p", 1)
			wantErr(t, "DESTROY_SESSION", e.tb.DestroySession(sid, nil), nfserr.OK)
			return id
		}, nfserr.OK, true},
		{"NFSv4.0 client", func(e *env) uint64 { return e.client40("x", "p", 1) }, nfserr.StaleClientid, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			id := tc.setup(e)
			wantErr(t, "DESTROY_CLIENTID", e.tb.DestroyClientID(id), tc.want)
			if tc.gone {
				if e.alive(id) {
					t.Error("client still exists")
				}
				wantErr(t, "second DESTROY_CLIENTID", e.tb.DestroyClientID(id), nfserr.StaleClientid)
			}
		})
	}
}
