package state

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// session is one NFSv4.1 session. The fields above mu are fixed at
// creation (cbProgram and conns are guarded by Table.mu); the slot table
// is guarded by mu.
type session struct {
	id        SessionID
	client    *client
	t         *Table
	fore      ChannelAttrs
	back      ChannelAttrs
	flags     uint32
	reserved  int64              // reply cache bytes reserved
	cbProgram uint32             // under Table.mu
	conns     map[ConnKey]uint32 // CDFS4 bits; under Table.mu

	mu       sync.Mutex
	dead     bool
	inflight int
	slots    []slot
}

// slot is one entry of a session's fore channel slot table (RFC 8881
// section 2.10.6.1).
type slot struct {
	seqid     uint32 // sequence ID of the last request accepted
	used      bool   // a request was accepted (seqid is meaningful)
	inUse     bool   // that request is being executed
	cacheThis bool   // its sa_cachethis
	cached    bool   // reply holds its reply
	reply     []byte // read-only once stored: replays share it
}

// killLocked marks the session dead and drops its cached replies; s.mu
// must be held.
func (s *session) killLocked() {
	s.dead = true
	for i := range s.slots {
		s.slots[i].reply = nil
		s.slots[i].cached = false
	}
}

// unindexSessionLocked removes a dead session from the table's maps and
// returns its reply cache reservation; t.mu must be held for writing.
func (t *Table) unindexSessionLocked(s *session) {
	if t.sessions[s.id] != s {
		return
	}
	delete(t.sessions, s.id)
	for conn := range s.conns {
		t.unbindIndexLocked(conn, s)
	}
	s.conns = nil
	t.cacheReserved -= s.reserved
}

func (t *Table) unbindIndexLocked(conn ConnKey, s *session) {
	if m := t.connSessions[conn]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(t.connSessions, conn)
		}
	}
}

// bindLocked binds conn to s's channels dir (CDFS4 bits), replacing an
// earlier binding; t.mu must be held for writing.
func (t *Table) bindLocked(s *session, conn ConnKey, dir uint32) {
	s.conns[conn] = dir
	m := t.connSessions[conn]
	if m == nil {
		m = make(map[*session]struct{})
		t.connSessions[conn] = m
	}
	m[s] = struct{}{}
}

// CreateSessionArgs are the arguments of CREATE_SESSION (RFC 8881 section
// 18.36) with the request's principal and connection.
type CreateSessionArgs struct {
	ClientID   uint64 // csa_clientid
	SequenceID uint32 // csa_sequenceid
	Flags      uint32 // csa_flags
	Fore       ChannelAttrs
	Back       ChannelAttrs
	CbProgram  uint32
	Principal  string
	// Conn is the connection the request came on; it is bound to the
	// fore channel, and to the back channel with
	// CREATE_SESSION4_FLAG_CONN_BACK_CHAN.
	Conn ConnKey
}

// CreateSessionResult is CREATE_SESSION4resok.
type CreateSessionResult struct {
	SessionID  SessionID
	SequenceID uint32
	Flags      uint32
	Fore       ChannelAttrs
	Back       ChannelAttrs
}

func (r *CreateSessionResult) clone() CreateSessionResult {
	c := *r
	c.Fore.RDMAIrd = nil
	c.Back.RDMAIrd = nil
	return c
}

