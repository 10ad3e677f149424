package portmap

import (
	"sync"
	"sync/atomic"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Sizes of rpcb_stat_byvers (RFC 1833 section 2.1, rpcb_prot.x).
const (
	// statHighProc is RPCBSTAT_HIGHPROC: the procedures of version 4 plus one.
	statHighProc = 13
	// statVers is RPCBVERS_STAT: statistics are kept for versions 2, 3, 4.
	statVers = 3
	// maxAddrStats bounds the (program, version, netid) lookup records kept
	// per version, since callers choose the program and version numbers.
	// Lookups of further keys are not recorded.
	maxAddrStats = 64
)

// stats are the counters GETSTAT reports: calls per procedure and the
// outcome of address lookups (GETPORT, GETADDR, GETVERSADDR). SET and
// UNSET never succeed here, and there are no remote calls, so setinfo,
// unsetinfo and rmtinfo stay empty.
type stats struct {
	procs [statVers][statHighProc]atomic.Uint32

	mu    sync.Mutex
	addrs [statVers][]addrStat
}

type addrStat struct {
	prog, vers       uint32
	netid            string // one of the four netids (never caller data)
	success, failure uint32
}

func (st *stats) proc(vers, proc uint32) {
	if vers < VersPortmap || vers > VersRPCB4 || proc >= statHighProc {
		return
	}
	st.procs[vers-VersPortmap][proc].Add(1)
}

func (st *stats) lookup(vers, prog, pvers uint32, netid string, ok bool) {
	if vers < VersPortmap || vers > VersRPCB4 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	list := st.addrs[vers-VersPortmap]
	i := 0
	for ; i < len(list); i++ {
		if list[i].prog == prog && list[i].vers == pvers && list[i].netid == netid {
			break
		}
	}
	if i == len(list) {
		if len(list) >= maxAddrStats {
			return
		}
		list = append(list, addrStat{prog: prog, vers: pvers, netid: netid})
		st.addrs[vers-VersPortmap] = list
	}
	if ok {
		list[i].success++
	} else {
		list[i].failure++
	}
}

// encode writes rpcb_stat_byvers.
func (st *stats) encode(w *xdr.Writer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for v := 0; v < statVers; v++ {
		for p := 0; p < statHighProc; p++ {
			w.Uint32(st.procs[v][p].Load())
		}
		w.Uint32(0) // setinfo
		w.Uint32(0) // unsetinfo
		for _, a := range st.addrs[v] {
			// rpcbs_addrlist_ptr: TRUE before each element, FALSE at the end.
			w.Bool(true)
			w.Uint32(a.prog)
			w.Uint32(a.vers)
			w.Uint32(a.success)
			w.Uint32(a.failure)
			w.String(a.netid)
		}
		w.Bool(false)
		w.Bool(false) // rmtinfo: empty
	}
}
