// Package open is the open and lock state of one virtual server's NFSv4
// clients (RFC 7530 section 9, RFC 8881 sections 8 and 9): stateids,
// open-owners and their opens with share reservations, lock-owners and
// their byte-range locks.
//
// The share reservations and byte-range locks themselves are those of the
// vserver's lock.Manager, which NLM uses too, so NFSv3 and NFSv4 clients
// conflict with each other. NFSv4 state appears there under
// lock.Owner{Client: "nfs4:" + decimal clientid, ID: "o:" + open-owner}
// for shares and ID "l:" + lock-owner for locks. Every change of that
// state must go through the Table (RevokeExport rather than
// lock.Manager.UnlockExport, for example): the Table mirrors which ranges
// each lock stateid holds in order to answer NFS4ERR_LOCKS_HELD.
//
// # Stateids
//
// A stateid's Other is the boot epoch and a never-reused counter; its
// Seqid starts at 1 and is incremented by every OPEN of an existing open,
// OPEN_CONFIRM, OPEN_DOWNGRADE, LOCK and LOCKU that changes the state
// (RFC 7530 section 9.1.4.2, RFC 8881 section 8.2.2). Presented stateids
// are checked in the order of RFC 7530 section 9.1.4.3 and RFC 8881
// section 8.2.4: special or unknown Other, or another epoch
// (STALE_STATEID in 4.0, BAD_STATEID in 4.1) — then a file other than the
// current filehandle's, another client than the session's (4.1), revoked
// state (ADMIN_REVOKED or EXPIRED), a stateid of the wrong type — then a
// newer seqid (BAD_STATEID) or an older one (OLD_STATEID; 0 means
// "current" in 4.1).
//
// # Owner seqids (4.0)
//
// In 4.0, OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, LOCK and LOCKU carry
// the seqid of their open-owner or lock-owner (RFC 7530 section 9.1.7): it
// must be the owner's last seqid plus one; a request repeating the last
// seqid is a retransmission, answered with the cached reply of the last
// request (*Replay); anything else is NFS4ERR_BAD_SEQID. These operations
// return a *Seq that holds the owner until the server has encoded the
// operation's result and handed it to Seq.Done, which advances the owner's
// seqid (unless the status is one of the errors RFC 7530 section 9.1.7
// excepts) and caches the reply. The first OPEN of a new 4.0 open-owner
// asks for OPEN_CONFIRM (RFC 7530 section 16.18). In 4.1 the session's
// slots replace all this (RFC 8881 section 8.13): the seqid arguments are
// ignored, no confirmation is needed and the returned *Seq is nil.
//
// # Concurrency
//
// One mutex guards the Table's maps and the fields of its records; it is
// never held while the lock.Manager is called. The operations of one
// owner are serialized by the owner's own mutex (held across the
// lock.Manager call and, in 4.0, until Seq.Done); operations of different
// owners run in parallel. Lock order: open-owner, then lock-owner, then
// the Table's mutex.
//
// # Limits
//
// Owners and stateids are bounded per client and per Table (Limits);
// when an owner limit is reached, the least recently used idle owner
// (without state) of the requesting client is reclaimed, if any. Exceeding a limit is NFS4ERR_RESOURCE in 4.0 and NFS4ERR_DELAY
// in 4.1, whose operations do not list NFS4ERR_RESOURCE (as Linux nfsd,
// which answers NFS4ERR_DELAY to failed state allocations).
package open

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// MaxOwnerLen bounds the owner of open_owner4 and lock_owner4
// (NFS4_OPAQUE_LIMIT).
const MaxOwnerLen = 1024

// Share access and deny bits of OPEN (OPEN4_SHARE_ACCESS_READ/WRITE/BOTH,
// OPEN4_SHARE_DENY_NONE/READ/WRITE/BOTH); they are those of lock.Share.
const (
	ShareRead  = lock.ShareRead
	ShareWrite = lock.ShareWrite
	ShareBoth  = ShareRead | ShareWrite
)

