package nfs3

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

func TestMknod(t *testing.T) {
	f := newFixture(t, 0)
	mknod := func(cred *oncrpc.AuthSysParams, name string, what Mknoddata3) MKNOD3res {
		var res MKNOD3res
		f.call(ProcMKNOD, cred, &MKNOD3args{Where: Diropargs3{Dir: f.rw(), Name: name}, What: what}, &res)
		return res
	}
	res := mknod(alice, "fifo", Mknoddata3{Type: vfs.TypeFIFO, Attributes: Sattr3{Valid: vfs.SetMode, Mode: 0o620}})
	if res.Status != NFS3OK || res.ObjAttributes.Attr.Type != vfs.TypeFIFO || res.ObjAttributes.Attr.Mode != 0o620 || !res.DirWcc.Before.Present {
		t.Fatalf("FIFO: %+v", res)
	}
	res = mknod(alice, "sock", Mknoddata3{Type: vfs.TypeSocket})
	if res.Status != NFS3OK || res.ObjAttributes.Attr.Type != vfs.TypeSocket {
		t.Fatalf("socket: %+v", res)
	}
	res = mknod(root, "chr", Mknoddata3{Type: vfs.TypeChar, Spec: Specdata3{1, 3}})
	if res.Status != NFS3OK || res.ObjAttributes.Attr.Type != vfs.TypeChar || res.ObjAttributes.Attr.Rdev != (Specdata3{1, 3}) {
		t.Fatalf("char device: %+v", res)
	}
	var st unix.Stat_t
	if err := unix.Lstat(f.path("chr"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		t.Fatalf("on disk: %v %o %d", err, st.Mode, st.Rdev)
	}
	res = mknod(root, "blk", Mknoddata3{Type: vfs.TypeBlock, Spec: Specdata3{4095, 1<<20 - 1}})
	expect(t, "largest device numbers", res.Status, NFS3OK)
	// A device cannot be read through NFS (it is not a regular file).
	expect(t, "READ char device", f.read(root, res.Obj.Handle, 0, 10).Status, NFS3ErrInval)
	for _, typ := range []vfs.FileType{vfs.TypeRegular, vfs.TypeDir, vfs.TypeSymlink} {
		expect(t, fmt.Sprintf("type %d", typ), mknod(root, "bad", Mknoddata3{Type: typ}).Status, NFS3ErrBadType)
	}
	expect(t, "major too big", mknod(root, "bad", Mknoddata3{Type: vfs.TypeChar, Spec: Specdata3{4096, 0}}).Status, NFS3ErrInval)
	expect(t, "minor too big", mknod(root, "bad", Mknoddata3{Type: vfs.TypeBlock, Spec: Specdata3{1, 1 << 20}}).Status, NFS3ErrInval)
	expect(t, "device by non-root", mknod(alice, "bad", Mknoddata3{Type: vfs.TypeChar, Spec: Specdata3{1, 3}}).Status, NFS3ErrPerm)
	expect(t, "existing", mknod(alice, "fifo", Mknoddata3{Type: vfs.TypeFIFO}).Status, NFS3ErrExist)
	expect(t, "empty name", mknod(alice, "", Mknoddata3{Type: vfs.TypeFIFO}).Status, NFS3ErrPerm)
	expect(t, "long name", mknod(alice, longName(300), Mknoddata3{Type: vfs.TypeFIFO}).Status, NFS3ErrNameTooLong)
	var ro MKNOD3res
	f.call(ProcMKNOD, root, &MKNOD3args{Where: Diropargs3{Dir: f.root(expRO), Name: "x"}, What: Mknoddata3{Type: vfs.TypeFIFO}}, &ro)
	expect(t, "read-only", ro.Status, NFS3ErrROFS)
}

func TestRemove(t *testing.T) {
	f := newFixture(t, 0)
	f.mustCreate(alice, f.rw(), "file", 0o644)
	res := f.remove(alice, f.rw(), "file")
	if res.Status != NFS3OK || !res.Wcc.Before.Present || !res.Wcc.After.Present {
		t.Fatalf("REMOVE %+v", res)
	}
	expect(t, "LOOKUP removed", f.lookup(alice, f.rw(), "file").Status, NFS3ErrNoEnt)
	expect(t, "again", f.remove(alice, f.rw(), "file").Status, NFS3ErrNoEnt)
	f.mustMkdir(alice, f.rw(), "dir", 0o755)
	expect(t, "a directory", f.remove(alice, f.rw(), "dir").Status, NFS3ErrIsDir)
	expect(t, "dot", f.remove(alice, f.rw(), ".").Status, NFS3ErrAcces)
	expect(t, "empty", f.remove(alice, f.rw(), "").Status, NFS3ErrAcces)
	expect(t, "long", f.remove(alice, f.rw(), longName(256)).Status, NFS3ErrNameTooLong)
	// Sticky directory: bob may not remove alice's file.
	tmp := f.mustMkdir(root, f.rw(), "tmp", 0o1777)
	f.mustCreate(alice, tmp, "mine", 0o666)
	expect(t, "sticky", f.remove(bob, tmp, "mine").Status, NFS3ErrPerm) // may_delete: EPERM
	expect(t, "owner in sticky", f.remove(alice, tmp, "mine").Status, NFS3OK)
	f.mustCreate(root, f.rw(), "keep", 0o644)
	expect(t, "read-only", f.remove(root, f.root(expRO), "keep").Status, NFS3ErrROFS)
	expect(t, "squashed root in 0755 dir", f.remove(root, f.rehandle(tmp, expSquash), "x").Status, NFS3ErrNoEnt)
	private := f.mustMkdir(root, f.rw(), "private", 0o755)
	f.mustCreate(root, private, "x", 0o644)
	expect(t, "squashed root", f.remove(root, f.rehandle(private, expSquash), "x").Status, NFS3ErrAcces)
	file := f.mustCreate(root, f.rw(), "plain", 0o644)
	expect(t, "in a file", f.remove(root, file, "x").Status, NFS3ErrNotDir)
}

func TestRename(t *testing.T) {
	f := newFixture(t, 0)
	rename := func(cred *oncrpc.AuthSysParams, fromDir []byte, from string, toDir []byte, to string) RENAME3res {
		var res RENAME3res
		f.call(ProcRENAME, cred, &RENAME3args{From: Diropargs3{Dir: fromDir, Name: from}, To: Diropargs3{Dir: toDir, Name: to}}, &res)
		return res
	}
	a := f.mustMkdir(root, f.rw(), "a", 0o777)
	b := f.mustMkdir(root, f.rw(), "b", 0o777)
	file := f.mustCreate(alice, a, "file", 0o644)
	res := rename(alice, a, "file", b, "moved")
	if res.Status != NFS3OK || !res.FromdirWcc.Before.Present || !res.FromdirWcc.After.Present || !res.TodirWcc.Before.Present || !res.TodirWcc.After.Present {
		t.Fatalf("RENAME %+v", res)
	}
	if got := f.lookup(alice, b, "moved"); got.Status != NFS3OK || !bytes.Equal(got.Object, file) {
		t.Fatalf("moved file: %+v", got)
	}
	expect(t, "old name", f.lookup(alice, a, "file").Status, NFS3ErrNoEnt)
	// Within one directory, both wcc are the same directory.
	res = rename(alice, b, "moved", b, "again")
	if res.Status != NFS3OK || res.FromdirWcc.After.Attr != res.TodirWcc.After.Attr {
		t.Fatalf("same directory: %+v", res)
	}
	// Two hard links of one file: success, nothing changes.
	if err := os.Link(f.path("b", "again"), f.path("b", "link")); err != nil {
		t.Fatal(err)
	}
	expect(t, "hard links", rename(alice, b, "again", b, "link").Status, NFS3OK)
	if _, err := os.Lstat(f.path("b", "again")); err != nil {
		t.Fatal("rename between hard links of one file removed a name")
	}
	// Replace a file.
	f.mustCreate(alice, a, "victim", 0o644)
	expect(t, "over a file", rename(alice, b, "again", a, "victim").Status, NFS3OK)

	full := f.mustMkdir(root, f.rw(), "full", 0o777)
	f.mustCreate(root, full, "x", 0o644)
	f.mustMkdir(root, f.rw(), "empty", 0o777)
	f.mustMkdir(root, f.rw(), "src", 0o777)
	f.mustCreate(root, f.rw(), "plainfile", 0o644)
	other := f.root(expOther)
	locked := f.mustMkdir(root, f.rw(), "locked", 0o755)
	f.mustCreate(root, locked, "s", 0o644)
	sticky := f.mustMkdir(root, f.rw(), "sticky", 0o1777)
	f.mustCreate(alice, sticky, "alices", 0o644)
	tests := []struct {
		name           string
		cred           *oncrpc.AuthSysParams
		fromDir        []byte
		from           string
		toDir          []byte
		to             string
		want           Stat
		fromWcc, toWcc bool
	}{
		{"dir onto non-empty dir", root, f.rw(), "src", f.rw(), "full", NFS3ErrNotEmpty, true, true},
		{"dir onto file", root, f.rw(), "src", f.rw(), "plainfile", NFS3ErrNotDir, true, true},
		{"file onto dir", root, f.rw(), "plainfile", f.rw(), "empty", NFS3ErrIsDir, true, true},
		{"missing", root, f.rw(), "nothing", f.rw(), "x", NFS3ErrNoEnt, true, true},
		{"dot", root, f.rw(), ".", f.rw(), "x", NFS3ErrPerm, true, true},
		{"to dotdot", root, f.rw(), "src", f.rw(), "..", NFS3ErrPerm, true, true},
		{"empty name", root, f.rw(), "", f.rw(), "x", NFS3ErrPerm, true, true},
		{"long name", root, f.rw(), "src", f.rw(), longName(256), NFS3ErrNameTooLong, true, true},
		{"across exports", root, f.rw(), "src", other, "src", NFS3ErrXDev, true, true},
		{"read-only source", root, f.root(expRO), "src", f.rw(), "x", NFS3ErrROFS, true, true},
		{"read-only target", root, f.rw(), "src", f.root(expRO), "x", NFS3ErrROFS, true, true},
		{"no permission", bob, locked, "s", locked, "t", NFS3ErrAcces, true, true},
		{"sticky", bob, sticky, "alices", sticky, "t", NFS3ErrPerm, true, true},
		{"dir into itself", root, f.rw(), "full", full, "sub", NFS3ErrInval, true, true},
		{"from a file", root, file, "x", f.rw(), "x", NFS3ErrNotDir, true, true},
		{"stale source dir", root, f.codec.Encode(99, []byte("xx")), "x", f.rw(), "x", NFS3ErrStale, false, true},
	}
	for _, tc := range tests {
		res := rename(tc.cred, tc.fromDir, tc.from, tc.toDir, tc.to)
		expect(t, tc.name, res.Status, tc.want)
		if res.FromdirWcc.After.Present != tc.fromWcc || res.TodirWcc.After.Present != tc.toWcc {
			t.Errorf("%s: wcc %+v", tc.name, res)
		}
	}
	// Dir onto an empty dir works.
	expect(t, "dir onto empty dir", rename(root, f.rw(), "src", f.rw(), "empty").Status, NFS3OK)
}

func TestLink(t *testing.T) {
	f := newFixture(t, 0)
	link := func(cred *oncrpc.AuthSysParams, file, dir []byte, name string) LINK3res {
		var res LINK3res
		f.call(ProcLINK, cred, &LINK3args{File: file, Link: Diropargs3{Dir: dir, Name: name}}, &res)
		return res
	}
	file := f.mustCreate(alice, f.rw(), "file", 0o644)
	res := link(alice, file, f.rw(), "second")
	if res.Status != NFS3OK || !res.FileAttributes.Present || res.FileAttributes.Attr.Nlink != 2 || !res.LinkdirWcc.Before.Present || !res.LinkdirWcc.After.Present {
		t.Fatalf("LINK %+v", res)
	}
	if got := f.lookup(alice, f.rw(), "second"); !bytes.Equal(got.Object, file) {
		t.Fatal("the link is another file")
	}
	dir := f.mustMkdir(root, f.rw(), "dir", 0o755)
	tests := []struct {
		name      string
		file, dir []byte
		what      string
		want      Stat
	}{
		{"existing name", file, f.rw(), "second", NFS3ErrExist},
		{"a directory", dir, f.rw(), "dirlink", NFS3ErrIsDir},
		{"across exports", file, f.root(expOther), "x", NFS3ErrXDev},
		{"into a file", file, file, "x", NFS3ErrNotDir},
		{"empty name", file, f.rw(), "", NFS3ErrPerm},
		{"dot", file, f.rw(), ".", NFS3ErrExist},
		{"long name", file, f.rw(), longName(256), NFS3ErrNameTooLong},
		{"read-only", f.rehandle(file, expRO), f.root(expRO), "x", NFS3ErrROFS},
		{"bad handle", file[:3], f.rw(), "x", NFS3ErrBadHandle},
	}
	for _, tc := range tests {
		res := link(root, tc.file, tc.dir, tc.what)
		expect(t, tc.name, res.Status, tc.want)
	}
	// Into a directory bob may not write.
	expect(t, "no permission", link(bob, file, dir, "x").Status, NFS3ErrAcces)
}

// readdirAll lists dir with READDIR in pages of count bytes and returns
// the names (without "." and "..") and the number of calls.
func (f *fixture) readdirAll(dir []byte, count uint32) ([]string, int) {
	f.t.Helper()
	var names []string
	var cookie uint64
	var verf [8]byte
	for calls := 1; ; calls++ {
		var res READDIR3res
		args := READDIR3args{Dir: dir, Cookie: cookie, Cookieverf: verf, Count: count}
		reply, err := f.raw(ProcREADDIR, alice, encode(&args))
		if err != nil {
			f.t.Fatal(err)
		}
		if len(reply) > int(count) {
			f.t.Fatalf("READDIR reply of %d bytes for count %d", len(reply), count)
		}
		r := xdr.NewReader(reply)
		res.Decode(r)
		if r.Err() != nil || r.Len() != 0 {
			f.t.Fatalf("READDIR reply: %v", r.Err())
		}
		expect(f.t, "READDIR", res.Status, NFS3OK)
		if cookie != 0 && res.Cookieverf != verf {
			f.t.Fatal("cookie verifier changed between calls")
		}
		verf = res.Cookieverf
		for _, e := range res.Entries {
			if e.Name != "." && e.Name != ".." {
				names = append(names, e.Name)
			}
			cookie = e.Cookie
		}
		if res.EOF {
			sort.Strings(names)
			return names, calls
		}
		if len(res.Entries) == 0 {
			f.t.Fatal("READDIR: no entries and no eof")
		}
	}
}

func TestReaddir(t *testing.T) {
	f := newFixture(t, 0)
	dir := f.mustMkdir(root, f.rw(), "dir", 0o755)
	var want []string
	for i := 0; i < 300; i++ {
		name := fmt.Sprintf("entry-%03d-%s", i, longName(i%40))
		want = append(want, name)
		f.mustCreate(root, dir, name, 0o644)
	}
	sort.Strings(want)
	for _, count := range []uint32{200, 1024, 8192, 1 << 20} {
		got, calls := f.readdirAll(dir, count)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("count %d: listed %d names, want %d", count, len(got), len(want))
		}
		if count == 200 && calls < 50 {
			t.Fatalf("count 200: only %d calls", calls)
		}
	}
	// One call with a large count: ".", "..", all entries, eof; sizes add up.
	var res READDIR3res
	f.call(ProcREADDIR, alice, &READDIR3args{Dir: dir, Count: 1 << 20}, &res)
	if res.Status != NFS3OK || !res.EOF || len(res.Entries) != 302 || res.Entries[0].Name != "." || res.Entries[1].Name != ".." || !res.DirAttributes.Present {
		t.Fatalf("whole listing: %v eof %v %d entries", res.Status, res.EOF, len(res.Entries))
	}
	if res.Cookieverf != CookieVerf(expRW, f.decodeID(dir)) || res.Cookieverf == [8]byte{} {
		t.Fatal("unexpected cookie verifier")
	}
	// Fileids are the inode numbers.
	var st unix.Stat_t
	unix.Lstat(f.path("dir", res.Entries[5].Name), &st)
	if res.Entries[5].Fileid != st.Ino {
		t.Fatalf("fileid %d, inode %d", res.Entries[5].Fileid, st.Ino)
	}

	// Errors.
	readdir := func(args READDIR3args) READDIR3res {
		var res READDIR3res
		f.call(ProcREADDIR, alice, &args, &res)
		return res
	}
	verf := res.Cookieverf
	cookie := res.Entries[10].Cookie
	bad := verf
	bad[0] ^= 1
	r := readdir(READDIR3args{Dir: dir, Cookie: cookie, Cookieverf: bad, Count: 4096})
	expect(t, "wrong verifier", r.Status, NFS3ErrBadCookie)
	if !r.DirAttributes.Present {
		t.Fatal("no attributes with BAD_COOKIE")
	}
	expect(t, "zero verifier", readdir(READDIR3args{Dir: dir, Cookie: cookie, Count: 4096}).Status, NFS3OK)
	expect(t, "cookie 0, any verifier", readdir(READDIR3args{Dir: dir, Cookieverf: bad, Count: 4096}).Status, NFS3OK)
	expect(t, "cookie the backend rejects", readdir(READDIR3args{Dir: dir, Cookie: 1 << 63, Cookieverf: verf, Count: 4096}).Status, NFS3ErrBadCookie)
	expect(t, "verifier of another directory", readdir(READDIR3args{Dir: dir, Cookie: cookie, Cookieverf: CookieVerf(expRW, f.decodeID(f.rw())), Count: 4096}).Status, NFS3ErrBadCookie)
	r = readdir(READDIR3args{Dir: dir, Count: 100})
	expect(t, "count 100", r.Status, NFS3ErrTooSmall)
	if !r.DirAttributes.Present {
		t.Fatal("no attributes with TOOSMALL")
	}
	expect(t, "count 0", readdir(READDIR3args{Dir: dir}).Status, NFS3ErrTooSmall)
	file := f.mustCreate(root, f.rw(), "file", 0o644)
	expect(t, "a file", readdir(READDIR3args{Dir: file, Count: 4096}).Status, NFS3ErrNotDir)
	private := f.mustMkdir(root, f.rw(), "private", 0o700)
	expect(t, "no permission", readdir(READDIR3args{Dir: private, Count: 4096}).Status, NFS3ErrAcces)
	f.fault.set("ReadDir", syscall.EINVAL)
	expect(t, "backend EINVAL on a cookie", readdir(READDIR3args{Dir: f.rehandle(dir, expFault), Cookie: cookie, Cookieverf: verf, Count: 4096}).Status, NFS3ErrBadCookie)
	expect(t, "backend EINVAL without cookie", readdir(READDIR3args{Dir: f.rehandle(dir, expFault), Count: 4096}).Status, NFS3ErrInval)
	f.fault.set("ReadDir", syscall.EIO)
	expect(t, "backend EIO", readdir(READDIR3args{Dir: f.rehandle(dir, expFault), Count: 4096}).Status, NFS3ErrIO)
	// An empty directory at count just enough for the header: eof.
	empty := f.mustMkdir(root, f.rw(), "empty", 0o755)
	var whole READDIR3res
	f.call(ProcREADDIR, alice, &READDIR3args{Dir: empty, Count: 4096}, &whole)
	if !whole.EOF || len(whole.Entries) != 2 {
		t.Fatalf("empty dir: %+v", whole)
	}
	last := whole.Entries[1].Cookie
	end := readdir(READDIR3args{Dir: empty, Cookie: last, Cookieverf: whole.Cookieverf, Count: 4 + 88 + 8 + 8})
	if end.Status != NFS3OK || !end.EOF || len(end.Entries) != 0 {
		t.Fatalf("at the end: %+v", end)
	}
}

