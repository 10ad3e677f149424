package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/sched"
	"github.com/vnfsd/vnfsd/internal/store"
	"github.com/vnfsd/vnfsd/internal/vserver"
)

// instance is the data plane of one namespace's server: running (srv and
// q set) or failed to start (err set). An instance is replaced, never
// changed, once published in Control.inst.
type instance struct {
	uuid string
	// path is the namespace's path when the instance started (for logs).
	path string
	// key holds the configuration a change of which needs a restart.
	key     string
	threads int
	exports []Export
	faults  map[string]string
	srv     *vserver.Server
	q       *sched.Queue
	err     string
}

// restartKey returns the part of a configuration that the running
// vserver cannot change in place: everything but threads. (vserver has
// no live update of its export table, so export changes restart it too;
// the handle key stays, so clients' handles survive.)
func restartKey(cfg ServerConfig) string {
	cfg.Threads = 0
	b, _ := json.Marshal(cfg)
	return string(b)
}

func (c *Control) getInst(uuid string) *instance {
	c.rmu.RLock()
	defer c.rmu.RUnlock()
	return c.inst[uuid]
}

func (c *Control) setInst(uuid string, in *instance) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if in == nil {
		delete(c.inst, uuid)
	} else {
		c.inst[uuid] = in
	}
}

// status reports the running state of a namespace's server.
func (c *Control) status(uuid string) Status {
	st := Status{Listening: map[string]string{}, Clients: []Client{}, PoolSize: c.pool.Size()}
	in := c.getInst(uuid)
	if in == nil {
		return st
	}
	st.Error = in.err
	if in.srv == nil {
		return st
	}
	st.Running = true
	st.Listening = in.srv.Addrs()
	for _, ci := range in.srv.Clients() {
		st.Clients = append(st.Clients, Client{Remote: ci.Remote.String(), Local: ci.Local.String(), Since: ci.Since.UTC()})
	}
	slices.SortFunc(st.Clients, func(a, b Client) int { return a.Since.Compare(b.Since) })
	return st
}

// reconcile brings the data plane of a namespace's server to rec (nil:
// the server is gone). Called with mu held, after the commit of rec.
func (c *Control) reconcile(ctx context.Context, uuid, path string, rec *serverRecord) {
	old := c.getInst(uuid)
	if rec == nil || rec.Config.Threads == 0 {
		if old != nil {
			c.setInst(uuid, nil)
			c.stop(old)
		}
		return
	}
	key := restartKey(rec.Config)
	faults := c.faults[uuid]
	if old != nil && old.srv != nil && old.key == key && slices.EqualFunc(old.exports, rec.Exports, exportEqual) && maps.Equal(old.faults, faults) {
		if old.threads != rec.Config.Threads {
			if err := old.q.SetThreads(rec.Config.Threads); err != nil {
				// Only a closed queue fails; start afresh.
				c.log.Error("resizing a vserver's queue", "ns", path, "ns_uuid", uuid, "err", err)
			} else {
				in := *old
				in.threads = rec.Config.Threads
				c.setInst(uuid, &in)
				c.log.Info("vserver threads changed", "ns", path, "ns_uuid", uuid, "threads", in.threads, "pool_size", c.pool.Size())
				return
			}
		} else {
			return
		}
	}
	if old != nil {
		c.setInst(uuid, nil)
		c.stop(old)
	}
	c.setInst(uuid, c.start(ctx, uuid, path, rec))
}

func exportEqual(a, b Export) bool {
	return a.ID == b.ID && a.Path == b.Path && a.Dir == b.Dir && a.ReadOnly == b.ReadOnly && a.Squash == b.Squash &&
		a.AnonUID == b.AnonUID && a.AnonGID == b.AnonGID && slices.Equal(a.Clients, b.Clients)
}

