package nfs4_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// TestDirOps: CREATE (directory, symbolic link), READLINK, REMOVE, RENAME,
// LINK, SETATTR, ACCESS, VERIFY and NVERIFY, SECINFO_NO_NAME, with their
// main errors (RFC 8881 section 18), in every minor version.
func TestDirOps(t *testing.T) {
	b := newBackend(t)
	ts := newServer(t, b, serverOpts{})
	for _, r := range runners(t, ts) {
		t.Run(r.name, func(t *testing.T) {
			root := rootFH(t, r.c, r.minor, r.s)
			a := rootFH(t, r.c, r.minor, r.s, "a")
			c := rootFH(t, r.c, r.minor, r.s, "b", "c")
			d := "d" + r.name

			// CREATE a directory and a symbolic link; READLINK.
			res := mustOK(t, r.run(t, c4.Putfh(a), c4.Mkdir(d, c4.NewFattr(c4.Mode(0o711))), c4.Getfh(),
				c4.Getattr(c4.FATTR4_TYPE, c4.FATTR4_MODE),
				c4.Symlink("link", "../target", c4.NewFattr()), c4.Readlink(), c4.Getattr(c4.FATTR4_TYPE)))
			cr, err := res.Ops[1].Create()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cr.Attrset.Attrs(), []uint32{c4.FATTR4_MODE}) {
				t.Errorf("CREATE attrset %v, want [mode]", cr.Attrset.Attrs())
			}
			if cr.Cinfo.Before == cr.Cinfo.After {
				t.Errorf("CREATE change_info %+v: the directory did not change", cr.Cinfo)
			}
			dFH := fhOf(t, res.Ops[2])
			if v := attrsOf(t, res.Ops[3]); v.Type != c4.NF4DIR || v.Mode&0o7777 != 0o711 {
				t.Errorf("new directory: type %d mode %o", v.Type, v.Mode)
			}
			if l, err := res.Ops[5].Readlink(); err != nil || l != "../target" {
				t.Errorf("READLINK: %q %v", l, err)
			}
			if v := attrsOf(t, res.Ops[6]); v.Type != c4.NF4LNK {
				t.Errorf("symbolic link type %d", v.Type)
			}
			if got, err := os.Readlink(filepath.Join(b.dirA, d, "link")); err != nil || got != "../target" {
				t.Errorf("link on disk: %q %v", got, err)
			}

			for _, tc := range []struct {
				name string
				ops  []c4.Op
				want c4.Status
			}{
				{"CREATE existing", []c4.Op{c4.Putfh(a), c4.Mkdir(d, c4.NewFattr())}, c4.NFS4ERR_EXIST},
				{"CREATE in the pseudo fs", []c4.Op{c4.Putfh(root), c4.Mkdir("x", c4.NewFattr())}, c4.NFS4ERR_ROFS},
				{"CREATE regular", []c4.Op{c4.Putfh(a), c4.Create(c4.NF4REG, "reg", c4.NewFattr(), "", c4.Specdata{})}, c4.NFS4ERR_BADTYPE},
				{"CREATE empty link", []c4.Op{c4.Putfh(a), c4.Symlink("l2", "", c4.NewFattr())}, c4.NFS4ERR_INVAL},
				{"CREATE bad name", []c4.Op{c4.Putfh(a), c4.Mkdir("..", c4.NewFattr())}, c4.NFS4ERR_BADNAME},
				{"READLINK of a directory", []c4.Op{c4.Putfh(dFH), c4.Readlink()}, c4.NFS4ERR_INVAL},
				{"REMOVE missing", []c4.Op{c4.Putfh(a), c4.Remove("missing")}, c4.NFS4ERR_NOENT},
				{"REMOVE non-empty", []c4.Op{c4.Putfh(a), c4.Remove(d)}, c4.NFS4ERR_NOTEMPTY},
				{"REMOVE in the pseudo fs", []c4.Op{c4.Putfh(root), c4.Remove("a")}, c4.NFS4ERR_ROFS},
				{"RENAME across exports", []c4.Op{c4.Putfh(a), c4.Savefh(), c4.Putfh(c), c4.Rename(d, "x")}, c4.NFS4ERR_XDEV},
				{"LINK of a directory", []c4.Op{c4.Putfh(dFH), c4.Savefh(), c4.Putfh(a), c4.Link("dirlink")}, c4.NFS4ERR_ISDIR},
				{"SETATTR size of a directory", []c4.Op{c4.Putfh(dFH), c4.Setattr(c4.AnonymousStateid, c4.NewFattr(c4.Size(0)))}, c4.NFS4ERR_ISDIR},
				{"SETATTR in the pseudo fs", []c4.Op{c4.Putfh(root), c4.Setattr(c4.AnonymousStateid, c4.NewFattr(c4.Mode(0o777)))}, c4.NFS4ERR_ROFS},
				{"VERIFY other type", []c4.Op{c4.Putfh(dFH), c4.Verify(c4.NewFattr(c4.Type(c4.NF4REG)))}, c4.NFS4ERR_NOT_SAME},
				{"NVERIFY same type", []c4.Op{c4.Putfh(dFH), c4.Nverify(c4.NewFattr(c4.Type(c4.NF4DIR)))}, c4.NFS4ERR_SAME},
			} {
				res := r.run(t, tc.ops...)
				l := res.Last()
				if res.Status != tc.want || len(res.Ops) != len(tc.ops) || l.Op != tc.ops[len(tc.ops)-1].Num || l.Status != tc.want {
					t.Errorf("%s: %v %s, want %v on the last operation", tc.name, res.Status, describe(res), tc.want)
				}
				if l.Op == c4.OP_SETATTR {
					if set, _ := l.Setattr(); len(set.Attrs()) != 0 {
						t.Errorf("%s: failed SETATTR's attrsset %v", tc.name, set.Attrs())
					}
				}
			}

			// VERIFY and NVERIFY that pass; SETATTR of the mode.
			res = mustOK(t, r.run(t, c4.Putfh(dFH), c4.Verify(c4.NewFattr(c4.Type(c4.NF4DIR))),
				c4.Nverify(c4.NewFattr(c4.Type(c4.NF4REG))),
				c4.Setattr(c4.AnonymousStateid, c4.NewFattr(c4.Mode(0o750))), c4.Getattr(c4.FATTR4_MODE)))
			if set, err := res.Ops[3].Setattr(); err != nil || !slices.Equal(set.Attrs(), []uint32{c4.FATTR4_MODE}) {
				t.Errorf("SETATTR attrsset %v %v", set.Attrs(), err)
			}
			if v := attrsOf(t, res.Ops[4]); v.Mode&0o7777 != 0o750 {
				t.Errorf("mode after SETATTR %o", v.Mode)
			}

			// RENAME within the export (saved: source directory), LINK,
			// REMOVE.
			res = mustOK(t, r.run(t, c4.Putfh(a), c4.Savefh(), c4.Putfh(a), c4.Rename(d, d+"-renamed"),
				c4.Lookup(d+"-renamed"), c4.Lookup("link"), c4.Savefh(), c4.Putfh(a), c4.Link("hardlink-"+r.name),
				c4.Lookup("hardlink-"+r.name), c4.Readlink()))
			if l, err := res.Last().Readlink(); err != nil || l != "../target" {
				t.Errorf("READLINK through the hard link: %q %v", l, err)
			}
			wantStatuses(t, r.run(t, c4.Putfh(a), c4.Lookup(d)), c4.NFS4ERR_NOENT, ok(c4.OP_PUTFH), fail(c4.OP_LOOKUP, c4.NFS4ERR_NOENT))
			res = mustOK(t, r.run(t, c4.Putfh(a), c4.Remove("hardlink-"+r.name), c4.Lookup(d+"-renamed"), c4.Remove("link"),
				c4.Lookupp(), c4.Remove(d+"-renamed")))
			if ci, err := res.Ops[1].ChangeInfo(); err != nil || ci.Before == ci.After {
				t.Errorf("REMOVE change_info %+v %v", ci, err)
			}
			if _, err := os.Lstat(filepath.Join(b.dirA, d+"-renamed")); !os.IsNotExist(err) {
				t.Errorf("removed directory: %v", err)
			}

			// ACCESS in the pseudo fs: read and lookup, no modify.
			res = mustOK(t, r.run(t, c4.Putfh(root), c4.Access(c4.ACCESS4_READ|c4.ACCESS4_LOOKUP|c4.ACCESS4_MODIFY)))
			if sup, acc, err := res.Last().Access(); err != nil || acc != c4.ACCESS4_READ|c4.ACCESS4_LOOKUP ||
				sup&(c4.ACCESS4_READ|c4.ACCESS4_LOOKUP) != c4.ACCESS4_READ|c4.ACCESS4_LOOKUP {
				t.Errorf("ACCESS of the pseudo root: supported %#x access %#x %v", sup, acc, err)
			}
			res = mustOK(t, r.run(t, c4.Putfh(a), c4.Access(c4.ACCESS4_READ|c4.ACCESS4_MODIFY|c4.ACCESS4_EXTEND)))
			if _, acc, err := res.Last().Access(); err != nil || acc != c4.ACCESS4_READ|c4.ACCESS4_MODIFY|c4.ACCESS4_EXTEND {
				t.Errorf("ACCESS of the export root as root: %#x %v", acc, err)
			}
		})
	}
}