func (f *fixture) decodeID(h []byte) vfs.ID {
	_, id, err := f.codec.Decode(h)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// TestReaddirCookiesAcrossChanges lists part of a directory, changes it
// and resumes with the cookie: the verifier still matches, and every entry
// that was there all along is listed exactly once.
func TestReaddirCookiesAcrossChanges(t *testing.T) {
	f := newFixture(t, 0)
	dir := f.mustMkdir(root, f.rw(), "dir", 0o777)
	for i := 0; i < 200; i++ {
		f.mustCreate(root, dir, fmt.Sprintf("f%03d", i), 0o644)
	}
	var first READDIR3res
	f.call(ProcREADDIR, alice, &READDIR3args{Dir: dir, Count: 2048}, &first)
	if first.Status != NFS3OK || first.EOF || len(first.Entries) < 10 {
		t.Fatalf("first page: %v %d entries eof %v", first.Status, len(first.Entries), first.EOF)
	}
	seen := map[string]int{}
	for _, e := range first.Entries {
		seen[e.Name]++
	}
	// Remove entries listed already and not yet, add new ones.
	removed := map[string]bool{}
	for i := 0; i < 200; i += 3 {
		name := fmt.Sprintf("f%03d", i)
		expect(t, "REMOVE", f.remove(root, dir, name).Status, NFS3OK)
		removed[name] = true
	}
	for i := 0; i < 50; i++ {
		f.mustCreate(root, dir, fmt.Sprintf("new%03d", i), 0o644)
	}
	cookie := first.Entries[len(first.Entries)-1].Cookie
	verf := first.Cookieverf
	for {
		var res READDIR3res
		f.call(ProcREADDIR, alice, &READDIR3args{Dir: dir, Cookie: cookie, Cookieverf: verf, Count: 2048}, &res)
		expect(t, "READDIR resumed", res.Status, NFS3OK)
		if res.Cookieverf != verf {
			t.Fatal("verifier changed while the directory changed")
		}
		for _, e := range res.Entries {
			seen[e.Name]++
			cookie = e.Cookie
		}
		if res.EOF {
			break
		}
	}
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("f%03d", i)
		if removed[name] {
			if seen[name] > 1 {
				t.Errorf("%s listed %d times", name, seen[name])
			}
			continue
		}
		if seen[name] != 1 {
			t.Errorf("%s (never removed) listed %d times", name, seen[name])
		}
	}
}

