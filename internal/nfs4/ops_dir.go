package nfs4

import (
	"context"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// dirChange records a directory's change attribute around an operation
// for its change_info4 (RFC 8881 section 3.3.6). atomic is false: the
// two values are read without excluding other changes between them.
type dirChange struct{ before, after uint64 }

func (cs *compound) changeBefore(ctx context.Context, o *object) dirChange {
	a, _ := o.exp.FS.GetAttr(ctx, o.id)
	return dirChange{before: changeOf(a)}
}

func (d *dirChange) encode(ctx context.Context, o *object, w *xdr.Writer) {
	a, _ := o.exp.FS.GetAttr(ctx, o.id)
	d.after = changeOf(a)
	w.Bool(false)
	w.Uint64(d.before)
	w.Uint64(d.after)
}

// dirForChange checks that o is a directory of a writable export.
func (cs *compound) dirForChange(ctx context.Context, o *object) error {
	if o.pseudo != nil {
		return nfserr.Rofs
	}
	if err := cs.dirCheck(ctx, o); err != nil {
		return err
	}
	return writable(o)
}

func (cs *compound) opCreate(ctx context.Context, a *wire.CreateArgs, w *xdr.Writer) error {
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
	if err := writable(o); err != nil {
		return err
	}
	sa, set, err := fattr.DecodeSettable(a.Createattrs.Vals, a.Createattrs.Mask, cs.s.idmap, cs.minor)
	if err != nil {
		return err
	}
	c := cs.cred(o)
	ch := cs.changeBefore(ctx, o)
	var id vfs.ID
	switch a.Objtype.Type {
	case wire.NF4DIR:
		id, _, err = o.exp.FS.Mkdir(ctx, c, o.id, name, &sa)
	case wire.NF4LNK:
		target := string(a.Objtype.Linkdata)
		if len(target) == 0 {
			return nfserr.Inval
		}
		if len(target) > vfs.MaxPathLen {
			return nfserr.Nametoolong
		}
		id, _, err = o.exp.FS.Symlink(ctx, c, o.id, name, target, &sa)
	case wire.NF4BLK, wire.NF4CHR:
		id, _, err = o.exp.FS.Mknod(ctx, c, o.id, name, vfs.FileType(a.Objtype.Type), a.Objtype.Devdata.Specdata1, a.Objtype.Devdata.Specdata2, &sa)
	case wire.NF4SOCK, wire.NF4FIFO:
		id, _, err = o.exp.FS.Mknod(ctx, c, o.id, name, vfs.FileType(a.Objtype.Type), 0, 0, &sa)
	case wire.NF4REG:
		return nfserr.Badtype // regular files are made by OPEN
	default:
		return nfserr.Badtype
	}
	if err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	ch.encode(ctx, o, w)
	encodeBitmap(w, set)
	cs.setCur(object{fh: cs.s.handles.Encode(o.exp.ID, id), exp: o.exp, id: id})
	return nil
}

func (cs *compound) opRemove(ctx context.Context, a *wire.RemoveArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, o); err != nil {
		return err
	}
	name, err := checkName(a.Target)
	if err != nil {
		return err
	}
	if err := writable(o); err != nil {
		return err
	}
	c := cs.cred(o)
	id, at, err := o.exp.FS.Lookup(ctx, c, o.id, name)
	if err != nil {
		return err
	}
	if at.Type == vfs.TypeRegular && cs.s.delegs.Conflict(lock.FileID{Export: o.exp.ID, Object: string(id)}, cs.clientID) {
		return nfserr.Delay
	}
	ch := cs.changeBefore(ctx, o)
	if at.Type == vfs.TypeDir {
		err = o.exp.FS.Rmdir(ctx, c, o.id, name)
	} else {
		err = o.exp.FS.Remove(ctx, c, o.id, name)
	}
	if err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	ch.encode(ctx, o, w)
	return nil
}

// sameExport checks that the saved and current filehandles are in one
// export (RFC 8881 sections 18.9.3, 18.26.3: NFS4ERR_XDEV otherwise).
func (cs *compound) savedAndCurrent() (*object, *object, error) {
	cur, err := cs.needFH()
	if err != nil {
		return nil, nil, err
	}
	if !cs.saved.valid() {
		return nil, nil, nfserr.Nofilehandle
	}
	sv := &cs.saved
	if sv.pseudo != nil || cur.pseudo != nil {
		if sv.pseudo != nil && cur.pseudo != nil {
			return nil, nil, nfserr.Rofs
		}
		return nil, nil, nfserr.Xdev
	}
	if sv.exp.ID != cur.exp.ID {
		return nil, nil, nfserr.Xdev
	}
	return sv, cur, nil
}

