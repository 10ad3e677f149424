package nfs4_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// NFSv4.2 operation numbers and data_content4 (RFC 7862 section 4).
const (
	opAllocate   = 59
	opCopy       = 60
	opDeallocate = 62
	opSeek       = 69
	contentData  = 0
	contentHole  = 1
)

func stateidArgs(w *xdr.Writer, s c4.Stateid) {
	w.Uint32(s.Seqid)
	w.Fixed(s.Other[:])
}

func seekOp(s c4.Stateid, off uint64, what uint32) c4.Op {
	var w xdr.Writer
	stateidArgs(&w, s)
	w.Uint64(off)
	w.Uint32(what)
	return c4.Raw(opSeek, w.B)
}

func allocOp(num uint32, s c4.Stateid, off, length uint64) c4.Op {
	var w xdr.Writer
	stateidArgs(&w, s)
	w.Uint64(off)
	w.Uint64(length)
	return c4.Raw(num, w.B)
}

func copyOp(src, dst c4.Stateid, srcOff, dstOff, count uint64) c4.Op {
	var w xdr.Writer
	stateidArgs(&w, src)
	stateidArgs(&w, dst)
	w.Uint64(srcOff)
	w.Uint64(dstOff)
	w.Uint64(count)
	w.Bool(false) // ca_consecutive
	w.Bool(true)  // ca_synchronous
	w.Uint32(0)   // ca_source_server<>
	return c4.Raw(opCopy, w.B)
}

