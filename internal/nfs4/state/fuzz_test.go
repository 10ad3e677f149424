package state

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// slotModel is the expected state of one slot (RFC 8881 section 2.10.6.1).
type slotModel struct {
	seq                  uint32
	used, inUse, cacheIt bool
	cached               bool
	reply                []byte
}

// FuzzTable drives a small table with an arbitrary sequence of operations
// and checks SEQUENCE against a model of the slot table and the table's
// invariants after every step.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0, 2, 1, 3, 0, 2, 0, 7, 200, 8, 0})
	f.Add([]byte{10, 1, 10, 2, 6, 1, 7, 100, 9, 0, 8, 0, 0, 3, 1, 0, 1, 1})
	f.Add([]byte{0, 1, 1, 0, 2, 5, 2, 5, 4, 0, 5, 0, 11, 3, 12, 1})
	f.Fuzz(runProg)
}

func runProg(t *testing.T, prog []byte) {
	{
		clock := newClock()
		exp := &expireLog{}
		tb, err := New(Config{Lease: 10 * time.Second, CourtesyLimit: time.Minute, Grace: 20 * time.Second, Now: clock.Now, Boot: 3,
			MaxClients: 4, MaxSessionsPerClient: 2, MaxForeSlots: 3, MaxCachedReply: 8, MaxCacheMemory: 40,
			Recovery: NewMemoryRecovery([]byte("o1"), []byte("o2")), OnExpire: exp.fn})
		if err != nil {
			t.Fatal(err)
		}
		var clients []uint64
		var seqs = map[uint64]uint32{}
		var sessions []SessionID
		models := map[SessionID][]slotModel{}
		held := map[SessionID]map[uint32]*Seq{}
		owners := []string{"o0", "o1", "o2", "o3", "o4"}
		pick := func(n int, b byte) int { return int(b) % n }
		for len(prog) >= 2 {
			op, arg := prog[0], prog[1]
			prog = prog[2:]
			switch op % 13 {
			case 0:
				r, err := tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte(owners[pick(5, arg)]), Verifier: verf(arg >> 4 & 1),
					Principal: string('a' + rune(arg>>5&1)), Update: arg&0x80 != 0, Minor: 1})
				if err == nil {
					clients = append(clients, r.ClientID)
					seqs[r.ClientID] = r.SequenceID
				}
			case 1:
				if len(clients) == 0 {
					continue
				}
				id := clients[pick(len(clients), arg)]
				res, err := tb.CreateSession(CreateSessionArgs{ClientID: id, SequenceID: seqs[id] + uint32(arg>>6) - 1,
					Fore: ChannelAttrs{MaxRequestSize: 1000, MaxResponseSize: 1000, MaxResponseSizeCached: uint32(arg >> 3 & 15), MaxOperations: 4, MaxRequests: uint32(arg >> 4)},
					Back: backAttrs, Principal: "a", Conn: ConnKey(arg & 3)})
				if err == nil {
					if res.Fore.MaxRequests < 1 || res.Fore.MaxRequests > 3 || res.Fore.MaxResponseSizeCached > 8 {
						t.Fatalf("negotiated %+v", res.Fore)
					}
					if _, known := models[res.SessionID]; !known {
						sessions = append(sessions, res.SessionID)
						models[res.SessionID] = make([]slotModel, res.Fore.MaxRequests)
						held[res.SessionID] = map[uint32]*Seq{}
						seqs[id] = res.SequenceID + 1
					}
				}
			case 2:
				if len(sessions) == 0 {
					continue
				}
				sid := sessions[pick(len(sessions), arg)]
				m := models[sid]
				slot := uint32(arg>>2) % 4
				var seq uint32
				if int(slot) < len(m) {
					seq = m[slot].seq + uint32(arg>>4&3) - 1
				}
				cache := arg&0x40 != 0
				_, serr := tb.Session(sid)
				q, err := tb.Sequence(SequenceArgs{SessionID: sid, SlotID: slot, SequenceID: seq, HighestSlotID: slot, CacheThis: cache})
				// The model's answer.
				var want nfserr.Status
				var replay []byte
				switch {
				case serr != nil:
					want = nfserr.Badsession
				case int(slot) >= len(m):
					want = nfserr.Badslot
				case m[slot].inUse && seq == m[slot].seq:
					want = nfserr.Delay
				case m[slot].inUse:
					want = nfserr.SeqMisordered
				case seq == m[slot].seq+1:
					m[slot] = slotModel{seq: seq, used: true, inUse: true, cacheIt: cache}
				case seq == m[slot].seq && m[slot].used && m[slot].cached:
					replay = m[slot].reply
				case seq == m[slot].seq && m[slot].used:
					want = nfserr.RetryUncachedRep
				default:
					want = nfserr.SeqMisordered
				}
				var st nfserr.Status
				if err != nil && !errors.As(err, &st) {
					t.Fatalf("SEQUENCE error %v", err)
				}
				if st != want {
					t.Fatalf("SEQUENCE slot %d seq %d: %v, model %v (slot %+v)", slot, seq, err, want, m)
				}
				if err == nil {
					if replay != nil {
						if !bytes.Equal(q.Replay, replay) {
							t.Fatalf("replay %q, want %q", q.Replay, replay)
						}
					} else {
						held[sid][slot] = q
					}
				}
			case 3:
				for sid, hs := range held {
					for slot, q := range hs {
						reply := bytes.Repeat([]byte{arg}, int(arg%12))
						err := q.Done(reply)
						m := models[sid]
						if _, serr := tb.Session(sid); serr == nil {
							m[slot].inUse = false
							if m[slot].cacheIt {
								if len(reply) <= int(q.MaxResponseSizeCached) {
									m[slot].cached = true
									m[slot].reply = reply
								} else if err == nil {
									t.Fatalf("oversized reply cached")
								}
							}
						}
						delete(hs, slot)
						if arg&1 == 0 {
							break
						}
					}
				}
			case 4:
				if len(sessions) > 0 {
					tb.DestroySession(sessions[pick(len(sessions), arg)], nil)
				}
			case 5:
				if len(clients) > 0 {
					tb.DestroyClientID(clients[pick(len(clients), arg)])
				}
			case 6:
				if len(clients) > 0 {
					tb.SetHasState(clients[pick(len(clients), arg)], arg&0x80 != 0)
				}
			case 7:
				clock.Add(time.Duration(arg) * time.Second / 4)
			case 8:
				tb.Reap(clock.Now())
			case 9:
				if len(clients) > 0 {
					tb.Revoke(clients[pick(len(clients), arg)])
				}
			case 10:
				r, err := tb.SetClientID(SetClientIDArgs{ID: []byte(owners[pick(5, arg)]), Verifier: verf(arg >> 4 & 1), Principal: string('a' + rune(arg>>5&1))})
				if err == nil {
					clients = append(clients, r.ClientID)
					if arg&0x80 != 0 {
						tb.SetClientIDConfirm(r.ClientID, r.Confirm, string('a'+rune(arg>>5&1)))
					}
				}
			case 11:
				if len(sessions) > 0 && arg&1 == 0 {
					tb.BindConnToSession(sessions[pick(len(sessions), arg)], ConnKey(arg>>1&3), uint32(arg>>3&7))
				} else {
					tb.ConnClosed(ConnKey(arg >> 1 & 3))
				}
			case 12:
				if len(clients) > 0 {
					id := clients[pick(len(clients), arg)]
					tb.RecordClient(id)
					tb.ReclaimComplete(id, arg&0x80 != 0)
					tb.CheckReclaim(id)
					tb.CheckNonReclaim(id)
					tb.Renew(id)
				}
			}
			checkInvariants(t, tb)
		}
		for _, hs := range held {
			for _, q := range hs {
				q.Done(nil)
			}
		}
		checkInvariants(t, tb)
	}
}

