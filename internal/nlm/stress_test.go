package nlm

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStress: processes on three client hosts take one exclusive lock in
// turn with blocking LOCKs, waiting for the GRANTED callback, sometimes
// giving up with CANCEL as an interrupted process does. No two may ever
// hold the lock at once, and nobody may starve.
func TestStress(t *testing.T) {
	f := newFixture(t, serverOpts{timeout: 5 * time.Second})
	c := newClientHost(t, f.server, addrC)
	hosts := []*clientHost{f.a, f.b, c}
	for _, h := range hosts {
		h.strict = true
	}
	h1 := f.handle(expRW, "f1")
	iters := 40
	if testing.Short() {
		iters = 10
	}
	var holder, cancels, waits atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for hi, h := range hosts {
		for p := 0; p < 3; p++ {
			wg.Add(1)
			go func(h *clientHost, id int64, svid int32) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(id), 1))
				args := h.lockArgs(h1, svid, true, true, 0, 0)
				for i := 0; i < iters; i++ {
					ch := h.expect(svid)
					b, err := h.call(ProcLock, args)
					if err != nil {
						errs <- err
						return
					}
					var r Res
					r.Decode(xdrReader(b))
					switch r.Stat {
					case Granted:
						h.unexpect(svid, ch)
					case Blocked:
						if rng.IntN(5) == 0 && !h.unexpect(svid, ch) {
							// Interrupted: give up.
							cancels.Add(1)
							if st := h.res(ProcCancel, &CancArgs{Cookie: args.Cookie, Block: true, Exclusive: true, Lock: args.Lock}); st != Granted {
								errs <- fmt.Errorf("CANCEL: %v", st)
								return
							}
							continue
						}
						waits.Add(1)
						select {
						case <-ch:
						case <-time.After(waitFor):
							errs <- fmt.Errorf("%v svid %d: no GRANTED", h.addr, svid)
							return
						}
					default:
						errs <- fmt.Errorf("LOCK: %v", r.Stat)
						return
					}
					if !holder.CompareAndSwap(0, id) {
						errs <- fmt.Errorf("%d got the lock held by %d", id, holder.Load())
						return
					}
					time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
					holder.Store(0)
					if st := h.unlock(args); st != Granted {
						errs <- fmt.Errorf("UNLOCK: %v", st)
						return
					}
				}
			}(h, int64(hi*10+p+1), int32(p+1))
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d waits for GRANTED, %d cancels", waits.Load(), cancels.Load())
	if waits.Load() == 0 || cancels.Load() == 0 {
		t.Error("the run did not exercise blocking and cancelling")
	}
	eventually(t, "all released", func() bool {
		f.nlm.mu.Lock()
		defer f.nlm.mu.Unlock()
		return len(f.locks.Locks()) == 0 && len(f.locks.Waiters()) == 0 && len(f.nlm.blocks) == 0
	})

}
