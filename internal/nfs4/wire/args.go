package wire

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The arguments of every operation: XXX4args of RFC 7531 (4.0), RFC 5662
// (4.1), RFC 7863 (4.2) and RFC 8276 (extended attributes).
// Each comment names the operation's section of RFC 8881 (RFC 7530 for
// the 4.0-only operations, RFC 7862 for those of 4.2). Decoders are
// reached through DecodeOp.

// AccessArgs is ACCESS4args (RFC 8881 section 18.1).
type AccessArgs struct {
	Access uint32 // ACCESS4_* bits
}

func (a *AccessArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Access = r.Uint32() }

// CloseArgs is CLOSE4args (RFC 8881 section 18.2).
type CloseArgs struct {
	Seqid       uint32
	OpenStateid Stateid4
}

func (a *CloseArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Seqid = r.Uint32()
	a.OpenStateid.Decode(r)
}

// CommitArgs is COMMIT4args (RFC 8881 section 18.3).
type CommitArgs struct {
	Offset uint64
	Count  uint32
}

func (a *CommitArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Offset = r.Uint64()
	a.Count = r.Uint32()
}

// CreateArgs is CREATE4args (RFC 8881 section 18.4).
type CreateArgs struct {
	Objtype     Createtype4
	Objname     []byte // component4
	Createattrs Fattr4
}

func (a *CreateArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Objtype.decode(r, lim)
	a.Objname = r.Opaque(lim.MaxName)
	a.Createattrs.Decode(r, lim.MaxAttrVals)
}

// DelegpurgeArgs is DELEGPURGE4args (RFC 8881 section 18.5).
type DelegpurgeArgs struct {
	Clientid uint64
}

func (a *DelegpurgeArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Clientid = r.Uint64() }

// DelegreturnArgs is DELEGRETURN4args (RFC 8881 section 18.6).
type DelegreturnArgs struct {
	DelegStateid Stateid4
}

func (a *DelegreturnArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.DelegStateid.Decode(r) }

// GetattrArgs is GETATTR4args (RFC 8881 section 18.7).
type GetattrArgs struct {
	AttrRequest Bitmap4
}

func (a *GetattrArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.AttrRequest.Decode(r) }

// LinkArgs is LINK4args (RFC 8881 section 18.9).
type LinkArgs struct {
	Newname []byte // component4
}

func (a *LinkArgs) decode(r *xdr.Reader, _ uint32, lim Limits) { a.Newname = r.Opaque(lim.MaxName) }

// LockArgs is LOCK4args (RFC 8881 section 18.10, RFC 7530 section 16.10:
// the same XDR; 4.1 ignores the seqids).
type LockArgs struct {
	Locktype uint32 // nfs_lock_type4
	Reclaim  bool
	Offset   uint64
	Length   uint64
	Locker   Locker4
}

func (a *LockArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Locktype = decodeLockType(r)
	a.Reclaim = r.Bool()
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
	a.Locker.decode(r)
}

// decodeLockType reads an nfs_lock_type4; a value outside the enum is an
// XDR error (as the Linux nfsd treats it).
func decodeLockType(r *xdr.Reader) uint32 {
	t := r.Uint32()
	if t < ReadLt || t > WritewLt {
		r.SetErr(xdr.ErrBadValue)
	}
	return t
}

// LocktArgs is LOCKT4args (RFC 8881 section 18.11).
type LocktArgs struct {
	Locktype uint32
	Offset   uint64
	Length   uint64
	Owner    StateOwner4
}

func (a *LocktArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Locktype = decodeLockType(r)
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
	a.Owner.Decode(r)
}

// LockuArgs is LOCKU4args (RFC 8881 section 18.12).
type LockuArgs struct {
	Locktype    uint32
	Seqid       uint32
	LockStateid Stateid4
	Offset      uint64
	Length      uint64
}

func (a *LockuArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Locktype = decodeLockType(r)
	a.Seqid = r.Uint32()
	a.LockStateid.Decode(r)
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
}

// LookupArgs is LOOKUP4args (RFC 8881 section 18.13).
type LookupArgs struct {
	Objname []byte // component4
}

