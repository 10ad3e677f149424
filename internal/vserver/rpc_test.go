package vserver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// This file holds the client side of the integration tests: calls through
// oncrpc's test client over TCP, and a hand-written UDP exchange (RFC 5531
// messages without record marking), so that the UDP path is checked by
// code that shares nothing with the server.

func rpcCall(t *testing.T, addr string, prog, vers, proc uint32, args []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	cred := oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "vserver-test", UID: 1000, GID: 1000})
	res, err := c.Call(ctx, prog, vers, proc, cred, args)
	if err != nil {
		t.Fatalf("call %d/%d/%d on %s: %v", prog, vers, proc, addr, err)
	}
	return res
}

// udpCall sends one call with AUTH_NONE over UDP and returns the results
// of an accepted, successful reply.
func udpCall(t *testing.T, addr string, prog, vers, proc uint32, args []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var xidb [4]byte
	rand.Read(xidb[:])
	xid := binary.BigEndian.Uint32(xidb[:])
	var w xdr.Writer
	w.Uint32(xid)
	w.Uint32(oncrpc.MsgCall)
	w.Uint32(2) // rpcvers
	w.Uint32(prog)
	w.Uint32(vers)
	w.Uint32(proc)
	w.Uint32(oncrpc.AuthNone) // cred
	w.Uint32(0)
	w.Uint32(oncrpc.AuthNone) // verf
	w.Uint32(0)
	w.B = append(w.B, args...)
	buf := make([]byte, 65536)
	// UDP may lose the datagram even on loopback under load: retransmit
	// like a real client, with the same xid.
	for try := 0; try < 5; try++ {
		if _, err := c.Write(w.B); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		res, err := parseReply(buf[:n], xid)
		if err != nil {
			t.Fatalf("UDP call %d/%d/%d: %v", prog, vers, proc, err)
		}
		return res
	}
	t.Fatalf("no UDP reply from %s", addr)
	return nil
}

func parseReply(b []byte, xid uint32) ([]byte, error) {
	r := xdr.NewReader(b)
	if got := r.Uint32(); got != xid {
		return nil, fmt.Errorf("xid %d, want %d", got, xid)
	}
	if r.Uint32() != oncrpc.MsgReply {
		return nil, errors.New("not a reply")
	}
	if st := r.Uint32(); st != oncrpc.MsgAccepted {
		return nil, fmt.Errorf("reply_stat %d", st)
	}
	r.Uint32()    // verifier flavor
	r.Opaque(400) // verifier body
	if st := r.Uint32(); st != uint32(oncrpc.Success) || r.Err() != nil {
		return nil, fmt.Errorf("accept_stat %d (%v)", st, r.Err())
	}
	return r.Rest(), nil
}

func enc(f func(w *xdr.Writer)) []byte {
	var w xdr.Writer
	f(&w)
	return w.B
}
