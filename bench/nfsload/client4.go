package main

// The NFSv4.1 (RFC 8881) side of the load generator, over
// internal/nfs4/nfs4client: one client ID per nfsload process
// (EXCHANGE_ID), one session per connection (CREATE_SESSION, slots used
// concurrently by the connection's workers), and COMPOUNDs shaped like the
// Linux client's: SEQUENCE, PUTFH, the operation, and the GETATTR the
// Linux client adds to it.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
)

// Attribute sets the Linux client asks for (fs/nfs/nfs4proc.c).
var (
	// fattrBitmap is what GETATTR, LOOKUP and OPEN ask: the attributes of
	// struct nfs_fattr (nfs4_fattr_bitmap).
	fattrBitmap = c4.NewBitmap(c4.FATTR4_TYPE, c4.FATTR4_CHANGE, c4.FATTR4_SIZE, c4.FATTR4_FSID,
		c4.FATTR4_FILEID, c4.FATTR4_MODE, c4.FATTR4_NUMLINKS, c4.FATTR4_OWNER, c4.FATTR4_OWNER_GROUP,
		c4.FATTR4_RAWDEV, c4.FATTR4_SPACE_USED, c4.FATTR4_TIME_ACCESS, c4.FATTR4_TIME_METADATA,
		c4.FATTR4_TIME_MODIFY, c4.FATTR4_MOUNTED_ON_FILEID)
	// readdirBitmap is what READDIR asks for a "plus" listing: the same,
	// with rdattr_error and the filehandle (nfs4_readdir_bitmap).
	readdirBitmap = fattrBitmap.With(c4.FATTR4_RDATTR_ERROR).With(c4.FATTR4_FILEHANDLE)
	// postOpBitmap is what WRITE and CLOSE ask after the operation (the
	// cache consistency bitmask: change, size, ctime, mtime).
	postOpBitmap = c4.NewBitmap(c4.FATTR4_CHANGE, c4.FATTR4_SIZE, c4.FATTR4_TIME_METADATA, c4.FATTR4_TIME_MODIFY)
	// mountBitmap is asked of the export's root when mounting.
	mountBitmap = c4.NewBitmap(c4.FATTR4_TYPE, c4.FATTR4_FSID, c4.FATTR4_LEASE_TIME, c4.FATTR4_MAXREAD, c4.FATTR4_MAXWRITE)

	getattrOp = c4.GetattrBitmap(fattrBitmap)
	postOpOp  = c4.GetattrBitmap(postOpBitmap)
)

// openAccess is the ACCESS the Linux client sends in an OPEN COMPOUND.
const openAccess = c4.ACCESS4_READ | c4.ACCESS4_MODIFY | c4.ACCESS4_EXTEND | c4.ACCESS4_EXECUTE

// v4overhead is what a READ reply or WRITE call holds besides the data
// (RPC header, SEQUENCE, PUTFH, the operation's header), with room to
// spare: the transfer sizes are the session's sizes less this.
const v4overhead = 1024

// status4Error is a COMPOUND whose status is not NFS4_OK: the failing
// operation and its status.
type status4Error struct {
	op   string
	stat c4.Status
}

func (e *status4Error) Error() string { return e.op + ": " + e.stat.String() }

// isStat4 reports whether err is an NFSv4 status error of operation op
// with status st.
func isStat4(err error, op string, st c4.Status) bool {
	var se *status4Error
	return errors.As(err, &se) && se.stat == st && se.op == op
}

// v4env is the NFSv4.1 state of an env: the client ID, a session per
// connection, and the files opened for the run (closed at the end).
type v4env struct {
	minor    uint32
	clientid uint64
	clients  []*c4.Client
	sessions []*c4.ConcurrentSession
	owner    c4.StateOwner // the open-owner of every OPEN
	lease    uint32

	mu    sync.Mutex
	opens []*open4
}

// open4 is a file opened with OPEN.
type open4 struct {
	fh      []byte
	stateid c4.Stateid
	deleg   *c4.Stateid // a delegation granted with it, to return
	size    uint64
}

// conn4 issues COMPOUNDs on one session for one goroutine, counting them.
type conn4 struct {
	ctx  context.Context
	s    *c4.ConcurrentSession
	e    *v4env
	rpcs int64
}

