package open

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

const testEpoch = 7

var (
	fA = lock.FileID{Export: 1, Object: "A"}
	fB = lock.FileID{Export: 1, Object: "B"}
	fC = lock.FileID{Export: 2, Object: "C"}

	nlmOwner = lock.Owner{Client: "nlm:10.0.0.9", ID: "oh", Svid: 42}
)

const all = math.MaxUint64

func c40(id uint64) Caller { return Caller{Minor: 0, Clientid: id} }
func c41(id uint64) Caller { return Caller{Minor: 1, Clientid: id} }

type env struct {
	t  *testing.T
	tb *Table
	m  *lock.Manager
}

func newEnv(t *testing.T, lim Limits) *env {
	m := lock.New(lock.Config{})
	return &env{t: t, tb: New(m, testEpoch, lim), m: m}
}

// st returns the status of err (Replay as -1).
func st(err error) nfserr.Status {
	var rp *Replay
	if errors.As(err, &rp) {
		return nfserr.Status(math.MaxUint32)
	}
	return nfserr.Of(err)
}

func (e *env) want(what string, err error, want nfserr.Status) {
	e.t.Helper()
	if got := st(err); got != want {
		e.t.Fatalf("%s: status %v, want %v (err %v)", what, got, want, err)
	}
}

func reply(op string, seqid uint32) []byte { return []byte(fmt.Sprintf("%s@%d", op, seqid)) }

// open runs a whole OPEN (Begin, Open, Done with reply "open@seqid").
func (e *env) open(c Caller, owner string, seqid uint32, f lock.FileID, access, deny uint8, reclaim bool) (OpenResult, error) {
	tx, err := e.tb.BeginOpen(c, []byte(owner), seqid)
	if err != nil {
		return OpenResult{}, err
	}
	res, err := tx.Open(f, access, deny, reclaim)
	tx.Done(err, reply("open", seqid))
	return res, err
}

func (e *env) mustOpen(c Caller, owner string, seqid uint32, f lock.FileID, access, deny uint8) OpenResult {
	e.t.Helper()
	res, err := e.open(c, owner, seqid, f, access, deny, false)
	if err != nil {
		e.t.Fatalf("open %s %v: %v", owner, f, err)
	}
	return res
}

// open40 opens and confirms with a new 4.0 owner at seqids seqid and
// seqid+1 and returns the confirmed stateid.
func (e *env) open40(clientid uint64, owner string, seqid uint32, f lock.FileID, access, deny uint8) Stateid {
	e.t.Helper()
	res := e.mustOpen(c40(clientid), owner, seqid, f, access, deny)
	if !res.Confirm {
		e.t.Fatalf("open40 %s: no confirm", owner)
	}
	sid, err := e.confirm(c40(clientid), f, seqid+1, res.Stateid)
	if err != nil {
		e.t.Fatalf("confirm %s: %v", owner, err)
	}
	return sid
}

func (e *env) confirm(c Caller, f lock.FileID, seqid uint32, s Stateid) (Stateid, error) {
	sid, q, err := e.tb.OpenConfirm(c, f, seqid, s)
	q.Done(err, reply("confirm", seqid))
	return sid, err
}

func (e *env) close(c Caller, f lock.FileID, seqid uint32, s Stateid) (Stateid, error) {
	sid, q, err := e.tb.Close(c, f, seqid, s)
	q.Done(err, reply("close", seqid))
	return sid, err
}

func (e *env) downgrade(c Caller, f lock.FileID, seqid uint32, s Stateid, access, deny uint8) (Stateid, error) {
	sid, q, err := e.tb.OpenDowngrade(c, f, seqid, s, access, deny)
	q.Done(err, reply("downgrade", seqid))
	return sid, err
}

// lockNew is LOCK with open_to_lock_owner4 (reply "lock@openseqid").
func (e *env) lockNew(c Caller, f lock.FileID, typ LockType, off, length uint64, osid Stateid, oseq uint32, lowner string, lseq uint32) (LockResult, error) {
	res, q, err := e.tb.Lock(c, LockArgs{File: f, Type: typ, Offset: off, Length: length, NewLockOwner: true,
		OpenSeqid: oseq, OpenStateid: osid, LockOwnerClientid: c.Clientid, LockOwner: []byte(lowner), LockSeqid: lseq})
	q.Done(err, reply("lock", oseq))
	return res, err
}

// lockOld is LOCK with exist_lock_owner4 (reply "lockx@lseq").
func (e *env) lockOld(c Caller, f lock.FileID, typ LockType, off, length uint64, lsid Stateid, lseq uint32) (LockResult, error) {
	res, q, err := e.tb.Lock(c, LockArgs{File: f, Type: typ, Offset: off, Length: length, LockStateid: lsid, LockSeqid: lseq})
	q.Done(err, reply("lockx", lseq))
	return res, err
}

func (e *env) locku(c Caller, f lock.FileID, seqid uint32, s Stateid, off, length uint64) (Stateid, error) {
	sid, q, err := e.tb.Locku(c, f, seqid, s, off, length)
	q.Done(err, reply("locku", seqid))
	return sid, err
}

// held returns the ranges the lock.Manager holds for a v4 lock-owner.
func (e *env) held(clientid uint64, lowner string, f lock.FileID) []lock.Range {
	var out []lock.Range
	for _, l := range e.m.Locks() {
		if l.File == f && l.Owner == (lock.Owner{Client: ClientKey(clientid), ID: "l:" + lowner}) {
			out = append(out, l.Range)
		}
	}
	return out
}
