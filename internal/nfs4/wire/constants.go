// Package wire is the XDR of NFS version 4: the COMPOUND procedure's
// arguments and results for minor versions 0 (RFC 7530 section 16, XDR in
// RFC 7531), 1 (RFC 8881 section 18, XDR in RFC 5662) and 2 (RFC 7862
// section 15, XDR in RFC 7863), the extended attribute operations of RFC
// 8276, and the callback program's CB_COMPOUND as the server sends it
// (RFC 7530 sections 17 and 18, RFC 8881 sections 19 and 20).
//
// Arguments are decoded one operation at a time (DecodeCompoundHeader,
// then DecodeOp for each operation) so that the server runs the operations
// before a malformed one and answers that one NFS4ERR_BADXDR (RFC 7530
// section 15.2, RFC 8881 section 16.2.3). Decoding works on a record held in
// memory: every []byte in a decoded argument (names, owners, file handles,
// WRITE data, attribute values) aliases the record and is valid only while
// it is; copy what must be kept (owners and client ids kept in state, for
// instance). Every variable-length item is read against a bound: the
// RFC's own (NFS4_FHSIZE, NFS4_OPAQUE_LIMIT, ...) where the XDR has one,
// otherwise a field of Limits. No decoder allocates more than the input
// could hold.
//
// The decoders check what the XDR makes an XDR error: a union
// discriminant with no arm for it (open_claim4, createhow4, locker4,
// netloc4, ...), an opentype4, createmode4, nfs_lock_type4 or stable_how4
// outside its enum, a bool that is neither 0 nor 1, an array or opaque
// over its bound, a truncated item. Values whose meaning the RFCs give an
// error other than NFS4ERR_BADXDR (share_access and share_deny bits,
// layouttype4, layoutiomode4, secinfo_style4, channel_dir_from_client4,
// data_content4 of SEEK, setxattr_option4, open_delegation_type4 of
// CLAIM_PREVIOUS, component4 syntax and UTF-8, the tag's UTF-8) are
// returned as they are for the server to judge.
//
// Results are encoded by the Encode method of each operation's result
// type, which writes the nfs_resop4 body after the operation number
// (written by the server): the status, then the arm the RFC gives for it.
package wire

// RPC program and procedures (RFC 7530 section 15, RFC 8881 section 16).
const (
	Program = 100003 // NFS4_PROGRAM
	Version = 4      // NFS_V4

	ProcNull     = 0 // NFSPROC4_NULL
	ProcCompound = 1 // NFSPROC4_COMPOUND
)

// Callback program (RFC 7530 section 17, RFC 8881 section 19). The
// program number a client uses is the one it gives in SETCLIENTID's
// cb_program (4.0) or CREATE_SESSION's and BACKCHANNEL_CTL's
// csa_cb_program (4.1); CbProgram is the XDR's nominal value.
const (
	CbProgram = 0x40000000 // NFS4_CALLBACK
	CbVersion = 1          // NFS_CB

	CbProcNull     = 0 // CB_NULL
	CbProcCompound = 1 // CB_COMPOUND
)

// Sizes (RFC 7531 and RFC 5662 "Sizes").
const (
	FHSize        = 128  // NFS4_FHSIZE
	VerifierSize  = 8    // NFS4_VERIFIER_SIZE
	OtherSize     = 12   // NFS4_OTHER_SIZE
	OpaqueLimit   = 1024 // NFS4_OPAQUE_LIMIT
	SessionIDSize = 16   // NFS4_SESSIONID_SIZE
	DeviceIDSize  = 16   // NFS4_DEVICEID4_SIZE

	Int64Max   = 0x7fffffffffffffff // NFS4_INT64_MAX
	Uint64Max  = 0xffffffffffffffff // NFS4_UINT64_MAX
	Int32Max   = 0x7fffffff         // NFS4_INT32_MAX
	Uint32Max  = 0xffffffff         // NFS4_UINT32_MAX
	MaxFileLen = 0xffffffffffffffff // NFS4_MAXFILELEN
	MaxFileOff = 0xfffffffffffffffe // NFS4_MAXFILEOFF
)

// Opnum is an nfs_opnum4 (RFC 7531, RFC 5662, RFC 7863, RFC 8276). The
// Op* constants are untyped so that they compare with Op.Num; Opnum
// exists for its String method.
type Opnum uint32

