package nfs3

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/local"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("nfs3 tests need root (the local backend needs CAP_DAC_READ_SEARCH, chown and mknod)")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Identities of the test calls (AUTH_SYS).
var (
	root  = &oncrpc.AuthSysParams{Machine: "client", UID: 0, GID: 0}
	alice = &oncrpc.AuthSysParams{Machine: "client", UID: 1000, GID: 1000, GIDs: []uint32{1000}}
	bob   = &oncrpc.AuthSysParams{Machine: "client", UID: 1001, GID: 1001}
)

// Export ids of the fixture.
const (
	expRW         = 1 // dir, no_root_squash
	expRO         = 2 // dir, read-only
	expSquash     = 3 // dir, root_squash
	expOther      = 4 // other, no_root_squash
	expRestricted = 5 // dir, only 10.0.0.0/8
	expFault      = 6 // dir through faultFS, no_root_squash
)

const clientAddr = "127.0.0.1:801"

// fixture is a server with exports over real directories.
type fixture struct {
	t      testing.TB
	srv    *Server
	codec  *fh.Codec
	dir    string // exported as expRW, expRO, expSquash, expRestricted, expFault
	other  string // exported as expOther
	fs     *local.FS
	fault  *faultFS
	table  *export.Table
	roots  map[uint32][]byte
	remote netip.AddrPort
	w      xdr.Writer
}

