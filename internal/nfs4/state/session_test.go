package state

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

func TestCreateSessionSequenceID(t *testing.T) {
	e := newEnv(t, nil)
	r := e.exchange("x", "p1", 1)
	cs := func(seq uint32, principal string) (CreateSessionResult, error) {
		return e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: seq, Fore: foreAttrs, Back: backAttrs,
			Principal: principal, Conn: 1})
	}
	// Unconfirmed record: only eir_sequenceid, only its principal.
	_, err := cs(r.SequenceID-1, "p1")
	wantErr(t, "unconfirmed, replay sequence", err, nfserr.SeqMisordered)
	_, err = cs(r.SequenceID+1, "p1")
	wantErr(t, "unconfirmed, sequence+1", err, nfserr.SeqMisordered)
	_, err = cs(r.SequenceID, "p2")
	wantErr(t, "unconfirmed, other principal", err, nfserr.ClidInuse)
	if e.info(r.ClientID).Confirmed {
		t.Fatal("failed CREATE_SESSION confirmed the client")
	}

	first, err := cs(r.SequenceID, "p1")
	wantErr(t, "CREATE_SESSION", err, nfserr.OK)
	if !e.info(r.ClientID).Confirmed {
		t.Fatal("CREATE_SESSION did not confirm the client")
	}
	if first.SequenceID != r.SequenceID {
		t.Errorf("csr_sequenceid %d, want %d", first.SequenceID, r.SequenceID)
	}
	if binary.BigEndian.Uint32(first.SessionID[:4]) != 7 {
		t.Errorf("session ID %x does not start with the boot epoch", first.SessionID)
	}

	// Replay of the last CREATE_SESSION: the cached result, no new session.
	again, err := cs(r.SequenceID, "p1")
	wantErr(t, "replay", err, nfserr.OK)
	if !reflect.DeepEqual(again, first) {
		t.Errorf("replay result %+v, want %+v", again, first)
	}
	if n := len(e.info(r.ClientID).Sessions); n != 1 {
		t.Errorf("%d sessions after a replay, want 1", n)
	}
	_, err = cs(r.SequenceID+2, "p1")
	wantErr(t, "sequence+2", err, nfserr.SeqMisordered)
	_, err = cs(r.SequenceID-1, "p1")
	wantErr(t, "sequence-1", err, nfserr.SeqMisordered)

	second, err := cs(r.SequenceID+1, "p1")
	wantErr(t, "next CREATE_SESSION", err, nfserr.OK)
	if second.SessionID == first.SessionID {
		t.Error("second session has the first one's ID")
	}
	// EXCHANGE_ID on the confirmed record gives the next sequence ID.
	if r2 := e.exchange("x", "p1", 1); r2.SequenceID != r.SequenceID+2 || !r2.Confirmed {
		t.Errorf("EXCHANGE_ID after two CREATE_SESSIONs: %+v", r2)
	}
	// The cached result survives the destruction of its session.
	wantErr(t, "DESTROY_SESSION", e.tb.DestroySession(second.SessionID, nil), nfserr.OK)
	again, err = cs(r.SequenceID+1, "p1")
	wantErr(t, "replay after DESTROY_SESSION", err, nfserr.OK)
	if again.SessionID != second.SessionID {
		t.Errorf("replay after DESTROY_SESSION returned session %x, want %x", again.SessionID, second.SessionID)
	}
}

func TestCreateSessionClientID(t *testing.T) {
	e := newEnv(t, nil)
	id40 := e.client40("v40", "p", 1)
	tests := []struct {
		name string
		id   uint64
		want nfserr.Status
	}{
		{"earlier instance", 6<<32 | 1, nfserr.StaleClientid},
		{"unknown", 7<<32 | 12345, nfserr.StaleClientid},
		{"NFSv4.0 client", id40, nfserr.StaleClientid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.tb.CreateSession(CreateSessionArgs{ClientID: tc.id, SequenceID: 1, Fore: foreAttrs, Back: backAttrs})
			wantErr(t, "CREATE_SESSION", err, tc.want)
		})
	}
}

