package control

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/store"
)

// bigTable returns a table of n names mapped to distinct IDs.
func bigTable(prefix string, n int) map[string]int64 {
	t := make(map[string]int64, n)
	for i := range n {
		t[fmt.Sprintf("%s%d", prefix, i)] = int64(i)
	}
	return t
}

// TestIDMapValidation: every bad id_map is refused as invalid input with
// a message naming the problem.
func TestIDMapValidation(t *testing.T) {
	users := func(u map[string]int64) *IDMapConfig { return &IDMapConfig{Domain: "example.com", Users: u} }
	groups := func(g map[string]int64) *IDMapConfig { return &IDMapConfig{Domain: "example.com", Groups: g} }
	domain := func(d string) *IDMapConfig { return &IDMapConfig{Domain: d, Users: map[string]int64{"a": 1}} }
	for _, tc := range []struct {
		name string
		m    *IDMapConfig
		want string // in the message
	}{
		{"users without domain", &IDMapConfig{Users: map[string]int64{"alice": 1000}}, "a domain is needed"},
		{"groups without domain", &IDMapConfig{Groups: map[string]int64{"staff": 50}}, "a domain is needed"},
		{"domain too long", domain(strings.Repeat("a.", 126) + "ab"), "is 254 bytes, at most 253"},
		{"domain leading dot", domain(".example.com"), "is not a domain name"},
		{"domain trailing dot", domain("example.com."), "is not a domain name"},
		{"domain only a dot", domain("."), "is not a domain name"},
		{"domain empty label", domain("example..com"), "is not a domain name"},
		{"domain label too long", domain(strings.Repeat("a", 64) + ".com"), "is not a domain name"},
		{"domain underscore", domain("ex_ample.com"), "is not a domain name"},
		{"domain space", domain("example .com"), "is not a domain name"},
		{"domain at", domain("a@example.com"), "is not a domain name"},
		{"domain non-ASCII", domain("exämple.com"), "is not a domain name"},
		{"user name empty", users(map[string]int64{"": 1}), `id_map.users: name "" is 0 bytes, must be 1..64`},
		{"user name too long", users(map[string]int64{strings.Repeat("a", 65): 1}), "is 65 bytes, must be 1..64"},
		{"user name at", users(map[string]int64{"alice@example.com": 1}), `name "alice@example.com" holds '@'`},
		{"user name space", users(map[string]int64{"al ice": 1}), "holds white space"},
		{"user name tab", users(map[string]int64{"alice\t": 1}), "holds white space"},
		{"user name NBSP", users(map[string]int64{"al\u00a0ice": 1}), "holds white space"},
		{"user name control", users(map[string]int64{"al\x01ice": 1}), "control"},
		{"user name DEL", users(map[string]int64{"alice\x7f": 1}), "control"},
		{"user name zero width", users(map[string]int64{"al\u200bice": 1}), "invisible format character"},
		{"user name bad UTF-8", users(map[string]int64{"al\xffice": 1}), "is not valid UTF-8"},
		{"group name at", groups(map[string]int64{"@staff": 1}), `id_map.groups: name "@staff" holds '@'`},
		{"group name empty", groups(map[string]int64{"": 1}), `id_map.groups: name ""`},
		{"user id negative", users(map[string]int64{"alice": -1}), `id_map.users: "alice" has id -1, out of range 0..4294967294`},
		{"user id 2^32-1", users(map[string]int64{"alice": 4294967295}), "has id 4294967295, out of range"},
		{"user id 2^32", users(map[string]int64{"alice": 1 << 32}), "has id 4294967296, out of range"},
		{"group id 2^32-1", groups(map[string]int64{"staff": 4294967295}), `id_map.groups: "staff" has id 4294967295`},
		{"users share an id", users(map[string]int64{"zed": 7, "alice": 1000, "bob": 1000}), `id_map.users: "alice" and "bob" both have id 1000`},
		{"groups share an id", groups(map[string]int64{"b": 0, "a": 0}), `id_map.groups: "a" and "b" both have id 0`},
		{"too many users", users(bigTable("u", MaxIDMapUsers+1)), "id_map.users: 10001 given, at most 10000"},
		{"too many groups", groups(bigTable("g", MaxIDMapGroups+1)), "id_map.groups: 10001 given, at most 10000"},
	} {
		cfg := quickServer(0)
		cfg.IDMap = tc.m
		_, err := cfg.normalize()
		var e *Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || !strings.Contains(e.Msg, tc.want) {
			t.Errorf("%s: %v; want invalid with %q", tc.name, err, tc.want)
		}
	}
}

