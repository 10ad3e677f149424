package nlm

import (
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// XDR of NLM version 4 (XNFS chapter 14, nlm_prot.x with 64-bit offsets).
// Decoders read from the call record: the opaques they return alias it.
// Every variable-length item has its protocol limit; an enum outside its
// range is xdr.ErrBadValue.

// Limits of the protocol.
const (
	// MaxNetobj is MAXNETOBJ_SZ, the longest netobj (cookie, fh, oh).
	MaxNetobj = 1024
	// MaxStrLen is LM_MAXSTRLEN, the longest caller_name.
	MaxStrLen = 1024
)

// Lock4 is nlm4_lock.
type Lock4 struct {
	CallerName string
	FH         []byte
	OH         []byte
	Svid       int32
	Offset     uint64
	Len        uint64
}

// Decode reads a Lock4.
func (l *Lock4) Decode(r *xdr.Reader) {
	l.CallerName = r.String(MaxStrLen)
	l.FH = r.Opaque(MaxNetobj)
	l.OH = r.Opaque(MaxNetobj)
	l.Svid = r.Int32()
	l.Offset = r.Uint64()
	l.Len = r.Uint64()
}

// Encode appends the XDR of l.
func (l *Lock4) Encode(w *xdr.Writer) {
	w.String(l.CallerName)
	w.Opaque(l.FH)
	w.Opaque(l.OH)
	w.Int32(l.Svid)
	w.Uint64(l.Offset)
	w.Uint64(l.Len)
}

// LockArgs is nlm4_lockargs (LOCK, LOCK_MSG, NM_LOCK).
type LockArgs struct {
	Cookie    []byte
	Block     bool
	Exclusive bool
	Lock      Lock4
	Reclaim   bool
	State     int32
}

// Decode reads a LockArgs.
func (a *LockArgs) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Block = r.Bool()
	a.Exclusive = r.Bool()
	a.Lock.Decode(r)
	a.Reclaim = r.Bool()
	a.State = r.Int32()
}

// Encode appends the XDR of a.
func (a *LockArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.Bool(a.Block)
	w.Bool(a.Exclusive)
	a.Lock.Encode(w)
	w.Bool(a.Reclaim)
	w.Int32(a.State)
}

// TestArgs is nlm4_testargs (TEST, TEST_MSG, GRANTED, GRANTED_MSG).
type TestArgs struct {
	Cookie    []byte
	Exclusive bool
	Lock      Lock4
}

// Decode reads a TestArgs.
func (a *TestArgs) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Exclusive = r.Bool()
	a.Lock.Decode(r)
}

// Encode appends the XDR of a.
func (a *TestArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.Bool(a.Exclusive)
	a.Lock.Encode(w)
}

// CancArgs is nlm4_cancargs (CANCEL, CANCEL_MSG).
type CancArgs struct {
	Cookie    []byte
	Block     bool
	Exclusive bool
	Lock      Lock4
}

// Decode reads a CancArgs.
func (a *CancArgs) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Block = r.Bool()
	a.Exclusive = r.Bool()
	a.Lock.Decode(r)
}

// Encode appends the XDR of a.
func (a *CancArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.Bool(a.Block)
	w.Bool(a.Exclusive)
	a.Lock.Encode(w)
}

// UnlockArgs is nlm4_unlockargs (UNLOCK, UNLOCK_MSG).
type UnlockArgs struct {
	Cookie []byte
	Lock   Lock4
}

// Decode reads an UnlockArgs.
func (a *UnlockArgs) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Lock.Decode(r)
}

// Encode appends the XDR of a.
func (a *UnlockArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	a.Lock.Encode(w)
}

// Res is nlm4_res (the results of LOCK, CANCEL, UNLOCK, GRANTED and the
// arguments of their _RES messages).
type Res struct {
	Cookie []byte
	Stat   Stat
}

// Decode reads a Res.
func (a *Res) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Stat = decodeStat(r)
}

// Encode appends the XDR of a.
func (a *Res) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.Uint32(uint32(a.Stat))
}