// TestSecinfoNoName: SECINFO_NO_NAME lists AUTH_SYS and AUTH_NONE and
// consumes the current filehandle (RFC 8881 sections 18.45.3 and
// 2.6.3.1.1.8): a GETFH after it is NFS4ERR_NOFILEHANDLE.
func TestSecinfoNoName(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s := ts.session(t, "secinfo")
	res := do(t, s, c4.Putrootfh(), c4.SecinfoNoName(c4.SECINFO_STYLE4_CURRENT_FH), c4.Getfh())
	wantStatuses(t, res, c4.NFS4ERR_NOFILEHANDLE, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTROOTFH), ok(c4.OP_SECINFO_NO_NAME),
		fail(c4.OP_GETFH, c4.NFS4ERR_NOFILEHANDLE))
	sec, err := res.Ops[2].Secinfo()
	if err != nil {
		t.Fatal(err)
	}
	var flavors []uint32
	for _, e := range sec {
		flavors = append(flavors, e.Flavor)
	}
	if !slices.Equal(flavors, []uint32{c4.AUTH_SYS, c4.AUTH_NONE}) {
		t.Errorf("flavors %v, want [AUTH_SYS AUTH_NONE]", flavors)
	}
	res = do(t, s, c4.SecinfoNoName(c4.SECINFO_STYLE4_CURRENT_FH))
	wantStatuses(t, res, c4.NFS4ERR_NOFILEHANDLE, ok(c4.OP_SEQUENCE), fail(c4.OP_SECINFO_NO_NAME, c4.NFS4ERR_NOFILEHANDLE))
}