func newFixture(t testing.TB, maxIO uint32) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), other: t.TempDir(), roots: map[uint32][]byte{}, remote: netip.MustParseAddrPort(clientAddr)}
	for _, d := range []string{f.dir, f.other} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if f.fs, err = local.New(f.dir, local.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.fs.Close() })
	ofs, err := local.New(f.other, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ofs.Close() })
	f.fault = &faultFS{FS: f.fs}
	f.table, err = export.NewTable(
		&export.Export{ID: expRW, Path: "/rw", FS: f.fs, Squash: export.NoRootSquash, AnonUID: export.Nobody, AnonGID: export.Nobody},
		&export.Export{ID: expRO, Path: "/ro", FS: f.fs, ReadOnly: true, Squash: export.NoRootSquash, AnonUID: export.Nobody, AnonGID: export.Nobody},
		&export.Export{ID: expSquash, Path: "/squash", FS: f.fs, Squash: export.RootSquash, AnonUID: export.Nobody, AnonGID: export.Nobody},
		&export.Export{ID: expOther, Path: "/other", FS: ofs, Squash: export.NoRootSquash, AnonUID: export.Nobody, AnonGID: export.Nobody},
		&export.Export{ID: expRestricted, Path: "/restricted", FS: f.fs, Squash: export.NoRootSquash, Clients: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		&export.Export{ID: expFault, Path: "/fault", FS: f.fault, Squash: export.NoRootSquash, AnonUID: export.Nobody, AnonGID: export.Nobody},
	)
	if err != nil {
		t.Fatal(err)
	}
	key, err := fh.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	f.codec = fh.NewCodec(key)
	var verf [8]byte
	copy(verf[:], "VERF0001")
	f.srv = New(Config{Exports: func() *export.Table { return f.table }, Handles: f.codec, WriteVerf: verf, MaxIO: maxIO})
	for _, e := range f.table.List() {
		id, err := e.FS.Root(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.roots[e.ID] = f.codec.Encode(e.ID, id)
	}
	return f
}

// root returns the root handle of export id.
func (f *fixture) root(id uint32) []byte { return f.roots[id] }

// rw is the root handle of the read-write export.
func (f *fixture) rw() []byte { return f.roots[expRW] }

type encoder interface{ Encode(w *xdr.Writer) }
type decoder interface{ Decode(r *xdr.Reader) }

func encode(a encoder) []byte {
	var w xdr.Writer
	a.Encode(&w)
	return w.B
}

// raw calls procedure proc with encoded arguments and returns the
// encoded results (a copy) and the handler's error.
func (f *fixture) raw(proc uint32, cred *oncrpc.AuthSysParams, args []byte) ([]byte, error) {
	c := &oncrpc.Call{XID: 1, Prog: oncrpc.ProgNFS, Vers: Vers, Proc: proc, Args: args,
		Local: netip.MustParseAddrPort("127.0.0.1:2049"), Remote: f.remote, Sys: cred}
	if cred != nil {
		c.CredFlavor = oncrpc.AuthSys
	}
	f.w.B = f.w.B[:0]
	err := f.srv.ServeRPC(context.Background(), c, &f.w)
	return append([]byte(nil), f.w.B...), err
}

// call runs proc and decodes its results into res, which must consume
// the reply exactly.
func (f *fixture) call(proc uint32, cred *oncrpc.AuthSysParams, args encoder, res decoder) {
	f.t.Helper()
	reply, err := f.raw(proc, cred, encode(args))
	if err != nil {
		f.t.Fatalf("%s: %v", ProcNames[proc], err)
	}
	r := xdr.NewReader(reply)
	res.Decode(r)
	if r.Err() != nil || r.Len() != 0 {
		f.t.Fatalf("%s: reply does not decode: err %v, %d bytes left of %d", ProcNames[proc], r.Err(), r.Len(), len(reply))
	}
}

// expect fails the test if st is not want.
func expect(t testing.TB, what string, st, want Stat) {
	t.Helper()
	if st != want {
		t.Fatalf("%s: status %v, want %v", what, st, want)
	}
}

func (f *fixture) getattr(cred *oncrpc.AuthSysParams, h []byte) GETATTR3res {
	f.t.Helper()
	var res GETATTR3res
	f.call(ProcGETATTR, cred, &GETATTR3args{Object: h}, &res)
	return res
}

func (f *fixture) lookup(cred *oncrpc.AuthSysParams, dir []byte, name string) LOOKUP3res {
	f.t.Helper()
	var res LOOKUP3res
	f.call(ProcLOOKUP, cred, &LOOKUP3args{What: Diropargs3{Dir: dir, Name: name}}, &res)
	return res
}

// mustLookup returns the handle of name in dir.
func (f *fixture) mustLookup(dir []byte, name string) []byte {
	f.t.Helper()
	res := f.lookup(root, dir, name)
	expect(f.t, "LOOKUP "+name, res.Status, NFS3OK)
	return res.Object
}

func (f *fixture) create(cred *oncrpc.AuthSysParams, dir []byte, name string, how Createhow3) CREATE3res {
	f.t.Helper()
	var res CREATE3res
	f.call(ProcCREATE, cred, &CREATE3args{Where: Diropargs3{Dir: dir, Name: name}, How: how}, &res)
	return res
}

// mustCreate makes a file (UNCHECKED, mode given) and returns its handle.
func (f *fixture) mustCreate(cred *oncrpc.AuthSysParams, dir []byte, name string, mode uint32) []byte {
	f.t.Helper()
	res := f.create(cred, dir, name, Createhow3{Mode: vfs.Unchecked, ObjAttributes: Sattr3{Valid: vfs.SetMode, Mode: mode}})
	expect(f.t, "CREATE "+name, res.Status, NFS3OK)
	if !res.Obj.Present {
		f.t.Fatalf("CREATE %s: no handle", name)
	}
	return res.Obj.Handle
}

func (f *fixture) mkdir(cred *oncrpc.AuthSysParams, dir []byte, name string, mode uint32) MKDIR3res {
	f.t.Helper()
	var res MKDIR3res
	f.call(ProcMKDIR, cred, &MKDIR3args{Where: Diropargs3{Dir: dir, Name: name}, Attributes: Sattr3{Valid: vfs.SetMode, Mode: mode}}, &res)
	return res
}

func (f *fixture) mustMkdir(cred *oncrpc.AuthSysParams, dir []byte, name string, mode uint32) []byte {
	f.t.Helper()
	res := f.mkdir(cred, dir, name, mode)
	expect(f.t, "MKDIR "+name, res.Status, NFS3OK)
	return res.Obj.Handle
}

func (f *fixture) write(cred *oncrpc.AuthSysParams, h []byte, off uint64, data []byte, how vfs.Stability) WRITE3res {
	f.t.Helper()
	var res WRITE3res
	f.call(ProcWRITE, cred, &WRITE3args{File: h, Offset: off, Count: uint32(len(data)), Stable: how, Data: data}, &res)
	return res
}

func (f *fixture) read(cred *oncrpc.AuthSysParams, h []byte, off uint64, count uint32) READ3res {
	f.t.Helper()
	var res READ3res
	f.call(ProcREAD, cred, &READ3args{File: h, Offset: off, Count: count}, &res)
	return res
}

func (f *fixture) remove(cred *oncrpc.AuthSysParams, dir []byte, name string) REMOVE3res {
	f.t.Helper()
	var res REMOVE3res
	f.call(ProcREMOVE, cred, &REMOVE3args{Object: Diropargs3{Dir: dir, Name: name}}, &res)
	return res
}

func (f *fixture) setattr(cred *oncrpc.AuthSysParams, h []byte, sa Sattr3, guard *Nfstime3) SETATTR3res {
	f.t.Helper()
	a := SETATTR3args{Object: h, NewAttributes: sa}
	if guard != nil {
		a.Guard = Sattrguard3{Check: true, ObjCtime: *guard}
	}
	var res SETATTR3res
	f.call(ProcSETATTR, cred, &a, &res)
	return res
}

// path returns the local path of name in the exported directory.
func (f *fixture) path(name ...string) string {
	return filepath.Join(append([]string{f.dir}, name...)...)
}

// writeFile makes a file in the exported directory behind the server.
func (f *fixture) writeFile(name string, data []byte, mode os.FileMode, uid, gid int) {
	f.t.Helper()
	p := f.path(name)
	if err := os.WriteFile(p, data, mode); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		f.t.Fatal(err)
	}
}

