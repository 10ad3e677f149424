// Package deleg keeps the read delegations of one virtual server's
// NFSv4.1/4.2 clients (RFC 8881 section 10.4): which client holds which
// file, their recall when another client or an NFSv3 caller is about to
// change the file, and their revocation when the holder does not return
// them in time.
//
// A delegation's stateid is allocated from the open table's space (its
// Other is unique among the vserver's stateids) and never changes seqid.
// The Table never calls out under its lock: recalls are started by the
// caller's Recall function in a goroutine of their own.
package deleg

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// Defaults of Config.
const (
	DefaultMax          = 1 << 16
	DefaultMaxPerClient = 4096
)

// Stateid is a delegation stateid.
type Stateid struct {
	Seqid uint32
	Other [12]byte
}

// Deleg is one read delegation. Its exported fields do not change.
type Deleg struct {
	Stateid Stateid
	Client  uint64
	File    lock.FileID
	FH      []byte // the file's filehandle, for CB_RECALL

	// Guarded by Table.mu.
	recalled time.Time // zero until a recall is started
	revoked  bool
}

// Config configures a Table.
type Config struct {
	// Alloc returns a new stateid Other (open.Table.AllocOther).
	Alloc func() [12]byte
	// Recall sends CB_RECALL for d; the Table calls it in a new
	// goroutine. It returns false if the client cannot be reached (no
	// back channel, or the call failed): the delegation is revoked at
	// once, since its holder cannot be told.
	Recall func(d *Deleg) bool
	// Timeout is how long a recalled delegation may stay unreturned
	// before it is revoked (the lease period, as in Linux nfsd).
	Timeout time.Duration
	// Max bounds the delegations of the Table, MaxPerClient those of a
	// client; no delegation is granted beyond them.
	Max, MaxPerClient int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Table holds a vserver's delegations.
type Table struct {
	cfg   Config
	live  atomic.Int64 // delegations not revoked, for the fast path of Conflict
	total atomic.Int64 // all delegations, for the fast path of stateid lookups

	mu       sync.Mutex
	byOther  map[[12]byte]*Deleg
	byFile   map[lock.FileID]map[*Deleg]struct{}
	byClient map[uint64]map[*Deleg]struct{}
	revoked  map[uint64]int // revoked, not yet freed, per client
	// recent holds the files whose delegations were recalled lately:
	// no delegation is granted on them until the time given, so that a
	// file shared for writing is not delegated and recalled over again.
	recent map[lock.FileID]time.Time
}

// New returns an empty Table.
func New(cfg Config) *Table {
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.MaxPerClient <= 0 {
		cfg.MaxPerClient = DefaultMaxPerClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 90 * time.Second
	}
	return &Table{cfg: cfg,
		byOther:  make(map[[12]byte]*Deleg),
		byFile:   make(map[lock.FileID]map[*Deleg]struct{}),
		byClient: make(map[uint64]map[*Deleg]struct{}),
		revoked:  make(map[uint64]int),
		recent:   make(map[lock.FileID]time.Time),
	}
}

// Grant gives client a read delegation on file, if the Table's rules
// allow: none is pending recall on the file, none was recalled on it
// within Timeout, the client holds none on it, and the limits are not
// reached. The caller has checked what the Table does not know: that the
// client's back channel is up and that no other client has the file
// open for writing.
func (t *Table) Grant(client uint64, file lock.FileID, fh []byte) (*Deleg, bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if until, ok := t.recent[file]; ok {
		if now.Before(until) {
			return nil, false
		}
		delete(t.recent, file)
	}
	for d := range t.byFile[file] {
		if d.Client == client || !d.recalled.IsZero() {
			return nil, false
		}
	}
	if len(t.byOther) >= t.cfg.Max || len(t.byClient[client]) >= t.cfg.MaxPerClient {
		return nil, false
	}
	d := &Deleg{Stateid: Stateid{Seqid: 1, Other: t.cfg.Alloc()}, Client: client, File: file,
		FH: append([]byte(nil), fh...)}
	t.byOther[d.Stateid.Other] = d
	t.total.Add(1)
	add(t.byFile, file, d)
	add(t.byClient, client, d)
	t.live.Add(1)
	return d, true
}

func add[K comparable](m map[K]map[*Deleg]struct{}, k K, d *Deleg) {
	s := m[k]
	if s == nil {
		s = make(map[*Deleg]struct{})
		m[k] = s
	}
	s[d] = struct{}{}
}

func del[K comparable](m map[K]map[*Deleg]struct{}, k K, d *Deleg) {
	if s := m[k]; s != nil {
		delete(s, d)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// Any reports whether any delegation is out (the fast path of the
// callers that must look a name up before Conflict).
func (t *Table) Any() bool { return t.live.Load() > 0 }

// Conflict reports whether file has delegations of clients other than
// client (0: an NFSv3 caller, or an anonymous stateid) that must be
// returned before the file changes, and starts their recall. The caller
// answers NFS4ERR_DELAY (NFS3ERR_JUKEBOX) and the client retries.
func (t *Table) Conflict(file lock.FileID, client uint64) bool {
	if t.live.Load() == 0 {
		return false
	}
	now := t.cfg.Now()
	var recall []*Deleg
	conflict := false
	t.mu.Lock()
	for d := range t.byFile[file] {
		if d.Client == client || d.revoked {
			continue
		}
		conflict = true
		if d.recalled.IsZero() {
			d.recalled = now
			recall = append(recall, d)
		}
	}
	if conflict {
		t.recent[file] = now.Add(t.cfg.Timeout)
	}
	t.mu.Unlock()
	for _, d := range recall {
		go t.recall(d)
	}
	return conflict
}

func (t *Table) recall(d *Deleg) {
	if t.cfg.Recall != nil && t.cfg.Recall(d) {
		return
	}
	t.mu.Lock()
	t.revokeLocked(d)
	t.mu.Unlock()
}

// revokeLocked revokes a live delegation: it no longer conflicts, and
// its stateid answers NFS4ERR_DELEG_REVOKED until FREE_STATEID.
func (t *Table) revokeLocked(d *Deleg) {
	if d.revoked || t.byOther[d.Stateid.Other] != d {
		return
	}
	d.revoked = true
	t.live.Add(-1)
	del(t.byFile, d.File, d)
	t.revoked[d.Client]++
}

func (t *Table) removeLocked(d *Deleg) {
	if t.byOther[d.Stateid.Other] != d {
		return
	}
	delete(t.byOther, d.Stateid.Other)
	t.total.Add(-1)
	del(t.byClient, d.Client, d)
	if d.revoked {
		if t.revoked[d.Client]--; t.revoked[d.Client] <= 0 {
			delete(t.revoked, d.Client)
		}
	} else {
		t.live.Add(-1)
		del(t.byFile, d.File, d)
	}
}

// Reap revokes the delegations recalled more than Timeout ago and not
// returned, and forgets old recall marks. It returns the number revoked.
func (t *Table) Reap(now time.Time) int {
	n := 0
	t.mu.Lock()
	defer t.mu.Unlock()
	for f, until := range t.recent {
		if !now.Before(until) {
			delete(t.recent, f)
		}
	}
	if t.live.Load() == 0 {
		return 0
	}
	for _, d := range t.byOther {
		if !d.revoked && !d.recalled.IsZero() && now.Sub(d.recalled) >= t.cfg.Timeout {
			t.revokeLocked(d)
			n++
		}
	}
	return n
}

// lookupLocked finds a delegation by stateid: nil if the Other is not a
// delegation's (the caller asks the open table), else the delegation and
// the status the stateid has for client (RFC 8881 section 8.2.4).
func (t *Table) lookupLocked(client uint64, minor uint32, s Stateid) (*Deleg, error) {
	d := t.byOther[s.Other]
	if d == nil {
		return nil, nil
	}
	if minor == 0 || d.Client != client {
		// NFSv4.0 clients hold no delegations; another client's is
		// not the caller's to use (RFC 8881 section 8.2.4).
		return d, nfserr.BadStateid
	}
	if d.revoked {
		return d, nfserr.DelegRevoked
	}
	switch {
	case s.Seqid == d.Stateid.Seqid, s.Seqid == 0 && minor >= 1:
		return d, nil
	case s.Seqid < d.Stateid.Seqid:
		return d, nfserr.OldStateid
	}
	return d, nfserr.BadStateid
}

// Known reports whether s names a delegation (live or revoked).
func (t *Table) Known(s Stateid) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byOther[s.Other] != nil
}

// CheckIO checks a delegation stateid presented by READ, WRITE or
// SETATTR on file. found is false if s is not a delegation's. A read
// delegation does not allow writing: NFS4ERR_OPENMODE (RFC 8881 section
// 9.1.2).
func (t *Table) CheckIO(client uint64, minor uint32, file lock.FileID, s Stateid, write bool) (found bool, err error) {
	if t.total.Load() == 0 {
		return false, nil // the common case: an open's or lock's stateid
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.lookupLocked(client, minor, s)
	if d == nil {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if d.File != file {
		return true, nfserr.BadStateid
	}
	if write {
		return true, nfserr.Openmode
	}
	return true, nil
}

// Return is DELEGRETURN (RFC 8881 section 18.6): the client gives back
// the delegation s of file. NFS4ERR_BAD_STATEID if s is no delegation of
// the client's on file; a revoked one is NFS4ERR_DELEG_REVOKED and
// stays until FREE_STATEID.
func (t *Table) Return(client uint64, minor uint32, file lock.FileID, s Stateid) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.lookupLocked(client, minor, s)
	if d == nil {
		return nfserr.BadStateid
	}
	if err != nil {
		return err
	}
	if d.File != file {
		return nfserr.BadStateid
	}
	t.removeLocked(d)
	return nil
}

// Test is TEST_STATEID for one stateid: found is false if s is not a
// delegation's.
func (t *Table) Test(client uint64, s Stateid) (found bool, status nfserr.Status) {
	if t.total.Load() == 0 {
		return false, nfserr.OK
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.lookupLocked(client, 1, s)
	if d == nil {
		return false, nfserr.OK
	}
	return true, nfserr.Of(err)
}

// Free is FREE_STATEID of a delegation stateid: a revoked delegation is
// forgotten; a live one must be returned (NFS4ERR_LOCKS_HELD, as for an
// open). found is false if s is not a delegation's.
func (t *Table) Free(client uint64, s Stateid) (found bool, err error) {
	if t.total.Load() == 0 {
		return false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.lookupLocked(client, 1, s)
	switch {
	case d == nil:
		return false, nil
	case err == nfserr.DelegRevoked:
		t.removeLocked(d)
		return true, nil
	case err != nil:
		return true, err
	}
	return true, nfserr.LocksHeld
}

// ReleaseClient drops every delegation of client (lease expiry,
// DESTROY_CLIENTID, a restarted client).
func (t *Table) ReleaseClient(client uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for d := range t.byClient[client] {
		t.removeLocked(d)
	}
}

// Revoked returns the number of revoked delegations of client not yet
// freed (SEQ4_STATUS_RECALLABLE_STATE_REVOKED, RFC 8881 section 18.46.3).
func (t *Table) Revoked(client uint64) int {
	if t.total.Load() == 0 {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.revoked[client]
}

// Holds reports whether client has delegations, revoked ones included.
func (t *Table) Holds(client uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byClient[client]) > 0
}

// HoldsLive reports whether client has delegations not revoked.
func (t *Table) HoldsLive(client uint64) bool {
	if t.live.Load() == 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for d := range t.byClient[client] {
		if !d.revoked {
			return true
		}
	}
	return false
}

// Held returns the live delegations of client.
func (t *Table) Held(client uint64) []*Deleg {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*Deleg
	for d := range t.byClient[client] {
		if !d.revoked {
			out = append(out, d)
		}
	}
	return out
}

// Stats are counts of a Table's delegations.
type Stats struct {
	Live, Recalled, Revoked int
}

// Stats returns the current counts.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	var s Stats
	for _, d := range t.byOther {
		switch {
		case d.revoked:
			s.Revoked++
		case !d.recalled.IsZero():
			s.Recalled++
			s.Live++
		default:
			s.Live++
		}
	}
	return s
}
