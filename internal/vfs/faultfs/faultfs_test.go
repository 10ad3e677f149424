package faultfs

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// memFile is a vfs.FS holding one file; only Read and Write are used.
type memFile struct {
	vfs.FS
	data []byte
}

func (m *memFile) Read(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64) (int, bool, error) {
	if off >= uint64(len(m.data)) {
		return 0, true, nil
	}
	n := copy(p, m.data[off:])
	return n, off+uint64(n) == uint64(len(m.data)), nil
}

func (m *memFile) Write(ctx context.Context, c *vfs.Cred, id vfs.ID, p []byte, off uint64, how vfs.Stability) (int, vfs.Stability, error) {
	m.data = append(m.data[:off], p...)
	return len(p), how, nil
}

func TestCorruptRead(t *testing.T) {
	data := bytes.Repeat([]byte{0x5a}, 3*4096)
	fs, err := Wrap(&memFile{data: data}, CorruptRead)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		off, n  int
		flipped []int // absolute offsets expected flipped
	}{
		{0, 3 * 4096, []int{100, 4196, 8292}},
		{50, 100, []int{100}},
		{101, 4000, nil},
		{4000, 300, []int{4196}},
	} {
		p := make([]byte, tc.n)
		n, _, err := fs.Read(context.Background(), nil, nil, p, uint64(tc.off))
		if err != nil || n != tc.n {
			t.Fatalf("read %d@%d: %d %v", tc.n, tc.off, n, err)
		}
		want := map[int]bool{}
		for _, o := range tc.flipped {
			want[o] = true
		}
		for i, b := range p[:n] {
			abs := tc.off + i
			if got := b != 0x5a; got != want[abs] {
				t.Fatalf("read %d@%d: byte %d flipped=%v, want %v", tc.n, tc.off, abs, got, want[abs])
			}
		}
	}
}

func TestFailWrite(t *testing.T) {
	m := &memFile{}
	fs, err := Wrap(m, "fail-write, corrupt-read")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Write(context.Background(), nil, nil, []byte("x"), 0, vfs.FileSync); !errors.Is(err, syscall.EIO) {
		t.Fatalf("write: %v, want EIO", err)
	}
	if len(m.data) != 0 {
		t.Fatal("write reached the backend")
	}
}

func TestBadSpec(t *testing.T) {
	for _, spec := range []string{"", "nope", "corrupt-read,"} {
		if _, err := Wrap(&memFile{}, spec); err == nil {
			t.Errorf("Wrap(%q) succeeded", spec)
		}
	}
}
