//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The kernel's NFSv3 client needs two user-space services on the loopback
// address for its lock manager (lockd), which rpcbind and rpc.statd are on
// a Debian system; the guest has neither, so the agent provides them:
//
//   - an rpcbind on 127.0.0.1:111, TCP and UDP (RFC 1833, versions 2, 3
//     and 4). lockd registers itself with SET (version 4, or version 2 if
//     version 4 is refused), after clearing older entries with UNSET; lockd
//     then looks up statd with GETPORT. The lookups and DUMP are those of
//     internal/portmap; SET and UNSET, which the server's portmapper
//     refuses, change its registry here. (The kernel first tries the
//     AF_LOCAL socket /var/run/rpcbind.sock: it does not exist here, so
//     it falls back to TCP on 127.0.0.1:111.)
//   - a statd (NSM, program 100024 version 1) on 127.0.0.1, TCP and UDP,
//     registered with that rpcbind: internal/nsm, whose SM_MON from
//     loopback callers is what lockd sends before its first lock on a
//     server (mon_name is the server's address, as nsm_use_hostnames is
//     off by default). Without a successful SM_MON the kernel refuses the
//     lock (ENOLCK).
//
// Both are started before the NFSv3 mount: mounting without nolock starts
// lockd, which fails the mount if it cannot register with rpcbind.

// lockServices are the rpcbind and statd of the guest.
type lockServices struct {
	reg     *registry
	statd   *nsm.NSM
	servers []*oncrpc.Server
}

// registry is the rpcbind registry: internal/portmap's lookups over a
// table that SET and UNSET change.
type registry struct {
	mu sync.Mutex
	pm *portmap.Server
}

// rpcbHandler serves program 100000 on one transport: SET and UNSET here,
// everything else by internal/portmap.
type rpcbHandler struct {
	reg   *registry
	inner oncrpc.Handler
}

// Limits of the rpcb strings (RFC 1833 does not bound them; these are far
// above what anyone registers).
const (
	maxNetid = 64
	maxUaddr = 128
	maxOwner = 255
)

func (h *rpcbHandler) ServeRPC(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	r := xdr.NewReader(call.Args)
	switch {
	case call.Vers == portmap.VersPortmap && (call.Proc == portmap.PmapProcSet || call.Proc == portmap.PmapProcUnset):
		// struct mapping: prog, vers, prot, port.
		prog, vers, prot, port := r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32()
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		if call.Proc == portmap.PmapProcUnset {
			w.Bool(h.reg.unset(prog, vers, ""))
			return nil
		}
		var netid string
		switch prot {
		case portmap.IPProtoTCP:
			netid = "tcp"
		case portmap.IPProtoUDP:
			netid = "udp"
		}
		w.Bool(netid != "" && port != 0 && port <= 65535 && h.reg.set(portmap.Mapping{Prog: prog, Vers: vers, Netid: netid, Port: uint16(port)}))
		return nil
	case (call.Vers == portmap.VersRPCB3 || call.Vers == portmap.VersRPCB4) && (call.Proc == portmap.RPCBProcSet || call.Proc == portmap.RPCBProcUnset):
		// struct rpcb: r_prog, r_vers, r_netid, r_addr, r_owner.
		prog, vers := r.Uint32(), r.Uint32()
		netid, uaddr, _ := r.String(maxNetid), r.String(maxUaddr), r.String(maxOwner)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		if call.Proc == portmap.RPCBProcUnset {
			w.Bool(h.reg.unset(prog, vers, netid))
			return nil
		}
		ap, err := portmap.ParseUniversalAddr(uaddr)
		ok := err == nil && ap.Port() != 0
		switch netid {
		case "tcp", "udp", "tcp6", "udp6":
		default:
			ok = false // "local" and others: nobody here looks them up
		}
		w.Bool(ok && h.reg.set(portmap.Mapping{Prog: prog, Vers: vers, Netid: netid, Port: ap.Port(), Addr: ap.Addr()}))
		return nil
	}
	return h.inner.ServeRPC(ctx, call, w)
}

// set adds m unless prog, vers already has an entry on its netid (as
// rpcbind, which makes a registrant UNSET first).
func (g *registry) set(m portmap.Mapping) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.pm.Mappings()
	for _, o := range ms {
		if o.Prog == m.Prog && o.Vers == m.Vers && o.Netid == m.Netid {
			return false
		}
	}
	if m.Addr.IsValid() && m.Addr.Unmap().Is6() != (m.Netid == "tcp6" || m.Netid == "udp6") {
		m.Addr = netip.Addr{}
	}
	return g.pm.SetMappings(append(ms, m)) == nil
}

