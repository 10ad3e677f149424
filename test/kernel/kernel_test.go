package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// versions are the NFS versions vnfsd offers; the whole workload runs on
// each of them. The agent knows the mount options of "3", "4.0", "4.1"
// and "4.2".
var versions = []string{"3", "4.0", "4.1", "4.2"}

// cases are the workload, in the order the guest runs them (the names are
// those of test/kernel/agent/cases.go).
var cases = []string{
	"bigfile-8m",         // 8 MiB random, remount, checksum
	"smallfiles-1000",    // create, list, stat, read, remove
	"mkdir-deep",         // mkdir -p of 64 levels
	"rename",             // across directories, over a file, a directory
	"hardlink",           // two names, one inode
	"symlink",            // relative, absolute, dangling, long
	"truncate",           // up, down, ftruncate
	"sparse",             // 64 MiB hole
	"append-two-writers", // O_APPEND from two processes
	"chmod-chown",        // as root, no root squash
	"excl-race",          // O_EXCL create race between two processes
	"fsync",              // fsync, fdatasync, fsync of a directory
	"statfs",             // compared with the host's statfs of the export
	"unlink-open",        // unlinked while open
	"dir-10000",          // 10,000 entries listed completely
	"bigfile-100m",       // 100 MiB, caches dropped, checksum
	"fcntl-locks",        // byte-range locks, two mounts, F_SETLKW (NFSv3: NLM)
	restartCase,          // vnfsd restarted under an open file and a lock; reclaim
}

// TestKernelClient runs the workload with the Linux kernel's NFS client
// against vnfsd, for every version in versions. Each case is a subtest
// named v<version>/<case>.
func TestKernelClient(t *testing.T) {
	h := setup(t)
	ns := newNetns(t)
	srv := startServer(t, h, ns)
	runGuest(t, h, ns, srv, guestSpec{versions: versions, cases: cases}, func(t *testing.T, r *result) {
		v := judge(srv.export, r)
		if v.skip != "" {
			t.Skip("skipped by the guest: " + v.skip)
		}
		for _, p := range v.problems() {
			t.Error(p)
		}
	})
}

// TestKernelClientDetectsCorruptRead shows that the harness can fail: vnfsd
// flips bytes of READ data (--fault corrupt-read), so the verdict on the
// 8 MiB case, the same judge TestKernelClient uses, must be a checksum
// failure from the guest, while the file on the server is intact.
func TestKernelClientDetectsCorruptRead(t *testing.T) {
	h := setup(t)
	ns := newNetns(t)
	srv := startServer(t, h, ns, "--fault", "corrupt-read")
	runGuest(t, h, ns, srv, guestSpec{versions: versions, cases: []string{"bigfile-8m"}}, func(t *testing.T, r *result) {
		v := judge(srv.export, r)
		if v.guest == "" || !strings.Contains(v.guest, "checksum mismatch") {
			t.Errorf("with corrupted READ replies the verdict is %q (status %s); want a checksum mismatch", v.problems(), r.Status)
		} else {
			t.Logf("the corruption was detected, as it must be: %s", v.guest)
		}
		// The data written is intact on the server: only READ lies.
		for _, p := range v.host {
			t.Errorf("on the server: %s", p)
		}
	})
}

// verdict is what is wrong with one result.
type verdict struct {
	skip  string   // the guest skipped the case, for this reason
	guest string   // the guest's failure
	host  []string // what the checks on the host found
}

func (v verdict) problems() []string {
	var l []string
	if v.guest != "" {
		l = append(l, "failed in the guest: "+v.guest)
	}
	for _, h := range v.host {
		l = append(l, "on the server: "+h)
	}
	return l
}

// judge checks a result: the guest's own status, then in the export
// directory on the host what the guest asked to be verified, and statfs.
func judge(export string, r *result) verdict {
	var v verdict
	switch r.Status {
	case "pass":
	case "skip":
		v.skip = r.Detail
		return v
	case "fail":
		v.guest = r.Detail
	default:
		v.guest = fmt.Sprintf("unknown status %q: %s", r.Status, r.Detail)
	}
	root := filepath.Join(export, "v"+r.Version)
	for _, c := range r.Host {
		if err := checkOne(root, c); err != nil {
			v.host = append(v.host, fmt.Sprintf("%s: %v", c.Path, err))
		}
	}
	if r.Statfs != nil {
		if err := compareStatfs(export, r.Statfs); err != nil {
			v.host = append(v.host, fmt.Sprintf("statfs: %v", err))
		}
	}
	return v
}