// nfs_opnum4 values.
const (
	OpAccess             = 3
	OpClose              = 4
	OpCommit             = 5
	OpCreate             = 6
	OpDelegpurge         = 7
	OpDelegreturn        = 8
	OpGetattr            = 9
	OpGetfh              = 10
	OpLink               = 11
	OpLock               = 12
	OpLockt              = 13
	OpLocku              = 14
	OpLookup             = 15
	OpLookupp            = 16
	OpNverify            = 17
	OpOpen               = 18
	OpOpenattr           = 19
	OpOpenConfirm        = 20 // 4.0 only (MNI in 4.1)
	OpOpenDowngrade      = 21
	OpPutfh              = 22
	OpPutpubfh           = 23
	OpPutrootfh          = 24
	OpRead               = 25
	OpReaddir            = 26
	OpReadlink           = 27
	OpRemove             = 28
	OpRename             = 29
	OpRenew              = 30 // 4.0 only
	OpRestorefh          = 31
	OpSavefh             = 32
	OpSecinfo            = 33
	OpSetattr            = 34
	OpSetclientid        = 35 // 4.0 only
	OpSetclientidConfirm = 36 // 4.0 only
	OpVerify             = 37
	OpWrite              = 38
	OpReleaseLockowner   = 39 // 4.0 only

	// New in NFSv4.1 (RFC 8881).
	OpBackchannelCtl    = 40
	OpBindConnToSession = 41
	OpExchangeId        = 42
	OpCreateSession     = 43
	OpDestroySession    = 44
	OpFreeStateid       = 45
	OpGetDirDelegation  = 46
	OpGetdeviceinfo     = 47
	OpGetdevicelist     = 48
	OpLayoutcommit      = 49
	OpLayoutget         = 50
	OpLayoutreturn      = 51
	OpSecinfoNoName     = 52
	OpSequence          = 53
	OpSetSsv            = 54
	OpTestStateid       = 55
	OpWantDelegation    = 56
	OpDestroyClientid   = 57
	OpReclaimComplete   = 58

	// New in NFSv4.2 (RFC 7862).
	OpAllocate      = 59
	OpCopy          = 60
	OpCopyNotify    = 61
	OpDeallocate    = 62
	OpIoAdvise      = 63
	OpLayouterror   = 64
	OpLayoutstats   = 65
	OpOffloadCancel = 66
	OpOffloadStatus = 67
	OpReadPlus      = 68
	OpSeek          = 69
	OpWriteSame     = 70
	OpClone         = 71

	// Extended attributes (RFC 8276), an extension of 4.2.
	OpGetxattr    = 72
	OpSetxattr    = 73
	OpListxattrs  = 74
	OpRemovexattr = 75

	OpIllegal = 10044
)

var opNames = [...]string{
	OpAccess: "ACCESS", OpClose: "CLOSE", OpCommit: "COMMIT", OpCreate: "CREATE",
	OpDelegpurge: "DELEGPURGE", OpDelegreturn: "DELEGRETURN", OpGetattr: "GETATTR",
	OpGetfh: "GETFH", OpLink: "LINK", OpLock: "LOCK", OpLockt: "LOCKT", OpLocku: "LOCKU",
	OpLookup: "LOOKUP", OpLookupp: "LOOKUPP", OpNverify: "NVERIFY", OpOpen: "OPEN",
	OpOpenattr: "OPENATTR", OpOpenConfirm: "OPEN_CONFIRM", OpOpenDowngrade: "OPEN_DOWNGRADE",
	OpPutfh: "PUTFH", OpPutpubfh: "PUTPUBFH", OpPutrootfh: "PUTROOTFH", OpRead: "READ",
	OpReaddir: "READDIR", OpReadlink: "READLINK", OpRemove: "REMOVE", OpRename: "RENAME",
	OpRenew: "RENEW", OpRestorefh: "RESTOREFH", OpSavefh: "SAVEFH", OpSecinfo: "SECINFO",
	OpSetattr: "SETATTR", OpSetclientid: "SETCLIENTID", OpSetclientidConfirm: "SETCLIENTID_CONFIRM",
	OpVerify: "VERIFY", OpWrite: "WRITE", OpReleaseLockowner: "RELEASE_LOCKOWNER",
	OpBackchannelCtl: "BACKCHANNEL_CTL", OpBindConnToSession: "BIND_CONN_TO_SESSION",
	OpExchangeId: "EXCHANGE_ID", OpCreateSession: "CREATE_SESSION",
	OpDestroySession: "DESTROY_SESSION", OpFreeStateid: "FREE_STATEID",
	OpGetDirDelegation: "GET_DIR_DELEGATION", OpGetdeviceinfo: "GETDEVICEINFO",
	OpGetdevicelist: "GETDEVICELIST", OpLayoutcommit: "LAYOUTCOMMIT", OpLayoutget: "LAYOUTGET",
	OpLayoutreturn: "LAYOUTRETURN", OpSecinfoNoName: "SECINFO_NO_NAME", OpSequence: "SEQUENCE",
	OpSetSsv: "SET_SSV", OpTestStateid: "TEST_STATEID", OpWantDelegation: "WANT_DELEGATION",
	OpDestroyClientid: "DESTROY_CLIENTID", OpReclaimComplete: "RECLAIM_COMPLETE",
	OpAllocate: "ALLOCATE", OpCopy: "COPY", OpCopyNotify: "COPY_NOTIFY",
	OpDeallocate: "DEALLOCATE", OpIoAdvise: "IO_ADVISE", OpLayouterror: "LAYOUTERROR",
	OpLayoutstats: "LAYOUTSTATS", OpOffloadCancel: "OFFLOAD_CANCEL",
	OpOffloadStatus: "OFFLOAD_STATUS", OpReadPlus: "READ_PLUS", OpSeek: "SEEK",
	OpWriteSame: "WRITE_SAME", OpClone: "CLONE", OpGetxattr: "GETXATTR",
	OpSetxattr: "SETXATTR", OpListxattrs: "LISTXATTRS", OpRemovexattr: "REMOVEXATTR",
}

