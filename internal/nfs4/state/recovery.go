package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vnfsd/vnfsd/internal/store"
)

// MemoryRecovery is a RecoveryStore in memory, for tests: it survives a
// Table (pass it to the next New to simulate a restart), not the process.
type MemoryRecovery struct {
	mu     sync.Mutex
	owners map[string]bool
	// Fail, when set, is returned by Add and Remove (failure injection).
	Fail error
}

// NewMemoryRecovery returns a MemoryRecovery holding owners.
func NewMemoryRecovery(owners ...[]byte) *MemoryRecovery {
	m := &MemoryRecovery{owners: make(map[string]bool)}
	for _, o := range owners {
		m.owners[string(o)] = true
	}
	return m
}

// Load returns the owners, sorted.
func (m *MemoryRecovery) Load() ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, 0, len(m.owners))
	for o := range m.owners {
		out = append(out, []byte(o))
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out, nil
}

// Add records an owner.
func (m *MemoryRecovery) Add(owner []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	m.owners[string(owner)] = true
	return nil
}

// Remove forgets an owner.
func (m *MemoryRecovery) Remove(owner []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	delete(m.owners, string(owner))
	return nil
}

// Has reports whether owner is recorded.
func (m *MemoryRecovery) Has(owner []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owners[string(owner)]
}

// StoreRecovery is a RecoveryStore in the control store (internal/store):
// one key per owner, Prefix followed by the hex SHA-256 of the owner (an
// owner is up to 1024 bytes, more than a key may hold), with the owner as
// the value. The prefix is the virtual server's, for example
// "/nfs4rec/" + the server's UUID + "/", so that the records follow the
// server across restarts of vnfsd and are deleted with it (DeletePrefix).
type StoreRecovery struct {
	st      store.Store
	prefix  string
	timeout time.Duration
}

// storeTimeout bounds one store operation.
const storeTimeout = 30 * time.Second

// NewStoreRecovery returns the recovery records of one virtual server in
// st under prefix, which must be non-empty and leave room for a 64
// character key suffix.
func NewStoreRecovery(st store.Store, prefix string) (*StoreRecovery, error) {
	if prefix == "" || len(prefix)+2*sha256.Size > store.MaxKeySize {
		return nil, fmt.Errorf("nfs4 recovery: invalid key prefix %q", prefix)
	}
	return &StoreRecovery{st: st, prefix: prefix, timeout: storeTimeout}, nil
}

func (r *StoreRecovery) key(owner []byte) string {
	sum := sha256.Sum256(owner)
	return r.prefix + hex.EncodeToString(sum[:])
}

// Load returns every owner recorded under the prefix. A value that does
// not hash to its key is corrupt and fails the load.
func (r *StoreRecovery) Load() ([][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	kvs, err := r.st.List(ctx, r.prefix)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(kvs))
	for _, kv := range kvs {
		if len(kv.Value) > MaxOwnerLen || r.key(kv.Value) != kv.Key {
			return nil, fmt.Errorf("nfs4 recovery: %w: record %q", errCorrupt, kv.Key)
		}
		out = append(out, kv.Value)
	}
	return out, nil
}

var errCorrupt = errors.New("corrupt record")

// Add records an owner durably.
func (r *StoreRecovery) Add(owner []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	k := r.key(owner)
	v := bytes.Clone(owner)
	if v == nil {
		v = []byte{}
	}
	return r.st.Update(ctx, func(tx store.Tx) error { return tx.Put(k, v) })
}

// Remove forgets an owner durably.
func (r *StoreRecovery) Remove(owner []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	k := r.key(owner)
	return r.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Delete(k)
		return err
	})
}
