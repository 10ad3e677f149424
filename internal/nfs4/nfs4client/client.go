// Package nfs4client is a small NFSv4 client for tests: it builds
// COMPOUND requests (RFC 7530 section 15.2, RFC 8881 section 16.2) from
// typed operation builders, sends them over an oncrpc.Client with AUTH_SYS
// or AUTH_NONE credentials, and decodes the COMPOUND4res into the status,
// tag and per-operation results, with typed decoders for the results tests
// look at.
//
// The XDR is written from the RFCs (RFC 7531, RFC 5662), not shared with
// the server's package wire, so that the two check each other.
//
// Session is the NFSv4.1 convenience: EXCHANGE_ID, CREATE_SESSION and
// RECLAIM_COMPLETE, then COMPOUNDs that start with SEQUENCE on slot 0.
// SetClientID is the NFSv4.0 one (SETCLIENTID and SETCLIENTID_CONFIRM).
package nfs4client

import (
	"context"
	"fmt"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Compound is a COMPOUND4args.
type Compound struct {
	Tag   string
	Minor uint32
	Ops   []Op
}

// Encode returns the XDR of the COMPOUND4args.
func (c Compound) Encode() []byte { return c.AppendEncode(nil) }

// AppendEncode appends the XDR of the COMPOUND4args to b and returns the
// extended buffer.
func (c Compound) AppendEncode(b []byte) []byte {
	w := xdr.Writer{B: b}
	w.String(c.Tag)
	w.Uint32(c.Minor)
	w.Uint32(uint32(len(c.Ops)))
	for _, o := range c.Ops {
		w.Uint32(o.Num)
		w.B = append(w.B, o.Args...)
		if o.Data != nil {
			w.Opaque(o.Data)
		}
	}
	return w.B
}

// Client sends COMPOUNDs over one connection. It is safe for concurrent
// use (the oncrpc.Client is); a Session is not.
type Client struct {
	rpc *oncrpc.Client
	// Cred is the credential of every call.
	Cred oncrpc.Cred
	// Tag is the tag of the COMPOUNDs built by Compound.
	Tag string
}

// New returns a Client over rpc sending cred.
func New(rpc *oncrpc.Client, cred oncrpc.Cred) *Client { return &Client{rpc: rpc, Cred: cred} }

// Dial connects to an NFSv4 server at a TCP address.
func Dial(ctx context.Context, addr string, cred oncrpc.Cred) (*Client, error) {
	rpc, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return New(rpc, cred), nil
}

// SysCred returns the AUTH_SYS credential of uid and gid.
func SysCred(uid, gid uint32) oncrpc.Cred {
	return oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "nfs4client", UID: uid, GID: gid})
}

// Close closes the connection.
func (c *Client) Close() error { return c.rpc.Close() }

// Null calls NFSPROC4_NULL.
func (c *Client) Null(ctx context.Context) error {
	_, err := c.rpc.Call(ctx, NFS4_PROGRAM, NFS_V4, NFSPROC4_NULL, c.Cred, nil)
	return err
}

// CallRaw sends the given COMPOUND4args and returns the raw COMPOUND4res.
func (c *Client) CallRaw(ctx context.Context, args []byte) ([]byte, error) {
	return c.rpc.Call(ctx, NFS4_PROGRAM, NFS_V4, NFSPROC4_COMPOUND, c.Cred, args)
}

// Call sends a COMPOUND and decodes its reply. The error is for the
// transport or a reply that does not decode; the statuses are in the
// Result.
func (c *Client) Call(ctx context.Context, comp Compound) (*Result, error) {
	b, err := c.CallRaw(ctx, comp.Encode())
	if err != nil {
		return nil, err
	}
	return DecodeResult(b)
}

// Compound sends a COMPOUND of minor version minor with the Client's tag.
func (c *Client) Compound(ctx context.Context, minor uint32, ops ...Op) (*Result, error) {
	return c.Call(ctx, Compound{Tag: c.Tag, Minor: minor, Ops: ops})
}

