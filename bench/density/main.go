// Command density starts many virtual NFS servers in one process and
// measures what an idle one costs: the time until all listen, the
// resident memory of the process before and after, and the memory, the
// goroutines and the descriptors per vserver.
//
//	go run ./bench/density -n 1000
//
// Vserver i listens on its own loopback address (127.1.0.1 onward, see
// -base) on the same ports as the others (-nfs-port, -mount-port,
// -portmap-port), exports its own small directory as /export, and has a
// queue with -threads threads on one shared sched.Pool. After the
// measurement a sample of the vservers is checked to answer (portmapper
// GETPORT, MOUNT MNT, NFS NULL and GETATTR), then all are shut down.
//
// It needs root (ports below 1024, open_by_handle_at) and as many
// descriptors as 6 per vserver. The result is printed as a table and as
// one JSON line (prefix "RESULT ").
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vnfsd/vnfsd/bench/internal/benchutil"
	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/sched"
	"github.com/vnfsd/vnfsd/internal/vserver"
)

type result struct {
	Vservers          int     `json:"vservers"`
	Threads           int     `json:"threads"`
	Parallel          int     `json:"parallel"`
	KeysExisted       bool    `json:"keys_existed"` // a restart: the handle keys were there
	GOMAXPROCS        int     `json:"gomaxprocs"`
	UDP               bool    `json:"udp"`
	StartSeconds      float64 `json:"start_seconds"`     // New + Start of all, until all listen
	NewSeconds        float64 `json:"new_seconds"`       // of which vserver.New (key files)
	ShutdownSeconds   float64 `json:"shutdown_seconds"`  // Shutdown of all
	RSSBeforeBytes    int64   `json:"rss_before_bytes"`  // after setup, before the first vserver
	RSSAfterBytes     int64   `json:"rss_after_bytes"`   // all vservers idle, after GC
	RSSPerVserver     float64 `json:"rss_per_vserver"`   // bytes
	HeapPerVserver    float64 `json:"heap_per_vserver"`  // HeapInuse, bytes
	StackPerVserver   float64 `json:"stack_per_vserver"` // StackInuse, bytes
	GoroutinesPerVsrv float64 `json:"goroutines_per_vserver"`
	FDsPerVserver     float64 `json:"fds_per_vserver"`
	// After one UDP NULL call to the MOUNT and portmapper sockets of
	// every vserver (the receive buffers that idle UDP loops hold are
	// then partly resident).
	RSSPerVserverUDP  float64 `json:"rss_per_vserver_after_udp,omitempty"`
	HeapPerVserverUDP float64 `json:"heap_per_vserver_after_udp,omitempty"`
	// After -settle more.
	SettleSeconds        float64 `json:"settle_seconds,omitempty"`
	RSSPerVserverSettled float64 `json:"rss_per_vserver_settled,omitempty"`
	HeapPerVserverSettle float64 `json:"heap_per_vserver_settled,omitempty"`
	Sampled              int     `json:"sampled"`
	SampleOK             int     `json:"sample_ok"`
	GoroutinesLeft       int     `json:"goroutines_left"` // after shutdown, above the start
	FDsLeft              int     `json:"fds_left"`
	PoolSize             int     `json:"pool_size"`
}

