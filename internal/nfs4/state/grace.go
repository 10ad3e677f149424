package state

import (
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// Grace period and recovery records (RFC 8881 section 8.4.2, RFC 7530
// section 9.6.2).
//
// New loads the recovery records: the owners of the clients that held
// state before the restart. Until the grace period ends, only clients with
// those owners may reclaim (CheckReclaim) and nobody may get new state
// (CheckNonReclaim: NFS4ERR_GRACE). The grace period ends at its deadline
// (Config.Grace after New), or earlier when every recoverable owner has
// sent RECLAIM_COMPLETE (NFSv4.1); an NFSv4.0 client has no
// RECLAIM_COMPLETE, so a recoverable NFSv4.0 client keeps the grace period
// to its deadline. With no recovery records the grace period is over at
// once. At its end the records of the owners that did not come back are
// removed.
//
// A client gets a record when it first holds state: the server calls
// RecordClient (cheap once recorded, so it may call it for every OPEN),
// and ReclaimComplete records the client too (as Linux nfsd does, so that
// a client that completed reclaim keeps its right to reclaim after another
// restart). A record is removed when its client is destroyed or its state
// revoked. A new incarnation of a client (same owner) takes over the
// record of the previous one.

// inGraceLocked reports whether the grace period is on; t.mu must be held.
func (t *Table) inGraceLocked(now time.Time) bool {
	return !t.graceOver && now.Before(t.graceEnd)
}

// InGrace reports whether the grace period is on.
func (t *Table) InGrace() bool {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.inGraceLocked(now)
}

// GraceEnd returns the deadline of the grace period.
func (t *Table) GraceEnd() time.Time {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.graceEnd
}

// EndGrace ends the grace period now and removes the recovery records of
// the clients that did not come back.
func (t *Table) EndGrace() {
	t.mu.Lock()
	t.graceOver = true
	t.mu.Unlock()
	t.cleanGrace()
}

// CheckReclaim tells whether a client may reclaim state (OPEN with
// CLAIM_PREVIOUS or CLAIM_DELEGATE_PREV, LOCK with reclaim set):
// NFS4ERR_STALE_CLIENTID for an unknown client, NFS4ERR_EXPIRED for a
// revoked NFSv4.0 client, NFS4ERR_NO_GRACE outside the grace period or
// after the client's RECLAIM_COMPLETE, NFS4ERR_RECLAIM_BAD for a client
// that had no state before the restart (no recovery record).
func (t *Table) CheckReclaim(clientid uint64) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.conf[clientid]
	if c == nil {
		return nfserr.StaleClientid
	}
	if c.revoked && c.minor == 0 {
		return nfserr.Expired
	}
	if !t.inGraceLocked(now) || c.reclaimComplete {
		return nfserr.NoGrace
	}
	if !t.recoverable[c.owner] {
		return nfserr.ReclaimBad
	}
	return nil
}

// MayReclaim reports whether CheckReclaim allows the client to reclaim.
func (t *Table) MayReclaim(clientid uint64) bool { return t.CheckReclaim(clientid) == nil }

// CheckNonReclaim tells whether a client may get new state (OPEN other
// than reclaims, LOCK without reclaim): NFS4ERR_GRACE during the grace
// period, and for an NFSv4.1 client before its RECLAIM_COMPLETE (RFC 8881
// section 18.51.3); NFS4ERR_STALE_CLIENTID for an unknown client,
// NFS4ERR_EXPIRED for a revoked NFSv4.0 client.
func (t *Table) CheckNonReclaim(clientid uint64) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.conf[clientid]
	if c == nil {
		return nfserr.StaleClientid
	}
	if c.revoked && c.minor == 0 {
		return nfserr.Expired
	}
	if t.inGraceLocked(now) || (c.minor != 0 && !c.reclaimComplete) {
		return nfserr.Grace
	}
	return nil
}

// ReclaimComplete is RECLAIM_COMPLETE, RFC 8881 section 18.51, for the
// session's client. With oneFS (rca_one_fs) it does nothing: only the
// global RECLAIM_COMPLETE is tracked. A second one gets
// NFS4ERR_COMPLETE_ALREADY. It ends the grace period when it was the last
// recoverable owner's, and records the client (RecordClient; a recovery
// store failure is logged, not returned).
func (t *Table) ReclaimComplete(clientid uint64, oneFS bool) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	t.mu.Lock()
	c := t.conf[clientid]
	if c == nil || c.minor == 0 {
		t.mu.Unlock()
		return nfserr.StaleClientid
	}
	if oneFS {
		t.mu.Unlock()
		return nil
	}
	if c.reclaimComplete {
		t.mu.Unlock()
		return nfserr.CompleteAlready
	}
	c.reclaimComplete = true
	ended := false
	if t.recoverable[c.owner] && !t.graceOver {
		t.reclaimed[c.owner] = true
		if len(t.reclaimed) == len(t.recoverable) {
			t.graceOver = true
			ended = true
		}
	}
	t.mu.Unlock()
	if err := t.RecordClient(clientid); err != nil {
		t.log.Warn("nfs4 recovery record not written", "clientid", clientid, "err", err)
	}
	if ended {
		t.cleanGrace()
	}
	return nil
}

// RecordClient makes sure a confirmed client has a recovery record, so
// that it may reclaim its state after a restart of the server. The server
// calls it when the client gets state (for example at every successful
// OPEN, or its first); once recorded it costs a map lookup. The record is
// written (RecoveryStore.Add) before RecordClient returns; its error is
// returned and the client is not recorded. NFS4ERR_STALE_CLIENTID for an
// unknown client.
func (t *Table) RecordClient(clientid uint64) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	t.mu.RLock()
	c := t.conf[clientid]
	recorded := c != nil && c.recorded
	t.mu.RUnlock()
	if c == nil {
		return nfserr.StaleClientid
	}
	if recorded {
		return nil
	}

	t.rmu.Lock()
	defer t.rmu.Unlock()
	t.mu.RLock()
	dead, recorded := c.dead, c.recorded
	t.mu.RUnlock()
	if dead {
		return nfserr.StaleClientid
	}
	if recorded {
		return nil
	}
	prev, had := t.holder[c.owner]
	if !had {
		if err := t.rec.Add([]byte(c.owner)); err != nil {
			return err
		}
	}
	t.holder[c.owner] = c.id
	t.mu.Lock()
	dead = c.dead
	if !dead {
		c.recorded = true
	}
	t.mu.Unlock()
	if dead { // destroyed meanwhile, before it could see the record
		if had {
			t.holder[c.owner] = prev
		} else {
			t.removeRecordLocked(c.owner)
		}
		return nfserr.StaleClientid
	}
	return nil
}

// dropRecord removes the recovery record of owner if the client id holds
// it (a newer incarnation may have taken it over).
func (t *Table) dropRecord(owner string, id uint64) {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	if h, ok := t.holder[owner]; ok && h == id {
		t.removeRecordLocked(owner)
	}
}

// removeRecordLocked removes a record; t.rmu must be held.
func (t *Table) removeRecordLocked(owner string) {
	delete(t.holder, owner)
	if err := t.rec.Remove([]byte(owner)); err != nil {
		t.log.Warn("nfs4 recovery record not removed", "err", err)
	}
}

// cleanGrace removes, once the grace period is over, the records of the
// previous instance's clients that no client of this instance took over.
func (t *Table) cleanGrace() {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	if t.graceCleaned {
		return
	}
	t.graceCleaned = true
	for owner, id := range t.holder {
		if id == 0 {
			t.removeRecordLocked(owner)
		}
	}
}
