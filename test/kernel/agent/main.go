//go:build linux

// Command agent is the /init of the guest that the kernel-client tests in
// test/kernel boot in qemu. It is built statically (CGO_ENABLED=0) and put
// into the initramfs together with the kernel modules it loads.
//
// As process 1 it mounts /proc, /sys and /dev, loads the modules listed in
// /etc/vnfsd-modules (one path a line, in dependency order) with
// finit_module, configures eth0 over rtnetlink, mounts the export of vnfsd
// with mount(2) for every NFS version asked for, runs the workload cases and
// reboots (qemu runs with -no-reboot, so that ends qemu).
//
// What to run comes from the kernel command line:
//
//	vnfsd.versions=3,4.1      NFS versions to mount, one after the other
//	vnfsd.cases=a,b,c         workload cases, in this order
//	vnfsd.server=10.0.2.2     server address (qemu user networking's host)
//	vnfsd.ip=10.0.2.15/24     guest address on eth0
//	vnfsd.gw=10.0.2.2         default route
//
// Everything it reports goes to the console (ttyS0) as one JSON object a
// line after a fixed prefix: "VNFSD-EVENT " for progress (hello, modules,
// net, mount, start of a case, done, fatal) and "VNFSD-RESULT " for the
// result of a case. The harness (test/kernel/*_test.go) declares the same
// JSON shapes; keep both in step.
//
// With an argument and a pid other than 1 the binary is one of the helper
// processes that some cases start (see child.go).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vnfsd/vnfsd/test/kernel/wire"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const (
	guestHostname = "vnfsd-guest"
	eventPrefix   = wire.EventPrefix
	resultPrefix  = wire.ResultPrefix
	modulesList   = "/etc/vnfsd-modules"
	mountPoint    = "/mnt/nfs"
)

type event = wire.Event

type result = wire.Result

type hostCheck = wire.HostCheck

type statfsData = wire.Statfs

var (
	// lockSvc are rpcbind and statd, once started for NFSv3.
	lockSvc *lockServices

	outMu sync.Mutex
	out   = bufio.NewWriter(os.Stdout)
	boot  = time.Now()
)

// emit writes one protocol line with a single write(2), so that it is not
// torn by other writers of the console.
func emit(prefix string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(event{Event: "fatal", Detail: "marshal: " + err.Error()})
	}
	outMu.Lock()
	defer outMu.Unlock()
	out.WriteString("\n" + prefix)
	out.Write(b)
	out.WriteString("\n")
	out.Flush()
}

func logf(format string, a ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(out, "agent: "+format+"\n", a...)
	out.Flush()
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

func main() {
	if os.Getpid() != 1 {
		if len(os.Args) > 1 {
			os.Exit(child(os.Args[1:]))
		}
		fmt.Fprintln(os.Stderr, "agent: this is the /init of the test/kernel guest; it does nothing elsewhere")
		os.Exit(2)
	}
	defer reboot()
	defer func() {
		if r := recover(); r != nil {
			emit(eventPrefix, event{Event: "fatal", Detail: fmt.Sprintf("panic: %v\n%s", r, debug.Stack())})
		}
	}()
	if err := run(); err != nil {
		emit(eventPrefix, event{Event: "fatal", MS: ms(time.Since(boot)), Detail: err.Error()})
	}
}

// reboot ends the guest; qemu runs with -no-reboot and exits.
func reboot() {
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	for {
		time.Sleep(time.Hour)
	}
}

// params are the vnfsd.* parameters of the kernel command line.
type params struct {
	versions []string
	cases    []string
	server   netip.Addr
	ip       netip.Prefix
	gw       netip.Addr
}

func parseCmdline(s string) (*params, error) {
	p := &params{
		versions: []string{"3"},
		server:   netip.MustParseAddr("10.0.2.2"),
		ip:       netip.MustParsePrefix("10.0.2.15/24"),
		gw:       netip.MustParseAddr("10.0.2.2"),
	}
	var err error
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !strings.HasPrefix(k, "vnfsd.") {
			continue
		}
		switch k {
		case "vnfsd.versions":
			p.versions = splitList(v)
		case "vnfsd.cases":
			p.cases = splitList(v)
		case "vnfsd.server":
			p.server, err = netip.ParseAddr(v)
		case "vnfsd.ip":
			p.ip, err = netip.ParsePrefix(v)
		case "vnfsd.gw":
			p.gw, err = netip.ParseAddr(v)
		default:
			err = fmt.Errorf("unknown parameter %s", k)
		}
		if err != nil {
			return nil, fmt.Errorf("kernel command line: %s: %w", f, err)
		}
	}
	if len(p.cases) == 0 {
		return nil, errors.New("kernel command line: no vnfsd.cases")
	}
	return p, nil
}

