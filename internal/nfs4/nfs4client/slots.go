package nfs4client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
)

// ConcurrentSession is an NFSv4.1 (or 4.2) session whose fore channel
// slots (RFC 8881 section 2.10.6) are used by many goroutines at once, as
// a real client uses them: the slot table has ca_maxrequests slots as
// negotiated by CREATE_SESSION; each call takes the lowest free slot,
// sends SEQUENCE with that slot's next sequence id and sa_highest_slotid
// set to the highest slot it has a request outstanding on, and frees the
// slot when the reply has arrived. A call waits while every slot is busy.
// It is safe for concurrent use (the Client, over one connection, is).
//
// Slot accounting follows RFC 8881 section 2.10.6.1: a slot's sequence id
// advances when the server has executed the SEQUENCE (whatever the status
// of the rest of the COMPOUND); a reply in which SEQUENCE itself failed,
// or an RPC-level rejection, leaves it where it was. A call that gets no
// reply (transport error, ctx done) leaves the slot in an unknown state:
// the slot is retired and not used again. Slots above the server's last
// sr_target_highest_slotid are not handed out while lower ones would do.
type ConcurrentSession struct {
	C          *Client
	Minor      uint32
	Clientid   uint64
	ID         SessionID
	Flags      uint32       // csr_flags
	Fore, Back ChannelAttrs // as negotiated

	mu      sync.Mutex
	slots   []slotState
	limit   uint32 // highest slot id handed out: min(len-1, server's target)
	live    int    // slots not retired
	waiters int
	wake    chan struct{} // closed (and replaced) when a slot is freed
}

// slotState is the client's view of one slot.
type slotState struct {
	seq     uint32 // sequence id last sent (and, when idle, last executed)
	busy    bool
	retired bool
}

// ErrNoSlots is returned by a ConcurrentSession whose slots have all been
// retired (every one lost a reply).
var ErrNoSlots = errors.New("nfs4client: no usable session slot")

// ErrBadReply wraps the error of a reply that does not decode, or whose
// SEQUENCE result is not the answer to the SEQUENCE sent.
var ErrBadReply = errors.New("nfs4client: bad COMPOUND reply")

// MaxSlots bounds the slot table of a ConcurrentSession, whatever the
// server grants (RFC 8881 leaves ca_maxrequests unbounded).
const MaxSlots = 1024

// CreateSessionFor sends CREATE_SESSION (alone) for the client ID clientid
// with csa_sequence seq (eir_sequenceid for the first session of a client
// ID, one more for each further session), fore channel attributes fore,
// DefaultBackAttrs and no flags, and returns the session ready for
// concurrent use. The first session of a client must still send
// RECLAIM_COMPLETE before it opens files.
func (c *Client) CreateSessionFor(ctx context.Context, minor uint32, clientid uint64, seq uint32, fore ChannelAttrs) (*ConcurrentSession, error) {
	res, err := c.do(ctx, minor, CreateSession(CreateSessionArgs{Clientid: clientid, Sequence: seq,
		Fore: fore, Back: DefaultBackAttrs, CbProgram: 0x40000000,
		SecParms: []CallbackSec{{Flavor: AUTH_NONE}}}))
	if err != nil {
		return nil, fmt.Errorf("CREATE_SESSION: %w", err)
	}
	cs, err := res.Ops[0].CreateSession()
	if err != nil {
		return nil, fmt.Errorf("CREATE_SESSION: %w", err)
	}
	return NewConcurrentSession(c, minor, clientid, cs), nil
}

// NewConcurrentSession returns the session of a CREATE_SESSION result cs,
// over c, with cs.Fore.MaxRequests slots (at least 1, at most MaxSlots).
func NewConcurrentSession(c *Client, minor uint32, clientid uint64, cs *CreateSessionRes) *ConcurrentSession {
	n := min(max(cs.Fore.MaxRequests, 1), MaxSlots)
	return &ConcurrentSession{C: c, Minor: minor, Clientid: clientid, ID: cs.Sessionid, Flags: cs.Flags,
		Fore: cs.Fore, Back: cs.Back, slots: make([]slotState, n), limit: n - 1, live: int(n),
		wake: make(chan struct{})}
}

// Slots returns the number of slots of the session's table.
func (s *ConcurrentSession) Slots() int { return len(s.slots) }

// acquire takes the lowest free slot, counts its next sequence id as sent
// and returns the slot, that id and sa_highest_slotid.
func (s *ConcurrentSession) acquire(ctx context.Context) (slot, seq, highest uint32, err error) {
	s.mu.Lock()
	for {
		if s.live == 0 {
			s.mu.Unlock()
			return 0, 0, 0, ErrNoSlots
		}
		free := -1
		for i := 0; i <= int(s.limit); i++ {
			if !s.slots[i].busy && !s.slots[i].retired {
				free = i
				break
			}
		}
		if free < 0 && s.busyUsable() == 0 {
			// Every slot up to the target is retired: fall back on the
			// slots above it rather than wait for nothing.
			for i := int(s.limit) + 1; i < len(s.slots); i++ {
				if !s.slots[i].busy && !s.slots[i].retired {
					free = i
					break
				}
			}
		}
		if free >= 0 {
			st := &s.slots[free]
			st.busy = true
			st.seq++
			seq = st.seq
			highest = uint32(free)
			for i := len(s.slots) - 1; i > free; i-- {
				if s.slots[i].busy {
					highest = uint32(i)
					break
				}
			}
			s.mu.Unlock()
			return uint32(free), seq, highest, nil
		}
		wake := s.wake
		s.waiters++
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			s.mu.Lock()
			s.waiters--
			s.mu.Unlock()
			return 0, 0, 0, ctx.Err()
		}
		s.mu.Lock()
		s.waiters--
	}
}