// start creates the queue and the vserver of a record with threads > 0
// and starts it; a failure is recorded in the instance.
func (c *Control) start(ctx context.Context, uuid, path string, rec *serverRecord) *instance {
	in := &instance{
		uuid:    uuid,
		path:    path,
		key:     restartKey(rec.Config),
		threads: rec.Config.Threads,
		exports: cloneExports(rec.Exports),
		faults:  maps.Clone(c.faults[uuid]),
	}
	log := c.log.With("ns", path, "ns_uuid", uuid)
	fail := func(err error) *instance {
		in.err = err.Error()
		log.Warn("vserver not started", "err", err)
		return in
	}
	if len(rec.Config.Listeners) == 0 {
		return fail(errors.New("no listener configured (add one: POST /v1/server/listeners)"))
	}
	cfg, err := c.vserverConfig(uuid, rec, in.faults)
	if err != nil {
		return fail(err)
	}
	cfg.Logger = log
	q, err := c.pool.NewQueue(uuid, rec.Config.Threads, 0)
	if err != nil {
		return fail(fmt.Errorf("worker pool: %w", err))
	}
	cfg.Sched = q
	srv, err := vserver.New(cfg)
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		q.Close()
		return fail(err)
	}
	in.srv, in.q = srv, q
	attrs := []any{"threads", in.threads, "pool_size", c.pool.Size(), "exports", len(in.exports)}
	addrs := srv.Addrs()
	for _, k := range []string{vserver.ServiceNFS, vserver.ServiceMount, vserver.ServicePortmap} {
		if a, ok := addrs[k]; ok {
			attrs = append(attrs, k, a)
		}
	}
	log.Info("vserver started", attrs...)
	return in
}

// vserverConfig translates a stored record.
func (c *Control) vserverConfig(uuid string, rec *serverRecord, faults map[string]string) (vserver.Config, error) {
	cfg := vserver.Config{
		Name:        uuid,
		NFSPort:     rec.Config.NFSPort,
		MountPort:   rec.Config.MountPort,
		PortmapPort: rec.Config.PortmapPort,
		StateDir:    c.ServerStateDir(uuid),
		MaxIO:       uint32(rec.Config.MaxIO),
		Versions:    rec.Config.versionNumbers(),
		Minor4:      rec.Config.minor4(),
		Lease:       seconds(rec.Config.LeaseSeconds),
		Grace:       seconds(rec.Config.GraceSeconds),
		NSMState:    nsmState{st: c.st, key: PrefixNSM + uuid},
	}
	recovery, err := state.NewStoreRecovery(c.st, nfs4RecoveryPrefix(uuid))
	if err != nil {
		return cfg, err
	}
	cfg.NFS4Recovery = recovery
	if rec.Config.IDMap != nil {
		m, err := domainIDMap(rec.Config.IDMap)
		if err != nil {
			return cfg, fmt.Errorf("stored id_map: %v", err)
		}
		cfg.IDMap = m
	}
	if rec.Config.MountPort == PortOff {
		cfg.MountPort = vserver.Disabled
	}
	if rec.Config.PortmapPort == PortOff {
		cfg.PortmapPort = vserver.Disabled
	}
	for _, l := range rec.Config.Listeners {
		a, err := netip.ParseAddr(l.Addr)
		if err != nil {
			return cfg, fmt.Errorf("stored listener %q: %v", l.Addr, err)
		}
		cfg.Listeners = append(cfg.Listeners, vserver.Listener{Addr: a, Netns: l.Netns})
	}
	for _, e := range rec.Exports {
		ec := vserver.ExportConfig{ID: e.ID, Path: e.Path, Dir: e.Dir, ReadOnly: e.ReadOnly,
			AnonUID: e.AnonUID, AnonGID: e.AnonGID, Fault: faults[e.Path]}
		switch e.Squash {
		case SquashRoot:
			ec.Squash = export.RootSquash
		case SquashNone:
			ec.Squash = export.NoRootSquash
		case SquashAll:
			ec.Squash = export.AllSquash
		default:
			return cfg, fmt.Errorf("stored export %s: squash %q", e.Path, e.Squash)
		}
		for _, s := range e.Clients {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return cfg, fmt.Errorf("stored export %s: client %q: %v", e.Path, s, err)
			}
			ec.Clients = append(ec.Clients, p)
		}
		cfg.Exports = append(cfg.Exports, ec)
	}
	return cfg, nil
}

