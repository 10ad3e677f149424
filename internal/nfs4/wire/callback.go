package wire

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The callback program as the server uses it: it encodes CB_COMPOUND4args
// (RFC 7530 section 17.2, RFC 8881 section 19.2) and decodes the client's
// CB_COMPOUND4res. CB_NULL has neither arguments nor results. The
// operations here are those the server sends: CB_GETATTR, CB_RECALL
// (4.0 and 4.1), CB_SEQUENCE, CB_RECALL_ANY, CB_RECALL_SLOT and
// CB_NOTIFY_LOCK (4.1). Every callback result is decoded, since all but
// CB_GETATTR's and CB_SEQUENCE's are a status only.

// CbArg is the arguments of one callback operation.
type CbArg interface {
	// CbOp returns the nfs_cb_opnum4.
	CbOp() uint32
	// Encode writes the arguments (without the operation number).
	Encode(w *xdr.Writer)
}

// CbCompoundArgs is CB_COMPOUND4args.
type CbCompoundArgs struct {
	Tag          []byte
	MinorVersion uint32
	// CallbackIdent is SETCLIENTID's callback_ident in 4.0; 4.1 clients
	// ignore it (RFC 8881 section 19.2), so it is 0 there.
	CallbackIdent uint32
	Ops           []CbArg
}

// Encode writes a.
func (a *CbCompoundArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.Tag)
	w.Uint32(a.MinorVersion)
	w.Uint32(a.CallbackIdent)
	w.Uint32(uint32(len(a.Ops)))
	for _, op := range a.Ops {
		w.Uint32(op.CbOp())
		op.Encode(w)
	}
}

// CbGetattrArgs is CB_GETATTR4args (RFC 8881 section 20.1).
type CbGetattrArgs struct {
	FH          []byte // nfs_fh4
	AttrRequest Bitmap4
}

// CbOp returns OP_CB_GETATTR.
func (a *CbGetattrArgs) CbOp() uint32 { return CbOpGetattr }

// Encode writes a.
func (a *CbGetattrArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.FH)
	a.AttrRequest.Encode(w)
}

// CbRecallArgs is CB_RECALL4args (RFC 8881 section 20.2).
type CbRecallArgs struct {
	Stateid  Stateid4
	Truncate bool
	FH       []byte
}

// CbOp returns OP_CB_RECALL.
func (a *CbRecallArgs) CbOp() uint32 { return CbOpRecall }

// Encode writes a.
func (a *CbRecallArgs) Encode(w *xdr.Writer) {
	a.Stateid.Encode(w)
	w.Bool(a.Truncate)
	w.Opaque(a.FH)
}

// ReferringCall4 is referring_call4.
type ReferringCall4 struct {
	Sequenceid uint32
	Slotid     uint32
}

// ReferringCallList4 is referring_call_list4.
type ReferringCallList4 struct {
	Sessionid      [SessionIDSize]byte
	ReferringCalls []ReferringCall4
}

// CbSequenceArgs is CB_SEQUENCE4args (RFC 8881 section 20.9).
type CbSequenceArgs struct {
	Sessionid          [SessionIDSize]byte
	Sequenceid         uint32
	Slotid             uint32
	HighestSlotid      uint32
	Cachethis          bool
	ReferringCallLists []ReferringCallList4
}

// CbOp returns OP_CB_SEQUENCE.
func (a *CbSequenceArgs) CbOp() uint32 { return CbOpSequence }

// Encode writes a.
func (a *CbSequenceArgs) Encode(w *xdr.Writer) {
	w.Fixed(a.Sessionid[:])
	w.Uint32(a.Sequenceid)
	w.Uint32(a.Slotid)
	w.Uint32(a.HighestSlotid)
	w.Bool(a.Cachethis)
	w.Uint32(uint32(len(a.ReferringCallLists)))
	for i := range a.ReferringCallLists {
		l := &a.ReferringCallLists[i]
		w.Fixed(l.Sessionid[:])
		w.Uint32(uint32(len(l.ReferringCalls)))
		for _, c := range l.ReferringCalls {
			w.Uint32(c.Sequenceid)
			w.Uint32(c.Slotid)
		}
	}
}

// CbRecallAnyArgs is CB_RECALL_ANY4args (RFC 8881 section 20.6).
type CbRecallAnyArgs struct {
	ObjectsToKeep uint32
	TypeMask      Bitmap4 // RCA4_TYPE_MASK_* bit numbers
}