// Defaults of Limits.
const (
	DefaultMaxOwners            = 1 << 16
	DefaultMaxStateids          = 1 << 18
	DefaultMaxOwnersPerClient   = 4096
	DefaultMaxStateidsPerClient = 16384
	DefaultMaxReply             = 2048
	// releasedRing is how many released clientids are remembered, so
	// that an operation that raced with ReleaseClient cannot create
	// state for a client that is gone.
	releasedRing = 1024
	// expiredStateids is how many stateids of released clients are
	// remembered, so that a client using one after its lease expired
	// (or after it rebooted) is told NFS4ERR_EXPIRED, not
	// NFS4ERR_BAD_STATEID (RFC 7530 section 9.6.3, RFC 8881 section
	// 8.3). Older ones are NFS4ERR_BAD_STATEID.
	expiredStateids = 1 << 16
)

// Limits bound a Table. Zero fields take the defaults.
type Limits struct {
	// MaxOwners bounds the open-owners plus lock-owners of the Table,
	// MaxOwnersPerClient those of one client.
	MaxOwners, MaxOwnersPerClient int
	// MaxStateids bounds the open and lock stateids of the Table,
	// MaxStateidsPerClient those of one client (one open stateid per
	// open-owner and file, one lock stateid per lock-owner and file).
	MaxStateids, MaxStateidsPerClient int
	// MaxReply bounds a cached 4.0 reply (Seq.Done); a longer one is not
	// cached and its retransmission gets NFS4ERR_SERVERFAULT.
	MaxReply int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxOwners, DefaultMaxOwners)
	def(&l.MaxOwnersPerClient, DefaultMaxOwnersPerClient)
	def(&l.MaxStateids, DefaultMaxStateids)
	def(&l.MaxStateidsPerClient, DefaultMaxStateidsPerClient)
	def(&l.MaxReply, DefaultMaxReply)
	return l
}

// Caller is what an operation needs to know of its COMPOUND: the minor
// version, and the client: in 4.1 the client of the session (a stateid of
// another client is NFS4ERR_BAD_STATEID); in 4.0 the clientid of the
// open_owner4 or lock_owner4 argument where the operation has one (OPEN,
// LOCK with a new lock-owner, LOCKT), unused otherwise.
type Caller struct {
	Minor    uint32
	Clientid uint64
}

// ClientKey returns the lock.Owner.Client of an NFSv4 client's shares and
// locks in the lock.Manager.
func ClientKey(clientid uint64) string { return "nfs4:" + strconv.FormatUint(clientid, 10) }

type kind uint8

const (
	kindOpen kind = 1
	kindLock kind = 2
)

// Table is the open and lock state of one virtual server. It is safe for
// concurrent use.
type Table struct {
	locks *lock.Manager
	epoch uint32
	lim   Limits
	next  atomic.Uint64 // last stateid counter issued

	mu       sync.Mutex
	clients  map[uint64]*client
	states   map[uint64]*state
	files    map[lock.FileID]*fileInfo // deny bits of the opens, for CheckIO
	nowners  int
	nstates  int
	tick     uint64 // orders owners by last use, for reaping
	released map[uint64]bool
	ring     []uint64 // released, in order (bounded by releasedRing)
	// expired holds the ids of the stateids ReleaseClient dropped;
	// expiredRing orders them (a circular buffer of expiredStateids,
	// expiredNext its next slot).
	expired     map[uint64]struct{}
	expiredRing []uint64
	expiredNext int
}

// client is the state of one clientid.
type client struct {
	id  uint64
	key string
	// owners by kind-1 and owner bytes.
	owners   [2]map[string]*owner
	nowners  int
	nstates  int // records in Table.states, of which:
	nclosed  int // 4.0 closed opens kept for a CLOSE retransmission
	nrevoked int // revoked, not yet freed
}

// owner is an open-owner or a lock-owner (open_owner4, lock_owner4).
type owner struct {
	// mu serializes the operations of the owner (see Concurrency).
	mu   sync.Mutex
	kind kind
	c    *client
	name string
	lk   lock.Owner

	// The rest is guarded by Table.mu.
	dead      bool // removed from the Table (ReleaseClient, reaping)
	refs      int  // operations using the owner
	confirmed bool // open-owner: OPEN_CONFIRM done, or 4.1
	seq       seqCache
	states    map[lock.FileID]*state
	// lastClosed is the open a 4.0 CLOSE closed, kept until the owner's
	// next seqid so that a retransmitted CLOSE finds its owner.
	lastClosed *state
	lastUsed   uint64
}