// domainIDMap builds the NFSv4 owner mapping of a normalized IDMapConfig.
func domainIDMap(m *IDMapConfig) (*fattr.DomainIDMap, error) {
	conv := func(t map[string]int64) (map[string]uint32, error) {
		out := make(map[string]uint32, len(t))
		for name, id := range t {
			if id < 0 || id > MaxIDMapID {
				return nil, fmt.Errorf("%q has id %d", name, id)
			}
			out[name] = uint32(id)
		}
		return out, nil
	}
	users, err := conv(m.Users)
	if err != nil {
		return nil, err
	}
	groups, err := conv(m.Groups)
	if err != nil {
		return nil, err
	}
	return fattr.NewDomainIDMap(m.Domain, users, groups)
}

// stop shuts a running instance down and closes its queue.
func (c *Control) stop(in *instance) {
	if in.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.stopWait)
	defer cancel()
	if err := in.srv.Shutdown(ctx); err != nil {
		c.log.Warn("vserver shutdown", "ns", in.path, "ns_uuid", in.uuid, "err", err)
	}
	in.q.Close()
	c.log.Info("vserver stopped", "ns", in.path, "ns_uuid", in.uuid, "pool_size", c.pool.Size())
}

// stopAll stops every instance.
func (c *Control) stopAll() error {
	c.rmu.Lock()
	all := slices.Collect(maps.Values(c.inst))
	c.inst = map[string]*instance{}
	c.rmu.Unlock()
	c.stopMany(all)
	return nil
}

// stopMany stops instances (no longer published) in parallel.
func (c *Control) stopMany(list []*instance) {
	var wg sync.WaitGroup
	for _, in := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop(in)
		}()
	}
	wg.Wait()
}

// removeState deletes the state directory of a namespace's server.
func (c *Control) removeState(uuid string) {
	if ns.ValidUUID(uuid) != nil {
		return
	}
	if err := os.RemoveAll(c.ServerStateDir(uuid)); err != nil {
		c.log.Error("removing a vserver's state", "ns_uuid", uuid, "err", err)
	}
}

// startAll runs at Open: it removes the state directories no server
// record owns (left by a crash between a delete's commit and the removal)
// and starts every server whose threads are above 0.
func (c *Control) startAll(ctx context.Context) error {
	type todo struct {
		uuid, path string
		rec        *serverRecord
	}
	var list []todo
	err := c.st.View(ctx, func(tx store.Tx) error {
		all, err := allServers(tx)
		if err != nil {
			return err
		}
		for uuid, rec := range all {
			n, err := c.tree.GetByUUIDTx(tx, uuid)
			if err != nil {
				return fmt.Errorf("server record of namespace %s: %w", uuid, err)
			}
			list = append(list, todo{uuid, n.Path, rec})
		}
		return nil
	})
	if err != nil {
		return err
	}
	owned := map[string]bool{}
	for _, t := range list {
		owned[t.uuid] = true
	}
	ents, err := os.ReadDir(filepath.Join(c.stateDir, VserversDirName))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if ns.ValidUUID(e.Name()) == nil && !owned[e.Name()] {
			c.log.Info("removing the state of a deleted vserver", "ns_uuid", e.Name())
			c.removeState(e.Name())
		}
	}
	slices.SortFunc(list, func(a, b todo) int {
		switch {
		case a.path < b.path:
			return -1
		case a.path > b.path:
			return 1
		}
		return 0
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range list {
		if t.rec.Config.Threads > 0 {
			c.reconcile(ctx, t.uuid, t.path, t.rec)
		}
	}
	return nil
}
