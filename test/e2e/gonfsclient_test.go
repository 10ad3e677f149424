package e2e

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	nfs "github.com/vmware/go-nfs-client/nfs"
	"github.com/vmware/go-nfs-client/nfs/rpc"
	nfsxdr "github.com/vmware/go-nfs-client/nfs/xdr"
)

// NFSv3 procedures that go-nfs-client has no helper for; we send them with
// its generic RPC client and XDR encoder.
const (
	procGetattr = 1
	procSetattr = 2
	procRename  = 14
)

type diropargs struct {
	FH   []byte
	Name string
}

func callStatus(t *testing.T, tg *nfs.Target, call interface{}) io.ReadSeeker {
	t.Helper()
	res, err := tg.Call(call)
	if err != nil {
		t.Fatalf("rpc: %v", err)
	}
	status, err := nfsxdr.ReadUint32(res)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if status != 0 {
		t.Fatalf("nfsstat3 %d", status)
	}
	return res
}

func getattr(t *testing.T, tg *nfs.Target, auth rpc.Auth, fh []byte) nfs.Fattr {
	t.Helper()
	res := callStatus(t, tg, &struct {
		rpc.Header
		FH []byte
	}{rpc.Header{Rpcvers: 2, Prog: nfs.Nfs3Prog, Vers: nfs.Nfs3Vers, Proc: procGetattr, Cred: auth, Verf: rpc.AuthNull}, fh})
	var fa nfs.Fattr
	if err := nfsxdr.Read(res, &fa); err != nil {
		t.Fatal(err)
	}
	return fa
}

// TestGoNFSClient drives the server with github.com/vmware/go-nfs-client:
// mkdir, create, write, read, rename, remove, readdir, getattr, setattr.
func TestGoNFSClient(t *testing.T) {
	s := startServer(t, "127.0.0.62", "")
	mnt, err := nfs.DialMount(s.addr)
	if err != nil {
		t.Fatalf("dial mount: %v\n%s", err, s.log)
	}
	defer mnt.Close()
	authUnix := rpc.NewAuthUnix("e2e", 0, 0)
	auth := authUnix.Auth()
	tg, err := mnt.Mount("/export", auth)
	if err != nil {
		t.Fatalf("mount: %v\n%s", err, s.log)
	}
	defer mnt.Unmount()
	defer tg.Close()

	// mkdir
	dirFH, err := tg.Mkdir("dir", 0o755)
	if err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(s.data, "export", "dir")); err != nil || !fi.IsDir() {
		t.Fatalf("mkdir not visible on the server: %v", err)
	}

	// create + write (several WRITEs and a COMMIT through the client)
	data := make([]byte, 2<<20+777)
	rand.Read(data)
	f, err := tg.OpenFile("dir/file.bin", 0o644)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if n, err := f.Write(data); err != nil || n != len(data) {
		t.Fatalf("write: %d %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close (commit): %v", err)
	}

	// read
	rf, err := tg.Open("dir/file.bin")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	got, err := io.ReadAll(rf)
	rf.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, err %v; want %d identical bytes", len(got), err, len(data))
	}

	// getattr
	_, fileFH, err := tg.Lookup("dir/file.bin")
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	fa := getattr(t, tg, auth, fileFH)
	if fa.Type != 1 || fa.Filesize != uint64(len(data)) || fa.FileMode&0o777 != 0o644 {
		t.Fatalf("getattr: type %d size %d mode %o", fa.Type, fa.Filesize, fa.FileMode)
	}

	// setattr: mode 0600 and size 1000, no guard
	callStatus(t, tg, &struct {
		rpc.Header
		FH        []byte
		SetMode   uint32
		Mode      uint32
		SetUID    uint32
		SetGID    uint32
		SetSize   uint32
		Size      uint64
		SetAtime  uint32
		SetMtime  uint32
		CheckCtim uint32
	}{rpc.Header{Rpcvers: 2, Prog: nfs.Nfs3Prog, Vers: nfs.Nfs3Vers, Proc: procSetattr, Cred: auth, Verf: rpc.AuthNull},
		fileFH, 1, 0o600, 0, 0, 1, 1000, 0, 0, 0})
	fa = getattr(t, tg, auth, fileFH)
	if fa.FileMode&0o777 != 0o600 || fa.Filesize != 1000 {
		t.Fatalf("after setattr: mode %o size %d", fa.FileMode, fa.Filesize)
	}
	if fi, err := os.Stat(filepath.Join(s.data, "export", "dir", "file.bin")); err != nil || fi.Size() != 1000 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("setattr not applied on the server: %v %v", fi, err)
	}

	// rename dir/file.bin -> renamed.bin at the root
	_, rootFH, err := tg.Lookup(".")
	if err != nil {
		// some client versions cannot look up "."; use the mount handle
		rootFH = nil
	}
	if rootFH == nil {
		t.Fatalf("lookup of the root: %v", err)
	}
	callStatus(t, tg, &struct {
		rpc.Header
		From, To diropargs
	}{rpc.Header{Rpcvers: 2, Prog: nfs.Nfs3Prog, Vers: nfs.Nfs3Vers, Proc: procRename, Cred: auth, Verf: rpc.AuthNull},
		diropargs{dirFH, "file.bin"}, diropargs{rootFH, "renamed.bin"}})
	if _, _, err := tg.Lookup("dir/file.bin"); err == nil {
		t.Fatal("old name still there after rename")
	}
	if _, _, err := tg.Lookup("renamed.bin"); err != nil {
		t.Fatalf("new name missing after rename: %v", err)
	}

	// readdir
	for i := 0; i < 300; i++ {
		name := "dir/f" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if _, err := tg.Create(name, 0o644); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	ents, err := tg.ReadDirPlus("dir")
	if err != nil {
		t.Fatalf("readdirplus: %v", err)
	}
	var names []string
	for _, e := range ents {
		if e.FileName != "." && e.FileName != ".." {
			names = append(names, e.FileName)
		}
	}
	sort.Strings(names)
	if len(names) != 300 {
		t.Fatalf("readdirplus listed %d entries, want 300", len(names))
	}

	// remove + rmdir
	if err := tg.Remove("renamed.bin"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := tg.RmDir("dir"); err == nil {
		t.Fatal("rmdir of a non-empty directory succeeded")
	}
	if err := tg.RemoveAll("dir"); err != nil {
		t.Fatalf("removeall: %v", err)
	}
	left, _ := os.ReadDir(filepath.Join(s.data, "export"))
	if len(left) != 0 {
		t.Fatalf("export not empty after removals: %v", left)
	}
}
