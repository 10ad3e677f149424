package nfs4client

import (
	"errors"
	"fmt"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Result is a decoded COMPOUND4res.
type Result struct {
	Status Status
	Tag    string
	Ops    []OpResult
	// Raw is the whole COMPOUND4res as received.
	Raw []byte
}

// OpResult is one nfs_resop4: the operation number, its status, and the
// XDR that follows the status (the arm of the result's union for that
// status; empty for a void arm).
type OpResult struct {
	Op     uint32
	Status Status
	Body   []byte
}

// OpError is the error of a COMPOUND whose status is not NFS4_OK: the
// failing operation (the last result). errors.Is(err, NFS4ERR_X) tests its
// status.
type OpError struct {
	Index  int // of the failing result; -1 when there is none
	Op     uint32
	Status Status
}

func (e *OpError) Error() string {
	if e.Index < 0 {
		return "nfs4client: COMPOUND: " + e.Status.String()
	}
	return fmt.Sprintf("nfs4client: operation %d (op %d): %s", e.Index, e.Op, e.Status)
}

// Unwrap returns the status.
func (e *OpError) Unwrap() error { return e.Status }

// Err returns nil if the COMPOUND's status is NFS4_OK, otherwise an
// *OpError for its last result.
func (r *Result) Err() error {
	if r.Status == NFS4_OK {
		return nil
	}
	if len(r.Ops) == 0 {
		return &OpError{Index: -1, Status: r.Status}
	}
	l := r.Ops[len(r.Ops)-1]
	return &OpError{Index: len(r.Ops) - 1, Op: l.Op, Status: r.Status}
}

// Last returns the last result (the zero OpResult if there is none).
func (r *Result) Last() OpResult {
	if len(r.Ops) == 0 {
		return OpResult{}
	}
	return r.Ops[len(r.Ops)-1]
}

// Find returns the first result of operation op, and whether there is one.
func (r *Result) Find(op uint32) (OpResult, bool) {
	for _, o := range r.Ops {
		if o.Op == op {
			return o, true
		}
	}
	return OpResult{}, false
}

// ErrUnknownResult is returned by DecodeResult for a successful result of
// an operation whose XDR the client does not know, before the last
// result (where it could not be skipped).
var ErrUnknownResult = errors.New("nfs4client: result of an unknown operation")

// DecodeResult decodes a COMPOUND4res. Each result's body is found by
// decoding it with the XDR of its operation and status; the body of the
// last result may be of an operation the client does not know.
func DecodeResult(b []byte) (*Result, error) {
	r := xdr.NewReader(b)
	res := &Result{Raw: b}
	res.Status = Status(r.Uint32())
	res.Tag = r.String(NFS4_OPAQUE_LIMIT)
	n := r.ArrayLen(MaxResults, 8)
	if r.Err() != nil {
		return nil, fmt.Errorf("nfs4client: COMPOUND4res header: %w", r.Err())
	}
	for i := range n {
		var o OpResult
		o.Op = r.Uint32()
		o.Status = Status(r.Uint32())
		if r.Err() != nil {
			return nil, fmt.Errorf("nfs4client: result %d: %w", i, r.Err())
		}
		start := r.Offset()
		if !skipBody(r, o.Op, o.Status) {
			if i != n-1 {
				return nil, fmt.Errorf("%w: op %d", ErrUnknownResult, o.Op)
			}
			r.Fixed(r.Len())
		}
		if r.Err() != nil {
			return nil, fmt.Errorf("nfs4client: result %d (op %d): %w", i, o.Op, r.Err())
		}
		o.Body = b[start:r.Offset()]
		res.Ops = append(res.Ops, o)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("nfs4client: %d bytes after the results", r.Len())
	}
	return res, nil
}

// skipBody reads the body of a result of op with status st, and reports
// whether the client knows its XDR.
func skipBody(r *xdr.Reader, op uint32, st Status) bool {
	if st != NFS4_OK {
		switch {
		case op == OP_SETATTR:
			decodeBitmap(r) // SETATTR4res carries attrsset whatever the status
		case (op == OP_LOCK || op == OP_LOCKT) && st == NFS4ERR_DENIED:
			decodeLockDenied(r)
		case op == OP_SETCLIENTID && st == NFS4ERR_CLID_INUSE:
			r.String(MaxName) // clientaddr4: netaddr4
			r.String(MaxName)
		}
		return true
	}
	switch op {
	case OP_CLOSE, OP_LOCK, OP_LOCKU, OP_OPEN_CONFIRM, OP_OPEN_DOWNGRADE:
		decodeStateid(r)
	case OP_ACCESS:
		r.Uint32()
		r.Uint32()
	case OP_COMMIT:
		r.Fixed(NFS4_VERIFIER_SIZE)
	case OP_CREATE:
		decodeCreate(r)
	case OP_GETATTR:
		decodeFattr(r)
	case OP_GETFH:
		r.Opaque(NFS4_FHSIZE)
	case OP_LINK, OP_REMOVE:
		decodeChangeInfo(r)
	case OP_RENAME:
		decodeChangeInfo(r)
		decodeChangeInfo(r)
	case OP_OPEN:
		decodeOpen(r)
	case OP_READ:
		decodeRead(r)
	case OP_READDIR:
		decodeReaddir(r)
	case OP_READLINK:
		r.String(MaxData)
	case OP_SETATTR:
		decodeBitmap(r)
	case OP_SETCLIENTID:
		r.Uint64()
		r.Fixed(NFS4_VERIFIER_SIZE)
	case OP_WRITE:
		decodeWrite(r)
	case OP_EXCHANGE_ID:
		decodeExchangeID(r)
	case OP_CREATE_SESSION:
		decodeCreateSession(r)
	case OP_SEQUENCE:
		decodeSequence(r)
	case OP_TEST_STATEID:
		decodeTestStateid(r)
	case OP_SECINFO, OP_SECINFO_NO_NAME:
		decodeSecinfo(r)
	case OP_LOCKT, OP_PUTFH, OP_PUTROOTFH, OP_PUTPUBFH, OP_LOOKUP, OP_LOOKUPP, OP_SAVEFH,
		OP_RESTOREFH, OP_VERIFY, OP_NVERIFY, OP_RENEW, OP_SETCLIENTID_CONFIRM,
		OP_RELEASE_LOCKOWNER, OP_DESTROY_SESSION, OP_DESTROY_CLIENTID, OP_RECLAIM_COMPLETE,
		OP_FREE_STATEID, OP_DELEGRETURN, OP_DELEGPURGE, OP_ILLEGAL:
		// void
	default:
		return false
	}
	return true
}

// body checks that o is a successful result of one of ops and returns a
// reader over its body.
func (o OpResult) body(ops ...uint32) (*xdr.Reader, error) {
	ok := false
	for _, n := range ops {
		ok = ok || o.Op == n
	}
	if !ok {
		return nil, fmt.Errorf("nfs4client: result is of op %d, not %v", o.Op, ops)
	}
	if o.Status != NFS4_OK {
		return nil, o.Status
	}
	return xdr.NewReader(o.Body), nil
}

// done checks that r read the whole body.
func done(r *xdr.Reader) error {
	if r.Err() != nil {
		return r.Err()
	}
	if r.Len() != 0 {
		return fmt.Errorf("nfs4client: %d bytes left in the result", r.Len())
	}
	return nil
}

// Getfh returns GETFH's filehandle.
func (o OpResult) Getfh() ([]byte, error) {
	r, err := o.body(OP_GETFH)
	if err != nil {
		return nil, err
	}
	fh := r.Opaque(NFS4_FHSIZE)
	return fh, done(r)
}

// Stateid returns the stateid of CLOSE, LOCK, LOCKU, OPEN_CONFIRM,
// OPEN_DOWNGRADE and OPEN.
func (o OpResult) Stateid() (Stateid, error) {
	if o.Op == OP_OPEN {
		res, err := o.Open()
		if err != nil {
			return Stateid{}, err
		}
		return res.Stateid, nil
	}
	r, err := o.body(OP_CLOSE, OP_LOCK, OP_LOCKU, OP_OPEN_CONFIRM, OP_OPEN_DOWNGRADE)
	if err != nil {
		return Stateid{}, err
	}
	s := decodeStateid(r)
	return s, done(r)
}

// ChangeInfo is a change_info4.
type ChangeInfo struct {
	Atomic        bool
	Before, After uint64
}

func decodeChangeInfo(r *xdr.Reader) ChangeInfo {
	return ChangeInfo{Atomic: r.Bool(), Before: r.Uint64(), After: r.Uint64()}
}

// Delegation is an open_delegation4. For OPEN_DELEGATE_READ and _WRITE,
// Stateid and Recall are set (the rest is read, not kept); for
// OPEN_DELEGATE_NONE_EXT, Why (and Will, the bool of WND4_CONTENTION and
// WND4_RESOURCE).
type Delegation struct {
	Type    uint32
	Stateid Stateid
	Recall  bool
	Why     uint32
	Will    bool
}

func decodeNfsace(r *xdr.Reader) {
	r.Uint32() // type
	r.Uint32() // flag
	r.Uint32() // access_mask
	r.Opaque(MaxName)
}

func decodeDelegation(r *xdr.Reader) Delegation {
	d := Delegation{Type: r.Uint32()}
	switch d.Type {
	case OPEN_DELEGATE_NONE:
	case OPEN_DELEGATE_READ:
		d.Stateid = decodeStateid(r)
		d.Recall = r.Bool()
		decodeNfsace(r)
	case OPEN_DELEGATE_WRITE:
		d.Stateid = decodeStateid(r)
		d.Recall = r.Bool()
		switch r.Uint32() { // nfs_space_limit4
		case NFS_LIMIT_SIZE:
			r.Uint64()
		case NFS_LIMIT_BLOCKS:
			r.Uint32()
			r.Uint32()
		default:
			r.SetErr(xdr.ErrBadValue)
		}
		decodeNfsace(r)
	case OPEN_DELEGATE_NONE_EXT:
		d.Why = r.Uint32()
		if d.Why == WND4_CONTENTION || d.Why == WND4_RESOURCE {
			d.Will = r.Bool()
		}
	default:
		r.SetErr(xdr.ErrBadValue)
	}
	return d
}

// OpenRes is OPEN4resok.
type OpenRes struct {
	Stateid    Stateid
	Cinfo      ChangeInfo
	Rflags     uint32
	Attrset    Bitmap
	Delegation Delegation
}

func decodeOpen(r *xdr.Reader) OpenRes {
	return OpenRes{Stateid: decodeStateid(r), Cinfo: decodeChangeInfo(r), Rflags: r.Uint32(),
		Attrset: decodeBitmap(r), Delegation: decodeDelegation(r)}
}

// Open returns OPEN's result.
func (o OpResult) Open() (*OpenRes, error) {
	r, err := o.body(OP_OPEN)
	if err != nil {
		return nil, err
	}
	res := decodeOpen(r)
	return &res, done(r)
}

// ReadRes is READ4resok.
type ReadRes struct {
	EOF  bool
	Data []byte
}

func decodeRead(r *xdr.Reader) ReadRes { return ReadRes{EOF: r.Bool(), Data: r.Opaque(MaxData)} }

// Read returns READ's result.
func (o OpResult) Read() (*ReadRes, error) {
	r, err := o.body(OP_READ)
	if err != nil {
		return nil, err
	}
	res := decodeRead(r)
	return &res, done(r)
}

// WriteRes is WRITE4resok.
type WriteRes struct {
	Count     uint32
	Committed uint32
	Verf      [NFS4_VERIFIER_SIZE]byte
}

func decodeWrite(r *xdr.Reader) WriteRes {
	res := WriteRes{Count: r.Uint32(), Committed: r.Uint32()}
	copy(res.Verf[:], r.Fixed(NFS4_VERIFIER_SIZE))
	return res
}

// Write returns WRITE's result.
func (o OpResult) Write() (*WriteRes, error) {
	r, err := o.body(OP_WRITE)
	if err != nil {
		return nil, err
	}
	res := decodeWrite(r)
	return &res, done(r)
}

// Commit returns COMMIT's write verifier.
func (o OpResult) Commit() ([NFS4_VERIFIER_SIZE]byte, error) {
	var v [NFS4_VERIFIER_SIZE]byte
	r, err := o.body(OP_COMMIT)
	if err != nil {
		return v, err
	}
	copy(v[:], r.Fixed(NFS4_VERIFIER_SIZE))
	return v, done(r)
}

// LockDenied is LOCK4denied.
type LockDenied struct {
	Offset   uint64
	Length   uint64
	Locktype uint32
	Owner    StateOwner
}

func decodeLockDenied(r *xdr.Reader) LockDenied {
	return LockDenied{Offset: r.Uint64(), Length: r.Uint64(), Locktype: r.Uint32(), Owner: decodeStateOwner(r)}
}

// Denied returns the LOCK4denied of a LOCK or LOCKT result with status
// NFS4ERR_DENIED; any other result is an error (its status if it is one
// of those operations' results).
func (o OpResult) Denied() (*LockDenied, error) {
	if o.Op != OP_LOCK && o.Op != OP_LOCKT {
		return nil, fmt.Errorf("nfs4client: result is of op %d, not LOCK or LOCKT", o.Op)
	}
	if o.Status != NFS4ERR_DENIED {
		return nil, fmt.Errorf("nfs4client: status %v, not NFS4ERR_DENIED", o.Status)
	}
	r := xdr.NewReader(o.Body)
	d := decodeLockDenied(r)
	return &d, done(r)
}

// Access returns ACCESS's supported and access bits.
func (o OpResult) Access() (supported, access uint32, err error) {
	r, err := o.body(OP_ACCESS)
	if err != nil {
		return 0, 0, err
	}
	supported, access = r.Uint32(), r.Uint32()
	return supported, access, done(r)
}

// CreateRes is CREATE4resok.
type CreateRes struct {
	Cinfo   ChangeInfo
	Attrset Bitmap
}

func decodeCreate(r *xdr.Reader) CreateRes {
	return CreateRes{Cinfo: decodeChangeInfo(r), Attrset: decodeBitmap(r)}
}

// Create returns CREATE's result.
func (o OpResult) Create() (*CreateRes, error) {
	r, err := o.body(OP_CREATE)
	if err != nil {
		return nil, err
	}
	res := decodeCreate(r)
	return &res, done(r)
}

// ChangeInfo returns the change_info4 of REMOVE or LINK, or RENAME's
// source_cinfo.
func (o OpResult) ChangeInfo() (ChangeInfo, error) {
	r, err := o.body(OP_REMOVE, OP_LINK, OP_RENAME)
	if err != nil {
		return ChangeInfo{}, err
	}
	c := decodeChangeInfo(r)
	if o.Op == OP_RENAME {
		decodeChangeInfo(r)
	}
	return c, done(r)
}

// Getattr returns GETATTR's fattr4.
func (o OpResult) Getattr() (Fattr, error) {
	r, err := o.body(OP_GETATTR)
	if err != nil {
		return Fattr{}, err
	}
	f := decodeFattr(r)
	return f, done(r)
}

// Attrs decodes GETATTR's attributes.
func (o OpResult) Attrs() (*AttrValues, error) {
	f, err := o.Getattr()
	if err != nil {
		return nil, err
	}
	return f.Decode()
}

// Setattr returns SETATTR's attrsset, and the status as an error if it is
// not NFS4_OK.
func (o OpResult) Setattr() (Bitmap, error) {
	if o.Op != OP_SETATTR {
		return nil, fmt.Errorf("nfs4client: result is of op %d, not SETATTR", o.Op)
	}
	r := xdr.NewReader(o.Body)
	b := decodeBitmap(r)
	if err := done(r); err != nil {
		return nil, err
	}
	if o.Status != NFS4_OK {
		return b, o.Status
	}
	return b, nil
}

// Readlink returns READLINK's link text.
func (o OpResult) Readlink() (string, error) {
	r, err := o.body(OP_READLINK)
	if err != nil {
		return "", err
	}
	s := r.String(MaxData)
	return s, done(r)
}

// Entry is an entry4 of READDIR.
type Entry struct {
	Cookie uint64
	Name   string
	Attrs  Fattr
}

// ReaddirRes is READDIR4resok.
type ReaddirRes struct {
	Cookieverf [NFS4_VERIFIER_SIZE]byte
	Entries    []Entry
	EOF        bool
}

func decodeReaddir(r *xdr.Reader) ReaddirRes {
	var res ReaddirRes
	copy(res.Cookieverf[:], r.Fixed(NFS4_VERIFIER_SIZE))
	for r.Bool() {
		if len(res.Entries) >= MaxEntries {
			r.SetErr(xdr.ErrTooLong)
			break
		}
		e := Entry{Cookie: r.Uint64(), Name: r.String(MaxName), Attrs: decodeFattr(r)}
		if r.Err() != nil {
			break
		}
		res.Entries = append(res.Entries, e)
	}
	res.EOF = r.Bool()
	return res
}

// Readdir returns READDIR's result.
func (o OpResult) Readdir() (*ReaddirRes, error) {
	r, err := o.body(OP_READDIR)
	if err != nil {
		return nil, err
	}
	res := decodeReaddir(r)
	return &res, done(r)
}

// Setclientid returns SETCLIENTID's clientid and setclientid_confirm.
func (o OpResult) Setclientid() (uint64, [NFS4_VERIFIER_SIZE]byte, error) {
	var v [NFS4_VERIFIER_SIZE]byte
	r, err := o.body(OP_SETCLIENTID)
	if err != nil {
		return 0, v, err
	}
	id := r.Uint64()
	copy(v[:], r.Fixed(NFS4_VERIFIER_SIZE))
	return id, v, done(r)
}

// ServerOwner is a server_owner4.
type ServerOwner struct {
	MinorID uint64
	MajorID []byte
}

// ExchangeIDRes is EXCHANGE_ID4resok.
type ExchangeIDRes struct {
	Clientid     uint64
	Sequenceid   uint32
	Flags        uint32
	StateProtect uint32 // spr_how; only SP4_NONE is decoded
	ServerOwner  ServerOwner
	ServerScope  []byte
	ImplID       *ImplID
}

func decodeExchangeID(r *xdr.Reader) ExchangeIDRes {
	res := ExchangeIDRes{Clientid: r.Uint64(), Sequenceid: r.Uint32(), Flags: r.Uint32(), StateProtect: r.Uint32()}
	if res.StateProtect != SP4_NONE {
		r.SetErr(fmt.Errorf("nfs4client: state_protect4_r %d not decoded", res.StateProtect))
		return res
	}
	res.ServerOwner = ServerOwner{MinorID: r.Uint64(), MajorID: r.Opaque(NFS4_OPAQUE_LIMIT)}
	res.ServerScope = r.Opaque(NFS4_OPAQUE_LIMIT)
	if r.ArrayLen(1, 4) == 1 {
		res.ImplID = &ImplID{Domain: r.String(MaxName), Name: r.String(MaxName), Date: Nfstime{r.Int64(), r.Uint32()}}
	}
	return res
}

// ExchangeID returns EXCHANGE_ID's result.
func (o OpResult) ExchangeID() (*ExchangeIDRes, error) {
	r, err := o.body(OP_EXCHANGE_ID)
	if err != nil {
		return nil, err
	}
	res := decodeExchangeID(r)
	return &res, done(r)
}

// CreateSessionRes is CREATE_SESSION4resok.
type CreateSessionRes struct {
	Sessionid  SessionID
	Sequence   uint32
	Flags      uint32
	Fore, Back ChannelAttrs
}

func decodeCreateSession(r *xdr.Reader) CreateSessionRes {
	var res CreateSessionRes
	copy(res.Sessionid[:], r.Fixed(NFS4_SESSIONID_SIZE))
	res.Sequence = r.Uint32()
	res.Flags = r.Uint32()
	res.Fore = decodeChannelAttrs(r)
	res.Back = decodeChannelAttrs(r)
	return res
}

// CreateSession returns CREATE_SESSION's result.
func (o OpResult) CreateSession() (*CreateSessionRes, error) {
	r, err := o.body(OP_CREATE_SESSION)
	if err != nil {
		return nil, err
	}
	res := decodeCreateSession(r)
	return &res, done(r)
}

// SequenceRes is SEQUENCE4resok.
type SequenceRes struct {
	Sessionid           SessionID
	Sequenceid          uint32
	Slotid              uint32
	HighestSlotid       uint32
	TargetHighestSlotid uint32
	StatusFlags         uint32
}

func decodeSequence(r *xdr.Reader) SequenceRes {
	var res SequenceRes
	copy(res.Sessionid[:], r.Fixed(NFS4_SESSIONID_SIZE))
	res.Sequenceid = r.Uint32()
	res.Slotid = r.Uint32()
	res.HighestSlotid = r.Uint32()
	res.TargetHighestSlotid = r.Uint32()
	res.StatusFlags = r.Uint32()
	return res
}

// Sequence returns SEQUENCE's result.
func (o OpResult) Sequence() (*SequenceRes, error) {
	r, err := o.body(OP_SEQUENCE)
	if err != nil {
		return nil, err
	}
	res := decodeSequence(r)
	return &res, done(r)
}

func decodeTestStateid(r *xdr.Reader) []Status {
	n := r.ArrayLen(MaxArray, 4)
	out := make([]Status, 0, n)
	for range n {
		out = append(out, Status(r.Uint32()))
	}
	return out
}

// TestStateid returns TEST_STATEID's status codes.
func (o OpResult) TestStateid() ([]Status, error) {
	r, err := o.body(OP_TEST_STATEID)
	if err != nil {
		return nil, err
	}
	s := decodeTestStateid(r)
	return s, done(r)
}

// SecinfoEntry is a secinfo4.
type SecinfoEntry struct {
	Flavor  uint32
	OID     []byte // RPCSEC_GSS only
	QOP     uint32
	Service uint32
}

func decodeSecinfo(r *xdr.Reader) []SecinfoEntry {
	n := r.ArrayLen(MaxArray, 4)
	out := make([]SecinfoEntry, 0, n)
	for range n {
		e := SecinfoEntry{Flavor: r.Uint32()}
		if e.Flavor == RPCSEC_GSS {
			e.OID = r.Opaque(NFS4_OPAQUE_LIMIT)
			e.QOP = r.Uint32()
			e.Service = r.Uint32()
		}
		out = append(out, e)
	}
	return out
}

// Secinfo returns the flavors of SECINFO or SECINFO_NO_NAME.
func (o OpResult) Secinfo() ([]SecinfoEntry, error) {
	r, err := o.body(OP_SECINFO, OP_SECINFO_NO_NAME)
	if err != nil {
		return nil, err
	}
	s := decodeSecinfo(r)
	return s, done(r)
}
