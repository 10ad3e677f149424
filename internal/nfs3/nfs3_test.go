package nfs3

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/local"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

func TestProgram(t *testing.T) {
	f := newFixture(t, 0)
	p := f.srv.Program()
	if p.Name != "nfs" || p.Prog != 100003 || p.Low != 3 || p.High != 3 || p.Handler == nil {
		t.Fatalf("program %+v", p)
	}
	cached := map[uint32]bool{ProcSETATTR: true, ProcWRITE: true, ProcCREATE: true, ProcMKDIR: true, ProcSYMLINK: true,
		ProcMKNOD: true, ProcREMOVE: true, ProcRMDIR: true, ProcRENAME: true, ProcLINK: true}
	for proc := uint32(0); proc < numProcs+2; proc++ {
		if got := p.NonIdempotent(3, proc); got != cached[proc] {
			t.Errorf("NonIdempotent(3, %d) = %v", proc, got)
		}
	}
	if p.NonIdempotent(2, ProcWRITE) {
		t.Error("version 2 WRITE reported non-idempotent")
	}
}

func TestNullAndUnknownProcedure(t *testing.T) {
	f := newFixture(t, 0)
	reply, err := f.raw(ProcNULL, nil, []byte("trailing junk is fine"))
	if err != nil || len(reply) != 0 {
		t.Fatalf("NULL: %q %v", reply, err)
	}
	for _, proc := range []uint32{22, 23, 1000, math.MaxUint32} {
		if _, err := f.raw(proc, root, nil); !errors.Is(err, oncrpc.ErrProcUnavail) {
			t.Errorf("procedure %d: %v, want ErrProcUnavail", proc, err)
		}
	}
}

func TestGarbageArgs(t *testing.T) {
	f := newFixture(t, 0)
	h := f.rw()
	fhArg := encode(&GETATTR3args{Object: h})
	tests := []struct {
		name string
		proc uint32
		args []byte
	}{
		{"empty GETATTR", ProcGETATTR, nil},
		{"short handle", ProcGETATTR, fhArg[:len(fhArg)-3]},
		{"absurd handle length", ProcGETATTR, []byte{0x7f, 0xff, 0xff, 0xff}},
		{"handle over decode limit", ProcGETATTR, append([]byte{0, 0, 0x10, 0}, make([]byte, 4096)...)},
		{"LOOKUP without name", ProcLOOKUP, fhArg},
		{"LOOKUP name with slash", ProcLOOKUP, encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "a/b"}})},
		{"LOOKUP name with NUL", ProcLOOKUP, encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "a\x00b"}})},
		{"LOOKUP name over 4096", ProcLOOKUP, encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: longName(4097)}})},
		{"SETATTR bad time_how", ProcSETATTR, append(append(append([]byte(nil), fhArg...), make([]byte, 16)...), 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"SETATTR bad bool", ProcSETATTR, append(append([]byte(nil), fhArg...), 0, 0, 0, 2)},
		{"WRITE count != length", ProcWRITE, encode(&WRITE3args{File: h, Count: 5, Data: []byte("abcd")})},
		{"WRITE bad stable_how", ProcWRITE, encode(&WRITE3args{File: h, Count: 4, Stable: 3, Data: []byte("abcd")})},
		{"WRITE data missing", ProcWRITE, encode(&WRITE3args{File: h, Count: 4, Data: []byte("abcd")})[:len(fhArg)+20]},
		{"CREATE bad mode", ProcCREATE, append(encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "x"}}), 0, 0, 0, 3)},
		{"CREATE exclusive without verf", ProcCREATE, append(encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "x"}}), 0, 0, 0, 2, 1, 2)},
		{"MKNOD bad type", ProcMKNOD, append(encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "x"}}), 0, 0, 0, 9)},
		{"MKNOD type 0", ProcMKNOD, append(encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "x"}}), 0, 0, 0, 0)},
		{"SYMLINK target over limit", ProcSYMLINK, encode(&SYMLINK3args{Where: Diropargs3{Dir: h, Name: "x"}, SymlinkData: make([]byte, 65<<10)})},
		{"RENAME half", ProcRENAME, encode(&LOOKUP3args{What: Diropargs3{Dir: h, Name: "x"}})},
		{"READDIR short", ProcREADDIR, append(append([]byte(nil), fhArg...), 0, 0, 0, 0, 0, 0, 0, 0, 1)},
		{"READDIRPLUS short", ProcREADDIRPLUS, encode(&READDIR3args{Dir: h, Count: 100})},
		{"COMMIT short", ProcCOMMIT, append(append([]byte(nil), fhArg...), 0, 0, 0, 0)},
	}
	for _, tc := range tests {
		if reply, err := f.raw(tc.proc, root, tc.args); !errors.Is(err, oncrpc.ErrGarbageArgs) {
			t.Errorf("%s: reply %x err %v, want ErrGarbageArgs", tc.name, reply, err)
		}
	}
	// Trailing bytes after valid arguments are ignored.
	if res := f.getattr(root, h); res.Status != NFS3OK {
		t.Fatal(res.Status)
	}
	if _, err := f.raw(ProcGETATTR, root, append(fhArg, 1, 2, 3)); err != nil {
		t.Fatalf("trailing junk: %v", err)
	}
}

func TestGetattr(t *testing.T) {
	f := newFixture(t, 0)
	f.writeFile("file", []byte("hello"), 0o640, 1000, 50)
	h := f.mustLookup(f.rw(), "file")
	res := f.getattr(alice, h)
	expect(t, "GETATTR", res.Status, NFS3OK)
	var st unix.Stat_t
	if err := unix.Stat(f.path("file"), &st); err != nil {
		t.Fatal(err)
	}
	a := res.ObjAttributes
	if a.Type != vfs.TypeRegular || a.Mode != 0o640 || a.Nlink != 1 || a.UID != 1000 || a.GID != 50 || a.Size != 5 ||
		a.Fileid != st.Ino || a.Fsid != expRW || a.Mtime.Seconds != uint32(st.Mtim.Sec) || a.Mtime.Nseconds != uint32(st.Mtim.Nsec) {
		t.Fatalf("attributes %+v", a)
	}
	// The same object through another export reports that export's fsid.
	res = f.getattr(alice, f.rehandle(h, expRO))
	if res.Status != NFS3OK || res.ObjAttributes.Fsid != expRO || res.ObjAttributes.Fileid != st.Ino {
		t.Fatalf("through the read-only export: %+v", res)
	}
	root := f.getattr(root, f.rw())
	if root.Status != NFS3OK || root.ObjAttributes.Type != vfs.TypeDir {
		t.Fatalf("root: %+v", root)
	}
}