// CreateSession is CREATE_SESSION, RFC 8881 section 18.36.4.
//
// The client ID must be a confirmed or unconfirmed record of EXCHANGE_ID
// (else NFS4ERR_STALE_CLIENTID). Its CREATE_SESSION slot decides by
// csa_sequenceid: for a confirmed record, the sequence ID of the last
// successful CREATE_SESSION is a replay and gets that result again (even
// if the session has since been destroyed), the next one is a new request,
// any other NFS4ERR_SEQ_MISORDERED; an unconfirmed record accepts only
// eir_sequenceid (NFS4ERR_SEQ_MISORDERED otherwise) and a principal other
// than EXCHANGE_ID's gets NFS4ERR_CLID_INUSE. A successful CREATE_SESSION
// confirms an unconfirmed record; a confirmed record of the same owner
// (client restart) is then destroyed and its state released.
//
// The channel attributes are negotiated: ca_headerpadsize 0, sizes and
// ca_maxoperations clamped to the server's, ca_maxresponsesize_cached to
// MaxCachedReply, ca_maxrequests to [1, MaxForeSlots] (fewer if the reply
// cache memory would exceed MaxCacheMemory), no RDMA; NFS4ERR_TOOSMALL for
// sizes below MinRequestSize/MinResponseSize (or a back channel with fewer
// than MinBackOperations operations). csr_flags keep only
// CREATE_SESSION4_FLAG_CONN_BACK_CHAN (no persistence, no RDMA).
// NFS4ERR_NOSPC when the client has MaxSessionsPerClient sessions.
func (t *Table) CreateSession(a CreateSessionArgs) (CreateSessionResult, error) {
	if t.stale(a.ClientID) {
		return CreateSessionResult{}, nfserr.StaleClientid
	}
	var sid SessionID
	binary.BigEndian.PutUint32(sid[:4], t.epoch)
	if err := t.random(sid[4:]); err != nil {
		return CreateSessionResult{}, nfserr.Serverfault
	}
	var e effects
	t.mu.Lock()
	res, err := t.createSessionLocked(a, sid, &e)
	t.mu.Unlock()
	t.apply(&e)
	return res, err
}

func (t *Table) createSessionLocked(a CreateSessionArgs, sid SessionID, e *effects) (CreateSessionResult, error) {
	now := t.now()
	c := t.conf[a.ClientID]
	if c != nil && c.minor == 0 {
		return CreateSessionResult{}, nfserr.StaleClientid
	}
	if c != nil {
		switch a.SequenceID {
		case c.csSeq:
			if c.csCached == nil {
				return CreateSessionResult{}, nfserr.SeqMisordered
			}
			return c.csCached.clone(), nil
		case c.csSeq + 1:
		default:
			return CreateSessionResult{}, nfserr.SeqMisordered
		}
	} else {
		c = t.unconf[a.ClientID]
		if c == nil || c.minor == 0 {
			return CreateSessionResult{}, nfserr.StaleClientid
		}
		if c.principal != a.Principal {
			return CreateSessionResult{}, nfserr.ClidInuse
		}
		if a.SequenceID != c.csSeq+1 {
			return CreateSessionResult{}, nfserr.SeqMisordered
		}
	}
	if len(c.sessions) >= t.maxSessions {
		return CreateSessionResult{}, nfserr.Nospc
	}
	fore, err := t.negotiateFore(a.Fore)
	if err != nil {
		return CreateSessionResult{}, err
	}
	back, err := t.negotiateBack(a.Back)
	if err != nil {
		return CreateSessionResult{}, err
	}
	for t.sessions[sid] != nil { // 96 random bits: practically never
		if err := t.random(sid[4:]); err != nil {
			return CreateSessionResult{}, nfserr.Serverfault
		}
	}
	// Reply cache memory: fewer slots rather than smaller ones.
	per := int64(fore.MaxResponseSizeCached)
	if per > 0 {
		avail := max(t.maxCacheMem-t.cacheReserved, 0)
		if n := avail / per; n < int64(fore.MaxRequests) {
			fore.MaxRequests = uint32(max(n, 1))
		}
	}

	if !c.confirmed {
		if old := t.confByOwner[c.owner]; old != nil {
			t.destroyLocked(old, e, nil) // case 5 of EXCHANGE_ID
		}
		t.confirmRecordLocked(c, now)
	}
	s := &session{
		id:        sid,
		client:    c,
		t:         t,
		fore:      fore,
		back:      back,
		flags:     a.Flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
		reserved:  per * int64(fore.MaxRequests),
		cbProgram: a.CbProgram,
		conns:     make(map[ConnKey]uint32),
		slots:     make([]slot, fore.MaxRequests),
	}
	t.sessions[sid] = s
	t.cacheReserved += s.reserved
	if c.sessions == nil {
		c.sessions = make(map[SessionID]*session)
	}
	c.sessions[sid] = s
	dir := uint32(CDFS4_FORE)
	if s.flags&CREATE_SESSION4_FLAG_CONN_BACK_CHAN != 0 {
		dir = CDFS4_BOTH
	}
	t.bindLocked(s, a.Conn, dir)
	c.renew(now)

	res := CreateSessionResult{SessionID: sid, SequenceID: a.SequenceID, Flags: s.flags, Fore: fore, Back: back}
	c.csSeq = a.SequenceID
	c.csCached = &res
	return res.clone(), nil
}

