package wire

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// This file holds the data types that several operations share (RFC 7531
// and RFC 5662 "Basic data types" and following).
//
// Conventions: an XDR opaque (and utf8string, component4, linktext4)
// decodes to a []byte aliasing the input; an XDR string (netaddr4's
// fields, authsys_parms' machinename) decodes to a Go string (a copy); an
// optional item ("*type" or "type<1>") is a Go pointer, nil when absent.

// MaxBitmapWords bounds a decoded bitmap4. The highest attribute defined,
// FATTR4_XATTR_SUPPORT, is 82, but a client may ask for attributes the
// server does not know, which it must ignore (RFC 8881 section 18.7.3;
// pynfs GATT4 asks for attribute 1000): 64 words (2048 attributes) are
// accepted; a longer bitmap is NFS4ERR_BADXDR.
const MaxBitmapWords = 64

// Stateid4 is stateid4 (RFC 8881 section 8.2).
type Stateid4 struct {
	Seqid uint32
	Other [OtherSize]byte
}

// Special stateids (RFC 7530 section 9.1.4.3, RFC 8881 section 8.2.3).
var (
	// AnonymousStateid is all zeros: I/O without open state.
	AnonymousStateid = Stateid4{}
	// ReadBypassStateid is all ones: READ that bypasses locks and share
	// reservations.
	ReadBypassStateid = Stateid4{Seqid: 0xffffffff, Other: [OtherSize]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	// CurrentStateid (4.1) stands for the compound's current stateid:
	// seqid 1, other all zeros.
	CurrentStateid = Stateid4{Seqid: 1}
	// InvalidStateid (4.1) is seqid NFS4_UINT32_MAX, other all zeros; it
	// is never valid (NFS4ERR_BAD_STATEID).
	InvalidStateid = Stateid4{Seqid: 0xffffffff}
)

// OtherZero reports whether the other field is all zeros (the anonymous,
// current and invalid stateids).
func (s Stateid4) OtherZero() bool { return s.Other == [OtherSize]byte{} }

// OtherOnes reports whether the other field is all ones (READ bypass).
func (s Stateid4) OtherOnes() bool { return s.Other == ReadBypassStateid.Other }

// IsSpecial reports whether s is one of the special stateids' family:
// other all zeros or all ones, whatever the seqid (RFC 8881 section
// 8.2.3: any other combination with such an "other" is NFS4ERR_BAD_STATEID).
func (s Stateid4) IsSpecial() bool { return s.OtherZero() || s.OtherOnes() }

// Encode appends s.
func (s *Stateid4) Encode(w *xdr.Writer) {
	w.Uint32(s.Seqid)
	w.Fixed(s.Other[:])
}

// Decode reads s.
func (s *Stateid4) Decode(r *xdr.Reader) {
	s.Seqid = r.Uint32()
	copy(s.Other[:], r.Fixed(OtherSize))
}

// Bitmap4 is bitmap4: bit n is bit n%32 of word n/32.
type Bitmap4 []uint32

// IsSet reports whether bit n is set.
func (b Bitmap4) IsSet(n uint32) bool {
	i := n / 32
	return uint64(i) < uint64(len(b)) && b[i]&(1<<(n%32)) != 0
}

// Set sets bit n, growing b as needed.
func (b *Bitmap4) Set(n uint32) {
	i := int(n / 32)
	for len(*b) <= i {
		*b = append(*b, 0)
	}
	(*b)[i] |= 1 << (n % 32)
}

// Clear clears bit n.
func (b Bitmap4) Clear(n uint32) {
	if i := n / 32; uint64(i) < uint64(len(b)) {
		b[i] &^= 1 << (n % 32)
	}
}

// And returns the bits set in both b and o, without trailing zero words.
func (b Bitmap4) And(o Bitmap4) Bitmap4 {
	n := min(len(b), len(o))
	r := make(Bitmap4, n)
	for i := range r {
		r[i] = b[i] & o[i]
	}
	return r.Trim()
}

// Trim returns b without its trailing zero words (nil if no bit is set).
func (b Bitmap4) Trim() Bitmap4 {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	if n == 0 {
		return nil
	}
	return b[:n]
}

// IsZero reports whether no bit is set.
func (b Bitmap4) IsZero() bool { return len(b.Trim()) == 0 }

// Encode appends b.
func (b Bitmap4) Encode(w *xdr.Writer) {
	w.Uint32(uint32(len(b)))
	for _, v := range b {
		w.Uint32(v)
	}
}

// Decode reads a bitmap4 of at most MaxBitmapWords words (more is an
// error, NFS4ERR_BADXDR). An empty bitmap decodes to nil.
func (b *Bitmap4) Decode(r *xdr.Reader) {
	n := r.ArrayLen(MaxBitmapWords, 4)
	if n == 0 {
		*b = nil
		return
	}
	v := make(Bitmap4, n)
	for i := range v {
		v[i] = r.Uint32()
	}
	*b = v
}

// EncodedLen returns the size of b on the wire.
func (b Bitmap4) EncodedLen() int { return 4 + 4*len(b) }

// Fattr4 is fattr4: the attribute mask and the attribute values, left
// opaque here (package nfs4/fattr encodes and decodes them).
type Fattr4 struct {
	Mask Bitmap4
	Vals []byte // attrlist4
}

// Encode appends f.
func (f *Fattr4) Encode(w *xdr.Writer) {
	f.Mask.Encode(w)
	w.Opaque(f.Vals)
}

// Decode reads f, with at most maxVals bytes of values.
func (f *Fattr4) Decode(r *xdr.Reader, maxVals int) {
	f.Mask.Decode(r)
	f.Vals = r.Opaque(maxVals)
}

// EncodedLen returns the size of f on the wire.
func (f *Fattr4) EncodedLen() int { return f.Mask.EncodedLen() + opaqueLen(len(f.Vals)) }

// opaqueLen is the wire size of a variable-length opaque of n bytes.
func opaqueLen(n int) int { return 4 + n + xdr.Pad(n) }

// Nfstime4 is nfstime4.
type Nfstime4 struct {
	Seconds  int64
	Nseconds uint32
}

// Encode appends t.
func (t *Nfstime4) Encode(w *xdr.Writer) {
	w.Int64(t.Seconds)
	w.Uint32(t.Nseconds)
}

// Decode reads t. Nseconds is not checked: judging a value of 10^9 or
// more (NFS4ERR_INVAL when setting a time) is the server's business.
func (t *Nfstime4) Decode(r *xdr.Reader) {
	t.Seconds = r.Int64()
	t.Nseconds = r.Uint32()
}

// Settime4 is settime4: SetIt is SET_TO_SERVER_TIME4 or
// SET_TO_CLIENT_TIME4, Time the client's time in the latter case.
type Settime4 struct {
	SetIt uint32
	Time  Nfstime4
}

// Encode appends t.
func (t *Settime4) Encode(w *xdr.Writer) {
	w.Uint32(t.SetIt)
	if t.SetIt == SetToClientTime4 {
		t.Time.Encode(w)
	}
}

// Decode reads t; a time_how4 outside the enum is xdr.ErrBadValue.
func (t *Settime4) Decode(r *xdr.Reader) {
	t.SetIt = r.Uint32()
	switch t.SetIt {
	case SetToClientTime4:
		t.Time.Decode(r)
	case SetToServerTime4:
		t.Time = Nfstime4{}
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

// Specdata4 is specdata4: the major and minor numbers of a device.
type Specdata4 struct {
	Specdata1 uint32
	Specdata2 uint32
}

// Encode appends s.
func (s *Specdata4) Encode(w *xdr.Writer) {
	w.Uint32(s.Specdata1)
	w.Uint32(s.Specdata2)
}

// Decode reads s.
func (s *Specdata4) Decode(r *xdr.Reader) {
	s.Specdata1 = r.Uint32()
	s.Specdata2 = r.Uint32()
}

// ChangeInfo4 is change_info4.
type ChangeInfo4 struct {
	Atomic bool
	Before uint64
	After  uint64
}

// Encode appends c.
func (c *ChangeInfo4) Encode(w *xdr.Writer) {
	w.Bool(c.Atomic)
	w.Uint64(c.Before)
	w.Uint64(c.After)
}

// StateOwner4 is state_owner4, which is also open_owner4 and lock_owner4.
type StateOwner4 struct {
	Clientid uint64
	Owner    []byte // at most NFS4_OPAQUE_LIMIT bytes
}

// Encode appends o.
func (o *StateOwner4) Encode(w *xdr.Writer) {
	w.Uint64(o.Clientid)
	w.Opaque(o.Owner)
}

// Decode reads o.
func (o *StateOwner4) Decode(r *xdr.Reader) {
	o.Clientid = r.Uint64()
	o.Owner = r.Opaque(OpaqueLimit)
}

// NfsClientID4 is nfs_client_id4 (SETCLIENTID, 4.0).
type NfsClientID4 struct {
	Verifier [VerifierSize]byte
	ID       []byte // at most NFS4_OPAQUE_LIMIT bytes
}

// ClientOwner4 is client_owner4 (EXCHANGE_ID, 4.1).
type ClientOwner4 struct {
	Verifier [VerifierSize]byte // co_verifier
	OwnerID  []byte             // co_ownerid, at most NFS4_OPAQUE_LIMIT bytes
}

// ServerOwner4 is server_owner4.
type ServerOwner4 struct {
	MinorID uint64 // so_minor_id
	MajorID []byte // so_major_id, at most NFS4_OPAQUE_LIMIT bytes
}

// Encode appends o.
func (o *ServerOwner4) Encode(w *xdr.Writer) {
	w.Uint64(o.MinorID)
	w.Opaque(o.MajorID)
}

// NfsImplID4 is nfs_impl_id4.
type NfsImplID4 struct {
	Domain []byte // nii_domain
	Name   []byte // nii_name
	Date   Nfstime4
}

// Encode appends id.
func (id *NfsImplID4) Encode(w *xdr.Writer) {
	w.Opaque(id.Domain)
	w.Opaque(id.Name)
	id.Date.Encode(w)
}

func (id *NfsImplID4) decode(r *xdr.Reader, lim Limits) {
	id.Domain = r.Opaque(lim.MaxOpaque)
	id.Name = r.Opaque(lim.MaxOpaque)
	id.Date.Decode(r)
}

// Netaddr4 is netaddr4 (also clientaddr4): an RPCB netid ("tcp", "tcp6")
// and universal address ("192.0.2.1.8.1").
type Netaddr4 struct {
	Netid string // na_r_netid
	Addr  string // na_r_addr
}

// maxNetaddrField bounds each string of a netaddr4 (unbounded in the
// XDR; real ones are a few dozen bytes).
const maxNetaddrField = OpaqueLimit

// Encode appends a.
func (a *Netaddr4) Encode(w *xdr.Writer) {
	w.String(a.Netid)
	w.String(a.Addr)
}

func (a *Netaddr4) decode(r *xdr.Reader) {
	a.Netid = r.String(maxNetaddrField)
	a.Addr = r.String(maxNetaddrField)
}

// CbClient4 is cb_client4 (SETCLIENTID, 4.0).
type CbClient4 struct {
	CbProgram  uint32
	CbLocation Netaddr4
}

// ChannelAttrs4 is channel_attrs4 (CREATE_SESSION).
type ChannelAttrs4 struct {
	HeaderPadSize         uint32
	MaxRequestSize        uint32
	MaxResponseSize       uint32
	MaxResponseSizeCached uint32
	MaxOperations         uint32
	MaxRequests           uint32
	RdmaIrd               *uint32 // ca_rdma_ird<1>
}

// Encode appends c.
func (c *ChannelAttrs4) Encode(w *xdr.Writer) {
	w.Uint32(c.HeaderPadSize)
	w.Uint32(c.MaxRequestSize)
	w.Uint32(c.MaxResponseSize)
	w.Uint32(c.MaxResponseSizeCached)
	w.Uint32(c.MaxOperations)
	w.Uint32(c.MaxRequests)
	if c.RdmaIrd != nil {
		w.Uint32(1)
		w.Uint32(*c.RdmaIrd)
	} else {
		w.Uint32(0)
	}
}

func (c *ChannelAttrs4) decode(r *xdr.Reader) {
	c.HeaderPadSize = r.Uint32()
	c.MaxRequestSize = r.Uint32()
	c.MaxResponseSize = r.Uint32()
	c.MaxResponseSizeCached = r.Uint32()
	c.MaxOperations = r.Uint32()
	c.MaxRequests = r.Uint32()
	c.RdmaIrd = nil
	if r.ArrayLen(1, 4) == 1 {
		v := r.Uint32()
		c.RdmaIrd = &v
	}
}

// StateProtectOps4 is state_protect_ops4.
type StateProtectOps4 struct {
	MustEnforce Bitmap4 // spo_must_enforce
	MustAllow   Bitmap4 // spo_must_allow
}

// Encode appends o.
func (o *StateProtectOps4) Encode(w *xdr.Writer) {
	o.MustEnforce.Encode(w)
	o.MustAllow.Encode(w)
}

func (o *StateProtectOps4) decode(r *xdr.Reader) {
	o.MustEnforce.Decode(r)
	o.MustAllow.Decode(r)
}

// SsvSpParms4 is ssv_sp_parms4.
type SsvSpParms4 struct {
	Ops           StateProtectOps4
	HashAlgs      [][]byte // ssp_hash_algs: sec_oid4s
	EncrAlgs      [][]byte // ssp_encr_algs: sec_oid4s
	Window        uint32
	NumGssHandles uint32
}

// StateProtect4A is state_protect4_a (EXCHANGE_ID's eia_state_protect).
// SP4_MACH_CRED and SP4_SSV are decoded completely so that the server can
// refuse them cleanly.
type StateProtect4A struct {
	How      uint32           // spa_how: SP4_NONE, SP4_MACH_CRED, SP4_SSV
	MachOps  StateProtectOps4 // SP4_MACH_CRED
	SsvParms SsvSpParms4      // SP4_SSV
}

func (s *StateProtect4A) decode(r *xdr.Reader, lim Limits) {
	s.How = r.Uint32()
	switch s.How {
	case SP4None:
	case SP4MachCred:
		s.MachOps.decode(r)
	case SP4SSV:
		p := &s.SsvParms
		p.Ops.decode(r)
		p.HashAlgs = decodeOpaques(r, lim.MaxArray, lim.MaxOpaque)
		p.EncrAlgs = decodeOpaques(r, lim.MaxArray, lim.MaxOpaque)
		p.Window = r.Uint32()
		p.NumGssHandles = r.Uint32()
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

// SsvProtInfo4 is ssv_prot_info4.
type SsvProtInfo4 struct {
	Ops     StateProtectOps4
	HashAlg uint32
	EncrAlg uint32
	SsvLen  uint32
	Window  uint32
	Handles [][]byte // spi_handles: gsshandle4_t
}

// StateProtect4R is state_protect4_r (EXCHANGE_ID's eir_state_protect).
type StateProtect4R struct {
	How     uint32           // spr_how
	MachOps StateProtectOps4 // SP4_MACH_CRED
	SsvInfo SsvProtInfo4     // SP4_SSV
}

// Encode appends s (an unknown How is written alone).
func (s *StateProtect4R) Encode(w *xdr.Writer) {
	w.Uint32(s.How)
	switch s.How {
	case SP4MachCred:
		s.MachOps.Encode(w)
	case SP4SSV:
		i := &s.SsvInfo
		i.Ops.Encode(w)
		w.Uint32(i.HashAlg)
		w.Uint32(i.EncrAlg)
		w.Uint32(i.SsvLen)
		w.Uint32(i.Window)
		encodeOpaques(w, i.Handles)
	}
}

// decodeOpaques reads an array of at most maxN opaques of at most maxLen
// bytes each.
func decodeOpaques(r *xdr.Reader, maxN, maxLen int) [][]byte {
	n := r.ArrayLen(maxN, 4)
	if n == 0 {
		return nil
	}
	v := make([][]byte, n)
	for i := range v {
		v[i] = r.Opaque(maxLen)
	}
	return v
}

func encodeOpaques(w *xdr.Writer, v [][]byte) {
	w.Uint32(uint32(len(v)))
	for _, p := range v {
		w.Opaque(p)
	}
}

// AuthsysParms is authsys_parms (RFC 5531 appendix A), as it appears in
// callback_sec_parms4.
type AuthsysParms struct {
	Stamp       uint32
	Machinename string // at most 255 bytes
	UID         uint32
	GID         uint32
	Gids        []uint32 // at most 16
}

// GssCbHandles4 is gss_cb_handles4.
type GssCbHandles4 struct {
	Service          uint32 // rpc_gss_svc_t
	HandleFromServer []byte
	HandleFromClient []byte
}

// CallbackSecParms4 is callback_sec_parms4: the security the server
// should use on the backchannel (CREATE_SESSION, BACKCHANNEL_CTL).
type CallbackSecParms4 struct {
	Flavor     uint32        // cb_secflavor: AUTH_NONE, AUTH_SYS, RPCSEC_GSS
	SysCred    AuthsysParms  // AUTH_SYS
	GssHandles GssCbHandles4 // RPCSEC_GSS
}

func (p *CallbackSecParms4) decode(r *xdr.Reader, lim Limits) {
	p.Flavor = r.Uint32()
	switch p.Flavor {
	case AuthNone:
	case AuthSys:
		c := &p.SysCred
		c.Stamp = r.Uint32()
		c.Machinename = r.String(MaxMachineName)
		c.UID = r.Uint32()
		c.GID = r.Uint32()
		n := r.ArrayLen(MaxAuthSysGids, 4)
		c.Gids = nil
		if n > 0 {
			c.Gids = make([]uint32, n)
			for i := range c.Gids {
				c.Gids[i] = r.Uint32()
			}
		}
	case RPCSecGSS:
		g := &p.GssHandles
		g.Service = r.Uint32()
		g.HandleFromServer = r.Opaque(lim.MaxOpaque)
		g.HandleFromClient = r.Opaque(lim.MaxOpaque)
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

func decodeSecParms(r *xdr.Reader, lim Limits) []CallbackSecParms4 {
	n := r.ArrayLen(lim.MaxArray, 4)
	if n == 0 {
		return nil
	}
	v := make([]CallbackSecParms4, n)
	for i := range v {
		v[i].decode(r, lim)
		if r.Err() != nil {
			return nil
		}
	}
	return v
}

// Createtype4 is createtype4 (CREATE): the type and, for NF4LNK, the link
// text, for NF4BLK and NF4CHR the device numbers. Every other type has no
// data (the XDR's default arm): the server answers NFS4ERR_BADTYPE for
// the types CREATE does not make.
type Createtype4 struct {
	Type     uint32    // nfs_ftype4
	Linkdata []byte    // NF4LNK: linktext4
	Devdata  Specdata4 // NF4BLK, NF4CHR
}

func (c *Createtype4) decode(r *xdr.Reader, lim Limits) {
	c.Type = r.Uint32()
	switch c.Type {
	case NF4LNK:
		c.Linkdata = r.Opaque(lim.MaxLinktext)
	case NF4BLK, NF4CHR:
		c.Devdata.Decode(r)
	}
}

// Createhow4 is createhow4 (OPEN with OPEN4_CREATE).
type Createhow4 struct {
	Mode        uint32             // createmode4
	Createattrs Fattr4             // UNCHECKED4, GUARDED4; EXCLUSIVE4_1's cva_attrs
	Createverf  [VerifierSize]byte // EXCLUSIVE4; EXCLUSIVE4_1's cva_verf
}

func (c *Createhow4) decode(r *xdr.Reader, minor uint32, lim Limits) {
	c.Mode = r.Uint32()
	switch {
	case c.Mode == Unchecked4 || c.Mode == Guarded4:
		c.Createattrs.Decode(r, lim.MaxAttrVals)
	case c.Mode == Exclusive4:
		copy(c.Createverf[:], r.Fixed(VerifierSize))
	case c.Mode == Exclusive41 && minor >= 1:
		copy(c.Createverf[:], r.Fixed(VerifierSize))
		c.Createattrs.Decode(r, lim.MaxAttrVals)
	default:
		// No arm (EXCLUSIVE4_1 is not in RFC 7530's createmode4).
		r.SetErr(xdr.ErrBadValue)
	}
}

// Openflag4 is openflag4: How is meaningful when Opentype is
// OPEN4_CREATE.
type Openflag4 struct {
	Opentype uint32 // opentype4
	How      Createhow4
}

func (o *Openflag4) decode(r *xdr.Reader, minor uint32, lim Limits) {
	o.Opentype = r.Uint32()
	switch o.Opentype {
	case Open4Create:
		o.How.decode(r, minor, lim)
	case Open4Nocreate:
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

// OpenClaim4 is open_claim4.
//
//	CLAIM_NULL, CLAIM_DELEGATE_PREV: File
//	CLAIM_PREVIOUS:                  DelegateType
//	CLAIM_DELEGATE_CUR:              DelegateStateid and File
//	CLAIM_FH, CLAIM_DELEG_PREV_FH:   nothing (4.1)
//	CLAIM_DELEG_CUR_FH:              DelegateStateid (4.1)
type OpenClaim4 struct {
	Claim           uint32 // open_claim_type4
	File            []byte // component4
	DelegateType    uint32 // open_delegation_type4
	DelegateStateid Stateid4
}

func (c *OpenClaim4) decode(r *xdr.Reader, minor uint32, lim Limits) {
	c.Claim = r.Uint32()
	switch {
	case c.Claim == ClaimNull || c.Claim == ClaimDelegatePrev:
		c.File = r.Opaque(lim.MaxName)
	case c.Claim == ClaimPrevious:
		c.DelegateType = r.Uint32()
	case c.Claim == ClaimDelegateCur:
		c.DelegateStateid.Decode(r)
		c.File = r.Opaque(lim.MaxName)
	case (c.Claim == ClaimFH || c.Claim == ClaimDelegPrevFH) && minor >= 1:
	case c.Claim == ClaimDelegCurFH && minor >= 1:
		c.DelegateStateid.Decode(r)
	default:
		// No arm (the FH claims are not in RFC 7530's open_claim4).
		r.SetErr(xdr.ErrBadValue)
	}
}

// OpenToLockOwner4 is open_to_lock_owner4.
type OpenToLockOwner4 struct {
	OpenSeqid   uint32
	OpenStateid Stateid4
	LockSeqid   uint32
	LockOwner   StateOwner4
}

// ExistLockOwner4 is exist_lock_owner4.
type ExistLockOwner4 struct {
	LockStateid Stateid4
	LockSeqid   uint32
}

// Locker4 is locker4: OpenOwner when NewLockOwner, LockOwner otherwise.
type Locker4 struct {
	NewLockOwner bool
	OpenOwner    OpenToLockOwner4
	LockOwner    ExistLockOwner4
}

func (l *Locker4) decode(r *xdr.Reader) {
	l.NewLockOwner = r.Bool()
	if l.NewLockOwner {
		o := &l.OpenOwner
		o.OpenSeqid = r.Uint32()
		o.OpenStateid.Decode(r)
		o.LockSeqid = r.Uint32()
		o.LockOwner.Decode(r)
	} else {
		l.LockOwner.LockStateid.Decode(r)
		l.LockOwner.LockSeqid = r.Uint32()
	}
}

// Lock4Denied is LOCK4denied: the conflicting lock of LOCK and LOCKT.
type Lock4Denied struct {
	Offset   uint64
	Length   uint64
	Locktype uint32 // nfs_lock_type4
	Owner    StateOwner4
}

// Encode appends d.
func (d *Lock4Denied) Encode(w *xdr.Writer) {
	w.Uint64(d.Offset)
	w.Uint64(d.Length)
	w.Uint32(d.Locktype)
	d.Owner.Encode(w)
}

// Nfsace4 is nfsace4.
type Nfsace4 struct {
	Type       uint32 // acetype4
	Flag       uint32 // aceflag4
	AccessMask uint32 // acemask4
	Who        []byte // utf8str_mixed
}

// Encode appends a.
func (a *Nfsace4) Encode(w *xdr.Writer) {
	w.Uint32(a.Type)
	w.Uint32(a.Flag)
	w.Uint32(a.AccessMask)
	w.Opaque(a.Who)
}

// Decode reads a, with a who of at most maxWho bytes.
func (a *Nfsace4) Decode(r *xdr.Reader, maxWho int) {
	a.Type = r.Uint32()
	a.Flag = r.Uint32()
	a.AccessMask = r.Uint32()
	a.Who = r.Opaque(maxWho)
}

// SpaceLimit4 is nfs_space_limit4.
type SpaceLimit4 struct {
	LimitBy       uint32 // limit_by4
	Filesize      uint64 // NFS_LIMIT_SIZE
	NumBlocks     uint32 // NFS_LIMIT_BLOCKS
	BytesPerBlock uint32 // NFS_LIMIT_BLOCKS
}

// Encode appends l (an unknown LimitBy is written alone).
func (l *SpaceLimit4) Encode(w *xdr.Writer) {
	w.Uint32(l.LimitBy)
	switch l.LimitBy {
	case NFSLimitSize:
		w.Uint64(l.Filesize)
	case NFSLimitBlocks:
		w.Uint32(l.NumBlocks)
		w.Uint32(l.BytesPerBlock)
	}
}

// OpenDelegation4 is open_delegation4 (OPEN, WANT_DELEGATION,
// CB_PUSH_DELEG).
//
//	OPEN_DELEGATE_NONE:     nothing
//	OPEN_DELEGATE_READ:     Stateid, Recall, Permissions
//	OPEN_DELEGATE_WRITE:    Stateid, Recall, SpaceLimit, Permissions
//	OPEN_DELEGATE_NONE_EXT: Why, and ServerWillPushDeleg (WND4_CONTENTION)
//	                        or ServerWillSignalAvail (WND4_RESOURCE); 4.1
type OpenDelegation4 struct {
	Type                  uint32 // open_delegation_type4
	Stateid               Stateid4
	Recall                bool
	SpaceLimit            SpaceLimit4
	Permissions           Nfsace4
	Why                   uint32 // why_no_delegation4
	ServerWillPushDeleg   bool
	ServerWillSignalAvail bool
}

// Encode appends d (an unknown Type is written alone).
func (d *OpenDelegation4) Encode(w *xdr.Writer) {
	w.Uint32(d.Type)
	switch d.Type {
	case OpenDelegateRead:
		d.Stateid.Encode(w)
		w.Bool(d.Recall)
		d.Permissions.Encode(w)
	case OpenDelegateWrite:
		d.Stateid.Encode(w)
		w.Bool(d.Recall)
		d.SpaceLimit.Encode(w)
		d.Permissions.Encode(w)
	case OpenDelegateNoneExt:
		w.Uint32(d.Why)
		switch d.Why {
		case WND4Contention:
			w.Bool(d.ServerWillPushDeleg)
		case WND4Resource:
			w.Bool(d.ServerWillSignalAvail)
		}
	}
}

// Secinfo4 is secinfo4: a flavor and, for RPCSEC_GSS, its rpcsec_gss_info.
type Secinfo4 struct {
	Flavor  uint32
	OID     []byte // sec_oid4
	Qop     uint32
	Service uint32 // rpc_gss_svc_t
}

// Encode appends s.
func (s *Secinfo4) Encode(w *xdr.Writer) {
	w.Uint32(s.Flavor)
	if s.Flavor == RPCSecGSS {
		w.Opaque(s.OID)
		w.Uint32(s.Qop)
		w.Uint32(s.Service)
	}
}

// Layout4 is layout4 (LAYOUTGET).
type Layout4 struct {
	Offset uint64
	Length uint64
	Iomode uint32 // layoutiomode4
	Type   uint32 // layout_content4's loc_type
	Body   []byte // loc_body
}

// DeviceAddr4 is device_addr4 (GETDEVICEINFO).
type DeviceAddr4 struct {
	LayoutType uint32
	AddrBody   []byte
}

// LayoutUpdate4 is layoutupdate4 (LAYOUTCOMMIT, LAYOUTSTATS).
type LayoutUpdate4 struct {
	Type uint32 // layouttype4
	Body []byte
}

func (u *LayoutUpdate4) decode(r *xdr.Reader, lim Limits) {
	u.Type = r.Uint32()
	u.Body = r.Opaque(lim.MaxWrite)
}

// Layoutreturn4 is layoutreturn4: for LAYOUTRETURN4_FILE the range, the
// layout stateid and the layout type's data; nothing for the others
// (the XDR's default arm).
type Layoutreturn4 struct {
	ReturnType uint32 // layoutreturn_type4
	Offset     uint64
	Length     uint64
	Stateid    Stateid4
	Body       []byte
}

// DeviceError4 is device_error4 (LAYOUTERROR).
type DeviceError4 struct {
	DeviceID [DeviceIDSize]byte
	Status   nfserr.Status
	Opnum    uint32
}

// IoInfo4 is io_info4 (LAYOUTSTATS).
type IoInfo4 struct {
	Count uint64
	Bytes uint64
}

// Netloc4 is netloc4 (4.2 inter-server copy): Name for NL4_NAME and
// NL4_URL, Addr for NL4_NETADDR.
type Netloc4 struct {
	Type uint32 // netloc_type4
	Name []byte // nl_name or nl_url: utf8str_cis
	Addr Netaddr4
}

// Encode appends n (an unknown Type is written alone).
func (n *Netloc4) Encode(w *xdr.Writer) {
	w.Uint32(n.Type)
	switch n.Type {
	case NL4Name, NL4URL:
		w.Opaque(n.Name)
	case NL4Netaddr:
		n.Addr.Encode(w)
	}
}

func (n *Netloc4) decode(r *xdr.Reader, lim Limits) {
	n.Type = r.Uint32()
	switch n.Type {
	case NL4Name, NL4URL:
		n.Name = r.Opaque(lim.MaxOpaque)
	case NL4Netaddr:
		n.Addr.decode(r)
	default:
		r.SetErr(xdr.ErrBadValue)
	}
}

func decodeNetlocs(r *xdr.Reader, lim Limits) []Netloc4 {
	n := r.ArrayLen(lim.MaxArray, 8)
	if n == 0 {
		return nil
	}
	v := make([]Netloc4, n)
	for i := range v {
		v[i].decode(r, lim)
		if r.Err() != nil {
			return nil
		}
	}
	return v
}

// WriteResponse4 is write_response4 (COPY, WRITE_SAME, CB_OFFLOAD).
type WriteResponse4 struct {
	CallbackID *Stateid4 // wr_callback_id<1>
	Count      uint64
	Committed  uint32 // stable_how4
	Writeverf  [VerifierSize]byte
}

// Encode appends wr.
func (wr *WriteResponse4) Encode(w *xdr.Writer) {
	if wr.CallbackID != nil {
		w.Uint32(1)
		wr.CallbackID.Encode(w)
	} else {
		w.Uint32(0)
	}
	w.Uint64(wr.Count)
	w.Uint32(wr.Committed)
	w.Fixed(wr.Writeverf[:])
}

// CopyRequirements4 is copy_requirements4.
type CopyRequirements4 struct {
	Consecutive bool
	Synchronous bool
}

// Encode appends c.
func (c *CopyRequirements4) Encode(w *xdr.Writer) {
	w.Bool(c.Consecutive)
	w.Bool(c.Synchronous)
}

// AppDataBlock4 is app_data_block4 (WRITE_SAME).
type AppDataBlock4 struct {
	Offset         uint64
	BlockSize      uint64
	BlockCount     uint64
	ReloffBlocknum uint64
	BlockNum       uint32
	ReloffPattern  uint64
	Pattern        []byte
}

// ReadPlusContent is read_plus_content (READ_PLUS): for NFS4_CONTENT_DATA
// an offset and the data, for NFS4_CONTENT_HOLE an offset and a length.
type ReadPlusContent struct {
	Content uint32 // data_content4
	Offset  uint64
	Data    []byte // NFS4_CONTENT_DATA
	Length  uint64 // NFS4_CONTENT_HOLE
}

// Encode appends c (other content types, the XDR's default arm, have no
// data).
func (c *ReadPlusContent) Encode(w *xdr.Writer) {
	w.Uint32(c.Content)
	switch c.Content {
	case NFS4ContentData:
		w.Uint64(c.Offset)
		w.Opaque(c.Data)
	case NFS4ContentHole:
		w.Uint64(c.Offset)
		w.Uint64(c.Length)
	}
}
