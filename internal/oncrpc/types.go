// Package oncrpc implements ONC RPC version 2 (RFC 5531) over TCP: record
// marking, call and reply messages, the AUTH_NONE and AUTH_SYS flavors, a
// program registry, a duplicate request cache and a server with bounded
// concurrency per connection.
package oncrpc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Message types (RFC 5531 section 9).
const (
	MsgCall  = 0
	MsgReply = 1
)

// Reply status.
const (
	MsgAccepted = 0
	MsgDenied   = 1
)

// AcceptStat is accept_stat of RFC 5531.
type AcceptStat uint32

const (
	Success      AcceptStat = 0
	ProgUnavail  AcceptStat = 1
	ProgMismatch AcceptStat = 2
	ProcUnavail  AcceptStat = 3
	GarbageArgs  AcceptStat = 4
	SystemErr    AcceptStat = 5
)

// RejectStat is reject_stat of RFC 5531.
const (
	RPCMismatch = 0
	AuthErrorS  = 1
)

// AuthStat is auth_stat of RFC 5531.
type AuthStat uint32

const (
	AuthOK           AuthStat = 0
	AuthBadCred      AuthStat = 1
	AuthRejectedCred AuthStat = 2
	AuthBadVerf      AuthStat = 3
	AuthRejectedVerf AuthStat = 4
	AuthTooWeak      AuthStat = 5
	AuthInvalidResp  AuthStat = 6
	AuthFailed       AuthStat = 7
)

// Authentication flavors.
const (
	AuthNone  = 0
	AuthSys   = 1
	AuthShort = 2
	AuthDH    = 3
	RPCSecGSS = 6
)

// Limits of the AUTH_SYS credential (RFC 5531 appendix A).
const (
	MaxMachineName = 255
	MaxAuthSysGIDs = 16
	MaxAuthBody    = 400 // opaque_auth body
)

// AuthSysParams is the body of an AUTH_SYS credential.
type AuthSysParams struct {
	Stamp   uint32
	Machine string
	UID     uint32
	GID     uint32
	GIDs    []uint32
}

// Call is one decoded RPC call.
type Call struct {
	XID  uint32
	Prog uint32
	Vers uint32
	Proc uint32

	CredFlavor uint32
	CredBody   []byte
	// Sys holds the decoded credential when CredFlavor is AuthSys; nil otherwise.
	Sys *AuthSysParams

	// Args is the undecoded procedure arguments; it aliases the record
	// and is valid only until the handler returns.
	Args []byte

	// Local and Remote are the connection's addresses.
	Local  netip.AddrPort
	Remote netip.AddrPort

	sys       AuthSysParams // storage for Sys
	reply     xdr.Writer    // the reply being built (pooled with the Call)
	skipCache bool          // set by SkipCache
	conn      *conn         // the TCP connection, nil for UDP
}

// SkipCache tells the server that the reply of a call it looked up in
// the duplicate request cache (Program.CacheCall) need not be kept: the
// handler found the call idempotent after decoding it.
func (c *Call) SkipCache() { c.skipCache = true }

// Handler serves calls of one program. It decodes call.Args, and on
// success appends the procedure's results to reply and returns nil.
//
// It returns ErrProcUnavail, ErrGarbageArgs or ErrSystem (or an error
// wrapping one of them) for the matching accept_stat, an AuthError for a
// MSG_DENIED/AUTH_ERROR reply, and ErrDrop to send no reply at all. Any
// other error is answered with SYSTEM_ERR and logged. Whatever the handler
// appended before returning an error is discarded.
type Handler interface {
	ServeRPC(ctx context.Context, call *Call, reply *xdr.Writer) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, call *Call, reply *xdr.Writer) error

// ServeRPC calls f.
func (f HandlerFunc) ServeRPC(ctx context.Context, call *Call, reply *xdr.Writer) error {
	return f(ctx, call, reply)
}

// Errors a Handler returns to select the reply.
var (
	ErrProcUnavail = errors.New("oncrpc: procedure unavailable")
	ErrGarbageArgs = errors.New("oncrpc: garbage arguments")
	ErrSystem      = errors.New("oncrpc: system error")
	ErrDrop        = errors.New("oncrpc: drop the call without reply")
)

// AuthError makes the server reply MSG_DENIED with AUTH_ERROR and Stat.
type AuthError struct{ Stat AuthStat }

func (e *AuthError) Error() string { return fmt.Sprintf("oncrpc: auth error %d", e.Stat) }

// Program registers a Handler for a program number and a range of versions.
type Program struct {
	Name string // for logs and metrics: "nfs", "mount", "portmap"
	Prog uint32
	Low  uint32 // lowest supported version
	High uint32 // highest supported version
	// NonIdempotent reports whether a procedure must be answered from the
	// duplicate request cache when retransmitted. Nil means none is.
	NonIdempotent func(vers, proc uint32) bool
	// CacheCall, if not nil, replaces NonIdempotent for programs that
	// must look into the arguments to decide (an NFSv4.0 COMPOUND): a
	// call it selects is looked up in the duplicate request cache, and
	// its reply is kept unless the handler calls Call.SkipCache.
	CacheCall func(c *Call) bool
	Handler   Handler
}

// Well-known program numbers.
const (
	ProgPortmap = 100000
	ProgNFS     = 100003
	ProgMount   = 100005
	ProgNLM     = 100021
	ProgNSM     = 100024
)
