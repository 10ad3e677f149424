// Package nfs3 implements NFS version 3, program 100003 version 3 (RFC
// 1813), for one virtual server, on top of the backend interface of
// package vfs.
//
// Every call resolves its file handle (package fh: a malformed, over-long
// or forged handle is NFS3ERR_BADHANDLE; a valid one naming an export that
// no longer exists, or an object the backend no longer has, is
// NFS3ERR_STALE), checks that the client may use the export (else
// NFS3ERR_ACCES), maps the caller's AUTH_SYS identity with the export's
// squash rules, and refuses every modifying procedure on a read-only
// export with NFS3ERR_ROFS.
//
// Modifying procedures return weak cache consistency data (RFC 1813
// section 2.6): the object's size, mtime and ctime before the call and its
// attributes after, on success and failure alike. For SETATTR and the
// procedures that change directories, the "before" attributes, the change
// and the "after" attributes are taken under a lock of the object (striped
// by object ID), so that two calls through this server never interleave
// between them and a client may trust that nothing else happened in
// between (the Linux nfsd gets the same from the inode lock). WRITE and
// COMMIT take no such lock, so that parallel writes to one file are not
// serialized: their "before" attributes may include a concurrent write.
// Clients do not depend on them there (the Linux nfsd and NFS-Ganesha do
// not even send them for WRITE, and the Linux client keeps its cached data
// of a file it has open for writing whatever they say).
//
// Where RFC 1813 leaves a choice, this package does what the Linux nfsd
// does, and says so next to the code. It departs from the Linux nfsd on
// purpose where the RFC has a status for the case: a name longer than
// NAME_MAX is NFS3ERR_NAMETOOLONG and a handle longer than NFS3_FHSIZE
// NFS3ERR_BADHANDLE (nfsd: GARBAGE_ARGS for both); a backend error without
// an NFSv3 status is NFS3ERR_SERVERFAULT (nfsd: NFS3ERR_IO), logged; a
// stable_how outside the enum is GARBAGE_ARGS; FSSTAT, FSINFO and PATHCONF
// return the object's attributes (nfsd sends none); READDIRPLUS honours
// dircount (nfsd ignores it); the fsid of every object is its export's id.
package nfs3

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Vers is the version of the NFS program implemented here.
const Vers = 3

// Procedure numbers (RFC 1813 section 3.3).
const (
	ProcNULL        = 0
	ProcGETATTR     = 1
	ProcSETATTR     = 2
	ProcLOOKUP      = 3
	ProcACCESS      = 4
	ProcREADLINK    = 5
	ProcREAD        = 6
	ProcWRITE       = 7
	ProcCREATE      = 8
	ProcMKDIR       = 9
	ProcSYMLINK     = 10
	ProcMKNOD       = 11
	ProcREMOVE      = 12
	ProcRMDIR       = 13
	ProcRENAME      = 14
	ProcLINK        = 15
	ProcREADDIR     = 16
	ProcREADDIRPLUS = 17
	ProcFSSTAT      = 18
	ProcFSINFO      = 19
	ProcPATHCONF    = 20
	ProcCOMMIT      = 21
	numProcs        = 22
)

// ProcNames are the RFC 1813 names of the procedures, by number.
var ProcNames = [numProcs]string{
	"NULL", "GETATTR", "SETATTR", "LOOKUP", "ACCESS", "READLINK", "READ",
	"WRITE", "CREATE", "MKDIR", "SYMLINK", "MKNOD", "REMOVE", "RMDIR",
	"RENAME", "LINK", "READDIR", "READDIRPLUS", "FSSTAT", "FSINFO",
	"PATHCONF", "COMMIT",
}

// DefaultMaxIO is the largest READ and WRITE transfer (and READDIR reply)
// when Config.MaxIO is 0.
const DefaultMaxIO = 1 << 20

// minMaxIO is the smallest transfer size accepted (smaller values are
// raised to it).
const minMaxIO = 4096

