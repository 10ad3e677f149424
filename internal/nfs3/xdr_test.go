package nfs3

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"sync"
	"testing"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

type codec interface {
	encoder
	decoder
}

func fattr(seed uint32) Fattr3 {
	return Fattr3{Type: vfs.TypeDir, Mode: 0o755, Nlink: seed, UID: seed + 1, GID: seed + 2, Size: uint64(seed) << 33, Used: 4096,
		Rdev: Specdata3{seed, seed + 1}, Fsid: 7, Fileid: uint64(seed) << 40, Atime: Nfstime3{seed, 1}, Mtime: Nfstime3{seed, 2}, Ctime: Nfstime3{seed, 3}}
}

func wccData() WccData {
	return WccData{Before: PreOpAttr{Present: true, Attr: WccAttr{Size: 99, Mtime: Nfstime3{1, 2}, Ctime: Nfstime3{3, 4}}},
		After: PostOpAttr{Present: true, Attr: fattr(5)}}
}

// TestXDRRoundTrip encodes and decodes every argument and result type
// in both arms and checks that nothing is lost and every byte is read.
func TestXDRRoundTrip(t *testing.T) {
	h := []byte("a handle of 26 bytes......")
	sa := Sattr3{Valid: vfs.SetMode | vfs.SetUID | vfs.SetGID | vfs.SetSize | vfs.SetAtime | vfs.SetMtimeNow,
		Mode: 0o644, UID: 1, GID: 2, Size: 3, Atime: vfs.Timespec{Sec: 4, Nsec: 5}}
	dop := Diropargs3{Dir: h, Name: "name"}
	post := PostOpAttr{Present: true, Attr: fattr(9)}
	values := []codec{
		&GETATTR3args{Object: h},
		&GETATTR3res{Status: NFS3OK, ObjAttributes: fattr(1)},
		&GETATTR3res{Status: NFS3ErrStale},
		&SETATTR3args{Object: h, NewAttributes: sa, Guard: Sattrguard3{Check: true, ObjCtime: Nfstime3{6, 7}}},
		&SETATTR3args{Object: h, NewAttributes: Sattr3{Valid: vfs.SetMtime | vfs.SetAtimeNow, Mtime: vfs.Timespec{Sec: 8, Nsec: 9}}},
		&SETATTR3res{Status: NFS3ErrNotSync, Wcc: wccData()},
		&LOOKUP3args{What: dop},
		&LOOKUP3res{Status: NFS3OK, Object: h, ObjAttributes: post, DirAttributes: post},
		&LOOKUP3res{Status: NFS3ErrNoEnt, DirAttributes: post},
		&ACCESS3args{Object: h, Access: 0x3f},
		&ACCESS3res{Status: NFS3OK, ObjAttributes: post, Access: 5},
		&ACCESS3res{Status: NFS3ErrStale},
		&READLINK3args{Symlink: h},
		&READLINK3res{Status: NFS3OK, SymlinkAttributes: post, Data: "target"},
		&READLINK3res{Status: NFS3ErrInval, SymlinkAttributes: post},
		&READ3args{File: h, Offset: 1 << 40, Count: 4096},
		&READ3res{Status: NFS3OK, FileAttributes: post, Count: 5, EOF: true, Data: []byte("hello")},
		&READ3res{Status: NFS3ErrIsDir, FileAttributes: post},
		&WRITE3args{File: h, Offset: 3, Count: 5, Stable: vfs.DataSync, Data: []byte("hello")},
		&WRITE3res{Status: NFS3OK, FileWcc: wccData(), Count: 5, Committed: vfs.FileSync, Verf: [8]byte{1, 2, 3}},
		&WRITE3res{Status: NFS3ErrNoSpc, FileWcc: wccData()},
		&CREATE3args{Where: dop, How: Createhow3{Mode: vfs.Guarded, ObjAttributes: sa}},
		&CREATE3args{Where: dop, How: Createhow3{Mode: vfs.Exclusive, Verf: [8]byte{8, 7, 6}}},
		&CREATE3res{Status: NFS3OK, Obj: PostOpFH3{Present: true, Handle: h}, ObjAttributes: post, DirWcc: wccData()},
		&CREATE3res{Status: NFS3ErrExist, DirWcc: wccData()},
		&MKDIR3args{Where: dop, Attributes: sa},
		&SYMLINK3args{Where: dop, SymlinkAttributes: sa, SymlinkData: []byte("../x")},
		&MKNOD3args{Where: dop, What: Mknoddata3{Type: vfs.TypeChar, Attributes: sa, Spec: Specdata3{1, 2}}},
		&MKNOD3args{Where: dop, What: Mknoddata3{Type: vfs.TypeFIFO, Attributes: sa}},
		&MKNOD3args{Where: dop, What: Mknoddata3{Type: vfs.TypeDir}},
		&REMOVE3args{Object: dop},
		&REMOVE3res{Status: NFS3OK, Wcc: wccData()},
		&RENAME3args{From: dop, To: Diropargs3{Dir: h, Name: "other"}},
		&RENAME3res{Status: NFS3ErrXDev, FromdirWcc: wccData(), TodirWcc: WccData{}},
		&LINK3args{File: h, Link: dop},
		&LINK3res{Status: NFS3OK, FileAttributes: post, LinkdirWcc: wccData()},
		&READDIR3args{Dir: h, Cookie: 77, Cookieverf: [8]byte{1}, Count: 4096},
		&READDIR3res{Status: NFS3OK, DirAttributes: post, Cookieverf: [8]byte{2}, EOF: true,
			Entries: []Entry3{{Fileid: 1, Name: ".", Cookie: 1}, {Fileid: 2, Name: "a longer name", Cookie: 1 << 60}}},
		&READDIR3res{Status: NFS3OK, DirAttributes: post, Entries: nil},
		&READDIR3res{Status: NFS3ErrBadCookie, DirAttributes: post, Entries: nil},
		&READDIRPLUS3args{Dir: h, Cookie: 5, Cookieverf: [8]byte{3}, Dircount: 1, Maxcount: 2},
		&READDIRPLUS3res{Status: NFS3OK, DirAttributes: post, Cookieverf: [8]byte{4}, Entries: []Entryplus3{
			{Fileid: 1, Name: "x", Cookie: 2, NameAttributes: post, NameHandle: PostOpFH3{Present: true, Handle: h}},
			{Fileid: 3, Name: "y", Cookie: 4}}},
		&READDIRPLUS3res{Status: NFS3ErrTooSmall, Entries: nil},
		&FSSTAT3args{Object: h},
		&FSSTAT3res{Status: NFS3OK, ObjAttributes: post, Tbytes: 1, Fbytes: 2, Abytes: 3, Tfiles: 4, Ffiles: 5, Afiles: 6, Invarsec: 7},
		&FSINFO3res{Status: NFS3OK, ObjAttributes: post, Rtmax: 1, Rtpref: 2, Rtmult: 3, Wtmax: 4, Wtpref: 5, Wtmult: 6, Dtpref: 7,
			Maxfilesize: 8, TimeDelta: Nfstime3{0, 1}, Properties: 0x1b},
		&PATHCONF3res{Status: NFS3OK, ObjAttributes: post, Linkmax: 1, NameMax: 255, NoTrunc: true, CasePreserving: true},
		&PATHCONF3res{Status: NFS3ErrStale},
		&COMMIT3args{File: h, Offset: 1, Count: 2},
		&COMMIT3res{Status: NFS3OK, FileWcc: wccData(), Verf: [8]byte{9}},
		&COMMIT3res{Status: NFS3ErrIO, FileWcc: wccData()},
	}
	for _, v := range values {
		b := encode(v)
		if len(b)%4 != 0 {
			t.Errorf("%T: %d bytes, not a multiple of 4", v, len(b))
		}
		got := reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
		r := xdr.NewReader(b)
		got.Decode(r)
		if r.Err() != nil || r.Len() != 0 {
			t.Errorf("%T: decode error %v, %d bytes left", v, r.Err(), r.Len())
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%T: round trip\n got %+v\nwant %+v", v, got, v)
		}
		// Every truncation fails to decode (and does not panic).
		for n := 0; n < len(b); n += 4 {
			got := reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
			r := xdr.NewReader(b[:n])
			got.Decode(r)
			if r.Err() == nil {
				t.Errorf("%T: %d of %d bytes decoded without error", v, n, len(b))
				break
			}
		}
	}
}

