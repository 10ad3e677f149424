package nfs3

// The procedures of RFC 1813 section 3.3, in its order (READDIR and
// READDIRPLUS are in readdir.go).

import (
	"errors"
	"math"
	"syscall"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// maxOffset is the largest file offset (OFFSET_MAX of Linux).
const maxOffset = math.MaxInt64

// Status of an empty name and of "." or "..", per procedure, as the Linux
// nfsd answers them (an empty name: lookup_one_len's EACCES for LOOKUP,
// nfserr_perm in nfsd_create, nfsd_rename and nfsd_link, nfserr_acces in
// nfsd_unlink, nfserr_noent in nfsd_symlink; a dot name: nfserr_exist
// when creating, nfserr_acces when removing, nfserr_perm when renaming).
// A name longer than NAME_MAX is NFS3ERR_NAMETOOLONG everywhere (the
// Linux nfsd refuses it as GARBAGE_ARGS; the RFC has a status for it).
type nameRule struct{ empty, dot Stat }

var (
	lookupName = nameRule{NFS3ErrAcces, NFS3OK} // "." and ".." are looked up
	createName = nameRule{NFS3ErrPerm, NFS3ErrExist}
	symName    = nameRule{NFS3ErrNoEnt, NFS3ErrExist}
	removeName = nameRule{NFS3ErrAcces, NFS3ErrAcces}
	renameName = nameRule{NFS3ErrPerm, NFS3ErrPerm}
	linkName   = nameRule{NFS3ErrPerm, NFS3ErrExist}
)

func (nr nameRule) check(name string) Stat {
	switch {
	case name == "":
		return nr.empty
	case len(name) > vfs.MaxNameLen:
		return NFS3ErrNameTooLong
	case nr.dot != NFS3OK && (name == "." || name == ".."):
		return nr.dot
	}
	return NFS3OK
}

// GETATTR (RFC 1813 section 3.3.1).
func (q *request) getattr() error {
	var a GETATTR3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.Object)
	if st != NFS3OK {
		q.w.Uint32(uint32(st))
		return nil
	}
	attr, err := exp.FS.GetAttr(q.ctx, id)
	if err != nil {
		q.w.Uint32(uint32(q.status(err)))
		return nil
	}
	q.w.Uint32(uint32(NFS3OK))
	q.putAttr(exp, &attr)
	return nil
}

// SETATTR (section 3.3.2). With a guard, the backend compares the ctime
// and answers EAGAIN on a mismatch: NFS3ERR_NOT_SYNC.
func (q *request) setattr() error {
	var a SETATTR3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	var c wcc
	exp, id, st := q.resolve(a.Object)
	if st == NFS3OK {
		st = writable(exp)
	}
	if st == NFS3OK {
		st = q.delegated(exp, id)
	}
	if st != NFS3OK {
		c.after(q, exp, id)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	q.sa = vfs.SetAttr(a.NewAttributes)
	var guard *vfs.Timespec
	if a.Guard.Check {
		q.guard = a.Guard.ObjCtime.Timespec()
		guard = &q.guard
	}
	err := q.locked(id, nil, func() error {
		err := c.before(q, exp, id)
		if err == nil {
			var attr vfs.Attr
			if attr, err = exp.FS.SetAttr(q.ctx, &q.cred, id, &q.sa, guard); err == nil {
				c.post, c.havePost = attr, true // the attributes after the change
				return nil
			}
		}
		c.after(q, exp, id)
		return err
	})
	st = q.status(err)
	if guard != nil && isErrno(err, syscall.EAGAIN) {
		st = NFS3ErrNotSync
	}
	q.w.Uint32(uint32(st))
	c.put(q, exp)
	return nil
}

// isErrno reports whether err is (or wraps) errno e.
func isErrno(err error, e syscall.Errno) bool {
	if err == nil {
		return false
	}
	got, ok := err.(syscall.Errno)
	if !ok {
		return errors.As(err, &got) && got == e
	}
	return got == e
}

// LOOKUP (section 3.3.3).
func (q *request) lookup() error {
	var a LOOKUP3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, dir, st := q.resolve(a.What.Dir)
	if st == NFS3OK {
		st = lookupName.check(a.What.Name)
	}
	if st != NFS3OK {
		return q.failPostOp(st, exp, dir)
	}
	id, attr, err := exp.FS.Lookup(q.ctx, &q.cred, dir, a.What.Name)
	if err != nil {
		return q.failPostOp(q.status(err), exp, dir)
	}
	start := q.w.Len()
	q.w.Uint32(uint32(NFS3OK))
	if !q.putHandle(exp, id) {
		q.w.Truncate(start)
		return q.failPostOp(q.badID(id), exp, dir)
	}
	q.putPostOpAttr(exp, &attr)
	q.putPostOp(exp, dir)
	return nil
}

// badID logs a backend object ID that does not fit in a file handle.
func (q *request) badID(id vfs.ID) Stat {
	q.s.log.Error("nfs3: backend returned an object id that does not fit in a file handle",
		"proc", ProcNames[q.call.Proc], "len", len(id))
	return NFS3ErrServerFault
}

// The ACCESS3 bits that ask to change something.
const accessChange = vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete

// ACCESS (section 3.3.4). Bits the RFC does not define are ignored; on a
// read-only export MODIFY, EXTEND and DELETE are never granted.
func (q *request) access() error {
	var a ACCESS3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.Object)
	if st != NFS3OK {
		return q.failPostOp(st, nil, nil)
	}
	want := a.Access & (vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete | vfs.AccessExecute)
	if exp.ReadOnly {
		want &^= accessChange
	}
	granted, err := exp.FS.Access(q.ctx, &q.cred, id, want)
	if err != nil {
		return q.failPostOp(q.status(err), exp, id)
	}
	q.w.Uint32(uint32(NFS3OK))
	q.putPostOp(exp, id)
	q.w.Uint32(granted & want)
	return nil
}