func TestHandleErrors(t *testing.T) {
	f := newFixture(t, 0)
	h := f.mustCreate(root, f.rw(), "file", 0o644)
	flipped := append([]byte(nil), h...)
	flipped[len(flipped)/2] ^= 0x10
	long := append(append([]byte(nil), h...), make([]byte, 65-len(h))...)
	_, id, _ := f.codec.Decode(h)
	otherKey, _ := fh.NewKey()
	tests := []struct {
		name string
		h    []byte
		want Stat
	}{
		{"bit flip", flipped, NFS3ErrBadHandle},
		{"short", h[:len(h)-1], NFS3ErrBadHandle},
		{"empty", nil, NFS3ErrBadHandle},
		{"65 bytes", long, NFS3ErrBadHandle},
		{"another server's key", fh.NewCodec(otherKey).Encode(expRW, id), NFS3ErrBadHandle},
		{"unknown export id", f.codec.Encode(99, id), NFS3ErrStale},
		{"client not admitted", f.rehandle(h, expRestricted), NFS3ErrAcces},
	}
	for _, tc := range tests {
		expect(t, tc.name+": GETATTR", f.getattr(root, tc.h).Status, tc.want)
		res := f.lookup(root, tc.h, "x")
		expect(t, tc.name+": LOOKUP", res.Status, tc.want)
		if res.DirAttributes.Present {
			t.Errorf("%s: attributes of a bad handle", tc.name)
		}
		var w WRITE3res
		f.call(ProcWRITE, root, &WRITE3args{File: tc.h, Count: 1, Data: []byte("x")}, &w)
		expect(t, tc.name+": WRITE", w.Status, tc.want)
		if w.FileWcc.Before.Present || w.FileWcc.After.Present {
			t.Errorf("%s: wcc of a bad handle", tc.name)
		}
	}
	// Every procedure answers a bad handle with the same status.
	for _, tc := range tests {
		for proc, args := range handleArgs(tc.h) {
			reply, err := f.raw(proc, root, encode(args))
			if err != nil {
				t.Fatalf("%s %s: %v", tc.name, ProcNames[proc], err)
			}
			res := resultOf(proc)
			r := xdr.NewReader(reply)
			res.Decode(r)
			if r.Err() != nil || r.Len() != 0 || Stat(be.Uint32(reply)) != tc.want {
				t.Errorf("%s %s: status %v, want %v (decode %v)", tc.name, ProcNames[proc], Stat(be.Uint32(reply)), tc.want, r.Err())
			}
		}
	}
	// A removed object is stale.
	expect(t, "REMOVE", f.remove(root, f.rw(), "file").Status, NFS3OK)
	expect(t, "GETATTR removed", f.getattr(root, h).Status, NFS3ErrStale)
	expect(t, "READ removed", f.read(root, h, 0, 10).Status, NFS3ErrStale)
	dir := f.mustMkdir(root, f.rw(), "d", 0o755)
	if err := os.Remove(f.path("d")); err != nil {
		t.Fatal(err)
	}
	expect(t, "LOOKUP in removed dir", f.lookup(root, dir, "x").Status, NFS3ErrStale)
	expect(t, "CREATE in removed dir", f.create(root, dir, "x", Createhow3{}).Status, NFS3ErrStale)
	// The export table changes: an export that went away makes its handles stale.
	f.table, _ = export.NewTable(f.table.ByID(expRO))
	expect(t, "GETATTR after unexport", f.getattr(root, f.root(expRW)).Status, NFS3ErrStale)
	expect(t, "GETATTR on a kept export", f.getattr(root, f.root(expRO)).Status, NFS3OK)
}

func TestRestrictedClient(t *testing.T) {
	f := newFixture(t, 0)
	h := f.root(expRestricted)
	expect(t, "GETATTR from 127.0.0.1", f.getattr(root, h).Status, NFS3ErrAcces)
	f.remote = netip.MustParseAddrPort("10.1.2.3:900")
	expect(t, "GETATTR from 10.1.2.3", f.getattr(root, h).Status, NFS3OK)
	f.remote = netip.MustParseAddrPort("[::ffff:10.1.2.3]:900")
	expect(t, "GETATTR from v4-mapped", f.getattr(root, h).Status, NFS3OK)
}

