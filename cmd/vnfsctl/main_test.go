package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAPI records the requests it gets and answers with a canned body.
type fakeAPI struct {
	method, path, query, auth, ctype string
	body                             map[string]any
	status                           int
	reply                            string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.method, f.path, f.query, f.auth, f.ctype = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
	f.body = nil
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &f.body); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	io.WriteString(w, f.reply)
}

func TestRequests(t *testing.T) {
	idMapFile := filepath.Join(t.TempDir(), "idmap.json")
	if err := os.WriteFile(idMapFile, []byte(`{"domain":"example.com","users":{"alice":1000},"groups":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	nsReply := `{"uuid":"u-1","name":"prod","path":"/acme/prod","parent_uuid":"u-0","created":"2026-11-23T00:00:00Z"}`
	serverReply := `{"namespace":"/acme","uuid":"u-2","threads":8,"versions":["3"],"lease_seconds":90,"grace_seconds":90,"max_io":1048576,"nfs_port":2049,"mount_port":20048,"portmap_port":111,"listeners":[{"addr":"127.0.0.2","netns":""}],"status":{"running":true,"listening":{"nfs":"127.0.0.2:2049"},"clients":[{"remote":"127.0.0.1:700","local":"127.0.0.2:2049","since":"t"}],"pool_size":8}}`
	for _, tc := range []struct {
		args                []string
		status              int
		reply               string
		method, path, query string
		body                string // JSON of the expected body, "" for none
		wantOut             string // substring of stdout
		wantCode            int
	}{
		{[]string{"ns", "create", "/acme/prod"}, 201, nsReply, "POST", "/v1/namespaces", "", `{"path":"/acme/prod"}`, "/acme/prod", 0},
		{[]string{"ns", "list", "/acme", "--recursive"}, 200, `{"namespaces":[` + nsReply + `]}`, "GET", "/v1/namespaces", "path=%2Facme&recursive=true", "", "u-1", 0},
		{[]string{"ns", "list"}, 200, `{"namespaces":[]}`, "GET", "/v1/namespaces", "", "", "PATH", 0},
		{[]string{"ns", "show", "/acme"}, 200, nsReply, "GET", "/v1/namespace", "path=%2Facme", "", "u-1", 0},
		{[]string{"ns", "rename", "/acme", "globex"}, 200, nsReply, "PATCH", "/v1/namespace", "path=%2Facme", `{"name":"globex"}`, "u-1", 0},
		{[]string{"ns", "move", "/acme/prod", "/globex"}, 200, nsReply, "PATCH", "/v1/namespace", "path=%2Facme%2Fprod", `{"parent":"/globex"}`, "u-1", 0},
		{[]string{"ns", "delete", "/acme"}, 200, `{"deleted":[` + nsReply + `]}`, "DELETE", "/v1/namespace", "path=%2Facme", "", "deleted /acme/prod (u-1)", 0},
		{[]string{"server", "create", "/acme", "--threads", "8", "--listen", "127.0.0.2,127.0.0.3", "--netns", "/run/netns/x", "--versions", "3"}, 201, serverReply,
			"PUT", "/v1/server", "ns=%2Facme", `{"threads":8,"versions":["3"],"listeners":[{"addr":"127.0.0.2","netns":"/run/netns/x"},{"addr":"127.0.0.3","netns":"/run/netns/x"}]}`, "running", 0},
		{[]string{"server", "set", "/acme", "--threads", "0"}, 200, serverReply, "PATCH", "/v1/server", "ns=%2Facme", `{"threads":0}`, "127.0.0.1:700", 0},
		{[]string{"server", "set", "/acme", "--lease", "30", "--grace", "40", "--max-io", "65536", "--nfs-port", "3049", "--mount-port", "-1", "--portmap-port", "1111"}, 200, serverReply, "PATCH", "/v1/server", "ns=%2Facme",
			`{"lease_seconds":30,"grace_seconds":40,"max_io":65536,"nfs_port":3049,"mount_port":-1,"portmap_port":1111}`, "threads", 0},
		{[]string{"server", "show", "/acme"}, 200, serverReply, "GET", "/v1/server", "ns=%2Facme", "", "pool size 8", 0},
		{[]string{"server", "delete", "/acme"}, 204, "", "DELETE", "/v1/server", "ns=%2Facme", "", "deleted server of /acme", 0},
		{[]string{"server", "listener", "add", "/acme", "127.0.0.5", "--netns", "/run/netns/b"}, 201, serverReply, "POST", "/v1/server/listeners", "ns=%2Facme", `{"addr":"127.0.0.5","netns":"/run/netns/b"}`, "listener", 0},
		{[]string{"server", "listener", "remove", "/acme", "127.0.0.5"}, 200, serverReply, "DELETE", "/v1/server/listeners", "addr=127.0.0.5&ns=%2Facme", "", "listener", 0},
		{[]string{"server", "set", "/acme", "--id-map", idMapFile}, 200, serverReply, "PATCH", "/v1/server", "ns=%2Facme",
			`{"id_map":{"domain":"example.com","users":{"alice":1000},"groups":{}}}`, "threads", 0},
		{[]string{"server", "unlock", "/acme", "--client", "127.0.0.7"}, 200, `{"released":3}`, "POST", "/v1/server/unlock", "ns=%2Facme", `{"client":"127.0.0.7"}`, "released 3 locks", 0},
		{[]string{"server", "unlock", "/acme", "--export", "/data"}, 200, `{"released":0}`, "POST", "/v1/server/unlock", "ns=%2Facme", `{"export":"/data"}`, "released 0 locks", 0},
		{[]string{"export", "add", "/acme", "/data", "/srv/a", "--ro", "--squash", "all", "--anon-uid", "1000", "--clients", "127.0.0.0/8"}, 201, `{"id":1,"path":"/data","dir":"/srv/a","read_only":true,"squash":"all","clients":["127.0.0.0/8"]}`,
			"POST", "/v1/exports", "ns=%2Facme", `{"path":"/data","dir":"/srv/a","read_only":true,"squash":"all","anon_uid":1000,"clients":["127.0.0.0/8"]}`, "ro", 0},
		{[]string{"export", "list", "/acme"}, 200, `{"exports":[{"id":1,"path":"/data","dir":"/srv/a"}]}`, "GET", "/v1/exports", "ns=%2Facme", "", "/srv/a", 0},
		{[]string{"export", "remove", "/acme", "/data"}, 204, "", "DELETE", "/v1/exports", "ns=%2Facme&path=%2Fdata", "", "removed export /data", 0},
		{[]string{"token", "create", "/acme", "--name", "ops"}, 201, `{"id":"t1","name":"ops","scope":"/acme","token":"secret"}`, "POST", "/v1/tokens", "", `{"scope":"/acme","name":"ops"}`, "secret", 0},
		{[]string{"token", "list"}, 200, `{"tokens":[{"id":"t1","name":"ops","scope":"/acme"}]}`, "GET", "/v1/tokens", "", "", "t1", 0},
		{[]string{"token", "delete", "t1"}, 204, "", "DELETE", "/v1/tokens", "id=t1", "", "revoked token t1", 0},
		{[]string{"-o", "json", "ns", "show", "/acme"}, 200, nsReply, "GET", "/v1/namespace", "path=%2Facme", "", `"uuid": "u-1"`, 0},
		{[]string{"ns", "show", "/nope"}, 404, `{"error":"namespace /nope not found"}`, "GET", "/v1/namespace", "path=%2Fnope", "", "", 1},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			api.status, api.reply = tc.status, tc.reply
			api.method = ""
			var out, errb bytes.Buffer
			code := run(append([]string{"--api", srv.URL, "--token", "tok"}, tc.args...), &out, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.wantCode, errb.String())
			}
			if api.method != tc.method || api.path != tc.path || api.query != tc.query {
				t.Fatalf("request %s %s?%s, want %s %s?%s", api.method, api.path, api.query, tc.method, tc.path, tc.query)
			}
			if api.auth != "Bearer tok" {
				t.Fatalf("Authorization %q", api.auth)
			}
			if tc.body == "" {
				if api.body != nil {
					t.Fatalf("unexpected body %v", api.body)
				}
			} else {
				var want map[string]any
				json.Unmarshal([]byte(tc.body), &want)
				gb, _ := json.Marshal(api.body)
				wb, _ := json.Marshal(want)
				if !bytes.Equal(gb, wb) {
					t.Fatalf("body %s, want %s", gb, wb)
				}
				if api.ctype != "application/json" {
					t.Fatalf("Content-Type %q", api.ctype)
				}
			}
			if tc.wantCode == 0 && !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output lacks %q:\n%s", tc.wantOut, out.String())
			}
			if tc.wantCode == 1 && !strings.Contains(errb.String(), "namespace /nope not found (HTTP 404)") {
				t.Fatalf("error not reported: %s", errb.String())
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	notObject := filepath.Join(t.TempDir(), "list.json")
	if err := os.WriteFile(notObject, []byte(`["alice"]`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"server", "set", "/a", "--id-map", notObject},
		{"server", "set", "/a", "--id-map", "/nonexistent/idmap.json"},
		{},
		{"bogus"},
		{"ns"},
		{"ns", "create"},
		{"ns", "create", "/a", "/b"},
		{"ns", "rename", "/a"},
		{"server", "set", "/a"},
		{"server", "create", "/a", "--netns", "/run/netns/x"},
		{"server", "set", "/a", "--threads", "many"},
		{"server", "listener", "add", "/a"},
		{"server", "unlock", "/a"},
		{"server", "unlock", "/a", "--client", "1.2.3.4", "--export", "/x"},
		{"export", "add", "/a", "/data"},
		{"export", "add", "/a", "/data", "/d", "--anon-uid", "-1"},
		{"token", "list", "extra"},
		{"-o", "yaml", "ns", "list"},
		{"--api", "ftp://x", "ns", "list"},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"--token", "t"}, args...), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", args, code, errb.String())
		}
	}
}

func TestTokenFile(t *testing.T) {
	api := &fakeAPI{status: 200, reply: `{"tokens":[]}`}
	srv := httptest.NewServer(api)
	defer srv.Close()
	f := filepath.Join(t.TempDir(), "root.token")
	os.WriteFile(f, []byte("from-file\n"), 0o600)
	var out, errb bytes.Buffer
	t.Setenv("VNFSD_TOKEN", "")
	if code := run([]string{"--api", srv.URL, "--token-file", f, "token", "list"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if api.auth != "Bearer from-file" {
		t.Fatalf("Authorization %q", api.auth)
	}
	if code := run([]string{"--api", srv.URL, "--token-file", f + ".missing", "token", "list"}, &out, &errb); code != 1 {
		t.Fatalf("missing token file: exit %d", code)
	}
}
