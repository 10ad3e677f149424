package state

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentSessions runs SEQUENCE on several sessions at once, with
// the reaper, new clients and revocations going on; run with -race.
func TestConcurrentSessions(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxClients = 64 })
	const sessions, requests = 4, 300
	var sids []SessionID
	for i := range sessions {
		id, sid := e.client41(fmt.Sprintf("c%d", i), "p", 1)
		e.tb.SetHasState(id, true)
		sids = append(sids, sid)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i, sid := range sids {
		for slot := range uint32(2) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := uint32(1); n <= requests; n++ {
					q, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: slot, SequenceID: n, CacheThis: n%2 == 0, Conn: ConnKey(i)})
					if err != nil {
						errs <- fmt.Errorf("session %d slot %d seq %d: %v", i, slot, n, err)
						return
					}
					if err := q.Done([]byte{byte(n)}); err != nil {
						errs <- err
						return
					}
					if n%2 == 0 {
						r, err := e.tb.Sequence(SequenceArgs{SessionID: sid, SlotID: slot, SequenceID: n})
						if err != nil || len(r.Replay) != 1 || r.Replay[0] != byte(n) {
							errs <- fmt.Errorf("replay %d: %v %v", n, r, err)
							return
						}
					}
				}
			}()
		}
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { // churn: short-lived clients, reaping, revocation attempts
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r, err := e.tb.ExchangeID(ExchangeIDArgs{OwnerID: []byte(fmt.Sprintf("tmp%d", i%8)), Principal: "p", Minor: 1})
			if err == nil {
				if cs, err := e.tb.CreateSession(CreateSessionArgs{ClientID: r.ClientID, SequenceID: r.SequenceID, Fore: foreAttrs, Back: backAttrs, Principal: "p", Conn: 99}); err == nil {
					e.tb.DestroySession(cs.SessionID, nil)
				}
			}
			e.tb.Reap(e.clock.Now())
			e.tb.Revoke(r.ClientID)
			e.tb.ConnClosed(99)
			e.tb.Stats()
			e.clock.Add(time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, sid := range sids {
		if _, err := e.tb.Session(sid); err != nil {
			t.Errorf("an active session went: %v", err)
		}
	}
}
