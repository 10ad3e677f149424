// Package state keeps one virtual server's NFSv4 client and session state:
//
//   - NFSv4.0 client records: SETCLIENTID and SETCLIENTID_CONFIRM (RFC 7530
//     sections 16.33 and 16.34) and RENEW (section 16.29);
//   - NFSv4.1 client records: EXCHANGE_ID (RFC 8881 section 18.35) and
//     DESTROY_CLIENTID (section 18.50);
//   - sessions: CREATE_SESSION (18.36), DESTROY_SESSION (18.37),
//     BIND_CONN_TO_SESSION (18.34) and SEQUENCE (18.46) with the slot table
//     and reply cache of each session (section 2.10.6);
//   - leases (RFC 8881 section 8.3) with courtesy clients: a client whose
//     lease expired keeps its state until another client needs it (Revoke),
//     a time limit (Config.CourtesyLimit) or room for a new client runs out;
//   - the grace period and its recovery records (RFC 8881 section 8.4.2,
//     RECLAIM_COMPLETE section 18.51; RFC 7530 section 9.6.2).
//
// One Table exists per virtual server. The Table decides the client and
// session cases and returns the nfsstat4 of package nfserr as errors; it
// knows nothing of XDR: the server decodes the arguments into the plain
// structs of this package and encodes the results.
//
// # Locking
//
// A table-level RWMutex guards the maps (clients, sessions, connections)
// and the client records. Each session has its own mutex for its slot
// table, so SEQUENCE on one session does not wait for another: the table
// lock is held only for the map lookup, and no lock is held while the
// server executes the compound between Sequence and Seq.Done. Lock order:
// the recovery mutex, then the table mutex, then session mutexes. OnExpire
// and the RecoveryStore are called with no table or session lock held, so
// they may call back into the Table.
//
// # Bounds
//
// Client records (confirmed and unconfirmed) are bounded by
// Config.MaxClients, sessions by Config.MaxSessionsPerClient per client,
// slots by Config.MaxForeSlots, each cached reply by the negotiated
// ca_maxresponsesize_cached (at most Config.MaxCachedReply), and the slots
// of new sessions are reduced (to at least one) so that the reply cache
// memory reserved by all sessions stays within Config.MaxCacheMemory.
// Connections bound to sessions are bounded by the server's connections:
// the server calls ConnClosed when one closes.
package state

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// Defaults of Config.
const (
	// DefaultLease is the lease time, as Linux nfsd's default.
	DefaultLease = 90 * time.Second
	// DefaultCourtesyLimit is how long a courtesy client keeps its state
	// after its lease expired (Linux nfsd: 24 hours).
	DefaultCourtesyLimit = 24 * time.Hour
	// DefaultMaxClients bounds the client records of one virtual server.
	DefaultMaxClients = 4096
	// DefaultMaxSessionsPerClient bounds the sessions of one client ID.
	DefaultMaxSessionsPerClient = 16
	// DefaultMaxForeSlots bounds the fore channel slots of a session
	// (ca_maxrequests).
	DefaultMaxForeSlots = 64
	// DefaultMaxBackSlots bounds the back channel slots of a session.
	DefaultMaxBackSlots = 16
	// DefaultMaxCachedReply bounds a slot's cached reply
	// (ca_maxresponsesize_cached).
	DefaultMaxCachedReply = 4096
	// DefaultMaxCacheMemory bounds the reply cache memory reserved by all
	// sessions of the table.
	DefaultMaxCacheMemory = 16 << 20
	// DefaultMaxMessage is the default ca_maxrequestsize and
	// ca_maxresponsesize limit: 1 MiB of data plus headers.
	DefaultMaxMessage = 1<<20 + 8<<10
	// DefaultMaxOperations bounds ca_maxoperations.
	DefaultMaxOperations = 64
)

// Protocol limits.
const (
	// MaxOwnerLen is NFS4_OPAQUE_LIMIT, the limit of nfs_client_id4.id and
	// client_owner4.co_ownerid.
	MaxOwnerLen = 1024
	// MaxPrincipalLen bounds the principal string given by the server.
	MaxPrincipalLen = 1024
	// MinRequestSize and MinResponseSize are the smallest
	// ca_maxrequestsize and ca_maxresponsesize accepted by CREATE_SESSION:
	// the size of a COMPOUND holding only a SEQUENCE, with AUTH_NONE and
	// an empty tag (16 XDR words each way). Smaller values get
	// NFS4ERR_TOOSMALL (RFC 8881 section 18.36.3).
	MinRequestSize  = 64
	MinResponseSize = 64
	// MinBackOperations is the smallest back channel ca_maxoperations:
	// CB_SEQUENCE and one callback.
	MinBackOperations = 2
)

