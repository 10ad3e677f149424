package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, exitUsage, "", "usage: vnfsd"},
		{[]string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{[]string{"help"}, exitOK, "usage: vnfsd", ""},
		{[]string{"version"}, exitOK, "vnfsd " + version, ""},
		{[]string{"version", "x"}, exitUsage, "", "takes no arguments"},
		{[]string{"serve", "--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{[]string{"serve", "extra"}, exitUsage, "", `unexpected argument "extra"`},
		{[]string{"serve", "--listen", "localhost"}, exitUsage, "", "--listen"},
		{[]string{"serve", "--listen", "127.0.0.1,"}, exitUsage, "", "--listen"},
		{[]string{"serve", "--nfs-port", "70000"}, exitUsage, "", "--nfs-port: 70000 is not a port"},
		{[]string{"serve", "--portmap-port", "-1"}, exitUsage, "", "--portmap-port: -1"},
		{[]string{"serve", "--nfs-port", "x"}, exitUsage, "", "invalid value"},
		{[]string{"serve", "--log-level", "loud"}, exitUsage, "", "--log-level"},
		{[]string{"serve", "--data", ""}, exitUsage, "", "--data: empty"},
		{[]string{"serve", "-h"}, exitOK, "", "-no-root-squash"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stdout %q stderr %q; want them to contain %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
			}
		})
	}
}

func TestParseServeDefaults(t *testing.T) {
	f, err := parseServe(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.data != "./vnfsd-data" || len(f.listen) != 1 || f.listen[0] != netip.MustParseAddr("127.0.0.1") ||
		f.nfsPort != 2049 || f.mountPort != 20048 || f.portmapPort != 111 || f.exportRO || f.noRootSquash || f.fault != "" {
		t.Fatalf("defaults %+v", f)
	}
	f, err = parseServe([]string{"--listen", "127.0.0.5, ::1", "--export-ro", "--no-root-squash", "--log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.listen) != 2 || f.listen[1] != netip.MustParseAddr("::1") || !f.exportRO || !f.noRootSquash || f.logLevel.String() != "DEBUG" {
		t.Fatalf("parsed %+v", f)
	}
}

func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no go command to build vnfsd with")
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if pc, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			pc.Close()
			return port
		}
	}
}

// lockedBuffer collects the daemon's log while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeBinary builds vnfsd, runs `vnfsd serve` on system-chosen NFS
// and MOUNT ports and a free portmapper port, makes NULL calls to the
// three services and a GETPORT, and stops it with SIGTERM.
func TestServeBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vnfsd")
	build := exec.Command(goTool(t), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	data := filepath.Join(t.TempDir(), "data")
	pmPort := freePort(t)
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1",
		"--nfs-port", "0", "--mount-port", "0", "--portmap-port", strconv.Itoa(pmPort))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	started := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			log.Write([]byte(line + "\n"))
			if strings.Contains(line, `msg="vnfsd serving"`) {
				started <- line
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-copied
		exited <- cmd.Wait()
	}()
	waited := false
	defer func() {
		if !waited {
			cmd.Process.Kill()
			<-exited
		}
	}()

	var line string
	select {
	case line = <-started:
	case err := <-exited:
		waited = true
		t.Fatalf("vnfsd exited before serving: %v\n%s", err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("vnfsd did not log its start line\n%s", log.String())
	}
	field := func(key string) string {
		m := regexp.MustCompile(`(?:^| )` + regexp.QuoteMeta(key) + `=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("start line has no %s: %s", key, line)
		}
		return m[1]
	}
	nfsAddr, mountAddr, pmAddr := field("nfs"), field("mount"), field("portmap")
	field("mount/udp")
	field("portmap/udp")
	if want := "127.0.0.1:" + strconv.Itoa(pmPort); pmAddr != want {
		t.Fatalf("portmapper on %s, asked for %s", pmAddr, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call := func(addr string, prog, vers, proc uint32, args []byte) []byte {
		t.Helper()
		c, err := oncrpc.Dial(ctx, addr)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		defer c.Close()
		res, err := c.Call(ctx, prog, vers, proc, oncrpc.AuthNoneCred(), args)
		if err != nil {
			t.Fatalf("call %d/%d/%d on %s: %v", prog, vers, proc, addr, err)
		}
		return res
	}
	call(nfsAddr, oncrpc.ProgNFS, 3, 0, nil)
	call(mountAddr, oncrpc.ProgMount, 3, 0, nil)
	call(pmAddr, oncrpc.ProgPortmap, 2, 0, nil)
	var w xdr.Writer
	w.Uint32(oncrpc.ProgNFS)
	w.Uint32(3)
	w.Uint32(6) // IPPROTO_TCP
	w.Uint32(0)
	port := xdr.NewReader(call(pmAddr, oncrpc.ProgPortmap, 2, 3, w.B)).Uint32()
	if want := netip.MustParseAddrPort(nfsAddr).Port(); port != uint32(want) {
		t.Fatalf("GETPORT nfs = %d, NFS listens on %s", port, nfsAddr)
	}

	// The data directory layout.
	if fi, err := os.Stat(filepath.Join(data, "export")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("export directory: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(data, "state", "fhkey")); err != nil {
		t.Fatalf("handle key: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		waited = true
		if err != nil {
			t.Fatalf("vnfsd exited with %v after SIGTERM\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("vnfsd still running 30 s after SIGTERM\n%s", log.String())
	}
	if !strings.Contains(log.String(), `msg=stopped`) {
		t.Fatalf("no clean stop logged\n%s", log.String())
	}
	if c, err := net.Dial("tcp", nfsAddr); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after exit", nfsAddr)
	}
}
