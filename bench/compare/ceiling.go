package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ceilingResult is the loopback ceiling: raw TCP throughput over the path
// the load generator uses to reach the servers.
type ceilingResult struct {
	Conns     int     `json:"conns"`
	Buffer    int     `json:"buffer"`
	Seconds   float64 `json:"seconds"`
	MiBPerSec float64 `json:"mib_per_s"`
}

// ceilingMain is `compare ceiling`, run inside the benchmark's network
// namespace: conns TCP connections over 127.0.0.1, each with a sender
// writing buffers of -buf bytes as fast as it can and a receiver reading
// them, in one process (as the server and the load generator share the
// machine's cores). It prints one JSON object.
func ceilingMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conns := fs.Int("conns", 4, "connections")
	buf := fs.Int("buf", 1<<20, "bytes per write and read")
	dur := fs.Duration("duration", 3*time.Second, "measured duration")
	addr := fs.String("addr", "127.0.0.1", "loopback address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res, err := measureCeiling(*addr, *conns, *buf, *dur)
	if err != nil {
		fmt.Fprintln(stderr, "ceiling:", err)
		return 1
	}
	json.NewEncoder(stdout).Encode(res)
	return 0
}

func measureCeiling(addr string, conns, bufSize int, dur time.Duration) (*ceilingResult, error) {
	if conns < 1 || bufSize < 1 || dur <= 0 {
		return nil, errors.New("bad parameters")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	var received atomic.Int64
	var measuring atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var accErr error
	accepted := make(chan net.Conn, conns)
	go func() {
		for range conns {
			c, err := ln.Accept()
			if err != nil {
				accErr = err
				close(accepted)
				return
			}
			accepted <- c
		}
		close(accepted)
	}()
	var senders []net.Conn
	for range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, err
		}
		senders = append(senders, c)
	}
	var receivers []net.Conn
	for c := range accepted {
		receivers = append(receivers, c)
	}
	if accErr != nil {
		return nil, accErr
	}
	for _, c := range receivers {
		wg.Go(func() {
			b := make([]byte, bufSize)
			for {
				n, err := io.ReadFull(c, b)
				if measuring.Load() {
					received.Add(int64(n))
				}
				if err != nil {
					return
				}
			}
		})
	}
	for _, c := range senders {
		wg.Go(func() {
			b := make([]byte, bufSize)
			for i := range b {
				b[i] = byte(i)
			}
			for {
				select {
				case <-stop:
					c.Close()
					return
				default:
				}
				if _, err := c.Write(b); err != nil {
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // warm-up
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(dur)
	measuring.Store(false)
	elapsed := time.Since(t0)
	n := received.Load()
	close(stop)
	for _, c := range receivers {
		c.Close()
	}
	wg.Wait()
	return &ceilingResult{
		Conns: conns, Buffer: bufSize, Seconds: elapsed.Seconds(),
		MiBPerSec: float64(n) / (1 << 20) / elapsed.Seconds(),
	}, nil
}
