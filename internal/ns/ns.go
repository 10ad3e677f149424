// Package ns is the namespace tree of vnfsd: nodes such as /acme/prod, each
// with a stable random UUID, a name that can change and a parent, kept in a
// store.Store.
//
// Records (all in the store, JSON values):
//
//	/ns/root                           -> UUID of the root "/"
//	/ns/by-uuid/<uuid>                 -> {"v":1,"uuid","name","parent","created"}
//	/ns/children/<parentuuid>/<name>   -> <uuid>
//
// A namespace is identified by its UUID everywhere else in the control
// plane (vservers, shares), so renaming or moving one rewrites O(1)
// records: its own record and its entry in the name index. Paths are
// computed by walking parents and are never stored.
//
// Every operation is one store transaction; the Tree itself holds no state
// beyond the root's UUID, so any number of goroutines (and Trees on the
// same store) may use it at once.
package ns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vnfsd/vnfsd/internal/store"
)

// Errors, wrapped with details; an API maps them to 404, 409 and 400.
var (
	ErrNotFound = errors.New("namespace not found")
	ErrExists   = errors.New("namespace already exists")
	ErrInvalid  = errors.New("invalid namespace argument")
)

// Store keys.
const (
	KeyRoot        = "/ns/root"
	PrefixByUUID   = "/ns/by-uuid/"
	PrefixChildren = "/ns/children/"
)

// Namespace is one node of the tree.
type Namespace struct {
	UUID string
	// Name is the last element of Path; "" for the root.
	Name string
	// Parent is the parent's UUID; "" for the root.
	Parent string
	// Path is computed from the tree when the namespace is read.
	Path    string
	Created time.Time
}

// record is the stored form of a namespace.
type record struct {
	V       int       `json:"v"`
	UUID    string    `json:"uuid"`
	Name    string    `json:"name"`
	Parent  string    `json:"parent,omitempty"`
	Created time.Time `json:"created"`
}

const recordVersion = 1

// Tree is the namespace tree on a store.
type Tree struct {
	s    store.Store
	root string // UUID of the root; never changes once created
}

// NewTree returns the tree kept in s, creating the root "/" on first use.
func NewTree(s store.Store) (*Tree, error) {
	return NewTreeContext(context.Background(), s)
}

