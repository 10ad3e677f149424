package nfs4

import (
	"context"

	"github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/pseudofs"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// needFH returns the current filehandle or NFS4ERR_NOFILEHANDLE.
func (cs *compound) needFH() (*object, error) {
	if !cs.cur.valid() {
		return nil, nfserr.Nofilehandle
	}
	return &cs.cur, nil
}

// allowed checks that the client may use o's export (its clients list).
func (cs *compound) allowed(o *object) error {
	if o.exp != nil && !o.exp.Allowed(cs.call.Remote.Addr()) {
		return nfserr.Access
	}
	return nil
}

// cred returns the identity the call runs as on o's export.
func (cs *compound) cred(o *object) *vfs.Cred {
	c := o.exp.Cred(cs.call)
	return &c
}

// attr returns the attributes of o.
func (cs *compound) attr(ctx context.Context, o *object) (vfs.Attr, error) {
	if o.pseudo != nil {
		return cs.v.tree.Attr(o.pseudo), nil
	}
	return o.exp.FS.GetAttr(ctx, o.id)
}

// source describes o for fattr.
func (cs *compound) source(ctx context.Context, o *object, a vfs.Attr) *fattr.Source {
	s := cs.s
	src := &fattr.Source{
		Attr:         a,
		FH:           o.fh,
		LeaseTime:    uint32(s.lease.Seconds()),
		Change:       changeOf(a),
		MaxRead:      uint64(s.maxIO),
		MaxWrite:     uint64(s.maxIO),
		MaxFileSize:  1<<63 - 1,
		MaxName:      vfs.MaxNameLen,
		MaxLink:      65000, // ext4's EXT4_LINK_MAX
		IDMap:        s.idmap,
		MinorVersion: cs.minor,
	}
	src.MountedOnFileid = a.Fileid
	if o.pseudo != nil {
		src.Fsid = fattr.Fsid{Major: 0, Minor: 0}
		src.StatFS = func() (vfs.FSStat, error) { return vfs.FSStat{}, nil }
	} else {
		// Every export is its own file system to the client: crossing
		// a junction changes fsid, so the Linux client mounts it as a
		// submount, as it does with the Linux nfsd.
		src.Fsid = fattr.Fsid{Major: uint64(o.exp.ID), Minor: 0}
		_, src.XattrSupport = o.exp.FS.(vfs.Xattrs)
		e, id, c := o.exp, o.id, cs.cred(o)
		src.StatFS = func() (vfs.FSStat, error) { return e.FS.StatFS(ctx, c, id) }
		if cs.s.isExportRoot(ctx, o) {
			if n := cs.v.tree.Junction(o.exp.ID); n != nil {
				src.MountedOnFileid = n.Fileid
			}
		}
	}
	return src
}

// changeOf is the change attribute: the ctime in nanoseconds (RFC 8881
// section 5.8.1.4 allows any value that changes with the object; ctime
// changes with every modification on Linux file systems).
func changeOf(a vfs.Attr) uint64 { return uint64(a.Ctime.Sec)*1e9 + uint64(a.Ctime.Nsec) }

// setCur makes o the current filehandle; the current stateid is
// cleared (RFC 8881 section 16.2.3.1.2).
func (cs *compound) setCur(o object) {
	cs.cur = o
	cs.haveSid = false
}

func (cs *compound) opPutrootfh(ctx context.Context, w *xdr.Writer) error {
	o, err := cs.s.rootObject(ctx, cs.v)
	if err != nil {
		return err
	}
	cs.setCur(o)
	return status(w, nil)
}

func (cs *compound) opPutfh(ctx context.Context, a *wire.PutfhArgs, w *xdr.Writer) error {
	o, err := cs.s.decodeFH(cs.v, a.Object)
	if err == nil {
		err = cs.allowed(&o)
	}
	if err != nil {
		return err
	}
	cs.setCur(o)
	return status(w, nil)
}

func (cs *compound) opGetfh(w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	w.Opaque(o.fh)
	return nil
}

// SAVEFH saves the current stateid with the filehandle, RESTOREFH
// restores both (RFC 8881 section 16.2.3.1.2; pynfs CSID10).
func (cs *compound) opSavefh(w *xdr.Writer) error {
	if _, err := cs.needFH(); err != nil {
		return err
	}
	cs.saved = cs.cur
	cs.savedSid, cs.haveSavedSid = cs.curSid, cs.haveSid
	return status(w, nil)
}

func (cs *compound) opRestorefh(w *xdr.Writer) error {
	if !cs.saved.valid() {
		return nfserr.Restorefh
	}
	cs.cur = cs.saved
	cs.curSid, cs.haveSid = cs.savedSid, cs.haveSavedSid
	return status(w, nil)
}

// lookupIn finds name in directory o, following a junction of the pseudo
// file system into its export.
func (cs *compound) lookupIn(ctx context.Context, o *object, name string) (object, error) {
	if o.pseudo != nil {
		n := cs.v.tree.Lookup(o.pseudo, name)
		if n == nil || !cs.visible(n) {
			return object{}, nfserr.Noent
		}
		return cs.s.enter(ctx, cs.v, n)
	}
	id, _, err := o.exp.FS.Lookup(ctx, cs.cred(o), o.id, name)
	if err != nil {
		return object{}, err
	}
	return object{fh: cs.s.handles.Encode(o.exp.ID, id), exp: o.exp, id: id}, nil
}

// visible reports whether pseudo node n leads to an export the client
// may use: the pseudo file system shows a client only its exports
// (RFC 8881 section 7.6).
func (cs *compound) visible(n *pseudofs.Node) bool {
	if n.IsJunction() {
		e := cs.v.table.ByID(n.Export)
		return e != nil && e.Allowed(cs.call.Remote.Addr())
	}
	for _, name := range cs.v.tree.Children(n) {
		if cs.visible(cs.v.tree.Lookup(n, name)) {
			return true
		}
	}
	return false
}

// dirCheck fails unless o is a directory: NFS4ERR_SYMLINK for a symbolic
// link, NFS4ERR_NOTDIR for anything else (RFC 7530 section 16.13.4).
func (cs *compound) dirCheck(ctx context.Context, o *object) error {
	if o.pseudo != nil {
		return nil
	}
	a, err := o.exp.FS.GetAttr(ctx, o.id)
	if err != nil {
		return err
	}
	switch a.Type {
	case vfs.TypeDir:
		return nil
	case vfs.TypeSymlink:
		return nfserr.Symlink
	}
	return nfserr.Notdir
}

func (cs *compound) opLookup(ctx context.Context, a *wire.LookupArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, o); err != nil {
		return err
	}
	name, err := checkName(a.Objname)
	if err != nil {
		return err
	}
	n, err := cs.lookupIn(ctx, o, name)
	if err != nil {
		return err
	}
	if err := cs.allowed(&n); err != nil {
		return err
	}
	cs.setCur(n)
	return status(w, nil)
}

