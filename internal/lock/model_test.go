package lock

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// The model test drives a Manager and a deliberately naive reference with
// the same random operations and compares them after every step. The
// reference keeps, per file and owner, the lock type of every byte of a
// small file (cell nCells-1 stands for [nCells-1, EOF]) and grants waiters
// by scanning a FIFO list: it shares no code with the manager.

const nCells = 24

type modelWaiter struct {
	id  int
	req Request
}

type model struct {
	cells   map[FileID]map[Owner]*[nCells]Type
	waiters map[FileID][]modelWaiter
}

func newModel() *model {
	return &model{cells: map[FileID]map[Owner]*[nCells]Type{}, waiters: map[FileID][]modelWaiter{}}
}

func cellSpan(r Range) (int, int) {
	e := nCells - 1
	if r.End != EOF {
		e = int(r.End)
	}
	return int(r.Start), e
}

func (md *model) owned(f FileID, o Owner) *[nCells]Type {
	byOwner := md.cells[f]
	if byOwner == nil {
		byOwner = map[Owner]*[nCells]Type{}
		md.cells[f] = byOwner
	}
	c := byOwner[o]
	if c == nil {
		c = new([nCells]Type)
		byOwner[o] = c
	}
	return c
}

// conflicts returns the owners holding a lock that conflicts with req.
func (md *model) conflicts(req Request) []Owner {
	s, e := cellSpan(req.Range)
	var out []Owner
	for o, c := range md.cells[req.File] {
		if o == req.Owner {
			continue
		}
		for i := s; i <= e; i++ {
			if c[i] != 0 && (c[i] == Write || req.Type == Write) {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

func (md *model) set(req Request) {
	c := md.owned(req.File, req.Owner)
	s, e := cellSpan(req.Range)
	for i := s; i <= e; i++ {
		c[i] = req.Type
	}
}

func (md *model) unset(f FileID, o Owner, r Range) {
	c := md.owned(f, o)
	s, e := cellSpan(r)
	for i := s; i <= e; i++ {
		c[i] = 0
	}
}

// wake grants waiters of f in FIFO order; it returns their ids.
func (md *model) wake(f FileID) []int {
	var granted []int
	ws := md.waiters[f]
	for i := 0; i < len(ws); {
		if len(md.conflicts(ws[i].req)) == 0 {
			md.set(ws[i].req)
			granted = append(granted, ws[i].id)
			ws = append(ws[:i], ws[i+1:]...)
			continue
		}
		i++
	}
	md.waiters[f] = ws
	return granted
}

// reaches reports whether owner from waits, directly or not, for owner to,
// over the full wait-for graph (every conflicting holder is an edge).
func (md *model) reaches(from, to Owner) bool {
	seen := map[Owner]bool{}
	stack := []Owner{from}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if o == to {
			return true
		}
		if seen[o] {
			continue
		}
		seen[o] = true
		for _, ws := range md.waiters {
			for _, w := range ws {
				if w.req.Owner == o {
					stack = append(stack, md.conflicts(w.req)...)
				}
			}
		}
	}
	return false
}

// locks returns the canonical lock list: maximal runs per owner and type.
func (md *model) locks() []Lock {
	var out []Lock
	for f, byOwner := range md.cells {
		for o, c := range byOwner {
			for i := 0; i < nCells; {
				if c[i] == 0 {
					i++
					continue
				}
				j := i
				for j+1 < nCells && c[j+1] == c[i] {
					j++
				}
				end := uint64(j)
				if j == nCells-1 {
					end = EOF
				}
				out = append(out, Lock{File: f, Owner: o, Type: c[i], Range: Range{uint64(i), end}})
				i = j + 1
			}
		}
	}
	sortLocks(out)
	return out
}

func randRange(rng *rand.Rand) Range {
	s := rng.IntN(nCells)
	if s == nCells-1 || rng.IntN(4) == 0 {
		return Range{uint64(s), EOF}
	}
	return Range{uint64(s), uint64(s + rng.IntN(nCells-1-s))}
}

func TestModel(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 40
	}
	var total modelCounts
	for seed := 0; seed < seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			c := runModel(t, uint64(seed), 400)
			total.grants += c.grants
			total.deadlocks += c.deadlocks
			total.cancels += c.cancels
			total.cancelled += c.cancelled
			total.conflicts += c.conflicts
		})
	}
	t.Logf("%+v", total)
	// The operations must have exercised every path compared above.
	if total.grants == 0 || total.deadlocks == 0 || total.cancels == 0 || total.cancelled == 0 || total.conflicts == 0 {
		t.Errorf("model run did not exercise every path: %+v", total)
	}
}