// failPostOp ends a reply whose failure arm is a status and the object's
// post_op_attr (exp nil: no attributes), as most procedures' are.
func (q *request) failPostOp(st Stat, exp *export.Export, id vfs.ID) error {
	q.w.Uint32(uint32(st))
	q.putPostOp(exp, id)
	return nil
}

// READLINK (section 3.3.5).
func (q *request) readlink() error {
	var a READLINK3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.Symlink)
	if st != NFS3OK {
		return q.failPostOp(st, nil, nil)
	}
	target, err := exp.FS.ReadLink(q.ctx, &q.cred, id)
	if err != nil {
		return q.failPostOp(q.status(err), exp, id)
	}
	q.w.Uint32(uint32(NFS3OK))
	q.putPostOp(exp, id)
	q.w.String(target)
	return nil
}

// READ (section 3.3.6). The count is limited to MaxIO and the range to
// OFFSET_MAX, as in the Linux nfsd. The data is read straight into the
// reply; the attributes, fetched after the read, are written in front of
// it in the space reserved for them.
func (q *request) read() error {
	var a READ3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.File)
	if st != NFS3OK {
		return q.failPostOp(st, nil, nil)
	}
	count, off := uint64(min(a.Count, q.s.maxIO)), a.Offset
	if off > maxOffset {
		off = maxOffset
	}
	if off+count > maxOffset {
		count = maxOffset - off
	}
	w := q.w
	start := w.Len()
	// status | post_op_attr (with attributes) | count | eof | data length | data
	w.Grow(4 + postOpMaxSize + 12)
	dataOff := w.Len()
	buf := w.Grow(int(count))
	n, eof, err := exp.FS.Read(q.ctx, &q.cred, id, buf, off)
	if err != nil {
		w.Truncate(start)
		w.Uint32(uint32(q.status(err)))
		q.putPostOp(exp, id)
		return nil
	}
	n = max(0, min(n, len(buf)))
	w.Truncate(dataOff + n)
	var zero [4]byte
	w.B = append(w.B, zero[:xdr.Pad(n)]...)
	b := w.B[start:]
	be.PutUint32(b, uint32(NFS3OK))
	meta := 4 + postOpMaxSize
	if attr, err := exp.FS.GetAttr(q.ctx, id); err == nil {
		be.PutUint32(b[4:], 1)
		f := FattrFromVFS(&attr, fsid(exp))
		putFattr3(b[8:8+fattr3Size], &f)
	} else {
		// No attributes after all: close the gap.
		be.PutUint32(b[4:], 0)
		copy(b[8:], b[8+fattr3Size:])
		w.Truncate(len(w.B) - fattr3Size)
		b = w.B[start:]
		meta = 8
	}
	be.PutUint32(b[meta:], uint32(n))
	be.PutUint32(b[meta+4:], boolWord(eof))
	be.PutUint32(b[meta+8:], uint32(n))
	return nil
}