// NewTreeContext is NewTree with a context.
func NewTreeContext(ctx context.Context, s store.Store) (*Tree, error) {
	t := &Tree{s: s}
	err := s.Update(ctx, func(tx store.Tx) error {
		kv, ok, err := tx.Get(KeyRoot)
		if err != nil {
			return err
		}
		if ok {
			u := string(kv.Value)
			if err := ValidUUID(u); err != nil {
				return fmt.Errorf("ns: corrupt root key: %v", err)
			}
			r, err := t.load(tx, u)
			if err != nil {
				return err
			}
			if r.Parent != "" || r.Name != "" {
				return fmt.Errorf("ns: corrupt root record %s", u)
			}
			t.root = u
			return nil
		}
		u := newUUID()
		if err := putRecord(tx, record{UUID: u, Created: now()}); err != nil {
			return err
		}
		t.root = u
		return tx.Put(KeyRoot, []byte(u))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func now() time.Time { return time.Now().UTC() }

// Store returns the store the tree lives in.
func (t *Tree) Store() store.Store { return t.s }

// RootUUID returns the UUID of "/".
func (t *Tree) RootUUID() string { return t.root }

func childKey(parent, name string) string { return PrefixChildren + parent + "/" + name }
func childPrefix(parent string) string    { return PrefixChildren + parent + "/" }

func putRecord(tx store.Tx, r record) error {
	r.V = recordVersion
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Put(PrefixByUUID+r.UUID, b)
}

// load reads a record; ErrNotFound if absent.
func (t *Tree) load(tx store.Tx, u string) (record, error) {
	kv, ok, err := tx.Get(PrefixByUUID + u)
	if err != nil {
		return record{}, err
	}
	if !ok {
		return record{}, fmt.Errorf("%w: UUID %s", ErrNotFound, u)
	}
	var r record
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return record{}, fmt.Errorf("ns: corrupt record %s: %v", u, err)
	}
	if r.V != recordVersion {
		return record{}, fmt.Errorf("ns: record %s has version %d, this version reads %d", u, r.V, recordVersion)
	}
	if r.UUID != u {
		return record{}, fmt.Errorf("ns: corrupt record %s: holds UUID %q", u, r.UUID)
	}
	if r.Parent != "" || r.Name != "" {
		if ValidName(r.Name) != nil || ValidUUID(r.Parent) != nil {
			return record{}, fmt.Errorf("ns: corrupt record %s: name %q, parent %q", u, r.Name, r.Parent)
		}
	}
	return r, nil
}

func (r record) ns(path string) Namespace {
	return Namespace{UUID: r.UUID, Name: r.Name, Parent: r.Parent, Path: path, Created: r.Created}
}

// resolve walks a path from the root.
func (t *Tree) resolve(tx store.Tx, path string) (Namespace, error) {
	names, err := splitPath(path)
	if err != nil {
		return Namespace{}, err
	}
	r, err := t.load(tx, t.root)
	if err != nil {
		return Namespace{}, fmt.Errorf("ns: root: %w", err)
	}
	cur := "/"
	for _, name := range names {
		kv, ok, err := tx.Get(childKey(r.UUID, name))
		if err != nil {
			return Namespace{}, err
		}
		cur = join(cur, name)
		if !ok {
			return Namespace{}, fmt.Errorf("%w: %s", ErrNotFound, quote(cur))
		}
		child, err := t.load(tx, string(kv.Value))
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return Namespace{}, fmt.Errorf("ns: index entry %s points to missing record %s", cur, kv.Value)
			}
			return Namespace{}, err
		}
		if child.Parent != r.UUID || child.Name != name {
			return Namespace{}, fmt.Errorf("ns: index entry %s points to %s, whose record says parent %s name %q", cur, child.UUID, child.Parent, child.Name)
		}
		r = child
	}
	return r.ns(cur), nil
}

// byUUID reads a namespace and computes its path by walking to the root.
func (t *Tree) byUUID(tx store.Tx, u string) (Namespace, error) {
	if err := ValidUUID(u); err != nil {
		return Namespace{}, err
	}
	r, err := t.load(tx, u)
	if err != nil {
		return Namespace{}, err
	}
	if r.Parent == "" && r.UUID != t.root {
		return Namespace{}, fmt.Errorf("ns: namespace %s has no parent but is not the root", u)
	}
	var names []string
	for a := r; a.Parent != ""; {
		if len(names) == MaxDepth {
			return Namespace{}, fmt.Errorf("ns: namespace %s is more than %d levels deep (cycle?)", u, MaxDepth)
		}
		names = append(names, a.Name)
		if a, err = t.load(tx, a.Parent); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Namespace{}, fmt.Errorf("ns: namespace %s has a missing ancestor: %v", u, err)
			}
			return Namespace{}, err
		}
		if a.Parent == "" && a.UUID != t.root {
			return Namespace{}, fmt.Errorf("ns: namespace %s descends from %s, which is not the root", u, a.UUID)
		}
	}
	path := "/"
	for i := len(names) - 1; i >= 0; i-- {
		path = join(path, names[i])
	}
	return r.ns(path), nil
}

// GetTx resolves a path inside a transaction of the tree's store, for
// services that keep their records in the same transaction.
func (t *Tree) GetTx(tx store.Tx, path string) (Namespace, error) { return t.resolve(tx, path) }

// GetByUUIDTx reads a namespace by UUID inside a transaction.
func (t *Tree) GetByUUIDTx(tx store.Tx, u string) (Namespace, error) { return t.byUUID(tx, u) }

// Get returns the namespace at path.
func (t *Tree) Get(ctx context.Context, path string) (n Namespace, err error) {
	err = t.s.View(ctx, func(tx store.Tx) error {
		n, err = t.resolve(tx, path)
		return err
	})
	return n, err
}

