package mount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// treeFS is a backend holding a fixed tree for the two calls MOUNT makes
// (Root and Lookup). IDs are the paths below the root; lookups of the
// paths in errs fail with the given error, and a lookup by a non-root
// caller inside a path in private fails with EACCES.
type treeFS struct {
	vfs.FS  // other methods are not used by MOUNT
	rootErr error
	dirs    map[string]bool // path -> is a directory
	errs    map[string]error
	private map[string]bool
}

func (f *treeFS) Root(ctx context.Context) (vfs.ID, error) {
	if f.rootErr != nil {
		return nil, f.rootErr
	}
	return vfs.ID("/"), nil
}

func (f *treeFS) Lookup(ctx context.Context, c *vfs.Cred, dir vfs.ID, name string) (vfs.ID, vfs.Attr, error) {
	if f.private[string(dir)] && c.UID != 0 {
		return nil, vfs.Attr{}, syscall.EACCES
	}
	if !f.dirs[string(dir)] && string(dir) != "/" {
		return nil, vfs.Attr{}, syscall.ENOTDIR
	}
	p := strings.TrimSuffix(string(dir), "/") + "/" + name
	if err := f.errs[p]; err != nil {
		return nil, vfs.Attr{}, err
	}
	isDir, ok := f.dirs[p]
	if !ok {
		return nil, vfs.Attr{}, syscall.ENOENT
	}
	a := vfs.Attr{Type: vfs.TypeRegular}
	if isDir {
		a.Type = vfs.TypeDir
	}
	return vfs.ID(p), a, nil
}

type fixture struct {
	srv   *Server
	codec *fh.Codec
	table *export.Table
}

