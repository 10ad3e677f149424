package state

import (
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// SetClientIDArgs are the arguments of SETCLIENTID (RFC 7530 section
// 16.33) with the request's principal and address.
type SetClientIDArgs struct {
	// ID is nfs_client_id4.id (at most MaxOwnerLen bytes), the client's
	// owner string.
	ID []byte
	// Verifier is nfs_client_id4.verifier; it changes when the client
	// reboots.
	Verifier Verifier
	// Callback is cb_client4 and callback_ident.
	Callback Callback
	// Principal names the request's credential (for example "sys:1000"
	// for AUTH_SYS uid 1000, or a GSS principal); it is compared as an
	// opaque string.
	Principal string
	// Addr is the client's network address, reported to another client
	// that collides with this one (NFS4ERR_CLID_INUSE's client_using).
	Addr Netaddr
}

// SetClientIDResult is SETCLIENTID4resok, or with NFS4ERR_CLID_INUSE the
// address of the client using the ID (client_using).
type SetClientIDResult struct {
	ClientID uint64
	Confirm  Verifier
	InUse    Netaddr
}

// SetClientID is SETCLIENTID, RFC 7530 section 16.33.5. With x the id
// string, v the verifier and the request's principal:
//
//   - a confirmed record for x with another principal whose client holds
//     state under an unexpired lease: NFS4ERR_CLID_INUSE, with that
//     client's address; the records are not changed. (A confirmed NFSv4.1
//     record for x holding state is treated the same way.) Without state,
//     or with an expired lease, the request proceeds as a new client and
//     its confirmation removes the old record;
//   - an unconfirmed record for x is always replaced (unconfirmed retry);
//   - a confirmed record for x with the same verifier and principal:
//     callback update, a new unconfirmed record with the same client ID
//     and a new confirm verifier; its confirmation changes only the
//     callback, the client keeps its state;
//   - a confirmed record for x with another verifier: client reboot, a new
//     unconfirmed record with a new client ID; its confirmation replaces
//     the old record and releases the old state;
//   - no record for x: new client, an unconfirmed record with a new client
//     ID.
//
// A record whose state was revoked (Revoke) is never updated in place:
// the client gets a new client ID. NFS4ERR_DELAY when the table is full of
// clients that are not expired.
func (t *Table) SetClientID(a SetClientIDArgs) (SetClientIDResult, error) {
	if err := checkIdentity(a.ID, a.Principal); err != nil {
		return SetClientIDResult{}, err
	}
	var confirm Verifier
	if err := t.random(confirm[:]); err != nil {
		return SetClientIDResult{}, nfserr.Serverfault
	}
	var e effects
	t.mu.Lock()
	res, err := t.setClientIDLocked(a, confirm, &e)
	t.mu.Unlock()
	t.apply(&e)
	return res, err
}

func (t *Table) setClientIDLocked(a SetClientIDArgs, confirm Verifier, e *effects) (SetClientIDResult, error) {
	now := t.now()
	owner := string(a.ID)
	conf := t.confByOwner[owner]
	if conf != nil && t.activeWithState(conf, now) && (conf.principal != a.Principal || conf.minor != 0) {
		return SetClientIDResult{InUse: conf.addr}, nfserr.ClidInuse
	}
	if u := t.unconfByOwner[owner]; u != nil {
		t.destroyLocked(u, e, nil)
	}
	if !t.roomLocked(now, e, conf) {
		return SetClientIDResult{}, nfserr.Delay
	}
	var id uint64
	if conf != nil && conf.minor == 0 && !conf.revoked && conf.verifier == a.Verifier && conf.principal == a.Principal {
		id = conf.id // callback update
	} else {
		id = t.newIDLocked()
	}
	c := &client{
		id:        id,
		owner:     owner,
		verifier:  a.Verifier,
		principal: a.Principal,
		addr:      a.Addr,
		created:   now,
		confirm:   confirm,
		callback:  a.Callback,
	}
	t.unconf[id] = c
	t.unconfByOwner[owner] = c
	return SetClientIDResult{ClientID: id, Confirm: confirm}, nil
}

// SetClientIDConfirm is SETCLIENTID_CONFIRM, RFC 7530 section 16.34. It
// returns the callback of the confirmed record.
//
//   - a client ID of an earlier instance, or unknown: NFS4ERR_STALE_CLIENTID;
//   - an unconfirmed or confirmed record with that ID and another
//     principal: NFS4ERR_CLID_INUSE;
//   - no unconfirmed record with that ID and confirm verifier: NFS4_OK if
//     the confirmed record has them (a retransmitted confirm), else
//     NFS4ERR_STALE_CLIENTID;
//   - a confirmed record with the same ID (callback update): the confirmed
//     record takes the new callback, the client keeps its state;
//   - else the unconfirmed record becomes the confirmed one; a confirmed
//     record with the same id string (client reboot, or a collision
//     without state) is destroyed and its state released, unless its
//     client holds state under an unexpired lease with another principal
//     (NFS4ERR_CLID_INUSE).
//
// A successful confirm renews the lease.
func (t *Table) SetClientIDConfirm(clientid uint64, confirm Verifier, principal string) (Callback, error) {
	if t.stale(clientid) {
		return Callback{}, nfserr.StaleClientid
	}
	var e effects
	t.mu.Lock()
	cb, err := t.confirmLocked(clientid, confirm, principal, &e)
	t.mu.Unlock()
	t.apply(&e)
	return cb, err
}

func (t *Table) confirmLocked(clientid uint64, confirm Verifier, principal string, e *effects) (Callback, error) {
	now := t.now()
	conf := t.conf[clientid]
	unconf := t.unconf[clientid]
	if unconf != nil && unconf.minor != 0 {
		unconf = nil
	}
	if unconf != nil && unconf.principal != principal {
		return Callback{}, nfserr.ClidInuse
	}
	if conf != nil && conf.principal != principal {
		return Callback{}, nfserr.ClidInuse
	}
	if unconf == nil || unconf.confirm != confirm {
		if conf != nil && conf.minor == 0 && conf.confirm == confirm {
			conf.renew(now)
			return conf.callback, nil
		}
		return Callback{}, nfserr.StaleClientid
	}
	if conf != nil {
		// Callback update.
		conf.callback = unconf.callback
		conf.confirm = unconf.confirm
		conf.addr = unconf.addr
		t.destroyLocked(unconf, e, nil)
		conf.renew(now)
		return conf.callback, nil
	}
	if old := t.confByOwner[unconf.owner]; old != nil {
		if old.principal != unconf.principal && t.activeWithState(old, now) {
			return Callback{}, nfserr.ClidInuse
		}
		t.destroyLocked(old, e, nil)
	}
	t.confirmRecordLocked(unconf, now)
	return unconf.callback, nil
}

// confirmRecordLocked moves an unconfirmed record to the confirmed ones.
func (t *Table) confirmRecordLocked(c *client, now time.Time) {
	delete(t.unconf, c.id)
	if t.unconfByOwner[c.owner] == c {
		delete(t.unconfByOwner, c.owner)
	}
	c.confirmed = true
	c.renew(now)
	t.conf[c.id] = c
	t.confByOwner[c.owner] = c
}

// Renew renews the lease of a confirmed client: RENEW (RFC 7530 section
// 16.29), and every NFSv4.0 operation that names a client ID or a stateid
// of the client (RFC 7530 section 9.5). A courtesy client comes back to
// life. NFS4ERR_STALE_CLIENTID for an ID of an earlier instance, unknown
// or unconfirmed; NFS4ERR_EXPIRED for an NFSv4.0 client whose state was
// revoked. (NFS4ERR_CB_PATH_DOWN is the server's to add.)
func (t *Table) Renew(clientid uint64) error {
	if t.stale(clientid) {
		return nfserr.StaleClientid
	}
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.conf[clientid]
	if c == nil {
		return nfserr.StaleClientid
	}
	if c.revoked && c.minor == 0 {
		return nfserr.Expired
	}
	c.renew(now)
	return nil
}
