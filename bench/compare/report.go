package main

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

//go:embed ganesha.conf.in
var ganeshaReferenceConf string

// loadResult mirrors the JSON object bench/nfsload prints.
type loadResult struct {
	Workload   string           `json:"workload"`
	Vers       string           `json:"vers"`
	Unit       string           `json:"unit"`
	Seconds    float64          `json:"seconds"`
	Ops        int64            `json:"ops"`
	OpsPerSec  float64          `json:"ops_per_s"`
	MiBPerSec  float64          `json:"mib_per_s"`
	RPCsPerSec float64          `json:"rpcs_per_s"`
	IOSize     uint32           `json:"io_size,omitempty"`
	Latency    latency          `json:"latency_us"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Aborted    string           `json:"aborted,omitempty"`
}

type latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// runRecord is one workload run against one server.
type runRecord struct {
	Round  int    `json:"round"`
	Server string `json:"server"`
	First  bool   `json:"first"` // ran before the other server in its round
	// Failed is why nfsload could not run the workload at all (such as
	// an NFSv4 error in its preparation); the run has no figures.
	Failed string `json:"failed,omitempty"`
	loadResult
	ServerCPUSec     float64 `json:"server_cpu_s"`
	ServerCPUUsPerOp float64 `json:"server_cpu_us_per_op"`
	ClientCPUSec     float64 `json:"client_cpu_s"`
}

// row is the comparison of one workload over one NFS version.
type row struct {
	Vers     string  `json:"vers"`
	Workload string  `json:"workload"`
	Metric   string  `json:"metric"` // "ops/s" or "MiB/s"
	Vnfsd    float64 `json:"vnfsd"`  // median over rounds
	Ganesha  float64 `json:"ganesha"`
	// Ratio is the median over rounds of vnfsd / ganesha in the round.
	Ratio             float64   `json:"ratio"`
	VnfsdRounds       []float64 `json:"vnfsd_rounds"`
	GaneshaRounds     []float64 `json:"ganesha_rounds"`
	VnfsdP99us        float64   `json:"vnfsd_p99_us"`
	GaneshaP99us      float64   `json:"ganesha_p99_us"`
	VnfsdCPUUsPerOp   float64   `json:"vnfsd_cpu_us_per_op"`
	GaneshaCPUUsPerOp float64   `json:"ganesha_cpu_us_per_op"`
	VnfsdErrors       int64     `json:"vnfsd_errors"`
	GaneshaErrors     int64     `json:"ganesha_errors"`
	VnfsdPctCeiling   float64   `json:"vnfsd_pct_of_ceiling,omitempty"`
	GaneshaPctCeiling float64   `json:"ganesha_pct_of_ceiling,omitempty"`
	// Failed runs (no figures) of each server, with the first reason.
	VnfsdFailed    int    `json:"vnfsd_failed_runs,omitempty"`
	GaneshaFailed  int    `json:"ganesha_failed_runs,omitempty"`
	VnfsdFailure   string `json:"vnfsd_failure,omitempty"`
	GaneshaFailure string `json:"ganesha_failure,omitempty"`
}

type serverInfo struct {
	NFSPort      int     `json:"nfs_port"`
	MountPort    int     `json:"mount_port"`
	SetupSeconds float64 `json:"setup_seconds"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"`
	// NFSv4Check is nfsload -check per NFSv4 version compared: the
	// transfer sizes and the session's channel attributes.
	NFSv4Check map[string]map[string]any `json:"nfsv4_check,omitempty"`
}

type report struct {
	Command  string                 `json:"command"`
	Started  string                 `json:"started"`
	Seconds  float64                `json:"seconds"`
	Machine  machine                `json:"machine"`
	Config   map[string]any         `json:"config"`
	Servers  map[string]*serverInfo `json:"servers"`
	Ceiling  []float64              `json:"loopback_ceiling_mib_per_s_rounds"`
	CeilMed  float64                `json:"loopback_ceiling_mib_per_s"`
	Rows     []row                  `json:"rows"`
	Runs     []runRecord            `json:"runs"`
	workload []string
	vers     []string // "" means {"3"}
}