func splitList(s string) []string {
	var l []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			l = append(l, x)
		}
	}
	return l
}

func run() error {
	if err := setupFS(); err != nil {
		return err
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	emit(eventPrefix, event{Event: "hello", Uptime: uptimeMS(), Detail: "Linux " + unix.ByteSliceToString(uts.Release[:])})

	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	p, err := parseCmdline(string(cmdline))
	if err != nil {
		return err
	}

	t0 := time.Now()
	n, err := loadModules(modulesList)
	if err != nil {
		return err
	}
	emit(eventPrefix, event{Event: "modules", MS: ms(time.Since(t0)), Detail: fmt.Sprintf("%d modules loaded", n)})

	t0 = time.Now()
	if err := configureNet(p.ip, p.gw); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	emit(eventPrefix, event{Event: "net", MS: ms(time.Since(t0)), Detail: "eth0 " + p.ip.String() + " via " + p.gw.String()})

	// lockd sends its host name as caller_name in every NLM call and as
	// my_name to statd; the kernel's default is "(none)".
	if err := unix.Sethostname([]byte(guestHostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	for _, v := range p.versions {
		if v == "3" && lockSvc == nil {
			t0 = time.Now()
			ls, err := startLockServices()
			if err != nil {
				return fmt.Errorf("rpcbind and statd for lockd: %w", err)
			}
			lockSvc = ls
			emit(eventPrefix, event{Event: "statd", MS: ms(time.Since(t0)), Detail: "rpcbind on 127.0.0.1:111 and statd (NSM) for lockd:" + ls.registered()})
		}
		runVersion(p, v)
	}
	emit(eventPrefix, event{Event: "done", MS: ms(time.Since(boot)), Uptime: uptimeMS()})
	return nil
}

// uptimeMS is the time since the kernel started, from /proc/uptime.
func uptimeMS() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	var up float64
	fmt.Sscanf(string(b), "%f", &up)
	return math.Round(up * 1000)
}

func setupFS() error {
	for _, m := range []struct{ src, dir, typ string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dir, m.typ, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
	}
	// No user-space helpers exist in this guest: keep the kernel from
	// trying to run modprobe or request-key.
	os.WriteFile("/proc/sys/kernel/modprobe", []byte("/nonexistent\n"), 0)
	return os.MkdirAll(mountPoint, 0o755)
}

// loadModules loads the modules listed in file, in order.
func loadModules(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, path := range strings.Fields(string(b)) {
		f, err := os.Open(path)
		if err != nil {
			return n, err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return n, fmt.Errorf("finit_module %s: %w", filepath.Base(path), err)
		}
		n++
	}
	return n, nil
}

// mountOptions returns the kernel's text mount options for an NFS version.
// The kernel's mount(2) wants addr= itself: the mount.nfs helper that
// usually resolves it does not exist here.
func mountOptions(version string, server, client netip.Addr) (string, error) {
	switch version {
	case "3":
		// Locks go over NLM (lockd), with the rpcbind and statd of
		// rpcbind.go; lockd finds vnfsd's NLM port with its portmapper.
		return fmt.Sprintf("vers=3,proto=tcp,port=2049,mountport=20048,mountproto=tcp,addr=%s,mountaddr=%s", server, server), nil
	case "4.0":
		return fmt.Sprintf("vers=4.0,proto=tcp,port=2049,addr=%s,clientaddr=%s", server, client), nil
	case "4.1", "4.2":
		return fmt.Sprintf("vers=%s,proto=tcp,port=2049,addr=%s", version, server), nil
	}
	return "", fmt.Errorf("unknown NFS version %q", version)
}

// runVersion mounts the export with one NFS version and runs every case on
// it. Every case gets a result, even when the mount failed.
func runVersion(p *params, version string) {
	opts, err := mountOptions(version, p.server, p.ip.Addr())
	m := &mount{source: p.server.String() + ":/export", target: mountPoint, opts: opts}
	t0 := time.Now()
	if err == nil {
		err = m.mount()
	}
	if err != nil {
		emit(eventPrefix, event{Event: "mount", Version: version, MS: ms(time.Since(t0)), Detail: "FAILED: " + err.Error()})
		for _, c := range p.cases {
			emit(resultPrefix, result{Version: version, Case: c, Status: "fail", Detail: "not run: mount failed: " + err.Error()})
		}
		return
	}
	emit(eventPrefix, event{Event: "mount", Version: version, MS: ms(time.Since(t0)), Detail: m.source + " " + opts})
	if lockSvc != nil && version == "3" {
		emit(eventPrefix, event{Event: "lockd", Version: version, Detail: "registered with the guest's rpcbind:" + lockSvc.registered()})
	}

	root := filepath.Join(mountPoint, "v"+version)
	if err := os.Mkdir(root, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		for _, c := range p.cases {
			emit(resultPrefix, result{Version: version, Case: c, Status: "fail", Detail: "not run: mkdir " + root + ": " + err.Error()})
		}
	} else {
		for _, c := range p.cases {
			runCase(m, version, root, c)
		}
	}
	t0 = time.Now()
	if err := m.unmount(); err != nil {
		emit(eventPrefix, event{Event: "umount", Version: version, MS: ms(time.Since(t0)), Detail: "FAILED: " + err.Error()})
		return
	}
	emit(eventPrefix, event{Event: "umount", Version: version, MS: ms(time.Since(t0))})
}

type mount struct {
	source, target, opts string
}

func (m *mount) mount() error {
	// The first RPCs of a fresh boot can race the network coming up.
	var err error
	for i := 0; i < 5; i++ {
		if err = unix.Mount(m.source, m.target, "nfs", 0, m.opts); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("mount %s: %w", m.source, err)
}

func (m *mount) unmount() error {
	var err error
	for i := 0; i < 20; i++ {
		if err = unix.Unmount(m.target, 0); err == nil || !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("umount %s: %w", m.target, err)
	}
	return nil
}

// errSkip makes a case report "skip" with the reason.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

func runCase(m *mount, version, root, name string) {
	res := result{Version: version, Case: name}
	fn, ok := cases[name]
	if !ok {
		res.Status, res.Detail = "fail", "unknown case"
		emit(resultPrefix, res)
		return
	}
	emit(eventPrefix, event{Event: "start", Version: version, Case: name, Uptime: uptimeMS()})
	e := &env{version: version, m: m, root: root, name: name, dir: filepath.Join(root, name), res: &res}
	t0 := time.Now()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		os.RemoveAll(e.dir)
		if err := os.Mkdir(e.dir, 0o755); err != nil {
			return err
		}
		return fn(e)
	}()
	res.MS = ms(time.Since(t0))
	var skip errSkip
	switch {
	case errors.As(err, &skip):
		res.Status, res.Detail = "skip", skip.reason
	case err != nil:
		res.Status = "fail"
		if res.Detail != "" {
			res.Detail = err.Error() + "; " + res.Detail
		} else {
			res.Detail = err.Error()
		}
	default:
		res.Status = "pass"
	}
	emit(resultPrefix, res)
}
