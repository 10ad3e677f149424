package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
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
		{[]string{"serve", "--api", "localhost:8786"}, exitUsage, "", "--api"},
		{[]string{"serve", "--api", "127.0.0.1"}, exitUsage, "", "--api"},
		{[]string{"serve", "--api", ""}, exitUsage, "", "--api"},
		{[]string{"serve", "--threads", "-1"}, exitUsage, "", "--threads"},
		{[]string{"serve", "--threads", "8193"}, exitUsage, "", "--threads"},
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
		f.nfsPort != 2049 || f.mountPort != 20048 || f.portmapPort != 111 || f.exportRO || f.noRootSquash || f.fault != "" ||
		f.api != netip.MustParseAddrPort("127.0.0.1:8786") || f.apiExplicit || f.threads != 64 {
		t.Fatalf("defaults %+v", f)
	}
	f, err = parseServe([]string{"--listen", "127.0.0.5, ::1", "--export-ro", "--no-root-squash", "--log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.listen) != 2 || f.listen[1] != netip.MustParseAddr("::1") || !f.exportRO || !f.noRootSquash || f.logLevel.String() != "DEBUG" {
		t.Fatalf("parsed %+v", f)
	}
	f, err = parseServe([]string{"--api", "off", "--threads", "0"}, io.Discard)
	if err != nil || f.api.IsValid() || f.threads != 0 {
		t.Fatalf("parsed %+v %v", f, err)
	}
	f, err = parseServe([]string{"--api", "[::1]:9000"}, io.Discard)
	if err != nil || f.api != netip.MustParseAddrPort("[::1]:9000") || !f.apiExplicit {
		t.Fatalf("parsed %+v %v", f, err)
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

// buildVnfsd builds the daemon into a temporary directory.
func buildVnfsd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vnfsd")
	build := exec.Command(goTool(t), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// daemon is a running `vnfsd serve`.
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	log    *lockedBuffer
	line   string // the "vnfsd serving" line
	exited chan error
	waited bool
}

// startDaemon runs `vnfsd serve args...` until it logs its start line. It
// is killed at the end of the test if still running.
func startDaemon(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, cmd: exec.Command(bin, append([]string{"serve"}, args...)...), log: &lockedBuffer{}, exited: make(chan error, 1)}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.log.Write([]byte(line + "\n"))
			if strings.Contains(line, `msg="vnfsd serving"`) {
				started <- line
			}
		}
	}()
	go func() {
		<-copied
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		if !d.waited {
			d.cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case d.line = <-started:
	case err := <-d.exited:
		d.waited = true
		t.Fatalf("vnfsd exited before serving: %v\n%s", err, d.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("vnfsd did not log its start line\n%s", d.log.String())
	}
	return d
}

// field returns a key=value field of the start line.
func (d *daemon) field(key string) string {
	d.t.Helper()
	m := regexp.MustCompile(`(?:^| )` + regexp.QuoteMeta(key) + `=(\S+)`).FindStringSubmatch(d.line)
	if m == nil {
		d.t.Fatalf("start line has no %s: %s", key, d.line)
	}
	return m[1]
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		d.waited = true
		if err != nil {
			d.t.Fatalf("vnfsd exited with %v after SIGTERM\n%s", err, d.log.String())
		}
	case <-time.After(30 * time.Second):
		d.t.Fatalf("vnfsd still running 30 s after SIGTERM\n%s", d.log.String())
	}
	if !strings.Contains(d.log.String(), `msg=stopped`) {
		d.t.Fatalf("no clean stop logged\n%s", d.log.String())
	}
}

// TestServeBinary builds vnfsd, runs `vnfsd serve` on system-chosen NFS
// and MOUNT ports and a free portmapper port, makes NULL calls to the
// three services and a GETPORT, and stops it with SIGTERM.
func TestServeBinary(t *testing.T) {
	bin := buildVnfsd(t)
	data := filepath.Join(t.TempDir(), "data")
	pmPort := freePort(t)
	d := startDaemon(t, bin, "--data", data, "--listen", "127.0.0.1",
		"--nfs-port", "0", "--mount-port", "0", "--portmap-port", strconv.Itoa(pmPort), "--api", "127.0.0.1:0")
	nfsAddr, mountAddr, pmAddr := d.field("nfs"), d.field("mount"), d.field("portmap")
	d.field("mount/udp")
	d.field("portmap/udp")
	if want := "127.0.0.1:" + strconv.Itoa(pmPort); pmAddr != want {
		t.Fatalf("portmapper on %s, asked for %s", pmAddr, want)
	}
	if _, err := netip.ParseAddrPort(d.field("api")); err != nil {
		t.Fatalf("api address: %v", err)
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
	if keys, _ := filepath.Glob(filepath.Join(data, "state", "vservers", "*", "fhkey")); len(keys) != 1 {
		t.Fatalf("handle keys: %v", keys)
	}
	if fi, err := os.Stat(filepath.Join(data, "state", "root.token")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("root token: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(data, "state", "vnfsd.db")); err != nil {
		t.Fatalf("store: %v", err)
	}

	d.stop()
	if c, err := net.Dial("tcp", nfsAddr); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after exit", nfsAddr)
	}
}

// apiClient calls the REST API of a daemon with the root token.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func newAPIClient(t *testing.T, d *daemon, data string) *apiClient {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "state", "root.token"))
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: "http://" + d.field("api"), token: strings.TrimSpace(string(b))}
}

