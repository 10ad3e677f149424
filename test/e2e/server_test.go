// Package e2e runs vnfsd as a process and drives it with NFS clients that
// nobody in this project wrote: Debian's libnfs-utils and
// github.com/vmware/go-nfs-client.
package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

var vnfsdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vnfsd-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vnfsdBin = filepath.Join(dir, "vnfsd")
	build := exec.Command("go", "build", "-o", vnfsdBin, "../../cmd/vnfsd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building vnfsd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one vnfsd process serving its embedded default on a loopback
// address of its own, with the standard ports (clients such as
// go-nfs-client always ask the portmapper on port 111).
type server struct {
	addr string
	data string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func startServer(t *testing.T, addr string, data string, extra ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	s := &server{addr: addr, data: data, log: &bytes.Buffer{}}
	args := append([]string{"serve", "--data", data, "--listen", addr, "--no-root-squash"}, extra...)
	s.cmd = exec.Command(vnfsdBin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range []string{"111", "20048", "2049"} {
		for {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, port), time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("vnfsd did not listen on %s:%s: %v\n%s", addr, port, err, s.log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return s
}

func (s *server) stop(t *testing.T) {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("vnfsd exited with %v\n%s", err, s.log)
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
		t.Errorf("vnfsd did not stop within 15 s of SIGTERM\n%s", s.log)
	}
}

// needTool returns the path of a client binary. In CI (CI=true) a missing
// tool is a failure, since the test script installs it; elsewhere the test
// is skipped with the reason.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not found: install Debian package %s (scripts/test.sh does)", name, pkg)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}
