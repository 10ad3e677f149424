package state

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// ExchangeIDArgs are the arguments of EXCHANGE_ID (RFC 8881 section 18.35)
// that the table needs, with the request's principal and address.
type ExchangeIDArgs struct {
	// OwnerID is eia_clientowner.co_ownerid (at most MaxOwnerLen bytes).
	OwnerID []byte
	// Verifier is eia_clientowner.co_verifier.
	Verifier Verifier
	// Update is EXCHGID4_FLAG_UPD_CONFIRMED_REC_A of eia_flags.
	Update bool
	// Flags are the eir_flags the server grants this request (without
	// EXCHGID4_FLAG_CONFIRMED_R, which the server sets from
	// ExchangeIDResult.Confirmed). A new record or an update stores them;
	// a non-update of an existing record returns the stored ones.
	Flags uint32
	// Minor is the COMPOUND's minor version (1 or 2).
	Minor uint32
	// Principal names the request's credential, as for SetClientIDArgs.
	Principal string
	// Addr is the client's network address.
	Addr Netaddr
}

// ExchangeIDResult is what EXCHANGE_ID4resok needs from the table.
type ExchangeIDResult struct {
	// ClientID is eir_clientid.
	ClientID uint64
	// SequenceID is eir_sequenceid: the csa_sequenceid of the next
	// CREATE_SESSION.
	SequenceID uint32
	// Confirmed asks for EXCHGID4_FLAG_CONFIRMED_R.
	Confirmed bool
	// Flags are the record's stored eir_flags.
	Flags uint32
}

// ExchangeID is EXCHANGE_ID, RFC 8881 section 18.35.5. The numbered cases
// of that section, with a confirmed record { ownerid, verifier,
// principal, clientid, confirmed }:
//
//  1. New Owner ID: no record for the owner: a new unconfirmed record.
//  2. Non-Update on Existing Client ID: a confirmed record with the same
//     verifier and principal: its client ID, sequence ID and flags, with
//     EXCHGID4_FLAG_CONFIRMED_R.
//  3. Client Collision: a confirmed record with another principal: if its
//     client holds state under an unexpired lease, NFS4ERR_CLID_INUSE and
//     nothing changes; otherwise the confirmed record is destroyed (its
//     state released) and the request is case 1.
//  4. Replacement of Unconfirmed Record: an unconfirmed record for the
//     owner (and no confirmed one matching cases 2, 3, 6, 8, 9) is
//     replaced by a new unconfirmed record with a new client ID.
//  5. Client Restart: a confirmed record with the same principal and
//     another verifier: a new unconfirmed record with a new client ID;
//     the old record and its state are released when CREATE_SESSION
//     confirms the new one.
//  6. Update: Update set and a confirmed record with the same verifier and
//     principal: the stored flags are replaced; its client ID with
//     EXCHGID4_FLAG_CONFIRMED_R.
//  7. Update but No Confirmed Record: NFS4ERR_NOENT, any unconfirmed
//     record is kept.
//  8. Update but Wrong Verifier: NFS4ERR_NOT_SAME, the record is kept.
//  9. Update but Wrong Principal: NFS4ERR_PERM, the record is kept.
//
// A confirmed NFSv4.0 record for the same owner counts as no confirmed
// record for Update (case 7) and as a client restart otherwise (a 4.1
// client ID is never shared with SETCLIENTID). NFS4ERR_DELAY when the
// table is full of clients that are not expired.
func (t *Table) ExchangeID(a ExchangeIDArgs) (ExchangeIDResult, error) {
	if err := checkIdentity(a.OwnerID, a.Principal); err != nil {
		return ExchangeIDResult{}, err
	}
	if a.Minor == 0 {
		return ExchangeIDResult{}, nfserr.Inval
	}
	var e effects
	t.mu.Lock()
	res, err := t.exchangeIDLocked(a, &e)
	t.mu.Unlock()
	t.apply(&e)
	return res, err
}

func (t *Table) exchangeIDLocked(a ExchangeIDArgs, e *effects) (ExchangeIDResult, error) {
	now := t.now()
	owner := string(a.OwnerID)
	conf := t.confByOwner[owner]
	if conf != nil && conf.minor == 0 {
		if a.Update {
			return ExchangeIDResult{}, nfserr.Noent // case 7
		}
		if conf.principal != a.Principal && t.activeWithState(conf, now) {
			return ExchangeIDResult{}, nfserr.ClidInuse // case 3
		}
		conf = nil // case 5 (or 3 without state): replaced on confirmation
	}
	if conf != nil {
		if a.Update {
			if conf.verifier != a.Verifier {
				return ExchangeIDResult{}, nfserr.NotSame // case 8
			}
			if conf.principal != a.Principal {
				return ExchangeIDResult{}, nfserr.Perm // case 9
			}
			conf.flags = a.Flags // case 6
			return ExchangeIDResult{ClientID: conf.id, SequenceID: conf.csSeq + 1, Confirmed: true, Flags: conf.flags}, nil
		}
		switch {
		case conf.principal != a.Principal: // case 3
			if t.activeWithState(conf, now) {
				return ExchangeIDResult{}, nfserr.ClidInuse
			}
			t.destroyLocked(conf, e, nil)
		case conf.verifier == a.Verifier: // case 2
			return ExchangeIDResult{ClientID: conf.id, SequenceID: conf.csSeq + 1, Confirmed: true, Flags: conf.flags}, nil
		default: // case 5: the confirmed record stays until CREATE_SESSION
		}
	} else if a.Update {
		return ExchangeIDResult{}, nfserr.Noent // case 7
	}
	if u := t.unconfByOwner[owner]; u != nil {
		t.destroyLocked(u, e, nil) // case 4
	}
	if !t.roomLocked(now, e, conf) {
		return ExchangeIDResult{}, nfserr.Delay
	}
	c := &client{
		id:        t.newIDLocked(),
		owner:     owner,
		verifier:  a.Verifier,
		principal: a.Principal,
		minor:     a.Minor,
		addr:      a.Addr,
		created:   now,
		flags:     a.Flags,
		csSeq:     0, // eir_sequenceid 1
	}
	t.unconf[c.id] = c
	t.unconfByOwner[owner] = c
	return ExchangeIDResult{ClientID: c.id, SequenceID: c.csSeq + 1, Flags: c.flags}, nil
}

// DestroyClientID is DESTROY_CLIENTID, RFC 8881 section 18.50:
// NFS4ERR_STALE_CLIENTID for an unknown client ID or one of an earlier
// instance, NFS4ERR_CLIENTID_BUSY while the client has sessions (including
// the one the request came on) or state. A confirmed client's recovery
// record is removed and OnExpire is called for it.
func (t *Table) DestroyClientID(clientid uint64) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	var e effects
	t.mu.Lock()
	err := t.destroyClientIDLocked(clientid, &e)
	t.mu.Unlock()
	t.apply(&e)
	return err
}

func (t *Table) destroyClientIDLocked(clientid uint64, e *effects) error {
	c := t.conf[clientid]
	if c == nil {
		c = t.unconf[clientid]
	}
	if c == nil || c.minor == 0 {
		return nfserr.StaleClientid
	}
	if len(c.sessions) > 0 || c.hasState {
		return nfserr.ClientidBusy
	}
	t.destroyLocked(c, e, nil)
	return nil
}
