package nfs4

import (
	"context"
	"errors"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/open"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Access asked of CheckIO.
const (
	accessRead  = open.ShareRead
	accessWrite = open.ShareWrite
)

func sid(s wire.Stateid4) open.Stateid  { return open.Stateid{Seqid: s.Seqid, Other: s.Other} }
func wsid(s open.Stateid) wire.Stateid4 { return wire.Stateid4{Seqid: s.Seqid, Other: s.Other} }

// caller is the open.Caller of the compound: the session's client in
// 4.1, or the given clientid (the owner's) in 4.0.
func (cs *compound) caller(clientid uint64) open.Caller {
	if cs.minor > 0 {
		clientid = cs.clientID
	}
	return open.Caller{Minor: cs.minor, Clientid: clientid}
}

// stateid resolves the current stateid (RFC 8881 section 16.2.3.1.2):
// seqid 1 with an all-zero other in 4.1 stands for the stateid the last
// operation set.
func (cs *compound) stateid(s wire.Stateid4) (wire.Stateid4, error) {
	if cs.minor > 0 && s == wire.CurrentStateid {
		if !cs.haveSid {
			return s, nfserr.BadStateid
		}
		return cs.curSid, nil
	}
	return s, nil
}

func (cs *compound) setSid(s open.Stateid) {
	cs.curSid = wsid(s)
	cs.haveSid = true
}

// fileID is the lock.FileID of an object.
func fileID(o *object) lock.FileID {
	return lock.FileID{Export: o.exp.ID, Object: string(o.id)}
}

// checkIO checks the stateid of READ, WRITE or SETATTR(size) on o and
// renews the lease of its client.
func (cs *compound) checkIO(ctx context.Context, o *object, s wire.Stateid4, access uint8) error {
	s, err := cs.stateid(s)
	if err != nil {
		return err
	}
	if found, err := cs.s.delegs.CheckIO(cs.clientID, cs.minor, fileID(o), delegStateid(s), access&open.ShareWrite != 0); found {
		return err
	}
	client, err := cs.s.opens.CheckIO(cs.caller(0), fileID(o), sid(s), access)
	if err != nil {
		return err
	}
	if access&open.ShareWrite != 0 {
		// A write through an open of another client, or an anonymous
		// one, waits for the delegations out on the file.
		who := client
		if cs.minor >= 1 {
			who = cs.clientID
		}
		if cs.s.delegs.Conflict(fileID(o), who) {
			return nfserr.Delay
		}
	}
	if client != 0 && cs.minor == 0 {
		cs.s.clients.Renew(client)
	}
	return nil
}

// seqDone ends a 4.0 seqid-carrying operation: its result, written after
// resultAt, is what a retransmission gets.
func seqDone(q *open.Seq, err error, w *xdr.Writer, resultAt int) {
	if q == nil {
		return
	}
	var st error
	if s := nfserr.Of(err); s != nfserr.OK {
		st = s
	}
	q.Done(st, w.B[resultAt:])
}

// replayed answers a 4.0 retransmission with its cached result.
func replayed(err error, w *xdr.Writer) (error, bool) {
	var rp *open.Replay
	if !errors.As(err, &rp) {
		return err, false
	}
	w.B = append(w.B, rp.Reply...)
	st := nfserr.OK
	if len(rp.Reply) >= 4 {
		st = nfserr.Status(uint32(rp.Reply[0])<<24 | uint32(rp.Reply[1])<<16 | uint32(rp.Reply[2])<<8 | uint32(rp.Reply[3]))
	}
	return written(st), true
}

// opOpen is OPEN (RFC 8881 section 18.16, RFC 7530 section 16.16).
func (cs *compound) opOpen(ctx context.Context, a *wire.OpenArgs, w *xdr.Writer) (err error) {
	resultAt := w.Len()
	if cs.minor == 0 {
		if err := cs.s.clients.Renew(a.Owner.Clientid); err != nil {
			return err
		}
	}
	c := cs.caller(a.Owner.Clientid)
	tx, err := cs.s.opens.BeginOpen(c, a.Owner.Owner, a.Seqid)
	if err != nil {
		if e, ok := replayed(err, w); ok {
			return e
		}
		return err
	}
	defer func() {
		if _, ok := err.(writtenStatus); !ok && err != nil {
			w.Truncate(resultAt)
			wire.EncodeStatusOnly(w, nfserr.Of(err))
			err = written(nfserr.Of(err))
		}
		tx.Done(statusErr(err), w.B[resultAt:])
	}()
	return cs.open(ctx, a, tx, c, w)
}

func statusErr(err error) error {
	var ws writtenStatus
	if errors.As(err, &ws) {
		if ws.st == nfserr.OK {
			return nil
		}
		return ws.st
	}
	return err
}

func (cs *compound) open(ctx context.Context, a *wire.OpenArgs, tx *open.OpenTx, c open.Caller, w *xdr.Writer) error {
	access := uint8(a.ShareAccess & 3)
	deny := uint8(a.ShareDeny & 3)
	if a.ShareAccess&^uint32(wire.Open4ShareAccessWantDelegMask|3|wire.Open4ShareAccessWantSignalDelegWhenResrcAvail|wire.Open4ShareAccessWantPushDelegWhenUncontended) != 0 ||
		(cs.minor == 0 && a.ShareAccess > 3) || a.ShareDeny > 3 || access == 0 {
		return nfserr.Inval
	}
	dir, err := cs.needFH()
	if err != nil {
		return err
	}
	reclaim := false
	var obj object
	var ch dirChange
	var set []uint32
	created := false
	switch a.Claim.Claim {
	case wire.ClaimNull:
		if err := cs.dirCheck(ctx, dir); err != nil {
			return err
		}
		if dir.pseudo != nil {
			if a.Openhow.Opentype == wire.Open4Create {
				return nfserr.Rofs
			}
		}
		name, err := checkName(a.Claim.File)
		if err != nil {
			return err
		}
		if err := cs.s.clients.CheckNonReclaim(c.Clientid); err != nil {
			return err
		}
		if a.Openhow.Opentype == wire.Open4Create {
			if err := writable(dir); err != nil {
				return err
			}
			ch = cs.changeBefore(ctx, dir)
			if obj, set, created, err = cs.create(ctx, dir, name, &a.Openhow.How); err != nil {
				return err
			}
		} else {
			if obj, err = cs.lookupIn(ctx, dir, name); err != nil {
				return err
			}
			if obj.pseudo != nil {
				return nfserr.Isdir
			}
		}
	case wire.ClaimPrevious:
		// Reclaim after a restart: the current filehandle is the file.
		if err := cs.s.clients.CheckReclaim(c.Clientid); err != nil {
			return err
		}
		if a.Claim.DelegateType != wire.OpenDelegateNone && a.Claim.DelegateType != wire.OpenDelegateRead {
			return nfserr.ReclaimBad // never granted by this server
		}
		reclaim = true
		obj = *dir
	case wire.ClaimFH:
		if err := cs.s.clients.CheckNonReclaim(c.Clientid); err != nil {
			return err
		}
		obj = *dir
	case wire.ClaimDelegateCur, wire.ClaimDelegCurFH:
		// An open the client made locally under its delegation, told
		// to the server before the delegation goes back (RFC 8881
		// section 10.2.1).
		if a.Claim.Claim == wire.ClaimDelegateCur {
			if err := cs.dirCheck(ctx, dir); err != nil {
				return err
			}
			name, err := checkName(a.Claim.File)
			if err != nil {
				return err
			}
			if obj, err = cs.lookupIn(ctx, dir, name); err != nil {
				return err
			}
		} else {
			obj = *dir
		}
		if obj.pseudo != nil {
			return nfserr.BadStateid
		}
		found, err := cs.s.delegs.CheckIO(c.Clientid, cs.minor, fileID(&obj), delegStateid(a.Claim.DelegateStateid), false)
		if !found {
			return nfserr.BadStateid
		}
		if err != nil {
			return err
		}
	case wire.ClaimDelegatePrev, wire.ClaimDelegPrevFH:
		// Delegations do not survive a restart of this server, nor a
		// client's (RFC 8881 section 10.2.1: the server need not
		// support CLAIM_DELEGATE_PREV).
		return nfserr.Notsupp
	default:
		return nfserr.Inval
	}
	if obj.pseudo != nil {
		return nfserr.Isdir
	}
	at, err := obj.exp.FS.GetAttr(ctx, obj.id)
	if err != nil {
		return err
	}
	switch at.Type {
	case vfs.TypeRegular:
	case vfs.TypeDir:
		return nfserr.Isdir
	default:
		// 4.0 has no status for "not a regular file": NFS4ERR_SYMLINK,
		// as Linux nfsd answers, makes the Linux client do the right
		// thing (and pynfs OPEN7 expects it); 4.1 has WRONG_TYPE.
		if cs.minor == 0 {
			return nfserr.Symlink
		}
		return nfserr.WrongType
	}
	if access&open.ShareWrite != 0 {
		if err := writable(&obj); err != nil {
			return err
		}
	}
	if !created {
		// The opener needs read access for READ, write access for
		// WRITE (RFC 8881 section 18.16.3); the owner may always open
		// a file it just created.
		var want uint32
		if access&open.ShareRead != 0 {
			want |= vfs.AccessRead
		}
		if access&open.ShareWrite != 0 {
			want |= vfs.AccessModify
		}
		got, err := obj.exp.FS.Access(ctx, cs.cred(&obj), obj.id, want)
		if err != nil {
			return err
		}
		if got&want != want {
			return nfserr.Access
		}
	}
	if (access&open.ShareWrite != 0 || deny&open.ShareRead != 0) && cs.s.delegs.Conflict(fileID(&obj), c.Clientid) {
		// Other clients' delegations are being recalled.
		return nfserr.Delay
	}
	cs.s.revokeShareHolders(fileID(&obj), access, deny, c.Clientid)
	res, err := tx.Open(fileID(&obj), access, deny, reclaim)
	if err != nil {
		return err
	}
	if err := cs.s.clients.SetHasState(c.Clientid, true); err == nil {
		cs.s.clients.RecordClient(c.Clientid)
	}
	r := wire.OpenRes{Stateid: wsid(res.Stateid), Rflags: wire.Open4ResultLocktypePosix, Attrset: set}
	if res.Confirm {
		r.Rflags |= wire.Open4ResultConfirm
	}
	if a.Claim.Claim == wire.ClaimNull {
		if a.Openhow.Opentype == wire.Open4Create {
			r.Cinfo = wire.ChangeInfo4{Atomic: false, Before: ch.before, After: cs.changeAfter(ctx, dir)}
		} else {
			r.Cinfo = wire.ChangeInfo4{Atomic: true, Before: changeOf(at), After: changeOf(at)}
			d, _ := dir.exp.FS.GetAttr(ctx, dir.id)
			r.Cinfo.Before, r.Cinfo.After = changeOf(d), changeOf(d)
		}
	}
	// RFC 8881 section 18.16.3: a client that says what it wants is
	// told why it gets no delegation (pynfs DELEG4).
	r.Delegation = cs.grantDelegation(&obj, a, access, c.Clientid, reclaim)
	cs.setCur(obj)
	cs.setSid(res.Stateid)
	r.Encode(w)
	return nil
}

func (cs *compound) changeAfter(ctx context.Context, o *object) uint64 {
	a, _ := o.exp.FS.GetAttr(ctx, o.id)
	return changeOf(a)
}

// create is OPEN's creation of a regular file (createhow4).
func (cs *compound) create(ctx context.Context, dir *object, name string, how *wire.Createhow4) (object, []uint32, bool, error) {
	var sa vfs.SetAttr
	var set []uint32
	var mode vfs.CreateMode
	var verf [8]byte
	var err error
	switch how.Mode {
	case wire.Unchecked4, wire.Guarded4:
		mode = vfs.Unchecked
		if how.Mode == wire.Guarded4 {
			mode = vfs.Guarded
		}
		if sa, set, err = fattr.DecodeSettable(how.Createattrs.Vals, how.Createattrs.Mask, cs.s.idmap, cs.minor); err != nil {
			return object{}, nil, false, err
		}
	case wire.Exclusive4:
		mode, verf = vfs.Exclusive, how.Createverf
	case wire.Exclusive41:
		if cs.minor == 0 {
			return object{}, nil, false, nfserr.Inval
		}
		if !fattr.Subset(how.Createattrs.Mask, fattr.SuppattrExclcreat()) {
			return object{}, nil, false, nfserr.Inval
		}
		if sa, set, err = fattr.DecodeSettable(how.Createattrs.Vals, how.Createattrs.Mask, cs.s.idmap, cs.minor); err != nil {
			return object{}, nil, false, err
		}
		mode, verf = vfs.Exclusive, how.Createverf
	default:
		return object{}, nil, false, nfserr.Inval
	}
	c := cs.cred(dir)
	// Unchecked create of an existing file opens it; of its attributes
	// only a size of 0 (the client's O_TRUNC) applies (RFC 8881 section
	// 18.16.3; pynfs OPEN2). Whether it was created is told by the
	// lookup before.
	_, _, lerr := dir.exp.FS.Lookup(ctx, c, dir.id, name)
	existed := lerr == nil
	if existed && mode == vfs.Unchecked {
		truncate := sa.Valid&vfs.SetSize != 0 && sa.Size == 0
		sa = vfs.SetAttr{}
		set = nil
		if truncate {
			sa.Valid, set = vfs.SetSize, fattr.Set(nil, fattr.AttrSize)
		}
	}
	id, _, err := dir.exp.FS.Create(ctx, c, dir.id, name, mode, &sa, verf)
	if err != nil {
		return object{}, nil, false, err
	}
	if mode == vfs.Exclusive && sa.Valid != 0 && !existed {
		// EXCLUSIVE4_1's attributes, after the create (the backend keeps
		// the verifier in the times).
		if _, err := dir.exp.FS.SetAttr(ctx, c, id, &sa, nil); err != nil {
			return object{}, nil, false, err
		}
	}
	return object{fh: cs.s.handles.Encode(dir.exp.ID, id), exp: dir.exp, id: id}, set, !existed, nil
}

func (cs *compound) opOpenConfirm(a *wire.OpenConfirmArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if o.pseudo != nil {
		return nfserr.Isdir
	}
	resultAt := w.Len()
	s, q, err := cs.s.opens.OpenConfirm(cs.caller(0), fileID(o), a.Seqid, sid(a.OpenStateid))
	if e, ok := replayed(err, w); ok {
		return e
	}
	if err == nil {
		w.Uint32(uint32(nfserr.OK))
		ws := wsid(s)
		ws.Encode(w)
		cs.setSid(s)
	} else {
		wire.EncodeStatusOnly(w, nfserr.Of(err))
	}
	seqDone(q, err, w, resultAt)
	return written(nfserr.Of(err))
}

// stateidResult writes the result of an operation that returns a stateid
// (OPEN_DOWNGRADE, CLOSE, LOCKU) and ends its 4.0 seqid.
func (cs *compound) stateidResult(s open.Stateid, q *open.Seq, err error, w *xdr.Writer, resultAt int) error {
	if e, ok := replayed(err, w); ok {
		return e
	}
	if err == nil {
		w.Uint32(uint32(nfserr.OK))
		ws := wsid(s)
		ws.Encode(w)
		cs.setSid(s)
	} else {
		wire.EncodeStatusOnly(w, nfserr.Of(err))
	}
	seqDone(q, err, w, resultAt)
	return written(nfserr.Of(err))
}

func (cs *compound) fileFH() (*object, error) {
	o, err := cs.needFH()
	if err != nil {
		return nil, err
	}
	if o.pseudo != nil {
		return nil, nfserr.Isdir
	}
	return o, nil
}

// lockFH is the current filehandle of LOCK, LOCKT and LOCKU: a regular
// file (RFC 7530 section 16.10.4: NFS4ERR_ISDIR, NFS4ERR_SYMLINK or
// NFS4ERR_INVAL otherwise; pynfs LKT2).
func (cs *compound) lockFH(ctx context.Context) (*object, error) {
	o, err := cs.fileFH()
	if err != nil {
		return nil, err
	}
	if _, err := cs.regularFile(ctx, o); err != nil {
		return nil, err
	}
	return o, nil
}

func (cs *compound) opOpenDowngrade(a *wire.OpenDowngradeArgs, w *xdr.Writer) error {
	o, err := cs.fileFH()
	if err != nil {
		return err
	}
	s, err := cs.stateid(a.OpenStateid)
	if err != nil {
		return err
	}
	if a.ShareAccess&^3 != 0 && cs.minor == 0 || a.ShareDeny > 3 {
		return nfserr.Inval
	}
	resultAt := w.Len()
	ns, q, err := cs.s.opens.OpenDowngrade(cs.caller(0), fileID(o), a.Seqid, sid(s), uint8(a.ShareAccess&3), uint8(a.ShareDeny))
	return cs.stateidResult(ns, q, err, w, resultAt)
}

func (cs *compound) opClose(a *wire.CloseArgs, w *xdr.Writer) error {
	o, err := cs.fileFH()
	if err != nil {
		return err
	}
	s, err := cs.stateid(a.OpenStateid)
	if err != nil {
		return err
	}
	resultAt := w.Len()
	ns, q, err := cs.s.opens.Close(cs.caller(0), fileID(o), a.Seqid, sid(s))
	return cs.stateidResult(ns, q, err, w, resultAt)
}

func (cs *compound) opLock(ctx context.Context, a *wire.LockArgs, w *xdr.Writer) error {
	o, err := cs.lockFH(ctx)
	if err != nil {
		return err
	}
	la := open.LockArgs{File: fileID(o), Type: open.LockType(a.Locktype), Reclaim: a.Reclaim,
		Offset: a.Offset, Length: a.Length, NewLockOwner: a.Locker.NewLockOwner}
	var client uint64
	if a.Locker.NewLockOwner {
		oo := a.Locker.OpenOwner
		os, err := cs.stateid(oo.OpenStateid)
		if err != nil {
			return err
		}
		la.OpenSeqid, la.OpenStateid, la.LockSeqid = oo.OpenSeqid, sid(os), oo.LockSeqid
		la.LockOwnerClientid, la.LockOwner = oo.LockOwner.Clientid, oo.LockOwner.Owner
		client = oo.LockOwner.Clientid
	} else {
		ls, err := cs.stateid(a.Locker.LockOwner.LockStateid)
		if err != nil {
			return err
		}
		la.LockStateid, la.LockSeqid = sid(ls), a.Locker.LockOwner.LockSeqid
	}
	if cs.minor == 0 && client != 0 {
		if err := cs.s.clients.Renew(client); err != nil {
			return err
		}
	}
	c := cs.caller(client)
	if a.Reclaim {
		err = cs.s.clients.CheckReclaim(c.Clientid)
	} else {
		err = cs.s.clients.CheckNonReclaim(c.Clientid)
	}
	if err != nil && c.Clientid != 0 {
		return err
	}
	cs.s.revokeLockHolders(la.File, la.Type, la.Offset, la.Length, c.Clientid)
	resultAt := w.Len()
	res, q, err := cs.s.opens.Lock(c, la)
	if e, ok := replayed(err, w); ok {
		return e
	}
	r := wire.LockRes{Status: nfserr.Of(err), LockStateid: wsid(res.Stateid)}
	if res.Denied != nil {
		r.Denied = denied(res.Denied)
	}
	r.Encode(w)
	if err == nil {
		cs.setSid(res.Stateid)
	}
	seqDone(q, err, w, resultAt)
	return written(r.Status)
}

func denied(d *open.LockDenied) wire.Lock4Denied {
	return wire.Lock4Denied{Offset: d.Offset, Length: d.Length, Locktype: uint32(d.Type),
		Owner: wire.StateOwner4{Clientid: d.Clientid, Owner: d.Owner}}
}

func (cs *compound) opLockt(ctx context.Context, a *wire.LocktArgs, w *xdr.Writer) error {
	o, err := cs.lockFH(ctx)
	if err != nil {
		return err
	}
	if cs.minor == 0 {
		if err := cs.s.clients.Renew(a.Owner.Clientid); err != nil {
			return err
		}
	}
	if err := cs.s.clients.CheckNonReclaim(cs.caller(a.Owner.Clientid).Clientid); err != nil {
		return err
	}
	c := cs.caller(a.Owner.Clientid)
	cs.s.revokeLockHolders(fileID(o), open.LockType(a.Locktype), a.Offset, a.Length, c.Clientid)
	d, err := cs.s.opens.LockT(c, fileID(o), open.LockType(a.Locktype), a.Offset, a.Length, a.Owner.Owner)
	r := wire.LocktRes{Status: nfserr.Of(err)}
	if d != nil {
		r.Denied = denied(d)
	}
	r.Encode(w)
	return written(r.Status)
}

func (cs *compound) opLocku(ctx context.Context, a *wire.LockuArgs, w *xdr.Writer) error {
	o, err := cs.lockFH(ctx)
	if err != nil {
		return err
	}
	s, err := cs.stateid(a.LockStateid)
	if err != nil {
		return err
	}
	resultAt := w.Len()
	ns, q, err := cs.s.opens.Locku(cs.caller(0), fileID(o), a.Seqid, sid(s), a.Offset, a.Length)
	return cs.stateidResult(ns, q, err, w, resultAt)
}

func (cs *compound) opReleaseLockowner(a *wire.ReleaseLockownerArgs, w *xdr.Writer) error {
	if err := cs.s.clients.Renew(a.LockOwner.Clientid); err != nil {
		return err
	}
	return status(w, cs.s.opens.ReleaseLockOwner(a.LockOwner.Clientid, a.LockOwner.Owner))
}

func (cs *compound) opFreeStateid(a *wire.FreeStateidArgs, w *xdr.Writer) error {
	s, err := cs.stateid(a.Stateid)
	if err != nil {
		return err
	}
	if found, err := cs.s.delegs.Free(cs.clientID, delegStateid(s)); found {
		return status(w, err)
	}
	return status(w, cs.s.opens.FreeStateid(cs.caller(0), sid(s)))
}

func (cs *compound) opTestStateid(a *wire.TestStateidArgs, w *xdr.Writer) error {
	ids := make([]open.Stateid, len(a.Stateids))
	for i, s := range a.Stateids {
		ids[i] = sid(s)
	}
	r := wire.TestStateidRes{StatusCodes: cs.s.opens.TestStateid(cs.caller(0), ids)}
	for i, s := range a.Stateids {
		if found, st := cs.s.delegs.Test(cs.clientID, delegStateid(s)); found {
			r.StatusCodes[i] = st
		}
	}
	r.Encode(w)
	return nil
}

// stateOps dispatches the state operations.
func (cs *compound) stateOps(ctx context.Context, op wire.Op, w *xdr.Writer) error {
	switch a := op.Args.(type) {
	case *wire.OpenArgs:
		return cs.opOpen(ctx, a, w)
	case *wire.OpenConfirmArgs:
		return cs.opOpenConfirm(a, w)
	case *wire.OpenDowngradeArgs:
		return cs.opOpenDowngrade(a, w)
	case *wire.CloseArgs:
		return cs.opClose(a, w)
	case *wire.LockArgs:
		return cs.opLock(ctx, a, w)
	case *wire.LocktArgs:
		return cs.opLockt(ctx, a, w)
	case *wire.LockuArgs:
		return cs.opLocku(ctx, a, w)
	case *wire.ReleaseLockownerArgs:
		return cs.opReleaseLockowner(a, w)
	case *wire.FreeStateidArgs:
		return cs.opFreeStateid(a, w)
	case *wire.TestStateidArgs:
		return cs.opTestStateid(a, w)
	case *wire.SetclientidArgs:
		return cs.opSetclientid(a, w)
	case *wire.SetclientidConfirmArgs:
		return cs.opSetclientidConfirm(a, w)
	case *wire.RenewArgs:
		return cs.opRenew(a, w)
	case *wire.ExchangeIdArgs:
		return cs.opExchangeID(a, w)
	case *wire.CreateSessionArgs:
		return cs.opCreateSession(a, w)
	case *wire.DestroySessionArgs:
		return cs.opDestroySession(a, w)
	case *wire.BindConnToSessionArgs:
		return cs.opBindConnToSession(a, w)
	case *wire.DestroyClientidArgs:
		return cs.opDestroyClientid(a, w)
	case *wire.SequenceArgs:
		return cs.opSequence(a, w)
	case *wire.ReclaimCompleteArgs:
		return cs.opReclaimComplete(a, w)
	case *wire.DelegreturnArgs:
		return cs.opDelegreturn(a, w)
	case *wire.BackchannelCtlArgs:
		return cs.opBackchannelCtl(a, w)
	}
	return errUnhandled
}