func (a *LookupArgs) decode(r *xdr.Reader, _ uint32, lim Limits) { a.Objname = r.Opaque(lim.MaxName) }

// NverifyArgs is NVERIFY4args (RFC 8881 section 18.15).
type NverifyArgs struct {
	ObjAttributes Fattr4
}

func (a *NverifyArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.ObjAttributes.Decode(r, lim.MaxAttrVals)
}

// OpenArgs is OPEN4args (RFC 8881 section 18.16, RFC 7530 section 16.16).
// In minor version 0, createmode EXCLUSIVE4_1 and the claims CLAIM_FH,
// CLAIM_DELEG_CUR_FH and CLAIM_DELEG_PREV_FH do not exist and are
// NFS4ERR_BADXDR.
type OpenArgs struct {
	Seqid       uint32
	ShareAccess uint32 // OPEN4_SHARE_ACCESS_* and (4.1) WANT bits
	ShareDeny   uint32
	Owner       StateOwner4 // open_owner4
	Openhow     Openflag4
	Claim       OpenClaim4
}

func (a *OpenArgs) decode(r *xdr.Reader, minor uint32, lim Limits) {
	a.Seqid = r.Uint32()
	a.ShareAccess = r.Uint32()
	a.ShareDeny = r.Uint32()
	a.Owner.Decode(r)
	a.Openhow.decode(r, minor, lim)
	a.Claim.decode(r, minor, lim)
}

// OpenattrArgs is OPENATTR4args (RFC 8881 section 18.17).
type OpenattrArgs struct {
	Createdir bool
}

func (a *OpenattrArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Createdir = r.Bool() }

// OpenConfirmArgs is OPEN_CONFIRM4args (RFC 7530 section 16.18; not in
// 4.1, where the server answers NFS4ERR_NOTSUPP).
type OpenConfirmArgs struct {
	OpenStateid Stateid4
	Seqid       uint32
}

func (a *OpenConfirmArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.OpenStateid.Decode(r)
	a.Seqid = r.Uint32()
}

// OpenDowngradeArgs is OPEN_DOWNGRADE4args (RFC 8881 section 18.18).
type OpenDowngradeArgs struct {
	OpenStateid Stateid4
	Seqid       uint32
	ShareAccess uint32
	ShareDeny   uint32
}

func (a *OpenDowngradeArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.OpenStateid.Decode(r)
	a.Seqid = r.Uint32()
	a.ShareAccess = r.Uint32()
	a.ShareDeny = r.Uint32()
}

// PutfhArgs is PUTFH4args (RFC 8881 section 18.19). A handle longer than
// NFS4_FHSIZE is NFS4ERR_BADXDR.
type PutfhArgs struct {
	Object []byte // nfs_fh4
}

func (a *PutfhArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Object = r.Opaque(FHSize) }

// ReadArgs is READ4args (RFC 8881 section 18.22).
type ReadArgs struct {
	Stateid Stateid4
	Offset  uint64
	Count   uint32
}

func (a *ReadArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.Count = r.Uint32()
}

// ReaddirArgs is READDIR4args (RFC 8881 section 18.23).
type ReaddirArgs struct {
	Cookie      uint64
	Cookieverf  [VerifierSize]byte
	Dircount    uint32
	Maxcount    uint32
	AttrRequest Bitmap4
}

func (a *ReaddirArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Cookie = r.Uint64()
	copy(a.Cookieverf[:], r.Fixed(VerifierSize))
	a.Dircount = r.Uint32()
	a.Maxcount = r.Uint32()
	a.AttrRequest.Decode(r)
}

// RemoveArgs is REMOVE4args (RFC 8881 section 18.25).
type RemoveArgs struct {
	Target []byte // component4
}

func (a *RemoveArgs) decode(r *xdr.Reader, _ uint32, lim Limits) { a.Target = r.Opaque(lim.MaxName) }

// RenameArgs is RENAME4args (RFC 8881 section 18.26).
type RenameArgs struct {
	Oldname []byte // component4, in the saved filehandle's directory
	Newname []byte // component4, in the current filehandle's directory
}

