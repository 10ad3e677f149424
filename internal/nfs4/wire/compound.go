package wire

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Limits bounds what the decoders accept where the XDR itself gives no
// bound. The RFC's own bounds (NFS4_FHSIZE for nfs_fh4, NFS4_OPAQUE_LIMIT
// for owners and client ids, MaxBitmapWords) always apply.
type Limits struct {
	// MaxOps is the most operations a COMPOUND may have; see
	// CheckNumOps (the decoder itself never allocates by the count).
	MaxOps int
	// MaxTag bounds the COMPOUND tag; a longer one fails
	// DecodeCompoundHeader.
	MaxTag int
	// MaxName bounds a component4 (file names, xattr names). It is larger
	// than any file system's name limit, so that a long name decodes and
	// the server answers NFS4ERR_NAMETOOLONG as the RFC wants; a name over
	// MaxName is NFS4ERR_BADXDR.
	MaxName int
	// MaxLinktext bounds a linktext4 (CREATE of a symbolic link).
	MaxLinktext int
	// MaxOpaque bounds the other unbounded opaques: sec_oid4, GSS
	// handles, SSV, implementation ids, netloc4 names.
	MaxOpaque int
	// MaxAttrVals bounds the attr_vals of an fattr4 argument (SETATTR,
	// CREATE, OPEN, VERIFY, NVERIFY).
	MaxAttrVals int
	// MaxWrite bounds WRITE data, SETXATTR values, WRITE_SAME patterns
	// and the layout-type bodies of pNFS arguments.
	MaxWrite int
	// MaxArray bounds the element count of the other unbounded arrays
	// (TEST_STATEID's stateids, callback_sec_parms4s, COPY's source
	// servers, LAYOUTERROR's errors, SSV algorithm lists).
	MaxArray int
}

// DefaultLimits are the limits the server uses unless configured.
var DefaultLimits = Limits{
	MaxOps:      200, // Linux nfsd's NFSD_MAX_OPS_PER_COMPOUND
	MaxTag:      OpaqueLimit,
	MaxName:     4096,
	MaxLinktext: 4096, // PATH_MAX
	MaxOpaque:   OpaqueLimit,
	MaxAttrVals: 64 << 10,
	MaxWrite:    1 << 20,
	MaxArray:    1024,
}

// CompoundHeader is COMPOUND4args without its operations.
type CompoundHeader struct {
	Tag          []byte // utf8str_cs, not checked (aliases the input)
	MinorVersion uint32
	NumOps       uint32 // the argarray's count, not checked
}

// DecodeCompoundHeader reads the tag, minor version and operation count
// of COMPOUND4args. A truncated header or a tag longer than lim.MaxTag is
// nfserr.Badxdr (there is no operation to carry the status: the server
// answers GARBAGE_ARGS or a COMPOUND4res with no results, as it chooses).
//
// Nothing else is judged here. The server checks, in RFC 8881 section
// 16.2.3's order: the minor version (NFS4ERR_MINOR_VERS_MISMATCH, with no
// operation run), the tag's UTF-8, and the operation count with
// CheckNumOps.
func DecodeCompoundHeader(r *xdr.Reader, lim Limits) (CompoundHeader, error) {
	var h CompoundHeader
	h.Tag = r.Opaque(lim.MaxTag)
	h.MinorVersion = r.Uint32()
	h.NumOps = r.Uint32()
	if r.Err() != nil {
		return CompoundHeader{}, nfserr.Badxdr
	}
	return h, nil
}

// CheckNumOps reports whether h has more operations than lim.MaxOps:
// nil if not, otherwise the status of the compound's first result (its
// operation is the first in the request, as DecodeOp reads it):
// NFS4ERR_RESOURCE in 4.0 (RFC 7530 section 15.2) and NFS4ERR_TOO_MANY_OPS
// from 4.1 (RFC 8881 section 15.1.3, which retires NFS4ERR_RESOURCE). In 4.1 a session's own
// ca_maxoperations, checked at SEQUENCE, is usually lower.
func CheckNumOps(h CompoundHeader, lim Limits) error {
	if int64(h.NumOps) <= int64(lim.MaxOps) {
		return nil
	}
	if h.MinorVersion == 0 {
		return nfserr.Resource
	}
	return nfserr.TooManyOps
}

// Op is one decoded nfs_argop4. Args points to the operation's arguments
// (*LookupArgs for OP_LOOKUP, ...); it is nil for the operations without
// arguments: GETFH, LOOKUPP, PUTPUBFH, PUTROOTFH, READLINK, RESTOREFH,
// SAVEFH (and ILLEGAL).
type Op struct {
	Num  uint32
	Args any
}

// String returns the operation's name.
func (o Op) String() string { return Opnum(o.Num).String() }

// opArgs is implemented by every argument type.
type opArgs interface {
	decode(r *xdr.Reader, minor uint32, lim Limits)
}