func TestCreateSessionAttrs(t *testing.T) {
	big := ChannelAttrs{HeaderPadSize: 512, MaxRequestSize: 1 << 30, MaxResponseSize: 1 << 30, MaxResponseSizeCached: 1 << 30,
		MaxOperations: 1000, MaxRequests: 1000, RDMAIrd: []uint32{4}}
	tests := []struct {
		name     string
		fore     ChannelAttrs
		back     ChannelAttrs
		flags    uint32
		want     nfserr.Status
		wantFore ChannelAttrs
		wantBack ChannelAttrs
		wantFl   uint32
	}{
		{
			name: "clamped to the server's limits",
			fore: big, back: big,
			flags:    CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN | CREATE_SESSION4_FLAG_CONN_RDMA,
			wantFore: ChannelAttrs{MaxRequestSize: DefaultMaxMessage, MaxResponseSize: DefaultMaxMessage, MaxResponseSizeCached: DefaultMaxCachedReply, MaxOperations: DefaultMaxOperations, MaxRequests: DefaultMaxForeSlots},
			wantBack: ChannelAttrs{MaxRequestSize: 1 << 30, MaxResponseSize: 1 << 30, MaxOperations: 1000, MaxRequests: DefaultMaxBackSlots},
			wantFl:   CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
		},
		{
			name:     "client's smaller values kept",
			fore:     ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 9000, MaxResponseSizeCached: 100, MaxOperations: 8, MaxRequests: 4},
			back:     backAttrs,
			wantFore: ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 9000, MaxResponseSizeCached: 100, MaxOperations: 8, MaxRequests: 4},
			wantBack: ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 1},
		},
		{
			name:     "no slots asked: one",
			fore:     ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 8192, MaxResponseSizeCached: 8192, MaxOperations: 8},
			back:     ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2},
			wantFore: ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 8192, MaxResponseSizeCached: DefaultMaxCachedReply, MaxOperations: 8, MaxRequests: 1},
			wantBack: ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 1},
		},
		{
			name: "cached size bounded by the response size",
			fore: ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 1000, MaxResponseSizeCached: 8192, MaxOperations: 8, MaxRequests: 2},
			back: backAttrs,
			wantFore: ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 1000, MaxResponseSizeCached: 1000, MaxOperations: 8,
				MaxRequests: 2},
			wantBack: ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 1},
		},
		{
			name: "minimum sizes",
			fore: ChannelAttrs{MaxRequestSize: MinRequestSize, MaxResponseSize: MinResponseSize, MaxOperations: 1, MaxRequests: 1},
			back: ChannelAttrs{MaxRequestSize: MinRequestSize, MaxResponseSize: MinResponseSize, MaxOperations: MinBackOperations, MaxRequests: 1},
			wantFore: ChannelAttrs{MaxRequestSize: MinRequestSize, MaxResponseSize: MinResponseSize, MaxOperations: 1,
				MaxRequests: 1},
			wantBack: ChannelAttrs{MaxRequestSize: MinRequestSize, MaxResponseSize: MinResponseSize, MaxOperations: MinBackOperations, MaxRequests: 1},
		},
		{name: "fore request size too small", fore: ChannelAttrs{MaxRequestSize: MinRequestSize - 1, MaxResponseSize: 8192}, back: backAttrs, want: nfserr.Toosmall},
		{name: "fore response size too small", fore: ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: MinResponseSize - 1}, back: backAttrs, want: nfserr.Toosmall},
		{name: "back request size too small", fore: foreAttrs, back: ChannelAttrs{MaxRequestSize: 10, MaxResponseSize: 4096, MaxOperations: 2}, want: nfserr.Toosmall},
		{name: "back response size too small", fore: foreAttrs, back: ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 10, MaxOperations: 2}, want: nfserr.Toosmall},
		{name: "back operations too few", fore: foreAttrs, back: ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 1}, want: nfserr.Toosmall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.exchange("x", "p", 1)
			res, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID, Flags: tc.flags,
				Fore: tc.fore, Back: tc.back, Principal: "p", Conn: 5})
			wantErr(t, "CREATE_SESSION", err, tc.want)
			if err != nil {
				if e.info(r.ClientID).Confirmed {
					t.Error("failed CREATE_SESSION confirmed the client")
				}
				return
			}
			if !reflect.DeepEqual(res.Fore, tc.wantFore) {
				t.Errorf("fore %+v, want %+v", res.Fore, tc.wantFore)
			}
			if !reflect.DeepEqual(res.Back, tc.wantBack) {
				t.Errorf("back %+v, want %+v", res.Back, tc.wantBack)
			}
			if res.Flags != tc.wantFl {
				t.Errorf("csr_flags %#x, want %#x", res.Flags, tc.wantFl)
			}
			si, err := e.tb.Session(res.SessionID)
			if err != nil {
				t.Fatal(err)
			}
			wantBack := []ConnKey(nil)
			if tc.wantFl&CREATE_SESSION4_FLAG_CONN_BACK_CHAN != 0 {
				wantBack = []ConnKey{5}
			}
			if !slices.Equal(si.ForeConns, []ConnKey{5}) || !slices.Equal(si.BackConns, wantBack) {
				t.Errorf("connections fore %v back %v, want [5] %v", si.ForeConns, si.BackConns, wantBack)
			}
		})
	}
}