func TestSetattr(t *testing.T) {
	f := newFixture(t, 0)
	h := f.mustCreate(alice, f.rw(), "file", 0o644)
	before := f.getattr(root, h).ObjAttributes
	if before.UID != 1000 || before.Mode != 0o644 {
		t.Fatalf("created %+v", before)
	}
	f.write(alice, h, 0, []byte("0123456789"), vfs.FileSync)

	res := f.setattr(alice, h, Sattr3{Valid: vfs.SetMode | vfs.SetSize | vfs.SetMtime | vfs.SetAtime,
		Mode: 0o600, Size: 4, Atime: vfs.Timespec{Sec: 1000, Nsec: 5}, Mtime: vfs.Timespec{Sec: 2000, Nsec: 7}}, nil)
	expect(t, "SETATTR", res.Status, NFS3OK)
	wcc := res.Wcc
	if !wcc.Before.Present || wcc.Before.Attr.Size != 10 || !wcc.After.Present {
		t.Fatalf("wcc %+v", wcc)
	}
	a := wcc.After.Attr
	if a.Mode != 0o600 || a.Size != 4 || a.Mtime != (Nfstime3{2000, 7}) || a.Atime != (Nfstime3{1000, 5}) {
		t.Fatalf("after %+v", a)
	}
	// SET_TO_SERVER_TIME.
	res = f.setattr(alice, h, Sattr3{Valid: vfs.SetMtimeNow}, nil)
	if res.Status != NFS3OK || res.Wcc.After.Attr.Mtime.Seconds < 1e9 {
		t.Fatalf("server time: %v %+v", res.Status, res.Wcc.After.Attr.Mtime)
	}

	// Guard: the current ctime passes, another fails with NOT_SYNC and changes nothing.
	ctime := res.Wcc.After.Attr.Ctime
	res = f.setattr(alice, h, Sattr3{Valid: vfs.SetMode, Mode: 0o640}, &ctime)
	expect(t, "guarded SETATTR", res.Status, NFS3OK)
	stale := ctime
	res = f.setattr(alice, h, Sattr3{Valid: vfs.SetMode, Mode: 0o600}, &stale)
	expect(t, "SETATTR with an old ctime", res.Status, NFS3ErrNotSync)
	if !res.Wcc.After.Present || res.Wcc.After.Attr.Mode != 0o640 {
		t.Fatalf("NOT_SYNC changed the mode or lost wcc: %+v", res.Wcc)
	}

	// Someone else's file: EPERM for chmod (not the owner), as chmod(2).
	expect(t, "chmod by bob", f.setattr(bob, h, Sattr3{Valid: vfs.SetMode, Mode: 0o777}, nil).Status, NFS3ErrPerm)
	// chown by non-root.
	expect(t, "chown by alice", f.setattr(alice, h, Sattr3{Valid: vfs.SetUID, UID: 1001}, nil).Status, NFS3ErrPerm)
	// Truncate without write permission: ACCES.
	expect(t, "truncate by bob", f.setattr(bob, h, Sattr3{Valid: vfs.SetSize}, nil).Status, NFS3ErrAcces)
	// root_squash: root is nobody there.
	expect(t, "chown by squashed root", f.setattr(root, f.rehandle(h, expSquash), Sattr3{Valid: vfs.SetUID, UID: 0}, nil).Status, NFS3ErrPerm)
	// Root may chown.
	res = f.setattr(root, h, Sattr3{Valid: vfs.SetUID | vfs.SetGID, UID: 1001, GID: 1001}, nil)
	if res.Status != NFS3OK || res.Wcc.After.Attr.UID != 1001 || res.Wcc.After.Attr.GID != 1001 {
		t.Fatalf("chown by root: %v %+v", res.Status, res.Wcc.After.Attr)
	}
	// Read-only export.
	res = f.setattr(root, f.rehandle(h, expRO), Sattr3{Valid: vfs.SetMode, Mode: 0o777}, nil)
	expect(t, "SETATTR on read-only export", res.Status, NFS3ErrROFS)
	if !res.Wcc.After.Present || res.Wcc.After.Attr.Mode == 0o777 {
		t.Fatalf("ROFS wcc %+v", res.Wcc)
	}
	// Nanoseconds out of range.
	expect(t, "bad nseconds", f.setattr(root, h, Sattr3{Valid: vfs.SetMtime, Mtime: vfs.Timespec{Sec: 1, Nsec: 2e9}}, nil).Status, NFS3ErrInval)
	// Truncating a directory.
	expect(t, "truncate dir", f.setattr(root, f.rw(), Sattr3{Valid: vfs.SetSize}, nil).Status, NFS3ErrIsDir)
	// EAGAIN without a guard is JUKEBOX; an odd error SERVERFAULT.
	fh6 := f.rehandle(h, expFault)
	f.fault.set("SetAttr", syscall.EAGAIN)
	expect(t, "EAGAIN unguarded", f.setattr(root, fh6, Sattr3{Valid: vfs.SetMode, Mode: 0o600}, nil).Status, NFS3ErrJukebox)
	f.fault.set("SetAttr", errOdd)
	res = f.setattr(root, fh6, Sattr3{Valid: vfs.SetMode, Mode: 0o600}, nil)
	expect(t, "odd error", res.Status, NFS3ErrServerFault)
	if !res.Wcc.Before.Present || !res.Wcc.After.Present {
		t.Fatalf("wcc on failure: %+v", res.Wcc)
	}
}

