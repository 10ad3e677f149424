package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.v); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func run3(round int, server string, opsPerSec, mib float64) runRecord {
	r := runRecord{Round: round, Server: server}
	r.Workload = "read4k"
	r.OpsPerSec, r.MiBPerSec = opsPerSec, mib
	return r
}

func TestSummarizeRatioIsMedianOfRoundRatios(t *testing.T) {
	r := &report{workload: []string{"read4k", "read1m"}, Ceiling: []float64{4000, 3000, 5000}}
	// Round ratios 2.0, 1.0, 1.5: median 1.5, while the ratio of the
	// medians (200/100) would be 2.0.
	r.Runs = []runRecord{
		run3(1, "vnfsd", 200, 0), run3(1, "ganesha", 100, 0),
		run3(2, "vnfsd", 100, 0), run3(2, "ganesha", 100, 0),
		run3(3, "vnfsd", 300, 0), run3(3, "ganesha", 200, 0),
	}
	for i, m := range []float64{2000, 1000, 3000} {
		v := run3(i+1, "vnfsd", m, m)
		v.Workload = "read1m"
		g := run3(i+1, "ganesha", m/2, m/2)
		g.Workload = "read1m"
		r.Runs = append(r.Runs, v, g)
	}
	r.summarize()
	if len(r.Rows) != 2 {
		t.Fatalf("rows %+v", r.Rows)
	}
	rw := r.Rows[0]
	if rw.Ratio != 1.5 || rw.Vnfsd != 200 || rw.Ganesha != 100 || rw.Metric != "ops/s" {
		t.Fatalf("read4k row %+v", rw)
	}
	rw = r.Rows[1]
	if rw.Metric != "MiB/s" || rw.Ratio != 2 || r.CeilMed != 4000 || rw.VnfsdPctCeiling != 50 || rw.GaneshaPctCeiling != 25 {
		t.Fatalf("read1m row %+v, ceiling %v", rw, r.CeilMed)
	}
	var out bytes.Buffer
	r.printText(&out)
	if !strings.Contains(out.String(), "1.50x") || !strings.Contains(out.String(), "read1m: vnfsd 50% of the ceiling, ganesha 25%") {
		t.Fatalf("text:\n%s", out.String())
	}
}