func (a *RenameArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Oldname = r.Opaque(lim.MaxName)
	a.Newname = r.Opaque(lim.MaxName)
}

// RenewArgs is RENEW4args (RFC 7530 section 16.28; not in 4.1).
type RenewArgs struct {
	Clientid uint64
}

func (a *RenewArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Clientid = r.Uint64() }

// SecinfoArgs is SECINFO4args (RFC 8881 section 18.29).
type SecinfoArgs struct {
	Name []byte // component4
}

func (a *SecinfoArgs) decode(r *xdr.Reader, _ uint32, lim Limits) { a.Name = r.Opaque(lim.MaxName) }

// SetattrArgs is SETATTR4args (RFC 8881 section 18.30).
type SetattrArgs struct {
	Stateid       Stateid4
	ObjAttributes Fattr4
}

func (a *SetattrArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Stateid.Decode(r)
	a.ObjAttributes.Decode(r, lim.MaxAttrVals)
}

// SetclientidArgs is SETCLIENTID4args (RFC 7530 section 16.33; not in
// 4.1).
type SetclientidArgs struct {
	Client        NfsClientID4
	Callback      CbClient4
	CallbackIdent uint32
}

func (a *SetclientidArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	copy(a.Client.Verifier[:], r.Fixed(VerifierSize))
	a.Client.ID = r.Opaque(OpaqueLimit)
	a.Callback.CbProgram = r.Uint32()
	a.Callback.CbLocation.decode(r)
	a.CallbackIdent = r.Uint32()
}

// SetclientidConfirmArgs is SETCLIENTID_CONFIRM4args (RFC 7530 section
// 16.34; not in 4.1).
type SetclientidConfirmArgs struct {
	Clientid           uint64
	SetclientidConfirm [VerifierSize]byte
}

func (a *SetclientidConfirmArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Clientid = r.Uint64()
	copy(a.SetclientidConfirm[:], r.Fixed(VerifierSize))
}

// VerifyArgs is VERIFY4args (RFC 8881 section 18.31).
type VerifyArgs struct {
	ObjAttributes Fattr4
}

func (a *VerifyArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.ObjAttributes.Decode(r, lim.MaxAttrVals)
}

// WriteArgs is WRITE4args (RFC 8881 section 18.32). Data aliases the
// input and is at most lim.MaxWrite bytes (more is NFS4ERR_BADXDR).
type WriteArgs struct {
	Stateid Stateid4
	Offset  uint64
	Stable  uint32 // stable_how4
	Data    []byte
}

func (a *WriteArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.Stable = decodeStableHow(r)
	a.Data = r.Opaque(lim.MaxWrite)
}

// decodeStableHow reads a stable_how4; a value outside the enum is an
// XDR error (as the Linux nfsd treats it).
func decodeStableHow(r *xdr.Reader) uint32 {
	v := r.Uint32()
	if v > FileSync4 {
		r.SetErr(xdr.ErrBadValue)
	}
	return v
}

// ReleaseLockownerArgs is RELEASE_LOCKOWNER4args (RFC 7530 section 16.37;
// not in 4.1).
type ReleaseLockownerArgs struct {
	LockOwner StateOwner4
}

func (a *ReleaseLockownerArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.LockOwner.Decode(r) }

// BackchannelCtlArgs is BACKCHANNEL_CTL4args (RFC 8881 section 18.33).
type BackchannelCtlArgs struct {
	CbProgram uint32
	SecParms  []CallbackSecParms4
}

func (a *BackchannelCtlArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.CbProgram = r.Uint32()
	a.SecParms = decodeSecParms(r, lim)
}

// BindConnToSessionArgs is BIND_CONN_TO_SESSION4args (RFC 8881 section
// 18.34).
type BindConnToSessionArgs struct {
	Sessid            [SessionIDSize]byte
	Dir               uint32 // channel_dir_from_client4, not checked
	UseConnInRdmaMode bool
}

func (a *BindConnToSessionArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	copy(a.Sessid[:], r.Fixed(SessionIDSize))
	a.Dir = r.Uint32()
	a.UseConnInRdmaMode = r.Bool()
}