func TestLookup(t *testing.T) {
	f := newFixture(t, 0)
	sub := f.mustMkdir(root, f.rw(), "sub", 0o755)
	file := f.mustCreate(root, sub, "file", 0o644)
	res := f.lookup(alice, sub, "file")
	expect(t, "LOOKUP", res.Status, NFS3OK)
	if !bytes.Equal(res.Object, file) || !res.ObjAttributes.Present || res.ObjAttributes.Attr.Type != vfs.TypeRegular ||
		!res.DirAttributes.Present || res.DirAttributes.Attr.Type != vfs.TypeDir {
		t.Fatalf("LOOKUP result %+v", res)
	}
	if len(res.Object) > FHSize3 {
		t.Fatalf("handle of %d bytes", len(res.Object))
	}
	// "." and "..": ".." of the export root is the root.
	if res := f.lookup(alice, sub, "."); res.Status != NFS3OK || !bytes.Equal(res.Object, sub) {
		t.Fatalf(". -> %+v", res)
	}
	if res := f.lookup(alice, sub, ".."); res.Status != NFS3OK || !bytes.Equal(res.Object, f.rw()) {
		t.Fatalf(".. -> %+v", res)
	}
	if res := f.lookup(alice, f.rw(), ".."); res.Status != NFS3OK || !bytes.Equal(res.Object, f.rw()) {
		t.Fatalf(".. of root -> %+v", res)
	}
	tests := []struct {
		name string
		cred *oncrpc.AuthSysParams
		dir  []byte
		what string
		want Stat
	}{
		{"missing", alice, sub, "nothing", NFS3ErrNoEnt},
		{"in a file", alice, file, "x", NFS3ErrNotDir},
		{"256 bytes", alice, sub, longName(256), NFS3ErrNameTooLong},
		{"4096 bytes", alice, sub, longName(4096), NFS3ErrNameTooLong},
		{"empty", alice, sub, "", NFS3ErrAcces},
	}
	for _, tc := range tests {
		res := f.lookup(tc.cred, tc.dir, tc.what)
		expect(t, tc.name, res.Status, tc.want)
		if !res.DirAttributes.Present {
			t.Errorf("%s: no dir attributes", tc.name)
		}
	}
	// 255 bytes is fine (NOENT).
	expect(t, "255 bytes", f.lookup(alice, sub, longName(255)).Status, NFS3ErrNoEnt)
	// A directory the caller may not search.
	priv := f.mustMkdir(root, f.rw(), "private", 0o700)
	f.mustCreate(root, priv, "secret", 0o644)
	expect(t, "private as alice", f.lookup(alice, priv, "secret").Status, NFS3ErrAcces)
	expect(t, "private as root", f.lookup(root, priv, "secret").Status, NFS3OK)
	expect(t, "private as squashed root", f.lookup(root, f.rehandle(priv, expSquash), "secret").Status, NFS3ErrAcces)
	// AUTH_NONE runs as nobody.
	expect(t, "private with AUTH_NONE", f.lookup(nil, priv, "secret").Status, NFS3ErrAcces)
	// A backend ID too long for a handle is a server fault, not a panic.
	f.fault.set("LookupID", errOdd)
	expect(t, "long ID", f.lookup(root, f.rehandle(sub, expFault), "file").Status, NFS3ErrServerFault)
}

func TestAccess(t *testing.T) {
	f := newFixture(t, 0)
	file := f.mustCreate(root, f.rw(), "file", 0o644)
	dir := f.mustMkdir(root, f.rw(), "dir", 0o755)
	all := uint32(vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete | vfs.AccessExecute)
	access := func(cred *oncrpc.AuthSysParams, h []byte, want uint32) ACCESS3res {
		var res ACCESS3res
		f.call(ProcACCESS, cred, &ACCESS3args{Object: h, Access: want}, &res)
		return res
	}
	res := access(root, file, all|0xff00)
	if res.Status != NFS3OK || res.Access&^all != 0 || res.Access&(vfs.AccessRead|vfs.AccessModify|vfs.AccessExtend) != vfs.AccessRead|vfs.AccessModify|vfs.AccessExtend || !res.ObjAttributes.Present {
		t.Fatalf("root on file: %+v", res)
	}
	res = access(alice, file, all)
	if res.Status != NFS3OK || res.Access&(vfs.AccessModify|vfs.AccessExtend) != 0 || res.Access&vfs.AccessRead == 0 {
		t.Fatalf("alice on root's 0644 file: %#x", res.Access)
	}
	res = access(alice, dir, all)
	if res.Access&(vfs.AccessLookup|vfs.AccessRead) != vfs.AccessLookup|vfs.AccessRead || res.Access&(vfs.AccessModify|vfs.AccessDelete|vfs.AccessExtend) != 0 {
		t.Fatalf("alice on root's 0755 dir: %#x", res.Access)
	}
	// Only the bits asked for are answered.
	if res := access(root, file, vfs.AccessRead); res.Access != vfs.AccessRead {
		t.Fatalf("asked READ only, got %#x", res.Access)
	}
	// Read-only export: never MODIFY, EXTEND, DELETE.
	res = access(root, f.rehandle(dir, expRO), all)
	if res.Status != NFS3OK || res.Access&accessChange != 0 || res.Access&vfs.AccessLookup == 0 {
		t.Fatalf("read-only export: %#x", res.Access)
	}
	f.remove(root, f.rw(), "file")
	res = access(root, file, all)
	expect(t, "ACCESS removed", res.Status, NFS3ErrStale)
	if res.ObjAttributes.Present {
		t.Fatal("attributes of a stale file")
	}
}

func TestReadlinkAndSymlink(t *testing.T) {
	f := newFixture(t, 0)
	symlink := func(cred *oncrpc.AuthSysParams, dir []byte, name string, target []byte) SYMLINK3res {
		var res SYMLINK3res
		f.call(ProcSYMLINK, cred, &SYMLINK3args{Where: Diropargs3{Dir: dir, Name: name}, SymlinkData: target}, &res)
		return res
	}
	readlink := func(h []byte) READLINK3res {
		var res READLINK3res
		f.call(ProcREADLINK, alice, &READLINK3args{Symlink: h}, &res)
		return res
	}
	res := symlink(alice, f.rw(), "link", []byte("../../etc/passwd"))
	expect(t, "SYMLINK", res.Status, NFS3OK)
	if !res.Obj.Present || res.ObjAttributes.Attr.Type != vfs.TypeSymlink || res.ObjAttributes.Attr.UID != 1000 ||
		!res.DirWcc.Before.Present || !res.DirWcc.After.Present {
		t.Fatalf("SYMLINK result %+v", res)
	}
	rl := readlink(res.Obj.Handle)
	if rl.Status != NFS3OK || rl.Data != "../../etc/passwd" || !rl.SymlinkAttributes.Present {
		t.Fatalf("READLINK %+v", rl)
	}
	if target, _ := os.Readlink(f.path("link")); target != "../../etc/passwd" {
		t.Fatalf("on disk: %q", target)
	}
	// PATH_MAX counts the NUL: 4095 bytes are fine, 4096 are refused by
	// the kernel, longer by the server; all NAMETOOLONG. Empty is INVAL.
	long := bytes.Repeat([]byte("a/"), 2048)
	expect(t, "target of 4095", symlink(root, f.rw(), "l4095", long[:4095]).Status, NFS3OK)
	expect(t, "target of 4096", symlink(root, f.rw(), "l4096", long).Status, NFS3ErrNameTooLong)
	expect(t, "target of 4097", symlink(root, f.rw(), "l4097", append(long, 'x')).Status, NFS3ErrNameTooLong)
	expect(t, "target of 64 KiB", symlink(root, f.rw(), "l64k", make([]byte, 64<<10)).Status, NFS3ErrNameTooLong)
	expect(t, "empty target", symlink(root, f.rw(), "empty", nil).Status, NFS3ErrInval)
	expect(t, "existing name", symlink(root, f.rw(), "link", []byte("x")).Status, NFS3ErrExist)
	expect(t, "empty name", symlink(root, f.rw(), "", []byte("x")).Status, NFS3ErrNoEnt)
	expect(t, "dot", symlink(root, f.rw(), ".", []byte("x")).Status, NFS3ErrExist)
	expect(t, "read-only", symlink(root, f.root(expRO), "x", []byte("x")).Status, NFS3ErrROFS)
	// READLINK of a file is INVAL.
	file := f.mustCreate(root, f.rw(), "file", 0o644)
	expect(t, "READLINK file", readlink(file).Status, NFS3ErrInval)
	expect(t, "READLINK dir", readlink(f.rw()).Status, NFS3ErrInval)
	f.remove(root, f.rw(), "link")
	expect(t, "READLINK removed", readlink(res.Obj.Handle).Status, NFS3ErrStale)
}

