package sched

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func benchPool(b *testing.B) *Pool {
	p := NewPool(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.Cleanup(p.Close)
	return p
}

// BenchmarkGo measures enqueue plus run of an empty request, from
// parallel producers into one queue.
func BenchmarkGo(b *testing.B) {
	for _, threads := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := benchPool(b)
			q, err := p.NewQueue("bench", threads, 1024)
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Add(b.N)
			fn := wg.Done
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := q.Go(ctx, fn); err != nil {
						b.Error(err)
						wg.Done()
					}
				}
			})
			wg.Wait()
		})
	}
}

// spin burns CPU for about d, the service time of a request that does
// not block (a GETATTR from the page cache, say).
func spin(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

// BenchmarkFairness measures the p99 latency of a quiet queue B (one
// client, one request at a time) alone and while queue A is driven at
// saturation by 64 concurrent clients, and reports the ratio. Both queues
// have 8 threads (the nfsd default), so A keeps 8 requests running and
// about 56 waiting. "fair" is the pool as built; "fifo" puts both clients
// on one queue, as a single FIFO without fairness would, to show what
// the round robin buys. Requests either burn CPU ("cpu") or mostly block
// in a system call ("io", as a read from disk). Each b.N iteration is one
// request of B in each phase.
//
// sched-* is the time from Go to the end of the request, what the pool
// decides; rtt-* adds the time until B's client goroutine runs again,
// which on saturated CPUs also depends on the Go runtime's run queues
// (64 client goroutines of A compete with it).
func BenchmarkFairness(b *testing.B) {
	const (
		threads = 8
		clients = 64
	)
	kinds := []struct {
		name string
		work func()
	}{
		{"cpu", func() { spin(20 * time.Microsecond) }},
		{"io", func() {
			// A blocking system call, as a read from disk: the thread
			// sleeps, not the goroutine in the runtime's timer.
			spin(2 * time.Microsecond)
			ts := syscall.NsecToTimespec(int64(200 * time.Microsecond))
			syscall.Nanosleep(&ts, nil)
		}},
	}
	for _, kind := range kinds {
		for _, mode := range []string{"fair", "fifo"} {
			b.Run(kind.name+"/"+mode, func(b *testing.B) {
				p := benchPool(b)
				qa, err := p.NewQueue("A", threads, 1024)
				if err != nil {
					b.Fatal(err)
				}
				qb := qa
				if mode == "fair" {
					if qb, err = p.NewQueue("B", threads, 1024); err != nil {
						b.Fatal(err)
					}
				}
				ctx := context.Background()
				done := make(chan time.Time, 1)
				fnB := func() { kind.work(); done <- time.Now() }
				measure := func(n int) (time.Duration, time.Duration) {
					lat := make([]time.Duration, n)
					rtt := make([]time.Duration, n)
					for i := range lat {
						t := time.Now()
						if err := qb.Go(ctx, fnB); err != nil {
							b.Fatal(err)
						}
						end := <-done
						lat[i] = end.Sub(t)
						rtt[i] = time.Since(t)
					}
					slices.Sort(lat)
					slices.Sort(rtt)
					return lat[(len(lat)*99)/100], rtt[(len(rtt)*99)/100]
				}
				n := max(b.N, 200)
				measure(n / 10) // warm up
				b.ResetTimer()
				alone, aloneRTT := measure(n)

				var stop atomic.Bool
				var wg sync.WaitGroup
				for c := 0; c < clients; c++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						d := make(chan struct{}, 1)
						fn := func() { kind.work(); d <- struct{}{} }
						for !stop.Load() {
							if err := qa.Go(ctx, fn); err != nil {
								b.Error(err)
								return
							}
							<-d
						}
					}()
				}
				for qa.Stats().Queued < clients/2 {
					runtime.Gosched()
				}
				loaded, loadedRTT := measure(n)
				b.StopTimer()
				stop.Store(true)
				wg.Wait()
				b.ReportMetric(float64(alone.Microseconds()), "sched-p99-alone-µs")
				b.ReportMetric(float64(loaded.Microseconds()), "sched-p99-loaded-µs")
				b.ReportMetric(float64(loaded)/float64(alone), "sched-p99-ratio")
				b.ReportMetric(float64(aloneRTT.Microseconds()), "rtt-p99-alone-µs")
				b.ReportMetric(float64(loadedRTT.Microseconds()), "rtt-p99-loaded-µs")
				b.ReportMetric(float64(loadedRTT)/float64(aloneRTT), "rtt-p99-ratio")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkIdleQueueMemory reports the heap bytes of one idle queue (a
// running queue that has no request), measured over 1000 queues.
func BenchmarkIdleQueueMemory(b *testing.B) {
	const n = 1000
	var perQueue float64
	for i := 0; i < b.N; i++ {
		p := NewPool(Options{})
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		qs := make([]*Queue, 0, n)
		for j := 0; j < n; j++ {
			q, err := p.NewQueue(fmt.Sprintf("/tenant/%04d", j), 8, 0)
			if err != nil {
				b.Fatal(err)
			}
			qs = append(qs, q)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		perQueue = float64(m1.HeapAlloc-m0.HeapAlloc) / n
		goroutines := runtime.NumGoroutine()
		runtime.KeepAlive(qs)
		p.Close()
		b.ReportMetric(float64(goroutines), "goroutines")
	}
	b.ReportMetric(perQueue, "B/idle-queue")
}
