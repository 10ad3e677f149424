// Package nfs4 implements NFS version 4 (program 100003 version 4) with
// minor versions 0 (RFC 7530), 1 (RFC 8881) and 2 (RFC 7862) for one
// virtual server, on the backend interface of package vfs.
//
// A call is one COMPOUND: its operations are decoded one at a time and run
// in order against the compound's current and saved filehandles, and the
// first that fails ends it (RFC 8881 section 15.2). A malformed operation
// is answered NFS4ERR_BADXDR after the ones before it have run.
//
// Everything stateful lives in the vserver's own tables: client records,
// sessions, leases and grace in package nfs4/state, opens and locks in
// package nfs4/open (whose byte-range locks and share reservations are
// those of the vserver's lock.Manager, shared with NLM). Restarting one
// vserver puts only that vserver into grace.
//
// Filehandles are those of NFSv3 (package fh, so a handle stays valid
// across versions and restarts), plus the pseudo file system's
// directories (package nfs4/pseudofs) that join the exports.
package nfs4

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/deleg"
	"github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/nfs4/open"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
	"github.com/vnfsd/vnfsd/internal/nfs4/wire"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Vers is the version of the NFS program implemented here.
const Vers = 4

// Procedures of program 100003 version 4 (RFC 8881 section 16).
const (
	ProcNULL     = 0
	ProcCOMPOUND = 1
)

// Defaults.
const (
	DefaultMaxIO = 1 << 20
	DefaultLease = 90 * time.Second // as Linux nfsd
	// MaxOps bounds the operations of one COMPOUND (Linux nfsd:
	// NFSD_MAX_OPS_PER_COMPOUND is 50, raised to 200 in 6.x).
	MaxOps = 200
)

// Config configures a Server.
type Config struct {
	// Name identifies the vserver (its server owner, RFC 8881 section
	// 2.10.5, and logs).
	Name string
	// Exports returns the current export table.
	Exports func() *export.Table
	// Handles makes and checks file handles (shared with NFSv3).
	Handles *fh.Codec
	// Locks is the vserver's lock manager (shared with NLM).
	Locks *lock.Manager
	// Minor lists the minor versions served (of 0, 1, 2).
	Minor []uint32
	// MaxIO bounds READ and WRITE; 0 means DefaultMaxIO.
	MaxIO uint32
	// WriteVerf is the write verifier, new at every start.
	WriteVerf [8]byte
	// Lease is the lease time; 0 means DefaultLease. Grace is the grace
	// period after a start; 0 means one lease.
	Lease, Grace time.Duration
	// Recovery keeps the clients that may reclaim after a restart.
	Recovery state.RecoveryStore
	// OnGraceEnd, if set, is called once when the NFSv4 grace period
	// ends (at its deadline, or earlier when every client that may
	// reclaim has said it is done, or at once without recovery records).
	OnGraceEnd func()
	// IDMap maps owners; nil means numeric owners ("1000").
	IDMap fattr.IDMap
	// Logger receives backend errors that have no NFSv4 status.
	Logger *slog.Logger
}

// Server is the NFSv4 program of one virtual server.
type Server struct {
	cfg     Config
	handles *fh.Codec
	views   viewCache
	minor   [3]bool
	maxIO   uint32
	lease   time.Duration
	log     *slog.Logger
	idmap   fattr.IDMap
	clients *state.Table
	opens   *open.Table
	delegs  *deleg.Table
	cb      callbacks
	epoch   uint32
	stop    chan struct{}
	done    chan struct{}

	startOnce sync.Once
	graceOnce sync.Once
}

// ServeRPC implements oncrpc.Handler.
func (s *Server) ServeRPC(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	switch call.Proc {
	case ProcNULL:
		return nil
	case ProcCOMPOUND:
		return s.compound(ctx, call, w)
	}
	return oncrpc.ErrProcUnavail
}

// compound is the state of one COMPOUND (RFC 8881 section 16.2.3).
type compound struct {
	s            *Server
	call         *oncrpc.Call
	v            *view
	minor        uint32
	cur          object // current filehandle
	saved        object
	curSid       wire.Stateid4 // current stateid (RFC 8881 section 16.2.3.1.2)
	haveSid      bool
	savedSid     wire.Stateid4 // saved with the filehandle by SAVEFH
	haveSavedSid bool
	seq          *state.Seq // the SEQUENCE's slot (4.1), nil otherwise
	clientID     uint64     // from SEQUENCE's session (4.1)
	opIndex      int
	numOps       int
	trace        []string // ops and statuses, for the debug log
}

