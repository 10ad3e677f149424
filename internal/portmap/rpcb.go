package portmap

import (
	"net/netip"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// rpcb is struct rpcb of RFC 1833 section 2.1, the argument of SET, UNSET,
// GETADDR, GETVERSADDR and GETADDRLIST. Its strings alias the call.
type rpcb struct {
	prog, vers uint32
	netid      []byte
	addr       []byte
	owner      []byte
}

func readRPCB(r *xdr.Reader) rpcb {
	return rpcb{
		prog:  r.Uint32(),
		vers:  r.Uint32(),
		netid: r.Opaque(MaxNetidLen),
		addr:  r.Opaque(MaxUaddrLen),
		owner: r.Opaque(MaxOwnerLen),
	}
}

// Transport semantics of struct netconfig (nc_semantics).
const (
	ncTPICLTS    = 1 // connectionless: udp
	ncTPICOTSORD = 3 // connection-oriented with orderly release: tcp
)

// serveRPCB answers rpcbind, versions 3 and 4 (RFC 1833 section 2).
func (s *Server) serveRPCB(proto string, call *oncrpc.Call, w *xdr.Writer) error {
	s.stats.proc(call.Vers, call.Proc)
	v4 := call.Vers == VersRPCB4
	var r xdr.Reader
	r.Reset(call.Args)
	switch call.Proc {
	case RPCBProcNull:
		return nil

	case RPCBProcSet, RPCBProcUnset:
		a := readRPCB(&r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		s.log.Debug("portmap: refused registration change", "vers", call.Vers, "proc", call.Proc,
			"prog", a.prog, "progvers", a.vers, "netid", string(a.netid), "client", call.Remote)
		w.Bool(false)
		return nil

	case RPCBProcGetaddr, RPCBProcGetversaddr:
		if call.Proc == RPCBProcGetversaddr && !v4 {
			return oncrpc.ErrProcUnavail
		}
		a := readRPCB(&r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		// RFC 1833: "the netid field of the argument is ignored and the
		// netid is inferred from the netid of the transport on which the
		// request came in". GETADDR accepts another version of the
		// program (as rpcbind does), GETVERSADDR only the one asked for.
		netid := callNetid(proto, call)
		m, ok := find(*s.maps.Load(), a.prog, a.vers, netid, call.Proc == RPCBProcGetaddr)
		s.stats.lookup(call.Vers, a.prog, a.vers, netid, ok)
		if !ok {
			w.String("")
			return nil
		}
		writeUaddr(w, m, callAddr(call))
		return nil

	case RPCBProcDump:
		// rpcblist_ptr: each rpcb preceded by TRUE, the end by FALSE.
		local := callAddr(call)
		for i, ms := 0, *s.maps.Load(); i < len(ms); i++ {
			m := &ms[i]
			w.Bool(true)
			w.Uint32(m.Prog)
			w.Uint32(m.Vers)
			w.String(m.Netid)
			writeUaddr(w, m, local)
			w.String(owner)
		}
		w.Bool(false)
		return nil

	case RPCBProcCallit, RPCBProcIndirect:
		// CALLIT (v3), BCAST and INDIRECT (v4): not supported, see the
		// package documentation.
		return oncrpc.ErrProcUnavail

	case RPCBProcGettime:
		w.Uint32(uint32(s.now().Unix()))
		return nil

	case RPCBProcUaddr2taddr:
		ua := r.Opaque(MaxUaddrLen)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		// struct netbuf { unsigned maxlen; opaque buf<>; }. A malformed
		// address gives an empty netbuf, as rpcbind replies.
		ap, err := ParseUniversalAddr(string(ua))
		if err != nil {
			w.Uint32(0)
			w.Uint32(0)
			return nil
		}
		var buf [sockaddrIn6]byte
		b := appendTaddr(buf[:0], ap)
		w.Uint32(uint32(len(b)))
		w.Opaque(b)
		return nil

	case RPCBProcTaddr2uaddr:
		r.Uint32() // maxlen: the size of the caller's buffer, irrelevant here
		b := r.Opaque(MaxTaddrLen)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		ap, ok := parseTaddr(b)
		if !ok {
			w.String("")
			return nil
		}
		off := w.Reserve(4)
		w.B = AppendUniversalAddr(w.B, ap)
		finishString(w, off)
		return nil

	case RPCBProcGetaddrlist:
		if !v4 {
			return oncrpc.ErrProcUnavail
		}
		a := readRPCB(&r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		// rpcb_entry_list_ptr: the entries of prog, vers (that version
		// only) on the transports of the family the call arrived on.
		local := callAddr(call)
		for i, ms := 0, *s.maps.Load(); i < len(ms); i++ {
			m := &ms[i]
			if m.Prog != a.prog || m.Vers != a.vers || m.is6() != local.Is6() {
				continue
			}
			w.Bool(true)
			writeUaddr(w, m, local)
			w.String(m.Netid)
			if m.proto() == TCP {
				w.Uint32(ncTPICOTSORD)
			} else {
				w.Uint32(ncTPICLTS)
			}
			if m.is6() {
				w.String("inet6")
			} else {
				w.String("inet")
			}
			w.String(m.proto())
		}
		w.Bool(false)
		return nil

	case RPCBProcGetstat:
		if !v4 {
			return oncrpc.ErrProcUnavail
		}
		s.stats.encode(w)
		return nil
	}
	return oncrpc.ErrProcUnavail
}

// writeUaddr writes the universal address of m as an XDR string without
// building a Go string.
func writeUaddr(w *xdr.Writer, m *Mapping, local netip.Addr) {
	off := w.Reserve(4)
	w.B = appendUaddr(w.B, m, local)
	finishString(w, off)
}

// finishString fills in the length reserved at off for the bytes appended
// after it and pads them.
func finishString(w *xdr.Writer, off int) {
	n := len(w.B) - off - 4
	w.PutUint32At(off, uint32(n))
	for i := xdr.Pad(n); i > 0; i-- {
		w.B = append(w.B, 0)
	}
}
