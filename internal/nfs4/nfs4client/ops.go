package nfs4client

import (
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Op is one nfs_argop4 of a COMPOUND: the operation number and the XDR of
// its arguments. The builders below encode the arguments of RFC 7530
// section 16 and RFC 8881 section 18; Raw makes any other (including
// malformed) operation.
type Op struct {
	Num  uint32
	Args []byte
	// Data, when not nil, is encoded after Args as an XDR opaque: the
	// data of WriteData, referenced rather than copied into Args.
	Data []byte
}

// Raw returns an operation with the given number and argument bytes, sent
// as they are.
func Raw(num uint32, args []byte) Op { return Op{Num: num, Args: args} }

func op(num uint32, enc func(w *xdr.Writer)) Op {
	var w xdr.Writer
	if enc != nil {
		enc(&w)
	}
	return Op{Num: num, Args: w.B}
}

// Stateid is a stateid4.
type Stateid struct {
	Seqid uint32
	Other [NFS4_OTHER_SIZE]byte
}

// Special stateids (RFC 8881 section 8.2.3).
var (
	AnonymousStateid = Stateid{}
	BypassStateid    = Stateid{Seqid: 0xffffffff, Other: [12]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	CurrentStateid   = Stateid{Seqid: 1}
)

func (s Stateid) encode(w *xdr.Writer) {
	w.Uint32(s.Seqid)
	w.Fixed(s.Other[:])
}

func decodeStateid(r *xdr.Reader) Stateid {
	var s Stateid
	s.Seqid = r.Uint32()
	copy(s.Other[:], r.Fixed(NFS4_OTHER_SIZE))
	return s
}

// StateOwner is a state_owner4 (open_owner4, lock_owner4).
type StateOwner struct {
	Clientid uint64
	Owner    []byte
}

func (o StateOwner) encode(w *xdr.Writer) {
	w.Uint64(o.Clientid)
	w.Opaque(o.Owner)
}

func decodeStateOwner(r *xdr.Reader) StateOwner {
	return StateOwner{Clientid: r.Uint64(), Owner: r.Opaque(NFS4_OPAQUE_LIMIT)}
}

// Putrootfh is PUTROOTFH.
func Putrootfh() Op { return op(OP_PUTROOTFH, nil) }

// Putpubfh is PUTPUBFH.
func Putpubfh() Op { return op(OP_PUTPUBFH, nil) }

// Putfh is PUTFH (nfs_fh4 object).
func Putfh(fh []byte) Op { return op(OP_PUTFH, func(w *xdr.Writer) { w.Opaque(fh) }) }

// Getfh is GETFH.
func Getfh() Op { return op(OP_GETFH, nil) }

// Savefh is SAVEFH.
func Savefh() Op { return op(OP_SAVEFH, nil) }

// Restorefh is RESTOREFH.
func Restorefh() Op { return op(OP_RESTOREFH, nil) }

// Lookup is LOOKUP (component4 objname).
func Lookup(name string) Op { return op(OP_LOOKUP, func(w *xdr.Writer) { w.String(name) }) }

// Lookupp is LOOKUPP.
func Lookupp() Op { return op(OP_LOOKUPP, nil) }

// Getattr is GETATTR of the attributes given by number.
func Getattr(attrs ...uint32) Op { return GetattrBitmap(NewBitmap(attrs...)) }

// GetattrBitmap is GETATTR (bitmap4 attr_request).
func GetattrBitmap(b Bitmap) Op { return op(OP_GETATTR, b.encode) }

// Access is ACCESS (uint32_t access).
func Access(mask uint32) Op { return op(OP_ACCESS, func(w *xdr.Writer) { w.Uint32(mask) }) }

// Readdir is READDIR: cookie, cookieverf, dircount, maxcount,
// attr_request.
func Readdir(cookie uint64, verf [NFS4_VERIFIER_SIZE]byte, dircount, maxcount uint32, attrs Bitmap) Op {
	return op(OP_READDIR, func(w *xdr.Writer) {
		w.Uint64(cookie)
		w.Fixed(verf[:])
		w.Uint32(dircount)
		w.Uint32(maxcount)
		attrs.encode(w)
	})
}

// Readlink is READLINK.
func Readlink() Op { return op(OP_READLINK, nil) }

// Create is CREATE (CREATE4args): createtype4 objtype with its arm
// (linkdata for NF4LNK, spec for NF4BLK and NF4CHR, nothing for the other
// types, including NF4REG, which the server must refuse), objname and
// createattrs.
func Create(objtype uint32, name string, attrs Fattr, linkdata string, spec Specdata) Op {
	return op(OP_CREATE, func(w *xdr.Writer) {
		w.Uint32(objtype)
		switch objtype {
		case NF4LNK:
			w.String(linkdata)
		case NF4BLK, NF4CHR:
			w.Uint32(spec.Specdata1)
			w.Uint32(spec.Specdata2)
		}
		w.String(name)
		attrs.encode(w)
	})
}

// Mkdir is CREATE of a directory (createtype4 NF4DIR).
func Mkdir(name string, attrs Fattr) Op { return Create(NF4DIR, name, attrs, "", Specdata{}) }

// Symlink is CREATE of a symbolic link (createtype4 NF4LNK, linktext4).
func Symlink(name, target string, attrs Fattr) Op {
	return Create(NF4LNK, name, attrs, target, Specdata{})
}

// Remove is REMOVE (component4 target).
func Remove(name string) Op { return op(OP_REMOVE, func(w *xdr.Writer) { w.String(name) }) }

// Rename is RENAME from the saved filehandle's directory to the current
// one's.
func Rename(oldname, newname string) Op {
	return op(OP_RENAME, func(w *xdr.Writer) {
		w.String(oldname)
		w.String(newname)
	})
}

// Link is LINK: the saved filehandle's object gets newname in the current
// directory.
func Link(newname string) Op { return op(OP_LINK, func(w *xdr.Writer) { w.String(newname) }) }

// Setattr is SETATTR (stateid4, fattr4).
func Setattr(s Stateid, attrs Fattr) Op {
	return op(OP_SETATTR, func(w *xdr.Writer) {
		s.encode(w)
		attrs.encode(w)
	})
}

// Verify is VERIFY (fattr4).
func Verify(attrs Fattr) Op { return op(OP_VERIFY, attrs.encode) }

// Nverify is NVERIFY (fattr4).
func Nverify(attrs Fattr) Op { return op(OP_NVERIFY, attrs.encode) }

// SecinfoNoName is SECINFO_NO_NAME (secinfo_style4).
func SecinfoNoName(style uint32) Op {
	return op(OP_SECINFO_NO_NAME, func(w *xdr.Writer) { w.Uint32(style) })
}

// Secinfo is SECINFO (component4 name).
func Secinfo(name string) Op { return op(OP_SECINFO, func(w *xdr.Writer) { w.String(name) }) }

// OpenArgs are the arguments of OPEN (OPEN4args).
type OpenArgs struct {
	Seqid       uint32 // 4.0 open-owner seqid (ignored in 4.1)
	ShareAccess uint32
	ShareDeny   uint32
	Owner       StateOwner

	// openflag4: Create selects OPEN4_CREATE with createhow4 (Mode and
	// Attrs for UNCHECKED4 and GUARDED4, Verf for EXCLUSIVE4, both for
	// EXCLUSIVE4_1).
	Create bool
	Mode   uint32
	Attrs  Fattr
	Verf   [NFS4_VERIFIER_SIZE]byte

	// open_claim4: File for CLAIM_NULL and CLAIM_DELEGATE_PREV,
	// DelegateType for CLAIM_PREVIOUS, DelegStateid (and File) for
	// CLAIM_DELEGATE_CUR, DelegStateid for CLAIM_DELEG_CUR_FH.
	Claim        uint32
	File         string
	DelegateType uint32
	DelegStateid Stateid
}

// Open is OPEN.
func Open(a OpenArgs) Op {
	return op(OP_OPEN, func(w *xdr.Writer) {
		w.Uint32(a.Seqid)
		w.Uint32(a.ShareAccess)
		w.Uint32(a.ShareDeny)
		a.Owner.encode(w)
		if a.Create {
			w.Uint32(OPEN4_CREATE)
			w.Uint32(a.Mode)
			switch a.Mode {
			case UNCHECKED4, GUARDED4:
				a.Attrs.encode(w)
			case EXCLUSIVE4:
				w.Fixed(a.Verf[:])
			case EXCLUSIVE4_1:
				w.Fixed(a.Verf[:])
				a.Attrs.encode(w)
			}
		} else {
			w.Uint32(OPEN4_NOCREATE)
		}
		w.Uint32(a.Claim)
		switch a.Claim {
		case CLAIM_NULL, CLAIM_DELEGATE_PREV:
			w.String(a.File)
		case CLAIM_PREVIOUS:
			w.Uint32(a.DelegateType)
		case CLAIM_DELEGATE_CUR:
			a.DelegStateid.encode(w)
			w.String(a.File)
		case CLAIM_DELEG_CUR_FH:
			a.DelegStateid.encode(w)
		case CLAIM_FH, CLAIM_DELEG_PREV_FH:
		}
	})
}

// OpenNull is OPEN with CLAIM_NULL and OPEN4_NOCREATE of name.
func OpenNull(seqid, access, deny uint32, owner StateOwner, name string) Op {
	return Open(OpenArgs{Seqid: seqid, ShareAccess: access, ShareDeny: deny, Owner: owner, Claim: CLAIM_NULL, File: name})
}

// OpenCreate is OPEN with CLAIM_NULL and OPEN4_CREATE of name in mode
// UNCHECKED4 or GUARDED4 with attrs.
func OpenCreate(seqid, access, deny uint32, owner StateOwner, name string, mode uint32, attrs Fattr) Op {
	return Open(OpenArgs{Seqid: seqid, ShareAccess: access, ShareDeny: deny, Owner: owner,
		Create: true, Mode: mode, Attrs: attrs, Claim: CLAIM_NULL, File: name})
}

// OpenPrevious is OPEN with CLAIM_PREVIOUS (the current filehandle is the
// file) reclaiming an open without delegation.
func OpenPrevious(seqid, access, deny uint32, owner StateOwner) Op {
	return Open(OpenArgs{Seqid: seqid, ShareAccess: access, ShareDeny: deny, Owner: owner,
		Claim: CLAIM_PREVIOUS, DelegateType: OPEN_DELEGATE_NONE})
}

// OpenFH is OPEN with CLAIM_FH (4.1; the current filehandle is the file).
func OpenFH(access, deny uint32, owner StateOwner) Op {
	return Open(OpenArgs{ShareAccess: access, ShareDeny: deny, Owner: owner, Claim: CLAIM_FH})
}

// OpenConfirm is OPEN_CONFIRM (4.0): open_stateid, seqid.
func OpenConfirm(s Stateid, seqid uint32) Op {
	return op(OP_OPEN_CONFIRM, func(w *xdr.Writer) {
		s.encode(w)
		w.Uint32(seqid)
	})
}

// OpenDowngrade is OPEN_DOWNGRADE: open_stateid, seqid, share_access,
// share_deny.
func OpenDowngrade(s Stateid, seqid, access, deny uint32) Op {
	return op(OP_OPEN_DOWNGRADE, func(w *xdr.Writer) {
		s.encode(w)
		w.Uint32(seqid)
		w.Uint32(access)
		w.Uint32(deny)
	})
}

// Close is CLOSE: seqid, open_stateid.
func Close(seqid uint32, s Stateid) Op {
	return op(OP_CLOSE, func(w *xdr.Writer) {
		w.Uint32(seqid)
		s.encode(w)
	})
}

// Read is READ: stateid, offset, count.
func Read(s Stateid, offset uint64, count uint32) Op {
	return op(OP_READ, func(w *xdr.Writer) {
		s.encode(w)
		w.Uint64(offset)
		w.Uint32(count)
	})
}

// Write is WRITE: stateid, offset, stable, data.
func Write(s Stateid, offset uint64, stable uint32, data []byte) Op {
	return op(OP_WRITE, func(w *xdr.Writer) {
		s.encode(w)
		w.Uint64(offset)
		w.Uint32(stable)
		w.Opaque(data)
	})
}

// WriteData is Write without copying data: the Op refers to it until the
// COMPOUND is encoded, so data must not change before.
func WriteData(s Stateid, offset uint64, stable uint32, data []byte) Op {
	o := op(OP_WRITE, func(w *xdr.Writer) {
		s.encode(w)
		w.Uint64(offset)
		w.Uint32(stable)
	})
	if data == nil {
		data = []byte{}
	}
	o.Data = data
	return o
}

// Commit is COMMIT: offset, count.
func Commit(offset uint64, count uint32) Op {
	return op(OP_COMMIT, func(w *xdr.Writer) {
		w.Uint64(offset)
		w.Uint32(count)
	})
}

// LockNew is LOCK with a new lock-owner (locker4 TRUE,
// open_to_lock_owner4).
func LockNew(locktype uint32, reclaim bool, offset, length uint64, openSeqid uint32, openStateid Stateid, lockSeqid uint32, owner StateOwner) Op {
	return op(OP_LOCK, func(w *xdr.Writer) {
		w.Uint32(locktype)
		w.Bool(reclaim)
		w.Uint64(offset)
		w.Uint64(length)
		w.Bool(true)
		w.Uint32(openSeqid)
		openStateid.encode(w)
		w.Uint32(lockSeqid)
		owner.encode(w)
	})
}

// LockExisting is LOCK with an existing lock-owner (locker4 FALSE,
// exist_lock_owner4).
func LockExisting(locktype uint32, reclaim bool, offset, length uint64, lockStateid Stateid, lockSeqid uint32) Op {
	return op(OP_LOCK, func(w *xdr.Writer) {
		w.Uint32(locktype)
		w.Bool(reclaim)
		w.Uint64(offset)
		w.Uint64(length)
		w.Bool(false)
		lockStateid.encode(w)
		w.Uint32(lockSeqid)
	})
}

// Lockt is LOCKT: locktype, offset, length, owner.
func Lockt(locktype uint32, offset, length uint64, owner StateOwner) Op {
	return op(OP_LOCKT, func(w *xdr.Writer) {
		w.Uint32(locktype)
		w.Uint64(offset)
		w.Uint64(length)
		owner.encode(w)
	})
}

// Locku is LOCKU: locktype, seqid, lock_stateid, offset, length.
func Locku(locktype, seqid uint32, s Stateid, offset, length uint64) Op {
	return op(OP_LOCKU, func(w *xdr.Writer) {
		w.Uint32(locktype)
		w.Uint32(seqid)
		s.encode(w)
		w.Uint64(offset)
		w.Uint64(length)
	})
}

// ReleaseLockowner is RELEASE_LOCKOWNER (4.0).
func ReleaseLockowner(owner StateOwner) Op { return op(OP_RELEASE_LOCKOWNER, owner.encode) }

// Setclientid is SETCLIENTID (4.0): nfs_client_id4 {verifier, id},
// cb_client4 {cb_program, netaddr4 {r_netid, r_addr}}, callback_ident.
func Setclientid(verf [NFS4_VERIFIER_SIZE]byte, id []byte, cbProgram uint32, netid, addr string, ident uint32) Op {
	return op(OP_SETCLIENTID, func(w *xdr.Writer) {
		w.Fixed(verf[:])
		w.Opaque(id)
		w.Uint32(cbProgram)
		w.String(netid)
		w.String(addr)
		w.Uint32(ident)
	})
}

// SetclientidConfirm is SETCLIENTID_CONFIRM (4.0): clientid,
// setclientid_confirm.
func SetclientidConfirm(clientid uint64, confirm [NFS4_VERIFIER_SIZE]byte) Op {
	return op(OP_SETCLIENTID_CONFIRM, func(w *xdr.Writer) {
		w.Uint64(clientid)
		w.Fixed(confirm[:])
	})
}

// Renew is RENEW (4.0).
func Renew(clientid uint64) Op { return op(OP_RENEW, func(w *xdr.Writer) { w.Uint64(clientid) }) }

// ImplID is an nfs_impl_id4.
type ImplID struct {
	Domain string
	Name   string
	Date   Nfstime
}

// ExchangeIDArgs are EXCHANGE_ID4args with SP4_NONE.
type ExchangeIDArgs struct {
	Verifier [NFS4_VERIFIER_SIZE]byte // co_verifier
	OwnerID  []byte                   // co_ownerid
	Flags    uint32
	ImplID   *ImplID // eia_client_impl_id<1>
}

// ExchangeID is EXCHANGE_ID (4.1) with state protection SP4_NONE.
func ExchangeID(a ExchangeIDArgs) Op {
	return op(OP_EXCHANGE_ID, func(w *xdr.Writer) {
		w.Fixed(a.Verifier[:])
		w.Opaque(a.OwnerID)
		w.Uint32(a.Flags)
		w.Uint32(SP4_NONE)
		if a.ImplID == nil {
			w.Uint32(0)
			return
		}
		w.Uint32(1)
		w.String(a.ImplID.Domain)
		w.String(a.ImplID.Name)
		w.Int64(a.ImplID.Date.Seconds)
		w.Uint32(a.ImplID.Date.Nseconds)
	})
}

// ChannelAttrs is channel_attrs4.
type ChannelAttrs struct {
	HeaderPadSize         uint32
	MaxRequestSize        uint32
	MaxResponseSize       uint32
	MaxResponseSizeCached uint32
	MaxOperations         uint32
	MaxRequests           uint32
	RdmaIrd               []uint32 // <1>
}

func (c ChannelAttrs) encode(w *xdr.Writer) {
	w.Uint32(c.HeaderPadSize)
	w.Uint32(c.MaxRequestSize)
	w.Uint32(c.MaxResponseSize)
	w.Uint32(c.MaxResponseSizeCached)
	w.Uint32(c.MaxOperations)
	w.Uint32(c.MaxRequests)
	w.Uint32(uint32(len(c.RdmaIrd)))
	for _, v := range c.RdmaIrd {
		w.Uint32(v)
	}
}

func decodeChannelAttrs(r *xdr.Reader) ChannelAttrs {
	c := ChannelAttrs{HeaderPadSize: r.Uint32(), MaxRequestSize: r.Uint32(), MaxResponseSize: r.Uint32(),
		MaxResponseSizeCached: r.Uint32(), MaxOperations: r.Uint32(), MaxRequests: r.Uint32()}
	n := r.ArrayLen(1, 4)
	for range n {
		c.RdmaIrd = append(c.RdmaIrd, r.Uint32())
	}
	return c
}

// CallbackSec is a callback_sec_parms4: AUTH_NONE, or AUTH_SYS with Sys.
type CallbackSec struct {
	Flavor uint32
	Sys    oncrpc.AuthSysParams
}

// CreateSessionArgs are CREATE_SESSION4args.
type CreateSessionArgs struct {
	Clientid   uint64
	Sequence   uint32
	Flags      uint32
	Fore, Back ChannelAttrs
	CbProgram  uint32
	SecParms   []CallbackSec
}

// CreateSession is CREATE_SESSION (4.1).
func CreateSession(a CreateSessionArgs) Op {
	return op(OP_CREATE_SESSION, func(w *xdr.Writer) {
		w.Uint64(a.Clientid)
		w.Uint32(a.Sequence)
		w.Uint32(a.Flags)
		a.Fore.encode(w)
		a.Back.encode(w)
		w.Uint32(a.CbProgram)
		w.Uint32(uint32(len(a.SecParms)))
		for _, p := range a.SecParms {
			w.Uint32(p.Flavor)
			if p.Flavor == AUTH_SYS {
				w.B = append(w.B, oncrpc.EncodeAuthSys(p.Sys)...)
			}
		}
	})
}

// SessionID is a sessionid4.
type SessionID [NFS4_SESSIONID_SIZE]byte

// Sequence is SEQUENCE (4.1): sessionid, sequenceid, slotid,
// highest_slotid, cachethis.
func Sequence(sid SessionID, seqid, slot, highest uint32, cacheThis bool) Op {
	return op(OP_SEQUENCE, func(w *xdr.Writer) {
		w.Fixed(sid[:])
		w.Uint32(seqid)
		w.Uint32(slot)
		w.Uint32(highest)
		w.Bool(cacheThis)
	})
}

// DestroySession is DESTROY_SESSION (4.1).
func DestroySession(sid SessionID) Op {
	return op(OP_DESTROY_SESSION, func(w *xdr.Writer) { w.Fixed(sid[:]) })
}

// DestroyClientid is DESTROY_CLIENTID (4.1).
func DestroyClientid(clientid uint64) Op {
	return op(OP_DESTROY_CLIENTID, func(w *xdr.Writer) { w.Uint64(clientid) })
}

// ReclaimComplete is RECLAIM_COMPLETE (4.1): rca_one_fs.
func ReclaimComplete(oneFS bool) Op {
	return op(OP_RECLAIM_COMPLETE, func(w *xdr.Writer) { w.Bool(oneFS) })
}

// TestStateid is TEST_STATEID (4.1).
func TestStateid(ids ...Stateid) Op {
	return op(OP_TEST_STATEID, func(w *xdr.Writer) {
		w.Uint32(uint32(len(ids)))
		for _, s := range ids {
			s.encode(w)
		}
	})
}

// FreeStateid is FREE_STATEID (4.1).
func FreeStateid(s Stateid) Op { return op(OP_FREE_STATEID, s.encode) }

// Delegreturn is DELEGRETURN (stateid4 deleg_stateid).
func Delegreturn(s Stateid) Op { return op(OP_DELEGRETURN, s.encode) }