type modelCounts struct{ grants, deadlocks, cancels, cancelled, conflicts int }

func runModel(t *testing.T, seed uint64, steps int) (cnt modelCounts) {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := New(Config{})
	md := newModel()
	files := []FileID{{1, "a"}, {1, "b"}, {2, "a"}}
	owners := []Owner{{"c1", "o1", 1}, {"c1", "o2", 2}, {"c2", "o1", 1}, {"c3", "x", 0}}
	type live struct {
		id int
		w  *Waiter
	}
	var waiting []live
	var granted []int   // notifications of grants
	var cancelled []int // notifications of ErrCancelled
	nextID := 0
	for step := 0; step < steps; step++ {
		f := files[rng.IntN(len(files))]
		o := owners[rng.IntN(len(owners))]
		typ := Type(1 + rng.IntN(2))
		r := randRange(rng)
		req := Request{File: f, Owner: o, Type: typ, Range: r}
		var wantGranted, wantCancelled []int
		var what string
		switch op := rng.IntN(10); {
		case op < 3:
			what = fmt.Sprintf("Lock %v", req)
			holder, err := m.Lock(req)
			cs := md.conflicts(req)
			if len(cs) > 0 {
				if err != ErrConflict || !slices.Contains(cs, holder.Owner) {
					t.Fatalf("step %d %s: got %v holder %v, model conflicts with %v", step, what, err, holder.Owner, cs)
				}
				cnt.conflicts++
				if _, ok := m.Test(req); !ok {
					t.Fatalf("step %d: Test misses the conflict", step)
				}
				break
			}
			if err != nil {
				t.Fatalf("step %d %s: %v, model grants", step, what, err)
			}
			md.set(req)
			wantGranted = md.wake(f) // a downgrade may release waiters
		case op < 5:
			what = fmt.Sprintf("LockWait %v", req)
			id := nextID
			nextID++
			w, err := m.LockWait(req, func(err error) {
				switch err {
				case nil:
					granted = append(granted, id)
				case ErrCancelled:
					cancelled = append(cancelled, id)
				default:
					t.Errorf("waiter %d notified with %v", id, err)
				}
			})
			cs := md.conflicts(req)
			switch {
			case len(cs) == 0:
				if w != nil || err != nil {
					t.Fatalf("step %d %s: waiter %v err %v, model grants", step, what, w != nil, err)
				}
				md.set(req)
				wantGranted = md.wake(f)
			case errors.Is(err, ErrDeadlock):
				ok := false
				for _, c := range cs {
					ok = ok || md.reaches(c, o)
				}
				if !ok {
					t.Fatalf("step %d %s: deadlock reported, model has no cycle", step, what)
				}
				cnt.deadlocks++
			case err != nil || w == nil:
				t.Fatalf("step %d %s: %v, model queues", step, what, err)
			default:
				md.waiters[f] = append(md.waiters[f], modelWaiter{id, req})
				waiting = append(waiting, live{id, w})
			}
		case op < 6 && len(waiting) > 0:
			i := rng.IntN(len(waiting))
			lw := waiting[i]
			waiting = append(waiting[:i], waiting[i+1:]...)
			what = fmt.Sprintf("Cancel %d", lw.id)
			queued := false
			for fid, ws := range md.waiters {
				if j := slices.IndexFunc(ws, func(x modelWaiter) bool { return x.id == lw.id }); j >= 0 {
					md.waiters[fid] = append(ws[:j], ws[j+1:]...)
					queued = true
				}
			}
			if got := m.Cancel(lw.w); got != queued {
				t.Fatalf("step %d %s: Cancel %v, model queued %v", step, what, got, queued)
			}
			if queued {
				cnt.cancels++
			}
		case op < 9:
			what = fmt.Sprintf("Unlock %v %v %v", f, o, r)
			if err := m.Unlock(f, o, r); err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
			md.unset(f, o, r)
			wantGranted = md.wake(f)
		default:
			what = fmt.Sprintf("UnlockClient %s", o.Client)
			m.UnlockClient(o.Client)
			for fid, byOwner := range md.cells {
				for ow := range byOwner {
					if ow.Client == o.Client {
						delete(byOwner, ow)
					}
				}
				md.waiters[fid] = slices.DeleteFunc(md.waiters[fid], func(x modelWaiter) bool {
					if x.req.Owner.Client == o.Client {
						wantCancelled = append(wantCancelled, x.id)
						return true
					}
					return false
				})
			}
			for _, fid := range files {
				wantGranted = append(wantGranted, md.wake(fid)...)
			}
		}
		if t.Failed() {
			t.Fatalf("step %d %s", step, what)
		}
		// Grants: same waiters (per-file FIFO order is checked through the
		// resulting lock state; UnlockClient wakes files in map order).
		slices.Sort(granted)
		slices.Sort(wantGranted)
		if !slices.Equal(granted, wantGranted) {
			t.Fatalf("step %d %s: granted %v, model %v", step, what, granted, wantGranted)
		}
		slices.Sort(cancelled)
		slices.Sort(wantCancelled)
		if !slices.Equal(cancelled, wantCancelled) {
			t.Fatalf("step %d %s: cancelled %v, model %v", step, what, cancelled, wantCancelled)
		}
		for _, id := range append(granted, cancelled...) {
			waiting = slices.DeleteFunc(waiting, func(l live) bool { return l.id == id })
		}
		cnt.grants += len(granted)
		cnt.cancelled += len(cancelled)
		granted, cancelled = granted[:0], cancelled[:0]
		if got, want := m.Locks(), md.locks(); !slices.Equal(got, want) {
			t.Fatalf("step %d %s:\n got  %v\n want %v", step, what, got, want)
		}
		var wantWaiters []Request
		for _, fid := range files {
			for _, w := range md.waiters[fid] {
				wantWaiters = append(wantWaiters, w.req)
			}
		}
		if got := m.waitersOrdered(files); !slices.Equal(got, wantWaiters) {
			t.Fatalf("step %d %s: waiters\n got  %v\n want %v", step, what, got, wantWaiters)
		}
		checkCounts(t, m)
	}
	return cnt
}