// seqCache is an owner's last seqid and reply (RFC 7530 section 9.1.9).
type seqCache struct {
	valid  bool // a seqid has been used
	last   uint32
	reply  []byte
	cached bool // reply holds the reply of last
}

// state is an open stateid or a lock stateid.
type state struct {
	id    uint64
	kind  kind
	file  lock.FileID
	owner *owner
	seqid uint32
	// gone: removed from the Table; closed: a 4.0 closed open kept for
	// replay; revoked: the status uses of the stateid get.
	gone    bool
	closed  bool
	revoked nfserr.Status

	// Open: the share access and deny held, and the (access, deny)
	// pairs of the OPENs in effect (bit access|deny<<2), for
	// OPEN_DOWNGRADE.
	access, deny uint8
	used         uint16
	locks        map[*state]struct{} // lock stateids derived from it

	// Lock: the open it derives from and the ranges it holds in the
	// lock.Manager.
	open *state
	held rangeSet
}

type fileInfo struct {
	denyRead, denyWrite int
	writers             map[uint64]int // opens with write access, by client
}

// New returns the Table of a vserver whose lock manager is m and whose
// current instance is epoch (it must differ from the epochs of earlier
// instances, e.g. the boot time in seconds).
func New(m *lock.Manager, epoch uint32, lim Limits) *Table {
	if m == nil {
		panic("open: New without a lock.Manager")
	}
	return &Table{locks: m, epoch: epoch, lim: lim.withDefaults()}
}

// Epoch returns the epoch the Table was made with.
func (t *Table) Epoch() uint32 { return t.epoch }

// AllocOther returns a new stateid Other from the Table's space (epoch and
// counter), for stateids kept elsewhere (delegations, layouts), so that no
// two stateids of the vserver share an Other. The Table answers
// NFS4ERR_BAD_STATEID for it.
func (t *Table) AllocOther() [12]byte { return t.other(t.next.Add(1)) }

// resource is the status of an exhausted limit (see Limits).
func resource(minor uint32) nfserr.Status {
	if minor == 0 {
		return nfserr.Resource
	}
	return nfserr.Delay
}

// lockErr maps an error of the lock.Manager.
func lockErr(err error, minor uint32) nfserr.Status {
	switch err {
	case nil:
		return nfserr.OK
	case lock.ErrConflict:
		return nfserr.Denied
	case lock.ErrGrace:
		return nfserr.Grace
	case lock.ErrNoGrace:
		return nfserr.NoGrace
	case lock.ErrNoLocks, lock.ErrTooManyWaiters:
		return resource(minor)
	case lock.ErrDeadlock:
		return nfserr.Deadlock
	case lock.ErrInvalid:
		return nfserr.Inval
	}
	return nfserr.Serverfault
}

// lookupLocked finds the state a non-special stateid names, including
// closed and revoked ones.
func (t *Table) lookupLocked(c Caller, s Stateid) (*state, error) {
	if IsSpecial(s) {
		return nil, nfserr.BadStateid
	}
	epoch, id := splitOther(s.Other)
	if epoch != t.epoch {
		if c.Minor == 0 {
			return nil, nfserr.StaleStateid
		}
		return nil, nfserr.BadStateid
	}
	st := t.states[id]
	if st == nil {
		if _, ok := t.expired[id]; ok {
			return nil, nfserr.Expired
		}
		return nil, nfserr.BadStateid
	}
	return st, nil
}

// noteExpiredLocked remembers the id of a live stateid ReleaseClient
// drops, forgetting the oldest beyond expiredStateids.
func (t *Table) noteExpiredLocked(id uint64) {
	if t.expired == nil {
		t.expired = make(map[uint64]struct{})
		t.expiredRing = make([]uint64, 0, 1024)
	}
	if len(t.expiredRing) < expiredStateids {
		t.expiredRing = append(t.expiredRing, id)
	} else {
		delete(t.expired, t.expiredRing[t.expiredNext])
		t.expiredRing[t.expiredNext] = id
		t.expiredNext = (t.expiredNext + 1) % expiredStateids
	}
	t.expired[id] = struct{}{}
}

