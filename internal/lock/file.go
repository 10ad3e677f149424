package lock

import (
	"cmp"
	"slices"
)

// file is the lock state of one file, guarded by its shard's mutex.
type file struct {
	id      FileID
	locks   []entry
	waiters []*Waiter // FIFO
	shares  []shareEntry
}

// entry is one granted lock. Invariant: the entries of one owner never
// overlap, and those of one owner and type never touch (they are
// coalesced).
type entry struct {
	owner Owner
	typ   Type
	r     Range
}

// get returns the file id, creating it.
func (sh *shard) get(id FileID) *file {
	f := sh.files[id]
	if f == nil {
		f = &file{id: id}
		if sh.files == nil {
			sh.files = map[FileID]*file{}
		}
		sh.files[id] = f
	}
	return f
}

// dropIfIdle forgets f once it holds nothing.
func (sh *shard) dropIfIdle(f *file) {
	if len(f.locks) == 0 && len(f.waiters) == 0 && len(f.shares) == 0 {
		if sh.files[f.id] == f {
			delete(sh.files, f.id)
		}
	}
}

func (f *file) removeWaiterAt(i int) {
	if i < 0 {
		return
	}
	copy(f.waiters[i:], f.waiters[i+1:])
	f.waiters[len(f.waiters)-1] = nil
	f.waiters = f.waiters[:len(f.waiters)-1]
}

// conflict returns a lock of another owner that conflicts with a lock of
// type t over r, or nil.
func (f *file) conflict(o Owner, t Type, r Range) *entry {
	for i := range f.locks {
		e := &f.locks[i]
		if e.owner != o && e.r.overlaps(r) && (t == Write || e.typ == Write) {
			return e
		}
	}
	return nil
}

// setLock gives owner o a lock of type t over r (F_SETLK once no conflict
// remains): o's locks of type t that touch r are merged into it, o's
// locks of the other type are cut back to what lies outside it. It fails
// with ErrNoLocks, changing nothing, if the result would exceed the limit.
func (m *Manager) setLock(f *file, o Owner, t Type, r Range) error {
	ext := r
	old := 0
	for _, e := range f.locks {
		if e.owner != o {
			continue
		}
		old++
		if e.typ == t && e.r.touches(r) {
			ext.Start = min(ext.Start, e.r.Start)
			ext.End = max(ext.End, e.r.End)
		}
	}
	out := make([]entry, 0, len(f.locks)+2)
	mine := 0
	for _, e := range f.locks {
		switch {
		case e.owner != o:
			out = append(out, e)
		case e.typ == t && e.r.touches(ext):
			// merged into ext
		case !e.r.overlaps(ext):
			out = append(out, e)
			mine++
		default:
			if e.r.Start < ext.Start {
				out = append(out, entry{o, e.typ, Range{e.r.Start, ext.Start - 1}})
				mine++
			}
			if e.r.End > ext.End {
				out = append(out, entry{o, e.typ, Range{ext.End + 1, e.r.End}})
				mine++
			}
		}
	}
	out = append(out, entry{o, t, ext})
	mine++
	if err := m.reserve(int64(mine - old)); err != nil {
		return err
	}
	f.locks = out
	m.clientAdd(o.Client, f.id, mine-old)
	return nil
}

// unlockRange releases o's locks over r, splitting those that extend past
// it. It fails with ErrNoLocks, changing nothing, if a split would exceed
// the limit.
func (m *Manager) unlockRange(f *file, o Owner, r Range) error {
	old, mine := 0, 0
	touched := false
	for _, e := range f.locks {
		if e.owner == o {
			old++
			if e.r.overlaps(r) {
				touched = true
			}
		}
	}
	if !touched {
		return nil
	}
	out := make([]entry, 0, len(f.locks)+1)
	for _, e := range f.locks {
		if e.owner != o {
			out = append(out, e)
			continue
		}
		if !e.r.overlaps(r) {
			out = append(out, e)
			mine++
			continue
		}
		if e.r.Start < r.Start {
			out = append(out, entry{o, e.typ, Range{e.r.Start, r.Start - 1}})
			mine++
		}
		if e.r.End > r.End {
			out = append(out, entry{o, e.typ, Range{r.End + 1, e.r.End}})
			mine++
		}
	}
	if err := m.reserve(int64(mine - old)); err != nil {
		return err
	}
	f.locks = out
	m.clientAdd(o.Client, f.id, mine-old)
	return nil
}

// reserve changes the count of locks held by d, failing with ErrNoLocks
// if a growth would exceed the limit.
func (m *Manager) reserve(d int64) error {
	if d <= 0 {
		m.nlocks.Add(d)
		return nil
	}
	if m.nlocks.Add(d) > m.maxLocks {
		m.nlocks.Add(-d)
		return ErrNoLocks
	}
	return nil
}

func sortLocks(ls []Lock) {
	slices.SortFunc(ls, func(a, b Lock) int {
		return cmp.Or(cmp.Compare(a.File.Export, b.File.Export), cmp.Compare(a.File.Object, b.File.Object),
			cmp.Compare(a.Range.Start, b.Range.Start), cmp.Compare(a.Owner.Client, b.Owner.Client),
			cmp.Compare(a.Owner.ID, b.Owner.ID), cmp.Compare(a.Owner.Svid, b.Owner.Svid))
	})
}
