// Package kernel tests vnfsd with the Linux kernel's NFS client: it boots
// the current Debian kernel in qemu with a Go agent as /init (./agent),
// which mounts the export of a vnfsd process over qemu's user networking
// and runs a workload; the results come back as JSON lines on the serial
// console. qemu and vnfsd run in a network namespace of their own.
//
// Needs root (network namespace, apt-get), qemu-system-x86_64, ip, depmod,
// dpkg-deb and apt-get; missing Debian packages are installed. Kernels
// are cached in $VNFSD_KERNEL_CACHE (default /var/cache/vnfsd-kernel).
// Set VNFSD_KERNEL_ACCEL=tcg or kvm to skip the KVM attempt or the TCG
// fallback.
package kernel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vnfsd/vnfsd/test/kernel/wire"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Protocol of the agent: package wire.
const (
	eventPrefix  = wire.EventPrefix
	resultPrefix = wire.ResultPrefix
)

type event = wire.Event

type result = wire.Result

type hostCheck = wire.HostCheck

type statfsData = wire.Statfs

// message is one protocol line from the guest; exactly one field is set.
type message struct {
	event  *event
	result *result
	bad    string // a line with a prefix that did not parse
}

// parseLine parses a console line. Kernel messages may share a line with
// the protocol, so the prefix is looked for anywhere in it.
func parseLine(line string) (message, bool) {
	line = strings.TrimRight(line, "\r\n")
	for _, p := range []string{resultPrefix, eventPrefix} {
		i := strings.Index(line, p)
		if i < 0 {
			continue
		}
		js := line[i+len(p):]
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if p == resultPrefix {
			var r result
			if err := dec.Decode(&r); err != nil || r.Case == "" {
				return message{bad: line}, true
			}
			return message{result: &r}, true
		}
		var e event
		if err := dec.Decode(&e); err != nil || e.Event == "" {
			return message{bad: line}, true
		}
		return message{event: &e}, true
	}
	return message{}, false
}

// inCI reports whether the tests run in CI, where missing prerequisites
// fail instead of skipping.
func inCI() bool { return os.Getenv("CI") != "" && os.Getenv("CI") != "false" }

// harnessEnv is what every test shares: the kernel, the initramfs, the
// vnfsd binary and the accelerator that worked. It is prepared once.
type harnessEnv struct {
	kernel    *kernelTree
	initrd    string
	vnfsd     string
	nmod      int
	skip      string // why the tests cannot run here, if they cannot
	err       error
	accelMu   sync.Mutex
	accel     string // "kvm" or "tcg" once a guest has come up
	prepared  time.Duration
	initrdLen int64
}

