// Package xdr implements the External Data Representation (RFC 4506) for
// the protocol code of vnfsd.
//
// Decoding works on a fully received record held in memory: a Reader walks a
// byte slice with a sticky error, so a call decoder can read every field and
// check Err once at the end. Variable-length opaques returned by a Reader
// alias the record and are valid only while the record is; every
// variable-length item is read against an explicit maximum.
//
// Encoding appends to a byte slice owned by a Writer, so a reply is built in
// one (pooled) buffer and written to the connection with one write.
package xdr

import (
	"encoding/binary"
	"errors"
)

var (
	// ErrShort means the input ended before the item being decoded.
	ErrShort = errors.New("xdr: input too short")
	// ErrTooLong means a length prefix exceeded the maximum allowed for the item.
	ErrTooLong = errors.New("xdr: length exceeds limit")
	// ErrBadBool means a boolean was neither 0 nor 1.
	ErrBadBool = errors.New("xdr: boolean not 0 or 1")
	// ErrBadValue is for decoders of discriminated unions and enums.
	ErrBadValue = errors.New("xdr: invalid enum or union discriminant")
)

// Pad returns the number of zero bytes that follow n bytes of opaque data.
func Pad(n int) int { return (4 - n&3) & 3 }

// Reader decodes XDR items from a byte slice. The zero value reads nothing.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Reset makes r read b from its start and clears the error.
func (r *Reader) Reset(b []byte) { r.b, r.off, r.err = b, 0, nil }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// SetErr records err (if no error was recorded yet); decoders use it to
// report semantic errors such as ErrBadValue.
func (r *Reader) SetErr(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Offset returns the number of bytes consumed.
func (r *Reader) Offset() int { return r.off }

// Rest returns the unread bytes without consuming them.
func (r *Reader) Rest() []byte { return r.b[r.off:] }

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = ErrShort
		r.off = len(r.b)
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

// Uint32 decodes an unsigned int.
func (r *Reader) Uint32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// Int32 decodes an int.
func (r *Reader) Int32() int32 { return int32(r.Uint32()) }

// Uint64 decodes an unsigned hyper.
func (r *Reader) Uint64() uint64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// Int64 decodes a hyper.
func (r *Reader) Int64() int64 { return int64(r.Uint64()) }

// Bool decodes a bool; any value but 0 and 1 is an error.
func (r *Reader) Bool() bool {
	v := r.Uint32()
	if v > 1 {
		r.SetErr(ErrBadBool)
		return false
	}
	return v == 1
}

// Fixed decodes fixed-length opaque data of n bytes (plus padding). The
// result aliases the input.
func (r *Reader) Fixed(n int) []byte {
	p := r.take(n)
	if r.err != nil {
		return nil
	}
	r.take(Pad(n))
	if r.err != nil {
		return nil
	}
	return p
}

// Opaque decodes variable-length opaque data of at most max bytes. The
// result aliases the input.
func (r *Reader) Opaque(max int) []byte {
	n := r.Uint32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		r.SetErr(ErrTooLong)
		return nil
	}
	return r.Fixed(int(n))
}

// String decodes a string of at most max bytes. The result is a copy.
func (r *Reader) String(max int) string {
	return string(r.Opaque(max))
}

// ArrayLen decodes the length of a variable-length array of at most max
// elements, each of which occupies at least minSize bytes on the wire
// (minSize >= 1): a length that could not fit in the remaining input is
// refused before anything is allocated.
func (r *Reader) ArrayLen(max, minSize int) int {
	n := r.Uint32()
	if r.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		r.SetErr(ErrTooLong)
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(r.Len()) {
		r.SetErr(ErrShort)
		return 0
	}
	return int(n)
}

// Writer appends XDR items to B. The zero value is ready to use.
type Writer struct {
	B []byte
}

// Len returns the number of bytes written.
func (w *Writer) Len() int { return len(w.B) }

// Truncate discards everything after the first n bytes.
func (w *Writer) Truncate(n int) { w.B = w.B[:n] }

// Uint32 appends an unsigned int.
func (w *Writer) Uint32(v uint32) { w.B = binary.BigEndian.AppendUint32(w.B, v) }

// Int32 appends an int.
func (w *Writer) Int32(v int32) { w.Uint32(uint32(v)) }

// Uint64 appends an unsigned hyper.
func (w *Writer) Uint64(v uint64) { w.B = binary.BigEndian.AppendUint64(w.B, v) }

// Int64 appends a hyper.
func (w *Writer) Int64(v int64) { w.Uint64(uint64(v)) }

// Bool appends a bool.
func (w *Writer) Bool(v bool) {
	if v {
		w.Uint32(1)
	} else {
		w.Uint32(0)
	}
}

var zeros [4]byte

// Fixed appends fixed-length opaque data and its padding.
func (w *Writer) Fixed(p []byte) {
	w.B = append(w.B, p...)
	w.B = append(w.B, zeros[:Pad(len(p))]...)
}

// Opaque appends variable-length opaque data.
func (w *Writer) Opaque(p []byte) {
	w.Uint32(uint32(len(p)))
	w.Fixed(p)
}

// String appends a string.
func (w *Writer) String(s string) {
	w.Uint32(uint32(len(s)))
	w.B = append(w.B, s...)
	w.B = append(w.B, zeros[:Pad(len(s))]...)
}

// Reserve appends n zero bytes and returns their offset, for a length or
// count that is known only later (see PutUint32At).
func (w *Writer) Reserve(n int) int {
	off := len(w.B)
	for i := 0; i < n; i++ {
		w.B = append(w.B, 0)
	}
	return off
}

// PutUint32At overwrites the 4 bytes at off with v.
func (w *Writer) PutUint32At(off int, v uint32) {
	binary.BigEndian.PutUint32(w.B[off:off+4], v)
}

// Grow appends n bytes (not zeroed) and returns them, for data read
// directly into the reply buffer, such as the payload of a READ. The caller
// fills them and calls Truncate if it used fewer.
func (w *Writer) Grow(n int) []byte {
	off := len(w.B)
	if cap(w.B)-off < n {
		nb := make([]byte, off, off+n+n/4+64)
		copy(nb, w.B)
		w.B = nb
	}
	w.B = w.B[:off+n]
	return w.B[off : off+n]
}
