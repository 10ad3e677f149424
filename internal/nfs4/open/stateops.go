package open

import (
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// TestStateid is TEST_STATEID (RFC 8881 section 18.48): the status of
// each stateid as the operations using it would find it, without the
// current filehandle: NFS4_OK, NFS4ERR_BAD_STATEID (special, unknown, of
// another client or epoch), NFS4ERR_OLD_STATEID, NFS4ERR_ADMIN_REVOKED or
// NFS4ERR_EXPIRED.
func (t *Table) TestStateid(c Caller, ids []Stateid) []nfserr.Status {
	out := make([]nfserr.Status, len(ids))
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range ids {
		st, err := t.lookupLocked(c, s)
		if err == nil {
			err = t.validateLocked(c, st, s, nil, false)
		}
		out[i] = nfserr.Of(err)
	}
	return out
}

// FreeStateid is FREE_STATEID (RFC 8881 section 18.38): it frees a
// revoked stateid, or a lock stateid that holds no locks. A lock stateid
// with locks, or an open stateid that is not revoked (an open holds a
// share reservation: the client CLOSEs it), is NFS4ERR_LOCKS_HELD.
func (t *Table) FreeStateid(c Caller, s Stateid) error {
	st, o, err := t.lockStateOwner(c, s, 0)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer func() {
		t.releaseOwnerLocked(o, c.Minor)
		t.mu.Unlock()
		o.mu.Unlock()
	}()
	switch {
	case st.gone || st.closed:
		return nfserr.BadStateid
	case c.Minor >= 1 && o.c.id != c.Clientid:
		return nfserr.BadStateid
	case st.revoked != 0:
		t.removeStateLocked(st)
		return nil
	}
	if err := checkGeneration(c.Minor, s.Seqid, st.seqid); err != nil {
		return err
	}
	if st.kind == kindOpen || len(st.held) > 0 {
		return nfserr.LocksHeld
	}
	t.removeStateLocked(st)
	return nil
}
