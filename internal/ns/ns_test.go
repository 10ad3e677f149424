package ns

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vnfsd/vnfsd/internal/store"
)

var bg = context.Background()

// forEachStore runs f on a tree over each store implementation.
func forEachStore(t *testing.T, f func(t *testing.T, tr *Tree)) {
	t.Run("memory", func(t *testing.T) {
		s := store.NewMemory()
		t.Cleanup(func() { s.Close() })
		f(t, newTree(t, s))
	})
	t.Run("bolt", func(t *testing.T) {
		s, err := store.OpenBolt(filepath.Join(t.TempDir(), "ns.db"), store.BoltOptions{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, newTree(t, s))
	})
}

func newTree(t *testing.T, s store.Store) *Tree {
	t.Helper()
	tr, err := NewTree(s)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustCreate(t *testing.T, tr *Tree, paths ...string) map[string]Namespace {
	t.Helper()
	out := map[string]Namespace{}
	for _, p := range paths {
		n, err := tr.Create(bg, p)
		if err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
		out[p] = n
	}
	return out
}

func mustGet(t *testing.T, tr *Tree, path string) Namespace {
	t.Helper()
	n, err := tr.Get(bg, path)
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	return n
}

func paths(ns []Namespace) string {
	var p []string
	for _, n := range ns {
		p = append(p, n.Path)
	}
	return strings.Join(p, " ")
}

func mustCheck(t *testing.T, tr *Tree) {
	t.Helper()
	if err := tr.Check(bg); err != nil {
		t.Fatalf("check: %v", err)
	}
}

func TestCreateGetList(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		root := mustGet(t, tr, "/")
		if root.UUID != tr.RootUUID() || root.Path != "/" || root.Parent != "" || root.Name != "" || ValidUUID(root.UUID) != nil {
			t.Fatalf("root %+v", root)
		}
		c := mustCreate(t, tr, "/acme", "/acme/prod", "/acme/dev", "/beta", "/acme/prod/ci")
		seen := map[string]bool{root.UUID: true}
		for p, n := range c {
			if seen[n.UUID] {
				t.Fatalf("UUID %s reused", n.UUID)
			}
			seen[n.UUID] = true
			if n.UUID[14] != '4' || !strings.ContainsRune("89ab", rune(n.UUID[19])) {
				t.Fatalf("%s: %s is not a version 4 UUID", p, n.UUID)
			}
			g := mustGet(t, tr, p)
			if g != n || g.Path != p {
				t.Fatalf("get %s = %+v, create returned %+v", p, g, n)
			}
			u, err := tr.GetByUUID(bg, n.UUID)
			if err != nil || u != n {
				t.Fatalf("by UUID %s = %+v %v, want %+v", n.UUID, u, err, n)
			}
			if n.Created.IsZero() {
				t.Fatalf("%s has no creation time", p)
			}
		}
		if c["/acme/prod"].Parent != c["/acme"].UUID || c["/acme"].Parent != root.UUID || c["/acme/prod"].Name != "prod" {
			t.Fatalf("parents: %+v", c)
		}
		for _, tc := range []struct {
			path      string
			recursive bool
			want      string
		}{
			{"/", false, "/acme /beta"},
			{"/", true, "/acme /acme/dev /acme/prod /acme/prod/ci /beta"},
			{"/acme", false, "/acme/dev /acme/prod"},
			{"/acme", true, "/acme/dev /acme/prod /acme/prod/ci"},
			{"/acme/prod/ci", true, ""},
		} {
			l, err := tr.List(bg, tc.path, tc.recursive)
			if err != nil || paths(l) != tc.want {
				t.Errorf("List(%s, %v) = %q %v, want %q", tc.path, tc.recursive, paths(l), err, tc.want)
			}
		}
		for _, tc := range []struct {
			name string
			err  error
			f    func() error
		}{
			{"create existing", ErrExists, func() error { _, err := tr.Create(bg, "/acme/prod"); return err }},
			{"create root", ErrExists, func() error { _, err := tr.Create(bg, "/"); return err }},
			{"create without parent", ErrNotFound, func() error { _, err := tr.Create(bg, "/nope/x"); return err }},
			{"get missing", ErrNotFound, func() error { _, err := tr.Get(bg, "/acme/nope"); return err }},
			{"get below missing", ErrNotFound, func() error { _, err := tr.Get(bg, "/nope/x/y"); return err }},
			{"list missing", ErrNotFound, func() error { _, err := tr.List(bg, "/nope", true); return err }},
			{"unknown UUID", ErrNotFound, func() error { _, err := tr.GetByUUID(bg, newUUID()); return err }},
			{"bad UUID", ErrInvalid, func() error { _, err := tr.GetByUUID(bg, "../children/x"); return err }},
			{"uppercase UUID", ErrInvalid, func() error { _, err := tr.GetByUUID(bg, strings.ToUpper(root.UUID)); return err }},
		} {
			if err := tc.f(); !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
		}
		if _, err := tr.Get(bg, "/acme/nope/x"); err == nil || !strings.Contains(err.Error(), `"/acme/nope"`) {
			t.Errorf("not-found error does not name the missing level: %v", err)
		}
		mustCheck(t, tr)
	})
}