func TestRead(t *testing.T) {
	f := newFixture(t, 8192)
	data := make([]byte, 20000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f.writeFile("file", data, 0o640, 1000, 1000)
	h := f.mustLookup(f.rw(), "file")
	res := f.read(alice, h, 100, 1000)
	if res.Status != NFS3OK || res.Count != 1000 || res.EOF || !bytes.Equal(res.Data, data[100:1100]) || !res.FileAttributes.Present || res.FileAttributes.Attr.Size != 20000 {
		t.Fatalf("READ: %v count %d eof %v attrs %+v", res.Status, res.Count, res.EOF, res.FileAttributes)
	}
	// Odd counts are padded.
	res = f.read(alice, h, 0, 3)
	if res.Count != 3 || !bytes.Equal(res.Data, data[:3]) {
		t.Fatalf("3 bytes: %+v", res)
	}
	// Count above MaxIO is limited to it.
	res = f.read(alice, h, 0, 1<<20)
	if res.Status != NFS3OK || res.Count != 8192 || res.EOF || !bytes.Equal(res.Data, data[:8192]) {
		t.Fatalf("clamped READ: count %d eof %v", res.Count, res.EOF)
	}
	// The tail: eof.
	res = f.read(alice, h, 16384, 8192)
	if res.Count != 20000-16384 || !res.EOF || !bytes.Equal(res.Data, data[16384:]) {
		t.Fatalf("tail: count %d eof %v", res.Count, res.EOF)
	}
	// Exactly to the end: eof.
	if res = f.read(alice, h, 20000-100, 100); res.Count != 100 || !res.EOF {
		t.Fatalf("to the end: count %d eof %v", res.Count, res.EOF)
	}
	// Beyond the end, and beyond OFFSET_MAX: nothing, eof.
	for _, off := range []uint64{20000, 1 << 40, math.MaxInt64, math.MaxUint64} {
		if res = f.read(alice, h, off, 10); res.Status != NFS3OK || res.Count != 0 || !res.EOF {
			t.Fatalf("at %d: %v count %d eof %v", off, res.Status, res.Count, res.EOF)
		}
	}
	// Zero count.
	if res = f.read(alice, h, 0, 0); res.Status != NFS3OK || res.Count != 0 || res.EOF {
		t.Fatalf("zero count: %+v", res)
	}
	// Errors, with the file's attributes.
	res = f.read(bob, h, 0, 10)
	expect(t, "READ by bob", res.Status, NFS3ErrAcces)
	if !res.FileAttributes.Present {
		t.Fatal("no attributes with ACCES")
	}
	expect(t, "READ dir", f.read(alice, f.rw(), 0, 10).Status, NFS3ErrIsDir)
	var sres SYMLINK3res
	f.call(ProcSYMLINK, root, &SYMLINK3args{Where: Diropargs3{Dir: f.rw(), Name: "sl"}, SymlinkData: []byte("file")}, &sres)
	expect(t, "READ symlink", f.read(root, sres.Obj.Handle, 0, 10).Status, NFS3ErrInval)
	// Read-only exports can be read.
	if res = f.read(alice, f.rehandle(h, expRO), 0, 5); res.Status != NFS3OK || !bytes.Equal(res.Data, data[:5]) {
		t.Fatalf("read-only export: %+v", res)
	}
	// Without attributes after the read (they vanished), the reply is still well formed.
	f.fault.set("GetAttr", syscall.EIO)
	reply, err := f.raw(ProcREAD, root, encode(&READ3args{File: f.rehandle(h, expFault), Offset: 1, Count: 7}))
	if err != nil {
		t.Fatal(err)
	}
	var rr READ3res
	r := xdr.NewReader(reply)
	rr.Decode(r)
	if r.Err() != nil || r.Len() != 0 || rr.Status != NFS3OK || rr.FileAttributes.Present || !bytes.Equal(rr.Data, data[1:8]) {
		t.Fatalf("READ without attributes: %+v, %v", rr, r.Err())
	}
}

func TestWriteAndCommit(t *testing.T) {
	f := newFixture(t, 4096)
	h := f.mustCreate(alice, f.rw(), "file", 0o644)
	verf := f.srv.WriteVerf()
	if string(verf[:]) != "VERF0001" {
		t.Fatalf("verifier %q", verf)
	}
	for _, how := range []vfs.Stability{vfs.Unstable, vfs.DataSync, vfs.FileSync} {
		res := f.write(alice, h, uint64(how)*10, []byte("0123456789"), how)
		if res.Status != NFS3OK || res.Count != 10 || res.Committed < how || res.Verf != verf {
			t.Fatalf("WRITE %d: %+v", how, res)
		}
		if !res.FileWcc.Before.Present || !res.FileWcc.After.Present || res.FileWcc.After.Attr.Size != uint64(how)*10+10 {
			t.Fatalf("WRITE %d wcc: %+v", how, res.FileWcc)
		}
	}
	got, _ := os.ReadFile(f.path("file"))
	if string(got) != "012345678901234567890123456789" {
		t.Fatalf("file %q", got)
	}
	var c COMMIT3res
	f.call(ProcCOMMIT, alice, &COMMIT3args{File: h}, &c)
	if c.Status != NFS3OK || c.Verf != verf || !c.FileWcc.Before.Present || !c.FileWcc.After.Present || c.FileWcc.After.Attr.Size != 30 {
		t.Fatalf("COMMIT %+v", c)
	}
	// Data beyond MaxIO (4096) is not written; the count says so.
	big := bytes.Repeat([]byte("x"), 5000)
	res := f.write(alice, h, 0, big, vfs.Unstable)
	if res.Status != NFS3OK || res.Count != 4096 {
		t.Fatalf("over MaxIO: %v count %d", res.Status, res.Count)
	}
	// Zero-length write succeeds.
	if res = f.write(alice, h, 0, nil, vfs.FileSync); res.Status != NFS3OK || res.Count != 0 {
		t.Fatalf("zero length: %+v", res)
	}
	// Errors.
	expect(t, "bob", f.write(bob, h, 0, []byte("x"), vfs.Unstable).Status, NFS3ErrAcces)
	expect(t, "dir", f.write(root, f.rw(), 0, []byte("x"), vfs.Unstable).Status, NFS3ErrIsDir)
	expect(t, "beyond OFFSET_MAX", f.write(root, h, math.MaxInt64-1, []byte("xx"), vfs.Unstable).Status, NFS3ErrFBig)
	expect(t, "offset over OFFSET_MAX", f.write(root, h, math.MaxUint64, []byte("x"), vfs.Unstable).Status, NFS3ErrFBig)
	res = f.write(root, f.rehandle(h, expRO), 0, []byte("x"), vfs.Unstable)
	expect(t, "read-only", res.Status, NFS3ErrROFS)
	if res.FileWcc.Before.Present || !res.FileWcc.After.Present {
		t.Fatalf("ROFS wcc %+v", res.FileWcc)
	}
	f.call(ProcCOMMIT, root, &COMMIT3args{File: f.rehandle(h, expRO)}, &c)
	expect(t, "COMMIT read-only", c.Status, NFS3ErrROFS)
	f.call(ProcCOMMIT, root, &COMMIT3args{File: h, Offset: math.MaxInt64 + 1}, &c)
	expect(t, "COMMIT beyond OFFSET_MAX", c.Status, NFS3ErrInval)
	f.call(ProcCOMMIT, bob, &COMMIT3args{File: h}, &c)
	expect(t, "COMMIT by bob", c.Status, NFS3ErrAcces)
	f.call(ProcCOMMIT, root, &COMMIT3args{File: f.rw()}, &c)
	expect(t, "COMMIT dir", c.Status, NFS3ErrIsDir)

	// Quota, and a storage failure: the verifier changes after the latter
	// (and after a lost commit), not after permission errors.
	if f.srv.WriteVerf() != verf {
		t.Fatal("verifier changed after errors that lose nothing")
	}
	hf := f.rehandle(h, expFault)
	f.fault.set("Write", syscall.EDQUOT)
	res = f.write(alice, hf, 0, []byte("x"), vfs.Unstable)
	expect(t, "quota", res.Status, NFS3ErrDQuot)
	if !res.FileWcc.After.Present {
		t.Fatal("no wcc with DQUOT")
	}
	verf2 := f.srv.WriteVerf()
	if verf2 == verf {
		t.Fatal("verifier kept after a failed write")
	}
	f.fault.set("Write", nil)
	f.fault.set("Commit", syscall.EIO)
	f.call(ProcCOMMIT, alice, &COMMIT3args{File: hf}, &c)
	expect(t, "COMMIT EIO", c.Status, NFS3ErrIO)
	if v := f.srv.WriteVerf(); v == verf2 || v == verf {
		t.Fatal("verifier kept after a failed commit")
	}
	f.fault.set("Commit", nil)
	if res = f.write(alice, hf, 0, []byte("y"), vfs.Unstable); res.Verf != f.srv.WriteVerf() {
		t.Fatal("WRITE does not return the current verifier")
	}
	f.call(ProcCOMMIT, alice, &COMMIT3args{File: hf}, &c)
	if c.Status != NFS3OK || c.Verf != f.srv.WriteVerf() {
		t.Fatalf("COMMIT %+v", c)
	}
}

// TestNoSpace writes into a small tmpfs until it is full.
func TestNoSpace(t *testing.T) {
	f := newFixture(t, 0)
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k,mode=0777"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	fs, err := local.New(mnt, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	tbl, err := export.NewTable(&export.Export{ID: 7, Path: "/small", FS: fs, Squash: export.NoRootSquash})
	if err != nil {
		t.Fatal(err)
	}
	f.table = tbl
	rootID, _ := fs.Root(t.Context())
	dir := f.codec.Encode(7, rootID)
	h := f.mustCreate(root, dir, "big", 0o644)
	verf := f.srv.WriteVerf()
	chunk := make([]byte, 64<<10)
	var off uint64
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("a 256 KiB tmpfs never filled up")
		}
		res := f.write(root, h, off, chunk, vfs.FileSync)
		if res.Status == NFS3ErrNoSpc {
			if !res.FileWcc.After.Present {
				t.Fatal("no attributes with NOSPC")
			}
			break
		}
		expect(t, "WRITE", res.Status, NFS3OK)
		off += uint64(res.Count)
	}
	if f.srv.WriteVerf() == verf {
		t.Fatal("verifier kept after NOSPC")
	}
	var fs3 FSSTAT3res
	f.call(ProcFSSTAT, root, &FSSTAT3args{Object: dir}, &fs3)
	if fs3.Status != NFS3OK || fs3.Tbytes != 256<<10 || fs3.Abytes != 0 {
		t.Fatalf("FSSTAT of a full tmpfs: %+v", fs3)
	}
}

