package sched_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/vnfsd/vnfsd/internal/sched"
)

// The shape of oncrpc.Scheduler; a Queue is what a vserver's RPC servers
// get as their Sched.
var _ interface {
	Go(ctx context.Context, fn func()) error
} = (*sched.Queue)(nil)

func Example() {
	pool := sched.NewPool(sched.Options{})
	defer pool.Close()

	// One queue per virtual server; threads as in nfsd's threads file.
	acme, _ := pool.NewQueue("/acme", 8, 0)
	beta, _ := pool.NewQueue("/beta", 32, 0)
	fmt.Println("pool size:", pool.Size())

	var wg sync.WaitGroup
	wg.Add(1)
	acme.Go(context.Background(), wg.Done)
	wg.Wait()

	beta.SetThreads(0) // stop beta: its Go now fails
	fmt.Println("pool size:", pool.Size(), "beta:", beta.Go(context.Background(), func() {}))
	beta.Close()
	// Output:
	// pool size: 32
	// pool size: 8 beta: sched: queue stopped (threads 0)
}