// TestIDMapNormalize: good mappings are kept, in canonical form.
func TestIDMapNormalize(t *testing.T) {
	maxLabel := strings.Repeat("a", 63)
	long := maxLabel + "." + maxLabel + "." + maxLabel + "." + strings.Repeat("b", 61) // 253 bytes
	for _, tc := range []struct {
		name string
		in   *IDMapConfig
		want *IDMapConfig
	}{
		{"absent", nil, nil},
		{"empty clears", &IDMapConfig{}, nil},
		{"empty tables clear", &IDMapConfig{Users: map[string]int64{}, Groups: map[string]int64{}}, nil},
		{"domain only", &IDMapConfig{Domain: "example.com"},
			&IDMapConfig{Domain: "example.com", Users: map[string]int64{}, Groups: map[string]int64{}}},
		{"full", &IDMapConfig{Domain: "Example.COM", Users: map[string]int64{"alice": 1000, "root": 0, "max": 4294967294}, Groups: map[string]int64{"staff": 50, "alice": 1000}},
			&IDMapConfig{Domain: "Example.COM", Users: map[string]int64{"alice": 1000, "root": 0, "max": 4294967294}, Groups: map[string]int64{"staff": 50, "alice": 1000}}},
		{"single label, digits, dashes", &IDMapConfig{Domain: "x-1", Groups: map[string]int64{"g": 1}},
			&IDMapConfig{Domain: "x-1", Users: map[string]int64{}, Groups: map[string]int64{"g": 1}}},
		{"longest domain and name", &IDMapConfig{Domain: long, Users: map[string]int64{strings.Repeat("n", 64): 1}},
			&IDMapConfig{Domain: long, Users: map[string]int64{strings.Repeat("n", 64): 1}, Groups: map[string]int64{}}},
		{"UTF-8 names", &IDMapConfig{Domain: "d", Users: map[string]int64{"Élodie": 1, "用户": 2, "a.b-c_d$": 3}},
			&IDMapConfig{Domain: "d", Users: map[string]int64{"Élodie": 1, "用户": 2, "a.b-c_d$": 3}, Groups: map[string]int64{}}},
		{"most entries", &IDMapConfig{Domain: "d", Users: bigTable("u", MaxIDMapUsers), Groups: bigTable("g", MaxIDMapGroups)},
			&IDMapConfig{Domain: "d", Users: bigTable("u", MaxIDMapUsers), Groups: bigTable("g", MaxIDMapGroups)}},
	} {
		if len(long) != MaxIDMapDomainLen {
			t.Fatalf("long domain is %d bytes", len(long))
		}
		cfg := quickServer(0)
		cfg.IDMap = tc.in
		got, err := cfg.normalize()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got.IDMap, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got.IDMap, tc.want)
		}
		// normalize does not share the caller's tables.
		if tc.in != nil && got.IDMap != nil && tc.in.Users != nil {
			tc.in.Users["added-later"] = 99999
			if _, ok := got.IDMap.Users["added-later"]; ok {
				t.Errorf("%s: normalize shares the caller's table", tc.name)
			}
		}
	}
}

// TestIDMapStored: an id_map is stored, returned, kept across a restart,
// replaced by PATCH, left alone by a PATCH without it, and removed by
// PATCH {} or a PUT without it; a refused one stores nothing.
func TestIDMapStored(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := open(t, dir)
	if _, err := c.CreateNamespace(ctx, root, "/acme"); err != nil {
		t.Fatal(err)
	}
	cfg := quickServer(0, testAddr)
	cfg.IDMap = &IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000}}
	want := &IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000}, Groups: map[string]int64{}}
	s, _, err := c.PutServer(ctx, root, "/acme", cfg)
	if err != nil || !reflect.DeepEqual(s.IDMap, want) {
		t.Fatalf("PUT: %+v, %v", s.IDMap, err)
	}
	check := func(when string, want *IDMapConfig) {
		t.Helper()
		s, err := c.GetServer(ctx, root, "/acme")
		if err != nil || !reflect.DeepEqual(s.IDMap, want) {
			t.Fatalf("%s: %+v, %v; want %+v", when, s.IDMap, err, want)
		}
	}
	check("after PUT", want)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = open(t, dir)
	check("after reopen", want)

	// A refused change stores nothing.
	rev := c.Store().Rev()
	bad := &IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000, "bob": 1000}}
	if _, err := c.PatchServer(ctx, root, "/acme", ServerPatch{IDMap: bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad PATCH: %v", err)
	}
	bcfg := quickServer(0, testAddr)
	bcfg.IDMap = bad
	if _, _, err := c.PutServer(ctx, root, "/acme", bcfg); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad PUT: %v", err)
	}
	if got := c.Store().Rev(); got != rev {
		t.Fatalf("refused changes changed the store: revision %d -> %d", rev, got)
	}
	check("after refused changes", want)

	// PATCH without id_map keeps it; with one replaces it whole.
	threads := 0
	if _, err := c.PatchServer(ctx, root, "/acme", ServerPatch{Threads: &threads}); err != nil {
		t.Fatal(err)
	}
	check("after PATCH without id_map", want)
	repl := &IDMapConfig{Domain: "corp.example", Groups: map[string]int64{"staff": 50}}
	if _, err := c.PatchServer(ctx, root, "/acme", ServerPatch{IDMap: repl}); err != nil {
		t.Fatal(err)
	}
	check("after PATCH", &IDMapConfig{Domain: "corp.example", Users: map[string]int64{}, Groups: map[string]int64{"staff": 50}})
	if _, err := c.PatchServer(ctx, root, "/acme", ServerPatch{IDMap: &IDMapConfig{}}); err != nil {
		t.Fatal(err)
	}
	check("after PATCH {}", nil)

	// A PUT without id_map removes it.
	if _, _, err := c.PutServer(ctx, root, "/acme", cfg); err != nil {
		t.Fatal(err)
	}
	check("after second PUT", want)
	if _, _, err := c.PutServer(ctx, root, "/acme", quickServer(0, testAddr)); err != nil {
		t.Fatal(err)
	}
	check("after PUT without id_map", nil)
}