// GetByUUID returns the namespace with the given UUID.
func (t *Tree) GetByUUID(ctx context.Context, u string) (n Namespace, err error) {
	err = t.s.View(ctx, func(tx store.Tx) error {
		n, err = t.byUUID(tx, u)
		return err
	})
	return n, err
}

// Create creates the namespace at path; its parent must exist.
func (t *Tree) Create(ctx context.Context, path string) (n Namespace, err error) {
	if err := ValidPath(path); err != nil {
		return Namespace{}, err
	}
	if path == "/" {
		return Namespace{}, fmt.Errorf("%w: \"/\" (the root always exists)", ErrExists)
	}
	parentPath, name := splitParent(path)
	err = t.s.Update(ctx, func(tx store.Tx) error {
		parent, err := t.resolve(tx, parentPath)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("parent of %s: %w", quote(path), err)
			}
			return err
		}
		if _, ok, err := tx.Get(childKey(parent.UUID, name)); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("%w: %s", ErrExists, quote(path))
			}
			return err
		}
		u := newUUID()
		for {
			// 122 random bits make a collision practically impossible;
			// checking costs one read and makes it certain.
			if _, ok, err := tx.Get(PrefixByUUID + u); err != nil || !ok {
				if err != nil {
					return err
				}
				break
			}
			u = newUUID()
		}
		r := record{UUID: u, Name: name, Parent: parent.UUID, Created: now()}
		if err := putRecord(tx, r); err != nil {
			return err
		}
		if err := tx.Put(childKey(parent.UUID, name), []byte(u)); err != nil {
			return err
		}
		n = r.ns(path)
		return nil
	})
	return n, err
}

// children returns the direct children of a namespace, sorted by name.
func (t *Tree) children(tx store.Tx, parent Namespace) ([]Namespace, error) {
	kvs, err := tx.List(childPrefix(parent.UUID))
	if err != nil {
		return nil, err
	}
	out := make([]Namespace, 0, len(kvs))
	for _, kv := range kvs {
		name := kv.Key[len(childPrefix(parent.UUID)):]
		r, err := t.load(tx, string(kv.Value))
		if err != nil {
			return nil, fmt.Errorf("ns: child %q of %s: %w", name, parent.Path, err)
		}
		if r.Parent != parent.UUID || r.Name != name {
			return nil, fmt.Errorf("ns: index entry %q of %s points to %s, whose record says parent %s name %q", name, parent.Path, r.UUID, r.Parent, r.Name)
		}
		out = append(out, r.ns(join(parent.Path, name)))
	}
	return out, nil
}

