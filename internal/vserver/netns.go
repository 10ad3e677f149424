package vserver

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsGetNstype is the ioctl NS_GET_NSTYPE of ioctl_ns(2) (_IO(0xb7, 0x3),
// Linux 4.11): it returns the CLONE_NEW* type of a namespace file.
const nsGetNstype = 0xb703

// ErrNotNetns is wrapped by the errors of CheckNetns for a file that is not
// a network namespace.
var ErrNotNetns = errors.New("not a network namespace")

// checkNetnsPath checks the form of a network namespace path: absolute and
// clean (so that two spellings of one path are seen as duplicates).
func checkNetnsPath(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("network namespace %q: path must be absolute (such as /run/netns/NAME or /proc/PID/ns/net)", p)
	}
	if filepath.Clean(p) != p {
		return fmt.Errorf("network namespace %q: path is not clean (want %q)", p, filepath.Clean(p))
	}
	return nil
}

// CheckNetns reports whether path names a Linux network namespace that
// this process can enter: an absolute path to an nsfs file of type
// CLONE_NEWNET (a name bound by `ip netns add` under /run/netns, or
// /proc/PID/ns/net). Start does the same checks; CheckNetns lets a control
// plane refuse a bad path before it stores it.
func CheckNetns(path string) error {
	fd, err := openNetns(path)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}

// openNetns opens a network namespace file for setns(2) and checks its
// type. The caller closes the descriptor.
func openNetns(path string) (int, error) {
	if err := checkNetnsPath(path); err != nil {
		return -1, err
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("network namespace %s: %w", path, err)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("network namespace %s: %w", path, err)
	}
	if sfs.Type != unix.NSFS_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("network namespace %s: %w (not a namespace file of nsfs; create one with `ip netns add NAME` and give /run/netns/NAME)", path, ErrNotNetns)
	}
	typ, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), nsGetNstype, 0)
	if errno != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("network namespace %s: NS_GET_NSTYPE: %w", path, errno)
	}
	if typ != unix.CLONE_NEWNET {
		unix.Close(fd)
		return -1, fmt.Errorf("network namespace %s: %w (a namespace of another type, %#x)", path, ErrNotNetns, typ)
	}
	return fd, nil
}

// inNetns runs fn on an OS thread that has entered the network namespace
// nsfd, so that the sockets fn creates belong to that namespace (a
// socket stays in the namespace it was created in, whatever thread uses
// it later). The thread returns to its own namespace afterwards; if it
// cannot, it is not given back to the Go scheduler: its goroutine exits
// with the thread locked, and the runtime terminates the thread.
func inNetns(nsfd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("saving the current network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering the network namespace (setns needs CAP_SYS_ADMIN): %w", err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("returning to the original network namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