// validateLocked applies the checks of RFC 8881 section 8.2.4 (RFC 7530
// section 9.1.4.3) that follow the lookup: file (if file is not nil),
// client (4.1), revocation, confirmation of a 4.0 open-owner (unless
// unconfirmed is allowed: OPEN_CONFIRM) and seqid.
func (t *Table) validateLocked(c Caller, st *state, s Stateid, file *lock.FileID, unconfirmed bool) error {
	if st.gone || st.closed {
		return nfserr.BadStateid
	}
	if file != nil && st.file != *file {
		return nfserr.BadStateid
	}
	if c.Minor >= 1 && st.owner.c.id != c.Clientid {
		return nfserr.BadStateid
	}
	if st.revoked != 0 {
		return st.revoked
	}
	if c.Minor == 0 && !unconfirmed {
		if oo := openOwnerOf(st); oo != nil && !oo.confirmed {
			return nfserr.BadStateid
		}
	}
	return checkGeneration(c.Minor, s.Seqid, st.seqid)
}

func openOwnerOf(st *state) *owner {
	switch {
	case st.kind == kindOpen:
		return st.owner
	case st.open != nil:
		return st.open.owner
	}
	return nil
}

func (t *Table) stateidOf(st *state) Stateid { return Stateid{Seqid: st.seqid, Other: t.other(st.id)} }

func (t *Table) isReleasedLocked(clientid uint64) bool { return t.released[clientid] }

// clientLocked returns the record of clientid, creating it.
func (t *Table) clientLocked(clientid uint64) *client {
	cl := t.clients[clientid]
	if cl == nil {
		cl = &client{id: clientid, key: ClientKey(clientid)}
		if t.clients == nil {
			t.clients = map[uint64]*client{}
		}
		t.clients[clientid] = cl
	}
	return cl
}

// newOwnerLocked creates an owner, reclaiming an idle owner of the client
// if a limit is reached.
func (t *Table) newOwnerLocked(clientid uint64, k kind, name string, minor uint32) (*owner, error) {
	if t.isReleasedLocked(clientid) {
		return nil, nfserr.Expired
	}
	cl := t.clientLocked(clientid)
	if cl.nowners >= t.lim.MaxOwnersPerClient || t.nowners >= t.lim.MaxOwners {
		if !t.reapOwnerLocked(cl) {
			t.dropClientIfEmptyLocked(cl)
			return nil, resource(minor)
		}
		cl = t.clientLocked(clientid) // the reaping may have dropped it
	}
	o := &owner{kind: k, c: cl, name: name, confirmed: minor >= 1}
	prefix := "o:"
	if k == kindLock {
		prefix = "l:"
	}
	o.lk = lock.Owner{Client: cl.key, ID: prefix + name}
	m := cl.owners[k-1]
	if m == nil {
		m = map[string]*owner{}
		cl.owners[k-1] = m
	}
	m[name] = o
	cl.nowners++
	t.nowners++
	return o, nil
}

// reapOwnerLocked removes the least recently used owner of cl that holds
// no state and is not in use, and reports whether there was one.
func (t *Table) reapOwnerLocked(cl *client) bool {
	var victim *owner
	for _, m := range cl.owners {
		for _, o := range m {
			if o.refs == 0 && len(o.states) == 0 && (victim == nil || o.lastUsed < victim.lastUsed) {
				victim = o
			}
		}
	}
	if victim == nil {
		return false
	}
	t.removeOwnerLocked(victim)
	return true
}

// removeOwnerLocked removes an owner that holds no state but perhaps a
// closed open kept for replay.
func (t *Table) removeOwnerLocked(o *owner) {
	if o.dead {
		return
	}
	if o.lastClosed != nil {
		t.removeStateLocked(o.lastClosed)
	}
	for _, st := range o.states {
		t.removeStateLocked(st)
	}
	o.dead = true
	cl := o.c
	if cl.owners[o.kind-1][o.name] == o {
		delete(cl.owners[o.kind-1], o.name)
	}
	cl.nowners--
	t.nowners--
	t.dropClientIfEmptyLocked(cl)
}