// walk visits the descendants of n depth-first, siblings by name, calling
// pre before and post after a node's own descendants. depth is 1 for n's
// children.
func (t *Tree) walk(tx store.Tx, n Namespace, depth int, pre, post func(Namespace, int) error) error {
	kids, err := t.children(tx, n)
	if err != nil {
		return err
	}
	if depth > MaxDepth && len(kids) > 0 {
		return fmt.Errorf("ns: %s has children more than %d levels below (cycle?)", n.Path, MaxDepth)
	}
	for _, c := range kids {
		if pre != nil {
			if err := pre(c, depth); err != nil {
				return err
			}
		}
		if err := t.walk(tx, c, depth+1, pre, post); err != nil {
			return err
		}
		if post != nil {
			if err := post(c, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// List returns the children of the namespace at path (not the namespace
// itself), sorted by name; with recursive, every descendant, depth first
// (a namespace before its children, siblings by name).
func (t *Tree) List(ctx context.Context, path string, recursive bool) (out []Namespace, err error) {
	err = t.s.View(ctx, func(tx store.Tx) error {
		n, err := t.resolve(tx, path)
		if err != nil {
			return err
		}
		if !recursive {
			out, err = t.children(tx, n)
			return err
		}
		out = nil
		return t.walk(tx, n, 1, func(c Namespace, _ int) error {
			out = append(out, c)
			return nil
		}, nil)
	})
	return out, err
}

// extent returns how many levels the subtree below n has (0: no children)
// and the longest suffix its descendants add to n's path in bytes.
func (t *Tree) extent(tx store.Tx, n Namespace) (height, suffix int, err error) {
	err = t.walk(tx, n, 1, func(c Namespace, depth int) error {
		height = max(height, depth)
		suffix = max(suffix, len(c.Path)-len(n.Path))
		return nil
	}, nil)
	return height, suffix, err
}

// relocate checks that the subtree of n fits the limits once n's path
// becomes newPath at the given depth.
func (t *Tree) relocate(tx store.Tx, n Namespace, newPath string, newDepth int) error {
	height, suffix, err := t.extent(tx, n)
	if err != nil {
		return err
	}
	if newDepth+height > MaxDepth {
		return fmt.Errorf("%w: %s as %s would make a path %d levels deep (limit %d)", ErrInvalid, quote(n.Path), quote(newPath), newDepth+height, MaxDepth)
	}
	// MaxDepth names of MaxNameLen bytes make at most MaxPathLen bytes, so
	// this holds whenever the depth does; it guards a change of limits.
	if len(newPath)+suffix > MaxPathLen {
		return fmt.Errorf("%w: %s as %s would make a path %d bytes long (limit %d)", ErrInvalid, quote(n.Path), quote(newPath), len(newPath)+suffix, MaxPathLen)
	}
	return nil
}

// depth returns the number of names in a canonical path.
func depth(path string) int {
	if path == "/" {
		return 0
	}
	n := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			n++
		}
	}
	return n
}

// Rename gives the namespace at path a new name under the same parent. Its
// UUID, and those of its descendants, do not change.
func (t *Tree) Rename(ctx context.Context, path, newName string) (n Namespace, err error) {
	if err := ValidPath(path); err != nil {
		return Namespace{}, err
	}
	if err := ValidName(newName); err != nil {
		return Namespace{}, err
	}
	if path == "/" {
		return Namespace{}, fmt.Errorf("%w: the root cannot be renamed", ErrInvalid)
	}
	err = t.s.Update(ctx, func(tx store.Tx) error {
		cur, err := t.resolve(tx, path)
		if err != nil {
			return err
		}
		if cur.Name == newName {
			n = cur
			return nil
		}
		parentPath, _ := splitParent(path)
		newPath := join(parentPath, newName)
		if _, ok, err := tx.Get(childKey(cur.Parent, newName)); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("%w: %s", ErrExists, quote(newPath))
			}
			return err
		}
		if err := t.relocate(tx, cur, newPath, depth(newPath)); err != nil {
			return err
		}
		if _, err := tx.Delete(childKey(cur.Parent, cur.Name)); err != nil {
			return err
		}
		if err := tx.Put(childKey(cur.Parent, newName), []byte(cur.UUID)); err != nil {
			return err
		}
		r := record{UUID: cur.UUID, Name: newName, Parent: cur.Parent, Created: cur.Created}
		if err := putRecord(tx, r); err != nil {
			return err
		}
		n = r.ns(newPath)
		return nil
	})
	return n, err
}

// Move makes the namespace at path a child of the namespace at
// newParentPath, with its whole subtree; it keeps its name and every UUID.
// Moving a namespace below itself is refused with ErrInvalid.
func (t *Tree) Move(ctx context.Context, path, newParentPath string) (n Namespace, err error) {
	if err := ValidPath(path); err != nil {
		return Namespace{}, err
	}
	if err := ValidPath(newParentPath); err != nil {
		return Namespace{}, err
	}
	if path == "/" {
		return Namespace{}, fmt.Errorf("%w: the root cannot be moved", ErrInvalid)
	}
	err = t.s.Update(ctx, func(tx store.Tx) error {
		cur, err := t.resolve(tx, path)
		if err != nil {
			return err
		}
		parent, err := t.resolve(tx, newParentPath)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("new parent: %w", err)
			}
			return err
		}
		if parent.UUID == cur.Parent {
			n = cur
			return nil
		}
		// Paths come from the same snapshot: parent is below cur exactly
		// when its path extends cur's.
		if parent.UUID == cur.UUID || len(parent.Path) > len(cur.Path) && parent.Path[:len(cur.Path)+1] == cur.Path+"/" {
			return fmt.Errorf("%w: cannot move %s below itself (%s)", ErrInvalid, quote(path), quote(newParentPath))
		}
		newPath := join(parent.Path, cur.Name)
		if _, ok, err := tx.Get(childKey(parent.UUID, cur.Name)); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("%w: %s", ErrExists, quote(newPath))
			}
			return err
		}
		if err := t.relocate(tx, cur, newPath, depth(newPath)); err != nil {
			return err
		}
		if _, err := tx.Delete(childKey(cur.Parent, cur.Name)); err != nil {
			return err
		}
		if err := tx.Put(childKey(parent.UUID, cur.Name), []byte(cur.UUID)); err != nil {
			return err
		}
		r := record{UUID: cur.UUID, Name: cur.Name, Parent: parent.UUID, Created: cur.Created}
		if err := putRecord(tx, r); err != nil {
			return err
		}
		n = r.ns(newPath)
		return nil
	})
	return n, err
}