func (t *Table) negotiateFore(ca ChannelAttrs) (ChannelAttrs, error) {
	if ca.MaxRequestSize < MinRequestSize || ca.MaxResponseSize < MinResponseSize {
		return ChannelAttrs{}, nfserr.Toosmall
	}
	return ChannelAttrs{
		MaxRequestSize:        min(ca.MaxRequestSize, t.maxReq),
		MaxResponseSize:       min(ca.MaxResponseSize, t.maxResp),
		MaxResponseSizeCached: min(ca.MaxResponseSizeCached, t.maxCached, min(ca.MaxResponseSize, t.maxResp)),
		MaxOperations:         min(ca.MaxOperations, t.maxOps),
		MaxRequests:           min(max(ca.MaxRequests, 1), t.maxFore),
	}, nil
}

// negotiateBack checks the back channel attributes: they bound the
// callbacks the server sends, the server keeps the client's sizes and
// caches nothing for the client.
func (t *Table) negotiateBack(ca ChannelAttrs) (ChannelAttrs, error) {
	if ca.MaxRequestSize < MinRequestSize || ca.MaxResponseSize < MinResponseSize || ca.MaxOperations < MinBackOperations {
		return ChannelAttrs{}, nfserr.Toosmall
	}
	return ChannelAttrs{
		MaxRequestSize:  ca.MaxRequestSize,
		MaxResponseSize: ca.MaxResponseSize,
		MaxOperations:   ca.MaxOperations,
		MaxRequests:     min(max(ca.MaxRequests, 1), t.maxBack),
	}, nil
}

// DestroySession is DESTROY_SESSION, RFC 8881 section 18.37. cur is the
// SEQUENCE of the compound carrying it (nil without one): when it is on the
// same session its own request does not count as in progress (the
// session may destroy itself as the last operation of its compound; the
// server enforces "last"). NFS4ERR_BADSESSION for an unknown session,
// NFS4ERR_DELAY while another request is in progress on it. The
// session's connections are unbound; cur.Done is still to be called and
// caches nothing.
func (t *Table) DestroySession(sid SessionID, cur *Seq) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[sid]
	if s == nil {
		return nfserr.Badsession
	}
	s.mu.Lock()
	n := s.inflight
	if cur != nil && cur.s == s && !cur.done && cur.Replay == nil {
		n--
	}
	if n > 0 {
		s.mu.Unlock()
		return nfserr.Delay
	}
	s.killLocked()
	s.mu.Unlock()
	t.unindexSessionLocked(s)
	delete(s.client.sessions, sid)
	return nil
}

// BindConnToSession is BIND_CONN_TO_SESSION, RFC 8881 section 18.34: it
// binds conn to the session's channels and returns bctsr_dir.
// CDFC4_FORE and CDFC4_BACK bind that channel, CDFC4_FORE_OR_BOTH and
// CDFC4_BACK_OR_BOTH both; another bctsa_dir gets NFS4ERR_INVAL, an
// unknown session NFS4ERR_BADSESSION. A new binding replaces the
// connection's earlier one. It renews the client's lease.
func (t *Table) BindConnToSession(sid SessionID, conn ConnKey, dir uint32) (uint32, error) {
	var got uint32
	switch dir {
	case CDFC4_FORE:
		got = CDFS4_FORE
	case CDFC4_BACK:
		got = CDFS4_BACK
	case CDFC4_FORE_OR_BOTH, CDFC4_BACK_OR_BOTH:
		got = CDFS4_BOTH
	default:
		return 0, nfserr.Inval
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[sid]
	if s == nil {
		return 0, nfserr.Badsession
	}
	t.bindLocked(s, conn, got)
	s.client.renew(now)
	return got, nil
}

// ConnClosed unbinds a closed connection from every session.
func (t *Table) ConnClosed(conn ConnKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.connSessions[conn] {
		delete(s.conns, conn)
	}
	delete(t.connSessions, conn)
}

// SessionInfo describes a session.
type SessionInfo struct {
	ClientID  uint64
	Flags     uint32
	Fore      ChannelAttrs
	Back      ChannelAttrs
	CbProgram uint32
	// ForeConns and BackConns are the connections bound to each channel.
	ForeConns []ConnKey
	BackConns []ConnKey
}

// Session describes a session; NFS4ERR_BADSESSION if there is none.
func (t *Table) Session(sid SessionID) (SessionInfo, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s := t.sessions[sid]
	if s == nil {
		return SessionInfo{}, nfserr.Badsession
	}
	info := SessionInfo{ClientID: s.client.id, Flags: s.flags, Fore: s.fore, Back: s.back, CbProgram: s.cbProgram}
	for conn, dir := range s.conns {
		if dir&CDFS4_FORE != 0 {
			info.ForeConns = append(info.ForeConns, conn)
		}
		if dir&CDFS4_BACK != 0 {
			info.BackConns = append(info.BackConns, conn)
		}
	}
	return info, nil
}

// SetCallbackProgram sets the session's callback program
// (BACKCHANNEL_CTL, RFC 8881 section 18.33); NFS4ERR_BADSESSION if there
// is no such session.
func (t *Table) SetCallbackProgram(sid SessionID, prog uint32) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[sid]
	if s == nil {
		return nfserr.Badsession
	}
	s.cbProgram = prog
	return nil
}