// ExchangeIdArgs is EXCHANGE_ID4args (RFC 8881 section 18.35).
type ExchangeIdArgs struct {
	Clientowner  ClientOwner4
	Flags        uint32 // EXCHGID4_FLAG_*
	StateProtect StateProtect4A
	ClientImplID *NfsImplID4 // eia_client_impl_id<1>
}

func (a *ExchangeIdArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	copy(a.Clientowner.Verifier[:], r.Fixed(VerifierSize))
	a.Clientowner.OwnerID = r.Opaque(OpaqueLimit)
	a.Flags = r.Uint32()
	a.StateProtect.decode(r, lim)
	a.ClientImplID = nil
	if r.ArrayLen(1, 20) == 1 {
		id := new(NfsImplID4)
		id.decode(r, lim)
		a.ClientImplID = id
	}
}

// CreateSessionArgs is CREATE_SESSION4args (RFC 8881 section 18.36).
type CreateSessionArgs struct {
	Clientid      uint64
	Sequence      uint32
	Flags         uint32 // CREATE_SESSION4_FLAG_*
	ForeChanAttrs ChannelAttrs4
	BackChanAttrs ChannelAttrs4
	CbProgram     uint32
	SecParms      []CallbackSecParms4
}

func (a *CreateSessionArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Clientid = r.Uint64()
	a.Sequence = r.Uint32()
	a.Flags = r.Uint32()
	a.ForeChanAttrs.decode(r)
	a.BackChanAttrs.decode(r)
	a.CbProgram = r.Uint32()
	a.SecParms = decodeSecParms(r, lim)
}

// DestroySessionArgs is DESTROY_SESSION4args (RFC 8881 section 18.37).
type DestroySessionArgs struct {
	Sessionid [SessionIDSize]byte
}

func (a *DestroySessionArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	copy(a.Sessionid[:], r.Fixed(SessionIDSize))
}

// FreeStateidArgs is FREE_STATEID4args (RFC 8881 section 18.38).
type FreeStateidArgs struct {
	Stateid Stateid4
}

func (a *FreeStateidArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Stateid.Decode(r) }

// GetDirDelegationArgs is GET_DIR_DELEGATION4args (RFC 8881 section
// 18.39).
type GetDirDelegationArgs struct {
	SignalDelegAvail  bool
	NotificationTypes Bitmap4
	ChildAttrDelay    Nfstime4 // attr_notice4
	DirAttrDelay      Nfstime4
	ChildAttributes   Bitmap4
	DirAttributes     Bitmap4
}

func (a *GetDirDelegationArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.SignalDelegAvail = r.Bool()
	a.NotificationTypes.Decode(r)
	a.ChildAttrDelay.Decode(r)
	a.DirAttrDelay.Decode(r)
	a.ChildAttributes.Decode(r)
	a.DirAttributes.Decode(r)
}

// GetdeviceinfoArgs is GETDEVICEINFO4args (RFC 8881 section 18.40).
type GetdeviceinfoArgs struct {
	DeviceID    [DeviceIDSize]byte
	LayoutType  uint32
	Maxcount    uint32
	NotifyTypes Bitmap4
}

func (a *GetdeviceinfoArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	copy(a.DeviceID[:], r.Fixed(DeviceIDSize))
	a.LayoutType = r.Uint32()
	a.Maxcount = r.Uint32()
	a.NotifyTypes.Decode(r)
}

// GetdevicelistArgs is GETDEVICELIST4args (RFC 8881 section 18.41).
type GetdevicelistArgs struct {
	LayoutType uint32
	Maxdevices uint32
	Cookie     uint64
	Cookieverf [VerifierSize]byte
}

func (a *GetdevicelistArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.LayoutType = r.Uint32()
	a.Maxdevices = r.Uint32()
	a.Cookie = r.Uint64()
	copy(a.Cookieverf[:], r.Fixed(VerifierSize))
}

// LayoutcommitArgs is LAYOUTCOMMIT4args (RFC 8881 section 18.42).
type LayoutcommitArgs struct {
	Offset          uint64
	Length          uint64
	Reclaim         bool
	Stateid         Stateid4
	LastWriteOffset *uint64   // newoffset4
	TimeModify      *Nfstime4 // newtime4
	Layoutupdate    LayoutUpdate4
}