func TestCreateSessionLimits(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.MaxSessionsPerClient = 2
		c.MaxForeSlots = 4
		c.MaxCachedReply = 1000
		c.MaxCacheMemory = 10 * 1000 // ten slots' worth
	})
	r := e.exchange("x", "p", 1)
	seq := r.SequenceID
	cs := func() (CreateSessionResult, error) {
		res, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: seq, Fore: foreAttrs, Back: backAttrs, Principal: "p"})
		if err == nil {
			seq++
		}
		return res, err
	}
	s1, err := cs()
	wantErr(t, "first", err, nfserr.OK)
	s2, err := cs()
	wantErr(t, "second", err, nfserr.OK)
	_, err = cs()
	wantErr(t, "third (MaxSessionsPerClient 2)", err, nfserr.Nospc)
	if s1.Fore.MaxRequests != 4 || s2.Fore.MaxRequests != 4 {
		t.Errorf("slots %d and %d, want 4 (MaxForeSlots)", s1.Fore.MaxRequests, s2.Fore.MaxRequests)
	}
	if st := e.tb.Stats(); st.CacheReserved != 8000 || st.Sessions != 2 {
		t.Errorf("stats %+v, want 8000 bytes reserved in 2 sessions", st)
	}
	// Another client: only two slots' memory is left, then one slot.
	r2 := e.exchange("y", "p", 1)
	s3, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r2.ClientID, SequenceID: r2.SequenceID, Fore: foreAttrs, Back: backAttrs, Principal: "p"})
	wantErr(t, "third session", err, nfserr.OK)
	if s3.Fore.MaxRequests != 2 {
		t.Errorf("slots %d with 2000 bytes of cache memory left, want 2", s3.Fore.MaxRequests)
	}
	s4, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r2.ClientID, SequenceID: r2.SequenceID + 1, Fore: foreAttrs, Back: backAttrs, Principal: "p"})
	wantErr(t, "fourth session", err, nfserr.OK)
	if s4.Fore.MaxRequests != 1 {
		t.Errorf("slots %d with no cache memory left, want 1", s4.Fore.MaxRequests)
	}
	wantErr(t, "DESTROY_SESSION", e.tb.DestroySession(s1.SessionID, nil), nfserr.OK)
	if st := e.tb.Stats(); st.CacheReserved != 4000+2000+1000 || st.Sessions != 3 {
		t.Errorf("after DESTROY_SESSION: %+v", st)
	}
	// The freed room is usable again by the first client.
	_, err = cs()
	wantErr(t, "session after DESTROY_SESSION", err, nfserr.OK)
}

// newSeqEnv returns a table and a session with 4 slots caching up to 100
// bytes per reply.
func newSeqEnv(t *testing.T) (*env, uint64, SessionID) {
	e := newEnv(t, nil)
	r := e.exchange("x", "p", 1)
	fore := ChannelAttrs{MaxRequestSize: 8192, MaxResponseSize: 8192, MaxResponseSizeCached: 100, MaxOperations: 8, MaxRequests: 4}
	res, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID, Fore: fore, Back: backAttrs, Principal: "p", Conn: 1})
	if err != nil {
		t.Fatal(err)
	}
	return e, r.ClientID, res.SessionID
}

