package nfs4

import (
	"context"
	"errors"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// sessionless are the operations a 4.1 COMPOUND may consist of without
// SEQUENCE first, each as the only operation (RFC 8881 section 18.46.3,
// and the operations' descriptions).
func sessionless(op uint32) bool {
	switch op {
	case wire.OpExchangeId, wire.OpCreateSession, wire.OpDestroySession,
		wire.OpBindConnToSession, wire.OpDestroyClientid:
		return true
	}
	return false
}

// v40only are the operations RFC 8881 section 15.2 makes MUST NOT
// implement for 4.1 (answered NFS4ERR_NOTSUPP).
func v40only(op uint32) bool {
	switch op {
	case wire.OpSetclientid, wire.OpSetclientidConfirm, wire.OpRenew,
		wire.OpOpenConfirm, wire.OpReleaseLockowner:
		return true
	}
	return false
}

// run executes one operation and writes its result after the operation
// number. It returns the operation's status.
func (cs *compound) run(ctx context.Context, op wire.Op, w *xdr.Writer) nfserr.Status {
	start := w.Len()
	err := cs.check(op.Num)
	if err == nil {
		err = cs.exec(ctx, op, w)
	}
	if err == nil {
		return nfserr.OK
	}
	var ws writtenStatus
	if errors.As(err, &ws) {
		return ws.st
	}
	w.Truncate(start)
	st := nfserr.Of(err)
	if st == nfserr.Serverfault && cs.s.log != nil {
		cs.s.log.Error("nfs4: operation failed", "op", op.Num, "err", err)
	}
	wire.EncodeStatusOnly(w, st)
	return st
}

// check applies the rules of the minor version about where an operation
// may appear.
func (cs *compound) check(op uint32) error {
	if cs.minor == 0 {
		return nil
	}
	if v40only(op) {
		return nfserr.Notsupp
	}
	if op == wire.OpSequence {
		if cs.opIndex != 0 {
			return nfserr.SequencePos
		}
		return nil
	}
	if cs.seq == nil {
		if cs.opIndex == 0 && sessionless(op) {
			if cs.numOps != 1 {
				return nfserr.NotOnlyOp
			}
			return nil
		}
		return nfserr.OpNotInSession
	}
	return nil
}

// exec dispatches an operation.
func (cs *compound) exec(ctx context.Context, op wire.Op, w *xdr.Writer) error {
	switch a := op.Args.(type) {
	case *wire.PutfhArgs:
		return cs.opPutfh(ctx, a, w)
	case *wire.LookupArgs:
		return cs.opLookup(ctx, a, w)
	case *wire.GetattrArgs:
		return cs.opGetattr(ctx, a, w)
	case *wire.AccessArgs:
		return cs.opAccess(ctx, a, w)
	case *wire.ReaddirArgs:
		return cs.opReaddir(ctx, a, w)
	case *wire.ReadArgs:
		return cs.opRead(ctx, a, w)
	case *wire.WriteArgs:
		return cs.opWrite(ctx, a, w)
	case *wire.CommitArgs:
		return cs.opCommit(ctx, a, w)
	case *wire.CreateArgs:
		return cs.opCreate(ctx, a, w)
	case *wire.RemoveArgs:
		return cs.opRemove(ctx, a, w)
	case *wire.RenameArgs:
		return cs.opRename(ctx, a, w)
	case *wire.LinkArgs:
		return cs.opLink(ctx, a, w)
	case *wire.SetattrArgs:
		return cs.opSetattr(ctx, a, w)
	case *wire.SecinfoArgs:
		return cs.opSecinfo(ctx, a.Name, false, w)
	case *wire.VerifyArgs:
		return cs.opVerify(ctx, a.ObjAttributes, false, w)
	case *wire.NverifyArgs:
		return cs.opVerify(ctx, a.ObjAttributes, true, w)
	case *wire.SeekArgs:
		return cs.opSeek(ctx, a, w)
	case *wire.AllocateArgs:
		return cs.opAllocate(ctx, a.Stateid, a.Offset, a.Length, false, w)
	case *wire.DeallocateArgs:
		return cs.opAllocate(ctx, a.Stateid, a.Offset, a.Length, true, w)
	case *wire.CopyArgs:
		return cs.opCopy(ctx, a, w)
	case *wire.GetxattrArgs:
		return cs.opGetxattr(ctx, a, w)
	case *wire.SetxattrArgs:
		return cs.opSetxattr(ctx, a, w)
	case *wire.ListxattrsArgs:
		return cs.opListxattrs(ctx, a, w)
	case *wire.RemovexattrArgs:
		return cs.opRemovexattr(ctx, a, w)
	}
	switch op.Num {
	case wire.OpPutrootfh, wire.OpPutpubfh:
		return cs.opPutrootfh(ctx, w)
	case wire.OpGetfh:
		return cs.opGetfh(w)
	case wire.OpSavefh:
		return cs.opSavefh(w)
	case wire.OpRestorefh:
		return cs.opRestorefh(w)
	case wire.OpLookupp:
		return cs.opLookupp(ctx, w)
	case wire.OpReadlink:
		return cs.opReadlink(ctx, w)
	case wire.OpSecinfoNoName:
		return cs.opSecinfoNoName(ctx, op.Args.(*wire.SecinfoNoNameArgs), w)
	}
	if h := cs.stateOps(ctx, op, w); h != errUnhandled {
		return h
	}
	return nfserr.Notsupp
}

var errUnhandled = errors.New("unhandled")