// TestIDMapRuntime: the stored id_map becomes the vserver's IDMap, and a
// change of it restarts a running vserver as a lease change does.
func TestIDMapRuntime(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir())
	n, err := c.CreateNamespace(ctx, root, "/acme")
	if err != nil {
		t.Fatal(err)
	}
	rec := newServerRecord()
	rec.Config = quickServer(1, testAddr)
	vc, err := c.vserverConfig(n.UUID, rec, nil)
	if err != nil || vc.IDMap != nil {
		t.Fatalf("no id_map: IDMap %v, %v", vc.IDMap, err)
	}
	rec.Config.IDMap = &IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000, "max": MaxIDMapID}, Groups: map[string]int64{"staff": 50}}
	vc, err = c.vserverConfig(n.UUID, rec, nil)
	if err != nil || vc.IDMap == nil {
		t.Fatalf("id_map: IDMap %v, %v", vc.IDMap, err)
	}
	m := vc.IDMap
	for _, tc := range []struct{ got, want string }{
		{m.UIDToName(1000), "alice@example.com"},
		{m.UIDToName(MaxIDMapID), "max@example.com"},
		{m.UIDToName(1001), "1001"},
		{m.GIDToName(50), "staff@example.com"},
		{m.GIDToName(1000), "1000"},
	} {
		if tc.got != tc.want {
			t.Errorf("owner %q, want %q", tc.got, tc.want)
		}
	}
	if id, err := m.NameToUID("alice@EXAMPLE.com"); err != nil || id != 1000 {
		t.Errorf("alice@EXAMPLE.com: %d, %v", id, err)
	}
	if _, err := m.NameToGID("alice@example.com"); err != nfserr.Badowner {
		t.Errorf("group alice@example.com: %v", err)
	}
	// A damaged record (not from normalize) fails the start, not panics.
	rec.Config.IDMap = &IDMapConfig{Domain: "example.com", Users: map[string]int64{"a": -5}}
	if _, err := c.vserverConfig(n.UUID, rec, nil); err == nil || !strings.Contains(err.Error(), "stored id_map") {
		t.Errorf("damaged id_map: %v", err)
	}

	// A running server restarts when its id_map changes, not otherwise.
	if _, _, err := c.PutServer(ctx, root, "/acme", quickServer(1, testAddr)); err != nil {
		t.Fatal(err)
	}
	srv := func() any {
		t.Helper()
		in := c.getInst(n.UUID)
		if in == nil || in.srv == nil {
			t.Fatalf("not running: %+v", in)
		}
		return in.srv
	}
	first := srv()
	set := func(m *IDMapConfig) {
		t.Helper()
		s, err := c.PatchServer(ctx, root, "/acme", ServerPatch{IDMap: m})
		if err != nil || !s.Status.Running {
			t.Fatalf("PATCH id_map %+v: %+v, %v", m, s.Status, err)
		}
	}
	set(&IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000}})
	second := srv()
	if second == first {
		t.Fatal("setting id_map did not restart the vserver")
	}
	set(&IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000}, Groups: map[string]int64{}})
	if srv() != second {
		t.Fatal("the same id_map restarted the vserver")
	}
	set(&IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1001}})
	third := srv()
	if third == second {
		t.Fatal("changing id_map did not restart the vserver")
	}
	set(&IDMapConfig{})
	if srv() == third {
		t.Fatal("removing id_map did not restart the vserver")
	}
}

// TestIDMapRecordSize: the largest id_map the limits allow still fits in
// a stored record, or is refused as invalid input.
func TestIDMapRecordSize(t *testing.T) {
	rec := newServerRecord()
	users := make(map[string]int64, MaxIDMapUsers)
	groups := make(map[string]int64, MaxIDMapGroups)
	for i := range MaxIDMapUsers {
		users[fmt.Sprintf("%064d", i)] = int64(MaxIDMapID - i)
		groups[fmt.Sprintf("%064d", i)] = int64(MaxIDMapID - i)
	}
	rec.Config.IDMap = &IDMapConfig{Domain: "example.com", Users: users, Groups: groups}
	if _, err := rec.Config.normalize(); err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	defer st.Close()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		return putServer(tx, "3f1e1a9c-2a43-4d5b-9a7e-2a3a6b1c0d4e", rec)
	})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("oversized record: %v", err)
	}
}
