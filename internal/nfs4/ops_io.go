package nfs4

import (
	"context"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// regularFile checks that o is a regular file: a directory is
// NFS4ERR_ISDIR, a symbolic link NFS4ERR_SYMLINK (4.0) or NFS4ERR_INVAL,
// anything else NFS4ERR_INVAL (RFC 8881 sections 18.22.3, 18.32.3).
func (cs *compound) regularFile(ctx context.Context, o *object) (vfs.Attr, error) {
	if o.pseudo != nil {
		return vfs.Attr{}, nfserr.Isdir
	}
	a, err := o.exp.FS.GetAttr(ctx, o.id)
	if err != nil {
		return a, err
	}
	switch a.Type {
	case vfs.TypeRegular:
		return a, nil
	case vfs.TypeDir:
		return a, nfserr.Isdir
	case vfs.TypeSymlink:
		if cs.minor == 0 {
			return a, nfserr.Symlink
		}
	}
	return a, nfserr.Inval
}

// writable fails on a read-only export or the pseudo file system.
func writable(o *object) error {
	if o.pseudo != nil || o.exp.ReadOnly {
		return nfserr.Rofs
	}
	return nil
}

func (cs *compound) opRead(ctx context.Context, a *wire.ReadArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if _, err := cs.regularFile(ctx, o); err != nil {
		return err
	}
	if err := cs.checkIO(ctx, o, a.Stateid, accessRead); err != nil {
		return err
	}
	count := min(a.Count, cs.s.maxIO)
	start := w.Len()
	w.Uint32(uint32(nfserr.OK))
	eofAt := w.Reserve(4)
	lenAt := w.Reserve(4)
	buf := w.Grow(int(count))
	n, eof, err := o.exp.FS.Read(ctx, cs.cred(o), o.id, buf, a.Offset)
	if err != nil {
		w.Truncate(start)
		return err
	}
	w.Truncate(lenAt + 4 + n)
	var zeros [3]byte
	w.B = append(w.B, zeros[:xdr.Pad(n)]...)
	w.PutUint32At(lenAt, uint32(n))
	if eof {
		w.PutUint32At(eofAt, 1)
	} else {
		w.PutUint32At(eofAt, 0)
	}
	return nil
}

func (cs *compound) opWrite(ctx context.Context, a *wire.WriteArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if err := writable(o); err != nil {
		return err
	}
	if _, err := cs.regularFile(ctx, o); err != nil {
		return err
	}
	if err := cs.checkIO(ctx, o, a.Stateid, accessWrite); err != nil {
		return err
	}
	if a.Stable > uint32(vfs.FileSync) {
		return nfserr.Inval
	}
	if a.Offset+uint64(len(a.Data)) < a.Offset {
		return nfserr.Inval
	}
	n, committed, err := o.exp.FS.Write(ctx, cs.cred(o), o.id, a.Data, a.Offset, vfs.Stability(a.Stable))
	if err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	w.Uint32(uint32(n))
	w.Uint32(uint32(committed))
	w.Fixed(cs.s.cfg.WriteVerf[:])
	return nil
}

func (cs *compound) opCommit(ctx context.Context, a *wire.CommitArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if _, err := cs.regularFile(ctx, o); err != nil {
		return err
	}
	if a.Offset+uint64(a.Count) < a.Offset {
		return nfserr.Inval
	}
	if err := o.exp.FS.Commit(ctx, cs.cred(o), o.id, a.Offset, a.Count); err != nil {
		return err
	}
	w.Uint32(uint32(nfserr.OK))
	w.Fixed(cs.s.cfg.WriteVerf[:])
	return nil
}
