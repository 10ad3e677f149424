// Package nlm implements the Network Lock Manager, program 100021 version
// 4 (X/Open XNFS, "Protocols for Interworking: XNFS, Version 3W", chapters
// 10 and 14: NLM with 64-bit offsets, the version NFSv3 clients use), for
// one virtual server, on the byte-range lock manager of package lock and
// the status monitor of package nsm.
//
// Files are named by NFSv3 file handles (package fh) exactly as in package
// nfs3: a handle that fails verification, or names an export that no
// longer exists, or an object the backend no longer has, is
// NLM4_STALE_FH; a client the export does not admit (its client networks),
// or a handle of something other than a regular file, gets NLM4_FAILED (as
// the Linux lockd answers when nfsd refuses to open the file). A read-only
// export does not forbid locks (as on Linux). UNLOCK, CANCEL and UNSHARE
// only verify the handle and the export, so that a lock on a file removed
// meanwhile can still be released.
//
// Clients are identified by their IP address (as the Linux lockd does,
// which ignores caller_name for this): the lock owner is the client
// address, the oh netobj and the svid. Offsets beyond 2^63-1 are
// NLM4_FBIG (as Linux, whose file offsets are signed).
//
// Procedures, following the Linux lockd where XNFS leaves a choice:
//
//   - TEST reports a conflicting lock (its oh only if an NLM client holds
//     it); LOCK takes a lock; with block set, a conflict is NLM4_BLOCKED
//     and the request waits (package lock, FIFO per file); when it is
//     granted the server calls the client back with GRANTED (or
//     GRANTED_MSG if the client used LOCK_MSG) at the client's NLM,
//     located through the client's portmapper. A client that does not
//     answer within Config.CallbackTimeout is called again, up to
//     Config.CallbackAttempts times; then the lock is released (the client
//     will poll with LOCK again, as Linux clients do every 30 seconds). A
//     client that answers the first GRANTED with anything but
//     NLM4_GRANTED (it no longer waits) has the lock released at once;
//     after an unanswered attempt, such an answer may mean that an earlier
//     GRANTED was taken, and the lock is kept (as Linux always does). A
//     retransmitted LOCK of a waiting request answers NLM4_BLOCKED, of a
//     request being granted NLM4_GRANTED (and ends the callbacks). Waiting
//     requests that would deadlock get NLM4_DEADLCK.
//   - CANCEL withdraws a waiting request; one granted but not yet
//     confirmed by the client is released ("a cancel request always
//     overrides any grant in progress"). It answers NLM4_GRANTED whether
//     or not a request was found. UNLOCK cancels the owner's waiting
//     requests for the same range, then releases; it answers NLM4_GRANTED
//     even if nothing was held (NLM4_DENIED_NOLOCKS only if splitting a
//     lock would exceed the lock limit).
//   - The grace period of the lock manager: LOCK and SHARE without reclaim
//     get NLM4_DENIED_GRACE_PERIOD, and so does LOCK with reclaim outside
//     it; TEST, CANCEL, UNLOCK and UNSHARE are refused with
//     NLM4_DENIED_GRACE_PERIOD during it (as Linux; clients retry).
//   - LOCK (not NM_LOCK) puts the client on the NSM monitor list first
//     (persisted); if that fails the answer is NLM4_DENIED_NOLOCKS. When
//     the client's last lock, share and waiting request are gone its
//     entry is marked idle. FREE_ALL, an SM_NOTIFY from the client (through
//     nsm.SetNotify) and UnlockAddr release all its locks, shares and
//     waiting requests.
//   - The _MSG procedures answer with an empty reply and send the result
//     as the matching _RES call to the client's NLM (one attempt, bounded
//     in time; at most Config.MaxCallbacks in flight, beyond which results
//     are dropped and the client retransmits). GRANTED_RES answers our
//     GRANTED_MSG. TEST_RES, LOCK_RES, CANCEL_RES and UNLOCK_RES, and
//     GRANTED_MSG, are accepted and ignored (this server sends no such
//     requests and is nobody's client); GRANTED is answered NLM4_DENIED.
//   - SHARE and UNSHARE manage DOS share reservations (package lock).
//   - Malformed arguments (a netobj or caller_name over 1024 bytes, a
//     boolean not 0 or 1, a share mode outside its enum, a short record)
//     are GARBAGE_ARGS; procedures 16 to 19 and above 23 are PROC_UNAVAIL.
//
// Versions 1 and 3 (32-bit offsets) serve NFSv2 clients only, which this
// server does not have; they get PROG_MISMATCH.
//
// Integration: a virtual server creates one lock.Manager, one nsm.NSM and
// one Server (New), registers Program() (over TCP and UDP) with its RPC
// mux and portmapper, starts the grace period at every start
// (Locks.StartGrace(DefaultGrace)) and calls NSM.Restarted. Admin: UnlockAddr
// (unlock_ip) and UnlockExport (unlock_fs); listings come from the
// lock.Manager. Close stops the callbacks.
package nlm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
)

