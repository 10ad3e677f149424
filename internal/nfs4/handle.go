package nfs4

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/pseudofs"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

// object is what a filehandle names: a pseudo directory, or an object of
// an export's backend.
type object struct {
	fh     []byte         // the handle as the client sees it
	pseudo *pseudofs.Node // set for a pseudo directory
	exp    *export.Export // set for an export's object
	id     vfs.ID
}

func (o *object) valid() bool { return o.fh != nil }

// view is the export table and the pseudo file system built from it,
// swapped together when the table changes.
type view struct {
	table *export.Table
	tree  *pseudofs.Tree
}

// viewCache holds the view of the last export table seen.
type viewCache struct {
	cur atomic.Pointer[view]
}

func (c *viewCache) get(t *export.Table) *view {
	if v := c.cur.Load(); v != nil && v.table == t {
		return v
	}
	var es []pseudofs.Export
	for _, e := range t.List() {
		es = append(es, pseudofs.Export{ID: e.ID, Path: e.Path})
	}
	v := &view{table: t, tree: pseudofs.New(es, time.Now())}
	c.cur.Store(v)
	return v
}

// decodeFH resolves a handle the client sent (PUTFH): malformed, forged or
// over-long handles are NFS4ERR_BADHANDLE; a handle naming an export or a
// pseudo directory that no longer exists is NFS4ERR_STALE (RFC 8881
// section 4.2.3). Whether the object itself still exists is found by the
// operation that uses it.
func (s *Server) decodeFH(v *view, h []byte) (object, error) {
	if len(h) == 0 || len(h) > fh.MaxV4 {
		return object{}, nfserr.Badhandle
	}
	expID, id, err := s.handles.Decode(h)
	if err != nil {
		return object{}, nfserr.Badhandle
	}
	h = append([]byte(nil), h...)
	if expID == pseudofs.ExportID {
		n := v.tree.ByID(id)
		if n == nil {
			return object{}, nfserr.Stale
		}
		return s.pseudoObject(v, n), nil
	}
	e := v.table.ByID(expID)
	if e == nil || v.tree.Junction(expID) == nil {
		return object{}, nfserr.Stale
	}
	return object{fh: h, exp: e, id: append(vfs.ID(nil), id...)}, nil
}

// pseudoObject returns the object of pseudo node n: the junction's export
// root when n is one.
func (s *Server) pseudoObject(v *view, n *pseudofs.Node) object {
	return object{fh: s.handles.Encode(pseudofs.ExportID, n.ID), pseudo: n}
}

// exportRoot returns the root object of export e.
func (s *Server) exportRoot(ctx context.Context, e *export.Export) (object, error) {
	id, err := e.FS.Root(ctx)
	if err != nil {
		return object{}, err
	}
	return object{fh: s.handles.Encode(e.ID, id), exp: e, id: id}, nil
}

// rootObject is PUTROOTFH's object: the pseudo root, or the root export
// when an export is mounted at "/".
func (s *Server) rootObject(ctx context.Context, v *view) (object, error) {
	if id := v.tree.RootExport; id != 0 {
		if e := v.table.ByID(id); e != nil {
			return s.exportRoot(ctx, e)
		}
	}
	return s.pseudoObject(v, v.tree.Root()), nil
}

// enter follows a junction: the pseudo node n of an export becomes the
// export's root object.
func (s *Server) enter(ctx context.Context, v *view, n *pseudofs.Node) (object, error) {
	if !n.IsJunction() {
		return s.pseudoObject(v, n), nil
	}
	e := v.table.ByID(n.Export)
	if e == nil {
		return object{}, nfserr.Stale
	}
	return s.exportRoot(ctx, e)
}

// isExportRoot reports whether o is the root directory of its export.
func (s *Server) isExportRoot(ctx context.Context, o *object) bool {
	if o.exp == nil {
		return false
	}
	root, err := o.exp.FS.Root(ctx)
	return err == nil && string(root) == string(o.id)
}

var errNotDir = errors.New("not a directory")
