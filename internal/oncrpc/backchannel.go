package oncrpc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Backchannel sends calls to the client over the connection a call came
// in on: the back channel of an NFSv4.1 session (RFC 8881 section
// 2.10.3.1), where the server is the RPC client and the client answers
// on the same TCP connection. Replies arrive among the client's calls;
// the server tells them apart by msg_type (RFC 5531 section 9) and hands
// them to the waiting Call.
type Backchannel interface {
	// Call sends one call and waits for its reply, the connection's
	// end or ctx. It returns the results of an accepted, successful
	// reply, or an *RPCError.
	Call(ctx context.Context, prog, vers, proc uint32, cred Cred, args []byte) ([]byte, error)
	// Done is closed when the connection has ended.
	Done() <-chan struct{}
}

// ErrConnClosed is the error of a back channel call whose connection
// ended before the reply.
var ErrConnClosed = errors.New("oncrpc: connection closed")

// MaxBackchannelCalls bounds the calls a connection has waiting for a
// reply; a Call beyond it fails at once.
const MaxBackchannelCalls = 64

// Back returns the connection's back channel: nil for a call that came
// over UDP.
func (c *Call) Back() Backchannel {
	if c.conn == nil {
		return nil
	}
	return c.conn
}

// backState is a TCP connection's back channel: the calls it sent and
// waits for.
type backState struct {
	mu      sync.Mutex
	xid     uint32
	pending map[uint32]chan []byte
	gone    chan struct{} // closed by end
	ended   bool
}

func (c *conn) back() *backState {
	c.bmu.Lock()
	defer c.bmu.Unlock()
	if c.bs == nil {
		var b [4]byte
		rand.Read(b[:])
		c.bs = &backState{xid: binary.BigEndian.Uint32(b[:]), pending: make(map[uint32]chan []byte), gone: make(chan struct{})}
		if c.bended {
			c.bs.ended = true
			close(c.bs.gone)
		}
	}
	return c.bs
}

// endBack fails the waiting back channel calls: the connection is done.
func (c *conn) endBack() {
	c.bmu.Lock()
	c.bended = true
	bs := c.bs
	c.bmu.Unlock()
	if bs == nil {
		return
	}
	bs.mu.Lock()
	if !bs.ended {
		bs.ended = true
		close(bs.gone)
	}
	bs.mu.Unlock()
}

// Done implements Backchannel.
func (c *conn) Done() <-chan struct{} { return c.back().gone }

// Call implements Backchannel.
func (c *conn) Call(ctx context.Context, prog, vers, proc uint32, cred Cred, args []byte) ([]byte, error) {
	bs := c.back()
	bs.mu.Lock()
	if bs.ended {
		bs.mu.Unlock()
		return nil, ErrConnClosed
	}
	if len(bs.pending) >= MaxBackchannelCalls {
		bs.mu.Unlock()
		return nil, errors.New("oncrpc: too many back channel calls in flight")
	}
	bs.xid++
	xid := bs.xid
	for bs.pending[xid] != nil {
		bs.xid++
		xid = bs.xid
	}
	ch := make(chan []byte, 1)
	bs.pending[xid] = ch
	bs.mu.Unlock()
	defer func() {
		bs.mu.Lock()
		delete(bs.pending, xid)
		bs.mu.Unlock()
	}()

	var w xdr.Writer
	w.B = getBuf(64 + len(cred.Body) + len(args))
	appendCall(&w, xid, prog, vers, proc, cred, args)
	c.sendRecord(w.B)
	putBuf(w.B)
	select {
	case rec := <-ch:
		defer putBuf(rec)
		res, err := ParseReply(rec, xid)
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), res...), nil
	case <-bs.gone:
		return nil, ErrConnClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// deliverReply hands a reply record to the Call waiting for its xid; it
// reports whether one was (else the record is the caller's to drop).
func (c *conn) deliverReply(rec []byte) bool {
	c.bmu.Lock()
	bs := c.bs
	c.bmu.Unlock()
	if bs == nil || len(rec) < 4 {
		return false
	}
	xid := binary.BigEndian.Uint32(rec)
	bs.mu.Lock()
	ch := bs.pending[xid]
	delete(bs.pending, xid)
	bs.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- rec // buffered: never blocks, and only one reply per xid
	return true
}

// isReply reports whether a record holds an RPC reply (msg_type REPLY).
func isReply(rec []byte) bool {
	return len(rec) >= 8 && binary.BigEndian.Uint32(rec[4:]) == MsgReply
}