func (a *LayoutcommitArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
	a.Reclaim = r.Bool()
	a.Stateid.Decode(r)
	a.LastWriteOffset = nil
	if r.Bool() {
		v := r.Uint64()
		a.LastWriteOffset = &v
	}
	a.TimeModify = nil
	if r.Bool() {
		t := new(Nfstime4)
		t.Decode(r)
		a.TimeModify = t
	}
	a.Layoutupdate.decode(r, lim)
}

// LayoutgetArgs is LAYOUTGET4args (RFC 8881 section 18.43).
type LayoutgetArgs struct {
	SignalLayoutAvail bool
	LayoutType        uint32
	Iomode            uint32
	Offset            uint64
	Length            uint64
	Minlength         uint64
	Stateid           Stateid4
	Maxcount          uint32
}

func (a *LayoutgetArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.SignalLayoutAvail = r.Bool()
	a.LayoutType = r.Uint32()
	a.Iomode = r.Uint32()
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
	a.Minlength = r.Uint64()
	a.Stateid.Decode(r)
	a.Maxcount = r.Uint32()
}

// LayoutreturnArgs is LAYOUTRETURN4args (RFC 8881 section 18.44).
type LayoutreturnArgs struct {
	Reclaim      bool
	LayoutType   uint32
	Iomode       uint32
	Layoutreturn Layoutreturn4
}

func (a *LayoutreturnArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Reclaim = r.Bool()
	a.LayoutType = r.Uint32()
	a.Iomode = r.Uint32()
	l := &a.Layoutreturn
	l.ReturnType = r.Uint32()
	if l.ReturnType == Layoutreturn4File {
		l.Offset = r.Uint64()
		l.Length = r.Uint64()
		l.Stateid.Decode(r)
		l.Body = r.Opaque(lim.MaxWrite)
	}
}

// SecinfoNoNameArgs is SECINFO_NO_NAME4args (RFC 8881 section 18.45).
type SecinfoNoNameArgs struct {
	Style uint32 // secinfo_style4, not checked
}

func (a *SecinfoNoNameArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Style = r.Uint32() }

// SequenceArgs is SEQUENCE4args (RFC 8881 section 18.46).
type SequenceArgs struct {
	Sessionid     [SessionIDSize]byte
	Sequenceid    uint32
	Slotid        uint32
	HighestSlotid uint32
	Cachethis     bool
}

func (a *SequenceArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	copy(a.Sessionid[:], r.Fixed(SessionIDSize))
	a.Sequenceid = r.Uint32()
	a.Slotid = r.Uint32()
	a.HighestSlotid = r.Uint32()
	a.Cachethis = r.Bool()
}

// SetSsvArgs is SET_SSV4args (RFC 8881 section 18.47).
type SetSsvArgs struct {
	Ssv    []byte
	Digest []byte
}

func (a *SetSsvArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Ssv = r.Opaque(lim.MaxOpaque)
	a.Digest = r.Opaque(lim.MaxOpaque)
}

// TestStateidArgs is TEST_STATEID4args (RFC 8881 section 18.48).
type TestStateidArgs struct {
	Stateids []Stateid4
}

func (a *TestStateidArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	n := r.ArrayLen(lim.MaxArray, 16)
	a.Stateids = nil
	if n > 0 {
		a.Stateids = make([]Stateid4, n)
		for i := range a.Stateids {
			a.Stateids[i].Decode(r)
		}
	}
}

// DelegClaim4 is deleg_claim4 (WANT_DELEGATION): DelegateType is
// meaningful for CLAIM_PREVIOUS; CLAIM_FH and CLAIM_DELEG_PREV_FH have no
// data, and no other claim has an arm.
type DelegClaim4 struct {
	Claim        uint32 // open_claim_type4
	DelegateType uint32 // open_delegation_type4
}

// WantDelegationArgs is WANT_DELEGATION4args (RFC 8881 section 18.49).
type WantDelegationArgs struct {
	Want  uint32 // OPEN4_SHARE_ACCESS_WANT_* bits
	Claim DelegClaim4
}