func TestReaddirplus(t *testing.T) {
	f := newFixture(t, 0)
	dir := f.mustMkdir(alice, f.rw(), "dir", 0o755)
	for i := 0; i < 100; i++ {
		f.mustCreate(alice, dir, fmt.Sprintf("file%03d", i), 0o644)
	}
	f.mustMkdir(alice, dir, "subdir", 0o755)
	plus := func(args READDIRPLUS3args) (READDIRPLUS3res, int) {
		reply, err := f.raw(ProcREADDIRPLUS, alice, encode(&args))
		if err != nil {
			t.Fatal(err)
		}
		var res READDIRPLUS3res
		r := xdr.NewReader(reply)
		res.Decode(r)
		if r.Err() != nil || r.Len() != 0 {
			t.Fatalf("READDIRPLUS reply: %v", r.Err())
		}
		return res, len(reply)
	}
	seen := map[string]bool{}
	var cookie uint64
	var verf [8]byte
	calls := 0
	for {
		calls++
		res, size := plus(READDIRPLUS3args{Dir: dir, Cookie: cookie, Cookieverf: verf, Dircount: 4096, Maxcount: 4096})
		expect(t, "READDIRPLUS", res.Status, NFS3OK)
		if size > 4096 {
			t.Fatalf("reply of %d bytes for maxcount 4096", size)
		}
		verf = res.Cookieverf
		for _, e := range res.Entries {
			cookie = e.Cookie
			seen[e.Name] = true
			if !e.NameAttributes.Present || !e.NameHandle.Present {
				t.Fatalf("%s: no attributes or handle", e.Name)
			}
			if e.NameAttributes.Attr.Fileid != e.Fileid || e.NameAttributes.Attr.Fsid != expRW {
				t.Fatalf("%s: attributes %+v", e.Name, e.NameAttributes.Attr)
			}
			g := f.getattr(alice, e.NameHandle.Handle)
			if g.Status != NFS3OK || g.ObjAttributes.Fileid != e.Fileid {
				t.Fatalf("%s: handle gives %+v", e.Name, g)
			}
			if e.Name == "subdir" && e.NameAttributes.Attr.Type != vfs.TypeDir {
				t.Fatal("subdir is not a directory")
			}
		}
		if res.EOF {
			break
		}
	}
	if len(seen) != 103 || calls < 3 {
		t.Fatalf("%d names in %d calls", len(seen), calls)
	}
	// dircount limits the directory information (but one entry always fits).
	res, _ := plus(READDIRPLUS3args{Dir: dir, Dircount: 100, Maxcount: 65536})
	if res.Status != NFS3OK || len(res.Entries) == 0 || len(res.Entries) > 4 {
		t.Fatalf("dircount 100: %v %d entries", res.Status, len(res.Entries))
	}
	res, _ = plus(READDIRPLUS3args{Dir: dir, Dircount: 1, Maxcount: 65536})
	if res.Status != NFS3OK || len(res.Entries) != 1 {
		t.Fatalf("dircount 1: %v %d entries", res.Status, len(res.Entries))
	}
	res, _ = plus(READDIRPLUS3args{Dir: dir, Dircount: 0, Maxcount: 1 << 20})
	if res.Status != NFS3OK || len(res.Entries) != 103 || !res.EOF {
		t.Fatalf("dircount 0: %v %d entries", res.Status, len(res.Entries))
	}
	// Too small for one entry with its attributes and handle.
	res, _ = plus(READDIRPLUS3args{Dir: dir, Dircount: 4096, Maxcount: 200})
	expect(t, "maxcount 200", res.Status, NFS3ErrTooSmall)
	// Without search permission: names only.
	private := f.mustMkdir(root, f.rw(), "noexec", 0o744)
	f.mustCreate(root, private, "x", 0o644)
	res, _ = plus(READDIRPLUS3args{Dir: private, Dircount: 4096, Maxcount: 4096})
	if res.Status != NFS3OK || len(res.Entries) != 3 {
		t.Fatalf("no search permission: %+v", res)
	}
	for _, e := range res.Entries {
		if e.Name == "x" && (e.NameAttributes.Present || e.NameHandle.Present) {
			t.Fatal("attributes without search permission")
		}
	}
	file := f.mustCreate(root, f.rw(), "file", 0o644)
	res, _ = plus(READDIRPLUS3args{Dir: file, Dircount: 4096, Maxcount: 4096})
	expect(t, "a file", res.Status, NFS3ErrNotDir)
	bad := verf
	bad[7] ^= 1
	res, _ = plus(READDIRPLUS3args{Dir: dir, Cookie: cookie, Cookieverf: bad, Dircount: 4096, Maxcount: 4096})
	expect(t, "wrong verifier", res.Status, NFS3ErrBadCookie)
	// On the read-only export, READDIRPLUS handles belong to that export.
	res, _ = plus(READDIRPLUS3args{Dir: f.rehandle(dir, expRO), Dircount: 4096, Maxcount: 8192})
	for _, e := range res.Entries {
		if exp, _, _ := f.codec.Decode(e.NameHandle.Handle); exp != expRO {
			t.Fatalf("entry handle of export %d", exp)
		}
	}
}

