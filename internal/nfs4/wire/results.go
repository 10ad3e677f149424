package wire

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The results of every operation: XXX4res of RFC 7531, RFC 5662, RFC 7863
// and RFC 8276. Each type's Encode writes the nfs_resop4 body after the
// operation number (which the server writes): the status, then the arm of
// the result union for that status. Fields of the arms the status does
// not select are ignored.
//
// Most results carry nothing but the status when it is not NFS4_OK; for
// those the server may write the status alone with EncodeStatusOnly.
// ErrorHasBody lists the exceptions.

// EncodeStatusOnly writes status as the whole result of an operation: an
// operation whose result is only a status, or an error of an operation
// whose union has a void arm for it (see ErrorHasBody).
func EncodeStatusOnly(w *xdr.Writer, status nfserr.Status) { w.Uint32(uint32(status)) }

// ErrorHasBody reports whether the result of op with the error status
// carries more than the status, so that EncodeStatusOnly would be wrong
// and the result type's Encode must be used:
//
//	SETATTR          any status: attrsset follows (SETATTR4res is a struct)
//	LOCK, LOCKT      NFS4ERR_DENIED: LOCK4denied
//	SETCLIENTID      NFS4ERR_CLID_INUSE: the clientaddr4 in use
//	GETDEVICEINFO    NFS4ERR_TOOSMALL: gdir_mincount
//	LAYOUTGET        NFS4ERR_LAYOUTTRYLATER: logr_will_signal_layout_avail
//	COPY             NFS4ERR_OFFLOAD_NO_REQS: copy_requirements4
func ErrorHasBody(op uint32, status nfserr.Status) bool {
	switch op {
	case OpSetattr:
		return true
	case OpLock, OpLockt:
		return status == nfserr.Denied
	case OpSetclientid:
		return status == nfserr.ClidInuse
	case OpGetdeviceinfo:
		return status == nfserr.Toosmall
	case OpLayoutget:
		return status == nfserr.Layouttrylater
	case OpCopy:
		return status == nfserr.OffloadNoReqs
	}
	return false
}

// StatusRes is the result of the operations whose result is a status
// only (and of the others' errors without a body).
type StatusRes struct {
	Status nfserr.Status
}

// Encode writes the status.
func (r *StatusRes) Encode(w *xdr.Writer) { w.Uint32(uint32(r.Status)) }

// Results that are a status only.
type (
	DelegpurgeRes         = StatusRes // DELEGPURGE4res
	DelegreturnRes        = StatusRes // DELEGRETURN4res
	LookupRes             = StatusRes // LOOKUP4res
	LookuppRes            = StatusRes // LOOKUPP4res
	NverifyRes            = StatusRes // NVERIFY4res
	OpenattrRes           = StatusRes // OPENATTR4res
	PutfhRes              = StatusRes // PUTFH4res
	PutpubfhRes           = StatusRes // PUTPUBFH4res
	PutrootfhRes          = StatusRes // PUTROOTFH4res
	RenewRes              = StatusRes // RENEW4res
	RestorefhRes          = StatusRes // RESTOREFH4res
	SavefhRes             = StatusRes // SAVEFH4res
	SetclientidConfirmRes = StatusRes // SETCLIENTID_CONFIRM4res
	VerifyRes             = StatusRes // VERIFY4res
	ReleaseLockownerRes   = StatusRes // RELEASE_LOCKOWNER4res
	IllegalRes            = StatusRes // ILLEGAL4res
	BackchannelCtlRes     = StatusRes // BACKCHANNEL_CTL4res
	DestroySessionRes     = StatusRes // DESTROY_SESSION4res
	FreeStateidRes        = StatusRes // FREE_STATEID4res
	DestroyClientidRes    = StatusRes // DESTROY_CLIENTID4res
	ReclaimCompleteRes    = StatusRes // RECLAIM_COMPLETE4res
	AllocateRes           = StatusRes // ALLOCATE4res
	DeallocateRes         = StatusRes // DEALLOCATE4res
	LayouterrorRes        = StatusRes // LAYOUTERROR4res
	LayoutstatsRes        = StatusRes // LAYOUTSTATS4res
	OffloadCancelRes      = StatusRes // OFFLOAD_CANCEL4res
	CloneRes              = StatusRes // CLONE4res
)

