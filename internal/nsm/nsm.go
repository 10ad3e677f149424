// Package nsm is the Network Status Monitor of one virtual server: program
// 100024 version 1 (X/Open XNFS, "Protocols for Interworking: XNFS,
// Version 3W", chapter 11; sm_inter.x), the part of rpc.statd and
// sm-notify that an NFS server needs.
//
// A lock manager must learn when a client reboots (its locks are then
// gone and must be released) and must tell its clients when it restarts
// itself (so that they reclaim their locks during the grace period). For
// that the server keeps a persistent monitor list of the clients that
// hold locks, and a persistent state number, odd while up, increased at
// every restart:
//
//   - Monitor records a client when it first locks (NLM calls it directly:
//     the status monitor is in-process, there is no SM_MON round trip). A
//     new or changed entry is persisted before Monitor returns, so a lock
//     is never granted to a client the server could forget to notify.
//     Unmonitor marks the entry idle when the client holds nothing any
//     more; idle entries stay on the list (and are notified at restart)
//     until room is needed, so that a client locking and unlocking in a
//     loop does not cost a store write per lock.
//   - Restarted (called when the virtual server starts) increases the state
//     to the next odd number, persists it, and sends SM_NOTIFY to every
//     host on the list, concurrently, each with bounded attempts and
//     timeouts; an unreachable host delays nobody. The mon_name sent is
//     the server address the client used (Host.Local), which is the name
//     the Linux client monitors the server under; Config.Name when unknown.
//   - An incoming SM_NOTIFY (a client rebooted) is matched against the list
//     as rpc.statd does: an entry matches if the caller's address is the
//     entry's address or mon_name is its name, and the notified state
//     differs from the one recorded (a retransmitted notification is
//     ignored). For each match the callback set with SetNotify runs (NLM
//     releases the client's locks).
//
// The RPC procedures (Program): SM_STAT (1) answers STAT_SUCC for a
// mon_name that is an IP address and STAT_FAIL otherwise (no name
// resolution here; statd answers STAT_SUCC when the name resolves), with
// the current state. SM_MON (2), SM_UNMON (3) and SM_UNMON_ALL (4) are
// accepted from loopback callers only, as rpc.statd does: a remote SM_MON
// gets STAT_FAIL, a remote SM_UNMON or SM_UNMON_ALL only the state. SM_MON
// needs an IP address as mon_name; when that host's SM_NOTIFY arrives, the
// registered my_id procedure is called on the loopback address with the
// sm_status (mon_name, state, priv). SM_SIMU_CRASH (5) from a loopback
// caller on a privileged port acts as a restart (new state, SM_NOTIFY to
// every monitored host); from anyone else it is ignored. SM_NOTIFY (6) is
// described above. Procedure numbers are those of sm_inter.x (SM_STAT is 1;
// 0 is the NULL procedure).
//
// Integration: a virtual server creates one NSM with its StateStore
// (New), registers Program() with its RPC mux and portmapper (over TCP and
// UDP: the Linux sm-notify sends over UDP), passes the NSM to nlm.New
// (which calls SetNotify), calls Restarted once it serves, and Close when
// it stops. The state and list are in the store (Marshal/Unmarshal give a
// versioned encoding for it).
package nsm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Program number, version and procedures (sm_inter.x).
const (
	Prog = oncrpc.ProgNSM
	Vers = 1

	ProcNull      = 0
	ProcStat      = 1
	ProcMon       = 2
	ProcUnmon     = 3
	ProcUnmonAll  = 4
	ProcSimuCrash = 5
	ProcNotify    = 6
)

// MaxStrLen is SM_MAXSTRLEN, the longest mon_name and my_name.
const MaxStrLen = 1024

// PrivSize is SM_PRIV_SIZE, the length of the opaque priv of SM_MON.
const PrivSize = 16

// res_stat of sm_stat_res.
const (
	StatSucc = 0
	StatFail = 1
)

// Host is an entry of the monitor list.
type Host struct {
	// Name is the host's name: the caller_name of its NLM requests, or
	// the mon_name of SM_MON.
	Name string
	// Addr is the host's address; SM_NOTIFY goes to its portmapper.
	Addr netip.Addr
	// Local is the server address the host used, the mon_name it knows
	// this server by and the source of notifications; invalid if unknown.
	Local netip.Addr
	// State is the host's last known NSM state number.
	State int32

	// For an SM_MON over RPC (zero for the lock manager's own entries):
	// the procedure to call, on the loopback address, when the host
	// reboots, and the opaque cookie to pass it.
	MyName                 string
	MyProg, MyVers, MyProc uint32
	Priv                   [PrivSize]byte
}