// SEQUENCE status flags, sr_status_flags (RFC 8881 section 18.46.3).
const (
	SEQ4_STATUS_CB_PATH_DOWN               = 0x00000001
	SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRING   = 0x00000002
	SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRED    = 0x00000004
	SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED  = 0x00000008
	SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED = 0x00000010
	SEQ4_STATUS_ADMIN_STATE_REVOKED        = 0x00000020
	SEQ4_STATUS_RECALLABLE_STATE_REVOKED   = 0x00000040
	SEQ4_STATUS_LEASE_MOVED                = 0x00000080
	SEQ4_STATUS_RESTART_RECLAIM_NEEDED     = 0x00000100
	SEQ4_STATUS_CB_PATH_DOWN_SESSION       = 0x00000200
	SEQ4_STATUS_BACKCHANNEL_FAULT          = 0x00000400
	SEQ4_STATUS_DEVID_CHANGED              = 0x00000800
	SEQ4_STATUS_DEVID_DELETED              = 0x00001000
)

// CREATE_SESSION flags, csa_flags and csr_flags (RFC 8881 section 18.36).
const (
	CREATE_SESSION4_FLAG_PERSIST        = 0x00000001
	CREATE_SESSION4_FLAG_CONN_BACK_CHAN = 0x00000002
	CREATE_SESSION4_FLAG_CONN_RDMA      = 0x00000004
)

// BIND_CONN_TO_SESSION directions (RFC 8881 section 18.34): the requested
// channel_dir_from_client4 and the resulting channel_dir_from_server4.
const (
	CDFC4_FORE         = 0x1
	CDFC4_BACK         = 0x2
	CDFC4_FORE_OR_BOTH = 0x3
	CDFC4_BACK_OR_BOTH = 0x7

	CDFS4_FORE = 0x1
	CDFS4_BACK = 0x2
	CDFS4_BOTH = 0x3
)

// Verifier is a verifier4: the client's co_verifier or nfs_client_id4
// verifier, or the server's setclientid_confirm.
type Verifier [8]byte

// SessionID is a sessionid4. The first four bytes are the table's boot
// epoch, the other twelve are random.
type SessionID [16]byte

// ConnKey names one transport connection of the server. The server picks
// the keys (for example a counter per accepted connection) and calls
// ConnClosed when the connection closes.
type ConnKey uint64

// Netaddr is a netaddr4: an RPC netid ("tcp", "tcp6") and universal
// address.
type Netaddr struct {
	Netid string
	Addr  string
}

// Callback is what SETCLIENTID gives for the NFSv4.0 callback path:
// cb_client4 (program and address) and callback_ident.
type Callback struct {
	Program uint32
	Addr    Netaddr
	Ident   uint32
}

// ChannelAttrs is channel_attrs4 (RFC 8881 section 18.36).
type ChannelAttrs struct {
	HeaderPadSize         uint32
	MaxRequestSize        uint32
	MaxResponseSize       uint32
	MaxResponseSizeCached uint32
	MaxOperations         uint32
	MaxRequests           uint32
	// RDMAIrd is ca_rdma_ird<1>; this server has no RDMA and always
	// returns it empty.
	RDMAIrd []uint32
}

// RecoveryStore keeps the recovery records of one virtual server: the
// owners (nfs_client_id4.id or co_ownerid bytes) of the clients that hold
// state, so that after a restart exactly those clients may reclaim during
// the grace period (RFC 8881 section 8.4.2.1, RFC 7530 section 9.6.3.4).
//
// Add and Remove must be durable when they return. MemoryRecovery is an
// implementation for tests; StoreRecovery keeps the records in
// internal/store, one key per owner under a prefix of the virtual server.
type RecoveryStore interface {
	// Load returns every recorded owner.
	Load() ([][]byte, error)
	// Add records an owner; adding a recorded owner is not an error.
	Add(owner []byte) error
	// Remove forgets an owner; removing an unknown owner is not an error.
	Remove(owner []byte) error
}

