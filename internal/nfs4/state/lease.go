package state

import (
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// Leases (RFC 8881 section 8.3, RFC 7530 section 9.5).
//
// A confirmed client's lease is renewed by SEQUENCE (and Seq.Done),
// CREATE_SESSION, BIND_CONN_TO_SESSION, SETCLIENTID_CONFIRM and Renew,
// which the server calls for RENEW and for every NFSv4.0 operation naming
// the client's ID or stateids. When the lease has expired:
//
//   - a client without state (SetHasState) is destroyed by the next Reap;
//   - a client with state becomes a courtesy client: its state and
//     sessions are kept and it comes back to life with its next renewal.
//     Reap destroys it CourtesyLimit after its lease expired; a new client
//     record that finds the table full destroys the courtesy client whose
//     lease expired first; Revoke releases its state when another client
//     needs it (a conflict). A revoked NFSv4.1 client keeps its record and
//     sessions and, if it comes back within a lease period, is told with
//     SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED; a revoked NFSv4.0 client gets
//     NFS4ERR_EXPIRED from Renew for a lease period, then the record is
//     destroyed (NFS4ERR_STALE_CLIENTID).
//
// A client with a request in progress on one of its sessions is never
// destroyed or revoked.

// Reap destroys the records that have expired at now and returns the IDs
// of the confirmed clients destroyed. The server calls it periodically
// (for example every few seconds, or every lease/10). It also ends the
// grace period at its deadline and then removes the recovery records of
// the clients that did not come back. OnExpire runs for the destroyed
// clients whose state was not yet released; unconfirmed records older than
// a lease are dropped.
func (t *Table) Reap(now time.Time) []uint64 {
	var e effects
	var gone []uint64
	t.mu.Lock()
	if !t.graceOver && !now.Before(t.graceEnd) {
		t.graceOver = true
	}
	graceOver := t.graceOver
	for _, c := range t.unconf {
		if now.Sub(c.created) > t.lease {
			t.destroyLocked(c, &e, nil)
		}
	}
	for _, c := range t.conf {
		if !t.expired(c, now) {
			continue
		}
		switch {
		case c.revoked:
			if now.Sub(c.revokedAt) <= t.lease {
				continue
			}
		case c.hasState: // courtesy client
			if t.courtesyLimit >= 0 && now.Sub(c.lastRenewTime().Add(t.lease)) <= t.courtesyLimit {
				continue
			}
		}
		if t.destroyLocked(c, &e, t.idleExpired(c, now)) {
			gone = append(gone, c.id)
		}
	}
	t.mu.Unlock()
	t.apply(&e)
	if graceOver {
		t.cleanGrace()
	}
	return gone
}

// Revoke is called when a request conflicts with state of the given
// client. If the client is a courtesy client (lease expired, no request in
// progress), its state is revoked: OnExpire runs (before Revoke returns),
// its recovery record is removed, an NFSv4.1 client gets
// SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED in its SEQUENCE replies (until the
// server clears it with SetStatusFlags, when the client has freed the
// revoked stateids) and an NFSv4.0 client NFS4ERR_EXPIRED. Revoke reports
// whether the client no longer holds state: true also for a client that is
// unknown, of an earlier instance or already revoked; false for a client
// whose lease is valid (the conflict stands). Since OnExpire runs before
// Revoke returns, the caller must not hold a lock that OnExpire takes.
func (t *Table) Revoke(clientid uint64) bool {
	if t.stale(clientid) {
		return true
	}
	now := t.now()
	var e effects
	t.mu.Lock()
	ok := t.revokeLocked(clientid, now, &e)
	t.mu.Unlock()
	t.apply(&e)
	return ok
}

func (t *Table) revokeLocked(clientid uint64, now time.Time, e *effects) bool {
	c := t.conf[clientid]
	if c == nil || c.revoked {
		return true
	}
	c.lockSessions()
	if !t.expired(c, now) || c.busyLocked() {
		c.unlockSessions()
		return false
	}
	c.revoked = true
	c.revokedAt = now
	c.hasState = false
	if c.minor != 0 {
		c.status.Or(SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED)
	}
	c.unlockSessions()
	if !c.released {
		c.released = true
		e.expire = append(e.expire, c.id)
	}
	if c.recorded {
		c.recorded = false
		e.drop = append(e.drop, recHolder{c.owner, c.id})
	}
	return true
}

// SetHasState tells whether a confirmed client holds state (opens, locks,
// delegations, layouts): the server sets it when the client gets its first
// state and clears it when the last is gone. A client with state becomes a
// courtesy client when its lease expires, cannot be displaced by a
// colliding client (NFS4ERR_CLID_INUSE) and cannot be destroyed
// (NFS4ERR_CLIENTID_BUSY). Giving state again to a client whose state was
// released re-arms OnExpire. NFS4ERR_STALE_CLIENTID for an unknown client,
// NFS4ERR_EXPIRED for an NFSv4.0 client whose state was revoked.
func (t *Table) SetHasState(clientid uint64, has bool) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.conf[clientid]
	if c == nil {
		return nfserr.StaleClientid
	}
	if !has {
		c.hasState = false
		return nil
	}
	if c.revoked && c.minor == 0 {
		return nfserr.Expired
	}
	c.hasState = true
	c.released = false
	c.revoked = false
	return nil
}

// SetStatusFlags sets and then clears SEQ4_STATUS flags of a client's
// SEQUENCE replies (for example SEQ4_STATUS_RECALLABLE_STATE_REVOKED while
// a revoked delegation is not freed, or clearing
// SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED). Flags that depend on the
// connection or the callback path at the time of the request
// (SEQ4_STATUS_CB_PATH_DOWN...) are better added by the server to
// Seq.StatusFlags. NFS4ERR_STALE_CLIENTID for an unknown client.
func (t *Table) SetStatusFlags(clientid uint64, set, clear uint32) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.conf[clientid]
	if c == nil {
		return nfserr.StaleClientid
	}
	c.status.Or(set)
	c.status.And(^clear)
	return nil
}
