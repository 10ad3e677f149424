package nlm

import (
	"context"
	"errors"
	"math"
	"strings"
	"syscall"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// ServeRPC implements oncrpc.Handler.
func (s *Server) ServeRPC(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	r := xdr.NewReader(call.Args)
	switch call.Proc {
	case ProcNull:
		return nil

	case ProcTest, ProcTestMsg:
		var a TestArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		res := s.test(ctx, call, &a)
		return s.reply(call, w, ProcTestMsg, ProcTestRes, res.Encode)

	case ProcLock, ProcLockMsg, ProcNMLock:
		var a LockArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		st := s.lock(ctx, call, &a)
		if st == statDrop {
			return oncrpc.ErrDrop
		}
		res := Res{Cookie: a.Cookie, Stat: st}
		return s.reply(call, w, ProcLockMsg, ProcLockRes, res.Encode)

	case ProcCancel, ProcCancelMsg:
		var a CancArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		res := Res{Cookie: a.Cookie, Stat: s.cancelReq(ctx, call, &a)}
		return s.reply(call, w, ProcCancelMsg, ProcCancelRes, res.Encode)

	case ProcUnlock, ProcUnlockMsg:
		var a UnlockArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		res := Res{Cookie: a.Cookie, Stat: s.unlock(ctx, call, &a)}
		return s.reply(call, w, ProcUnlockMsg, ProcUnlockRes, res.Encode)

	case ProcGranted, ProcGrantedMsg:
		// A callback for a client: this server waits for no lock.
		var a TestArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		if call.Proc == ProcGranted {
			res := Res{Cookie: a.Cookie, Stat: Denied}
			res.Encode(w)
		}
		return nil

	case ProcTestRes, ProcLockRes, ProcCancelRes, ProcUnlockRes:
		// Answers to _MSG requests this server never sends.
		return nil

	case ProcGrantedRes:
		var a Res
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		s.grantedRes(a.Cookie, a.Stat)
		return nil

	case ProcShare, ProcUnshare:
		var a ShareArgs
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		res := ShareRes{Cookie: a.Cookie}
		if call.Proc == ProcShare {
			res.Stat = s.share(ctx, call, &a)
		} else {
			res.Stat = s.unshare(ctx, call, &a)
		}
		res.Encode(w)
		return nil

	case ProcFreeAll:
		var a Notify
		a.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		addr := call.Remote.Addr().Unmap()
		n := s.dropClient(addr)
		s.log.Info("nlm: FREE_ALL", "client", addr.String(), "name", a.Name, "state", a.State, "released", n)
		return nil
	}
	return oncrpc.ErrProcUnavail
}

// reply answers a synchronous procedure with its results, and a _MSG
// procedure with an empty reply and a _RES call to the client.
func (s *Server) reply(call *oncrpc.Call, w *xdr.Writer, msgProc, resProc uint32, encode func(*xdr.Writer)) error {
	if call.Proc != msgProc {
		encode(w)
		return nil
	}
	var args xdr.Writer
	encode(&args)
	s.sendRes(call, resProc, args.B)
	return nil
}

// sendRes sends the result of a _MSG request to the client, in the
// background (one attempt, bounded by the callback timeout).
func (s *Server) sendRes(call *oncrpc.Call, proc uint32, args []byte) {
	select {
	case s.cbSem <- struct{}{}:
	default:
		s.log.Warn("nlm: too many callbacks in flight, result dropped", "client", call.Remote.String(), "proc", proc)
		return
	}
	client, local, vers := call.Remote.Addr().Unmap(), call.Local.Addr().Unmap(), call.Vers
	ok := s.background(func() {
		defer func() { <-s.cbSem }()
		ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
		defer cancel()
		if _, err := nsm.CallHost(ctx, s.dial, local, client, Prog, vers, proc, s.cred(), args); err != nil {
			s.log.Debug("nlm: _RES callback failed", "client", client.String(), "proc", proc, "err", err)
		}
	})
	if !ok {
		<-s.cbSem
	}
}

// fbig reports offsets past the largest signed 64-bit offset, which the
// Linux lockd refuses with NLM4_FBIG.
func fbig(l *Lock4) bool {
	return l.Offset > math.MaxInt64 || (l.Len != 0 && l.Len-1 > math.MaxInt64-l.Offset)
}

// resolve checks handle h and returns the file it names. With check set
// the object must exist and be a regular file (LOCK, TEST, SHARE); without,
// the handle and the export are enough (UNLOCK, CANCEL, UNSHARE).
func (s *Server) resolve(ctx context.Context, call *oncrpc.Call, h []byte, check bool) (lock.FileID, Stat) {
	eid, id, err := s.handles.Decode(h)
	if err != nil {
		return lock.FileID{}, StaleFH
	}
	exp := s.exports().ByID(eid)
	if exp == nil {
		return lock.FileID{}, StaleFH
	}
	if !exp.Allowed(call.Remote.Addr()) {
		return lock.FileID{}, Failed
	}
	if check {
		a, err := exp.FS.GetAttr(ctx, id)
		switch {
		case errors.Is(err, syscall.ESTALE) || errors.Is(err, syscall.ENOENT):
			return lock.FileID{}, StaleFH
		case err != nil:
			s.log.Warn("nlm: backend error", "client", call.Remote.String(), "err", err)
			return lock.FileID{}, Failed
		case a.Type != vfs.TypeRegular:
			return lock.FileID{}, Failed
		}
	}
	return lock.FileID{Export: eid, Object: string(id)}, Granted
}

func owner(call *oncrpc.Call, l *Lock4) lock.Owner {
	return lock.Owner{Client: ClientKey(call.Remote.Addr()), ID: string(l.OH), Svid: l.Svid}
}

func lockType(exclusive bool) lock.Type {
	if exclusive {
		return lock.Write
	}
	return lock.Read
}

// statOf maps an error of the lock manager.
func statOf(err error) Stat {
	switch err {
	case nil:
		return Granted
	case lock.ErrConflict:
		return Denied
	case lock.ErrGrace, lock.ErrNoGrace:
		return DeniedGracePeriod
	case lock.ErrDeadlock:
		return Deadlck
	case lock.ErrNoLocks, lock.ErrTooManyWaiters, lock.ErrCancelled:
		return DeniedNoLocks
	}
	return Failed
}

func (s *Server) test(ctx context.Context, call *oncrpc.Call, a *TestArgs) TestRes {
	res := TestRes{Cookie: a.Cookie}
	if fbig(&a.Lock) {
		res.Stat = FBig
		return res
	}
	file, st := s.resolve(ctx, call, a.Lock.FH, true)
	if st != Granted {
		res.Stat = st
		return res
	}
	if s.locks.InGrace() {
		res.Stat = DeniedGracePeriod
		return res
	}
	h, conflict := s.locks.Test(lock.Request{File: file, Owner: owner(call, &a.Lock),
		Type: lockType(a.Exclusive), Range: lock.NewRange(a.Lock.Offset, a.Lock.Len)})
	if !conflict {
		res.Stat = Granted
		return res
	}
	res.Stat = Denied
	res.Holder = Holder{Exclusive: h.Type == lock.Write, Svid: h.Owner.Svid,
		Offset: h.Range.Start, Len: h.Range.Length()}
	if strings.HasPrefix(h.Owner.Client, "nlm:") {
		res.Holder.OH = []byte(h.Owner.ID)
	}
	return res
}

// statDrop is lock's answer for a request to drop unanswered (a file
// with NFSv4 delegations being recalled); never sent.
const statDrop Stat = 1<<32 - 1

func (s *Server) lock(ctx context.Context, call *oncrpc.Call, a *LockArgs) Stat {
	if fbig(&a.Lock) {
		return FBig
	}
	file, st := s.resolve(ctx, call, a.Lock.FH, true)
	if st != Granted {
		return st
	}
	if a.Exclusive && s.delegs != nil && s.delegs(file) {
		return statDrop
	}
	client := call.Remote.Addr().Unmap()
	if s.nsm != nil && call.Proc != ProcNMLock {
		err := s.nsm.Monitor(nsm.Host{Name: a.Lock.CallerName, Addr: client, Local: call.Local.Addr().Unmap(), State: a.State})
		if err != nil {
			s.log.Warn("nlm: cannot monitor client, lock refused", "client", client.String(), "err", err)
			return DeniedNoLocks
		}
	}
	req := lock.Request{File: file, Owner: owner(call, &a.Lock), Type: lockType(a.Exclusive),
		Range: lock.NewRange(a.Lock.Offset, a.Lock.Len), Reclaim: a.Reclaim}
	if a.Block {
		return s.lockBlocking(call, a, req, call.Proc == ProcLockMsg)
	}
	_, err := s.locks.Lock(req)
	if err == nil {
		// A non-blocking retransmission of a request being granted.
		s.mu.Lock()
		b := s.blocks[blockKey{req.Owner, req.File, req.Range, a.Exclusive}]
		s.mu.Unlock()
		if b != nil {
			s.finish(b, false, "confirmed by LOCK")
		}
	}
	return statOf(err)
}

func (s *Server) cancelReq(ctx context.Context, call *oncrpc.Call, a *CancArgs) Stat {
	if fbig(&a.Lock) {
		return FBig
	}
	if s.locks.InGrace() {
		return DeniedGracePeriod
	}
	file, st := s.resolve(ctx, call, a.Lock.FH, false)
	if st != Granted {
		return st
	}
	s.cancelBlock(blockKey{owner(call, &a.Lock), file, lock.NewRange(a.Lock.Offset, a.Lock.Len), a.Exclusive})
	s.unmonitorIfIdle(call.Remote.Addr().Unmap())
	return Granted
}

func (s *Server) unlock(ctx context.Context, call *oncrpc.Call, a *UnlockArgs) Stat {
	if fbig(&a.Lock) {
		return FBig
	}
	if s.locks.InGrace() {
		return DeniedGracePeriod
	}
	file, st := s.resolve(ctx, call, a.Lock.FH, false)
	if st != Granted {
		return st
	}
	o := owner(call, &a.Lock)
	r := lock.NewRange(a.Lock.Offset, a.Lock.Len)
	// The owner's waiting requests for this range go first (the answer
	// to a GRANTED may have been lost).
	s.cancelBlock(blockKey{o, file, r, true})
	s.cancelBlock(blockKey{o, file, r, false})
	if err := s.locks.Unlock(file, o, r); err != nil {
		return statOf(err)
	}
	s.unmonitorIfIdle(call.Remote.Addr().Unmap())
	return Granted
}

func (s *Server) share(ctx context.Context, call *oncrpc.Call, a *ShareArgs) Stat {
	inGrace := s.locks.InGrace()
	if inGrace && !a.Reclaim {
		return DeniedGracePeriod
	}
	file, st := s.resolve(ctx, call, a.Share.FH, true)
	if st != Granted {
		return st
	}
	sh := lock.Share{File: file, Owner: lock.Owner{Client: ClientKey(call.Remote.Addr()), ID: string(a.Share.OH)},
		Access: uint8(a.Share.Access), Deny: uint8(a.Share.Mode)}
	// A reclaim outside the grace period is an ordinary request (Linux
	// does not check it for SHARE).
	_, err := s.locks.Share(sh, a.Reclaim && inGrace)
	if errors.Is(err, lock.ErrNoGrace) {
		_, err = s.locks.Share(sh, false)
	}
	return statOf(err)
}

func (s *Server) unshare(ctx context.Context, call *oncrpc.Call, a *ShareArgs) Stat {
	if s.locks.InGrace() {
		return DeniedGracePeriod
	}
	file, st := s.resolve(ctx, call, a.Share.FH, false)
	if st != Granted {
		return st
	}
	s.locks.Unshare(file, lock.Owner{Client: ClientKey(call.Remote.Addr()), ID: string(a.Share.OH)})
	s.unmonitorIfIdle(call.Remote.Addr().Unmap())
	return Granted
}