var (
	prepOnce sync.Once
	shared   harnessEnv
	workDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

// setup returns the shared environment, preparing it on first use, and
// skips or fails the test if the harness cannot run here.
func setup(t *testing.T) *harnessEnv {
	t.Helper()
	prepOnce.Do(func() {
		t0 := time.Now()
		shared.skip, shared.err = prepare(t.Logf)
		shared.prepared = time.Since(t0)
		if shared.err == nil && shared.skip == "" {
			t.Logf("prepared in %v: %s (%s), %d modules, initramfs %d KiB",
				shared.prepared.Round(time.Millisecond), shared.kernel.pkg, shared.kernel.release, shared.nmod, shared.initrdLen>>10)
		}
	})
	if shared.skip != "" {
		if inCI() {
			t.Fatalf("kernel client tests cannot run (CI=true, so this fails): %s", shared.skip)
		}
		t.Skip("kernel client tests skipped: " + shared.skip)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return &shared
}

// tools are the programs the harness runs and the Debian packages that
// have them. xz and zstd are needed only for compressed modules (Debian
// 12's are not compressed): they are installed if missing, not required.
var tools = []struct {
	bin, pkg string
	required bool
}{
	{"qemu-system-x86_64", "qemu-system-x86", true},
	{"ip", "iproute2", true},
	{"depmod", "kmod", true},
	{"dpkg-deb", "dpkg", true},
	{"apt-get", "apt", true},
	{"xz", "xz-utils", false},
	{"zstd", "zstd", false},
}

var aptUpdated bool

// aptInstall installs Debian packages, updating the package lists first.
func aptInstall(logf func(string, ...any), pkgs ...string) error {
	logf("installing %s with apt-get", strings.Join(pkgs, " "))
	if !aptUpdated {
		if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
			logf("apt-get update: %v: %s", err, out)
		}
		aptUpdated = true
	}
	cmd := exec.Command("apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %s: %v: %s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// prepare checks and installs the prerequisites and builds everything the
// guest needs. It returns a reason to skip when qemu cannot run at all
// here, or an error.
func prepare(logf func(string, ...any)) (skip string, err error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "needs linux/amd64, this is " + runtime.GOOS + "/" + runtime.GOARCH, nil
	}
	if os.Geteuid() != 0 {
		return "needs root (network namespaces, apt-get)", nil
	}
	var missing []string
	for _, tl := range tools {
		if _, err := exec.LookPath(tl.bin); err != nil {
			missing = append(missing, tl.pkg)
		}
	}
	if len(missing) > 0 {
		if err := aptInstall(logf, missing...); err != nil {
			logf("%v", err)
		}
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return "no qemu-system-x86_64, even after apt-get install qemu-system-x86", nil
	}
	for _, tl := range tools {
		if _, err := exec.LookPath(tl.bin); err != nil && tl.required {
			return "", fmt.Errorf("%s not found (Debian package %s) after trying to install it", tl.bin, tl.pkg)
		}
	}
	cleanStaleNetns()

	workDir, err = os.MkdirTemp("", "vnfsd-kernel-")
	if err != nil {
		return "", err
	}
	shared.kernel, err = fetchKernel(logf)
	if err != nil {
		return "", fmt.Errorf("kernel: %w", err)
	}
	agent := filepath.Join(workDir, "init")
	if err := goBuild(agent, "./agent", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"); err != nil {
		return "", err
	}
	shared.initrd = filepath.Join(workDir, "initrd.gz")
	if shared.nmod, err = buildInitramfs(shared.initrd, agent, shared.kernel); err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	if fi, err := os.Stat(shared.initrd); err == nil {
		shared.initrdLen = fi.Size()
	}
	shared.vnfsd = filepath.Join(workDir, "vnfsd")
	if err := goBuild(shared.vnfsd, "github.com/vnfsd/vnfsd/cmd/vnfsd"); err != nil {
		return "", err
	}
	return "", nil
}

const netnsPrefix = "vnfsd-kernel-"

// cleanStaleNetns deletes namespaces left by test processes that died
// without cleaning up (their names carry the pid).
func cleanStaleNetns() {
	ents, _ := os.ReadDir("/var/run/netns")
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), netnsPrefix)
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			exec.Command("ip", "netns", "delete", e.Name()).Run()
		}
	}
}

var netnsSeq int

// newNetns creates a network namespace with lo up and deletes it when the
// test ends.
func newNetns(t *testing.T) string {
	t.Helper()
	netnsSeq++
	name := fmt.Sprintf("%s%d-%d", netnsPrefix, os.Getpid(), netnsSeq)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set lo up: %v: %s", name, err, out)
	}
	return name
}

// dialInNetns connects to addr from inside the namespace ns: the
// goroutine's thread enters the namespace and goes back to the original
// one. If it cannot go back, the thread stays locked and ends with the
// goroutine.
func dialInNetns(ns, addr string) error {
	c, err := dialNetns(ns, addr)
	if err == nil {
		c.Close()
	}
	return err
}

// dialNetns opens a TCP connection to addr from network namespace ns (the
// socket stays in the namespace it was created in).
func dialNetns(ns, addr string) (net.Conn, error) {
	type dialed struct {
		c   net.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- dialed{nil, err}
			return
		}
		defer orig.Close()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- dialed{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- dialed{nil, fmt.Errorf("setns: %w", err)}
			return
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		// A thread left in ns dies with the goroutine (still locked).
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- dialed{c, err}
	}()
	d := <-ch
	return d.c, d.err
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// dieWithUs makes a child get SIGKILL when the test process dies without
// its cleanups (go test -timeout, a kill): no qemu or vnfsd is left
// behind. `ip netns exec` execs the program, which keeps the setting.
// (The signal comes when the thread that started the child ends; Go ends
// threads only when a goroutine exits locked to one, which dialInNetns
// avoids.)
func dieWithUs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// server is vnfsd running in a network namespace. It can be restarted
// (restart_test.go): the process changes, the data directory, the
// addresses and the log stay.
type server struct {
	data   string
	export string
	ns     string
	args   []string // of ip(8): netns exec NS vnfsd serve ...
	log    *lockedBuffer

	mu   sync.Mutex
	proc *serverProc // the current process

	// dead is closed when vnfsd exits without being asked to or does not
	// come back from a restart: runGuest stops waiting for the guest.
	dead     chan struct{}
	deadOnce sync.Once
}

// serverProc is one vnfsd process.
type serverProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	// stopping is set before the harness signals it, so that its exit
	// is not taken for a crash.
	stopping atomic.Bool
}

