package nlm

import (
	"context"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Blocking locks. A LOCK with block set that conflicts becomes a block:
// a waiter in the lock manager plus what is needed to call the client
// back once the manager grants it. Its life:
//
//	pending      LockWait is being called by the LOCK handler
//	waiting      queued in the manager; the client was told BLOCKED
//	grantedEarly granted while pending: the LOCK handler answers GRANTED
//	failedEarly  dropped by the manager while pending
//	granting     granted; the GRANTED callback is in progress
//	cancelled    withdrawn (CANCEL, UNLOCK, client or export dropped) while
//	             not granted: if the manager grants it nonetheless, the
//	             lock is released at once
//	done         finished, out of the tables
//
// All transitions happen under Server.mu; calls into the lock manager are
// made without it (the manager calls wakeBlock, which takes it).

type blockState uint8

const (
	blkPending blockState = iota
	blkWaiting
	blkGrantedEarly
	blkFailedEarly
	blkGranting
	blkCancelled
	blkDone
)

// blockKey identifies a request as the Linux lockd compares them: owner,
// file, range and type.
type blockKey struct {
	owner lock.Owner
	file  lock.FileID
	rng   lock.Range
	excl  bool
}

type block struct {
	key           blockKey
	w             *lock.Waiter
	state         blockState
	async         bool // the client used LOCK_MSG: call back with GRANTED_MSG
	vers          uint32
	client, local netip.Addr
	args          TestArgs // of the GRANTED callback (owned copies)
	cookie        uint64   // of the GRANTED callback, for GRANTED_RES
	res           chan Stat
	ctx           context.Context
	cancel        context.CancelFunc
}

// removeLocked takes b out of the tables.
func (s *Server) removeLocked(b *block) {
	if s.blocks[b.key] == b {
		delete(s.blocks, b.key)
	}
	if b.cookie != 0 && s.byCookie[b.cookie] == b {
		delete(s.byCookie, b.cookie)
	}
	if b.cancel != nil {
		b.cancel()
	}
}

// lockBlocking serves a LOCK with block set.
func (s *Server) lockBlocking(call *oncrpc.Call, a *LockArgs, req lock.Request, async bool) Stat {
	key := blockKey{req.Owner, req.File, req.Range, a.Exclusive}
	s.mu.Lock()
	if b := s.blocks[key]; b != nil {
		switch b.state {
		case blkPending, blkWaiting:
			// A retransmission, or the client polling.
			s.mu.Unlock()
			return Blocked
		case blkGranting:
			// The owner holds the lock already: confirm it.
			s.mu.Unlock()
			_, err := s.locks.Lock(req)
			if err == nil {
				s.finish(b, false, "confirmed by LOCK")
			}
			return statOf(err)
		}
	}
	b := &block{key: key, state: blkPending, async: async, vers: call.Vers,
		client: call.Remote.Addr().Unmap(), local: call.Local.Addr().Unmap(), res: make(chan Stat, 1)}
	b.args = TestArgs{Exclusive: a.Exclusive, Lock: Lock4{CallerName: s.name,
		FH: append([]byte(nil), a.Lock.FH...), OH: append([]byte(nil), a.Lock.OH...),
		Svid: a.Lock.Svid, Offset: a.Lock.Offset, Len: a.Lock.Len}}
	s.blocks[key] = b
	s.mu.Unlock()

	w, err := s.locks.LockWait(req, func(err error) { s.wakeBlock(b, err) })

	s.mu.Lock()
	b.w = w
	switch {
	case err != nil || w == nil:
		b.state = blkDone
		s.removeLocked(b)
		s.mu.Unlock()
		return statOf(err)
	}
	switch b.state {
	case blkPending:
		b.state = blkWaiting
		s.mu.Unlock()
		return Blocked
	case blkGrantedEarly:
		b.state = blkDone
		s.removeLocked(b)
		s.mu.Unlock()
		return Granted
	case blkFailedEarly:
		b.state = blkDone
		s.removeLocked(b)
		s.mu.Unlock()
		return DeniedNoLocks
	default: // cancelled, or granted early and cancelled (done)
		s.mu.Unlock()
		s.locks.Cancel(w) // if granted meanwhile, wakeBlock releases it
		return Denied
	}
}

// wakeBlock is the notify function of a block's waiter.
func (s *Server) wakeBlock(b *block, err error) {
	s.mu.Lock()
	switch b.state {
	case blkPending:
		if err == nil {
			b.state = blkGrantedEarly
		} else {
			b.state = blkFailedEarly
		}
		s.mu.Unlock()
	case blkWaiting:
		if err != nil {
			b.state = blkDone
			s.removeLocked(b)
			s.mu.Unlock()
			s.log.Info("nlm: blocked lock request dropped", "client", b.client.String(), "err", err)
			s.unmonitorIfIdle(b.client)
			return
		}
		b.state = blkGranting
		b.cookie = s.cookie.Add(1)
		if b.cookie == 0 {
			b.cookie = s.cookie.Add(1)
		}
		s.byCookie[b.cookie] = b
		b.args.Cookie = binary.BigEndian.AppendUint64(nil, b.cookie)
		b.ctx, b.cancel = context.WithCancel(s.ctx)
		s.mu.Unlock()
		if !s.background(func() { s.grantLoop(b) }) {
			s.finish(b, false, "server closed")
		}
	case blkCancelled:
		b.state = blkDone
		s.mu.Unlock()
		if err == nil {
			s.locks.Unlock(b.key.file, b.key.owner, b.key.rng)
		}
	default:
		s.mu.Unlock()
	}
}

// cancelBlock withdraws the request key (CANCEL, and UNLOCK of the same
// range). A request granted but not confirmed is released.
func (s *Server) cancelBlock(key blockKey) {
	s.mu.Lock()
	b := s.blocks[key]
	if b == nil {
		s.mu.Unlock()
		return
	}
	var w *lock.Waiter
	release := false
	switch b.state {
	case blkPending:
		b.state = blkCancelled
	case blkWaiting:
		b.state = blkCancelled
		w = b.w
	case blkGrantedEarly, blkGranting:
		b.state = blkDone
		release = true
	default:
		b.state = blkDone
	}
	s.removeLocked(b)
	s.mu.Unlock()
	if w != nil {
		s.locks.Cancel(w) // false: being granted; wakeBlock releases it
	}
	if release {
		s.locks.Unlock(key.file, key.owner, key.rng)
	}
}

// dropBlockLocked withdraws b because its client's or export's state is
// being dropped (the caller then drops the locks and waiters in the
// manager). Called with s.mu held.
func (s *Server) dropBlockLocked(b *block) {
	switch b.state {
	case blkPending, blkWaiting:
		b.state = blkCancelled
	default:
		b.state = blkDone
	}
	s.removeLocked(b)
}

// finish ends the callbacks of a granted block, releasing the lock if
// release is set. It does nothing if the block was resolved otherwise.
func (s *Server) finish(b *block, release bool, why string) {
	s.mu.Lock()
	if b.state != blkGranting {
		s.mu.Unlock()
		return
	}
	b.state = blkDone
	s.removeLocked(b)
	s.mu.Unlock()
	if release {
		s.locks.Unlock(b.key.file, b.key.owner, b.key.rng)
		s.log.Info("nlm: granted lock released: "+why, "client", b.client.String(), "svid", b.key.owner.Svid)
		s.unmonitorIfIdle(b.client)
	} else {
		s.log.Debug("nlm: blocked lock granted: "+why, "client", b.client.String(), "svid", b.key.owner.Svid)
	}
}

// grantLoop calls the client back until it confirms a granted lock, or
// gives up and releases it.
func (s *Server) grantLoop(b *block) {
	maybeDelivered := false
	for attempt := 1; attempt <= s.attempts; attempt++ {
		if attempt > 1 {
			pause := min(s.timeout, time.Second) << (attempt - 2)
			select {
			case <-b.ctx.Done():
				return
			case st := <-b.res:
				if s.grantAnswer(b, st, maybeDelivered) {
					return
				}
			case <-time.After(pause):
			}
		}
		st, delivered, err := s.sendGranted(b)
		if b.ctx.Err() != nil {
			return // resolved meanwhile (CANCEL, UNLOCK, LOCK, client dropped)
		}
		if err != nil {
			maybeDelivered = maybeDelivered || delivered
			s.log.Debug("nlm: GRANTED callback failed", "client", b.client.String(), "attempt", attempt, "err", err)
			continue
		}
		if s.grantAnswer(b, st, maybeDelivered) {
			return
		}
	}
	s.finish(b, true, "client did not answer the GRANTED callback")
}

// grantAnswer handles the client's answer to GRANTED; false means try
// again.
func (s *Server) grantAnswer(b *block, st Stat, maybeDelivered bool) bool {
	switch st {
	case Granted:
		s.finish(b, false, "confirmed by the client")
		return true
	case DeniedGracePeriod:
		return false
	default:
		// The client does not wait for this lock: it gave up, or took an
		// earlier GRANTED whose answer was lost.
		s.finish(b, !maybeDelivered, "refused by the client ("+st.String()+")")
		return true
	}
}

func (s *Server) cred() oncrpc.Cred {
	return oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: s.name})
}