func TestRootStable(t *testing.T) {
	s := store.NewMemory()
	defer s.Close()
	a := newTree(t, s)
	b := newTree(t, s)
	if a.RootUUID() != b.RootUUID() || a.RootUUID() == "" {
		t.Fatalf("root UUIDs %q %q", a.RootUUID(), b.RootUUID())
	}
	// Concurrent first use of an empty store agrees on one root.
	s2 := store.NewMemory()
	defer s2.Close()
	var wg sync.WaitGroup
	roots := make([]string, 8)
	for i := range roots {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tr, err := NewTree(s2)
			if err != nil {
				t.Error(err)
				return
			}
			roots[i] = tr.RootUUID()
		}(i)
	}
	wg.Wait()
	for _, r := range roots {
		if r != roots[0] {
			t.Fatalf("roots differ: %q", roots)
		}
	}
}

func TestInvalid(t *testing.T) {
	long := strings.Repeat("a", 63)
	deep16 := strings.Repeat("/a", 16)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"0", true}, {"a-b", true}, {"x9-y", true}, {long, true}, {"a--b", true},
		{"", false}, {"A", false}, {"aB", false}, {"a_b", false}, {"-a", false}, {"a-", false},
		{"-", false}, {long + "a", false}, {"a.b", false}, {".", false}, {"..", false},
		{"é", false}, {"a b", false}, {"a/b", false}, {"a\x00", false},
	} {
		if err := ValidName(tc.name); (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/", true}, {"/a", true}, {"/a/b-c/0", true}, {deep16, true},
		{"/" + strings.Repeat(long+"/", 15) + long, true}, // 1024 bytes
		{"", false}, {"a", false}, {"a/b", false}, {"/a/", false}, {"//", false}, {"//a", false},
		{"/a//b", false}, {"/a/../b", false}, {"/./a", false}, {"/..", false}, {"/A", false},
		{deep16 + "/a", false}, {"/" + strings.Repeat("a", 1024), false}, {"/a\n", false},
	} {
		if err := ValidPath(tc.path); (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidPath(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
	forEachStore(t, func(t *testing.T, tr *Tree) {
		mustCreate(t, tr, "/a")
		for name, f := range map[string]func() error{
			"create bad name":   func() error { _, err := tr.Create(bg, "/a/B"); return err },
			"create relative":   func() error { _, err := tr.Create(bg, "a/b"); return err },
			"create too deep":   func() error { _, err := tr.Create(bg, deep16+"/a"); return err },
			"create dotdot":     func() error { _, err := tr.Create(bg, "/a/.."); return err },
			"get bad path":      func() error { _, err := tr.Get(bg, "/a/"); return err },
			"list bad path":     func() error { _, err := tr.List(bg, "//", false); return err },
			"rename bad name":   func() error { _, err := tr.Rename(bg, "/a", "b_c"); return err },
			"rename bad path":   func() error { _, err := tr.Rename(bg, "/a/", "b"); return err },
			"rename root":       func() error { _, err := tr.Rename(bg, "/", "b"); return err },
			"move root":         func() error { _, err := tr.Move(bg, "/", "/a"); return err },
			"move bad parent":   func() error { _, err := tr.Move(bg, "/a", "x"); return err },
			"delete root":       func() error { _, err := tr.Delete(bg, "/", nil); return err },
			"delete bad path":   func() error { _, err := tr.Delete(bg, "/a/../", nil); return err },
			"create long paths": func() error { _, err := tr.Create(bg, "/"+strings.Repeat("a", 2000)); return err },
		} {
			if err := f(); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		mustCheck(t, tr)
	})
}

func TestRename(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		before := mustCreate(t, tr, "/a", "/a/b", "/a/b/c", "/z")
		n, err := tr.Rename(bg, "/a", "x")
		if err != nil {
			t.Fatal(err)
		}
		if n.Path != "/x" || n.Name != "x" || n.UUID != before["/a"].UUID || !n.Created.Equal(before["/a"].Created) {
			t.Fatalf("renamed: %+v, before %+v", n, before["/a"])
		}
		for old, now := range map[string]string{"/a": "/x", "/a/b": "/x/b", "/a/b/c": "/x/b/c"} {
			g := mustGet(t, tr, now)
			if g.UUID != before[old].UUID {
				t.Fatalf("%s has UUID %s, was %s at %s", now, g.UUID, before[old].UUID, old)
			}
			if u, _ := tr.GetByUUID(bg, g.UUID); u.Path != now {
				t.Fatalf("by UUID: path %s, want %s", u.Path, now)
			}
			if _, err := tr.Get(bg, old); !errors.Is(err, ErrNotFound) {
				t.Fatalf("old path %s: %v", old, err)
			}
		}
		if _, err := tr.Rename(bg, "/x", "z"); !errors.Is(err, ErrExists) {
			t.Fatalf("rename onto sibling: %v", err)
		}
		if _, err := tr.Rename(bg, "/nope", "y"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rename missing: %v", err)
		}
		if n, err := tr.Rename(bg, "/x/b", "b"); err != nil || n.Path != "/x/b" {
			t.Fatalf("rename to same name: %+v %v", n, err)
		}
		if _, err := tr.Create(bg, "/a"); err != nil {
			t.Fatalf("old name not free: %v", err)
		}
		mustCheck(t, tr)
	})
}

func TestMove(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		before := mustCreate(t, tr, "/a", "/a/b", "/a/b/c", "/d", "/e", "/e/b")
		n, err := tr.Move(bg, "/a/b", "/d")
		if err != nil {
			t.Fatal(err)
		}
		if n.Path != "/d/b" || n.Parent != before["/d"].UUID || n.UUID != before["/a/b"].UUID {
			t.Fatalf("moved: %+v", n)
		}
		if g := mustGet(t, tr, "/d/b/c"); g.UUID != before["/a/b/c"].UUID || g.Parent != n.UUID {
			t.Fatalf("child after move: %+v", g)
		}
		if l, _ := tr.List(bg, "/a", true); len(l) != 0 {
			t.Fatalf("old parent still has %q", paths(l))
		}
		for _, tc := range []struct {
			name, path, parent string
			err                error
		}{
			{"below itself", "/d", "/d/b", ErrInvalid},
			{"below its grandchild", "/d", "/d/b/c", ErrInvalid},
			{"into itself", "/d", "/d", ErrInvalid},
			{"name taken", "/d/b", "/e", ErrExists},
			{"missing parent", "/d/b", "/nope", ErrNotFound},
			{"missing source", "/nope", "/d", ErrNotFound},
		} {
			if _, err := tr.Move(bg, tc.path, tc.parent); !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
		}
		if n, err := tr.Move(bg, "/d/b", "/d"); err != nil || n.Path != "/d/b" {
			t.Fatalf("move to same parent: %+v %v", n, err)
		}
		// A prefix of a name is not an ancestor: /d can go below /dx.
		mustCreate(t, tr, "/dx")
		if n, err := tr.Move(bg, "/d", "/dx"); err != nil || n.Path != "/dx/d" {
			t.Fatalf("move /d below /dx: %+v %v", n, err)
		}
		if g := mustGet(t, tr, "/dx/d/b/c"); g.UUID != before["/a/b/c"].UUID {
			t.Fatalf("grandchild lost: %+v", g)
		}
		// Back to the root.
		if n, err := tr.Move(bg, "/dx/d/b", "/"); err != nil || n.Path != "/b" || n.Parent != tr.RootUUID() {
			t.Fatalf("move to root: %+v %v", n, err)
		}
		mustCheck(t, tr)
	})
}

