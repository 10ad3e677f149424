package xdr

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.Uint32(7)
	w.Int32(-2)
	w.Uint64(1 << 40)
	w.Bool(true)
	w.Opaque([]byte{1, 2, 3})
	w.String("hello")
	w.Fixed([]byte{9, 9, 9, 9, 9})
	if len(w.B)%4 != 0 {
		t.Fatalf("writer produced %d bytes, not a multiple of 4", len(w.B))
	}
	r := NewReader(w.B)
	if r.Uint32() != 7 || r.Int32() != -2 || r.Uint64() != 1<<40 || !r.Bool() {
		t.Fatal("scalar mismatch")
	}
	if !bytes.Equal(r.Opaque(3), []byte{1, 2, 3}) || r.String(5) != "hello" {
		t.Fatal("opaque mismatch")
	}
	if !bytes.Equal(r.Fixed(5), []byte{9, 9, 9, 9, 9}) || r.Len() != 0 || r.Err() != nil {
		t.Fatalf("fixed mismatch, err %v", r.Err())
	}
}

func TestLimits(t *testing.T) {
	var w Writer
	w.String("toolong")
	r := NewReader(w.B)
	if r.String(3); r.Err() != ErrTooLong {
		t.Fatalf("want ErrTooLong, got %v", r.Err())
	}
	r = NewReader([]byte{0, 0, 0, 9, 1, 2})
	if r.Opaque(100); r.Err() != ErrShort {
		t.Fatalf("want ErrShort, got %v", r.Err())
	}
	r = NewReader([]byte{0xff, 0xff, 0xff, 0xff})
	if n := r.ArrayLen(1<<31, 4); n != 0 || r.Err() == nil {
		t.Fatal("absurd array length accepted")
	}
	r = NewReader([]byte{0, 0, 0, 2})
	if r.Bool(); r.Err() != ErrBadBool {
		t.Fatal("bool 2 accepted")
	}
	// Sticky: later reads return zero values.
	if r.Uint32() != 0 || r.Err() != ErrBadBool {
		t.Fatal("error not sticky")
	}
}
