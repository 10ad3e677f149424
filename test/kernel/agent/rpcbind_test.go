//go:build linux

package main

import (
	"context"
	"net/netip"
	"testing"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// rpcbCall sends one call to an rpcbind handler over "TCP" from 127.0.0.1 and
// returns the reply's results.
func rpcbCall(t *testing.T, h oncrpc.Handler, vers, proc uint32, args func(w *xdr.Writer)) *xdr.Reader {
	t.Helper()
	var a xdr.Writer
	args(&a)
	lo := netip.MustParseAddr("127.0.0.1")
	c := &oncrpc.Call{Prog: oncrpc.ProgPortmap, Vers: vers, Proc: proc, Args: a.B,
		Local: netip.AddrPortFrom(lo, 111), Remote: netip.AddrPortFrom(lo, 700)}
	var w xdr.Writer
	if err := h.ServeRPC(context.Background(), c, &w); err != nil {
		t.Fatalf("vers %d proc %d: %v", vers, proc, err)
	}
	return xdr.NewReader(w.B)
}

func rpcb(prog, vers uint32, netid, uaddr string) func(w *xdr.Writer) {
	return func(w *xdr.Writer) {
		w.Uint32(prog)
		w.Uint32(vers)
		w.String(netid)
		w.String(uaddr)
		w.String("0")
	}
}

func pmapping(prog, vers, prot, port uint32) func(w *xdr.Writer) {
	return func(w *xdr.Writer) {
		w.Uint32(prog)
		w.Uint32(vers)
		w.Uint32(prot)
		w.Uint32(port)
	}
}

// TestRPCBindRegistration: what lockd does with the guest's rpcbind (SET
// over version 4, UNSET of every netid, SET over version 2) and what it
// then looks up (GETPORT, GETADDR).
func TestRPCBindRegistration(t *testing.T) {
	pm, err := portmap.New(portmap.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := pm.Program(portmap.TCP)
	h := &rpcbHandler{reg: &registry{pm: pm}, inner: p.Handler}
	const nlm = oncrpc.ProgNLM
	boolean := func(r *xdr.Reader) bool {
		b := r.Bool()
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		return b
	}
	getport := func(vers, prot uint32) uint32 {
		r := rpcbCall(t, h, portmap.VersPortmap, portmap.PmapProcGetport, pmapping(nlm, vers, prot, 0))
		return r.Uint32()
	}

	// UNSET of nothing is FALSE; SET over version 4, tcp and tcp6.
	if boolean(rpcbCall(t, h, 4, portmap.RPCBProcUnset, rpcb(nlm, 4, "", ""))) {
		t.Error("UNSET of an unregistered program: TRUE")
	}
	if !boolean(rpcbCall(t, h, 4, portmap.RPCBProcSet, rpcb(nlm, 4, "tcp", "0.0.0.0.3.232"))) {
		t.Fatal("SET 100021/4/tcp: FALSE")
	}
	if !boolean(rpcbCall(t, h, 4, portmap.RPCBProcSet, rpcb(nlm, 4, "tcp6", "::.3.233"))) {
		t.Fatal("SET 100021/4/tcp6: FALSE")
	}
	// A second SET of the same program, version and netid is refused.
	if boolean(rpcbCall(t, h, 4, portmap.RPCBProcSet, rpcb(nlm, 4, "tcp", "0.0.0.0.4.0"))) {
		t.Error("second SET 100021/4/tcp: TRUE")
	}
	// Bad universal address, unknown netid: refused.
	for _, a := range [][2]string{{"tcp", "0.0.0.0.1"}, {"local", "/run/x"}, {"udp", "0.0.0.0.0.0"}} {
		if boolean(rpcbCall(t, h, 4, portmap.RPCBProcSet, rpcb(nlm, 1, a[0], a[1]))) {
			t.Errorf("SET netid %q uaddr %q: TRUE", a[0], a[1])
		}
	}
	if got := getport(4, portmap.IPProtoTCP); got != 1000 {
		t.Errorf("GETPORT 100021/4/tcp: %d, want 1000", got)
	}
	r := rpcbCall(t, h, 4, portmap.RPCBProcGetaddr, rpcb(nlm, 4, "tcp", ""))
	if got := r.String(64); got != "127.0.0.1.3.232" {
		t.Errorf("GETADDR 100021/4 over tcp: %q, want 127.0.0.1.3.232", got)
	}
	// UNSET with an empty netid removes tcp and tcp6.
	if !boolean(rpcbCall(t, h, 3, portmap.RPCBProcUnset, rpcb(nlm, 4, "", ""))) {
		t.Error("UNSET 100021/4: FALSE")
	}
	if n := len(pm.Mappings()); n != 0 {
		t.Errorf("%d mappings left after UNSET: %+v", n, pm.Mappings())
	}

	// Version 2: SET, GETPORT, UNSET; port 0 and unknown protocols refused.
	if !boolean(rpcbCall(t, h, 2, portmap.PmapProcSet, pmapping(nlm, 3, portmap.IPProtoUDP, 2000))) {
		t.Fatal("PMAP SET 100021/3/udp: FALSE")
	}
	if boolean(rpcbCall(t, h, 2, portmap.PmapProcSet, pmapping(nlm, 3, portmap.IPProtoTCP, 0))) {
		t.Error("PMAP SET with port 0: TRUE")
	}
	if boolean(rpcbCall(t, h, 2, portmap.PmapProcSet, pmapping(nlm, 3, 132, 2000))) {
		t.Error("PMAP SET with protocol 132: TRUE")
	}
	if got := getport(3, portmap.IPProtoUDP); got != 2000 {
		t.Errorf("GETPORT 100021/3/udp: %d, want 2000", got)
	}
	if !boolean(rpcbCall(t, h, 2, portmap.PmapProcUnset, pmapping(nlm, 3, 0, 0))) {
		t.Error("PMAP UNSET 100021/3: FALSE")
	}
	if got := getport(3, portmap.IPProtoUDP); got != 0 {
		t.Errorf("GETPORT after UNSET: %d, want 0", got)
	}
}

// TestLockServices starts the guest's rpcbind and statd (port 111 needs
// root and a free port: skipped otherwise) and asks rpcbind for statd over
// TCP, as lockd does.
func TestLockServices(t *testing.T) {
	ls, err := startLockServices()
	if err != nil {
		t.Skipf("cannot start rpcbind on 127.0.0.1:111 here: %v", err)
	}
	defer ls.close()
	c, err := oncrpc.Dial(context.Background(), "127.0.0.1:111")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var a xdr.Writer
	pmapping(oncrpc.ProgNSM, 1, portmap.IPProtoTCP, 0)(&a)
	res, err := c.Call(context.Background(), oncrpc.ProgPortmap, 2, portmap.PmapProcGetport, oncrpc.AuthNoneCred(), a.B)
	if err != nil {
		t.Fatal(err)
	}
	r := xdr.NewReader(res)
	port := r.Uint32()
	if r.Err() != nil || port == 0 || port > 65535 {
		t.Fatalf("GETPORT statd: %d (%v)", port, r.Err())
	}
	// SM_STAT of an address: STAT_SUCC and an odd state.
	s, err := oncrpc.Dial(context.Background(), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b xdr.Writer
	b.String("10.0.2.2")
	res, err = s.Call(context.Background(), oncrpc.ProgNSM, 1, 1, oncrpc.AuthNoneCred(), b.B)
	if err != nil {
		t.Fatal(err)
	}
	r = xdr.NewReader(res)
	if stat, state := r.Uint32(), r.Int32(); r.Err() != nil || stat != 0 || state%2 != 1 {
		t.Errorf("SM_STAT: stat %d state %d (%v), want 0 and an odd state", stat, state, r.Err())
	}
}
