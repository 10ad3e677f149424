package local

import (
	"testing"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

func benchEnv(b *testing.B) (*env, vfs.ID) {
	e := newEnv(b, Options{})
	id, _ := e.create(alice, e.root, "file", nil)
	buf := make([]byte, 1<<20)
	if _, _, err := e.fs.Write(ctx, alice, id, buf, 0, vfs.Unstable); err != nil {
		b.Fatal(err)
	}
	return e, id
}

func BenchmarkGetAttr(b *testing.B) {
	e, id := benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.fs.GetAttr(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	e, _ := benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.fs.Lookup(ctx, alice, e.root, "file"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead4K(b *testing.B) {
	e, id := benchEnv(b)
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	off := uint64(0)
	for b.Loop() {
		if _, _, err := e.fs.Read(ctx, alice, id, buf, off); err != nil {
			b.Fatal(err)
		}
		off = (off + 4096) % (1 << 20)
	}
}

func BenchmarkWrite4K(b *testing.B) {
	e, id := benchEnv(b)
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	off := uint64(0)
	for b.Loop() {
		if _, _, err := e.fs.Write(ctx, alice, id, buf, off, vfs.Unstable); err != nil {
			b.Fatal(err)
		}
		off = (off + 4096) % (1 << 20)
	}
}

// BenchmarkGetAttrParallel measures contention on the descriptor cache.
func BenchmarkGetAttrParallel(b *testing.B) {
	e, id := benchEnv(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.fs.GetAttr(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
