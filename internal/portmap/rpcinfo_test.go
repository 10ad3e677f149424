package portmap

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// rpcinfoHost is a loopback address of this test's own: rpcinfo's listing
// modes always ask port 111, so the portmapper must be there.
const rpcinfoHost = "127.0.0.71"

// startRPC serves mux on l (and pc if not nil) until the end of the test.
func startRPC(t *testing.T, mux *oncrpc.Mux, l net.Listener, pc net.PacketConn) {
	t.Helper()
	srv := &oncrpc.Server{Mux: mux}
	if l != nil {
		go srv.Serve(l)
	}
	if pc != nil {
		go srv.ServePacket(pc)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

// startPortmapper serves s on host:port over TCP and UDP.
func startPortmapper(t *testing.T, s *Server, host string, port int) bool {
	t.Helper()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Logf("cannot listen on %s: %v", addr, err)
		return false
	}
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		l.Close()
		t.Logf("cannot listen on udp %s: %v", addr, err)
		return false
	}
	tcpMux, udpMux := oncrpc.NewMux(), oncrpc.NewMux()
	tcpMux.Register(s.Program(TCP))
	udpMux.Register(s.Program(UDP))
	startRPC(t, tcpMux, l, nil)
	startRPC(t, udpMux, nil, pc)
	return true
}

// nullProgram answers NULL of prog, version vers only.
func nullProgram(prog, vers uint32) oncrpc.Program {
	return oncrpc.Program{Name: "test", Prog: prog, Low: vers, High: vers,
		Handler: oncrpc.HandlerFunc(func(ctx context.Context, call *oncrpc.Call, reply *xdr.Writer) error {
			if call.Proc == 0 {
				return nil
			}
			return oncrpc.ErrProcUnavail
		})}
}

