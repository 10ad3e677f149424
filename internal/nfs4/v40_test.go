package nfs4_test

import (
	"bytes"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// client40 is an NFSv4.0 client with one open-owner whose seqid it
// tracks.
type client40 struct {
	c        *c4.Client
	clientid uint64
	owner    c4.StateOwner
	seqid    uint32 // the open-owner's next seqid
}

func newClient40(t *testing.T, ts *testServer, id string) *client40 {
	t.Helper()
	c := ts.dial(t)
	clientid, err := c.SetClientID(ctx(t), []byte(id), verf(id))
	if err != nil {
		t.Fatal(err)
	}
	return &client40{c: c, clientid: clientid, owner: c4.StateOwner{Clientid: clientid, Owner: []byte("oo-" + id)}, seqid: 1}
}

// next returns the open-owner's next seqid and counts it as used.
func (c *client40) next() uint32 {
	s := c.seqid
	c.seqid++
	return s
}

// open creates (UNCHECKED4) and opens name in dir, confirms the open if
// asked, and returns the file's handle and the open stateid.
func (c *client40) open(t *testing.T, dir []byte, name string, access, deny uint32) ([]byte, c4.Stateid) {
	t.Helper()
	res := mustOK(t, call(t, c.c, 0, c4.Putfh(dir),
		c4.OpenCreate(c.next(), access, deny, c.owner, name, c4.UNCHECKED4, c4.NewFattr(c4.Mode(0o644))), c4.Getfh()))
	op, err := res.Ops[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	fh := fhOf(t, res.Ops[2])
	if op.Rflags&c4.OPEN4_RESULT_CONFIRM == 0 {
		return fh, op.Stateid
	}
	res = mustOK(t, call(t, c.c, 0, c4.Putfh(fh), c4.OpenConfirm(op.Stateid, c.next())))
	return fh, stateidOf(t, res.Ops[1])
}

// TestV40OpenConfirmReadWriteClose: the NFSv4.0 open sequence (RFC 7530
// sections 16.16, 16.18, 16.2): SETCLIENTID and SETCLIENTID_CONFIRM, the
// first OPEN of an open-owner asks for OPEN_CONFIRM (OPEN4_RESULT_CONFIRM)
// whose stateid has the next seqid, WRITE and READ with it, CLOSE; a
// retransmitted CLOSE (same seqid) gets the cached reply, a seqid skipped
// ahead NFS4ERR_BAD_SEQID.
func TestV40OpenConfirmReadWriteClose(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	c := newClient40(t, ts, "v40-client")
	dir := rootFH(t, c.c, 0, nil, "a")

	res := mustOK(t, call(t, c.c, 0, c4.Putfh(dir),
		c4.OpenCreate(c.next(), c4.OPEN4_SHARE_ACCESS_BOTH, c4.OPEN4_SHARE_DENY_NONE, c.owner, "f40", c4.UNCHECKED4, c4.NewFattr(c4.Mode(0o600))),
		c4.Getfh()))
	op, err := res.Ops[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	if op.Rflags&c4.OPEN4_RESULT_CONFIRM == 0 {
		t.Fatalf("first OPEN of a new open-owner: rflags %#x without OPEN4_RESULT_CONFIRM", op.Rflags)
	}
	fh := fhOf(t, res.Ops[2])

	// The unconfirmed stateid is not usable yet: NFS4ERR_BAD_STATEID (RFC
	// 7530 section 9.1.4.3).
	res = call(t, c.c, 0, c4.Putfh(fh), c4.Read(op.Stateid, 0, 10))
	wantStatuses(t, res, c4.NFS4ERR_BAD_STATEID, ok(c4.OP_PUTFH), fail(c4.OP_READ, c4.NFS4ERR_BAD_STATEID))

	res = mustOK(t, call(t, c.c, 0, c4.Putfh(fh), c4.OpenConfirm(op.Stateid, c.next())))
	sid := stateidOf(t, res.Ops[1])
	if sid.Other != op.Stateid.Other || sid.Seqid != op.Stateid.Seqid+1 {
		t.Errorf("OPEN_CONFIRM stateid %+v, want other %x seqid %d", sid, op.Stateid.Other, op.Stateid.Seqid+1)
	}

	data := []byte("version 4.0 data")
	res = mustOK(t, call(t, c.c, 0, c4.Putfh(fh), c4.Write(sid, 0, c4.UNSTABLE4, data), c4.Commit(0, 0),
		c4.Read(sid, 0, 1000)))
	w, err := res.Ops[1].Write()
	if err != nil || w.Count != uint32(len(data)) {
		t.Fatalf("WRITE: %+v %v", w, err)
	}
	cv, err := res.Ops[2].Commit()
	if err != nil || cv != w.Verf {
		t.Errorf("COMMIT verifier %x (%v), WRITE's %x", cv, err, w.Verf)
	}
	if r, err := res.Ops[3].Read(); err != nil || !bytes.Equal(r.Data, data) || !r.EOF {
		t.Errorf("READ: %+v %v", r, err)
	}
	// The special anonymous stateid reads too (no conflicting deny).
	if r, err := mustOK(t, call(t, c.c, 0, c4.Putfh(fh), c4.Read(c4.AnonymousStateid, 0, 7))).Ops[1].Read(); err != nil || string(r.Data) != "version" {
		t.Errorf("READ with the anonymous stateid: %+v %v", r, err)
	}
	// RENEW of the client, and of an unknown one.
	mustOK(t, call(t, c.c, 0, c4.Renew(c.clientid)))
	res = call(t, c.c, 0, c4.Renew(c.clientid^0xdead0000))
	wantStatuses(t, res, c4.NFS4ERR_STALE_CLIENTID, fail(c4.OP_RENEW, c4.NFS4ERR_STALE_CLIENTID))

	// CLOSE, then its retransmission: same reply, byte for byte.
	closeArgs := c4.Compound{Minor: 0, Ops: []c4.Op{c4.Putfh(fh), c4.Close(c.next(), sid)}}.Encode()
	first, err := c.c.CallRaw(ctx(t), closeArgs)
	if err != nil {
		t.Fatal(err)
	}
	res1, err := c4.DecodeResult(first)
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, res1)
	closed := stateidOf(t, res1.Ops[1])
	if closed.Other != sid.Other || closed.Seqid != sid.Seqid+1 {
		t.Errorf("CLOSE stateid %+v, want seqid %d", closed, sid.Seqid+1)
	}
	again, err := c.c.CallRaw(ctx(t), closeArgs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, first) {
		res2, _ := c4.DecodeResult(again)
		t.Errorf("retransmitted CLOSE: reply %x (%v %s), want the first %x", again, res2.Status, describe(res2), first)
	}
	// The file is closed: its stateid is no more.
	res = call(t, c.c, 0, c4.Putfh(fh), c4.Read(sid, 0, 1))
	wantStatuses(t, res, c4.NFS4ERR_BAD_STATEID, ok(c4.OP_PUTFH), fail(c4.OP_READ, c4.NFS4ERR_BAD_STATEID))

	// The open-owner goes on with the next seqid: a second OPEN needs no
	// confirmation; a seqid two ahead is NFS4ERR_BAD_SEQID.
	res = call(t, c.c, 0, c4.Putfh(dir), c4.OpenNull(c.seqid+1, c4.OPEN4_SHARE_ACCESS_READ, 0, c.owner, "f40"))
	wantStatuses(t, res, c4.NFS4ERR_BAD_SEQID, ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_BAD_SEQID))
	res = mustOK(t, call(t, c.c, 0, c4.Putfh(dir), c4.OpenNull(c.next(), c4.OPEN4_SHARE_ACCESS_READ, 0, c.owner, "f40")))
	op2, err := res.Ops[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	if op2.Rflags&c4.OPEN4_RESULT_CONFIRM != 0 {
		t.Errorf("OPEN of a confirmed open-owner: rflags %#x ask for OPEN_CONFIRM", op2.Rflags)
	}
	// OPEN_DOWNGRADE to an access not held is NFS4ERR_INVAL.
	res = call(t, c.c, 0, c4.Putfh(fh), c4.OpenDowngrade(op2.Stateid, c.next(), c4.OPEN4_SHARE_ACCESS_WRITE, 0))
	wantStatuses(t, res, c4.NFS4ERR_INVAL, ok(c4.OP_PUTFH), fail(c4.OP_OPEN_DOWNGRADE, c4.NFS4ERR_INVAL))
	mustOK(t, call(t, c.c, 0, c4.Putfh(fh), c4.Close(c.next(), op2.Stateid)))
}

// TestV40Setclientid: SETCLIENTID_CONFIRM with the wrong verifier is
// NFS4ERR_STALE_CLIENTID, and OPEN by an unconfirmed client ID too (RFC
// 7530 sections 16.34.5 and 16.16.5).
func TestV40Setclientid(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	c := ts.dial(t)
	res := mustOK(t, call(t, c, 0, c4.Setclientid(verf("v1"), []byte("sc-client"), 0x40000000, "tcp", c4.CallbackAddr, 7)))
	clientid, confirm, err := res.Ops[0].Setclientid()
	if err != nil {
		t.Fatal(err)
	}
	dir := rootFH(t, c, 0, nil, "a")
	owner := c4.StateOwner{Clientid: clientid, Owner: []byte("oo")}
	res = call(t, c, 0, c4.Putfh(dir), c4.OpenCreate(1, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, "x", c4.UNCHECKED4, c4.NewFattr()))
	wantStatuses(t, res, c4.NFS4ERR_STALE_CLIENTID, ok(c4.OP_PUTFH), fail(c4.OP_OPEN, c4.NFS4ERR_STALE_CLIENTID))

	bad := confirm
	bad[0] ^= 0xff
	res = call(t, c, 0, c4.SetclientidConfirm(clientid, bad))
	wantStatuses(t, res, c4.NFS4ERR_STALE_CLIENTID, fail(c4.OP_SETCLIENTID_CONFIRM, c4.NFS4ERR_STALE_CLIENTID))
	mustOK(t, call(t, c, 0, c4.SetclientidConfirm(clientid, confirm)))
	// Confirming again is harmless (RFC 7530 section 16.34.5).
	mustOK(t, call(t, c, 0, c4.SetclientidConfirm(clientid, confirm)))
	mustOK(t, call(t, c, 0, c4.Putfh(dir), c4.OpenCreate(1, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, "x", c4.UNCHECKED4, c4.NewFattr())))
}