// rpcMonitored reports whether h was made by SM_MON over RPC.
func (h *Host) rpcMonitored() bool { return h.MyName != "" }

type entryKey struct {
	addr                   netip.Addr
	myName                 string
	myProg, myVers, myProc uint32
}

func keyOf(h *Host) entryKey {
	return entryKey{h.Addr, h.MyName, h.MyProg, h.MyVers, h.MyProc}
}

type entry struct {
	Host
	idle      bool
	idleSince time.Time
}

// StateStore persists the state number and the monitor list of one
// virtual server.
type StateStore interface {
	// Load returns what was last saved; a store that never saved returns
	// a zero state and no hosts.
	Load() (state int32, hosts []Host, err error)
	// Save replaces the saved state and list durably.
	Save(state int32, hosts []Host) error
}

// Defaults of Config.
const (
	DefaultMaxHosts       = 8192
	DefaultNotifyAttempts = 5
	DefaultNotifyTimeout  = 5 * time.Second
	DefaultNotifyBackoff  = time.Second
	notifyParallel        = 16
)

// Config configures an NSM.
type Config struct {
	// State persists the state number and the monitor list (required).
	State StateStore
	// Logger receives notification failures; nil discards.
	Logger *slog.Logger
	// Dial opens callback connections; nil means DialTCP.
	Dial Dialer
	// Name is the mon_name sent in SM_NOTIFY when the server address a
	// host used is unknown; empty means the host name of the machine.
	Name string
	// MaxHosts bounds the monitor list; 0 means DefaultMaxHosts.
	MaxHosts int
	// NotifyAttempts, NotifyTimeout and NotifyBackoff bound the delivery
	// of SM_NOTIFY to one host: that many attempts, each limited to the
	// timeout, the pause between them doubling from the backoff.
	NotifyAttempts int
	NotifyTimeout  time.Duration
	NotifyBackoff  time.Duration
}

// Errors of Monitor.
var (
	ErrTooManyHosts = errors.New("nsm: monitor list full")
	ErrBadHost      = errors.New("nsm: host without address or with a name too long")
	ErrClosed       = errors.New("nsm: closed")
)

