package nfs4

import (
	"context"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// The NFSv4.2 space operations (RFC 7862 sections 15.1, 15.2, 15.4,
// 15.11), on backends that implement vfs.Space; others answer
// NFS4ERR_NOTSUPP and clients fall back (the Linux client emulates
// SEEK and copies through READ and WRITE).

// space returns o's backend as a vfs.Space, checking o is a regular file.
func (cs *compound) space(ctx context.Context, o *object) (vfs.Space, error) {
	if _, err := cs.regularFile(ctx, o); err != nil {
		return nil, err
	}
	sp, ok := o.exp.FS.(vfs.Space)
	if !ok {
		return nil, nfserr.Notsupp
	}
	return sp, nil
}

// opSeek is SEEK (RFC 7862 section 15.11).
func (cs *compound) opSeek(ctx context.Context, a *wire.SeekArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	sp, err := cs.space(ctx, o)
	if err != nil {
		return err
	}
	if a.What != wire.NFS4ContentData && a.What != wire.NFS4ContentHole {
		return nfserr.UnionNotsupp
	}
	if err := cs.checkIO(ctx, o, a.Stateid, accessRead); err != nil {
		return err
	}
	off, eof, err := sp.Seek(ctx, cs.cred(o), o.id, a.Offset, a.What == wire.NFS4ContentData)
	if err != nil {
		return err // ENXIO: NFS4ERR_NXIO, past the end or no data after
	}
	r := wire.SeekRes{EOF: eof, Offset: off}
	r.Encode(w)
	return nil
}

// rangeOK checks offset and length of ALLOCATE and DEALLOCATE (RFC 7862
// section 15.1.3: a zero length or one past 2^64 is NFS4ERR_INVAL).
func rangeOK(off, length uint64) error {
	if length == 0 || off+length < off {
		return nfserr.Inval
	}
	return nil
}

// opAllocate is ALLOCATE (section 15.1) and DEALLOCATE (section 15.4).
func (cs *compound) opAllocate(ctx context.Context, s wire.Stateid4, off, length uint64, dealloc bool, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	if err := writable(o); err != nil {
		return err
	}
	sp, err := cs.space(ctx, o)
	if err != nil {
		return err
	}
	if err := rangeOK(off, length); err != nil {
		return err
	}
	if err := cs.checkIO(ctx, o, s, accessWrite); err != nil {
		return err
	}
	if dealloc {
		err = sp.Deallocate(ctx, cs.cred(o), o.id, off, length)
	} else {
		err = sp.Allocate(ctx, cs.cred(o), o.id, off, length)
	}
	return status(w, err)
}

// opCopy is COPY (section 15.2), intra-server and synchronous: the saved
// filehandle is the source, the current one the destination.
func (cs *compound) opCopy(ctx context.Context, a *wire.CopyArgs, w *xdr.Writer) error {
	src, dst, err := cs.savedAndCurrent()
	if err != nil {
		return err
	}
	if len(a.SourceServer) > 0 {
		return nfserr.Notsupp // inter-server copy
	}
	if err := writable(dst); err != nil {
		return err
	}
	if _, err := cs.space(ctx, src); err != nil {
		return err
	}
	sp, err := cs.space(ctx, dst)
	if err != nil {
		return err
	}
	if a.SrcOffset+a.Count < a.SrcOffset || a.DstOffset+a.Count < a.DstOffset {
		return nfserr.Inval
	}
	if err := cs.checkIO(ctx, src, a.SrcStateid, accessRead); err != nil {
		return err
	}
	if err := cs.checkIO(ctx, dst, a.DstStateid, accessWrite); err != nil {
		return err
	}
	if src.exp.ID == dst.exp.ID && string(src.id) == string(dst.id) {
		// RFC 7862 section 15.2.3: overlapping ranges of one file.
		end := func(o uint64) uint64 {
			if a.Count == 0 {
				return ^uint64(0)
			}
			return o + a.Count
		}
		if a.SrcOffset < end(a.DstOffset) && a.DstOffset < end(a.SrcOffset) {
			return nfserr.Inval
		}
	}
	n, err := sp.Copy(ctx, cs.cred(dst), src.id, a.SrcOffset, dst.id, a.DstOffset, a.Count)
	if err != nil {
		return err
	}
	r := wire.CopyRes{Response: wire.WriteResponse4{Count: n, Committed: uint32(vfs.Unstable), Writeverf: cs.s.cfg.WriteVerf}}
	r.Requirements.Consecutive, r.Requirements.Synchronous = true, true
	r.Encode(w)
	return nil
}