// compound serves PROC4_COMPOUND.
func (s *Server) compound(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	r := xdr.NewReader(call.Args)
	hdr, err := wire.DecodeCompoundHeader(r, s.limits())
	if err != nil {
		return oncrpc.ErrGarbageArgs
	}
	start := w.Len()
	statusAt := w.Reserve(4)
	w.Opaque(hdr.Tag)
	countAt := w.Reserve(4)
	if hdr.MinorVersion > 2 || !s.minor[hdr.MinorVersion] {
		// RFC 8881 section 16.2.3: no operation is run.
		w.PutUint32At(statusAt, uint32(nfserr.MinorVersMismatch))
		w.PutUint32At(countAt, 0)
		return nil
	}
	if !utf8.Valid(hdr.Tag) {
		w.PutUint32At(statusAt, uint32(nfserr.Inval))
		w.PutUint32At(countAt, 0)
		return nil
	}
	cs := &compound{s: s, call: call, v: s.views.get(s.cfg.Exports()), minor: hdr.MinorVersion, numOps: int(hdr.NumOps)}
	status := nfserr.OK
	n := 0
	keep := false // a 4.0 reply the duplicate request cache keeps
	defer func() {
		if !keep {
			call.SkipCache()
		}
	}()
	if err := wire.CheckNumOps(hdr, s.limits()); err != nil {
		// RFC 7530 section 15.2 (NFS4ERR_RESOURCE) and RFC 8881
		// section 15.1.3.4 (NFS4ERR_TOO_MANY_OPS): on the first
		// operation, nothing is run.
		status = nfserr.Of(err)
		op, _ := wire.DecodeOp(r, hdr.MinorVersion, s.limits())
		w.Uint32(op.Num)
		wire.EncodeStatusOnly(w, status)
		w.PutUint32At(statusAt, uint32(status))
		w.PutUint32At(countAt, 1)
		return nil
	}
	for i := 0; i < int(hdr.NumOps); i++ {
		cs.opIndex = i
		opStart := w.Len()
		op, derr := wire.DecodeOp(r, hdr.MinorVersion, s.limits())
		n++
		if derr != nil {
			status = nfserr.Of(derr)
			w.Uint32(op.Num)
			wire.EncodeStatusOnly(w, status)
			break
		}
		w.Uint32(op.Num)
		if hdr.MinorVersion == 0 && replayUnsafe40(op.Num) {
			keep = true
		}
		status = cs.run(ctx, op, w)
		if s.log.Enabled(ctx, slog.LevelDebug) {
			cs.trace = append(cs.trace, wire.Opnum(op.Num).String()+":"+status.String())
		}
		if cs.seq != nil && cs.seq.Replay != nil {
			// A retried request: its reply, as first sent.
			w.Truncate(start)
			w.B = append(w.B, cs.seq.Replay...)
			return nil
		}
		if q := cs.seq; q != nil && status == nfserr.OK {
			// RFC 8881 section 18.46.3: the operation that makes the
			// reply too big for the session fails instead.
			size := uint32(w.Len() - start)
			tooBig := nfserr.OK
			switch {
			case size > q.MaxResponseSize:
				tooBig = nfserr.RepTooBig
			case q.CacheThis && size > q.MaxResponseSizeCached:
				tooBig = nfserr.RepTooBigToCache
			}
			if tooBig != nfserr.OK {
				w.Truncate(opStart)
				w.Uint32(op.Num)
				wire.EncodeStatusOnly(w, tooBig)
				status = tooBig
			}
		}
		if status != nfserr.OK {
			break
		}
	}
	w.PutUint32At(statusAt, uint32(status))
	w.PutUint32At(countAt, uint32(n))
	if cs.seq != nil {
		cs.seq.Done(w.B[start:])
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("nfs4 compound", "minor", hdr.MinorVersion, "ops", cs.trace, "status", status.String(), "remote", call.Remote.String())
	}
	return nil
}

// CacheCall selects the calls whose replies the RPC duplicate request
// cache keeps (oncrpc.Program.CacheCall): NFSv4.0 COMPOUNDs. NFSv4.1 and
// 4.2 have the session slots' exactly-once semantics instead. The
// compound's handler keeps the reply only if an operation in it would
// not give the same result twice (replayUnsafe40).
func CacheCall(c *oncrpc.Call) bool {
	if c.Vers != Vers || c.Proc != ProcCOMPOUND {
		return false
	}
	r := xdr.NewReader(c.Args)
	hdr, err := wire.DecodeCompoundHeader(r, wire.DefaultLimits)
	return err == nil && hdr.MinorVersion == 0
}

