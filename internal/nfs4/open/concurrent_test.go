package open

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// merged returns the union of ranges, coalescing touching ones.
func merged(rs []lock.Range) rangeSet {
	var s rangeSet
	for _, r := range rs {
		s.add(r)
	}
	return s
}

// TestHeldMirror: the ranges a lock stateid records are those the
// lock.Manager holds for its lock-owner, whatever LOCK and LOCKU do.
func TestHeldMirror(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := newEnv(t, Limits{})
	owners := []string{"x", "y"}
	open := map[string]Stateid{}
	lsid := map[string]Stateid{}
	for i, o := range owners {
		open[o] = e.mustOpen(c41(uint64(i+1)), "o"+o, 0, fA, ShareBoth, 0).Stateid
	}
	for step := range 3000 {
		i := rng.IntN(len(owners))
		o := owners[i]
		c := c41(uint64(i + 1))
		off := uint64(rng.IntN(64))
		length := uint64(1 + rng.IntN(16))
		if rng.IntN(8) == 0 {
			length = all
		}
		typ := ReadLT + LockType(rng.IntN(2))
		var err error
		switch {
		case lsid[o] == (Stateid{}):
			var res LockResult
			res, err = e.lockNew(c, fA, typ, off, length, open[o], 0, o, 0)
			if err == nil {
				lsid[o] = res.Stateid
			}
		case rng.IntN(2) == 0:
			var res LockResult
			res, err = e.lockOld(c, fA, typ, off, length, withSeqid(lsid[o], 0), 0)
			if err == nil {
				lsid[o] = res.Stateid
			}
		default:
			lsid[o], err = e.locku(c, fA, 0, withSeqid(lsid[o], 0), off, length)
		}
		if err != nil && st(err) != nfserr.Denied {
			t.Fatalf("step %d: %v", step, err)
		}
		for j, o := range owners {
			if lsid[o] == (Stateid{}) {
				continue
			}
			_, id := splitOther(lsid[o].Other)
			e.tb.mu.Lock()
			mirror := slices.Clone(e.tb.states[id].held)
			e.tb.mu.Unlock()
			if want := merged(e.held(uint64(j+1), o, fA)); !slices.Equal(mirror, want) {
				t.Fatalf("step %d: owner %s mirror %v, manager %v", step, o, mirror, want)
			}
		}
	}
}

// worker runs random operations for one owner of a client; it tracks
// the 4.0 seqids as a client does (advanced unless the status is one of
// RFC 7530 section 9.1.7's exceptions).
type worker struct {
	e          *env
	c          Caller
	name       string
	rng        *rand.Rand
	oseq, lseq uint32
	bad        []nfserr.Status // unexpected statuses
}

func (w *worker) bump(err error, seq *uint32) {
	if seqidMutating(nfserr.Of(err)) {
		*seq++
	}
	switch s := st(err); s {
	case nfserr.OK, nfserr.ShareDenied, nfserr.Denied, nfserr.Openmode, nfserr.BadStateid,
		nfserr.AdminRevoked, nfserr.Expired, nfserr.LocksHeld:
	default:
		w.bad = append(w.bad, s)
	}
}

func (w *worker) run(iter int, files []lock.FileID) error {
	for range iter {
		iterations.Add(1)
		f := files[w.rng.IntN(len(files))]
		access := uint8(1 + w.rng.IntN(3))
		deny := uint8(w.rng.IntN(2)) * ShareWrite
		res, err := w.e.open(w.c, w.name, w.oseq, f, access, deny, false)
		w.bump(err, &w.oseq)
		if err != nil {
			continue
		}
		os := res.Stateid
		if res.Confirm {
			os, err = w.e.confirm(w.c, f, w.oseq, os)
			w.bump(err, &w.oseq)
			if err != nil {
				continue
			}
		}
		off, length := uint64(w.rng.IntN(100)), uint64(1+w.rng.IntN(50))
		typ := ReadLT + LockType(w.rng.IntN(2))
		lr, err := w.e.lockNew(w.c, f, typ, off, length, os, w.oseq, w.name+"-l", w.lseq)
		w.bump(err, &w.oseq)
		w.bump(err, &w.lseq)
		if err == nil {
			_, err = w.e.locku(w.c, f, w.lseq, lr.Stateid, off, length)
			w.bump(err, &w.lseq)
		}
		if err == nil && w.c.Minor == 0 && w.rng.IntN(2) == 0 {
			// Closing frees the lock stateid; the lock-owner stays.
			if err := w.e.tb.ReleaseLockOwner(w.c.Clientid, []byte(w.name+"-l")); err == nil {
				w.lseq = 0
			}
		}
		_, err = w.e.close(w.c, f, w.oseq, os)
		w.bump(err, &w.oseq)
		if st(err) == nfserr.LocksHeld {
			return fmt.Errorf("%s: close: %v", w.name, err)
		}
	}
	if len(w.bad) > 0 {
		return fmt.Errorf("%v %s: unexpected statuses %v", w.c, w.name, w.bad)
	}
	return nil
}

