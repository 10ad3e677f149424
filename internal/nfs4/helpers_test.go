package nfs4_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4"
	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs/local"
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("nfs4 tests need root (the local backend needs CAP_DAC_READ_SEARCH)")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Export ids and paths of the fixture: /a is a junction right under the
// pseudo root, /b is a pseudo directory holding the junction /b/c.
const (
	expA  = 1
	expBC = 2
	pathA = "/a"
	pathC = "/b/c"
)

// serverOpts configure a test server.
type serverOpts struct {
	Name         string
	Lease, Grace time.Duration
	Minor        []uint32
	Rec          *state.MemoryRecovery
}

// backend is the exported directories of a test server, which survive a
// restart of the server.
type backend struct {
	dirA, dirC string
	table      *export.Table
	key        fh.Key
}

func newBackend(t testing.TB) *backend {
	t.Helper()
	b := &backend{dirA: t.TempDir(), dirC: t.TempDir()}
	var exps []*export.Export
	for _, e := range []struct {
		id   uint32
		path string
		dir  string
	}{{expA, pathA, b.dirA}, {expBC, pathC, b.dirC}} {
		if err := os.Chmod(e.dir, 0o777); err != nil {
			t.Fatal(err)
		}
		fs, err := local.New(e.dir, local.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		exps = append(exps, &export.Export{ID: e.id, Path: e.path, FS: fs, Squash: export.NoRootSquash,
			AnonUID: export.Nobody, AnonGID: export.Nobody})
	}
	var err error
	if b.table, err = export.NewTable(exps...); err != nil {
		t.Fatal(err)
	}
	if b.key, err = fh.NewKey(); err != nil {
		t.Fatal(err)
	}
	return b
}

// testServer is an nfs4.Server over a backend, served by an oncrpc.Server
// on 127.0.0.1, set up as vserver.Start does: its own lock.Manager in
// grace until the NFSv4 grace period ends.
type testServer struct {
	t          testing.TB
	opts       serverOpts
	b          *backend
	table      atomic.Pointer[export.Table]
	locks      *lock.Manager
	srv        *nfs4.Server
	rpc        *oncrpc.Server
	addr       string
	graceEnded atomic.Bool
	stopped    bool
}

func newServer(t testing.TB, b *backend, o serverOpts) *testServer {
	t.Helper()
	if o.Rec == nil {
		o.Rec = state.NewMemoryRecovery()
	}
	if o.Minor == nil {
		o.Minor = []uint32{0, 1, 2}
	}
	if o.Name == "" {
		o.Name = "vs1"
	}
	ts := &testServer{t: t, opts: o, b: b, locks: lock.New(lock.Config{})}
	ts.table.Store(b.table)
	var verf [8]byte
	copy(verf[:], "WVERF001")
	var err error
	ts.srv, err = nfs4.New(nfs4.Config{
		Name:       o.Name,
		Exports:    ts.table.Load,
		Handles:    fh.NewCodec(b.key),
		Locks:      ts.locks,
		Minor:      o.Minor,
		WriteVerf:  verf,
		Lease:      o.Lease,
		Grace:      o.Grace,
		Recovery:   o.Rec,
		OnGraceEnd: func() { ts.locks.EndGrace(); ts.graceEnded.Store(true) },
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	grace := o.Grace
	if grace == 0 {
		grace = o.Lease
	}
	if grace == 0 {
		grace = nfs4.DefaultLease
	}
	ts.locks.StartGrace(grace)
	mux := oncrpc.NewMux()
	if err := mux.Register(ts.srv.Program()); err != nil {
		t.Fatal(err)
	}
	ts.rpc = &oncrpc.Server{Mux: mux, Logger: slog.New(slog.DiscardHandler)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go ts.rpc.Serve(l)
	ts.srv.Start()
	t.Cleanup(ts.stop)
	return ts
}

// waitGraceEnd waits (up to d) until the server reported the end of its
// grace period.
func (ts *testServer) waitGraceEnd(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !ts.graceEnded.Load() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// stop shuts the server down (its state is lost; the recovery store and
// the backend remain).
func (ts *testServer) stop() {
	if ts.stopped {
		return
	}
	ts.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.rpc.Shutdown(ctx); err != nil && !errors.Is(err, oncrpc.ErrServerClosed) {
		ts.t.Errorf("shutdown: %v", err)
	}
	ts.srv.Close()
}

// restart stops the server and starts a new one with the same backend,
// recovery store and options (a restart of the vserver).
func (ts *testServer) restart(grace time.Duration) *testServer {
	ts.stop()
	o := ts.opts
	o.Grace = grace
	return newServer(ts.t, ts.b, o)
}

// dial returns a client of the server with AUTH_SYS root credentials.
func (ts *testServer) dial(t *testing.T) *c4.Client {
	t.Helper()
	c, err := c4.Dial(ctx(t), ts.addr, c4.SysCred(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// session returns a new 4.1 session of a new client (owner) of the server.
func (ts *testServer) session(t *testing.T, owner string) *c4.Session {
	t.Helper()
	s, err := ts.dial(t).NewSession(ctx(t), 1, []byte(owner), verf(owner))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verf(s string) [8]byte {
	var v [8]byte
	copy(v[:], s)
	return v
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// call sends a COMPOUND and fails the test on a transport or decoding
// error.
func call(t *testing.T, c *c4.Client, minor uint32, ops ...c4.Op) *c4.Result {
	t.Helper()
	res, err := c.Compound(ctx(t), minor, ops...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// do sends a COMPOUND on a session and fails the test on a transport or
// decoding error.
func do(t *testing.T, s *c4.Session, ops ...c4.Op) *c4.Result {
	t.Helper()
	res, err := s.Do(ctx(t), ops...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// mustOK fails the test unless the COMPOUND succeeded.
func mustOK(t *testing.T, res *c4.Result) *c4.Result {
	t.Helper()
	if err := res.Err(); err != nil {
		t.Fatalf("COMPOUND failed: %v (results %s)", err, describe(res))
	}
	return res
}

// describe lists the results' operations and statuses.
func describe(res *c4.Result) string {
	s := ""
	for i, o := range res.Ops {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("op %d: %v", o.Op, o.Status)
	}
	return "[" + s + "]"
}

// wantStatuses checks the COMPOUND's status and each result's operation
// number and status.
func wantStatuses(t *testing.T, res *c4.Result, status c4.Status, ops ...opStatus) {
	t.Helper()
	if res.Status != status {
		t.Errorf("COMPOUND status %v, want %v (results %s)", res.Status, status, describe(res))
	}
	if len(res.Ops) != len(ops) {
		t.Fatalf("%d results %s, want %d", len(res.Ops), describe(res), len(ops))
	}
	for i, w := range ops {
		if res.Ops[i].Op != w.op || res.Ops[i].Status != w.st {
			t.Errorf("result %d: op %d %v, want op %d %v", i, res.Ops[i].Op, res.Ops[i].Status, w.op, w.st)
		}
	}
}

type opStatus struct {
	op uint32
	st c4.Status
}

func ok(op uint32) opStatus                 { return opStatus{op, c4.NFS4_OK} }
func fail(op uint32, st c4.Status) opStatus { return opStatus{op, st} }

// fhOf returns the filehandle of a GETFH result.
func fhOf(t *testing.T, o c4.OpResult) []byte {
	t.Helper()
	h, err := o.Getfh()
	if err != nil {
		t.Fatalf("GETFH: %v", err)
	}
	return append([]byte(nil), h...)
}

// stateidOf returns the stateid of an OPEN, CLOSE, LOCK... result.
func stateidOf(t *testing.T, o c4.OpResult) c4.Stateid {
	t.Helper()
	s, err := o.Stateid()
	if err != nil {
		t.Fatalf("op %d: %v", o.Op, err)
	}
	return s
}

// rootFH returns the filehandle of an export's root (through the pseudo
// file system).
func rootFH(t *testing.T, c *c4.Client, minor uint32, s *c4.Session, path ...string) []byte {
	t.Helper()
	ops := []c4.Op{c4.Putrootfh()}
	for _, p := range path {
		ops = append(ops, c4.Lookup(p))
	}
	ops = append(ops, c4.Getfh())
	var res *c4.Result
	if s != nil {
		res = do(t, s, ops...)
	} else {
		res = call(t, c, minor, ops...)
	}
	mustOK(t, res)
	return fhOf(t, res.Last())
}

// runner sends ops in a COMPOUND of one minor version and returns the
// results without the SEQUENCE of a 4.1 session (which must succeed).
type runner struct {
	name  string
	minor uint32
	c     *c4.Client
	s     *c4.Session
}

func (r runner) run(t *testing.T, ops ...c4.Op) *c4.Result {
	t.Helper()
	if r.s == nil {
		return call(t, r.c, r.minor, ops...)
	}
	res := do(t, r.s, ops...)
	if len(res.Ops) == 0 || res.Ops[0].Op != c4.OP_SEQUENCE || res.Ops[0].Status != c4.NFS4_OK {
		t.Fatalf("SEQUENCE failed: %v %s", res.Status, describe(res))
	}
	out := *res
	out.Ops = res.Ops[1:]
	return &out
}

// runners returns a 4.0 runner (no client ID) and 4.1 and 4.2 session
// runners.
func runners(t *testing.T, ts *testServer) []runner {
	t.Helper()
	c := ts.dial(t)
	s1, err := c.NewSession(ctx(t), 1, []byte("runner-4.1"), verf("r41"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.NewSession(ctx(t), 2, []byte("runner-4.2"), verf("r42"))
	if err != nil {
		t.Fatal(err)
	}
	return []runner{{"4.0", 0, c, nil}, {"4.1", 1, c, s1}, {"4.2", 2, c, s2}}
}
