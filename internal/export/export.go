// Package export holds a server's export table: which backend directory is
// exported under which path, to whom, and with which options.
//
// A Table is immutable once built; a server swaps in a new one atomically
// when the configuration changes, so lookups on the request path take no
// lock.
package export

import (
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

// Nobody is the default anonymous uid and gid (as in Linux exports(5)).
const Nobody = 65534

// Squash is the identity mapping of an export.
type Squash int

const (
	// RootSquash maps uid 0 and gid 0 to the anonymous ids (the default).
	RootSquash Squash = iota
	// NoRootSquash passes every identity through.
	NoRootSquash
	// AllSquash maps every identity to the anonymous ids.
	AllSquash
)

// Export is one exported directory.
type Export struct {
	// ID is carried in file handles; it must be unique within a server
	// and never reused for another directory.
	ID uint32
	// Path is the export path clients mount, such as "/export".
	Path string
	// FS serves the exported directory.
	FS vfs.FS
	// ReadOnly refuses every modification with ROFS.
	ReadOnly bool
	Squash   Squash
	AnonUID  uint32
	AnonGID  uint32
	// Clients lists the networks allowed to use the export; empty means all.
	Clients []netip.Prefix
}

// Allowed reports whether a client at addr may use the export.
func (e *Export) Allowed(addr netip.Addr) bool {
	if len(e.Clients) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range e.Clients {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Cred returns the identity a call runs as on this export, after squashing.
// A call with AUTH_NONE runs as the anonymous identity.
func (e *Export) Cred(call *oncrpc.Call) vfs.Cred {
	anon := vfs.Cred{UID: e.AnonUID, GID: e.AnonGID}
	if call.Sys == nil || e.Squash == AllSquash {
		return anon
	}
	c := vfs.Cred{UID: call.Sys.UID, GID: call.Sys.GID, Groups: call.Sys.GIDs}
	if e.Squash == RootSquash {
		if c.UID == 0 {
			c.UID = e.AnonUID
		}
		if c.GID == 0 {
			c.GID = e.AnonGID
		}
		for i, g := range c.Groups {
			if g == 0 {
				// Copy before changing: the groups belong to the call.
				c.Groups = append([]uint32(nil), c.Groups...)
				for j := i; j < len(c.Groups); j++ {
					if c.Groups[j] == 0 {
						c.Groups[j] = e.AnonGID
					}
				}
				break
			}
		}
	}
	return c
}

// Table is an immutable set of exports.
type Table struct {
	byID   map[uint32]*Export
	byPath map[string]*Export
	list   []*Export
}

// NewTable checks exports and builds a table.
func NewTable(exports ...*Export) (*Table, error) {
	t := &Table{byID: map[uint32]*Export{}, byPath: map[string]*Export{}}
	for _, e := range exports {
		p, err := CleanPath(e.Path)
		if err != nil {
			return nil, err
		}
		e.Path = p
		if e.FS == nil {
			return nil, fmt.Errorf("export %s: no backend", p)
		}
		if _, dup := t.byID[e.ID]; dup {
			return nil, fmt.Errorf("export %s: id %d already used", p, e.ID)
		}
		if _, dup := t.byPath[p]; dup {
			return nil, fmt.Errorf("export %s: path already exported", p)
		}
		t.byID[e.ID] = e
		t.byPath[p] = e
		t.list = append(t.list, e)
	}
	return t, nil
}

// CleanPath checks an export path and returns its canonical form: absolute,
// no empty, "." or ".." components, no trailing slash, at most 1024 bytes.
func CleanPath(p string) (string, error) {
	if len(p) == 0 || len(p) > 1024 || p[0] != '/' {
		return "", fmt.Errorf("export path %q: must be absolute and at most 1024 bytes", p)
	}
	for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
		if c == "." || c == ".." || strings.ContainsRune(c, 0) {
			return "", fmt.Errorf("export path %q: invalid component %q", p, c)
		}
	}
	return path.Clean(p), nil
}

// ByID returns the export with the given id, or nil.
func (t *Table) ByID(id uint32) *Export {
	if t == nil {
		return nil
	}
	return t.byID[id]
}

// ByPath returns the export with the given path (cleaned), or nil.
func (t *Table) ByPath(p string) *Export {
	if t == nil {
		return nil
	}
	c, err := CleanPath(p)
	if err != nil {
		return nil
	}
	return t.byPath[c]
}

// List returns the exports in the order they were given.
func (t *Table) List() []*Export {
	if t == nil {
		return nil
	}
	return t.list
}
