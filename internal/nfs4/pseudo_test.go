package nfs4_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vnfsd/vnfsd/internal/export"
	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// attrsOf decodes the attributes of a GETATTR result.
func attrsOf(t *testing.T, o c4.OpResult) *c4.AttrValues {
	t.Helper()
	v, err := o.Attrs()
	if err != nil {
		t.Fatalf("GETATTR: %v", err)
	}
	return v
}

// TestPseudoFSReaddir: READDIR of the pseudo root lists the first
// components of the export paths ("a", a junction, and "b", a pseudo
// directory), READDIR of /b lists "c" (RFC 8881 section 7.3), without
// "." and "..", with the attributes asked.
func TestPseudoFSReaddir(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	for _, r := range runners(t, ts) {
		t.Run(r.name, func(t *testing.T) {
			attrs := c4.NewBitmap(c4.FATTR4_TYPE, c4.FATTR4_FSID, c4.FATTR4_MOUNTED_ON_FILEID)
			for _, tc := range []struct {
				path []string
				want []string
			}{
				{nil, []string{"a", "b"}},
				{[]string{"b"}, []string{"c"}},
			} {
				ops := []c4.Op{c4.Putrootfh()}
				for _, p := range tc.path {
					ops = append(ops, c4.Lookup(p))
				}
				ops = append(ops, c4.Getattr(c4.FATTR4_FSID), c4.Readdir(0, [8]byte{}, 4096, 8192, attrs))
				res := mustOK(t, r.run(t, ops...))
				dirFsid := attrsOf(t, res.Ops[len(res.Ops)-2]).Fsid
				rd, err := res.Last().Readdir()
				if err != nil {
					t.Fatal(err)
				}
				if !rd.EOF {
					t.Errorf("%v: eof false", tc.path)
				}
				var names []string
				for _, e := range rd.Entries {
					names = append(names, e.Name)
					if e.Cookie <= 2 {
						t.Errorf("%v: entry %q has reserved cookie %d", tc.path, e.Name, e.Cookie)
					}
					v, err := e.Attrs.Decode()
					if err != nil {
						t.Fatalf("%v: entry %q: %v", tc.path, e.Name, err)
					}
					if !slices.Equal(v.Mask.Attrs(), attrs.Attrs()) {
						t.Errorf("%v: entry %q: attributes %v, want %v", tc.path, e.Name, v.Mask.Attrs(), attrs.Attrs())
					}
					if v.Type != c4.NF4DIR {
						t.Errorf("%v: entry %q: type %d, want NF4DIR", tc.path, e.Name, v.Type)
					}
					// A junction's attributes are those of the export's
					// root, another file system; a pseudo directory's
					// are the pseudo file system's.
					junction := e.Name != "b"
					if (v.Fsid != dirFsid) != junction {
						t.Errorf("%v: entry %q: fsid %v, directory's %v (junction %v)", tc.path, e.Name, v.Fsid, dirFsid, junction)
					}
				}
				if !slices.Equal(names, tc.want) {
					t.Errorf("READDIR %v: names %q, want %q", tc.path, names, tc.want)
				}
				if len(rd.Entries) == 0 {
					continue
				}
				// Resuming after the first entry's cookie lists the rest.
				ops[len(ops)-1] = c4.Readdir(rd.Entries[0].Cookie, rd.Cookieverf, 4096, 8192, nil)
				rest, err := mustOK(t, r.run(t, ops...)).Last().Readdir()
				if err != nil {
					t.Fatal(err)
				}
				var restNames []string
				for _, e := range rest.Entries {
					restNames = append(restNames, e.Name)
				}
				if !slices.Equal(restNames, tc.want[1:]) || !rest.EOF {
					t.Errorf("READDIR %v from cookie %d: %q eof %v, want %q", tc.path, rd.Entries[0].Cookie, restNames, rest.EOF, tc.want[1:])
				}
			}
		})
	}
}