func (b *bench) newReport() *report {
	r := &report{
		Command: strings.TrimSpace("go run ./bench/compare " + strings.Join(b.o.args, " ")),
		Machine: b.machine(),
		Config: map[string]any{
			"rounds": b.o.rounds, "duration_s": b.o.duration.Seconds(), "warmup_s": b.o.warmup.Seconds(),
			"conns": b.o.conns, "depth": b.o.depth, "file_size_mib": b.o.fileSizeMiB, "dir_entries": b.o.dirEntries,
			"workloads": b.o.workloads, "nfs_versions": b.o.vers, "transport": "TCP over lo in a network namespace",
		},
		Servers:  map[string]*serverInfo{},
		workload: b.o.workloads,
		vers:     b.o.vers,
	}
	for _, s := range b.servers {
		r.Servers[s.name] = &serverInfo{NFSPort: s.nfsPort, MountPort: s.mountPort, SetupSeconds: round1(s.setupSecs),
			NFSv4Check: s.check4}
	}
	return r
}

// isBandwidth reports whether a workload is compared in MiB/s.
func isBandwidth(w string) bool { return w == "read1m" || w == "write1m" }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// versions returns the NFS versions of the report's rows.
func (r *report) versions() []string {
	if len(r.vers) == 0 {
		return []string{"3"}
	}
	return r.vers
}

// runVers is the NFS version of a run (runs of nfsload without the field
// are NFSv3).
func runVers(run *runRecord) string {
	if run.Vers == "" {
		return "3"
	}
	return run.Vers
}

func (r *report) summarize() {
	r.CeilMed = round1(median(r.Ceiling))
	for _, vers := range r.versions() {
		for _, w := range r.workload {
			r.Rows = append(r.Rows, r.summarizeRow(vers, w))
		}
	}
}

func (r *report) summarizeRow(vers, w string) row {
	rw := row{Vers: vers, Workload: w, Metric: "ops/s"}
	if isBandwidth(w) {
		rw.Metric = "MiB/s"
	}
	byRound := map[int]map[string]float64{}
	var p99 = map[string][]float64{}
	var cpu = map[string][]float64{}
	for i := range r.Runs {
		run := &r.Runs[i]
		if run.Workload != w || runVers(run) != vers {
			continue
		}
		if run.Failed != "" {
			switch run.Server {
			case "vnfsd":
				if rw.VnfsdFailed++; rw.VnfsdFailure == "" {
					rw.VnfsdFailure = run.Failed
				}
			case "ganesha":
				if rw.GaneshaFailed++; rw.GaneshaFailure == "" {
					rw.GaneshaFailure = run.Failed
				}
			}
			continue
		}
		v := run.OpsPerSec
		if isBandwidth(w) {
			v = run.MiBPerSec
		}
		if byRound[run.Round] == nil {
			byRound[run.Round] = map[string]float64{}
		}
		byRound[run.Round][run.Server] = v
		p99[run.Server] = append(p99[run.Server], run.Latency.P99)
		cpu[run.Server] = append(cpu[run.Server], run.ServerCPUUsPerOp)
		switch run.Server {
		case "vnfsd":
			rw.VnfsdRounds = append(rw.VnfsdRounds, v)
			rw.VnfsdErrors += run.Errors
		case "ganesha":
			rw.GaneshaRounds = append(rw.GaneshaRounds, v)
			rw.GaneshaErrors += run.Errors
		}
	}
	var ratios []float64
	for _, m := range byRound {
		v, okv := m["vnfsd"]
		g, okg := m["ganesha"]
		if okv && okg && g > 0 {
			ratios = append(ratios, v/g)
		}
	}
	rw.Vnfsd = round1(median(rw.VnfsdRounds))
	rw.Ganesha = round1(median(rw.GaneshaRounds))
	rw.Ratio = math.Round(median(ratios)*100) / 100
	rw.VnfsdP99us = round1(median(p99["vnfsd"]))
	rw.GaneshaP99us = round1(median(p99["ganesha"]))
	rw.VnfsdCPUUsPerOp = round1(median(cpu["vnfsd"]))
	rw.GaneshaCPUUsPerOp = round1(median(cpu["ganesha"]))
	if isBandwidth(w) && r.CeilMed > 0 {
		rw.VnfsdPctCeiling = round1(100 * rw.Vnfsd / r.CeilMed)
		rw.GaneshaPctCeiling = round1(100 * rw.Ganesha / r.CeilMed)
	}
	return rw
}

