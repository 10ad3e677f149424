// Package lock is the byte-range lock manager of one virtual server, shared
// by NLM (NFSv3 locking, package nlm) and NFSv4, so that v3 and v4 clients
// conflict with each other as local processes do.
//
// Files are identified by FileID (export id and backend object id), lock
// holders by Owner (a client key, an owner within the client and, for NLM,
// the svid). Locks follow POSIX fcntl semantics (IEEE Std 1003.1, F_SETLK):
//
//   - a read (shared) lock conflicts with write locks of other owners, a
//     write (exclusive) lock with any lock of another owner; locks of one
//     owner never conflict with each other;
//   - locking a range an owner already holds replaces the lock type over
//     that range (upgrade or downgrade), splitting the owner's existing
//     locks as needed; adjacent or overlapping locks of one owner and type
//     are coalesced into one; unlocking part of a lock splits it;
//   - a blocking request (LockWait) that conflicts waits in a FIFO queue of
//     its file; whenever a lock on the file is released or downgraded the
//     waiters are retried in order, and each one that no longer conflicts
//     is granted (the lock is taken on its behalf) and told so through its
//     notify function. A wait that would close a cycle of owners waiting
//     for each other fails with ErrDeadlock (as fcntl's EDEADLK).
//
// A grace period (StartGrace, EndGrace) follows a server restart: during it
// only reclaims (Request.Reclaim) are granted, so that clients can recover
// the locks they held before any other client takes a conflicting one;
// ordinary requests get ErrGrace, and reclaims outside a grace period get
// ErrNoGrace. Share reservations (the DOS share modes of NLM SHARE) live
// here too, since they are state of the same files and clients.
//
// The manager is bounded: Config.MaxLocks limits the locks plus share
// reservations held (an operation that would exceed it, including an
// unlock that splits a lock, fails with ErrNoLocks, as fcntl's ENOLCK) and
// Config.MaxWaiters the queued blocking requests (ErrTooManyWaiters).
//
// Concurrency: files are spread over shards, each with its own mutex; a
// per-client index (also sharded) makes UnlockClient and ClientActive cost
// the number of files a client uses, not the number of files locked. Only
// the wait-for graph of blocked requests (deadlock detection) is global,
// and it is touched only when a request blocks or a waiter leaves.
//
// Administration: UnlockClient (the kernel's unlock_ip, and what a client
// reboot notification does), UnlockExport (the kernel's unlock_fs),
// UnlockOwner (NFSv4 RELEASE_LOCKOWNER), Locks, Waiters, Shares and Stats
// for listings.
//
// Integration: a virtual server creates one Manager (New) when it starts,
// hands it to nlm.New (and to NFSv4), and calls StartGrace at every start
// (locks do not survive a restart: clients reclaim them). For NLM
// clients, admin actions go through nlm.Server.UnlockAddr and UnlockExport,
// which also withdraw pending GRANTED callbacks; an NFSv4 server uses
// Owner{Client: its clientid key, ID: the lock-owner} and maps ErrConflict,
// ErrGrace, ErrNoGrace, ErrDeadlock and ErrNoLocks to its own errors.
package lock

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Type is the type of a lock.
type Type uint8

const (
	// Read is a shared lock (F_RDLCK).
	Read Type = 1
	// Write is an exclusive lock (F_WRLCK).
	Write Type = 2
)

