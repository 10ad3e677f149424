package nfs4

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs4/deleg"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Callbacks (RFC 8881 section 2.10.3.1 and chapter 20): an NFSv4.1 client
// names a back channel when it creates a session
// (CREATE_SESSION4_FLAG_CONN_BACK_CHAN) or binds a connection to one
// (BIND_CONN_TO_SESSION); the server then calls the client's callback
// program on that TCP connection. The server uses it to recall
// delegations (CB_RECALL). Each time a back channel is bound or its
// security changes, the server probes it with CB_NULL, as Linux nfsd
// does: until the probe fails the path counts as up (so that an OPEN
// right after CREATE_SESSION may get a delegation); a failed probe marks
// it down (no delegations, SEQ4_STATUS_CB_PATH_DOWN) until the client
// binds a connection again. NFSv4.0's separate callback connection
// (SETCLIENTID's cb_location) is not made: 4.0 clients get no
// delegations.

// ProcCBCompound is CB_COMPOUND of the callback program (CB_NULL is 0).
const (
	ProcCBNull     = 0
	ProcCBCompound = 1
	cbVers         = 1
)

// cbTimeout bounds one callback's wait for the client's reply.
const cbTimeout = 15 * time.Second

// backChan is the back channel the server calls a client on: the
// connection bound last to the back channel of one of its sessions.
type backChan struct {
	mu    sync.Mutex // one CB_COMPOUND at a time: the server uses slot 0
	sid   state.SessionID
	minor uint32
	conn  oncrpc.Backchannel
	prog  uint32
	cred  oncrpc.Cred
	seq   uint32 // slot 0's last sequenceid
	gen   uint64 // bumped at each (re)bind or credential change
	down  atomic.Bool
}

// callbacks holds the back channels of a vserver's clients.
type callbacks struct {
	mu    sync.Mutex
	chans map[uint64]*backChan       // by clientid
	creds map[state.SessionID]cbCred // security of each session's callbacks
	// downs counts the back channels whose probe failed, so that
	// SEQUENCE asks about its client only when some did.
	downs atomic.Int64
}

// setDown records a probe's outcome; bc.mu is held.
func (cb *callbacks) setDown(bc *backChan, down bool) {
	if bc.down.Swap(down) != down {
		if down {
			cb.downs.Add(1)
		} else {
			cb.downs.Add(-1)
		}
	}
}

// dropLocked forgets a client's back channel; cb.mu is held. A probe
// still running for it finds its generation changed.
func (cb *callbacks) dropLocked(clientid uint64, bc *backChan) {
	bc.mu.Lock()
	bc.gen++
	cb.setDown(bc, false)
	bc.mu.Unlock()
	delete(cb.chans, clientid)
}

type cbCred struct {
	cred oncrpc.Cred
	ok   bool // a flavor the server can use was offered
}

// cbCredOf picks the first callback_sec_parms4 the server can use:
// AUTH_NONE or AUTH_SYS (RPCSEC_GSS needs a context the server does not
// have).
func cbCredOf(p []wire.CallbackSecParms4) cbCred {
	for _, sp := range p {
		switch sp.Flavor {
		case oncrpc.AuthNone:
			return cbCred{cred: oncrpc.AuthNoneCred(), ok: true}
		case oncrpc.AuthSys:
			c := sp.SysCred
			return cbCred{cred: oncrpc.AuthSysCred(oncrpc.AuthSysParams{Stamp: c.Stamp, Machine: c.Machinename,
				UID: c.UID, GID: c.GID, GIDs: c.Gids}), ok: true}
		}
	}
	return cbCred{}
}

// setCred records the callback security of a session (CREATE_SESSION,
// BACKCHANNEL_CTL) and applies it to the client's back channel if that
// is the session's.
// It returns the back channel to probe, if any.
func (cb *callbacks) setCred(clientid uint64, sid state.SessionID, c cbCred, prog uint32, setProg bool) *backChan {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.creds == nil {
		cb.creds = make(map[state.SessionID]cbCred)
	}
	cb.creds[sid] = c
	bc := cb.chans[clientid]
	if bc == nil || bc.sid != sid {
		return nil
	}
	if !c.ok {
		cb.dropLocked(clientid, bc)
		return nil
	}
	bc.mu.Lock()
	bc.cred = c.cred
	if setProg {
		bc.prog = prog
	}
	bc.gen++
	cb.setDown(bc, false)
	bc.mu.Unlock()
	return bc
}

// bind makes conn the client's back channel, on session sid, and
// returns it to probe (nil if the session's security is unusable).
func (cb *callbacks) bind(clientid uint64, sid state.SessionID, minor uint32, conn oncrpc.Backchannel, prog uint32) *backChan {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	c, known := cb.creds[sid]
	if known && !c.ok {
		return nil
	}
	if !known {
		c = cbCred{cred: oncrpc.AuthNoneCred(), ok: true}
	}
	if cb.chans == nil {
		cb.chans = make(map[uint64]*backChan)
	}
	if old := cb.chans[clientid]; old != nil && old.sid == sid {
		old.mu.Lock()
		old.conn, old.prog, old.cred = conn, prog, c.cred
		old.gen++
		cb.setDown(old, false)
		old.mu.Unlock()
		return old
	}
	bc := &backChan{sid: sid, minor: minor, conn: conn, prog: prog, cred: c.cred}
	cb.chans[clientid] = bc
	return bc
}

