package open

import (
	"slices"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// Replay is the error of a 4.0 operation that repeats its owner's last
// seqid: a retransmission (RFC 7530 section 9.1.9). The server answers
// with Reply, the operation's result as cached by Seq.Done, instead of
// running the operation (nothing has been done). Test for it with
// errors.As before nfserr.Of, which maps it to NFS4ERR_SERVERFAULT.
// Reply is shared: it must not be modified.
type Replay struct {
	Reply []byte
}

func (r *Replay) Error() string { return "nfs4/open: retransmitted request (RFC 7530 section 9.1.9)" }

// seqidMutating reports whether an operation that ended with status
// consumes the owner's seqid: all but the errors RFC 7530 section 9.1.7
// lists.
func seqidMutating(s nfserr.Status) bool {
	switch s {
	case nfserr.StaleClientid, nfserr.StaleStateid, nfserr.BadStateid, nfserr.BadSeqid,
		nfserr.Badxdr, nfserr.Resource, nfserr.Nofilehandle, nfserr.Moved:
		return false
	}
	return true
}

// Seq holds the owners of a running 4.0 operation that carries a seqid
// (OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, LOCK, LOCKU). Operations of
// those owners wait until Done; a retransmission among them then finds
// the cached reply.
//
// Every *Seq an operation returns must be ended by exactly one call of
// Done, after the server has encoded the operation's result and before
// it runs the COMPOUND's next operation. A nil *Seq (4.1, or an
// operation that failed before it knew its owner) needs nothing; Done on
// it does nothing.
type Seq struct {
	t     *Table
	minor uint32
	ents  []seqEnt
	done  bool
}

type seqEnt struct {
	o       *owner
	seqid   uint32
	counted bool // the operation consumes the owner's seqid
}

func (t *Table) newSeq(minor uint32) *Seq { return &Seq{t: t, minor: minor} }

// hold adds an owner that is locked and referenced.
func (q *Seq) hold(o *owner) { q.ents = append(q.ents, seqEnt{o: o}) }

// Done ends the operation. status is its final result as the server
// encodes it (nil for NFS4_OK; it may come from outside this package, as
// OPEN's NFS4ERR_NOENT); reply is the encoded result that a
// retransmission gets. Unless status is one of the errors RFC 7530
// section 9.1.7 excepts, the owners' seqids advance and reply (copied) is
// cached.
func (q *Seq) Done(status error, reply []byte) {
	if q == nil || q.done {
		return
	}
	q.done = true
	t := q.t
	mutating := seqidMutating(nfserr.Of(status))
	var cp []byte
	t.mu.Lock()
	for _, e := range q.ents {
		o := e.o
		if e.counted && mutating && !o.dead {
			o.seq.valid = true
			o.seq.last = e.seqid
			o.seq.cached = false
			if len(reply) <= t.lim.MaxReply {
				if cp == nil {
					cp = slices.Clone(reply)
					if cp == nil {
						cp = []byte{}
					}
				}
				// Owners share the copy, which is never modified.
				o.seq.reply = cp
				o.seq.cached = true
			} else {
				o.seq.reply = nil
			}
		}
		t.releaseOwnerLocked(o, q.minor)
	}
	t.mu.Unlock()
	for i := len(q.ents) - 1; i >= 0; i-- {
		q.ents[i].o.mu.Unlock()
	}
}

// release ends an operation that did not consume any seqid.
func (q *Seq) release() {
	for i := range q.ents {
		q.ents[i].counted = false
	}
	q.Done(nil, nil)
}

// finish returns q to the caller in 4.0; in 4.1 it ends q at once.
func (q *Seq) finish(status error) *Seq {
	if q.minor >= 1 {
		q.Done(status, nil)
		return nil
	}
	return q
}

// sequenceLocked applies the 4.0 owner seqid rules (RFC 7530 section
// 9.1.7) to o, held by q: the first seqid of a new owner is accepted, then
// each must be the last plus one; the last again is a retransmission. On
// success the operation consumes seqid. In 4.1 it does nothing.
func (t *Table) sequenceLocked(q *Seq, o *owner, seqid uint32) error {
	if q.minor >= 1 {
		return nil
	}
	if o.seq.valid {
		switch seqid {
		case o.seq.last:
			if !o.seq.cached {
				return nfserr.Serverfault
			}
			return &Replay{Reply: o.seq.reply}
		case o.seq.last + 1:
		default:
			return nfserr.BadSeqid
		}
	}
	for i := range q.ents {
		if q.ents[i].o == o {
			q.ents[i].counted = true
			q.ents[i].seqid = seqid
		}
	}
	// The closed open kept for a retransmitted CLOSE is no longer needed.
	if o.lastClosed != nil {
		t.removeStateLocked(o.lastClosed)
	}
	return nil
}