func (t Type) String() string {
	switch t {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// EOF is the End of a range that extends to the end of the file, however
// large it grows.
const EOF = math.MaxUint64

// Range is a byte range, both ends included.
type Range struct {
	Start, End uint64
}

// NewRange returns the range of length bytes at offset; a length of 0, or
// one that reaches past the largest offset, means to the end of the file.
func NewRange(offset, length uint64) Range {
	if length == 0 || length-1 > EOF-offset {
		return Range{offset, EOF}
	}
	return Range{offset, offset + length - 1}
}

// Length returns the length of r, 0 meaning to the end of the file (as in
// NLM and fcntl).
func (r Range) Length() uint64 {
	if r.End == EOF {
		return 0
	}
	return r.End - r.Start + 1
}

func (r Range) overlaps(o Range) bool { return r.Start <= o.End && o.Start <= r.End }

// touches reports whether r and o overlap or are adjacent.
func (r Range) touches(o Range) bool {
	return r.overlaps(o) || (r.End != EOF && r.End+1 == o.Start) || (o.End != EOF && o.End+1 == r.Start)
}

// FileID identifies a file: the export its handle names and the backend's
// object id (as a string, so that FileID is comparable).
type FileID struct {
	Export uint32
	Object string
}

// Owner identifies the holder of locks. Two requests with equal Owners are
// the same holder. Client groups the owners of one client for UnlockClient
// (NLM: "nlm:" and the client's address; NFSv4: the clientid); ID is the
// owner within the client (NLM: the oh netobj; NFSv4: the lock-owner); Svid
// is the NLM svid (the client's process id), reported by Test.
type Owner struct {
	Client string
	ID     string
	Svid   int32
}

// Lock is a granted lock, or a request.
type Lock struct {
	File  FileID
	Owner Owner
	Type  Type
	Range Range
}

// Request asks for a lock.
type Request struct {
	File  FileID
	Owner Owner
	Type  Type
	Range Range
	// Reclaim marks a lock the client held before the server restarted,
	// asked for again during the grace period.
	Reclaim bool
}

// Errors of the manager.
var (
	// ErrConflict: another owner holds a conflicting lock (or share).
	ErrConflict = errors.New("lock: conflicting lock held")
	// ErrGrace: the grace period admits only reclaims.
	ErrGrace = errors.New("lock: in grace period")
	// ErrNoGrace: a reclaim outside the grace period.
	ErrNoGrace = errors.New("lock: reclaim outside grace period")
	// ErrNoLocks: the manager holds Config.MaxLocks locks.
	ErrNoLocks = errors.New("lock: too many locks")
	// ErrTooManyWaiters: Config.MaxWaiters requests are waiting.
	ErrTooManyWaiters = errors.New("lock: too many blocked requests")
	// ErrDeadlock: waiting would deadlock.
	ErrDeadlock = errors.New("lock: deadlock")
	// ErrCancelled is passed to a waiter's notify function when the
	// manager drops the waiter (UnlockClient, UnlockExport, UnlockOwner).
	ErrCancelled = errors.New("lock: blocked request cancelled")
	// ErrInvalid: a request with an empty range or an unknown type.
	ErrInvalid = errors.New("lock: invalid request")
)

// Defaults of Config.
const (
	DefaultMaxLocks   = 1 << 17
	DefaultMaxWaiters = 1 << 12
)

// Config configures a Manager.
type Config struct {
	// MaxLocks bounds the locks plus share reservations; 0 means
	// DefaultMaxLocks.
	MaxLocks int
	// MaxWaiters bounds the blocked requests; 0 means DefaultMaxWaiters.
	MaxWaiters int
}

const (
	numShards       = 16
	numClientShards = 16
	// maxDeadlockDepth bounds the walk of the wait-for graph (Linux:
	// MAX_DEADLK_ITERATIONS is 10).
	maxDeadlockDepth = 16
)

// Manager is the lock manager of one virtual server. It is safe for
// concurrent use; the zero value is not usable, call New.
type Manager struct {
	maxLocks, maxWaiters int64
	seed                 maphash.Seed

	shards  [numShards]shard
	clients [numClientShards]clientShard

	nlocks   atomic.Int64 // locks and shares held
	nshares  atomic.Int64
	nwaiters atomic.Int64

	grace graceState

	// wmu guards the wait-for graph: the waiters of each owner and each
	// waiter's blocker.
	wmu     sync.Mutex
	waiting map[Owner][]*Waiter
}

type shard struct {
	mu    sync.Mutex
	files map[FileID]*file
}

type clientShard struct {
	mu sync.Mutex
	// m counts, per client and file, the locks, waiters and shares the
	// client's owners have there.
	m map[string]map[FileID]int
}

// New returns a Manager.
func New(cfg Config) *Manager {
	m := &Manager{maxLocks: int64(cfg.MaxLocks), maxWaiters: int64(cfg.MaxWaiters),
		seed: maphash.MakeSeed(), waiting: map[Owner][]*Waiter{}}
	if m.maxLocks <= 0 {
		m.maxLocks = DefaultMaxLocks
	}
	if m.maxWaiters <= 0 {
		m.maxWaiters = DefaultMaxWaiters
	}
	// The shards' maps are made on first use: an idle vserver's lock
	// manager costs only this struct (density: 1,000 idle vservers).
	return m
}

func (m *Manager) shardOf(id FileID) *shard {
	var h maphash.Hash
	h.SetSeed(m.seed)
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(id.Export), byte(id.Export>>8), byte(id.Export>>16), byte(id.Export>>24)
	h.Write(b[:])
	h.WriteString(id.Object)
	return &m.shards[h.Sum64()%numShards]
}

func (m *Manager) clientShardOf(client string) *clientShard {
	return &m.clients[maphash.String(m.seed, client)%numClientShards]
}

// clientAdd changes the count of client's state in file f by d. Called
// with f's shard locked (lock order: file shard, then client shard).
func (m *Manager) clientAdd(client string, f FileID, d int) {
	if d == 0 {
		return
	}
	cs := m.clientShardOf(client)
	cs.mu.Lock()
	files := cs.m[client]
	if files == nil {
		files = map[FileID]int{}
		if cs.m == nil {
			cs.m = map[string]map[FileID]int{}
		}
		cs.m[client] = files
	}
	n := files[f] + d
	if n <= 0 {
		delete(files, f)
		if len(files) == 0 {
			delete(cs.m, client)
		}
	} else {
		files[f] = n
	}
	cs.mu.Unlock()
}

// clientFiles returns the files where client has state.
func (m *Manager) clientFiles(client string) []FileID {
	cs := m.clientShardOf(client)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	files := cs.m[client]
	out := make([]FileID, 0, len(files))
	for f := range files {
		out = append(out, f)
	}
	return out
}

// ClientActive reports whether client has any lock, blocked request or
// share reservation.
func (m *Manager) ClientActive(client string) bool {
	cs := m.clientShardOf(client)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.m[client]) > 0
}

func checkRequest(r *Request) error {
	if (r.Type != Read && r.Type != Write) || r.Range.Start > r.Range.End {
		return ErrInvalid
	}
	return nil
}

// admit applies the grace period rules to a request.
func (m *Manager) admit(reclaim bool) error {
	in := m.InGrace()
	switch {
	case in && !reclaim:
		return ErrGrace
	case !in && reclaim:
		return ErrNoGrace
	}
	return nil
}

// notification is a waiter's outcome, delivered once no lock is held.
type notification struct {
	w   *Waiter
	err error
}

func deliver(ns []notification) {
	for _, n := range ns {
		n.w.notify(n.err)
	}
}

// Lock takes a lock without waiting. On a conflict it returns the
// conflicting lock and ErrConflict. Other errors: ErrGrace, ErrNoGrace,
// ErrNoLocks, ErrInvalid.
func (m *Manager) Lock(req Request) (Lock, error) {
	w, holder, err := m.lock(req, nil)
	if w != nil {
		panic("lock: waiter without notify")
	}
	return holder, err
}

// LockWait takes a lock, waiting if it conflicts. If the lock is granted
// at once it returns (nil, nil). If it conflicts, the request is queued
// and a Waiter returned; later notify is called exactly once, unless
// Cancel removes the waiter first: with nil once the lock has been
// granted (it is then held by req.Owner), or with ErrCancelled or
// ErrNoLocks if the manager dropped the request. notify runs on the
// goroutine that released the conflicting lock, with no manager lock held;
// it must not block (start a goroutine for slow work) but may call the
// manager.
//
// Errors: ErrDeadlock, ErrTooManyWaiters, and those of Lock but
// ErrConflict.
func (m *Manager) LockWait(req Request, notify func(error)) (*Waiter, error) {
	if notify == nil {
		panic("lock: LockWait without notify")
	}
	w, _, err := m.lock(req, notify)
	return w, err
}

func (m *Manager) lock(req Request, notify func(error)) (*Waiter, Lock, error) {
	if err := checkRequest(&req); err != nil {
		return nil, Lock{}, err
	}
	if err := m.admit(req.Reclaim); err != nil {
		return nil, Lock{}, err
	}
	sh := m.shardOf(req.File)
	sh.mu.Lock()
	f := sh.get(req.File)
	if c := f.conflict(req.Owner, req.Type, req.Range); c != nil {
		holder := Lock{File: f.id, Owner: c.owner, Type: c.typ, Range: c.r}
		var err error
		switch {
		case notify == nil:
			err = ErrConflict
		case m.nwaiters.Add(1) > m.maxWaiters:
			m.nwaiters.Add(-1)
			err = ErrTooManyWaiters
		default:
			w := &Waiter{req: req, notify: notify, blocker: c.owner}
			if !m.addWaiter(w) {
				m.nwaiters.Add(-1)
				err = ErrDeadlock
				break
			}
			w.queued = true
			f.waiters = append(f.waiters, w)
			m.clientAdd(req.Owner.Client, f.id, 1)
			sh.mu.Unlock()
			return w, Lock{}, nil
		}
		sh.dropIfIdle(f)
		sh.mu.Unlock()
		return nil, holder, err
	}
	if err := m.setLock(f, req.Owner, req.Type, req.Range); err != nil {
		sh.dropIfIdle(f)
		sh.mu.Unlock()
		return nil, Lock{}, err
	}
	// A downgrade can unblock waiters.
	ns := m.wake(f)
	sh.mu.Unlock()
	deliver(ns)
	return nil, Lock{}, nil
}

// Test reports the first lock that conflicts with req, if any. It does not
// apply the grace period rules (protocols decide what a test during grace
// answers).
func (m *Manager) Test(req Request) (Lock, bool) {
	if checkRequest(&req) != nil {
		return Lock{}, false
	}
	sh := m.shardOf(req.File)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.files[req.File]
	if f == nil {
		return Lock{}, false
	}
	c := f.conflict(req.Owner, req.Type, req.Range)
	if c == nil {
		return Lock{}, false
	}
	return Lock{File: f.id, Owner: c.owner, Type: c.typ, Range: c.r}, true
}

// Unlock releases owner's locks over r in file (a part of a lock is
// released by splitting it). Releasing what is not held is no error. It
// fails only with ErrNoLocks, when the split would exceed Config.MaxLocks
// (nothing is changed then). Waiters that no longer conflict are granted.
func (m *Manager) Unlock(file FileID, owner Owner, r Range) error {
	if r.Start > r.End {
		return ErrInvalid
	}
	sh := m.shardOf(file)
	sh.mu.Lock()
	f := sh.files[file]
	if f == nil {
		sh.mu.Unlock()
		return nil
	}
	if err := m.unlockRange(f, owner, r); err != nil {
		sh.mu.Unlock()
		return err
	}
	ns := m.wake(f)
	sh.dropIfIdle(f)
	sh.mu.Unlock()
	deliver(ns)
	return nil
}

// UnlockClient drops every lock, blocked request (notified with
// ErrCancelled) and share reservation of the owners of client, and
// returns the number of locks and shares dropped.
func (m *Manager) UnlockClient(client string) int {
	return m.dropWhere(m.clientFiles(client), func(o Owner) bool { return o.Client == client })
}

// UnlockOwner drops every lock, blocked request and share of owner (the
// NFSv4 RELEASE_LOCKOWNER, or an NLM owner's exit), and returns the number
// of locks and shares dropped.
func (m *Manager) UnlockOwner(owner Owner) int {
	return m.dropWhere(m.clientFiles(owner.Client), func(o Owner) bool { return o == owner })
}

func (m *Manager) dropWhere(files []FileID, match func(Owner) bool) int {
	n := 0
	var ns []notification
	for _, id := range files {
		sh := m.shardOf(id)
		sh.mu.Lock()
		f := sh.files[id]
		if f != nil {
			n += m.dropMatching(f, match, &ns)
			ns = append(ns, m.wake(f)...)
			sh.dropIfIdle(f)
		}
		sh.mu.Unlock()
	}
	deliver(ns)
	return n
}

// UnlockExport drops every lock, blocked request (notified with
// ErrCancelled) and share reservation on the files of export id, and
// returns the number of locks and shares dropped.
func (m *Manager) UnlockExport(id uint32) int {
	n := 0
	var ns []notification
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for fid, f := range sh.files {
			if fid.Export != id {
				continue
			}
			n += m.dropMatching(f, func(Owner) bool { return true }, &ns)
			sh.dropIfIdle(f)
		}
		sh.mu.Unlock()
	}
	deliver(ns)
	return n
}