// AccessRes is ACCESS4res.
type AccessRes struct {
	Status    nfserr.Status
	Supported uint32
	Access    uint32
}

// Encode writes r.
func (r *AccessRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint32(r.Supported)
		w.Uint32(r.Access)
	}
}

// CloseRes is CLOSE4res.
type CloseRes struct {
	Status      nfserr.Status
	OpenStateid Stateid4
}

// Encode writes r.
func (r *CloseRes) Encode(w *xdr.Writer) { encodeStatusStateid(w, r.Status, &r.OpenStateid) }

func encodeStatusStateid(w *xdr.Writer, status nfserr.Status, s *Stateid4) {
	w.Uint32(uint32(status))
	if status == nfserr.OK {
		s.Encode(w)
	}
}

// CommitRes is COMMIT4res.
type CommitRes struct {
	Status    nfserr.Status
	Writeverf [VerifierSize]byte
}

// Encode writes r.
func (r *CommitRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Fixed(r.Writeverf[:])
	}
}

// CreateRes is CREATE4res.
type CreateRes struct {
	Status  nfserr.Status
	Cinfo   ChangeInfo4
	Attrset Bitmap4
}

// Encode writes r.
func (r *CreateRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.Cinfo.Encode(w)
		r.Attrset.Encode(w)
	}
}

// GetattrRes is GETATTR4res: ObjAttributes.Vals holds the attribute
// values already encoded (package nfs4/fattr).
type GetattrRes struct {
	Status        nfserr.Status
	ObjAttributes Fattr4
}

// Encode writes r.
func (r *GetattrRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.ObjAttributes.Encode(w)
	}
}

// GetfhRes is GETFH4res.
type GetfhRes struct {
	Status nfserr.Status
	Object []byte // nfs_fh4
}

// Encode writes r.
func (r *GetfhRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Opaque(r.Object)
	}
}

// LinkRes is LINK4res.
type LinkRes struct {
	Status nfserr.Status
	Cinfo  ChangeInfo4
}

// Encode writes r.
func (r *LinkRes) Encode(w *xdr.Writer) { encodeStatusCinfo(w, r.Status, &r.Cinfo) }

func encodeStatusCinfo(w *xdr.Writer, status nfserr.Status, c *ChangeInfo4) {
	w.Uint32(uint32(status))
	if status == nfserr.OK {
		c.Encode(w)
	}
}

// LockRes is LOCK4res: LockStateid for NFS4_OK, Denied for
// NFS4ERR_DENIED.
type LockRes struct {
	Status      nfserr.Status
	LockStateid Stateid4
	Denied      Lock4Denied
}

// Encode writes r.
func (r *LockRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	switch r.Status {
	case nfserr.OK:
		r.LockStateid.Encode(w)
	case nfserr.Denied:
		r.Denied.Encode(w)
	}
}

// LocktRes is LOCKT4res: Denied for NFS4ERR_DENIED.
type LocktRes struct {
	Status nfserr.Status
	Denied Lock4Denied
}

// Encode writes r.
func (r *LocktRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.Denied {
		r.Denied.Encode(w)
	}
}

// LockuRes is LOCKU4res.
type LockuRes struct {
	Status      nfserr.Status
	LockStateid Stateid4
}

// Encode writes r.
func (r *LockuRes) Encode(w *xdr.Writer) { encodeStatusStateid(w, r.Status, &r.LockStateid) }

// OpenRes is OPEN4res.
type OpenRes struct {
	Status     nfserr.Status
	Stateid    Stateid4
	Cinfo      ChangeInfo4
	Rflags     uint32 // OPEN4_RESULT_*
	Attrset    Bitmap4
	Delegation OpenDelegation4
}

// Encode writes r.
func (r *OpenRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.Stateid.Encode(w)
		r.Cinfo.Encode(w)
		w.Uint32(r.Rflags)
		r.Attrset.Encode(w)
		r.Delegation.Encode(w)
	}
}

// OpenConfirmRes is OPEN_CONFIRM4res.
type OpenConfirmRes struct {
	Status      nfserr.Status
	OpenStateid Stateid4
}

// Encode writes r.
func (r *OpenConfirmRes) Encode(w *xdr.Writer) { encodeStatusStateid(w, r.Status, &r.OpenStateid) }