func (cs *compound) opLookupp(ctx context.Context, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, o); err != nil {
		return err
	}
	var p object
	switch {
	case o.pseudo != nil:
		if o.pseudo.Parent == nil {
			return nfserr.Noent // RFC 8881 section 18.14.3: the root has no parent
		}
		p = cs.s.pseudoObject(cs.v, o.pseudo.Parent)
	case cs.s.isExportRoot(ctx, o):
		// Out of the export, into the pseudo file system.
		n := cs.v.tree.Junction(o.exp.ID)
		if n == nil || n.Parent == nil {
			return nfserr.Noent
		}
		p = cs.s.pseudoObject(cs.v, n.Parent)
	default:
		id, _, err := o.exp.FS.Lookup(ctx, cs.cred(o), o.id, "..")
		if err != nil {
			return err
		}
		p = object{fh: cs.s.handles.Encode(o.exp.ID, id), exp: o.exp, id: id}
	}
	cs.setCur(p)
	return status(w, nil)
}

func (cs *compound) opGetattr(ctx context.Context, a *wire.GetattrArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	at, err := cs.attr(ctx, o)
	if err != nil {
		return err
	}
	mark := w.Len()
	w.Uint32(uint32(nfserr.OK))
	if err := fattr.Encode(w, a.AttrRequest, cs.source(ctx, o, at)); err != nil {
		w.Truncate(mark)
		return err
	}
	return nil
}

