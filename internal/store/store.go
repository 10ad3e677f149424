// Package store is the control plane's source of truth: a small,
// transactional key-value store with revisions and watches, shaped after
// etcd's v3 API so that an etcd implementation can follow the embedded one.
//
// Every write transaction that changes at least one key advances a single
// global revision by one (a new store is at InitialRev, as in etcd, so that
// a snapshot's revision is never 0, which Watch reads as "now"); all changes of that transaction carry the same
// revision. Each key remembers the revision that created it (CreateRev) and
// the revision that last modified it (ModRev). A transaction that changes
// nothing (only reads, deletes of absent keys, ...) does not advance the
// revision.
//
// Two implementations exist: Bolt (embedded bbolt file, the default for a
// single node) and Memory (for tests of other packages). Both pass the same
// conformance suite.
//
// Watches: writers never wait for watchers. Every committed change is kept
// in a bounded history (the last HistoryRevisions revisions, persisted by
// Bolt) and each watcher reads from that history at its own pace into a
// bounded channel. A watcher that has not consumed its events before they
// leave the history is cancelled: it receives one EventError carrying
// ErrCompacted and its channel is closed. It then has to re-read the state
// (View, noting Tx.Rev) and watch again from that revision.
//
// Functions passed to Update and View must not call the Store they run in
// (the embedded implementations would deadlock), and a Tx must not be used
// after its function has returned or from several goroutines at once.
package store

import (
	"context"
	"errors"
	"fmt"
)

// Limits on what the store accepts.
const (
	// MaxKeySize is the maximum length of a key (and of a prefix) in bytes.
	MaxKeySize = 1024
	// MaxValueSize is the maximum length of a value in bytes.
	MaxValueSize = 1 << 20
	// MaxTxnSize bounds the bytes (keys plus values) written by one
	// transaction, counted over every Put and Delete it makes. It also
	// bounds the history entry and the watch batch of one revision.
	MaxTxnSize = 64 << 20
)

// InitialRev is the revision of a new, empty store; the first change is
// InitialRev+1.
const InitialRev = 1

// Defaults used when an option is zero.
const (
	// DefaultHistoryRevisions is how many revisions of changes are kept for
	// watchers.
	DefaultHistoryRevisions = 4096
	// DefaultWatchBuffer is the capacity of a watch channel in events.
	DefaultWatchBuffer = 64
)

// Errors returned by the store. They are wrapped with details; test them
// with errors.Is.
var (
	ErrInvalidKey        = errors.New("store: invalid key")
	ErrInvalidRev        = errors.New("store: invalid revision")
	ErrKeyTooLarge       = errors.New("store: key too large")
	ErrValueTooLarge     = errors.New("store: value too large")
	ErrTxTooLarge        = errors.New("store: transaction too large")
	ErrReadOnly          = errors.New("store: write in a read-only transaction")
	ErrTxDone            = errors.New("store: transaction already finished")
	ErrClosed            = errors.New("store: closed")
	ErrCompacted         = errors.New("store: requested revision has been compacted")
	ErrCorrupt           = errors.New("store: corrupt data")
	ErrUnsupportedFormat = errors.New("store: unsupported on-disk format")
)

// KV is one key with its value and revisions.
type KV struct {
	Key   string
	Value []byte
	// CreateRev is the revision at which the key was (last) created.
	CreateRev int64
	// ModRev is the revision of the last change of the key.
	ModRev int64
}

// EventType tells what an Event reports.
type EventType uint8

const (
	// EventPut reports that KV.Key was created or modified; KV holds the
	// new value and revisions.
	EventPut EventType = 1
	// EventDelete reports that KV.Key was deleted; KV.ModRev is the
	// deletion revision, KV.Value is nil and KV.CreateRev is 0.
	EventDelete EventType = 2
	// EventError is the last event of a cancelled watch; Err says why
	// (ErrCompacted for a watcher that fell behind the history, ErrClosed
	// when the store was closed, ErrCorrupt for unreadable history). The
	// channel is closed right after it.
	EventError EventType = 3
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	case EventError:
		return "ERROR"
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Event is one committed change seen by a watcher.
type Event struct {
	Type EventType
	KV   KV
	// Rev is the revision of the transaction that made the change.
	Rev int64
	// Err is set for EventError only.
	Err error
}

// Tx is a transaction. Reads observe the transaction's own writes.
type Tx interface {
	// Get returns the key; false if it does not exist.
	Get(key string) (KV, bool, error)
	// List returns every key starting with prefix, sorted by key. The
	// empty prefix lists every key.
	List(prefix string) ([]KV, error)
	// Put creates or replaces the key.
	Put(key string, value []byte) error
	// Delete removes the key and reports whether it existed.
	Delete(key string) (bool, error)
	// DeletePrefix removes every key starting with prefix (which must not
	// be empty) and returns how many there were.
	DeletePrefix(prefix string) (int, error)
	// Rev is the revision of the state the transaction read from: the
	// snapshot's revision in View, the revision before this transaction's
	// writes in Update. List in View and then Watch from Tx.Rev() to see
	// every later change exactly once.
	Rev() int64
}

// Store is a transactional key-value store with revisions and watches.
type Store interface {
	Get(ctx context.Context, key string) (KV, bool, error)
	List(ctx context.Context, prefix string) ([]KV, error)
	// Update runs fn in one serializable read-write transaction: all or
	// nothing. If fn returns an error (or panics), nothing is applied and
	// the error is returned unchanged. If ctx is done when fn returns,
	// nothing is applied and ctx.Err() is returned.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Watch delivers every change of a key under prefix made after
	// revision rev (0: from now) until ctx ends, in revision order and,
	// within a revision, in the order the transaction made them. See the
	// package documentation for slow watchers. The channel is closed when
	// ctx ends, after an EventError, or when the store is closed.
	Watch(ctx context.Context, prefix string, rev int64) (<-chan Event, error)
	// Rev is the revision of the last committed change.
	Rev() int64
	Close() error
}

// short returns a printable, bounded rendering of a key for messages.
func short(key string) string {
	if len(key) > 64 {
		return fmt.Sprintf("%q...", key[:64])
	}
	return fmt.Sprintf("%q", key)
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > MaxKeySize {
		return fmt.Errorf("%w: key %s is %d bytes, limit %d", ErrKeyTooLarge, short(key), len(key), MaxKeySize)
	}
	return nil
}

func checkPrefix(prefix string) error {
	if len(prefix) > MaxKeySize {
		return fmt.Errorf("%w: prefix %s is %d bytes, limit %d", ErrKeyTooLarge, short(prefix), len(prefix), MaxKeySize)
	}
	return nil
}

func checkValue(key string, value []byte) error {
	if len(value) > MaxValueSize {
		return fmt.Errorf("%w: value of key %s is %d bytes, limit %d", ErrValueTooLarge, short(key), len(value), MaxValueSize)
	}
	return nil
}

func hasPrefix(key, prefix string) bool {
	return len(key) >= len(prefix) && key[:len(prefix)] == prefix
}