// Config configures a Server.
type Config struct {
	// Exports returns the current export table (its owner swaps it
	// atomically; it is called once per call).
	Exports func() *export.Table
	// Handles makes and checks the file handles.
	Handles *fh.Codec
	// WriteVerf is the write verifier (RFC 1813 section 3.3.7): a new
	// value at every server start, so that clients resend the unstable
	// writes a restart may have lost.
	WriteVerf [WriteVerfSize]byte
	// MaxIO is rtmax, wtmax and dtpref; 0 means DefaultMaxIO.
	MaxIO uint32
	// Logger receives backend errors that have no NFSv3 status; nil
	// discards.
	Logger *slog.Logger
	// Delegations, if not nil, are the NFSv4 delegations of the same
	// virtual server: WRITE, SETATTR, REMOVE, RENAME and LINK of a
	// delegated file start their recall and answer NFS3ERR_JUKEBOX until
	// they are back (as Linux nfsd does), so that an NFSv4 client's
	// cached view of the file stays true.
	Delegations Delegations
}

// Delegations is what NFSv3 needs of the NFSv4 delegations of its
// virtual server.
type Delegations interface {
	// Any reports whether any delegation is out.
	Any() bool
	// Conflict reports whether the object id of export has delegations
	// that must come back before it changes, and starts their recall.
	Conflict(export uint32, id vfs.ID) bool
}

// lockStripes is the number of locks that serialize the calls changing
// one object (see the package comment).
const lockStripes = 256