// TestSpaceOps42: SEEK finds data and holes, ALLOCATE and DEALLOCATE
// change the blocks, COPY copies within the server (RFC 7862).
func TestSpaceOps42(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s, err := ts.dial(t).NewSession(ctx(t), 2, []byte("space"), verf("space"))
	if err != nil {
		t.Fatal(err)
	}
	s.CacheThis = false // READs of 4 KiB exceed the reply cache's slot size
	dir := rootFH(t, nil, 0, s, "a")
	owner := c4.StateOwner{Clientid: s.Clientid, Owner: []byte("oo")}
	const mib = 1 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB
	res := mustOK(t, do(t, s, c4.Putfh(dir),
		c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_BOTH, 0, owner, "sparse", c4.UNCHECKED4, c4.NewFattr()),
		c4.Getfh(),
		c4.Write(c4.CurrentStateid, 0, c4.FILE_SYNC4, data),
		c4.Write(c4.CurrentStateid, mib, c4.FILE_SYNC4, data)))
	src := fhOf(t, res.Ops[3])
	sid := stateidOf(t, res.Ops[2])

	seek := func(off uint64, what uint32) (c4.Status, bool, uint64) {
		res := do(t, s, c4.Putfh(src), seekOp(sid, off, what))
		last := res.Ops[len(res.Ops)-1]
		if last.Status != c4.NFS4_OK {
			return last.Status, false, 0
		}
		if len(last.Body) != 12 {
			t.Fatalf("SEEK result of %d bytes", len(last.Body))
		}
		return last.Status, binary.BigEndian.Uint32(last.Body) != 0, binary.BigEndian.Uint64(last.Body[4:])
	}
	for _, tc := range []struct {
		off  uint64
		what uint32
		st   c4.Status
		eof  bool
		at   uint64
	}{
		{0, contentData, c4.NFS4_OK, false, 0},
		{4096, contentData, c4.NFS4_OK, false, mib}, // over the hole
		{0, contentHole, c4.NFS4_OK, false, 4096},
		{mib, contentHole, c4.NFS4_OK, true, mib + 4096}, // the implicit hole at EOF
		{mib + 4096, contentData, c4.NFS4ERR_NXIO, false, 0},
		{1 << 40, contentHole, c4.NFS4ERR_NXIO, false, 0},
		{0, 7, c4.NFS4ERR_UNION_NOTSUPP, false, 0},
	} {
		st, eof, at := seek(tc.off, tc.what)
		if st != tc.st || eof != tc.eof || at != tc.at {
			t.Errorf("SEEK(%d, %d) = %v eof %v at %d, want %v eof %v at %d", tc.off, tc.what, st, eof, at, tc.st, tc.eof, tc.at)
		}
	}

	// DEALLOCATE the first 4 KiB: reads as zeros, SEEK finds a hole at 0.
	mustOK(t, do(t, s, c4.Putfh(src), allocOp(opDeallocate, sid, 0, 4096)))
	res = mustOK(t, do(t, s, c4.Putfh(src), c4.Read(sid, 0, 4096)))
	if rd, err := res.Ops[2].Read(); err != nil || !bytes.Equal(rd.Data, make([]byte, 4096)) {
		t.Fatalf("READ after DEALLOCATE: %v", err)
	}
	if st, _, at := seek(0, contentData); st != c4.NFS4_OK || at != mib {
		t.Errorf("SEEK data after DEALLOCATE: %v at %d, want %d", st, at, mib)
	}
	// ALLOCATE past the end grows the file.
	mustOK(t, do(t, s, c4.Putfh(src), allocOp(opAllocate, sid, 2*mib, 4096)))
	res = mustOK(t, do(t, s, c4.Putfh(src), c4.Getattr(c4.FATTR4_SIZE)))
	if a, err := res.Ops[2].Attrs(); err != nil || a.Size != 2*mib+4096 {
		t.Fatalf("size after ALLOCATE: %+v %v", a, err)
	}
	for _, num := range []uint32{opAllocate, opDeallocate} {
		res = do(t, s, c4.Putfh(src), allocOp(num, sid, 0, 0))
		if res.Status != c4.NFS4ERR_INVAL {
			t.Errorf("op %d with length 0: %v, want NFS4ERR_INVAL", num, res.Status)
		}
	}

	// COPY the data at 1 MiB into a new file.
	res = mustOK(t, do(t, s, c4.Putfh(dir),
		c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_BOTH, 0, owner, "copy", c4.UNCHECKED4, c4.NewFattr()), c4.Getfh()))
	dst, dsid := fhOf(t, res.Ops[3]), stateidOf(t, res.Ops[2])
	res = mustOK(t, do(t, s, c4.Putfh(src), c4.Savefh(), c4.Putfh(dst), copyOp(sid, dsid, mib, 10, 4096)))
	body := res.Ops[len(res.Ops)-1].Body
	// write_response4: wr_callback_id<1> (empty), wr_count, wr_committed,
	// wr_writeverf; then copy_requirements4.
	if len(body) < 4+8+4+8+8 || binary.BigEndian.Uint32(body) != 0 || binary.BigEndian.Uint64(body[4:]) != 4096 {
		t.Fatalf("COPY result %x", body)
	}
	res = mustOK(t, do(t, s, c4.Putfh(dst), c4.Read(dsid, 10, 8192)))
	if rd, err := res.Ops[2].Read(); err != nil || !bytes.Equal(rd.Data, data) || !rd.EOF {
		t.Fatalf("READ of the copy: %d bytes, eof %v, %v", len(rd.Data), rd.EOF, err)
	}
	// Overlapping ranges of one file are refused.
	res = do(t, s, c4.Putfh(src), c4.Savefh(), c4.Putfh(src), copyOp(sid, sid, 0, 100, 4096))
	if res.Status != c4.NFS4ERR_INVAL {
		t.Errorf("overlapping COPY: %v, want NFS4ERR_INVAL", res.Status)
	}
	// In 4.1 these operations do not exist.
	s1 := ts.session(t, "space41")
	res = do(t, s1, c4.Putfh(src), seekOp(sid, 0, contentData))
	if res.Status != c4.NFS4ERR_OP_ILLEGAL {
		t.Errorf("SEEK in 4.1: %v, want NFS4ERR_OP_ILLEGAL", res.Status)
	}
}

// Extended attribute operations (RFC 8276).
const (
	opGetxattr    = 72
	opSetxattr    = 73
	opListxattrs  = 74
	opRemovexattr = 75
)

func xattrOp(num uint32, fields ...any) c4.Op {
	var w xdr.Writer
	for _, f := range fields {
		switch v := f.(type) {
		case uint32:
			w.Uint32(v)
		case uint64:
			w.Uint64(v)
		case string:
			w.String(v)
		case []byte:
			w.Opaque(v)
		}
	}
	return c4.Raw(num, w.B)
}