// replayUnsafe40 reports whether an NFSv4.0 operation changes the file
// system or the server's state so that running it again answers
// differently (a second CREATE is NFS4ERR_EXIST, a second REMOVE
// NFS4ERR_NOENT): a retransmitted COMPOUND holding one is answered from
// the duplicate request cache, as a 4.0 server must (RFC 7530 section
// 3.1.1 and 9.1.8). The operations with an owner seqid have their own
// replay cache too; the RPC cache answers first when it holds the reply.
func replayUnsafe40(op uint32) bool {
	switch wire.Opnum(op) {
	case wire.OpCreate, wire.OpRemove, wire.OpRename, wire.OpLink, wire.OpSetattr,
		wire.OpOpen, wire.OpOpenConfirm, wire.OpOpenDowngrade, wire.OpClose,
		wire.OpLock, wire.OpLocku, wire.OpSetclientidConfirm, wire.OpReleaseLockowner:
		return true
	}
	return false
}

func (s *Server) limits() wire.Limits {
	l := wire.DefaultLimits
	l.MaxWrite = int(s.maxIO)
	return l
}

// New returns a Server. The grace period starts now: only clients with
// recovery records may reclaim until it ends. Start starts the lease
// reaper (which also reports the end of grace); Close stops it.
func New(cfg Config) (*Server, error) {
	if cfg.Exports == nil || cfg.Handles == nil || cfg.Locks == nil {
		return nil, errors.New("nfs4: Config needs Exports, Handles and Locks")
	}
	s := &Server{cfg: cfg, handles: cfg.Handles, maxIO: cfg.MaxIO, lease: cfg.Lease, log: cfg.Logger,
		idmap: cfg.IDMap, stop: make(chan struct{}), done: make(chan struct{})}
	if s.maxIO == 0 {
		s.maxIO = DefaultMaxIO
	}
	if s.lease == 0 {
		s.lease = DefaultLease
	}
	if s.idmap == nil {
		s.idmap = fattr.NumericIDMap{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, m := range cfg.Minor {
		if m > 2 {
			return nil, fmt.Errorf("nfs4: minor version %d not supported", m)
		}
		s.minor[m] = true
	}
	grace := cfg.Grace
	if grace == 0 {
		grace = s.lease
	}
	var err error
	s.clients, err = state.New(state.Config{
		Lease:           s.lease,
		Grace:           grace,
		Recovery:        cfg.Recovery,
		OnExpire:        s.expire,
		Logger:          s.log,
		MaxRequestSize:  s.maxIO + 64<<10,
		MaxResponseSize: s.maxIO + 64<<10,
		MaxOperations:   MaxOps,
	})
	if err != nil {
		return nil, err
	}
	s.epoch = s.clients.Epoch()
	s.opens = open.New(cfg.Locks, s.epoch, open.Limits{})
	s.delegs = deleg.New(deleg.Config{Alloc: s.opens.AllocOther, Recall: s.recall, Timeout: s.lease})
	return s, nil
}

// Start starts the lease reaper.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		s.graceCheck()
		go s.reaper()
	})
}

// expire releases the opens and locks of a client whose state ends
// (lease expiry, DESTROY_CLIENTID, a rebooted client's old record).
func (s *Server) expire(clientid uint64) {
	s.delegs.ReleaseClient(clientid)
	s.cb.clientGone(clientid)
	s.opens.ReleaseClient(clientid)
	s.cfg.Locks.UnlockClient(clientKey(clientid))
}

// reaper expires leases: every tenth of a lease it lets the client table
// find the clients whose lease ran out.
func (s *Server) reaper() {
	defer close(s.done)
	t := time.NewTicker(max(s.lease/10, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.clients.Reap(now)
			s.delegs.Reap(now)
			s.graceCheck()
		}
	}
}

// graceCheck calls OnGraceEnd once, when the grace period has ended.
func (s *Server) graceCheck() {
	if s.clients.InGrace() {
		return
	}
	s.graceOnce.Do(func() {
		if s.cfg.OnGraceEnd != nil {
			s.cfg.OnGraceEnd()
		}
	})
}

// Close stops the lease reaper. The state is dropped with the Server.
func (s *Server) Close() {
	started := true
	s.startOnce.Do(func() { started = false })
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	if started {
		<-s.done
	}
}

// InGrace reports whether the vserver's NFSv4 grace period is running.
func (s *Server) InGrace() bool { return s.clients.InGrace() }

// Program returns the RPC program of NFSv4 (its versions are set by the
// caller when NFSv3 is served on the same program number).
func (s *Server) Program() oncrpc.Program {
	return oncrpc.Program{Name: "nfs", Prog: oncrpc.ProgNFS, Low: Vers, High: Vers, Handler: s}
}
