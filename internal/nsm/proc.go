package nsm

import (
	"context"
	"net/netip"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Program returns the NSM program for an oncrpc mux. No procedure is
// answered from the duplicate request cache (rpc.statd has none; SM_MON
// and SM_UNMON are idempotent, a repeated SM_NOTIFY is recognized by its
// state).
func (n *NSM) Program() oncrpc.Program {
	return oncrpc.Program{Name: "status", Prog: Prog, Low: Vers, High: Vers, Handler: n}
}

// MonID is my_id of sm_inter.x: the local procedure to call back.
type MonID struct {
	MyName                 string
	MyProg, MyVers, MyProc uint32
}

func (m *MonID) decode(r *xdr.Reader) {
	m.MyName = r.String(MaxStrLen)
	m.MyProg = r.Uint32()
	m.MyVers = r.Uint32()
	m.MyProc = r.Uint32()
}

// Encode appends the XDR of m.
func (m *MonID) Encode(w *xdr.Writer) {
	w.String(m.MyName)
	w.Uint32(m.MyProg)
	w.Uint32(m.MyVers)
	w.Uint32(m.MyProc)
}

// Mon is the argument of SM_MON (struct mon: mon_id and priv).
type Mon struct {
	MonName string
	ID      MonID
	Priv    [PrivSize]byte
}

// Decode reads a Mon; errors are left in r.
func (m *Mon) Decode(r *xdr.Reader) {
	m.MonName = r.String(MaxStrLen)
	m.ID.decode(r)
	copy(m.Priv[:], r.Fixed(PrivSize))
}

// Encode appends the XDR of m.
func (m *Mon) Encode(w *xdr.Writer) {
	w.String(m.MonName)
	m.ID.Encode(w)
	w.Fixed(m.Priv[:])
}

// StatChge is the argument of SM_NOTIFY.
type StatChge struct {
	MonName string
	State   int32
}

// Decode reads a StatChge; errors are left in r.
func (s *StatChge) Decode(r *xdr.Reader) {
	s.MonName = r.String(MaxStrLen)
	s.State = r.Int32()
}

// Encode appends the XDR of s.
func (s *StatChge) Encode(w *xdr.Writer) {
	w.String(s.MonName)
	w.Int32(s.State)
}

// local reports whether the call came from this machine's loopback, the
// only callers rpc.statd accepts SM_MON, SM_UNMON and SM_UNMON_ALL from.
func local(call *oncrpc.Call) bool { return call.Remote.Addr().Unmap().IsLoopback() }

// ServeRPC implements oncrpc.Handler.
func (n *NSM) ServeRPC(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	r := xdr.NewReader(call.Args)
	switch call.Proc {
	case ProcNull:
		return nil
	case ProcStat:
		name := r.String(MaxStrLen)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		st := uint32(StatFail)
		if _, err := netip.ParseAddr(name); err == nil {
			st = StatSucc
		}
		w.Uint32(st)
		w.Int32(n.State())
	case ProcMon:
		var m Mon
		m.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		st := uint32(StatFail)
		if addr, err := netip.ParseAddr(m.MonName); err == nil && local(call) && m.ID.MyName != "" {
			h := Host{Name: m.MonName, Addr: addr, MyName: m.ID.MyName, MyProg: m.ID.MyProg,
				MyVers: m.ID.MyVers, MyProc: m.ID.MyProc, Priv: m.Priv}
			if err := n.monitor(h); err == nil {
				st = StatSucc
			} else {
				n.log.Warn("nsm: SM_MON failed", "mon_name", m.MonName, "err", err)
			}
		} else if !local(call) {
			n.log.Warn("nsm: SM_MON from a remote host refused", "caller", call.Remote.String())
		}
		w.Uint32(st)
		w.Int32(n.State())
	case ProcUnmon:
		var name string
		var id MonID
		name = r.String(MaxStrLen)
		id.decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		if local(call) && id.MyName != "" {
			n.unmonitorRPC(func(h *Host) bool {
				return h.MyName == id.MyName && h.MyProg == id.MyProg && h.MyVers == id.MyVers &&
					h.MyProc == id.MyProc && h.Name == name
			})
		}
		w.Int32(n.State())
	case ProcUnmonAll:
		var id MonID
		id.decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		if local(call) && id.MyName != "" {
			n.unmonitorRPC(func(h *Host) bool {
				return h.MyName == id.MyName && h.MyProg == id.MyProg && h.MyVers == id.MyVers && h.MyProc == id.MyProc
			})
		}
		w.Int32(n.State())
	case ProcSimuCrash:
		if local(call) && call.Remote.Port() < 1024 {
			n.log.Warn("nsm: SM_SIMU_CRASH: simulating a restart", "caller", call.Remote.String())
			if _, err := n.Restarted(n.ctx); err != nil {
				n.log.Warn("nsm: SM_SIMU_CRASH", "err", err)
			}
		}
	case ProcNotify:
		var s StatChge
		s.Decode(r)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		n.rebooted(s.MonName, call.Remote.Addr(), s.State)
	default:
		return oncrpc.ErrProcUnavail
	}
	return nil
}

// unmonitorRPC removes the SM_MON entries that match and persists the
// list.
func (n *NSM) unmonitorRPC(match func(*Host) bool) {
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	n.mu.Lock()
	removed := false
	for k, e := range n.entries {
		if e.rpcMonitored() && match(&e.Host) {
			delete(n.entries, k)
			removed = true
		}
	}
	state, hosts := n.state, n.snapshotLocked()
	n.mu.Unlock()
	if removed {
		if err := n.cfg.State.Save(state, hosts); err != nil {
			n.log.Warn("nsm: saving monitor list", "err", err)
		}
	}
}
