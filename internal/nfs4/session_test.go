package nfs4_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// TestSessionSetup: EXCHANGE_ID and CREATE_SESSION (RFC 8881 sections
// 18.35 and 18.36): a new owner gets an unconfirmed client ID, which
// CREATE_SESSION confirms; a second EXCHANGE_ID of the same owner and
// verifier gets the same client ID marked confirmed; the fore channel
// attributes are at most those asked; SEQUENCE echoes the session, slot
// and sequence id.
func TestSessionSetup(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	c := ts.dial(t)
	owner, v := []byte("setup-owner"), verf("setup")

	ex, err := c.ExchangeID(ctx(t), 1, owner, v)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Flags&c4.EXCHGID4_FLAG_CONFIRMED_R != 0 {
		t.Errorf("new client ID flags %#x: confirmed", ex.Flags)
	}
	if ex.Flags&c4.EXCHGID4_FLAG_MASK_PNFS != c4.EXCHGID4_FLAG_USE_NON_PNFS {
		t.Errorf("flags %#x: pNFS role not USE_NON_PNFS", ex.Flags)
	}
	if ex.StateProtect != c4.SP4_NONE || len(ex.ServerOwner.MajorID) == 0 {
		t.Errorf("state protect %d, server owner %q", ex.StateProtect, ex.ServerOwner.MajorID)
	}

	// A CREATE_SESSION with the wrong sequence id is misordered (RFC 8881
	// section 18.36.4: csa_sequence must be eir_sequenceid).
	res := call(t, c, 1, c4.CreateSession(c4.CreateSessionArgs{Clientid: ex.Clientid, Sequence: ex.Sequenceid + 1,
		Fore: c4.DefaultForeAttrs, Back: c4.DefaultBackAttrs, CbProgram: 0x40000000}))
	wantStatuses(t, res, c4.NFS4ERR_SEQ_MISORDERED, fail(c4.OP_CREATE_SESSION, c4.NFS4ERR_SEQ_MISORDERED))
	// An unknown client ID is stale.
	res = call(t, c, 1, c4.CreateSession(c4.CreateSessionArgs{Clientid: ex.Clientid + 12345, Sequence: ex.Sequenceid,
		Fore: c4.DefaultForeAttrs, Back: c4.DefaultBackAttrs}))
	wantStatuses(t, res, c4.NFS4ERR_STALE_CLIENTID, fail(c4.OP_CREATE_SESSION, c4.NFS4ERR_STALE_CLIENTID))

	fore := c4.ChannelAttrs{MaxRequestSize: 1 << 16, MaxResponseSize: 1 << 16, MaxResponseSizeCached: 2048,
		MaxOperations: 8, MaxRequests: 4}
	res = mustOK(t, call(t, c, 1, c4.CreateSession(c4.CreateSessionArgs{Clientid: ex.Clientid, Sequence: ex.Sequenceid,
		Fore: fore, Back: c4.DefaultBackAttrs, CbProgram: 0x40000000,
		SecParms: []c4.CallbackSec{{Flavor: c4.AUTH_NONE}, {Flavor: c4.AUTH_SYS}}})))
	cs, err := res.Ops[0].CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	if cs.Sequence != ex.Sequenceid {
		t.Errorf("csr_sequence %d, want %d", cs.Sequence, ex.Sequenceid)
	}
	if cs.Sessionid == (c4.SessionID{}) {
		t.Error("zero session id")
	}
	f := cs.Fore
	if f.MaxRequestSize > fore.MaxRequestSize || f.MaxResponseSize > fore.MaxResponseSize ||
		f.MaxResponseSizeCached > fore.MaxResponseSizeCached || f.MaxOperations > fore.MaxOperations ||
		f.MaxRequests > fore.MaxRequests || f.MaxRequests == 0 || f.MaxOperations < 2 {
		t.Errorf("fore channel %+v, asked %+v", f, fore)
	}
	if cs.Flags&c4.CREATE_SESSION4_FLAG_PERSIST != 0 {
		t.Errorf("csr_flags %#x: persistent reply cache not asked", cs.Flags)
	}

	ex2, err := c.ExchangeID(ctx(t), 1, owner, v)
	if err != nil {
		t.Fatal(err)
	}
	if ex2.Clientid != ex.Clientid || ex2.Flags&c4.EXCHGID4_FLAG_CONFIRMED_R == 0 {
		t.Errorf("second EXCHANGE_ID: client ID %#x flags %#x, want %#x confirmed", ex2.Clientid, ex2.Flags, ex.Clientid)
	}

	s := &c4.Session{C: c, Minor: 1, Clientid: ex.Clientid, ID: cs.Sessionid, Fore: cs.Fore}
	res = mustOK(t, do(t, s, c4.Putrootfh()))
	sq, err := res.Ops[0].Sequence()
	if err != nil {
		t.Fatal(err)
	}
	if sq.Sessionid != cs.Sessionid || sq.Sequenceid != 1 || sq.Slotid != 0 ||
		sq.HighestSlotid >= f.MaxRequests || sq.TargetHighestSlotid > sq.HighestSlotid || sq.StatusFlags != 0 {
		t.Errorf("SEQUENCE result %+v (fore channel %+v)", sq, f)
	}
	// More operations than ca_maxoperations: NFS4ERR_TOO_MANY_OPS on
	// SEQUENCE (RFC 8881 section 18.46.3).
	ops := make([]c4.Op, f.MaxOperations)
	for i := range ops {
		ops[i] = c4.Putrootfh()
	}
	res = do(t, s, ops...)
	if res.Status != c4.NFS4ERR_TOO_MANY_OPS || res.Last().Status != c4.NFS4ERR_TOO_MANY_OPS {
		t.Errorf("%d operations for ca_maxoperations %d: %v %s, want NFS4ERR_TOO_MANY_OPS",
			len(ops)+1, f.MaxOperations, res.Status, describe(res))
	}

	// DESTROY_SESSION: the session is gone.
	mustOK(t, call(t, c, 1, c4.DestroySession(s.ID)))
	res = do(t, s, c4.Putrootfh())
	wantStatuses(t, res, c4.NFS4ERR_BADSESSION, fail(c4.OP_SEQUENCE, c4.NFS4ERR_BADSESSION))
	mustOK(t, call(t, c, 1, c4.DestroyClientid(s.Clientid)))
	res = call(t, c, 1, c4.DestroyClientid(s.Clientid))
	wantStatuses(t, res, c4.NFS4ERR_STALE_CLIENTID, fail(c4.OP_DESTROY_CLIENTID, c4.NFS4ERR_STALE_CLIENTID))
}

