// Command fairness measures how much one busy tenant slows another down
// when both are served by one vnfsd process.
//
//	go run ./bench/fairness
//
// Vserver A (127.3.0.1) and vserver B (127.3.0.2) run in this process.
// B's latency is measured by a probe, one client doing GETATTR in a
// closed loop on one TCP connection: first with A idle, then while A is
// driven at saturation by -clients clients (each its own TCP connection,
// one call outstanding, READ of 4 KiB at random offsets or GETATTR). The
// probe and the load run in child processes of their own, as real clients
// would. The figure of merit is B's p99 latency under load divided by B's
// p99 alone (target: at most 2).
//
// Two scheduling variants run in turn:
//
//	shared  both vservers on one sched.Pool, each queue with -threads;
//	        the pool's workers read the connections (poll mode)
//	readers the same pool, but a reader goroutine per connection hands
//	        calls to it (the design before poll mode)
//	none    no scheduler: oncrpc runs each request on its own goroutine
//
// The result is printed as a table and one JSON line (prefix "RESULT ").
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/vnfsd/vnfsd/bench/internal/benchutil"
	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/poll"
	"github.com/vnfsd/vnfsd/internal/sched"
	"github.com/vnfsd/vnfsd/internal/vserver"
)

const (
	fileName = "data"
	fileSize = 16 << 20
	readSize = 4 << 10
)

var (
	role       = flag.String("role", "run", "run (coordinator and server), or the child roles load and probe")
	nfsAddr    = flag.String("nfs", "", "load, probe: NFS address")
	mntAddr    = flag.String("mount", "", "load, probe: MOUNT address")
	clients    = flag.Int("clients", 64, "concurrent clients of A, each on its own TCP connection")
	op         = flag.String("op", "read", "load operation: read (READ 4 KiB at random offsets) or getattr")
	duration   = flag.Duration("duration", 5*time.Second, "length of each probe run")
	warmup     = flag.Duration("warmup", time.Second, "time the load runs before the probe starts")
	threads    = flag.Int("threads", 8, "threads of each vserver's queue (shared variant)")
	rounds     = flag.Int("rounds", 3, "measurements of each variant (the median ratio is reported)")
	variants   = flag.String("variants", "shared,none", "scheduling variants to run, in order")
	probeNice  = flag.Int("probe-nice", 0, "nice value of the probe process (negative needs root)")
	loadNice   = flag.Int("load-nice", 0, "nice value of the load process")
	clientCPUs = flag.String("client-cpus", "", "run the probe and the load on these CPUs (taskset -c list), such as 1; the server keeps the affinity it was started with")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	switch *role {
	case "run":
		run()
	case "load":
		load()
	case "probe":
		probe()
	default:
		log.Fatalf("unknown -role %q", *role)
	}
}

// probeResult is what a probe child prints.
type probeResult struct {
	N      int     `json:"n"`
	Errors int     `json:"errors"`
	P50us  float64 `json:"p50_us"`
	P90us  float64 `json:"p90_us"`
	P99us  float64 `json:"p99_us"`
	P999us float64 `json:"p999_us"`
	MaxUs  float64 `json:"max_us"`
}

// loadResult is what a load child prints at the end.
type loadResult struct {
	Ops     int64   `json:"ops"` // since the mark
	Seconds float64 `json:"seconds"`
	Errors  int64   `json:"errors"`
}

type variant struct {
	Name   string      `json:"name"`
	Round  int         `json:"round"`
	Alone  probeResult `json:"b_alone"`
	Loaded probeResult `json:"b_loaded"`
	// B's calls as seen inside the server: from the moment the RPC
	// layer hands the call to the scheduler until its handler returned
	// (wait for a worker + service), p50 and p99.
	ServerAlone  serverTimes `json:"b_server_alone"`
	ServerLoaded serverTimes `json:"b_server_loaded"`
	P99Ratio     float64     `json:"p99_ratio"`
	P50Ratio     float64     `json:"p50_ratio"`
	AOpsPerS     float64     `json:"a_ops_per_s"`
	AErrors      int64       `json:"a_errors"`
	PoolSize     int         `json:"pool_size,omitempty"`
	Completed    uint64      `json:"pool_completed,omitempty"`
}

