package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/control"
	"github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// idmapServer is the part of a server's JSON the id_map tests look at.
type idmapServer struct {
	IDMap  *control.IDMapConfig `json:"id_map"`
	Status struct {
		Running   bool              `json:"running"`
		Listening map[string]string `json:"listening"`
		Error     string            `json:"error"`
	} `json:"status"`
}

// getIDMap returns the server of path as idmapServer and whether its JSON
// has the key id_map at all.
func (e *env) getIDMap(path string) (idmapServer, bool) {
	e.t.Helper()
	var s idmapServer
	e.must("", http.StatusOK, "GET", "/v1/server", nsq(path), nil, &s)
	var raw map[string]json.RawMessage
	e.must("", http.StatusOK, "GET", "/v1/server", nsq(path), nil, &raw)
	_, has := raw["id_map"]
	return s, has
}

// nfs4Owners returns the owner and owner_group of the export /data of
// the NFSv4 server at addr (PUTROOTFH, LOOKUP, GETATTR with NFSv4.0).
func nfs4Owners(t *testing.T, addr string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := nfs4client.Dial(ctx, addr, nfs4client.SysCred(0, 0))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	res, err := c.Compound(ctx, 0, nfs4client.Putrootfh(), nfs4client.Lookup("data"),
		nfs4client.Getattr(nfs4client.FATTR4_OWNER, nfs4client.FATTR4_OWNER_GROUP))
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		t.Fatalf("GETATTR owner on %s: %v", addr, err)
	}
	v, err := res.Last().Attrs()
	if err != nil {
		t.Fatalf("GETATTR owner on %s: %v", addr, err)
	}
	return v.Owner, v.OwnerGroup
}

