package nfs4_test

import (
	"context"
	"net/netip"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// FuzzServeCompound runs arbitrary COMPOUND arguments through the whole
// server: decoding, the session and state tables, the pseudo file system
// and the operations on a real backend. Nothing may panic, and every reply
// must be a well-formed COMPOUND4res (status, tag, results) with no more
// results than operations asked for.
func FuzzServeCompound(f *testing.F) {
	own := c4.StateOwner{Clientid: 1, Owner: []byte("o")}
	for _, cp := range []c4.Compound{
		{Minor: 0, Ops: []c4.Op{c4.Putrootfh(), c4.Lookup("a"), c4.Getattr(0, 1, 3, 4, 20, 33), c4.Getfh()}},
		{Minor: 1, Ops: []c4.Op{c4.Putrootfh(), c4.Readdir(0, [8]byte{}, 4096, 8192, c4.NewBitmap(1, 20))}},
		{Minor: 1, Ops: []c4.Op{c4.ExchangeID(c4.ExchangeIDArgs{OwnerID: []byte("fuzz"), Verifier: [8]byte{1}})}},
		{Minor: 2, Ops: []c4.Op{c4.Sequence(c4.SessionID{}, 1, 0, 0, false), c4.Putrootfh()}},
		{Minor: 0, Ops: []c4.Op{c4.Putrootfh(), c4.Lookup("a"),
			c4.OpenCreate(1, c4.OPEN4_SHARE_ACCESS_BOTH, 0, own, "f", c4.UNCHECKED4, c4.NewFattr())}},
		{Minor: 0, Ops: []c4.Op{c4.Putrootfh(), c4.Lookup("b"), c4.Lookup("c"), c4.Mkdir("d", c4.NewFattr()), c4.Lookupp()}},
	} {
		f.Add(cp.Encode())
	}
	ts := newServer(f, newBackend(f), serverOpts{})
	f.Fuzz(func(t *testing.T, args []byte) {
		call := &oncrpc.Call{Prog: oncrpc.ProgNFS, Vers: 4, Proc: 1, Args: args,
			Sys:    &oncrpc.AuthSysParams{Machine: "fuzz"},
			Local:  netip.MustParseAddrPort("127.0.0.1:2049"),
			Remote: netip.MustParseAddrPort("127.0.0.1:700")}
		var w xdr.Writer
		err := ts.srv.ServeRPC(context.Background(), call, &w)
		if err != nil {
			return // GARBAGE_ARGS for a header that does not decode
		}
		r := xdr.NewReader(w.B)
		r.Uint32()     // status
		r.Opaque(1024) // tag
		n := r.Uint32()
		if r.Err() != nil {
			t.Fatalf("reply header malformed: %x", w.B)
		}
		q := xdr.NewReader(args)
		q.Opaque(1024) // tag
		q.Uint32()     // minorversion
		if asked := q.Uint32(); q.Err() == nil && n > asked && n > 1 {
			t.Fatalf("%d results for %d operations", n, asked)
		}
	})
}