// startServer runs `vnfsd serve` in namespace ns and waits until its
// three ports accept connections, with the grace period shortened to
// serverGrace. It stops vnfsd when the test ends.
func startServer(t *testing.T, h *harnessEnv, ns string, extra ...string) *server {
	t.Helper()
	s := &server{data: t.TempDir(), ns: ns, log: &lockedBuffer{}, dead: make(chan struct{})}
	s.export = filepath.Join(s.data, "export")
	s.args = append([]string{"netns", "exec", ns, h.vnfsd, "serve", "--data", s.data, "--listen", "127.0.0.1", "--no-root-squash", "--api", apiAddr}, extra...)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(t) })
	if err := s.waitPorts(); err != nil {
		t.Fatal(err)
	}
	// A vserver starts in its NLM grace period, during which new locks
	// are refused (the Linux client retries every few seconds): 90 s by
	// default. Shorten it through the REST API; the vserver restarts
	// with the new grace period, which is stored with its configuration
	// (a restart of vnfsd keeps it).
	if err := s.setGrace(serverGrace); err != nil {
		t.Fatalf("setting the grace period to %d s: %v\n%s", serverGrace, err, s.log)
	}
	if err := s.waitPorts(); err != nil {
		t.Fatal(err)
	}
	return s
}

// start starts a vnfsd process with s.args.
func (s *server) start() error {
	p := &serverProc{cmd: exec.Command("ip", s.args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = s.log, s.log
	p.cmd.SysProcAttr = dieWithUs()
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting vnfsd: %w", err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	go func() {
		p.cmd.Wait()
		close(p.done)
		if !p.stopping.Load() {
			s.markDead()
		}
	}()
	return nil
}

// current returns the current process.
func (s *server) current() *serverProc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

func (s *server) markDead() { s.deadOnce.Do(func() { close(s.dead) }) }

// quotedVersions is versions as a JSON list's elements.
func quotedVersions() string {
	q := make([]string, len(versions))
	for i, v := range versions {
		q[i] = `"` + v + `"`
	}
	return strings.Join(q, ", ")
}

// serverGrace is the grace period of the server, in seconds. It must
// cover the time a client needs to notice a restart and reclaim: under
// software emulation on a loaded machine the Linux 4.0 client took 16 s
// to reconnect and start its recovery (its reconnect backoff is 3 s, then
// doubling), so 10 s (vnfsd's smallest) let the restart-reclaim case's
// reclaims fail with NO_GRACE. Only restarts wait for it: the first
// start has no clients to wait for.
const serverGrace = 45

// apiAddr is the REST API's address in the namespace.
const apiAddr = "127.0.0.1:8786"

// waitPorts waits until NFS, MOUNT and the portmapper of the current
// process accept connections.
func (s *server) waitPorts() error {
	p := s.current()
	deadline := time.Now().Add(20 * time.Second)
	for _, port := range []string{"111", "20048", "2049"} {
		for {
			err := dialInNetns(s.ns, "127.0.0.1:"+port)
			if err == nil {
				break
			}
			select {
			case <-p.done:
				return fmt.Errorf("vnfsd exited (%v):\n%s", p.cmd.ProcessState, tail(s.log.String(), 40))
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("vnfsd did not listen on 127.0.0.1:%s in %s: %v\n%s", port, s.ns, err, tail(s.log.String(), 40))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// serverConfig is the part of the server resource (docs/api.md) the
// harness looks at.
type serverConfig struct {
	Grace    int      `json:"grace_seconds"`
	Versions []string `json:"versions"`
	Status   struct {
		Running bool   `json:"running"`
		Error   string `json:"error"`
	} `json:"status"`
}

// check reports what differs from a running server with the harness's
// versions and grace period.
func (c *serverConfig) check() error {
	if c.Grace != serverGrace || !c.Status.Running || strings.Join(c.Versions, ",") != strings.Join(versions, ",") {
		return fmt.Errorf("grace %d s, versions %q, running %v (%s); want grace %d s, versions %q, running", c.Grace, c.Versions, c.Status.Running, c.Status.Error, serverGrace, versions)
	}
	return nil
}

// serverAPI sends a request for the server of /default to the REST API
// (docs/api.md) with the root token and decodes the server resource.
func (s *server) serverAPI(method, body string) (*serverConfig, error) {
	tok, err := os.ReadFile(filepath.Join(s.data, "state", "root.token"))
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialNetns(s.ns, addr)
		}},
	}
	defer client.CloseIdleConnections()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+apiAddr+"/v1/server?ns=/default", rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s /v1/server: %s: %s", method, resp.Status, b)
	}
	var c serverConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s /v1/server: %w: %s", method, err, b)
	}
	return &c, nil
}