// TestPseudoFSJunctions: LOOKUP from the pseudo file system into an export
// crosses a junction (fsid changes, RFC 8881 section 7.7), LOOKUPP from an
// export's root comes back to the pseudo directory, LOOKUPP of the root is
// NFS4ERR_NOENT (section 18.14.3), and GETFH/PUTFH round-trip.
func TestPseudoFSJunctions(t *testing.T) {
	b := newBackend(t)
	if err := os.Mkdir(filepath.Join(b.dirA, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, b, serverOpts{})
	fsid := uint32(c4.FATTR4_FSID)
	for _, r := range runners(t, ts) {
		t.Run(r.name, func(t *testing.T) {
			res := mustOK(t, r.run(t,
				c4.Putrootfh(), c4.Getattr(fsid, c4.FATTR4_TYPE), c4.Getfh(), // 0-2: root
				c4.Lookup("a"), c4.Getattr(fsid, c4.FATTR4_TYPE), c4.Getfh(), // 3-5: /a
				c4.Lookup("sub"), c4.Getattr(fsid), c4.Getfh(), // 6-8: /a/sub
				c4.Putrootfh(), c4.Lookup("b"), c4.Getattr(fsid), c4.Getfh(), // 9-12: /b
				c4.Lookup("c"), c4.Getattr(fsid), c4.Getfh(), // 13-15: /b/c
			))
			root, a, sub, pb, c := attrsOf(t, res.Ops[1]), attrsOf(t, res.Ops[4]), attrsOf(t, res.Ops[7]), attrsOf(t, res.Ops[11]), attrsOf(t, res.Ops[14])
			rootFH, aFH, subFH, bFH, cFH := fhOf(t, res.Ops[2]), fhOf(t, res.Ops[5]), fhOf(t, res.Ops[8]), fhOf(t, res.Ops[12]), fhOf(t, res.Ops[15])
			if root.Type != c4.NF4DIR || a.Type != c4.NF4DIR {
				t.Errorf("types %d, %d, want NF4DIR", root.Type, a.Type)
			}
			if a.Fsid == root.Fsid || c.Fsid == root.Fsid || a.Fsid == c.Fsid {
				t.Errorf("fsids root %v, /a %v, /b/c %v: want three file systems", root.Fsid, a.Fsid, c.Fsid)
			}
			if pb.Fsid != root.Fsid {
				t.Errorf("pseudo directory /b fsid %v, root's %v", pb.Fsid, root.Fsid)
			}
			if sub.Fsid != a.Fsid {
				t.Errorf("/a/sub fsid %v, /a's %v", sub.Fsid, a.Fsid)
			}

			// LOOKUPP back out: into the export's parent directory, out
			// of an export into the pseudo file system, and of the root.
			for _, tc := range []struct {
				name     string
				from     []byte
				want     []byte
				wantFsid c4.Fsid
			}{
				{"/a/sub", subFH, aFH, a.Fsid},
				{"/a", aFH, rootFH, root.Fsid},
				{"/b/c", cFH, bFH, root.Fsid},
				{"/b", bFH, rootFH, root.Fsid},
			} {
				res := mustOK(t, r.run(t, c4.Putfh(tc.from), c4.Lookupp(), c4.Getfh(), c4.Getattr(fsid)))
				if got := fhOf(t, res.Ops[2]); !bytes.Equal(got, tc.want) {
					t.Errorf("LOOKUPP of %s: handle %x, want %x", tc.name, got, tc.want)
				}
				if got := attrsOf(t, res.Ops[3]).Fsid; got != tc.wantFsid {
					t.Errorf("LOOKUPP of %s: fsid %v, want %v", tc.name, got, tc.wantFsid)
				}
			}
			wantStatuses(t, r.run(t, c4.Putrootfh(), c4.Lookupp()), c4.NFS4ERR_NOENT,
				ok(c4.OP_PUTROOTFH), fail(c4.OP_LOOKUPP, c4.NFS4ERR_NOENT))

			// PUTFH of a GETFH's handle is the same object.
			res = mustOK(t, r.run(t, c4.Putfh(subFH), c4.Getfh(), c4.Getattr(fsid, c4.FATTR4_FILEID),
				c4.Putrootfh(), c4.Lookup("a"), c4.Lookup("sub"), c4.Getattr(fsid, c4.FATTR4_FILEID)))
			if got := fhOf(t, res.Ops[1]); !bytes.Equal(got, subFH) {
				t.Errorf("GETFH after PUTFH: %x, want %x", got, subFH)
			}
			if x, y := attrsOf(t, res.Ops[2]), attrsOf(t, res.Ops[6]); x.Fileid != y.Fileid || x.Fsid != y.Fsid {
				t.Errorf("PUTFH object fileid %d fsid %v, LOOKUP's %d %v", x.Fileid, x.Fsid, y.Fileid, y.Fsid)
			}
		})
	}
}

// TestPseudoFSBadHandles: a forged handle is NFS4ERR_BADHANDLE, so is an
// empty one; one over NFS4_FHSIZE is not valid XDR (NFS4ERR_BADXDR); the
// handles of an export that was removed and of a pseudo directory that
// went with it are NFS4ERR_STALE (RFC 8881 section 4.2.3, 18.19.3).
func TestPseudoFSBadHandles(t *testing.T) {
	b := newBackend(t)
	if err := os.WriteFile(filepath.Join(b.dirC, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, b, serverOpts{})
	rs := runners(t, ts)
	r := rs[1]
	res := mustOK(t, r.run(t, c4.Putrootfh(), c4.Lookup("b"), c4.Getfh(), c4.Lookup("c"), c4.Getfh(),
		c4.Lookup("file"), c4.Getfh(), c4.Putrootfh(), c4.Lookup("a"), c4.Getfh()))
	bFH, cFH, fileFH, aFH := fhOf(t, res.Ops[2]), fhOf(t, res.Ops[4]), fhOf(t, res.Ops[6]), fhOf(t, res.Ops[9])

	for _, r := range rs {
		t.Run(r.name, func(t *testing.T) {
			for i := range aFH {
				forged := bytes.Clone(aFH)
				forged[i] ^= 0x01
				wantStatuses(t, r.run(t, c4.Putfh(forged), c4.Getfh()), c4.NFS4ERR_BADHANDLE,
					fail(c4.OP_PUTFH, c4.NFS4ERR_BADHANDLE))
			}
			for _, h := range [][]byte{{}, {1, 2, 3}, bytes.Repeat([]byte{0xab}, c4.NFS4_FHSIZE)} {
				wantStatuses(t, r.run(t, c4.Putfh(h), c4.Getfh()), c4.NFS4ERR_BADHANDLE,
					fail(c4.OP_PUTFH, c4.NFS4ERR_BADHANDLE))
			}
			wantStatuses(t, r.run(t, c4.Putrootfh(), c4.Putfh(bytes.Repeat([]byte{1}, c4.NFS4_FHSIZE+1))), c4.NFS4ERR_BADXDR,
				ok(c4.OP_PUTROOTFH), fail(c4.OP_PUTFH, c4.NFS4ERR_BADXDR))
		})
	}

	// Remove export /b/c: its handles, and the pseudo directory /b that
	// only led to it, are stale; /a is untouched.
	only, err := export.NewTable(b.table.ByID(expA))
	if err != nil {
		t.Fatal(err)
	}
	ts.table.Store(only)
	for _, r := range rs {
		t.Run(r.name+"/removed", func(t *testing.T) {
			for name, h := range map[string][]byte{"/b/c": cFH, "/b/c/file": fileFH, "/b": bFH} {
				res := r.run(t, c4.Putfh(h), c4.Getattr(c4.FATTR4_TYPE))
				if res.Status != c4.NFS4ERR_STALE || len(res.Ops) != 1 || res.Ops[0].Status != c4.NFS4ERR_STALE {
					t.Errorf("PUTFH of %s after its export was removed: %v %s, want NFS4ERR_STALE", name, res.Status, describe(res))
				}
			}
			mustOK(t, r.run(t, c4.Putfh(aFH), c4.Getattr(c4.FATTR4_TYPE)))
			wantStatuses(t, r.run(t, c4.Putrootfh(), c4.Lookup("b")), c4.NFS4ERR_NOENT,
				ok(c4.OP_PUTROOTFH), fail(c4.OP_LOOKUP, c4.NFS4ERR_NOENT))
			res := mustOK(t, r.run(t, c4.Putrootfh(), c4.Readdir(0, [8]byte{}, 4096, 8192, nil)))
			rd, err := res.Last().Readdir()
			if err != nil {
				t.Fatal(err)
			}
			if len(rd.Entries) != 1 || rd.Entries[0].Name != "a" {
				t.Errorf("root after removal lists %v, want only a", rd.Entries)
			}
		})
	}
}

// TestNoFilehandle: operations that need a current (or saved) filehandle
// fail without one: NFS4ERR_NOFILEHANDLE, and NFS4ERR_RESTOREFH for
// RESTOREFH without a saved one (RFC 8881 section 15.2, 18.27.3).
func TestNoFilehandle(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	for _, r := range runners(t, ts) {
		t.Run(r.name, func(t *testing.T) {
			for _, tc := range []struct {
				op   c4.Op
				want c4.Status
			}{
				{c4.Getfh(), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Getattr(c4.FATTR4_TYPE), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Lookup("a"), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Lookupp(), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Savefh(), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Access(c4.ACCESS4_READ), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Readdir(0, [8]byte{}, 1024, 4096, nil), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Readlink(), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Remove("x"), c4.NFS4ERR_NOFILEHANDLE},
				{c4.Restorefh(), c4.NFS4ERR_RESTOREFH},
			} {
				res := r.run(t, tc.op)
				wantStatuses(t, res, tc.want, fail(tc.op.Num, tc.want))
			}
			// RENAME with a current but no saved filehandle.
			wantStatuses(t, r.run(t, c4.Putrootfh(), c4.Lookup("a"), c4.Rename("x", "y")), c4.NFS4ERR_NOFILEHANDLE,
				ok(c4.OP_PUTROOTFH), ok(c4.OP_LOOKUP), fail(c4.OP_RENAME, c4.NFS4ERR_NOFILEHANDLE))
		})
	}
}

// TestLookupNames: component4 checks of LOOKUP, in the pseudo file system
// and in an export: "." and ".." are NFS4ERR_BADNAME, an empty name and
// invalid UTF-8 NFS4ERR_INVAL, a name over NAME_MAX (255)
// NFS4ERR_NAMETOOLONG (RFC 8881 sections 14.5 and 18.15.3); a missing name
// is NFS4ERR_NOENT, LOOKUP from a file NFS4ERR_NOTDIR and from a symbolic
// link NFS4ERR_SYMLINK.
func TestLookupNames(t *testing.T) {
	b := newBackend(t)
	if err := os.WriteFile(filepath.Join(b.dirA, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(b.dirA, "link")); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, b, serverOpts{})
	for _, r := range runners(t, ts) {
		for _, dir := range [][]string{nil, {"a"}} {
			t.Run(r.name+"/"+strings.Join(dir, "/"), func(t *testing.T) {
				for _, tc := range []struct {
					name string
					want c4.Status
				}{
					{".", c4.NFS4ERR_BADNAME},
					{"..", c4.NFS4ERR_BADNAME},
					{"", c4.NFS4ERR_INVAL},
					{"\xff\xfe", c4.NFS4ERR_INVAL},
					{strings.Repeat("n", 300), c4.NFS4ERR_NAMETOOLONG},
					{strings.Repeat("n", 256), c4.NFS4ERR_NAMETOOLONG},
					{"missing", c4.NFS4ERR_NOENT},
				} {
					ops := []c4.Op{c4.Putrootfh()}
					want := []opStatus{ok(c4.OP_PUTROOTFH)}
					for _, d := range dir {
						ops = append(ops, c4.Lookup(d))
						want = append(want, ok(c4.OP_LOOKUP))
					}
					ops = append(ops, c4.Lookup(tc.name), c4.Getfh())
					want = append(want, fail(c4.OP_LOOKUP, tc.want))
					t.Logf("LOOKUP %q (%d bytes)", tc.name[:min(len(tc.name), 8)], len(tc.name))
					wantStatuses(t, r.run(t, ops...), tc.want, want...)
				}
				// A 255-byte name is valid: not there, NFS4ERR_NOENT.
				ops := []c4.Op{c4.Putrootfh()}
				for _, d := range dir {
					ops = append(ops, c4.Lookup(d))
				}
				ops = append(ops, c4.Lookup(strings.Repeat("n", 255)))
				if res := r.run(t, ops...); res.Status != c4.NFS4ERR_NOENT {
					t.Errorf("LOOKUP of a 255-byte name: %v, want NFS4ERR_NOENT", res.Status)
				}
			})
		}
		t.Run(r.name+"/notdir", func(t *testing.T) {
			wantStatuses(t, r.run(t, c4.Putrootfh(), c4.Lookup("a"), c4.Lookup("file"), c4.Lookup("x")), c4.NFS4ERR_NOTDIR,
				ok(c4.OP_PUTROOTFH), ok(c4.OP_LOOKUP), ok(c4.OP_LOOKUP), fail(c4.OP_LOOKUP, c4.NFS4ERR_NOTDIR))
			wantStatuses(t, r.run(t, c4.Putrootfh(), c4.Lookup("a"), c4.Lookup("link"), c4.Lookup("x")), c4.NFS4ERR_SYMLINK,
				ok(c4.OP_PUTROOTFH), ok(c4.OP_LOOKUP), ok(c4.OP_LOOKUP), fail(c4.OP_LOOKUP, c4.NFS4ERR_SYMLINK))
		})
	}
}
