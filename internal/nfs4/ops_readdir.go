package nfs4

import (
	"context"

	"github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// READDIR (RFC 8881 section 18.23, RFC 7530 section 16.24).
//
// Cookies are the backend's (stable across changes; vfs.ReadDir), except
// that 1 and 2, which the backend gives "." and "..", are reserved by the
// RFC and never returned: NFSv4 lists neither entry. In the pseudo file
// system the i-th visible child has cookie i+3. The cookie verifier is
// always zero, since cookies stay valid.
const (
	cookieReserved = 2
	// readdirOverhead is the resok's fixed part: status, verifier,
	// entries' end marker and eof.
	readdirOverhead = 4 + 8 + 4 + 4
	// readdirMaxCount caps the reply whatever the client asks for.
	readdirMaxCount = 1 << 20
)

func (cs *compound) opReaddir(ctx context.Context, a *wire.ReaddirArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, o); err != nil {
		return err
	}
	if a.Cookie == 1 || a.Cookie == 2 {
		return nfserr.BadCookie
	}
	maxcount := min(int(a.Maxcount), readdirMaxCount)
	// The verifier, the end of the list and eof (RFC 8881 section
	// 18.23.3: an empty directory fits in 16 bytes; pynfs RDDR8).
	if maxcount < 16 {
		return nfserr.Toosmall
	}
	dircount := int(a.Dircount)
	start := w.Len()
	w.Uint32(uint32(nfserr.OK))
	w.Fixed(make([]byte, 8))          // cookieverf
	limit := start + 4 + maxcount - 8 // room for the end marker and eof
	n, used := 0, 0
	var eof bool
	var emitErr error // an entry's attributes failed
	emit := func(cookie uint64, name string, src *fattr.Source, rderr error) bool {
		mark := w.Len()
		w.Bool(true)
		w.Uint64(cookie)
		w.String(name)
		if rderr != nil {
			if !fattr.IsSet(a.AttrRequest, fattr.AttrRdattrError) {
				emitErr = rderr
				w.Truncate(mark)
				return false
			}
			fattr.EncodeRdattrError(w, nfserr.Of(rderr))
		} else if src == nil {
			// No attributes asked for: an empty fattr4.
			w.Uint32(0)
			w.Uint32(0)
		} else if e := fattr.Encode(w, a.AttrRequest, src); e != nil {
			emitErr = e
			w.Truncate(mark)
			return false
		}
		if w.Len() > limit || (dircount > 0 && n > 0 && used+8+len(name)+12 > dircount) {
			w.Truncate(mark)
			return false
		}
		used += 8 + len(name) + 12
		n++
		return true
	}
	if o.pseudo != nil {
		eof = true
		names := cs.v.tree.Children(o.pseudo)
		for i, name := range names {
			cookie := uint64(i) + 3
			if cookie <= a.Cookie {
				continue
			}
			child := cs.v.tree.Lookup(o.pseudo, name)
			if !cs.visible(child) {
				continue
			}
			co, rderr := cs.s.enter(ctx, cs.v, child)
			var src *fattr.Source
			if rderr == nil {
				var at vfs.Attr
				if at, rderr = cs.attr(ctx, &co); rderr == nil {
					src = cs.source(ctx, &co, at)
					src.MountedOnFileid = child.Fileid
				}
			}
			if !emit(cookie, name, src, rderr) {
				eof = false
				break
			}
		}
	} else {
		plus := len(a.AttrRequest) > 0
		cred := cs.cred(o)
		eof, err = o.exp.FS.ReadDir(ctx, cred, o.id, a.Cookie, plus, func(e *vfs.DirEntry) bool {
			if e.Cookie <= cookieReserved {
				return true // "." and ".."
			}
			var src *fattr.Source
			var rderr error
			if plus {
				if !e.HaveAttr {
					rderr = nfserr.Noent
				} else {
					co := object{fh: cs.s.handles.Encode(o.exp.ID, e.ID), exp: o.exp, id: e.ID}
					src = cs.source(ctx, &co, e.Attr)
				}
			}
			return emit(e.Cookie, e.Name, src, rderr)
		})
		if err != nil {
			w.Truncate(start)
			return err
		}
	}
	if emitErr != nil {
		if n == 0 {
			// The first entry's attributes failed (an attribute that
			// cannot be read, such as a write-only one, is
			// NFS4ERR_INVAL: pynfs RDDR9).
			w.Truncate(start)
			return emitErr
		}
		// After others were listed: return those; the client asks
		// again from the last cookie.
		eof = false
	}
	if n == 0 && !eof {
		w.Truncate(start)
		return nfserr.Toosmall
	}
	w.Bool(false)
	w.Bool(eof)
	return nil
}
