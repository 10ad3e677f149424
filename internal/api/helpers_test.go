package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/control"
	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The tests listen on 127.0.0.90-99 only, with system-chosen ports
// unless a test needs a fixed one, so that they do not collide with the
// tests of other packages running at the same time.

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// env is a control plane on a temporary data directory with the API in
// front of it.
type env struct {
	t    *testing.T
	dir  string
	c    *control.Control
	srv  *httptest.Server
	root string // the root token
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := control.Open(context.Background(), control.Options{DataDir: e.dir, NoSync: true, Logger: log, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	e.srv = httptest.NewServer(New(c, log))
	t.Cleanup(func() {
		e.srv.Close()
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	b, err := os.ReadFile(filepath.Join(e.dir, "state", "root.token"))
	if err != nil {
		t.Fatal(err)
	}
	e.root = strings.TrimSpace(string(b))
	return e
}

// call sends a request with a token ("" for none) and a body: nil, a
// string sent as is, or a value encoded as JSON. It returns the status and
// the response body.
func (e *env) call(tok, method, route string, q url.Values, body any) (int, []byte) {
	e.t.Helper()
	u := e.srv.URL + route
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/json" {
		e.t.Fatalf("%s %s: status %d with Content-Type %q", method, route, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, raw
}

// must sends a request as root (or tok) and decodes the response into out,
// failing unless the status is want.
func (e *env) must(tok string, want int, method, route string, q url.Values, body, out any) {
	e.t.Helper()
	if tok == "" {
		tok = e.root
	}
	st, raw := e.call(tok, method, route, q, body)
	if st != want {
		e.t.Fatalf("%s %s %v: status %d, want %d: %s", method, route, q, st, want, raw)
	}
	if out != nil {
		// Decode into a zero value: Unmarshal merges into maps.
		reflect.ValueOf(out).Elem().SetZero()
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, route, raw, err)
		}
	}
}

// fails sends a request that must fail with status want, and checks that
// the answer is an error object and that the store did not change.
func (e *env) fails(tok string, want int, method, route string, q url.Values, body any) string {
	e.t.Helper()
	if tok == "" {
		tok = e.root
	}
	rev := e.c.Store().Rev()
	st, raw := e.call(tok, method, route, q, body)
	if st != want {
		e.t.Fatalf("%s %s %v %v: status %d, want %d: %s", method, route, q, body, st, want, raw)
	}
	var er struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &er); err != nil || er.Error == "" {
		e.t.Fatalf("%s %s: error body %q is not {\"error\": ...}", method, route, raw)
	}
	if got := e.c.Store().Rev(); got != rev {
		e.t.Fatalf("%s %s %v %v failed (%d: %s) but changed the store (revision %d -> %d)", method, route, q, body, st, er.Error, rev, got)
	}
	return er.Error
}

func nsq(path string) url.Values { return url.Values{"ns": {path}} }

func pathq(path string) url.Values { return url.Values{"path": {path}} }

func (e *env) mkns(path string) control.Namespace {
	e.t.Helper()
	var n control.Namespace
	e.must("", http.StatusCreated, "POST", "/v1/namespaces", nil, map[string]string{"path": path}, &n)
	return n
}

// server is the JSON of a server, as a client would decode it.
type server struct {
	Namespace   string             `json:"namespace"`
	UUID        string             `json:"uuid"`
	Threads     int                `json:"threads"`
	Versions    []string           `json:"versions"`
	Lease       int                `json:"lease_seconds"`
	Grace       int                `json:"grace_seconds"`
	MaxIO       int                `json:"max_io"`
	NFSPort     int                `json:"nfs_port"`
	MountPort   int                `json:"mount_port"`
	PortmapPort int                `json:"portmap_port"`
	Listeners   []control.Listener `json:"listeners"`
	Status      struct {
		Running   bool              `json:"running"`
		Listening map[string]string `json:"listening"`
		Clients   []client          `json:"clients"`
		PoolSize  int               `json:"pool_size"`
		Error     string            `json:"error"`
	} `json:"status"`
}

type client struct {
	Remote string `json:"remote"`
	Local  string `json:"local"`
	Since  string `json:"since"`
}

// running configures a running server on addr with system-chosen ports
// and no portmapper, exporting dir as /data.
func (e *env) running(path, addr string, threads int, dir string) server {
	e.t.Helper()
	var s server
	e.must("", http.StatusCreated, "PUT", "/v1/server", nsq(path), map[string]any{
		"threads": threads, "nfs_port": 0, "mount_port": 0, "portmap_port": -1,
		"listeners": []map[string]string{{"addr": addr}},
	}, &s)
	if dir != "" {
		e.must("", http.StatusCreated, "POST", "/v1/exports", nsq(path), map[string]any{"path": "/data", "dir": dir, "squash": "none"}, nil)
	}
	e.must("", http.StatusOK, "GET", "/v1/server", nsq(path), nil, &s)
	if threads > 0 && !s.Status.Running {
		e.t.Fatalf("server of %s not running: %s", path, s.Status.Error)
	}
	return s
}

func rpc(t *testing.T, addr string, prog, vers, proc uint32, args []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	cred := oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: "api-test", UID: 0, GID: 0})
	res, err := c.Call(ctx, prog, vers, proc, cred, args)
	if err != nil {
		t.Fatalf("call %d/%d/%d on %s: %v", prog, vers, proc, addr, err)
	}
	return res
}

// mnt mounts path (MOUNT v3 MNT over TCP) and returns the root handle.
func mnt(t *testing.T, mountAddr, path string) []byte {
	t.Helper()
	var w xdr.Writer
	w.String(path)
	r := xdr.NewReader(rpc(t, mountAddr, oncrpc.ProgMount, 3, mount.ProcMnt, w.B))
	if st := r.Uint32(); st != uint32(mount.MNT3OK) {
		t.Fatalf("MNT %s on %s: status %d", path, mountAddr, st)
	}
	h := r.Opaque(mount.FHSize3)
	if r.Err() != nil {
		t.Fatalf("MNT %s: %v", path, r.Err())
	}
	return append([]byte(nil), h...)
}

// getattr returns the NFSv3 status of GETATTR of a handle.
func getattr(t *testing.T, nfsAddr string, h []byte) uint32 {
	t.Helper()
	var w xdr.Writer
	w.Opaque(h)
	r := xdr.NewReader(rpc(t, nfsAddr, oncrpc.ProgNFS, 3, 1, w.B))
	return r.Uint32()
}

// refused reports whether a TCP connection to addr is refused.
func refused(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		return false
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v (want connection refused)", addr, err)
	}
	return true
}

// freePort returns a port free for TCP and UDP on addr.
func freePort(t *testing.T, addr string) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp4", addr+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if pc, err := net.ListenPacket("udp4", addr+":"+strconv.Itoa(port)); err == nil {
			pc.Close()
			return port
		}
	}
}