func TestCreate(t *testing.T) {
	f := newFixture(t, 0)
	res := f.create(alice, f.rw(), "f", Createhow3{Mode: vfs.Guarded, ObjAttributes: Sattr3{Valid: vfs.SetMode, Mode: 0o600}})
	expect(t, "GUARDED", res.Status, NFS3OK)
	if !res.Obj.Present || !res.ObjAttributes.Present || res.ObjAttributes.Attr.Mode != 0o600 || res.ObjAttributes.Attr.UID != 1000 {
		t.Fatalf("CREATE %+v", res)
	}
	w := res.DirWcc
	if !w.Before.Present || !w.After.Present || w.After.Attr.Type != vfs.TypeDir {
		t.Fatalf("dir wcc %+v", w)
	}
	if gres := f.getattr(root, res.Obj.Handle); gres.Status != NFS3OK || gres.ObjAttributes.Fileid != res.ObjAttributes.Attr.Fileid {
		t.Fatalf("handle of the new file: %+v", gres)
	}
	h := res.Obj.Handle
	f.write(alice, h, 0, []byte("data"), vfs.FileSync)
	expect(t, "GUARDED existing", f.create(alice, f.rw(), "f", Createhow3{Mode: vfs.Guarded}).Status, NFS3ErrExist)
	// UNCHECKED on an existing file opens it, truncating if asked.
	res = f.create(alice, f.rw(), "f", Createhow3{Mode: vfs.Unchecked, ObjAttributes: Sattr3{Valid: vfs.SetSize, Size: 0}})
	if res.Status != NFS3OK || !bytes.Equal(res.Obj.Handle, h) || res.ObjAttributes.Attr.Size != 0 {
		t.Fatalf("UNCHECKED existing: %+v", res)
	}
	// EXCLUSIVE: a retransmission with the same verifier gets the file, another verifier EXIST.
	v1 := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	res = f.create(alice, f.rw(), "x", Createhow3{Mode: vfs.Exclusive, Verf: v1})
	expect(t, "EXCLUSIVE", res.Status, NFS3OK)
	again := f.create(alice, f.rw(), "x", Createhow3{Mode: vfs.Exclusive, Verf: v1})
	if again.Status != NFS3OK || !bytes.Equal(again.Obj.Handle, res.Obj.Handle) {
		t.Fatalf("EXCLUSIVE retransmitted: %+v", again)
	}
	expect(t, "EXCLUSIVE other verifier", f.create(alice, f.rw(), "x", Createhow3{Mode: vfs.Exclusive, Verf: [8]byte{9}}).Status, NFS3ErrExist)
	// After the client's SETATTR following the exclusive create, the verifier no longer matches.
	f.setattr(alice, res.Obj.Handle, Sattr3{Valid: vfs.SetMode | vfs.SetMtimeNow | vfs.SetAtimeNow, Mode: 0o644}, nil)
	expect(t, "EXCLUSIVE after SETATTR", f.create(alice, f.rw(), "x", Createhow3{Mode: vfs.Exclusive, Verf: v1}).Status, NFS3ErrExist)
	expect(t, "EXCLUSIVE new name", f.create(alice, f.rw(), "d", Createhow3{Mode: vfs.Exclusive, Verf: v1}).Status, NFS3OK)

	f.mustMkdir(root, f.rw(), "dir", 0o755)
	file := f.mustCreate(root, f.rw(), "plain", 0o644)
	priv := f.mustMkdir(root, f.rw(), "priv", 0o755)
	tests := []struct {
		name string
		cred *oncrpc.AuthSysParams
		dir  []byte
		what string
		how  Createhow3
		want Stat
	}{
		{"UNCHECKED over a dir", root, f.rw(), "dir", Createhow3{Mode: vfs.Unchecked}, NFS3ErrExist},
		{"in a file", root, file, "x", Createhow3{}, NFS3ErrNotDir},
		{"256 bytes", root, f.rw(), longName(256), Createhow3{}, NFS3ErrNameTooLong},
		{"empty", root, f.rw(), "", Createhow3{}, NFS3ErrPerm},
		{"dot", root, f.rw(), ".", Createhow3{}, NFS3ErrExist},
		{"dotdot", root, f.rw(), "..", Createhow3{Mode: vfs.Guarded}, NFS3ErrExist},
		{"no write permission", alice, priv, "x", Createhow3{}, NFS3ErrAcces},
		{"squashed root", root, f.rehandle(priv, expSquash), "x", Createhow3{}, NFS3ErrAcces},
		{"read-only", root, f.root(expRO), "x", Createhow3{}, NFS3ErrROFS},
	}
	for _, tc := range tests {
		res := f.create(tc.cred, tc.dir, tc.what, tc.how)
		expect(t, tc.name, res.Status, tc.want)
		if !res.DirWcc.After.Present {
			t.Errorf("%s: no dir attributes", tc.name)
		}
	}
	f.fault.set("Create", syscall.EDQUOT)
	expect(t, "quota", f.create(alice, f.root(expFault), "q", Createhow3{}).Status, NFS3ErrDQuot)
	f.fault.set("Create", syscall.ENOSPC)
	expect(t, "no space", f.create(alice, f.root(expFault), "q", Createhow3{}).Status, NFS3ErrNoSpc)
}

