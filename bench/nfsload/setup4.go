package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// setup4 is setup over NFSv4.1: the same data set (the same names, sizes
// and content), made with LOOKUP, CREATE (directories), OPEN with
// OPEN4_CREATE (files), WRITE, COMMIT, CLOSE, RENAME, READDIR and REMOVE.
func setup4(ctx context.Context, e *env) (*setupStats, error) {
	t0 := time.Now()
	c := e.cfg
	st := &setupStats{Server: e.server, Dir: c.dir, Created: []string{}}
	n := e.v4.conn(ctx, 0)
	bench, made, err := ensureDir4(n, e.root, c.dir)
	if err != nil {
		return nil, err
	}
	if made {
		st.Created = append(st.Created, c.dir)
	}
	size := uint64(c.fileSizeMiB) << 20
	for _, name := range []string{readName, writeName} {
		made, err := ensureFile4(ctx, e, bench, name, size)
		if err != nil {
			return nil, err
		}
		if made {
			st.Created = append(st.Created, name)
		}
	}
	made, err = ensureEntries4(ctx, e, bench, dirName, c.dirEntries)
	if err != nil {
		return nil, err
	}
	if made {
		st.Created = append(st.Created, dirName)
	}
	churn, made, err := ensureDir4(n, bench, churnName)
	if err != nil {
		return nil, err
	}
	if made {
		st.Created = append(st.Created, churnName)
	}
	var names []string
	if _, err := n.listDir(churn, uint32(c.readdirMax), c4.NewBitmap(c4.FATTR4_TYPE), func(en *c4.Entry) { names = append(names, en.Name) }); err != nil {
		return nil, err
	}
	putChurn := c4.Putfh(churn)
	for _, name := range names {
		if err := n.remove(putChurn, name); err != nil {
			return nil, err
		}
	}
	st.Removed = len(names)
	st.Seconds = time.Since(t0).Seconds()
	return st, nil
}

// ensureDir4 returns the handle of directory name in dir, making it if
// missing.
func ensureDir4(n *conn4, dir []byte, name string) (fh []byte, made bool, err error) {
	fh, a, err := n.lookup(dir, name)
	if err == nil {
		if a.Type != c4.NF4DIR {
			return nil, false, fmt.Errorf("%s exists and is not a directory", name)
		}
		return fh, false, nil
	}
	if !isStat4(err, "LOOKUP", c4.NFS4ERR_NOENT) {
		return nil, false, err
	}
	fh, err = n.mkdir(dir, name)
	return fh, err == nil, err
}

// ensureFile4 makes name in dir a regular file of size bytes with the
// data set's content, unless it already is one of that size.
func ensureFile4(ctx context.Context, e *env, dir []byte, name string, size uint64) (bool, error) {
	n := e.v4.conn(ctx, 0)
	if _, a, err := n.lookup(dir, name); err == nil {
		if a.Type == c4.NF4REG && a.Size == size {
			return false, nil
		}
	} else if !isStat4(err, "LOOKUP", c4.NFS4ERR_NOENT) {
		return false, err
	}
	tmp := name + tmpSuffix
	o, err := n.openFile(dir, tmp, c4.OPEN4_SHARE_ACCESS_BOTH, true, false)
	if err != nil {
		return false, err
	}
	putfh := c4.Putfh(o.fh)
	chunk := uint64(min(1<<20, e.wtmax) &^ 4095)
	if chunk == 0 {
		n.closeFile(o)
		return false, fmt.Errorf("server maxwrite %d is below 4096", e.wtmax)
	}
	chunks := int((size + chunk - 1) / chunk)
	err = parallel4(ctx, e, chunks, func(n *conn4, buf []byte, i int) error {
		off := uint64(i) * chunk
		b := buf[:min(chunk, size-off)]
		fillContent(b, off)
		return n.write(putfh, o.stateid, off, b, c4.UNSTABLE4)
	})
	if err == nil {
		err = n.commit(putfh)
	}
	if err == nil {
		var res *c4.Result
		res, err = n.call(putfh, c4.Getattr(c4.FATTR4_SIZE))
		if err == nil {
			var a *c4.AttrValues
			if a, err = res.Ops[2].Attrs(); err != nil {
				err = garbage("GETATTR", err)
			} else if a.Size != size {
				err = fmt.Errorf("%s: size %d after writing %d bytes", tmp, a.Size, size)
			}
		}
	}
	if cerr := n.closeFile(o); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	return true, n.rename(dir, tmp, name)
}

// ensureEntries4 makes name in dir a directory holding the files
// entryName(0) ... entryName(count-1), unless it already holds exactly
// that many entries.
func ensureEntries4(ctx context.Context, e *env, dir []byte, name string, count int) (bool, error) {
	n := e.v4.conn(ctx, 0)
	maxcount := uint32(e.cfg.readdirMax)
	names := c4.NewBitmap(c4.FATTR4_TYPE)
	target := name
	if d, _, err := n.lookup(dir, name); err == nil {
		got := 0
		if _, err := n.listDir(d, maxcount, names, func(en *c4.Entry) {
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
	} else if isStat4(err, "LOOKUP", c4.NFS4ERR_NOENT) {
		target = name + tmpSuffix
	} else {
		return false, err
	}
	d, _, err := ensureDir4(n, dir, target)
	if err != nil {
		return false, err
	}
	err = parallel4(ctx, e, count, func(n *conn4, _ []byte, i int) error {
		o, err := n.openFile(d, entryName(i), c4.OPEN4_SHARE_ACCESS_BOTH, true, false)
		if err != nil {
			return err
		}
		return n.closeFile(o)
	})
	if err != nil {
		return false, err
	}
	got := 0
	if _, err := n.listDir(d, maxcount, names, func(en *c4.Entry) {
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

// parallel4 runs fn(i) for i in [0, count) on conns x depth workers
// spread over the sessions, each with a 1 MiB buffer; it returns the
// first error.
func parallel4(ctx context.Context, e *env, count int, fn func(n *conn4, buf []byte, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	workers := min(count, len(e.v4.sessions)*e.cfg.depth)
	for w := range workers {
		wg.Go(func() {
			n := e.v4.conn(ctx, w)
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
		return context.Cause(ctx)
	}
	return first
}