func (t *Table) dropClientIfEmptyLocked(cl *client) {
	if cl.nowners == 0 && cl.nstates == 0 && t.clients[cl.id] == cl {
		delete(t.clients, cl.id)
	}
}

// findOwnerLocked returns the live owner of a client, or nil.
func (t *Table) findOwnerLocked(clientid uint64, k kind, name string) *owner {
	cl := t.clients[clientid]
	if cl == nil {
		return nil
	}
	return cl.owners[k-1][name]
}

// getOwner returns the owner, locked and referenced, creating it if
// create is set (else it returns nil, nil for an unknown owner).
func (t *Table) getOwner(clientid uint64, k kind, name string, create bool, minor uint32) (*owner, error) {
	for {
		t.mu.Lock()
		o := t.findOwnerLocked(clientid, k, name)
		if o == nil {
			if !create {
				t.mu.Unlock()
				return nil, nil
			}
			var err error
			o, err = t.newOwnerLocked(clientid, k, name, minor)
			if err != nil {
				t.mu.Unlock()
				return nil, err
			}
		}
		o.refs++
		t.mu.Unlock()
		o.mu.Lock()
		t.mu.Lock()
		dead := o.dead
		if dead {
			o.refs--
		}
		t.mu.Unlock()
		if !dead {
			return o, nil
		}
		o.mu.Unlock()
	}
}

// lockStateOwner finds the state s names (closed and revoked ones too)
// and returns it with its owner locked and referenced. want, if not 0, is
// the kind of stateid the operation takes (another kind is
// NFS4ERR_BAD_STATEID).
func (t *Table) lockStateOwner(c Caller, s Stateid, want kind) (*state, *owner, error) {
	t.mu.Lock()
	st, err := t.lookupLocked(c, s)
	if err == nil && want != 0 && st.kind != want {
		err = nfserr.BadStateid
	}
	if err != nil {
		t.mu.Unlock()
		return nil, nil, err
	}
	o := st.owner
	o.refs++
	t.mu.Unlock()
	o.mu.Lock()
	t.mu.Lock()
	dead := o.dead
	if dead {
		o.refs--
	}
	t.mu.Unlock()
	if dead {
		o.mu.Unlock()
		return nil, nil, nfserr.BadStateid
	}
	return st, o, nil
}

// releaseOwnerLocked ends an operation's use of o (called with o.mu and
// t.mu held; the caller unlocks o.mu). An owner left without state is
// dropped in 4.1 (no seqid to remember) and, for an unconfirmed 4.0
// open-owner, too (its next OPEN would replace it anyway).
func (t *Table) releaseOwnerLocked(o *owner, minor uint32) {
	o.refs--
	t.tick++
	o.lastUsed = t.tick
	if o.dead || o.refs > 0 || len(o.states) > 0 || o.lastClosed != nil {
		return
	}
	if minor >= 1 || (o.kind == kindOpen && !o.confirmed) {
		t.removeOwnerLocked(o)
	}
}

// reserveStateLocked checks the stateid limits for one more state of cl.
func (t *Table) reserveStateLocked(cl *client, minor uint32) error {
	if cl.nstates >= t.lim.MaxStateidsPerClient || t.nstates >= t.lim.MaxStateids {
		return resource(minor)
	}
	return nil
}

// newStateLocked creates a state (seqid 0 until the operation succeeds)
// and links it to its owner; reserveStateLocked must have passed.
func (t *Table) newStateLocked(o *owner, k kind, file lock.FileID) *state {
	st := &state{id: t.next.Add(1), kind: k, file: file, owner: o}
	if t.states == nil {
		t.states = map[uint64]*state{}
	}
	t.states[st.id] = st
	t.nstates++
	o.c.nstates++
	if o.states == nil {
		o.states = map[lock.FileID]*state{}
	}
	o.states[file] = st
	return st
}