// unset removes the entries of prog, vers on netid, or on every netid if
// netid is empty; it reports whether there were any.
func (g *registry) unset(prog, vers uint32, netid string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.pm.Mappings()
	keep := ms[:0]
	for _, o := range ms {
		if o.Prog == prog && o.Vers == vers && (netid == "" || o.Netid == netid) {
			continue
		}
		keep = append(keep, o)
	}
	if len(keep) == len(ms) {
		return false
	}
	return g.pm.SetMappings(keep) == nil
}

// startLockServices starts statd and rpcbind on the loopback address.
func startLockServices() (_ *lockServices, err error) {
	pm, err := portmap.New(portmap.Config{})
	if err != nil {
		return nil, err
	}
	ls := &lockServices{reg: &registry{pm: pm}}
	defer func() {
		if err != nil {
			ls.close()
		}
	}()
	// The NSM's state number: odd (up) from the start.
	ls.statd, err = nsm.New(nsm.Config{State: &nsm.MemStore{}, Logger: agentLogger})
	if err != nil {
		return nil, err
	}
	if _, err := ls.statd.Restarted(context.Background()); err != nil {
		return nil, err
	}
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})

	statdMux := oncrpc.NewMux()
	if err := statdMux.Register(ls.statd.Program()); err != nil {
		return nil, err
	}
	statd := &oncrpc.Server{Mux: statdMux, Logger: agentLogger}
	ls.servers = append(ls.servers, statd)
	tl, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		return nil, fmt.Errorf("statd: %w", err)
	}
	ul, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		return nil, fmt.Errorf("statd: %w", err)
	}
	go statd.Serve(tl)
	go statd.ServePacket(ul)
	if err := pm.SetMappings([]portmap.Mapping{
		{Prog: oncrpc.ProgPortmap, Vers: portmap.VersRPCB4, Netid: "tcp", Port: portmap.Port},
		{Prog: oncrpc.ProgPortmap, Vers: portmap.VersRPCB3, Netid: "tcp", Port: portmap.Port},
		{Prog: oncrpc.ProgPortmap, Vers: portmap.VersPortmap, Netid: "tcp", Port: portmap.Port},
		{Prog: oncrpc.ProgPortmap, Vers: portmap.VersRPCB4, Netid: "udp", Port: portmap.Port},
		{Prog: oncrpc.ProgPortmap, Vers: portmap.VersRPCB3, Netid: "udp", Port: portmap.Port},
		{Prog: oncrpc.ProgPortmap, Vers: portmap.VersPortmap, Netid: "udp", Port: portmap.Port},
		{Prog: oncrpc.ProgNSM, Vers: 1, Netid: "tcp", Port: uint16(tl.Addr().(*net.TCPAddr).Port)},
		{Prog: oncrpc.ProgNSM, Vers: 1, Netid: "udp", Port: uint16(ul.LocalAddr().(*net.UDPAddr).Port)},
	}); err != nil {
		return nil, err
	}

	for _, tr := range []string{portmap.TCP, portmap.UDP} {
		p := pm.Program(tr)
		p.Handler = &rpcbHandler{reg: ls.reg, inner: p.Handler}
		mux := oncrpc.NewMux()
		if err := mux.Register(p); err != nil {
			return nil, err
		}
		srv := &oncrpc.Server{Mux: mux, Logger: agentLogger}
		ls.servers = append(ls.servers, srv)
		addr := netip.AddrPortFrom(lo, portmap.Port)
		if tr == portmap.TCP {
			l, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(addr))
			if err != nil {
				return nil, fmt.Errorf("rpcbind: %w", err)
			}
			go srv.Serve(l)
		} else {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
			if err != nil {
				return nil, fmt.Errorf("rpcbind: %w", err)
			}
			go srv.ServePacket(c)
		}
	}
	return ls, nil
}

// close stops the services.
func (ls *lockServices) close() {
	for _, s := range ls.servers {
		s.Shutdown(context.Background())
	}
	if ls.statd != nil {
		ls.statd.Close()
	}
}

// agentLogger sends the log of the services to the console as agent lines.
var agentLogger = slog.New(slog.NewTextHandler(logWriter{}, nil))

type logWriter struct{}

func (logWriter) Write(p []byte) (int, error) {
	logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// registered describes the registry, for the log: what lockd registered.
func (ls *lockServices) registered() string {
	var s string
	for _, m := range ls.reg.pm.Mappings() {
		if m.Prog == oncrpc.ProgPortmap {
			continue
		}
		s += fmt.Sprintf(" %d/%d/%s:%d", m.Prog, m.Vers, m.Netid, m.Port)
	}
	return s
}
