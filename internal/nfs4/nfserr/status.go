// Package nfserr is nfsstat4, the status codes of NFSv4: RFC 7530 section
// 13 (4.0), RFC 8881 section 15 (4.1), RFC 7862 section 11 (4.2) and RFC
// 8276 section 8.4 (extended attributes).
//
// A Status is an error, so the NFSv4 packages return the status they mean
// and the server writes it as the result of the operation.
package nfserr

import (
	"errors"
	"strconv"
	"syscall"
)

// Status is an nfsstat4 value.
type Status uint32

// nfsstat4 values: the RFC name without NFS4ERR_, each word capitalized
// (NFS4ERR_BAD_STATEID is BadStateid, NFS4ERR_SERVERFAULT Serverfault; OK
// is NFS4_OK).
const (
	OK                    Status = 0
	Perm                  Status = 1
	Noent                 Status = 2
	Io                    Status = 5
	Nxio                  Status = 6
	Access                Status = 13
	Exist                 Status = 17
	Xdev                  Status = 18
	Notdir                Status = 20
	Isdir                 Status = 21
	Inval                 Status = 22
	Fbig                  Status = 27
	Nospc                 Status = 28
	Rofs                  Status = 30
	Mlink                 Status = 31
	Nametoolong           Status = 63
	Notempty              Status = 66
	Dquot                 Status = 69
	Stale                 Status = 70
	Badhandle             Status = 10001
	BadCookie             Status = 10003
	Notsupp               Status = 10004
	Toosmall              Status = 10005
	Serverfault           Status = 10006
	Badtype               Status = 10007
	Delay                 Status = 10008
	Same                  Status = 10009
	Denied                Status = 10010
	Expired               Status = 10011
	Locked                Status = 10012
	Grace                 Status = 10013
	Fhexpired             Status = 10014
	ShareDenied           Status = 10015
	Wrongsec              Status = 10016
	ClidInuse             Status = 10017
	Resource              Status = 10018
	Moved                 Status = 10019
	Nofilehandle          Status = 10020
	MinorVersMismatch     Status = 10021
	StaleClientid         Status = 10022
	StaleStateid          Status = 10023
	OldStateid            Status = 10024
	BadStateid            Status = 10025
	BadSeqid              Status = 10026
	NotSame               Status = 10027
	LockRange             Status = 10028
	Symlink               Status = 10029
	Restorefh             Status = 10030
	LeaseMoved            Status = 10031
	Attrnotsupp           Status = 10032
	NoGrace               Status = 10033
	ReclaimBad            Status = 10034
	ReclaimConflict       Status = 10035
	Badxdr                Status = 10036
	LocksHeld             Status = 10037
	Openmode              Status = 10038
	Badowner              Status = 10039
	Badchar               Status = 10040
	Badname               Status = 10041
	BadRange              Status = 10042
	LockNotsupp           Status = 10043
	OpIllegal             Status = 10044
	Deadlock              Status = 10045
	FileOpen              Status = 10046
	AdminRevoked          Status = 10047
	CbPathDown            Status = 10048
	Badiomode             Status = 10049
	Badlayout             Status = 10050
	BadSessionDigest      Status = 10051
	Badsession            Status = 10052
	Badslot               Status = 10053
	CompleteAlready       Status = 10054
	ConnNotBoundToSession Status = 10055
	DelegAlreadyWanted    Status = 10056
	BackChanBusy          Status = 10057
	Layouttrylater        Status = 10058
	Layoutunavailable     Status = 10059
	NomatchingLayout      Status = 10060
	Recallconflict        Status = 10061
	UnknownLayouttype     Status = 10062
	SeqMisordered         Status = 10063
	SequencePos           Status = 10064
	ReqTooBig             Status = 10065
	RepTooBig             Status = 10066
	RepTooBigToCache      Status = 10067
	RetryUncachedRep      Status = 10068
	UnsafeCompound        Status = 10069
	TooManyOps            Status = 10070
	OpNotInSession        Status = 10071
	HashAlgUnsupp         Status = 10072
	ClientidBusy          Status = 10074
	PnfsIoHole            Status = 10075
	SeqFalseRetry         Status = 10076
	BadHighSlot           Status = 10077
	Deadsession           Status = 10078
	EncrAlgUnsupp         Status = 10079
	PnfsNoLayout          Status = 10080
	NotOnlyOp             Status = 10081
	WrongCred             Status = 10082
	WrongType             Status = 10083
	DirdelegUnavail       Status = 10084
	RejectDeleg           Status = 10085
	Returnconflict        Status = 10086
	DelegRevoked          Status = 10087
	PartnerNotsupp        Status = 10088
	PartnerNoAuth         Status = 10089
	UnionNotsupp          Status = 10090
	OffloadDenied         Status = 10091
	WrongLfs              Status = 10092
	Badlabel              Status = 10093
	OffloadNoReqs         Status = 10094
	Noxattr               Status = 10095
	Xattr2big             Status = 10096
)

