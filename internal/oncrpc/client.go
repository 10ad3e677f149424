package oncrpc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Cred is a credential a Client sends: a flavor and its body.
type Cred struct {
	Flavor uint32
	Body   []byte
}

// AuthNoneCred returns the AUTH_NONE credential.
func AuthNoneCred() Cred { return Cred{Flavor: AuthNone} }

// AuthSysCred returns an AUTH_SYS credential for p.
func AuthSysCred(p AuthSysParams) Cred { return Cred{Flavor: AuthSys, Body: EncodeAuthSys(p)} }

// RPCError is a reply other than an accepted SUCCESS.
type RPCError struct {
	Denied     bool       // MSG_DENIED; otherwise MSG_ACCEPTED
	AcceptStat AcceptStat // when accepted
	RejectStat uint32     // when denied: RPC_MISMATCH or AUTH_ERROR
	AuthStat   AuthStat   // when denied with AUTH_ERROR
	Low, High  uint32     // for PROG_MISMATCH and RPC_MISMATCH
}

func (e *RPCError) Error() string {
	switch {
	case !e.Denied && e.AcceptStat == ProgMismatch:
		return fmt.Sprintf("oncrpc: PROG_MISMATCH (versions %d-%d)", e.Low, e.High)
	case !e.Denied:
		return fmt.Sprintf("oncrpc: call not executed, accept_stat %d", e.AcceptStat)
	case e.RejectStat == RPCMismatch:
		return fmt.Sprintf("oncrpc: RPC_MISMATCH (versions %d-%d)", e.Low, e.High)
	default:
		return fmt.Sprintf("oncrpc: AUTH_ERROR %d", e.AuthStat)
	}
}

// ErrClientClosed is returned for calls on a closed Client.
var ErrClientClosed = errors.New("oncrpc: client closed")

// clientMaxRecord bounds a reply the Client accepts.
const clientMaxRecord = 4 << 20

// Client is an ONC RPC client over one TCP connection; it is safe for
// concurrent use, with any number of calls in flight. vnfsd uses it in
// tests and tools.
type Client struct {
	nc  net.Conn
	wmu sync.Mutex

	mu      sync.Mutex
	xid     uint32
	pending map[uint32]chan []byte
	err     error
	done    chan struct{}
	calls   atomic.Pointer[Handler] // serves the server's calls (HandleCalls)
}

// HandleCalls makes the Client answer the calls the server sends it on
// the connection (an NFSv4.1 back channel) with h, each in a goroutine
// of its own. Without it, such calls are dropped.
func (c *Client) HandleCalls(h Handler) { c.calls.Store(&h) }

// serveCall answers one call the server sent.
func (c *Client) serveCall(rec []byte, h Handler) {
	call := new(Call)
	var w xdr.Writer
	w.Reserve(4)
	err := DecodeCall(rec, call)
	if err == nil {
		hdr := w.Len()
		appendAccepted(&w, call.XID, Success)
		if err = h.ServeRPC(context.Background(), call, &w); err != nil {
			w.Truncate(hdr)
			appendAccepted(&w, call.XID, SystemErr)
		}
	} else {
		return
	}
	w.PutUint32At(0, lastFragment|uint32(len(w.B)-4))
	c.wmu.Lock()
	c.nc.Write(w.B)
	c.wmu.Unlock()
}

// Dial connects to a TCP address.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(nc), nil
}

// NewClient runs a Client on an established stream connection.
func NewClient(nc net.Conn) *Client {
	var b [4]byte
	rand.Read(b[:])
	c := &Client{nc: nc, xid: binary.BigEndian.Uint32(b[:]), pending: map[uint32]chan []byte{}, done: make(chan struct{})}
	go c.readLoop()
	return c
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		rec, err := readRecord(c.nc, clientMaxRecord)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.fail(err)
			return
		}
		if len(rec) < 4 {
			continue
		}
		if len(rec) >= 8 && binary.BigEndian.Uint32(rec[4:]) == MsgCall {
			if h := c.calls.Load(); h != nil {
				go c.serveCall(rec, *h)
			}
			continue
		}
		xid := binary.BigEndian.Uint32(rec)
		c.mu.Lock()
		ch := c.pending[xid]
		delete(c.pending, xid)
		c.mu.Unlock()
		if ch != nil {
			ch <- rec
		}
	}
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for xid, ch := range c.pending {
		close(ch)
		delete(c.pending, xid)
	}
}