// SequenceArgs are SEQUENCE4args (RFC 8881 section 18.46) with the
// connection the request came on.
type SequenceArgs struct {
	SessionID     SessionID
	SequenceID    uint32
	SlotID        uint32
	HighestSlotID uint32
	// CacheThis is sa_cachethis. The server may also set it for a
	// compound of SEQUENCE alone, whose reply is small, so that its
	// retry is answered from the cache rather than with
	// NFS4ERR_RETRY_UNCACHED_REP.
	CacheThis bool
	// Conn is bound to the fore channel if it is not yet (state
	// protection SP4_NONE, RFC 8881 section 2.10.3.1).
	Conn ConnKey
}

// Seq is an accepted SEQUENCE: the result to encode (SEQUENCE4resok) and
// the slot held while the compound executes.
//
// For a new request Replay is nil: the server executes the rest of the
// compound and must then call Done exactly once (defer it), with the reply
// to cache. For a replay Replay holds the cached reply of the earlier
// request, to be sent again as it is; Done does nothing then. Replay is
// shared and read-only: it stays valid (the slot never writes into a
// stored reply) but must not be modified.
type Seq struct {
	SessionID SessionID
	ClientID  uint64
	// SequenceID and SlotID echo the request.
	SequenceID uint32
	SlotID     uint32
	// HighestSlotID is sr_highest_slotid and TargetHighestSlotID
	// sr_target_highest_slotid: the session's highest slot.
	HighestSlotID       uint32
	TargetHighestSlotID uint32
	// StatusFlags is sr_status_flags: those set with SetStatusFlags and
	// by Revoke. The server adds its own (for example
	// SEQ4_STATUS_CB_PATH_DOWN) before encoding.
	StatusFlags uint32
	// CacheThis is the request's sa_cachethis (or the server's choice,
	// see SequenceArgs.CacheThis).
	CacheThis bool
	// MaxRequestSize, MaxResponseSize, MaxResponseSizeCached and
	// MaxOperations are the session's fore channel limits, for the
	// server's NFS4ERR_REQ_TOO_BIG, NFS4ERR_REP_TOO_BIG,
	// NFS4ERR_REP_TOO_BIG_TO_CACHE and NFS4ERR_TOO_MANY_OPS checks.
	MaxRequestSize        uint32
	MaxResponseSize       uint32
	MaxResponseSizeCached uint32
	MaxOperations         uint32
	// Replay is the cached reply of a retried request.
	Replay []byte

	s    *session
	done bool // under s.mu
}

