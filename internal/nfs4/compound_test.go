package nfs4_test

import (
	"bytes"
	"fmt"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// TestCompoundMinorVersion: an unsupported minor version is
// NFS4ERR_MINOR_VERS_MISMATCH with no results and the tag echoed (RFC 8881
// section 16.2.3); a server configured without a minor version refuses it
// the same way.
func TestCompoundMinorVersion(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	c := ts.dial(t)
	for _, minor := range []uint32{3, 4, 0xffffffff} {
		res, err := c.Call(ctx(t), c4.Compound{Tag: "mv-tag", Minor: minor, Ops: []c4.Op{c4.Putrootfh(), c4.Getfh()}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != c4.NFS4ERR_MINOR_VERS_MISMATCH || len(res.Ops) != 0 || res.Tag != "mv-tag" {
			t.Errorf("minor %d: status %v, %d results, tag %q; want NFS4ERR_MINOR_VERS_MISMATCH, 0, \"mv-tag\"",
				minor, res.Status, len(res.Ops), res.Tag)
		}
	}

	only41 := newServer(t, newBackend(t), serverOpts{Minor: []uint32{1}})
	c = only41.dial(t)
	for _, minor := range []uint32{0, 2} {
		res := call(t, c, minor, c4.Putrootfh())
		if res.Status != c4.NFS4ERR_MINOR_VERS_MISMATCH || len(res.Ops) != 0 {
			t.Errorf("server of 4.1 only, minor %d: %v with %d results, want NFS4ERR_MINOR_VERS_MISMATCH and none", minor, res.Status, len(res.Ops))
		}
	}
	mustOK(t, call(t, c, 1, c4.ExchangeID(c4.ExchangeIDArgs{OwnerID: []byte("o")})))
}

// TestCompoundTagAndEmpty: the tag comes back as sent; a COMPOUND without
// operations succeeds with no results (RFC 8881 section 16.2.3).
func TestCompoundTagAndEmpty(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	c := ts.dial(t)
	for _, minor := range []uint32{0, 1, 2} {
		res, err := c.Call(ctx(t), c4.Compound{Tag: "tag é", Minor: minor})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != c4.NFS4_OK || len(res.Ops) != 0 || res.Tag != "tag é" {
			t.Errorf("minor %d: empty COMPOUND: %v, %d results, tag %q", minor, res.Status, len(res.Ops), res.Tag)
		}
	}
	res, err := c.Call(ctx(t), c4.Compound{Tag: "x", Minor: 0, Ops: []c4.Op{c4.Putrootfh()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tag != "x" {
		t.Errorf("tag %q, want x", res.Tag)
	}
}

// TestCompoundBadXDR: an operation whose arguments do not decode is
// answered NFS4ERR_BADXDR after the operations before it have run (RFC
// 8881 section 16.2.3 / 15.1.1.5); the COMPOUND's status is that of the
// last result.
func TestCompoundBadXDR(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	want := rootFH(t, ts.dial(t), 0, nil)
	truncated := []byte{0, 0, 0, 9, 'a'} // component4 of 9 bytes, 1 sent
	tooLong := func() []byte {
		var w xdr.Writer
		w.Uint32(1 << 30) // a length no limit admits
		return w.B
	}()
	for _, r := range runners(t, ts) {
		for name, args := range map[string][]byte{"truncated": truncated, "too long": tooLong, "missing": nil} {
			t.Run(r.name+"/"+name, func(t *testing.T) {
				res := r.run(t, c4.Putrootfh(), c4.Getfh(), c4.Raw(c4.OP_LOOKUP, args))
				wantStatuses(t, res, c4.NFS4ERR_BADXDR, ok(c4.OP_PUTROOTFH), ok(c4.OP_GETFH), fail(c4.OP_LOOKUP, c4.NFS4ERR_BADXDR))
				if got := fhOf(t, res.Ops[1]); !bytes.Equal(got, want) {
					t.Errorf("GETFH before the bad operation: %x, want the root %x", got, want)
				}
			})
		}
		// A bool that is neither 0 nor 1 (RECLAIM_COMPLETE's rca_one_fs in
		// 4.1, LOCK's reclaim in 4.0).
		t.Run(r.name+"/bool", func(t *testing.T) {
			bad := []byte{0, 0, 0, 2}
			num := uint32(c4.OP_RECLAIM_COMPLETE)
			if r.minor == 0 {
				num = c4.OP_LOCK
				bad = []byte{0, 0, 0, 1, 0, 0, 0, 2}
			}
			res := r.run(t, c4.Putrootfh(), c4.Raw(num, bad))
			wantStatuses(t, res, c4.NFS4ERR_BADXDR, ok(c4.OP_PUTROOTFH), fail(num, c4.NFS4ERR_BADXDR))
		})
	}
}

// TestCompoundIllegalOp: an operation number outside the minor version's
// operations is answered with a result of OP_ILLEGAL and
// NFS4ERR_OP_ILLEGAL (RFC 8881 sections 15.2 and 18.54, RFC 7530 section
// 16.36), after the operations before it.
func TestCompoundIllegalOp(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	for _, r := range runners(t, ts) {
		ops := []uint32{0, 1, 2, 76, 9999, c4.OP_ILLEGAL, 0xffffffff}
		if r.minor == 0 {
			ops = append(ops, c4.OP_SEQUENCE, c4.OP_EXCHANGE_ID, c4.OP_RECLAIM_COMPLETE)
		}
		if r.minor == 1 {
			ops = append(ops, 60, 69) // COPY, SEEK: 4.2 only
		}
		for _, num := range ops {
			res := r.run(t, c4.Putrootfh(), c4.Raw(num, []byte{0, 0, 0, 0}), c4.Getfh())
			if res.Status != c4.NFS4ERR_OP_ILLEGAL || len(res.Ops) != 2 || res.Ops[0].Status != c4.NFS4_OK ||
				res.Ops[1].Op != c4.OP_ILLEGAL || res.Ops[1].Status != c4.NFS4ERR_OP_ILLEGAL || len(res.Ops[1].Body) != 0 {
				t.Errorf("%s: op %d: %v %s, want [PUTROOTFH OK, OP_ILLEGAL NFS4ERR_OP_ILLEGAL]", r.name, num, res.Status, describe(res))
			}
		}
	}
}

// TestCompoundSessionRules: the rules of 4.1 COMPOUNDs on SEQUENCE (RFC
// 8881 sections 2.10.6, 15.1.10 and 18.46.3).
func TestCompoundSessionRules(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	for _, minor := range []uint32{1, 2} {
		c := ts.dial(t)
		s, err := c.NewSession(ctx(t), minor, []byte{byte(minor), 'r'}, verf("rules"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("4.%d/not in session", minor), func(t *testing.T) {
			// Operations that need a session, first without SEQUENCE:
			// NFS4ERR_OP_NOT_IN_SESSION, nothing else runs.
			for _, o := range []c4.Op{c4.Putrootfh(), c4.Getfh(), c4.Lookup("a"), c4.ReclaimComplete(false)} {
				res := call(t, c, minor, o, c4.Getfh())
				wantStatuses(t, res, c4.NFS4ERR_OP_NOT_IN_SESSION, fail(o.Num, c4.NFS4ERR_OP_NOT_IN_SESSION))
			}
		})
		t.Run(fmt.Sprintf("4.%d/sequence position", minor), func(t *testing.T) {
			res := do(t, s, c4.Putrootfh(), c4.Sequence(s.ID, s.Seq+1, 0, 0, false))
			wantStatuses(t, res, c4.NFS4ERR_SEQUENCE_POS, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTROOTFH), fail(c4.OP_SEQUENCE, c4.NFS4ERR_SEQUENCE_POS))
			// The first SEQUENCE used the slot: the next id goes on.
			mustOK(t, do(t, s, c4.Putrootfh()))
		})
		t.Run(fmt.Sprintf("4.%d/not only op", minor), func(t *testing.T) {
			// EXCHANGE_ID, CREATE_SESSION, DESTROY_SESSION and
			// DESTROY_CLIENTID without SEQUENCE must be alone.
			for _, o := range []c4.Op{
				c4.ExchangeID(c4.ExchangeIDArgs{OwnerID: []byte("rules")}),
				c4.CreateSession(c4.CreateSessionArgs{Clientid: s.Clientid, Fore: c4.DefaultForeAttrs, Back: c4.DefaultBackAttrs}),
				c4.DestroySession(s.ID),
				c4.DestroyClientid(s.Clientid),
			} {
				res := call(t, c, minor, o, c4.Putrootfh())
				wantStatuses(t, res, c4.NFS4ERR_NOT_ONLY_OP, fail(o.Num, c4.NFS4ERR_NOT_ONLY_OP))
			}
			// The session still works (DESTROY_SESSION did not run).
			mustOK(t, do(t, s, c4.Putrootfh()))
		})
		t.Run(fmt.Sprintf("4.%d/4.0 operations", minor), func(t *testing.T) {
			// SETCLIENTID, SETCLIENTID_CONFIRM, RENEW, OPEN_CONFIRM and
			// RELEASE_LOCKOWNER are MUST NOT implement in 4.1: NFS4ERR_NOTSUPP.
			for _, o := range []c4.Op{
				c4.Setclientid(verf("v"), []byte("id"), 0x40000000, "tcp", c4.CallbackAddr, 1),
				c4.SetclientidConfirm(s.Clientid, verf("v")),
				c4.Renew(s.Clientid),
				c4.OpenConfirm(c4.Stateid{}, 1),
				c4.ReleaseLockowner(c4.StateOwner{Clientid: s.Clientid, Owner: []byte("lo")}),
			} {
				res := do(t, s, c4.Putrootfh(), o)
				wantStatuses(t, res, c4.NFS4ERR_NOTSUPP, ok(c4.OP_SEQUENCE), ok(c4.OP_PUTROOTFH), fail(o.Num, c4.NFS4ERR_NOTSUPP))
			}
		})
	}
}
