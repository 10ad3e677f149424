package control

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/store"
)

// normalizeExport checks an export to add, including that its directory
// exists, and returns it in canonical form (without an ID).
func normalizeExport(s ExportSpec) (Export, error) {
	e := Export{Path: s.Path, Dir: s.Dir, ReadOnly: s.ReadOnly, Squash: s.Squash, AnonUID: export.Nobody, AnonGID: export.Nobody, Clients: []string{}}
	if s.Path == "" {
		return e, invalidf("export: no path")
	}
	if !utf8.ValidString(s.Path) || strings.ContainsFunc(s.Path, isControl) {
		return e, invalidf("export path %s has invalid characters", quote(s.Path))
	}
	p, err := export.CleanPath(s.Path)
	if err != nil || p != s.Path {
		return e, invalidf("export path %s must be absolute and canonical (no empty, \".\" or \"..\" element, no trailing '/', at most 1024 bytes)", quote(s.Path))
	}
	if err := checkDir(s.Dir); err != nil {
		return e, err
	}
	switch s.Squash {
	case "":
		e.Squash = SquashRoot
	case SquashRoot, SquashNone, SquashAll:
	default:
		return e, invalidf("export squash %s: must be \"root\", \"none\" or \"all\"", quote(s.Squash))
	}
	for _, f := range []struct {
		name string
		v    *uint32
		dst  *uint32
	}{{"anon_uid", s.AnonUID, &e.AnonUID}, {"anon_gid", s.AnonGID, &e.AnonGID}} {
		if f.v == nil {
			continue
		}
		if *f.v == 0 {
			return e, invalidf("export %s 0 would give anonymous and squashed callers root's identity", f.name)
		}
		*f.dst = *f.v
	}
	if len(s.Clients) > MaxExportClients {
		return e, invalidf("export clients: %d given, at most %d", len(s.Clients), MaxExportClients)
	}
	for _, cl := range s.Clients {
		pfx, err := parseClient(cl)
		if err != nil {
			return e, err
		}
		if s := pfx.String(); !slices.Contains(e.Clients, s) {
			e.Clients = append(e.Clients, s)
		}
	}
	return e, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkDir checks that an export's directory is an existing absolute
// directory given in clean form.
func checkDir(dir string) error {
	if dir == "" {
		return invalidf("export: no dir")
	}
	if len(dir) > maxDirLen || !filepath.IsAbs(dir) || filepath.Clean(dir) != dir || strings.ContainsRune(dir, 0) {
		return invalidf("export dir %s must be an absolute, clean path", quote(dir))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return invalidf("export dir %s does not exist", quote(dir))
		}
		return invalidf("export dir %s: %v", quote(dir), err)
	}
	if !fi.IsDir() {
		return invalidf("export dir %s is not a directory", quote(dir))
	}
	return nil
}

// parseClient parses an allowed client: an address or a network in CIDR
// notation, returned as its masked prefix.
func parseClient(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return p, invalidf("export client %s is not an address or a network in CIDR notation", quote(s))
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return p, invalidf("export client %s: an IPv4-mapped network needs at least 96 bits", quote(s))
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, invalidf("export client %s is not an address or a network in CIDR notation", quote(s))
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ListExports returns the exports of the namespace's server.
func (c *Control) ListExports(ctx context.Context, sc ns.Scope, path string) ([]Export, error) {
	s, err := c.exportsOf(ctx, sc, path)
	return s, err
}

func (c *Control) exportsOf(ctx context.Context, sc ns.Scope, path string) ([]Export, error) {
	a, err := abs(sc, path)
	if err != nil {
		return nil, err
	}
	var rec *serverRecord
	err = c.st.View(ctx, func(tx store.Tx) error {
		n, err := c.tree.GetTx(tx, a)
		if err != nil {
			return err
		}
		rec, err = getServer(tx, n.UUID)
		return err
	})
	if err != nil {
		return nil, scoped(sc, err)
	}
	if rec == nil {
		return nil, errNoServer(path)
	}
	return cloneExports(rec.Exports), nil
}

func cloneExports(in []Export) []Export {
	out := make([]Export, len(in))
	for i, e := range in {
		e.Clients = slices.Clone(e.Clients)
		out[i] = e
	}
	return out
}

// AddExport adds an export to the namespace's server and returns it with
// its new ID. A running server serves it at once.
func (c *Control) AddExport(ctx context.Context, sc ns.Scope, path string, spec ExportSpec) (Export, error) {
	e, err := normalizeExport(spec)
	if err != nil {
		return Export{}, err
	}
	_, _, err = c.changeServer(ctx, sc, path, func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error) {
		if cur == nil {
			return nil, notFoundf("namespace %s has no server (configure one with PUT /v1/server first)", quote(path))
		}
		r, err := addExport(cur, e)
		if err != nil {
			return nil, err
		}
		e = r.Exports[len(r.Exports)-1]
		return r, nil
	})
	if err != nil {
		return Export{}, err
	}
	return e, nil
}

// addExport returns a copy of cur with e added under a new ID.
func addExport(cur *serverRecord, e Export) (*serverRecord, error) {
	for _, x := range cur.Exports {
		if x.Path == e.Path {
			return nil, conflictf("export path %s already exists (id %d)", quote(e.Path), x.ID)
		}
	}
	if len(cur.Exports) >= MaxExports {
		return nil, invalidf("the server has %d exports, the most allowed", MaxExports)
	}
	if cur.NextExportID == 0 || cur.NextExportID == math.MaxUint32 {
		return nil, invalidf("the server has used up its export IDs; delete and recreate it")
	}
	r := *cur
	e.ID = r.NextExportID
	r.NextExportID++
	r.Exports = append(cloneExports(cur.Exports), e)
	return &r, nil
}

// RemoveExport removes the export with the given path from the
// namespace's server. Its ID is never given to another export.
func (c *Control) RemoveExport(ctx context.Context, sc ns.Scope, path, exportPath string) error {
	if p, err := export.CleanPath(exportPath); err != nil || p != exportPath {
		return invalidf("export path %s must be absolute and canonical", quote(exportPath))
	}
	_, _, err := c.changeServer(ctx, sc, path, func(tx store.Tx, n ns.Namespace, cur *serverRecord) (*serverRecord, error) {
		if cur == nil {
			return nil, errNoServer(path)
		}
		i := slices.IndexFunc(cur.Exports, func(e Export) bool { return e.Path == exportPath })
		if i < 0 {
			return nil, notFoundf("the server of %s has no export %s", quote(path), quote(exportPath))
		}
		r := *cur
		r.Exports = slices.Delete(cloneExports(cur.Exports), i, i+1)
		return &r, nil
	})
	return err
}
