package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FormatVersion is the on-disk format this code reads and writes. The file
// records it in the "meta" bucket under "format" (decimal ASCII); a file
// with a newer format is refused so that an old binary never misreads or
// damages data written by a newer one.
const FormatVersion = 1

// DefaultLockTimeout is how long OpenBolt waits for a file locked by
// another process.
const DefaultLockTimeout = 2 * time.Second

var (
	bucketMeta = []byte("meta")
	bucketKV   = []byte("kv")
	bucketLog  = []byte("log")

	metaFormat  = []byte("format")
	metaRev     = []byte("rev")
	metaCompact = []byte("compact")
)

// BoltOptions configures OpenBolt. The zero value is usable.
type BoltOptions struct {
	// Timeout is how long to wait for the file lock when another process
	// has the store open (0: DefaultLockTimeout).
	Timeout time.Duration
	// NoSync skips fsync at commit: a crash may lose the last commits (and
	// with bbolt may corrupt the file). For tests only.
	NoSync bool
	// HistoryRevisions is how many revisions of changes are kept for
	// watchers (0: DefaultHistoryRevisions).
	HistoryRevisions int
	// WatchBuffer is the capacity of each watch channel
	// (0: DefaultWatchBuffer).
	WatchBuffer int
}

// Bolt is the embedded Store, kept in one bbolt file.
//
// Layout (format 1): bucket "meta" holds "format", "rev" (the current
// revision) and "compact" (the highest revision dropped from the history);
// bucket "kv" maps each key to an envelope with its revisions and value;
// bucket "log" maps each revision to its events (the watch history). See
// codec.go for the encodings.
type Bolt struct {
	db       *bolt.DB
	path     string
	history  int64
	wmu      sync.Mutex // serializes Update so revisions publish in order
	rev      atomic.Int64
	compact  atomic.Int64
	hub      watchHub
	dbClosed bool // under wmu
}

var _ Store = (*Bolt)(nil)

// OpenBolt opens or creates the store at path.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLockTimeout
	}
	if opts.HistoryRevisions <= 0 {
		opts.HistoryRevisions = DefaultHistoryRevisions
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.Timeout,
		NoSync:       opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is locked by another process (waited %v): %w", path, opts.Timeout, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Bolt{db: db, path: path, history: int64(opts.HistoryRevisions)}
	s.hub.init(opts.WatchBuffer)
	if err := s.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// load checks the format of an existing file or initializes a new one.
func (s *Bolt) load() error {
	fresh := false
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			return s.loadMeta(tx)
		}
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return fmt.Errorf("%w: not a vnfsd store (no meta bucket)", ErrUnsupportedFormat)
		}
		fresh = true
		return nil
	})
	if err != nil || !fresh {
		return err
	}
	s.rev.Store(InitialRev)
	s.compact.Store(InitialRev)
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketKV); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketLog); err != nil {
			return err
		}
		if err := meta.Put(metaFormat, []byte(strconv.Itoa(FormatVersion))); err != nil {
			return err
		}
		if err := meta.Put(metaRev, encodeRev(InitialRev)); err != nil {
			return err
		}
		return meta.Put(metaCompact, encodeRev(InitialRev))
	})
}

func (s *Bolt) loadMeta(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	fv := meta.Get(metaFormat)
	format, err := strconv.Atoi(string(fv))
	if err != nil || format < 1 {
		return fmt.Errorf("%w: format %q", ErrCorrupt, fv)
	}
	if format > FormatVersion {
		return fmt.Errorf("%w: format %d was written by a newer version (this one reads format %d)", ErrUnsupportedFormat, format, FormatVersion)
	}
	if tx.Bucket(bucketKV) == nil || tx.Bucket(bucketLog) == nil {
		return fmt.Errorf("%w: missing bucket", ErrCorrupt)
	}
	rev, ok1 := decodeRev(meta.Get(metaRev))
	compact, ok2 := decodeRev(meta.Get(metaCompact))
	if !ok1 || !ok2 || rev < InitialRev || compact < InitialRev || compact > rev {
		return fmt.Errorf("%w: revision %x, compaction %x", ErrCorrupt, meta.Get(metaRev), meta.Get(metaCompact))
	}
	s.rev.Store(rev)
	s.compact.Store(compact)
	return nil
}