func TestSequence(t *testing.T) {
	type step struct {
		slot, seq, highest uint32
		cache              bool
		want               nfserr.Status
		replay             string // expected replayed reply
		done               string // reply given to Done (if the step is a new request)
		hold               bool   // do not call Done
		doneWant           nfserr.Status
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first request", []step{{slot: 0, seq: 1, done: "r1"}}},
		{"first request on a high slot", []step{{slot: 3, seq: 1, highest: 3}}},
		{"slot above the highest", []step{{slot: 4, seq: 1, want: nfserr.Badslot}}},
		{"huge slot", []step{{slot: 1 << 31, seq: 1, want: nfserr.Badslot}}},
		{"highest slot above the session's", []step{{slot: 0, seq: 1, highest: 4, want: nfserr.BadHighSlot}}},
		{"first request with sequence 0", []step{{slot: 0, seq: 0, want: nfserr.SeqMisordered}}},
		{"first request with sequence 2", []step{{slot: 0, seq: 2, want: nfserr.SeqMisordered}}},
		{"next request", []step{{slot: 0, seq: 1}, {slot: 0, seq: 2}, {slot: 0, seq: 3}}},
		{"cached replay", []step{
			{slot: 1, seq: 1, cache: true, done: "reply one"},
			{slot: 1, seq: 1, replay: "reply one"},
			{slot: 1, seq: 1, replay: "reply one"},
		}},
		{"empty cached reply", []step{
			{slot: 1, seq: 1, cache: true, done: ""},
			{slot: 1, seq: 1, replay: ""},
		}},
		{"uncached replay", []step{
			{slot: 0, seq: 1, cache: false, done: "reply one"},
			{slot: 0, seq: 1, want: nfserr.RetryUncachedRep},
		}},
		{"reply too big to cache", []step{
			{slot: 0, seq: 1, cache: true, done: string(make([]byte, 101)), doneWant: nfserr.RepTooBigToCache},
			{slot: 0, seq: 1, want: nfserr.RetryUncachedRep},
			{slot: 0, seq: 2, cache: true, done: string(make([]byte, 100))},
			{slot: 0, seq: 2, replay: string(make([]byte, 100))},
		}},
		{"new request drops the cached reply", []step{
			{slot: 0, seq: 1, cache: true, done: "one"},
			{slot: 0, seq: 2, cache: false, done: "two"},
			{slot: 0, seq: 1, want: nfserr.SeqMisordered},
			{slot: 0, seq: 2, want: nfserr.RetryUncachedRep},
		}},
		{"misordered", []step{
			{slot: 0, seq: 1},
			{slot: 0, seq: 3, want: nfserr.SeqMisordered},
			{slot: 0, seq: 0, want: nfserr.SeqMisordered},
			{slot: 0, seq: 0xffffffff, want: nfserr.SeqMisordered},
			{slot: 0, seq: 2},
		}},
		{"in progress", []step{
			{slot: 2, seq: 1, hold: true},
			{slot: 2, seq: 1, want: nfserr.Delay},
			{slot: 2, seq: 2, want: nfserr.SeqMisordered},
			{slot: 3, seq: 1}, // other slots are free
		}},
		{"slots are independent", []step{
			{slot: 0, seq: 1, cache: true, done: "a"},
			{slot: 1, seq: 1, cache: true, done: "b"},
			{slot: 0, seq: 1, replay: "a"},
			{slot: 1, seq: 1, replay: "b"},
			{slot: 1, seq: 2},
			{slot: 0, seq: 1, replay: "a"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, id, sid := newSeqEnv(t)
			for i, st := range tc.steps {
				highest := max(st.highest, st.slot)
				if st.slot >= 4 {
					highest = 0
				}
				if st.highest != 0 {
					highest = st.highest
				}
				q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: st.slot, SequenceID: st.seq, HighestSlotID: highest, CacheThis: st.cache, Conn: 1})
				wantErr(t, "step "+string(rune('0'+i)), err, st.want)
				if err != nil {
					if q != nil {
						t.Fatalf("step %d: handle with an error", i)
					}
					continue
				}
				if q.ClientID != id || q.SessionID != sid || q.SlotID != st.slot || q.SequenceID != st.seq ||
					q.HighestSlotID != 3 || q.TargetHighestSlotID != 3 || q.MaxResponseSizeCached != 100 {
					t.Fatalf("step %d: result %+v", i, q)
				}
				if st.replay != "" || (q.Replay != nil && st.replay == "") {
					if q.Replay == nil || string(q.Replay) != st.replay {
						t.Fatalf("step %d: replay %q, want %q", i, q.Replay, st.replay)
					}
					wantErr(t, "Done of a replay", q.Done([]byte("ignored")), nfserr.OK)
					continue
				}
				if q.Replay != nil {
					t.Fatalf("step %d: unexpected replay %q", i, q.Replay)
				}
				if st.hold {
					continue
				}
				wantErr(t, "Done", q.Done([]byte(st.done)), st.doneWant)
				wantErr(t, "second Done", q.Done([]byte("again")), nfserr.OK)
			}
		})
	}
}

