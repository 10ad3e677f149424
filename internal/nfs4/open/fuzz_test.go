package open

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// checkInvariants compares the Table's records with each other and with
// the lock.Manager.
func checkInvariants(e *env) error {
	locks := e.m.Locks()
	shares := e.m.Shares()
	t := e.tb
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nstates != len(t.states) {
		return fmt.Errorf("nstates %d, %d states", t.nstates, len(t.states))
	}
	nowners, nstates := 0, map[uint64]int{}
	for id, cl := range t.clients {
		if cl.id != id {
			return fmt.Errorf("client %d filed as %d", cl.id, id)
		}
		n := 0
		for k, m := range cl.owners {
			for name, o := range m {
				if o.dead || o.name != name || o.kind != kind(k+1) || o.c != cl {
					return fmt.Errorf("owner %q of client %d misfiled", name, id)
				}
				n++
			}
		}
		if n != cl.nowners {
			return fmt.Errorf("client %d: nowners %d, %d owners", id, cl.nowners, n)
		}
		nowners += n
	}
	if nowners != t.nowners {
		return fmt.Errorf("nowners %d, %d owners", t.nowners, nowners)
	}
	deny := map[lock.FileID][2]int{}
	wantShares := map[lock.Share]bool{}
	for id, st := range t.states {
		o := st.owner
		if st.id != id || st.gone || o.dead || t.clients[o.c.id] != o.c {
			return fmt.Errorf("state %d misfiled", id)
		}
		nstates[o.c.id]++
		if st.closed {
			if o.lastClosed != st {
				return fmt.Errorf("closed state %d not its owner's last", id)
			}
		} else if o.states[st.file] != st {
			return fmt.Errorf("state %d not in its owner's map", id)
		}
		switch st.kind {
		case kindOpen:
			if st.closed || st.revoked != 0 {
				if st.access != 0 || st.deny != 0 {
					return fmt.Errorf("closed or revoked open %d has bits", id)
				}
				continue
			}
			d := deny[st.file]
			if st.deny&ShareRead != 0 {
				d[0]++
			}
			if st.deny&ShareWrite != 0 {
				d[1]++
			}
			deny[st.file] = d
			if st.seqid != 0 {
				wantShares[lock.Share{File: st.file, Owner: o.lk, Access: st.access, Deny: st.deny}] = true
			}
		case kindLock:
			if _, linked := st.open.locks[st]; st.revoked == 0 && !st.open.gone && !linked {
				return fmt.Errorf("lock state %d not linked to its open", id)
			}
			var rs []lock.Range
			for _, l := range locks {
				if l.File == st.file && l.Owner == o.lk {
					rs = append(rs, l.Range)
				}
			}
			if m := merged(rs); !slices.Equal(st.held, m) {
				return fmt.Errorf("lock state %d holds %v, manager %v", id, st.held, m)
			}
		}
	}
	for id, cl := range t.clients {
		if nstates[id] != cl.nstates {
			return fmt.Errorf("client %d: nstates %d, %d states", id, cl.nstates, nstates[id])
		}
	}
	for f, fi := range t.files {
		if d := deny[f]; d[0] != fi.denyRead || d[1] != fi.denyWrite {
			return fmt.Errorf("file %v: deny counts %+v, opens %v", f, *fi, d)
		}
		delete(deny, f)
	}
	for f, d := range deny {
		if d != [2]int{} {
			return fmt.Errorf("file %v: no deny counts for %v", f, d)
		}
	}
	for _, s := range shares {
		if s.Owner.Client[:5] != "nfs4:" {
			continue
		}
		if !wantShares[s] {
			return fmt.Errorf("share %+v in the manager only", s)
		}
		delete(wantShares, s)
	}
	if len(wantShares) > 0 {
		return fmt.Errorf("shares not in the manager: %v", wantShares)
	}
	return nil
}

// driver runs operations decoded from fuzz input.
type driver struct {
	e       *env
	gen     [2]uint64 // clientid generation of the two client slots
	seq     map[string]uint32
	stateid []Stateid // stateids seen
	files   [3]lock.FileID
}

func (d *driver) caller(slot int) Caller {
	return Caller{Minor: uint32(slot), Clientid: uint64(slot+1)*1000 + d.gen[slot]}
}

func (d *driver) remember(s Stateid) {
	if s != (Stateid{}) && !IsSpecial(s) {
		d.stateid = append(d.stateid, s)
		if len(d.stateid) > 32 {
			d.stateid = d.stateid[1:]
		}
	}
}

