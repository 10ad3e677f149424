package local

import (
	"bytes"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

func TestFDCacheEviction(t *testing.T) {
	base := countFDs(t)
	const size = 6
	e := newEnv(t, Options{FDCacheSize: size})
	var ids []vfs.ID
	for i := range 60 {
		id, _ := e.create(alice, e.root, fmt.Sprintf("f%02d", i), nil)
		ids = append(ids, id)
		e.write(alice, id, fmt.Sprintf("content %02d", i), 0)
	}
	for round := range 3 {
		for i, id := range ids {
			buf := make([]byte, 32)
			n, _, err := e.fs.Read(ctx, bob, id, buf, 0)
			if err != nil || string(buf[:n]) != fmt.Sprintf("content %02d", i) {
				t.Fatalf("round %d: Read %d: %q %v", round, i, buf[:n], err)
			}
			if _, _, err := e.fs.Lookup(ctx, alice, e.root, fmt.Sprintf("f%02d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, fds := e.fs.CacheStats(); fds > size {
			t.Errorf("round %d: %d descriptors cached, bound %d", round, fds, size)
		}
		if open := countFDs(t) - base; open > size {
			t.Errorf("round %d: %d descriptors open, bound %d", round, open, size)
		}
	}
	e.fs.Close()
	if open := countFDs(t) - base; open != 0 {
		t.Errorf("%d descriptors left open after Close", open)
	}
}

func TestEvictedNodeStaysOpenWhileUsed(t *testing.T) {
	e := newEnv(t, Options{FDCacheSize: 3})
	id, _ := e.create(alice, e.root, "held", nil)
	e.write(alice, id, "x", 0)
	var st unix.Stat_t
	n, err := e.fs.get(id, &st)
	if err != nil {
		t.Fatal(err)
	}
	fd, rfd := n.fd, int(n.wfd.Load())
	for i := range 20 { // evicts "held"
		e.create(alice, e.root, fmt.Sprintf("other%d", i), nil)
	}
	if e.fs.cache.peek(id) != nil {
		t.Fatal("node not evicted")
	}
	for _, d := range []int{fd, rfd} {
		if err := fstat(d, &st); err != nil {
			t.Fatalf("descriptor %d of an evicted node in use was closed: %v", d, err)
		}
	}
	e.fs.cache.release(n)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != syscall.EBADF {
		t.Errorf("descriptor of an evicted node still open after release: %v", err)
	}
	if _, err := e.fs.GetAttr(ctx, id); err != nil {
		t.Errorf("GetAttr after eviction: %v", err)
	}
}

func TestConcurrentReadersWriters(t *testing.T) {
	e := newEnv(t, Options{FDCacheSize: 8})
	const files, workers, iters = 12, 8, 200
	var ids []vfs.ID
	for i := range files {
		id, _ := e.create(alice, e.root, fmt.Sprintf("f%d", i), nil)
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			block := bytes.Repeat([]byte{byte('a' + w)}, 512)
			buf := make([]byte, 512)
			for i := range iters {
				id := ids[(w+i)%files]
				off := uint64(w) * 512
				if _, _, err := e.fs.Write(ctx, alice, id, block, off, vfs.Unstable); err != nil {
					errs <- fmt.Errorf("worker %d Write: %w", w, err)
					return
				}
				n, _, err := e.fs.Read(ctx, bob, id, buf, off)
				if err != nil || !bytes.Equal(buf[:n], block) {
					errs <- fmt.Errorf("worker %d Read: %d bytes, %v", w, n, err)
					return
				}
				switch i % 5 {
				case 0:
					if _, err := e.fs.GetAttr(ctx, id); err != nil {
						errs <- err
						return
					}
				case 1:
					if _, _, err := e.fs.Lookup(ctx, alice, e.root, fmt.Sprintf("f%d", (w+i)%files)); err != nil {
						errs <- err
						return
					}
				case 2:
					if err := e.fs.Commit(ctx, alice, id, 0, 0); err != nil {
						errs <- err
						return
					}
				case 3:
					if _, err := e.fs.SetAttr(ctx, alice, id, &vfs.SetAttr{Valid: vfs.SetMtimeNow}, nil); err != nil {
						errs <- err
						return
					}
				case 4:
					if _, err := e.fs.ReadDir(ctx, alice, e.root, 0, true, func(*vfs.DirEntry) bool { return true }); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	// Churn: create and remove other files, evicting cache entries.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range iters {
			name := fmt.Sprintf("tmp%d", i%7)
			id, _, err := e.fs.Create(ctx, bob, e.root, name, vfs.Unchecked, nil, [8]byte{})
			if err != nil {
				errs <- fmt.Errorf("churn Create: %w", err)
				return
			}
			e.fs.Write(ctx, bob, id, []byte("x"), 0, vfs.Unstable)
			if err := e.fs.Remove(ctx, bob, e.root, name); err != nil {
				errs <- fmt.Errorf("churn Remove: %w", err)
				return
			}
			if _, err := e.fs.GetAttr(ctx, id); err != syscall.ESTALE {
				errs <- fmt.Errorf("churn GetAttr after Remove: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every worker's block is intact in the files it wrote last.
	for i, id := range ids {
		buf := make([]byte, workers*512)
		n, _, err := e.fs.Read(ctx, alice, id, buf, 0)
		if err != nil || n != len(buf) {
			t.Fatalf("file %d: %d bytes, %v", i, n, err)
		}
		for w := range workers {
			if !bytes.Equal(buf[w*512:(w+1)*512], bytes.Repeat([]byte{byte('a' + w)}, 512)) {
				t.Errorf("file %d: block of worker %d damaged", i, w)
			}
		}
	}
	if _, fds := e.fs.CacheStats(); fds > 8 {
		t.Errorf("%d descriptors cached, bound 8", fds)
	}
}

func TestCloseWhileInUse(t *testing.T) {
	e := newEnv(t, Options{})
	id, _ := e.create(alice, e.root, "f", nil)
	var st unix.Stat_t
	n, err := e.fs.get(id, &st)
	if err != nil {
		t.Fatal(err)
	}
	e.fs.Close()
	e.fs.Close() // idempotent
	if err := fstat(n.fd, &st); err != nil {
		t.Errorf("descriptor in use closed by Close: %v", err)
	}
	e.fs.cache.release(n)
	for _, err := range []error{
		func() error { _, err := e.fs.GetAttr(ctx, id); return err }(),
		func() error { _, _, err := e.fs.Lookup(ctx, alice, e.root, "f"); return err }(),
	} {
		if err != syscall.EIO {
			t.Errorf("call after Close: %v, want EIO", err)
		}
	}
}
