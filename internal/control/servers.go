package control

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/store"
)

// Server is a namespace's server as a scoped caller sees it.
type Server struct {
	// Namespace is the namespace's path relative to the caller's scope.
	Namespace string `json:"namespace"`
	UUID      string `json:"uuid"`
	ServerConfig
	Status Status `json:"status"`
}

// Status is the running state of a server.
type Status struct {
	Running bool `json:"running"`
	// Listening maps service names ("nfs", "mount", "mount/udp",
	// "portmap", "portmap/udp") to the address they listen on (the first
	// listener's; the port is the same on all).
	Listening map[string]string `json:"listening"`
	Clients   []Client          `json:"clients"`
	// PoolSize is the size of the shared worker pool.
	PoolSize int `json:"pool_size"`
	// Error says why the server is not running although threads > 0.
	Error string `json:"error"`
}

// Client is one open connection to a server.
type Client struct {
	Remote string    `json:"remote"`
	Local  string    `json:"local"`
	Since  time.Time `json:"since"`
}

// errNoServer is the error for a namespace without a server.
func errNoServer(path string) error {
	return notFoundf("namespace %s has no server", quote(path))
}

// GetServer returns the server of the namespace at path.
func (c *Control) GetServer(ctx context.Context, sc ns.Scope, path string) (Server, error) {
	a, err := abs(sc, path)
	if err != nil {
		return Server{}, err
	}
	var n ns.Namespace
	var rec *serverRecord
	err = c.st.View(ctx, func(tx store.Tx) error {
		if n, err = c.tree.GetTx(tx, a); err != nil {
			return err
		}
		rec, err = getServer(tx, n.UUID)
		return err
	})
	if err != nil {
		return Server{}, scoped(sc, err)
	}
	if rec == nil {
		return Server{}, errNoServer(path)
	}
	return c.serverView(path, n.UUID, rec), nil
}

func (c *Control) serverView(path, uuid string, rec *serverRecord) Server {
	return Server{Namespace: path, UUID: uuid, ServerConfig: rec.Config.clone(), Status: c.status(uuid)}
}

// serverChange computes the new record of a namespace's server from the
// current one (nil if it has none) inside the transaction. It must not
// change cur.
type serverChange func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error)

// changeServer is the frame of every server mutation: one transaction
// that resolves the namespace, computes and checks the new record and
// stores it, then the reconciliation of the data plane. It reports
// whether the record is new.
func (c *Control) changeServer(ctx context.Context, sc ns.Scope, path string, change serverChange) (Server, bool, error) {
	a, err := abs(sc, path)
	if err != nil {
		return Server{}, false, err
	}
	if err := c.lock(); err != nil {
		return Server{}, false, err
	}
	defer c.mu.Unlock()
	var n ns.Namespace
	var rec *serverRecord
	var created bool
	err = c.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if n, err = c.tree.GetTx(tx, a); err != nil {
			return err
		}
		cur, err := getServer(tx, n.UUID)
		if err != nil {
			return err
		}
		if rec, err = change(tx, n, cur); err != nil {
			return err
		}
		if cur == nil || !slices.Equal(cur.Config.Listeners, rec.Config.Listeners) || !slices.Equal(cur.Config.fixedPorts(), rec.Config.fixedPorts()) {
			if err := c.checkConflicts(tx, sc, n.UUID, rec.Config); err != nil {
				return err
			}
		}
		created = cur == nil
		if !created && reflect.DeepEqual(cur, rec) {
			return nil // nothing to store; reconcile still retries a failed start
		}
		return putServer(tx, n.UUID, rec)
	})
	if err != nil {
		return Server{}, false, scoped(sc, err)
	}
	if created {
		// A state directory left by a server deleted before a crash holds
		// an old handle key: the new server must not inherit it.
		c.removeState(n.UUID)
	}
	c.reconcile(context.WithoutCancel(ctx), n.UUID, n.Path, rec)
	return c.serverView(path, n.UUID, rec), created, nil
}

// checkConflicts refuses listeners that another server's configuration
// already claims on a common fixed port.
func (c *Control) checkConflicts(tx store.Tx, sc ns.Scope, uuid string, cfg ServerConfig) error {
	ports := cfg.fixedPorts()
	if len(ports) == 0 || len(cfg.Listeners) == 0 {
		return nil
	}
	all, err := allServers(tx)
	if err != nil {
		return err
	}
	for other, r := range all {
		if other == uuid {
			continue
		}
		port := 0
		for _, p := range r.Config.fixedPorts() {
			if slices.Contains(ports, p) {
				port = p
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, l := range cfg.Listeners {
			for _, ol := range r.Config.Listeners {
				if !listenersConflict(l, ol) {
					continue
				}
				who := "another namespace's server"
				if on, err := c.tree.GetByUUIDTx(tx, other); err == nil {
					if rel, ok := sc.Rel(on.Path); ok {
						who = "the server of namespace " + quote(rel)
					}
				}
				return conflictf("listener %s conflicts with listener %s of %s on port %d", l, ol, who, port)
			}
		}
	}
	return nil
}

// PutServer sets the whole configuration of the namespace's server,
// creating it if needed (its exports are kept). It reports whether the
// server is new.
func (c *Control) PutServer(ctx context.Context, sc ns.Scope, path string, cfg ServerConfig) (Server, bool, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return Server{}, false, err
	}
	if err := checkNetnses(cfg.Listeners); err != nil {
		return Server{}, false, err
	}
	return c.changeServer(ctx, sc, path, func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error) {
		rec := newServerRecord()
		if cur != nil {
			r := *cur
			rec = &r
		}
		rec.Config = cfg
		return rec, nil
	})
}

