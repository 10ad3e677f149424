// Command compare runs vnfsd and NFS-Ganesha side by side on this machine
// and compares them with bench/nfsload.
//
//	go run ./bench/compare [flags]      (as root; bench/compare/run.sh installs
//	                                     what it needs first)
//
// It makes a network namespace with only lo, starts rpcbind and
// ganesha.nfsd (FSAL_VFS, the reference configuration of
// ../shared/reference) in it under a private mount namespace with its own
// /run, and vnfsd in the same namespace on other ports; both export a
// directory under one temporary directory (one file system). The load
// generator runs in the namespace too, so both servers are reached over
// the same loopback path. It creates the same data set on both through NFS
// (nfsload -setup), then runs every workload against both, alternating
// which goes first, for several rounds, and prints the median of each
// server and the median of the per-round ratios (vnfsd / ganesha). With
// -vers 3,4.1 (or 4.1 alone) it also runs every workload over NFSv4.1
// (nfsload -vers 4.1: one session per connection), vnfsd then serving
// NFSv3 and NFSv4.0-4.2 (--versions) and ganesha NFSv3 and NFSv4 as its
// configuration always has it (Protocols 3, 4; the export's Pseudo path
// /export). For
// the 1 MiB workloads it also measures the loopback ceiling (raw TCP copy
// in 1 MiB buffers over the same path) and reports each server's
// throughput as a share of it.
//
// Everything it made (processes, namespace, temporary directory) is removed
// on exit, also after an error or SIGINT/SIGTERM. What a comparison that
// was SIGKILLed left (namespace, rpcbind, directory) the next one removes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ceiling" {
		os.Exit(ceilingMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	code := compareMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	workloads   []string
	conns       int
	depth       int
	workdir     string
	keep        bool
	jsonOut     bool
	jsonFile    string
	fileSizeMiB int
	dirEntries  int
	ceilingDur  time.Duration
	vnfsdBin    string
	nfsloadBin  string
	vers        []string // NFS versions of the rows: "3", "4.1", "4.2"
	args        []string
}

// uses4 reports whether NFSv4 rows are asked.
func (o *options) uses4() bool {
	return slices.ContainsFunc(o.vers, func(v string) bool { return v != "3" })
}

var allWorkloads = []string{"read4k", "write4k-unstable", "write4k-sync", "read1m", "write1m",
	"getattr", "lookup", "lookup-missing", "churn", "readdirplus"}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{args: args}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 3, "rounds (each runs every workload against both servers)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of one workload on one server")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each measurement")
	wl := fs.String("workloads", strings.Join(allWorkloads, ","), "comma-separated workloads")
	vers := fs.String("vers", "3", "comma-separated NFS `versions` to compare: 3, 4.1, 4.2 (each runs every workload)")
	fs.IntVar(&o.conns, "conns", 4, "load generator connections")
	fs.IntVar(&o.depth, "depth", 8, "outstanding calls per connection")
	fs.StringVar(&o.workdir, "workdir", "/var/tmp", "`dir`ectory for the temporary directory holding both exports")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, exports)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as one JSON object instead of the text table")
	fs.StringVar(&o.jsonFile, "json-out", "", "also write the JSON results to `file`")
	fs.IntVar(&o.fileSizeMiB, "file-size-mib", 256, "size of the data set's two files")
	fs.IntVar(&o.dirEntries, "dir-entries", 10000, "files in the data set's directory")
	fs.DurationVar(&o.ceilingDur, "ceiling-duration", 3*time.Second, "duration of each loopback ceiling measurement")
	fs.StringVar(&o.vnfsdBin, "vnfsd-bin", "", "use this vnfsd binary instead of building ./cmd/vnfsd")
	fs.StringVar(&o.nfsloadBin, "nfsload-bin", "", "use this nfsload binary instead of building ./bench/nfsload")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, w := range strings.Split(*wl, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if !slices.Contains(allWorkloads, w) {
			return nil, fmt.Errorf("-workloads: unknown %q (%s)", w, strings.Join(allWorkloads, ","))
		}
		o.workloads = append(o.workloads, w)
	}
	for _, v := range strings.Split(*vers, ",") {
		v = strings.TrimSpace(v)
		switch v {
		case "":
			continue
		case "3", "4.1", "4.2":
		default:
			return nil, fmt.Errorf("-vers: unknown %q (3, 4.1, 4.2)", v)
		}
		if !slices.Contains(o.vers, v) {
			o.vers = append(o.vers, v)
		}
	}
	switch {
	case len(o.vers) == 0:
		return nil, errors.New("-vers: none")
	case len(o.workloads) == 0:
		return nil, errors.New("-workloads: none")
	case o.rounds < 1 || o.rounds > 100:
		return nil, errors.New("-rounds: 1 to 100")
	case o.duration <= 0 || o.warmup < 0 || o.ceilingDur <= 0:
		return nil, errors.New("durations must be positive")
	case o.conns < 1 || o.depth < 1:
		return nil, errors.New("-conns and -depth must be positive")
	}
	return o, nil
}

