package oncrpc

import (
	"errors"
	"fmt"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// RPCVersion is the only version of the RPC protocol (RFC 5531 section 8).
const RPCVersion = 2

// callHeaderLen is the fixed part of a call: xid, mtype, rpcvers, prog,
// vers, proc, and the flavor and length of both cred and verf.
const callHeaderLen = 10 * 4

// Reasons why DecodeCall refuses a record. Each selects what the server
// does with it.
var (
	// ErrShortHeader: the record is too short to hold a call header. Such
	// a record cannot be answered reliably and is dropped (as Linux does).
	ErrShortHeader = errors.New("oncrpc: record too short for a call header")
	// ErrNotCall: the message type is not CALL; it is dropped.
	ErrNotCall = errors.New("oncrpc: message is not a call")
	// ErrRPCVersion: rpcvers is not 2; answered with RPC_MISMATCH.
	ErrRPCVersion = errors.New("oncrpc: RPC version is not 2")
)

// DecodeCall decodes the call header at the start of rec into c. On
// success c.Args holds the rest of the record (aliasing rec).
//
// The error is ErrShortHeader, ErrNotCall or ErrRPCVersion for records
// without a usable header, or an *AuthError (AUTH_BADCRED or
// AUTH_BADVERF) for a malformed or unsupported credential or verifier;
// c.XID is valid whenever the record holds at least 4 bytes.
func DecodeCall(rec []byte, c *Call) error {
	r := xdr.NewReader(rec)
	c.XID = r.Uint32()
	mtype := r.Uint32()
	if r.Err() != nil {
		return ErrShortHeader
	}
	if mtype != MsgCall {
		return ErrNotCall
	}
	rpcvers := r.Uint32()
	c.Prog = r.Uint32()
	c.Vers = r.Uint32()
	c.Proc = r.Uint32()
	if r.Err() != nil {
		return ErrShortHeader
	}
	if rpcvers != RPCVersion {
		return ErrRPCVersion
	}
	c.CredFlavor = r.Uint32()
	c.CredBody = r.Opaque(MaxAuthBody)
	if r.Err() != nil {
		return &AuthError{Stat: AuthBadCred}
	}
	verfFlavor := r.Uint32()
	verf := r.Opaque(MaxAuthBody)
	if r.Err() != nil {
		return &AuthError{Stat: AuthBadVerf}
	}
	c.Args = r.Rest()
	c.Sys = nil
	switch c.CredFlavor {
	case AuthNone:
		// RFC 5531 section 10.1: the body should be empty; Linux accepts
		// any, and so do we.
	case AuthSys:
		c.Sys = &c.sys
		if err := decodeAuthSys(c.CredBody, c.Sys); err != nil {
			c.Sys = nil
			return &AuthError{Stat: AuthBadCred}
		}
	default:
		// Unsupported flavors (AUTH_DH, RPCSEC_GSS until it exists, any
		// unknown number): AUTH_BADCRED, as Linux nfsd answers, so that
		// the client falls back or reports a clear error.
		return &AuthError{Stat: AuthBadCred}
	}
	// AUTH_NONE and AUTH_SYS calls carry an AUTH_NONE verifier (RFC 5531
	// section 10.2); anything else is refused.
	if verfFlavor != AuthNone || len(verf) != 0 {
		return &AuthError{Stat: AuthBadVerf}
	}
	return nil
}

// decodeAuthSys decodes an authsys_parms body (RFC 5531 appendix A) that
// must fill the body exactly: machine name at most 255 bytes, at most 16
// supplementary groups.
func decodeAuthSys(body []byte, p *AuthSysParams) error {
	r := xdr.NewReader(body)
	p.Stamp = r.Uint32()
	// Reuse the previous string when a pooled Call sees the same client
	// again (the comparison does not allocate).
	if m := r.Opaque(MaxMachineName); string(m) != p.Machine {
		p.Machine = string(m)
	}
	p.UID = r.Uint32()
	p.GID = r.Uint32()
	n := r.ArrayLen(MaxAuthSysGIDs, 4)
	if r.Err() != nil {
		return r.Err()
	}
	if cap(p.GIDs) < n {
		p.GIDs = make([]uint32, n)
	}
	p.GIDs = p.GIDs[:n]
	for i := range p.GIDs {
		p.GIDs[i] = r.Uint32()
	}
	if r.Err() != nil {
		return r.Err()
	}
	if r.Len() != 0 {
		return fmt.Errorf("oncrpc: %d trailing bytes in AUTH_SYS credential", r.Len())
	}
	return nil
}

// EncodeAuthSys returns the body of an AUTH_SYS credential.
func EncodeAuthSys(p AuthSysParams) []byte {
	var w xdr.Writer
	w.Uint32(p.Stamp)
	w.String(p.Machine)
	w.Uint32(p.UID)
	w.Uint32(p.GID)
	w.Uint32(uint32(len(p.GIDs)))
	for _, g := range p.GIDs {
		w.Uint32(g)
	}
	return w.B
}

// Reply encoding. Every reply a Server sends starts with these words; an
// accepted reply carries an AUTH_NONE verifier (we issue no other).

// appendAccepted appends an accepted reply header with stat.
func appendAccepted(w *xdr.Writer, xid uint32, stat AcceptStat) {
	w.Uint32(xid)
	w.Uint32(MsgReply)
	w.Uint32(MsgAccepted)
	w.Uint32(AuthNone)
	w.Uint32(0)
	w.Uint32(uint32(stat))
}

// appendProgMismatch appends a PROG_MISMATCH reply with the supported range.
func appendProgMismatch(w *xdr.Writer, xid, low, high uint32) {
	appendAccepted(w, xid, ProgMismatch)
	w.Uint32(low)
	w.Uint32(high)
}

// appendRPCMismatch appends MSG_DENIED/RPC_MISMATCH for rpcvers 2 only.
func appendRPCMismatch(w *xdr.Writer, xid uint32) {
	w.Uint32(xid)
	w.Uint32(MsgReply)
	w.Uint32(MsgDenied)
	w.Uint32(RPCMismatch)
	w.Uint32(RPCVersion)
	w.Uint32(RPCVersion)
}

// appendAuthError appends MSG_DENIED/AUTH_ERROR with stat.
func appendAuthError(w *xdr.Writer, xid uint32, stat AuthStat) {
	w.Uint32(xid)
	w.Uint32(MsgReply)
	w.Uint32(MsgDenied)
	w.Uint32(AuthErrorS)
	w.Uint32(uint32(stat))
}