// waitersOrdered lists the queues of files in that order.
func (m *Manager) waitersOrdered(files []FileID) []Request {
	var out []Request
	for _, id := range files {
		sh := m.shardOf(id)
		sh.mu.Lock()
		if f := sh.files[id]; f != nil {
			for _, w := range f.waiters {
				out = append(out, w.req)
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// checkCounts verifies the counters, the client index and the wait-for
// graph against the files.
func checkCounts(t testing.TB, m *Manager) {
	t.Helper()
	locks, shares, waiters := 0, 0, 0
	perClient := map[string]map[FileID]int{}
	add := func(c string, f FileID) {
		if perClient[c] == nil {
			perClient[c] = map[FileID]int{}
		}
		perClient[c][f]++
	}
	graph := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for id, f := range sh.files {
			if len(f.locks)+len(f.waiters)+len(f.shares) == 0 {
				t.Errorf("idle file %v kept", id)
			}
			for j, e := range f.locks {
				add(e.owner.Client, id)
				for _, x := range f.locks[j+1:] {
					if x.owner == e.owner && x.r.overlaps(e.r) {
						t.Errorf("owner %v has overlapping locks %v %v", e.owner, e.r, x.r)
					}
					if x.owner == e.owner && x.typ == e.typ && x.r.touches(e.r) {
						t.Errorf("owner %v has uncoalesced locks %v %v", e.owner, e.r, x.r)
					}
					if x.owner != e.owner && x.r.overlaps(e.r) && (x.typ == Write || e.typ == Write) {
						t.Errorf("conflicting locks granted: %v %v and %v %v", e.owner, e.r, x.owner, x.r)
					}
				}
			}
			for _, w := range f.waiters {
				add(w.req.Owner.Client, id)
				if !w.queued {
					t.Errorf("queued waiter not marked")
				}
			}
			for _, s := range f.shares {
				add(s.owner.Client, id)
			}
			locks += len(f.locks)
			shares += len(f.shares)
			waiters += len(f.waiters)
		}
		sh.mu.Unlock()
	}
	m.wmu.Lock()
	for _, ws := range m.waiting {
		graph += len(ws)
	}
	m.wmu.Unlock()
	st := m.Stats()
	if st.Locks != locks || st.Shares != shares || st.Waiters != waiters || graph != waiters {
		t.Errorf("stats %+v, counted locks %d shares %d waiters %d graph %d", st, locks, shares, waiters, graph)
	}
	idx := map[string]map[FileID]int{}
	for i := range m.clients {
		cs := &m.clients[i]
		cs.mu.Lock()
		for c, files := range cs.m {
			idx[c] = map[FileID]int{}
			for f, n := range files {
				idx[c][f] = n
			}
		}
		cs.mu.Unlock()
	}
	if fmt.Sprint(idx) != fmt.Sprint(perClient) {
		t.Errorf("client index %v, counted %v", idx, perClient)
	}
}