// Close closes the connection; calls in flight fail.
func (c *Client) Close() error {
	c.fail(ErrClientClosed)
	err := c.nc.Close()
	<-c.done
	return err
}

// Call sends one call and waits for its reply. It returns the results of
// an accepted, successful reply, an *RPCError for any other reply, or the
// connection's or ctx's error.
func (c *Client) Call(ctx context.Context, prog, vers, proc uint32, cred Cred, args []byte) ([]byte, error) {
	ch := make(chan []byte, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.xid++
	xid := c.xid
	c.pending[xid] = ch
	c.mu.Unlock()

	var w xdr.Writer
	appendCall(&w, xid, prog, vers, proc, cred, args)
	w.PutUint32At(0, lastFragment|uint32(len(w.B)-4))
	c.wmu.Lock()
	// The call's deadline bounds its write only: a later call without
	// one must not inherit it.
	dl, _ := ctx.Deadline()
	c.nc.SetWriteDeadline(dl)
	_, err := c.nc.Write(w.B)
	c.wmu.Unlock()
	if err != nil {
		c.forget(xid)
		return nil, err
	}
	select {
	case rec, ok := <-ch:
		if !ok {
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		return ParseReply(rec, xid)
	case <-ctx.Done():
		c.forget(xid)
		return nil, ctx.Err()
	}
}

func (c *Client) forget(xid uint32) {
	c.mu.Lock()
	delete(c.pending, xid)
	c.mu.Unlock()
}

// ParseReply decodes a reply message (without record mark) to call xid
// and returns its results, or an *RPCError.
func ParseReply(rec []byte, xid uint32) ([]byte, error) {
	r := xdr.NewReader(rec)
	if got := r.Uint32(); got != xid {
		return nil, fmt.Errorf("oncrpc: reply xid %#x, want %#x", got, xid)
	}
	if r.Uint32() != MsgReply {
		return nil, errors.New("oncrpc: message is not a reply")
	}
	switch r.Uint32() {
	case MsgAccepted:
		r.Uint32()            // verifier flavor
		r.Opaque(MaxAuthBody) // verifier body
		st := AcceptStat(r.Uint32())
		if r.Err() != nil {
			return nil, fmt.Errorf("oncrpc: short reply: %w", r.Err())
		}
		switch st {
		case Success:
			return r.Rest(), nil
		case ProgMismatch:
			e := &RPCError{AcceptStat: st, Low: r.Uint32(), High: r.Uint32()}
			return nil, e
		default:
			return nil, &RPCError{AcceptStat: st}
		}
	case MsgDenied:
		e := &RPCError{Denied: true, RejectStat: r.Uint32()}
		if e.RejectStat == RPCMismatch {
			e.Low, e.High = r.Uint32(), r.Uint32()
		} else {
			e.AuthStat = AuthStat(r.Uint32())
		}
		if r.Err() != nil {
			return nil, fmt.Errorf("oncrpc: short reply: %w", r.Err())
		}
		return nil, e
	default:
		return nil, errors.New("oncrpc: bad reply_stat")
	}
}

// appendCall appends a call record: 4 bytes reserved for the record mark,
// the call header (AUTH_NONE verifier) and args.
func appendCall(w *xdr.Writer, xid, prog, vers, proc uint32, cred Cred, args []byte) {
	w.Reserve(4)
	w.Uint32(xid)
	w.Uint32(MsgCall)
	w.Uint32(RPCVersion)
	w.Uint32(prog)
	w.Uint32(vers)
	w.Uint32(proc)
	w.Uint32(cred.Flavor)
	w.Opaque(cred.Body)
	w.Uint32(AuthNone)
	w.Uint32(0)
	w.B = append(w.B, args...)
}