// Delete removes the namespace at path and its whole subtree in one
// transaction. fn (which may be nil) is called for every namespace of the
// subtree, children before their parent and siblings by name, in that
// transaction, so that other services delete their own records (vservers,
// shares, exports) atomically with the namespaces; when fn fails nothing is
// deleted and its error is returned (wrapped). Delete returns the removed
// namespaces in the order fn saw them.
func (t *Tree) Delete(ctx context.Context, path string, fn func(tx store.Tx, ns Namespace) error) (out []Namespace, err error) {
	if err := ValidPath(path); err != nil {
		return nil, err
	}
	if path == "/" {
		return nil, fmt.Errorf("%w: the root cannot be deleted", ErrInvalid)
	}
	err = t.s.Update(ctx, func(tx store.Tx) error {
		out = nil
		top, err := t.resolve(tx, path)
		if err != nil {
			return err
		}
		remove := func(n Namespace, _ int) error {
			if fn != nil {
				if err := fn(tx, n); err != nil {
					return fmt.Errorf("ns: delete %s: at %s: %w", quote(path), quote(n.Path), err)
				}
			}
			if _, err := tx.Delete(childKey(n.Parent, n.Name)); err != nil {
				return err
			}
			if _, err := tx.Delete(PrefixByUUID + n.UUID); err != nil {
				return err
			}
			out = append(out, n)
			return nil
		}
		if err := t.walk(tx, top, 1, nil, remove); err != nil {
			return err
		}
		return remove(top, 0)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Check verifies the tree's records: every record is reachable from the
// root through the name index with a matching parent and name, within the
// depth limit, and every index entry points to such a record. It reports
// the first inconsistency found (which no sequence of Tree operations can
// create; it exists for operators and tests).
func (t *Tree) Check(ctx context.Context) error {
	return t.s.View(ctx, func(tx store.Tx) error {
		root, err := t.resolve(tx, "/")
		if err != nil {
			return err
		}
		seen := map[string]bool{root.UUID: true}
		if err := t.walk(tx, root, 1, func(n Namespace, _ int) error {
			if seen[n.UUID] {
				return fmt.Errorf("ns: %s reached twice", n.UUID)
			}
			seen[n.UUID] = true
			return ValidPath(n.Path)
		}, nil); err != nil {
			return err
		}
		recs, err := tx.List(PrefixByUUID)
		if err != nil {
			return err
		}
		for _, kv := range recs {
			if u := kv.Key[len(PrefixByUUID):]; !seen[u] {
				return fmt.Errorf("ns: record %s is not reachable from the root", u)
			}
		}
		if len(recs) != len(seen) {
			return fmt.Errorf("ns: %d records, %d reachable", len(recs), len(seen))
		}
		idx, err := tx.List(PrefixChildren)
		if err != nil {
			return err
		}
		if len(idx) != len(seen)-1 {
			return fmt.Errorf("ns: %d index entries for %d namespaces below the root", len(idx), len(seen)-1)
		}
		return nil
	})
}