func (v *v4env) conn(ctx context.Context, i int) *conn4 {
	return &conn4{ctx: ctx, s: v.sessions[i%len(v.sessions)], e: v}
}

// call sends SEQUENCE and ops. A status other than NFS4_OK is a
// *status4Error naming the failing operation.
func (c *conn4) call(ops ...c4.Op) (*c4.Result, error) {
	c.rpcs++
	res, err := c.s.Do(c.ctx, ops...)
	if err != nil {
		if errors.Is(err, c4.ErrBadReply) {
			return nil, fmt.Errorf("COMPOUND: %w: %v", errGarbageReply, err)
		}
		return nil, fmt.Errorf("COMPOUND: %w", err)
	}
	if res.Status != c4.NFS4_OK {
		op := "COMPOUND"
		if len(res.Ops) > 0 {
			op = c4.OpName(res.Last().Op)
		}
		return res, &status4Error{op, res.Status}
	}
	if len(res.Ops) != len(ops)+1 {
		return nil, fmt.Errorf("COMPOUND: %w: %d results for %d operations", errGarbageReply, len(res.Ops), len(ops)+1)
	}
	return res, nil
}

// garbage wraps the error of a result that does not decode.
func garbage(op string, err error) error { return fmt.Errorf("%s: %w: %v", op, errGarbageReply, err) }

// connect4 connects c.conns times, establishes the client ID and a
// session on each connection, and finds the export by PUTROOTFH and
// LOOKUP of each component of -export.
func connect4(ctx context.Context, c *config) (*env, error) {
	minor := uint32(1)
	if c.vers == "4.2" {
		minor = 2
	}
	e := &env{
		cfg:    c,
		server: net.JoinHostPort(c.addr, strconv.Itoa(c.nfsPort)),
		cred: oncrpc.AuthSysCred(oncrpc.AuthSysParams{
			Stamp: uint32(time.Now().Unix()), Machine: "nfsload", UID: uint32(c.uid), GID: uint32(c.gid),
		}),
		v4: &v4env{minor: minor},
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v := e.v4
	for range c.conns {
		cl, err := oncrpc.Dial(dctx, e.server)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("connect %s: %w", e.server, err)
		}
		e.clients = append(e.clients, cl)
		v.clients = append(v.clients, c4.New(cl, e.cred))
	}
	// One client ID for the process: a co_ownerid of its own, so that
	// runs do not take each other's state.
	host, _ := os.Hostname()
	owner := fmt.Sprintf("nfsload/%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
	var verf [c4.NFS4_VERIFIER_SIZE]byte
	rand.Read(verf[:])
	ex, err := v.clients[0].ExchangeID(dctx, minor, []byte(owner), verf)
	if err != nil {
		e.close()
		return nil, err
	}
	v.clientid = ex.Clientid
	v.owner = c4.StateOwner{Clientid: ex.Clientid, Owner: []byte("nfsload-open-owner")}
	// ca_maxrequestsize and ca_maxresponsesize: the largest transfer and
	// room for the headers; 64 slots, as the Linux client asks.
	msg := uint32(c.ioSize) + 16<<10
	fore := c4.ChannelAttrs{MaxRequestSize: msg, MaxResponseSize: msg, MaxResponseSizeCached: 8 << 10,
		MaxOperations: 16, MaxRequests: 64}
	seq := ex.Sequenceid
	for _, cl := range v.clients {
		s, err := cl.CreateSessionFor(dctx, minor, v.clientid, seq, fore)
		if err != nil {
			e.close()
			return nil, err
		}
		seq++
		v.sessions = append(v.sessions, s)
	}
	n := v.conn(dctx, 0)
	if _, err := n.call(c4.ReclaimComplete(false)); err != nil {
		e.close()
		return nil, err
	}
	// The mount: PUTROOTFH, LOOKUP of each component, GETFH, GETATTR.
	ops := []c4.Op{c4.Putrootfh()}
	for _, comp := range strings.Split(c.export, "/") {
		if comp != "" {
			ops = append(ops, c4.Lookup(comp))
		}
	}
	ops = append(ops, c4.Getfh(), c4.GetattrBitmap(mountBitmap))
	res, err := n.call(ops...)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("mount %s: %w", c.export, err)
	}
	fh, err := res.Ops[len(ops)-1].Getfh()
	if err != nil {
		e.close()
		return nil, garbage("GETFH", err)
	}
	attrs, err := res.Ops[len(ops)].Attrs()
	if err != nil {
		e.close()
		return nil, garbage("GETATTR", err)
	}
	if attrs.Type != c4.NF4DIR {
		e.close()
		return nil, fmt.Errorf("mount %s: type %d, not a directory", c.export, attrs.Type)
	}
	e.root = clone(fh)
	v.lease = attrs.LeaseTime
	fs := v.sessions[0].Fore
	e.rtmax = uint32(min(uint64(attrs.Maxread), uint64(fs.MaxResponseSize-min(fs.MaxResponseSize, v4overhead)))) &^ 4095
	e.wtmax = uint32(min(uint64(attrs.Maxwrite), uint64(fs.MaxRequestSize-min(fs.MaxRequestSize, v4overhead)))) &^ 4095
	if !attrs.Mask.Has(c4.FATTR4_MAXREAD) {
		e.rtmax = uint32(fs.MaxResponseSize-min(fs.MaxResponseSize, v4overhead)) &^ 4095
	}
	if !attrs.Mask.Has(c4.FATTR4_MAXWRITE) {
		e.wtmax = uint32(fs.MaxRequestSize-min(fs.MaxRequestSize, v4overhead)) &^ 4095
	}
	return e, nil
}