// TestSessionOpenReadWrite: OPEN (create), WRITE, READ back, CLOSE in 4.1
// and 4.2 (RFC 8881 sections 18.16, 18.32, 18.22, 18.2): no
// OPEN_CONFIRM, the current stateid passes OPEN's stateid along the
// COMPOUND (section 16.2.3.1.2), and the closed stateid is no longer
// valid.
func TestSessionOpenReadWrite(t *testing.T) {
	b := newBackend(t)
	ts := newServer(t, b, serverOpts{})
	for _, minor := range []uint32{1, 2} {
		c := ts.dial(t)
		s, err := c.NewSession(ctx(t), minor, []byte{'o', byte(minor)}, verf("orw"))
		if err != nil {
			t.Fatal(err)
		}
		dir := rootFH(t, nil, 0, s, "a")
		owner := c4.StateOwner{Clientid: s.Clientid, Owner: []byte("open-owner-1")}
		name := "file" + string(rune('0'+minor))
		data := []byte("hello, NFSv4.1 world")

		res := mustOK(t, do(t, s, c4.Putfh(dir),
			c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_NONE, owner, name, c4.UNCHECKED4, c4.NewFattr(c4.Mode(0o640))),
			c4.Getfh(),
			c4.Write(c4.CurrentStateid, 0, c4.FILE_SYNC4, data),
			c4.Getattr(c4.FATTR4_SIZE, c4.FATTR4_MODE, c4.FATTR4_TYPE)))
		op, err := res.Ops[2].Open()
		if err != nil {
			t.Fatal(err)
		}
		if op.Rflags&c4.OPEN4_RESULT_CONFIRM != 0 {
			t.Errorf("4.%d OPEN rflags %#x ask for OPEN_CONFIRM", minor, op.Rflags)
		}
		if op.Rflags&c4.OPEN4_RESULT_LOCKTYPE_POSIX == 0 {
			t.Errorf("rflags %#x without OPEN4_RESULT_LOCKTYPE_POSIX", op.Rflags)
		}
		if !op.Attrset.Has(c4.FATTR4_MODE) {
			t.Errorf("attrset %v without mode", op.Attrset.Attrs())
		}
		if op.Delegation.Type != c4.OPEN_DELEGATE_NONE {
			t.Errorf("delegation %+v", op.Delegation)
		}
		if op.Stateid.Seqid != 1 || op.Stateid.Other == ([12]byte{}) {
			t.Errorf("open stateid %+v", op.Stateid)
		}
		fh := fhOf(t, res.Ops[3])
		w, err := res.Ops[4].Write()
		if err != nil {
			t.Fatal(err)
		}
		if w.Count != uint32(len(data)) || w.Committed != c4.FILE_SYNC4 || string(w.Verf[:]) != "WVERF001" {
			t.Errorf("WRITE result %+v", w)
		}
		at := attrsOf(t, res.Ops[5])
		if at.Size != uint64(len(data)) || at.Mode&0o7777 != 0o640 || at.Type != c4.NF4REG {
			t.Errorf("attributes after WRITE: size %d mode %o type %d", at.Size, at.Mode, at.Type)
		}
		if got, err := os.ReadFile(filepath.Join(b.dirA, name)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("file holds %q (%v), want %q", got, err, data)
		}

		for _, rd := range []struct {
			off   uint64
			count uint32
			want  string
			eof   bool
		}{
			{0, 100, string(data), true},
			{7, 5, "NFSv4", false},
			{uint64(len(data)), 10, "", true},
			{1000, 10, "", true},
		} {
			res = mustOK(t, do(t, s, c4.Putfh(fh), c4.Read(op.Stateid, rd.off, rd.count)))
			r, err := res.Last().Read()
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Data) != rd.want || r.EOF != rd.eof {
				t.Errorf("READ(%d, %d): %q eof %v, want %q eof %v", rd.off, rd.count, r.Data, r.EOF, rd.want, rd.eof)
			}
		}

		// The stateid's seqid 0 means "the current one" in 4.1 (RFC 8881
		// section 8.2.2); a seqid ahead of it is NFS4ERR_BAD_STATEID.
		zero := op.Stateid
		zero.Seqid = 0
		mustOK(t, do(t, s, c4.Putfh(fh), c4.Read(zero, 0, 1)))
		ahead := op.Stateid
		ahead.Seqid = 5
		res = do(t, s, c4.Putfh(fh), c4.Read(ahead, 0, 1))
		wantStatuses(t, res, c4.NFS4ERR_BAD_STATEID, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_READ, c4.NFS4ERR_BAD_STATEID))

		// GUARDED4 on the existing file: NFS4ERR_EXIST.
		res = do(t, s, c4.Putfh(dir), c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, name, c4.GUARDED4, c4.NewFattr()))
		wantStatuses(t, res, c4.NFS4ERR_EXIST, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_EXIST))

		// SETATTR of the size (with the open stateid) truncates.
		res = mustOK(t, do(t, s, c4.Putfh(fh), c4.Setattr(op.Stateid, c4.NewFattr(c4.Size(5))),
			c4.Getattr(c4.FATTR4_SIZE), c4.Read(op.Stateid, 0, 100)))
		if set, err := res.Ops[2].Setattr(); err != nil || !slices.Equal(set.Attrs(), []uint32{c4.FATTR4_SIZE}) {
			t.Errorf("SETATTR(size) attrsset %v %v", set.Attrs(), err)
		}
		if v := attrsOf(t, res.Ops[3]); v.Size != 5 {
			t.Errorf("size after SETATTR %d, want 5", v.Size)
		}
		if r, err := res.Ops[4].Read(); err != nil || string(r.Data) != "hello" || !r.EOF {
			t.Errorf("READ after truncation: %+v %v", r, err)
		}

		res = mustOK(t, do(t, s, c4.Putfh(fh), c4.Close(0, op.Stateid)))
		if _, err := res.Last().Stateid(); err != nil {
			t.Error(err)
		}
		res = do(t, s, c4.Putfh(fh), c4.Read(op.Stateid, 0, 10))
		wantStatuses(t, res, c4.NFS4ERR_BAD_STATEID, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_READ, c4.NFS4ERR_BAD_STATEID))

		// OPEN4_NOCREATE of the file, and of a missing one.
		res = mustOK(t, do(t, s, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, name),
			c4.Read(c4.CurrentStateid, 0, 5), c4.Close(0, c4.CurrentStateid)))
		if r, err := res.Ops[3].Read(); err != nil || string(r.Data) != "hello" {
			t.Errorf("READ after OPEN4_NOCREATE: %+v %v", r, err)
		}
		res = do(t, s, c4.Putfh(dir), c4.OpenNull(0, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, "missing"))
		wantStatuses(t, res, c4.NFS4ERR_NOENT, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_NOENT))

		// CLAIM_FH opens the current filehandle.
		res = mustOK(t, do(t, s, c4.Putfh(fh), c4.OpenFH(c4.OPEN4_SHARE_ACCESS_READ, 0, owner), c4.Close(0, c4.CurrentStateid)))

		// EXCLUSIVE4_1: a retry with the same verifier opens the file it
		// created; another verifier finds it exists (RFC 8881 section
		// 18.16.3).
		ex := func(v string) *c4.Result {
			return do(t, s, c4.Putfh(dir), c4.Open(c4.OpenArgs{ShareAccess: c4.OPEN4_SHARE_ACCESS_WRITE, Owner: owner,
				Create: true, Mode: c4.EXCLUSIVE4_1, Verf: verf(v), Claim: c4.CLAIM_NULL, File: "excl" + name}))
		}
		mustOK(t, ex("verf-1"))
		mustOK(t, ex("verf-1"))
		res = ex("verf-2")
		wantStatuses(t, res, c4.NFS4ERR_EXIST, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_EXIST))
	}
}