func TestDepthLimitOnMove(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		// /p/q/r... 10 levels, and a subtree of height 6 at /s/t.
		deep := ""
		for i := 0; i < 10; i++ {
			deep += fmt.Sprintf("/l%d", i)
			mustCreate(t, tr, deep)
		}
		sub := "/s"
		mustCreate(t, tr, sub)
		for i := 0; i < 6; i++ {
			sub += fmt.Sprintf("/m%d", i)
			mustCreate(t, tr, sub)
		}
		// /s has 6 levels below it: below a 10-level node it would reach 17.
		if _, err := tr.Move(bg, "/s", deep); !errors.Is(err, ErrInvalid) {
			t.Fatalf("move past the depth limit: %v", err)
		}
		// One level less fits exactly 16.
		parent := deep[:strings.LastIndexByte(deep, '/')]
		n, err := tr.Move(bg, "/s", parent)
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := tr.List(bg, n.Path, true); depth(l[len(l)-1].Path) != MaxDepth {
			t.Fatalf("deepest path %s", l[len(l)-1].Path)
		}
		if _, err := tr.Create(bg, l16(tr, t)+"/x"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("create below level 16: %v", err)
		}
		mustCheck(t, tr)
	})
}

// l16 returns the path of a namespace at depth 16.
func l16(tr *Tree, t *testing.T) string {
	l, err := tr.List(bg, "/", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range l {
		if depth(n.Path) == MaxDepth {
			return n.Path
		}
	}
	t.Fatal("no namespace at depth 16")
	return ""
}

var errBoom = errors.New("boom")

func TestDelete(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		c := mustCreate(t, tr, "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/ab")
		// Another service's records, keyed by namespace UUID.
		if err := tr.Store().Update(bg, func(tx store.Tx) error {
			for _, n := range c {
				if err := tx.Put("/vservers/"+n.UUID, []byte(n.Path)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		rev := tr.Store().Rev()

		// fn fails half way: nothing is deleted, not even what fn did.
		var seen []string
		_, err := tr.Delete(bg, "/a", func(tx store.Tx, n Namespace) error {
			seen = append(seen, n.Path)
			if _, err := tx.Delete("/vservers/" + n.UUID); err != nil {
				return err
			}
			if n.Path == "/a/d" {
				return errBoom
			}
			return nil
		})
		if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "/a/d") {
			t.Fatalf("failing fn: %v", err)
		}
		if strings.Join(seen, " ") != "/a/b/c /a/b /a/d" {
			t.Fatalf("fn order %q", seen)
		}
		if tr.Store().Rev() != rev {
			t.Fatal("failed delete committed something")
		}
		for p := range c {
			mustGet(t, tr, p)
			if _, ok, _ := tr.Store().Get(bg, "/vservers/"+c[p].UUID); !ok {
				t.Fatalf("record of %s deleted by a failed delete", p)
			}
		}

		seen = nil
		out, err := tr.Delete(bg, "/a", func(tx store.Tx, n Namespace) error {
			seen = append(seen, n.Path)
			// Children are gone before the parent's turn.
			kids, err := tx.List(childPrefix(n.UUID))
			if err != nil || len(kids) != 0 {
				return fmt.Errorf("%s still has %d children (%v)", n.Path, len(kids), err)
			}
			_, err = tx.Delete("/vservers/" + n.UUID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(seen, " ") != "/a/b/c /a/b /a/d /a" || paths(out) != "/a/b/c /a/b /a/d /a" {
			t.Fatalf("order: fn %q, returned %q", seen, paths(out))
		}
		for _, p := range []string{"/a", "/a/b", "/a/b/c", "/a/d"} {
			if _, err := tr.Get(bg, p); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s after delete: %v", p, err)
			}
			if _, err := tr.GetByUUID(bg, c[p].UUID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s by UUID after delete: %v", p, err)
			}
			if _, ok, _ := tr.Store().Get(bg, "/vservers/"+c[p].UUID); ok {
				t.Fatalf("record of %s survived", p)
			}
		}
		if tr.Store().Rev() != rev+1 {
			t.Fatalf("delete took %d revisions", tr.Store().Rev()-rev)
		}
		if l, _ := tr.List(bg, "/", true); paths(l) != "/ab /e" {
			t.Fatalf("left: %q", paths(l))
		}
		if _, err := tr.Delete(bg, "/a", nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete again: %v", err)
		}
		// A leaf with a nil fn; the name is free again with a new UUID.
		if out, err := tr.Delete(bg, "/e", nil); err != nil || paths(out) != "/e" {
			t.Fatalf("delete leaf: %q %v", paths(out), err)
		}
		if n := mustCreate(t, tr, "/e")["/e"]; n.UUID == c["/e"].UUID {
			t.Fatal("UUID reused")
		}
		mustCheck(t, tr)
	})
}

func TestScope(t *testing.T) {
	acme := Scope{Root: "/acme"}
	for _, tc := range []struct {
		scope Scope
		rel   string
		abs   string // "" means ErrInvalid
	}{
		{acme, "/prod", "/acme/prod"},
		{acme, "/", "/acme"},
		{acme, "/prod/ci", "/acme/prod/ci"},
		{acme, "/..", ""},
		{acme, "/prod/../../etc", ""},
		{acme, "/prod/..", ""},
		{acme, "/./prod", ""},
		{acme, "prod", ""},
		{acme, "../beta", ""},
		{acme, "", ""},
		{acme, "//beta", ""},
		{acme, "/prod/", ""},
		{acme, "/Prod", ""},
		{acme, strings.Repeat("/a", 15), "/acme" + strings.Repeat("/a", 15)},
		{acme, strings.Repeat("/a", 16), ""}, // 17 levels in the tree
		{Scope{}, "/acme", "/acme"},
		{Scope{Root: "/"}, "/", "/"},
		{Scope{Root: "/Acme"}, "/prod", ""},
		{Scope{Root: "/acme/.."}, "/prod", ""},
		{Scope{Root: "acme"}, "/prod", ""},
	} {
		got, err := tc.scope.Abs(tc.rel)
		if tc.abs == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v.Abs(%q) = %q %v, want ErrInvalid", tc.scope, tc.rel, got, err)
			}
		} else if err != nil || got != tc.abs {
			t.Errorf("%+v.Abs(%q) = %q %v, want %q", tc.scope, tc.rel, got, err, tc.abs)
		}
	}
	for _, tc := range []struct {
		scope Scope
		abs   string
		rel   string // "" means outside
	}{
		{acme, "/acme/prod", "/prod"},
		{acme, "/acme", "/"},
		{acme, "/acme/prod/ci", "/prod/ci"},
		{acme, "/acmeco", ""},
		{acme, "/acmeco/prod", ""},
		{acme, "/beta", ""},
		{acme, "/", ""},
		{acme, "/acme/../beta", ""},
		{acme, "/acme/", ""},
		{acme, "acme/prod", ""},
		{Scope{Root: "/acme/prod"}, "/acme", ""},
		{Scope{}, "/beta", "/beta"},
		{Scope{Root: "/"}, "/", "/"},
		{Scope{Root: "/Acme"}, "/Acme/x", ""},
	} {
		got, ok := tc.scope.Rel(tc.abs)
		if ok != (tc.rel != "") || got != tc.rel {
			t.Errorf("%+v.Rel(%q) = %q %v, want %q", tc.scope, tc.abs, got, ok, tc.rel)
		}
	}
}

// A token bound to /acme works through its scope: it addresses /acme/prod
// as /prod, sees only its subtree, and cannot reach /beta.
func TestScopedAdmin(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		c := mustCreate(t, tr, "/acme", "/acme/prod", "/beta", "/acmeco")
		sc := Scope{Root: "/acme"}
		abs, err := sc.Abs("/prod/ci")
		if err != nil {
			t.Fatal(err)
		}
		n, err := tr.Create(bg, abs)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := sc.Namespace(n); !ok || v.Path != "/prod/ci" || v.Parent != c["/acme/prod"].UUID {
			t.Fatalf("scoped view %+v %v", v, ok)
		}
		top, _ := sc.Abs("/")
		all, err := tr.List(bg, top, true)
		if err != nil {
			t.Fatal(err)
		}
		var rel []string
		for _, n := range all {
			v, ok := sc.Namespace(n)
			if !ok {
				t.Fatalf("listing of the scope holds %s", n.Path)
			}
			rel = append(rel, v.Path)
		}
		if strings.Join(rel, " ") != "/prod /prod/ci" {
			t.Fatalf("scoped listing %q", rel)
		}
		if v, ok := sc.Namespace(c["/acme"]); !ok || v.Path != "/" || v.Parent != "" {
			t.Fatalf("scope root seen as %+v", v)
		}
		for _, other := range []string{"/beta", "/acmeco"} {
			if _, ok := sc.Namespace(c[other]); ok {
				t.Fatalf("%s visible in the scope", other)
			}
		}
		// Looked up by UUID (as an API would), an outside namespace stays
		// hidden.
		b, err := tr.GetByUUID(bg, c["/beta"].UUID)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sc.Namespace(b); ok {
			t.Fatal("outside namespace visible by UUID")
		}
		for _, escape := range []string{"/../beta", "/..", "../beta", "/prod/../../beta"} {
			if p, err := sc.Abs(escape); !errors.Is(err, ErrInvalid) {
				t.Fatalf("escape %q reached %q (%v)", escape, p, err)
			}
		}
	})
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree(t, s)
	c := mustCreate(t, tr, "/acme", "/acme/prod", "/acme/prod/ci", "/beta")
	if _, err := tr.Rename(bg, "/acme", "acme2"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Move(bg, "/acme2/prod", "/beta"); err != nil {
		t.Fatal(err)
	}
	root := tr.RootUUID()
	s.Close()

	s, err = store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tr = newTree(t, s)
	if tr.RootUUID() != root {
		t.Fatalf("root UUID changed: %s -> %s", root, tr.RootUUID())
	}
	for old, now := range map[string]string{"/acme": "/acme2", "/acme/prod": "/beta/prod", "/acme/prod/ci": "/beta/prod/ci", "/beta": "/beta"} {
		g := mustGet(t, tr, now)
		if g.UUID != c[old].UUID || !g.Created.Equal(c[old].Created) {
			t.Fatalf("%s after reopen: %+v, was %+v", now, g, c[old])
		}
	}
	mustCheck(t, tr)
}

func TestCheckFindsDamage(t *testing.T) {
	for name, damage := range map[string]func(tx store.Tx, tr *Tree, c map[string]Namespace) error{
		"orphan record": func(tx store.Tx, tr *Tree, c map[string]Namespace) error {
			u := newUUID()
			return putRecord(tx, record{UUID: u, Name: "x", Parent: newUUID()})
		},
		"dangling index": func(tx store.Tx, tr *Tree, c map[string]Namespace) error {
			return tx.Put(childKey(c["/a"].UUID, "ghost"), []byte(newUUID()))
		},
		"index to wrong record": func(tx store.Tx, tr *Tree, c map[string]Namespace) error {
			return tx.Put(childKey(c["/a"].UUID, "b"), []byte(c["/a"].UUID))
		},
		"cycle": func(tx store.Tx, tr *Tree, c map[string]Namespace) error {
			a := c["/a"]
			if _, err := tx.Delete(childKey(tr.RootUUID(), "a")); err != nil {
				return err
			}
			if err := tx.Put(childKey(c["/a/b"].UUID, "a"), []byte(a.UUID)); err != nil {
				return err
			}
			return putRecord(tx, record{UUID: a.UUID, Name: "a", Parent: c["/a/b"].UUID})
		},
		"bad JSON": func(tx store.Tx, tr *Tree, c map[string]Namespace) error {
			return tx.Put(PrefixByUUID+c["/a/b"].UUID, []byte("{"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := store.NewMemory()
			defer s.Close()
			tr := newTree(t, s)
			c := mustCreate(t, tr, "/a", "/a/b")
			mustCheck(t, tr)
			if err := s.Update(bg, func(tx store.Tx) error { return damage(tx, tr, c) }); err != nil {
				t.Fatal(err)
			}
			err := tr.Check(bg)
			if err == nil {
				t.Fatal("damage not found")
			}
			// Damage is an internal error, not a client one.
			if errors.Is(err, ErrInvalid) || errors.Is(err, ErrExists) {
				t.Fatalf("damage reported as %v", err)
			}
		})
	}
	// A cycle never makes lookups loop.
	s := store.NewMemory()
	defer s.Close()
	tr := newTree(t, s)
	c := mustCreate(t, tr, "/a", "/a/b")
	if err := s.Update(bg, func(tx store.Tx) error {
		return putRecord(tx, record{UUID: c["/a"].UUID, Name: "a", Parent: c["/a/b"].UUID})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.GetByUUID(bg, c["/a/b"].UUID); err == nil {
		t.Fatal("lookup through a cycle succeeded")
	}
}

// Many goroutines create, rename, move and delete in a small tree at once;
// every operation either succeeds or fails with one of the package's
// errors, and the tree stays consistent. Run with -race.
func TestConcurrency(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		names := []string{"a", "b", "c"}
		randPath := func(r *rand.Rand) string {
			p := ""
			for d := 1 + r.IntN(3); d > 0; d-- {
				p += "/" + names[r.IntN(len(names))]
			}
			return p
		}
		const workers, ops = 6, 150
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 1))
				for i := 0; i < ops; i++ {
					var err error
					switch r.IntN(6) {
					case 0, 1:
						_, err = tr.Create(bg, randPath(r))
					case 2:
						_, err = tr.Rename(bg, randPath(r), names[r.IntN(len(names))])
					case 3:
						_, err = tr.Move(bg, randPath(r), []string{"/", randPath(r)}[r.IntN(2)])
					case 4:
						_, err = tr.Delete(bg, randPath(r), func(store.Tx, Namespace) error { return nil })
					case 5:
						var l []Namespace
						if l, err = tr.List(bg, "/", true); err == nil {
							for _, n := range l {
								if g, err := tr.GetByUUID(bg, n.UUID); err != nil && !errors.Is(err, ErrNotFound) {
									t.Errorf("GetByUUID: %v", err)
								} else if err == nil && ValidPath(g.Path) != nil {
									t.Errorf("bad path %q", g.Path)
								}
							}
						}
					}
					if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrExists) && !errors.Is(err, ErrInvalid) {
						t.Errorf("unexpected error: %v", err)
					}
				}
			}(uint64(w))
		}
		// Two movers racing to put /x/p below /x/q and /x/q below /x/p: one
		// of each pair must fail, never both succeed into a cycle.
		mustCreate(t, tr, "/x", "/x/p", "/x/q")
		for round := 0; round < 20; round++ {
			var mwg sync.WaitGroup
			for _, mv := range [][2]string{{"/x/p", "/x/q"}, {"/x/q", "/x/p"}} {
				mwg.Add(1)
				go func(from, to string) {
					defer mwg.Done()
					if _, err := tr.Move(bg, from, to); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
						t.Errorf("move %s to %s: %v", from, to, err)
					}
				}(mv[0], mv[1])
			}
			mwg.Wait()
			mustCheck(t, tr)
			// Put both back directly under /x.
			l, err := tr.List(bg, "/x", true)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range l {
				if depth(n.Path) > 2 {
					if _, err := tr.Move(bg, n.Path, "/x"); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		wg.Wait()
		mustCheck(t, tr)
	})
}