func newFixture(t testing.TB, maxMounts int) *fixture {
	t.Helper()
	key, err := fh.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tree := &treeFS{
		dirs:    map[string]bool{"/sub": true, "/sub/deeper": true, "/file": false, "/private": true, "/private/x": true},
		errs:    map[string]error{"/eio": syscall.EIO, "/wrapped": fmt.Errorf("backend: %w", syscall.ENAMETOOLONG), "/odd": errors.New("not an errno")},
		private: map[string]bool{"/private": true},
	}
	table, err := export.NewTable(
		&export.Export{ID: 1, Path: "/export", FS: tree, Squash: export.RootSquash, AnonUID: export.Nobody, AnonGID: export.Nobody},
		&export.Export{ID: 2, Path: "/restricted", FS: tree, Clients: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/64")}},
		&export.Export{ID: 3, Path: "/local/only", FS: tree, Squash: export.NoRootSquash, Clients: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		&export.Export{ID: 4, Path: "/broken", FS: &treeFS{rootErr: syscall.ESTALE}},
	)
	if err != nil {
		t.Fatal(err)
	}
	codec := fh.NewCodec(key)
	srv := New(Config{Exports: func() *export.Table { return table }, Handles: codec, MaxMounts: maxMounts})
	return &fixture{srv: srv, codec: codec, table: table}
}

const client = "127.0.0.9:801"

func (f *fixture) call(vers, proc uint32, from string, args []byte, cred *oncrpc.AuthSysParams) ([]byte, error) {
	c := &oncrpc.Call{XID: 7, Prog: oncrpc.ProgMount, Vers: vers, Proc: proc, Args: args,
		Local: netip.MustParseAddrPort("127.0.0.1:20048"), Remote: netip.MustParseAddrPort(from), Sys: cred}
	if cred != nil {
		c.CredFlavor = oncrpc.AuthSys
	}
	var w xdr.Writer
	err := f.srv.Program().Handler.ServeRPC(context.Background(), c, &w)
	return w.B, err
}

func dirpath(p string) []byte {
	var w xdr.Writer
	w.String(p)
	return w.B
}

func TestMnt(t *testing.T) {
	user := &oncrpc.AuthSysParams{Machine: "c", UID: 1000, GID: 1000}
	root := &oncrpc.AuthSysParams{Machine: "c", UID: 0, GID: 0}
	tests := []struct {
		name     string
		from     string
		path     string
		cred     *oncrpc.AuthSysParams
		want     Stat
		exportID uint32
		objID    string
	}{
		{"export root", client, "/export", user, MNT3OK, 1, "/"},
		{"trailing slash", client, "/export/", user, MNT3OK, 1, "/"},
		{"double slash", client, "//export", user, MNT3OK, 1, "/"},
		{"auth none", client, "/export", nil, MNT3OK, 1, "/"},
		{"subdirectory", client, "/export/sub", user, MNT3OK, 1, "/sub"},
		{"deeper", client, "/export/sub/deeper", user, MNT3OK, 1, "/sub/deeper"},
		{"nested export path", client, "/local/only", user, MNT3OK, 3, "/"},
		{"not exported", client, "/nope", user, MNT3ErrNoEnt, 0, ""},
		{"prefix is not a component", client, "/exportx", user, MNT3ErrNoEnt, 0, ""},
		{"parent of an export", client, "/local", user, MNT3ErrNoEnt, 0, ""},
		{"root not exported", client, "/", user, MNT3ErrNoEnt, 0, ""},
		{"missing below export", client, "/export/missing", user, MNT3ErrNoEnt, 0, ""},
		{"regular file", client, "/export/file", user, MNT3ErrNotDir, 0, ""},
		{"below a file", client, "/export/file/x", user, MNT3ErrNotDir, 0, ""},
		{"no search permission", client, "/export/private/x", user, MNT3ErrAcces, 0, ""},
		{"root is squashed", client, "/export/private/x", root, MNT3ErrAcces, 0, ""},
		{"no_root_squash export", client, "/local/only", root, MNT3OK, 3, "/"},
		{"backend EIO", client, "/export/eio", user, MNT3ErrIO, 0, ""},
		{"wrapped errno", client, "/export/wrapped", user, MNT3ErrNameTooLong, 0, ""},
		{"not an errno", client, "/export/odd", user, MNT3ErrServerFault, 0, ""},
		{"component too long", client, "/export/" + strings.Repeat("n", 256), user, MNT3ErrNameTooLong, 0, ""},
		{"stale root", client, "/broken", user, MNT3ErrNoEnt, 0, ""},
		{"client not allowed", client, "/restricted", user, MNT3ErrAcces, 0, ""},
		{"client network allowed", "10.9.8.7:900", "/restricted", user, MNT3OK, 2, "/"},
		{"single host allowed", "192.168.1.7:900", "/restricted", user, MNT3OK, 2, "/"},
		{"other host refused", "192.168.1.8:900", "/restricted", user, MNT3ErrAcces, 0, ""},
		{"ipv6 client allowed", "[fd00::5]:900", "/restricted", user, MNT3OK, 2, "/"},
		{"v4-mapped client", "[::ffff:10.1.1.1]:900", "/restricted", user, MNT3OK, 2, "/"},
		{"local export from elsewhere", "10.0.0.1:900", "/local/only", user, MNT3ErrAcces, 0, ""},
		{"relative path", client, "export", user, MNT3ErrInval, 0, ""},
		{"dot dot", client, "/export/../etc", user, MNT3ErrInval, 0, ""},
		{"empty path", client, "", user, MNT3ErrInval, 0, ""},
		{"nul byte", client, "/export\x00", user, MNT3ErrInval, 0, ""},
		{"1024 bytes", client, "/" + strings.Repeat("a/", 511) + "a", user, MNT3ErrNoEnt, 0, ""},
		{"1025 bytes", client, "/" + strings.Repeat("a", 1024), user, MNT3ErrNameTooLong, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 0)
			got, err := f.call(Vers3, ProcMnt, tc.from, dirpath(tc.path), tc.cred)
			if err != nil {
				t.Fatal(err)
			}
			r := xdr.NewReader(got)
			if st := Stat(r.Uint32()); st != tc.want {
				t.Fatalf("status %d, want %d", st, tc.want)
			}
			if tc.want != MNT3OK {
				if r.Len() != 0 {
					t.Fatalf("%d bytes after an error status", r.Len())
				}
				if m := f.srv.Mounts(); len(m) != 0 {
					t.Fatalf("refused mount recorded: %v", m)
				}
				return
			}
			h := r.Opaque(FHSize3)
			n := r.ArrayLen(16, 4)
			flavors := make([]uint32, n)
			for i := range flavors {
				flavors[i] = r.Uint32()
			}
			if r.Err() != nil || r.Len() != 0 {
				t.Fatalf("bad mountres3_ok: %v, %d bytes left", r.Err(), r.Len())
			}
			if !reflect.DeepEqual(flavors, []uint32{oncrpc.AuthSys}) {
				t.Errorf("auth_flavors %v, want [AUTH_SYS]", flavors)
			}
			eid, oid, err := f.codec.Decode(h)
			if err != nil || eid != tc.exportID || string(oid) != tc.objID {
				t.Fatalf("handle decodes to export %d object %q (%v), want %d %q", eid, oid, err, tc.exportID, tc.objID)
			}
			clean, _ := export.CleanPath(tc.path)
			want := []Entry{{Host: netip.MustParseAddrPort(tc.from).Addr().Unmap().String(), Path: clean}}
			if m := f.srv.Mounts(); !reflect.DeepEqual(m, want) {
				t.Fatalf("mount list %v, want %v", m, want)
			}
		})
	}
}