func TestMkdirAndRmdir(t *testing.T) {
	f := newFixture(t, 0)
	res := f.mkdir(alice, f.rw(), "d", 0o750)
	if res.Status != NFS3OK || res.ObjAttributes.Attr.Type != vfs.TypeDir || res.ObjAttributes.Attr.Mode != 0o750 || res.ObjAttributes.Attr.UID != 1000 {
		t.Fatalf("MKDIR %+v", res)
	}
	if !res.DirWcc.Before.Present || res.DirWcc.After.Attr.Nlink != 3 {
		t.Fatalf("parent wcc %+v", res.DirWcc)
	}
	expect(t, "existing", f.mkdir(alice, f.rw(), "d", 0o755).Status, NFS3ErrExist)
	expect(t, "256", f.mkdir(alice, f.rw(), longName(256), 0o755).Status, NFS3ErrNameTooLong)
	expect(t, "empty", f.mkdir(alice, f.rw(), "", 0o755).Status, NFS3ErrPerm)
	expect(t, "read-only", f.mkdir(root, f.root(expRO), "x", 0o755).Status, NFS3ErrROFS)
	f.mustCreate(alice, res.Obj.Handle, "inner", 0o644)
	rmdir := func(cred *oncrpc.AuthSysParams, dir []byte, name string) RMDIR3res {
		var r RMDIR3res
		f.call(ProcRMDIR, cred, &RMDIR3args{Object: Diropargs3{Dir: dir, Name: name}}, &r)
		return r
	}
	rr := rmdir(alice, f.rw(), "d")
	expect(t, "RMDIR non-empty", rr.Status, NFS3ErrNotEmpty)
	if !rr.Wcc.Before.Present || !rr.Wcc.After.Present {
		t.Fatalf("wcc %+v", rr.Wcc)
	}
	expect(t, "RMDIR file", rmdir(alice, res.Obj.Handle, "inner").Status, NFS3ErrNotDir)
	expect(t, "RMDIR missing", rmdir(alice, f.rw(), "nothing").Status, NFS3ErrNoEnt)
	expect(t, "RMDIR dot", rmdir(alice, f.rw(), ".").Status, NFS3ErrAcces)
	expect(t, "RMDIR empty name", rmdir(alice, f.rw(), "").Status, NFS3ErrAcces)
	expect(t, "RMDIR read-only", rmdir(root, f.root(expRO), "d").Status, NFS3ErrROFS)
	expect(t, "RMDIR by bob", rmdir(bob, res.Obj.Handle, "x").Status, NFS3ErrAcces)
	expect(t, "REMOVE inner", f.remove(alice, res.Obj.Handle, "inner").Status, NFS3OK)
	rr = rmdir(alice, f.rw(), "d")
	expect(t, "RMDIR", rr.Status, NFS3OK)
	if rr.Wcc.After.Attr.Nlink != 2 {
		t.Fatalf("parent link count %d after RMDIR", rr.Wcc.After.Attr.Nlink)
	}
	expect(t, "GETATTR removed dir", f.getattr(root, res.Obj.Handle).Status, NFS3ErrStale)
}

