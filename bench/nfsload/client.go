package main

// A small NFSv3 client (RFC 1813) and MOUNT v3 client over
// internal/oncrpc, encoding and decoding with the XDR types of
// internal/nfs3, so that the load generator speaks exactly what the
// server decodes.

import (
	"context"
	"errors"
	"fmt"

	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// statusError is an NFS reply whose nfsstat3 is not NFS3_OK.
type statusError struct {
	proc string
	stat nfs3.Stat
}

func (e *statusError) Error() string { return e.proc + ": " + e.stat.String() }

// isStat reports whether err is an NFS status error with status st.
func isStat(err error, st nfs3.Stat) bool {
	var se *statusError
	return errors.As(err, &se) && se.stat == st
}

// errGarbageReply is a reply the client could not decode.
var errGarbageReply = errors.New("undecodable reply")

// nfsc issues NFSv3 calls on one connection. It is not safe for concurrent
// use: every worker has its own nfsc (over a shared oncrpc.Client).
type nfsc struct {
	ctx  context.Context
	rpc  *oncrpc.Client
	cred oncrpc.Cred
	w    xdr.Writer
	r    xdr.Reader
	rpcs int64 // calls issued
}

func newNFSC(ctx context.Context, rpc *oncrpc.Client, cred oncrpc.Cred) *nfsc {
	return &nfsc{ctx: ctx, rpc: rpc, cred: cred}
}

// args returns the writer reset for a call's arguments.
func (n *nfsc) args() *xdr.Writer {
	n.w.B = n.w.B[:0]
	return &n.w
}

// call sends the arguments in n.w and returns a reader over the results.
func (n *nfsc) call(proc uint32) (*xdr.Reader, error) {
	n.rpcs++
	res, err := n.rpc.Call(n.ctx, oncrpc.ProgNFS, nfs3.Vers, proc, n.cred, n.w.B)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nfs3.ProcNames[proc], err)
	}
	n.r.Reset(res)
	return &n.r, nil
}

// done checks the decoding of a reply and its status.
func done(proc uint32, r *xdr.Reader, st nfs3.Stat) error {
	if r.Err() != nil {
		return fmt.Errorf("%s: %w: %v", nfs3.ProcNames[proc], errGarbageReply, r.Err())
	}
	if st != nfs3.NFS3OK {
		return &statusError{nfs3.ProcNames[proc], st}
	}
	return nil
}

func (n *nfsc) getattr(fh []byte, res *nfs3.GETATTR3res) error {
	a := nfs3.GETATTR3args{Object: fh}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcGETATTR)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcGETATTR, r, res.Status)
}

// lookup returns the handle of name in dir; it aliases the reply and is
// valid until the next call on n.
func (n *nfsc) lookup(dir []byte, name string, res *nfs3.LOOKUP3res) error {
	a := nfs3.LOOKUP3args{What: nfs3.Diropargs3{Dir: dir, Name: name}}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcLOOKUP)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcLOOKUP, r, res.Status)
}

func (n *nfsc) read(fh []byte, off uint64, count uint32, res *nfs3.READ3res) error {
	a := nfs3.READ3args{File: fh, Offset: off, Count: count}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcREAD)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcREAD, r, res.Status)
}

func (n *nfsc) write(fh []byte, off uint64, data []byte, stable vfs.Stability, res *nfs3.WRITE3res) error {
	a := nfs3.WRITE3args{File: fh, Offset: off, Count: uint32(len(data)), Stable: stable, Data: data}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcWRITE)
	if err != nil {
		return err
	}
	res.Decode(r)
	if err := done(nfs3.ProcWRITE, r, res.Status); err != nil {
		return err
	}
	if res.Count != uint32(len(data)) {
		return fmt.Errorf("WRITE: short write %d of %d bytes", res.Count, len(data))
	}
	if res.Committed < stable {
		return fmt.Errorf("WRITE: committed %d, asked %d", res.Committed, stable)
	}
	return nil
}

func (n *nfsc) commit(fh []byte, res *nfs3.COMMIT3res) error {
	a := nfs3.COMMIT3args{File: fh}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcCOMMIT)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcCOMMIT, r, res.Status)
}

