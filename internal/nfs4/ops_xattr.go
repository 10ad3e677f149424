package nfs4

import (
	"context"
	"slices"
	"unicode/utf8"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Extended attributes, RFC 8276: GETXATTR, SETXATTR, LISTXATTRS and
// REMOVEXATTR on backends that implement vfs.Xattrs (the user namespace
// of the local file system); other backends, and the pseudo file system,
// answer NFS4ERR_NOTSUPP, and their xattr_support attribute is false.

func (cs *compound) xattrs(o *object) (vfs.Xattrs, error) {
	if o.pseudo != nil {
		return nil, nfserr.Notsupp
	}
	x, ok := o.exp.FS.(vfs.Xattrs)
	if !ok {
		return nil, nfserr.Notsupp
	}
	return x, nil
}

// xattrKey checks an xattrkey4 (a component4: RFC 8276 section 8.3).
func xattrKey(b []byte) (string, error) {
	switch {
	case len(b) == 0 || !utf8.Valid(b):
		return "", nfserr.Inval
	case len(b) > vfs.MaxXattrName-len("user."):
		return "", nfserr.Nametoolong
	}
	return string(b), nil
}

// xattrTarget checks the current filehandle, its backend and the key of
// an attribute operation; write also requires a writable export.
func (cs *compound) xattrTarget(key []byte, write bool) (*object, vfs.Xattrs, string, error) {
	o, err := cs.needFH()
	if err != nil {
		return nil, nil, "", err
	}
	x, err := cs.xattrs(o)
	if err != nil {
		return nil, nil, "", err
	}
	if write {
		if err := writable(o); err != nil {
			return nil, nil, "", err
		}
		if err := cs.delegConflict(o); err != nil {
			return nil, nil, "", err
		}
	}
	name, err := xattrKey(key)
	return o, x, name, err
}

func (cs *compound) opGetxattr(ctx context.Context, a *wire.GetxattrArgs, w *xdr.Writer) error {
	o, x, name, err := cs.xattrTarget(a.Name, false)
	if err != nil {
		return err
	}
	v, err := x.GetXattr(ctx, cs.cred(o), o.id, name)
	if err != nil {
		return err
	}
	r := wire.GetxattrRes{Value: v}
	r.Encode(w)
	return nil
}

func (cs *compound) opSetxattr(ctx context.Context, a *wire.SetxattrArgs, w *xdr.Writer) error {
	o, x, name, err := cs.xattrTarget(a.Key, true)
	if err != nil {
		return err
	}
	if a.Option > wire.Setxattr4Replace {
		return nfserr.Inval
	}
	if len(a.Value) > vfs.MaxXattrValue {
		return nfserr.Xattr2big
	}
	before := cs.changeAfter(ctx, o)
	if err := x.SetXattr(ctx, cs.cred(o), o.id, name, a.Value, int(a.Option)); err != nil {
		return err
	}
	r := wire.SetxattrRes{Cinfo: wire.ChangeInfo4{Before: before, After: cs.changeAfter(ctx, o)}}
	r.Encode(w)
	return nil
}

func (cs *compound) opRemovexattr(ctx context.Context, a *wire.RemovexattrArgs, w *xdr.Writer) error {
	o, x, name, err := cs.xattrTarget(a.Name, true)
	if err != nil {
		return err
	}
	before := cs.changeAfter(ctx, o)
	if err := x.RemoveXattr(ctx, cs.cred(o), o.id, name); err != nil {
		return err
	}
	r := wire.RemovexattrRes{Cinfo: wire.ChangeInfo4{Before: before, After: cs.changeAfter(ctx, o)}}
	r.Encode(w)
	return nil
}

// opListxattrs is LISTXATTRS (RFC 8276 section 8.4.3.2). The cookie is
// the index of the next name in sorted order; maxcount bounds the
// result (NFS4ERR_TOOSMALL when not even one name fits).
func (cs *compound) opListxattrs(ctx context.Context, a *wire.ListxattrsArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	x, err := cs.xattrs(o)
	if err != nil {
		return err
	}
	names, err := x.ListXattrs(ctx, cs.cred(o), o.id)
	if err != nil {
		return err
	}
	slices.Sort(names)
	if a.Cookie > uint64(len(names)) {
		return nfserr.BadCookie
	}
	// cookie (8), the array's count (4), eof (4).
	size, limit := 16, int(a.Maxcount)
	r := wire.ListxattrsRes{Cookie: a.Cookie, EOF: true}
	for _, n := range names[a.Cookie:] {
		sz := 4 + len(n) + xdr.Pad(len(n))
		if size+sz > limit {
			r.EOF = false
			break
		}
		size += sz
		r.Names = append(r.Names, []byte(n))
		r.Cookie++
	}
	if len(r.Names) == 0 && !r.EOF {
		return nfserr.Toosmall
	}
	r.Encode(w)
	return nil
}