// removeStateLocked removes a state from the Table (not from the
// lock.Manager).
func (t *Table) removeStateLocked(st *state) {
	if st.gone {
		return
	}
	st.gone = true
	delete(t.states, st.id)
	t.nstates--
	o := st.owner
	cl := o.c
	cl.nstates--
	if st.closed {
		cl.nclosed--
	}
	if o.lastClosed == st {
		o.lastClosed = nil
	}
	if st.revoked != 0 {
		cl.nrevoked--
	}
	if o.states[st.file] == st {
		delete(o.states, st.file)
	}
	switch st.kind {
	case kindOpen:
		t.setBitsLocked(st, 0, 0)
	case kindLock:
		if st.open != nil {
			delete(st.open.locks, st)
		}
		st.held = nil
	}
	if o.dead {
		t.dropClientIfEmptyLocked(cl)
	}
}

// setBitsLocked sets an open's share bits, keeping the files' deny counts.
func (t *Table) setBitsLocked(st *state, access, deny uint8) {
	wasW, isW := st.access&ShareWrite != 0, access&ShareWrite != 0
	if st.deny != deny || wasW != isW {
		fi := t.files[st.file]
		if fi == nil {
			fi = &fileInfo{}
			if t.files == nil {
				t.files = map[lock.FileID]*fileInfo{}
			}
			t.files[st.file] = fi
		}
		if st.deny&ShareRead != 0 {
			fi.denyRead--
		}
		if st.deny&ShareWrite != 0 {
			fi.denyWrite--
		}
		if deny&ShareRead != 0 {
			fi.denyRead++
		}
		if deny&ShareWrite != 0 {
			fi.denyWrite++
		}
		id := st.owner.c.id
		switch {
		case wasW && !isW:
			if fi.writers[id]--; fi.writers[id] <= 0 {
				delete(fi.writers, id)
			}
		case isW && !wasW:
			if fi.writers == nil {
				fi.writers = make(map[uint64]int)
			}
			fi.writers[id]++
		}
		if fi.denyRead == 0 && fi.denyWrite == 0 && len(fi.writers) == 0 {
			delete(t.files, st.file)
		}
	}
	st.access, st.deny = access, deny
}

// ReleaseClient drops all the state of a client: its owners, opens, lock
// stateids, and its shares and locks in the lock.Manager (lease expiry,
// DESTROY_CLIENTID, a client's reboot). Clientids must not be reused:
// the Table refuses new owners for the last released ones, in case an
// operation raced with the release.
func (t *Table) ReleaseClient(clientid uint64) {
	t.mu.Lock()
	if cl := t.clients[clientid]; cl != nil {
		for _, m := range cl.owners {
			for _, o := range m {
				for _, st := range o.states {
					if !st.closed {
						t.noteExpiredLocked(st.id)
					}
					t.removeStateLocked(st)
				}
				if o.lastClosed != nil {
					t.removeStateLocked(o.lastClosed)
				}
				o.dead = true
			}
		}
		t.nowners -= cl.nowners
		cl.nowners = 0
		cl.owners = [2]map[string]*owner{}
		delete(t.clients, clientid)
	}
	if !t.released[clientid] {
		if t.released == nil {
			t.released = map[uint64]bool{}
		}
		t.released[clientid] = true
		t.ring = append(t.ring, clientid)
		if len(t.ring) > releasedRing {
			delete(t.released, t.ring[0])
			t.ring = append(t.ring[:0], t.ring[1:]...)
		}
	}
	t.mu.Unlock()
	t.locks.UnlockClient(ClientKey(clientid))
}

// HasState reports whether the client has opens or lock stateids
// (revoked ones not yet freed included), as DESTROY_CLIENTID must know
// (RFC 8881 section 18.50.3).
func (t *Table) HasState(clientid uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cl := t.clients[clientid]
	return cl != nil && cl.nstates-cl.nclosed > 0
}

// ClientOf returns the client of an open or lock stateid the Table
// knows (revoked or closed ones too), so that the server can renew its
// lease: in 4.0 every operation with a stateid does (RFC 7530 section
// 9.6).
func (t *Table) ClientOf(s Stateid) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, err := t.lookupLocked(Caller{}, s)
	if err != nil {
		return 0, false
	}
	return st.owner.c.id, true
}

