package api

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vnfsd/vnfsd/internal/control"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/nlm"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// TestUnlock: POST /v1/server/unlock drops the NLM locks of one client
// (unlock_ip) or of one export (unlock_fs) of a running server.
func TestUnlock(t *testing.T) {
	e := newEnv(t)
	e.mkns("/acme")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	s := e.running("/acme", "127.0.0.93", 4, dir)
	root := mnt(t, s.Status.Listening["mount"], "/data")
	var w xdr.Writer
	w.Opaque(root)
	w.String("f")
	r := xdr.NewReader(rpc(t, s.Status.Listening["nfs"], oncrpc.ProgNFS, 3, nfs3.ProcLOOKUP, w.B))
	if st := r.Uint32(); st != 0 {
		t.Fatalf("LOOKUP: %d", st)
	}
	fh := append([]byte(nil), r.Opaque(nfs3.FHSize3)...)
	nlmAddr := s.Status.Listening["nlm"]
	if nlmAddr == "" {
		t.Fatalf("no NLM listener in %v", s.Status.Listening)
	}
	lock := func(svid int32) nlm.Stat {
		// A reclaim: the server just started and is in its grace period.
		a := nlm.LockArgs{Cookie: []byte{1}, Exclusive: true, Reclaim: true, State: 1,
			Lock: nlm.Lock4{CallerName: "c", FH: fh, OH: []byte("o"), Svid: svid, Len: 10}}
		var w xdr.Writer
		a.Encode(&w)
		r := xdr.NewReader(rpc(t, nlmAddr, oncrpc.ProgNLM, 4, nlm.ProcLock, w.B))
		r.Opaque(nlm.MaxNetobj)
		return nlm.Stat(r.Uint32())
	}
	if st := lock(1); st != nlm.Granted {
		t.Fatalf("reclaim: %v", st)
	}
	if st := lock(2); st != nlm.Denied {
		t.Fatalf("conflicting lock: %v", st)
	}
	// The locking client is on the server's NSM monitor list, kept in the
	// control store.
	kv, ok, err := e.c.Store().Get(context.Background(), control.PrefixNSM+s.UUID)
	if err != nil || !ok {
		t.Fatalf("no NSM record in the store: %v", err)
	}
	state, hosts, err := nsm.Unmarshal(kv.Value)
	if err != nil || state%2 != 1 || len(hosts) != 1 || hosts[0].Addr != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("NSM record: state %d, hosts %+v, %v", state, hosts, err)
	}
	var out struct {
		Released int `json:"released"`
	}
	e.must("", 200, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"client": "127.0.0.55"}, &out)
	if out.Released != 0 {
		t.Fatalf("unlock of a client without locks released %d", out.Released)
	}
	e.must("", 200, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"client": "127.0.0.1"}, &out)
	if out.Released != 1 {
		t.Fatalf("unlock of the holder released %d, want 1", out.Released)
	}
	if st := lock(2); st != nlm.Granted {
		t.Fatalf("lock after unlock_ip: %v", st)
	}
	e.must("", 200, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"export": "/data"}, &out)
	if out.Released != 1 {
		t.Fatalf("unlock of the export released %d, want 1", out.Released)
	}
	e.fails("", 400, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{})
	e.fails("", 400, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"client": "127.0.0.1", "export": "/data"})
	e.fails("", 400, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"client": "not-an-ip"})
	e.fails("", 400, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"host": "127.0.0.1"})
	e.fails("", 404, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"export": "/nope"})
	e.fails("", 404, "POST", "/v1/server/unlock", nsq("/globex"), map[string]string{"export": "/data"})
	e.must("", 200, "PATCH", "/v1/server", nsq("/acme"), map[string]int{"threads": 0}, nil)
	e.fails("", 409, "POST", "/v1/server/unlock", nsq("/acme"), map[string]string{"export": "/data"})
	// Deleting the server forgets its monitor list.
	e.must("", 204, "DELETE", "/v1/server", nsq("/acme"), nil, nil)
	if _, ok, _ := e.c.Store().Get(context.Background(), control.PrefixNSM+s.UUID); ok {
		t.Fatal("NSM record left after the server was deleted")
	}
}
