// Package portmap is the built-in portmapper of a virtual server: program
// 100000 version 2 (the portmapper of RFC 1833 section 3) and versions 3 and
// 4 (rpcbind, RFC 1833 section 2).
//
// It is not a general rpcbind. It answers for a fixed registry, the
// programs the virtual server itself runs, given by the server (New,
// SetMappings):
//
//   - SET and UNSET from clients are refused (the reply is FALSE). A
//     vserver's portmapper describes only that vserver; letting any caller
//     add or remove entries would let one client redirect other clients'
//     NFS or MOUNT traffic to a port of its choosing (rpcbind guards this
//     with the caller's local-transport credentials, which a network
//     client does not have), and nothing else in the process registers
//     services through RPC.
//   - CALLIT (version 2), CALLIT/BCAST (version 3, 4) and INDIRECT
//     (version 4) are not supported and get PROC_UNAVAIL: forwarding a
//     small UDP call to another program and returning its (larger) reply
//     to a forgeable source address makes a portmapper a traffic
//     amplifier in denial-of-service attacks, and no NFS client needs it.
//
// Addresses are reported for the address a call arrived on: every service
// of a vserver listens on all of its addresses on the same port, so the
// address the client reached the portmapper at is one it can reach the
// service at. GETADDR, GETVERSADDR and UADDR2TADDR infer the transport
// from the one the call arrived on, as RFC 1833 prescribes (the r_netid of
// the argument is ignored); that is why a Server hands out one Program per
// transport (Program("tcp"), Program("udp")).
package portmap

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Versions of program 100000.
const (
	VersPortmap = 2 // PMAP_VERS
	VersRPCB3   = 3 // RPCBVERS
	VersRPCB4   = 4 // RPCBVERS4
)

// Port is the well-known port of the portmapper.
const Port = 111

// Procedures of the portmapper, version 2 (RFC 1833 section 3.2).
const (
	PmapProcNull    = 0
	PmapProcSet     = 1
	PmapProcUnset   = 2
	PmapProcGetport = 3
	PmapProcDump    = 4
	PmapProcCallit  = 5
)

// Procedures of rpcbind, versions 3 and 4 (RFC 1833 section 2.2).
const (
	RPCBProcNull        = 0
	RPCBProcSet         = 1
	RPCBProcUnset       = 2
	RPCBProcGetaddr     = 3
	RPCBProcDump        = 4
	RPCBProcCallit      = 5 // RPCBPROC_BCAST in version 4
	RPCBProcGettime     = 6
	RPCBProcUaddr2taddr = 7
	RPCBProcTaddr2uaddr = 8
	// Version 4 only.
	RPCBProcGetversaddr = 9
	RPCBProcIndirect    = 10
	RPCBProcGetaddrlist = 11
	RPCBProcGetstat     = 12
)

// IP protocol numbers of the version 2 mapping structure.
const (
	IPProtoTCP = 6
	IPProtoUDP = 17
)

// Transports a Program is bound to.
const (
	TCP = "tcp"
	UDP = "udp"
)

// owner is r_owner of every entry: rpcbind reports "superuser" for services
// registered by root, which is what these are.
const owner = "superuser"

// Mapping is one entry of the registry: program prog, version vers is
// served on netid ("tcp", "udp", "tcp6" or "udp6") at Port.
type Mapping struct {
	Prog  uint32
	Vers  uint32
	Netid string
	Port  uint16
	// Addr, if valid, is reported as the service's address to callers
	// whose call did not arrive on an address of the netid's family (a
	// DUMP over IPv4 listing a tcp6 entry). Otherwise the address the call
	// arrived on is reported.
	Addr netip.Addr
}

func (m *Mapping) is6() bool { return strings.HasSuffix(m.Netid, "6") }

func (m *Mapping) proto() string { return strings.TrimSuffix(m.Netid, "6") }

// Config configures a Server.
type Config struct {
	Mappings []Mapping
	// Logger receives debug lines about refused calls; nil discards them.
	Logger *slog.Logger
}