// OpenDowngradeRes is OPEN_DOWNGRADE4res.
type OpenDowngradeRes struct {
	Status      nfserr.Status
	OpenStateid Stateid4
}

// Encode writes r.
func (r *OpenDowngradeRes) Encode(w *xdr.Writer) { encodeStatusStateid(w, r.Status, &r.OpenStateid) }

// ReadRes is READ4res; Data is written as it is (no copy is made before
// it is appended).
type ReadRes struct {
	Status nfserr.Status
	EOF    bool
	Data   []byte
}

// Encode writes r.
func (r *ReadRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Bool(r.EOF)
		w.Opaque(r.Data)
	}
}

// Entry4 is one entry4 of READDIR.
type Entry4 struct {
	Cookie uint64
	Name   []byte // component4
	Attrs  Fattr4
}

// Encode writes e as a list member: the "value follows" TRUE of the
// entry4 *nextentry chain, then the entry.
func (e *Entry4) Encode(w *xdr.Writer) {
	w.Bool(true)
	w.Uint64(e.Cookie)
	w.Opaque(e.Name)
	e.Attrs.Encode(w)
}

// EncodedLen returns the bytes e.Encode writes, for the server to keep
// a reply within READDIR's maxcount.
func (e *Entry4) EncodedLen() int { return 4 + 8 + opaqueLen(len(e.Name)) + e.Attrs.EncodedLen() }

// DirLen returns e's share of READDIR's dircount, which counts the
// cookies and names of the entries without their attributes (RFC 7530
// section 16.24, RFC 8881 section 18.23): the cookie and the name as
// encoded.
func (e *Entry4) DirLen() int { return 8 + opaqueLen(len(e.Name)) }

// ReaddirResOverhead is the size of a READDIR4res with status NFS4_OK and
// no entries: status, cookieverf, the end of the entry chain and eof.
const ReaddirResOverhead = 4 + VerifierSize + 4 + 4

// ReaddirRes is READDIR4res.
type ReaddirRes struct {
	Status     nfserr.Status
	Cookieverf [VerifierSize]byte
	Entries    []Entry4
	EOF        bool
}

// Encode writes r.
func (r *ReaddirRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Fixed(r.Cookieverf[:])
		for i := range r.Entries {
			r.Entries[i].Encode(w)
		}
		w.Bool(false)
		w.Bool(r.EOF)
	}
}

// ReadlinkRes is READLINK4res.
type ReadlinkRes struct {
	Status nfserr.Status
	Link   []byte // linktext4
}

// Encode writes r.
func (r *ReadlinkRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Opaque(r.Link)
	}
}

// RemoveRes is REMOVE4res.
type RemoveRes struct {
	Status nfserr.Status
	Cinfo  ChangeInfo4
}

// Encode writes r.
func (r *RemoveRes) Encode(w *xdr.Writer) { encodeStatusCinfo(w, r.Status, &r.Cinfo) }

// RenameRes is RENAME4res.
type RenameRes struct {
	Status      nfserr.Status
	SourceCinfo ChangeInfo4
	TargetCinfo ChangeInfo4
}

// Encode writes r.
func (r *RenameRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.SourceCinfo.Encode(w)
		r.TargetCinfo.Encode(w)
	}
}

// SecinfoRes is SECINFO4res (and SECINFO_NO_NAME4res).
type SecinfoRes struct {
	Status  nfserr.Status
	Flavors []Secinfo4
}

// SecinfoNoNameRes is SECINFO_NO_NAME4res.
type SecinfoNoNameRes = SecinfoRes

// Encode writes r.
func (r *SecinfoRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint32(uint32(len(r.Flavors)))
		for i := range r.Flavors {
			r.Flavors[i].Encode(w)
		}
	}
}

// SetattrRes is SETATTR4res: a struct, so Attrsset is written whatever
// the status (RFC 8881 section 18.30; empty when nothing was set).
type SetattrRes struct {
	Status   nfserr.Status
	Attrsset Bitmap4
}

// Encode writes r.
func (r *SetattrRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	r.Attrsset.Encode(w)
}

// SetclientidRes is SETCLIENTID4res: Clientid and SetclientidConfirm for
// NFS4_OK, ClientUsing for NFS4ERR_CLID_INUSE.
type SetclientidRes struct {
	Status             nfserr.Status
	Clientid           uint64
	SetclientidConfirm [VerifierSize]byte
	ClientUsing        Netaddr4
}

