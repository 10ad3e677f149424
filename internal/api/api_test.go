package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/control"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
)

func paths(list []control.Namespace) []string {
	var out []string
	for _, n := range list {
		out = append(out, n.Path)
	}
	return out
}

func TestNamespaces(t *testing.T) {
	e := newEnv(t)
	acme := e.mkns("/acme")
	prod := e.mkns("/acme/prod")
	ci := e.mkns("/acme/prod/ci")
	e.mkns("/other")
	if acme.Name != "acme" || acme.Path != "/acme" || prod.ParentUUID != acme.UUID || ci.Path != "/acme/prod/ci" || acme.Created.IsZero() {
		t.Fatalf("created %+v %+v %+v", acme, prod, ci)
	}
	var list struct{ Namespaces []control.Namespace }
	e.must("", 200, "GET", "/v1/namespaces", nil, nil, &list)
	if got := paths(list.Namespaces); !slices.Equal(got, []string{"/acme", "/default", "/other"}) && !slices.Equal(got, []string{"/acme", "/other"}) {
		t.Fatalf("children of /: %v", got)
	}
	e.must("", 200, "GET", "/v1/namespaces", url.Values{"path": {"/acme"}, "recursive": {"true"}}, nil, &list)
	if got := paths(list.Namespaces); !slices.Equal(got, []string{"/acme/prod", "/acme/prod/ci"}) {
		t.Fatalf("subtree of /acme: %v", got)
	}
	e.must("", 200, "GET", "/v1/namespaces", url.Values{"path": {"/acme"}, "recursive": {"false"}}, nil, &list)
	if got := paths(list.Namespaces); !slices.Equal(got, []string{"/acme/prod"}) {
		t.Fatalf("children of /acme: %v", got)
	}
	var n control.Namespace
	e.must("", 200, "GET", "/v1/namespace", pathq("/acme/prod"), nil, &n)
	if n.UUID != prod.UUID {
		t.Fatalf("get: %+v", n)
	}

	// Rename and move keep UUIDs.
	e.must("", 200, "PATCH", "/v1/namespace", pathq("/acme/prod"), map[string]string{"name": "live"}, &n)
	if n.UUID != prod.UUID || n.Path != "/acme/live" || n.Name != "live" {
		t.Fatalf("renamed: %+v", n)
	}
	e.must("", 200, "PATCH", "/v1/namespace", pathq("/acme/live"), map[string]string{"parent": "/other"}, &n)
	if n.UUID != prod.UUID || n.Path != "/other/live" || n.ParentUUID == acme.UUID {
		t.Fatalf("moved: %+v", n)
	}
	e.must("", 200, "GET", "/v1/namespace", pathq("/other/live/ci"), nil, &n)
	if n.UUID != ci.UUID {
		t.Fatalf("child after move: %+v", n)
	}

	// Errors.
	e.fails("", 409, "POST", "/v1/namespaces", nil, map[string]string{"path": "/acme"})
	e.fails("", 409, "POST", "/v1/namespaces", nil, map[string]string{"path": "/"})
	if msg := e.fails("", 404, "POST", "/v1/namespaces", nil, map[string]string{"path": "/nope/x"}); !strings.Contains(msg, `"/nope"`) {
		t.Errorf("missing parent: %q", msg)
	}
	e.fails("", 404, "GET", "/v1/namespace", pathq("/nope"), nil)
	e.fails("", 404, "DELETE", "/v1/namespace", pathq("/nope"), nil)
	e.fails("", 404, "PATCH", "/v1/namespace", pathq("/nope"), map[string]string{"name": "x"})
	e.fails("", 404, "PATCH", "/v1/namespace", pathq("/acme"), map[string]string{"parent": "/nope"})
	e.fails("", 409, "PATCH", "/v1/namespace", pathq("/other"), map[string]string{"name": "acme"})
	e.fails("", 409, "PATCH", "/v1/namespace", pathq("/other"), map[string]string{"parent": "/other/live/ci"})
	e.fails("", 409, "PATCH", "/v1/namespace", pathq("/other"), map[string]string{"parent": "/other"})
	e.mkns("/acme/live")
	e.fails("", 409, "PATCH", "/v1/namespace", pathq("/other/live"), map[string]string{"parent": "/acme"})
	e.fails("", 400, "PATCH", "/v1/namespace", pathq("/"), map[string]string{"name": "x"})
	e.fails("", 400, "PATCH", "/v1/namespace", pathq("/"), map[string]string{"parent": "/acme"})
	e.fails("", 400, "DELETE", "/v1/namespace", pathq("/"), nil)
	e.fails("", 400, "PATCH", "/v1/namespace", pathq("/acme"), map[string]string{"name": "x", "parent": "/"})
	e.fails("", 400, "PATCH", "/v1/namespace", pathq("/acme"), map[string]string{})
	e.fails("", 400, "PATCH", "/v1/namespace", pathq("/acme"), map[string]string{"name": "Bad"})

	// Delete returns the subtree, deepest first.
	var del struct{ Deleted []control.Namespace }
	e.must("", 200, "DELETE", "/v1/namespace", pathq("/other"), nil, &del)
	if got := paths(del.Deleted); !slices.Equal(got, []string{"/other/live/ci", "/other/live", "/other"}) {
		t.Fatalf("deleted %v", got)
	}
	e.fails("", 404, "GET", "/v1/namespace", pathq("/other/live"), nil)
	if err := e.c.Tree().Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestServerConfig(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	e.fails("", 404, "GET", "/v1/server", nsq("/acme"), nil)
	e.fails("", 404, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 1})
	e.fails("", 404, "DELETE", "/v1/server", nsq("/acme"), nil)
	e.fails("", 404, "POST", "/v1/server/listeners", nsq("/acme"), map[string]string{"addr": "127.0.0.90"})
	e.fails("", 404, "PUT", "/v1/server", nsq("/nope"), map[string]any{})

	// PUT with nothing: the documented defaults, stopped.
	var s server
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{}, &s)
	if s.Namespace != "/acme" || s.UUID == "" || s.Threads != 0 || !slices.Equal(s.Versions, []string{"3"}) || s.Lease != 90 || s.Grace != 90 ||
		s.MaxIO != 1<<20 || s.NFSPort != 2049 || s.MountPort != 20048 || s.PortmapPort != 111 || s.Listeners == nil || len(s.Listeners) != 0 ||
		s.Status.Running || s.Status.Error != "" {
		t.Fatalf("defaults: %+v", s)
	}
	// PUT again replaces the whole configuration: 200.
	e.must("", 200, "PUT", "/v1/server", nsq("/acme"), map[string]any{"lease_seconds": 30, "max_io": 65536, "mount_port": -1,
		"listeners": []map[string]string{{"addr": "::ffff:127.0.0.90"}, {"addr": "::1"}}}, &s)
	if s.Lease != 30 || s.Grace != 90 || s.MaxIO != 65536 || s.MountPort != -1 || len(s.Listeners) != 2 || s.Listeners[0].Addr != "127.0.0.90" || s.Listeners[1].Addr != "::1" {
		t.Fatalf("after PUT: %+v", s)
	}
	e.must("", 200, "PUT", "/v1/server", nsq("/acme"), map[string]any{"grace_seconds": 3600}, &s)
	if s.Lease != 90 || s.Grace != 3600 || s.MaxIO != 1<<20 || len(s.Listeners) != 0 {
		t.Fatalf("PUT did not reset omitted fields: %+v", s)
	}
	// PATCH changes only what it names.
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]any{"lease_seconds": 10, "versions": []string{"3"}, "portmap_port": -1}, &s)
	if s.Lease != 10 || s.Grace != 3600 || s.PortmapPort != -1 || s.NFSPort != 2049 {
		t.Fatalf("after PATCH: %+v", s)
	}
	var got server
	e.must("", 200, "GET", "/v1/server", nsq("/acme"), nil, &got)
	if got.Lease != 10 || got.Grace != 3600 || got.UUID != s.UUID {
		t.Fatalf("GET: %+v", got)
	}

	// Listeners.
	e.must("", 201, "POST", "/v1/server/listeners", nsq("/acme"), map[string]string{"addr": "127.0.0.90"}, &s)
	e.must("", 201, "POST", "/v1/server/listeners", nsq("/acme"), map[string]string{"addr": "127.0.0.90", "netns": "/proc/self/ns/net"}, &s)
	if len(s.Listeners) != 2 || s.Listeners[1] != (control.Listener{Addr: "127.0.0.90", Netns: "/proc/self/ns/net"}) {
		t.Fatalf("listeners %+v", s.Listeners)
	}
	e.fails("", 409, "POST", "/v1/server/listeners", nsq("/acme"), map[string]string{"addr": "127.0.0.90"})
	e.fails("", 409, "POST", "/v1/server/listeners", nsq("/acme"), map[string]string{"addr": "::ffff:127.0.0.90", "netns": ""})
	e.fails("", 404, "DELETE", "/v1/server/listeners", url.Values{"ns": {"/acme"}, "addr": {"127.0.0.91"}}, nil)
	e.fails("", 404, "DELETE", "/v1/server/listeners", url.Values{"ns": {"/acme"}, "addr": {"127.0.0.90"}, "netns": {"/run/netns/x"}}, nil)
	e.must("", 200, "DELETE", "/v1/server/listeners", url.Values{"ns": {"/acme"}, "addr": {"127.0.0.90"}, "netns": {"/proc/self/ns/net"}}, nil, &s)
	if len(s.Listeners) != 1 || s.Listeners[0].Netns != "" {
		t.Fatalf("after remove: %+v", s.Listeners)
	}

	// DELETE forgets everything.
	st, _ := e.call(e.root, "DELETE", "/v1/server", nsq("/acme"), nil)
	if st != 204 {
		t.Fatalf("DELETE server: %d", st)
	}
	e.fails("", 404, "GET", "/v1/server", nsq("/acme"), nil)
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{}, &s)
	if len(s.Listeners) != 0 || s.Lease != 90 {
		t.Fatalf("recreated server kept old config: %+v", s)
	}
}

