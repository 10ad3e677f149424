package pseudofs

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

func TestTree(t *testing.T) {
	now := time.Unix(1700000000, 5)
	tr := New([]Export{{1, "/data"}, {2, "/home/alice"}, {3, "/home/bob"}, {4, "/data/inner"}}, now)
	root := tr.Root()
	if root.IsJunction() || tr.RootExport != 0 {
		t.Fatal("root is a junction")
	}
	if got := tr.Children(root); !slices.Equal(got, []string{"data", "home"}) {
		t.Fatalf("root children %v", got)
	}
	data := tr.Lookup(root, "data")
	if data == nil || data.Export != 1 || data.Path != "/data" || data.Parent != root {
		t.Fatalf("data %+v", data)
	}
	if len(tr.Children(data)) != 0 || tr.Junction(4) != nil {
		t.Fatal("export below another export is in the tree")
	}
	home := tr.Lookup(root, "home")
	if home == nil || home.IsJunction() || !slices.Equal(tr.Children(home), []string{"alice", "bob"}) {
		t.Fatalf("home %+v", home)
	}
	if a := tr.Lookup(home, "alice"); a == nil || a.Export != 2 || tr.Junction(2) != a {
		t.Fatalf("alice %+v", a)
	}
	if tr.Lookup(home, "carol") != nil {
		t.Fatal("lookup of a missing name")
	}
	for _, n := range []*Node{root, data, home} {
		if got := tr.ByID(n.ID); got != n || len(n.ID) != IDLen {
			t.Fatalf("ByID(%s) = %v", n.Path, got)
		}
		if n.Fileid>>63 != 1 {
			t.Fatalf("fileid %x of %s lacks the pseudo bit", n.Fileid, n.Path)
		}
	}
	a := tr.Attr(home)
	if a.Mode != 0o555 || a.Nlink != 4 || a.Mtime.Sec != now.Unix() || a.Fileid != home.Fileid {
		t.Fatalf("attr %+v", a)
	}
	// Handles of pseudo directories survive a rebuild (a restart, or
	// another export added); a directory that disappears is stale.
	tr2 := New([]Export{{2, "/home/alice"}, {5, "/srv"}}, now.Add(time.Hour))
	if n := tr2.ByID(home.ID); n == nil || n.Path != "/home" || n.Fileid != home.Fileid {
		t.Fatalf("/home after rebuild: %+v", n)
	}
	if tr2.ByID(data.ID) != nil {
		t.Fatal("/data still resolves after its export was removed")
	}
	if bytes.Equal(root.ID, home.ID) {
		t.Fatal("ids collide")
	}
}

func TestRootExport(t *testing.T) {
	tr := New([]Export{{7, "/"}, {8, "/x"}}, time.Now())
	if tr.RootExport != 7 || !tr.Root().IsJunction() || tr.Junction(7) != tr.Root() {
		t.Fatalf("root export %d", tr.RootExport)
	}
	if len(tr.Children(tr.Root())) != 0 {
		t.Fatal("an export below the root export is in the tree")
	}
}