// Encode writes r.
func (r *SetclientidRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	switch r.Status {
	case nfserr.OK:
		w.Uint64(r.Clientid)
		w.Fixed(r.SetclientidConfirm[:])
	case nfserr.ClidInuse:
		r.ClientUsing.Encode(w)
	}
}

// WriteRes is WRITE4res.
type WriteRes struct {
	Status    nfserr.Status
	Count     uint32
	Committed uint32 // stable_how4
	Writeverf [VerifierSize]byte
}

// Encode writes r.
func (r *WriteRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint32(r.Count)
		w.Uint32(r.Committed)
		w.Fixed(r.Writeverf[:])
	}
}

// BindConnToSessionRes is BIND_CONN_TO_SESSION4res.
type BindConnToSessionRes struct {
	Status            nfserr.Status
	Sessid            [SessionIDSize]byte
	Dir               uint32 // channel_dir_from_server4
	UseConnInRdmaMode bool
}

// Encode writes r.
func (r *BindConnToSessionRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Fixed(r.Sessid[:])
		w.Uint32(r.Dir)
		w.Bool(r.UseConnInRdmaMode)
	}
}

// ExchangeIdRes is EXCHANGE_ID4res.
type ExchangeIdRes struct {
	Status       nfserr.Status
	Clientid     uint64
	Sequenceid   uint32
	Flags        uint32 // EXCHGID4_FLAG_*
	StateProtect StateProtect4R
	ServerOwner  ServerOwner4
	ServerScope  []byte      // at most NFS4_OPAQUE_LIMIT bytes
	ServerImplID *NfsImplID4 // eir_server_impl_id<1>
}

// Encode writes r.
func (r *ExchangeIdRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint64(r.Clientid)
		w.Uint32(r.Sequenceid)
		w.Uint32(r.Flags)
		r.StateProtect.Encode(w)
		r.ServerOwner.Encode(w)
		w.Opaque(r.ServerScope)
		if r.ServerImplID != nil {
			w.Uint32(1)
			r.ServerImplID.Encode(w)
		} else {
			w.Uint32(0)
		}
	}
}

// CreateSessionRes is CREATE_SESSION4res.
type CreateSessionRes struct {
	Status        nfserr.Status
	Sessionid     [SessionIDSize]byte
	Sequence      uint32
	Flags         uint32 // CREATE_SESSION4_FLAG_*
	ForeChanAttrs ChannelAttrs4
	BackChanAttrs ChannelAttrs4
}

// Encode writes r.
func (r *CreateSessionRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Fixed(r.Sessionid[:])
		w.Uint32(r.Sequence)
		w.Uint32(r.Flags)
		r.ForeChanAttrs.Encode(w)
		r.BackChanAttrs.Encode(w)
	}
}

// GetDirDelegationRes is GET_DIR_DELEGATION4res. With NFS4_OK, NonFatal
// (gddrnf4_status) selects GDD4_OK's delegation fields or GDD4_UNAVAIL's
// WillSignalDelegAvail.
type GetDirDelegationRes struct {
	Status               nfserr.Status
	NonFatal             uint32 // GDD4_OK or GDD4_UNAVAIL
	Cookieverf           [VerifierSize]byte
	Stateid              Stateid4
	Notification         Bitmap4
	ChildAttributes      Bitmap4
	DirAttributes        Bitmap4
	WillSignalDelegAvail bool
}

// Encode writes r.
func (r *GetDirDelegationRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status != nfserr.OK {
		return
	}
	w.Uint32(r.NonFatal)
	switch r.NonFatal {
	case GDD4OK:
		w.Fixed(r.Cookieverf[:])
		r.Stateid.Encode(w)
		r.Notification.Encode(w)
		r.ChildAttributes.Encode(w)
		r.DirAttributes.Encode(w)
	case GDD4Unavail:
		w.Bool(r.WillSignalDelegAvail)
	}
}

// GetdeviceinfoRes is GETDEVICEINFO4res: DeviceAddr and Notification for
// NFS4_OK, Mincount for NFS4ERR_TOOSMALL.
type GetdeviceinfoRes struct {
	Status       nfserr.Status
	DeviceAddr   DeviceAddr4
	Notification Bitmap4
	Mincount     uint32
}