type result struct {
	Clients    int       `json:"clients"`
	Op         string    `json:"op"`
	Threads    int       `json:"threads"`
	DurationS  float64   `json:"probe_seconds"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	CPUs       int       `json:"cpus"`
	Rounds     int       `json:"rounds"`
	Variants   []variant `json:"variants"`
	// MedianP99Ratio is, per scheduling variant, the median over the
	// rounds of B's p99 under load / B's p99 alone.
	MedianP99Ratio []namedRatio `json:"median_p99_ratio"`
}

type namedRatio struct {
	Variant string  `json:"variant"`
	Ratio   float64 `json:"ratio"`
}

func run() {
	work, err := os.MkdirTemp("", "vnfsd-fairness-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	dirs := map[string]string{"a": filepath.Join(work, "a"), "b": filepath.Join(work, "b")}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
		data := make([]byte, fileSize)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(d, fileName), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	res := result{Clients: *clients, Op: *op, Threads: *threads, DurationS: duration.Seconds(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU(), Rounds: *rounds}
	names := strings.Split(*variants, ",")
	for _, name := range names {
		if name != "shared" && name != "readers" && name != "none" {
			log.Fatalf("unknown variant %q", name)
		}
	}
	// Rounds alternate the variants, so that a change of the machine's
	// load hits both alike.
	for round := 0; round < *rounds; round++ {
		for _, name := range names {
			v, err := runVariant(name, work, dirs)
			if err != nil {
				log.Fatalf("variant %s: %v", name, err)
			}
			v.Round = round
			res.Variants = append(res.Variants, v)
		}
	}

	fmt.Printf("fairness: A %d clients (%s), B 1 client (GETATTR), %d CPUs, threads %d, %d rounds of %v\n",
		*clients, *op, res.CPUs, *threads, *rounds, *duration)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scheduler\tround\tB p50 alone\tB p99 alone\tB p50 loaded\tB p99 loaded\tp99 ratio\tp50 ratio\tA ops/s\tB in server p99 alone/loaded\t(wait for worker)\t\n")
	for _, v := range res.Variants {
		fmt.Fprintf(tw, "%s\t%d\t%.0f µs\t%.0f µs\t%.0f µs\t%.0f µs\t%.2fx\t%.2fx\t%.0f\t%.0f / %.0f µs\t(%.0f / %.0f µs)\t\n", v.Name, v.Round,
			v.Alone.P50us, v.Alone.P99us, v.Loaded.P50us, v.Loaded.P99us, v.P99Ratio, v.P50Ratio, v.AOpsPerS,
			v.ServerAlone.P99us, v.ServerLoaded.P99us, v.ServerAlone.WaitP99us, v.ServerLoaded.WaitP99us)
	}
	tw.Flush()
	for _, name := range names {
		var ratios []float64
		for _, v := range res.Variants {
			if v.Name == name {
				ratios = append(ratios, v.P99Ratio)
			}
		}
		slices.Sort(ratios)
		med := ratios[len(ratios)/2]
		res.MedianP99Ratio = append(res.MedianP99Ratio, namedRatio{name, med})
		fmt.Printf("%s: median p99 ratio %.2fx (target <= 2x)\n", name, med)
	}
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
}

func runVariant(name, work string, dirs map[string]string) (variant, error) {
	v := variant{Name: name}
	var pool *sched.Pool
	if name == "shared" || name == "readers" {
		pool = sched.NewPool(sched.Options{})
		defer pool.Close()
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	servers := map[string]*vserver.Server{}
	var bTimer *timingSched
	for i, n := range []string{"a", "b"} {
		cfg := vserver.Config{
			Name:        n,
			Addrs:       []netip.Addr{netip.AddrFrom4([4]byte{127, 3, 0, byte(i + 1)})},
			PortmapPort: vserver.Disabled,
			StateDir:    filepath.Join(work, "state-"+n),
			Exports:     []vserver.ExportConfig{{ID: 1, Path: "/export", Dir: dirs[n], Squash: export.NoRootSquash}},
			Logger:      logger,
		}
		if pool != nil {
			q, err := pool.NewQueue(n, *threads, 0)
			if err != nil {
				return v, err
			}
			cfg.Sched = q
			if name == "readers" {
				cfg.Sched = goOnly{q}
			}
		}
		if n == "b" {
			// B's requests are timed inside the server too.
			bTimer = &timingSched{inner: cfg.Sched}
			cfg.Sched = bTimer
			if ps, ok := bTimer.inner.(oncrpc.PollScheduler); ok {
				cfg.Sched = timingPollSched{bTimer, ps}
			}
		}
		s, err := vserver.New(cfg)
		if err != nil {
			return v, err
		}
		if err := s.Start(context.Background()); err != nil {
			return v, err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s.Shutdown(ctx)
		}()
		servers[n] = s
	}
	a, b := servers["a"].Addrs(), servers["b"].Addrs()

	var err error
	bTimer.reset()
	if v.Alone, err = runProbe(b); err != nil {
		return v, fmt.Errorf("probe alone: %w", err)
	}
	v.ServerAlone = bTimer.summary()

	// The load, in its own process.
	cmd := child(*loadNice, "-role", "load", "-nfs", a[vserver.ServiceNFS], "-mount", a[vserver.ServiceMount],
		"-clients", fmt.Sprint(*clients), "-op", *op)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return v, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return v, err
	}
	if err := cmd.Start(); err != nil {
		return v, err
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		return v, fmt.Errorf("load did not start: %q %v", line, err)
	}
	time.Sleep(*warmup)
	if _, err := io.WriteString(stdin, "mark\n"); err != nil {
		return v, err
	}
	bTimer.reset()
	if v.Loaded, err = runProbe(b); err != nil {
		return v, fmt.Errorf("probe under load: %w", err)
	}
	v.ServerLoaded = bTimer.summary()
	stdin.Close()
	var lr loadResult
	if err := json.NewDecoder(out).Decode(&lr); err != nil {
		return v, fmt.Errorf("load result: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return v, fmt.Errorf("load: %w", err)
	}
	v.AOpsPerS = float64(lr.Ops) / lr.Seconds
	v.AErrors = lr.Errors
	if v.Alone.P99us > 0 {
		v.P99Ratio = v.Loaded.P99us / v.Alone.P99us
		v.P50Ratio = v.Loaded.P50us / v.Alone.P50us
	}
	if pool != nil {
		st := pool.Stats()
		v.PoolSize, v.Completed = st.Size, st.Completed
	}
	return v, nil
}

// child returns the command running this program with args, at the
// given nice value (through nice(1), so that every thread inherits it).
type serverTimes struct {
	N         int     `json:"n"`
	WaitP50us float64 `json:"wait_p50_us"`
	WaitP99us float64 `json:"wait_p99_us"`
	P50us     float64 `json:"total_p50_us"`
	P99us     float64 `json:"total_p99_us"`
}

// timingSched wraps a vserver's scheduler (nil: a goroutine per call,
// as oncrpc does without one) and records, per call, the wait until the
// handler starts and the time until it returns.
type timingSched struct {
	inner       oncrpc.Scheduler
	mu          sync.Mutex
	wait, total []time.Duration
}

func (t *timingSched) Go(ctx context.Context, fn func()) error {
	run := t.timed(fn)
	if t.inner == nil {
		go run()
		return nil
	}
	return t.inner.Go(ctx, run)
}

// timed wraps fn to record its wait and run time from now.
func (t *timingSched) timed(fn func()) func() {
	t0 := time.Now()
	return func() {
		t1 := time.Now()
		fn()
		t2 := time.Now()
		t.mu.Lock()
		t.wait = append(t.wait, t1.Sub(t0))
		t.total = append(t.total, t2.Sub(t0))
		t.mu.Unlock()
	}
}

// goOnly hides the poll mode of a sched.Queue: the RPC server then reads
// each connection with a goroutine of its own.
type goOnly struct{ q *sched.Queue }

func (g goOnly) Go(ctx context.Context, fn func()) error { return g.q.Go(ctx, fn) }

// timingPollSched is timingSched around a scheduler that also reads the
// connections (sched.Queue): a call is timed from the moment a worker
// found its connection readable.
type timingPollSched struct {
	*timingSched
	poll oncrpc.PollScheduler
}

func (t timingPollSched) Enqueue(fn func()) error { return t.poll.Enqueue(t.timed(fn)) }

func (t timingPollSched) Watch(fd int, ready func()) (*poll.Watch, error) {
	return t.poll.Watch(fd, ready)
}

func (t *timingSched) reset() {
	t.mu.Lock()
	t.wait, t.total = t.wait[:0], t.total[:0]
	t.mu.Unlock()
}

func (t *timingSched) summary() serverTimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, a := benchutil.Summarize(slices.Clone(t.wait)), benchutil.Summarize(slices.Clone(t.total))
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return serverTimes{N: a.N, WaitP50us: us(w.P50), WaitP99us: us(w.P99), P50us: us(a.P50), P99us: us(a.P99)}
}

func child(nice int, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	argv := append([]string{exe}, args...)
	if nice != 0 {
		argv = append([]string{"nice", "-n", fmt.Sprint(nice)}, argv...)
	}
	if *clientCPUs != "" {
		argv = append([]string{"taskset", "-c", *clientCPUs}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	return cmd
}

func runProbe(b map[string]string) (probeResult, error) {
	cmd := child(*probeNice, "-role", "probe", "-nfs", b[vserver.ServiceNFS], "-mount", b[vserver.ServiceMount],
		"-duration", duration.String())
	out, err := cmd.Output()
	if err != nil {
		return probeResult{}, err
	}
	var pr probeResult
	if err := json.Unmarshal(out, &pr); err != nil {
		return pr, fmt.Errorf("probe output %q: %w", out, err)
	}
	if pr.N == 0 || pr.Errors > 0 {
		return pr, fmt.Errorf("probe: %d calls, %d errors", pr.N, pr.Errors)
	}
	return pr, nil
}

// mountRoot mounts /export and returns the root handle.
func mountRoot(ctx context.Context) ([]byte, error) {
	m, err := benchutil.Dial(ctx, *mntAddr)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.Mount(ctx, "/export")
}

// probe is the child that measures B: GETATTR of the root in a closed
// loop for -duration, one connection.
func probe() {
	ctx := context.Background()
	root, err := mountRoot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c, err := benchutil.Dial(ctx, *nfsAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	lat := make([]time.Duration, 0, 1<<16)
	errs := 0
	for end := time.Now().Add(*duration); time.Now().Before(end); {
		t := time.Now()
		err := c.Getattr(ctx, root)
		d := time.Since(t)
		if err != nil {
			errs++
			log.Print(err)
			continue
		}
		lat = append(lat, d)
	}
	s := benchutil.Summarize(lat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	json.NewEncoder(os.Stdout).Encode(probeResult{N: s.N, Errors: errs, P50us: us(s.P50), P90us: us(s.P90),
		P99us: us(s.P99), P999us: us(s.P999), MaxUs: us(s.Max)})
}

// load is the child that saturates A: -clients connections, one call
// outstanding on each. It prints "ready" once all are connected, resets
// its counters at a "mark" line on stdin, and at the end of stdin prints
// a loadResult and exits.
func load() {
	ctx, cancel := context.WithCancel(context.Background())
	root, err := mountRoot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var ops, errs atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	conns := make([]*benchutil.Client, *clients)
	var fh []byte
	for i := range conns {
		if conns[i], err = benchutil.Dial(ctx, *nfsAddr); err != nil {
			log.Fatal(err)
		}
	}
	if fh, err = conns[0].Lookup(ctx, root, fileName); err != nil {
		log.Fatal(err)
	}
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(i), 1))
			for !stop.Load() {
				var err error
				switch *op {
				case "getattr":
					err = c.Getattr(ctx, fh)
				default:
					_, err = c.Read(ctx, fh, uint64(rng.IntN(fileSize/readSize))*readSize, readSize)
				}
				if err != nil {
					if stop.Load() || errors.Is(err, context.Canceled) {
						return
					}
					errs.Add(1)
					continue
				}
				ops.Add(1)
			}
		}()
	}
	fmt.Println("ready")
	start := time.Now()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "mark" {
			ops.Store(0)
			errs.Store(0)
			start = time.Now()
		}
	}
	n, e, secs := ops.Load(), errs.Load(), time.Since(start).Seconds()
	stop.Store(true)
	cancel()
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	json.NewEncoder(os.Stdout).Encode(loadResult{Ops: n, Seconds: secs, Errors: e})
}