// TestSessionReplay: a request sent again on its slot with the same
// sequence id gets the cached reply, byte for byte, and is not executed
// again: a non-idempotent CREATE of a directory still answers NFS4_OK
// rather than NFS4ERR_EXIST (RFC 8881 section 2.10.6.1.3).
func TestSessionReplay(t *testing.T) {
	b := newBackend(t)
	ts := newServer(t, b, serverOpts{})
	s := ts.session(t, "replay")
	dir := rootFH(t, nil, 0, s, "a")

	comp := s.Next(c4.Putfh(dir), c4.Mkdir("newdir", c4.NewFattr(c4.Mode(0o755))), c4.Getfh(),
		c4.Getattr(c4.FATTR4_FILEID, c4.FATTR4_CHANGE, c4.FATTR4_TIME_METADATA))
	args := comp.Encode()
	first, err := s.C.CallRaw(ctx(t), args)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c4.DecodeResult(first)
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, res)
	if _, err := os.Stat(filepath.Join(b.dirA, "newdir")); err != nil {
		t.Fatal(err)
	}
	// The directory changes meanwhile, so an executed GETATTR would differ.
	if err := os.Mkdir(filepath.Join(b.dirA, "newdir", "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		again, err := s.C.CallRaw(ctx(t), args)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, first) {
			r, _ := c4.DecodeResult(again)
			t.Fatalf("retry %d: reply differs from the first:\n%x\n%x (%v %s)", i, again, first, r.Status, describe(r))
		}
	}
	// From another connection too: the slot is the session's.
	other := ts.dial(t)
	again, err := other.CallRaw(ctx(t), args)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, first) {
		t.Errorf("retry on another connection: reply differs")
	}

	// The next sequence id executes: the directory exists now.
	res = do(t, s, c4.Putfh(dir), c4.Mkdir("newdir", c4.NewFattr()))
	wantStatuses(t, res, c4.NFS4ERR_EXIST, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTFH), fail(c4.OP_CREATE, c4.NFS4ERR_EXIST))

	// A retry without sa_cachethis of a request whose reply was not
	// cached: NFS4ERR_RETRY_UNCACHED_REP (RFC 8881 section 15.1.10.8)
	// or the reply itself (a server may cache anyway); never a second
	// execution.
	s.CacheThis = false
	comp = s.Next(c4.Putfh(dir), c4.Mkdir("uncached", c4.NewFattr()))
	args = comp.Encode()
	r1, err := s.C.Call(ctx(t), comp)
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, r1)
	raw, err := s.C.CallRaw(ctx(t), args)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c4.DecodeResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, r1.Raw) {
		wantStatuses(t, r2, c4.NFS4ERR_RETRY_UNCACHED_REP, fail(c4.OP_SEQUENCE, c4.NFS4ERR_RETRY_UNCACHED_REP))
	}
}