// Encode writes r.
func (r *GetdeviceinfoRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	switch r.Status {
	case nfserr.OK:
		w.Uint32(r.DeviceAddr.LayoutType)
		w.Opaque(r.DeviceAddr.AddrBody)
		r.Notification.Encode(w)
	case nfserr.Toosmall:
		w.Uint32(r.Mincount)
	}
}

// GetdevicelistRes is GETDEVICELIST4res.
type GetdevicelistRes struct {
	Status     nfserr.Status
	Cookie     uint64
	Cookieverf [VerifierSize]byte
	DeviceIDs  [][DeviceIDSize]byte
	EOF        bool
}

// Encode writes r.
func (r *GetdevicelistRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint64(r.Cookie)
		w.Fixed(r.Cookieverf[:])
		w.Uint32(uint32(len(r.DeviceIDs)))
		for i := range r.DeviceIDs {
			w.Fixed(r.DeviceIDs[i][:])
		}
		w.Bool(r.EOF)
	}
}

// LayoutcommitRes is LAYOUTCOMMIT4res: NewSize is newsize4 (nil: the size
// did not change).
type LayoutcommitRes struct {
	Status  nfserr.Status
	NewSize *uint64
}

// Encode writes r.
func (r *LayoutcommitRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Bool(r.NewSize != nil)
		if r.NewSize != nil {
			w.Uint64(*r.NewSize)
		}
	}
}

// LayoutgetRes is LAYOUTGET4res: the layouts for NFS4_OK,
// WillSignalLayoutAvail for NFS4ERR_LAYOUTTRYLATER.
type LayoutgetRes struct {
	Status                nfserr.Status
	ReturnOnClose         bool
	Stateid               Stateid4
	Layouts               []Layout4
	WillSignalLayoutAvail bool
}

// Encode writes r.
func (r *LayoutgetRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	switch r.Status {
	case nfserr.OK:
		w.Bool(r.ReturnOnClose)
		r.Stateid.Encode(w)
		w.Uint32(uint32(len(r.Layouts)))
		for i := range r.Layouts {
			l := &r.Layouts[i]
			w.Uint64(l.Offset)
			w.Uint64(l.Length)
			w.Uint32(l.Iomode)
			w.Uint32(l.Type)
			w.Opaque(l.Body)
		}
	case nfserr.Layouttrylater:
		w.Bool(r.WillSignalLayoutAvail)
	}
}

// LayoutreturnRes is LAYOUTRETURN4res: Stateid is layoutreturn_stateid
// (nil: none).
type LayoutreturnRes struct {
	Status  nfserr.Status
	Stateid *Stateid4
}

// Encode writes r.
func (r *LayoutreturnRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Bool(r.Stateid != nil)
		if r.Stateid != nil {
			r.Stateid.Encode(w)
		}
	}
}

// SequenceRes is SEQUENCE4res.
type SequenceRes struct {
	Status              nfserr.Status
	Sessionid           [SessionIDSize]byte
	Sequenceid          uint32
	Slotid              uint32
	HighestSlotid       uint32
	TargetHighestSlotid uint32
	StatusFlags         uint32 // SEQ4_STATUS_*
}

// SequenceResOKSize is the size of a SEQUENCE4res with NFS4_OK.
const SequenceResOKSize = 4 + SessionIDSize + 5*4

// Encode writes r.
func (r *SequenceRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Fixed(r.Sessionid[:])
		w.Uint32(r.Sequenceid)
		w.Uint32(r.Slotid)
		w.Uint32(r.HighestSlotid)
		w.Uint32(r.TargetHighestSlotid)
		w.Uint32(r.StatusFlags)
	}
}

// SetSsvRes is SET_SSV4res.
type SetSsvRes struct {
	Status nfserr.Status
	Digest []byte
}

// Encode writes r.
func (r *SetSsvRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Opaque(r.Digest)
	}
}

// TestStateidRes is TEST_STATEID4res: one status per stateid tested.
type TestStateidRes struct {
	Status      nfserr.Status
	StatusCodes []nfserr.Status
}

// Encode writes r.
func (r *TestStateidRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint32(uint32(len(r.StatusCodes)))
		for _, s := range r.StatusCodes {
			w.Uint32(uint32(s))
		}
	}
}