func (a *apiClient) do(method, route string, body any, want int, out any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+route, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, route, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, route, err, raw)
		}
	}
}

type apiServer struct {
	UUID      string   `json:"uuid"`
	Threads   int      `json:"threads"`
	Versions  []string `json:"versions"`
	Lease     int      `json:"lease_seconds"`
	Grace     int      `json:"grace_seconds"`
	Listeners []struct {
		Addr  string `json:"addr"`
		Netns string `json:"netns"`
	} `json:"listeners"`
	Status struct {
		Running   bool              `json:"running"`
		Listening map[string]string `json:"listening"`
		Error     string            `json:"error"`
	} `json:"status"`
}

type apiExport struct {
	ID   uint32 `json:"id"`
	Path string `json:"path"`
	Dir  string `json:"dir"`
}

type apiNamespace struct {
	UUID string `json:"uuid"`
	Path string `json:"path"`
}

func rpcCall(t *testing.T, addr string, prog, vers, proc uint32, args []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	res, err := c.Call(ctx, prog, vers, proc, oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "vnfsd-test"}), args)
	if err != nil {
		t.Fatalf("call %d/%d/%d on %s: %v", prog, vers, proc, addr, err)
	}
	return res
}

// mnt mounts path (MOUNT v3 MNT) and returns the root handle.
func mnt(t *testing.T, mountAddr, path string) []byte {
	t.Helper()
	var w xdr.Writer
	w.String(path)
	r := xdr.NewReader(rpcCall(t, mountAddr, oncrpc.ProgMount, 3, 1, w.B))
	if st := r.Uint32(); st != 0 {
		t.Fatalf("MNT %s: status %d", path, st)
	}
	h := r.Opaque(64)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return append([]byte(nil), h...)
}

// getattr returns the status of NFSv3 GETATTR of a handle.
func getattr(t *testing.T, nfsAddr string, h []byte) uint32 {
	t.Helper()
	var w xdr.Writer
	w.Opaque(h)
	return xdr.NewReader(rpcCall(t, nfsAddr, oncrpc.ProgNFS, 3, 1, w.B)).Uint32()
}

// TestRestart: a namespace, its server and an export made through the
// API, and the embedded /default, are back after vnfsd restarts on the
// same data directory, and handles that clients got before still work.
func TestRestart(t *testing.T) {
	bin := buildVnfsd(t)
	data := filepath.Join(t.TempDir(), "data")
	exportDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(exportDir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data", data, "--listen", "127.0.0.94", "--nfs-port", "0", "--mount-port", "0", "--portmap-port", "0", "--api", "127.0.0.1:0"}
	d := startDaemon(t, bin, args...)
	api := newAPIClient(t, d, data)
	var acme apiNamespace
	api.do("POST", "/v1/namespaces", map[string]string{"path": "/acme"}, 201, &acme)
	api.do("PUT", "/v1/server?ns=/acme", map[string]any{"threads": 4, "nfs_port": 0, "mount_port": 0, "portmap_port": -1,
		"listeners": []map[string]string{{"addr": "127.0.0.95"}}}, 201, nil)
	var exp apiExport
	api.do("POST", "/v1/exports?ns=/acme", map[string]any{"path": "/data", "dir": exportDir, "squash": "none"}, 201, &exp)
	var s apiServer
	api.do("GET", "/v1/server?ns=/acme", nil, 200, &s)
	if !s.Status.Running {
		t.Fatalf("/acme not running: %s", s.Status.Error)
	}
	h := mnt(t, s.Status.Listening["mount"], "/data")
	if st := getattr(t, s.Status.Listening["nfs"], h); st != 0 {
		t.Fatalf("GETATTR: %d", st)
	}
	hDefault := mnt(t, d.field("mount"), "/export")
	var def apiServer
	api.do("GET", "/v1/server?ns=/default", nil, 200, &def)
	oldNFS := s.Status.Listening["nfs"]
	d.stop()
	if c, err := net.Dial("tcp", oldNFS); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after exit", oldNFS)
	}

	d = startDaemon(t, bin, args...)
	api = newAPIClient(t, d, data)
	var list struct {
		Namespaces []apiNamespace `json:"namespaces"`
	}
	api.do("GET", "/v1/namespaces?recursive=true", nil, 200, &list)
	if len(list.Namespaces) != 2 || list.Namespaces[0] != acme || list.Namespaces[1].Path != "/default" {
		t.Fatalf("namespaces after restart: %+v", list.Namespaces)
	}
	var s2, def2 apiServer
	api.do("GET", "/v1/server?ns=/acme", nil, 200, &s2)
	if !s2.Status.Running || s2.Threads != 4 || len(s2.Listeners) != 1 || s2.Listeners[0].Addr != "127.0.0.95" || s2.UUID != acme.UUID {
		t.Fatalf("/acme after restart: %+v", s2)
	}
	var exps struct {
		Exports []apiExport `json:"exports"`
	}
	api.do("GET", "/v1/exports?ns=/acme", nil, 200, &exps)
	if len(exps.Exports) != 1 || exps.Exports[0] != exp {
		t.Fatalf("exports after restart: %+v, was %+v", exps.Exports, exp)
	}
	if st := getattr(t, s2.Status.Listening["nfs"], h); st != 0 {
		t.Fatalf("GETATTR of a handle from before the restart: status %d", st)
	}
	api.do("GET", "/v1/server?ns=/default", nil, 200, &def2)
	if def2.UUID != def.UUID || !def2.Status.Running {
		t.Fatalf("/default after restart: %+v, was %+v", def2, def)
	}
	if st := getattr(t, d.field("nfs"), hDefault); st != 0 {
		t.Fatalf("GETATTR of a /default handle from before the restart: status %d", st)
	}
	d.stop()
}