func (a *WantDelegationArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Want = r.Uint32()
	a.Claim.Claim = r.Uint32()
	switch a.Claim.Claim {
	case ClaimFH, ClaimDelegPrevFH:
	case ClaimPrevious:
		a.Claim.DelegateType = r.Uint32()
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

// DestroyClientidArgs is DESTROY_CLIENTID4args (RFC 8881 section 18.50).
type DestroyClientidArgs struct {
	Clientid uint64
}

func (a *DestroyClientidArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Clientid = r.Uint64() }

// ReclaimCompleteArgs is RECLAIM_COMPLETE4args (RFC 8881 section 18.51).
type ReclaimCompleteArgs struct {
	OneFS bool // rca_one_fs
}

func (a *ReclaimCompleteArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.OneFS = r.Bool() }

// AllocateArgs is ALLOCATE4args (RFC 7862 section 15.1).
type AllocateArgs struct {
	Stateid Stateid4
	Offset  uint64
	Length  uint64
}

func (a *AllocateArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
}

// CopyArgs is COPY4args (RFC 7862 section 15.2).
type CopyArgs struct {
	SrcStateid   Stateid4
	DstStateid   Stateid4
	SrcOffset    uint64
	DstOffset    uint64
	Count        uint64
	Consecutive  bool
	Synchronous  bool
	SourceServer []Netloc4 // empty for an intra-server copy
}

func (a *CopyArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.SrcStateid.Decode(r)
	a.DstStateid.Decode(r)
	a.SrcOffset = r.Uint64()
	a.DstOffset = r.Uint64()
	a.Count = r.Uint64()
	a.Consecutive = r.Bool()
	a.Synchronous = r.Bool()
	a.SourceServer = decodeNetlocs(r, lim)
}

// CopyNotifyArgs is COPY_NOTIFY4args (RFC 7862 section 15.3).
type CopyNotifyArgs struct {
	SrcStateid        Stateid4
	DestinationServer Netloc4
}

func (a *CopyNotifyArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.SrcStateid.Decode(r)
	a.DestinationServer.decode(r, lim)
}

// DeallocateArgs is DEALLOCATE4args (RFC 7862 section 15.4).
type DeallocateArgs struct {
	Stateid Stateid4
	Offset  uint64
	Length  uint64
}

func (a *DeallocateArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
}

// IoAdviseArgs is IO_ADVISE4args (RFC 7862 section 15.5).
type IoAdviseArgs struct {
	Stateid Stateid4
	Offset  uint64
	Count   uint64
	Hints   Bitmap4 // IO_ADVISE4_* bit numbers
}

func (a *IoAdviseArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.Count = r.Uint64()
	a.Hints.Decode(r)
}

// LayouterrorArgs is LAYOUTERROR4args (RFC 7862 section 15.6).
type LayouterrorArgs struct {
	Offset  uint64
	Length  uint64
	Stateid Stateid4
	Errors  []DeviceError4
}

func (a *LayouterrorArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
	a.Stateid.Decode(r)
	n := r.ArrayLen(lim.MaxArray, DeviceIDSize+8)
	a.Errors = nil
	if n > 0 {
		a.Errors = make([]DeviceError4, n)
		for i := range a.Errors {
			e := &a.Errors[i]
			copy(e.DeviceID[:], r.Fixed(DeviceIDSize))
			e.Status = nfserr.Status(r.Uint32())
			e.Opnum = r.Uint32()
		}
	}
}

// LayoutstatsArgs is LAYOUTSTATS4args (RFC 7862 section 15.7).
type LayoutstatsArgs struct {
	Offset       uint64
	Length       uint64
	Stateid      Stateid4
	Read         IoInfo4
	Write        IoInfo4
	DeviceID     [DeviceIDSize]byte
	Layoutupdate LayoutUpdate4
}

func (a *LayoutstatsArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Offset = r.Uint64()
	a.Length = r.Uint64()
	a.Stateid.Decode(r)
	a.Read.Count = r.Uint64()
	a.Read.Bytes = r.Uint64()
	a.Write.Count = r.Uint64()
	a.Write.Bytes = r.Uint64()
	copy(a.DeviceID[:], r.Fixed(DeviceIDSize))
	a.Layoutupdate.decode(r, lim)
}

// OffloadCancelArgs is OFFLOAD_CANCEL4args (RFC 7862 section 15.8).
type OffloadCancelArgs struct {
	Stateid Stateid4
}

func (a *OffloadCancelArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Stateid.Decode(r) }

// OffloadStatusArgs is OFFLOAD_STATUS4args (RFC 7862 section 15.9).
type OffloadStatusArgs struct {
	Stateid Stateid4
}

func (a *OffloadStatusArgs) decode(r *xdr.Reader, _ uint32, _ Limits) { a.Stateid.Decode(r) }

// ReadPlusArgs is READ_PLUS4args (RFC 7862 section 15.10).
type ReadPlusArgs struct {
	Stateid Stateid4
	Offset  uint64
	Count   uint32
}

func (a *ReadPlusArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.Count = r.Uint32()
}

// SeekArgs is SEEK4args (RFC 7862 section 15.11).
type SeekArgs struct {
	Stateid Stateid4
	Offset  uint64
	What    uint32 // data_content4, not checked (NFS4ERR_UNION_NOTSUPP is the server's)
}

func (a *SeekArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Stateid.Decode(r)
	a.Offset = r.Uint64()
	a.What = r.Uint32()
}

// WriteSameArgs is WRITE_SAME4args (RFC 7862 section 15.12).
type WriteSameArgs struct {
	Stateid Stateid4
	Stable  uint32 // stable_how4
	Adb     AppDataBlock4
}

func (a *WriteSameArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Stateid.Decode(r)
	a.Stable = decodeStableHow(r)
	b := &a.Adb
	b.Offset = r.Uint64()
	b.BlockSize = r.Uint64()
	b.BlockCount = r.Uint64()
	b.ReloffBlocknum = r.Uint64()
	b.BlockNum = r.Uint32()
	b.ReloffPattern = r.Uint64()
	b.Pattern = r.Opaque(lim.MaxWrite)
}

// CloneArgs is CLONE4args (RFC 7862 section 15.13).
type CloneArgs struct {
	SrcStateid Stateid4
	DstStateid Stateid4
	SrcOffset  uint64
	DstOffset  uint64
	Count      uint64
}

func (a *CloneArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.SrcStateid.Decode(r)
	a.DstStateid.Decode(r)
	a.SrcOffset = r.Uint64()
	a.DstOffset = r.Uint64()
	a.Count = r.Uint64()
}

// GetxattrArgs is GETXATTR4args (RFC 8276).
type GetxattrArgs struct {
	Name []byte // xattrkey4 (component4)
}

func (a *GetxattrArgs) decode(r *xdr.Reader, _ uint32, lim Limits) { a.Name = r.Opaque(lim.MaxName) }

// SetxattrArgs is SETXATTR4args (RFC 8276). Value aliases
// the input and is at most lim.MaxWrite bytes.
type SetxattrArgs struct {
	Option uint32 // setxattr_option4, not checked
	Key    []byte // xattrkey4
	Value  []byte // xattrvalue4
}

func (a *SetxattrArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Option = r.Uint32()
	a.Key = r.Opaque(lim.MaxName)
	a.Value = r.Opaque(lim.MaxWrite)
}

// ListxattrsArgs is LISTXATTRS4args (RFC 8276).
type ListxattrsArgs struct {
	Cookie   uint64
	Maxcount uint32
}

func (a *ListxattrsArgs) decode(r *xdr.Reader, _ uint32, _ Limits) {
	a.Cookie = r.Uint64()
	a.Maxcount = r.Uint32()
}

// RemovexattrArgs is REMOVEXATTR4args (RFC 8276).
type RemovexattrArgs struct {
	Name []byte // xattrkey4
}

func (a *RemovexattrArgs) decode(r *xdr.Reader, _ uint32, lim Limits) {
	a.Name = r.Opaque(lim.MaxName)
}