// dropMatching removes the locks, waiters and shares of f whose owner
// matches, appending ErrCancelled notifications for the waiters. It
// returns the number of locks and shares removed.
func (m *Manager) dropMatching(f *file, match func(Owner) bool, ns *[]notification) int {
	removed := 0
	perClient := map[string]int{}
	locks := f.locks[:0]
	for _, e := range f.locks {
		if match(e.owner) {
			removed++
			perClient[e.owner.Client]--
			continue
		}
		locks = append(locks, e)
	}
	clear(f.locks[len(locks):])
	f.locks = locks
	shares := f.shares[:0]
	nshares := 0
	for _, s := range f.shares {
		if match(s.owner) {
			removed++
			nshares++
			perClient[s.owner.Client]--
			continue
		}
		shares = append(shares, s)
	}
	clear(f.shares[len(shares):])
	f.shares = shares
	waiters := f.waiters[:0]
	for _, w := range f.waiters {
		if match(w.req.Owner) {
			w.queued = false
			m.removeWaiter(w)
			m.nwaiters.Add(-1)
			perClient[w.req.Owner.Client]--
			*ns = append(*ns, notification{w, ErrCancelled})
			continue
		}
		waiters = append(waiters, w)
	}
	clear(f.waiters[len(waiters):])
	f.waiters = waiters
	m.nlocks.Add(-int64(removed))
	m.nshares.Add(-int64(nshares))
	for c, d := range perClient {
		m.clientAdd(c, f.id, d)
	}
	return removed
}