// Services resolve namespaces inside their own transactions, so that a
// record they write and the namespace it belongs to are checked together.
func TestTxHelpers(t *testing.T) {
	forEachStore(t, func(t *testing.T, tr *Tree) {
		c := mustCreate(t, tr, "/acme", "/acme/prod")
		err := tr.Store().Update(bg, func(tx store.Tx) error {
			n, err := tr.GetTx(tx, "/acme/prod")
			if err != nil {
				return err
			}
			if n != c["/acme/prod"] {
				return fmt.Errorf("GetTx = %+v", n)
			}
			if u, err := tr.GetByUUIDTx(tx, n.UUID); err != nil || u != n {
				return fmt.Errorf("GetByUUIDTx = %+v %v", u, err)
			}
			if _, err := tr.GetTx(tx, "/acme/nope"); !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("GetTx of missing: %v", err)
			}
			return tx.Put("/vservers/"+n.UUID, []byte("{}"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := tr.Store().Get(bg, "/vservers/"+c["/acme/prod"].UUID); !ok || err != nil {
			t.Fatalf("record written with GetTx: %v %v", ok, err)
		}
		if !(Scope{Root: "/acme"}).Contains("/acme/prod") || (Scope{Root: "/acme"}).Contains("/acmeco") {
			t.Fatal("Contains")
		}
	})
}