func TestSequenceReplyOwnership(t *testing.T) {
	e, _, sid := newSeqEnv(t)
	q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1, CacheThis: true})
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("original")
	if err := q.Done(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX") // the caller reuses its buffer
	r1, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1})
	if err != nil || string(r1.Replay) != "original" {
		t.Fatalf("replay %q %v, want the copy taken by Done", r1.Replay, err)
	}
	// A new request on the slot does not write into the shared reply.
	q2, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 2, CacheThis: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := q2.Done([]byte("newreply")); err != nil {
		t.Fatal(err)
	}
	if string(r1.Replay) != "original" {
		t.Fatalf("earlier replay changed to %q", r1.Replay)
	}
}

func TestSequenceWrap(t *testing.T) {
	e, _, sid := newSeqEnv(t)
	e.seq(sid, 0, 1)
	s := e.tb.sessions[sid]
	s.mu.Lock()
	s.slots[0].seqid = 0xffffffff
	s.mu.Unlock()
	e.seq(sid, 0, 0) // wraps to 0
	e.seq(sid, 0, 1)
}

func TestSequenceSession(t *testing.T) {
	e, id, sid := newSeqEnv(t)
	var other SessionID
	copy(other[:], sid[:])
	other[15] ^= 1
	var oldEpoch SessionID = sid
	binary.BigEndian.PutUint32(oldEpoch[:4], 6)
	for _, s := range []SessionID{other, oldEpoch, {}} {
		_, err := e.tb.Sequence(SequenceArgs{SessionID: s, SlotID: 0, SequenceID: 1})
		wantErr(t, "SEQUENCE unknown session", err, nfserr.Badsession)
	}
	// Status flags set by the server show in the result.
	if err := e.tb.SetStatusFlags(id, SEQ4_STATUS_RECALLABLE_STATE_REVOKED|SEQ4_STATUS_CB_PATH_DOWN, 0); err != nil {
		t.Fatal(err)
	}
	q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1, Conn: 9})
	if err != nil {
		t.Fatal(err)
	}
	if q.StatusFlags != SEQ4_STATUS_RECALLABLE_STATE_REVOKED|SEQ4_STATUS_CB_PATH_DOWN {
		t.Errorf("status flags %#x", q.StatusFlags)
	}
	q.Done(nil)
	if err := e.tb.SetStatusFlags(id, 0, SEQ4_STATUS_CB_PATH_DOWN); err != nil {
		t.Fatal(err)
	}
	q, _ = e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 2, Conn: 9})
	if q.StatusFlags != SEQ4_STATUS_RECALLABLE_STATE_REVOKED {
		t.Errorf("status flags after clear %#x", q.StatusFlags)
	}
	q.Done(nil)
	// SEQUENCE bound connection 9 to the fore channel.
	si, _ := e.tb.Session(sid)
	slices.Sort(si.ForeConns)
	if !slices.Equal(si.ForeConns, []ConnKey{1, 9}) || len(si.BackConns) != 0 {
		t.Errorf("connections fore %v back %v, want [1 9] []", si.ForeConns, si.BackConns)
	}
	wantErr(t, "SetStatusFlags unknown", e.tb.SetStatusFlags(7<<32|999, 1, 0), nfserr.StaleClientid)
}