// probe sends CB_NULL on a back channel bound or changed just now and
// marks it down if the client does not answer (RFC 8881 section 20:
// CB_NULL, the procedure to test the path).
func (s *Server) probe(bc *backChan) {
	if bc == nil {
		return
	}
	bc.mu.Lock()
	conn, prog, cred, gen := bc.conn, bc.prog, bc.cred, bc.gen
	bc.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cbTimeout)
	defer cancel()
	_, err := conn.Call(ctx, prog, cbVers, ProcCBNull, cred, nil)
	bc.mu.Lock()
	if bc.gen == gen {
		s.cb.setDown(bc, err != nil)
	}
	bc.mu.Unlock()
	if err != nil {
		s.log.Debug("nfs4 back channel probe (CB_NULL) failed", "err", err)
	}
}

// sessionGone forgets a destroyed session.
func (cb *callbacks) sessionGone(sid state.SessionID) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	delete(cb.creds, sid)
	for id, bc := range cb.chans {
		if bc.sid == sid {
			cb.dropLocked(id, bc)
		}
	}
}

// clientGone forgets a client's back channel.
func (cb *callbacks) clientGone(clientid uint64) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if bc := cb.chans[clientid]; bc != nil {
		delete(cb.creds, bc.sid)
		cb.dropLocked(clientid, bc)
	}
}

// get returns the client's back channel if its connection is up.
func (cb *callbacks) get(clientid uint64) *backChan {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	bc := cb.chans[clientid]
	if bc == nil {
		return nil
	}
	select {
	case <-bc.conn.Done():
		cb.dropLocked(clientid, bc)
		return nil
	default:
	}
	return bc
}

// up reports whether the client can be called back: it has a back
// channel whose connection is open and whose probe did not fail.
func (cb *callbacks) up(clientid uint64) bool {
	bc := cb.get(clientid)
	return bc != nil && !bc.down.Load()
}

// probeFailed reports whether the client's back channel did not answer
// its CB_NULL.
func (cb *callbacks) probeFailed(clientid uint64) bool {
	if cb.downs.Load() == 0 {
		return false // the common case: no lock taken on SEQUENCE
	}
	bc := cb.get(clientid)
	return bc != nil && bc.down.Load()
}

// errCbDown: the client has no back channel, or its connection ended.
var errCbDown = errors.New("nfs4: no back channel")

// compound sends one CB_COMPOUND of CB_SEQUENCE and ops on the client's
// back channel and returns the status of the callback operations.
func (cb *callbacks) compound(ctx context.Context, clientid uint64, ops ...wire.CbArg) (nfserr.Status, error) {
	bc := cb.get(clientid)
	if bc == nil {
		return 0, errCbDown
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	seq := bc.seq + 1
	args := wire.CbCompoundArgs{MinorVersion: bc.minor, Ops: append([]wire.CbArg{&wire.CbSequenceArgs{
		Sessionid: bc.sid, Sequenceid: seq}}, ops...)}
	var w xdr.Writer
	args.Encode(&w)
	ctx, cancel := context.WithTimeout(ctx, cbTimeout)
	defer cancel()
	res, err := bc.conn.Call(ctx, bc.prog, cbVers, ProcCBCompound, bc.cred, w.B)
	if errors.Is(err, oncrpc.ErrConnClosed) {
		return 0, errCbDown
	}
	if err != nil {
		return 0, err
	}
	r, err := wire.DecodeCbCompoundRes(xdr.NewReader(res), wire.DefaultLimits)
	if err != nil {
		return 0, err
	}
	if len(r.Results) > 0 && r.Results[0].Op == wire.CbOpSequence {
		// The slot was used, whatever became of the rest.
		bc.seq = seq
	} else if r.Status == nfserr.SeqMisordered {
		bc.seq = seq
	}
	return r.Status, nil
}

// recall sends CB_RECALL for a delegation (deleg.Config.Recall): it
// reports whether the client was told. A client that answers
// NFS4ERR_DELAY is asked again until the recall times out.
func (s *Server) recall(d *deleg.Deleg) bool {
	args := &wire.CbRecallArgs{Stateid: wire.Stateid4{Seqid: d.Stateid.Seqid, Other: d.Stateid.Other}, FH: d.FH}
	deadline := time.Now().Add(s.lease)
	for {
		st, err := s.cb.compound(context.Background(), d.Client, args)
		switch {
		case errors.Is(err, errCbDown):
			s.log.Debug("nfs4 recall: no back channel", "client", d.Client)
			return false
		case err != nil:
			// The call may have reached the client: the delegation is
			// revoked when the recall times out, if not returned.
			s.log.Debug("nfs4 recall failed", "client", d.Client, "err", err)
			return true
		case st == nfserr.Delay && time.Now().Before(deadline):
			select {
			case <-s.stop:
				return true
			case <-time.After(time.Second):
			}
			continue
		case st != nfserr.OK:
			s.log.Debug("nfs4 recall refused", "client", d.Client, "status", st.String())
		default:
			s.log.Debug("nfs4 recall sent", "client", d.Client)
		}
		return true
	}
}