// close4 closes the files opened for the run and destroys the sessions
// and the client ID, so that the server keeps no state of the run. It
// returns the first error.
func (v *v4env) close4() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if len(v.sessions) == 0 {
		return nil
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	n := v.conn(ctx, 0)
	v.mu.Lock()
	opens := v.opens
	v.opens = nil
	v.mu.Unlock()
	for _, o := range opens {
		if err := n.closeFile(o); err != nil {
			keep(err)
		}
	}
	for _, s := range v.sessions {
		if err := s.Destroy(ctx); err != nil {
			keep(err)
		}
	}
	v.sessions = nil
	if err := v.clients[0].DestroyClientid(ctx, v.minor, v.clientid); err != nil {
		keep(err)
	}
	return first
}

// lookup returns the handle and attributes (type, size) of name in dir.
func (c *conn4) lookup(dir []byte, name string) ([]byte, *c4.AttrValues, error) {
	res, err := c.call(c4.Putfh(dir), c4.Lookup(name), c4.Getfh(), c4.Getattr(c4.FATTR4_TYPE, c4.FATTR4_SIZE))
	if err != nil {
		return nil, nil, err
	}
	fh, err := res.Ops[3].Getfh()
	if err != nil {
		return nil, nil, garbage("GETFH", err)
	}
	a, err := res.Ops[4].Attrs()
	if err != nil {
		return nil, nil, garbage("GETATTR", err)
	}
	return clone(fh), a, nil
}

// openFile opens name in dir (CLAIM_NULL, share access access, deny
// none) as the Linux client does: PUTFH, OPEN, GETFH, ACCESS, GETATTR.
// With create it creates the file (GUARDED4 when guarded, else UNCHECKED4
// truncating it to size 0), mode 0644.
func (c *conn4) openFile(dir []byte, name string, access uint32, create, guarded bool) (*open4, error) {
	a := c4.OpenArgs{ShareAccess: access, ShareDeny: c4.OPEN4_SHARE_DENY_NONE, Owner: c.e.owner,
		Claim: c4.CLAIM_NULL, File: name}
	if create {
		a.Create = true
		if guarded {
			a.Mode = c4.GUARDED4
			a.Attrs = c4.NewFattr(c4.Mode(0o644))
		} else {
			a.Mode = c4.UNCHECKED4
			a.Attrs = c4.NewFattr(c4.Mode(0o644), c4.Size(0))
		}
	}
	res, err := c.call(c4.Putfh(dir), c4.Open(a), c4.Getfh(), c4.Access(openAccess), getattrOp)
	if err != nil {
		return nil, err
	}
	or, err := res.Ops[2].Open()
	if err != nil {
		return nil, garbage("OPEN", err)
	}
	fh, err := res.Ops[3].Getfh()
	if err != nil {
		return nil, garbage("GETFH", err)
	}
	o := &open4{fh: clone(fh), stateid: or.Stateid}
	if t := or.Delegation.Type; t == c4.OPEN_DELEGATE_READ || t == c4.OPEN_DELEGATE_WRITE {
		d := or.Delegation.Stateid
		o.deleg = &d
	}
	f, err := res.Ops[5].Getattr()
	if err != nil {
		return nil, garbage("GETATTR", err)
	}
	if f.Mask.Has(c4.FATTR4_SIZE) {
		if a, err := f.Decode(); err == nil {
			o.size = a.Size
		}
	}
	return o, nil
}