// TestXattrs: SETXATTR with its three options, GETXATTR, LISTXATTRS with
// cookies and REMOVEXATTR over the local backend's user namespace.
func TestXattrs(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s, err := ts.dial(t).NewSession(ctx(t), 2, []byte("xattr"), verf("xattr"))
	if err != nil {
		t.Fatal(err)
	}
	dir := rootFH(t, nil, 0, s, "a")
	owner := c4.StateOwner{Clientid: s.Clientid, Owner: []byte("oo")}
	res := mustOK(t, do(t, s, c4.Putfh(dir),
		c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_BOTH, 0, owner, "x", c4.UNCHECKED4, c4.NewFattr()), c4.Getfh()))
	f := fhOf(t, res.Ops[3])
	status := func(ops ...c4.Op) (c4.Status, []byte) {
		res := do(t, s, append([]c4.Op{c4.Putfh(f)}, ops...)...)
		last := res.Ops[len(res.Ops)-1]
		return last.Status, last.Body
	}
	for _, tc := range []struct {
		name string
		op   c4.Op
		want c4.Status
	}{
		{"get missing", xattrOp(opGetxattr, "k"), c4.NFS4ERR_NOXATTR},
		{"replace missing", xattrOp(opSetxattr, uint32(2), "k", []byte("v0")), c4.NFS4ERR_NOXATTR},
		{"create", xattrOp(opSetxattr, uint32(1), "k", []byte("v1")), c4.NFS4_OK},
		{"create existing", xattrOp(opSetxattr, uint32(1), "k", []byte("v2")), c4.NFS4ERR_EXIST},
		{"replace", xattrOp(opSetxattr, uint32(2), "k", []byte("value")), c4.NFS4_OK},
		{"either", xattrOp(opSetxattr, uint32(0), "j", []byte("")), c4.NFS4_OK},
		{"bad option", xattrOp(opSetxattr, uint32(3), "k", []byte("v")), c4.NFS4ERR_INVAL},
		{"empty name", xattrOp(opGetxattr, ""), c4.NFS4ERR_INVAL},
		{"too big", xattrOp(opSetxattr, uint32(0), "big", make([]byte, 64<<10+1)), c4.NFS4ERR_XATTR2BIG},
	} {
		if st, _ := status(tc.op); st != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, st, tc.want)
		}
	}
	st, body := status(xattrOp(opGetxattr, "k"))
	if st != c4.NFS4_OK || string(body[4:9]) != "value" {
		t.Fatalf("GETXATTR: %v %q", st, body)
	}
	// LISTXATTRS: both names, sorted; a maxcount for one name at a time
	// pages through them with the cookie.
	st, body = status(xattrOp(opListxattrs, uint64(0), uint32(4096)))
	if st != c4.NFS4_OK {
		t.Fatalf("LISTXATTRS: %v", st)
	}
	r := xdr.NewReader(body)
	cookie, n := r.Uint64(), r.Uint32()
	a, b := r.String(255), r.String(255)
	if eof := r.Bool(); r.Err() != nil || n != 2 || a != "j" || b != "k" || !eof || cookie != 2 {
		t.Fatalf("LISTXATTRS: cookie %d, %d names %q %q, eof %v, %v", cookie, n, a, b, eof, r.Err())
	}
	st, body = status(xattrOp(opListxattrs, uint64(1), uint32(24)))
	r = xdr.NewReader(body)
	if cookie, n := r.Uint64(), r.Uint32(); st != c4.NFS4_OK || cookie != 2 || n != 1 || r.String(255) != "k" {
		t.Fatalf("LISTXATTRS from cookie 1: %v cookie %d n %d", st, cookie, n)
	}
	if st, _ := status(xattrOp(opListxattrs, uint64(0), uint32(8))); st != c4.NFS4ERR_TOOSMALL {
		t.Errorf("LISTXATTRS maxcount 8: %v, want NFS4ERR_TOOSMALL", st)
	}
	if st, _ := status(xattrOp(opRemovexattr, "k")); st != c4.NFS4_OK {
		t.Errorf("REMOVEXATTR: %v", st)
	}
	if st, _ := status(xattrOp(opRemovexattr, "k")); st != c4.NFS4ERR_NOXATTR {
		t.Errorf("REMOVEXATTR again: %v, want NFS4ERR_NOXATTR", st)
	}
	if st, _ := status(xattrOp(opGetxattr, "k")); st != c4.NFS4ERR_NOXATTR {
		t.Errorf("GETXATTR after remove: %v", st)
	}
}
