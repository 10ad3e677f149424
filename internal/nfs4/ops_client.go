package nfs4

import (
	"encoding/binary"
	"hash/fnv"
	"strconv"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// principal names the credential of a call for the client records: the
// AUTH_SYS uid, or "none".
func principal(c *oncrpc.Call) string {
	if c.Sys != nil {
		return "sys:" + strconv.FormatUint(uint64(c.Sys.UID), 10)
	}
	return "none"
}

// connKey names the transport connection of a call: its two endpoints.
func connKey(c *oncrpc.Call) state.ConnKey {
	h := fnv.New64a()
	b, _ := c.Remote.MarshalBinary()
	h.Write(b)
	b, _ = c.Local.MarshalBinary()
	h.Write(b)
	return state.ConnKey(h.Sum64())
}

// netaddr is the universal address of the caller (RFC 5665).
func netaddr(c *oncrpc.Call) state.Netaddr {
	a := c.Remote.Addr()
	netid := "tcp"
	if a.Is6() && !a.Is4In6() {
		netid = "tcp6"
	}
	p := c.Remote.Port()
	return state.Netaddr{Netid: netid, Addr: a.Unmap().String() + "." + strconv.Itoa(int(p>>8)) + "." + strconv.Itoa(int(p&0xff))}
}

func (cs *compound) opSetclientid(a *wire.SetclientidArgs, w *xdr.Writer) error {
	res, err := cs.s.clients.SetClientID(state.SetClientIDArgs{
		ID:       a.Client.ID,
		Verifier: a.Client.Verifier,
		Callback: state.Callback{Program: a.Callback.CbProgram,
			Addr: state.Netaddr{Netid: a.Callback.CbLocation.Netid, Addr: a.Callback.CbLocation.Addr}, Ident: a.CallbackIdent},
		Principal: principal(cs.call),
		Addr:      netaddr(cs.call),
	})
	r := wire.SetclientidRes{Status: nfserr.Of(err), Clientid: res.ClientID, SetclientidConfirm: res.Confirm,
		ClientUsing: wire.Netaddr4{Netid: res.InUse.Netid, Addr: res.InUse.Addr}}
	r.Encode(w)
	return written(r.Status)
}

func (cs *compound) opSetclientidConfirm(a *wire.SetclientidConfirmArgs, w *xdr.Writer) error {
	if _, err := cs.s.clients.SetClientIDConfirm(a.Clientid, a.SetclientidConfirm, principal(cs.call)); err != nil {
		return err
	}
	return status(w, nil)
}

func (cs *compound) opRenew(a *wire.RenewArgs, w *xdr.Writer) error {
	return status(w, cs.s.clients.Renew(a.Clientid))
}

// serverOwner identifies this vserver to clients (RFC 8881 section
// 2.10.5): clients trunk only connections to the same major id, so each
// vserver has its own; the scope is the same.
func (s *Server) serverOwner() []byte { return []byte("vnfsd:" + s.cfg.Name) }

func (cs *compound) opExchangeID(a *wire.ExchangeIdArgs, w *xdr.Writer) error {
	// Only SP4_NONE: MACH_CRED and SSV need RPCSEC_GSS (RFC 8881
	// section 18.35.4), which this server does not offer yet.
	if a.StateProtect.How != wire.SP4None {
		return nfserr.Inval
	}
	// The flags a client may set (Linux nfsd's EXCHGID4_FLAG_MASK_A;
	// SUPP_FENCE_OPS is a server flag: pynfs EID4).
	const known = wire.Exchgid4FlagSuppMovedRefer | wire.Exchgid4FlagSuppMovedMigr |
		wire.Exchgid4FlagBindPrincStateid | wire.Exchgid4FlagMaskPNFS |
		wire.Exchgid4FlagUpdConfirmedRecA
	if a.Flags&^uint32(known) != 0 {
		return nfserr.Inval
	}
	res, err := cs.s.clients.ExchangeID(state.ExchangeIDArgs{
		OwnerID:   a.Clientowner.OwnerID,
		Verifier:  a.Clientowner.Verifier,
		Update:    a.Flags&wire.Exchgid4FlagUpdConfirmedRecA != 0,
		Flags:     wire.Exchgid4FlagUseNonPNFS,
		Minor:     cs.minor,
		Principal: principal(cs.call),
		Addr:      netaddr(cs.call),
	})
	if err != nil {
		return err
	}
	flags := res.Flags
	if res.Confirmed {
		flags |= wire.Exchgid4FlagConfirmedR
	}
	owner := cs.s.serverOwner()
	r := wire.ExchangeIdRes{Clientid: res.ClientID, Sequenceid: res.SequenceID, Flags: flags,
		StateProtect: wire.StateProtect4R{How: wire.SP4None},
		ServerOwner:  wire.ServerOwner4{MinorID: 0, MajorID: owner},
		ServerScope:  owner,
		ServerImplID: &wire.NfsImplID4{Domain: []byte("vnfsd.dev"), Name: []byte("vnfsd")},
	}
	r.Encode(w)
	return nil
}

func channelIn(c wire.ChannelAttrs4) state.ChannelAttrs {
	a := state.ChannelAttrs{HeaderPadSize: c.HeaderPadSize, MaxRequestSize: c.MaxRequestSize,
		MaxResponseSize: c.MaxResponseSize, MaxResponseSizeCached: c.MaxResponseSizeCached,
		MaxOperations: c.MaxOperations, MaxRequests: c.MaxRequests}
	if c.RdmaIrd != nil {
		a.RDMAIrd = []uint32{*c.RdmaIrd}
	}
	return a
}

func channelOut(c state.ChannelAttrs) wire.ChannelAttrs4 {
	return wire.ChannelAttrs4{HeaderPadSize: c.HeaderPadSize, MaxRequestSize: c.MaxRequestSize,
		MaxResponseSize: c.MaxResponseSize, MaxResponseSizeCached: c.MaxResponseSizeCached,
		MaxOperations: c.MaxOperations, MaxRequests: c.MaxRequests}
}

func (cs *compound) opCreateSession(a *wire.CreateSessionArgs, w *xdr.Writer) error {
	// RFC 8881 section 18.36.3: undefined flags are NFS4ERR_INVAL
	// (pynfs CSESS15).
	if a.Flags&^uint32(wire.CreateSession4FlagPersist|wire.CreateSession4FlagConnBackChan|wire.CreateSession4FlagConnRDMA) != 0 {
		return nfserr.Inval
	}
	res, err := cs.s.clients.CreateSession(state.CreateSessionArgs{
		ClientID: a.Clientid, SequenceID: a.Sequence, Flags: a.Flags,
		Fore: channelIn(a.ForeChanAttrs), Back: channelIn(a.BackChanAttrs),
		CbProgram: a.CbProgram, Principal: principal(cs.call), Conn: connKey(cs.call),
	})
	if err != nil {
		return err
	}
	cs.s.cb.setCred(a.Clientid, res.SessionID, cbCredOf(a.SecParms), a.CbProgram, false)
	if back := cs.call.Back(); back != nil && res.Flags&wire.CreateSession4FlagConnBackChan != 0 {
		go cs.s.probe(cs.s.cb.bind(a.Clientid, res.SessionID, cs.minor, back, a.CbProgram))
	}
	r := wire.CreateSessionRes{Sessionid: res.SessionID, Sequence: res.SequenceID, Flags: res.Flags,
		ForeChanAttrs: channelOut(res.Fore), BackChanAttrs: channelOut(res.Back)}
	r.Encode(w)
	return nil
}

func (cs *compound) opDestroySession(a *wire.DestroySessionArgs, w *xdr.Writer) error {
	err := cs.s.clients.DestroySession(a.Sessionid, cs.seq)
	if err == nil {
		cs.s.cb.sessionGone(a.Sessionid)
	}
	return status(w, err)
}

func (cs *compound) opBindConnToSession(a *wire.BindConnToSessionArgs, w *xdr.Writer) error {
	dir, err := cs.s.clients.BindConnToSession(a.Sessid, connKey(cs.call), a.Dir)
	if err != nil {
		return err
	}
	if back := cs.call.Back(); back != nil && dir&state.CDFS4_BACK != 0 {
		if info, err := cs.s.clients.Session(a.Sessid); err == nil {
			go cs.s.probe(cs.s.cb.bind(info.ClientID, a.Sessid, cs.minor, back, info.CbProgram))
		}
	}
	r := wire.BindConnToSessionRes{Sessid: a.Sessid, Dir: dir}
	r.Encode(w)
	return nil
}

func (cs *compound) opDestroyClientid(a *wire.DestroyClientidArgs, w *xdr.Writer) error {
	// The client table learns of state at OPEN; whether any is left
	// (CLOSE and LOCKU do not tell it) is the open table's to say.
	if !cs.s.opens.HasState(a.Clientid) && !cs.s.delegs.Holds(a.Clientid) {
		cs.s.clients.SetHasState(a.Clientid, false)
	}
	return status(w, cs.s.clients.DestroyClientID(a.Clientid))
}

// opSequence is SEQUENCE (RFC 8881 section 18.46). A retried request
// gets its cached reply: compound sends cs.seq.Replay instead of
// executing anything.
func (cs *compound) opSequence(a *wire.SequenceArgs, w *xdr.Writer) error {
	// The session's limits are checked before the slot is touched, so
	// that a refused request leaves it as it was (as Linux nfsd).
	info, err := cs.s.clients.Session(a.Sessionid)
	if err != nil {
		return err
	}
	if uint32(cs.numOps) > info.Fore.MaxOperations {
		return nfserr.TooManyOps
	}
	if uint32(len(cs.call.Args)) > info.Fore.MaxRequestSize {
		return nfserr.ReqTooBig
	}
	q, err := cs.s.clients.Sequence(state.SequenceArgs{
		SessionID: a.Sessionid, SequenceID: a.Sequenceid, SlotID: a.Slotid,
		HighestSlotID: a.HighestSlotid, CacheThis: a.Cachethis || cs.numOps == 1, Conn: connKey(cs.call),
	})
	if err != nil {
		return err
	}
	cs.seq = q
	cs.clientID = q.ClientID
	if q.Replay != nil {
		return nil
	}
	flags := q.StatusFlags
	if flags&state.SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED != 0 && cs.s.opens.Revoked(q.ClientID) == 0 {
		// The revoked state is gone from the open table already (the
		// client's stateids are unknown now): report it once.
		cs.s.clients.SetStatusFlags(q.ClientID, 0, state.SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED)
	}
	if cs.s.delegs.Revoked(q.ClientID) > 0 {
		flags |= state.SEQ4_STATUS_RECALLABLE_STATE_REVOKED
	}
	if cs.s.cb.probeFailed(q.ClientID) || (cs.s.delegs.HoldsLive(q.ClientID) && !cs.s.cb.up(q.ClientID)) {
		flags |= state.SEQ4_STATUS_CB_PATH_DOWN
	}
	r := wire.SequenceRes{Sessionid: q.SessionID, Sequenceid: q.SequenceID, Slotid: q.SlotID,
		HighestSlotid: q.HighestSlotID, TargetHighestSlotid: q.TargetHighestSlotID, StatusFlags: flags}
	r.Encode(w)
	return nil
}

func (cs *compound) opReclaimComplete(a *wire.ReclaimCompleteArgs, w *xdr.Writer) error {
	if a.OneFS {
		// Per-file-system reclaim completion is for migration, which
		// this server does not do (RFC 8881 section 18.51.3).
		if _, err := cs.needFH(); err != nil {
			return err
		}
		return status(w, nil)
	}
	if err := cs.s.clients.ReclaimComplete(cs.clientID, a.OneFS); err != nil {
		return err
	}
	// The last client to reclaim may have ended the grace period.
	cs.s.graceCheck()
	return status(w, nil)
}

// clientKey is the lock.Owner.Client of an NFSv4 client.
func clientKey(id uint64) string { return "nfs4:" + strconv.FormatUint(id, 10) }

var _ = binary.BigEndian