func TestDestroySession(t *testing.T) {
	e, _, sid := newSeqEnv(t)
	var unknown SessionID
	wantErr(t, "DESTROY_SESSION unknown", e.tb.DestroySession(unknown, nil), nfserr.Badsession)

	// A request in progress on another slot: DELAY.
	busy, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 1, SequenceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1, CacheThis: true})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DESTROY_SESSION with a request in progress", e.tb.DestroySession(sid, cur), nfserr.Delay)
	wantErr(t, "DESTROY_SESSION without the compound's SEQUENCE", e.tb.DestroySession(sid, nil), nfserr.Delay)
	busy.Done(nil)
	// Its own compound's SEQUENCE does not count.
	wantErr(t, "DESTROY_SESSION in its own compound", e.tb.DestroySession(sid, cur), nfserr.OK)
	wantErr(t, "Done after DESTROY_SESSION", cur.Done([]byte("x")), nfserr.OK)
	_, err = e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: 0, SequenceID: 1})
	wantErr(t, "SEQUENCE after DESTROY_SESSION", err, nfserr.Badsession)
	wantErr(t, "second DESTROY_SESSION", e.tb.DestroySession(sid, nil), nfserr.Badsession)
	if st := e.tb.Stats(); st.Sessions != 0 || st.CacheReserved != 0 {
		t.Errorf("stats after DESTROY_SESSION: %+v", st)
	}
}

func TestBindConnToSession(t *testing.T) {
	tests := []struct {
		dir  uint32
		want nfserr.Status
		got  uint32
	}{
		{CDFC4_FORE, nfserr.OK, CDFS4_FORE},
		{CDFC4_BACK, nfserr.OK, CDFS4_BACK},
		{CDFC4_FORE_OR_BOTH, nfserr.OK, CDFS4_BOTH},
		{CDFC4_BACK_OR_BOTH, nfserr.OK, CDFS4_BOTH},
		{0, nfserr.Inval, 0},
		{4, nfserr.Inval, 0},
		{0xffffffff, nfserr.Inval, 0},
	}
	for _, tc := range tests {
		e, _, sid := newSeqEnv(t)
		got, err := e.tb.BindConnToSession(sid, 42, tc.dir)
		wantErr(t, "BIND_CONN_TO_SESSION", err, tc.want)
		if got != tc.got {
			t.Errorf("dir %#x: bctsr_dir %#x, want %#x", tc.dir, got, tc.got)
		}
		si, _ := e.tb.Session(sid)
		fore := slices.Contains(si.ForeConns, 42)
		back := slices.Contains(si.BackConns, 42)
		if fore != (tc.got&CDFS4_FORE != 0) || back != (tc.got&CDFS4_BACK != 0) {
			t.Errorf("dir %#x: bound fore %v back %v", tc.dir, fore, back)
		}
	}
	e, _, sid := newSeqEnv(t)
	var unknown SessionID
	_, err := e.tb.BindConnToSession(unknown, 1, CDFC4_FORE)
	wantErr(t, "BIND_CONN_TO_SESSION unknown session", err, nfserr.Badsession)
	// Rebinding replaces; closing unbinds.
	e.tb.BindConnToSession(sid, 42, CDFC4_BACK_OR_BOTH)
	e.tb.BindConnToSession(sid, 42, CDFC4_BACK)
	si, _ := e.tb.Session(sid)
	if slices.Contains(si.ForeConns, 42) || !slices.Contains(si.BackConns, 42) {
		t.Errorf("after rebinding to the back channel: fore %v back %v", si.ForeConns, si.BackConns)
	}
	e.tb.ConnClosed(42)
	e.tb.ConnClosed(1)
	si, _ = e.tb.Session(sid)
	if len(si.ForeConns) != 0 || len(si.BackConns) != 0 {
		t.Errorf("after ConnClosed: fore %v back %v", si.ForeConns, si.BackConns)
	}
	if len(e.tb.connSessions) != 0 {
		t.Errorf("connection index not empty: %v", e.tb.connSessions)
	}
	if err := e.tb.SetCallbackProgram(sid, 0x40000123); err != nil {
		t.Fatal(err)
	}
	if si, _ := e.tb.Session(sid); si.CbProgram != 0x40000123 {
		t.Errorf("callback program %#x", si.CbProgram)
	}
	wantErr(t, "SetCallbackProgram unknown", e.tb.SetCallbackProgram(unknown, 1), nfserr.Badsession)
}

func TestSessionIDsRandom(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxSessionsPerClient = 16 })
	r := e.exchange("x", "p", 1)
	seen := map[SessionID]bool{}
	for i := range uint32(16) {
		res, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID + i, Fore: foreAttrs, Back: backAttrs, Principal: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if seen[res.SessionID] || bytes.Equal(res.SessionID[4:], make([]byte, 12)) {
			t.Fatalf("session ID %x repeated or not random", res.SessionID)
		}
		seen[res.SessionID] = true
	}
}
