// Package faultfs wraps a vfs.FS and injects faults into it, so that tests
// can show that the layers above (and the kernel client harness) detect
// broken data and failed operations. It is for tests only: vnfsd logs a
// warning when an export runs with a fault.
package faultfs

import (
	"context"
	"fmt"
	"strings"
	"syscall"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// Faults a spec can name, separated by commas.
const (
	// CorruptRead flips the bits of one byte in every 4 KiB block of READ
	// data (at offset 100 of the block, when the read covers it).
	CorruptRead = "corrupt-read"
	// FailWrite makes every WRITE fail with EIO.
	FailWrite = "fail-write"
)

// FS is a vfs.FS with faults.
type FS struct {
	vfs.FS
	corruptRead bool
	failWrite   bool
}

// Wrap returns fs with the faults of spec, a comma-separated list of
// fault names. An empty or unknown name is an error.
func Wrap(fs vfs.FS, spec string) (vfs.FS, error) {
	f := &FS{FS: fs}
	for _, name := range strings.Split(spec, ",") {
		switch strings.TrimSpace(name) {
		case CorruptRead:
			f.corruptRead = true
		case FailWrite:
			f.failWrite = true
		default:
			return nil, fmt.Errorf("faultfs: unknown fault %q (known: %s, %s)", name, CorruptRead, FailWrite)
		}
	}
	return f, nil
}

// Read reads through the wrapped FS and corrupts the data if asked to.
func (f *FS) Read(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64) (int, bool, error) {
	n, eof, err := f.FS.Read(ctx, c, id, p, off)
	if f.corruptRead && n > 0 {
		const block, at = 4096, 100
		// The first position at or after off that is at+k*block.
		start := (off + block - 1 - at) / block * block
		for pos := start + at; pos < off+uint64(n); pos += block {
			if pos >= off {
				p[pos-off] ^= 0xff
			}
		}
	}
	return n, eof, err
}

// Write fails with EIO if asked to, else writes through.
func (f *FS) Write(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64, how vfs.Stability) (int, vfs.Stability, error) {
	if f.failWrite {
		return 0, how, syscall.EIO
	}
	return f.FS.Write(ctx, c, id, p, off, how)
}