// create makes a regular file with mode 0644 (truncated to size 0 when
// truncate is set, UNCHECKED; GUARDED otherwise) and returns its handle,
// which aliases the reply.
func (n *nfsc) create(dir []byte, name string, guarded, truncate bool, res *nfs3.CREATE3res) ([]byte, error) {
	a := nfs3.CREATE3args{Where: nfs3.Diropargs3{Dir: dir, Name: name}}
	a.How.Mode = vfs.Unchecked
	if guarded {
		a.How.Mode = vfs.Guarded
	}
	a.How.ObjAttributes.Valid = vfs.SetMode
	a.How.ObjAttributes.Mode = 0o644
	if truncate {
		a.How.ObjAttributes.Valid |= vfs.SetSize
	}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcCREATE)
	if err != nil {
		return nil, err
	}
	res.Decode(r)
	if err := done(nfs3.ProcCREATE, r, res.Status); err != nil {
		return nil, err
	}
	if res.Obj.Present {
		return res.Obj.Handle, nil
	}
	// The server may leave the handle out (RFC 1813 section 3.3.8).
	var lres nfs3.LOOKUP3res
	if err := n.lookup(dir, name, &lres); err != nil {
		return nil, err
	}
	return lres.Object, nil
}

func (n *nfsc) mkdir(dir []byte, name string, res *nfs3.MKDIR3res) error {
	a := nfs3.MKDIR3args{Where: nfs3.Diropargs3{Dir: dir, Name: name}}
	a.Attributes.Valid = vfs.SetMode
	a.Attributes.Mode = 0o755
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcMKDIR)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcMKDIR, r, res.Status)
}

func (n *nfsc) remove(dir []byte, name string, res *nfs3.REMOVE3res) error {
	a := nfs3.REMOVE3args{Object: nfs3.Diropargs3{Dir: dir, Name: name}}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcREMOVE)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcREMOVE, r, res.Status)
}

func (n *nfsc) rename(dir []byte, from, to string) error {
	a := nfs3.RENAME3args{From: nfs3.Diropargs3{Dir: dir, Name: from}, To: nfs3.Diropargs3{Dir: dir, Name: to}}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcRENAME)
	if err != nil {
		return err
	}
	var res nfs3.RENAME3res
	res.Decode(r)
	return done(nfs3.ProcRENAME, r, res.Status)
}

func (n *nfsc) readdirplus(a *nfs3.READDIRPLUS3args, res *nfs3.READDIRPLUS3res) error {
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcREADDIRPLUS)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcREADDIRPLUS, r, res.Status)
}

func (n *nfsc) fsinfo(fh []byte, res *nfs3.FSINFO3res) error {
	a := nfs3.FSINFO3args{Object: fh}
	a.Encode(n.args())
	r, err := n.call(nfs3.ProcFSINFO)
	if err != nil {
		return err
	}
	res.Decode(r)
	return done(nfs3.ProcFSINFO, r, res.Status)
}

// listDir reads the whole directory with READDIRPLUS (maxcount bytes a
// reply, and dircount = maxcount as recent Linux clients send; older ones
// sent maxcount/8) and calls fn for each entry
// other than "." and "..". It returns the number of calls made.
func (n *nfsc) listDir(dir []byte, maxcount uint32, res *nfs3.READDIRPLUS3res, fn func(e *nfs3.Entryplus3)) (int, error) {
	a := nfs3.READDIRPLUS3args{Dir: dir, Dircount: maxcount, Maxcount: maxcount}
	calls := 0
	for {
		calls++
		if err := n.readdirplus(&a, res); err != nil {
			return calls, err
		}
		for i := range res.Entries {
			e := &res.Entries[i]
			if e.Name != "." && e.Name != ".." {
				fn(e)
			}
		}
		if res.EOF {
			return calls, nil
		}
		if len(res.Entries) == 0 {
			return calls, errors.New("READDIRPLUS: no entry and no EOF")
		}
		a.Cookie = res.Entries[len(res.Entries)-1].Cookie
		a.Cookieverf = res.Cookieverf
		if calls > 1<<20 {
			return calls, errors.New("READDIRPLUS: directory does not end")
		}
	}
}

// mnt asks the MOUNT v3 server for the handle of path (MOUNTPROC3_MNT,
// RFC 1813 section 5.2.1).
func mnt(ctx context.Context, addr, path string, cred oncrpc.Cred) ([]byte, error) {
	c, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("mount: %w", err)
	}
	defer c.Close()
	var w xdr.Writer
	w.String(path)
	res, err := c.Call(ctx, oncrpc.ProgMount, mount.Vers3, mount.ProcMnt, cred, w.B)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", path, err)
	}
	r := xdr.NewReader(res)
	st := r.Uint32()
	if r.Err() == nil && st != 0 {
		return nil, fmt.Errorf("mount %s: status %d", path, st)
	}
	fh := r.Opaque(nfs3.FHSize3)
	if r.Err() != nil {
		return nil, fmt.Errorf("mount %s: %w: %v", path, errGarbageReply, r.Err())
	}
	return append([]byte(nil), fh...), nil
}
