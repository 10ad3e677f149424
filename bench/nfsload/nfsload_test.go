package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/vserver"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(1001-i)*time.Microsecond) // reversed: summarize sorts
	}
	l := summarize(d)
	if l.P50 != 500 || l.P99 != 990 || l.P999 != 999 || l.Max != 1000 || l.Mean != 500.5 {
		t.Fatalf("summary %+v", l)
	}
	if got := percentile(sortedCopy([]time.Duration{7}), 0.999); got != 7 {
		t.Fatalf("one sample: %v", got)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Fatalf("empty: %+v", got)
	}
	// Nearest rank: of 10 samples, p99 is the largest, p50 the fifth.
	ten := []time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	s := sortedCopy(ten)
	if percentile(s, 0.99) != 10 || percentile(s, 0.5) != 5 {
		t.Fatalf("p99 %v p50 %v", percentile(s, 0.99), percentile(s, 0.5))
	}
}

func TestParseFlags(t *testing.T) {
	var errs bytes.Buffer
	for _, tc := range []struct {
		args []string
		want string // substring of the error; "" for success
	}{
		{[]string{"-workload", "read4k"}, ""},
		{[]string{"-setup"}, ""},
		{[]string{"-check", "-vers", "3"}, ""},
		{[]string{"-workload", "read4k", "-vers", "4.1"}, ""},
		{[]string{"-setup", "-vers", "4.2"}, ""},
		{[]string{"-workload", "read4k", "-vers", "4.0"}, "NFSv4.0 is not supported"},
		{[]string{"-workload", "read4k", "-vers", "2"}, "unknown NFS version"},
		{[]string{"-workload", "nope"}, "unknown"},
		{[]string{}, "exactly one"},
		{[]string{"-setup", "-workload", "read4k"}, "exactly one"},
		{[]string{"-setup", "-conns", "0"}, "-conns"},
		{[]string{"-setup", "-dir", "a/b"}, "-dir"},
		{[]string{"-setup", "-large-io", "100"}, "-large-io"},
	} {
		_, err := parseFlags(tc.args, &errs)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	for _, w := range workloadNames() {
		wl, ok := workloads[w]
		if !ok {
			t.Errorf("workload %s listed but not defined", w)
		}
		if wl.op == nil || wl.op4 == nil || wl.prepare == nil || wl.prepare4 == nil || wl.unit4 == "" {
			t.Errorf("workload %s: NFSv3 or NFSv4.1 variant missing", w)
		}
	}
	if len(workloadNames()) != len(workloads) {
		t.Errorf("%d names for %d workloads", len(workloadNames()), len(workloads))
	}
}

func TestEntryName(t *testing.T) {
	for _, tc := range []struct {
		s     string
		count int
		want  bool
	}{
		{entryName(0), 1, true},
		{entryName(9999), 10000, true},
		{entryName(10000), 10000, false},
		{"f00001x", 10, false},
		{"g000001", 10, false},
		{".", 10, false},
		{"f0000001", 10, false},
	} {
		if got := isEntryName(tc.s, tc.count); got != tc.want {
			t.Errorf("isEntryName(%q, %d) = %v", tc.s, tc.count, got)
		}
	}
}

func TestFillContentIndependentOfTransferSize(t *testing.T) {
	whole := make([]byte, 3<<20)
	fillContent(whole, 0)
	parts := make([]byte, 0, len(whole))
	for off := 0; off < len(whole); off += 64 << 10 {
		b := make([]byte, 64<<10)
		fillContent(b, uint64(off))
		parts = append(parts, b...)
	}
	if !bytes.Equal(whole, parts) {
		t.Fatal("content depends on the transfer size")
	}
	if bytes.Equal(whole[:4096], whole[1<<20:1<<20+4096]) {
		t.Fatal("blocks 1 MiB apart are identical: offsets not stamped")
	}
}

func TestSeqOffsetStaysInFile(t *testing.T) {
	for _, tc := range []struct {
		size    uint64
		large   uint32
		workers int
	}{
		{256 << 20, 1 << 20, 32},
		{4 << 20, 1 << 20, 32}, // fewer blocks than workers
		{5 << 20, 1 << 20, 2},
		{256 << 20, 64 << 10, 3},
	} {
		d := &dataset{fileSize: tc.size, large: tc.large, workers: tc.workers}
		seen := map[uint64]bool{}
		for id := range tc.workers {
			w := &worker{id: id, d: d}
			prev := uint64(0)
			for i := range 600 {
				w.seq = uint64(i)
				off := w.seqOffset()
				if off%uint64(tc.large) != 0 || off+uint64(tc.large) > tc.size {
					t.Fatalf("%+v worker %d op %d: offset %d", tc, id, i, off)
				}
				// Sequential within the region, except where it wraps.
				if i > 0 && off != prev+uint64(tc.large) && off > prev {
					t.Fatalf("%+v worker %d op %d: jump %d -> %d", tc, id, i, prev, off)
				}
				prev = off
				seen[off] = true
			}
		}
		blocks := tc.size / uint64(tc.large)
		if want := min(blocks, max(blocks/uint64(tc.workers), 1)*uint64(tc.workers), 600*uint64(tc.workers)); uint64(len(seen)) < want {
			t.Errorf("%+v: %d of %d blocks visited", tc, len(seen), want)
		}
	}
}

// startVnfsd runs a vserver in the test process on 127.0.0.1 with system-
// chosen ports and returns the export directory and the ports. It serves
// NFSv3, or the NFS versions given (NFSv4 with minor versions 1 and 2).
func startVnfsd(t *testing.T, versions ...uint32) (dir string, nfsPort, mountPort int) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "export")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv, err := vserver.New(vserver.Config{
		Name:        "nfsload-test",
		Addrs:       []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		PortmapPort: vserver.Disabled,
		StateDir:    filepath.Join(base, "state"),
		Exports:     []vserver.ExportConfig{{ID: 1, Path: "/export", Dir: dir, Squash: export.NoRootSquash}},
		Versions:    versions,
		Minor4:      []uint32{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	port := func(k string) int {
		_, p, err := net.SplitHostPort(srv.Addrs()[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	return dir, port(vserver.ServiceNFS), port(vserver.ServiceMount)
}

func runJSON(t *testing.T, args ...string) (map[string]any, int, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(context.Background(), args, &out, &errs)
	var m map[string]any
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%v: output %q: %v", args, out.String(), err)
		}
	}
	return m, code, errs.String()
}

func TestWorkloadsAgainstVnfsd(t *testing.T) {
	dir, nfsPort, mountPort := startVnfsd(t)
	common := []string{"-addr", "127.0.0.1", "-nfs-port", strconv.Itoa(nfsPort), "-mount-port", strconv.Itoa(mountPort),
		"-conns", "2", "-depth", "3", "-file-size-mib", "3", "-dir-entries", "300", "-readdir-maxcount", "4096", "-json"}
	arg := func(extra ...string) []string { return append(append([]string{}, common...), extra...) }

	m, code, errs := runJSON(t, arg("-check")...)
	if code != 0 || m["wtmax"].(float64) < 4096 {
		t.Fatalf("check: %d %v %s", code, m, errs)
	}
	// A workload before the data set exists says so.
	if _, code, errs := runJSON(t, arg("-workload", "read4k", "-ops", "1")...); code != 1 || !strings.Contains(errs, "-setup") {
		t.Fatalf("workload without data set: %d %s", code, errs)
	}

	m, code, errs = runJSON(t, arg("-setup")...)
	if code != 0 {
		t.Fatalf("setup: %d %s", code, errs)
	}
	if got := len(m["created"].([]any)); got != 5 {
		t.Fatalf("first setup created %v", m["created"])
	}
	fi, err := os.Stat(filepath.Join(dir, "nfsload", readName))
	if err != nil || fi.Size() != 3<<20 {
		t.Fatalf("read.dat: %v %v", fi, err)
	}
	content, err := os.ReadFile(filepath.Join(dir, "nfsload", writeName))
	want := make([]byte, 3<<20)
	fillContent(want, 0)
	if err != nil || !bytes.Equal(content, want) {
		t.Fatalf("write.dat content differs from the data set's (%v)", err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "nfsload", dirName))
	if err != nil || len(ents) != 300 {
		t.Fatalf("dir10k: %d entries, %v", len(ents), err)
	}
	// Idempotent: a second setup creates nothing.
	m, code, errs = runJSON(t, arg("-setup")...)
	if code != 0 || len(m["created"].([]any)) != 0 {
		t.Fatalf("second setup: %d %v %s", code, m, errs)
	}
	// A leftover of an interrupted churn run is removed.
	if err := os.WriteFile(filepath.Join(dir, "nfsload", churnName, "leftover"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, _ = runJSON(t, arg("-setup")...)
	if m["churn_leftovers_removed"].(float64) != 1 {
		t.Fatalf("setup with a churn leftover: %v", m)
	}

	const perWorker = 15
	workers := 2 * 3
	for _, w := range workloadNames() {
		t.Run(w, func(t *testing.T) {
			m, code, errs := runJSON(t, arg("-workload", w, "-ops", strconv.Itoa(perWorker), "-commit-every", "4")...)
			if code != 0 {
				t.Fatalf("exit %d: %s %v", code, errs, m)
			}
			if m["errors"].(float64) != 0 || m["error_kinds"] != nil {
				t.Fatalf("errors: %v", m)
			}
			if got := m["ops"].(float64); got != float64(workers*perWorker) {
				t.Fatalf("ops %v, want %d", got, workers*perWorker)
			}
			lat := m["latency_us"].(map[string]any)
			if lat["p50"].(float64) <= 0 || lat["p99"].(float64) < lat["p50"].(float64) || lat["max"].(float64) < lat["p99_9"].(float64) {
				t.Fatalf("latency %v", lat)
			}
			rpcs := m["rpcs"].(float64)
			switch w {
			case "churn":
				if rpcs != 4*float64(workers*perWorker) {
					t.Fatalf("churn: %v RPCs", rpcs)
				}
			case "write4k-unstable", "write1m":
				// One COMMIT every 4 writes.
				if rpcs != float64(workers*(perWorker+perWorker/4)) {
					t.Fatalf("%s: %v RPCs", w, rpcs)
				}
			case "readdirplus":
				if rpcs < 2*float64(workers*perWorker) {
					t.Fatalf("readdirplus in one call per listing (%v RPCs): the listing is not paged", rpcs)
				}
			default:
				if rpcs != float64(workers*perWorker) {
					t.Fatalf("%s: %v RPCs", w, rpcs)
				}
			}
			if strings.Contains(w, "4k") || strings.Contains(w, "1m") || w == "churn" {
				if m["mib_per_s"].(float64) <= 0 {
					t.Fatalf("no bytes moved: %v", m)
				}
			}
		})
	}
	churned, _ := os.ReadDir(filepath.Join(dir, "nfsload", churnName))
	if len(churned) != 0 {
		t.Fatalf("churn left %d files", len(churned))
	}

	// Verification can fail: a listing of 300 entries is not the 301 asked.
	wrong := append(arg("-workload", "readdirplus", "-ops", "1"), "-dir-entries", "301")
	m, code, _ = runJSON(t, wrong...)
	if code != 0 || m["errors"].(float64) != float64(workers) || m["ops"].(float64) != 0 {
		t.Fatalf("readdirplus with the wrong count: %d %v", code, m)
	}
	// So can lookup: names beyond the directory are NOENT errors.
	m, _, _ = runJSON(t, append(arg("-workload", "lookup", "-ops", "20"), "-dir-entries", "100000")...)
	kinds, _ := m["error_kinds"].(map[string]any)
	if m["errors"].(float64) == 0 || kinds["NFS3ERR_NOENT"] == nil {
		t.Fatalf("lookup of missing names: %v", m)
	}
}

func TestUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	_, code, errs := runJSON(t, "-mount-port", strconv.Itoa(port), "-nfs-port", strconv.Itoa(port), "-check")
	if code != 1 || !strings.Contains(errs, "mount") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestWorkloadsAgainstVnfsdV41 runs -check, -setup and every workload over
// NFSv4.1 against a vserver serving only NFSv4 (no MOUNT: the export is
// found from PUTROOTFH), and checks the COMPOUNDs each op sends.
func TestWorkloadsAgainstVnfsdV41(t *testing.T) {
	dir, nfsPort, _ := startVnfsd(t, 4)
	common := []string{"-vers", "4.1", "-addr", "127.0.0.1", "-nfs-port", strconv.Itoa(nfsPort), "-mount-port", "1",
		"-conns", "2", "-depth", "3", "-file-size-mib", "3", "-dir-entries", "300", "-readdir-maxcount", "4096", "-json"}
	arg := func(extra ...string) []string { return append(append([]string{}, common...), extra...) }

	m, code, errs := runJSON(t, arg("-check")...)
	if code != 0 || m["vers"] != "4.1" || m["rtmax"].(float64) != 1<<20 || m["wtmax"].(float64) != 1<<20 || m["slots"].(float64) < 3 {
		t.Fatalf("check: %d %v %s", code, m, errs)
	}
	if _, code, errs := runJSON(t, arg("-workload", "read4k", "-ops", "1")...); code != 1 || !strings.Contains(errs, "-setup") {
		t.Fatalf("workload without data set: %d %s", code, errs)
	}
	m, code, errs = runJSON(t, arg("-setup")...)
	if code != 0 || len(m["created"].([]any)) != 5 {
		t.Fatalf("setup: %d %v %s", code, m, errs)
	}
	content, err := os.ReadFile(filepath.Join(dir, "nfsload", readName))
	want := make([]byte, 3<<20)
	fillContent(want, 0)
	if err != nil || !bytes.Equal(content, want) {
		t.Fatalf("read.dat content differs from the data set's (%v)", err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "nfsload", dirName))
	if err != nil || len(ents) != 300 {
		t.Fatalf("dir10k: %d entries, %v", len(ents), err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nfsload", churnName, "leftover"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m, code, errs = runJSON(t, arg("-setup")...)
	if code != 0 || len(m["created"].([]any)) != 0 || m["churn_leftovers_removed"].(float64) != 1 {
		t.Fatalf("second setup: %d %v %s", code, m, errs)
	}

	const perWorker = 15
	workers := 2 * 3
	for _, w := range workloadNames() {
		t.Run(w, func(t *testing.T) {
			m, code, errs := runJSON(t, arg("-workload", w, "-ops", strconv.Itoa(perWorker), "-commit-every", "4")...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d: %s %v", code, errs, m)
			}
			if m["errors"].(float64) != 0 || m["error_kinds"] != nil || m["vers"] != "4.1" {
				t.Fatalf("errors: %v", m)
			}
			if got := m["ops"].(float64); got != float64(workers*perWorker) {
				t.Fatalf("ops %v, want %d", got, workers*perWorker)
			}
			rpcs := m["rpcs"].(float64)
			switch w {
			case "churn": // OPEN, WRITE, COMMIT, CLOSE, REMOVE
				if rpcs != 5*float64(workers*perWorker) {
					t.Fatalf("churn: %v COMPOUNDs", rpcs)
				}
			case "write4k-unstable", "write1m":
				if rpcs != float64(workers*(perWorker+perWorker/4)) {
					t.Fatalf("%s: %v COMPOUNDs", w, rpcs)
				}
			case "readdirplus":
				if rpcs < 2*float64(workers*perWorker) {
					t.Fatalf("readdirplus in one call per listing (%v COMPOUNDs)", rpcs)
				}
			default:
				if rpcs != float64(workers*perWorker) {
					t.Fatalf("%s: %v COMPOUNDs", w, rpcs)
				}
			}
			if w == "read1m" && m["io_size"].(float64) != 1<<20 {
				t.Fatalf("read1m io_size %v", m["io_size"])
			}
		})
	}
	churned, _ := os.ReadDir(filepath.Join(dir, "nfsload", churnName))
	if len(churned) != 0 {
		t.Fatalf("churn left %d files", len(churned))
	}
	// Errors are reported with the operation and the NFSv4 status.
	m, _, _ = runJSON(t, append(arg("-workload", "lookup", "-ops", "20"), "-dir-entries", "100000")...)
	kinds, _ := m["error_kinds"].(map[string]any)
	if m["errors"].(float64) == 0 || kinds["LOOKUP: NFS4ERR_NOENT"] == nil {
		t.Fatalf("lookup of missing names: %v", m)
	}
	m, code, _ = runJSON(t, append(arg("-workload", "readdirplus", "-ops", "1"), "-dir-entries", "301")...)
	if code != 0 || m["errors"].(float64) != float64(workers) || m["ops"].(float64) != 0 {
		t.Fatalf("readdirplus with the wrong count: %d %v", code, m)
	}
}
