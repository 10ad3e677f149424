package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/store"
	"github.com/vnfsd/vnfsd/internal/vserver"
)

// Seed is configuration applied at every Open, before servers start: the
// embedded default of cmd/vnfsd (namespace /default, configured by its
// command-line flags). The namespace is created, with its parents, if
// missing; the server gets Patch applied on top of its stored
// configuration (of the defaults if it has none); each export of Exports
// is added, or updated in place if the server has one with the same path
// and directory (so its ID, and clients' handles, stay).
type Seed struct {
	// Namespace is an absolute path such as "/default".
	Namespace string
	Patch     ServerPatch
	Exports   []ExportSpec
	// Faults maps export paths to fault injection specs (package
	// faultfs; testing only). They are never stored.
	Faults map[string]string
	// LegacyKeyFile, if set and the file exists, is moved into the
	// server's state directory as its handle key when that has none: the
	// data directory layout before namespaces kept the key of the single
	// server there, and moving it keeps clients' handles valid.
	LegacyKeyFile string
}

func (c *Control) applySeed(ctx context.Context, s Seed) error {
	if err := ns.ValidPath(s.Namespace); err != nil {
		return err
	}
	if s.Namespace == "/" {
		return fmt.Errorf("the root namespace cannot have a server")
	}
	for i := 1; i <= len(s.Namespace); i++ {
		if i == len(s.Namespace) || s.Namespace[i] == '/' {
			if _, err := c.tree.Create(ctx, s.Namespace[:i]); err != nil && !errors.Is(err, ns.ErrExists) {
				return err
			}
		}
	}
	if s.Patch.Listeners != nil {
		cfg, err := ServerPatch{Listeners: s.Patch.Listeners}.apply(DefaultServerConfig()).normalize()
		if err != nil {
			return err
		}
		if err := checkNetnses(cfg.Listeners); err != nil {
			return err
		}
	}
	exps := make([]Export, 0, len(s.Exports))
	for _, spec := range s.Exports {
		e, err := normalizeExport(spec)
		if err != nil {
			return err
		}
		exps = append(exps, e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var n ns.Namespace
	var created bool
	err := c.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if n, err = c.tree.GetTx(tx, s.Namespace); err != nil {
			return err
		}
		cur, err := getServer(tx, n.UUID)
		if err != nil {
			return err
		}
		rec := newServerRecord()
		if cur != nil {
			r := *cur
			r.Exports = cloneExports(cur.Exports)
			rec = &r
		}
		created = cur == nil
		if rec.Config, err = s.Patch.apply(rec.Config.clone()).normalize(); err != nil {
			return err
		}
		for _, e := range exps {
			i := slices.IndexFunc(rec.Exports, func(x Export) bool { return x.Path == e.Path })
			if i >= 0 && rec.Exports[i].Dir == e.Dir {
				e.ID = rec.Exports[i].ID
				rec.Exports[i] = e
				continue
			}
			if i >= 0 {
				// Another directory: it gets a new ID, so that handles of
				// the old one cannot reach it.
				rec.Exports = slices.Delete(rec.Exports, i, i+1)
			}
			if rec, err = addExport(rec, e); err != nil {
				return err
			}
		}
		if err := c.checkConflicts(tx, ns.Scope{}, n.UUID, rec.Config); err != nil {
			// The flags win: the server will report the failure to
			// listen if the other one really holds the address.
			c.log.Warn("seeded server conflicts with another", "ns", s.Namespace, "err", err)
		}
		return putServer(tx, n.UUID, rec)
	})
	if err != nil {
		return err
	}
	if created {
		c.removeState(n.UUID)
	}
	if s.LegacyKeyFile != "" {
		if err := c.migrateKey(s.LegacyKeyFile, n.UUID); err != nil {
			return err
		}
	}
	if len(s.Faults) > 0 {
		c.faults[n.UUID] = s.Faults
	} else {
		delete(c.faults, n.UUID)
	}
	return nil
}

// migrateKey moves a handle key of the old layout into a server's state
// directory if that has none.
func (c *Control) migrateKey(legacy, uuid string) error {
	if _, err := os.Stat(legacy); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	dir := c.ServerStateDir(uuid)
	dst := filepath.Join(dir, vserver.KeyFile)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Rename(legacy, dst); err != nil {
		return fmt.Errorf("moving the handle key %s to %s: %w", legacy, dst, err)
	}
	c.log.Info("moved the handle key into the server's state directory", "from", legacy, "to", dst, "ns_uuid", uuid)
	return nil
}