// TestStateidOps: TEST_STATEID and FREE_STATEID (RFC 8881 sections 18.48
// and 18.38): a lock stateid holding locks cannot be freed
// (NFS4ERR_LOCKS_HELD); after LOCKU it can, and is then unknown.
func TestStateidOps(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s := ts.session(t, "stateids")
	other := ts.session(t, "stateids-other")
	dir := rootFH(t, nil, 0, s, "a")
	fh, open := openFile(t, s, dir, "oo", "f", c4.OPEN4_SHARE_ACCESS_BOTH, 0)
	res := mustOK(t, do(t, s, c4.Putfh(fh), c4.LockNew(c4.WRITE_LT, false, 0, 1, 0, open, 0, c4.StateOwner{Clientid: s.Clientid, Owner: []byte("lo")})))
	lock := stateidOf(t, res.Ops[2])
	bogus := c4.Stateid{Seqid: 1, Other: [12]byte{1, 2, 3}}

	res = mustOK(t, do(t, s, c4.TestStateid(open, lock, bogus)))
	if st, err := res.Ops[1].TestStateid(); err != nil || !slices.Equal(st, []c4.Status{c4.NFS4_OK, c4.NFS4_OK, c4.NFS4ERR_BAD_STATEID}) {
		t.Errorf("TEST_STATEID: %v %v", st, err)
	}
	// Another client's stateids are not its to test.
	res = mustOK(t, do(t, other, c4.TestStateid(open)))
	if st, err := res.Ops[1].TestStateid(); err != nil || len(st) != 1 || st[0] == c4.NFS4_OK {
		t.Errorf("TEST_STATEID of another client's stateid: %v %v", st, err)
	}

	res = do(t, s, c4.FreeStateid(lock))
	wantStatuses(t, res, c4.NFS4ERR_LOCKS_HELD, ok(c4.OP_SEQUENCE), fail(c4.OP_FREE_STATEID, c4.NFS4ERR_LOCKS_HELD))
	res = mustOK(t, do(t, s, c4.Putfh(fh), c4.Locku(c4.WRITE_LT, 0, lock, 0, 1)))
	mustOK(t, do(t, s, c4.FreeStateid(stateidOf(t, res.Ops[2]))))
	res = mustOK(t, do(t, s, c4.TestStateid(lock)))
	if st, err := res.Ops[1].TestStateid(); err != nil || !slices.Equal(st, []c4.Status{c4.NFS4ERR_BAD_STATEID}) {
		t.Errorf("TEST_STATEID of a freed stateid: %v %v", st, err)
	}
}