func (cs *compound) opAccess(ctx context.Context, a *wire.AccessArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	const all = vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete | vfs.AccessExecute
	at, err := cs.attr(ctx, o)
	if err != nil {
		return err
	}
	// RFC 8881 section 18.1.3: LOOKUP is meaningless for anything but a
	// directory, EXECUTE for a directory, DELETE only for a directory;
	// supported holds the bits asked for that are meaningful here.
	meaningful := uint32(all &^ (vfs.AccessLookup | vfs.AccessDelete))
	if at.Type == vfs.TypeDir {
		meaningful = all &^ vfs.AccessExecute
	}
	want := a.Access & meaningful
	var got uint32
	if o.pseudo != nil {
		got = want & (vfs.AccessRead | vfs.AccessLookup | vfs.AccessExecute)
	} else {
		if got, err = o.exp.FS.Access(ctx, cs.cred(o), o.id, want); err != nil {
			return err
		}
		if o.exp.ReadOnly {
			got &^= vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete
		}
	}
	w.Uint32(uint32(nfserr.OK))
	w.Uint32(want) // supported: every bit asked for that RFC 8881 defines
	w.Uint32(got)
	return nil
}

func (cs *compound) opReadlink(ctx context.Context, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if o.pseudo != nil {
		return nfserr.Inval
	}
	target, err := o.exp.FS.ReadLink(ctx, cs.cred(o), o.id)
	if err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	w.String(target)
	return nil
}

// opSecinfo answers SECINFO and SECINFO_NO_NAME: AUTH_SYS, then AUTH_NONE
// (RPCSEC_GSS is not offered yet). SECINFO consumes the current
// filehandle (RFC 8881 section 2.6.3.1.1.8).
func (cs *compound) opSecinfo(ctx context.Context, name []byte, noName bool, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if !noName {
		if err := cs.dirCheck(ctx, o); err != nil {
			return err
		}
		n, err := checkName(name)
		if err != nil {
			return err
		}
		if _, err := cs.lookupIn(ctx, o, n); err != nil {
			return err
		}
	}
	w.Uint32(uint32(nfserr.OK))
	w.Uint32(2)
	w.Uint32(1) // AUTH_SYS
	w.Uint32(0) // AUTH_NONE
	cs.cur = object{}
	return nil
}

// opSecinfoNoName is SECINFO_NO_NAME (RFC 8881 section 18.45): the
// security of the current filehandle (style CURRENT_FH) or of its parent
// (style PARENT: NFS4ERR_NOENT at the root, pynfs SECNN3).
func (cs *compound) opSecinfoNoName(ctx context.Context, a *wire.SecinfoNoNameArgs, w *xdr.Writer) error {
	switch a.Style {
	case 0: // SECINFO_STYLE4_CURRENT_FH
	case 1: // SECINFO_STYLE4_PARENT
		o, err := cs.needFH()
		if err != nil {
			return err
		}
		if err := cs.dirCheck(ctx, o); err != nil {
			return err
		}
		if o.pseudo != nil && o.pseudo.Parent == nil || o.exp != nil && cs.v.tree.RootExport == o.exp.ID && cs.s.isExportRoot(ctx, o) {
			return nfserr.Noent
		}
	default:
		return nfserr.Inval
	}
	return cs.opSecinfo(ctx, nil, true, w)
}

// status writes a void result: the status alone.
func status(w *xdr.Writer, err error) error {
	if err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	return nil
}

// opVerify is VERIFY (RFC 8881 section 18.31) and NVERIFY (18.15).
func (cs *compound) opVerify(ctx context.Context, f wire.Fattr4, negate bool, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	at, err := cs.attr(ctx, o)
	if err != nil {
		return err
	}
	equal, err := fattr.Compare(f.Vals, f.Mask, cs.source(ctx, o, at))
	if err != nil {
		return err
	}
	switch {
	case equal && negate:
		return nfserr.Same
	case !equal && !negate:
		return nfserr.NotSame
	}
	return status(w, nil)
}