// do is Compound that also fails on a status other than NFS4_OK.
func (c *Client) do(ctx context.Context, minor uint32, ops ...Op) (*Result, error) {
	res, err := c.Compound(ctx, minor, ops...)
	if err != nil {
		return nil, err
	}
	return res, res.Err()
}

// CallbackAddr is the callback address SetClientID gives: the client runs
// no callback service (the port is 0).
const CallbackAddr = "127.0.0.1.0.0"

// SetClientID establishes an NFSv4.0 client ID: SETCLIENTID with the
// client's id and verifier (callback program 0x40000000 on "tcp"
// CallbackAddr), then SETCLIENTID_CONFIRM. It returns the confirmed
// clientid.
func (c *Client) SetClientID(ctx context.Context, id []byte, verf [NFS4_VERIFIER_SIZE]byte) (uint64, error) {
	res, err := c.do(ctx, 0, Setclientid(verf, id, 0x40000000, "tcp", CallbackAddr, 1))
	if err != nil {
		return 0, fmt.Errorf("SETCLIENTID: %w", err)
	}
	clientid, confirm, err := res.Ops[0].Setclientid()
	if err != nil {
		return 0, err
	}
	if _, err := c.do(ctx, 0, SetclientidConfirm(clientid, confirm)); err != nil {
		return 0, fmt.Errorf("SETCLIENTID_CONFIRM: %w", err)
	}
	return clientid, nil
}

// DefaultForeAttrs are the fore channel attributes a Session asks for.
var DefaultForeAttrs = ChannelAttrs{
	MaxRequestSize: 1 << 20, MaxResponseSize: 1 << 20, MaxResponseSizeCached: 64 << 10,
	MaxOperations: 64, MaxRequests: 8,
}

// DefaultBackAttrs are the back channel attributes a Session asks for.
var DefaultBackAttrs = ChannelAttrs{
	MaxRequestSize: 4096, MaxResponseSize: 4096, MaxResponseSizeCached: 0,
	MaxOperations: 2, MaxRequests: 1,
}

// Session is an NFSv4.1 (or 4.2) session used on slot 0: each Do sends a
// COMPOUND that starts with SEQUENCE with the slot's next sequence id. It
// is not safe for concurrent use.
type Session struct {
	C          *Client
	Minor      uint32
	Clientid   uint64
	ID         SessionID
	Flags      uint32       // csr_flags
	Fore, Back ChannelAttrs // as negotiated
	Exchange   *ExchangeIDRes
	// CacheThis is SEQUENCE's sa_cachethis (true after NewSession).
	CacheThis bool
	// Slot is the slot used (0 after NewSession); Seq is the sequence id
	// last sent on it.
	Slot uint32
	Seq  uint32
}

// ExchangeID sends EXCHANGE_ID alone (minor version minor) for the client
// owner and verifier and returns its result.
func (c *Client) ExchangeID(ctx context.Context, minor uint32, owner []byte, verf [NFS4_VERIFIER_SIZE]byte) (*ExchangeIDRes, error) {
	res, err := c.do(ctx, minor, ExchangeID(ExchangeIDArgs{Verifier: verf, OwnerID: owner,
		ImplID: &ImplID{Domain: "vnfsd.test", Name: "nfs4client"}}))
	if err != nil {
		return nil, fmt.Errorf("EXCHANGE_ID: %w", err)
	}
	return res.Ops[0].ExchangeID()
}

// OpenSession sends EXCHANGE_ID and CREATE_SESSION (DefaultForeAttrs,
// DefaultBackAttrs, no back channel connection) and returns the session.
// The client has not sent RECLAIM_COMPLETE: it may reclaim (OPEN with
// CLAIM_PREVIOUS) and must then send it before any new state.
func (c *Client) OpenSession(ctx context.Context, minor uint32, owner []byte, verf [NFS4_VERIFIER_SIZE]byte) (*Session, error) {
	return c.openSession(ctx, minor, owner, verf, 0)
}

// CbProgram is the callback program number the Client's sessions name.
const CbProgram = 0x40000000

