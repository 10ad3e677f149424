package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The case restartCase (test/kernel/agent/cases.go) needs vnfsd restarted
// while the guest holds an open file and a lock. The guest cannot be sent
// anything, so it asks through the export: it creates readyFile in its
// case directory and waits for restartedFile there. The harness watches
// the export directory on the host (restartWatcher), restarts vnfsd with
// the same data directory, addresses and namespace, and then creates
// restartedFile.
const (
	restartCase   = "restart-reclaim"
	readyFile     = "ready"
	restartedFile = "restarted"
)

// restart stops vnfsd with SIGTERM and starts it again with the same
// arguments (data directory, listen address, API address, namespace),
// waits for its ports and checks through the REST API that the server of
// /default runs with the stored grace period and versions. down is the
// time from SIGTERM to the exit.
func (s *server) restart() (down time.Duration, err error) {
	t0 := time.Now()
	old := s.current()
	s.log.Write([]byte("--- harness: SIGTERM to vnfsd for a restart ---\n"))
	termErr := s.terminate()
	down = time.Since(t0)
	if termErr != nil {
		// Go on: what matters is that the new process serves; the
		// error is reported anyway.
		termErr = fmt.Errorf("stopping pid %d: %w", old.cmd.Process.Pid, termErr)
	}
	s.log.Write([]byte("--- harness: starting vnfsd again ---\n"))
	if err := s.start(); err != nil {
		s.markDead()
		return down, errors.Join(termErr, err)
	}
	if err := s.waitPorts(); err != nil {
		s.markDead()
		return down, errors.Join(termErr, fmt.Errorf("after the restart: %w", err))
	}
	// The API listens independently of the NFS ports: retry briefly.
	var cfg *serverConfig
	deadline := time.Now().Add(10 * time.Second)
	for {
		cfg, err = s.serverAPI("GET", "")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err == nil {
		err = cfg.check()
	}
	if err != nil {
		err = fmt.Errorf("GET /v1/server after the restart: %w", err)
	}
	return down, errors.Join(termErr, err)
}

// restartOutcome is what the watcher did for one version.
type restartOutcome struct {
	seen  time.Time     // when readyFile was found
	down  time.Duration // SIGTERM to exit
	took  time.Duration // readyFile found to restartedFile written
	pids  [2]int        // before and after
	err   error
	wrote bool // restartedFile was written
}

// restartWatcher restarts vnfsd for the guest's restartCase, once per
// NFS version: it polls the export directory for readyFile. It runs until
// stop.
type restartWatcher struct {
	srv      *server
	logf     func(string, ...any)
	versions []string
	quit     chan struct{}
	done     chan struct{}

	mu       sync.Mutex
	outcomes map[string]*restartOutcome
}

// restartPoll is how often the watcher looks for readyFile.
const restartPoll = 100 * time.Millisecond

// startRestartWatcher starts the watcher for the versions of spec if spec
// has restartCase, and returns nil otherwise. logf must stay usable until
// stop returns.
func startRestartWatcher(srv *server, spec guestSpec, logf func(string, ...any)) *restartWatcher {
	if !slices.Contains(spec.cases, restartCase) {
		return nil
	}
	w := &restartWatcher{
		srv: srv, logf: logf, versions: spec.versions,
		quit: make(chan struct{}), done: make(chan struct{}),
		outcomes: map[string]*restartOutcome{},
	}
	go w.run()
	return w
}

// caseDir is restartCase's directory of a version in the export.
func (w *restartWatcher) caseDir(version string) string {
	return filepath.Join(w.srv.export, "v"+version, restartCase)
}

func (w *restartWatcher) run() {
	defer close(w.done)
	tick := time.NewTicker(restartPoll)
	defer tick.Stop()
	handled := map[string]bool{}
	for {
		select {
		case <-w.quit:
			return
		case <-tick.C:
		}
		for _, v := range w.versions {
			if handled[v] {
				continue
			}
			if _, err := os.Stat(filepath.Join(w.caseDir(v), readyFile)); err != nil {
				continue
			}
			handled[v] = true
			o := w.handle(v)
			w.mu.Lock()
			w.outcomes[v] = o
			w.mu.Unlock()
		}
	}
}

// handle restarts vnfsd for version v and writes restartedFile.
func (w *restartWatcher) handle(v string) *restartOutcome {
	o := &restartOutcome{seen: time.Now()}
	o.pids[0] = w.srv.current().cmd.Process.Pid
	w.logf("NFSv%s: the guest is ready (%s); restarting vnfsd (pid %d)", v, restartCase, o.pids[0])
	down, err := w.srv.restart()
	o.pids[1] = w.srv.current().cmd.Process.Pid
	select {
	case <-w.srv.dead:
		// Nothing serves the guest: it will not get anywhere.
	default:
		// Written atomically: the guest must never see a partial file.
		dir := w.caseDir(v)
		tmp := filepath.Join(dir, "."+restartedFile+".tmp")
		msg := fmt.Sprintf("vnfsd restarted: pid %d -> %d, down %v\n", o.pids[0], o.pids[1], down.Round(time.Millisecond))
		werr := os.WriteFile(tmp, []byte(msg), 0o644)
		if werr == nil {
			werr = os.Rename(tmp, filepath.Join(dir, restartedFile))
		}
		if werr != nil {
			err = errors.Join(err, fmt.Errorf("writing %s: %w", restartedFile, werr))
		} else {
			o.wrote = true
		}
	}
	o.down, o.took, o.err = down, time.Since(o.seen), err
	if err != nil {
		w.logf("NFSv%s: restart of vnfsd: %v", v, err)
		return o
	}
	w.logf("NFSv%s: vnfsd restarted (pid %d -> %d): stopped in %v, %s written %v after %s appeared", v, o.pids[0], o.pids[1], down.Round(time.Millisecond), restartedFile, o.took.Round(time.Millisecond), readyFile)
	return o
}

// stop ends the watcher and waits for it (and a restart it is doing).
func (w *restartWatcher) stop() {
	if w == nil {
		return
	}
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.done
}

// judge checks the host's part of restartCase for the guest's result r:
// a passing guest needs a restart that worked.
func (w *restartWatcher) judge(t *testing.T, r *result) {
	w.mu.Lock()
	o := w.outcomes[r.Version]
	w.mu.Unlock()
	var oc restartOutcome
	if o != nil {
		oc = *o
	}
	switch {
	case o == nil && r.Status == "pass":
		t.Errorf("the guest passed, but the harness never saw %s: vnfsd was not restarted", readyFile)
	case o == nil:
	case oc.err != nil:
		t.Errorf("restarting vnfsd: %v", oc.err)
	case !oc.wrote:
		t.Errorf("%s was not written", restartedFile)
	default:
		t.Logf("vnfsd restarted (pid %d -> %d): SIGTERM to exit %v, %s to %s %v",
			oc.pids[0], oc.pids[1], oc.down.Round(time.Millisecond), readyFile, restartedFile, oc.took.Round(time.Millisecond))
	}
}

// TestRestartWatcher plays the guest's part of restartCase on the host:
// readyFile in the case directory of NFSv4.1 must make the watcher
// restart vnfsd (a new process, serving, with the stored grace period
// and versions) and then write restartedFile, once; a restart the
// harness asked for must not count as vnfsd dying.
func TestRestartWatcher(t *testing.T) {
	h := setup(t)
	ns := newNetns(t)
	srv := startServer(t, h, ns)
	dir := filepath.Join(srv.export, "v4.1", restartCase)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pid0 := srv.current().cmd.Process.Pid
	w := startRestartWatcher(srv, guestSpec{versions: []string{"3", "4.1"}, cases: []string{"fsync", restartCase}}, t.Logf)
	defer w.stop()
	if err := os.WriteFile(filepath.Join(dir, readyFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	restarted := filepath.Join(dir, restartedFile)
	var b []byte
	for deadline := time.Now().Add(60 * time.Second); ; {
		var err error
		if b, err = os.ReadFile(restarted); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s 60 s after %s: %v\nvnfsd log:\n%s", restartedFile, readyFile, err, tail(srv.log.String(), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid1 := srv.current().cmd.Process.Pid
	if pid1 == pid0 {
		t.Errorf("vnfsd pid %d after the restart, the same as before", pid1)
	}
	if want := fmt.Sprintf("vnfsd restarted: pid %d -> %d, down ", pid0, pid1); !strings.HasPrefix(string(b), want) {
		t.Errorf("%s holds %q, want it to start with %q", restartedFile, b, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "."+restartedFile+".tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary file is left: %v", err)
	}
	// The watcher reports the outcome to the judge of the case.
	w.mu.Lock()
	o := w.outcomes["4.1"]
	n := len(w.outcomes)
	w.mu.Unlock()
	if o == nil || o.err != nil || !o.wrote || o.pids != [2]int{pid0, pid1} || n != 1 {
		t.Fatalf("outcome %+v, %d outcomes; want one for 4.1, without error, pids %d -> %d", o, n, pid0, pid1)
	}
	// Once per version: a second ready does nothing.
	os.Remove(restarted)
	time.Sleep(5 * restartPoll)
	if p := srv.current().cmd.Process.Pid; p != pid1 {
		t.Errorf("restarted again (pid %d -> %d)", pid1, p)
	}
	if _, err := os.Stat(restarted); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s written again: %v", restartedFile, err)
	}
	select {
	case <-srv.dead:
		t.Errorf("the restart counted as vnfsd dying")
	default:
	}
	// The new process serves the REST API with the stored settings.
	c, err := srv.serverAPI("GET", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.check(); err != nil {
		t.Error(err)
	}
	w.stop()
	if startRestartWatcher(srv, guestSpec{versions: versions, cases: []string{"fsync"}}, t.Logf) != nil {
		t.Errorf("a watcher for a guest without %s", restartCase)
	}
}