// rehandle returns handle h re-encoded for another export (a handle a
// client could have had from that export).
func (f *fixture) rehandle(h []byte, exportID uint32) []byte {
	f.t.Helper()
	_, id, err := f.codec.Decode(h)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.codec.Encode(exportID, id)
}

// faultFS is a backend that fails chosen operations with chosen errors
// and passes everything else to the real one: the way to reach statuses
// that a local directory cannot produce on demand (EDQUOT, EIO, odd
// errors).
type faultFS struct {
	vfs.FS
	mu   sync.Mutex
	errs map[string]error // by method name
}

func (f *faultFS) set(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	if err == nil {
		delete(f.errs, method)
	} else {
		f.errs[method] = err
	}
}

func (f *faultFS) err(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[method]
}

func (f *faultFS) Write(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64, how vfs.Stability) (int, vfs.Stability, error) {
	if err := f.err("Write"); err != nil {
		return 0, vfs.Unstable, err
	}
	return f.FS.Write(ctx, c, id, p, off, how)
}

func (f *faultFS) Commit(ctx context.Context, c *vfs.Cred, id vfs.ID, off uint64, count uint32) error {
	if err := f.err("Commit"); err != nil {
		return err
	}
	return f.FS.Commit(ctx, c, id, off, count)
}

func (f *faultFS) Create(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string, mode vfs.CreateMode, sa *vfs.SetAttr, verf [8]byte) (vfs.ID, vfs.Attr, error) {
	if err := f.err("Create"); err != nil {
		return nil, vfs.Attr{}, err
	}
	return f.FS.Create(ctx, c, dir, name, mode, sa, verf)
}

func (f *faultFS) SetAttr(ctx context.Context, c *vfs.Cred, id vfs.ID, sa *vfs.SetAttr, guard *vfs.Timespec) (vfs.Attr, error) {
	if err := f.err("SetAttr"); err != nil {
		return vfs.Attr{}, err
	}
	return f.FS.SetAttr(ctx, c, id, sa, guard)
}

func (f *faultFS) ReadDir(ctx context.Context, c *vfs.Cred, dir vfs.ID, cookie uint64, plus bool, fn func(e *vfs.DirEntry) bool) (bool, error) {
	if err := f.err("ReadDir"); err != nil {
		return false, err
	}
	return f.FS.ReadDir(ctx, c, dir, cookie, plus, fn)
}

func (f *faultFS) Lookup(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string) (vfs.ID, vfs.Attr, error) {
	if err := f.err("Lookup"); err != nil {
		return nil, vfs.Attr{}, err
	}
	id, a, err := f.FS.Lookup(ctx, c, dir, name)
	if bad := f.err("LookupID"); bad != nil && err == nil {
		return append(id, make([]byte, 64)...), a, nil // an ID too long for a handle
	}
	return id, a, err
}

func (f *faultFS) GetAttr(ctx context.Context, id vfs.ID) (vfs.Attr, error) {
	if err := f.err("GetAttr"); err != nil {
		return vfs.Attr{}, err
	}
	return f.FS.GetAttr(ctx, id)
}

// errOdd is an error with no errno, which has no NFSv3 status.
var errOdd = errors.New("backend: something odd")

// longName returns a name of n bytes.
func longName(n int) string { return strings.Repeat("n", n) }
