package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process group started by the comparison: a server with
// everything it forked (ganesha's rpcbind).
type proc struct {
	name   string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
	status string // how it ended, once exited is closed
}

// startProc starts argv in a process group of its own, output to logPath.
// The group is killed if the comparison dies (parent-death signal on the
// leader; stop kills the whole group).
func startProc(name, logPath string, argv ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.status = "exited"
		if cmd.ProcessState != nil {
			p.status = cmd.ProcessState.String() // "exit status 2", "signal: killed"
		} else if err != nil {
			p.status = err.Error()
		}
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the group, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p == nil {
		return
	}
	pgid := p.pid()
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
	// Members of the group that outlived the leader.
	syscall.Kill(-pgid, syscall.SIGKILL)
}

// died describes a process that exited on its own: how, and its log.
func (p *proc) died() string {
	<-p.exited
	return fmt.Sprintf("%s ended (%s); last lines of %s:\n%s", p.name, p.status, p.log, p.logTail(20))
}

// logTail returns the last lines of the process's log.
func (p *proc) logTail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cpuSeconds is the user+system CPU time the process has used (all its
// threads), from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat times")
	}
	const clkTck = 100 // USER_HZ on Linux
	return float64(ut+st) / clkTck, nil
}

// peakRSSMiB is VmHWM of the process in MiB.
func peakRSSMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// run runs a short command and returns its combined output.
func run(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// netnsPrefix names the network namespaces the comparison makes:
// netnsPrefix + the PID of the comparison.
const netnsPrefix = "vnfscmp-"

// createNetns makes a network namespace with only lo, up.
func createNetns(ctx context.Context, name string) error {
	if _, err := run(ctx, "ip", "netns", "add", name); err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "-n", name, "link", "set", "lo", "up"); err != nil {
		deleteNetns(name)
		return err
	}
	return nil
}

// deleteNetns kills what still runs in the namespace (only processes the
// comparison started live there) and deletes it.
func deleteNetns(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := run(ctx, "ip", "netns", "pids", name); err == nil {
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	run(ctx, "ip", "netns", "del", name)
}

// staleOwner reports whether name is netnsPrefix + PID (+ "-" + anything)
// for a PID that is not a running comparison.
func staleOwner(name string) bool {
	rest, ok := strings.CutPrefix(name, netnsPrefix)
	if !ok {
		return false
	}
	digits, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err != nil || strings.TrimSpace(string(comm)) != "compare"
}

// cleanStale deletes what comparisons that were killed (SIGKILL leaves no
// chance to clean up) left: their network namespaces (and what still runs
// in them) and their temporary directories in workdir, all named after the
// PID of a comparison that no longer runs.
func cleanStale(ctx context.Context, workdir string, log func(string, ...any)) {
	if out, err := run(ctx, "ip", "netns", "list"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && staleOwner(f[0]) {
				log("removing stale network namespace %s", f[0])
				deleteNetns(f[0])
			}
		}
	}
	ents, _ := os.ReadDir(workdir)
	for _, e := range ents {
		if e.IsDir() && staleOwner(e.Name()) {
			log("removing stale directory %s", filepath.Join(workdir, e.Name()))
			os.RemoveAll(filepath.Join(workdir, e.Name()))
		}
	}
}
