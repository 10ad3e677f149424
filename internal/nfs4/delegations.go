package nfs4

import (
	"context"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/deleg"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/open"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Read delegations (RFC 8881 section 10.4). An NFSv4.1/4.2 client with a
// working back channel that opens a regular file for reading only gets a
// read delegation when nobody else has the file open for writing; it may
// then open, read and lock the file locally. Before another client (or an
// NFSv3 caller) writes the file, changes its attributes, removes, renames
// or links it, the server recalls the delegations (CB_RECALL) and answers
// NFS4ERR_DELAY (NFS3ERR_JUKEBOX) until they are returned, or revoked
// after a lease. Write delegations are not granted.

// ConflictsWith reports whether a change to file by client (0: an NFSv3
// caller or NLM) must wait for other clients' delegations, whose recall
// it starts. Package nfs3 calls it through the vserver before WRITE,
// SETATTR, REMOVE, RENAME and LINK.
func (s *Server) ConflictsWith(file lock.FileID, client uint64) bool {
	return s.delegs.Conflict(file, client)
}

// DelegationsOut reports whether any delegation is out.
func (s *Server) DelegationsOut() bool { return s.delegs.Any() }

// delegConflict is ConflictsWith for an operation of the compound on o:
// NFS4ERR_DELAY while delegations of other clients are out.
func (cs *compound) delegConflict(o *object) error {
	if o == nil || o.pseudo != nil {
		return nil
	}
	if cs.s.delegs.Conflict(fileID(o), cs.clientID) {
		return nfserr.Delay
	}
	return nil
}

// delegConflictName is delegConflict for the object name in dir, if it
// exists (REMOVE, RENAME's source and target).
func (cs *compound) delegConflictName(ctx context.Context, dir *object, name string) error {
	if !cs.s.delegs.Any() {
		return nil
	}
	id, at, err := dir.exp.FS.Lookup(ctx, cs.cred(dir), dir.id, name)
	if err != nil || at.Type != vfs.TypeRegular {
		return nil // the operation itself reports a missing name
	}
	if cs.s.delegs.Conflict(lock.FileID{Export: dir.exp.ID, Object: string(id)}, cs.clientID) {
		return nfserr.Delay
	}
	return nil
}

// grantDelegation decides the delegation of an OPEN (RFC 8881 section
// 18.16.3): a read delegation when the client may get one, else none,
// with the reason when the client said what it wanted.
func (cs *compound) grantDelegation(o *object, a *wire.OpenArgs, access uint8, clientid uint64, reclaim bool) wire.OpenDelegation4 {
	want := a.ShareAccess & wire.Open4ShareAccessWantDelegMask
	none := func(why uint32) wire.OpenDelegation4 {
		if cs.minor == 0 || want == 0 {
			return wire.OpenDelegation4{Type: wire.OpenDelegateNone}
		}
		return wire.OpenDelegation4{Type: wire.OpenDelegateNoneExt, Why: why}
	}
	switch {
	case cs.minor == 0:
		return none(0)
	case want == wire.Open4ShareAccessWantNoDeleg:
		return none(wire.WND4NotWanted)
	case want == wire.Open4ShareAccessWantCancel:
		return none(wire.WND4Cancelled)
	case want == wire.Open4ShareAccessWantWriteDeleg:
		return none(wire.WND4NotSuppFtype) // no write delegations
	}
	if reclaim {
		if a.Claim.DelegateType != wire.OpenDelegateRead {
			return none(0)
		}
	} else if access != open.ShareRead || a.Claim.Claim == wire.ClaimDelegateCur ||
		a.Claim.Claim == wire.ClaimDelegCurFH || cs.s.clients.InGrace() {
		return none(wire.WND4Contention)
	}
	if !cs.s.cb.up(clientid) && !reclaim {
		return none(wire.WND4Resource)
	}
	file := fileID(o)
	if cs.s.opens.WriteOpeners(file, clientid) {
		return none(wire.WND4Contention)
	}
	d, ok := cs.s.delegs.Grant(clientid, file, o.fh)
	if !ok {
		return none(wire.WND4Contention)
	}
	cs.s.log.Debug("nfs4 read delegation granted", "client", clientid, "reclaim", reclaim)
	return wire.OpenDelegation4{Type: wire.OpenDelegateRead, Stateid: wire.Stateid4{Seqid: d.Stateid.Seqid, Other: d.Stateid.Other},
		Recall: !cs.s.cb.up(clientid),
		// An empty ACE: the client asks ACCESS (as Linux nfsd sends).
		Permissions: wire.Nfsace4{}} // ACE4_ACCESS_ALLOWED_ACE_TYPE, no access bits
}

// opDelegreturn is DELEGRETURN (RFC 8881 section 18.6).
func (cs *compound) opDelegreturn(a *wire.DelegreturnArgs, w *xdr.Writer) error {
	o, err := cs.needFH()
	if err != nil {
		return err
	}
	s, err := cs.stateid(a.DelegStateid)
	if err != nil {
		return err
	}
	if o.pseudo != nil {
		return nfserr.BadStateid
	}
	if open.IsSpecial(sid(s)) {
		return nfserr.BadStateid
	}
	return status(w, cs.s.delegs.Return(cs.clientID, cs.minor, fileID(o), deleg.Stateid{Seqid: s.Seqid, Other: s.Other}))
}

// opBackchannelCtl is BACKCHANNEL_CTL (RFC 8881 section 18.33): a new
// callback program and security for the session's back channel.
func (cs *compound) opBackchannelCtl(a *wire.BackchannelCtlArgs, w *xdr.Writer) error {
	c := cbCredOf(a.SecParms)
	if !c.ok {
		return nfserr.EncrAlgUnsupp
	}
	sid := cs.seq.SessionID
	if err := cs.s.clients.SetCallbackProgram(sid, a.CbProgram); err != nil {
		return err
	}
	go cs.s.probe(cs.s.cb.setCred(cs.clientID, sid, c, a.CbProgram, true))
	return status(w, nil)
}

// delegStateid converts a wire stateid for the delegation table.
func delegStateid(s wire.Stateid4) deleg.Stateid {
	return deleg.Stateid{Seqid: s.Seqid, Other: s.Other}
}
