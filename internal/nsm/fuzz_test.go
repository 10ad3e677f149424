package nsm

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// FuzzServeRPC feeds arbitrary arguments to every NSM procedure, from a
// loopback and a remote caller. Nothing may panic; the outcome is a reply
// or GARBAGE_ARGS / PROC_UNAVAIL; the stored list always decodes.
func FuzzServeRPC(f *testing.F) {
	store := &MemStore{}
	n, err := New(Config{State: store, MaxHosts: 64,
		Dial: func(context.Context, netip.Addr, netip.AddrPort) (net.Conn, error) { return nil, syscall.ECONNREFUSED }})
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	n.Monitor(Host{Name: "client", Addr: netip.MustParseAddr("127.0.0.9")})
	add := func(proc uint32, e interface{ Encode(*xdr.Writer) }) {
		var w xdr.Writer
		e.Encode(&w)
		f.Add(proc, w.B)
	}
	add(ProcMon, &Mon{MonName: "10.0.0.1", ID: MonID{MyName: "me", MyProg: 100021, MyVers: 4, MyProc: 16}})
	add(ProcNotify, &StatChge{MonName: "client", State: 5})
	add(ProcUnmonAll, &MonID{MyName: "me", MyProg: 100021, MyVers: 4, MyProc: 16})
	add(ProcStat, &StatChge{MonName: "10.0.0.1"})
	f.Add(uint32(ProcUnmon), []byte{})
	f.Fuzz(func(t *testing.T, proc uint32, args []byte) {
		proc %= 9
		if proc == ProcSimuCrash {
			return // restarts: covered by TestSimuCrash
		}
		for _, remote := range []string{"127.0.0.9:700", "10.0.0.1:700"} {
			c := &oncrpc.Call{Prog: Prog, Vers: Vers, Proc: proc, Args: args,
				Remote: netip.MustParseAddrPort(remote), Local: netip.MustParseAddrPort("127.0.0.1:662")}
			var w xdr.Writer
			err := n.ServeRPC(context.Background(), c, &w)
			if err != nil && err != oncrpc.ErrGarbageArgs && err != oncrpc.ErrProcUnavail {
				t.Fatalf("proc %d: %v", proc, err)
			}
		}
		st, hosts, _ := store.Load()
		b := Marshal(st, hosts)
		if _, h2, err := Unmarshal(b); err != nil || !bytes.Equal(Marshal(st, h2), b) {
			t.Fatalf("stored list does not round-trip: %v", err)
		}
		Unmarshal(args)
	})
}