// TestSessionMisordered: a sequence id other than the slot's last or the
// next is NFS4ERR_SEQ_MISORDERED; a slot beyond the table NFS4ERR_BADSLOT;
// an unknown session NFS4ERR_BADSESSION (RFC 8881 section 18.46.3). None
// of them uses the slot.
func TestSessionMisordered(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s := ts.session(t, "misordered")
	mustOK(t, do(t, s, c4.Putrootfh()))
	mustOK(t, do(t, s, c4.Putrootfh()))
	last := s.Seq
	for _, seq := range []uint32{last + 2, last + 100, last - 1, 0, last - 2} {
		res := call(t, s.C, 1, c4.Sequence(s.ID, seq, 0, 0, true), c4.Putrootfh())
		wantStatuses(t, res, c4.NFS4ERR_SEQ_MISORDERED, fail(c4.OP_SEQUENCE, c4.NFS4ERR_SEQ_MISORDERED))
	}
	res := call(t, s.C, 1, c4.Sequence(s.ID, 1, s.Fore.MaxRequests, s.Fore.MaxRequests, true), c4.Putrootfh())
	wantStatuses(t, res, c4.NFS4ERR_BADSLOT, fail(c4.OP_SEQUENCE, c4.NFS4ERR_BADSLOT))
	bad := s.ID
	bad[15] ^= 0xff
	res = call(t, s.C, 1, c4.Sequence(bad, last+1, 0, 0, true), c4.Putrootfh())
	wantStatuses(t, res, c4.NFS4ERR_BADSESSION, fail(c4.OP_SEQUENCE, c4.NFS4ERR_BADSESSION))
	// The slot is where it was.
	res = mustOK(t, do(t, s, c4.Putrootfh()))
	if sq, err := res.Ops[0].Sequence(); err != nil || sq.Sequenceid != last+1 {
		t.Errorf("SEQUENCE after the misordered ones: %+v %v, want sequence id %d", sq, err, last+1)
	}
}