// TestFattrFromVFS checks the conversions of attributes the Linux nfsd
// makes.
func TestFattrFromVFS(t *testing.T) {
	a := vfs.Attr{Type: vfs.TypeSymlink, Mode: 0o170777, Size: 10000, Mtime: vfs.Timespec{Sec: 1<<32 + 5, Nsec: 6}}
	f := FattrFromVFS(&a, 42)
	if f.Type != vfs.TypeSymlink || f.Mode != 0o7777&0o170777 || f.Size != 4096 || f.Fsid != 42 || f.Mtime != (Nfstime3{5, 6}) {
		t.Fatalf("%+v", f)
	}
	a.Type = 0
	if f = FattrFromVFS(&a, 1); f.Type != vfs.TypeRegular || f.Size != 10000 {
		t.Fatalf("unknown type: %+v", f)
	}
}

// TestWccAtomic makes directories concurrently in one directory: as the
// before/change/after of each call is atomic with respect to the others,
// every reply sees a different link count of the parent after its own
// change.
func TestWccAtomic(t *testing.T) {
	f := newFixture(t, 0)
	dir := f.mustMkdir(root, f.rw(), "parent", 0o777)
	const n = 32
	posts := make([]uint32, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := concurrentCall[MKDIR3res](t, f, ProcMKDIR, &MKDIR3args{Where: Diropargs3{Dir: dir, Name: fmt.Sprint("d", i)}})
			if res.Status != NFS3OK || !res.DirWcc.Before.Present || !res.DirWcc.After.Present {
				t.Errorf("MKDIR %d: %+v", i, res)
				return
			}
			posts[i] = res.DirWcc.After.Attr.Nlink
		}()
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, nl := range posts {
		if seen[nl] {
			t.Fatalf("two MKDIRs saw link count %d after their change: %v", nl, posts)
		}
		seen[nl] = true
	}
}