// TestSummarizeVersions: rows per version and workload; a run that
// failed has no figures, is counted and explained, and leaves no ratio
// for its round.
func TestSummarizeVersions(t *testing.T) {
	r := &report{workload: []string{"read4k"}, vers: []string{"3", "4.1"}}
	v41 := func(round int, server string, ops float64) runRecord {
		x := run3(round, server, ops, 0)
		x.Vers = "4.1"
		return x
	}
	failed := runRecord{Round: 2, Server: "ganesha", Failed: "nfsload: OPEN: NFS4ERR_ACCESS"}
	failed.Workload, failed.Vers = "read4k", "4.1"
	r.Runs = []runRecord{
		run3(1, "vnfsd", 200, 0), run3(1, "ganesha", 100, 0),
		v41(1, "vnfsd", 300), v41(1, "ganesha", 100),
		v41(2, "vnfsd", 100), failed,
	}
	r.summarize()
	if len(r.Rows) != 2 || r.Rows[0].Vers != "3" || r.Rows[1].Vers != "4.1" {
		t.Fatalf("rows %+v", r.Rows)
	}
	if rw := r.Rows[0]; rw.Ratio != 2 || rw.GaneshaFailed != 0 || len(rw.VnfsdRounds) != 1 {
		t.Fatalf("NFSv3 row %+v", rw)
	}
	rw := r.Rows[1]
	if rw.Ratio != 3 || rw.Vnfsd != 200 || rw.Ganesha != 100 || rw.GaneshaFailed != 1 || rw.VnfsdFailed != 0 ||
		rw.GaneshaFailure != failed.Failed || len(rw.GaneshaRounds) != 1 {
		t.Fatalf("NFSv4.1 row %+v", rw)
	}
	var out bytes.Buffer
	r.printText(&out)
	for _, want := range []string{"NFSv3 and NFSv4.1 over TCP", "3.00x", "(failed runs 0/1)", "FAILED NFSv4.1 read4k on ganesha: nfsload: OPEN: NFS4ERR_ACCESS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseFlags(t *testing.T) {
	var errs bytes.Buffer
	o, err := parseFlags(nil, &errs)
	if err != nil || len(o.workloads) != len(allWorkloads) || o.rounds != 3 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	// The full comparison fits in 15 minutes: 2 servers x rounds x workloads
	// x (duration + warm-up) plus about a minute of setup.
	if total := 2 * time.Duration(o.rounds*len(o.workloads)) * (o.duration + o.warmup); total > 13*time.Minute {
		t.Fatalf("default runs take %v", total)
	}
	o, err = parseFlags([]string{"-workloads", "read4k, getattr"}, &errs)
	if err != nil || len(o.workloads) != 2 || o.workloads[1] != "getattr" {
		t.Fatalf("%+v %v", o, err)
	}
	if o, _ := parseFlags(nil, &errs); len(o.vers) != 1 || o.vers[0] != "3" || o.uses4() {
		t.Fatalf("default versions %v", o.vers)
	}
	o, err = parseFlags([]string{"-vers", "3, 4.1,4.1"}, &errs)
	if err != nil || len(o.vers) != 2 || o.vers[1] != "4.1" || !o.uses4() {
		t.Fatalf("-vers 3,4.1: %+v %v", o, err)
	}
	for _, bad := range [][]string{{"-workloads", "read4k,nope"}, {"-rounds", "0"}, {"-duration", "0s"}, {"-conns", "0"}, {"x"},
		{"-vers", "4.0"}, {"-vers", ""}, {"-vers", "2"}} {
		if _, err := parseFlags(bad, &errs); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestGaneshaConfig(t *testing.T) {
	b := &bench{work: t.TempDir()}
	p, err := b.ganeshaConfig()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(conf)
	if strings.Contains(s, "@EXPORT_DIR@") || strings.Contains(s, "@RECOVERY_DIR@") {
		t.Fatal("placeholders left")
	}
	if !strings.Contains(s, "Path = "+b.work+"/ganesha/export;") || !strings.Contains(s, "Squash = No_Root_Squash") {
		t.Fatalf("config:\n%s", s)
	}
}

func TestCPUSecondsAndRSS(t *testing.T) {
	// Burn some CPU so that the tick counter moves.
	before, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := range 300_000_000 {
		x += i
		if x < 0 {
			break
		}
	}
	after, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("CPU time %v -> %v", before, after)
	}
	if rss := peakRSSMiB(os.Getpid()); rss <= 1 {
		t.Fatalf("peak RSS %v MiB", rss)
	}
	if _, err := cpuSeconds(0); err == nil {
		t.Fatal("pid 0 has CPU time")
	}
}

func TestCeilingMovesBytes(t *testing.T) {
	c, err := measureCeiling("127.0.0.1", 2, 64<<10, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if c.MiBPerSec <= 0 || c.Conns != 2 {
		t.Fatalf("%+v", c)
	}
	if _, err := measureCeiling("127.0.0.1", 0, 1, time.Millisecond); err == nil {
		t.Fatal("0 connections accepted")
	}
}

func TestFsName(t *testing.T) {
	if fsName(0xEF53) != "ext4" || fsName(0x1234) != "0x1234" {
		t.Fatal(fsName(0xEF53), fsName(0x1234))
	}
}

func TestStaleOwner(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	// A PID that cannot be running: above the kernel's pid_max limit.
	for _, tc := range []struct {
		name string
		want bool
	}{
		{netnsPrefix + "99999999", true},
		{netnsPrefix + "99999999-123", true},
		{netnsPrefix + self, false},  // this process
		{netnsPrefix + "1", true},    // running, but not a comparison
		{netnsPrefix + "x-1", false}, // not ours
		{"other-99999999", false},    // not ours
		{netnsPrefix + "-5", false},  // no PID
		{netnsPrefix + "0", false},   // no PID
	} {
		if got := staleOwner(tc.name); got != tc.want {
			t.Errorf("staleOwner(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