// NewSessionBack is NewSession with the connection bound to the
// session's back channel too (CREATE_SESSION4_FLAG_CONN_BACK_CHAN): the
// server's callbacks (CB_COMPOUND of program CbProgram, AUTH_NONE) are
// served by cb.
func (c *Client) NewSessionBack(ctx context.Context, minor uint32, owner []byte, verf [NFS4_VERIFIER_SIZE]byte, cb oncrpc.Handler) (*Session, error) {
	c.rpc.HandleCalls(cb)
	s, err := c.openSession(ctx, minor, owner, verf, CREATE_SESSION4_FLAG_CONN_BACK_CHAN)
	if err != nil {
		return nil, err
	}
	return s, s.reclaimComplete(ctx)
}

func (c *Client) openSession(ctx context.Context, minor uint32, owner []byte, verf [NFS4_VERIFIER_SIZE]byte, flags uint32) (*Session, error) {
	ex, err := c.ExchangeID(ctx, minor, owner, verf)
	if err != nil {
		return nil, err
	}
	res, err := c.do(ctx, minor, CreateSession(CreateSessionArgs{Clientid: ex.Clientid, Sequence: ex.Sequenceid, Flags: flags,
		Fore: DefaultForeAttrs, Back: DefaultBackAttrs, CbProgram: CbProgram,
		SecParms: []CallbackSec{{Flavor: AUTH_NONE}}}))
	if err != nil {
		return nil, fmt.Errorf("CREATE_SESSION: %w", err)
	}
	cs, err := res.Ops[0].CreateSession()
	if err != nil {
		return nil, err
	}
	return &Session{C: c, Minor: minor, Clientid: ex.Clientid, ID: cs.Sessionid, Flags: cs.Flags,
		Fore: cs.Fore, Back: cs.Back, Exchange: ex, CacheThis: true}, nil
}

// NewSession is OpenSession followed by RECLAIM_COMPLETE (rca_one_fs
// false): the session's client may get new state.
func (c *Client) NewSession(ctx context.Context, minor uint32, owner []byte, verf [NFS4_VERIFIER_SIZE]byte) (*Session, error) {
	s, err := c.OpenSession(ctx, minor, owner, verf)
	if err != nil {
		return nil, err
	}
	return s, s.reclaimComplete(ctx)
}

func (s *Session) reclaimComplete(ctx context.Context) error {
	res, err := s.Do(ctx, ReclaimComplete(false))
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("RECLAIM_COMPLETE: %w", err)
	}
	return nil
}

// Next returns the COMPOUND of ops after SEQUENCE with the slot's next
// sequence id, and counts that id as sent.
func (s *Session) Next(ops ...Op) Compound {
	s.Seq++
	all := append([]Op{Sequence(s.ID, s.Seq, s.Slot, s.Slot, s.CacheThis)}, ops...)
	return Compound{Tag: s.C.Tag, Minor: s.Minor, Ops: all}
}

// Do sends SEQUENCE and ops. If SEQUENCE itself fails the server has not
// used the slot (RFC 8881 section 18.46.3), so its sequence id is not
// counted as sent.
func (s *Session) Do(ctx context.Context, ops ...Op) (*Result, error) {
	res, err := s.C.Call(ctx, s.Next(ops...))
	if err != nil {
		return nil, err
	}
	if len(res.Ops) > 0 && res.Ops[0].Op == OP_SEQUENCE && res.Ops[0].Status != NFS4_OK {
		s.Seq--
	}
	return res, nil
}

// MustDo is Do that also fails on a status other than NFS4_OK.
func (s *Session) MustDo(ctx context.Context, ops ...Op) (*Result, error) {
	res, err := s.Do(ctx, ops...)
	if err != nil {
		return nil, err
	}
	return res, res.Err()
}

// Destroy sends DESTROY_SESSION and then DESTROY_CLIENTID, each alone.
func (s *Session) Destroy(ctx context.Context) error {
	if _, err := s.C.do(ctx, s.Minor, DestroySession(s.ID)); err != nil {
		return fmt.Errorf("DESTROY_SESSION: %w", err)
	}
	if _, err := s.C.do(ctx, s.Minor, DestroyClientid(s.Clientid)); err != nil {
		return fmt.Errorf("DESTROY_CLIENTID: %w", err)
	}
	return nil
}
