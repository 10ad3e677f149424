package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

// Names in the data set directory.
const (
	readName  = "read.dat"
	writeName = "write.dat"
	dirName   = "dir10k"
	churnName = "churn"
	tmpSuffix = ".tmp"
)

// entryName is the name of the i-th file of dir10k.
func entryName(i int) string { return fmt.Sprintf("f%06d", i) }

// baseBlock is the pseudo-random MiB the files' content is made of: the
// same on every run, so that every server gets the same bytes.
var baseBlock = func() []byte {
	b := make([]byte, 1<<20)
	r := rand.NewChaCha8([32]byte{'n', 'f', 's', 'l', 'o', 'a', 'd'})
	r.Read(b)
	return b
}()

// fillContent writes the content of the file bytes at off (a multiple of
// 4096) into buf (a multiple of 4096 long): each 4 KiB block is a slice
// of baseBlock stamped with its offset, whatever the transfer size.
func fillContent(buf []byte, off uint64) {
	for j := 0; j+4096 <= len(buf); j += 4096 {
		o := off + uint64(j)
		k := o % uint64(len(baseBlock))
		copy(buf[j:j+4096], baseBlock[k:k+4096])
		binary.BigEndian.PutUint64(buf[j:], o)
	}
}

// setupStats reports what -setup did.
type setupStats struct {
	Server  string   `json:"server"`
	Dir     string   `json:"dir"`
	Seconds float64  `json:"seconds"`
	Created []string `json:"created"`
	Removed int      `json:"churn_leftovers_removed"`
}

// setup creates the data set, or completes it: what exists with the right
// shape is kept; files are written under a temporary name and renamed
// into place, so an interrupted setup leaves nothing that looks complete.
func setup(ctx context.Context, e *env) (*setupStats, error) {
	t0 := time.Now()
	c := e.cfg
	st := &setupStats{Server: e.server, Dir: c.dir, Created: []string{}}
	n := newNFSC(ctx, e.clients[0], e.cred)
	bench, made, err := ensureDir(n, e.root, c.dir)
	if err != nil {
		return nil, err
	}
	if made {
		st.Created = append(st.Created, c.dir)
	}
	size := uint64(c.fileSizeMiB) << 20
	for _, name := range []string{readName, writeName} {
		made, err := ensureFile(ctx, e, bench, name, size)
		if err != nil {
			return nil, err
		}
		if made {
			st.Created = append(st.Created, name)
		}
	}
	made, err = ensureEntries(ctx, e, bench, dirName, c.dirEntries)
	if err != nil {
		return nil, err
	}
	if made {
		st.Created = append(st.Created, dirName)
	}
	churn, made, err := ensureDir(n, bench, churnName)
	if err != nil {
		return nil, err
	}
	if made {
		st.Created = append(st.Created, churnName)
	}
	// Leftovers of an interrupted churn run.
	var names []string
	var rd nfs3.READDIRPLUS3res
	if _, err := n.listDir(churn, uint32(c.readdirMax), &rd, func(en *nfs3.Entryplus3) { names = append(names, en.Name) }); err != nil {
		return nil, err
	}
	var rm nfs3.REMOVE3res
	for _, name := range names {
		if err := n.remove(churn, name, &rm); err != nil {
			return nil, err
		}
	}
	st.Removed = len(names)
	st.Seconds = time.Since(t0).Seconds()
	return st, nil
}