// NSM is the status monitor of one virtual server. It is safe for
// concurrent use.
type NSM struct {
	cfg Config
	log *slog.Logger

	// saveMu serializes changes that must be persisted, and orders their
	// Saves; mu guards the in-memory state and is never held across a
	// Save.
	saveMu  sync.Mutex
	mu      sync.Mutex
	state   int32
	entries map[entryKey]*entry
	notify  func(name string, addr netip.Addr, state int32)
	closed  bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New loads the state and monitor list from cfg.State. Every entry loaded
// is idle (no lock survives a restart) until monitored again.
func New(cfg Config) (*NSM, error) {
	if cfg.State == nil {
		return nil, errors.New("nsm: Config.State is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dial == nil {
		cfg.Dial = DialTCP
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	if cfg.NotifyAttempts <= 0 {
		cfg.NotifyAttempts = DefaultNotifyAttempts
	}
	if cfg.NotifyTimeout <= 0 {
		cfg.NotifyTimeout = DefaultNotifyTimeout
	}
	if cfg.NotifyBackoff <= 0 {
		cfg.NotifyBackoff = DefaultNotifyBackoff
	}
	state, hosts, err := cfg.State.Load()
	if err != nil {
		return nil, fmt.Errorf("nsm: loading state: %w", err)
	}
	n := &NSM{cfg: cfg, log: cfg.Logger, state: state, entries: map[entryKey]*entry{}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	now := time.Now()
	for _, h := range hosts {
		if !h.Addr.IsValid() {
			continue
		}
		n.entries[keyOf(&h)] = &entry{Host: h, idle: !h.rpcMonitored(), idleSince: now}
	}
	return n, nil
}

// SetNotify sets the function called when a monitored host reboots (an
// SM_NOTIFY from it matched its entry): name and addr are the entry's,
// state the host's new state. It runs on the goroutine serving the
// SM_NOTIFY call, with no NSM lock held. The NLM server sets it.
func (n *NSM) SetNotify(fn func(name string, addr netip.Addr, state int32)) {
	n.mu.Lock()
	n.notify = fn
	n.mu.Unlock()
}

// State returns the current state number.
func (n *NSM) State() int32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// Hosts returns the monitor list.
func (n *NSM) Hosts() []Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.snapshotLocked()
}

func (n *NSM) snapshotLocked() []Host {
	out := make([]Host, 0, len(n.entries))
	for _, e := range n.entries {
		out = append(out, e.Host)
	}
	slices.SortFunc(out, func(a, b Host) int {
		return cmp.Or(a.Addr.Compare(b.Addr), cmp.Compare(a.MyName, b.MyName), cmp.Compare(a.MyProg, b.MyProg),
			cmp.Compare(a.MyVers, b.MyVers), cmp.Compare(a.MyProc, b.MyProc))
	})
	return out
}

// Monitor puts a host that holds (or asks for) locks on the monitor list
// (h.Addr identifies it; h.Name, h.Local and h.State describe it). A new
// entry, or a change of name or server address, is persisted before
// Monitor returns. The state of an existing entry is not changed: only a
// reboot notification does that (so that a retransmitted SM_NOTIFY of a
// reboot, arriving after the client locked again, is recognized).
func (n *NSM) Monitor(h Host) error {
	h.MyName, h.MyProg, h.MyVers, h.MyProc, h.Priv = "", 0, 0, 0, [PrivSize]byte{}
	return n.monitor(h)
}

func (n *NSM) monitor(h Host) error {
	if !h.Addr.IsValid() || len(h.Name) > MaxStrLen {
		return ErrBadHost
	}
	h.Addr = h.Addr.Unmap()
	h.Local = h.Local.Unmap()
	k := keyOf(&h)
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	if e := n.entries[k]; e != nil && e.Name == h.Name && e.Local == h.Local && e.Priv == h.Priv {
		e.idle = false
		n.mu.Unlock()
		return nil
	}
	n.mu.Unlock()

	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	n.mu.Lock()
	if e := n.entries[k]; e != nil {
		e.idle = false
		e.Name, e.Local, e.Priv = h.Name, h.Local, h.Priv
	} else {
		if len(n.entries) >= n.cfg.MaxHosts && !n.evictLocked() {
			n.mu.Unlock()
			return ErrTooManyHosts
		}
		n.entries[k] = &entry{Host: h}
	}
	state, hosts := n.state, n.snapshotLocked()
	n.mu.Unlock()
	if err := n.cfg.State.Save(state, hosts); err != nil {
		return fmt.Errorf("nsm: saving monitor list: %w", err)
	}
	return nil
}

// evictLocked drops the longest idle entry; false if none is idle.
func (n *NSM) evictLocked() bool {
	var victim entryKey
	var oldest *entry
	for k, e := range n.entries {
		if e.idle && (oldest == nil || e.idleSince.Before(oldest.idleSince)) {
			victim, oldest = k, e
		}
	}
	if oldest == nil {
		return false
	}
	delete(n.entries, victim)
	return true
}

// Unmonitor marks the lock manager's entry of addr idle: the host holds
// nothing any more. The entry stays on the list (see the package comment).
func (n *NSM) Unmonitor(addr netip.Addr) {
	k := entryKey{addr: addr.Unmap()}
	n.mu.Lock()
	if e := n.entries[k]; e != nil && !e.idle {
		e.idle, e.idleSince = true, time.Now()
	}
	n.mu.Unlock()
}

// Restarted starts a new incarnation: it raises the state to the next odd
// number and, if any host is monitored, persists it (an error leaves the
// state unchanged), then
// sends SM_NOTIFY to every host on the list in the background. The
// returned channel is closed when every notification has been delivered
// or given up (or Close was called).
func (n *NSM) Restarted(ctx context.Context) (<-chan struct{}, error) {
	n.saveMu.Lock()
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		n.saveMu.Unlock()
		return nil, ErrClosed
	}
	old := n.state
	if n.state%2 == 0 {
		n.state++
	} else {
		n.state += 2
	}
	if n.state <= 0 { // wrapped around
		n.state = 1
	}
	state, hosts := n.state, n.snapshotLocked()
	n.mu.Unlock()
	// With nobody to notify, the new state need not be written now (no
	// one has seen it; the next Monitor saves it): this keeps the start
	// of many idle vservers free of synchronous disk writes.
	var err error
	if len(hosts) > 0 {
		err = n.cfg.State.Save(state, hosts)
	}
	if err != nil {
		n.mu.Lock()
		n.state = old
		n.mu.Unlock()
		n.saveMu.Unlock()
		return nil, fmt.Errorf("nsm: saving state: %w", err)
	}
	n.saveMu.Unlock()
	return n.notifyAll(ctx, state, hosts), nil
}

// target is one SM_NOTIFY to send.
type target struct {
	addr, local netip.Addr
}

func (n *NSM) notifyAll(ctx context.Context, state int32, hosts []Host) <-chan struct{} {
	done := make(chan struct{})
	seen := map[target]bool{}
	var targets []target
	for _, h := range hosts {
		t := target{h.Addr, h.Local}
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	ok := n.background(func() {
		defer close(done)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(n.ctx, cancel)
		defer stop()
		sem := make(chan struct{}, notifyParallel)
		var wg sync.WaitGroup
		for _, t := range targets {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				n.sendNotify(ctx, t, state)
			}()
		}
		wg.Wait()
	})
	if !ok {
		close(done)
	}
	return done
}

// background runs fn on a goroutine that Close waits for; false if the
// NSM is closed.
func (n *NSM) background(fn func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn()
	}()
	return true
}

// monName is the name this server gives itself in SM_NOTIFY to a host that
// reached it at local.
func (n *NSM) monName(local netip.Addr) string {
	if local.IsValid() && !local.IsUnspecified() {
		return local.String()
	}
	return n.cfg.Name
}

// sendNotify delivers SM_NOTIFY to one host, retrying with backoff.
func (n *NSM) sendNotify(ctx context.Context, t target, state int32) {
	var w xdr.Writer
	w.String(n.monName(t.local))
	w.Int32(state)
	backoff := n.cfg.NotifyBackoff
	var err error
	for attempt := 1; attempt <= n.cfg.NotifyAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff *= 2
		}
		actx, cancel := context.WithTimeout(ctx, n.cfg.NotifyTimeout)
		_, err = CallHost(actx, n.cfg.Dial, t.local, t.addr, Prog, Vers, ProcNotify, n.cred(), w.B)
		cancel()
		if err == nil {
			n.log.Debug("nsm: SM_NOTIFY delivered", "host", t.addr.String(), "state", state)
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	n.log.Warn("nsm: SM_NOTIFY not delivered", "host", t.addr.String(), "attempts", n.cfg.NotifyAttempts, "err", err)
}

func (n *NSM) cred() oncrpc.Cred {
	name := n.cfg.Name
	if len(name) > oncrpc.MaxMachineName {
		name = name[:oncrpc.MaxMachineName]
	}
	return oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: name})
}