var names = map[Status]string{
	OK:                    "NFS4_OK",
	Perm:                  "NFS4ERR_PERM",
	Noent:                 "NFS4ERR_NOENT",
	Io:                    "NFS4ERR_IO",
	Nxio:                  "NFS4ERR_NXIO",
	Access:                "NFS4ERR_ACCESS",
	Exist:                 "NFS4ERR_EXIST",
	Xdev:                  "NFS4ERR_XDEV",
	Notdir:                "NFS4ERR_NOTDIR",
	Isdir:                 "NFS4ERR_ISDIR",
	Inval:                 "NFS4ERR_INVAL",
	Fbig:                  "NFS4ERR_FBIG",
	Nospc:                 "NFS4ERR_NOSPC",
	Rofs:                  "NFS4ERR_ROFS",
	Mlink:                 "NFS4ERR_MLINK",
	Nametoolong:           "NFS4ERR_NAMETOOLONG",
	Notempty:              "NFS4ERR_NOTEMPTY",
	Dquot:                 "NFS4ERR_DQUOT",
	Stale:                 "NFS4ERR_STALE",
	Badhandle:             "NFS4ERR_BADHANDLE",
	BadCookie:             "NFS4ERR_BAD_COOKIE",
	Notsupp:               "NFS4ERR_NOTSUPP",
	Toosmall:              "NFS4ERR_TOOSMALL",
	Serverfault:           "NFS4ERR_SERVERFAULT",
	Badtype:               "NFS4ERR_BADTYPE",
	Delay:                 "NFS4ERR_DELAY",
	Same:                  "NFS4ERR_SAME",
	Denied:                "NFS4ERR_DENIED",
	Expired:               "NFS4ERR_EXPIRED",
	Locked:                "NFS4ERR_LOCKED",
	Grace:                 "NFS4ERR_GRACE",
	Fhexpired:             "NFS4ERR_FHEXPIRED",
	ShareDenied:           "NFS4ERR_SHARE_DENIED",
	Wrongsec:              "NFS4ERR_WRONGSEC",
	ClidInuse:             "NFS4ERR_CLID_INUSE",
	Resource:              "NFS4ERR_RESOURCE",
	Moved:                 "NFS4ERR_MOVED",
	Nofilehandle:          "NFS4ERR_NOFILEHANDLE",
	MinorVersMismatch:     "NFS4ERR_MINOR_VERS_MISMATCH",
	StaleClientid:         "NFS4ERR_STALE_CLIENTID",
	StaleStateid:          "NFS4ERR_STALE_STATEID",
	OldStateid:            "NFS4ERR_OLD_STATEID",
	BadStateid:            "NFS4ERR_BAD_STATEID",
	BadSeqid:              "NFS4ERR_BAD_SEQID",
	NotSame:               "NFS4ERR_NOT_SAME",
	LockRange:             "NFS4ERR_LOCK_RANGE",
	Symlink:               "NFS4ERR_SYMLINK",
	Restorefh:             "NFS4ERR_RESTOREFH",
	LeaseMoved:            "NFS4ERR_LEASE_MOVED",
	Attrnotsupp:           "NFS4ERR_ATTRNOTSUPP",
	NoGrace:               "NFS4ERR_NO_GRACE",
	ReclaimBad:            "NFS4ERR_RECLAIM_BAD",
	ReclaimConflict:       "NFS4ERR_RECLAIM_CONFLICT",
	Badxdr:                "NFS4ERR_BADXDR",
	LocksHeld:             "NFS4ERR_LOCKS_HELD",
	Openmode:              "NFS4ERR_OPENMODE",
	Badowner:              "NFS4ERR_BADOWNER",
	Badchar:               "NFS4ERR_BADCHAR",
	Badname:               "NFS4ERR_BADNAME",
	BadRange:              "NFS4ERR_BAD_RANGE",
	LockNotsupp:           "NFS4ERR_LOCK_NOTSUPP",
	OpIllegal:             "NFS4ERR_OP_ILLEGAL",
	Deadlock:              "NFS4ERR_DEADLOCK",
	FileOpen:              "NFS4ERR_FILE_OPEN",
	AdminRevoked:          "NFS4ERR_ADMIN_REVOKED",
	CbPathDown:            "NFS4ERR_CB_PATH_DOWN",
	Badiomode:             "NFS4ERR_BADIOMODE",
	Badlayout:             "NFS4ERR_BADLAYOUT",
	BadSessionDigest:      "NFS4ERR_BAD_SESSION_DIGEST",
	Badsession:            "NFS4ERR_BADSESSION",
	Badslot:               "NFS4ERR_BADSLOT",
	CompleteAlready:       "NFS4ERR_COMPLETE_ALREADY",
	ConnNotBoundToSession: "NFS4ERR_CONN_NOT_BOUND_TO_SESSION",
	DelegAlreadyWanted:    "NFS4ERR_DELEG_ALREADY_WANTED",
	BackChanBusy:          "NFS4ERR_BACK_CHAN_BUSY",
	Layouttrylater:        "NFS4ERR_LAYOUTTRYLATER",
	Layoutunavailable:     "NFS4ERR_LAYOUTUNAVAILABLE",
	NomatchingLayout:      "NFS4ERR_NOMATCHING_LAYOUT",
	Recallconflict:        "NFS4ERR_RECALLCONFLICT",
	UnknownLayouttype:     "NFS4ERR_UNKNOWN_LAYOUTTYPE",
	SeqMisordered:         "NFS4ERR_SEQ_MISORDERED",
	SequencePos:           "NFS4ERR_SEQUENCE_POS",
	ReqTooBig:             "NFS4ERR_REQ_TOO_BIG",
	RepTooBig:             "NFS4ERR_REP_TOO_BIG",
	RepTooBigToCache:      "NFS4ERR_REP_TOO_BIG_TO_CACHE",
	RetryUncachedRep:      "NFS4ERR_RETRY_UNCACHED_REP",
	UnsafeCompound:        "NFS4ERR_UNSAFE_COMPOUND",
	TooManyOps:            "NFS4ERR_TOO_MANY_OPS",
	OpNotInSession:        "NFS4ERR_OP_NOT_IN_SESSION",
	HashAlgUnsupp:         "NFS4ERR_HASH_ALG_UNSUPP",
	ClientidBusy:          "NFS4ERR_CLIENTID_BUSY",
	PnfsIoHole:            "NFS4ERR_PNFS_IO_HOLE",
	SeqFalseRetry:         "NFS4ERR_SEQ_FALSE_RETRY",
	BadHighSlot:           "NFS4ERR_BAD_HIGH_SLOT",
	Deadsession:           "NFS4ERR_DEADSESSION",
	EncrAlgUnsupp:         "NFS4ERR_ENCR_ALG_UNSUPP",
	PnfsNoLayout:          "NFS4ERR_PNFS_NO_LAYOUT",
	NotOnlyOp:             "NFS4ERR_NOT_ONLY_OP",
	WrongCred:             "NFS4ERR_WRONG_CRED",
	WrongType:             "NFS4ERR_WRONG_TYPE",
	DirdelegUnavail:       "NFS4ERR_DIRDELEG_UNAVAIL",
	RejectDeleg:           "NFS4ERR_REJECT_DELEG",
	Returnconflict:        "NFS4ERR_RETURNCONFLICT",
	DelegRevoked:          "NFS4ERR_DELEG_REVOKED",
	PartnerNotsupp:        "NFS4ERR_PARTNER_NOTSUPP",
	PartnerNoAuth:         "NFS4ERR_PARTNER_NO_AUTH",
	UnionNotsupp:          "NFS4ERR_UNION_NOTSUPP",
	OffloadDenied:         "NFS4ERR_OFFLOAD_DENIED",
	WrongLfs:              "NFS4ERR_WRONG_LFS",
	Badlabel:              "NFS4ERR_BADLABEL",
	OffloadNoReqs:         "NFS4ERR_OFFLOAD_NO_REQS",
	Noxattr:               "NFS4ERR_NOXATTR",
	Xattr2big:             "NFS4ERR_XATTR2BIG",
}

