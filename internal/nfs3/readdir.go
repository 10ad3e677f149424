package nfs3

// READDIR and READDIRPLUS (RFC 1813 sections 3.3.16 and 3.3.17).
//
// Sizes: the whole reply from the status on fits in count (READDIR) or
// maxcount (READDIRPLUS), which are capped at MaxIO as in the Linux nfsd;
// if not even one entry fits (and the listing is not at its end),
// the answer is NFS3ERR_TOOSMALL. READDIRPLUS also honours dircount, the
// bytes of directory information (fileid, name, cookie) without
// attributes and handles, after the first entry (the Linux client sends
// dircount = maxcount; a dircount of 0 means no such limit).
//
// Cookies are the backend's (vfs.DirEntry.Cookie: stable while other
// entries come and go). The cookie verifier is a function of the export
// and the directory's object ID only, so it stays the same while the
// directory changes and across restarts, and cookies stay usable; it
// tells cookies of another directory (or of a directory that replaced a
// deleted one under the same name) apart. A non-zero cookie with a
// non-zero verifier that is not the directory's is NFS3ERR_BAD_COOKIE; a
// zero verifier is accepted with any cookie (a client that lost the
// verifier, as the Linux client does when its inode is evicted, can still
// resume). A cookie the backend cannot resolve (EINVAL) is
// NFS3ERR_BAD_COOKIE too.

import (
	"syscall"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// READDIR (section 3.3.16).
func (q *request) readdir() error {
	var a READDIR3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	return q.listDir(a.Dir, a.Cookie, a.Cookieverf, a.Count, 0, false)
}

// READDIRPLUS (section 3.3.17).
func (q *request) readdirplus() error {
	var a READDIRPLUS3args
	if a.Decode(&q.r); q.garbage() {
		return oncrpc.ErrGarbageArgs
	}
	return q.listDir(a.Dir, a.Cookie, a.Cookieverf, a.Maxcount, a.Dircount, true)
}

// CookieVerf returns the cookie verifier of directory dir of export
// exportID: FNV-1a of both, never zero.
func CookieVerf(exportID uint32, dir vfs.ID) [CookieVerfSize]byte {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < 4; i++ {
		h ^= uint64(byte(exportID >> (24 - 8*i)))
		h *= prime
	}
	for _, c := range dir {
		h ^= uint64(c)
		h *= prime
	}
	if h == 0 {
		h = 1
	}
	var v [CookieVerfSize]byte
	be.PutUint64(v[:], h)
	return v
}

func (q *request) listDir(dirFH []byte, cookie uint64, verf [CookieVerfSize]byte, count, dircount uint32, plus bool) error {
	w := q.w
	exp, dir, st := q.resolve(dirFH)
	if st != NFS3OK {
		w.Uint32(uint32(st))
		w.Bool(false)
		return nil
	}
	want := CookieVerf(exp.ID, dir)
	if cookie != 0 && verf != [CookieVerfSize]byte{} && verf != want {
		w.Uint32(uint32(NFS3ErrBadCookie))
		q.putPostOp(exp, dir)
		return nil
	}
	// The directory's attributes are taken before the listing: a change
	// in between then shows as a newer mtime later, so a client never
	// caches a listing older than the attributes it came with.
	dattr, err := exp.FS.GetAttr(q.ctx, dir)
	if err != nil {
		w.Uint32(uint32(q.status(err)))
		w.Bool(false)
		return nil
	}
	start := w.Len()
	w.Uint32(uint32(NFS3OK))
	q.putPostOpAttr(exp, &dattr)
	w.Fixed(want[:])
	l := &q.rd
	l.exp, l.plus = exp, plus
	// What is left of count once the header and the end of the list
	// (value_follows FALSE, eof) are counted.
	l.budget = int(min(count, q.s.maxIO)) - (w.Len() - start) - 8
	l.dirBudget = -1
	if plus && dircount > 0 {
		l.dirBudget = int(dircount)
	}
	eof := false
	if l.budget >= 0 {
		eof, err = exp.FS.ReadDir(q.ctx, &q.cred, dir, cookie, plus, l.fn)
	}
	switch {
	case err != nil:
		st = q.status(err)
		if cookie != 0 && isErrno(err, syscall.EINVAL) {
			st = NFS3ErrBadCookie
		}
	case l.n == 0 && !eof:
		st = NFS3ErrTooSmall
	}
	if st != NFS3OK {
		w.Truncate(start)
		w.Uint32(uint32(st))
		q.putPostOpAttr(exp, &dattr)
		return nil
	}
	w.Bool(false)
	w.Bool(eof)
	return nil
}

// dirLister appends the entries of a READDIR or READDIRPLUS reply as the
// backend lists them, while they fit.
type dirLister struct {
	q         *request
	fn        func(e *vfs.DirEntry) bool // l.entry, bound once
	exp       *export.Export
	plus      bool
	budget    int // bytes left for entries
	dirBudget int // bytes of directory information left; -1: no limit
	n         int // entries appended
}

func (l *dirLister) reset() {
	l.exp, l.plus, l.budget, l.dirBudget, l.n = nil, false, 0, 0, 0
}

// entry appends e if it fits and reports whether it did; the backend
// stops at the first entry that does not (and does not consume it).
func (l *dirLister) entry(e *vfs.DirEntry) bool {
	name := e.Name
	if len(name) > vfs.MaxNameLen {
		name = name[:vfs.MaxNameLen] // as nfsd's encoder does
	}
	dsize := entry3Size(len(name))
	size := dsize
	handle := false
	if l.plus {
		size += 8 // attributes_follow, handle_follows
		if e.HaveAttr {
			size += fattr3Size
		}
		if n := len(e.ID); n > 0 && n <= fh.MaxIDLen {
			handle = true
			hl := fh.Overhead + n
			size += 4 + hl + xdr.Pad(hl)
		}
	}
	if size > l.budget || (l.dirBudget >= 0 && l.n > 0 && dsize > l.dirBudget) {
		return false
	}
	q, w := l.q, l.q.w
	w.Uint32(1) // value_follows
	w.Uint64(e.Fileid)
	w.String(name)
	w.Uint64(e.Cookie)
	if l.plus {
		if e.HaveAttr {
			q.putPostOpAttr(l.exp, &e.Attr)
		} else {
			w.Bool(false)
		}
		w.Bool(handle)
		if handle {
			q.putHandle(l.exp, e.ID)
		}
	}
	l.budget -= size
	if l.dirBudget >= 0 {
		l.dirBudget = max(0, l.dirBudget-dsize)
	}
	l.n++
	return true
}