// String returns the RFC's name without OP_, such as "PUTROOTFH".
func (o Opnum) String() string {
	if o == OpIllegal {
		return "ILLEGAL"
	}
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "nfs_opnum4(" + utoa(uint64(o)) + ")"
}

// OpDefined reports whether op is an operation of minor version minor:
// OP_ACCESS through OP_RELEASE_LOCKOWNER in every minor version (the
// 4.0-only operations remain defined in 4.1, where the server answers
// NFS4ERR_NOTSUPP, RFC 8881 section 18), the 4.1 operations from minor
// version 1, those of 4.2 and RFC 8276 from minor version 2. A minor
// version above 2 is treated as 2 (the server refuses it before decoding
// any operation). OP_ILLEGAL is not defined: its result is always
// NFS4ERR_OP_ILLEGAL.
func OpDefined(op uint32, minor uint32) bool {
	switch {
	case op >= OpAccess && op <= OpReleaseLockowner:
		return true
	case op >= OpBackchannelCtl && op <= OpReclaimComplete:
		return minor >= 1
	case op >= OpAllocate && op <= OpRemovexattr:
		return minor >= 2
	}
	return false
}

// CbOpnum is an nfs_cb_opnum4 (RFC 7530 section 18, RFC 8881 section 20,
// RFC 7862 section 16). The CbOp* constants are untyped.
type CbOpnum uint32

// nfs_cb_opnum4 values.
const (
	CbOpGetattr            = 3  // OP_CB_GETATTR
	CbOpRecall             = 4  // OP_CB_RECALL
	CbOpLayoutrecall       = 5  // OP_CB_LAYOUTRECALL, 4.1
	CbOpNotify             = 6  // OP_CB_NOTIFY, 4.1
	CbOpPushDeleg          = 7  // OP_CB_PUSH_DELEG, 4.1
	CbOpRecallAny          = 8  // OP_CB_RECALL_ANY, 4.1
	CbOpRecallableObjAvail = 9  // OP_CB_RECALLABLE_OBJ_AVAIL, 4.1
	CbOpRecallSlot         = 10 // OP_CB_RECALL_SLOT, 4.1
	CbOpSequence           = 11 // OP_CB_SEQUENCE, 4.1
	CbOpWantsCancelled     = 12 // OP_CB_WANTS_CANCELLED, 4.1
	CbOpNotifyLock         = 13 // OP_CB_NOTIFY_LOCK, 4.1
	CbOpNotifyDeviceid     = 14 // OP_CB_NOTIFY_DEVICEID, 4.1
	CbOpOffload            = 15 // OP_CB_OFFLOAD, 4.2
	CbOpIllegal            = 10044
)