// guestTimeout bounds one guest run; the test's own deadline (go test
// -timeout) shortens it. The whole workload on four NFS versions takes
// about 8 minutes under software emulation on the 2-vCPU machines here.
const guestTimeout = 20 * time.Minute

// runGuest boots the guest with spec, turns every result into a subtest
// v<version>/<case> checked by check, fails for every case that has no
// result and logs a summary with the times. On failure it prints the
// tail of the serial console and of vnfsd's log.
func runGuest(t *testing.T, h *harnessEnv, ns string, srv *server, spec guestSpec, check func(*testing.T, *result)) {
	t.Helper()
	deadline := time.Now().Add(guestTimeout)
	if d, ok := t.Deadline(); ok && d.Add(-45*time.Second).Before(deadline) {
		deadline = d.Add(-45 * time.Second)
	}
	t0 := time.Now()
	g := bootGuest(t, h, ns, spec)
	// restartCase needs the host to restart vnfsd when the guest asks.
	w := startRestartWatcher(srv, spec, t.Logf)
	defer w.stop()
	defer func() {
		if t.Failed() {
			t.Logf("serial console (tail):\n%s", tail(g.console.String(), 80))
			t.Logf("vnfsd log (tail):\n%s", tail(srv.log.String(), 30))
		}
	}()

	type row struct {
		key    string
		status string
		ms     float64
		detail string
	}
	var rows []row
	expected := map[string]bool{}
	var order []string
	for _, v := range spec.versions {
		for _, c := range spec.cases {
			k := "v" + v + "/" + c
			expected[k] = true
			order = append(order, k)
		}
	}
	got := map[string]bool{}
	running := "(none)"
	done := false
	for {
		m, ok, err := g.next(deadline, srv.dead)
		if err != nil {
			t.Errorf("guest stopped responding: %v; it was running %s; killing qemu", err, running)
			g.kill()
			break
		}
		if !ok {
			break
		}
		switch {
		case m.bad != "":
			t.Errorf("malformed line from the agent: %q", m.bad)
		case m.event != nil:
			e := m.event
			switch e.Event {
			case "start":
				running = "v" + e.Version + "/" + e.Case
			case "fatal":
				t.Errorf("agent failed: %s", e.Detail)
			case "done":
				done = true
				t.Logf("guest done: agent ran %.2f s, kernel uptime %.2f s", e.MS/1000, e.Uptime/1000)
			case "mount", "umount":
				t.Logf("%s NFSv%s in %.0f ms: %s", e.Event, e.Version, e.MS, e.Detail)
				if strings.HasPrefix(e.Detail, "FAILED") {
					t.Errorf("%s NFSv%s: %s", e.Event, e.Version, e.Detail)
				}
			default:
				t.Logf("guest %s in %.0f ms: %s", e.Event, e.MS, e.Detail)
			}
		case m.result != nil:
			r := m.result
			k := "v" + r.Version + "/" + r.Case
			if !expected[k] {
				t.Errorf("unexpected result %s: %+v", k, r)
				continue
			}
			if got[k] {
				t.Errorf("second result for %s: %+v", k, r)
				continue
			}
			got[k] = true
			t.Run(k, func(t *testing.T) {
				t.Logf("%s: %s in %.2f s; %s", k, r.Status, r.MS/1000, r.Detail)
				if w != nil && r.Case == restartCase {
					w.judge(t, r)
				}
				check(t, r)
			})
			rows = append(rows, row{k, r.Status, r.MS, r.Detail})
		}
	}
	g.kill()
	w.stop()
	for _, k := range order {
		if !got[k] {
			t.Run(k, func(t *testing.T) {
				t.Errorf("no result from the guest (it was running %s when it stopped)", running)
			})
			rows = append(rows, row{k, "missing", 0, ""})
		}
	}
	if !done && !t.Failed() {
		t.Errorf("the guest never reported done")
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "summary (%s, agent up %.1f s after qemu start, whole run %.1f s):\n", g.accel, g.hello.Seconds(), time.Since(t0).Seconds())
	for _, r := range rows {
		fmt.Fprintf(&sb, "  %-26s %-7s %8.2f s\n", r.key, r.status, r.ms/1000)
	}
	t.Log(sb.String())
}