// TestConcurrentMixed runs many different calls at once (for the race
// detector and the request pool).
func TestConcurrentMixed(t *testing.T) {
	f := newFixture(t, 0)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("file", g)
			cr := concurrentCall[CREATE3res](t, f, ProcCREATE, &CREATE3args{Where: Diropargs3{Dir: f.rw(), Name: name}})
			if cr.Status != NFS3OK {
				t.Errorf("CREATE: %v", cr.Status)
				return
			}
			h := cr.Obj.Handle
			for i := 0; i < 50; i++ {
				data := []byte(fmt.Sprint(g, i))
				wr := concurrentCall[WRITE3res](t, f, ProcWRITE, &WRITE3args{File: h, Count: uint32(len(data)), Data: data})
				rd := concurrentCall[READ3res](t, f, ProcREAD, &READ3args{File: h, Count: uint32(len(data))})
				lk := concurrentCall[LOOKUP3res](t, f, ProcLOOKUP, &LOOKUP3args{What: Diropargs3{Dir: f.rw(), Name: name}})
				rp := concurrentCall[READDIRPLUS3res](t, f, ProcREADDIRPLUS, &READDIRPLUS3args{Dir: f.rw(), Dircount: 8192, Maxcount: 8192})
				if wr.Status != NFS3OK || rd.Status != NFS3OK || string(rd.Data) != string(data) || lk.Status != NFS3OK || rp.Status != NFS3OK {
					t.Errorf("goroutine %d round %d: %v %v %q %v %v", g, i, wr.Status, rd.Status, rd.Data, lk.Status, rp.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// concurrentCall is fixture.call with a writer of its own.
func concurrentCall[R any, PR interface {
	*R
	decoder
}](t *testing.T, f *fixture, proc uint32, args encoder) R {
	c := &oncrpc.Call{XID: 1, Prog: oncrpc.ProgNFS, Vers: Vers, Proc: proc, Args: encode(args),
		Remote: netip.MustParseAddrPort(clientAddr), Sys: root, CredFlavor: oncrpc.AuthSys}
	var w xdr.Writer
	var res R
	if err := f.srv.ServeRPC(context.Background(), c, &w); err != nil {
		t.Errorf("%s: %v", ProcNames[proc], err)
		return res
	}
	r := xdr.NewReader(w.B)
	PR(&res).Decode(r)
	if r.Err() != nil || r.Len() != 0 {
		t.Errorf("%s: reply does not decode: %v", ProcNames[proc], r.Err())
	}
	return res
}