// rebooted handles an SM_NOTIFY: host monName at caller reports state.
func (n *NSM) rebooted(monName string, caller netip.Addr, state int32) {
	caller = caller.Unmap()
	nameAddr, _ := netip.ParseAddr(monName)
	nameAddr = nameAddr.Unmap()
	var matched []Host
	n.saveMu.Lock()
	n.mu.Lock()
	for _, e := range n.entries {
		if e.State == state {
			continue
		}
		if e.Addr == caller || (nameAddr.IsValid() && e.Addr == nameAddr) || strings.EqualFold(e.Name, monName) {
			e.State = state
			matched = append(matched, e.Host)
		}
	}
	fn := n.notify
	cur, hosts := n.state, n.snapshotLocked()
	n.mu.Unlock()
	if len(matched) > 0 {
		if err := n.cfg.State.Save(cur, hosts); err != nil {
			n.log.Warn("nsm: saving monitor list", "err", err)
		}
	}
	n.saveMu.Unlock()
	done := map[netip.Addr]bool{}
	for _, h := range matched {
		if h.rpcMonitored() {
			n.callbackStatus(h, monName, state)
			continue
		}
		if fn != nil && !done[h.Addr] {
			done[h.Addr] = true
			fn(h.Name, h.Addr, state)
		}
	}
}

// callbackStatus tells the local program that asked with SM_MON that the
// host rebooted (the sm_status of sm_inter.x), in the background.
func (n *NSM) callbackStatus(h Host, monName string, state int32) {
	var w xdr.Writer
	w.String(h.Name)
	w.Int32(state)
	w.Fixed(h.Priv[:])
	n.background(func() {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.NotifyTimeout)
		defer cancel()
		lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if _, err := CallHost(ctx, n.cfg.Dial, lo, lo, h.MyProg, h.MyVers, h.MyProc, n.cred(), w.B); err != nil {
			n.log.Warn("nsm: status callback failed", "mon_name", monName, "my_name", h.MyName, "err", err)
		}
	})
}

// Close stops the background notifications and waits for them. Monitor
// and Restarted fail afterwards.
func (n *NSM) Close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
}