// CbOp returns OP_CB_RECALL_ANY.
func (a *CbRecallAnyArgs) CbOp() uint32 { return CbOpRecallAny }

// Encode writes a.
func (a *CbRecallAnyArgs) Encode(w *xdr.Writer) {
	w.Uint32(a.ObjectsToKeep)
	a.TypeMask.Encode(w)
}

// CbRecallSlotArgs is CB_RECALL_SLOT4args (RFC 8881 section 20.8).
type CbRecallSlotArgs struct {
	TargetHighestSlotid uint32
}

// CbOp returns OP_CB_RECALL_SLOT.
func (a *CbRecallSlotArgs) CbOp() uint32 { return CbOpRecallSlot }

// Encode writes a.
func (a *CbRecallSlotArgs) Encode(w *xdr.Writer) { w.Uint32(a.TargetHighestSlotid) }

// CbNotifyLockArgs is CB_NOTIFY_LOCK4args (RFC 8881 section 20.11).
type CbNotifyLockArgs struct {
	FH        []byte
	LockOwner StateOwner4
}

// CbOp returns OP_CB_NOTIFY_LOCK.
func (a *CbNotifyLockArgs) CbOp() uint32 { return CbOpNotifyLock }

// Encode writes a.
func (a *CbNotifyLockArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.FH)
	a.LockOwner.Encode(w)
}

// CbCompoundRes is CB_COMPOUND4res.
type CbCompoundRes struct {
	Status  nfserr.Status
	Tag     []byte
	Results []CbResult
}

// CbResult is one nfs_cb_resop4. Res is *CbGetattrRes for a successful
// CB_GETATTR, *CbSequenceRes for a successful CB_SEQUENCE, nil otherwise
// (every other callback result is a status only).
type CbResult struct {
	Op     uint32
	Status nfserr.Status
	Res    any
}

// CbGetattrRes is CB_GETATTR4res with NFS4_OK: the attribute values stay
// encoded (package nfs4/fattr decodes them).
type CbGetattrRes struct {
	ObjAttributes Fattr4
}

// CbSequenceRes is CB_SEQUENCE4resok.
type CbSequenceRes struct {
	Sessionid           [SessionIDSize]byte
	Sequenceid          uint32
	Slotid              uint32
	HighestSlotid       uint32
	TargetHighestSlotid uint32
}

// DecodeCbCompoundRes reads a CB_COMPOUND4res. The tag is bounded by
// lim.MaxTag, the number of results by lim.MaxOps, CB_GETATTR's
// attribute values by lim.MaxAttrVals; []byte fields alias the input. A
// truncated or invalid reply, or an unknown operation number in it, is
// nfserr.Badxdr, with the results decoded before the bad one.
func DecodeCbCompoundRes(r *xdr.Reader, lim Limits) (CbCompoundRes, error) {
	var res CbCompoundRes
	res.Status = nfserr.Status(r.Uint32())
	res.Tag = r.Opaque(lim.MaxTag)
	n := r.ArrayLen(lim.MaxOps, 8)
	if r.Err() != nil {
		return res, nfserr.Badxdr
	}
	for range n {
		var c CbResult
		c.Op = r.Uint32()
		c.Status = nfserr.Status(r.Uint32())
		if r.Err() != nil {
			return res, nfserr.Badxdr
		}
		switch {
		case c.Op == CbOpGetattr && c.Status == nfserr.OK:
			g := new(CbGetattrRes)
			g.ObjAttributes.Decode(r, lim.MaxAttrVals)
			c.Res = g
		case c.Op == CbOpSequence && c.Status == nfserr.OK:
			s := new(CbSequenceRes)
			copy(s.Sessionid[:], r.Fixed(SessionIDSize))
			s.Sequenceid = r.Uint32()
			s.Slotid = r.Uint32()
			s.HighestSlotid = r.Uint32()
			s.TargetHighestSlotid = r.Uint32()
			c.Res = s
		case c.Op >= CbOpGetattr && c.Op <= CbOpOffload, c.Op == CbOpIllegal:
		default:
			return res, nfserr.Badxdr
		}
		if r.Err() != nil {
			return res, nfserr.Badxdr
		}
		res.Results = append(res.Results, c)
	}
	return res, nil
}