// DecodeOp reads one nfs_argop4 of a COMPOUND of minor version minor.
//
// Errors (nfserr.Status values):
//   - the operation number is missing: Op{Num: OpIllegal}, nfserr.Badxdr;
//   - the number is not an operation of this minor version (see
//     OpDefined; OP_ILLEGAL itself too): Op{Num: OpIllegal},
//     nfserr.OpIllegal. The reader is then positioned after the number,
//     and the server must stop: the arguments cannot be skipped;
//   - the arguments are truncated or invalid XDR: Op{Num: the number},
//     nfserr.Badxdr.
//
// In every error case Args is nil, and the server answers the operation
// (as Op.Num) with the status and ends the COMPOUND.
func DecodeOp(r *xdr.Reader, minor uint32, lim Limits) (Op, error) {
	num := r.Uint32()
	if r.Err() != nil {
		return Op{Num: OpIllegal}, nfserr.Badxdr
	}
	if !OpDefined(num, minor) {
		return Op{Num: OpIllegal}, nfserr.OpIllegal
	}
	args := newArgs(num)
	if args == nil {
		return Op{Num: num}, nil
	}
	args.decode(r, minor, lim)
	if r.Err() != nil {
		return Op{Num: num}, nfserr.Badxdr
	}
	return Op{Num: num, Args: args}, nil
}

// newArgs returns a new argument value for op, nil for the operations
// without arguments.
func newArgs(op uint32) opArgs {
	switch op {
	case OpAccess:
		return new(AccessArgs)
	case OpClose:
		return new(CloseArgs)
	case OpCommit:
		return new(CommitArgs)
	case OpCreate:
		return new(CreateArgs)
	case OpDelegpurge:
		return new(DelegpurgeArgs)
	case OpDelegreturn:
		return new(DelegreturnArgs)
	case OpGetattr:
		return new(GetattrArgs)
	case OpLink:
		return new(LinkArgs)
	case OpLock:
		return new(LockArgs)
	case OpLockt:
		return new(LocktArgs)
	case OpLocku:
		return new(LockuArgs)
	case OpLookup:
		return new(LookupArgs)
	case OpNverify:
		return new(NverifyArgs)
	case OpOpen:
		return new(OpenArgs)
	case OpOpenattr:
		return new(OpenattrArgs)
	case OpOpenConfirm:
		return new(OpenConfirmArgs)
	case OpOpenDowngrade:
		return new(OpenDowngradeArgs)
	case OpPutfh:
		return new(PutfhArgs)
	case OpRead:
		return new(ReadArgs)
	case OpReaddir:
		return new(ReaddirArgs)
	case OpRemove:
		return new(RemoveArgs)
	case OpRename:
		return new(RenameArgs)
	case OpRenew:
		return new(RenewArgs)
	case OpSecinfo:
		return new(SecinfoArgs)
	case OpSetattr:
		return new(SetattrArgs)
	case OpSetclientid:
		return new(SetclientidArgs)
	case OpSetclientidConfirm:
		return new(SetclientidConfirmArgs)
	case OpVerify:
		return new(VerifyArgs)
	case OpWrite:
		return new(WriteArgs)
	case OpReleaseLockowner:
		return new(ReleaseLockownerArgs)
	case OpBackchannelCtl:
		return new(BackchannelCtlArgs)
	case OpBindConnToSession:
		return new(BindConnToSessionArgs)
	case OpExchangeId:
		return new(ExchangeIdArgs)
	case OpCreateSession:
		return new(CreateSessionArgs)
	case OpDestroySession:
		return new(DestroySessionArgs)
	case OpFreeStateid:
		return new(FreeStateidArgs)
	case OpGetDirDelegation:
		return new(GetDirDelegationArgs)
	case OpGetdeviceinfo:
		return new(GetdeviceinfoArgs)
	case OpGetdevicelist:
		return new(GetdevicelistArgs)
	case OpLayoutcommit:
		return new(LayoutcommitArgs)
	case OpLayoutget:
		return new(LayoutgetArgs)
	case OpLayoutreturn:
		return new(LayoutreturnArgs)
	case OpSecinfoNoName:
		return new(SecinfoNoNameArgs)
	case OpSequence:
		return new(SequenceArgs)
	case OpSetSsv:
		return new(SetSsvArgs)
	case OpTestStateid:
		return new(TestStateidArgs)
	case OpWantDelegation:
		return new(WantDelegationArgs)
	case OpDestroyClientid:
		return new(DestroyClientidArgs)
	case OpReclaimComplete:
		return new(ReclaimCompleteArgs)
	case OpAllocate:
		return new(AllocateArgs)
	case OpCopy:
		return new(CopyArgs)
	case OpCopyNotify:
		return new(CopyNotifyArgs)
	case OpDeallocate:
		return new(DeallocateArgs)
	case OpIoAdvise:
		return new(IoAdviseArgs)
	case OpLayouterror:
		return new(LayouterrorArgs)
	case OpLayoutstats:
		return new(LayoutstatsArgs)
	case OpOffloadCancel:
		return new(OffloadCancelArgs)
	case OpOffloadStatus:
		return new(OffloadStatusArgs)
	case OpReadPlus:
		return new(ReadPlusArgs)
	case OpSeek:
		return new(SeekArgs)
	case OpWriteSame:
		return new(WriteSameArgs)
	case OpClone:
		return new(CloneArgs)
	case OpGetxattr:
		return new(GetxattrArgs)
	case OpSetxattr:
		return new(SetxattrArgs)
	case OpListxattrs:
		return new(ListxattrsArgs)
	case OpRemovexattr:
		return new(RemovexattrArgs)
	}
	// GETFH, LOOKUPP, PUTPUBFH, PUTROOTFH, READLINK, RESTOREFH, SAVEFH.
	return nil
}
