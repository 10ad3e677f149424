package local

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

func names(ents []vfs.DirEntry) []string {
	var out []string
	for _, d := range ents {
		out = append(out, d.Name)
	}
	return out
}

func TestReadDir(t *testing.T) {
	e := newEnv(t, Options{})
	sub, _ := e.mkdir(alice, e.root, "sub", nil)
	want := map[string]bool{"sub": true}
	for i := range 20 {
		n := fmt.Sprintf("file%02d", i)
		e.create(alice, e.root, n, nil)
		want[n] = true
	}
	if err := os.Symlink("/etc", e.path("link")); err != nil {
		t.Fatal(err)
	}
	want["link"] = true
	rootIno := e.stat().Ino

	for _, plus := range []bool{false, true} {
		ents := e.listAll(alice, e.root, plus, 0)
		if len(ents) != len(want)+2 || ents[0].Name != "." || ents[1].Name != ".." {
			t.Fatalf("plus=%v: listing %v", plus, names(ents))
		}
		if ents[0].Cookie != 1 || ents[1].Cookie != 2 || ents[0].Fileid != rootIno || ents[1].Fileid != rootIno {
			t.Errorf("plus=%v: dot entries %+v %+v", plus, ents[0], ents[1])
		}
		seen := map[string]bool{}
		for _, d := range ents[2:] {
			if !want[d.Name] || seen[d.Name] {
				t.Errorf("plus=%v: unexpected or repeated entry %q", plus, d.Name)
			}
			seen[d.Name] = true
			if d.Cookie == 0 {
				t.Errorf("plus=%v: entry %q has cookie 0", plus, d.Name)
			}
			if d.Fileid != e.stat(d.Name).Ino {
				t.Errorf("plus=%v: %q fileid %d", plus, d.Name, d.Fileid)
			}
		}
		for _, d := range ents {
			if !plus {
				if d.HaveAttr || d.ID != nil {
					t.Errorf("plain READDIR entry %q has attributes", d.Name)
				}
				continue
			}
			id, a := e.lookup(e.root, d.Name)
			if !d.HaveAttr || !bytes.Equal(d.ID, id) || d.Attr.Fileid != a.Fileid || d.Attr.Type != a.Type {
				t.Errorf("READDIRPLUS entry %q: %+v; Lookup gives %x %+v", d.Name, d, id, a)
			}
		}
	}

	// Resuming from every cookie lists exactly the rest.
	all := e.listAll(alice, e.root, false, 0)
	for i, d := range all {
		var rest []string
		eof, err := e.fs.ReadDir(ctx, alice, e.root, d.Cookie, false, func(x *vfs.DirEntry) bool {
			rest = append(rest, x.Name)
			return true
		})
		if err != nil || !eof {
			t.Fatalf("ReadDir from cookie %d: %v %v", d.Cookie, eof, err)
		}
		if fmt.Sprint(rest) != fmt.Sprint(names(all[i+1:])) {
			t.Errorf("from the cookie of %q: %v, want %v", d.Name, rest, names(all[i+1:]))
		}
	}

	// The entry for which fn returns false is not consumed.
	var first []vfs.DirEntry
	eof, err := e.fs.ReadDir(ctx, alice, e.root, 0, false, func(x *vfs.DirEntry) bool {
		if len(first) == 5 {
			return false
		}
		first = append(first, *x)
		return true
	})
	if err != nil || eof || len(first) != 5 {
		t.Fatalf("partial ReadDir: %d entries, eof %v, %v", len(first), eof, err)
	}
	var next string
	e.fs.ReadDir(ctx, alice, e.root, first[4].Cookie, false, func(x *vfs.DirEntry) bool { next = x.Name; return false })
	if next != all[5].Name {
		t.Errorf("after a refused entry the listing resumes with %q, want %q", next, all[5].Name)
	}

	// ".." of a subdirectory is the root, with its ID in READDIRPLUS.
	ents := e.listAll(alice, sub, true, 0)
	if len(ents) != 2 || ents[1].Name != ".." || ents[1].Fileid != rootIno || !bytes.Equal(ents[1].ID, e.root) ||
		!bytes.Equal(ents[0].ID, sub) {
		t.Errorf("listing of an empty subdirectory: %+v", ents)
	}

	// Errors.
	f, _ := e.lookup(e.root, "file00")
	noSearch, _ := e.mkdir(alice, e.root, "nosearch", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o744})
	e.create(alice, noSearch, "inner", nil)
	noRead, _ := e.mkdir(alice, e.root, "noread", &vfs.SetAttr{Valid: vfs.SetMode, Mode: 0o711})
	tests := []struct {
		name   string
		c      *vfs.Cred
		id     vfs.ID
		cookie uint64
		want   error
	}{
		{"file", alice, f, 0, syscall.ENOTDIR},
		{"stale", alice, vfs.ID{1, 2, 3, 4}, 0, syscall.ESTALE},
		{"no read permission", bob, noRead, 0, syscall.EACCES},
		{"bad cookie", alice, e.root, 1 << 63, syscall.EINVAL},
		{"owner of 0711", alice, noRead, 0, nil},
	}
	for _, tt := range tests {
		_, err := e.fs.ReadDir(ctx, tt.c, tt.id, tt.cookie, false, func(*vfs.DirEntry) bool { return true })
		wantErr(t, tt.name, err, tt.want)
	}
	// READDIRPLUS without search permission: names only.
	for _, d := range e.listAll(bob, noSearch, true, 0) {
		if d.HaveAttr || d.ID != nil {
			t.Errorf("READDIRPLUS without search permission gave attributes for %q", d.Name)
		}
	}
}