func TestBadCalls(t *testing.T) {
	tests := []struct {
		name       string
		vers, proc uint32
		args       []byte
		want       error
	}{
		{"mnt v1", Vers1, ProcMnt, dirpath("/export"), oncrpc.ErrProcUnavail},
		{"mnt v2", Vers2, ProcMnt, dirpath("/export"), oncrpc.ErrProcUnavail},
		{"exportall v1", Vers1, 6, nil, oncrpc.ErrProcUnavail},
		{"pathconf v2", Vers2, 7, dirpath("/export"), oncrpc.ErrProcUnavail},
		{"proc 6 v3", Vers3, 6, nil, oncrpc.ErrProcUnavail},
		{"mnt no args", Vers3, ProcMnt, nil, oncrpc.ErrGarbageArgs},
		{"mnt truncated path", Vers3, ProcMnt, dirpath("/export")[:6], oncrpc.ErrGarbageArgs},
		{"umnt no args", Vers3, ProcUmnt, nil, oncrpc.ErrGarbageArgs},
		{"umnt path too long", Vers3, ProcUmnt, dirpath(strings.Repeat("/", 1025)), oncrpc.ErrGarbageArgs},
	}
	f := newFixture(t, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.call(tc.vers, tc.proc, client, tc.args, nil); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func decodeDump(t *testing.T, b []byte) []Entry {
	t.Helper()
	r := xdr.NewReader(b)
	list := []Entry{}
	for r.Bool() {
		list = append(list, Entry{Host: r.String(MNTNameLen), Path: r.String(MNTPathLen)})
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Fatalf("bad mountlist: %v, %d bytes left", r.Err(), r.Len())
	}
	return list
}

func TestDumpUmnt(t *testing.T) {
	f := newFixture(t, 0)
	mnt := func(from, p string) {
		t.Helper()
		got, err := f.call(Vers3, ProcMnt, from, dirpath(p), nil)
		if err != nil || !bytes.HasPrefix(got, []byte{0, 0, 0, 0}) {
			t.Fatalf("MNT %s from %s: %x %v", p, from, got, err)
		}
	}
	dump := func(vers uint32) []Entry {
		t.Helper()
		got, err := f.call(vers, ProcDump, client, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return decodeDump(t, got)
	}
	mnt(client, "/export")
	mnt("127.0.0.9:999", "/export/") // same client, other port, same path: one entry
	mnt(client, "/export/sub")
	mnt("10.1.1.1:1", "/restricted")
	mnt("127.0.0.10:1", "/export")
	want := []Entry{{"127.0.0.9", "/export"}, {"127.0.0.9", "/export/sub"}, {"10.1.1.1", "/restricted"}, {"127.0.0.10", "/export"}}
	for _, v := range []uint32{Vers1, Vers2, Vers3} {
		if got := dump(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("v%d DUMP %v, want %v", v, got, want)
		}
	}

	// UMNT of a path never mounted changes nothing; UMNT of a mounted
	// one (spelled differently) removes it.
	if _, err := f.call(Vers3, ProcUmnt, client, dirpath("/restricted"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.call(Vers1, ProcUmnt, "127.0.0.9:5", dirpath("/export/sub/"), nil); err != nil {
		t.Fatal(err)
	}
	want = []Entry{{"127.0.0.9", "/export"}, {"10.1.1.1", "/restricted"}, {"127.0.0.10", "/export"}}
	if got := dump(Vers3); !reflect.DeepEqual(got, want) {
		t.Fatalf("after UMNT: %v, want %v", got, want)
	}
	mnt(client, "/local/only")
	if _, err := f.call(Vers3, ProcUmntall, client, nil, nil); err != nil {
		t.Fatal(err)
	}
	want = []Entry{{"10.1.1.1", "/restricted"}, {"127.0.0.10", "/export"}}
	if got := dump(Vers3); !reflect.DeepEqual(got, want) {
		t.Fatalf("after UMNTALL: %v, want %v", got, want)
	}
}

func TestMountListBounded(t *testing.T) {
	f := newFixture(t, 3)
	for i := 1; i <= 5; i++ {
		if _, err := f.call(Vers3, ProcMnt, fmt.Sprintf("10.0.0.%d:1", i), dirpath("/restricted"), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Mounting again refreshes an entry, so 10.0.0.3 outlives 10.0.0.4.
	if _, err := f.call(Vers3, ProcMnt, "10.0.0.3:1", dirpath("/restricted"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.call(Vers3, ProcMnt, "10.0.0.6:1", dirpath("/restricted"), nil); err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"10.0.0.5", "/restricted"}, {"10.0.0.3", "/restricted"}, {"10.0.0.6", "/restricted"}}
	if got := f.srv.Mounts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("mount list %v, want %v", got, want)
	}
}

func TestDumpReplyBounded(t *testing.T) {
	f := newFixture(t, 0)
	// Fill the mount list with long paths directly (MNT of 4096 distinct
	// 1000-byte paths would need that many directories).
	long := "/export/" + strings.Repeat("d", 1000)
	for i := 0; i < DefaultMaxMounts; i++ {
		f.srv.mounts.add(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), long)
	}
	got, err := f.call(Vers3, ProcDump, client, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 64<<10 {
		t.Fatalf("DUMP reply of %d bytes does not fit a UDP datagram", len(got))
	}
	if n := len(decodeDump(t, got)); n < 50 {
		t.Fatalf("DUMP listed only %d entries", n)
	}
}

func TestExport(t *testing.T) {
	f := newFixture(t, 0)
	type node struct {
		dir    string
		groups []string
	}
	for _, v := range []uint32{Vers1, Vers2, Vers3} {
		got, err := f.call(v, ProcExport, client, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := xdr.NewReader(got)
		var list []node
		for r.Bool() {
			n := node{dir: r.String(MNTPathLen), groups: []string{}}
			for r.Bool() {
				n.groups = append(n.groups, r.String(MNTNameLen))
			}
			list = append(list, n)
		}
		if r.Err() != nil || r.Len() != 0 {
			t.Fatalf("bad exports: %v, %d bytes left", r.Err(), r.Len())
		}
		want := []node{
			{"/export", []string{}},
			{"/restricted", []string{"10.0.0.0/8", "192.168.1.7", "fd00::/64"}},
			{"/local/only", []string{"127.0.0.0/8"}},
			{"/broken", []string{}},
		}
		if !reflect.DeepEqual(list, want) {
			t.Fatalf("v%d EXPORT %v, want %v", v, list, want)
		}
	}
}

func TestNullAllVersions(t *testing.T) {
	f := newFixture(t, 0)
	for _, v := range []uint32{Vers1, Vers2, Vers3} {
		if got, err := f.call(v, ProcNull, client, nil, nil); err != nil || len(got) != 0 {
			t.Fatalf("v%d NULL: %x %v", v, got, err)
		}
	}
	p := f.srv.Program()
	if p.Prog != 100005 || p.Low != 1 || p.High != 3 {
		t.Fatalf("program %d versions %d-%d", p.Prog, p.Low, p.High)
	}
}

// FuzzServeRPC: arbitrary arguments to every procedure never panic, and
// give either a reply of whole XDR units or one of the RPC errors.
func FuzzServeRPC(f *testing.F) {
	f.Add(uint8(3), uint8(1), dirpath("/export/sub"))
	f.Add(uint8(1), uint8(3), dirpath("/export"))
	f.Add(uint8(3), uint8(1), []byte{0xff, 0xff, 0xff, 0xff})
	fx := newFixture(f, 16)
	f.Fuzz(func(t *testing.T, vers, proc uint8, args []byte) {
		got, err := fx.call(1+uint32(vers%3), uint32(proc%8), client, args, nil)
		if err == nil && len(got)%4 != 0 {
			t.Fatalf("reply of %d bytes", len(got))
		}
		if err != nil && !errors.Is(err, oncrpc.ErrGarbageArgs) && !errors.Is(err, oncrpc.ErrProcUnavail) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