// Program number and version.
const (
	Prog = oncrpc.ProgNLM
	Vers = 4
)

// Procedures of NLM version 4.
const (
	ProcNull       = 0
	ProcTest       = 1
	ProcLock       = 2
	ProcCancel     = 3
	ProcUnlock     = 4
	ProcGranted    = 5
	ProcTestMsg    = 6
	ProcLockMsg    = 7
	ProcCancelMsg  = 8
	ProcUnlockMsg  = 9
	ProcGrantedMsg = 10
	ProcTestRes    = 11
	ProcLockRes    = 12
	ProcCancelRes  = 13
	ProcUnlockRes  = 14
	ProcGrantedRes = 15
	ProcShare      = 20
	ProcUnshare    = 21
	ProcNMLock     = 22
	ProcFreeAll    = 23
)

// Stat is nlm4_stats.
type Stat uint32

// Values of nlm4_stats.
const (
	Granted           Stat = 0
	Denied            Stat = 1
	DeniedNoLocks     Stat = 2
	Blocked           Stat = 3
	DeniedGracePeriod Stat = 4
	Deadlck           Stat = 5
	ROFS              Stat = 6
	StaleFH           Stat = 7
	FBig              Stat = 8
	Failed            Stat = 9
)

var statNames = [...]string{"NLM4_GRANTED", "NLM4_DENIED", "NLM4_DENIED_NOLOCKS", "NLM4_BLOCKED",
	"NLM4_DENIED_GRACE_PERIOD", "NLM4_DEADLCK", "NLM4_ROFS", "NLM4_STALE_FH", "NLM4_FBIG", "NLM4_FAILED"}

func (s Stat) String() string {
	if int(s) < len(statNames) {
		return statNames[s]
	}
	return fmt.Sprintf("nlm4_stats(%d)", uint32(s))
}

// Defaults of Config.
const (
	// DefaultGrace is the grace period a virtual server should hold at
	// start (the Linux lockd's default).
	DefaultGrace            = 90 * time.Second
	DefaultCallbackTimeout  = 5 * time.Second
	DefaultCallbackAttempts = 3
	DefaultMaxCallbacks     = 256
)

// Config configures a Server.
type Config struct {
	// Locks is the lock manager of the virtual server (required).
	Locks *lock.Manager
	// Exports returns the current export table (required).
	Exports func() *export.Table
	// Handles checks the file handles (required).
	Handles *fh.Codec
	// NSM is the status monitor; nil disables monitoring.
	NSM *nsm.NSM
	// Logger; nil discards.
	Logger *slog.Logger
	// CallbackTimeout bounds one callback to a client (GRANTED, _RES);
	// 0 means DefaultCallbackTimeout.
	CallbackTimeout time.Duration
	// CallbackAttempts is how often GRANTED is sent before a lock nobody
	// confirms is released; 0 means DefaultCallbackAttempts.
	CallbackAttempts int
	// MaxCallbacks bounds the _RES messages in flight; 0 means
	// DefaultMaxCallbacks.
	MaxCallbacks int
	// Dial opens callback connections (from the virtual server's address
	// and network namespace); nil means nsm.DialTCP.
	Dial nsm.Dialer
	// Name is the caller_name of GRANTED callbacks and the machine name
	// of their credential; empty means the host name.
	Name string
	// Delegations, if not nil, reports whether a file has NFSv4
	// delegations of the same vserver out, and starts their recall: an
	// exclusive LOCK of such a file is dropped unanswered until they are
	// back (the client retransmits), as Linux lockd does, since a
	// delegation's holder may hold locks the server does not see.
	Delegations func(file lock.FileID) bool
}

