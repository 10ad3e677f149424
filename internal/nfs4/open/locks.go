package open

import (
	"math"
	"strconv"
	"strings"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// LockType is nfs_lock_type4. The W variants ask the server to block;
// this server never does: a conflict is NFS4ERR_DENIED and the client
// polls (RFC 7530 section 9.4, RFC 8881 section 9.6).
type LockType uint32

const (
	ReadLT   LockType = 1
	WriteLT  LockType = 2
	ReadwLT  LockType = 3
	WritewLT LockType = 4
)

func (lt LockType) lockType() (lock.Type, error) {
	switch lt {
	case ReadLT, ReadwLT:
		return lock.Read, nil
	case WriteLT, WritewLT:
		return lock.Write, nil
	}
	return 0, nfserr.Inval
}

// lockRange converts offset and length of LOCK, LOCKT and LOCKU (RFC
// 7530 section 16.10.4, RFC 8881 section 18.10.3): a length of all ones
// means to the end of the file; a length of 0, or one that added to
// offset exceeds 2^64-1, is NFS4ERR_INVAL.
func lockRange(offset, length uint64) (lock.Range, error) {
	switch {
	case length == 0:
		return lock.Range{}, nfserr.Inval
	case length == math.MaxUint64:
		return lock.Range{Start: offset, End: lock.EOF}, nil
	case length > math.MaxUint64-offset:
		return lock.Range{}, nfserr.Inval
	}
	return lock.Range{Start: offset, End: offset + length - 1}, nil
}

// LockDenied is LOCK4denied: a lock that conflicts with a LOCK or LOCKT.
type LockDenied struct {
	Offset, Length uint64 // Length all ones: to the end of the file
	Type           LockType
	// Clientid and Owner are the holder's lock_owner4. A holder that is
	// not an NFSv4 lock-owner (an NLM client) gets clientid 0 and an
	// owner naming it ("nlm:10.0.0.1 svid 42").
	Clientid uint64
	Owner    []byte
}

func deniedOf(h lock.Lock) *LockDenied {
	d := &LockDenied{Offset: h.Range.Start, Length: math.MaxUint64, Type: ReadLT}
	if h.Range.End != lock.EOF {
		d.Length = h.Range.End - h.Range.Start + 1
	}
	if h.Type == lock.Write {
		d.Type = WriteLT
	}
	if c, ok := strings.CutPrefix(h.Owner.Client, "nfs4:"); ok {
		if id, err := strconv.ParseUint(c, 10, 64); err == nil {
			name, _ := strings.CutPrefix(h.Owner.ID, "l:")
			d.Clientid, d.Owner = id, []byte(name)
			return d
		}
	}
	name := h.Owner.Client + " svid " + strconv.FormatInt(int64(h.Owner.Svid), 10)
	if len(name) > MaxOwnerLen {
		name = name[:MaxOwnerLen]
	}
	d.Owner = []byte(name)
	return d
}

// LockArgs are the arguments of LOCK (RFC 7530 section 16.10, RFC 8881
// section 18.10) but the current filehandle's File.
type LockArgs struct {
	File           lock.FileID
	Type           LockType
	Reclaim        bool
	Offset, Length uint64
	// NewLockOwner selects open_to_lock_owner4 (OpenSeqid, OpenStateid,
	// LockSeqid, LockOwnerClientid, LockOwner) over exist_lock_owner4
	// (LockStateid, LockSeqid).
	NewLockOwner bool
	OpenSeqid    uint32
	OpenStateid  Stateid
	// LockOwnerClientid must be the open's client in 4.0 (else
	// NFS4ERR_BAD_STATEID, as Linux nfsd); 4.1 ignores it (RFC 8881
	// section 18.10.3).
	LockOwnerClientid uint64
	LockOwner         []byte
	LockStateid       Stateid
	LockSeqid         uint32
}

// LockResult is the result of LOCK.
type LockResult struct {
	// Stateid is the lock stateid (new with seqid 1, or incremented).
	Stateid Stateid
	// Denied is set with NFS4ERR_DENIED.
	Denied *LockDenied
}

// Lock is LOCK. The lock-owner's lock is set in the lock.Manager (a lock
// over a range it holds changes its type there, as POSIX; nothing is
// changed on a conflict). Errors: NFS4ERR_DENIED with res.Denied (another
// owner's lock, NFSv4 or NLM, conflicts; W types do not block),
// NFS4ERR_INVAL (type, range), NFS4ERR_OPENMODE (a write lock on an open
// without write access), NFS4ERR_GRACE, NFS4ERR_NO_GRACE, the stateid
// and seqid errors, the limits' status.
//
// With a new lock-owner (open_to_lock_owner4), in 4.0 the open-owner's
// seqid is checked (a retransmission answers its cached reply), and
// LockSeqid must be the lock-owner's next seqid if the lock-owner exists;
// a lock-owner that already has a lock stateid for the file is
// NFS4ERR_BAD_SEQID (RFC 7530 section 16.10.5). In 4.1 the existing lock
// stateid is used. Both owners' seqids advance, and both cache the reply.
// See Seq for the returned *Seq.
func (t *Table) Lock(c Caller, a LockArgs) (LockResult, *Seq, error) {
	typ, err := a.Type.lockType()
	if err != nil {
		return LockResult{}, nil, err
	}
	if a.NewLockOwner {
		return t.lockNew(c, a, typ)
	}
	return t.lockExisting(c, a, typ)
}

func (t *Table) lockNew(c Caller, a LockArgs, typ lock.Type) (LockResult, *Seq, error) {
	if len(a.LockOwner) > MaxOwnerLen {
		return LockResult{}, nil, nfserr.Inval
	}
	ost, oo, err := t.lockStateOwner(c, a.OpenStateid, kindOpen)
	if err != nil {
		return LockResult{}, nil, err
	}
	q := t.newSeq(c.Minor)
	q.hold(oo)
	t.mu.Lock()
	if err := t.sequenceLocked(q, oo, a.OpenSeqid); err != nil {
		t.mu.Unlock()
		q.release()
		return LockResult{}, nil, err
	}
	clientid := oo.c.id
	t.mu.Unlock()

	// An existing lock-owner's seqid is checked before the open, so that
	// a seqid-mutating error of the open consumes both seqids, as the
	// client counts them (Linux advances both on any such error).
	lo, _ := t.getOwner(clientid, kindLock, string(a.LockOwner), false, c.Minor)
	t.mu.Lock()
	if lo != nil {
		q.hold(lo)
		if len(lo.states) == 0 {
			// A lock-owner without lock stateids (its LOCKs were
			// denied, or its stateids freed with their open) is new
			// again to the client, which frees its lock-owner and may
			// reuse the owner string with seqid 0 (Linux does, for
			// the next process); Linux nfsd has dropped it by then.
			lo.seq = seqCache{}
		}
		if c.Minor == 0 {
			if lo.seq.valid && a.LockSeqid != lo.seq.last+1 {
				err = nfserr.BadSeqid
			} else {
				t.sequenceLocked(q, lo, a.LockSeqid)
			}
		}
	}
	if err == nil {
		err = t.validateLocked(c, ost, a.OpenStateid, &a.File, false)
	}
	if err == nil && c.Minor == 0 && a.LockOwnerClientid != clientid {
		err = nfserr.BadStateid
	}
	t.mu.Unlock()
	if err != nil {
		return LockResult{}, q.finish(err), err
	}
	if lo == nil {
		// A new lock-owner: its first seqid is accepted.
		lo, err = t.getOwner(clientid, kindLock, string(a.LockOwner), true, c.Minor)
		if err != nil {
			return LockResult{}, q.finish(err), err
		}
		q.hold(lo)
		t.mu.Lock()
		if c.Minor == 0 {
			if lo.seq.valid && a.LockSeqid != lo.seq.last+1 {
				// Created meanwhile by another request.
				err = nfserr.BadSeqid
			} else {
				t.sequenceLocked(q, lo, a.LockSeqid)
			}
		}
	} else {
		t.mu.Lock()
	}
	st := lo.states[a.File]
	if st != nil && st.revoked != 0 {
		// The client locks again what was revoked: a new lock stateid.
		t.removeStateLocked(st)
		st = nil
	}
	// A 4.0 lock-owner with a lock stateid for the file already is
	// given it again, with its locks, as in 4.1: RFC 7530 section
	// 16.10.5 allows NFS4ERR_BAD_SEQID here, but Linux nfsd accepts the
	// open_to_lock_owner4 (its seqid was checked above), and a client
	// that upgraded its open and locks again through it must not lose
	// its lock-owner's sequence.
	if err != nil {
		t.mu.Unlock()
		return LockResult{}, q.finish(err), err
	}
	op := ost
	if st != nil {
		// The lock stateid exists, derived from an open of the file
		// (perhaps another owner's).
		op = st.open
		if err := openOK(op); err != nil {
			t.mu.Unlock()
			return LockResult{}, q.finish(err), err
		}
	}
	return t.lock(c, q, a, typ, op, lo, st)
}

func (t *Table) lockExisting(c Caller, a LockArgs, typ lock.Type) (LockResult, *Seq, error) {
	st, lo, err := t.lockStateOwner(c, a.LockStateid, kindLock)
	if err != nil {
		return LockResult{}, nil, err
	}
	q := t.newSeq(c.Minor)
	q.hold(lo)
	t.mu.Lock()
	if err := t.sequenceLocked(q, lo, a.LockSeqid); err != nil {
		t.mu.Unlock()
		q.release()
		return LockResult{}, nil, err
	}
	err = t.validateLocked(c, st, a.LockStateid, &a.File, false)
	if err == nil {
		err = openOK(st.open)
	}
	if err != nil {
		t.mu.Unlock()
		return LockResult{}, q.finish(err), err
	}
	return t.lock(c, q, a, typ, st.open, lo, st)
}

// openOK checks the open a lock stateid derives from.
func openOK(op *state) error {
	switch {
	case op == nil || op.gone || op.closed:
		return nfserr.BadStateid
	case op.revoked != 0:
		return op.revoked
	}
	return nil
}

// lock sets the lock for LOCK, called with t.mu held (it unlocks it) and
// the owners held by q; st is the lock stateid, nil for a new one.
func (t *Table) lock(c Caller, q *Seq, a LockArgs, typ lock.Type, op *state, lo *owner, st *state) (LockResult, *Seq, error) {
	fail := func(err error) (LockResult, *Seq, error) {
		t.mu.Unlock()
		return LockResult{}, q.finish(err), err
	}
	r, err := lockRange(a.Offset, a.Length)
	if err != nil {
		return fail(err)
	}
	if typ == lock.Write && op.access&ShareWrite == 0 {
		return fail(nfserr.Openmode)
	}
	isNew := st == nil
	if isNew {
		if err := t.reserveStateLocked(lo.c, c.Minor); err != nil {
			return fail(err)
		}
		st = t.newStateLocked(lo, kindLock, a.File)
		st.open = op
		if op.locks == nil {
			op.locks = map[*state]struct{}{}
		}
		op.locks[st] = struct{}{}
	}
	t.mu.Unlock()

	holder, err := t.locks.Lock(lock.Request{File: a.File, Owner: lo.lk, Type: typ, Range: r, Reclaim: a.Reclaim})

	t.mu.Lock()
	if err != nil {
		if isNew {
			t.removeStateLocked(st)
		}
		s := lockErr(err, c.Minor)
		var res LockResult
		if err == lock.ErrConflict {
			res.Denied = deniedOf(holder)
		}
		t.mu.Unlock()
		return res, q.finish(s), s
	}
	if lo.dead || st.gone || st.revoked != 0 || openOK(op) != nil {
		// Released, revoked or closed meanwhile: the lock-owner held
		// nothing else on the file (else the CLOSE would have failed,
		// and a release or revocation dropped all), so unlocking the
		// range takes back exactly what we set.
		status := nfserr.BadStateid
		switch {
		case st.revoked != 0:
			status = st.revoked
		case op.revoked != 0:
			status = op.revoked
		case lo.dead:
			status = nfserr.Expired
		}
		if isNew {
			t.removeStateLocked(st)
		}
		t.mu.Unlock()
		_ = t.locks.Unlock(a.File, lo.lk, r)
		return LockResult{}, q.finish(status), status
	}
	st.held.add(r)
	if isNew {
		st.seqid = 1
	} else {
		st.seqid = nextSeqid(st.seqid)
	}
	res := LockResult{Stateid: t.stateidOf(st)}
	t.mu.Unlock()
	return res, q.finish(nil), nil
}

// LockT is LOCKT (RFC 7530 section 16.11, RFC 8881 section 18.11): would a
// lock of typ over the range conflict with another owner's lock? The
// lock-owner (of client c.Clientid) may be unknown; no state is created.
// A conflict is NFS4ERR_DENIED with its LOCK4denied; during the grace
// period the answer is NFS4ERR_GRACE (as Linux nfsd), since locks may
// still be reclaimed.
func (t *Table) LockT(c Caller, file lock.FileID, typ LockType, offset, length uint64, owner []byte) (*LockDenied, error) {
	lt, err := typ.lockType()
	if err != nil {
		return nil, err
	}
	if len(owner) > MaxOwnerLen {
		return nil, nfserr.Inval
	}
	r, err := lockRange(offset, length)
	if err != nil {
		return nil, err
	}
	if t.locks.InGrace() {
		return nil, nfserr.Grace
	}
	o := lock.Owner{Client: ClientKey(c.Clientid), ID: "l:" + string(owner)}
	if h, conflict := t.locks.Test(lock.Request{File: file, Owner: o, Type: lt, Range: r}); conflict {
		return deniedOf(h), nfserr.Denied
	}
	return nil, nil
}

// Locku is LOCKU (RFC 7530 section 16.12, RFC 8881 section 18.12): it
// releases the lock-owner's locks over the range (splitting locks that
// extend past it; unlocking what is not locked is no error) and returns
// the lock stateid with its seqid incremented. The lock type is not used.
// A lock stateid stays valid when it holds no more locks (RFC 8881
// section 8.2.4). See Seq for the returned *Seq.
func (t *Table) Locku(c Caller, file lock.FileID, seqid uint32, s Stateid, offset, length uint64) (Stateid, *Seq, error) {
	st, lo, err := t.lockStateOwner(c, s, kindLock)
	if err != nil {
		return Stateid{}, nil, err
	}
	q := t.newSeq(c.Minor)
	q.hold(lo)
	t.mu.Lock()
	if err := t.sequenceLocked(q, lo, seqid); err != nil {
		t.mu.Unlock()
		q.release()
		return Stateid{}, nil, err
	}
	err = t.validateLocked(c, st, s, &file, false)
	if err == nil {
		err = openOK(st.open)
	}
	var r lock.Range
	if err == nil {
		r, err = lockRange(offset, length)
	}
	t.mu.Unlock()
	if err != nil {
		return Stateid{}, q.finish(err), err
	}

	err = t.locks.Unlock(file, lo.lk, r)

	t.mu.Lock()
	if err != nil {
		t.mu.Unlock()
		s := lockErr(err, c.Minor)
		return Stateid{}, q.finish(s), s
	}
	if st.gone || st.revoked != 0 {
		status := nfserr.BadStateid
		if st.revoked != 0 {
			status = st.revoked
		}
		t.mu.Unlock()
		return Stateid{}, q.finish(status), status
	}
	st.held.remove(r)
	st.seqid = nextSeqid(st.seqid)
	sid := t.stateidOf(st)
	t.mu.Unlock()
	return sid, q.finish(nil), nil
}

// ReleaseLockOwner is RELEASE_LOCKOWNER (RFC 7530 section 16.37; 4.0
// only): it frees the lock-owner and its lock stateids, or fails with
// NFS4ERR_LOCKS_HELD if any of them holds locks. An unknown lock-owner
// is no error.
func (t *Table) ReleaseLockOwner(clientid uint64, owner []byte) error {
	if len(owner) > MaxOwnerLen {
		return nfserr.Inval
	}
	lo, err := t.getOwner(clientid, kindLock, string(owner), false, 0)
	if lo == nil || err != nil {
		return err
	}
	t.mu.Lock()
	for _, st := range lo.states {
		if len(st.held) > 0 {
			t.releaseOwnerLocked(lo, 0)
			t.mu.Unlock()
			lo.mu.Unlock()
			return nfserr.LocksHeld
		}
	}
	t.killOwnerLocked(lo)
	lo.refs--
	t.mu.Unlock()
	lo.mu.Unlock()
	return nil
}

// rangeSet is the set of byte ranges a lock stateid holds, whatever their
// types: sorted, disjoint and not adjacent.
type rangeSet []lock.Range

func touches(a, b lock.Range) bool {
	return (a.Start <= b.End && b.Start <= a.End) ||
		(a.End != lock.EOF && a.End+1 == b.Start) || (b.End != lock.EOF && b.End+1 == a.Start)
}

func (s *rangeSet) add(r lock.Range) {
	out := make(rangeSet, 0, len(*s)+1)
	placed := false
	for _, x := range *s {
		switch {
		case touches(x, r):
			r.Start = min(r.Start, x.Start)
			r.End = max(r.End, x.End)
		case x.End < r.Start:
			out = append(out, x)
		default: // x lies after r
			if !placed {
				out = append(out, r)
				placed = true
			}
			out = append(out, x)
		}
	}
	if !placed {
		out = append(out, r)
	}
	*s = out
}

func (s *rangeSet) remove(r lock.Range) {
	out := make(rangeSet, 0, len(*s)+1)
	for _, x := range *s {
		if x.End < r.Start || r.End < x.Start {
			out = append(out, x)
			continue
		}
		if x.Start < r.Start {
			out = append(out, lock.Range{Start: x.Start, End: r.Start - 1})
		}
		if x.End > r.End {
			out = append(out, lock.Range{Start: r.End + 1, End: x.End})
		}
	}
	if len(out) == 0 {
		out = nil
	}
	*s = out
}