func checkInvariants(t *testing.T, tb *Table) {
	t.Helper()
	tb.mu.RLock()
	defer tb.mu.RUnlock()
	if n := len(tb.conf) + len(tb.unconf); n > tb.maxClients {
		t.Fatalf("%d client records, limit %d", n, tb.maxClients)
	}
	var reserved int64
	nsess := 0
	for id, c := range tb.conf {
		if c.id != id || !c.confirmed || c.dead {
			t.Fatalf("confirmed map holds %+v under %x", c, id)
		}
		if len(c.sessions) > tb.maxSessions {
			t.Fatalf("client %x has %d sessions", id, len(c.sessions))
		}
		for sid, s := range c.sessions {
			if tb.sessions[sid] != s || s.client != c {
				t.Fatalf("session %x not indexed", sid)
			}
			reserved += s.reserved
			nsess++
		}
	}
	for id, c := range tb.unconf {
		if c.id != id || c.confirmed || len(c.sessions) != 0 {
			t.Fatalf("unconfirmed map holds %+v under %x", c, id)
		}
		if tb.unconfByOwner[c.owner] != c {
			t.Fatalf("unconfirmed %x not indexed by owner", id)
		}
	}
	if nsess != len(tb.sessions) || reserved != tb.cacheReserved || reserved < 0 {
		t.Fatalf("sessions %d/%d, reserved %d/%d", nsess, len(tb.sessions), reserved, tb.cacheReserved)
	}
	for conn, m := range tb.connSessions {
		for s := range m {
			if tb.sessions[s.id] != s || s.conns[conn] == 0 {
				t.Fatalf("connection %d indexed to a session that does not have it", conn)
			}
		}
	}
	for _, s := range tb.sessions {
		for conn := range s.conns {
			if _, ok := tb.connSessions[conn][s]; !ok {
				t.Fatalf("connection %d of a session not indexed", conn)
			}
		}
	}
}
