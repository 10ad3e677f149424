// Package fh encodes and verifies file handles.
//
// A handle is
//
//	version (1 byte) | id length (1 byte) | export id (4 bytes, big endian) |
//	backend object id (id length bytes) | MAC (16 bytes)
//
// The MAC is HMAC-SHA256, truncated to 16 bytes, over everything before it,
// keyed with a per-server secret kept in the state directory. A handle
// therefore cannot be forged or altered (a flipped bit fails the MAC), and
// cannot be carried to another export (the export id is covered) or to
// another virtual server (another key). Handles stay valid across restarts
// as long as the key file and the backend's object ids do.
package fh

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sync"
)

// Version is the current handle format.
const Version = 1

// Sizes of the handle's parts.
const (
	headerLen = 6
	macLen    = 16
	// Overhead is the number of bytes a handle adds to the object id.
	Overhead = headerLen + macLen
	// MaxV3 is the NFSv3 handle size limit (RFC 1813 NFS3_FHSIZE).
	MaxV3 = 64
	// MaxV4 is the NFSv4 handle size limit (RFC 7530 NFS4_FHSIZE).
	MaxV4 = 128
	// MaxIDLen is the longest object id a handle can carry within MaxV3.
	MaxIDLen = MaxV3 - Overhead
	// KeyLen is the length of the MAC key.
	KeyLen = 32
)

// ErrBadHandle means the handle is malformed or fails verification.
var ErrBadHandle = errors.New("fh: bad file handle")

// Key is the secret handles are authenticated with.
type Key [KeyLen]byte

// NewKey returns a random key.
func NewKey() (Key, error) {
	var k Key
	_, err := rand.Read(k[:])
	return k, err
}

// LoadOrCreateKey reads the key at path, creating it (mode 0600, written
// atomically) if it does not exist.
func LoadOrCreateKey(path string) (Key, error) {
	var k Key
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != KeyLen {
			return k, fmt.Errorf("fh: key file %s has %d bytes, want %d", path, len(b), KeyLen)
		}
		copy(k[:], b)
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return k, fmt.Errorf("fh: reading key: %w", err)
	}
	if k, err = NewKey(); err != nil {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return k, fmt.Errorf("fh: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, k[:], 0o600); err != nil {
		return k, fmt.Errorf("fh: writing key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return k, fmt.Errorf("fh: writing key: %w", err)
	}
	return k, nil
}

// Codec makes and checks handles with one key. It is safe for concurrent use.
type Codec struct {
	pool sync.Pool // of *macState
}

// macState is a keyed HMAC with a buffer for its sum, pooled together so
// that computing a MAC allocates nothing (a sum buffer on the stack would
// escape through the hash.Hash interface).
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// NewCodec returns a Codec for key.
func NewCodec(key Key) *Codec {
	c := &Codec{}
	c.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key[:])} }
	return c
}

func (c *Codec) mac(dst, msg []byte) []byte {
	m := c.pool.Get().(*macState)
	m.h.Reset()
	m.h.Write(msg)
	out := m.h.Sum(m.sum[:0])
	dst = append(dst, out[:macLen]...)
	c.pool.Put(m)
	return dst
}

// Append appends the handle of object id in export exportID to dst.
// It panics if id is longer than MaxIDLen (a backend bug).
func (c *Codec) Append(dst []byte, exportID uint32, id []byte) []byte {
	if len(id) > MaxIDLen {
		panic(fmt.Sprintf("fh: object id of %d bytes exceeds %d", len(id), MaxIDLen))
	}
	start := len(dst)
	dst = append(dst, Version, byte(len(id)))
	dst = binary.BigEndian.AppendUint32(dst, exportID)
	dst = append(dst, id...)
	return c.mac(dst, dst[start:])
}

// Encode returns a new handle of object id in export exportID.
func (c *Codec) Encode(exportID uint32, id []byte) []byte {
	return c.Append(make([]byte, 0, Overhead+len(id)), exportID, id)
}

// Decode verifies h and returns its export id and object id (which
// aliases h). Any malformed or unauthenticated handle gives ErrBadHandle.
func (c *Codec) Decode(h []byte) (exportID uint32, id []byte, err error) {
	if len(h) < Overhead || h[0] != Version || int(h[1]) != len(h)-Overhead {
		return 0, nil, ErrBadHandle
	}
	body := h[:len(h)-macLen]
	var buf [macLen]byte
	want := c.mac(buf[:0], body)
	if !hmac.Equal(want, h[len(h)-macLen:]) {
		return 0, nil, ErrBadHandle
	}
	return binary.BigEndian.Uint32(h[2:6]), h[headerLen : len(h)-macLen : len(h)-macLen], nil
}