func TestExports(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	d1, d2 := t.TempDir(), t.TempDir()
	e.fails("", 404, "GET", "/v1/exports", nsq("/acme"), nil)
	e.fails("", 404, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": d1})
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{}, nil)
	var list struct{ Exports []control.Export }
	e.must("", 200, "GET", "/v1/exports", nsq("/acme"), nil, &list)
	if list.Exports == nil || len(list.Exports) != 0 {
		t.Fatalf("exports of a new server: %s", fmt.Sprint(list.Exports))
	}
	var x control.Export
	e.must("", 201, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": d1}, &x)
	if x.ID != 1 || x.Squash != "root" || x.AnonUID != 65534 || x.AnonGID != 65534 || x.ReadOnly || x.Clients == nil {
		t.Fatalf("export: %+v", x)
	}
	e.must("", 201, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/ro", "dir": d2, "read_only": true, "squash": "all",
		"anon_uid": 1000, "anon_gid": 1001, "clients": []string{"127.0.0.1", "10.0.0.0/8", "10.1.2.3/8", "::ffff:192.168.0.0/112"}}, &x)
	if x.ID != 2 || !x.ReadOnly || x.Squash != "all" || x.AnonUID != 1000 || x.AnonGID != 1001 ||
		!slices.Equal(x.Clients, []string{"127.0.0.1/32", "10.0.0.0/8", "192.168.0.0/16"}) {
		t.Fatalf("export: %+v", x)
	}
	e.fails("", 409, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": d2})
	st, _ := e.call(e.root, "DELETE", "/v1/exports", url.Values{"ns": {"/acme"}, "path": {"/data"}}, nil)
	if st != 204 {
		t.Fatalf("DELETE export: %d", st)
	}
	e.fails("", 404, "DELETE", "/v1/exports", url.Values{"ns": {"/acme"}, "path": {"/data"}}, nil)
	// IDs are never reused.
	e.must("", 201, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": d1}, &x)
	if x.ID != 3 {
		t.Fatalf("re-added export got id %d, want 3", x.ID)
	}
	e.must("", 200, "GET", "/v1/exports", nsq("/acme"), nil, &list)
	if len(list.Exports) != 2 || list.Exports[0].Path != "/ro" || list.Exports[1].ID != 3 {
		t.Fatalf("exports: %+v", list.Exports)
	}

	file := filepath.Join(d1, "file")
	os.WriteFile(file, nil, 0o644)
	for name, body := range map[string]map[string]any{
		"no path":          {"dir": d1},
		"relative path":    {"path": "data", "dir": d1},
		"path with ..":     {"path": "/a/../b", "dir": d1},
		"unclean path":     {"path": "/a//b", "dir": d1},
		"trailing slash":   {"path": "/a/", "dir": d1},
		"no dir":           {"path": "/x"},
		"relative dir":     {"path": "/x", "dir": "tmp"},
		"unclean dir":      {"path": "/x", "dir": d1 + "/."},
		"missing dir":      {"path": "/x", "dir": d1 + "/missing"},
		"file as dir":      {"path": "/x", "dir": file},
		"squash":           {"path": "/x", "dir": d1, "squash": "root_squash"},
		"anon uid 0":       {"path": "/x", "dir": d1, "anon_uid": 0},
		"anon gid -1":      {"path": "/x", "dir": d1, "anon_gid": -1},
		"anon uid 2^32":    {"path": "/x", "dir": d1, "anon_uid": 1 << 32},
		"client host name": {"path": "/x", "dir": d1, "clients": []string{"localhost"}},
		"client bad cidr":  {"path": "/x", "dir": d1, "clients": []string{"10.0.0.0/33"}},
		"id given":         {"path": "/x", "dir": d1, "id": 7},
	} {
		t.Run(name, func(t *testing.T) {
			e.t = t
			e.fails("", 400, "POST", "/v1/exports", nsq("/acme"), body)
		})
	}
}

func TestTokensAndScopes(t *testing.T) {
	e := newEnv(t)
	acme := e.mkns("/acme")
	e.mkns("/acme/prod")
	e.mkns("/globex")
	e.mkns("/globex/prod")
	e.running("/globex", "127.0.0.92", 1, "")

	var tok control.Token
	e.must("", 201, "POST", "/v1/tokens", nil, map[string]string{"scope": "/acme", "name": "acme-admin"}, &tok)
	if tok.ID == "" || tok.Name != "acme-admin" || tok.Scope != "/acme" || tok.Token == "" {
		t.Fatalf("token %+v", tok)
	}
	at := tok.Token

	// The scoped view: /acme is "/", its children are relative.
	var list struct{ Namespaces []control.Namespace }
	e.must(at, 200, "GET", "/v1/namespaces", nil, nil, &list)
	if got := paths(list.Namespaces); !slices.Equal(got, []string{"/prod"}) {
		t.Fatalf("scoped list: %v", got)
	}
	var n control.Namespace
	e.must(at, 200, "GET", "/v1/namespace", pathq("/"), nil, &n)
	if n.UUID != acme.UUID || n.Path != "/" || n.Name != "" || n.ParentUUID != "" {
		t.Fatalf("scope root seen as %+v", n)
	}
	e.must(at, 201, "POST", "/v1/namespaces", nil, map[string]string{"path": "/dev"}, &n)
	if n.Path != "/dev" {
		t.Fatalf("scoped create: %+v", n)
	}
	e.must("", 200, "GET", "/v1/namespace", pathq("/acme/dev"), nil, &n)

	// Nothing outside exists for it, and messages do not name /acme.
	for _, msg := range []string{
		e.fails(at, 404, "GET", "/v1/namespace", pathq("/globex"), nil),
		e.fails(at, 404, "GET", "/v1/namespaces", url.Values{"path": {"/globex"}}, nil),
		e.fails(at, 404, "GET", "/v1/server", nsq("/globex"), nil),
		e.fails(at, 404, "PUT", "/v1/server", nsq("/globex"), map[string]any{}),
		e.fails(at, 404, "PATCH", "/v1/server", nsq("/globex"), map[string]any{"threads": 0}),
		e.fails(at, 404, "DELETE", "/v1/server", nsq("/globex"), nil),
		e.fails(at, 404, "GET", "/v1/exports", nsq("/globex"), nil),
		e.fails(at, 404, "DELETE", "/v1/namespace", pathq("/globex"), nil),
		e.fails(at, 404, "PATCH", "/v1/namespace", pathq("/globex"), map[string]string{"name": "x"}),
		e.fails(at, 404, "PATCH", "/v1/namespace", pathq("/prod"), map[string]string{"parent": "/globex"}),
		e.fails(at, 409, "POST", "/v1/namespaces", nil, map[string]string{"path": "/prod"}),
		e.fails(at, 404, "POST", "/v1/tokens", nil, map[string]string{"scope": "/globex"}),
		e.fails(at, 400, "GET", "/v1/namespace", pathq("/.."), nil),
		e.fails(at, 400, "PATCH", "/v1/namespace", pathq("/"), map[string]string{"name": "globex"}),
		e.fails(at, 400, "DELETE", "/v1/namespace", pathq("/"), nil),
	} {
		if strings.Contains(msg, "acme") {
			t.Errorf("message to a token scoped to /acme names it: %q", msg)
		}
	}
	var s server
	e.must("", 200, "GET", "/v1/server", nsq("/globex"), nil, &s)
	if !s.Status.Running || s.Threads != 1 {
		t.Fatalf("/globex changed through a token scoped to /acme: %+v", s)
	}

	// Tokens: a scoped token sees and revokes only tokens within its scope.
	var sub control.Token
	e.must(at, 201, "POST", "/v1/tokens", nil, map[string]string{"scope": "/prod", "name": "prod"}, &sub)
	if sub.Scope != "/prod" {
		t.Fatalf("sub token %+v", sub)
	}
	var gt control.Token
	e.must("", 201, "POST", "/v1/tokens", nil, map[string]string{"scope": "/globex", "name": ""}, &gt)
	var tl struct{ Tokens []control.Token }
	e.must(at, 200, "GET", "/v1/tokens", nil, nil, &tl)
	if len(tl.Tokens) != 2 || tl.Tokens[0].Scope != "/" || tl.Tokens[1].Scope != "/prod" || tl.Tokens[0].Token != "" {
		t.Fatalf("tokens seen by /acme: %+v", tl.Tokens)
	}
	e.must("", 200, "GET", "/v1/tokens", nil, nil, &tl)
	if len(tl.Tokens) != 3 || tl.Tokens[0].Scope != "/acme" || tl.Tokens[1].Scope != "/acme/prod" || tl.Tokens[2].Scope != "/globex" {
		t.Fatalf("tokens seen by root: %+v", tl.Tokens)
	}
	e.fails(at, 404, "DELETE", "/v1/tokens", url.Values{"id": {gt.ID}}, nil)
	e.fails(at, 404, "DELETE", "/v1/tokens", url.Values{"id": {"0123456789abcdef"}}, nil)
	e.fails("", 400, "DELETE", "/v1/tokens", url.Values{"id": {"root"}}, nil)

	// The sub token works, within /acme/prod.
	e.must(sub.Token, 200, "GET", "/v1/namespace", pathq("/"), nil, &n)
	if n.Path != "/" {
		t.Fatalf("sub token root: %+v", n)
	}
	if st, _ := e.call(at, "DELETE", "/v1/tokens", url.Values{"id": {sub.ID}}, nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	e.fails(sub.Token, 401, "GET", "/v1/namespaces", nil, nil)

	// A token's scope follows its namespace through a rename.
	e.must("", 200, "PATCH", "/v1/namespace", pathq("/acme"), map[string]string{"name": "initech"}, nil)
	e.must(at, 200, "GET", "/v1/namespace", pathq("/prod"), nil, &n)
	e.must("", 200, "GET", "/v1/tokens", nil, nil, &tl)
	if tl.Tokens[0].Scope != "/globex" || tl.Tokens[1].Scope != "/initech" {
		t.Fatalf("after rename: %+v", tl.Tokens)
	}
	// Deleting the namespace revokes its tokens.
	e.must("", 200, "DELETE", "/v1/namespace", pathq("/initech"), nil, nil)
	e.fails(at, 401, "GET", "/v1/namespaces", nil, nil)
	e.must("", 200, "GET", "/v1/tokens", nil, nil, &tl)
	if len(tl.Tokens) != 1 {
		t.Fatalf("tokens after delete: %+v", tl.Tokens)
	}
	if kvs, _ := e.c.Store().List(context.Background(), control.PrefixTokenIndex); len(kvs) != 1 {
		t.Fatalf("token index has %d entries, want 1", len(kvs))
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	fi, err := os.Stat(filepath.Join(e.dir, "state", "root.token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("root token file: %v %v", fi, err)
	}
	wrongSecret := e.root[:len(e.root)-1] + "A"
	if wrongSecret == e.root {
		wrongSecret = e.root[:len(e.root)-1] + "B"
	}
	for _, tok := range []string{"", "x", "root", wrongSecret, "0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", strings.Repeat("a", 1000)} {
		if st, raw := e.call(tok, "GET", "/v1/namespaces", nil, nil); st != 401 || !strings.Contains(string(raw), `"error"`) {
			t.Errorf("token %q: status %d: %s", tok, st, raw)
		}
	}
	for _, hdr := range []string{"Basic " + e.root, "Bearer", "Bearer " + e.root + " x", e.root} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/namespaces", nil)
		req.Header.Set("Authorization", hdr)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: status %d", hdr, resp.StatusCode)
		}
	}
	e.must("", 200, "GET", "/v1/namespaces", nil, nil, nil)
	// Authentication comes before validation.
	e.fails("bad", 401, "POST", "/v1/namespaces", nil, "{malformed")
}

func TestRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	e.fails("", 404, "GET", "/v1/nope", nil, nil)
	e.fails("", 404, "GET", "/", nil, nil)
	e.fails("", 404, "GET", "/v1/namespaces/", nil, nil)
	for route, allowed := range map[string]string{
		"/v1/namespaces":       "GET, POST",
		"/v1/namespace":        "DELETE, GET, PATCH",
		"/v1/server":           "DELETE, GET, PATCH, PUT",
		"/v1/server/listeners": "DELETE, POST",
		"/v1/exports":          "DELETE, GET, POST",
		"/v1/tokens":           "DELETE, GET, POST",
	} {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
			if strings.Contains(allowed, m) {
				continue
			}
			req, _ := http.NewRequest(m, e.srv.URL+route, nil)
			req.Header.Set("Authorization", "Bearer "+e.root)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != allowed {
				t.Errorf("%s %s: status %d, Allow %q", m, route, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
}

// TestBadInput: every class of bad input gets a 4xx with a message, and
// nothing is applied (the store's revision does not move).
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{"listeners": []map[string]string{{"addr": "127.0.0.93"}}}, nil)
	notNetns := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notNetns, nil, 0o644)
	type tc struct {
		name   string
		status int
		method string
		route  string
		q      url.Values
		body   any
	}
	ns := nsq("/acme")
	srv := func(body string) tc { return tc{"", 400, "PATCH", "/v1/server", ns, body} }
	cases := map[string]tc{
		// Names and paths.
		"name uppercase":     {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/Acme2"}`},
		"name underscore":    {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/a_b"}`},
		"name leading dash":  {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/-ab"}`},
		"name trailing dash": {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/ab-"}`},
		"name too long":      {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/` + strings.Repeat("a", 64) + `"}`},
		"name dot dot":       {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/acme/.."}`},
		"path relative":      {"", 400, "POST", "/v1/namespaces", nil, `{"path": "acme2"}`},
		"path empty element": {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/acme//x"}`},
		"path trailing":      {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/acme/"}`},
		"path too deep":      {"", 400, "POST", "/v1/namespaces", nil, `{"path": "` + strings.Repeat("/a", 17) + `"}`},
		"path missing":       {"", 400, "POST", "/v1/namespaces", nil, `{}`},
		"query path bad":     {"", 400, "GET", "/v1/namespace", pathq("acme"), nil},
		"query ns bad":       {"", 400, "GET", "/v1/server", nsq("/ACME"), nil},
		"query ns missing":   {"", 400, "GET", "/v1/server", nil, nil},
		"query ns empty":     {"", 400, "GET", "/v1/server", url.Values{"ns": {""}}, nil},
		"query unknown":      {"", 400, "GET", "/v1/server", url.Values{"ns": {"/acme"}, "x": {"1"}}, nil},
		"query repeated":     {"", 400, "GET", "/v1/server", url.Values{"ns": {"/acme", "/acme"}}, nil},
		"query malformed":    {"", 400, "GET", "/v1/server?ns=/acme&x=%zz", nil, nil},
		"query semicolon":    {"", 400, "GET", "/v1/server?ns=/acme;x=1", nil, nil},
		"recursive bad":      {"", 400, "GET", "/v1/namespaces", url.Values{"recursive": {"yes"}}, nil},
		"rename bad name":    {"", 400, "PATCH", "/v1/namespace", pathq("/acme"), `{"name": "a.b"}`},
		"move bad parent":    {"", 400, "PATCH", "/v1/namespace", pathq("/acme"), `{"parent": "x"}`},
		"token scope bad":    {"", 400, "POST", "/v1/tokens", nil, `{"scope": "acme"}`},
		"token scope none":   {"", 400, "POST", "/v1/tokens", nil, `{"name": "x"}`},
		"token name control": {"", 400, "POST", "/v1/tokens", nil, `{"scope": "/acme", "name": "a\nb"}`},
		"export path query":  {"", 400, "DELETE", "/v1/exports", url.Values{"ns": {"/acme"}, "path": {"/../x"}}, nil},
		// Addresses and listeners.
		"addr host name":  {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "localhost"}`},
		"addr bad":        {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "300.1.1.1"}`},
		"addr empty":      {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": ""}`},
		"addr with port":  {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1:2049"}`},
		"addr zone":       {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "fe80::1%lo"}`},
		"addr multicast":  {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "224.0.0.1"}`},
		"addr broadcast":  {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "255.255.255.255"}`},
		"remove bad addr": {"", 400, "DELETE", "/v1/server/listeners", url.Values{"ns": {"/acme"}, "addr": {"x"}}, nil},
		"remove no addr":  {"", 400, "DELETE", "/v1/server/listeners", ns, nil},
		"listeners dup":   srv(`{"listeners": [{"addr": "127.0.0.1"}, {"addr": "127.0.0.1"}]}`),
		"listeners type":  srv(`{"listeners": "127.0.0.1"}`),
		"listeners many":  srv(`{"listeners": [` + strings.TrimSuffix(strings.Repeat(`{"addr": "::"},`, 65), ",") + `]}`),
		// Network namespaces.
		"netns relative":  {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1", "netns": "run/netns/x"}`},
		"netns unclean":   {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1", "netns": "/run/netns/../x"}`},
		"netns missing":   {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1", "netns": "/run/netns/vnfsd-api-test-none"}`},
		"netns file":      {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1", "netns": "` + notNetns + `"}`},
		"netns dir":       {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1", "netns": "/proc"}`},
		"netns mnt":       {"", 400, "POST", "/v1/server/listeners", ns, `{"addr": "127.0.0.1", "netns": "/proc/self/ns/mnt"}`},
		"netns in PUT":    {"", 400, "PUT", "/v1/server", ns, `{"listeners": [{"addr": "127.0.0.1", "netns": "/proc/self/ns/uts"}]}`},
		"netns in PATCH":  srv(`{"listeners": [{"addr": "127.0.0.1", "netns": "/nonexistent"}]}`),
		"netns in remove": {"", 400, "DELETE", "/v1/server/listeners", url.Values{"ns": {"/acme"}, "addr": {"127.0.0.1"}, "netns": {"x"}}, nil},
		// Ports.
		"nfs port high":      srv(`{"nfs_port": 65536}`),
		"nfs port off":       srv(`{"nfs_port": -1}`),
		"mount port low":     srv(`{"mount_port": -2}`),
		"portmap port high":  srv(`{"portmap_port": 100000}`),
		"ports equal":        srv(`{"nfs_port": 2049, "mount_port": 2049}`),
		"port fraction":      srv(`{"nfs_port": 20.5}`),
		"port string":        srv(`{"nfs_port": "2049"}`),
		"port huge":          srv(`{"nfs_port": 1e30}`),
		"threads negative":   srv(`{"threads": -1}`),
		"threads too many":   srv(`{"threads": 8193}`),
		"threads bool":       srv(`{"threads": true}`),
		"lease low":          srv(`{"lease_seconds": 9}`),
		"grace high":         srv(`{"grace_seconds": 3601}`),
		"max_io low":         srv(`{"max_io": 4095}`),
		"max_io high":        srv(`{"max_io": 16777217}`),
		"versions empty":     srv(`{"versions": []}`),
		"versions v2":        srv(`{"versions": ["2"]}`),
		"versions dup":       srv(`{"versions": ["3", "3"]}`),
		"versions number":    srv(`{"versions": [3]}`),
		"PUT threads bad":    {"", 400, "PUT", "/v1/server", ns, `{"threads": 100000}`},
		"PUT versions null":  {"", 400, "PUT", "/v1/server", ns, `{"versions": null}`},
		"PUT status":         {"", 400, "PUT", "/v1/server", ns, `{"status": {}}`},
		"PUT uuid":           {"", 400, "PUT", "/v1/server", ns, `{"uuid": "x"}`},
		"PUT namespace":      {"", 400, "PUT", "/v1/server", ns, `{"namespace": "/acme"}`},
		"unknown field":      srv(`{"threads": 1, "bogus": 2}`),
		"field wrong case":   srv(`{"Threads": 1}`),
		"nested unknown":     srv(`{"listeners": [{"addr": "127.0.0.1", "nets": ""}]}`),
		"nested wrong case":  srv(`{"listeners": [{"Addr": "127.0.0.1"}]}`),
		"malformed":          srv(`{"threads": 1`),
		"malformed syntax":   srv(`{"threads" 1}`),
		"not an object":      srv(`[{"threads": 1}]`),
		"null":               srv(`null`),
		"string":             srv(`"x"`),
		"empty body":         srv(``),
		"whitespace body":    srv(" \n"),
		"trailing object":    srv(`{"threads": 1}{}`),
		"trailing garbage":   srv(`{"threads": 1} x`),
		"no body on PATCH":   {"", 400, "PATCH", "/v1/namespace", pathq("/acme"), nil},
		"body on GET":        {"", 400, "GET", "/v1/server", ns, `{}`},
		"body on DELETE":     {"", 400, "DELETE", "/v1/namespace", pathq("/acme"), `{}`},
		"trailing in create": {"", 400, "POST", "/v1/namespaces", nil, `{"path": "/x"} {"path": "/y"}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e.t = t
			status := c.status
			if c.body == nil && (c.method == "PATCH" || c.method == "PUT" || c.method == "POST") {
				status = 415 // no body means no Content-Type
			}
			e.fails("", status, c.method, c.route, c.q, c.body)
		})
	}
	e.t = t

	// Media type, size.
	for ct, want := range map[string]int{"": 415, "text/plain": 415, "application/json; charset=utf-8": 200, "application/jsonx": 415, "application/x-www-form-urlencoded": 415} {
		req, _ := http.NewRequest("PATCH", e.srv.URL+"/v1/server?ns=/acme", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+e.root)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Content-Type %q: status %d, want %d", ct, resp.StatusCode, want)
		}
	}
	rev := e.c.Store().Rev()
	big := `{"path": "/x", "name": "` + strings.Repeat("a", MaxBody) + `"}`
	e.fails("", 413, "POST", "/v1/tokens", nil, big)
	// Without Content-Length (chunked), the limit holds too.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/tokens", struct{ *strings.Reader }{strings.NewReader(big)})
	req.Header.Set("Authorization", "Bearer "+e.root)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked large body: status %d", resp.StatusCode)
	}
	if got := e.c.Store().Rev(); got != rev {
		t.Fatalf("store changed by refused requests: %d -> %d", rev, got)
	}

	// The server is as configured at the start.
	var s server
	e.must("", 200, "GET", "/v1/server", ns, nil, &s)
	if s.Threads != 0 || len(s.Listeners) != 1 || s.Listeners[0].Addr != "127.0.0.93" || s.NFSPort != 2049 {
		t.Fatalf("server changed: %+v", s)
	}
}

// TestConflictingListeners: two servers cannot claim one address and port
// (or the wildcard address) in one network namespace.
func TestConflictingListeners(t *testing.T) {
	e := newEnv(t)
	e.mkns("/a")
	e.mkns("/b")
	e.must("", 201, "PUT", "/v1/server", nsq("/a"), map[string]any{"listeners": []map[string]string{{"addr": "127.0.0.94"}}}, nil)
	e.must("", 201, "PUT", "/v1/server", nsq("/b"), map[string]any{}, nil)
	msg := e.fails("", 409, "POST", "/v1/server/listeners", nsq("/b"), map[string]string{"addr": "127.0.0.94"})
	if !strings.Contains(msg, `"/a"`) || !strings.Contains(msg, "2049") {
		t.Errorf("conflict message %q", msg)
	}
	e.fails("", 409, "POST", "/v1/server/listeners", nsq("/b"), map[string]string{"addr": "0.0.0.0"})
	e.fails("", 409, "PUT", "/v1/server", nsq("/b"), map[string]any{"nfs_port": 3049, "mount_port": 2049, "listeners": []map[string]string{{"addr": "127.0.0.94"}}})
	// Other ports, another address, another family or netns: no conflict.
	e.must("", 200, "PUT", "/v1/server", nsq("/b"), map[string]any{"nfs_port": 3049, "mount_port": 30048, "portmap_port": -1,
		"listeners": []map[string]string{{"addr": "127.0.0.94"}}}, nil)
	e.must("", 200, "PUT", "/v1/server", nsq("/b"), map[string]any{"listeners": []map[string]string{{"addr": "127.0.0.95"}, {"addr": "::"}, {"addr": "127.0.0.94", "netns": "/proc/self/ns/net"}}}, nil)
	// A scoped caller is not told which namespace holds it.
	var tok control.Token
	e.must("", 201, "POST", "/v1/tokens", nil, map[string]string{"scope": "/b"}, &tok)
	if msg := e.fails(tok.Token, 409, "POST", "/v1/server/listeners", nsq("/"), map[string]string{"addr": "127.0.0.94"}); strings.Contains(msg, `"/a"`) {
		t.Errorf("conflict message to a scoped token names /a: %q", msg)
	}
}

// TestThreads: threads 0 refuses connections, 8 serves MOUNT, back to 0
// the listener is gone; the pool's size is the largest threads value of
// the running servers.
func TestThreads(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	e.mkns("/globex")
	const addr = "127.0.0.91"
	nfsPort, mountPort := freePort(t, addr), freePort(t, addr)
	nfsAddr, mountAddr := addr+":"+strconv.Itoa(nfsPort), addr+":"+strconv.Itoa(mountPort)
	var s server
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{"threads": 0, "nfs_port": nfsPort, "mount_port": mountPort, "portmap_port": -1,
		"listeners": []map[string]string{{"addr": addr}}}, &s)
	e.must("", 201, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": t.TempDir(), "squash": "none"}, nil)
	if s.Status.Running || s.Status.PoolSize != 0 || e.c.PoolSize() != 0 {
		t.Fatalf("stopped server: %+v, pool %d", s.Status, e.c.PoolSize())
	}
	if !refused(t, nfsAddr) || !refused(t, mountAddr) {
		t.Fatal("threads 0 but listening")
	}

	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 8}, &s)
	if !s.Status.Running || s.Status.Listening["nfs"] != nfsAddr || s.Status.Listening["mount"] != mountAddr || s.Status.PoolSize != 8 {
		t.Fatalf("threads 8: %+v", s.Status)
	}
	h := mnt(t, mountAddr, "/data")
	if st := getattr(t, nfsAddr, h); st != 0 {
		t.Fatalf("GETATTR: status %d", st)
	}

	// An open connection is listed among the clients.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := net.Dial("tcp", nfsAddr)
	if err != nil {
		t.Fatal(err)
	}
	cl := oncrpc.NewClient(nc)
	if _, err := cl.Call(ctx, oncrpc.ProgNFS, 3, 0, oncrpc.AuthNoneCred(), nil); err != nil {
		t.Fatal(err)
	}
	e.must("", 200, "GET", "/v1/server", nsq("/acme"), nil, &s)
	if !slices.ContainsFunc(s.Status.Clients, func(c client) bool {
		return c.Remote == nc.LocalAddr().String() && c.Local == nfsAddr && c.Since != ""
	}) {
		t.Fatalf("clients %+v do not include %s", s.Status.Clients, nc.LocalAddr())
	}
	cl.Close()

	// Threads change in place: the same listener serves on.
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 3}, &s)
	if s.Status.PoolSize != 3 || e.c.PoolSize() != 3 {
		t.Fatalf("pool size %d after threads 3", s.Status.PoolSize)
	}
	// Pool size is the maximum over running servers.
	g := e.running("/globex", "127.0.0.92", 5, "")
	if g.Status.PoolSize != 5 {
		t.Fatalf("pool size %d with servers of 3 and 5 threads", g.Status.PoolSize)
	}
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 12}, &s)
	if s.Status.PoolSize != 12 {
		t.Fatalf("pool size %d with servers of 12 and 5 threads", s.Status.PoolSize)
	}
	if st := getattr(t, nfsAddr, h); st != 0 {
		t.Fatalf("GETATTR after resizing: status %d", st)
	}

	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 0}, &s)
	if s.Status.Running || len(s.Status.Listening) != 0 || s.Status.PoolSize != 5 {
		t.Fatalf("threads 0: %+v", s.Status)
	}
	if !refused(t, nfsAddr) || !refused(t, mountAddr) {
		t.Fatal("threads 0 but still listening")
	}
	e.must("", 200, "PATCH", "/v1/server", nsq("/globex"), map[string]int{"threads": 0}, &s)
	if s.Status.PoolSize != 0 || e.c.PoolSize() != 0 {
		t.Fatalf("pool size %d with every server stopped", s.Status.PoolSize)
	}
	// And back: the handle key is kept, the handle still works.
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 2}, &s)
	if st := getattr(t, nfsAddr, h); st != 0 {
		t.Fatalf("GETATTR after a stop and start: status %d", st)
	}
}

// TestExportChangesApply: exports added to or removed from a running
// server take effect at once, and handles of the others stay valid.
func TestExportChangesApply(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	s := e.running("/acme", "127.0.0.96", 4, t.TempDir())
	h := mnt(t, s.Status.Listening["mount"], "/data")
	e.must("", 201, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/more", "dir": t.TempDir()}, nil)
	e.must("", 200, "GET", "/v1/server", nsq("/acme"), nil, &s)
	mnt(t, s.Status.Listening["mount"], "/more")
	if st := getattr(t, s.Status.Listening["nfs"], h); st != 0 {
		t.Fatalf("GETATTR of /data after adding /more: %d", st)
	}
	if st, _ := e.call(e.root, "DELETE", "/v1/exports", url.Values{"ns": {"/acme"}, "path": {"/data"}}, nil); st != 204 {
		t.Fatal(st)
	}
	e.must("", 200, "GET", "/v1/server", nsq("/acme"), nil, &s)
	if st := getattr(t, s.Status.Listening["nfs"], h); st != 70 {
		t.Fatalf("GETATTR of a removed export's handle: status %d, want NFS3ERR_STALE", st)
	}
}

// TestRenameAndDelete: renaming keeps every UUID and running server (the
// same sockets: ports chosen by the system do not change); deleting stops
// the servers of the whole subtree and removes their state.
func TestRenameAndDelete(t *testing.T) {
	e := newEnv(t)
	acme := e.mkns("/acme")
	prod := e.mkns("/acme/prod")
	e.mkns("/keep")
	a := e.running("/acme", "127.0.0.97", 2, t.TempDir())
	p := e.running("/acme/prod", "127.0.0.98", 2, t.TempDir())
	k := e.running("/keep", "127.0.0.99", 2, "")
	ha := mnt(t, a.Status.Listening["mount"], "/data")

	var n control.Namespace
	e.must("", 200, "PATCH", "/v1/namespace", pathq("/acme"), map[string]string{"name": "globex"}, &n)
	if n.UUID != acme.UUID {
		t.Fatalf("rename changed the UUID: %+v", n)
	}
	var a2, p2 server
	e.must("", 200, "GET", "/v1/server", nsq("/globex"), nil, &a2)
	e.must("", 200, "GET", "/v1/server", nsq("/globex/prod"), nil, &p2)
	if a2.UUID != acme.UUID || p2.UUID != prod.UUID || a2.Namespace != "/globex" || p2.Namespace != "/globex/prod" {
		t.Fatalf("after rename: %+v %+v", a2, p2)
	}
	if !a2.Status.Running || !p2.Status.Running || a2.Status.Listening["nfs"] != a.Status.Listening["nfs"] || p2.Status.Listening["nfs"] != p.Status.Listening["nfs"] {
		t.Fatalf("servers restarted or stopped by the rename: %+v / %+v", a2.Status, p2.Status)
	}
	if st := getattr(t, a.Status.Listening["nfs"], ha); st != 0 {
		t.Fatalf("GETATTR after rename: %d", st)
	}
	e.fails("", 404, "GET", "/v1/server", nsq("/acme"), nil)
	e.must("", 200, "PATCH", "/v1/namespace", pathq("/globex/prod"), map[string]string{"parent": "/keep"}, nil)
	e.must("", 200, "GET", "/v1/server", nsq("/keep/prod"), nil, &p2)
	if p2.Status.Listening["nfs"] != p.Status.Listening["nfs"] {
		t.Fatalf("move restarted the server: %+v", p2.Status)
	}
	e.must("", 200, "PATCH", "/v1/namespace", pathq("/keep/prod"), map[string]string{"parent": "/globex"}, nil)

	for _, u := range []string{acme.UUID, prod.UUID} {
		if _, err := os.Stat(e.c.ServerStateDir(u)); err != nil {
			t.Fatal(err)
		}
	}
	var del struct{ Deleted []control.Namespace }
	e.must("", 200, "DELETE", "/v1/namespace", pathq("/globex"), nil, &del)
	if got := paths(del.Deleted); !slices.Equal(got, []string{"/globex/prod", "/globex"}) {
		t.Fatalf("deleted %v", got)
	}
	for _, addr := range []string{a.Status.Listening["nfs"], a.Status.Listening["mount"], p.Status.Listening["nfs"], p.Status.Listening["mount"]} {
		if !refused(t, addr) {
			t.Fatalf("%s still listening after the namespace's delete", addr)
		}
	}
	for _, u := range []string{acme.UUID, prod.UUID} {
		if _, err := os.Stat(e.c.ServerStateDir(u)); !os.IsNotExist(err) {
			t.Fatalf("state of a deleted server: %v", err)
		}
	}
	if kvs, _ := e.c.Store().List(context.Background(), control.PrefixServer); len(kvs) != 1 {
		t.Fatalf("%d server records left, want 1 (/keep)", len(kvs))
	}
	var k2 server
	e.must("", 200, "GET", "/v1/server", nsq("/keep"), nil, &k2)
	if !k2.Status.Running || k2.Status.Listening["nfs"] != k.Status.Listening["nfs"] || k2.Status.PoolSize != 2 {
		t.Fatalf("unrelated server: %+v", k2.Status)
	}
	// A namespace created again under the old name is a new one, without
	// a server.
	if n := e.mkns("/globex"); n.UUID == acme.UUID {
		t.Fatal("UUID reused")
	}
	e.fails("", 404, "GET", "/v1/server", nsq("/globex"), nil)
}

// TestStartFailure: a server that cannot start keeps its configuration
// and says why; fixing the cause and any change starts it.
func TestStartFailure(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	var s server
	// No listener yet.
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{"threads": 4, "nfs_port": 0, "mount_port": -1, "portmap_port": -1}, &s)
	if s.Status.Running || !strings.Contains(s.Status.Error, "no listener") || s.Threads != 4 {
		t.Fatalf("without listeners: %+v", s)
	}
	// 192.0.2.1 (TEST-NET-1) is not an address of this host.
	e.must("", 201, "POST", "/v1/server/listeners", nsq("/acme"), map[string]string{"addr": "192.0.2.1"}, &s)
	if s.Status.Running || !strings.Contains(s.Status.Error, "192.0.2.1") || len(s.Listeners) != 1 || s.Status.PoolSize != 0 {
		t.Fatalf("unassignable address: %+v", s)
	}
	e.must("", 200, "GET", "/v1/server", nsq("/acme"), nil, &s)
	if s.Status.Running || s.Status.Error == "" {
		t.Fatalf("GET: %+v", s.Status)
	}
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]any{"listeners": []map[string]string{{"addr": "127.0.0.90"}}}, &s)
	if !s.Status.Running || s.Status.Error != "" || s.Status.PoolSize != 4 {
		t.Fatalf("after fixing the listener: %+v", s.Status)
	}
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]any{"threads": 0}, &s)
	if s.Status.Running || s.Status.Error != "" {
		t.Fatalf("stopped: %+v", s.Status)
	}
}

// TestNetnsListener: a listener in a network namespace given by path (the
// process's own, so that the test needs no privileges) serves.
func TestNetnsListener(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	var s server
	e.must("", 201, "PUT", "/v1/server", nsq("/acme"), map[string]any{"threads": 1, "nfs_port": 0, "mount_port": 0, "portmap_port": -1,
		"listeners": []map[string]string{{"addr": "127.0.0.95", "netns": "/proc/self/ns/net"}}}, &s)
	e.must("", 201, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": t.TempDir()}, nil)
	e.must("", 200, "GET", "/v1/server", nsq("/acme"), nil, &s)
	if !s.Status.Running {
		t.Fatalf("not running: %s", s.Status.Error)
	}
	mnt(t, s.Status.Listening["mount"], "/data")
}