// busyUsable counts the slots up to the limit with a request outstanding
// (that will come back); s.mu must be held.
func (s *ConcurrentSession) busyUsable() int {
	n := 0
	for i := 0; i <= int(s.limit); i++ {
		if s.slots[i].busy && !s.slots[i].retired {
			n++
		}
	}
	return n
}

// release frees slot. used reports whether the server executed the
// SEQUENCE (else its sequence id is taken back); retire marks the slot
// unusable. target is the server's sr_target_highest_slotid when known.
func (s *ConcurrentSession) release(slot uint32, used, retire bool, target *uint32) {
	s.mu.Lock()
	st := &s.slots[slot]
	st.busy = false
	switch {
	case retire:
		st.retired = true
		st.busy = true // its request may still be outstanding at the server
		s.live--
	case !used:
		st.seq--
	}
	if target != nil {
		s.limit = min(*target, uint32(len(s.slots)-1))
	}
	if s.waiters > 0 || s.live == 0 {
		close(s.wake)
		s.wake = make(chan struct{})
	}
	s.mu.Unlock()
}

// Do sends SEQUENCE and ops on a free slot, with sa_cachethis set when
// ops hold an operation that is not idempotent (Modifies), as the Linux
// client does. The error is for the transport, an RPC rejection or a
// reply that does not decode (ErrBadReply); the statuses are in the
// Result.
func (s *ConcurrentSession) Do(ctx context.Context, ops ...Op) (*Result, error) {
	return s.Call(ctx, Modifies(ops...), ops...)
}

// MustDo is Do that also fails on a status other than NFS4_OK.
func (s *ConcurrentSession) MustDo(ctx context.Context, ops ...Op) (*Result, error) {
	res, err := s.Do(ctx, ops...)
	if err != nil {
		return nil, err
	}
	return res, res.Err()
}

// Call is Do with sa_cachethis given.
func (s *ConcurrentSession) Call(ctx context.Context, cacheThis bool, ops ...Op) (*Result, error) {
	slot, seq, highest, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	all := make([]Op, 0, len(ops)+1)
	all = append(all, Sequence(s.ID, seq, slot, highest, cacheThis))
	all = append(all, ops...)
	// The arguments are encoded in a pooled buffer: the RPC client copies
	// them into the call it sends.
	bp := argBufs.Get().(*[]byte)
	args := Compound{Tag: s.C.Tag, Minor: s.Minor, Ops: all}.AppendEncode((*bp)[:0])
	raw, err := s.C.CallRaw(ctx, args)
	if cap(args) <= maxPooledArgs {
		*bp = args[:0]
		argBufs.Put(bp)
	}
	if err != nil {
		var re *oncrpc.RPCError
		if errors.As(err, &re) {
			// Rejected before the COMPOUND ran: the slot is untouched.
			s.release(slot, false, false, nil)
		} else {
			s.release(slot, false, true, nil)
		}
		return nil, err
	}
	res, err := DecodeResult(raw)
	if err != nil {
		// The server answered: it has seen the slot's sequence id.
		s.release(slot, true, false, nil)
		return nil, fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	if len(res.Ops) == 0 || res.Ops[0].Op != OP_SEQUENCE || res.Ops[0].Status != NFS4_OK {
		// SEQUENCE did not run or failed: the slot was not used
		// (RFC 8881 section 18.46.3).
		s.release(slot, false, false, nil)
		return res, nil
	}
	sr, err := res.Ops[0].Sequence()
	if err == nil && (sr.Sessionid != s.ID || sr.Sequenceid != seq || sr.Slotid != slot) {
		err = fmt.Errorf("SEQUENCE reply for slot %d sequence id %d, sent slot %d sequence id %d", sr.Slotid, sr.Sequenceid, slot, seq)
	}
	if err != nil {
		s.release(slot, true, false, nil)
		return nil, fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	s.release(slot, true, false, &sr.TargetHighestSlotid)
	return res, nil
}

// argBufs holds buffers for the arguments of ConcurrentSession calls.
var argBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledArgs bounds the buffers kept in argBufs (a WRITE of the largest
// transfer and its headers).
const maxPooledArgs = 4 << 20

// Destroy sends DESTROY_SESSION (alone).
func (s *ConcurrentSession) Destroy(ctx context.Context) error {
	if _, err := s.C.do(ctx, s.Minor, DestroySession(s.ID)); err != nil {
		return fmt.Errorf("DESTROY_SESSION: %w", err)
	}
	return nil
}

// DestroyClientid sends DESTROY_CLIENTID (alone) for clientid, whose
// sessions and state must be gone (NFS4ERR_CLIENTID_BUSY otherwise).
func (c *Client) DestroyClientid(ctx context.Context, minor uint32, clientid uint64) error {
	if _, err := c.do(ctx, minor, DestroyClientid(clientid)); err != nil {
		return fmt.Errorf("DESTROY_CLIENTID: %w", err)
	}
	return nil
}

// Modifies reports whether ops hold an operation that changes state on
// the server (a file system object, or open, lock or client state), whose
// reply a client asks the server to cache (sa_cachethis) so that a retry
// is not executed twice.
func Modifies(ops ...Op) bool {
	for _, o := range ops {
		switch o.Num {
		case OP_CLOSE, OP_COMMIT, OP_CREATE, OP_DELEGRETURN, OP_LINK, OP_LOCK, OP_LOCKU, OP_OPEN,
			OP_OPEN_DOWNGRADE, OP_REMOVE, OP_RENAME, OP_SETATTR, OP_WRITE, OP_FREE_STATEID,
			OP_RECLAIM_COMPLETE, OP_LAYOUTCOMMIT, OP_LAYOUTRETURN:
			return true
		}
	}
	return false
}