// TestLegacyDataDir: a data directory of the layout before namespaces
// (the handle key in DIR/state/fhkey) keeps its key, so clients' handles
// stay valid across the upgrade.
func TestLegacyDataDir(t *testing.T) {
	bin := buildVnfsd(t)
	data := t.TempDir()
	key := bytes.Repeat([]byte{0x5a}, 32)
	os.MkdirAll(filepath.Join(data, "state"), 0o700)
	if err := os.WriteFile(filepath.Join(data, "state", "fhkey"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, bin, "--data", data, "--listen", "127.0.0.94", "--nfs-port", "0", "--mount-port", "0", "--portmap-port", "0", "--api", "off")
	if d.field("api") != "off" {
		t.Fatalf("api %s", d.field("api"))
	}
	d.stop()
	keys, _ := filepath.Glob(filepath.Join(data, "state", "vservers", "*", "fhkey"))
	if len(keys) != 1 {
		t.Fatalf("keys %v", keys)
	}
	if b, err := os.ReadFile(keys[0]); err != nil || !bytes.Equal(b, key) {
		t.Fatalf("the legacy key was not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "state", "fhkey")); !os.IsNotExist(err) {
		t.Fatalf("legacy key file: %v", err)
	}
}

// TestDefaultStopped: with --threads 0 the embedded default does not
// listen, and the API serves; a default that cannot start is an error.
func TestDefaultStopped(t *testing.T) {
	bin := buildVnfsd(t)
	data := t.TempDir()
	d := startDaemon(t, bin, "--data", data, "--listen", "127.0.0.94", "--threads", "0", "--api", "127.0.0.1:0")
	if strings.Contains(d.line, " nfs=") {
		t.Fatalf("stopped default listens: %s", d.line)
	}
	var s apiServer
	newAPIClient(t, d, data).do("GET", "/v1/server?ns=/default", nil, 200, &s)
	if s.Status.Running || s.Threads != 0 {
		t.Fatalf("/default: %+v", s)
	}
	d.stop()

	// 192.0.2.1 (TEST-NET-1) is not an address of this host.
	var stderr bytes.Buffer
	if code := run([]string{"serve", "--data", data, "--listen", "192.0.2.1", "--api", "off"}, io.Discard, &stderr); code != exitError || !strings.Contains(stderr.String(), "192.0.2.1") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// TestVersionFlags: --versions, --lease and --grace configure /default
// when given; without them what is stored (set through the API) stays.
func TestVersionFlags(t *testing.T) {
	bin := buildVnfsd(t)
	data := t.TempDir()
	d := startDaemon(t, bin, "--data", data, "--listen", "127.0.0.93", "--nfs-port", "0", "--mount-port", "0",
		"--portmap-port", "0", "--api", "127.0.0.1:0", "--versions", "3,4.1", "--lease", "20", "--grace", "15")
	var s apiServer
	newAPIClient(t, d, data).do("GET", "/v1/server?ns=/default", nil, 200, &s)
	if !s.Status.Running || strings.Join(s.Versions, ",") != "3,4.1" || s.Lease != 20 || s.Grace != 15 {
		t.Fatalf("/default with flags: %+v", s)
	}
	newAPIClient(t, d, data).do("PATCH", "/v1/server?ns=/default", map[string]any{"versions": []string{"4.0", "4.2"}}, 200, &s)
	d.stop()

	d = startDaemon(t, bin, "--data", data, "--listen", "127.0.0.93", "--nfs-port", "0", "--mount-port", "0",
		"--portmap-port", "0", "--api", "127.0.0.1:0")
	newAPIClient(t, d, data).do("GET", "/v1/server?ns=/default", nil, 200, &s)
	if strings.Join(s.Versions, ",") != "4.0,4.2" || s.Lease != 20 || s.Grace != 15 {
		t.Fatalf("/default after a restart without the flags: %+v", s)
	}
	d.stop()

	var stderr bytes.Buffer
	if code := run([]string{"serve", "--data", data, "--listen", "127.0.0.93", "--api", "off", "--versions", "3,5"}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "5") {
		t.Fatalf("--versions 3,5: exit %d: %s", code, stderr.String())
	}
}
