package wire

// Test-only encoders of the arguments (the client's side of COMPOUND4args)
// and decoders of the results, written from the RFCs' XDR independently
// of the package's decoders and encoders, for round trips.

import (
	"fmt"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// encodeCompound returns COMPOUND4args with ops.
func encodeCompound(tag string, minor uint32, ops ...Op) []byte {
	var w xdr.Writer
	w.String(tag)
	w.Uint32(minor)
	w.Uint32(uint32(len(ops)))
	for _, op := range ops {
		encodeOp(&w, op)
	}
	return w.B
}

// encodeOp writes one nfs_argop4.
func encodeOp(w *xdr.Writer, op Op) {
	w.Uint32(op.Num)
	if op.Args != nil {
		encodeArgs(w, op.Args)
	}
}

func encStateid(w *xdr.Writer, s Stateid4) {
	w.Uint32(s.Seqid)
	w.Fixed(s.Other[:])
}

func encBitmap(w *xdr.Writer, b Bitmap4) {
	w.Uint32(uint32(len(b)))
	for _, v := range b {
		w.Uint32(v)
	}
}

func encFattr(w *xdr.Writer, f Fattr4) {
	encBitmap(w, f.Mask)
	w.Opaque(f.Vals)
}

func encOwner(w *xdr.Writer, o StateOwner4) {
	w.Uint64(o.Clientid)
	w.Opaque(o.Owner)
}

func encTime(w *xdr.Writer, t Nfstime4) {
	w.Int64(t.Seconds)
	w.Uint32(t.Nseconds)
}

func encChanAttrs(w *xdr.Writer, c ChannelAttrs4) {
	for _, v := range []uint32{c.HeaderPadSize, c.MaxRequestSize, c.MaxResponseSize,
		c.MaxResponseSizeCached, c.MaxOperations, c.MaxRequests} {
		w.Uint32(v)
	}
	if c.RdmaIrd == nil {
		w.Uint32(0)
	} else {
		w.Uint32(1)
		w.Uint32(*c.RdmaIrd)
	}
}

func encSecParms(w *xdr.Writer, v []CallbackSecParms4) {
	w.Uint32(uint32(len(v)))
	for _, p := range v {
		w.Uint32(p.Flavor)
		switch p.Flavor {
		case AuthSys:
			w.Uint32(p.SysCred.Stamp)
			w.String(p.SysCred.Machinename)
			w.Uint32(p.SysCred.UID)
			w.Uint32(p.SysCred.GID)
			w.Uint32(uint32(len(p.SysCred.Gids)))
			for _, g := range p.SysCred.Gids {
				w.Uint32(g)
			}
		case RPCSecGSS:
			w.Uint32(p.GssHandles.Service)
			w.Opaque(p.GssHandles.HandleFromServer)
			w.Opaque(p.GssHandles.HandleFromClient)
		}
	}
}

func encSpOps(w *xdr.Writer, o StateProtectOps4) {
	encBitmap(w, o.MustEnforce)
	encBitmap(w, o.MustAllow)
}

func encOpaques(w *xdr.Writer, v [][]byte) {
	w.Uint32(uint32(len(v)))
	for _, p := range v {
		w.Opaque(p)
	}
}

func encNetloc(w *xdr.Writer, n Netloc4) {
	w.Uint32(n.Type)
	switch n.Type {
	case NL4Name, NL4URL:
		w.Opaque(n.Name)
	case NL4Netaddr:
		w.String(n.Addr.Netid)
		w.String(n.Addr.Addr)
	}
}

// encodeArgs writes the XXX4args that a points to.
func encodeArgs(w *xdr.Writer, a any) {
	switch a := a.(type) {
	case *AccessArgs:
		w.Uint32(a.Access)
	case *CloseArgs:
		w.Uint32(a.Seqid)
		encStateid(w, a.OpenStateid)
	case *CommitArgs:
		w.Uint64(a.Offset)
		w.Uint32(a.Count)
	case *CreateArgs:
		w.Uint32(a.Objtype.Type)
		switch a.Objtype.Type {
		case NF4LNK:
			w.Opaque(a.Objtype.Linkdata)
		case NF4BLK, NF4CHR:
			w.Uint32(a.Objtype.Devdata.Specdata1)
			w.Uint32(a.Objtype.Devdata.Specdata2)
		}
		w.Opaque(a.Objname)
		encFattr(w, a.Createattrs)
	case *DelegpurgeArgs:
		w.Uint64(a.Clientid)
	case *DelegreturnArgs:
		encStateid(w, a.DelegStateid)
	case *GetattrArgs:
		encBitmap(w, a.AttrRequest)
	case *LinkArgs:
		w.Opaque(a.Newname)
	case *LockArgs:
		w.Uint32(a.Locktype)
		w.Bool(a.Reclaim)
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
		w.Bool(a.Locker.NewLockOwner)
		if a.Locker.NewLockOwner {
			o := a.Locker.OpenOwner
			w.Uint32(o.OpenSeqid)
			encStateid(w, o.OpenStateid)
			w.Uint32(o.LockSeqid)
			encOwner(w, o.LockOwner)
		} else {
			encStateid(w, a.Locker.LockOwner.LockStateid)
			w.Uint32(a.Locker.LockOwner.LockSeqid)
		}
	case *LocktArgs:
		w.Uint32(a.Locktype)
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
		encOwner(w, a.Owner)
	case *LockuArgs:
		w.Uint32(a.Locktype)
		w.Uint32(a.Seqid)
		encStateid(w, a.LockStateid)
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
	case *LookupArgs:
		w.Opaque(a.Objname)
	case *NverifyArgs:
		encFattr(w, a.ObjAttributes)
	case *OpenArgs:
		w.Uint32(a.Seqid)
		w.Uint32(a.ShareAccess)
		w.Uint32(a.ShareDeny)
		encOwner(w, a.Owner)
		w.Uint32(a.Openhow.Opentype)
		if a.Openhow.Opentype == Open4Create {
			h := a.Openhow.How
			w.Uint32(h.Mode)
			switch h.Mode {
			case Unchecked4, Guarded4:
				encFattr(w, h.Createattrs)
			case Exclusive4:
				w.Fixed(h.Createverf[:])
			case Exclusive41:
				w.Fixed(h.Createverf[:])
				encFattr(w, h.Createattrs)
			}
		}
		c := a.Claim
		w.Uint32(c.Claim)
		switch c.Claim {
		case ClaimNull, ClaimDelegatePrev:
			w.Opaque(c.File)
		case ClaimPrevious:
			w.Uint32(c.DelegateType)
		case ClaimDelegateCur:
			encStateid(w, c.DelegateStateid)
			w.Opaque(c.File)
		case ClaimDelegCurFH:
			encStateid(w, c.DelegateStateid)
		}
	case *OpenattrArgs:
		w.Bool(a.Createdir)
	case *OpenConfirmArgs:
		encStateid(w, a.OpenStateid)
		w.Uint32(a.Seqid)
	case *OpenDowngradeArgs:
		encStateid(w, a.OpenStateid)
		w.Uint32(a.Seqid)
		w.Uint32(a.ShareAccess)
		w.Uint32(a.ShareDeny)
	case *PutfhArgs:
		w.Opaque(a.Object)
	case *ReadArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint32(a.Count)
	case *ReaddirArgs:
		w.Uint64(a.Cookie)
		w.Fixed(a.Cookieverf[:])
		w.Uint32(a.Dircount)
		w.Uint32(a.Maxcount)
		encBitmap(w, a.AttrRequest)
	case *RemoveArgs:
		w.Opaque(a.Target)
	case *RenameArgs:
		w.Opaque(a.Oldname)
		w.Opaque(a.Newname)
	case *RenewArgs:
		w.Uint64(a.Clientid)
	case *SecinfoArgs:
		w.Opaque(a.Name)
	case *SetattrArgs:
		encStateid(w, a.Stateid)
		encFattr(w, a.ObjAttributes)
	case *SetclientidArgs:
		w.Fixed(a.Client.Verifier[:])
		w.Opaque(a.Client.ID)
		w.Uint32(a.Callback.CbProgram)
		w.String(a.Callback.CbLocation.Netid)
		w.String(a.Callback.CbLocation.Addr)
		w.Uint32(a.CallbackIdent)
	case *SetclientidConfirmArgs:
		w.Uint64(a.Clientid)
		w.Fixed(a.SetclientidConfirm[:])
	case *VerifyArgs:
		encFattr(w, a.ObjAttributes)
	case *WriteArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint32(a.Stable)
		w.Opaque(a.Data)
	case *ReleaseLockownerArgs:
		encOwner(w, a.LockOwner)
	case *BackchannelCtlArgs:
		w.Uint32(a.CbProgram)
		encSecParms(w, a.SecParms)
	case *BindConnToSessionArgs:
		w.Fixed(a.Sessid[:])
		w.Uint32(a.Dir)
		w.Bool(a.UseConnInRdmaMode)
	case *ExchangeIdArgs:
		w.Fixed(a.Clientowner.Verifier[:])
		w.Opaque(a.Clientowner.OwnerID)
		w.Uint32(a.Flags)
		sp := a.StateProtect
		w.Uint32(sp.How)
		switch sp.How {
		case SP4MachCred:
			encSpOps(w, sp.MachOps)
		case SP4SSV:
			encSpOps(w, sp.SsvParms.Ops)
			encOpaques(w, sp.SsvParms.HashAlgs)
			encOpaques(w, sp.SsvParms.EncrAlgs)
			w.Uint32(sp.SsvParms.Window)
			w.Uint32(sp.SsvParms.NumGssHandles)
		}
		if a.ClientImplID == nil {
			w.Uint32(0)
		} else {
			w.Uint32(1)
			w.Opaque(a.ClientImplID.Domain)
			w.Opaque(a.ClientImplID.Name)
			encTime(w, a.ClientImplID.Date)
		}
	case *CreateSessionArgs:
		w.Uint64(a.Clientid)
		w.Uint32(a.Sequence)
		w.Uint32(a.Flags)
		encChanAttrs(w, a.ForeChanAttrs)
		encChanAttrs(w, a.BackChanAttrs)
		w.Uint32(a.CbProgram)
		encSecParms(w, a.SecParms)
	case *DestroySessionArgs:
		w.Fixed(a.Sessionid[:])
	case *FreeStateidArgs:
		encStateid(w, a.Stateid)
	case *GetDirDelegationArgs:
		w.Bool(a.SignalDelegAvail)
		encBitmap(w, a.NotificationTypes)
		encTime(w, a.ChildAttrDelay)
		encTime(w, a.DirAttrDelay)
		encBitmap(w, a.ChildAttributes)
		encBitmap(w, a.DirAttributes)
	case *GetdeviceinfoArgs:
		w.Fixed(a.DeviceID[:])
		w.Uint32(a.LayoutType)
		w.Uint32(a.Maxcount)
		encBitmap(w, a.NotifyTypes)
	case *GetdevicelistArgs:
		w.Uint32(a.LayoutType)
		w.Uint32(a.Maxdevices)
		w.Uint64(a.Cookie)
		w.Fixed(a.Cookieverf[:])
	case *LayoutcommitArgs:
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
		w.Bool(a.Reclaim)
		encStateid(w, a.Stateid)
		w.Bool(a.LastWriteOffset != nil)
		if a.LastWriteOffset != nil {
			w.Uint64(*a.LastWriteOffset)
		}
		w.Bool(a.TimeModify != nil)
		if a.TimeModify != nil {
			encTime(w, *a.TimeModify)
		}
		w.Uint32(a.Layoutupdate.Type)
		w.Opaque(a.Layoutupdate.Body)
	case *LayoutgetArgs:
		w.Bool(a.SignalLayoutAvail)
		w.Uint32(a.LayoutType)
		w.Uint32(a.Iomode)
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
		w.Uint64(a.Minlength)
		encStateid(w, a.Stateid)
		w.Uint32(a.Maxcount)
	case *LayoutreturnArgs:
		w.Bool(a.Reclaim)
		w.Uint32(a.LayoutType)
		w.Uint32(a.Iomode)
		w.Uint32(a.Layoutreturn.ReturnType)
		if a.Layoutreturn.ReturnType == Layoutreturn4File {
			w.Uint64(a.Layoutreturn.Offset)
			w.Uint64(a.Layoutreturn.Length)
			encStateid(w, a.Layoutreturn.Stateid)
			w.Opaque(a.Layoutreturn.Body)
		}
	case *SecinfoNoNameArgs:
		w.Uint32(a.Style)
	case *SequenceArgs:
		w.Fixed(a.Sessionid[:])
		w.Uint32(a.Sequenceid)
		w.Uint32(a.Slotid)
		w.Uint32(a.HighestSlotid)
		w.Bool(a.Cachethis)
	case *SetSsvArgs:
		w.Opaque(a.Ssv)
		w.Opaque(a.Digest)
	case *TestStateidArgs:
		w.Uint32(uint32(len(a.Stateids)))
		for _, s := range a.Stateids {
			encStateid(w, s)
		}
	case *WantDelegationArgs:
		w.Uint32(a.Want)
		w.Uint32(a.Claim.Claim)
		if a.Claim.Claim == ClaimPrevious {
			w.Uint32(a.Claim.DelegateType)
		}
	case *DestroyClientidArgs:
		w.Uint64(a.Clientid)
	case *ReclaimCompleteArgs:
		w.Bool(a.OneFS)
	case *AllocateArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
	case *CopyArgs:
		encStateid(w, a.SrcStateid)
		encStateid(w, a.DstStateid)
		w.Uint64(a.SrcOffset)
		w.Uint64(a.DstOffset)
		w.Uint64(a.Count)
		w.Bool(a.Consecutive)
		w.Bool(a.Synchronous)
		w.Uint32(uint32(len(a.SourceServer)))
		for _, n := range a.SourceServer {
			encNetloc(w, n)
		}
	case *CopyNotifyArgs:
		encStateid(w, a.SrcStateid)
		encNetloc(w, a.DestinationServer)
	case *DeallocateArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
	case *IoAdviseArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint64(a.Count)
		encBitmap(w, a.Hints)
	case *LayouterrorArgs:
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
		encStateid(w, a.Stateid)
		w.Uint32(uint32(len(a.Errors)))
		for _, e := range a.Errors {
			w.Fixed(e.DeviceID[:])
			w.Uint32(uint32(e.Status))
			w.Uint32(e.Opnum)
		}
	case *LayoutstatsArgs:
		w.Uint64(a.Offset)
		w.Uint64(a.Length)
		encStateid(w, a.Stateid)
		w.Uint64(a.Read.Count)
		w.Uint64(a.Read.Bytes)
		w.Uint64(a.Write.Count)
		w.Uint64(a.Write.Bytes)
		w.Fixed(a.DeviceID[:])
		w.Uint32(a.Layoutupdate.Type)
		w.Opaque(a.Layoutupdate.Body)
	case *OffloadCancelArgs:
		encStateid(w, a.Stateid)
	case *OffloadStatusArgs:
		encStateid(w, a.Stateid)
	case *ReadPlusArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint32(a.Count)
	case *SeekArgs:
		encStateid(w, a.Stateid)
		w.Uint64(a.Offset)
		w.Uint32(a.What)
	case *WriteSameArgs:
		encStateid(w, a.Stateid)
		w.Uint32(a.Stable)
		b := a.Adb
		w.Uint64(b.Offset)
		w.Uint64(b.BlockSize)
		w.Uint64(b.BlockCount)
		w.Uint64(b.ReloffBlocknum)
		w.Uint32(b.BlockNum)
		w.Uint64(b.ReloffPattern)
		w.Opaque(b.Pattern)
	case *CloneArgs:
		encStateid(w, a.SrcStateid)
		encStateid(w, a.DstStateid)
		w.Uint64(a.SrcOffset)
		w.Uint64(a.DstOffset)
		w.Uint64(a.Count)
	case *GetxattrArgs:
		w.Opaque(a.Name)
	case *SetxattrArgs:
		w.Uint32(a.Option)
		w.Opaque(a.Key)
		w.Opaque(a.Value)
	case *ListxattrsArgs:
		w.Uint64(a.Cookie)
		w.Uint32(a.Maxcount)
	case *RemovexattrArgs:
		w.Opaque(a.Name)
	default:
		panic(fmt.Sprintf("encodeArgs: %T", a))
	}
}

// Result decoders (test side).

var testLim = DefaultLimits

func decStateid(r *xdr.Reader) (s Stateid4) {
	s.Seqid = r.Uint32()
	copy(s.Other[:], r.Fixed(OtherSize))
	return s
}

func decBitmap(r *xdr.Reader) Bitmap4 {
	n := r.ArrayLen(100, 4)
	if n == 0 {
		return nil
	}
	b := make(Bitmap4, n)
	for i := range b {
		b[i] = r.Uint32()
	}
	return b
}

func decCinfo(r *xdr.Reader) (c ChangeInfo4) {
	c.Atomic = r.Bool()
	c.Before = r.Uint64()
	c.After = r.Uint64()
	return c
}

func decOwner(r *xdr.Reader) (o StateOwner4) {
	o.Clientid = r.Uint64()
	o.Owner = r.Opaque(1 << 20)
	return o
}

func decTime(r *xdr.Reader) (t Nfstime4) {
	t.Seconds = r.Int64()
	t.Nseconds = r.Uint32()
	return t
}

func decAce(r *xdr.Reader) (a Nfsace4) {
	a.Type = r.Uint32()
	a.Flag = r.Uint32()
	a.AccessMask = r.Uint32()
	a.Who = r.Opaque(1 << 20)
	return a
}

func decDeleg(r *xdr.Reader) (d OpenDelegation4) {
	d.Type = r.Uint32()
	switch d.Type {
	case OpenDelegateRead:
		d.Stateid = decStateid(r)
		d.Recall = r.Bool()
		d.Permissions = decAce(r)
	case OpenDelegateWrite:
		d.Stateid = decStateid(r)
		d.Recall = r.Bool()
		d.SpaceLimit.LimitBy = r.Uint32()
		switch d.SpaceLimit.LimitBy {
		case NFSLimitSize:
			d.SpaceLimit.Filesize = r.Uint64()
		case NFSLimitBlocks:
			d.SpaceLimit.NumBlocks = r.Uint32()
			d.SpaceLimit.BytesPerBlock = r.Uint32()
		}
		d.Permissions = decAce(r)
	case OpenDelegateNoneExt:
		d.Why = r.Uint32()
		switch d.Why {
		case WND4Contention:
			d.ServerWillPushDeleg = r.Bool()
		case WND4Resource:
			d.ServerWillSignalAvail = r.Bool()
		}
	}
	return d
}

func decChanAttrs(r *xdr.Reader) (c ChannelAttrs4) {
	c.HeaderPadSize = r.Uint32()
	c.MaxRequestSize = r.Uint32()
	c.MaxResponseSize = r.Uint32()
	c.MaxResponseSizeCached = r.Uint32()
	c.MaxOperations = r.Uint32()
	c.MaxRequests = r.Uint32()
	if r.Uint32() == 1 {
		v := r.Uint32()
		c.RdmaIrd = &v
	}
	return c
}

func decWriteResponse(r *xdr.Reader) (wr WriteResponse4) {
	if r.Uint32() == 1 {
		s := decStateid(r)
		wr.CallbackID = &s
	}
	wr.Count = r.Uint64()
	wr.Committed = r.Uint32()
	copy(wr.Writeverf[:], r.Fixed(8))
	return wr
}

func decNetloc(r *xdr.Reader) (n Netloc4) {
	n.Type = r.Uint32()
	switch n.Type {
	case NL4Name, NL4URL:
		n.Name = r.Opaque(1 << 20)
	case NL4Netaddr:
		n.Addr.Netid = r.String(1 << 20)
		n.Addr.Addr = r.String(1 << 20)
	}
	return n
}

func decOpaques(r *xdr.Reader) [][]byte {
	n := r.ArrayLen(1<<20, 4)
	if n == 0 {
		return nil
	}
	v := make([][]byte, n)
	for i := range v {
		v[i] = r.Opaque(1 << 20)
	}
	return v
}

// decodeRes reads the result of op (after the operation number).
func decodeRes(r *xdr.Reader, op uint32) any {
	st := nfserr.Status(r.Uint32())
	ok := st == nfserr.OK
	switch op {
	case OpAccess:
		res := &AccessRes{Status: st}
		if ok {
			res.Supported = r.Uint32()
			res.Access = r.Uint32()
		}
		return res
	case OpClose, OpLocku, OpOpenConfirm, OpOpenDowngrade:
		var s Stateid4
		if ok {
			s = decStateid(r)
		}
		switch op {
		case OpClose:
			return &CloseRes{Status: st, OpenStateid: s}
		case OpLocku:
			return &LockuRes{Status: st, LockStateid: s}
		case OpOpenConfirm:
			return &OpenConfirmRes{Status: st, OpenStateid: s}
		}
		return &OpenDowngradeRes{Status: st, OpenStateid: s}
	case OpCommit:
		res := &CommitRes{Status: st}
		if ok {
			copy(res.Writeverf[:], r.Fixed(8))
		}
		return res
	case OpCreate:
		res := &CreateRes{Status: st}
		if ok {
			res.Cinfo = decCinfo(r)
			res.Attrset = decBitmap(r)
		}
		return res
	case OpGetattr:
		res := &GetattrRes{Status: st}
		if ok {
			res.ObjAttributes.Mask = decBitmap(r)
			res.ObjAttributes.Vals = r.Opaque(1 << 20)
		}
		return res
	case OpGetfh:
		res := &GetfhRes{Status: st}
		if ok {
			res.Object = r.Opaque(FHSize)
		}
		return res
	case OpLink, OpRemove, OpSetxattr, OpRemovexattr:
		var c ChangeInfo4
		if ok {
			c = decCinfo(r)
		}
		switch op {
		case OpLink:
			return &LinkRes{Status: st, Cinfo: c}
		case OpRemove:
			return &RemoveRes{Status: st, Cinfo: c}
		case OpSetxattr:
			return &SetxattrRes{Status: st, Cinfo: c}
		}
		return &RemovexattrRes{Status: st, Cinfo: c}
	case OpLock:
		res := &LockRes{Status: st}
		if ok {
			res.LockStateid = decStateid(r)
		} else if st == nfserr.Denied {
			res.Denied = decDenied(r)
		}
		return res
	case OpLockt:
		res := &LocktRes{Status: st}
		if st == nfserr.Denied {
			res.Denied = decDenied(r)
		}
		return res
	case OpOpen:
		res := &OpenRes{Status: st}
		if ok {
			res.Stateid = decStateid(r)
			res.Cinfo = decCinfo(r)
			res.Rflags = r.Uint32()
			res.Attrset = decBitmap(r)
			res.Delegation = decDeleg(r)
		}
		return res
	case OpRead:
		res := &ReadRes{Status: st}
		if ok {
			res.EOF = r.Bool()
			res.Data = r.Opaque(1 << 30)
		}
		return res
	case OpReaddir:
		res := &ReaddirRes{Status: st}
		if ok {
			copy(res.Cookieverf[:], r.Fixed(8))
			for r.Err() == nil && r.Bool() {
				var e Entry4
				e.Cookie = r.Uint64()
				e.Name = r.Opaque(1 << 20)
				e.Attrs.Mask = decBitmap(r)
				e.Attrs.Vals = r.Opaque(1 << 20)
				res.Entries = append(res.Entries, e)
			}
			res.EOF = r.Bool()
		}
		return res
	case OpReadlink:
		res := &ReadlinkRes{Status: st}
		if ok {
			res.Link = r.Opaque(1 << 20)
		}
		return res
	case OpRename:
		res := &RenameRes{Status: st}
		if ok {
			res.SourceCinfo = decCinfo(r)
			res.TargetCinfo = decCinfo(r)
		}
		return res
	case OpSecinfo, OpSecinfoNoName:
		res := &SecinfoRes{Status: st}
		if ok {
			n := r.ArrayLen(1<<20, 4)
			for range n {
				var s Secinfo4
				s.Flavor = r.Uint32()
				if s.Flavor == RPCSecGSS {
					s.OID = r.Opaque(1 << 20)
					s.Qop = r.Uint32()
					s.Service = r.Uint32()
				}
				res.Flavors = append(res.Flavors, s)
			}
		}
		return res
	case OpSetattr:
		return &SetattrRes{Status: st, Attrsset: decBitmap(r)}
	case OpSetclientid:
		res := &SetclientidRes{Status: st}
		if ok {
			res.Clientid = r.Uint64()
			copy(res.SetclientidConfirm[:], r.Fixed(8))
		} else if st == nfserr.ClidInuse {
			res.ClientUsing.Netid = r.String(1 << 20)
			res.ClientUsing.Addr = r.String(1 << 20)
		}
		return res
	case OpWrite:
		res := &WriteRes{Status: st}
		if ok {
			res.Count = r.Uint32()
			res.Committed = r.Uint32()
			copy(res.Writeverf[:], r.Fixed(8))
		}
		return res
	case OpBindConnToSession:
		res := &BindConnToSessionRes{Status: st}
		if ok {
			copy(res.Sessid[:], r.Fixed(16))
			res.Dir = r.Uint32()
			res.UseConnInRdmaMode = r.Bool()
		}
		return res
	case OpExchangeId:
		res := &ExchangeIdRes{Status: st}
		if ok {
			res.Clientid = r.Uint64()
			res.Sequenceid = r.Uint32()
			res.Flags = r.Uint32()
			sp := &res.StateProtect
			sp.How = r.Uint32()
			switch sp.How {
			case SP4MachCred:
				sp.MachOps.MustEnforce = decBitmap(r)
				sp.MachOps.MustAllow = decBitmap(r)
			case SP4SSV:
				sp.SsvInfo.Ops.MustEnforce = decBitmap(r)
				sp.SsvInfo.Ops.MustAllow = decBitmap(r)
				sp.SsvInfo.HashAlg = r.Uint32()
				sp.SsvInfo.EncrAlg = r.Uint32()
				sp.SsvInfo.SsvLen = r.Uint32()
				sp.SsvInfo.Window = r.Uint32()
				sp.SsvInfo.Handles = decOpaques(r)
			}
			res.ServerOwner.MinorID = r.Uint64()
			res.ServerOwner.MajorID = r.Opaque(OpaqueLimit)
			res.ServerScope = r.Opaque(OpaqueLimit)
			if r.Uint32() == 1 {
				id := &NfsImplID4{}
				id.Domain = r.Opaque(1 << 20)
				id.Name = r.Opaque(1 << 20)
				id.Date = decTime(r)
				res.ServerImplID = id
			}
		}
		return res
	case OpCreateSession:
		res := &CreateSessionRes{Status: st}
		if ok {
			copy(res.Sessionid[:], r.Fixed(16))
			res.Sequence = r.Uint32()
			res.Flags = r.Uint32()
			res.ForeChanAttrs = decChanAttrs(r)
			res.BackChanAttrs = decChanAttrs(r)
		}
		return res
	case OpGetDirDelegation:
		res := &GetDirDelegationRes{Status: st}
		if ok {
			res.NonFatal = r.Uint32()
			switch res.NonFatal {
			case GDD4OK:
				copy(res.Cookieverf[:], r.Fixed(8))
				res.Stateid = decStateid(r)
				res.Notification = decBitmap(r)
				res.ChildAttributes = decBitmap(r)
				res.DirAttributes = decBitmap(r)
			case GDD4Unavail:
				res.WillSignalDelegAvail = r.Bool()
			}
		}
		return res
	case OpGetdeviceinfo:
		res := &GetdeviceinfoRes{Status: st}
		if ok {
			res.DeviceAddr.LayoutType = r.Uint32()
			res.DeviceAddr.AddrBody = r.Opaque(1 << 20)
			res.Notification = decBitmap(r)
		} else if st == nfserr.Toosmall {
			res.Mincount = r.Uint32()
		}
		return res
	case OpGetdevicelist:
		res := &GetdevicelistRes{Status: st}
		if ok {
			res.Cookie = r.Uint64()
			copy(res.Cookieverf[:], r.Fixed(8))
			n := r.ArrayLen(1<<20, 16)
			for range n {
				var id [16]byte
				copy(id[:], r.Fixed(16))
				res.DeviceIDs = append(res.DeviceIDs, id)
			}
			res.EOF = r.Bool()
		}
		return res
	case OpLayoutcommit:
		res := &LayoutcommitRes{Status: st}
		if ok && r.Bool() {
			v := r.Uint64()
			res.NewSize = &v
		}
		return res
	case OpLayoutget:
		res := &LayoutgetRes{Status: st}
		if ok {
			res.ReturnOnClose = r.Bool()
			res.Stateid = decStateid(r)
			n := r.ArrayLen(1<<20, 24)
			for range n {
				var l Layout4
				l.Offset = r.Uint64()
				l.Length = r.Uint64()
				l.Iomode = r.Uint32()
				l.Type = r.Uint32()
				l.Body = r.Opaque(1 << 20)
				res.Layouts = append(res.Layouts, l)
			}
		} else if st == nfserr.Layouttrylater {
			res.WillSignalLayoutAvail = r.Bool()
		}
		return res
	case OpLayoutreturn:
		res := &LayoutreturnRes{Status: st}
		if ok && r.Bool() {
			s := decStateid(r)
			res.Stateid = &s
		}
		return res
	case OpSequence:
		res := &SequenceRes{Status: st}
		if ok {
			copy(res.Sessionid[:], r.Fixed(16))
			res.Sequenceid = r.Uint32()
			res.Slotid = r.Uint32()
			res.HighestSlotid = r.Uint32()
			res.TargetHighestSlotid = r.Uint32()
			res.StatusFlags = r.Uint32()
		}
		return res
	case OpSetSsv:
		res := &SetSsvRes{Status: st}
		if ok {
			res.Digest = r.Opaque(1 << 20)
		}
		return res
	case OpTestStateid:
		res := &TestStateidRes{Status: st}
		if ok {
			n := r.ArrayLen(1<<20, 4)
			for range n {
				res.StatusCodes = append(res.StatusCodes, nfserr.Status(r.Uint32()))
			}
		}
		return res
	case OpWantDelegation:
		res := &WantDelegationRes{Status: st}
		if ok {
			res.Delegation = decDeleg(r)
		}
		return res
	case OpCopy:
		res := &CopyRes{Status: st}
		if ok {
			res.Response = decWriteResponse(r)
		}
		if ok || st == nfserr.OffloadNoReqs {
			res.Requirements.Consecutive = r.Bool()
			res.Requirements.Synchronous = r.Bool()
		}
		return res
	case OpCopyNotify:
		res := &CopyNotifyRes{Status: st}
		if ok {
			res.LeaseTime = decTime(r)
			res.Stateid = decStateid(r)
			n := r.ArrayLen(1<<20, 8)
			for range n {
				res.SourceServer = append(res.SourceServer, decNetloc(r))
			}
		}
		return res
	case OpIoAdvise:
		res := &IoAdviseRes{Status: st}
		if ok {
			res.Hints = decBitmap(r)
		}
		return res
	case OpOffloadStatus:
		res := &OffloadStatusRes{Status: st}
		if ok {
			res.Count = r.Uint64()
			if r.Uint32() == 1 {
				s := nfserr.Status(r.Uint32())
				res.Complete = &s
			}
		}
		return res
	case OpReadPlus:
		res := &ReadPlusRes{Status: st}
		if ok {
			res.EOF = r.Bool()
			n := r.ArrayLen(1<<20, 4)
			for range n {
				var c ReadPlusContent
				c.Content = r.Uint32()
				switch c.Content {
				case NFS4ContentData:
					c.Offset = r.Uint64()
					c.Data = r.Opaque(1 << 30)
				case NFS4ContentHole:
					c.Offset = r.Uint64()
					c.Length = r.Uint64()
				}
				res.Contents = append(res.Contents, c)
			}
		}
		return res
	case OpSeek:
		res := &SeekRes{Status: st}
		if ok {
			res.EOF = r.Bool()
			res.Offset = r.Uint64()
		}
		return res
	case OpWriteSame:
		res := &WriteSameRes{Status: st}
		if ok {
			res.Response = decWriteResponse(r)
		}
		return res
	case OpGetxattr:
		res := &GetxattrRes{Status: st}
		if ok {
			res.Value = r.Opaque(1 << 20)
		}
		return res
	case OpListxattrs:
		res := &ListxattrsRes{Status: st}
		if ok {
			res.Cookie = r.Uint64()
			res.Names = decOpaques(r)
			res.EOF = r.Bool()
		}
		return res
	}
	// Status-only results.
	return &StatusRes{Status: st}
}

func decDenied(r *xdr.Reader) (d Lock4Denied) {
	d.Offset = r.Uint64()
	d.Length = r.Uint64()
	d.Locktype = r.Uint32()
	d.Owner = decOwner(r)
	return d
}

// Callback (test side: the client decodes the arguments and encodes the
// results).

func decodeCbArgs(r *xdr.Reader) (tag []byte, minor, ident uint32, ops []CbArg) {
	tag = r.Opaque(1 << 20)
	minor = r.Uint32()
	ident = r.Uint32()
	n := r.ArrayLen(1<<20, 4)
	for range n {
		switch r.Uint32() {
		case CbOpGetattr:
			a := &CbGetattrArgs{FH: r.Opaque(FHSize), AttrRequest: decBitmap(r)}
			ops = append(ops, a)
		case CbOpRecall:
			a := &CbRecallArgs{Stateid: decStateid(r), Truncate: r.Bool(), FH: r.Opaque(FHSize)}
			ops = append(ops, a)
		case CbOpSequence:
			a := &CbSequenceArgs{}
			copy(a.Sessionid[:], r.Fixed(16))
			a.Sequenceid = r.Uint32()
			a.Slotid = r.Uint32()
			a.HighestSlotid = r.Uint32()
			a.Cachethis = r.Bool()
			nl := r.ArrayLen(1<<20, 20)
			for range nl {
				var l ReferringCallList4
				copy(l.Sessionid[:], r.Fixed(16))
				nc := r.ArrayLen(1<<20, 8)
				for range nc {
					l.ReferringCalls = append(l.ReferringCalls, ReferringCall4{r.Uint32(), r.Uint32()})
				}
				a.ReferringCallLists = append(a.ReferringCallLists, l)
			}
			ops = append(ops, a)
		case CbOpRecallAny:
			ops = append(ops, &CbRecallAnyArgs{ObjectsToKeep: r.Uint32(), TypeMask: decBitmap(r)})
		case CbOpRecallSlot:
			ops = append(ops, &CbRecallSlotArgs{TargetHighestSlotid: r.Uint32()})
		case CbOpNotifyLock:
			ops = append(ops, &CbNotifyLockArgs{FH: r.Opaque(FHSize), LockOwner: decOwner(r)})
		default:
			r.SetErr(xdr.ErrBadValue)
			return
		}
	}
	return
}

func encodeCbRes(res CbCompoundRes) []byte {
	var w xdr.Writer
	w.Uint32(uint32(res.Status))
	w.Opaque(res.Tag)
	w.Uint32(uint32(len(res.Results)))
	for _, c := range res.Results {
		w.Uint32(c.Op)
		w.Uint32(uint32(c.Status))
		switch v := c.Res.(type) {
		case *CbGetattrRes:
			encFattr(&w, v.ObjAttributes)
		case *CbSequenceRes:
			w.Fixed(v.Sessionid[:])
			w.Uint32(v.Sequenceid)
			w.Uint32(v.Slotid)
			w.Uint32(v.HighestSlotid)
			w.Uint32(v.TargetHighestSlotid)
		}
	}
	return w.B
}