// setGrace sets grace_seconds and the versions of the server of /default
// (PATCH /v1/server, docs/api.md) and checks that it runs with them.
func (s *server) setGrace(seconds int) error {
	c, err := s.serverAPI(http.MethodPatch, fmt.Sprintf(`{"grace_seconds": %d, "versions": [%s]}`, seconds, quotedVersions()))
	if err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("PATCH /v1/server: %w", err)
	}
	return nil
}

// terminate sends SIGTERM to the current process and waits for it to
// exit, killing it after 20 s. It reports how it ended.
func (s *server) terminate() error {
	p := s.current()
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			return fmt.Errorf("vnfsd had exited with %v", p.cmd.ProcessState)
		}
		return nil
	default:
	}
	p.stopping.Store(true)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			return fmt.Errorf("vnfsd exited with %v after SIGTERM", p.cmd.ProcessState)
		}
		return nil
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("vnfsd did not stop within 20 s of SIGTERM")
	}
}

func (s *server) stop(t *testing.T) {
	if err := s.terminate(); err != nil {
		t.Errorf("%v:\n%s", err, tail(s.log.String(), 40))
	}
}

// guest is one qemu run.
type guest struct {
	accel   string
	cmd     *exec.Cmd
	console *lockedBuffer
	msgs    chan message // closed when the console ends
	done    chan struct{}
	started time.Time
	hello   time.Duration // qemu start to the agent's first line

	lastLen  int // console length when last looked at
	lastGrow time.Time
}

// guestSpec is what the guest runs.
type guestSpec struct {
	versions []string
	cases    []string
}

// Time limits. Under TCG the stock kernel reaches /init in a few seconds;
// under the nested paravirtual KVM of some build machines it never does.
const (
	kvmHelloTimeout = 25 * time.Second
	tcgHelloTimeout = 120 * time.Second
	idleTimeout     = 4 * time.Minute // no console output at all
)

// bootGuest starts qemu in ns and waits for the agent's hello: KVM first
// (if /dev/kvm exists), TCG when the KVM guest does not come up in time.
// The choice holds for the rest of the test process.
func bootGuest(t *testing.T, h *harnessEnv, ns string, spec guestSpec) *guest {
	t.Helper()
	h.accelMu.Lock()
	accels := []string{h.accel}
	if h.accel == "" {
		accels = []string{"kvm", "tcg"}
		switch os.Getenv("VNFSD_KERNEL_ACCEL") {
		case "kvm":
			accels = []string{"kvm"}
		case "tcg":
			accels = []string{"tcg"}
		}
		if _, err := os.Stat("/dev/kvm"); err != nil && len(accels) > 1 {
			t.Logf("no /dev/kvm (%v): using TCG", err)
			accels = []string{"tcg"}
		}
	}
	h.accelMu.Unlock()
	for i, accel := range accels {
		timeout := tcgHelloTimeout
		if accel == "kvm" && i < len(accels)-1 {
			timeout = kvmHelloTimeout
		}
		g, err := startQemu(t, h, ns, spec, accel, timeout)
		if err == nil {
			h.accelMu.Lock()
			h.accel = accel
			h.accelMu.Unlock()
			t.Logf("guest up with %s: agent started %v after qemu", accel, g.hello.Round(time.Millisecond))
			return g
		}
		if i < len(accels)-1 {
			t.Logf("%s guest did not come up (%v); falling back to %s. Console:\n%s", accel, err, accels[i+1], tail(g.console.String(), 15))
			continue
		}
		t.Fatalf("%s guest did not come up: %v\nconsole:\n%s", accel, err, tail(g.console.String(), 60))
	}
	panic("unreachable")
}