var cbOpNames = [...]string{
	CbOpGetattr: "CB_GETATTR", CbOpRecall: "CB_RECALL", CbOpLayoutrecall: "CB_LAYOUTRECALL",
	CbOpNotify: "CB_NOTIFY", CbOpPushDeleg: "CB_PUSH_DELEG", CbOpRecallAny: "CB_RECALL_ANY",
	CbOpRecallableObjAvail: "CB_RECALLABLE_OBJ_AVAIL", CbOpRecallSlot: "CB_RECALL_SLOT",
	CbOpSequence: "CB_SEQUENCE", CbOpWantsCancelled: "CB_WANTS_CANCELLED",
	CbOpNotifyLock: "CB_NOTIFY_LOCK", CbOpNotifyDeviceid: "CB_NOTIFY_DEVICEID",
	CbOpOffload: "CB_OFFLOAD",
}

// String returns the RFC's name without OP_, such as "CB_RECALL".
func (o CbOpnum) String() string {
	if o == CbOpIllegal {
		return "CB_ILLEGAL"
	}
	if int(o) < len(cbOpNames) && cbOpNames[o] != "" {
		return cbOpNames[o]
	}
	return "nfs_cb_opnum4(" + utoa(uint64(o)) + ")"
}

func utoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

// nfs_ftype4 (RFC 7531 and RFC 5662 "File types").
const (
	NF4REG       = 1 // regular file
	NF4DIR       = 2 // directory
	NF4BLK       = 3 // block device
	NF4CHR       = 4 // character device
	NF4LNK       = 5 // symbolic link
	NF4SOCK      = 6 // socket
	NF4FIFO      = 7 // fifo
	NF4ATTRDIR   = 8 // named attribute directory
	NF4NAMEDATTR = 9 // named attribute
)

// ACCESS4_* bits (RFC 8881 section 18.1).
const (
	Access4Read    = 0x00000001
	Access4Lookup  = 0x00000002
	Access4Modify  = 0x00000004
	Access4Extend  = 0x00000008
	Access4Delete  = 0x00000010
	Access4Execute = 0x00000020
	// Extended attribute access (RFC 8276), 4.2 only.
	Access4XARead  = 0x00000040
	Access4XAWrite = 0x00000080
	Access4XAList  = 0x00000100
)

// share_access and share_deny of OPEN and OPEN_DOWNGRADE (RFC 8881
// section 18.16).
const (
	Open4ShareAccessRead  = 0x00000001
	Open4ShareAccessWrite = 0x00000002
	Open4ShareAccessBoth  = 0x00000003

	Open4ShareDenyNone  = 0x00000000
	Open4ShareDenyRead  = 0x00000001
	Open4ShareDenyWrite = 0x00000002
	Open4ShareDenyBoth  = 0x00000003

	// New in 4.1: the delegation wanted, in share_access (and in
	// WANT_DELEGATION's wda_want).
	Open4ShareAccessWantDelegMask                 = 0xFF00
	Open4ShareAccessWantNoPreference              = 0x0000
	Open4ShareAccessWantReadDeleg                 = 0x0100
	Open4ShareAccessWantWriteDeleg                = 0x0200
	Open4ShareAccessWantAnyDeleg                  = 0x0300
	Open4ShareAccessWantNoDeleg                   = 0x0400
	Open4ShareAccessWantCancel                    = 0x0500
	Open4ShareAccessWantSignalDelegWhenResrcAvail = 0x10000
	Open4ShareAccessWantPushDelegWhenUncontended  = 0x20000
)

// opentype4.
const (
	Open4Nocreate = 0 // OPEN4_NOCREATE
	Open4Create   = 1 // OPEN4_CREATE
)

// createmode4.
const (
	Unchecked4  = 0 // UNCHECKED4
	Guarded4    = 1 // GUARDED4
	Exclusive4  = 2 // EXCLUSIVE4
	Exclusive41 = 3 // EXCLUSIVE4_1, new in 4.1
)

// open_claim_type4.
const (
	ClaimNull         = 0 // CLAIM_NULL
	ClaimPrevious     = 1 // CLAIM_PREVIOUS
	ClaimDelegateCur  = 2 // CLAIM_DELEGATE_CUR
	ClaimDelegatePrev = 3 // CLAIM_DELEGATE_PREV
	ClaimFH           = 4 // CLAIM_FH, new in 4.1
	ClaimDelegCurFH   = 5 // CLAIM_DELEG_CUR_FH, new in 4.1
	ClaimDelegPrevFH  = 6 // CLAIM_DELEG_PREV_FH, new in 4.1
)

