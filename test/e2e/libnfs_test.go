package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLibnfsCopy copies a 3 MB random file up with nfs-cp, lists it with
// nfs-ls, copies it back down, and checks both copies byte for byte.
func TestLibnfsCopy(t *testing.T) {
	nfsCp := needTool(t, "nfs-cp", "libnfs-utils")
	nfsLs := needTool(t, "nfs-ls", "libnfs-utils")
	s := startServer(t, "127.0.0.61", "")

	tmp := t.TempDir()
	src := filepath.Join(tmp, "random.bin")
	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	url := "nfs://" + s.addr + "/export/random.bin?version=3"
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s\nserver log:\n%s", filepath.Base(name), args, err, out, s.log)
		}
		return string(out)
	}

	run(nfsCp, src, url)
	onServer, err := os.ReadFile(filepath.Join(s.data, "export", "random.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(onServer) != sha256.Sum256(data) {
		t.Fatalf("uploaded file differs: %d bytes on the server, %d sent", len(onServer), len(data))
	}

	ls := run(nfsLs, "nfs://"+s.addr+"/export?version=3")
	if !strings.Contains(ls, "random.bin") || !strings.Contains(ls, " "+strconv.Itoa(len(data))+" ") {
		t.Fatalf("nfs-ls does not list random.bin with its size:\n%s", ls)
	}

	back := filepath.Join(tmp, "back.bin")
	run(nfsCp, url, back)
	got, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded file differs: %d bytes, want %d", len(got), len(data))
	}
}