// Ports inside the namespace. Ganesha binds the wildcard address on its
// ports; vnfsd listens on 127.0.0.1 on ports of its own.
const (
	ganeshaNFSPort   = 2049
	ganeshaMountPort = 20048
	vnfsdNFSPort     = 2149
	vnfsdMountPort   = 20148
)

// server is one of the two servers under test.
type server struct {
	name      string
	nfsPort   int
	mountPort int
	proc      *proc
	setupSecs float64
	check4    map[string]map[string]any // nfsload -check per NFSv4 version
}

type bench struct {
	o          *options
	stderr     io.Writer
	work       string
	ns         string
	vnfsdBin   string // binaries
	nfsloadBin string
	self       string
	servers    []*server
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.stderr, "compare: "+format+"\n", a...)
}

func compareMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 2
	}
	b := &bench{o: o, stderr: stderr}
	rep, err := b.run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	if o.jsonFile != "" {
		if err := os.WriteFile(o.jsonFile, append(js, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			return 1
		}
	}
	if o.jsonOut {
		stdout.Write(append(js, '\n'))
	} else {
		rep.printText(stdout)
	}
	return 0
}

// requirements are the programs the comparison runs, with the Debian
// package providing each (bench/compare/run.sh installs them).
var requirements = []struct{ path, pkg string }{
	{"ip", "iproute2"},
	{"unshare", "util-linux"},
	{"rpcbind", "rpcbind"},
	{"ganesha.nfsd", "nfs-ganesha"},
	{"/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so", "nfs-ganesha-vfs"},
}

func checkRequirements() error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root (network namespaces, ganesha)")
	}
	var missing []string
	for _, r := range requirements {
		var err error
		if strings.HasPrefix(r.path, "/") {
			_, err = os.Stat(r.path)
		} else {
			_, err = exec.LookPath(r.path)
		}
		if err != nil {
			missing = append(missing, r.pkg)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing packages %s: run bench/compare/run.sh, which installs them, or apt-get install them", strings.Join(missing, " "))
	}
	return nil
}