// PatchServer changes the given fields of the namespace's server. An
// empty patch changes nothing but retries starting a server that failed
// to start.
func (c *Control) PatchServer(ctx context.Context, sc ns.Scope, path string, p ServerPatch) (Server, error) {
	if p.Listeners != nil {
		// Check what can be checked before looking at the stored state.
		cfg, err := ServerPatch{Listeners: p.Listeners}.apply(DefaultServerConfig()).normalize()
		if err != nil {
			return Server{}, err
		}
		if err := checkNetnses(cfg.Listeners); err != nil {
			return Server{}, err
		}
	}
	s, _, err := c.changeServer(ctx, sc, path, func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error) {
		if cur == nil {
			return nil, errNoServer(path)
		}
		cfg, err := p.apply(cur.Config.clone()).normalize()
		if err != nil {
			return nil, err
		}
		r := *cur
		r.Config = cfg
		return &r, nil
	})
	return s, err
}

// AddListener adds a listener to the namespace's server.
func (c *Control) AddListener(ctx context.Context, sc ns.Scope, path string, l Listener) (Server, error) {
	l, err := l.normalize()
	if err != nil {
		return Server{}, err
	}
	if err := checkNetnses([]Listener{l}); err != nil {
		return Server{}, err
	}
	s, _, err := c.changeServer(ctx, sc, path, func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error) {
		if cur == nil {
			return nil, errNoServer(path)
		}
		if slices.Contains(cur.Config.Listeners, l) {
			return nil, conflictf("the server of %s already listens on %s", quote(path), l)
		}
		if len(cur.Config.Listeners) >= MaxListeners {
			return nil, invalidf("the server of %s has %d listeners, the most allowed", quote(path), MaxListeners)
		}
		r := *cur
		r.Config = cur.Config.clone()
		r.Config.Listeners = append(r.Config.Listeners, l)
		return &r, nil
	})
	return s, err
}

// RemoveListener removes a listener from the namespace's server.
func (c *Control) RemoveListener(ctx context.Context, sc ns.Scope, path string, l Listener) (Server, error) {
	// Syntax only: the network namespace may be gone already.
	l, err := l.normalize()
	if err != nil {
		return Server{}, err
	}
	s, _, err := c.changeServer(ctx, sc, path, func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error) {
		if cur == nil {
			return nil, errNoServer(path)
		}
		i := slices.Index(cur.Config.Listeners, l)
		if i < 0 {
			return nil, notFoundf("the server of %s has no listener %s", quote(path), l)
		}
		r := *cur
		r.Config = cur.Config.clone()
		r.Config.Listeners = slices.Delete(r.Config.Listeners, i, i+1)
		return &r, nil
	})
	return s, err
}

// DeleteServer stops the namespace's server and forgets its
// configuration, exports and state (the handle key: handles it gave out
// become invalid).
func (c *Control) DeleteServer(ctx context.Context, sc ns.Scope, path string) error {
	a, err := abs(sc, path)
	if err != nil {
		return err
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	var n ns.Namespace
	err = c.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if n, err = c.tree.GetTx(tx, a); err != nil {
			return err
		}
		ok, err := tx.Delete(serverKey(n.UUID))
		if err == nil && !ok {
			err = errNoServer(path)
		}
		if err == nil {
			_, err = tx.Delete(PrefixNSM + n.UUID)
		}
		if err == nil {
			_, err = tx.DeletePrefix(nfs4RecoveryPrefix(n.UUID))
		}
		return err
	})
	if err != nil {
		return scoped(sc, err)
	}
	c.reconcile(context.WithoutCancel(ctx), n.UUID, n.Path, nil)
	c.removeState(n.UUID)
	delete(c.faults, n.UUID)
	return nil
}

// Unlock releases NFSv3 (NLM) locks of the namespace's running server:
// every lock held by the client at address client (the kernel's
// unlock_ip), or every lock on the export with path export (unlock_fs).
// Exactly one of the two must be given. It returns how many locks,
// shares and waiting requests were released.
func (c *Control) Unlock(ctx context.Context, sc ns.Scope, path, client, export string) (int, error) {
	if (client == "") == (export == "") {
		return 0, invalidf("give \"client\" (an IP address) or \"export\" (an export path), exactly one")
	}
	var addr netip.Addr
	if client != "" {
		a, err := netip.ParseAddr(client)
		if err != nil || a.Zone() != "" {
			return 0, invalidf("client %s is not an IP address", quote(client))
		}
		addr = a.Unmap()
	}
	s, err := c.GetServer(ctx, sc, path)
	if err != nil {
		return 0, err
	}
	in := c.getInst(s.UUID)
	if in == nil || in.srv == nil {
		return 0, conflictf("the server of %s is not running", quote(path))
	}
	if client != "" {
		n, err := in.srv.UnlockClient(addr)
		if err != nil {
			return 0, conflictf("%v", err)
		}
		return n, nil
	}
	n, err := in.srv.UnlockExport(export)
	if err != nil {
		return 0, notFoundf("the server of %s: %v", quote(path), err)
	}
	return n, nil
}
