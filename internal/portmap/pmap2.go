package portmap

import (
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// pmapMapping is struct mapping of RFC 1833 section 3.1.
type pmapMapping struct {
	prog, vers, prot, port uint32
}

func readPmapMapping(r *xdr.Reader) pmapMapping {
	return pmapMapping{prog: r.Uint32(), vers: r.Uint32(), prot: r.Uint32(), port: r.Uint32()}
}

// protNetid maps the protocol of a version 2 mapping to its netid: the
// portmapper speaks only of IPv4.
func protNetid(prot uint32) string {
	switch prot {
	case IPProtoTCP:
		return "tcp"
	case IPProtoUDP:
		return "udp"
	}
	return ""
}

func netidProt(netid string) uint32 {
	switch netid {
	case "tcp":
		return IPProtoTCP
	case "udp":
		return IPProtoUDP
	}
	return 0
}

// servePmap answers the portmapper, version 2 (RFC 1833 section 3).
func (s *Server) servePmap(call *oncrpc.Call, w *xdr.Writer) error {
	s.stats.proc(VersPortmap, call.Proc)
	var r xdr.Reader
	r.Reset(call.Args)
	switch call.Proc {
	case PmapProcNull:
		return nil

	case PmapProcSet, PmapProcUnset:
		m := readPmapMapping(&r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		s.log.Debug("portmap: refused registration change", "proc", call.Proc,
			"prog", m.prog, "vers", m.vers, "prot", m.prot, "port", m.port, "client", call.Remote)
		w.Bool(false)
		return nil

	case PmapProcGetport:
		m := readPmapMapping(&r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		var port uint32
		netid := protNetid(m.prot)
		if netid != "" {
			e, ok := find(*s.maps.Load(), m.prog, m.vers, netid, true)
			if ok {
				port = uint32(e.Port)
			}
			s.stats.lookup(VersPortmap, m.prog, m.vers, netid, ok)
		}
		w.Uint32(port)
		return nil

	case PmapProcDump:
		// pmaplist: a linked list, each element preceded by TRUE, the
		// end marked by FALSE.
		for _, e := range *s.maps.Load() {
			prot := netidProt(e.Netid)
			if prot == 0 {
				continue
			}
			w.Bool(true)
			w.Uint32(e.Prog)
			w.Uint32(e.Vers)
			w.Uint32(prot)
			w.Uint32(uint32(e.Port))
		}
		w.Bool(false)
		return nil

	case PmapProcCallit:
		// Not supported: see the package documentation.
		return oncrpc.ErrProcUnavail
	}
	return oncrpc.ErrProcUnavail
}