// Sequence is SEQUENCE, RFC 8881 section 18.46.3:
//
//   - an unknown session (or one of an earlier instance):
//     NFS4ERR_BADSESSION;
//   - sa_slotid above the session's highest slot: NFS4ERR_BADSLOT;
//     sa_highest_slotid above it: NFS4ERR_BAD_HIGH_SLOT;
//   - a slot whose request is still in progress: NFS4ERR_DELAY for the
//     same sequence ID (a retry), NFS4ERR_SEQ_MISORDERED for another;
//   - sa_sequenceid one more than the slot's: a new request; the slot's
//     cached reply is dropped and the slot is held until Done;
//   - sa_sequenceid equal to the slot's: a retry, answered with the cached
//     reply (Seq.Replay), or NFS4ERR_RETRY_UNCACHED_REP if the reply was
//     not cached (sa_cachethis was false, or it was too big);
//   - else (and the first request on a slot must use sequence ID 1):
//     NFS4ERR_SEQ_MISORDERED.
//
// A successful SEQUENCE renews the client's lease (a courtesy client comes
// back) and binds the connection to the fore channel.
func (t *Table) Sequence(a SequenceArgs) (*Seq, error) {
	t.mu.RLock()
	s := t.sessions[a.SessionID]
	bound := false
	if s != nil {
		bound = s.conns[a.Conn]&CDFS4_FORE != 0
	}
	t.mu.RUnlock()
	if s == nil {
		return nil, nfserr.Badsession
	}
	now := t.now()
	s.mu.Lock()
	q, err := s.sequenceLocked(a, now)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !bound {
		t.mu.Lock()
		if t.sessions[a.SessionID] == s {
			t.bindLocked(s, a.Conn, s.conns[a.Conn]|CDFS4_FORE)
		}
		t.mu.Unlock()
	}
	return q, nil
}

func (s *session) sequenceLocked(a SequenceArgs, now time.Time) (*Seq, error) {
	if s.dead {
		return nil, nfserr.Badsession
	}
	n := uint32(len(s.slots))
	if a.SlotID >= n {
		return nil, nfserr.Badslot
	}
	if a.HighestSlotID >= n {
		return nil, nfserr.BadHighSlot
	}
	sl := &s.slots[a.SlotID]
	if sl.inUse {
		if a.SequenceID == sl.seqid {
			return nil, nfserr.Delay
		}
		return nil, nfserr.SeqMisordered
	}
	q := &Seq{
		SessionID:             s.id,
		ClientID:              s.client.id,
		SequenceID:            a.SequenceID,
		SlotID:                a.SlotID,
		HighestSlotID:         n - 1,
		TargetHighestSlotID:   n - 1,
		CacheThis:             a.CacheThis,
		MaxRequestSize:        s.fore.MaxRequestSize,
		MaxResponseSize:       s.fore.MaxResponseSize,
		MaxResponseSizeCached: s.fore.MaxResponseSizeCached,
		MaxOperations:         s.fore.MaxOperations,
		s:                     s,
	}
	switch {
	case a.SequenceID == sl.seqid+1:
		sl.seqid = a.SequenceID
		sl.used = true
		sl.inUse = true
		sl.cacheThis = a.CacheThis
		sl.cached = false
		sl.reply = nil
		s.inflight++
	case a.SequenceID == sl.seqid && sl.used:
		if !sl.cached {
			return nil, nfserr.RetryUncachedRep
		}
		q.Replay = sl.reply
		q.CacheThis = sl.cacheThis
		q.done = true
	default:
		return nil, nfserr.SeqMisordered
	}
	s.client.renew(now)
	q.StatusFlags = s.client.status.Load()
	return q, nil
}

// Done ends the request of a new SEQUENCE: it releases the slot and, if
// the request had CacheThis, caches a copy of reply (the whole COMPOUND
// reply; the caller keeps its buffer) for a retry. A reply larger than
// MaxResponseSizeCached is not cached and Done returns
// NFS4ERR_REP_TOO_BIG_TO_CACHE (the server should have checked
// beforehand); a retry then gets NFS4ERR_RETRY_UNCACHED_REP. Done renews
// the lease. Done on a replay, a second Done, or Done after the session was
// destroyed does nothing.
func (q *Seq) Done(reply []byte) error {
	if q == nil || q.s == nil {
		return nil
	}
	s := q.s
	now := s.t.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.done {
		return nil
	}
	q.done = true
	s.inflight--
	if s.dead {
		return nil
	}
	sl := &s.slots[q.SlotID]
	sl.inUse = false
	s.client.renew(now)
	if !sl.cacheThis {
		return nil
	}
	if len(reply) > int(s.fore.MaxResponseSizeCached) {
		return nfserr.RepTooBigToCache
	}
	sl.reply = append(make([]byte, 0, len(reply)), reply...)
	sl.cached = true
	return nil
}