// TestIDMap: PUT and PATCH /v1/server take an id_map, refuse bad ones
// with 400 and nothing stored, and the running NFSv4 server names owners
// by it.
func TestIDMap(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	dir := t.TempDir()
	if err := os.Chown(dir, 1000, 50); err != nil {
		t.Fatal(err)
	}
	// put is a PUT body with id_map (none if "").
	put := func(idmap string) string {
		if idmap != "" {
			idmap = `, "id_map": ` + idmap
		}
		return `{"threads": 1, "versions": ["3", "4.0"], "nfs_port": 0, "mount_port": 0, "portmap_port": -1,
			"listeners": [{"addr": "127.0.0.97"}]` + idmap + `}`
	}
	var s idmapServer
	e.must("", http.StatusCreated, "PUT", "/v1/server", nsq("/acme"),
		put(`{"domain": "Example.com", "users": {"alice": 1000}, "groups": {"staff": 50}}`), &s)
	want := &control.IDMapConfig{Domain: "Example.com", Users: map[string]int64{"alice": 1000}, Groups: map[string]int64{"staff": 50}}
	if !reflect.DeepEqual(s.IDMap, want) {
		t.Fatalf("PUT returned id_map %+v, want %+v", s.IDMap, want)
	}
	e.must("", http.StatusCreated, "POST", "/v1/exports", nsq("/acme"), map[string]any{"path": "/data", "dir": dir, "squash": "none"}, nil)
	check := func(when string, want *control.IDMapConfig, owner, group string) {
		t.Helper()
		s, has := e.getIDMap("/acme")
		if !reflect.DeepEqual(s.IDMap, want) || has != (want != nil) {
			t.Fatalf("%s: id_map %+v (key present %v), want %+v", when, s.IDMap, has, want)
		}
		if !s.Status.Running {
			t.Fatalf("%s: not running: %s", when, s.Status.Error)
		}
		o, g := nfs4Owners(t, s.Status.Listening["nfs"])
		if o != owner || g != group {
			t.Fatalf("%s: NFSv4 owner %q group %q, want %q %q", when, o, g, owner, group)
		}
	}
	check("after PUT", want, "alice@Example.com", "staff@Example.com")

	var many strings.Builder
	many.WriteString(`{"domain": "example.com", "users": {`)
	for i := range control.MaxIDMapUsers + 1 {
		if i > 0 {
			many.WriteString(",")
		}
		fmt.Fprintf(&many, `"u%d": %d`, i, i)
	}
	many.WriteString(`}}`)
	for _, tc := range []struct {
		name, idmap, want string
	}{
		{"no domain", `{"users": {"alice": 1000}}`, "a domain is needed"},
		{"domain trailing dot", `{"domain": "example.com.", "users": {"alice": 1000}}`, "is not a domain name"},
		{"domain underscore", `{"domain": "a_b.com"}`, "is not a domain name"},
		{"domain too long", `{"domain": "` + strings.Repeat("a.", 127) + `"}`, "at most 253"},
		{"name with @", `{"domain": "example.com", "users": {"alice@example.com": 1000}}`, "holds '@'"},
		{"name with space", `{"domain": "example.com", "groups": {"staff ": 50}}`, "white space"},
		{"name with NUL", `{"domain": "example.com", "users": {"a\u0000b": 1}}`, "control"},
		{"name too long", `{"domain": "example.com", "users": {"` + strings.Repeat("x", 65) + `": 1}}`, "must be 1..64"},
		{"name empty", `{"domain": "example.com", "users": {"": 1}}`, "must be 1..64"},
		{"id negative", `{"domain": "example.com", "users": {"alice": -1}}`, "out of range 0..4294967294"},
		{"id 2^32-1", `{"domain": "example.com", "users": {"alice": 4294967295}}`, "out of range 0..4294967294"},
		{"ids shared", `{"domain": "example.com", "groups": {"b": 5, "a": 5}}`, `"a" and "b" both have id 5`},
		{"too many users", many.String(), "10001 given, at most 10000"},
		{"id a string", `{"domain": "example.com", "users": {"alice": "1000"}}`, "id_map.users"},
		{"id a fraction", `{"domain": "example.com", "users": {"alice": 1.5}}`, "id_map.users"},
		{"id huge", `{"domain": "example.com", "users": {"alice": 1e30}}`, "id_map.users"},
		{"users an array", `{"domain": "example.com", "users": ["alice"]}`, "id_map.users"},
		{"domain a number", `{"domain": 5}`, "id_map.domain"},
		{"id_map a string", `"example.com"`, "id_map"},
		{"unknown field", `{"domain": "example.com", "user": {}}`, `unknown field "user"`},
		{"field wrong case", `{"Domain": "example.com"}`, `unknown field "id_map.Domain"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			for _, req := range []struct{ method, body string }{
				{"PUT", put(tc.idmap)},
				{"PATCH", `{"id_map": ` + tc.idmap + `}`},
			} {
				msg := e.fails("", http.StatusBadRequest, req.method, "/v1/server", nsq("/acme"), req.body)
				t.Logf("%s: %s", req.method, msg)
				if !strings.Contains(msg, tc.want) {
					t.Errorf("%s: message %q, want it to contain %q", req.method, msg, tc.want)
				}
			}
		})
	}
	e.t = t
	check("after refused changes", want, "alice@Example.com", "staff@Example.com")

	// PATCH without id_map, or with null, keeps it.
	e.must("", http.StatusOK, "PATCH", "/v1/server", nsq("/acme"), `{"threads": 2}`, nil)
	e.must("", http.StatusOK, "PATCH", "/v1/server", nsq("/acme"), `{"id_map": null}`, nil)
	check("after PATCH without id_map", want, "alice@Example.com", "staff@Example.com")

	// PATCH with an id_map replaces it whole; the server restarts with it.
	e.must("", http.StatusOK, "PATCH", "/v1/server", nsq("/acme"), `{"id_map": {"domain": "corp.example", "users": {"bob": 1000}}}`, &s)
	want = &control.IDMapConfig{Domain: "corp.example", Users: map[string]int64{"bob": 1000}, Groups: map[string]int64{}}
	if !reflect.DeepEqual(s.IDMap, want) {
		t.Fatalf("PATCH returned id_map %+v, want %+v", s.IDMap, want)
	}
	check("after PATCH", want, "bob@corp.example", "50")

	// PATCH {"id_map": {}} removes it: numbers only, and no id_map in GET.
	e.must("", http.StatusOK, "PATCH", "/v1/server", nsq("/acme"), `{"id_map": {}}`, nil)
	check("after PATCH {}", nil, "1000", "50")

	// A PUT without id_map has none either.
	e.must("", http.StatusOK, "PUT", "/v1/server", nsq("/acme"), put(`{"domain": "example.com", "groups": {"staff": 50}}`), nil)
	check("after second PUT", &control.IDMapConfig{Domain: "example.com", Users: map[string]int64{}, Groups: map[string]int64{"staff": 50}}, "1000", "staff@example.com")
	e.must("", http.StatusOK, "PUT", "/v1/server", nsq("/acme"), put(""), nil)
	check("after PUT without id_map", nil, "1000", "50")
	e.must("", http.StatusOK, "PUT", "/v1/server", nsq("/acme"), put(`{"domain": "example.com", "users": {"alice": 1000}}`), nil)
	check("after third PUT", &control.IDMapConfig{Domain: "example.com", Users: map[string]int64{"alice": 1000}, Groups: map[string]int64{}}, "alice@example.com", "50")
	e.must("", http.StatusOK, "PUT", "/v1/server", nsq("/acme"), put(`null`), nil)
	check("after PUT with id_map null", nil, "1000", "50")
}