// Server is a portmapper for one registry. It is safe for concurrent use.
type Server struct {
	maps  atomic.Pointer[[]Mapping]
	log   *slog.Logger
	stats stats
	// now returns the time GETTIME reports.
	now func() time.Time
}

// New returns a Server answering for cfg.Mappings.
func New(cfg Config) (*Server, error) {
	s := &Server{log: cfg.Logger, now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.SetMappings(cfg.Mappings); err != nil {
		return nil, err
	}
	return s, nil
}

// SetMappings replaces the registry.
func (s *Server) SetMappings(ms []Mapping) error {
	for _, m := range ms {
		switch m.Netid {
		case "tcp", "udp", "tcp6", "udp6":
		default:
			return fmt.Errorf("portmap: mapping %d/%d: unknown netid %q", m.Prog, m.Vers, m.Netid)
		}
		if m.Port == 0 {
			return fmt.Errorf("portmap: mapping %d/%d/%s: port 0", m.Prog, m.Vers, m.Netid)
		}
		if m.Addr.IsValid() && m.Addr.Unmap().Is6() != m.is6() {
			return fmt.Errorf("portmap: mapping %d/%d/%s: address %v of the wrong family", m.Prog, m.Vers, m.Netid, m.Addr)
		}
	}
	c := append([]Mapping(nil), ms...)
	s.maps.Store(&c)
	return nil
}

// Mappings returns a copy of the registry.
func (s *Server) Mappings() []Mapping {
	return append([]Mapping(nil), *s.maps.Load()...)
}

// Program returns the program to register on the listeners of transport
// (TCP or UDP). It panics on any other transport.
func (s *Server) Program(transport string) oncrpc.Program {
	if transport != TCP && transport != UDP {
		panic("portmap: unknown transport " + transport)
	}
	return oncrpc.Program{
		Name:    "portmap",
		Prog:    oncrpc.ProgPortmap,
		Low:     VersPortmap,
		High:    VersRPCB4,
		Handler: &handler{s: s, proto: transport},
	}
}

type handler struct {
	s     *Server
	proto string
}

func (h *handler) ServeRPC(ctx context.Context, call *oncrpc.Call, reply *xdr.Writer) error {
	switch call.Vers {
	case VersPortmap:
		return h.s.servePmap(call, reply)
	case VersRPCB3, VersRPCB4:
		return h.s.serveRPCB(h.proto, call, reply)
	}
	return oncrpc.ErrProcUnavail
}

// callAddr returns the address the call arrived on, or if the transport
// did not report it, the caller's (only its family matters then).
func callAddr(call *oncrpc.Call) netip.Addr {
	a := call.Local.Addr().Unmap()
	if !a.IsValid() {
		a = call.Remote.Addr().Unmap()
	}
	return a
}

// callNetid is the netid of the transport the call arrived on.
func callNetid(proto string, call *oncrpc.Call) string {
	if callAddr(call).Is6() {
		return proto + "6"
	}
	return proto
}

// find returns the entry of prog, vers on netid. With anyVers, an entry
// of another version of prog on netid is returned if vers has none, as
// rpcbind does, so that the caller learns the port and gets PROG_MISMATCH
// with the supported range from the service itself.
func find(ms []Mapping, prog, vers uint32, netid string, anyVers bool) (*Mapping, bool) {
	var other *Mapping
	for i := range ms {
		m := &ms[i]
		if m.Prog != prog || m.Netid != netid {
			continue
		}
		if m.Vers == vers {
			return m, true
		}
		if anyVers && other == nil {
			other = m
		}
	}
	return other, other != nil
}

// appendUaddr appends the universal address of m as seen by a caller
// that reached the server at local.
func appendUaddr(dst []byte, m *Mapping, local netip.Addr) []byte {
	a := local
	if !a.IsValid() || a.IsUnspecified() || a.Is6() != m.is6() {
		a = m.Addr.Unmap()
	}
	if !a.IsValid() {
		if m.is6() {
			a = netip.IPv6Unspecified()
		} else {
			a = netip.IPv4Unspecified()
		}
	}
	return AppendUniversalAddr(dst, netip.AddrPortFrom(a, m.Port))
}