// Locks lists the locks held.
func (m *Manager) Locks() []Lock {
	var out []Lock
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, f := range sh.files {
			for _, e := range f.locks {
				out = append(out, Lock{File: f.id, Owner: e.owner, Type: e.typ, Range: e.r})
			}
		}
		sh.mu.Unlock()
	}
	sortLocks(out)
	return out
}

// Waiters lists the blocked requests, in queue order per file.
func (m *Manager) Waiters() []Request {
	var out []Request
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, f := range sh.files {
			for _, w := range f.waiters {
				out = append(out, w.req)
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// Stats are the manager's counters.
type Stats struct {
	Locks, Shares, Waiters int
	InGrace                bool
}

// Stats returns the current counts.
func (m *Manager) Stats() Stats {
	return Stats{Locks: int(m.nlocks.Load() - m.nshares.Load()), Shares: int(m.nshares.Load()),
		Waiters: int(m.nwaiters.Load()), InGrace: m.InGrace()}
}

// Waiter is a blocked request queued by LockWait.
type Waiter struct {
	req    Request
	notify func(error)
	// blocker is the owner of a lock the request waits behind (guarded
	// by Manager.wmu).
	blocker Owner
	// queued is true while the waiter is in its file's queue (guarded by
	// the file's shard mutex).
	queued bool
}

// Request returns the request that waits.
func (w *Waiter) Request() Request { return w.req }

// Cancel removes w from its queue. It returns true if w was still waiting
// (notify will not be called), false if it was granted or dropped already
// (notify has been or is being called).
func (m *Manager) Cancel(w *Waiter) bool {
	sh := m.shardOf(w.req.File)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !w.queued {
		return false
	}
	f := sh.files[w.req.File]
	f.removeWaiterAt(slices.Index(f.waiters, w))
	w.queued = false
	m.removeWaiter(w)
	m.nwaiters.Add(-1)
	m.clientAdd(w.req.Owner.Client, f.id, -1)
	sh.dropIfIdle(f)
	return true
}

// addWaiter records w in the wait-for graph unless waiting would close a
// cycle: the owner w waits behind (transitively) waiting for w's owner.
func (m *Manager) addWaiter(w *Waiter) bool {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	me := w.req.Owner
	frontier := []Owner{w.blocker}
	seen := map[Owner]bool{}
	for depth := 0; depth < maxDeadlockDepth && len(frontier) > 0; depth++ {
		var next []Owner
		for _, o := range frontier {
			if o == me {
				return false
			}
			if seen[o] {
				continue
			}
			seen[o] = true
			for _, x := range m.waiting[o] {
				next = append(next, x.blocker)
			}
		}
		frontier = next
	}
	m.waiting[me] = append(m.waiting[me], w)
	return true
}

func (m *Manager) removeWaiter(w *Waiter) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	ws := m.waiting[w.req.Owner]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(m.waiting, w.req.Owner)
	} else {
		m.waiting[w.req.Owner] = ws
	}
}

func (m *Manager) setBlocker(w *Waiter, o Owner) {
	m.wmu.Lock()
	w.blocker = o
	m.wmu.Unlock()
}

// wake grants, in queue order, the waiters of f that no longer conflict.
// Called with f's shard locked; the notifications are delivered by the
// caller once it is unlocked.
func (m *Manager) wake(f *file) []notification {
	var ns []notification
	for i := 0; i < len(f.waiters); {
		w := f.waiters[i]
		if c := f.conflict(w.req.Owner, w.req.Type, w.req.Range); c != nil {
			m.setBlocker(w, c.owner)
			i++
			continue
		}
		err := m.setLock(f, w.req.Owner, w.req.Type, w.req.Range)
		f.removeWaiterAt(i)
		w.queued = false
		m.removeWaiter(w)
		m.nwaiters.Add(-1)
		m.clientAdd(w.req.Owner.Client, f.id, -1)
		ns = append(ns, notification{w, err})
	}
	return ns
}

// graceState is the grace period.
type graceState struct {
	on    atomic.Bool
	mu    sync.Mutex
	gen   uint64
	timer *time.Timer
	until time.Time
}

// StartGrace starts (or restarts) a grace period of d: until it ends (after
// d, or at EndGrace) only reclaims are granted. A d of 0 or less ends the
// grace period.
func (m *Manager) StartGrace(d time.Duration) {
	g := &m.grace
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if d <= 0 {
		g.on.Store(false)
		g.until = time.Time{}
		return
	}
	gen := g.gen
	g.until = time.Now().Add(d)
	g.on.Store(true)
	g.timer = time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.gen == gen {
			g.on.Store(false)
			g.timer = nil
			g.until = time.Time{}
		}
	})
}

// EndGrace ends the grace period now.
func (m *Manager) EndGrace() { m.StartGrace(0) }

// InGrace reports whether the grace period is on.
func (m *Manager) InGrace() bool { return m.grace.on.Load() }

// GraceEnds returns when the grace period ends (zero if it is off).
func (m *Manager) GraceEnds() time.Time {
	m.grace.mu.Lock()
	defer m.grace.mu.Unlock()
	return m.grace.until
}