// open_delegation_type4.
const (
	OpenDelegateNone    = 0 // OPEN_DELEGATE_NONE
	OpenDelegateRead    = 1 // OPEN_DELEGATE_READ
	OpenDelegateWrite   = 2 // OPEN_DELEGATE_WRITE
	OpenDelegateNoneExt = 3 // OPEN_DELEGATE_NONE_EXT, new in 4.1
)

// why_no_delegation4 (4.1).
const (
	WND4NotWanted              = 0
	WND4Contention             = 1
	WND4Resource               = 2
	WND4NotSuppFtype           = 3
	WND4WriteDelegNotSuppFtype = 4
	WND4NotSuppUpgrade         = 5
	WND4NotSuppDowngrade       = 6
	WND4Cancelled              = 7
	WND4IsDir                  = 8
)

// OPEN4_RESULT_* flags (rflags of OPEN4resok).
const (
	Open4ResultConfirm          = 0x00000002 // 4.0 only
	Open4ResultLocktypePosix    = 0x00000004
	Open4ResultPreserveUnlinked = 0x00000008
	Open4ResultMayNotifyLock    = 0x00000020
)

// limit_by4.
const (
	NFSLimitSize   = 1 // NFS_LIMIT_SIZE
	NFSLimitBlocks = 2 // NFS_LIMIT_BLOCKS
)

// nfs_lock_type4.
const (
	ReadLt   = 1 // READ_LT
	WriteLt  = 2 // WRITE_LT
	ReadwLt  = 3 // READW_LT, blocking read
	WritewLt = 4 // WRITEW_LT, blocking write
)

// stable_how4.
const (
	Unstable4 = 0 // UNSTABLE4
	DataSync4 = 1 // DATA_SYNC4
	FileSync4 = 2 // FILE_SYNC4
)

// time_how4 (settime4's discriminant).
const (
	SetToServerTime4 = 0 // SET_TO_SERVER_TIME4
	SetToClientTime4 = 1 // SET_TO_CLIENT_TIME4
)

// Authentication flavors that appear in NFSv4 arguments and results
// (secinfo4, callback_sec_parms4): RFC 5531 and RFC 2203.
const (
	AuthNone  = 0 // AUTH_NONE
	AuthSys   = 1 // AUTH_SYS
	RPCSecGSS = 6 // RPCSEC_GSS
)

// authsys_parms bounds (RFC 5531 appendix A).
const (
	MaxMachineName = 255
	MaxAuthSysGids = 16
)

// rpc_gss_svc_t (RFC 2203), in secinfo4 and gss_cb_handles4.
const (
	RPCGSSSvcNone      = 1
	RPCGSSSvcIntegrity = 2
	RPCGSSSvcPrivacy   = 3
)

// secinfo_style4 (SECINFO_NO_NAME, RFC 8881 section 18.45).
const (
	SecinfoStyle4CurrentFH = 0
	SecinfoStyle4Parent    = 1
)

// EXCHGID4_FLAG_* (RFC 8881 section 18.35).
const (
	Exchgid4FlagSuppMovedRefer   = 0x00000001
	Exchgid4FlagSuppMovedMigr    = 0x00000002
	Exchgid4FlagSuppFenceOps     = 0x00000004
	Exchgid4FlagBindPrincStateid = 0x00000100
	Exchgid4FlagUseNonPNFS       = 0x00010000
	Exchgid4FlagUsePNFSMDS       = 0x00020000
	Exchgid4FlagUsePNFSDS        = 0x00040000
	Exchgid4FlagMaskPNFS         = 0x00070000
	Exchgid4FlagUpdConfirmedRecA = 0x40000000
	Exchgid4FlagConfirmedR       = 0x80000000
)

// state_protect_how4.
const (
	SP4None     = 0 // SP4_NONE
	SP4MachCred = 1 // SP4_MACH_CRED
	SP4SSV      = 2 // SP4_SSV
)

// CREATE_SESSION4_FLAG_* (RFC 8881 section 18.36).
const (
	CreateSession4FlagPersist      = 0x00000001
	CreateSession4FlagConnBackChan = 0x00000002
	CreateSession4FlagConnRDMA     = 0x00000004
)

