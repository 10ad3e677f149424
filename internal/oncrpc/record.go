package oncrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// Record marking (RFC 5531 section 11): on a stream transport each message
// is a record of one or more fragments; every fragment starts with a 4-byte
// header whose top bit marks the last fragment and whose low 31 bits give
// the fragment's length.
const (
	lastFragment = 1 << 31
	fragmentLen  = lastFragment - 1
)

// DefaultMaxRecordSize is the largest call record a Server accepts unless
// told otherwise: a 1 MiB NFS WRITE payload plus room for the RPC and NFS
// headers.
const DefaultMaxRecordSize = 1<<20 + 64<<10

// ErrRecordTooLarge means a record's fragments add up to more than the
// allowed maximum; the connection cannot be resynchronised and is closed.
var ErrRecordTooLarge = errors.New("oncrpc: record exceeds the maximum size")

// recordError carries the size a record would have reached.
type recordError struct {
	size, max int64
}

func (e *recordError) Error() string {
	return fmt.Sprintf("oncrpc: record of at least %d bytes exceeds the maximum of %d", e.size, e.max)
}

func (e *recordError) Unwrap() error { return ErrRecordTooLarge }

// readRecord reads one whole record from r into a buffer from the pool
// (the caller returns it with putBuf). A record larger than max fails with
// an error wrapping ErrRecordTooLarge before its oversized fragment is
// read. io.EOF is returned only when r ends cleanly between records.
func readRecord(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	var buf []byte
	first := true
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if first && err == io.EOF {
				return nil, io.EOF
			}
			putBuf(buf)
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		first = false
		h := binary.BigEndian.Uint32(hdr[:])
		n := int(h & fragmentLen)
		if int64(len(buf))+int64(n) > int64(max) {
			putBuf(buf)
			return nil, &recordError{size: int64(len(buf)) + int64(n), max: int64(max)}
		}
		if n > 0 {
			if cap(buf)-len(buf) < n {
				nb := getBuf(len(buf) + n)
				nb = append(nb, buf...)
				putBuf(buf)
				buf = nb
			}
			off := len(buf)
			buf = buf[:off+n]
			if _, err := io.ReadFull(r, buf[off:]); err != nil {
				putBuf(buf)
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
		}
		if h&lastFragment != 0 {
			if buf == nil {
				buf = getBuf(0)
			}
			return buf, nil
		}
	}
}

// Buffers for records and replies come from size-classed pools (powers of
// two from 4 KiB) so that small calls do not pin megabyte buffers and
// large WRITEs do not allocate.
const (
	minClassShift = 12 // 4 KiB
	numClasses    = 10 // up to 2 MiB
)

var bufPools [numClasses]sync.Pool

// boxes holds empty *[]byte so that putting a buffer into a pool does not
// allocate the pointer each time.
var boxes = sync.Pool{New: func() any { return new([]byte) }}

func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// getBuf returns an empty slice with capacity at least n.
func getBuf(n int) []byte {
	c := classOf(n)
	if c >= numClasses {
		return make([]byte, 0, n)
	}
	if p, ok := bufPools[c].Get().(*[]byte); ok {
		b := (*p)[:0]
		*p = nil
		boxes.Put(p)
		return b
	}
	return make([]byte, 0, 1<<(c+minClassShift))
}

// putBuf returns b to the pool of the largest class its capacity covers
// (so a reply buffer that a handler grew is reused too).
func putBuf(b []byte) {
	c := cap(b)
	if c < 1<<minClassShift {
		return
	}
	cl := bits.Len(uint(c)) - 1 - minClassShift
	if cl >= numClasses {
		return
	}
	p := boxes.Get().(*[]byte)
	*p = b[:0]
	bufPools[cl].Put(p)
}