// TestSessionSequenceErrorKeepsSlot: a SEQUENCE that fails leaves its slot
// as it was (RFC 8881 section 18.46.3: the slot's sequence id and cached
// reply do not change; Linux nfsd checks ca_maxoperations before it
// touches the slot): after NFS4ERR_TOO_MANY_OPS, the same sequence id is
// a new request, executed, not a retry answered from the cache.
func TestSessionSequenceErrorKeepsSlot(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	c := ts.dial(t)
	ex, err := c.ExchangeID(ctx(t), 1, []byte("seq-error"), verf("se"))
	if err != nil {
		t.Fatal(err)
	}
	fore := c4.DefaultForeAttrs
	fore.MaxOperations = 4
	res := mustOK(t, call(t, c, 1, c4.CreateSession(c4.CreateSessionArgs{Clientid: ex.Clientid, Sequence: ex.Sequenceid,
		Fore: fore, Back: c4.DefaultBackAttrs, CbProgram: 0x40000000})))
	cs, err := res.Ops[0].CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	s := &c4.Session{C: c, Minor: 1, Clientid: ex.Clientid, ID: cs.Sessionid, Fore: cs.Fore, CacheThis: true}
	mustOK(t, do(t, s, c4.ReclaimComplete(false)))
	ops := make([]c4.Op, cs.Fore.MaxOperations)
	for i := range ops {
		ops[i] = c4.Putrootfh()
	}
	res = do(t, s, ops...) // Do does not count the sequence id as used
	if res.Status != c4.NFS4ERR_TOO_MANY_OPS {
		t.Fatalf("%d operations for ca_maxoperations %d: %v", len(ops)+1, cs.Fore.MaxOperations, res.Status)
	}
	seq := s.Seq + 1
	res = do(t, s, c4.Putrootfh(), c4.Getfh())
	if res.Status != c4.NFS4_OK || len(res.Ops) != 3 {
		t.Errorf("next request with the sequence id of the failed SEQUENCE (%d): %v %s, want it executed",
			seq, res.Status, describe(res))
	}
}
