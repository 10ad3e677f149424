package fh

import (
	"bytes"
	"path/filepath"
	"testing"
)

func TestRoundTripAndTamper(t *testing.T) {
	k, _ := NewKey()
	c := NewCodec(k)
	id := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	h := c.Encode(42, id)
	if len(h) != Overhead+len(id) || len(h) > MaxV3 {
		t.Fatalf("handle length %d", len(h))
	}
	exp, got, err := c.Decode(h)
	if err != nil || exp != 42 || !bytes.Equal(got, id) {
		t.Fatalf("decode: %v %d %x", err, exp, got)
	}
	// Every single flipped bit is refused.
	for i := 0; i < len(h)*8; i++ {
		b := append([]byte(nil), h...)
		b[i/8] ^= 1 << (i % 8)
		if _, _, err := c.Decode(b); err != ErrBadHandle {
			t.Fatalf("bit %d flipped: accepted", i)
		}
	}
	// Truncated and extended handles are refused.
	for n := 0; n < len(h); n++ {
		if _, _, err := c.Decode(h[:n]); err != ErrBadHandle {
			t.Fatalf("truncated to %d: accepted", n)
		}
	}
	if _, _, err := c.Decode(append(append([]byte(nil), h...), 0)); err != ErrBadHandle {
		t.Fatal("extended handle accepted")
	}
	// Another key (another virtual server) refuses it.
	k2, _ := NewKey()
	if _, _, err := NewCodec(k2).Decode(h); err != ErrBadHandle {
		t.Fatal("handle accepted under another key")
	}
}

func TestKeyPersists(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state", "fhkey")
	k1, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(p)
	if err != nil || k1 != k2 {
		t.Fatalf("key not persisted: %v", err)
	}
}

func BenchmarkDecode(b *testing.B) {
	k, _ := NewKey()
	c := NewCodec(k)
	h := c.Encode(1, make([]byte, 12))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := c.Decode(h); err != nil {
			b.Fatal(err)
		}
	}
}
