package control

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/store"
)

// Namespace is a namespace as a scoped caller sees it.
type Namespace struct {
	UUID string `json:"uuid"`
	// Name is empty for the caller's scope root.
	Name string `json:"name"`
	// Path is relative to the caller's scope.
	Path string `json:"path"`
	// ParentUUID is empty for the caller's scope root.
	ParentUUID string    `json:"parent_uuid"`
	Created    time.Time `json:"created"`
}

// view returns n as seen inside sc; false if n is outside.
func view(sc ns.Scope, n ns.Namespace) (Namespace, bool) {
	s, ok := sc.Namespace(n)
	if !ok {
		return Namespace{}, false
	}
	out := Namespace{UUID: s.UUID, Name: s.Name, Path: s.Path, ParentUUID: s.Parent, Created: s.Created}
	if s.Path == "/" {
		out.Name = ""
	}
	return out, true
}

func views(sc ns.Scope, list []ns.Namespace) []Namespace {
	out := make([]Namespace, 0, len(list))
	for _, n := range list {
		if v, ok := view(sc, n); ok {
			out = append(out, v)
		}
	}
	return out
}

// abs maps a scoped path to the tree's.
func abs(sc ns.Scope, rel string) (string, error) {
	a, err := sc.Abs(rel)
	return a, scoped(sc, err)
}

// ListNamespaces returns the children of the namespace at path (with
// recursive, its whole subtree, a namespace before its children).
func (c *Control) ListNamespaces(ctx context.Context, sc ns.Scope, path string, recursive bool) ([]Namespace, error) {
	a, err := abs(sc, path)
	if err != nil {
		return nil, err
	}
	list, err := c.tree.List(ctx, a, recursive)
	if err != nil {
		return nil, scoped(sc, err)
	}
	return views(sc, list), nil
}

// GetNamespace returns the namespace at path.
func (c *Control) GetNamespace(ctx context.Context, sc ns.Scope, path string) (Namespace, error) {
	a, err := abs(sc, path)
	if err != nil {
		return Namespace{}, err
	}
	n, err := c.tree.Get(ctx, a)
	if err != nil {
		return Namespace{}, scoped(sc, err)
	}
	v, _ := view(sc, n)
	return v, nil
}

// CreateNamespace creates the namespace at path; its parent must exist.
func (c *Control) CreateNamespace(ctx context.Context, sc ns.Scope, path string) (Namespace, error) {
	a, err := abs(sc, path)
	if err != nil {
		return Namespace{}, err
	}
	if path == "/" {
		return Namespace{}, conflictf("namespace \"/\" already exists")
	}
	n, err := c.tree.Create(ctx, a)
	if err != nil {
		if errors.Is(err, ns.ErrNotFound) {
			parent := path[:strings.LastIndexByte(path, '/')]
			if parent == "" {
				parent = "/"
			}
			return Namespace{}, notFoundf("parent namespace %s of %s does not exist", quote(parent), quote(path))
		}
		if errors.Is(err, ns.ErrExists) {
			return Namespace{}, conflictf("namespace %s already exists", quote(path))
		}
		return Namespace{}, scoped(sc, err)
	}
	v, _ := view(sc, n)
	return v, nil
}

// RenameNamespace gives the namespace at path a new name; its UUID and
// its subtree's stay, and their servers keep running.
func (c *Control) RenameNamespace(ctx context.Context, sc ns.Scope, path, name string) (Namespace, error) {
	a, err := abs(sc, path)
	if err != nil {
		return Namespace{}, err
	}
	if path == "/" {
		return Namespace{}, invalidf("the scope's root \"/\" cannot be renamed")
	}
	if err := ns.ValidName(name); err != nil {
		return Namespace{}, scoped(sc, err)
	}
	n, err := c.tree.Rename(ctx, a, name)
	if err != nil {
		if errors.Is(err, ns.ErrExists) {
			parent := path[:strings.LastIndexByte(path, '/')]
			return Namespace{}, conflictf("namespace %s already exists", quote(parent+"/"+name))
		}
		return Namespace{}, scoped(sc, err)
	}
	v, _ := view(sc, n)
	return v, nil
}

// MoveNamespace makes the namespace at path a child of the namespace at
// parent, with its subtree; UUIDs stay and servers keep running. Moving a
// namespace below itself is a conflict.
func (c *Control) MoveNamespace(ctx context.Context, sc ns.Scope, path, parent string) (Namespace, error) {
	a, err := abs(sc, path)
	if err != nil {
		return Namespace{}, err
	}
	pa, err := abs(sc, parent)
	if err != nil {
		return Namespace{}, err
	}
	if path == "/" {
		return Namespace{}, invalidf("the scope's root \"/\" cannot be moved")
	}
	// Both are canonical paths: the new parent is in the subtree exactly
	// when its path extends the namespace's.
	if pa == a || strings.HasPrefix(pa, a+"/") {
		return Namespace{}, conflictf("cannot move %s below itself (%s): that would create a cycle", quote(path), quote(parent))
	}
	n, err := c.tree.Move(ctx, a, pa)
	if err != nil {
		switch {
		case errors.Is(err, ns.ErrNotFound):
			if _, gerr := c.tree.Get(ctx, a); errors.Is(gerr, ns.ErrNotFound) {
				return Namespace{}, notFoundf("namespace %s not found", quote(path))
			}
			return Namespace{}, notFoundf("new parent namespace %s not found", quote(parent))
		case errors.Is(err, ns.ErrExists):
			return Namespace{}, conflictf("namespace %s already has a child named %s", quote(parent), quote(path[strings.LastIndexByte(path, '/')+1:]))
		}
		return Namespace{}, scoped(sc, err)
	}
	v, _ := view(sc, n)
	return v, nil
}

// DeleteNamespace deletes the namespace at path with its subtree, in one
// transaction with their servers' records and their tokens; then it stops
// their servers and removes their state. It returns the deleted
// namespaces, deepest first.
func (c *Control) DeleteNamespace(ctx context.Context, sc ns.Scope, path string) ([]Namespace, error) {
	a, err := abs(sc, path)
	if err != nil {
		return nil, err
	}
	if path == "/" {
		return nil, invalidf("the scope's root \"/\" cannot be deleted")
	}
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	deleted, err := c.tree.Delete(ctx, a, func(tx store.Tx, n ns.Namespace) error {
		return deleteNamespaceRecords(tx, n.UUID)
	})
	if err != nil {
		return nil, scoped(sc, err)
	}
	var stop []*instance
	for _, n := range deleted {
		if in := c.getInst(n.UUID); in != nil {
			c.setInst(n.UUID, nil)
			stop = append(stop, in)
		}
		delete(c.faults, n.UUID)
	}
	c.stopMany(stop)
	for _, n := range deleted {
		c.removeState(n.UUID)
	}
	return views(sc, deleted), nil
}