func decodeStat(r *xdr.Reader) Stat {
	s := Stat(r.Uint32())
	if s > Failed {
		r.SetErr(xdr.ErrBadValue)
	}
	return s
}

// Holder is nlm4_holder.
type Holder struct {
	Exclusive bool
	Svid      int32
	OH        []byte
	Offset    uint64
	Len       uint64
}

// TestRes is nlm4_testres (TEST, and TEST_RES's argument).
type TestRes struct {
	Cookie []byte
	Stat   Stat
	Holder Holder // when Stat is Denied
}

// Decode reads a TestRes.
func (a *TestRes) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Stat = decodeStat(r)
	if a.Stat == Denied {
		a.Holder.Exclusive = r.Bool()
		a.Holder.Svid = r.Int32()
		a.Holder.OH = r.Opaque(MaxNetobj)
		a.Holder.Offset = r.Uint64()
		a.Holder.Len = r.Uint64()
	}
}

// Encode appends the XDR of a.
func (a *TestRes) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.Uint32(uint32(a.Stat))
	if a.Stat == Denied {
		w.Bool(a.Holder.Exclusive)
		w.Int32(a.Holder.Svid)
		w.Opaque(a.Holder.OH)
		w.Uint64(a.Holder.Offset)
		w.Uint64(a.Holder.Len)
	}
}

// fsh4_mode (the deny mode) and fsh4_access.
const (
	FshModeDN  = 0 // fsm_DN: deny none
	FshModeDR  = 1 // fsm_DR: deny read
	FshModeDW  = 2 // fsm_DW: deny write
	FshModeDRW = 3 // fsm_DRW: deny read and write

	FshAccessNone = 0 // fsa_NONE
	FshAccessR    = 1 // fsa_R
	FshAccessW    = 2 // fsa_W
	FshAccessRW   = 3 // fsa_RW
)

// Share4 is nlm4_share.
type Share4 struct {
	CallerName string
	FH         []byte
	OH         []byte
	Mode       uint32
	Access     uint32
}

// ShareArgs is nlm4_shareargs (SHARE, UNSHARE).
type ShareArgs struct {
	Cookie  []byte
	Share   Share4
	Reclaim bool
}

// Decode reads a ShareArgs.
func (a *ShareArgs) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Share.CallerName = r.String(MaxStrLen)
	a.Share.FH = r.Opaque(MaxNetobj)
	a.Share.OH = r.Opaque(MaxNetobj)
	a.Share.Mode = r.Uint32()
	a.Share.Access = r.Uint32()
	if a.Share.Mode > FshModeDRW || a.Share.Access > FshAccessRW {
		r.SetErr(xdr.ErrBadValue)
	}
	a.Reclaim = r.Bool()
}

// Encode appends the XDR of a.
func (a *ShareArgs) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.String(a.Share.CallerName)
	w.Opaque(a.Share.FH)
	w.Opaque(a.Share.OH)
	w.Uint32(a.Share.Mode)
	w.Uint32(a.Share.Access)
	w.Bool(a.Reclaim)
}

// ShareRes is nlm4_shareres.
type ShareRes struct {
	Cookie   []byte
	Stat     Stat
	Sequence int32
}

// Decode reads a ShareRes.
func (a *ShareRes) Decode(r *xdr.Reader) {
	a.Cookie = r.Opaque(MaxNetobj)
	a.Stat = decodeStat(r)
	a.Sequence = r.Int32()
}

// Encode appends the XDR of a.
func (a *ShareRes) Encode(w *xdr.Writer) {
	w.Opaque(a.Cookie)
	w.Uint32(uint32(a.Stat))
	w.Int32(a.Sequence)
}

// Notify is nlm4_notify (FREE_ALL).
type Notify struct {
	Name  string
	State int32
}

// Decode reads a Notify.
func (a *Notify) Decode(r *xdr.Reader) {
	a.Name = r.String(MaxStrLen)
	a.State = r.Int32()
}

// Encode appends the XDR of a.
func (a *Notify) Encode(w *xdr.Writer) {
	w.String(a.Name)
	w.Int32(a.State)
}
