//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The handshake of caseRestartReclaim with the harness, through files in
// the case's directory (the harness watches the export on the host:
// test/kernel/restart_test.go).
const (
	reclaimReady     = "ready"     // created by the guest: restart vnfsd now
	reclaimRestarted = "restarted" // created by the host once vnfsd is back

	reclaimPoll     = 200 * time.Millisecond
	reclaimWait     = 120 * time.Second // for the restart
	reclaimStepWait = 120 * time.Second // for each step after it
)

// caseRestartReclaim: vnfsd restarts while this client holds an open file
// and a write lock on it; the client must reclaim both in the server's
// grace period (NFSv4: RFC 7530 section 9.6.2, RFC 8881 section 8.4.2 —
// OPEN with CLAIM_PREVIOUS, LOCK with reclaim set) and go on with the same
// descriptor.
//
// Before the restart: the file is created, a first half of a known
// pattern written and fsync'ed, [0,100) write-locked with F_SETLK. The
// export is mounted a second time with nosharecache (its own inodes, so
// the locks of the first mount are seen only through the server, as in
// caseLocks) and lookupcache=none (every stat asks the server: the host
// creates the file the guest waits for behind the client's back). Then
// the guest creates "ready" and polls for "restarted" on the second mount.
//
// After it: the second half is written through the same descriptor and
// fsync'ed (this needs the reclaimed state: the server forgot the old
// stateids), everything read back through the descriptor with its pages
// dropped and through the second mount; from the second mount another
// process's F_SETLK on [50,60) must fail with EAGAIN and F_GETLK must
// describe the write lock [0,100) (the server has the reclaimed lock);
// the unlock and close must succeed and the lock then be free. The host
// checks the file's size and checksum.
//
// NFSv3 is skipped: reclaim there is NLM's, started by the server's
// SM_NOTIFY to the client's statd, which cannot reach this guest (see
// the skip reason).
func caseRestartReclaim(e *env) error {
	if e.version == "3" {
		return errSkip{"NFSv3 lock reclaim needs vnfsd's SM_NOTIFY to reach the guest's statd, " +
			"but behind qemu's user networking the guest is 127.0.0.1 to vnfsd (which so notifies itself) " +
			"and cannot be called; without it the client never reclaims and the server forgets the lock"}
	}
	const half = 256 << 10
	data := knownPattern(2 * half)
	sum := sha256.Sum256(data)
	p := e.path("held")
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(len(data))), SHA256: hex.EncodeToString(sum[:])})

	// Before the restart.
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if err != nil {
		return stepErr("create before the restart", err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data[:half], 0); err != nil {
		return stepErr("write of the first half before the restart", err)
	}
	if err := f.Sync(); err != nil {
		return stepErr("fsync before the restart", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: 0, Len: 100}
	tl := time.Now()
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		return stepErr("F_SETLK [0,100) before the restart", err)
	}
	lockTook := time.Since(tl)

	m2 := &mount{source: e.m.source, target: mountPoint + "-reclaim", opts: e.m.opts + ",nosharecache,lookupcache=none"}
	if err := os.MkdirAll(m2.target, 0o755); err != nil {
		return err
	}
	if err := m2.mount(); err != nil {
		return fmt.Errorf("second mount (nosharecache,lookupcache=none): %w", err)
	}
	defer m2.unmount()
	on2 := func(q string) string { return filepath.Join(m2.target, strings.TrimPrefix(q, mountPoint)) }
	p2 := on2(p)
	if _, err := os.Stat(p2); err != nil {
		return stepErr("stat on the second mount before the restart", err)
	}

	// The restart.
	t0 := time.Now()
	if err := os.WriteFile(e.path(reclaimReady), []byte(fmt.Sprintf("pid %d holds [0,100) of held\n", os.Getpid())), 0o644); err != nil {
		return stepErr("creating "+reclaimReady, err)
	}
	reclaimEvent(e, 0, "ready: file open, [0,100) write-locked; waiting for the host to restart vnfsd")
	polls, err := waitForFile(on2(e.path(reclaimRestarted)), reclaimPoll, reclaimWait)
	if err != nil {
		return fmt.Errorf("waiting for the host to restart vnfsd: %w", err)
	}
	tSeen := time.Since(t0)
	reclaimEvent(e, tSeen, fmt.Sprintf("%s seen after %d polls", reclaimRestarted, polls))

	// The same descriptor, after the restart.
	err = within(reclaimStepWait, "write and fsync of the second half through the descriptor opened before the restart", func() error {
		if _, err := f.WriteAt(data[half:], half); err != nil {
			return stepErr("write", err)
		}
		return stepErr("fsync", f.Sync())
	})
	if err != nil {
		return err
	}
	tIO := time.Since(t0)
	reclaimEvent(e, tIO, "first write and fsync after the restart done")

	err = within(reclaimStepWait, "read back through the descriptor", func() error {
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			return stepErr("posix_fadvise DONTNEED", err)
		}
		got := make([]byte, len(data)+1)
		n, err := f.ReadAt(got, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return stepErr("read", err)
		}
		return compareData("through the descriptor", got[:n], data)
	})
	if err != nil {
		return err
	}

	// The server's view, from the second mount: new OPENs and LOCKs,
	// which wait for the end of the grace period.
	tg := time.Now()
	helper := func(args ...string) (string, error) {
		var out string
		err := within(reclaimStepWait, "helper "+strings.Join(args, " "), func() error {
			outs, err := runChildren(args)
			if err != nil {
				return err
			}
			out = strings.TrimSpace(outs[0])
			return nil
		})
		return out, err
	}
	got, err := helper("lock", p2, "w", "50", "10")
	if err != nil {
		return err
	}
	if got != "EAGAIN" {
		return fmt.Errorf("second mount after the restart: other process locking w [50,60): %s, want EAGAIN (the server lost the reclaimed lock [0,100))", got)
	}
	tGrace := time.Since(tg)
	got, err = helper("getlk", p2, "w", "50", "10")
	if err != nil {
		return err
	}
	var typ string
	var start, n int64
	var pid int32
	if _, err := fmt.Sscan(got, &typ, &start, &n, &pid); err != nil || typ != "w" || start != 0 || n != 100 {
		return fmt.Errorf("second mount after the restart: F_GETLK [50,60): %q, want \"w 0 100 PID\" (the reclaimed lock)", got)
	}
	if got, err := helper("lock", p, "w", "50", "10"); err != nil || got != "EAGAIN" {
		return fmt.Errorf("same mount after the restart: other process locking w [50,60): %q (%v), want EAGAIN", got, err)
	}
	err = within(reclaimStepWait, "read through the second mount", func() error {
		b, err := os.ReadFile(p2)
		if err != nil {
			return stepErr("read on the second mount", err)
		}
		return compareData("through the second mount", b, data)
	})
	if err != nil {
		return err
	}

	// Unlock and close with the reclaimed state.
	lk.Type = unix.F_UNLCK
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		return stepErr("unlock [0,100) after the restart", err)
	}
	if err := f.Close(); err != nil {
		return stepErr("close after the restart", err)
	}
	if got, err := helper("lock", p2, "w", "50", "10"); err != nil || got != "locked" {
		return fmt.Errorf("second mount after the unlock: other process locking w [50,60): %q (%v), want locked", got, err)
	}
	e.note("F_SETLK before %.2f s; %s seen %.2f s after %s; first write+fsync %.2f s after %s (%.2f s after %s); the lock seen from the second mount after %.2f s more",
		lockTook.Seconds(), reclaimRestarted, tSeen.Seconds(), reclaimReady, tIO.Seconds(), reclaimReady, (tIO - tSeen).Seconds(), reclaimRestarted, tGrace.Seconds())
	return nil
}