func TestReadDirCookiesSurviveChanges(t *testing.T) {
	e := newEnv(t, Options{})
	const n = 400
	for i := range n {
		e.create(alice, e.root, fmt.Sprintf("orig%03d", i), nil)
	}
	// List about half.
	var first []vfs.DirEntry
	var cookie uint64
	_, err := e.fs.ReadDir(ctx, alice, e.root, 0, false, func(d *vfs.DirEntry) bool {
		if len(first) == n/2 {
			return false
		}
		first = append(first, *d)
		cookie = d.Cookie
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range first {
		seen[d.Name] = true
	}
	// Remove entries on both sides of the cookie and add new ones.
	removed := map[string]bool{}
	for i := 0; i < n; i += 3 {
		name := fmt.Sprintf("orig%03d", i)
		if err := e.fs.Remove(ctx, alice, e.root, name); err != nil {
			t.Fatal(err)
		}
		removed[name] = true
	}
	for i := range 300 {
		e.create(alice, e.root, fmt.Sprintf("new%03d", i), nil)
	}
	// Continue from the cookie, in small batches.
	for calls := 0; ; calls++ {
		if calls > 10000 {
			t.Fatal("listing does not end")
		}
		got := 0
		eof, err := e.fs.ReadDir(ctx, alice, e.root, cookie, false, func(d *vfs.DirEntry) bool {
			if got == 17 {
				return false
			}
			got++
			if seen[d.Name] {
				t.Errorf("entry %q returned twice", d.Name)
			}
			if d.Name == "." || d.Name == ".." {
				t.Errorf("%q listed again after resuming", d.Name)
			}
			seen[d.Name] = true
			cookie = d.Cookie
			return true
		})
		if err != nil {
			t.Fatalf("ReadDir from cookie %d: %v", cookie, err)
		}
		if eof {
			break
		}
	}
	for i := range n {
		name := fmt.Sprintf("orig%03d", i)
		if !removed[name] && !seen[name] {
			t.Errorf("surviving entry %q never listed", name)
		}
	}
	for name := range removed {
		// A removed entry may only have been seen before its removal.
		if seen[name] && !func() bool {
			for _, d := range first {
				if d.Name == name {
					return true
				}
			}
			return false
		}() {
			t.Errorf("removed entry %q listed after its removal", name)
		}
	}
}

func TestReadDirLarge(t *testing.T) {
	e := newEnv(t, Options{})
	const n = 10000
	for i := range n {
		if err := os.WriteFile(e.path(fmt.Sprintf("entry-with-a-longish-name-%05d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		plus  bool
		batch int
	}{{false, 0}, {false, 700}, {true, 1000}} {
		ents := e.listAll(alice, e.root, tc.plus, tc.batch)
		if len(ents) != n+2 {
			t.Fatalf("plus=%v batch=%d: %d entries, want %d", tc.plus, tc.batch, len(ents), n+2)
		}
		ns := names(ents)
		sort.Strings(ns)
		for i := 1; i < len(ns); i++ {
			if ns[i] == ns[i-1] {
				t.Fatalf("entry %q listed twice", ns[i])
			}
		}
		if tc.plus {
			for _, d := range ents {
				if !d.HaveAttr || len(d.ID) == 0 {
					t.Fatalf("entry %q without attributes", d.Name)
				}
			}
		}
	}
}