func (r *report) printText(out io.Writer) {
	m := r.Machine
	vs := make([]string, 0, len(r.versions()))
	for _, v := range r.versions() {
		vs = append(vs, "NFSv"+v)
	}
	fmt.Fprintf(out, "vnfsd vs NFS-Ganesha %s (FSAL_VFS), %s over TCP on lo in a network namespace\n", m.Ganesha, strings.Join(vs, " and "))
	fmt.Fprintf(out, "machine: %d CPUs (%s), Linux %s, exports on %s; %s; %s\n", m.CPUs, m.CPUModel, m.Kernel, m.FileSystem, m.Vnfsd, m.Go)
	fmt.Fprintf(out, "load: %v conns x %v outstanding, %v s per run (+%v s warm-up), %v rounds, servers alternating; took %.0f s\n",
		r.Config["conns"], r.Config["depth"], r.Config["duration_s"], r.Config["warmup_s"], r.Config["rounds"], r.Seconds)
	fmt.Fprintf(out, "command: %s\n\n", r.Command)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "vers\tworkload\tmetric\tvnfsd\tganesha\tratio\tvnfsd p99 us\tganesha p99 us\tvnfsd CPU us/op\tganesha CPU us/op\terrors v/g\t")
	var failures []string
	for _, rw := range r.Rows {
		errs := fmt.Sprintf("%d/%d", rw.VnfsdErrors, rw.GaneshaErrors)
		if rw.VnfsdFailed > 0 || rw.GaneshaFailed > 0 {
			errs += fmt.Sprintf(" (failed runs %d/%d)", rw.VnfsdFailed, rw.GaneshaFailed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%.2fx\t%.0f\t%.0f\t%.1f\t%.1f\t%s\t\n",
			rw.Vers, rw.Workload, rw.Metric, rw.Vnfsd, rw.Ganesha, rw.Ratio, rw.VnfsdP99us, rw.GaneshaP99us,
			rw.VnfsdCPUUsPerOp, rw.GaneshaCPUUsPerOp, errs)
		if rw.VnfsdFailure != "" {
			failures = append(failures, fmt.Sprintf("NFSv%s %s on vnfsd: %s", rw.Vers, rw.Workload, rw.VnfsdFailure))
		}
		if rw.GaneshaFailure != "" {
			failures = append(failures, fmt.Sprintf("NFSv%s %s on ganesha: %s", rw.Vers, rw.Workload, rw.GaneshaFailure))
		}
	}
	tw.Flush()
	for _, f := range failures {
		fmt.Fprintf(out, "FAILED %s\n", f)
	}
	fmt.Fprintf(out, "\nloopback ceiling (raw TCP, %v conns, 1 MiB buffers): %.0f MiB/s (rounds: %s)\n",
		r.Config["conns"], r.CeilMed, floats(r.Ceiling))
	for _, rw := range r.Rows {
		if isBandwidth(rw.Workload) {
			name := rw.Workload
			if len(r.versions()) > 1 || rw.Vers != "3" {
				name = "NFSv" + rw.Vers + " " + name
			}
			fmt.Fprintf(out, "  %s: vnfsd %.0f%% of the ceiling, ganesha %.0f%%\n", name, rw.VnfsdPctCeiling, rw.GaneshaPctCeiling)
		}
	}
	for _, name := range []string{"vnfsd", "ganesha"} {
		s, ok := r.Servers[name]
		if !ok {
			continue
		}
		fmt.Fprintf(out, "%s: data set created in %.1f s, peak RSS %.0f MiB\n", name, s.SetupSeconds, s.PeakRSSMiB)
	}
	fmt.Fprintln(out, "ratio: median over rounds of vnfsd/ganesha; CPU us/op: server CPU time per op (warm-up included, estimated)")
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = fmt.Sprintf("%.0f", f)
	}
	return strings.Join(s, ", ")
}