// Server is the NFSv3 program of one virtual server. It is safe for
// concurrent use.
type Server struct {
	exports func() *export.Table
	handles *fh.Codec
	maxIO   uint32
	log     *slog.Logger
	delegs  Delegations
	verf    atomic.Uint64 // the current write verifier
	seed    maphash.Seed
	locks   [lockStripes]sync.Mutex
	pool    sync.Pool // of *request
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Exports == nil || cfg.Handles == nil {
		panic("nfs3: Config needs Exports and Handles")
	}
	s := &Server{exports: cfg.Exports, handles: cfg.Handles, maxIO: cfg.MaxIO, log: cfg.Logger, seed: maphash.MakeSeed(),
		delegs: cfg.Delegations}
	if s.maxIO == 0 {
		s.maxIO = DefaultMaxIO
	}
	if s.maxIO < minMaxIO {
		s.maxIO = minMaxIO
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.verf.Store(binary.BigEndian.Uint64(cfg.WriteVerf[:]))
	s.pool.New = func() any {
		q := &request{s: s}
		q.rd.q = q
		q.rd.fn = q.rd.entry // bound once: a method value allocates
		return q
	}
	return s
}

// Program returns the NFS program for an oncrpc mux.
//
// The duplicate request cache answers retransmissions of the procedures
// the Linux nfsd caches (RC_REPLBUFF and RC_REPLSTAT in nfs3proc.c):
// SETATTR, WRITE, CREATE, MKDIR, SYMLINK, MKNOD, REMOVE, RMDIR, RENAME and
// LINK. COMMIT is not cached (nfsd: RC_NOCACHE): repeating it is harmless.
func (s *Server) Program() oncrpc.Program {
	return oncrpc.Program{
		Name:          "nfs",
		Prog:          oncrpc.ProgNFS,
		Low:           Vers,
		High:          Vers,
		NonIdempotent: NonIdempotent,
		Handler:       s,
	}
}

// NonIdempotent reports whether NFSv3 procedure proc must be answered from
// the duplicate request cache when retransmitted.
func NonIdempotent(vers, proc uint32) bool {
	if vers != Vers {
		return false
	}
	switch proc {
	case ProcSETATTR, ProcWRITE, ProcCREATE, ProcMKDIR, ProcSYMLINK, ProcMKNOD,
		ProcREMOVE, ProcRMDIR, ProcRENAME, ProcLINK:
		return true
	}
	return false
}

// WriteVerf returns the current write verifier.
func (s *Server) WriteVerf() [WriteVerfSize]byte {
	var v [WriteVerfSize]byte
	binary.BigEndian.PutUint64(v[:], s.verf.Load())
	return v
}

// storageFailed changes the write verifier after a WRITE or COMMIT failed
// in a way that may have lost data written earlier, so that clients
// resend their uncommitted writes (the Linux nfsd resets its verifier on
// any write or fsync error but EAGAIN and ESTALE; errors of permission,
// range and type are checked before anything is written, so they are
// left out here).
func (s *Server) storageFailed(st Stat) {
	switch st {
	case NFS3ErrIO, NFS3ErrNoSpc, NFS3ErrDQuot, NFS3ErrServerFault:
		s.verf.Add(1)
	}
}

// procs are the procedures by number (NULL is answered in ServeRPC).
var procs = [numProcs]func(q *request) error{
	ProcGETATTR:     (*request).getattr,
	ProcSETATTR:     (*request).setattr,
	ProcLOOKUP:      (*request).lookup,
	ProcACCESS:      (*request).access,
	ProcREADLINK:    (*request).readlink,
	ProcREAD:        (*request).read,
	ProcWRITE:       (*request).write,
	ProcCREATE:      (*request).create,
	ProcMKDIR:       (*request).mkdir,
	ProcSYMLINK:     (*request).symlink,
	ProcMKNOD:       (*request).mknod,
	ProcREMOVE:      (*request).remove,
	ProcRMDIR:       (*request).rmdir,
	ProcRENAME:      (*request).rename,
	ProcLINK:        (*request).link,
	ProcREADDIR:     (*request).readdir,
	ProcREADDIRPLUS: (*request).readdirplus,
	ProcFSSTAT:      (*request).fsstat,
	ProcFSINFO:      (*request).fsinfo,
	ProcPATHCONF:    (*request).pathconf,
	ProcCOMMIT:      (*request).commit,
}

// ServeRPC implements oncrpc.Handler: it decodes the arguments of
// call.Proc from call.Args and appends the results to reply. Undecodable
// arguments give oncrpc.ErrGarbageArgs (trailing bytes are ignored), an
// unknown procedure oncrpc.ErrProcUnavail; every other outcome is an
// nfsstat3 in the reply.
func (s *Server) ServeRPC(ctx context.Context, call *oncrpc.Call, reply *xdr.Writer) error {
	if call.Proc == ProcNULL {
		return nil
	}
	if call.Proc >= numProcs {
		return oncrpc.ErrProcUnavail
	}
	q := s.pool.Get().(*request)
	q.ctx, q.call, q.w = ctx, call, reply
	q.r.Reset(call.Args)
	err := procs[call.Proc](q)
	q.reset()
	s.pool.Put(q)
	return err
}

// request is the state of one call; requests are pooled, so that what the
// backend interface takes by pointer (the identity, the attributes to
// set) does not need an allocation per call.
type request struct {
	s     *Server
	ctx   context.Context
	call  *oncrpc.Call
	w     *xdr.Writer
	r     xdr.Reader
	table *export.Table
	cred  vfs.Cred
	// haveCred is set once cred is that of the call.
	haveCred bool
	sa       vfs.SetAttr
	guard    vfs.Timespec
	rd       dirLister
}

func (q *request) reset() {
	q.ctx, q.call, q.w, q.table = nil, nil, nil, nil
	q.r.Reset(nil)
	q.cred, q.haveCred = vfs.Cred{}, false
	q.rd.reset()
}

// garbage reports whether the arguments failed to decode.
func (q *request) garbage() bool { return q.r.Err() != nil }

// resolve checks handle h and returns its export and object ID, or the
// status to answer with: NFS3ERR_BADHANDLE for a handle that is longer than
// NFS3_FHSIZE or fails verification, NFS3ERR_STALE for an export that no
// longer exists, NFS3ERR_ACCES for a client the export does not admit.
// The identity of the call is taken from the first export resolved.
func (q *request) resolve(h []byte) (*export.Export, vfs.ID, Stat) {
	if len(h) > FHSize3 {
		return nil, nil, NFS3ErrBadHandle
	}
	eid, id, err := q.s.handles.Decode(h)
	if err != nil {
		return nil, nil, NFS3ErrBadHandle
	}
	if q.table == nil {
		q.table = q.s.exports()
	}
	exp := q.table.ByID(eid)
	if exp == nil {
		return nil, nil, NFS3ErrStale
	}
	if !exp.Allowed(q.call.Remote.Addr()) {
		return nil, nil, NFS3ErrAcces
	}
	if !q.haveCred {
		q.cred, q.haveCred = exp.Cred(q.call), true
	}
	return exp, id, NFS3OK
}

// writable returns NFS3ERR_ROFS for a read-only export.
func writable(exp *export.Export) Stat {
	if exp.ReadOnly {
		return NFS3ErrROFS
	}
	return NFS3OK
}

// status maps a backend error to nfsstat3, logging errors that have no
// NFSv3 status.
func (q *request) status(err error) Stat {
	st, known := statusOf(err)
	if !known {
		q.s.log.Warn("nfs3: backend error has no NFSv3 status, answering NFS3ERR_SERVERFAULT",
			"proc", ProcNames[q.call.Proc], "client", q.call.Remote.String(), "err", err)
	}
	return st
}

// fsid is the fsid attribute of the objects of exp: its export id, so
// that every export is one file system to clients, distinct from every
// other export of the server (the Linux client shares one superblock
// between mounts of equal fsid, and treats an fsid change below a mount
// as a mount point).
func fsid(exp *export.Export) uint64 { return uint64(exp.ID) }

// putAttr appends the fattr3 of a.
func (q *request) putAttr(exp *export.Export, a *vfs.Attr) {
	f := FattrFromVFS(a, fsid(exp))
	f.Encode(q.w)
}

// putPostOpAttr appends a post_op_attr holding a.
func (q *request) putPostOpAttr(exp *export.Export, a *vfs.Attr) {
	q.w.Bool(true)
	q.putAttr(exp, a)
}

// putPostOp appends the post_op_attr of id, fetched now; absent if exp is
// nil or the attributes cannot be had.
func (q *request) putPostOp(exp *export.Export, id vfs.ID) {
	if exp == nil {
		q.w.Bool(false)
		return
	}
	a, err := exp.FS.GetAttr(q.ctx, id)
	if err != nil {
		q.w.Bool(false)
		return
	}
	q.putPostOpAttr(exp, &a)
}

// wcc collects the weak cache consistency data of one object.
type wcc struct {
	pre, post         vfs.Attr
	havePre, havePost bool
}

// before fetches the attributes before a change; the error is that of
// the backend (an object that is gone: the call fails with it).
func (c *wcc) before(q *request, exp *export.Export, id vfs.ID) error {
	a, err := exp.FS.GetAttr(q.ctx, id)
	if err != nil {
		return err
	}
	c.pre, c.havePre = a, true
	return nil
}

// after fetches the attributes after a change (or a failed attempt).
func (c *wcc) after(q *request, exp *export.Export, id vfs.ID) {
	if exp == nil {
		return
	}
	a, err := exp.FS.GetAttr(q.ctx, id)
	if err != nil {
		return
	}
	c.post, c.havePost = a, true
}

// put appends the wcc_data.
func (c *wcc) put(q *request, exp *export.Export) {
	if c.havePre {
		pre := PreOpFromVFS(&c.pre)
		pre.Encode(q.w)
	} else {
		q.w.Bool(false)
	}
	q.w.Bool(c.havePost)
	if c.havePost {
		q.putAttr(exp, &c.post)
	}
}

// lockIndex returns the stripe of object id. The export is left out: one
// directory may be exported several times (read-write and read-only, with
// different squashing) through the same backend. Objects of different
// backends with equal IDs merely share a stripe.
func (s *Server) lockIndex(id vfs.ID) int {
	return int(maphash.Bytes(s.seed, id) % lockStripes)
}

// locked runs body with the stripes of objects id1 and id2 (nil: only
// id1) locked, in index order so that two calls locking the same pair
// cannot deadlock; the locks are released even if the backend panics.
func (q *request) locked(id1, id2 vfs.ID, body func() error) error {
	i := q.s.lockIndex(id1)
	j := i
	if id2 != nil {
		j = q.s.lockIndex(id2)
	}
	if i > j {
		i, j = j, i
	}
	q.s.locks[i].Lock()
	defer q.s.locks[i].Unlock()
	if j != i {
		q.s.locks[j].Lock()
		defer q.s.locks[j].Unlock()
	}
	return body()
}

// putHandle appends the nfs_fh3 of object id of exp, written in place.
// The backend guarantees IDs of at most vfs.MaxIDLen bytes; a longer one
// (a backend bug) gives false and nothing is written.
func (q *request) putHandle(exp *export.Export, id vfs.ID) bool {
	if len(id) == 0 || len(id) > fh.MaxIDLen {
		return false
	}
	n := fh.Overhead + len(id)
	q.w.Uint32(uint32(n))
	q.w.B = q.s.handles.Append(q.w.B, exp.ID, id)
	var zero [4]byte
	q.w.B = append(q.w.B, zero[:xdr.Pad(n)]...)
	return true
}