// Server is the NLM program of one virtual server. It is safe for
// concurrent use.
type Server struct {
	delegs   func(file lock.FileID) bool
	locks    *lock.Manager
	exports  func() *export.Table
	handles  *fh.Codec
	nsm      *nsm.NSM
	log      *slog.Logger
	timeout  time.Duration
	attempts int
	dial     nsm.Dialer
	name     string
	cbSem    chan struct{}

	mu       sync.Mutex
	blocks   map[blockKey]*block
	byCookie map[uint64]*block
	closed   bool
	cookie   atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Server. If cfg.NSM is set, the server registers itself
// for its reboot notifications (nsm.SetNotify).
func New(cfg Config) *Server {
	if cfg.Locks == nil || cfg.Exports == nil || cfg.Handles == nil {
		panic("nlm: Config needs Locks, Exports and Handles")
	}
	s := &Server{delegs: cfg.Delegations, locks: cfg.Locks, exports: cfg.Exports, handles: cfg.Handles, nsm: cfg.NSM,
		log: cfg.Logger, timeout: cfg.CallbackTimeout, attempts: cfg.CallbackAttempts,
		dial: cfg.Dial, name: cfg.Name, blocks: map[blockKey]*block{}, byCookie: map[uint64]*block{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.timeout <= 0 {
		s.timeout = DefaultCallbackTimeout
	}
	if s.attempts <= 0 {
		s.attempts = DefaultCallbackAttempts
	}
	if cfg.MaxCallbacks <= 0 {
		cfg.MaxCallbacks = DefaultMaxCallbacks
	}
	s.cbSem = make(chan struct{}, cfg.MaxCallbacks)
	if s.dial == nil {
		s.dial = nsm.DialTCP
	}
	if s.name == "" {
		s.name, _ = os.Hostname()
	}
	if len(s.name) > oncrpc.MaxMachineName {
		s.name = s.name[:oncrpc.MaxMachineName]
	}
	var b [8]byte
	rand.Read(b[:])
	s.cookie.Store(binary.BigEndian.Uint64(b[:]))
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.nsm != nil {
		s.nsm.SetNotify(func(name string, addr netip.Addr, state int32) {
			n := s.dropClient(addr)
			s.log.Info("nlm: client rebooted, its locks released", "client", addr.String(), "name", name, "state", state, "released", n)
		})
	}
	return s
}

// Program returns the NLM program for an oncrpc mux. No procedure is
// answered from the duplicate request cache (the Linux lockd caches
// none: a retransmitted LOCK finds the lock held by its owner, a
// retransmitted UNLOCK finds nothing to release).
func (s *Server) Program() oncrpc.Program {
	return oncrpc.Program{Name: "nlockmgr", Prog: Prog, Low: Vers, High: Vers, Handler: s}
}

// ClientKey is the lock.Owner.Client of the locks of the NLM client at
// addr.
func ClientKey(addr netip.Addr) string { return "nlm:" + addr.Unmap().String() }

// UnlockAddr releases every lock, share reservation and waiting request of
// the NLM client at addr (the kernel's unlock_ip), and returns the number
// of locks and shares released.
func (s *Server) UnlockAddr(addr netip.Addr) int { return s.dropClient(addr) }

// UnlockExport releases every lock, share reservation and waiting request
// on export id, of NLM and NFSv4 clients alike (the kernel's unlock_fs),
// and returns the number of locks and shares released.
func (s *Server) UnlockExport(id uint32) int {
	s.mu.Lock()
	for _, b := range s.blocks {
		if b.key.file.Export == id {
			s.dropBlockLocked(b)
		}
	}
	s.mu.Unlock()
	return s.locks.UnlockExport(id)
}

// dropClient releases everything of the client at addr.
func (s *Server) dropClient(addr netip.Addr) int {
	addr = addr.Unmap()
	s.mu.Lock()
	for _, b := range s.blocks {
		if b.client == addr {
			s.dropBlockLocked(b)
		}
	}
	s.mu.Unlock()
	n := s.locks.UnlockClient(ClientKey(addr))
	if s.nsm != nil {
		s.nsm.Unmonitor(addr)
	}
	return n
}

// Close stops the callbacks in progress and waits for them. Locks stay
// with the lock manager.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// background runs fn on a goroutine Close waits for; false once closed.
func (s *Server) background(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}