// Path returns the file the store lives in.
func (s *Bolt) Path() string { return s.path }

// Rev returns the revision of the last committed change.
func (s *Bolt) Rev() int64 { return s.rev.Load() }

func (s *Bolt) compactRev() int64 { return s.compact.Load() }

// Get returns one key.
func (s *Bolt) Get(ctx context.Context, key string) (kv KV, ok bool, err error) {
	err = s.View(ctx, func(tx Tx) error {
		kv, ok, err = tx.Get(key)
		return err
	})
	return kv, ok, err
}

// List returns the keys under prefix, sorted.
func (s *Bolt) List(ctx context.Context, prefix string) (kvs []KV, err error) {
	err = s.View(ctx, func(tx Tx) error {
		kvs, err = tx.List(prefix)
		return err
	})
	return kvs, err
}

// errNoChange rolls back a transaction that changed nothing, which saves
// bbolt a commit and an fsync.
var errNoChange = errors.New("no change")

// Update runs fn in a read-write transaction.
func (s *Bolt) Update(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.dbClosed || s.hub.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil { // cancelled while waiting for the lock
		return err
	}
	cur := s.rev.Load()
	newRev, newCompact := int64(0), s.compact.Load()
	err := s.db.Update(func(btx *bolt.Tx) error {
		t := &boltTx{tx: btx, kv: btx.Bucket(bucketKV), rev: cur, writable: true}
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
			return errNoChange
		}
		newRev = cur + 1
		meta, log := btx.Bucket(bucketMeta), btx.Bucket(bucketLog)
		if err := log.Put(encodeRev(newRev), encodeLogEntry(evs)); err != nil {
			return err
		}
		if err := meta.Put(metaRev, encodeRev(newRev)); err != nil {
			return err
		}
		if newRev-newCompact <= s.history {
			return nil
		}
		newCompact = newRev - s.history
		var old [][]byte
		c := log.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			r, ok := decodeRev(k)
			if !ok || r > newCompact {
				break
			}
			old = append(old, k)
		}
		for _, k := range old {
			if err := log.Delete(k); err != nil {
				return err
			}
		}
		return meta.Put(metaCompact, encodeRev(newCompact))
	})
	if err == errNoChange {
		return nil
	}
	if err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return ErrClosed
		}
		return err
	}
	s.compact.Store(newCompact)
	s.rev.Store(newRev)
	s.hub.notify()
	return nil
}