// Config configures a Table. The zero value of each field means its
// default.
type Config struct {
	// Lease is the lease time (lease_time attribute); 0: DefaultLease.
	Lease time.Duration
	// Grace is the grace period from New; 0: the lease time; negative:
	// no grace period.
	Grace time.Duration
	// CourtesyLimit is how long a client whose lease expired keeps its
	// state (a courtesy client); 0: DefaultCourtesyLimit; negative: no
	// courtesy, the state is released when the lease expires.
	CourtesyLimit time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Boot is the boot epoch embedded in every client ID (the high 32
	// bits) and session ID (the first 4 bytes), so that those of an
	// earlier instance of the server are recognised as stale. It must
	// differ from every earlier instance's; 0: a random nonzero value.
	Boot uint32
	// Rand is the source of session IDs and confirm verifiers;
	// nil: crypto/rand.
	Rand io.Reader

	// MaxClients bounds the client records, confirmed or not.
	MaxClients int
	// MaxSessionsPerClient bounds the sessions of one client ID.
	MaxSessionsPerClient int
	// MaxForeSlots and MaxBackSlots bound ca_maxrequests of the fore and
	// back channels.
	MaxForeSlots int
	MaxBackSlots int
	// MaxCachedReply bounds ca_maxresponsesize_cached, the bytes cached
	// per slot.
	MaxCachedReply uint32
	// MaxCacheMemory bounds the reply cache bytes reserved by all
	// sessions (slots times ca_maxresponsesize_cached); a new session
	// gets fewer slots when it would exceed it, but always one.
	MaxCacheMemory int64
	// MaxRequestSize and MaxResponseSize bound ca_maxrequestsize and
	// ca_maxresponsesize (the server's largest COMPOUND).
	MaxRequestSize  uint32
	MaxResponseSize uint32
	// MaxOperations bounds ca_maxoperations.
	MaxOperations uint32

	// Recovery keeps the recovery records; nil: a MemoryRecovery (no
	// persistence). New loads it: the owners found may reclaim during the
	// grace period.
	Recovery RecoveryStore
	// OnExpire is called, with no lock of the Table held, when the state
	// of a confirmed client must be released: when the client record is
	// destroyed (lease expiry, courtesy limit, eviction, replacement by a
	// new incarnation of the client, DESTROY_CLIENTID) or when Revoke
	// takes the state of a courtesy client. It is called once per client
	// until SetHasState(clientid, true) gives the client state again. The
	// server releases the client's opens, locks and delegations.
	OnExpire func(clientid uint64)
	// Logger receives recovery store failures; nil discards.
	Logger *slog.Logger
}

// Table is the client and session state of one virtual server.
type Table struct {
	epoch         uint32
	lease         time.Duration
	courtesyLimit time.Duration
	now           func() time.Time
	rand          io.Reader
	onExpire      func(uint64)
	log           *slog.Logger

	maxClients  int
	maxSessions int
	maxFore     uint32
	maxBack     uint32
	maxCached   uint32
	maxCacheMem int64
	maxReq      uint32
	maxResp     uint32
	maxOps      uint32

	mu            sync.RWMutex
	conf          map[uint64]*client // confirmed records by client ID
	unconf        map[uint64]*client // unconfirmed records by client ID
	confByOwner   map[string]*client
	unconfByOwner map[string]*client
	sessions      map[SessionID]*session
	connSessions  map[ConnKey]map[*session]struct{}
	lastID        uint32 // low half of the last client ID given
	cacheReserved int64  // reply cache bytes reserved by sessions

	// Grace period (under mu).
	graceEnd    time.Time
	graceOver   bool
	recoverable map[string]bool // owners loaded from the recovery store
	reclaimed   map[string]bool // recoverable owners that sent RECLAIM_COMPLETE

	// Recovery records (under rmu, taken before mu).
	rmu          sync.Mutex
	rec          RecoveryStore
	holder       map[string]uint64 // owner → client ID holding its record; 0: the previous instance
	graceCleaned bool
}

// client is one client record (RFC 7530 section 16.33.5: { v, x, c, k, s };
// RFC 8881 section 18.35.5: { ownerid, verifier, principal, clientid,
// confirmed }). Fields are guarded by Table.mu except lastRenew and status,
// which are atomic because SEQUENCE updates them under a session lock only.
type client struct {
	id        uint64
	owner     string
	verifier  Verifier
	principal string
	minor     uint32 // 0: SETCLIENTID; 1, 2: EXCHANGE_ID
	addr      Netaddr
	confirmed bool
	created   time.Time

	// NFSv4.0
	confirm  Verifier
	callback Callback

	// NFSv4.1
	flags    uint32 // eir_flags last returned
	csSeq    uint32 // the CREATE_SESSION slot's sequence ID
	csCached *CreateSessionResult
	sessions map[SessionID]*session

	lastRenew atomic.Int64  // unix nanoseconds
	status    atomic.Uint32 // SEQ4_STATUS flags reported with SEQUENCE

	hasState        bool
	released        bool // OnExpire called since the client last got state
	revoked         bool
	revokedAt       time.Time
	reclaimComplete bool
	recorded        bool // holds a recovery record
	dead            bool
}

func (c *client) renew(now time.Time) { c.lastRenew.Store(now.UnixNano()) }

func (c *client) lastRenewTime() time.Time { return time.Unix(0, c.lastRenew.Load()) }

// New returns the Table of one virtual server. It loads the recovery
// records: their owners may reclaim during the grace period.
func New(cfg Config) (*Table, error) {
	t := &Table{
		epoch:         cfg.Boot,
		lease:         cfg.Lease,
		courtesyLimit: cfg.CourtesyLimit,
		now:           cfg.Now,
		rand:          cfg.Rand,
		onExpire:      cfg.OnExpire,
		log:           cfg.Logger,
		maxClients:    cfg.MaxClients,
		maxSessions:   cfg.MaxSessionsPerClient,
		maxCached:     cfg.MaxCachedReply,
		maxCacheMem:   cfg.MaxCacheMemory,
		maxReq:        cfg.MaxRequestSize,
		maxResp:       cfg.MaxResponseSize,
		maxOps:        cfg.MaxOperations,
		rec:           cfg.Recovery,

		conf:          make(map[uint64]*client),
		unconf:        make(map[uint64]*client),
		confByOwner:   make(map[string]*client),
		unconfByOwner: make(map[string]*client),
		sessions:      make(map[SessionID]*session),
		connSessions:  make(map[ConnKey]map[*session]struct{}),
		recoverable:   make(map[string]bool),
		reclaimed:     make(map[string]bool),
		holder:        make(map[string]uint64),
	}
	if t.lease <= 0 {
		t.lease = DefaultLease
	}
	if t.courtesyLimit == 0 {
		t.courtesyLimit = DefaultCourtesyLimit
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.rand == nil {
		t.rand = rand.Reader
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.maxClients <= 0 {
		t.maxClients = DefaultMaxClients
	}
	if t.maxSessions <= 0 {
		t.maxSessions = DefaultMaxSessionsPerClient
	}
	t.maxFore = positive(cfg.MaxForeSlots, DefaultMaxForeSlots)
	t.maxBack = positive(cfg.MaxBackSlots, DefaultMaxBackSlots)
	if t.maxCached == 0 {
		t.maxCached = DefaultMaxCachedReply
	}
	if t.maxCacheMem <= 0 {
		t.maxCacheMem = DefaultMaxCacheMemory
	}
	if t.maxReq == 0 {
		t.maxReq = DefaultMaxMessage
	}
	if t.maxResp == 0 {
		t.maxResp = DefaultMaxMessage
	}
	t.maxReq = max(t.maxReq, MinRequestSize)
	t.maxResp = max(t.maxResp, MinResponseSize)
	if t.maxOps == 0 {
		t.maxOps = DefaultMaxOperations
	}
	for t.epoch == 0 {
		var b [4]byte
		if _, err := io.ReadFull(t.rand, b[:]); err != nil {
			return nil, err
		}
		t.epoch = binary.BigEndian.Uint32(b[:])
	}
	if t.rec == nil {
		t.rec = NewMemoryRecovery()
	}
	owners, err := t.rec.Load()
	if err != nil {
		return nil, err
	}
	for _, o := range owners {
		t.recoverable[string(o)] = true
		t.holder[string(o)] = 0
	}
	grace := cfg.Grace
	if grace == 0 {
		grace = t.lease
	}
	t.graceEnd = t.now().Add(grace)
	// With nobody to wait for, the grace period ends at once (as Linux
	// nfsd does when every recoverable client has completed reclaim).
	if grace < 0 || len(t.recoverable) == 0 {
		t.graceOver = true
	}
	return t, nil
}

func positive(v, def int) uint32 {
	if v <= 0 {
		return uint32(def)
	}
	return uint32(min(v, 1<<16))
}

// Epoch returns the boot epoch in the client and session IDs.
func (t *Table) Epoch() uint32 { return t.epoch }

// LeaseTime returns the lease time (the lease_time attribute).
func (t *Table) LeaseTime() time.Duration { return t.lease }

// stale reports whether a client ID was given by another instance.
func (t *Table) stale(id uint64) bool { return uint32(id>>32) != t.epoch }

// newIDLocked returns an unused client ID of this instance.
func (t *Table) newIDLocked() uint64 {
	for {
		t.lastID++
		if t.lastID == 0 {
			continue
		}
		id := uint64(t.epoch)<<32 | uint64(t.lastID)
		if t.conf[id] == nil && t.unconf[id] == nil {
			return id
		}
	}
}

// random fills b from the table's random source.
func (t *Table) random(b []byte) error {
	_, err := io.ReadFull(t.rand, b)
	return err
}

// expired reports whether c's lease has expired at now.
func (t *Table) expired(c *client, now time.Time) bool {
	return now.UnixNano()-c.lastRenew.Load() > int64(t.lease)
}

// activeWithState reports whether c holds state under an unexpired lease:
// a client that another client with the same owner and a different
// principal must not displace (NFS4ERR_CLID_INUSE).
func (t *Table) activeWithState(c *client, now time.Time) bool {
	return c.hasState && !t.expired(c, now)
}

func checkIdentity(owner []byte, principal string) error {
	if len(owner) > MaxOwnerLen || len(principal) > MaxPrincipalLen {
		return nfserr.Inval
	}
	return nil
}

// effects are what a locked section leaves to do once the table lock is
// released: OnExpire calls and recovery records to remove.
type effects struct {
	expire []uint64
	drop   []recHolder
}

type recHolder struct {
	owner string
	id    uint64
}

// apply runs the effects; no table lock may be held.
func (t *Table) apply(e *effects) {
	if t.onExpire != nil {
		for _, id := range e.expire {
			t.onExpire(id)
		}
	}
	for _, d := range e.drop {
		t.dropRecord(d.owner, d.id)
	}
}

// lockSessions locks the mutex of every session of c; t.mu must be held
// for writing (so no one else holds two session locks).
func (c *client) lockSessions() {
	for _, s := range c.sessions {
		s.mu.Lock()
	}
}

func (c *client) unlockSessions() {
	for _, s := range c.sessions {
		s.mu.Unlock()
	}
}

// busyLocked reports whether a request is in progress on one of c's
// sessions; the session locks must be held.
func (c *client) busyLocked() bool {
	for _, s := range c.sessions {
		if s.inflight > 0 {
			return true
		}
	}
	return false
}

// destroyLocked removes a client record with its sessions. With a non-nil
// cond it first locks c's sessions and destroys c only if cond holds then
// (so that no SEQUENCE can start in between). t.mu must be held for
// writing. It reports whether c was destroyed.
func (t *Table) destroyLocked(c *client, e *effects, cond func() bool) bool {
	if c.dead {
		return false
	}
	c.lockSessions()
	if cond != nil && !cond() {
		c.unlockSessions()
		return false
	}
	for _, s := range c.sessions {
		s.killLocked()
	}
	c.unlockSessions()
	for _, s := range c.sessions {
		t.unindexSessionLocked(s)
	}
	c.sessions = nil
	c.dead = true
	if c.confirmed {
		if t.conf[c.id] == c {
			delete(t.conf, c.id)
		}
		if t.confByOwner[c.owner] == c {
			delete(t.confByOwner, c.owner)
		}
		// A callback update in progress (same client ID) goes too.
		if u := t.unconf[c.id]; u != nil {
			t.destroyLocked(u, e, nil)
		}
		if !c.released {
			c.released = true
			e.expire = append(e.expire, c.id)
		}
		if c.recorded {
			c.recorded = false
			e.drop = append(e.drop, recHolder{c.owner, c.id})
		}
	} else {
		if t.unconf[c.id] == c {
			delete(t.unconf, c.id)
		}
		if t.unconfByOwner[c.owner] == c {
			delete(t.unconfByOwner, c.owner)
		}
	}
	return true
}

// idleExpired returns the condition under which the reaper and eviction
// may destroy c: its lease is still expired and no request is in progress
// (checked with c's sessions locked).
func (t *Table) idleExpired(c *client, now time.Time) func() bool {
	return func() bool { return t.expired(c, now) && !c.busyLocked() }
}

// roomLocked makes room for one more client record, destroying an expired
// client if the table is full: an expired unconfirmed record, a client
// without state or with revoked state, or else the courtesy client whose
// lease expired first. keep (may be nil) is the record of the requesting
// client's owner, never evicted for its own request. It reports whether
// there is room.
func (t *Table) roomLocked(now time.Time, e *effects, keep *client) bool {
	if len(t.conf)+len(t.unconf) < t.maxClients {
		return true
	}
	for _, c := range t.unconf {
		if now.Sub(c.created) > t.lease {
			t.destroyLocked(c, e, nil)
			return true
		}
	}
	var courtesy []*client
	for _, c := range t.conf {
		if c == keep || !t.expired(c, now) {
			continue
		}
		if !c.hasState {
			if t.destroyLocked(c, e, t.idleExpired(c, now)) {
				return true
			}
			continue
		}
		courtesy = append(courtesy, c)
	}
	for len(courtesy) > 0 {
		oldest := 0
		for i, c := range courtesy {
			if c.lastRenew.Load() < courtesy[oldest].lastRenew.Load() {
				oldest = i
			}
		}
		if t.destroyLocked(courtesy[oldest], e, t.idleExpired(courtesy[oldest], now)) {
			return true
		}
		courtesy = append(courtesy[:oldest], courtesy[oldest+1:]...)
	}
	return false
}

// ClientInfo describes a client record.
type ClientInfo struct {
	ClientID  uint64
	Owner     []byte
	Verifier  Verifier
	Principal string
	// Minor is 0 for a client of SETCLIENTID, else the minor version of
	// its EXCHANGE_ID.
	Minor     uint32
	Addr      Netaddr
	Confirmed bool
	// Callback is the NFSv4.0 callback of the confirmed record.
	Callback Callback
	// Flags are the eir_flags last stored by EXCHANGE_ID.
	Flags uint32
	// Courtesy is set when the lease has expired but the state is kept.
	Courtesy        bool
	Revoked         bool
	HasState        bool
	ReclaimComplete bool
	LastRenew       time.Time
	Sessions        []SessionID
	StatusFlags     uint32
}

// Client returns a confirmed client's record (an unconfirmed one if no
// confirmed record has the ID); NFS4ERR_STALE_CLIENTID if there is none.
func (t *Table) Client(clientid uint64) (ClientInfo, error) {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.conf[clientid]
	if c == nil {
		c = t.unconf[clientid]
	}
	if c == nil {
		return ClientInfo{}, nfserr.StaleClientid
	}
	info := ClientInfo{
		ClientID:        c.id,
		Owner:           []byte(c.owner),
		Verifier:        c.verifier,
		Principal:       c.principal,
		Minor:           c.minor,
		Addr:            c.addr,
		Confirmed:       c.confirmed,
		Callback:        c.callback,
		Flags:           c.flags,
		Revoked:         c.revoked,
		HasState:        c.hasState,
		ReclaimComplete: c.reclaimComplete,
		LastRenew:       c.lastRenewTime(),
		StatusFlags:     c.status.Load(),
	}
	info.Courtesy = c.confirmed && c.hasState && !c.revoked && t.expired(c, now)
	for id := range c.sessions {
		info.Sessions = append(info.Sessions, id)
	}
	return info, nil
}

// Stats counts the table's records.
type Stats struct {
	Confirmed   int
	Unconfirmed int
	Courtesy    int
	Revoked     int
	Sessions    int
	// CacheReserved is the reply cache memory reserved by the sessions.
	CacheReserved int64
	InGrace       bool
}

// Stats returns the current counts.
func (t *Table) Stats() Stats {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	st := Stats{
		Confirmed:     len(t.conf),
		Unconfirmed:   len(t.unconf),
		Sessions:      len(t.sessions),
		CacheReserved: t.cacheReserved,
		InGrace:       t.inGraceLocked(now),
	}
	for _, c := range t.conf {
		switch {
		case c.revoked:
			st.Revoked++
		case c.hasState && t.expired(c, now):
			st.Courtesy++
		}
	}
	return st
}