func (b *bench) run(ctx context.Context) (rep *report, err error) {
	t0 := time.Now()
	if err := checkRequirements(); err != nil {
		return nil, err
	}
	b.self, err = os.Executable()
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(b.o.workdir, 0o755); err != nil {
		return nil, err
	}
	cleanStale(ctx, b.o.workdir, b.logf)
	b.work, err = os.MkdirTemp(b.o.workdir, netnsPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if b.o.keep {
			b.logf("kept %s", b.work)
			return
		}
		os.RemoveAll(b.work)
	}()
	for _, d := range []string{"bin", "vnfsd-data", "ganesha/export", "ganesha/recovery", "logs"} {
		if err := os.MkdirAll(filepath.Join(b.work, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := b.build(ctx); err != nil {
		return nil, err
	}

	b.ns = netnsPrefix + strconv.Itoa(os.Getpid())
	if err := createNetns(ctx, b.ns); err != nil {
		return nil, err
	}
	defer deleteNetns(b.ns)

	g, err := b.startGanesha()
	if g != nil {
		defer g.proc.stop(10 * time.Second)
	}
	if err != nil {
		return nil, err
	}
	v, err := b.startVnfsd(ctx)
	if v != nil {
		defer v.proc.stop(10 * time.Second)
	}
	if err != nil {
		return nil, err
	}
	b.servers = []*server{v, g}
	for _, s := range b.servers {
		if err := b.waitReady(ctx, s); err != nil {
			return nil, err
		}
		b.check4(ctx, s)
	}
	// The data set is the same files whatever the version: made once per
	// server, over NFSv3 when it is compared, else over the first
	// version.
	setupVers := b.o.vers[0]
	if slices.Contains(b.o.vers, "3") {
		setupVers = "3"
	}
	for _, s := range b.servers {
		t := time.Now()
		b.logf("creating the data set on %s (NFSv%s)", s.name, setupVers)
		if _, err := b.nfsload(ctx, s, "-vers", setupVers, "-setup", "-json"); err != nil {
			return nil, fmt.Errorf("setup on %s: %w", s.name, err)
		}
		s.setupSecs = time.Since(t).Seconds()
	}

	rep = b.newReport()
	rep.Started = t0.UTC().Format(time.RFC3339)
	for round := range b.o.rounds {
		c, err := b.ceiling(ctx)
		if err != nil {
			return nil, err
		}
		rep.Ceiling = append(rep.Ceiling, c.MiBPerSec)
		b.logf("round %d/%d: loopback ceiling %.0f MiB/s", round+1, b.o.rounds, c.MiBPerSec)
		wi := 0
		for _, vers := range b.o.vers {
			for _, w := range b.o.workloads {
				order := []*server{b.servers[0], b.servers[1]}
				if (round+wi)%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				wi++
				for pos, s := range order {
					r, err := b.measure(ctx, s, vers, w)
					if err != nil {
						return nil, err
					}
					r.Round, r.First = round+1, pos == 0
					rep.Runs = append(rep.Runs, *r)
					b.logf("round %d/%d NFSv%-3s %-16s %-7s %10.1f ops/s %8.1f MiB/s p99 %8.0f us errors %d%s",
						round+1, b.o.rounds, vers, w, s.name, r.OpsPerSec, r.MiBPerSec, r.Latency.P99, r.Errors, abortedNote(r))
				}
			}
		}
	}
	for _, s := range b.servers {
		if s.proc.alive() {
			rep.Servers[s.name].PeakRSSMiB = round1(peakRSSMiB(s.proc.pid()))
		}
	}
	rep.summarize()
	rep.Seconds = round1(time.Since(t0).Seconds())
	return rep, nil
}

func abortedNote(r *runRecord) string {
	switch {
	case r.Failed != "":
		return " FAILED: " + r.Failed
	case r.Aborted != "":
		return " ABORTED: " + r.Aborted
	}
	return ""
}

// build builds vnfsd and nfsload from the module the command runs in,
// unless binaries were given.
func (b *bench) build(ctx context.Context) error {
	b.vnfsdBin, b.nfsloadBin = b.o.vnfsdBin, b.o.nfsloadBin
	if b.vnfsdBin != "" && b.nfsloadBin != "" {
		return nil
	}
	out, err := run(ctx, "go", "env", "GOMOD")
	if err != nil {
		return err
	}
	mod := strings.TrimSpace(out)
	if mod == "" || mod == os.DevNull {
		return errors.New("not inside the vnfsd module: run from the repository (or give -vnfsd-bin and -nfsload-bin)")
	}
	root := filepath.Dir(mod)
	for _, t := range []struct {
		bin *string
		pkg string
	}{{&b.vnfsdBin, "./cmd/vnfsd"}, {&b.nfsloadBin, "./bench/nfsload"}} {
		if *t.bin != "" {
			continue
		}
		dst := filepath.Join(b.work, "bin", filepath.Base(t.pkg))
		b.logf("building %s", t.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", dst, t.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", t.pkg, err, out)
		}
		*t.bin = dst
	}
	return nil
}

// ganeshaConfig is the reference configuration with its placeholders
// replaced.
func (b *bench) ganeshaConfig() (string, error) {
	conf := strings.NewReplacer(
		"@EXPORT_DIR@", filepath.Join(b.work, "ganesha/export"),
		"@RECOVERY_DIR@", filepath.Join(b.work, "ganesha/recovery"),
	).Replace(ganeshaReferenceConf)
	p := filepath.Join(b.work, "ganesha.conf")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

// startGanesha starts rpcbind and ganesha.nfsd in the namespace, in a
// mount namespace of their own with a private tmpfs on /run (rpcbind's
// socket and lock, ganesha's run directory).
func (b *bench) startGanesha() (*server, error) {
	conf, err := b.ganeshaConfig()
	if err != nil {
		return nil, err
	}
	script := fmt.Sprintf(`set -e
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mkdir -p /run/rpcbind /run/ganesha
rpcbind -f -w &
i=0
while [ ! -S /run/rpcbind.sock ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
exec ganesha.nfsd -F -L %s -f %s -p /run/ganesha/ganesha.pid
`, filepath.Join(b.work, "logs/ganesha.log"), conf)
	sp := filepath.Join(b.work, "ganesha-start.sh")
	if err := os.WriteFile(sp, []byte(script), 0o755); err != nil {
		return nil, err
	}
	b.logf("starting rpcbind and ganesha.nfsd in network namespace %s", b.ns)
	p, err := startProc("ganesha", filepath.Join(b.work, "logs/ganesha.out"),
		"ip", "netns", "exec", b.ns, "unshare", "--mount", "--propagation", "private", "sh", sp)
	if err != nil {
		return nil, err
	}
	return &server{name: "ganesha", nfsPort: ganeshaNFSPort, mountPort: ganeshaMountPort, proc: p}, nil
}

func (b *bench) startVnfsd(ctx context.Context) (*server, error) {
	args := []string{"ip", "netns", "exec", b.ns, b.vnfsdBin, "serve",
		"--data", filepath.Join(b.work, "vnfsd-data"),
		"--listen", "127.0.0.1",
		"--nfs-port", strconv.Itoa(vnfsdNFSPort),
		"--mount-port", strconv.Itoa(vnfsdMountPort),
		"--portmap-port", "0",
		"--no-root-squash",
		"--log-level", "info", // a few lines a run (mounts), and why it stopped
	}
	if b.o.uses4() {
		args = append(args, "--versions", "3,4.0,4.1,4.2")
	}
	// A REST API listener, where this vnfsd has one, is not wanted here.
	help, _ := exec.CommandContext(ctx, b.vnfsdBin, "serve", "-h").CombinedOutput()
	if regexp.MustCompile(`(?m)^\s*-api\b`).Match(help) {
		args = append(args, "--api", "off")
	}
	b.logf("starting vnfsd in network namespace %s", b.ns)
	p, err := startProc("vnfsd", filepath.Join(b.work, "logs/vnfsd.log"), args...)
	if err != nil {
		return nil, err
	}
	return &server{name: "vnfsd", nfsPort: vnfsdNFSPort, mountPort: vnfsdMountPort, proc: p}, nil
}

// waitReady waits until the server answers MNT and FSINFO.
func (b *bench) waitReady(ctx context.Context, s *server) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := b.nfsload(ctx, s, "-check", "-json")
		if err == nil {
			return nil
		}
		if !s.proc.alive() {
			return errors.New(s.proc.died())
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready: %v\n%s", s.name, err, s.proc.logTail(20))
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// check4 asks the server for the NFSv4 versions compared (nfsload -check:
// mount by PUTROOTFH and LOOKUP, a session) and logs what was negotiated.
// A server that fails it is not dropped: its NFSv4 runs will fail and be
// reported so.
func (b *bench) check4(ctx context.Context, s *server) {
	for _, v := range b.o.vers {
		if v == "3" {
			continue
		}
		r, err := b.nfsload(ctx, s, "-vers", v, "-check", "-json")
		if err != nil {
			b.logf("%s: NFSv%s check failed: %v", s.name, v, err)
			continue
		}
		var m map[string]any
		if json.Unmarshal(r.out, &m) == nil {
			if s.check4 == nil {
				s.check4 = map[string]map[string]any{}
			}
			s.check4[v] = m
		}
		b.logf("%s: NFSv%s: %s", s.name, v, strings.TrimSpace(string(r.out)))
	}
}

// nfsloadRun is nfsload's output and the CPU time it used.
type nfsloadRun struct {
	out    []byte
	cpuSec float64
}

// nfsload runs the load generator in the namespace against s.
func (b *bench) nfsload(ctx context.Context, s *server, extra ...string) (*nfsloadRun, error) {
	args := []string{"netns", "exec", b.ns, b.nfsloadBin,
		"-addr", "127.0.0.1",
		"-nfs-port", strconv.Itoa(s.nfsPort),
		"-mount-port", strconv.Itoa(s.mountPort),
		"-export", "/export",
		"-conns", strconv.Itoa(b.o.conns),
		"-depth", strconv.Itoa(b.o.depth),
		"-file-size-mib", strconv.Itoa(b.o.fileSizeMiB),
		"-dir-entries", strconv.Itoa(b.o.dirEntries),
	}
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &nfsloadRun{out: stdout.Bytes()}
	if ps := cmd.ProcessState; ps != nil {
		r.cpuSec = ps.UserTime().Seconds() + ps.SystemTime().Seconds()
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		// A workload whose connection failed still reports (exit 1).
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 1 && len(r.out) > 0 && json.Valid(bytes.TrimSpace(r.out)) {
			return r, nil
		}
		return nil, fmt.Errorf("nfsload %s: %w: %s", strings.Join(extra, " "), err, strings.TrimSpace(stderr.String()))
	}
	return r, nil
}

// ceiling measures the loopback ceiling in the namespace.
func (b *bench) ceiling(ctx context.Context) (*ceilingResult, error) {
	out, err := run(ctx, "ip", "netns", "exec", b.ns, b.self, "ceiling",
		"-conns", strconv.Itoa(b.o.conns), "-buf", strconv.Itoa(1<<20), "-duration", b.o.ceilingDur.String())
	if err != nil {
		return nil, fmt.Errorf("loopback ceiling: %w", err)
	}
	var c ceilingResult
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		return nil, fmt.Errorf("loopback ceiling: %w: %q", err, out)
	}
	return &c, nil
}

// measure runs one workload over NFS version vers against one server and
// records the server's CPU time during the run. A run that nfsload cannot
// start (the server refuses what the workload needs) is recorded as
// failed, and the comparison goes on.
func (b *bench) measure(ctx context.Context, s *server, vers, workload string) (*runRecord, error) {
	if !s.proc.alive() {
		return nil, errors.New(s.proc.died())
	}
	// Write back what the previous run left dirty, so that it does not
	// land on the next one.
	syscall.Sync()
	cpu0, err := cpuSeconds(s.proc.pid())
	if err != nil {
		return nil, err
	}
	res, err := b.nfsload(ctx, s, "-vers", vers, "-workload", workload, "-duration", b.o.duration.String(), "-warmup", b.o.warmup.String(), "-json")
	if err != nil {
		if !s.proc.alive() {
			return nil, errors.New(s.proc.died())
		}
		if ctx.Err() != nil {
			return nil, err
		}
		r := &runRecord{Server: s.name, Failed: err.Error()}
		r.Workload, r.Vers = workload, vers
		return r, nil
	}
	cpu1, err := cpuSeconds(s.proc.pid())
	if err != nil {
		if !s.proc.alive() {
			return nil, errors.New(s.proc.died())
		}
		return nil, err
	}
	r := &runRecord{Server: s.name}
	if err := json.Unmarshal(res.out, &r.loadResult); err != nil {
		return nil, fmt.Errorf("nfsload output: %w: %q", err, res.out)
	}
	if r.Vers == "" {
		r.Vers = vers
	}
	r.ServerCPUSec = round3(cpu1 - cpu0)
	r.ClientCPUSec = round3(res.cpuSec)
	// The CPU time covers the warm-up too: per op, divide by the ops of
	// the whole run, estimated at the measured rate.
	if ops := r.OpsPerSec * (r.Seconds + b.o.warmup.Seconds()); ops > 0 {
		r.ServerCPUUsPerOp = round1(r.ServerCPUSec / ops * 1e6)
	}
	return r, nil
}

// machine describes where the comparison ran.
type machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	Kernel     string `json:"kernel"`
	FileSystem string `json:"file_system"`
	Ganesha    string `json:"ganesha_version"`
	Vnfsd      string `json:"vnfsd_version"`
	Go         string `json:"go_version"`
}

func (b *bench) machine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(k))
	}
	if ci, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(ci), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(b.work, &st); err == nil {
		m.FileSystem = fsName(st.Type)
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "nfs-ganesha").Output(); err == nil {
		m.Ganesha = string(out)
	}
	if out, err := exec.Command(b.vnfsdBin, "version").Output(); err == nil {
		m.Vnfsd = strings.TrimSpace(string(out))
	}
	return m
}

func fsName(magic int64) string {
	switch magic {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs"
	case 0x794c7630:
		return "overlayfs"
	}
	return "0x" + strconv.FormatInt(magic, 16)
}