// reclaimEvent reports a step of caseRestartReclaim on the console, with
// the time since "ready".
func reclaimEvent(e *env, d time.Duration, detail string) {
	emit(eventPrefix, event{Event: "reclaim", Version: e.version, Case: e.name, MS: ms(d), Uptime: uptimeMS(), Detail: detail})
}

// knownPattern returns n bytes of a fixed pseudo-random sequence (the
// same in every run, unlike newRand).
func knownPattern(n int) []byte {
	var seed [32]byte
	copy(seed[:], "vnfsd restart-reclaim pattern")
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

func compareData(where string, got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	first := -1
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i] != want[i] {
			first = i
			break
		}
	}
	return fmt.Errorf("read %s: %d bytes, want %d; first difference at offset %d", where, len(got), len(want), first)
}

// stepErr names the step and the errno of a failure; nil stays nil.
func stepErr(step string, err error) error {
	if err == nil {
		return nil
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("%s: %w (%s)", step, err, unix.ErrnoName(errno))
	}
	return fmt.Errorf("%s: %w", step, err)
}

// within runs fn and waits at most d for it. On a hard NFS mount a call
// to a server that does not answer never returns: the case then fails
// with what it was doing, and fn's goroutine stays blocked.
func within(d time.Duration, what string, fn func() error) error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	select {
	case err := <-ch:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-time.After(d):
		return fmt.Errorf("%s: still blocked after %v", what, d)
	}
}

// waitForFile polls with stat every `every` until p exists, for at most
// limit, and returns the number of stats. A stat that blocks (the server
// does not answer) counts against the limit.
func waitForFile(p string, every, limit time.Duration) (int, error) {
	var (
		mu      sync.Mutex
		n       int
		lastErr error
		inStat  time.Time // when the stat in progress started
		others  int       // errors other than ENOENT
	)
	found := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		for {
			mu.Lock()
			n++
			inStat = time.Now()
			mu.Unlock()
			_, err := os.Stat(p)
			mu.Lock()
			inStat = time.Time{}
			lastErr = err
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				others++
			}
			mu.Unlock()
			if err == nil {
				close(found)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
		}
	}()
	select {
	case <-found:
		mu.Lock()
		defer mu.Unlock()
		return n, nil
	case <-time.After(limit):
		close(stop)
		mu.Lock()
		defer mu.Unlock()
		blocked := ""
		if !inStat.IsZero() {
			blocked = fmt.Sprintf("; a stat has been blocked for %v", time.Since(inStat).Round(time.Millisecond))
		}
		return n, fmt.Errorf("%s did not appear within %v: %d stats, %d failed other than with ENOENT, the last: %v%s",
			p, limit, n, others, stepErr("stat", lastErr), blocked)
	}
}