func (d *driver) pick(b byte) Stateid {
	if len(d.stateid) == 0 {
		return AnonymousStateid
	}
	s := d.stateid[int(b)%len(d.stateid)]
	switch b >> 6 {
	case 1:
		s.Seqid = 0
	case 2:
		s.Seqid++
	}
	return s
}

// next returns the seqid to use for an owner and advances it as a client
// would after the status.
func (d *driver) next(key string) uint32 { return d.seq[key] }

func (d *driver) done(key string, err error) {
	if seqidMutating(nfserr.Of(err)) {
		d.seq[key]++
	}
}

func (d *driver) step(op []byte) {
	slot := int(op[0]>>7) & 1
	c := d.caller(slot)
	f := d.files[int(op[1])%len(d.files)]
	owner := fmt.Sprint("o", op[2]%3)
	lowner := fmt.Sprint("l", op[2]%3)
	ok := fmt.Sprint(c.Clientid, owner)
	lk := fmt.Sprint(c.Clientid, lowner)
	access, deny := op[3]%4, (op[3]>>2)%4
	off, length := uint64(op[4]%32), uint64(op[5]%16)
	if op[5] > 240 {
		length = all
	}
	s := d.pick(op[6])
	e := d.e
	switch op[0] % 12 {
	case 0, 1:
		res, err := e.open(c, owner, d.next(ok), f, access, deny, op[6]&1 == 1)
		d.done(ok, err)
		d.remember(res.Stateid)
	case 2:
		sid, err := e.confirm(c, f, d.next(ok), s)
		d.done(ok, err)
		d.remember(sid)
	case 3:
		sid, err := e.downgrade(c, f, d.next(ok), s, access, deny)
		d.done(ok, err)
		d.remember(sid)
	case 4:
		_, err := e.close(c, f, d.next(ok), s)
		d.done(ok, err)
	case 5, 6:
		res, err := e.lockNew(c, f, LockType(1+op[3]%4), off, length, s, d.next(ok), lowner, d.next(lk))
		d.done(ok, err)
		d.done(lk, err)
		d.remember(res.Stateid)
	case 7:
		res, err := e.lockOld(c, f, LockType(1+op[3]%4), off, length, s, d.next(lk))
		d.done(lk, err)
		d.remember(res.Stateid)
	case 8:
		sid, err := e.locku(c, f, d.next(lk), s, off, length)
		d.done(lk, err)
		d.remember(sid)
	case 9:
		e.tb.FreeStateid(c, s)
		e.tb.TestStateid(c, []Stateid{s})
		e.tb.CheckIO(c, f, s, access&ShareBoth)
		e.tb.LockT(c, f, ReadLT, off, length, []byte(lowner))
	case 10:
		if op[6]&1 == 0 {
			e.tb.RevokeExport(f.Export)
		} else if err := e.tb.ReleaseLockOwner(c.Clientid, []byte(lowner)); err == nil {
			delete(d.seq, lk)
		}
	case 11:
		if op[6]%4 == 0 {
			e.tb.ReleaseClient(c.Clientid)
			d.gen[slot]++
		} else if op[6]%4 == 1 {
			if e.m.InGrace() {
				e.m.EndGrace()
			} else {
				e.m.StartGrace(1 << 40)
			}
		}
	}
}

// FuzzOps runs sequences of operations of a 4.0 and a 4.1 client and
// checks the invariants after each; then releasing the clients must
// leave nothing.
func FuzzOps(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x05\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x05\x00\x00\x02\x00\x10\x00"))
	f.Add([]byte("\x80\x01\x01\x07\x03\x04\x00\x85\x01\x01\x02\x03\x04\x00\x88\x01\x01\x02\x03\x04\x40\x84\x01\x01\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x05\x00\x00\x06\x00\x10\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnv(t, Limits{MaxOwnersPerClient: 4, MaxStateidsPerClient: 6, MaxReply: 16})
		d := &driver{e: e, seq: map[string]uint32{}, files: [3]lock.FileID{fA, fB, fC}}
		for len(data) >= 7 {
			d.step(data[:7])
			data = data[7:]
			if err := checkInvariants(e); err != nil {
				t.Fatal(err)
			}
		}
		e.m.EndGrace()
		for slot := range 2 {
			e.tb.ReleaseClient(d.caller(slot).Clientid)
		}
		if s := e.tb.Stats(); s != (Stats{}) {
			t.Fatalf("stats after release %+v", s)
		}
		if s := e.m.Stats(); s.Locks != 0 || s.Shares != 0 {
			t.Fatalf("manager after release %+v", s)
		}
		if err := checkInvariants(e); err != nil {
			t.Fatal(err)
		}
	})
}
