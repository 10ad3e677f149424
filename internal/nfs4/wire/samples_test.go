package wire

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Sample values for the round trips: every operation, every arm of every
// union in the arguments.

var (
	sid1  = Stateid4{Seqid: 7, Other: [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	sid2  = Stateid4{Seqid: 0xfffffffe, Other: [12]byte{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1}}
	fat1  = Fattr4{Mask: Bitmap4{0x10, 0x2}, Vals: []byte{0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0xa4}}
	fat2  = Fattr4{Mask: Bitmap4{0x100018, 0x30}, Vals: []byte{1, 2, 3}}
	own1  = StateOwner4{Clientid: 0x0123456789abcdef, Owner: []byte("open id:\x00\x00\x00\x1b")}
	sess  = [16]byte{0x5f, 0x3c, 0x1a, 0x2b, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0}
	verf  = [8]byte{'v', 'e', 'r', 'i', 'f', 'i', 'e', 'r'}
	devid = [16]byte{15: 0xdd}
)

func u64p(v uint64) *uint64 { return &v }
func u32p(v uint32) *uint32 { return &v }

type sample struct {
	name  string
	minor uint32 // the lowest minor version that has the sample
	op    Op
}

func samples() []sample {
	secParms := []CallbackSecParms4{
		{Flavor: AuthNone},
		{Flavor: AuthSys, SysCred: AuthsysParms{Stamp: 9, Machinename: "client.example", UID: 1000, GID: 100, Gids: []uint32{4, 24, 27}}},
		{Flavor: RPCSecGSS, GssHandles: GssCbHandles4{Service: RPCGSSSvcIntegrity, HandleFromServer: []byte{1}, HandleFromClient: []byte{2, 3, 4, 5, 6}}},
	}
	chanA := ChannelAttrs4{HeaderPadSize: 0, MaxRequestSize: 1049620, MaxResponseSize: 1049480, MaxResponseSizeCached: 7584, MaxOperations: 16, MaxRequests: 64}
	chanB := ChannelAttrs4{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 16, RdmaIrd: u32p(3)}
	return []sample{
		{"ACCESS", 0, Op{OpAccess, &AccessArgs{Access: Access4Read | Access4Lookup | Access4Execute}}},
		{"CLOSE", 0, Op{OpClose, &CloseArgs{Seqid: 3, OpenStateid: sid1}}},
		{"COMMIT", 0, Op{OpCommit, &CommitArgs{Offset: 1 << 40, Count: 65536}}},
		{"CREATE dir", 0, Op{OpCreate, &CreateArgs{Objtype: Createtype4{Type: NF4DIR}, Objname: []byte("subdir"), Createattrs: fat1}}},
		{"CREATE lnk", 0, Op{OpCreate, &CreateArgs{Objtype: Createtype4{Type: NF4LNK, Linkdata: []byte("../target/file")}, Objname: []byte("l"), Createattrs: Fattr4{Vals: []byte{}}}}},
		{"CREATE chr", 0, Op{OpCreate, &CreateArgs{Objtype: Createtype4{Type: NF4CHR, Devdata: Specdata4{1, 3}}, Objname: []byte("null"), Createattrs: fat2}}},
		{"CREATE bad type", 0, Op{OpCreate, &CreateArgs{Objtype: Createtype4{Type: NF4REG}, Objname: []byte("f"), Createattrs: fat2}}},
		{"DELEGPURGE", 0, Op{OpDelegpurge, &DelegpurgeArgs{Clientid: 42}}},
		{"DELEGRETURN", 0, Op{OpDelegreturn, &DelegreturnArgs{DelegStateid: sid2}}},
		{"GETATTR", 0, Op{OpGetattr, &GetattrArgs{AttrRequest: Bitmap4{0x0010011a, 0x00b0a23a}}}},
		{"GETFH", 0, Op{OpGetfh, nil}},
		{"LINK", 0, Op{OpLink, &LinkArgs{Newname: []byte("hard")}}},
		{"LOCK new owner", 0, Op{OpLock, &LockArgs{Locktype: WriteLt, Offset: 0, Length: Uint64Max, Locker: Locker4{NewLockOwner: true,
			OpenOwner: OpenToLockOwner4{OpenSeqid: 6, OpenStateid: sid1, LockSeqid: 0, LockOwner: StateOwner4{Clientid: 5, Owner: []byte("lock owner 1")}}}}}},
		{"LOCK existing", 0, Op{OpLock, &LockArgs{Locktype: ReadwLt, Reclaim: true, Offset: 100, Length: 10, Locker: Locker4{
			LockOwner: ExistLockOwner4{LockStateid: sid2, LockSeqid: 9}}}}},
		{"LOCKT", 0, Op{OpLockt, &LocktArgs{Locktype: ReadLt, Offset: 5, Length: 6, Owner: own1}}},
		{"LOCKU", 0, Op{OpLocku, &LockuArgs{Locktype: WritewLt, Seqid: 2, LockStateid: sid2, Offset: 7, Length: 8}}},
		{"LOOKUP", 0, Op{OpLookup, &LookupArgs{Objname: []byte("etc")}}},
		{"LOOKUPP", 0, Op{OpLookupp, nil}},
		{"NVERIFY", 0, Op{OpNverify, &NverifyArgs{ObjAttributes: fat1}}},
		{"OPEN create unchecked null", 0, Op{OpOpen, &OpenArgs{Seqid: 5, ShareAccess: Open4ShareAccessBoth, ShareDeny: Open4ShareDenyNone, Owner: own1,
			Openhow: Openflag4{Opentype: Open4Create, How: Createhow4{Mode: Unchecked4, Createattrs: fat1}}, Claim: OpenClaim4{Claim: ClaimNull, File: []byte("foo")}}}},
		{"OPEN create guarded", 0, Op{OpOpen, &OpenArgs{Seqid: 5, ShareAccess: Open4ShareAccessWrite, ShareDeny: Open4ShareDenyRead, Owner: own1,
			Openhow: Openflag4{Opentype: Open4Create, How: Createhow4{Mode: Guarded4, Createattrs: fat2}}, Claim: OpenClaim4{Claim: ClaimNull, File: []byte("bar")}}}},
		{"OPEN create exclusive4", 0, Op{OpOpen, &OpenArgs{Owner: own1,
			Openhow: Openflag4{Opentype: Open4Create, How: Createhow4{Mode: Exclusive4, Createverf: verf}}, Claim: OpenClaim4{Claim: ClaimNull, File: []byte("x")}}}},
		{"OPEN create exclusive4_1", 1, Op{OpOpen, &OpenArgs{Owner: own1,
			Openhow: Openflag4{Opentype: Open4Create, How: Createhow4{Mode: Exclusive41, Createverf: verf, Createattrs: fat1}}, Claim: OpenClaim4{Claim: ClaimNull, File: []byte("x")}}}},
		{"OPEN previous", 0, Op{OpOpen, &OpenArgs{ShareAccess: 1, Owner: own1, Claim: OpenClaim4{Claim: ClaimPrevious, DelegateType: OpenDelegateRead}}}},
		{"OPEN delegate cur", 0, Op{OpOpen, &OpenArgs{ShareAccess: 1, Owner: own1, Claim: OpenClaim4{Claim: ClaimDelegateCur, DelegateStateid: sid2, File: []byte("deleg")}}}},
		{"OPEN delegate prev", 0, Op{OpOpen, &OpenArgs{ShareAccess: 1, Owner: own1, Claim: OpenClaim4{Claim: ClaimDelegatePrev, File: []byte("prev")}}}},
		{"OPEN fh", 1, Op{OpOpen, &OpenArgs{ShareAccess: Open4ShareAccessRead | Open4ShareAccessWantNoDeleg, Owner: own1, Claim: OpenClaim4{Claim: ClaimFH}}}},
		{"OPEN deleg cur fh", 1, Op{OpOpen, &OpenArgs{ShareAccess: 1, Owner: own1, Claim: OpenClaim4{Claim: ClaimDelegCurFH, DelegateStateid: sid1}}}},
		{"OPEN deleg prev fh", 1, Op{OpOpen, &OpenArgs{ShareAccess: 1, Owner: own1, Claim: OpenClaim4{Claim: ClaimDelegPrevFH}}}},
		{"OPENATTR", 0, Op{OpOpenattr, &OpenattrArgs{Createdir: true}}},
		{"OPEN_CONFIRM", 0, Op{OpOpenConfirm, &OpenConfirmArgs{OpenStateid: sid1, Seqid: 6}}},
		{"OPEN_DOWNGRADE", 0, Op{OpOpenDowngrade, &OpenDowngradeArgs{OpenStateid: sid1, Seqid: 7, ShareAccess: 1, ShareDeny: 0}}},
		{"PUTFH", 0, Op{OpPutfh, &PutfhArgs{Object: []byte{0x81, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}}}},
		{"PUTPUBFH", 0, Op{OpPutpubfh, nil}},
		{"PUTROOTFH", 0, Op{OpPutrootfh, nil}},
		{"READ", 0, Op{OpRead, &ReadArgs{Stateid: sid1, Offset: 4096, Count: 1 << 20}}},
		{"READDIR", 0, Op{OpReaddir, &ReaddirArgs{Cookie: 12, Cookieverf: verf, Dircount: 8192, Maxcount: 32768, AttrRequest: Bitmap4{0x0018091a, 0x00b0a23a}}}},
		{"READLINK", 0, Op{OpReadlink, nil}},
		{"REMOVE", 0, Op{OpRemove, &RemoveArgs{Target: []byte("old")}}},
		{"RENAME", 0, Op{OpRename, &RenameArgs{Oldname: []byte("a"), Newname: []byte("bb")}}},
		{"RENEW", 0, Op{OpRenew, &RenewArgs{Clientid: 0x5f3c1a2b00000001}}},
		{"RESTOREFH", 0, Op{OpRestorefh, nil}},
		{"SAVEFH", 0, Op{OpSavefh, nil}},
		{"SECINFO", 0, Op{OpSecinfo, &SecinfoArgs{Name: []byte("export")}}},
		{"SETATTR", 0, Op{OpSetattr, &SetattrArgs{Stateid: AnonymousStateid, ObjAttributes: fat1}}},
		{"SETCLIENTID", 0, Op{OpSetclientid, &SetclientidArgs{Client: NfsClientID4{Verifier: verf, ID: []byte("Linux NFSv4.0 client.example")},
			Callback: CbClient4{CbProgram: CbProgram, CbLocation: Netaddr4{Netid: "tcp", Addr: "192.0.2.7.174.23"}}, CallbackIdent: 1}}},
		{"SETCLIENTID_CONFIRM", 0, Op{OpSetclientidConfirm, &SetclientidConfirmArgs{Clientid: 99, SetclientidConfirm: verf}}},
		{"VERIFY", 0, Op{OpVerify, &VerifyArgs{ObjAttributes: fat2}}},
		{"WRITE", 0, Op{OpWrite, &WriteArgs{Stateid: sid1, Offset: 8192, Stable: FileSync4, Data: []byte("hello, world")}}},
		{"WRITE empty", 0, Op{OpWrite, &WriteArgs{Stateid: sid1, Stable: Unstable4, Data: []byte{}}}},
		{"RELEASE_LOCKOWNER", 0, Op{OpReleaseLockowner, &ReleaseLockownerArgs{LockOwner: own1}}},

		{"BACKCHANNEL_CTL", 1, Op{OpBackchannelCtl, &BackchannelCtlArgs{CbProgram: CbProgram, SecParms: secParms}}},
		{"BIND_CONN_TO_SESSION", 1, Op{OpBindConnToSession, &BindConnToSessionArgs{Sessid: sess, Dir: CDFC4BackOrBoth, UseConnInRdmaMode: false}}},
		{"EXCHANGE_ID none", 1, Op{OpExchangeId, &ExchangeIdArgs{Clientowner: ClientOwner4{Verifier: verf, OwnerID: []byte("Linux NFSv4.1 client.example")},
			Flags: Exchgid4FlagSuppMovedRefer | Exchgid4FlagBindPrincStateid, StateProtect: StateProtect4A{How: SP4None},
			ClientImplID: &NfsImplID4{Domain: []byte("kernel.org"), Name: []byte("Linux 6.8.0 #1 SMP x86_64"), Date: Nfstime4{Seconds: 0, Nseconds: 0}}}}},
		{"EXCHANGE_ID mach cred", 1, Op{OpExchangeId, &ExchangeIdArgs{Clientowner: ClientOwner4{Verifier: verf, OwnerID: []byte("o")},
			StateProtect: StateProtect4A{How: SP4MachCred, MachOps: StateProtectOps4{MustEnforce: Bitmap4{1 << 20, 0x4000}, MustAllow: Bitmap4{0x1}}}}}},
		{"EXCHANGE_ID ssv", 1, Op{OpExchangeId, &ExchangeIdArgs{Clientowner: ClientOwner4{Verifier: verf, OwnerID: []byte("o")},
			StateProtect: StateProtect4A{How: SP4SSV, SsvParms: SsvSpParms4{Ops: StateProtectOps4{MustEnforce: Bitmap4{2}},
				HashAlgs: [][]byte{{0x06, 0x09, 0x60}}, EncrAlgs: [][]byte{{1}, {2, 3}}, Window: 16, NumGssHandles: 2}},
			ClientImplID: &NfsImplID4{Domain: []byte{}, Name: []byte{}, Date: Nfstime4{Seconds: -1, Nseconds: 999999999}}}}},
		{"CREATE_SESSION", 1, Op{OpCreateSession, &CreateSessionArgs{Clientid: 0x5f3c1a2b00000001, Sequence: 1,
			Flags: CreateSession4FlagPersist | CreateSession4FlagConnBackChan, ForeChanAttrs: chanA, BackChanAttrs: chanB, CbProgram: CbProgram, SecParms: secParms[:2]}}},
		{"DESTROY_SESSION", 1, Op{OpDestroySession, &DestroySessionArgs{Sessionid: sess}}},
		{"FREE_STATEID", 1, Op{OpFreeStateid, &FreeStateidArgs{Stateid: sid2}}},
		{"GET_DIR_DELEGATION", 1, Op{OpGetDirDelegation, &GetDirDelegationArgs{SignalDelegAvail: true, NotificationTypes: Bitmap4{0x3c},
			ChildAttrDelay: Nfstime4{1, 2}, DirAttrDelay: Nfstime4{3, 4}, ChildAttributes: Bitmap4{0x18}, DirAttributes: Bitmap4{0x8, 0x1}}}},
		{"GETDEVICEINFO", 1, Op{OpGetdeviceinfo, &GetdeviceinfoArgs{DeviceID: devid, LayoutType: Layout4NFSv41Files, Maxcount: 4096, NotifyTypes: Bitmap4{6}}}},
		{"GETDEVICELIST", 1, Op{OpGetdevicelist, &GetdevicelistArgs{LayoutType: Layout4BlockVolume, Maxdevices: 10, Cookie: 3, Cookieverf: verf}}},
		{"LAYOUTCOMMIT", 1, Op{OpLayoutcommit, &LayoutcommitArgs{Offset: 0, Length: 4096, Reclaim: false, Stateid: sid1, LastWriteOffset: u64p(4095),
			TimeModify: &Nfstime4{Seconds: 1700000000, Nseconds: 5}, Layoutupdate: LayoutUpdate4{Type: Layout4NFSv41Files, Body: []byte{}}}}},
		{"LAYOUTCOMMIT no optionals", 1, Op{OpLayoutcommit, &LayoutcommitArgs{Length: Uint64Max, Reclaim: true, Stateid: sid2,
			Layoutupdate: LayoutUpdate4{Type: Layout4BlockVolume, Body: []byte{9, 9, 9, 9, 9}}}}},
		{"LAYOUTGET", 1, Op{OpLayoutget, &LayoutgetArgs{SignalLayoutAvail: true, LayoutType: Layout4FlexFiles, Iomode: LayoutIomode4RW, Offset: 0,
			Length: Uint64Max, Minlength: 4096, Stateid: sid1, Maxcount: 4096}}},
		{"LAYOUTRETURN file", 1, Op{OpLayoutreturn, &LayoutreturnArgs{LayoutType: Layout4NFSv41Files, Iomode: LayoutIomode4Any,
			Layoutreturn: Layoutreturn4{ReturnType: Layoutreturn4File, Offset: 0, Length: Uint64Max, Stateid: sid1, Body: []byte{1, 2}}}}},
		{"LAYOUTRETURN all", 1, Op{OpLayoutreturn, &LayoutreturnArgs{Reclaim: true, LayoutType: Layout4NFSv41Files, Iomode: LayoutIomode4Read,
			Layoutreturn: Layoutreturn4{ReturnType: Layoutreturn4All}}}},
		{"SECINFO_NO_NAME", 1, Op{OpSecinfoNoName, &SecinfoNoNameArgs{Style: SecinfoStyle4Parent}}},
		{"SEQUENCE", 1, Op{OpSequence, &SequenceArgs{Sessionid: sess, Sequenceid: 17, Slotid: 3, HighestSlotid: 9, Cachethis: true}}},
		{"SET_SSV", 1, Op{OpSetSsv, &SetSsvArgs{Ssv: []byte("0123456789abcdef"), Digest: []byte{0xde, 0xad}}}},
		{"TEST_STATEID", 1, Op{OpTestStateid, &TestStateidArgs{Stateids: []Stateid4{sid1, sid2, AnonymousStateid}}}},
		{"WANT_DELEGATION fh", 1, Op{OpWantDelegation, &WantDelegationArgs{Want: Open4ShareAccessWantReadDeleg, Claim: DelegClaim4{Claim: ClaimFH}}}},
		{"WANT_DELEGATION prev", 1, Op{OpWantDelegation, &WantDelegationArgs{Want: Open4ShareAccessWantAnyDeleg, Claim: DelegClaim4{Claim: ClaimPrevious, DelegateType: OpenDelegateWrite}}}},
		{"WANT_DELEGATION prev fh", 1, Op{OpWantDelegation, &WantDelegationArgs{Want: Open4ShareAccessWantCancel, Claim: DelegClaim4{Claim: ClaimDelegPrevFH}}}},
		{"DESTROY_CLIENTID", 1, Op{OpDestroyClientid, &DestroyClientidArgs{Clientid: 77}}},
		{"RECLAIM_COMPLETE", 1, Op{OpReclaimComplete, &ReclaimCompleteArgs{OneFS: false}}},

		{"ALLOCATE", 2, Op{OpAllocate, &AllocateArgs{Stateid: sid1, Offset: 1, Length: 2}}},
		{"COPY intra", 2, Op{OpCopy, &CopyArgs{SrcStateid: sid1, DstStateid: sid2, SrcOffset: 0, DstOffset: 4096, Count: 0, Consecutive: true, Synchronous: true}}},
		{"COPY inter", 2, Op{OpCopy, &CopyArgs{SrcStateid: sid1, DstStateid: sid2, Count: 1 << 33, SourceServer: []Netloc4{
			{Type: NL4Name, Name: []byte("src.example")}, {Type: NL4URL, Name: []byte("nfs://src/")},
			{Type: NL4Netaddr, Addr: Netaddr4{Netid: "tcp6", Addr: "2001:db8::1.8.1"}}}}}},
		{"COPY_NOTIFY", 2, Op{OpCopyNotify, &CopyNotifyArgs{SrcStateid: sid1, DestinationServer: Netloc4{Type: NL4Netaddr, Addr: Netaddr4{Netid: "tcp", Addr: "192.0.2.1.8.1"}}}}},
		{"DEALLOCATE", 2, Op{OpDeallocate, &DeallocateArgs{Stateid: sid2, Offset: 3, Length: 4}}},
		{"IO_ADVISE", 2, Op{OpIoAdvise, &IoAdviseArgs{Stateid: sid1, Offset: 0, Count: 0, Hints: Bitmap4{1<<IOAdvise4Sequential | 1<<IOAdvise4Willneed}}}},
		{"LAYOUTERROR", 2, Op{OpLayouterror, &LayouterrorArgs{Offset: 1, Length: 2, Stateid: sid1, Errors: []DeviceError4{
			{DeviceID: devid, Status: nfserr.Io, Opnum: OpRead}, {Status: nfserr.Nospc, Opnum: OpWrite}}}}},
		{"LAYOUTSTATS", 2, Op{OpLayoutstats, &LayoutstatsArgs{Offset: 1, Length: 2, Stateid: sid2, Read: IoInfo4{3, 4}, Write: IoInfo4{5, 6},
			DeviceID: devid, Layoutupdate: LayoutUpdate4{Type: Layout4FlexFiles, Body: []byte{7}}}}},
		{"OFFLOAD_CANCEL", 2, Op{OpOffloadCancel, &OffloadCancelArgs{Stateid: sid1}}},
		{"OFFLOAD_STATUS", 2, Op{OpOffloadStatus, &OffloadStatusArgs{Stateid: sid2}}},
		{"READ_PLUS", 2, Op{OpReadPlus, &ReadPlusArgs{Stateid: sid1, Offset: 1 << 20, Count: 262144}}},
		{"SEEK", 2, Op{OpSeek, &SeekArgs{Stateid: sid1, Offset: 512, What: NFS4ContentHole}}},
		{"WRITE_SAME", 2, Op{OpWriteSame, &WriteSameArgs{Stateid: sid1, Stable: DataSync4, Adb: AppDataBlock4{Offset: 0, BlockSize: 512, BlockCount: 8,
			ReloffBlocknum: 0, BlockNum: 1, ReloffPattern: 8, Pattern: []byte{0, 0, 0, 0}}}}},
		{"CLONE", 2, Op{OpClone, &CloneArgs{SrcStateid: sid1, DstStateid: sid2, SrcOffset: 0, DstOffset: 65536, Count: 65536}}},
		{"GETXATTR", 2, Op{OpGetxattr, &GetxattrArgs{Name: []byte("user.comment")}}},
		{"SETXATTR", 2, Op{OpSetxattr, &SetxattrArgs{Option: Setxattr4Create, Key: []byte("user.k"), Value: []byte("value bytes")}}},
		{"LISTXATTRS", 2, Op{OpListxattrs, &ListxattrsArgs{Cookie: 0, Maxcount: 65536}}},
		{"REMOVEXATTR", 2, Op{OpRemovexattr, &RemovexattrArgs{Name: []byte("user.k")}}},
	}
}

type encoder interface{ Encode(w *xdr.Writer) }

type resSample struct {
	name string
	op   uint32
	res  encoder
}

func st(s nfserr.Status) *nfserr.Status { return &s }

// resSamples returns results of every operation, with every arm of the
// result unions.
func resSamples() []resSample {
	cinfo := ChangeInfo4{Atomic: true, Before: 100, After: 101}
	ace := Nfsace4{Type: 0, Flag: 0, AccessMask: 0x120081, Who: []byte("EVERYONE@")}
	wr := WriteResponse4{CallbackID: &sid2, Count: 1 << 30, Committed: FileSync4, Writeverf: verf}
	chanA := ChannelAttrs4{MaxRequestSize: 1 << 20, MaxResponseSize: 1 << 20, MaxResponseSizeCached: 8192, MaxOperations: 16, MaxRequests: 64}
	chanB := ChannelAttrs4{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 1, RdmaIrd: u32p(0)}
	denied := Lock4Denied{Offset: 100, Length: 10, Locktype: WriteLt, Owner: StateOwner4{Clientid: 1, Owner: []byte("abc")}}
	return []resSample{
		{"ACCESS", OpAccess, &AccessRes{Status: nfserr.OK, Supported: 0x3f, Access: 0x1f}},
		{"ACCESS err", OpAccess, &AccessRes{Status: nfserr.Stale}},
		{"CLOSE", OpClose, &CloseRes{Status: nfserr.OK, OpenStateid: sid1}},
		{"CLOSE err", OpClose, &CloseRes{Status: nfserr.BadStateid}},
		{"COMMIT", OpCommit, &CommitRes{Status: nfserr.OK, Writeverf: verf}},
		{"CREATE", OpCreate, &CreateRes{Status: nfserr.OK, Cinfo: cinfo, Attrset: Bitmap4{0, 2}}},
		{"CREATE err", OpCreate, &CreateRes{Status: nfserr.Exist}},
		{"DELEGPURGE", OpDelegpurge, &DelegpurgeRes{Status: nfserr.Notsupp}},
		{"DELEGRETURN", OpDelegreturn, &DelegreturnRes{Status: nfserr.OK}},
		{"GETATTR", OpGetattr, &GetattrRes{Status: nfserr.OK, ObjAttributes: fat1}},
		{"GETATTR err", OpGetattr, &GetattrRes{Status: nfserr.Delay}},
		{"GETFH", OpGetfh, &GetfhRes{Status: nfserr.OK, Object: []byte{1, 2, 3, 4, 5}}},
		{"LINK", OpLink, &LinkRes{Status: nfserr.OK, Cinfo: cinfo}},
		{"LOCK", OpLock, &LockRes{Status: nfserr.OK, LockStateid: sid1}},
		{"LOCK denied", OpLock, &LockRes{Status: nfserr.Denied, Denied: denied}},
		{"LOCK err", OpLock, &LockRes{Status: nfserr.Grace}},
		{"LOCKT ok", OpLockt, &LocktRes{Status: nfserr.OK}},
		{"LOCKT denied", OpLockt, &LocktRes{Status: nfserr.Denied, Denied: denied}},
		{"LOCKU", OpLocku, &LockuRes{Status: nfserr.OK, LockStateid: sid2}},
		{"LOOKUP", OpLookup, &LookupRes{Status: nfserr.Noent}},
		{"LOOKUPP", OpLookupp, &LookuppRes{Status: nfserr.OK}},
		{"NVERIFY", OpNverify, &NverifyRes{Status: nfserr.Same}},
		{"OPEN none", OpOpen, &OpenRes{Status: nfserr.OK, Stateid: sid1, Cinfo: cinfo, Rflags: Open4ResultLocktypePosix | Open4ResultConfirm, Attrset: Bitmap4{0x10, 2}, Delegation: OpenDelegation4{Type: OpenDelegateNone}}},
		{"OPEN read", OpOpen, &OpenRes{Status: nfserr.OK, Stateid: sid1, Cinfo: cinfo, Delegation: OpenDelegation4{Type: OpenDelegateRead, Stateid: sid2, Recall: true, Permissions: ace}}},
		{"OPEN write size", OpOpen, &OpenRes{Status: nfserr.OK, Stateid: sid1, Delegation: OpenDelegation4{Type: OpenDelegateWrite, Stateid: sid2,
			SpaceLimit: SpaceLimit4{LimitBy: NFSLimitSize, Filesize: 1 << 40}, Permissions: ace}}},
		{"OPEN write blocks", OpOpen, &OpenRes{Status: nfserr.OK, Stateid: sid1, Delegation: OpenDelegation4{Type: OpenDelegateWrite, Stateid: sid2,
			SpaceLimit: SpaceLimit4{LimitBy: NFSLimitBlocks, NumBlocks: 10, BytesPerBlock: 4096}, Permissions: ace}}},
		{"OPEN none_ext contention", OpOpen, &OpenRes{Status: nfserr.OK, Delegation: OpenDelegation4{Type: OpenDelegateNoneExt, Why: WND4Contention, ServerWillPushDeleg: true}}},
		{"OPEN none_ext resource", OpOpen, &OpenRes{Status: nfserr.OK, Delegation: OpenDelegation4{Type: OpenDelegateNoneExt, Why: WND4Resource, ServerWillSignalAvail: true}}},
		{"OPEN none_ext not wanted", OpOpen, &OpenRes{Status: nfserr.OK, Delegation: OpenDelegation4{Type: OpenDelegateNoneExt, Why: WND4NotWanted}}},
		{"OPEN err", OpOpen, &OpenRes{Status: nfserr.ShareDenied}},
		{"OPENATTR", OpOpenattr, &OpenattrRes{Status: nfserr.Notsupp}},
		{"OPEN_CONFIRM", OpOpenConfirm, &OpenConfirmRes{Status: nfserr.OK, OpenStateid: sid2}},
		{"OPEN_DOWNGRADE", OpOpenDowngrade, &OpenDowngradeRes{Status: nfserr.OK, OpenStateid: sid1}},
		{"PUTFH", OpPutfh, &PutfhRes{Status: nfserr.Badhandle}},
		{"PUTPUBFH", OpPutpubfh, &PutpubfhRes{Status: nfserr.OK}},
		{"PUTROOTFH", OpPutrootfh, &PutrootfhRes{Status: nfserr.OK}},
		{"READ", OpRead, &ReadRes{Status: nfserr.OK, EOF: true, Data: []byte("data!")}},
		{"READ err", OpRead, &ReadRes{Status: nfserr.Openmode}},
		{"READDIR", OpReaddir, &ReaddirRes{Status: nfserr.OK, Cookieverf: verf, Entries: []Entry4{
			{Cookie: 3, Name: []byte("a"), Attrs: fat1}, {Cookie: 4, Name: []byte("bcdef"), Attrs: Fattr4{Vals: []byte{}}}}, EOF: true}},
		{"READDIR empty", OpReaddir, &ReaddirRes{Status: nfserr.OK, EOF: false}},
		{"READLINK", OpReadlink, &ReadlinkRes{Status: nfserr.OK, Link: []byte("/a/b")}},
		{"REMOVE", OpRemove, &RemoveRes{Status: nfserr.OK, Cinfo: cinfo}},
		{"RENAME", OpRename, &RenameRes{Status: nfserr.OK, SourceCinfo: cinfo, TargetCinfo: ChangeInfo4{Before: 1, After: 2}}},
		{"RENEW", OpRenew, &RenewRes{Status: nfserr.Expired}},
		{"RESTOREFH", OpRestorefh, &RestorefhRes{Status: nfserr.Restorefh}},
		{"SAVEFH", OpSavefh, &SavefhRes{Status: nfserr.OK}},
		{"SECINFO", OpSecinfo, &SecinfoRes{Status: nfserr.OK, Flavors: []Secinfo4{
			{Flavor: RPCSecGSS, OID: []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}, Qop: 0, Service: RPCGSSSvcPrivacy},
			{Flavor: AuthSys}, {Flavor: AuthNone}}}},
		{"SETATTR ok", OpSetattr, &SetattrRes{Status: nfserr.OK, Attrsset: Bitmap4{0x10, 0x2}}},
		{"SETATTR err", OpSetattr, &SetattrRes{Status: nfserr.Perm}},
		{"SETCLIENTID", OpSetclientid, &SetclientidRes{Status: nfserr.OK, Clientid: 0x1122334455667788, SetclientidConfirm: verf}},
		{"SETCLIENTID inuse", OpSetclientid, &SetclientidRes{Status: nfserr.ClidInuse, ClientUsing: Netaddr4{Netid: "tcp", Addr: "192.0.2.9.3.2"}}},
		{"SETCLIENTID_CONFIRM", OpSetclientidConfirm, &SetclientidConfirmRes{Status: nfserr.StaleClientid}},
		{"VERIFY", OpVerify, &VerifyRes{Status: nfserr.NotSame}},
		{"WRITE", OpWrite, &WriteRes{Status: nfserr.OK, Count: 12, Committed: FileSync4, Writeverf: verf}},
		{"RELEASE_LOCKOWNER", OpReleaseLockowner, &ReleaseLockownerRes{Status: nfserr.LocksHeld}},
		{"BACKCHANNEL_CTL", OpBackchannelCtl, &BackchannelCtlRes{Status: nfserr.OK}},
		{"BIND_CONN_TO_SESSION", OpBindConnToSession, &BindConnToSessionRes{Status: nfserr.OK, Sessid: sess, Dir: CDFS4Both}},
		{"EXCHANGE_ID", OpExchangeId, &ExchangeIdRes{Status: nfserr.OK, Clientid: 0x5f3c1a2b00000001, Sequenceid: 1,
			Flags: Exchgid4FlagUseNonPNFS | Exchgid4FlagConfirmedR, StateProtect: StateProtect4R{How: SP4None},
			ServerOwner: ServerOwner4{MinorID: 0, MajorID: []byte("vnfsd:vs1")}, ServerScope: []byte("vnfsd:vs1"),
			ServerImplID: &NfsImplID4{Domain: []byte("vnfsd.example"), Name: []byte("vnfsd"), Date: Nfstime4{Seconds: 1}}}},
		{"EXCHANGE_ID mach", OpExchangeId, &ExchangeIdRes{Status: nfserr.OK, StateProtect: StateProtect4R{How: SP4MachCred,
			MachOps: StateProtectOps4{MustEnforce: Bitmap4{1}, MustAllow: Bitmap4{2}}}, ServerOwner: ServerOwner4{MajorID: []byte{1}}, ServerScope: []byte{2}}},
		{"EXCHANGE_ID ssv", OpExchangeId, &ExchangeIdRes{Status: nfserr.OK, StateProtect: StateProtect4R{How: SP4SSV,
			SsvInfo: SsvProtInfo4{Ops: StateProtectOps4{MustEnforce: Bitmap4{1}}, HashAlg: 1, EncrAlg: 2, SsvLen: 32, Window: 4, Handles: [][]byte{{1}, {2}}}},
			ServerOwner: ServerOwner4{MajorID: []byte{1}}, ServerScope: []byte{2}}},
		{"EXCHANGE_ID err", OpExchangeId, &ExchangeIdRes{Status: nfserr.NotSame}},
		{"CREATE_SESSION", OpCreateSession, &CreateSessionRes{Status: nfserr.OK, Sessionid: sess, Sequence: 1, Flags: CreateSession4FlagConnBackChan,
			ForeChanAttrs: chanA, BackChanAttrs: chanB}},
		{"DESTROY_SESSION", OpDestroySession, &DestroySessionRes{Status: nfserr.Badsession}},
		{"FREE_STATEID", OpFreeStateid, &FreeStateidRes{Status: nfserr.LocksHeld}},
		{"GET_DIR_DELEGATION ok", OpGetDirDelegation, &GetDirDelegationRes{Status: nfserr.OK, NonFatal: GDD4OK, Cookieverf: verf, Stateid: sid1,
			Notification: Bitmap4{1}, ChildAttributes: Bitmap4{2}, DirAttributes: Bitmap4{3}}},
		{"GET_DIR_DELEGATION unavail", OpGetDirDelegation, &GetDirDelegationRes{Status: nfserr.OK, NonFatal: GDD4Unavail, WillSignalDelegAvail: true}},
		{"GET_DIR_DELEGATION err", OpGetDirDelegation, &GetDirDelegationRes{Status: nfserr.DirdelegUnavail}},
		{"GETDEVICEINFO", OpGetdeviceinfo, &GetdeviceinfoRes{Status: nfserr.OK, DeviceAddr: DeviceAddr4{LayoutType: 1, AddrBody: []byte{1, 2, 3}}, Notification: Bitmap4{6}}},
		{"GETDEVICEINFO toosmall", OpGetdeviceinfo, &GetdeviceinfoRes{Status: nfserr.Toosmall, Mincount: 300}},
		{"GETDEVICELIST", OpGetdevicelist, &GetdevicelistRes{Status: nfserr.OK, Cookie: 9, Cookieverf: verf, DeviceIDs: [][16]byte{devid, {1}}, EOF: true}},
		{"LAYOUTCOMMIT size", OpLayoutcommit, &LayoutcommitRes{Status: nfserr.OK, NewSize: u64p(8192)}},
		{"LAYOUTCOMMIT nosize", OpLayoutcommit, &LayoutcommitRes{Status: nfserr.OK}},
		{"LAYOUTGET", OpLayoutget, &LayoutgetRes{Status: nfserr.OK, ReturnOnClose: true, Stateid: sid1, Layouts: []Layout4{
			{Offset: 0, Length: Uint64Max, Iomode: LayoutIomode4RW, Type: Layout4NFSv41Files, Body: []byte{1, 2, 3, 4, 5}}}}},
		{"LAYOUTGET trylater", OpLayoutget, &LayoutgetRes{Status: nfserr.Layouttrylater, WillSignalLayoutAvail: true}},
		{"LAYOUTGET unavailable", OpLayoutget, &LayoutgetRes{Status: nfserr.Layoutunavailable}},
		{"LAYOUTRETURN stateid", OpLayoutreturn, &LayoutreturnRes{Status: nfserr.OK, Stateid: &sid1}},
		{"LAYOUTRETURN none", OpLayoutreturn, &LayoutreturnRes{Status: nfserr.OK}},
		{"SECINFO_NO_NAME", OpSecinfoNoName, &SecinfoNoNameRes{Status: nfserr.OK, Flavors: []Secinfo4{{Flavor: AuthSys}}}},
		{"SEQUENCE", OpSequence, &SequenceRes{Status: nfserr.OK, Sessionid: sess, Sequenceid: 5, Slotid: 0, HighestSlotid: 63, TargetHighestSlotid: 63,
			StatusFlags: Seq4StatusCbPathDown | Seq4StatusRestartReclaimNeeded}},
		{"SEQUENCE err", OpSequence, &SequenceRes{Status: nfserr.SeqMisordered}},
		{"SET_SSV", OpSetSsv, &SetSsvRes{Status: nfserr.OK, Digest: []byte{1, 2}}},
		{"TEST_STATEID", OpTestStateid, &TestStateidRes{Status: nfserr.OK, StatusCodes: []nfserr.Status{nfserr.OK, nfserr.BadStateid, nfserr.AdminRevoked}}},
		{"WANT_DELEGATION", OpWantDelegation, &WantDelegationRes{Status: nfserr.OK, Delegation: OpenDelegation4{Type: OpenDelegateNoneExt, Why: WND4NotSuppFtype}}},
		{"DESTROY_CLIENTID", OpDestroyClientid, &DestroyClientidRes{Status: nfserr.ClientidBusy}},
		{"RECLAIM_COMPLETE", OpReclaimComplete, &ReclaimCompleteRes{Status: nfserr.CompleteAlready}},
		{"ALLOCATE", OpAllocate, &AllocateRes{Status: nfserr.Nospc}},
		{"COPY", OpCopy, &CopyRes{Status: nfserr.OK, Response: wr, Requirements: CopyRequirements4{Consecutive: true, Synchronous: true}}},
		{"COPY async", OpCopy, &CopyRes{Status: nfserr.OK, Response: WriteResponse4{Count: 0, Committed: Unstable4}, Requirements: CopyRequirements4{Consecutive: true}}},
		{"COPY noreqs", OpCopy, &CopyRes{Status: nfserr.OffloadNoReqs, Requirements: CopyRequirements4{Synchronous: true}}},
		{"COPY_NOTIFY", OpCopyNotify, &CopyNotifyRes{Status: nfserr.OK, LeaseTime: Nfstime4{Seconds: 90}, Stateid: sid1, SourceServer: []Netloc4{{Type: NL4URL, Name: []byte("nfs://x/")}}}},
		{"DEALLOCATE", OpDeallocate, &DeallocateRes{Status: nfserr.OK}},
		{"IO_ADVISE", OpIoAdvise, &IoAdviseRes{Status: nfserr.OK, Hints: Bitmap4{1 << IOAdvise4Normal}}},
		{"LAYOUTERROR", OpLayouterror, &LayouterrorRes{Status: nfserr.OK}},
		{"LAYOUTSTATS", OpLayoutstats, &LayoutstatsRes{Status: nfserr.OK}},
		{"OFFLOAD_CANCEL", OpOffloadCancel, &OffloadCancelRes{Status: nfserr.CompleteAlready}},
		{"OFFLOAD_STATUS done", OpOffloadStatus, &OffloadStatusRes{Status: nfserr.OK, Count: 4096, Complete: st(nfserr.OK)}},
		{"OFFLOAD_STATUS running", OpOffloadStatus, &OffloadStatusRes{Status: nfserr.OK, Count: 1}},
		{"READ_PLUS", OpReadPlus, &ReadPlusRes{Status: nfserr.OK, EOF: true, Contents: []ReadPlusContent{
			{Content: NFS4ContentData, Offset: 0, Data: []byte("abc")}, {Content: NFS4ContentHole, Offset: 3, Length: 4093}}}},
		{"SEEK", OpSeek, &SeekRes{Status: nfserr.OK, EOF: false, Offset: 1 << 20}},
		{"WRITE_SAME", OpWriteSame, &WriteSameRes{Status: nfserr.OK, Response: wr}},
		{"CLONE", OpClone, &CloneRes{Status: nfserr.Xdev}},
		{"GETXATTR", OpGetxattr, &GetxattrRes{Status: nfserr.OK, Value: []byte("v")}},
		{"GETXATTR err", OpGetxattr, &GetxattrRes{Status: nfserr.Noxattr}},
		{"SETXATTR", OpSetxattr, &SetxattrRes{Status: nfserr.OK, Cinfo: cinfo}},
		{"LISTXATTRS", OpListxattrs, &ListxattrsRes{Status: nfserr.OK, Cookie: 2, Names: [][]byte{[]byte("user.a"), []byte("user.bb")}, EOF: true}},
		{"REMOVEXATTR", OpRemovexattr, &RemovexattrRes{Status: nfserr.OK, Cinfo: cinfo}},
		{"ILLEGAL", OpIllegal, &IllegalRes{Status: nfserr.OpIllegal}},
	}
}