// ensureDir returns the handle of directory name in dir, making it if
// missing.
func ensureDir(n *nfsc, dir []byte, name string) (fh []byte, made bool, err error) {
	var lres nfs3.LOOKUP3res
	err = n.lookup(dir, name, &lres)
	if err == nil {
		if lres.ObjAttributes.Present && lres.ObjAttributes.Attr.Type != vfs.TypeDir {
			return nil, false, fmt.Errorf("%s exists and is not a directory", name)
		}
		return clone(lres.Object), false, nil
	}
	if !isStat(err, nfs3.NFS3ErrNoEnt) {
		return nil, false, err
	}
	var mres nfs3.MKDIR3res
	if err := n.mkdir(dir, name, &mres); err != nil {
		return nil, false, err
	}
	if mres.Obj.Present {
		return clone(mres.Obj.Handle), true, nil
	}
	if err := n.lookup(dir, name, &lres); err != nil {
		return nil, false, err
	}
	return clone(lres.Object), true, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// ensureFile makes name in dir a regular file of size bytes with the
// data set's content, unless it already is one of that size.
func ensureFile(ctx context.Context, e *env, dir []byte, name string, size uint64) (bool, error) {
	n := newNFSC(ctx, e.clients[0], e.cred)
	var lres nfs3.LOOKUP3res
	if err := n.lookup(dir, name, &lres); err == nil {
		var g nfs3.GETATTR3res
		if err := n.getattr(lres.Object, &g); err != nil {
			return false, err
		}
		if g.ObjAttributes.Type == vfs.TypeRegular && g.ObjAttributes.Size == size {
			return false, nil
		}
	} else if !isStat(err, nfs3.NFS3ErrNoEnt) {
		return false, err
	}
	tmp := name + tmpSuffix
	var cres nfs3.CREATE3res
	h, err := n.create(dir, tmp, false, true, &cres)
	if err != nil {
		return false, err
	}
	fh := clone(h)
	chunk := uint64(min(1<<20, e.wtmax) &^ 4095)
	if chunk == 0 {
		return false, fmt.Errorf("server wtmax %d is below 4096", e.wtmax)
	}
	chunks := int((size + chunk - 1) / chunk)
	err = parallel(ctx, e, chunks, func(n *nfsc, buf []byte, i int) error {
		off := uint64(i) * chunk
		b := buf[:min(chunk, size-off)]
		fillContent(b, off)
		var wres nfs3.WRITE3res
		return n.write(fh, off, b, vfs.Unstable, &wres)
	})
	if err != nil {
		return false, err
	}
	var com nfs3.COMMIT3res
	if err := n.commit(fh, &com); err != nil {
		return false, err
	}
	var g nfs3.GETATTR3res
	if err := n.getattr(fh, &g); err != nil {
		return false, err
	}
	if g.ObjAttributes.Size != size {
		return false, fmt.Errorf("%s: size %d after writing %d bytes", tmp, g.ObjAttributes.Size, size)
	}
	return true, n.rename(dir, tmp, name)
}

// ensureEntries makes name in dir a directory holding the files
// entryName(0) ... entryName(count-1), unless it already holds exactly
// that many entries.
func ensureEntries(ctx context.Context, e *env, dir []byte, name string, count int) (bool, error) {
	n := newNFSC(ctx, e.clients[0], e.cred)
	maxcount := uint32(e.cfg.readdirMax)
	var rd nfs3.READDIRPLUS3res
	var lres nfs3.LOOKUP3res
	target := name
	if err := n.lookup(dir, name, &lres); err == nil {
		d := clone(lres.Object)
		got := 0
		if _, err := n.listDir(d, maxcount, &rd, func(en *nfs3.Entryplus3) {
			if isEntryName(en.Name, count) {
				got++
			}
		}); err != nil {
			return false, err
		}
		if got == count {
			return false, nil
		}
		// Complete it in place.
	} else if isStat(err, nfs3.NFS3ErrNoEnt) {
		target = name + tmpSuffix
	} else {
		return false, err
	}
	d, _, err := ensureDir(n, dir, target)
	if err != nil {
		return false, err
	}
	err = parallel(ctx, e, count, func(n *nfsc, _ []byte, i int) error {
		var cres nfs3.CREATE3res
		_, err := n.create(d, entryName(i), false, false, &cres)
		return err
	})
	if err != nil {
		return false, err
	}
	got := 0
	if _, err := n.listDir(d, maxcount, &rd, func(en *nfs3.Entryplus3) {
		if isEntryName(en.Name, count) {
			got++
		}
	}); err != nil {
		return false, err
	}
	if got != count {
		return false, fmt.Errorf("%s: %d entries listed after creating %d", target, got, count)
	}
	if target != name {
		if err := n.rename(dir, target, name); err != nil {
			return false, err
		}
	}
	return true, nil
}

// isEntryName reports whether s is entryName(i) for some i < count.
func isEntryName(s string, count int) bool {
	if len(s) != 7 || !strings.HasPrefix(s, "f") {
		return false
	}
	i := 0
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
		i = i*10 + int(c-'0')
	}
	return i < count
}

// parallel runs fn(i) for i in [0, count) on conns x depth workers, each
// with its own nfsc and a 1 MiB buffer; it returns the first error.
func parallel(ctx context.Context, e *env, count int, fn func(n *nfsc, buf []byte, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	workers := min(count, len(e.clients)*e.cfg.depth)
	for w := range workers {
		wg.Go(func() {
			n := newNFSC(ctx, e.clients[w%len(e.clients)], e.cred)
			buf := make([]byte, 1<<20)
			for {
				i := int(next.Add(1) - 1)
				if i >= count || ctx.Err() != nil {
					return
				}
				if err := fn(n, buf, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		// Cancelled from outside.
		return context.Cause(ctx)
	}
	return first
}
