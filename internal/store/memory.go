package store

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// MemoryOptions configures NewMemoryWithOptions. The zero value is usable.
type MemoryOptions struct {
	// HistoryRevisions is how many revisions of changes are kept for
	// watchers (0: DefaultHistoryRevisions).
	HistoryRevisions int
	// WatchBuffer is the capacity of each watch channel
	// (0: DefaultWatchBuffer).
	WatchBuffer int
}

// Memory is a Store held in memory, with the same semantics as Bolt
// (revisions, limits, history, watches). It is meant for tests of other
// packages: List scans every key.
type Memory struct {
	wmu sync.Mutex // serializes Update; held while fn runs

	mu      sync.RWMutex // guards data, hist and the commit itself
	data    map[string]KV
	hist    []memRev // revisions compact+1 .. rev, in order
	rev     atomic.Int64
	compact atomic.Int64
	closed  bool // under wmu and mu

	history int
	hub     watchHub
}

type memRev struct {
	rev int64
	evs []Event
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return NewMemoryWithOptions(MemoryOptions{}) }

// NewMemoryWithOptions returns an empty in-memory store.
func NewMemoryWithOptions(opts MemoryOptions) *Memory {
	if opts.HistoryRevisions <= 0 {
		opts.HistoryRevisions = DefaultHistoryRevisions
	}
	m := &Memory{data: make(map[string]KV), history: opts.HistoryRevisions}
	m.rev.Store(InitialRev)
	m.compact.Store(InitialRev)
	m.hub.init(opts.WatchBuffer)
	return m
}

// Rev returns the revision of the last committed change.
func (m *Memory) Rev() int64 { return m.rev.Load() }

func (m *Memory) compactRev() int64 { return m.compact.Load() }

// Get returns one key.
func (m *Memory) Get(ctx context.Context, key string) (kv KV, ok bool, err error) {
	err = m.View(ctx, func(tx Tx) error {
		kv, ok, err = tx.Get(key)
		return err
	})
	return kv, ok, err
}

// List returns the keys under prefix, sorted.
func (m *Memory) List(ctx context.Context, prefix string) (kvs []KV, err error) {
	err = m.View(ctx, func(tx Tx) error {
		kvs, err = tx.List(prefix)
		return err
	})
	return kvs, err
}

// Update runs fn in a read-write transaction.
func (m *Memory) Update(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil { // cancelled while waiting for the lock
		return err
	}
	// Only writers modify data, and they hold wmu: fn reads it unlocked.
	cur := m.rev.Load()
	t := &memTx{m: m, rev: cur, writable: true, cs: &changeSet{}}
	err := fn(t)
	t.done = true
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	evs := t.cs.events(cur + 1)
	if len(evs) == 0 {
		return nil
	}
	newRev := cur + 1
	m.mu.Lock()
	for _, c := range t.cs.m {
		if c.deleted {
			delete(m.data, c.kv.Key)
		} else {
			m.data[c.kv.Key] = c.kv
		}
	}
	m.hist = append(m.hist, memRev{rev: newRev, evs: evs})
	if drop := len(m.hist) - m.history; drop > 0 {
		clear(m.hist[:drop])
		m.hist = m.hist[drop:]
		m.compact.Store(m.hist[0].rev - 1)
	}
	m.rev.Store(newRev)
	m.mu.Unlock()
	m.hub.notify()
	return nil
}

// View runs fn in a read-only snapshot: commits wait until it returns.
func (m *Memory) View(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	t := &memTx{m: m, rev: m.rev.Load()}
	err := fn(t)
	t.done = true
	return err
}

// Watch delivers the changes under prefix after revision rev.
func (m *Memory) Watch(ctx context.Context, prefix string, rev int64) (<-chan Event, error) {
	return m.hub.watch(ctx, m, prefix, rev)
}