// channel_dir_from_client4 (BIND_CONN_TO_SESSION).
const (
	CDFC4Fore       = 0x1
	CDFC4Back       = 0x2
	CDFC4ForeOrBoth = 0x3
	CDFC4BackOrBoth = 0x7
)

// channel_dir_from_server4.
const (
	CDFS4Fore = 0x1
	CDFS4Back = 0x2
	CDFS4Both = 0x3
)

// SEQ4_STATUS_* (sr_status_flags of SEQUENCE, RFC 8881 section 18.46).
const (
	Seq4StatusCbPathDown              = 0x00000001
	Seq4StatusCbGSSContextsExpiring   = 0x00000002
	Seq4StatusCbGSSContextsExpired    = 0x00000004
	Seq4StatusExpiredAllStateRevoked  = 0x00000008
	Seq4StatusExpiredSomeStateRevoked = 0x00000010
	Seq4StatusAdminStateRevoked       = 0x00000020
	Seq4StatusRecallableStateRevoked  = 0x00000040
	Seq4StatusLeaseMoved              = 0x00000080
	Seq4StatusRestartReclaimNeeded    = 0x00000100
	Seq4StatusCbPathDownSession       = 0x00000200
	Seq4StatusBackchannelFault        = 0x00000400
	Seq4StatusDevidChanged            = 0x00000800
	Seq4StatusDevidDeleted            = 0x00001000
)

// gddrnf4_status (GET_DIR_DELEGATION).
const (
	GDD4OK      = 0 // GDD4_OK
	GDD4Unavail = 1 // GDD4_UNAVAIL
)

// layouttype4.
const (
	Layout4NFSv41Files = 0x1 // LAYOUT4_NFSV4_1_FILES
	Layout4OSD2Objects = 0x2 // LAYOUT4_OSD2_OBJECTS
	Layout4BlockVolume = 0x3 // LAYOUT4_BLOCK_VOLUME
	Layout4FlexFiles   = 0x4 // LAYOUT4_FLEX_FILES (RFC 8435)
)

// layoutiomode4.
const (
	LayoutIomode4Read = 1
	LayoutIomode4RW   = 2
	LayoutIomode4Any  = 3
)

// layoutreturn_type4 (and layoutrecall_type4).
const (
	Layoutreturn4File = 1 // LAYOUTRETURN4_FILE
	Layoutreturn4FSID = 2 // LAYOUTRETURN4_FSID
	Layoutreturn4All  = 3 // LAYOUTRETURN4_ALL
)

// netloc_type4 (4.2).
const (
	NL4Name    = 1 // NL4_NAME
	NL4URL     = 2 // NL4_URL
	NL4Netaddr = 3 // NL4_NETADDR
)

// data_content4 (4.2: READ_PLUS, SEEK).
const (
	NFS4ContentData = 0 // NFS4_CONTENT_DATA
	NFS4ContentHole = 1 // NFS4_CONTENT_HOLE
)

// IO_ADVISE_type4 bit numbers of IO_ADVISE's hints bitmap (RFC 7862
// section 15.5).
const (
	IOAdvise4Normal                = 0
	IOAdvise4Sequential            = 1
	IOAdvise4SequentialBackwards   = 2
	IOAdvise4Random                = 3
	IOAdvise4Willneed              = 4
	IOAdvise4WillneedOpportunistic = 5
	IOAdvise4Dontneed              = 6
	IOAdvise4Noreuse               = 7
	IOAdvise4Read                  = 8
	IOAdvise4Write                 = 9
	IOAdvise4InitProximity         = 10
)

// setxattr_option4 (RFC 8276, SETXATTR).
const (
	Setxattr4Either  = 0 // SETXATTR4_EITHER
	Setxattr4Create  = 1 // SETXATTR4_CREATE
	Setxattr4Replace = 2 // SETXATTR4_REPLACE
)

// RCA4_TYPE_MASK_* bit numbers of CB_RECALL_ANY's craa_type_mask (RFC
// 8881 section 20.6).
const (
	RCA4TypeMaskRdataDlg       = 0
	RCA4TypeMaskWdataDlg       = 1
	RCA4TypeMaskDirDlg         = 2
	RCA4TypeMaskFileLayout     = 3
	RCA4TypeMaskBlkLayout      = 4
	RCA4TypeMaskObjLayoutMin   = 8
	RCA4TypeMaskObjLayoutMax   = 9
	RCA4TypeMaskOtherLayoutMin = 12
	RCA4TypeMaskOtherLayoutMax = 15
)