// handleArgs returns arguments of every procedure that takes a handle,
// with h as the (first) handle.
func handleArgs(h []byte) map[uint32]encoder {
	d := Diropargs3{Dir: h, Name: "x"}
	return map[uint32]encoder{
		ProcGETATTR:     &GETATTR3args{Object: h},
		ProcSETATTR:     &SETATTR3args{Object: h},
		ProcLOOKUP:      &LOOKUP3args{What: d},
		ProcACCESS:      &ACCESS3args{Object: h, Access: 1},
		ProcREADLINK:    &READLINK3args{Symlink: h},
		ProcREAD:        &READ3args{File: h, Count: 1},
		ProcWRITE:       &WRITE3args{File: h, Count: 1, Data: []byte("x")},
		ProcCREATE:      &CREATE3args{Where: d},
		ProcMKDIR:       &MKDIR3args{Where: d},
		ProcSYMLINK:     &SYMLINK3args{Where: d, SymlinkData: []byte("t")},
		ProcMKNOD:       &MKNOD3args{Where: d, What: Mknoddata3{Type: vfs.TypeFIFO}},
		ProcREMOVE:      &REMOVE3args{Object: d},
		ProcRMDIR:       &RMDIR3args{Object: d},
		ProcRENAME:      &RENAME3args{From: d, To: d},
		ProcLINK:        &LINK3args{File: h, Link: d},
		ProcREADDIR:     &READDIR3args{Dir: h, Count: 4096},
		ProcREADDIRPLUS: &READDIRPLUS3args{Dir: h, Dircount: 4096, Maxcount: 4096},
		ProcFSSTAT:      &FSSTAT3args{Object: h},
		ProcFSINFO:      &FSINFO3args{Object: h},
		ProcPATHCONF:    &PATHCONF3args{Object: h},
		ProcCOMMIT:      &COMMIT3args{File: h},
	}
}

// TestReadOnlyExport checks that every modifying procedure is refused with
// ROFS on a read-only export, with the attributes of the object, and
// nothing is changed; the others work.
func TestReadOnlyExport(t *testing.T) {
	f := newFixture(t, 0)
	f.mustCreate(root, f.rw(), "x", 0o644)
	ro := f.root(expRO)
	before, _ := os.ReadDir(f.dir)
	for proc, args := range handleArgs(ro) {
		reply, err := f.raw(proc, root, encode(args))
		if err != nil {
			t.Fatalf("%s: %v", ProcNames[proc], err)
		}
		res := resultOf(proc)
		r := xdr.NewReader(reply)
		res.Decode(r)
		st := Stat(be.Uint32(reply))
		if r.Err() != nil || r.Len() != 0 {
			t.Fatalf("%s: %v", ProcNames[proc], r.Err())
		}
		modifying := NonIdempotent(3, proc) || proc == ProcCOMMIT
		switch {
		case modifying && st != NFS3ErrROFS:
			t.Errorf("%s: %v, want ROFS", ProcNames[proc], st)
		case !modifying && st == NFS3ErrROFS:
			t.Errorf("%s: ROFS", ProcNames[proc])
		}
		if modifying && len(reply) < 4+4+4+fattr3Size {
			t.Errorf("%s: no attributes with ROFS (%d bytes)", ProcNames[proc], len(reply))
		}
	}
	after, _ := os.ReadDir(f.dir)
	if len(after) != len(before) {
		t.Fatalf("the read-only export changed: %v -> %v", before, after)
	}
}