func (m *Memory) readHistory(from int64, prefix string) (evs []Event, next int64, caughtUp bool, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.compact.Load(); from <= c {
		return nil, from, false, fmt.Errorf("%w: watcher needs revision %d, history starts after %d", ErrCompacted, from, c)
	}
	next = from
	i := sort.Search(len(m.hist), func(i int) bool { return m.hist[i].rev >= from })
	size := 0
	for ; i < len(m.hist); i++ {
		h := &m.hist[i]
		for _, ev := range h.evs {
			if !hasPrefix(ev.KV.Key, prefix) {
				continue
			}
			if ev.Type == EventPut {
				ev.KV.Value = cloneBytes(ev.KV.Value) // each watcher owns its values
			}
			evs = append(evs, ev)
			size += len(ev.KV.Key) + len(ev.KV.Value)
		}
		next = h.rev + 1
		if len(evs) >= watchBatchEvents || size >= watchBatchBytes {
			return evs, next, false, nil
		}
	}
	return evs, next, true, nil
}

// Close stops every watcher; later calls return ErrClosed.
func (m *Memory) Close() error {
	m.hub.close()
	m.wmu.Lock()
	m.mu.Lock()
	m.closed = true
	m.data = nil
	m.hist = nil
	m.mu.Unlock()
	m.wmu.Unlock()
	return nil
}

// memTx reads the committed map through the transaction's own changes.
type memTx struct {
	m        *Memory
	rev      int64
	writable bool
	done     bool
	cs       *changeSet // nil in View
}

func (t *memTx) Rev() int64 { return t.rev }

func (t *memTx) check(write bool) error {
	if t.done {
		return ErrTxDone
	}
	if write && !t.writable {
		return ErrReadOnly
	}
	return nil
}

// current returns the key as the transaction sees it (values shared).
func (t *memTx) current(key string) (KV, bool) {
	if t.cs != nil {
		if c, ok := t.cs.get(key); ok {
			return c.kv, !c.deleted
		}
	}
	kv, ok := t.m.data[key]
	return kv, ok
}

func (t *memTx) Get(key string) (KV, bool, error) {
	if err := t.check(false); err != nil {
		return KV{}, false, err
	}
	if err := checkKey(key); err != nil {
		return KV{}, false, err
	}
	kv, ok := t.current(key)
	if !ok {
		return KV{}, false, nil
	}
	kv.Value = cloneBytes(kv.Value)
	return kv, true, nil
}

// keys returns the keys under prefix visible to the transaction, sorted.
func (t *memTx) keys(prefix string) []string {
	var keys []string
	for k := range t.m.data {
		if hasPrefix(k, prefix) {
			if t.cs != nil {
				if _, touched := t.cs.get(k); touched {
					continue
				}
			}
			keys = append(keys, k)
		}
	}
	if t.cs != nil {
		for k, c := range t.cs.m {
			if !c.deleted && hasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func (t *memTx) List(prefix string) ([]KV, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	keys := t.keys(prefix)
	if len(keys) == 0 {
		return nil, nil
	}
	out := make([]KV, len(keys))
	for i, k := range keys {
		kv, _ := t.current(k)
		kv.Value = cloneBytes(kv.Value)
		out[i] = kv
	}
	return out, nil
}

func (t *memTx) Put(key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkValue(key, value); err != nil {
		return err
	}
	if err := t.cs.account(len(key) + len(value)); err != nil {
		return err
	}
	old, existed := t.current(key)
	newRev := t.rev + 1
	createRev := newRev
	if existed {
		createRev = old.CreateRev
	}
	t.cs.put(KV{Key: key, Value: cloneBytes(value), CreateRev: createRev, ModRev: newRev}, existed)
	return nil
}

func (t *memTx) Delete(key string) (bool, error) {
	if err := t.check(true); err != nil {
		return false, err
	}
	if err := checkKey(key); err != nil {
		return false, err
	}
	return t.delete(key)
}

func (t *memTx) delete(key string) (bool, error) {
	if _, ok := t.current(key); !ok {
		return false, nil
	}
	if err := t.cs.account(len(key)); err != nil {
		return false, err
	}
	t.cs.del(key, true)
	return true, nil
}

func (t *memTx) DeletePrefix(prefix string) (int, error) {
	if err := t.check(true); err != nil {
		return 0, err
	}
	if prefix == "" {
		return 0, fmt.Errorf("%w: empty prefix in DeletePrefix", ErrInvalidKey)
	}
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	keys := t.keys(prefix)
	for i, k := range keys {
		if _, err := t.delete(k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}