func boolWord(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// WRITE (section 3.3.7). As in the Linux nfsd, data beyond MaxIO is not
// written (the reply's count says how much was; the client sends the
// rest again) and a range beyond OFFSET_MAX is NFS3ERR_FBIG.
func (q *request) write() error {
	var a WRITE3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	var c wcc
	exp, id, st := q.resolve(a.File)
	if st == NFS3OK {
		st = writable(exp)
	}
	data := a.Data
	if uint32(len(data)) > q.s.maxIO {
		data = data[:q.s.maxIO]
	}
	if st == NFS3OK && (a.Offset > maxOffset || a.Offset+uint64(len(data)) > maxOffset) {
		st = NFS3ErrFBig
	}
	if st == NFS3OK {
		st = q.delegated(exp, id)
	}
	if st != NFS3OK {
		c.after(q, exp, id)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	var n int
	committed := a.Stable
	err := c.before(q, exp, id)
	if err == nil {
		n, committed, err = exp.FS.Write(q.ctx, &q.cred, id, data, a.Offset, a.Stable)
	}
	c.after(q, exp, id)
	if err != nil {
		st = q.status(err)
		q.s.storageFailed(st)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	q.w.Uint32(uint32(NFS3OK))
	c.put(q, exp)
	q.w.Uint32(uint32(max(0, min(n, len(data)))))
	q.w.Uint32(uint32(committed))
	v := q.s.WriteVerf()
	q.w.Fixed(v[:])
	return nil
}

// makeObject runs a procedure that makes an object named name in
// directory dirFH (CREATE, MKDIR, SYMLINK, MKNOD): it resolves and checks
// the directory and the name, and if pre returns NFS3OK calls mk with the
// directory's lock held and its attributes taken before and after.
// The reply is diropres3 (post_op_fh3, post_op_attr, wcc_data).
func (q *request) makeObject(dirFH []byte, name string, rule nameRule, pre Stat,
	mk func(exp *export.Export, dir vfs.ID) (vfs.ID, vfs.Attr, error)) error {
	var c wcc
	exp, dir, st := q.resolve(dirFH)
	if st == NFS3OK {
		st = writable(exp)
	}
	if st == NFS3OK {
		st = rule.check(name)
	}
	if st == NFS3OK {
		st = pre
	}
	if st != NFS3OK {
		c.after(q, exp, dir)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	var id vfs.ID
	var attr vfs.Attr
	err := q.locked(dir, nil, func() (err error) {
		if err = c.before(q, exp, dir); err == nil {
			id, attr, err = mk(exp, dir)
		}
		c.after(q, exp, dir)
		return err
	})
	if err != nil {
		q.w.Uint32(uint32(q.status(err)))
		c.put(q, exp)
		return nil
	}
	start := q.w.Len()
	q.w.Uint32(uint32(NFS3OK))
	q.w.Bool(true) // post_op_fh3
	if !q.putHandle(exp, id) {
		q.w.Truncate(start)
		q.w.Uint32(uint32(q.badID(id)))
		c.put(q, exp)
		return nil
	}
	q.putPostOpAttr(exp, &attr)
	c.put(q, exp)
	return nil
}

// CREATE (section 3.3.8): UNCHECKED, GUARDED and EXCLUSIVE (the backend
// keeps the createverf3 with the file, so that a retransmitted exclusive
// create with the same verifier succeeds and one with another fails with
// NFS3ERR_EXIST).
func (q *request) create() error {
	var a CREATE3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	q.sa = vfs.SetAttr(a.How.ObjAttributes)
	return q.makeObject(a.Where.Dir, a.Where.Name, createName, NFS3OK, func(exp *export.Export, dir vfs.ID) (vfs.ID, vfs.Attr, error) {
		return exp.FS.Create(q.ctx, &q.cred, dir, a.Where.Name, a.How.Mode, &q.sa, a.How.Verf)
	})
}

// MKDIR (section 3.3.9). A size in the attributes is ignored (nfsd).
func (q *request) mkdir() error {
	var a MKDIR3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	q.sa = vfs.SetAttr(a.Attributes)
	q.sa.Valid &^= vfs.SetSize
	return q.makeObject(a.Where.Dir, a.Where.Name, createName, NFS3OK, func(exp *export.Export, dir vfs.ID) (vfs.ID, vfs.Attr, error) {
		return exp.FS.Mkdir(q.ctx, &q.cred, dir, a.Where.Name, &q.sa)
	})
}

// SYMLINK (section 3.3.10). An empty target is NFS3ERR_INVAL and one
// longer than PATH_MAX NFS3ERR_NAMETOOLONG (nfsd3_proc_symlink).
func (q *request) symlink() error {
	var a SYMLINK3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	pre := NFS3OK
	switch {
	case len(a.SymlinkData) == 0:
		pre = NFS3ErrInval
	case len(a.SymlinkData) > vfs.MaxPathLen:
		pre = NFS3ErrNameTooLong
	}
	q.sa = vfs.SetAttr(a.SymlinkAttributes)
	q.sa.Valid &^= vfs.SetSize
	return q.makeObject(a.Where.Dir, a.Where.Name, symName, pre, func(exp *export.Export, dir vfs.ID) (vfs.ID, vfs.Attr, error) {
		return exp.FS.Symlink(q.ctx, &q.cred, dir, a.Where.Name, string(a.SymlinkData), &q.sa)
	})
}

// Largest device numbers of Linux (12 bits of major, 20 of minor).
const (
	maxMajor = 1<<12 - 1
	maxMinor = 1<<20 - 1
)

// MKNOD (section 3.3.11): character and block devices, sockets and FIFOs;
// NF3REG, NF3DIR and NF3LNK are NFS3ERR_BADTYPE, device numbers Linux
// cannot represent NFS3ERR_INVAL (nfsd3_proc_mknod).
func (q *request) mknod() error {
	var a MKNOD3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	pre := NFS3OK
	switch a.What.Type {
	case vfs.TypeChar, vfs.TypeBlock:
		if a.What.Spec.Specdata1 > maxMajor || a.What.Spec.Specdata2 > maxMinor {
			pre = NFS3ErrInval
		}
	case vfs.TypeSocket, vfs.TypeFIFO:
		a.What.Spec = Specdata3{}
	default:
		pre = NFS3ErrBadType
	}
	q.sa = vfs.SetAttr(a.What.Attributes)
	q.sa.Valid &^= vfs.SetSize
	return q.makeObject(a.Where.Dir, a.Where.Name, createName, pre, func(exp *export.Export, dir vfs.ID) (vfs.ID, vfs.Attr, error) {
		return exp.FS.Mknod(q.ctx, &q.cred, dir, a.Where.Name, a.What.Type, a.What.Spec.Specdata1, a.What.Spec.Specdata2, &q.sa)
	})
}

// removeObject is REMOVE and RMDIR.
func (q *request) removeObject(rmdir bool) error {
	var a DiropArgs
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	var c wcc
	exp, dir, st := q.resolve(a.Object.Dir)
	if st == NFS3OK {
		st = writable(exp)
	}
	if st == NFS3OK {
		st = removeName.check(a.Object.Name)
	}
	if st == NFS3OK && !rmdir {
		st = q.delegatedName(exp, dir, a.Object.Name)
	}
	if st != NFS3OK {
		c.after(q, exp, dir)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	err := q.locked(dir, nil, func() (err error) {
		switch err = c.before(q, exp, dir); {
		case err != nil:
		case rmdir:
			err = exp.FS.Rmdir(q.ctx, &q.cred, dir, a.Object.Name)
		default:
			err = exp.FS.Remove(q.ctx, &q.cred, dir, a.Object.Name)
		}
		c.after(q, exp, dir)
		return err
	})
	q.w.Uint32(uint32(q.status(err)))
	c.put(q, exp)
	return nil
}

// REMOVE (section 3.3.12).
func (q *request) remove() error { return q.removeObject(false) }

// RMDIR (section 3.3.13).
func (q *request) rmdir() error { return q.removeObject(true) }

// RENAME (section 3.3.14). The Linux nfsd's order of checks: both
// directories (stale, access, read-only), then the names (empty, "." or
// "..": NFS3ERR_PERM), then the exports (different: NFS3ERR_XDEV). The
// rest is rename(2)'s: renaming a name onto a hard link of the same file
// succeeds and does nothing, a directory onto a non-empty directory is
// NFS3ERR_NOTEMPTY, a directory onto a non-directory NFS3ERR_NOTDIR, a
// non-directory onto a directory NFS3ERR_ISDIR.
func (q *request) rename() error {
	var a RENAME3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	var from, to wcc
	fexp, fdir, st := q.resolve(a.From.Dir)
	texp, tdir, tst := q.resolve(a.To.Dir)
	if st == NFS3OK {
		st = tst
	}
	if st == NFS3OK {
		st = writable(fexp)
	}
	if st == NFS3OK {
		st = writable(texp)
	}
	if st == NFS3OK {
		st = renameName.check(a.From.Name)
	}
	if st == NFS3OK {
		st = renameName.check(a.To.Name)
	}
	if st == NFS3OK && fexp != texp {
		st = NFS3ErrXDev
	}
	if st == NFS3OK {
		st = q.delegatedName(fexp, fdir, a.From.Name)
	}
	if st == NFS3OK {
		st = q.delegatedName(texp, tdir, a.To.Name)
	}
	if st != NFS3OK {
		from.after(q, fexp, fdir)
		to.after(q, texp, tdir)
		q.w.Uint32(uint32(st))
		from.put(q, fexp)
		to.put(q, texp)
		return nil
	}
	exp := fexp
	err := q.locked(fdir, tdir, func() error {
		err := from.before(q, exp, fdir)
		if err == nil {
			err = to.before(q, exp, tdir)
		}
		if err == nil {
			err = exp.FS.Rename(q.ctx, &q.cred, fdir, a.From.Name, tdir, a.To.Name)
		}
		from.after(q, exp, fdir)
		to.after(q, exp, tdir)
		return err
	})
	q.w.Uint32(uint32(q.status(err)))
	from.put(q, exp)
	to.put(q, exp)
	return nil
}

// LINK (section 3.3.15). A link to a directory is NFS3ERR_ISDIR (nfsd_link
// and the backend), across exports NFS3ERR_XDEV.
func (q *request) link() error {
	var a LINK3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	var c wcc
	fexp, file, st := q.resolve(a.File)
	dexp, dir, dst := q.resolve(a.Link.Dir)
	if st == NFS3OK {
		st = dst
	}
	if st == NFS3OK {
		st = writable(dexp)
	}
	if st == NFS3OK {
		st = linkName.check(a.Link.Name)
	}
	if st == NFS3OK && fexp != dexp {
		st = NFS3ErrXDev
	}
	if st == NFS3OK {
		st = q.delegated(fexp, file)
	}
	if st != NFS3OK {
		c.after(q, dexp, dir)
		q.w.Uint32(uint32(st))
		q.putPostOp(fexp, file)
		c.put(q, dexp)
		return nil
	}
	exp := dexp
	err := q.locked(dir, nil, func() error {
		err := c.before(q, exp, dir)
		if err == nil {
			err = exp.FS.Link(q.ctx, &q.cred, file, dir, a.Link.Name)
		}
		c.after(q, exp, dir)
		return err
	})
	q.w.Uint32(uint32(q.status(err)))
	q.putPostOp(exp, file)
	c.put(q, exp)
	return nil
}

// FSSTAT (section 3.3.18). invarsec is 0: the values may change at any
// time.
func (q *request) fsstat() error {
	var a HandleArgs
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.Object)
	if st != NFS3OK {
		return q.failPostOp(st, nil, nil)
	}
	fs, err := exp.FS.StatFS(q.ctx, &q.cred, id)
	if err != nil {
		return q.failPostOp(q.status(err), exp, id)
	}
	q.w.Uint32(uint32(NFS3OK))
	q.putPostOp(exp, id)
	for _, v := range [...]uint64{fs.TotalBytes, fs.FreeBytes, fs.AvailBytes, fs.TotalFiles, fs.FreeFiles, fs.AvailFiles} {
		q.w.Uint64(v)
	}
	q.w.Uint32(0) // invarsec
	return nil
}

// FSINFO (section 3.3.19). The transfer sizes are MaxIO, with the page
// size as multiple; the largest file is OFFSET_MAX; times are kept to the
// nanosecond; hard links, symbolic links and setting times are supported
// and PATHCONF answers the same for every object (FSF3_HOMOGENEOUS).
func (q *request) fsinfo() error {
	var a HandleArgs
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.Object)
	if st != NFS3OK {
		return q.failPostOp(st, nil, nil)
	}
	attr, err := exp.FS.GetAttr(q.ctx, id)
	if err != nil {
		q.w.Uint32(uint32(q.status(err)))
		q.w.Bool(false)
		return nil
	}
	res := FSINFO3res{
		Status:        NFS3OK,
		ObjAttributes: PostOpAttr{Present: true, Attr: FattrFromVFS(&attr, fsid(exp))},
		Rtmax:         q.s.maxIO,
		Rtpref:        q.s.maxIO,
		Rtmult:        4096,
		Wtmax:         q.s.maxIO,
		Wtpref:        q.s.maxIO,
		Wtmult:        4096,
		Dtpref:        q.s.maxIO,
		Maxfilesize:   maxOffset,
		TimeDelta:     Nfstime3{Seconds: 0, Nseconds: 1},
		Properties:    FSFLink | FSFSymlink | FSFHomogeneous | FSFCanSetTime,
	}
	res.Encode(q.w)
	return nil
}

// PathconfLinkMax is the linkmax PATHCONF reports: ext4's EXT4_LINK_MAX,
// the smallest limit of the file systems vnfsd is expected to serve
// (XFS and btrfs allow more). It is advice; the backend's EMLINK
// (NFS3ERR_MLINK) is the real limit.
const PathconfLinkMax = 65000

// PATHCONF (section 3.3.20). Names longer than NAME_MAX are refused with
// NFS3ERR_NAMETOOLONG, not truncated (no_trunc); only root may change an
// owner (chown_restricted); names are case-sensitive and case-preserving.
func (q *request) pathconf() error {
	var a HandleArgs
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	exp, id, st := q.resolve(a.Object)
	if st != NFS3OK {
		return q.failPostOp(st, nil, nil)
	}
	attr, err := exp.FS.GetAttr(q.ctx, id)
	if err != nil {
		q.w.Uint32(uint32(q.status(err)))
		q.w.Bool(false)
		return nil
	}
	res := PATHCONF3res{
		Status:          NFS3OK,
		ObjAttributes:   PostOpAttr{Present: true, Attr: FattrFromVFS(&attr, fsid(exp))},
		Linkmax:         PathconfLinkMax,
		NameMax:         vfs.MaxNameLen,
		NoTrunc:         true,
		ChownRestricted: true,
		CaseInsensitive: false,
		CasePreserving:  true,
	}
	res.Encode(q.w)
	return nil
}

// COMMIT (section 3.3.21). An offset beyond OFFSET_MAX is NFS3ERR_INVAL
// (nfsd). A failed commit changes the write verifier (see storageFailed).
func (q *request) commit() error {
	var a COMMIT3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	var c wcc
	exp, id, st := q.resolve(a.File)
	if st == NFS3OK {
		st = writable(exp)
	}
	if st == NFS3OK && a.Offset > maxOffset {
		st = NFS3ErrInval
	}
	if st != NFS3OK {
		c.after(q, exp, id)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	err := c.before(q, exp, id)
	if err == nil {
		err = exp.FS.Commit(q.ctx, &q.cred, id, a.Offset, a.Count)
	}
	c.after(q, exp, id)
	if err != nil {
		st = q.status(err)
		q.s.storageFailed(st)
		q.w.Uint32(uint32(st))
		c.put(q, exp)
		return nil
	}
	q.w.Uint32(uint32(NFS3OK))
	c.put(q, exp)
	v := q.s.WriteVerf()
	q.w.Fixed(v[:])
	return nil
}

// delegated is NFS3ERR_JUKEBOX while the object has NFSv4 delegations
// out that must come back before it changes (Config.Delegations); their
// recall is started. The client retries.
func (q *request) delegated(exp *export.Export, id vfs.ID) Stat {
	if d := q.s.delegs; d != nil && d.Any() && d.Conflict(exp.ID, id) {
		return NFS3ErrJukebox
	}
	return NFS3OK
}

// delegatedName is delegated for the object name in dir, if it exists.
func (q *request) delegatedName(exp *export.Export, dir vfs.ID, name string) Stat {
	d := q.s.delegs
	if d == nil || !d.Any() {
		return NFS3OK
	}
	id, at, err := exp.FS.Lookup(q.ctx, &q.cred, dir, name)
	if err != nil || at.Type != vfs.TypeRegular {
		return NFS3OK // the procedure reports a missing name
	}
	return q.delegated(exp, id)
}