// String returns the RFC's name, such as "NFS4ERR_STALE".
func (s Status) String() string {
	if n, ok := names[s]; ok {
		return n
	}
	return "nfsstat4(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// Error makes a Status an error.
func (s Status) Error() string { return "nfs4: " + s.String() }

// Known reports whether s is an nfsstat4 value defined by the RFCs.
func (s Status) Known() bool {
	_, ok := names[s]
	return ok
}

// Of returns the status err carries: err itself or a Status it wraps,
// a backend errno mapped as RFC 8881 section 15.1 describes, or
// Serverfault for anything else; OK for nil.
func Of(err error) Status {
	if err == nil {
		return OK
	}
	var s Status
	if errors.As(err, &s) {
		return s
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return FromErrno(e)
	}
	return Serverfault
}

// FromErrno maps an errno of a vfs backend to nfsstat4.
func FromErrno(e syscall.Errno) Status {
	switch e {
	case 0:
		return OK
	case syscall.EPERM:
		return Perm
	case syscall.ENOENT:
		return Noent
	case syscall.EIO:
		return Io
	case syscall.ENXIO, syscall.ENODEV:
		return Nxio
	case syscall.EACCES:
		return Access
	case syscall.EEXIST:
		return Exist
	case syscall.EXDEV:
		return Xdev
	case syscall.ENOTDIR:
		return Notdir
	case syscall.EISDIR:
		return Isdir
	case syscall.EINVAL:
		return Inval
	case syscall.EFBIG:
		return Fbig
	case syscall.ENOSPC:
		return Nospc
	case syscall.EROFS:
		return Rofs
	case syscall.EMLINK:
		return Mlink
	case syscall.ENAMETOOLONG:
		return Nametoolong
	case syscall.ENOTEMPTY:
		return Notempty
	case syscall.EDQUOT:
		return Dquot
	case syscall.ESTALE:
		return Stale
	case syscall.EAGAIN:
		return Delay
	case syscall.ENOTSUP:
		return Notsupp
	case syscall.ELOOP:
		return Symlink
	case syscall.E2BIG, syscall.ERANGE:
		return Xattr2big
	case syscall.ENODATA:
		return Noxattr
	case syscall.ENOMEM:
		return Resource
	}
	return Io
}
