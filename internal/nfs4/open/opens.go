package open

import (
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// OpenTx is one OPEN (RFC 7530 section 16.16, RFC 8881 section 18.16),
// from its owner's seqid check (BeginOpen) to the caching of its reply
// (Done). Between them the server does the file system's part (lookup,
// create, permissions) and calls Open once if that succeeded.
type OpenTx struct {
	t      *Table
	c      Caller
	name   string
	o      *owner // 4.0: the open-owner, held until Done
	q      *Seq
	opened bool
}

// OpenResult is what OPEN returns of the open state.
type OpenResult struct {
	// Stateid is the open stateid: new (seqid 1), or the owner's
	// existing open of the file with its seqid incremented.
	Stateid Stateid
	// Confirm: the 4.0 open-owner is new and must be confirmed with
	// OPEN_CONFIRM (rflags OPEN4_RESULT_CONFIRM, RFC 7530 section 16.18).
	Confirm bool
	// Upgrade: the owner had the file open; the share bits were ORed.
	Upgrade bool
	// Access and Deny are the open's share bits after the OPEN.
	Access, Deny uint8
}

// BeginOpen starts an OPEN by open-owner owner of client c.Clientid.
//
// In 4.0 it applies the owner seqid rules (RFC 7530 section 9.1.7): the
// error is a *Replay for a retransmission, NFS4ERR_BAD_SEQID for a seqid
// out of sequence. An open-owner that has not been confirmed is replaced
// (its opens are dropped) by a new one, whose first seqid is accepted (RFC
// 7530 section 16.18.5; as Linux nfsd, without a replay check). The
// open-owner is then held until Done.
//
// In 4.1 the seqid is ignored (RFC 8881 section 18.16.3) and nothing is
// held.
func (t *Table) BeginOpen(c Caller, owner []byte, seqid uint32) (*OpenTx, error) {
	if len(owner) > MaxOwnerLen {
		return nil, nfserr.Inval
	}
	tx := &OpenTx{t: t, c: c, name: string(owner)}
	if c.Minor >= 1 {
		return tx, nil
	}
	for {
		o, err := t.getOwner(c.Clientid, kindOpen, tx.name, true, 0)
		if err != nil {
			return nil, err
		}
		q := t.newSeq(0)
		q.hold(o)
		t.mu.Lock()
		if !o.confirmed && (o.seq.valid || len(o.states) > 0) {
			rel := t.killOwnerLocked(o)
			t.mu.Unlock()
			t.drop(rel)
			q.release()
			continue
		}
		if err := t.sequenceLocked(q, o, seqid); err != nil {
			t.mu.Unlock()
			q.release()
			return nil, err
		}
		t.mu.Unlock()
		tx.o, tx.q = o, q
		return tx, nil
	}
}

// killOwnerLocked removes an owner with all its state (and the lock
// stateids derived from its opens), returning the shares and locks to
// drop from the lock.Manager.
func (t *Table) killOwnerLocked(o *owner) []release {
	var rel []release
	for _, st := range o.states {
		if st.kind == kindOpen {
			for l := range st.locks {
				if len(l.held) > 0 {
					rel = append(rel, release{file: l.file, owner: l.owner.lk})
				}
				t.removeStateLocked(l)
			}
			if st.revoked == 0 {
				rel = append(rel, release{file: st.file, owner: o.lk, share: true})
			}
		} else if len(st.held) > 0 {
			rel = append(rel, release{file: st.file, owner: o.lk})
		}
	}
	t.removeOwnerLocked(o)
	return rel
}

// Open opens file for the owner with share_access access (ShareRead,
// ShareWrite or ShareBoth; the caller strips 4.1's WANT bits) and
// share_deny deny (0 to ShareBoth): a new open, or an upgrade of the
// owner's open of the file, whose bits are ORed with these. The union
// goes to the lock.Manager as the owner's share reservation.
//
// reclaim marks a reclaim (CLAIM_PREVIOUS) during the grace period; it
// also confirms a new 4.0 open-owner, as Linux nfsd does. Errors:
// NFS4ERR_INVAL (bits), NFS4ERR_SHARE_DENIED (another owner's share, of
// NFSv4 or NLM, conflicts), NFS4ERR_GRACE (not a reclaim, in grace),
// NFS4ERR_NO_GRACE (a reclaim out of grace), and the limits' status.
func (tx *OpenTx) Open(file lock.FileID, access, deny uint8, reclaim bool) (OpenResult, error) {
	t := tx.t
	if tx.opened {
		return OpenResult{}, nfserr.Serverfault
	}
	tx.opened = true
	if access == 0 || access > ShareBoth || deny > ShareBoth {
		return OpenResult{}, nfserr.Inval
	}
	o := tx.o
	if tx.c.Minor >= 1 {
		var err error
		o, err = t.getOwner(tx.c.Clientid, kindOpen, tx.name, true, tx.c.Minor)
		if err != nil {
			return OpenResult{}, err
		}
		q := t.newSeq(tx.c.Minor)
		q.hold(o)
		defer q.Done(nil, nil)
	}
	return t.open(tx.c, o, file, access, deny, reclaim)
}

// Done ends the OPEN (see Seq.Done); status is the OPEN's final result,
// whether or not Open was called. It must be called exactly once.
func (tx *OpenTx) Done(status error, reply []byte) {
	if tx != nil {
		tx.q.Done(status, reply)
	}
}

// pair is the bit of an (access, deny) pair in state.used.
func pair(access, deny uint8) uint8 { return access | deny<<2 }

func (t *Table) open(c Caller, o *owner, file lock.FileID, access, deny uint8, reclaim bool) (OpenResult, error) {
	t.mu.Lock()
	if o.dead {
		t.mu.Unlock()
		return OpenResult{}, nfserr.Expired
	}
	st := o.states[file]
	if st != nil && st.revoked != 0 {
		// The client opens again what was revoked: a new open.
		t.removeStateLocked(st)
		st = nil
	}
	isNew := st == nil
	na, nd := access, deny
	if isNew {
		if err := t.reserveStateLocked(o.c, c.Minor); err != nil {
			t.mu.Unlock()
			return OpenResult{}, err
		}
		st = t.newStateLocked(o, kindOpen, file)
	} else {
		// The owner's own open of the file counts too (as Linux nfsd's
		// per-file deny and access bits: pynfs OPEN21, OPEN25): what it
		// denies it cannot open itself, and it cannot deny what it has
		// open.
		if access&st.deny != 0 || deny&st.access != 0 {
			t.mu.Unlock()
			return OpenResult{}, nfserr.ShareDenied
		}
		na |= st.access
		nd |= st.deny
	}
	t.mu.Unlock()

	_, err := t.locks.Share(lock.Share{File: file, Owner: o.lk, Access: na, Deny: nd}, reclaim)

	t.mu.Lock()
	if err != nil {
		if isNew {
			t.removeStateLocked(st)
		}
		t.mu.Unlock()
		s := lockErr(err, c.Minor)
		if s == nfserr.Denied {
			s = nfserr.ShareDenied
		}
		return OpenResult{}, s
	}
	if o.dead || st.gone || st.revoked != 0 {
		// Released or revoked meanwhile: take back what we set.
		status := nfserr.Expired
		if st.revoked != 0 {
			status = st.revoked
		}
		if isNew {
			t.removeStateLocked(st)
		}
		t.mu.Unlock()
		t.locks.Unshare(file, o.lk)
		return OpenResult{}, status
	}
	t.setBitsLocked(st, na, nd)
	st.used |= 1 << pair(access, deny)
	if isNew {
		st.seqid = 1
	} else {
		st.seqid = nextSeqid(st.seqid)
	}
	if c.Minor == 0 && reclaim {
		o.confirmed = true
	}
	res := OpenResult{Stateid: t.stateidOf(st), Confirm: !o.confirmed, Upgrade: !isNew, Access: na, Deny: nd}
	t.mu.Unlock()
	return res, nil
}

// OpenConfirm is OPEN_CONFIRM (RFC 7530 section 16.18, 4.0 only: 4.1
// gets NFS4ERR_NOTSUPP): it confirms the open-owner of open stateid s on
// file and returns the stateid with its seqid incremented. A confirmed
// owner is NFS4ERR_BAD_STATEID. See Seq for the returned *Seq.
func (t *Table) OpenConfirm(c Caller, file lock.FileID, seqid uint32, s Stateid) (Stateid, *Seq, error) {
	if c.Minor >= 1 {
		return Stateid{}, nil, nfserr.Notsupp
	}
	st, o, err := t.lockStateOwner(c, s, kindOpen)
	if err != nil {
		return Stateid{}, nil, err
	}
	q := t.newSeq(c.Minor)
	q.hold(o)
	t.mu.Lock()
	if err := t.sequenceLocked(q, o, seqid); err != nil {
		t.mu.Unlock()
		q.release()
		return Stateid{}, nil, err
	}
	err = t.validateLocked(c, st, s, &file, true)
	if err == nil && o.confirmed {
		err = nfserr.BadStateid
	}
	if err != nil {
		t.mu.Unlock()
		return Stateid{}, q.finish(err), err
	}
	o.confirmed = true
	st.seqid = nextSeqid(st.seqid)
	sid := t.stateidOf(st)
	t.mu.Unlock()
	return sid, q.finish(nil), nil
}

// reachable reports whether the (access, deny) pair p is the union of
// some of the pairs in used: it is then the union of all those of used
// that are subsets of it.
func reachable(used uint16, p uint8) bool {
	var u uint8
	for q := uint8(0); q < 16; q++ {
		if used&(1<<q) != 0 && q&^p == 0 {
			u |= q
		}
	}
	return u == p
}

// subsets keeps the pairs of used that are subsets of p.
func subsets(used uint16, p uint8) uint16 {
	var out uint16
	for q := uint8(0); q < 16; q++ {
		if used&(1<<q) != 0 && q&^p == 0 {
			out |= 1 << q
		}
	}
	return out
}

// shareAnyGrace changes a share reservation whatever the grace period: a
// downgrade conflicts with nothing and is not a new reservation, so it is
// passed as a reclaim exactly when the grace period is on.
func (t *Table) shareAnyGrace(s lock.Share) error {
	for range 2 {
		_, err := t.locks.Share(s, t.locks.InGrace())
		if err != lock.ErrGrace && err != lock.ErrNoGrace {
			return err
		}
		// The grace period began or ended meanwhile: again.
	}
	_, err := t.locks.Share(s, t.locks.InGrace())
	return err
}

// OpenDowngrade is OPEN_DOWNGRADE (RFC 7530 section 16.19, RFC 8881
// section 18.18): the open s of file gets share bits access and deny,
// which must be the union of those of some of the OPENs in effect, else
// NFS4ERR_INVAL (RFC 7530 section 16.19.4). It returns the stateid with
// its seqid incremented. See Seq for the returned *Seq.
func (t *Table) OpenDowngrade(c Caller, file lock.FileID, seqid uint32, s Stateid, access, deny uint8) (Stateid, *Seq, error) {
	st, o, err := t.lockStateOwner(c, s, kindOpen)
	if err != nil {
		return Stateid{}, nil, err
	}
	q := t.newSeq(c.Minor)
	q.hold(o)
	t.mu.Lock()
	if err := t.sequenceLocked(q, o, seqid); err != nil {
		t.mu.Unlock()
		q.release()
		return Stateid{}, nil, err
	}
	err = t.validateLocked(c, st, s, &file, false)
	if err == nil && (access == 0 || access > ShareBoth || deny > ShareBoth || !reachable(st.used, pair(access, deny))) {
		err = nfserr.Inval
	}
	if err != nil {
		t.mu.Unlock()
		return Stateid{}, q.finish(err), err
	}
	t.mu.Unlock()

	err = t.shareAnyGrace(lock.Share{File: file, Owner: o.lk, Access: access, Deny: deny})

	t.mu.Lock()
	if err != nil {
		t.mu.Unlock()
		s := lockErr(err, c.Minor)
		return Stateid{}, q.finish(s), s
	}
	if o.dead || st.gone || st.revoked != 0 {
		status := nfserr.Expired
		if st.revoked != 0 {
			status = st.revoked
		}
		t.mu.Unlock()
		t.locks.Unshare(file, o.lk)
		return Stateid{}, q.finish(status), status
	}
	t.setBitsLocked(st, access, deny)
	st.used = subsets(st.used, pair(access, deny))
	st.seqid = nextSeqid(st.seqid)
	sid := t.stateidOf(st)
	t.mu.Unlock()
	return sid, q.finish(nil), nil
}

// Close is CLOSE (RFC 7530 section 16.2, RFC 8881 section 18.2): it
// releases the open s of file and its share reservation, and frees the
// lock stateids derived from it.
//
// If a lock stateid of the open still holds byte-range locks, the server
// must either release them or fail with NFS4ERR_LOCKS_HELD (RFC 7530
// section 16.2.4, RFC 8881 section 18.2.4: "The server MAY free all
// outstanding locks on CLOSE, but some servers may not support the CLOSE
// of a file that still has byte-range locks held. The server MUST return
// failure, NFS4ERR_LOCKS_HELD, if any locks would exist after the
// CLOSE"). This server frees them, as Linux nfsd does: a process that
// exits holding locks leaves no lock behind its last CLOSE. The ranges
// the lock stateids held are unlocked after the table's mutex is
// released, so a lock the lock-owner takes meanwhile through another
// open is kept unless it overlaps them.
//
// It returns the stateid with its seqid incremented in 4.0, and the
// invalid special stateid in 4.1 (RFC 8881 section 18.2.4). See Seq for
// the returned *Seq.
func (t *Table) Close(c Caller, file lock.FileID, seqid uint32, s Stateid) (Stateid, *Seq, error) {
	st, o, err := t.lockStateOwner(c, s, kindOpen)
	if err != nil {
		return Stateid{}, nil, err
	}
	q := t.newSeq(c.Minor)
	q.hold(o)
	t.mu.Lock()
	if err := t.sequenceLocked(q, o, seqid); err != nil {
		t.mu.Unlock()
		q.release()
		return Stateid{}, nil, err
	}
	if err := t.validateLocked(c, st, s, &file, false); err != nil {
		t.mu.Unlock()
		return Stateid{}, q.finish(err), err
	}
	var rel []release
	for l := range st.locks {
		lo := l.owner
		if len(l.held) > 0 {
			rel = append(rel, release{file: l.file, owner: lo.lk, ranges: append([]lock.Range(nil), l.held...)})
		}
		t.removeStateLocked(l)
		if c.Minor >= 1 && lo.refs == 0 && len(lo.states) == 0 {
			t.removeOwnerLocked(lo)
		}
	}
	t.setBitsLocked(st, 0, 0)
	st.seqid = nextSeqid(st.seqid)
	sid := t.stateidOf(st)
	if c.Minor >= 1 {
		t.removeStateLocked(st)
		sid = InvalidStateid
	} else {
		delete(o.states, st.file)
		st.closed = true
		o.c.nclosed++
		o.lastClosed = st
	}
	t.mu.Unlock()
	t.drop(rel)
	t.locks.Unshare(file, o.lk)
	return sid, q.finish(nil), nil
}

// CheckIO checks stateid s of READ (access ShareRead), WRITE or a SETATTR
// of the size (ShareWrite) on file, and returns the client it belongs to
// (0 for a special stateid), whose lease it renews in 4.0.
//
// A lock stateid is checked through its open. An open without
// write access is NFS4ERR_OPENMODE for a write; a READ is allowed with
// any open, since clients read to fill pages of files opened write-only
// (Linux nfsd does the same).
//
// Of the special stateids, the anonymous one is allowed unless the grace
// period is on (NFS4ERR_GRACE) or an NFSv4 open denies the access
// (NFS4ERR_LOCKED), and the READ bypass one for reads only, without
// checks; any other is NFS4ERR_BAD_STATEID (the server substitutes the
// current stateid before).
func (t *Table) CheckIO(c Caller, file lock.FileID, s Stateid, access uint8) (uint64, error) {
	if IsSpecial(s) {
		return 0, t.checkSpecial(s, file, access)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st, err := t.lookupLocked(c, s)
	if err != nil {
		return 0, err
	}
	if err := t.validateLocked(c, st, s, &file, false); err != nil {
		return 0, err
	}
	op := st
	if st.kind == kindLock {
		op = st.open
		if op == nil || op.gone || op.closed {
			return 0, nfserr.BadStateid
		}
		if op.revoked != 0 {
			return 0, op.revoked
		}
	}
	if access&ShareWrite != 0 && op.access&ShareWrite == 0 {
		return 0, nfserr.Openmode
	}
	return st.owner.c.id, nil
}

func (t *Table) checkSpecial(s Stateid, file lock.FileID, access uint8) error {
	switch s {
	case BypassStateid:
		if access&ShareWrite == 0 {
			return nil // READ bypasses the checks
		}
		// A write with it is an anonymous write, as Linux nfsd treats
		// it (pynfs WRT2, SATT3b).
	case AnonymousStateid:
	default:
		return nfserr.BadStateid
	}
	if access == 0 {
		return nil
	}
	if t.locks.InGrace() {
		return nfserr.Grace
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if fi := t.files[file]; fi != nil {
		if (access&ShareRead != 0 && fi.denyRead > 0) || (access&ShareWrite != 0 && fi.denyWrite > 0) {
			return nfserr.Locked
		}
	}
	return nil
}