func checkOne(root string, c hostCheck) error {
	if !filepath.IsLocal(c.Path) {
		return errors.New("not a local path")
	}
	p := filepath.Join(root, c.Path)
	var st unix.Stat_t
	err := unix.Lstat(p, &st)
	if c.Absent {
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("exists (%v), want absent", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	typ := map[uint32]string{unix.S_IFREG: "file", unix.S_IFDIR: "dir", unix.S_IFLNK: "symlink"}[st.Mode&unix.S_IFMT]
	var errs []error
	if c.Type != "" && typ != c.Type {
		errs = append(errs, fmt.Errorf("is a %q, want %s", typ, c.Type))
	}
	if c.Size != nil && st.Size != *c.Size {
		errs = append(errs, fmt.Errorf("size %d, want %d", st.Size, *c.Size))
	}
	if c.Mode != nil && st.Mode&07777 != *c.Mode {
		errs = append(errs, fmt.Errorf("mode %04o, want %04o", st.Mode&07777, *c.Mode))
	}
	if c.UID != nil && st.Uid != *c.UID {
		errs = append(errs, fmt.Errorf("uid %d, want %d", st.Uid, *c.UID))
	}
	if c.GID != nil && st.Gid != *c.GID {
		errs = append(errs, fmt.Errorf("gid %d, want %d", st.Gid, *c.GID))
	}
	if c.Nlink != nil && uint64(st.Nlink) != *c.Nlink {
		errs = append(errs, fmt.Errorf("nlink %d, want %d", st.Nlink, *c.Nlink))
	}
	if c.MaxAllocated != nil && st.Blocks*512 > *c.MaxAllocated {
		errs = append(errs, fmt.Errorf("%d bytes allocated, want at most %d", st.Blocks*512, *c.MaxAllocated))
	}
	if c.Link != nil {
		if l, err := os.Readlink(p); err != nil || l != *c.Link {
			errs = append(errs, fmt.Errorf("readlink %q, %v; want %q", l, err, *c.Link))
		}
	}
	if c.Entries != nil {
		if ents, err := os.ReadDir(p); err != nil || len(ents) != *c.Entries {
			errs = append(errs, fmt.Errorf("%d entries (%v), want %d", len(ents), err, *c.Entries))
		}
	}
	if c.SHA256 != "" {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if sum := hex.EncodeToString(h.Sum(nil)); err != nil || sum != c.SHA256 {
			errs = append(errs, fmt.Errorf("sha256 %s (%v), the guest wrote %s", sum, err, c.SHA256))
		}
	}
	return errors.Join(errs...)
}

// compareStatfs compares the guest's statfs of the mount with the host's
// statfs of the export directory, which FSSTAT reports. Totals must agree
// to a block; free space and free files may have moved by what other
// processes did in between.
func compareStatfs(export string, g *statfsData) error {
	var s unix.Statfs_t
	if err := unix.Statfs(export, &s); err != nil {
		return err
	}
	hb := uint64(s.Bsize)
	gb := uint64(g.Bsize)
	abs := func(a, b uint64) uint64 {
		if a > b {
			return a - b
		}
		return b - a
	}
	var errs []error
	total := s.Blocks * hb
	if d := abs(g.Blocks*gb, total); d > max(gb, hb) {
		errs = append(errs, fmt.Errorf("total %d bytes, host %d", g.Blocks*gb, total))
	}
	slack := max(total/50, 1<<30)
	if d := abs(g.Bfree*gb, s.Bfree*hb); d > slack {
		errs = append(errs, fmt.Errorf("free %d bytes, host %d", g.Bfree*gb, s.Bfree*hb))
	}
	if d := abs(g.Bavail*gb, s.Bavail*hb); d > slack {
		errs = append(errs, fmt.Errorf("available %d bytes, host %d", g.Bavail*gb, s.Bavail*hb))
	}
	if g.Files != s.Files {
		errs = append(errs, fmt.Errorf("files %d, host %d", g.Files, s.Files))
	}
	if d := abs(g.Ffree, s.Ffree); d > max(s.Files/50, 100000) {
		errs = append(errs, fmt.Errorf("free files %d, host %d", g.Ffree, s.Ffree))
	}
	return errors.Join(errs...)
}