// startQemu starts one qemu and waits for the hello event. On failure qemu
// is killed and the guest (for its console) returned with the error.
func startQemu(t *testing.T, h *harnessEnv, ns string, spec guestSpec, accel string, helloTimeout time.Duration) (*guest, error) {
	g := &guest{accel: accel, console: &lockedBuffer{}, msgs: make(chan message, 1000), done: make(chan struct{})}
	cpu := "max"
	if accel == "kvm" {
		cpu = "host"
	}
	cmdline := strings.Join([]string{
		"console=ttyS0", "quiet", "panic=-1", "oops=panic",
		"vnfsd.versions=" + strings.Join(spec.versions, ","),
		"vnfsd.cases=" + strings.Join(spec.cases, ","),
	}, " ")
	args := []string{"netns", "exec", ns, "qemu-system-x86_64",
		"-accel", accel, "-cpu", cpu, "-m", "1024", "-smp", "2", "-M", "q35",
		"-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", h.kernel.vmlinuz(), "-initrd", h.initrd, "-append", cmdline,
		// User networking: the guest's 10.0.2.2 is 127.0.0.1 of the
		// namespace, where vnfsd listens; nothing else exists there.
		"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
	}
	g.cmd = exec.Command("ip", args...)
	g.cmd.SysProcAttr = dieWithUs()
	stdout, err := g.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g.cmd.Stderr = g.console
	g.started = time.Now()
	g.lastGrow = g.started
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("starting qemu: %v", err)
	}
	t.Cleanup(g.kill)
	go g.read(stdout)

	select {
	case m, ok := <-g.msgs:
		if !ok {
			g.kill()
			return g, fmt.Errorf("qemu exited (%v) before the agent started", g.cmd.ProcessState)
		}
		if m.event == nil || m.event.Event != "hello" {
			g.kill()
			return g, fmt.Errorf("first message from the agent is not hello: %+v", m)
		}
		g.hello = time.Since(g.started)
		return g, nil
	case <-time.After(helloTimeout):
		g.kill()
		return g, fmt.Errorf("no agent within %v", helloTimeout)
	}
}

// read copies the console into g.console and sends the protocol lines to
// g.msgs, which it closes when qemu has exited.
func (g *guest) read(r io.Reader) {
	defer func() {
		g.cmd.Wait()
		close(g.done)
		close(g.msgs)
	}()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			g.console.Write([]byte(line))
			if m, ok := parseLine(line); ok {
				g.msgs <- m
			}
		}
		if err != nil {
			return
		}
	}
}

// kill stops qemu if it still runs and waits for it.
func (g *guest) kill() {
	select {
	case <-g.done:
		return
	default:
	}
	if g.cmd.Process != nil {
		g.cmd.Process.Kill()
	}
	// Nobody reads the messages any more: keep the reader from blocking.
	go func() {
		for range g.msgs {
		}
	}()
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
	}
}

// next returns the next protocol message, or ok=false when qemu has
// exited, or an error after the deadline, after idleTimeout without any
// console output or when abort is closed.
func (g *guest) next(deadline time.Time, abort <-chan struct{}) (message, bool, error) {
	for {
		wait := min(time.Until(deadline), 5*time.Second)
		if wait <= 0 {
			return message{}, false, errors.New("deadline passed")
		}
		select {
		case m, ok := <-g.msgs:
			return m, ok, nil
		case <-abort:
			return message{}, false, errors.New("vnfsd exited")
		case <-time.After(wait):
			if idle := g.idle(); idle > idleTimeout {
				return message{}, false, fmt.Errorf("no console output for %v", idle.Round(time.Second))
			}
		}
	}
}

// idle is the time since the console last grew.
func (g *guest) idle() time.Duration {
	g.console.mu.Lock()
	n := g.console.b.Len()
	g.console.mu.Unlock()
	if g.lastLen != n {
		g.lastLen, g.lastGrow = n, time.Now()
	}
	return time.Since(g.lastGrow)
}
