package nfs4

import (
	"strconv"
	"strings"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/open"
)

// Courtesy clients (RFC 8881 section 8.4.3, RFC 7530 section 9.6.2): a
// client whose lease expired keeps its state until another client needs
// it. Before an OPEN, LOCK or LOCKT that could conflict, the holders of
// conflicting state that are courtesy clients have it revoked
// (state.Table.Revoke, whose OnExpire releases their opens and locks), so
// that the live client gets what the expired one no longer renews. A
// holder whose lease is valid keeps its state: the request then fails
// with the usual conflict.

// maxRevokeRounds bounds the conflicting holders looked at per request.
const maxRevokeRounds = 16

// nfs4ClientOf returns the clientid of an NFSv4 owner in the lock manager.
func nfs4ClientOf(o lock.Owner) (uint64, bool) {
	c, ok := strings.CutPrefix(o.Client, "nfs4:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(c, 10, 64)
	return id, err == nil
}

// revokeShareHolders revokes courtesy clients whose share reservations on
// file conflict with access and deny.
func (s *Server) revokeShareHolders(file lock.FileID, access, deny uint8, self uint64) {
	for _, sh := range s.cfg.Locks.SharesOf(file) {
		if sh.Access&deny == 0 && sh.Deny&access == 0 {
			continue
		}
		if id, ok := nfs4ClientOf(sh.Owner); ok && id != self {
			s.clients.Revoke(id)
		}
	}
}

// revokeLockHolders revokes courtesy clients holding locks on file that
// conflict with a lock of typ over r.
func (s *Server) revokeLockHolders(file lock.FileID, typ open.LockType, offset, length uint64, self uint64) {
	lt := lock.Write
	if typ == open.ReadLT || typ == open.ReadwLT {
		lt = lock.Read
	}
	if length == 0 {
		return
	}
	r := lock.NewRange(offset, length) // all ones: to the end of the file
	probe := lock.Owner{Client: "nfs4-courtesy-probe", ID: "probe"}
	for range maxRevokeRounds {
		h, conflict := s.cfg.Locks.Test(lock.Request{File: file, Owner: probe, Type: lt, Range: r})
		if !conflict {
			return
		}
		id, ok := nfs4ClientOf(h.Owner)
		if !ok || id == self || !s.clients.Revoke(id) {
			return
		}
	}
}