// WriteOpeners reports whether a client other than client has file open
// with write access or denying reads (no read delegation is granted then,
// RFC 8881 section 10.4.1).
func (t *Table) WriteOpeners(file lock.FileID, client uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	fi := t.files[file]
	if fi == nil {
		return false
	}
	if fi.denyRead > 0 || len(fi.writers) > 1 {
		return true
	}
	for id := range fi.writers {
		if id != client {
			return true
		}
	}
	return false
}

// Revoked returns the number of revoked stateids of the client not yet
// freed (for SEQUENCE's SEQ4_STATUS_*_STATE_REVOKED flags).
func (t *Table) Revoked(clientid uint64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cl := t.clients[clientid]; cl != nil {
		return cl.nrevoked
	}
	return 0
}

// release is a share or the locks of a state to drop from the lock.Manager.
type release struct {
	file  lock.FileID
	owner lock.Owner
	share bool
	// ranges, if not nil, are the ranges to unlock, not the whole file:
	// those one lock stateid held, so that a lock the same lock-owner
	// takes meanwhile through another stateid is left alone.
	ranges []lock.Range
}

func (t *Table) drop(rel []release) {
	for _, r := range rel {
		if r.share {
			t.locks.Unshare(r.file, r.owner)
		} else if r.ranges != nil {
			for _, rg := range r.ranges {
				// Exactly a range held: no split, no failure.
				_ = t.locks.Unlock(r.file, r.owner, rg)
			}
		} else {
			// An unlock of everything never splits, so it cannot fail.
			_ = t.locks.Unlock(r.file, r.owner, lock.Range{Start: 0, End: lock.EOF})
		}
	}
}

// revoke marks the live states that match as revoked with status and
// drops their shares and locks. It returns the number of states revoked.
func (t *Table) revoke(match func(*state) bool, status nfserr.Status) int {
	var rel []release
	n := 0
	t.mu.Lock()
	for _, st := range t.states {
		if st.gone || st.closed || st.revoked != 0 || !match(st) {
			continue
		}
		n++
		st.revoked = status
		st.owner.c.nrevoked++
		switch st.kind {
		case kindOpen:
			t.setBitsLocked(st, 0, 0)
			rel = append(rel, release{file: st.file, owner: st.owner.lk, share: true})
		case kindLock:
			if len(st.held) > 0 {
				rel = append(rel, release{file: st.file, owner: st.owner.lk})
			}
			st.held = nil
		}
	}
	t.mu.Unlock()
	t.drop(rel)
	return n
}

// RevokeExport revokes every open and lock stateid on files of export id
// (the administrator withdrew it): their shares and locks are dropped
// and their later use is NFS4ERR_ADMIN_REVOKED until freed (FREE_STATEID,
// 4.1) or the client goes. It returns the number of stateids revoked.
func (t *Table) RevokeExport(id uint32) int {
	return t.revoke(func(st *state) bool { return st.file.Export == id }, nfserr.AdminRevoked)
}

// RevokeClient revokes every open and lock stateid of a client with
// status (nfserr.Expired for a lease that expired while the client's
// record is kept, nfserr.AdminRevoked), keeping the stateids so that their
// use answers status (RFC 8881 section 8.2.4).
func (t *Table) RevokeClient(clientid uint64, status nfserr.Status) int {
	return t.revoke(func(st *state) bool { return st.owner.c.id == clientid }, status)
}

// Stats are counts of a Table's records.
type Stats struct {
	Clients, OpenOwners, LockOwners, Opens, LockStateids, Revoked int
}

// Stats returns the current counts.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Stats{Clients: len(t.clients)}
	for _, cl := range t.clients {
		s.OpenOwners += len(cl.owners[kindOpen-1])
		s.LockOwners += len(cl.owners[kindLock-1])
	}
	for _, st := range t.states {
		switch {
		case st.closed:
		case st.revoked != 0:
			s.Revoked++
		case st.kind == kindOpen:
			s.Opens++
		default:
			s.LockStateids++
		}
	}
	return s
}