func TestFSStatFSInfoPathconf(t *testing.T) {
	f := newFixture(t, 65536)
	var st FSSTAT3res
	f.call(ProcFSSTAT, alice, &FSSTAT3args{Object: f.rw()}, &st)
	var sfs unix.Statfs_t
	unix.Statfs(f.dir, &sfs)
	if st.Status != NFS3OK || st.Tbytes != sfs.Blocks*uint64(sfs.Bsize) || st.Tfiles != sfs.Files || st.Fbytes < st.Abytes || !st.ObjAttributes.Present || st.Invarsec != 0 {
		t.Fatalf("FSSTAT %+v", st)
	}
	var info FSINFO3res
	f.call(ProcFSINFO, alice, &FSINFO3args{Object: f.rw()}, &info)
	want := FSINFO3res{Status: NFS3OK, ObjAttributes: info.ObjAttributes, Rtmax: 65536, Rtpref: 65536, Rtmult: 4096,
		Wtmax: 65536, Wtpref: 65536, Wtmult: 4096, Dtpref: 65536, Maxfilesize: 1<<63 - 1,
		TimeDelta: Nfstime3{0, 1}, Properties: 0x1b}
	if info != want || !info.ObjAttributes.Present {
		t.Fatalf("FSINFO %+v", info)
	}
	var pc PATHCONF3res
	f.call(ProcPATHCONF, alice, &PATHCONF3args{Object: f.rw()}, &pc)
	if pc.Status != NFS3OK || pc.Linkmax != PathconfLinkMax || pc.NameMax != 255 || !pc.NoTrunc || !pc.ChownRestricted || pc.CaseInsensitive || !pc.CasePreserving || !pc.ObjAttributes.Present {
		t.Fatalf("PATHCONF %+v", pc)
	}
	// The default MaxIO.
	g := newFixture(t, 0)
	g.call(ProcFSINFO, alice, &FSINFO3args{Object: g.rw()}, &info)
	if info.Rtmax != 1<<20 || info.Wtmax != 1<<20 || info.Dtpref != 1<<20 {
		t.Fatalf("default FSINFO %+v", info)
	}
	// Errors.
	file := f.mustCreate(root, f.rw(), "file", 0o644)
	f.remove(root, f.rw(), "file")
	f.call(ProcFSSTAT, alice, &FSSTAT3args{Object: file}, &st)
	expect(t, "FSSTAT stale", st.Status, NFS3ErrStale)
	f.call(ProcFSINFO, alice, &FSINFO3args{Object: file}, &info)
	expect(t, "FSINFO stale", info.Status, NFS3ErrStale)
	f.call(ProcPATHCONF, alice, &PATHCONF3args{Object: file}, &pc)
	expect(t, "PATHCONF stale", pc.Status, NFS3ErrStale)
	f.call(ProcFSINFO, alice, &FSINFO3args{Object: file[:5]}, &info)
	expect(t, "FSINFO bad handle", info.Status, NFS3ErrBadHandle)
	f.call(ProcFSSTAT, alice, &FSSTAT3args{Object: f.root(expRestricted)}, &st)
	expect(t, "FSSTAT restricted", st.Status, NFS3ErrAcces)
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err   error
		want  Stat
		known bool
	}{
		{nil, NFS3OK, true},
		{syscall.EPERM, NFS3ErrPerm, true},
		{syscall.ENOENT, NFS3ErrNoEnt, true},
		{syscall.EIO, NFS3ErrIO, true},
		{syscall.ENXIO, NFS3ErrNXIO, true},
		{syscall.EACCES, NFS3ErrAcces, true},
		{syscall.EEXIST, NFS3ErrExist, true},
		{syscall.EXDEV, NFS3ErrXDev, true},
		{syscall.ENODEV, NFS3ErrNoDev, true},
		{syscall.ENOTDIR, NFS3ErrNotDir, true},
		{syscall.EISDIR, NFS3ErrIsDir, true},
		{syscall.EINVAL, NFS3ErrInval, true},
		{syscall.EFBIG, NFS3ErrFBig, true},
		{syscall.ENOSPC, NFS3ErrNoSpc, true},
		{syscall.EROFS, NFS3ErrROFS, true},
		{syscall.EMLINK, NFS3ErrMLink, true},
		{syscall.ENAMETOOLONG, NFS3ErrNameTooLong, true},
		{syscall.ENOTEMPTY, NFS3ErrNotEmpty, true},
		{syscall.EDQUOT, NFS3ErrDQuot, true},
		{syscall.ESTALE, NFS3ErrStale, true},
		{syscall.EAGAIN, NFS3ErrJukebox, true},
		{syscall.EOPNOTSUPP, NFS3ErrNotSupp, true},
		{fmt.Errorf("wrapped: %w", syscall.ENOTEMPTY), NFS3ErrNotEmpty, true},
		{syscall.ECHILD, NFS3ErrServerFault, false},
		{errOdd, NFS3ErrServerFault, false},
		{fmt.Errorf("call: %w", context.Canceled), NFS3ErrJukebox, true},
	}
	for _, tc := range tests {
		st, known := statusOf(tc.err)
		if st != tc.want || known != tc.known {
			t.Errorf("statusOf(%v) = %v %v, want %v %v", tc.err, st, known, tc.want, tc.known)
		}
	}
	if NFS3ErrNotSync.String() != "NFS3ERR_NOT_SYNC" || Stat(12345).String() != "nfsstat3(12345)" {
		t.Error("Stat.String")
	}
}

// TestUnknownErrorLogged checks that a backend error without an NFSv3
// status is answered with SERVERFAULT and logged.
func TestUnknownErrorLogged(t *testing.T) {
	f := newFixture(t, 0)
	var logged bytes.Buffer
	f.srv.log = slog.New(slog.NewTextHandler(&logged, nil))
	f.fault.set("Create", syscall.ECHILD)
	res := f.create(root, f.root(expFault), "x", Createhow3{})
	expect(t, "CREATE with ECHILD", res.Status, NFS3ErrServerFault)
	if !bytes.Contains(logged.Bytes(), []byte("CREATE")) || !bytes.Contains(logged.Bytes(), []byte("no child processes")) {
		t.Fatalf("log: %q", logged.String())
	}
}