// closeFile sends CLOSE (and GETATTR, as the Linux client does), then
// DELEGRETURN if a delegation came with the open.
func (c *conn4) closeFile(o *open4) error {
	_, err := c.call(c4.Putfh(o.fh), c4.Close(0, o.stateid), postOpOp)
	if o.deleg != nil {
		if _, derr := c.call(c4.Putfh(o.fh), c4.Delegreturn(*o.deleg)); err == nil {
			err = derr
		}
	}
	return err
}

// write sends WRITE (and GETATTR) and checks the reply.
func (c *conn4) write(putfh c4.Op, s c4.Stateid, off uint64, data []byte, stable uint32) error {
	res, err := c.call(putfh, c4.WriteData(s, off, stable, data), postOpOp)
	if err != nil {
		return err
	}
	wr, err := res.Ops[2].Write()
	if err != nil {
		return garbage("WRITE", err)
	}
	if wr.Count != uint32(len(data)) {
		return fmt.Errorf("WRITE: short write %d of %d bytes", wr.Count, len(data))
	}
	if wr.Committed < stable {
		return fmt.Errorf("WRITE: committed %d, asked %d", wr.Committed, stable)
	}
	return nil
}

// commit sends COMMIT of the whole file.
func (c *conn4) commit(putfh c4.Op) error {
	_, err := c.call(putfh, c4.Commit(0, 0))
	return err
}

// remove sends REMOVE of name in dir.
func (c *conn4) remove(putdir c4.Op, name string) error {
	_, err := c.call(putdir, c4.Remove(name))
	return err
}

// mkdir creates directory name in dir (mode 0755) and returns its handle.
func (c *conn4) mkdir(dir []byte, name string) ([]byte, error) {
	res, err := c.call(c4.Putfh(dir), c4.Mkdir(name, c4.NewFattr(c4.Mode(0o755))), c4.Getfh())
	if err != nil {
		return nil, err
	}
	fh, err := res.Ops[3].Getfh()
	if err != nil {
		return nil, garbage("GETFH", err)
	}
	return clone(fh), nil
}

// rename renames from to to in dir.
func (c *conn4) rename(dir []byte, from, to string) error {
	_, err := c.call(c4.Putfh(dir), c4.Savefh(), c4.Putfh(dir), c4.Rename(from, to))
	return err
}

// listDir reads the whole directory with READDIR (maxcount bytes a
// reply, dircount the same, attributes attrs) and calls fn for each
// entry. It returns the number of calls made.
func (c *conn4) listDir(dir []byte, maxcount uint32, attrs c4.Bitmap, fn func(e *c4.Entry)) (int, error) {
	putdir := c4.Putfh(dir)
	var cookie uint64
	var verf [c4.NFS4_VERIFIER_SIZE]byte
	calls := 0
	for {
		calls++
		res, err := c.call(putdir, c4.Readdir(cookie, verf, maxcount, maxcount, attrs))
		if err != nil {
			return calls, err
		}
		rd, err := res.Ops[2].Readdir()
		if err != nil {
			return calls, garbage("READDIR", err)
		}
		for i := range rd.Entries {
			fn(&rd.Entries[i])
		}
		if rd.EOF {
			return calls, nil
		}
		if len(rd.Entries) == 0 {
			return calls, errors.New("READDIR: no entry and no EOF")
		}
		cookie = rd.Entries[len(rd.Entries)-1].Cookie
		verf = rd.Cookieverf
		if calls > 1<<20 {
			return calls, errors.New("READDIR: directory does not end")
		}
	}
}