func (cs *compound) opRename(ctx context.Context, a *wire.RenameArgs, w *xdr.Writer) error {
	src, dst, err := cs.savedAndCurrent()
	if err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, src); err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, dst); err != nil {
		return err
	}
	oldName, err := checkName(a.Oldname)
	if err != nil {
		return err
	}
	newName, err := checkName(a.Newname)
	if err != nil {
		return err
	}
	if err := writable(dst); err != nil {
		return err
	}
	if err := cs.delegConflictName(ctx, src, oldName); err != nil {
		return err
	}
	if err := cs.delegConflictName(ctx, dst, newName); err != nil {
		return err
	}
	srcCh, dstCh := cs.changeBefore(ctx, src), cs.changeBefore(ctx, dst)
	if err := dst.exp.FS.Rename(ctx, cs.cred(dst), src.id, oldName, dst.id, newName); err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	srcCh.encode(ctx, src, w)
	dstCh.encode(ctx, dst, w)
	return nil
}

func (cs *compound) opLink(ctx context.Context, a *wire.LinkArgs, w *xdr.Writer) error {
	obj, dir, err := cs.savedAndCurrent()
	if err != nil {
		return err
	}
	if err := cs.dirCheck(ctx, dir); err != nil {
		return err
	}
	name, err := checkName(a.Newname)
	if err != nil {
		return err
	}
	if err := writable(dir); err != nil {
		return err
	}
	at, err := obj.exp.FS.GetAttr(ctx, obj.id)
	if err != nil {
		return err
	}
	if at.Type == vfs.TypeDir {
		return nfserr.Isdir
	}
	if err := cs.delegConflict(obj); err != nil {
		return err
	}
	ch := cs.changeBefore(ctx, dir)
	if err := dir.exp.FS.Link(ctx, cs.cred(dir), obj.id, dir.id, name); err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	ch.encode(ctx, dir, w)
	return nil
}

// opSetattr writes its own result: SETATTR4res carries attrsset on
// failure too (RFC 8881 section 18.30.2).
func (cs *compound) opSetattr(ctx context.Context, a *wire.SetattrArgs, w *xdr.Writer) error {
	fail := func(err error) error {
		st := nfserr.Of(err)
		w.Uint32(uint32(st))
		encodeBitmap(w, nil)
		return written(st)
	}
	o, err := cs.needFH()
	if err != nil {
		return fail(err)
	}
	sa, set, err := fattr.DecodeSettable(a.ObjAttributes.Vals, a.ObjAttributes.Mask, cs.s.idmap, cs.minor)
	if err != nil {
		return fail(err)
	}
	if o.pseudo != nil {
		return fail(nfserr.Rofs)
	}
	if err := writable(o); err != nil {
		return fail(err)
	}
	if sa.Valid&vfs.SetSize != 0 {
		if _, err := cs.regularFile(ctx, o); err != nil {
			return fail(err)
		}
		if err := cs.checkIO(ctx, o, a.Stateid, accessWrite); err != nil {
			return fail(err)
		}
	} else if err := cs.delegConflict(o); err != nil {
		return fail(err)
	}
	if _, err := o.exp.FS.SetAttr(ctx, cs.cred(o), o.id, &sa, nil); err != nil {
		return fail(err)
	}
	w.Uint32(uint32(nfserr.OK))
	encodeBitmap(w, set)
	return written(nfserr.OK)
}

// encodeBitmap writes a bitmap4.
func encodeBitmap(w *xdr.Writer, b []uint32) {
	w.Uint32(uint32(len(b)))
	for _, v := range b {
		w.Uint32(v)
	}
}

// writtenStatus is returned by an operation that has written its whole
// result, including a failure arm with data, and ends the compound if
// the status is not OK.
type writtenStatus struct{ st nfserr.Status }

func (e writtenStatus) Error() string { return e.st.Error() }

func written(st nfserr.Status) error { return writtenStatus{st} }