var iterations atomic.Int64

// TestConcurrent: many owners of 4.0 and 4.1 clients on a few files,
// while clients are released and an export revoked. Run with -race.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, Limits{})
	files := []lock.FileID{fA, fB, fC}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for cl := uint64(1); cl <= 6; cl++ {
		for o := range 3 {
			w := &worker{e: e, c: Caller{Minor: uint32(cl % 2), Clientid: cl}, name: fmt.Sprint("w", o),
				rng: rand.New(rand.NewPCG(cl, uint64(o)))}
			wg.Go(func() {
				if err := w.run(150, files); err != nil {
					errs <- err
				}
			})
		}
	}
	stop := make(chan struct{})
	var admin sync.WaitGroup
	admin.Go(func() {
		released := false
		for {
			select {
			case <-stop:
				return
			default:
			}
			e.tb.RevokeExport(2)
			e.tb.Stats()
			runtime.Gosched()
			if !released && iterations.Load() > 500 {
				e.tb.ReleaseClient(5)
				e.tb.ReleaseClient(6)
				released = true
			}
		}
	})
	wg.Wait()
	close(stop)
	admin.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := checkInvariants(e); err != nil {
		t.Error(err)
	}
	for cl := uint64(1); cl <= 6; cl++ {
		e.tb.ReleaseClient(cl)
	}
	if s := e.tb.Stats(); s != (Stats{}) {
		t.Errorf("stats after release %+v", s)
	}
	if s := e.m.Stats(); s.Locks != 0 || s.Shares != 0 {
		t.Errorf("manager after release %+v: %v %v", s, e.m.Locks(), e.m.Shares())
	}
	e.tb.mu.Lock()
	defer e.tb.mu.Unlock()
	if len(e.tb.states) != 0 || len(e.tb.files) != 0 || len(e.tb.clients) != 0 || e.tb.nowners != 0 || e.tb.nstates != 0 {
		t.Errorf("table left: %d states, %d files, %d clients, %d owners, %d nstates",
			len(e.tb.states), len(e.tb.files), len(e.tb.clients), e.tb.nowners, e.tb.nstates)
	}
}

// TestRangeSet: add and remove against a bitmap.
func TestRangeSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s rangeSet
	var bits [80]bool
	for step := range 5000 {
		r := lock.Range{Start: uint64(rng.IntN(70))}
		r.End = r.Start + uint64(rng.IntN(10))
		add := rng.IntN(2) == 0
		if add {
			s.add(r)
		} else {
			s.remove(r)
		}
		for i := r.Start; i <= r.End; i++ {
			bits[i] = add
		}
		var want rangeSet
		for i := 0; i < len(bits); i++ {
			if bits[i] {
				j := i
				for j+1 < len(bits) && bits[j+1] {
					j++
				}
				want = append(want, lock.Range{Start: uint64(i), End: uint64(j)})
				i = j
			}
		}
		if !slices.Equal(s, want) {
			t.Fatalf("step %d (%v %v): %v, want %v", step, add, r, s, want)
		}
	}
	// Ranges to the end of the file.
	s = nil
	s.add(lock.Range{Start: 10, End: lock.EOF})
	s.add(lock.Range{Start: 5, End: 9})
	s.remove(lock.Range{Start: 100, End: lock.EOF})
	if !slices.Equal(s, rangeSet{{Start: 5, End: 99}}) {
		t.Errorf("EOF ranges: %v", s)
	}
	s.remove(lock.Range{Start: 0, End: lock.EOF})
	if s != nil {
		t.Errorf("emptied: %v", s)
	}
}