// sendGranted sends one GRANTED (or GRANTED_MSG, then waits for
// GRANTED_RES) and returns the client's answer. delivered reports whether
// the call may have reached the client's lock manager.
func (s *Server) sendGranted(b *block) (st Stat, delivered bool, err error) {
	ctx, cancel := context.WithTimeout(b.ctx, s.timeout)
	defer cancel()
	port, err := nsm.GetPort(ctx, s.dial, b.local, b.client, Prog, b.vers)
	if err != nil {
		return 0, false, err
	}
	nc, err := s.dial(ctx, b.local, netip.AddrPortFrom(b.client, port))
	if err != nil {
		return 0, false, err
	}
	c := oncrpc.NewClient(nc)
	defer c.Close()
	var w xdr.Writer
	b.args.Encode(&w)
	if !b.async {
		res, err := c.Call(ctx, Prog, b.vers, ProcGranted, s.cred(), w.B)
		if err != nil {
			return 0, true, err
		}
		var r Res
		rd := xdr.NewReader(res)
		r.Decode(rd)
		if rd.Err() != nil {
			return 0, true, rd.Err()
		}
		return r.Stat, true, nil
	}
	// GRANTED_MSG: the reply is empty; the answer is a GRANTED_RES call,
	// which may come before that reply.
	callErr := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, Prog, b.vers, ProcGrantedMsg, s.cred(), w.B)
		callErr <- err
	}()
	for {
		select {
		case st := <-b.res:
			return st, true, nil
		case err := <-callErr:
			if err != nil && ctx.Err() == nil {
				return 0, true, err
			}
			callErr = nil
		case <-ctx.Done():
			return 0, true, ctx.Err()
		}
	}
}

// grantedRes handles GRANTED_RES: the answer to a GRANTED_MSG.
func (s *Server) grantedRes(cookie []byte, st Stat) {
	if len(cookie) != 8 {
		return
	}
	s.mu.Lock()
	b := s.byCookie[binary.BigEndian.Uint64(cookie)]
	s.mu.Unlock()
	if b == nil {
		return
	}
	select {
	case b.res <- st:
	default:
	}
}

// unmonitorIfIdle marks the client's NSM entry idle once it holds nothing.
func (s *Server) unmonitorIfIdle(addr netip.Addr) {
	if s.nsm != nil && !s.locks.ClientActive(ClientKey(addr)) {
		s.nsm.Unmonitor(addr)
	}
}