// WantDelegationRes is WANT_DELEGATION4res.
type WantDelegationRes struct {
	Status     nfserr.Status
	Delegation OpenDelegation4
}

// Encode writes r.
func (r *WantDelegationRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.Delegation.Encode(w)
	}
}

// CopyRes is COPY4res: Response and Requirements for NFS4_OK,
// Requirements alone for NFS4ERR_OFFLOAD_NO_REQS.
type CopyRes struct {
	Status       nfserr.Status
	Response     WriteResponse4
	Requirements CopyRequirements4
}

// Encode writes r.
func (r *CopyRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	switch r.Status {
	case nfserr.OK:
		r.Response.Encode(w)
		r.Requirements.Encode(w)
	case nfserr.OffloadNoReqs:
		r.Requirements.Encode(w)
	}
}

// CopyNotifyRes is COPY_NOTIFY4res.
type CopyNotifyRes struct {
	Status       nfserr.Status
	LeaseTime    Nfstime4
	Stateid      Stateid4
	SourceServer []Netloc4
}

// Encode writes r.
func (r *CopyNotifyRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.LeaseTime.Encode(w)
		r.Stateid.Encode(w)
		w.Uint32(uint32(len(r.SourceServer)))
		for i := range r.SourceServer {
			r.SourceServer[i].Encode(w)
		}
	}
}

// IoAdviseRes is IO_ADVISE4res.
type IoAdviseRes struct {
	Status nfserr.Status
	Hints  Bitmap4
}

// Encode writes r.
func (r *IoAdviseRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.Hints.Encode(w)
	}
}

// OffloadStatusRes is OFFLOAD_STATUS4res: Complete is osr_complete<1>
// (nil while the copy runs).
type OffloadStatusRes struct {
	Status   nfserr.Status
	Count    uint64
	Complete *nfserr.Status
}

// Encode writes r.
func (r *OffloadStatusRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint64(r.Count)
		if r.Complete != nil {
			w.Uint32(1)
			w.Uint32(uint32(*r.Complete))
		} else {
			w.Uint32(0)
		}
	}
}

// ReadPlusRes is READ_PLUS4res.
type ReadPlusRes struct {
	Status   nfserr.Status
	EOF      bool
	Contents []ReadPlusContent
}

// Encode writes r.
func (r *ReadPlusRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Bool(r.EOF)
		w.Uint32(uint32(len(r.Contents)))
		for i := range r.Contents {
			r.Contents[i].Encode(w)
		}
	}
}

// SeekRes is SEEK4res.
type SeekRes struct {
	Status nfserr.Status
	EOF    bool
	Offset uint64
}

// Encode writes r.
func (r *SeekRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Bool(r.EOF)
		w.Uint64(r.Offset)
	}
}

// WriteSameRes is WRITE_SAME4res.
type WriteSameRes struct {
	Status   nfserr.Status
	Response WriteResponse4
}

// Encode writes r.
func (r *WriteSameRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		r.Response.Encode(w)
	}
}

// GetxattrRes is GETXATTR4res.
type GetxattrRes struct {
	Status nfserr.Status
	Value  []byte // xattrvalue4
}

// Encode writes r.
func (r *GetxattrRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Opaque(r.Value)
	}
}

// SetxattrRes is SETXATTR4res.
type SetxattrRes struct {
	Status nfserr.Status
	Cinfo  ChangeInfo4
}

// Encode writes r.
func (r *SetxattrRes) Encode(w *xdr.Writer) { encodeStatusCinfo(w, r.Status, &r.Cinfo) }

// ListxattrsRes is LISTXATTRS4res.
type ListxattrsRes struct {
	Status nfserr.Status
	Cookie uint64
	Names  [][]byte // xattrkey4s
	EOF    bool
}

// Encode writes r.
func (r *ListxattrsRes) Encode(w *xdr.Writer) {
	w.Uint32(uint32(r.Status))
	if r.Status == nfserr.OK {
		w.Uint64(r.Cookie)
		encodeOpaques(w, r.Names)
		w.Bool(r.EOF)
	}
}

// RemovexattrRes is REMOVEXATTR4res.
type RemovexattrRes struct {
	Status nfserr.Status
	Cinfo  ChangeInfo4
}

// Encode writes r.
func (r *RemovexattrRes) Encode(w *xdr.Writer) { encodeStatusCinfo(w, r.Status, &r.Cinfo) }
