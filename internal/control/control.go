// Package control is vnfsd's control plane: it owns the namespace tree,
// the store, the shared worker pool and the running virtual servers.
//
// Every mutating operation validates its input fully, then commits one
// store transaction, then reconciles the data plane to the committed state
// (starts, stops, resizes or restarts the namespace's vserver). The store
// is the source of truth: Open loads it and starts every server whose
// threads are above 0. A server that fails to start keeps its
// configuration; its status says why it is not running.
//
// Every operation takes an ns.Scope: namespace paths in arguments, results
// and error messages are relative to it, and nothing outside it can be
// named. The REST API (internal/api) is a thin layer over these methods.
//
// Records (JSON values, "v" is the record format), next to package ns's:
//
//	/vserver/<ns uuid>               -> serverRecord: config, exports, next export id
//	/token/by-id/<id>                -> tokenRecord: name, namespace uuid, SHA-256 of the secret
//	/token/by-ns/<ns uuid>/<id>      -> "" (index to revoke a namespace's tokens)
//
// Files under Options.DataDir:
//
//	state/vnfsd.db                   the store (bbolt)
//	state/root.token                 the root token (mode 0600)
//	state/vservers/<ns uuid>/        each server's state directory (handle key)
package control

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/sched"
	"github.com/vnfsd/vnfsd/internal/store"
)

// File names under the data directory.
const (
	StateDirName    = "state"
	StoreFile       = "vnfsd.db"
	RootTokenFile   = "root.token"
	VserversDirName = "vservers"
)

// DefaultShutdownTimeout bounds the graceful stop of one vserver.
const DefaultShutdownTimeout = 15 * time.Second

// Options configures Open.
type Options struct {
	// DataDir holds the state (DataDir/state). Required.
	DataDir string
	// Logger; nil discards.
	Logger *slog.Logger
	// Store, if not nil, is used instead of DataDir/state/vnfsd.db; Close
	// does not close it.
	Store store.Store
	// NoSync opens the bolt store without fsync at commit (tests only).
	NoSync bool
	// Seeds are applied by Open, in order, before any server starts
	// (cmd/vnfsd's embedded /default).
	Seeds []Seed
	// ShutdownTimeout bounds the graceful stop of a vserver
	// (0: DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// Control is the control plane. Its methods are safe for concurrent use.
type Control struct {
	log      *slog.Logger
	stateDir string
	st       store.Store
	ownStore bool
	tree     *ns.Tree
	pool     *sched.Pool
	rootHash [sha256.Size]byte
	stopWait time.Duration

	// mu serializes the mutations that reconcile the data plane, so that
	// reconciliation follows the order of the commits.
	mu     sync.Mutex
	closed bool
	// faults are runtime-only fault injection specs by namespace UUID and
	// export path (from Seeds; testing only). Under mu.
	faults map[string]map[string]string

	// rmu guards inst; an instance is replaced, never changed in place.
	rmu  sync.RWMutex
	inst map[string]*instance
}

// Open opens (creating on first use) the control plane in opts.DataDir,
// applies opts.Seeds and starts every server whose threads are above 0.
func Open(ctx context.Context, opts Options) (_ *Control, err error) {
	if opts.DataDir == "" {
		return nil, errors.New("control: no data directory")
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	c := &Control{
		log:      opts.Logger,
		stateDir: filepath.Join(dir, StateDirName),
		stopWait: opts.ShutdownTimeout,
		faults:   map[string]map[string]string{},
		inst:     map[string]*instance{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.stopWait <= 0 {
		c.stopWait = DefaultShutdownTimeout
	}
	if err := os.MkdirAll(filepath.Join(c.stateDir, VserversDirName), 0o700); err != nil {
		return nil, fmt.Errorf("control: state directory: %w", err)
	}
	if opts.Store != nil {
		c.st = opts.Store
	} else {
		b, err := store.OpenBolt(filepath.Join(c.stateDir, StoreFile), store.BoltOptions{NoSync: opts.NoSync})
		if err != nil {
			return nil, fmt.Errorf("control: %w", err)
		}
		c.st, c.ownStore = b, true
	}
	defer func() {
		if err != nil && c.ownStore {
			c.st.Close()
		}
	}()
	if c.tree, err = ns.NewTreeContext(ctx, c.st); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if c.rootHash, err = loadOrCreateRootToken(filepath.Join(c.stateDir, RootTokenFile)); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	c.pool = sched.NewPool(sched.Options{})
	for _, s := range opts.Seeds {
		if err := c.applySeed(ctx, s); err != nil {
			c.pool.Close()
			return nil, fmt.Errorf("control: seed %s: %w", s.Namespace, err)
		}
	}
	if err := c.startAll(ctx); err != nil {
		c.stopAll()
		c.pool.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	return c, nil
}

// Close stops every vserver and closes the store (if Open opened it).
func (c *Control) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.stopAll()
	c.pool.Close()
	if c.ownStore {
		err = errors.Join(err, c.st.Close())
	}
	return err
}

// Tree returns the namespace tree.
func (c *Control) Tree() *ns.Tree { return c.tree }

// Store returns the store.
func (c *Control) Store() store.Store { return c.st }

// PoolSize returns the size of the shared worker pool: the largest threads
// value of the running servers.
func (c *Control) PoolSize() int { return c.pool.Size() }

// RootTokenPath returns the path of the root token file.
func (c *Control) RootTokenPath() string { return filepath.Join(c.stateDir, RootTokenFile) }

// ServerStateDir returns the state directory of the server of the
// namespace with the given UUID.
func (c *Control) ServerStateDir(uuid string) string {
	return filepath.Join(c.stateDir, VserversDirName, uuid)
}

// lock takes mu for a mutation; it fails once the Control is closed.
func (c *Control) lock() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("control: closed")
	}
	return nil
}