// View runs fn in a read-only snapshot.
func (s *Bolt) View(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.hub.isClosed() {
		return ErrClosed
	}
	err := s.db.View(func(btx *bolt.Tx) error {
		rev, ok := decodeRev(btx.Bucket(bucketMeta).Get(metaRev))
		if !ok {
			return fmt.Errorf("%w: revision", ErrCorrupt)
		}
		t := &boltTx{tx: btx, kv: btx.Bucket(bucketKV), rev: rev}
		err := fn(t)
		t.done = true
		return err
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Watch delivers the changes under prefix after revision rev.
func (s *Bolt) Watch(ctx context.Context, prefix string, rev int64) (<-chan Event, error) {
	return s.hub.watch(ctx, s, prefix, rev)
}

func (s *Bolt) readHistory(from int64, prefix string) (evs []Event, next int64, caughtUp bool, err error) {
	next = from
	err = s.db.View(func(btx *bolt.Tx) error {
		compact, ok := decodeRev(btx.Bucket(bucketMeta).Get(metaCompact))
		if !ok {
			return fmt.Errorf("%w: compaction revision", ErrCorrupt)
		}
		if from <= compact {
			return fmt.Errorf("%w: watcher needs revision %d, history starts after %d", ErrCompacted, from, compact)
		}
		size := 0
		c := btx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(encodeRev(from)); k != nil; k, v = c.Next() {
			rev, ok := decodeRev(k)
			if !ok || rev != next {
				return fmt.Errorf("%w: history has revision %x where %d was expected", ErrCorrupt, k, next)
			}
			n := len(evs)
			var err error
			if evs, err = decodeLogEntry(rev, v, prefix, evs); err != nil {
				return err
			}
			next = rev + 1
			for _, ev := range evs[n:] {
				size += len(ev.KV.Key) + len(ev.KV.Value)
			}
			if len(evs) >= watchBatchEvents || size >= watchBatchBytes {
				return nil
			}
		}
		caughtUp = true
		return nil
	})
	return evs, next, caughtUp, err
}

// Close stops every watcher, waits for running transactions and closes the
// file. Later calls return ErrClosed; closing twice is harmless.
func (s *Bolt) Close() error {
	s.hub.close()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.dbClosed {
		return nil
	}
	s.dbClosed = true
	return s.db.Close()
}

// boltTx is a Tx over a bbolt transaction.
type boltTx struct {
	tx       *bolt.Tx
	kv       *bolt.Bucket
	rev      int64
	writable bool
	done     bool
	cs       changeSet
}

func (t *boltTx) Rev() int64 { return t.rev }

func (t *boltTx) check(write bool) error {
	if t.done {
		return ErrTxDone
	}
	if write && !t.writable {
		return ErrReadOnly
	}
	return nil
}

// current returns the key's state as this transaction sees it, aliasing
// bbolt's memory.
func (t *boltTx) current(key string) (KV, bool, error) {
	v := t.kv.Get([]byte(key))
	if v == nil {
		return KV{}, false, nil
	}
	kv, err := decodeEnvelope(key, v)
	return kv, err == nil, err
}

func (t *boltTx) Get(key string) (KV, bool, error) {
	if err := t.check(false); err != nil {
		return KV{}, false, err
	}
	if err := checkKey(key); err != nil {
		return KV{}, false, err
	}
	kv, ok, err := t.current(key)
	if !ok {
		return KV{}, false, err
	}
	kv.Value = cloneBytes(kv.Value)
	return kv, true, nil
}

func (t *boltTx) List(prefix string) ([]KV, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var out []KV
	p := []byte(prefix)
	c := t.kv.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		kv, err := decodeEnvelope(string(k), v)
		if err != nil {
			return nil, err
		}
		kv.Value = cloneBytes(kv.Value)
		out = append(out, kv)
	}
	return out, nil
}

func (t *boltTx) Put(key string, value []byte) error {
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
	old, existed, err := t.current(key)
	if err != nil {
		return err
	}
	newRev := t.rev + 1
	createRev := newRev
	if existed {
		createRev = old.CreateRev
	}
	if err := t.kv.Put([]byte(key), encodeEnvelope(createRev, newRev, value)); err != nil {
		return fmt.Errorf("store: put %s: %w", short(key), err)
	}
	t.cs.put(KV{Key: key, Value: cloneBytes(value), CreateRev: createRev, ModRev: newRev}, existed)
	return nil
}

func (t *boltTx) Delete(key string) (bool, error) {
	if err := t.check(true); err != nil {
		return false, err
	}
	if err := checkKey(key); err != nil {
		return false, err
	}
	return t.delete([]byte(key))
}

func (t *boltTx) delete(k []byte) (bool, error) {
	if t.kv.Get(k) == nil {
		return false, nil
	}
	if err := t.cs.account(len(k)); err != nil {
		return false, err
	}
	if err := t.kv.Delete(k); err != nil {
		return false, fmt.Errorf("store: delete %s: %w", short(string(k)), err)
	}
	t.cs.del(string(k), true)
	return true, nil
}

func (t *boltTx) DeletePrefix(prefix string) (int, error) {
	if err := t.check(true); err != nil {
		return 0, err
	}
	if prefix == "" {
		return 0, fmt.Errorf("%w: empty prefix in DeletePrefix", ErrInvalidKey)
	}
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	// Collect first: deleting under a bbolt cursor skips keys.
	var keys [][]byte
	p := []byte(prefix)
	c := t.kv.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for i, k := range keys {
		if _, err := t.delete(k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}