func main() {
	n := flag.Int("n", 1000, "number of vservers")
	threads := flag.Int("threads", 8, "threads of each vserver's queue on the shared pool")
	base := flag.String("base", "127.1.0.1", "address of the first vserver (the others follow, skipping .0 and .255)")
	nfsPort := flag.Int("nfs-port", 2049, "NFS port of every vserver")
	mountPort := flag.Int("mount-port", 20048, "MOUNT port of every vserver (-1: none)")
	pmapPort := flag.Int("portmap-port", 111, "portmapper port of every vserver (-1: none)")
	sample := flag.Int("sample", 20, "vservers checked to answer")
	dir := flag.String("dir", "", "work directory (default: a new temporary one, removed at the end)")
	heapProfile := flag.String("heapprofile", "", "write a heap profile with all vservers running to this file")
	parallel := flag.Int("parallel", 1, "vservers created and started at once")
	settle := flag.Duration("settle", 0, "after the UDP calls, wait this long (more than the vservers' UDP idle time, 10 s) and measure again")
	flag.Parse()
	if *heapProfile != "" {
		runtime.MemProfileRate = 1 // every allocation, for an exact profile
	}
	if *n < 1 || *parallel < 1 {
		log.Fatal("-n and -parallel must be at least 1")
	}

	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "vnfsd-density-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		work = d
	}
	addrs, err := benchutil.Addrs(netip.MustParseAddr(*base), *n)
	if err != nil {
		log.Fatal(err)
	}
	raiseNoFile(uint64(*n)*8 + 256)

	// Setup, not measured: one exported directory with one file and one
	// state directory per vserver.
	cfgs := make([]vserver.Config, *n)
	for i := range cfgs {
		name := fmt.Sprintf("v%05d", i)
		exp := filepath.Join(work, "export", name)
		if err := os.MkdirAll(exp, 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(exp, "hello"), []byte("hello from "+name+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		cfgs[i] = vserver.Config{
			Name:        name,
			Addrs:       []netip.Addr{addrs[i]},
			NFSPort:     *nfsPort,
			MountPort:   *mountPort,
			PortmapPort: *pmapPort,
			StateDir:    filepath.Join(work, "state", name),
			Exports:     []vserver.ExportConfig{{ID: 1, Path: "/export", Dir: exp, Squash: export.RootSquash}},
			Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		}
	}

	_, err = os.Stat(filepath.Join(cfgs[0].StateDir, vserver.KeyFile))
	keysExisted := err == nil

	pool := sched.NewPool(sched.Options{})
	m0, err := benchutil.Snapshot()
	if err != nil {
		log.Fatal(err)
	}

	servers := make([]*vserver.Server, *n)
	newTimes := make([]time.Duration, *parallel)
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < *n; i += *parallel {
				q, err := pool.NewQueue(cfgs[i].Name, *threads, 0)
				if err != nil {
					log.Fatal(err)
				}
				cfgs[i].Sched = q
				tn := time.Now()
				s, err := vserver.New(cfgs[i])
				newTimes[w] += time.Since(tn)
				if err != nil {
					log.Fatal(err)
				}
				if err := s.Start(context.Background()); err != nil {
					log.Fatalf("vserver %d: %v", i, err)
				}
				servers[i] = s
			}
		}()
	}
	wg.Wait()
	startTime := time.Since(t0)
	var newTime time.Duration
	for _, d := range newTimes {
		newTime += d
	}

	m1, err := benchutil.Snapshot()
	if err != nil {
		log.Fatal(err)
	}
	if *heapProfile != "" {
		f, err := os.Create(*heapProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}

	// One UDP call to every UDP socket, then measure again.
	var m1u benchutil.Mem
	if *mountPort != vserver.Disabled || *pmapPort != vserver.Disabled {
		for _, s := range servers {
			for _, svc := range []string{vserver.ServiceMountUDP, vserver.ServicePortmapUDP} {
				if a := s.Addrs()[svc]; a != "" {
					if err := benchutil.UDPNull(a, svc == vserver.ServiceMountUDP); err != nil {
						log.Fatalf("UDP NULL to %s: %v", a, err)
					}
				}
			}
		}
		if m1u, err = benchutil.Snapshot(); err != nil {
			log.Fatal(err)
		}
	}
	var m1s benchutil.Mem
	if *settle > 0 {
		time.Sleep(*settle)
		if m1s, err = benchutil.Snapshot(); err != nil {
			log.Fatal(err)
		}
	}

	// A sample answers: portmapper, MOUNT, NFS.
	sampled, ok := 0, 0
	step := max(*n/max(*sample, 1), 1)
	for i := 0; i < *n && sampled < *sample; i += step {
		sampled++
		if err := check(servers[i], *pmapPort != vserver.Disabled, *mountPort != vserver.Disabled); err != nil {
			log.Printf("vserver %s: %v", cfgs[i].Name, err)
			continue
		}
		ok++
	}
	poolSize := pool.Size()

	t1 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			log.Printf("shutdown: %v", err)
		}
	}
	cancel()
	shutdownTime := time.Since(t1)
	pool.Close()
	servers = nil
	// Goroutines that have signalled their end may still be exiting.
	var m2 benchutil.Mem
	for deadline := time.Now().Add(5 * time.Second); ; {
		if m2, err = benchutil.Snapshot(); err != nil {
			log.Fatal(err)
		}
		if m2.Goroutines <= m0.Goroutines || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	fn := float64(*n)
	r := result{
		Vservers: *n, Threads: *threads, Parallel: *parallel, KeysExisted: keysExisted, GOMAXPROCS: runtime.GOMAXPROCS(0),
		UDP:          *mountPort != vserver.Disabled || *pmapPort != vserver.Disabled,
		StartSeconds: startTime.Seconds(), NewSeconds: newTime.Seconds(), ShutdownSeconds: shutdownTime.Seconds(),
		RSSBeforeBytes: m0.RSS, RSSAfterBytes: m1.RSS,
		RSSPerVserver:     float64(m1.RSS-m0.RSS) / fn,
		HeapPerVserver:    float64(m1.HeapInuse-m0.HeapInuse) / fn,
		StackPerVserver:   float64(m1.StackInuse-m0.StackInuse) / fn,
		GoroutinesPerVsrv: float64(m1.Goroutines-m0.Goroutines) / fn,
		FDsPerVserver:     float64(m1.FDs-m0.FDs) / fn,
		Sampled:           sampled, SampleOK: ok,
		SettleSeconds:  settle.Seconds(),
		GoroutinesLeft: m2.Goroutines - m0.Goroutines, FDsLeft: m2.FDs - m0.FDs,
		PoolSize: poolSize,
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(k, v, target string) { fmt.Fprintf(tw, "%s\t%s\t%s\t\n", k, v, target) }
	fmt.Fprintf(tw, "density: %d vservers, threads %d each on one pool, GOMAXPROCS %d\t\t\t\n", *n, *threads, r.GOMAXPROCS)
	row("measure", "value", "target")
	row("time until all listen", fmt.Sprintf("%.3f s", r.StartSeconds), "<= 2 s")
	row(fmt.Sprintf("  of which vserver.New (keys existed: %v), summed over %d starters", keysExisted, *parallel), fmt.Sprintf("%.3f s", r.NewSeconds), "")
	row("RSS before", benchutil.KiB(float64(r.RSSBeforeBytes))+" KiB", "")
	row("RSS with all idle", benchutil.KiB(float64(r.RSSAfterBytes))+" KiB", "")
	row("RSS per idle vserver", benchutil.KiB(r.RSSPerVserver)+" KiB", "<= 64 KiB")
	row("  Go heap in use per vserver", benchutil.KiB(r.HeapPerVserver)+" KiB", "")
	row("  goroutine stacks per vserver", benchutil.KiB(r.StackPerVserver)+" KiB", "")
	if m1u.RSS != 0 {
		r.RSSPerVserverUDP = float64(m1u.RSS-m0.RSS) / fn
		r.HeapPerVserverUDP = float64(m1u.HeapInuse-m0.HeapInuse) / fn
		row("RSS per vserver after 1 UDP call to each socket", benchutil.KiB(r.RSSPerVserverUDP)+" KiB", "")
		row("  Go heap in use per vserver", benchutil.KiB(r.HeapPerVserverUDP)+" KiB", "")
	}
	if m1s.RSS != 0 {
		r.RSSPerVserverSettled = float64(m1s.RSS-m0.RSS) / fn
		r.HeapPerVserverSettle = float64(m1s.HeapInuse-m0.HeapInuse) / fn
		row(fmt.Sprintf("RSS per vserver %v later", *settle), benchutil.KiB(r.RSSPerVserverSettled)+" KiB", "")
		row("  Go heap in use per vserver", benchutil.KiB(r.HeapPerVserverSettle)+" KiB", "")
	}
	row("goroutines per vserver", strconv.FormatFloat(r.GoroutinesPerVsrv, 'f', 2, 64), "")
	row("descriptors per vserver", strconv.FormatFloat(r.FDsPerVserver, 'f', 2, 64), "")
	row("sample answering", fmt.Sprintf("%d/%d", ok, sampled), "all")
	row("pool size", strconv.Itoa(poolSize), "")
	row("shutdown of all", fmt.Sprintf("%.3f s", r.ShutdownSeconds), "")
	row("goroutines, descriptors left", fmt.Sprintf("%d, %d", r.GoroutinesLeft, r.FDsLeft), "0, 0")
	tw.Flush()
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
	if ok != sampled {
		os.Exit(1)
	}
}

// check asks one vserver's portmapper for its NFS port, mounts /export,
// and calls NFS NULL and GETATTR of the root.
func check(s *vserver.Server, pmap, mnt bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := s.Addrs()
	nfsAddr := a[vserver.ServiceNFS]
	if pmap {
		c, err := benchutil.Dial(ctx, a[vserver.ServicePortmap])
		if err != nil {
			return err
		}
		p, err := c.Getport(ctx, oncrpc.ProgNFS, 3)
		c.Close()
		if err != nil {
			return err
		}
		host, port, _ := net.SplitHostPort(nfsAddr)
		if strconv.Itoa(int(p)) != port {
			return fmt.Errorf("portmapper says NFS is on port %d, it listens on %s", p, nfsAddr)
		}
		nfsAddr = net.JoinHostPort(host, strconv.Itoa(int(p)))
	}
	c, err := benchutil.Dial(ctx, nfsAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Null(ctx, oncrpc.ProgNFS, 3); err != nil {
		return fmt.Errorf("NFS NULL: %w", err)
	}
	if !mnt {
		return nil
	}
	m, err := benchutil.Dial(ctx, a[vserver.ServiceMount])
	if err != nil {
		return err
	}
	defer m.Close()
	root, err := m.Mount(ctx, "/export")
	if err != nil {
		return err
	}
	if err := c.Getattr(ctx, root); err != nil {
		return err
	}
	_, err = c.Lookup(ctx, root, "hello")
	return err
}

// raiseNoFile raises the soft descriptor limit to at least want (up to
// the hard limit).
func raiseNoFile(want uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	if rl.Cur >= want {
		return
	}
	rl.Cur = min(want, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		log.Printf("raising RLIMIT_NOFILE: %v", err)
	}
	if rl.Cur < want {
		log.Printf("RLIMIT_NOFILE is %d, %d wanted", rl.Cur, want)
	}
}