// TestRpcinfo checks the portmapper with rpcinfo(8) of libtirpc (Debian
// package rpcbind), a client nobody in this project wrote: the version 2
// listing (-p), the rpcbind listings (default, -s), GETADDRLIST (-l),
// GETSTAT (-m), address lookups followed by NULL calls (-T, -t, -u).
func TestRpcinfo(t *testing.T) {
	rpcinfo, err := exec.LookPath("rpcinfo")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rpcinfo not found: install Debian package rpcbind (its daemon need not run)")
		}
		t.Skip("rpcinfo not found: install Debian package rpcbind (its daemon need not run)")
	}

	// A service to look up and ping: program 100003 version 3 on TCP.
	nl, err := net.Listen("tcp4", rpcinfoHost+":0")
	if err != nil {
		t.Fatal(err)
	}
	nfsPort := nl.Addr().(*net.TCPAddr).Port
	nfsMux := oncrpc.NewMux()
	nfsMux.Register(nullProgram(oncrpc.ProgNFS, 3))
	startRPC(t, nfsMux, nl, nil)

	var maps []Mapping
	for v := uint32(2); v <= 4; v++ {
		maps = append(maps, Mapping{Prog: oncrpc.ProgPortmap, Vers: v, Netid: "tcp", Port: Port},
			Mapping{Prog: oncrpc.ProgPortmap, Vers: v, Netid: "udp", Port: Port})
	}
	maps = append(maps, Mapping{Prog: oncrpc.ProgNFS, Vers: 3, Netid: "tcp", Port: uint16(nfsPort)})
	s, err := New(Config{Mappings: maps})
	if err != nil {
		t.Fatal(err)
	}
	if !startPortmapper(t, s, rpcinfoHost, Port) {
		t.Skip("port 111 of " + rpcinfoHost + " is not available (not root, or an rpcbind listens on the wildcard address)")
	}

	run := func(wantOK bool, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, rpcinfo, args...).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("rpcinfo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// rows returns the whitespace-separated fields of each output line.
	rows := func(out string) [][]string {
		var r [][]string
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				r = append(r, f)
			}
		}
		return r
	}
	hasRow := func(out string, want ...string) bool {
		return slices.ContainsFunc(rows(out), func(r []string) bool { return slices.Equal(r, want) })
	}
	nfsPortStr := strconv.Itoa(nfsPort)
	nfsUaddr := rpcinfoHost + "." + strconv.Itoa(nfsPort>>8) + "." + strconv.Itoa(nfsPort&255)

	// Version 2 DUMP.
	out := run(true, "-p", rpcinfoHost)
	for _, want := range [][]string{
		{"100000", "2", "tcp", "111", "portmapper"},
		{"100000", "4", "udp", "111", "portmapper"},
		{"100003", "3", "tcp", nfsPortStr, "nfs"},
	} {
		if !hasRow(out, want...) {
			t.Errorf("rpcinfo -p lacks %v:\n%s", want, out)
		}
	}
	if n := len(rows(out)); n != 1+len(maps) {
		t.Errorf("rpcinfo -p lists %d rows, want a header and %d entries:\n%s", n, len(maps), out)
	}

	// rpcbind DUMP (version 4, falling back to 3).
	out = run(true, rpcinfoHost)
	if !hasRow(out, "100003", "3", "tcp", nfsUaddr, "nfs", "superuser") ||
		!hasRow(out, "100000", "2", "udp", rpcinfoHost+".0.111", "portmapper", "superuser") {
		t.Errorf("rpcinfo lacks entries:\n%s", out)
	}
	out = run(true, "-s", rpcinfoHost)
	if !hasRow(out, "100003", "3", "tcp", "nfs", "superuser") {
		t.Errorf("rpcinfo -s lacks nfs:\n%s", out)
	}

	// GETADDR then NULL, over each transport; GETPORT then NULL.
	out = run(true, "-T", "tcp", rpcinfoHost, "100003", "3")
	if !strings.Contains(out, "program 100003 version 3 ready and waiting") {
		t.Errorf("rpcinfo -T tcp: %s", out)
	}
	out = run(true, "-T", "udp", rpcinfoHost, "100000", "4")
	if !strings.Contains(out, "program 100000 version 4 ready and waiting") {
		t.Errorf("rpcinfo -T udp: %s", out)
	}
	out = run(true, "-t", rpcinfoHost, "100003")
	if !strings.Contains(out, "program 100003 version 3 ready and waiting") {
		t.Errorf("rpcinfo -t: %s", out)
	}
	out = run(true, "-u", rpcinfoHost, "100000")
	for v := 2; v <= 4; v++ {
		if !strings.Contains(out, "program 100000 version "+strconv.Itoa(v)+" ready and waiting") {
			t.Errorf("rpcinfo -u lacks version %d: %s", v, out)
		}
	}
	// Not registered: GETADDR returns "" and rpcinfo says so.
	out = run(false, "-T", "tcp", rpcinfoHost, "100021", "4")
	if !strings.Contains(out, "not registered") {
		t.Errorf("rpcinfo of an unregistered program: %s", out)
	}
	// NFS is not on UDP.
	run(false, "-T", "udp", rpcinfoHost, "100003", "3")

	// GETADDRLIST.
	out = run(true, "-l", rpcinfoHost, "100003", "3")
	if !hasRow(out, "100003", "3", "inet/tcp/cots_ord", nfsUaddr, "nfs") || len(rows(out)) != 2 {
		t.Errorf("rpcinfo -l:\n%s", out)
	}

	// GETSTAT: the counters of the calls above.
	out = run(true, "-m", rpcinfoHost)
	for _, want := range []string{"PORTMAP (version 2) statistics", "RPCBIND (version 3) statistics", "RPCBIND (version 4) statistics"} {
		if !strings.Contains(out, want) {
			t.Errorf("rpcinfo -m lacks %q:\n%s", want, out)
		}
	}
	// The address lookup records: prog (by name), vers, netid, success, failure.
	if !hasRow(out, "nfs", "3", "tcp", "1", "0") || !hasRow(out, "nfs", "3", "udp", "0", "1") || !hasRow(out, "nlockmgr", "4", "tcp", "0", "1") {
		t.Errorf("rpcinfo -m lacks the lookups made:\n%s", out)
	}
}
