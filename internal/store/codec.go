package store

import (
	"encoding/binary"
	"fmt"
)

// On-disk encodings of the bolt implementation (format 1).
//
// Value envelope, bucket "kv", key = the key's bytes:
//
//	version(1)=1 | createRev(8, big endian) | modRev(8) | value
//
// History entry, bucket "log", key = revision (8, big endian): the events of
// that revision in order:
//
//	version(1)=1 | { type(1) | uvarint keylen | key | [put only:] createRev(8) | uvarint vallen | value }*
//
// A delete event's ModRev is the entry's revision.

const (
	envelopeVersion = 1
	envelopeHeader  = 1 + 8 + 8
	logVersion      = 1
)

func encodeEnvelope(createRev, modRev int64, value []byte) []byte {
	b := make([]byte, envelopeHeader+len(value))
	b[0] = envelopeVersion
	binary.BigEndian.PutUint64(b[1:], uint64(createRev))
	binary.BigEndian.PutUint64(b[9:], uint64(modRev))
	copy(b[envelopeHeader:], value)
	return b
}

// decodeEnvelope decodes a stored value. The returned value aliases b.
func decodeEnvelope(key string, b []byte) (KV, error) {
	if len(b) < envelopeHeader {
		return KV{}, fmt.Errorf("%w: value of key %s: %d-byte envelope", ErrCorrupt, short(key), len(b))
	}
	if b[0] != envelopeVersion {
		return KV{}, fmt.Errorf("%w: value of key %s: envelope version %d", ErrCorrupt, short(key), b[0])
	}
	kv := KV{
		Key:       key,
		CreateRev: int64(binary.BigEndian.Uint64(b[1:])),
		ModRev:    int64(binary.BigEndian.Uint64(b[9:])),
		Value:     b[envelopeHeader:],
	}
	if kv.CreateRev <= 0 || kv.ModRev < kv.CreateRev || len(kv.Value) > MaxValueSize {
		return KV{}, fmt.Errorf("%w: value of key %s: revisions %d/%d, %d bytes", ErrCorrupt, short(key), kv.CreateRev, kv.ModRev, len(kv.Value))
	}
	return kv, nil
}

func encodeRev(rev int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(rev))
	return b[:]
}

func decodeRev(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	r := int64(binary.BigEndian.Uint64(b))
	return r, r >= 0
}

func encodeLogEntry(evs []Event) []byte {
	n := 1
	for i := range evs {
		n += 1 + binary.MaxVarintLen64 + len(evs[i].KV.Key)
		if evs[i].Type == EventPut {
			n += 8 + binary.MaxVarintLen64 + len(evs[i].KV.Value)
		}
	}
	b := make([]byte, 1, n)
	b[0] = logVersion
	for i := range evs {
		ev := &evs[i]
		b = append(b, byte(ev.Type))
		b = binary.AppendUvarint(b, uint64(len(ev.KV.Key)))
		b = append(b, ev.KV.Key...)
		if ev.Type == EventPut {
			b = binary.BigEndian.AppendUint64(b, uint64(ev.KV.CreateRev))
			b = binary.AppendUvarint(b, uint64(len(ev.KV.Value)))
			b = append(b, ev.KV.Value...)
		}
	}
	return b
}

// decodeLogEntry decodes the events of revision rev, keeping those whose key
// starts with prefix. Values are copied out of b.
func decodeLogEntry(rev int64, b []byte, prefix string, dst []Event) ([]Event, error) {
	bad := func(what string) ([]Event, error) {
		return dst, fmt.Errorf("%w: history of revision %d: %s", ErrCorrupt, rev, what)
	}
	if len(b) < 1 || b[0] != logVersion {
		return bad("bad version")
	}
	b = b[1:]
	if len(b) == 0 {
		return bad("no events")
	}
	for len(b) > 0 {
		typ := EventType(b[0])
		b = b[1:]
		if typ != EventPut && typ != EventDelete {
			return bad(fmt.Sprintf("event type %d", typ))
		}
		kl, n := binary.Uvarint(b)
		if n <= 0 || kl == 0 || kl > MaxKeySize || kl > uint64(len(b)-n) {
			return bad("bad key length")
		}
		b = b[n:]
		keyb := b[:kl]
		b = b[kl:]
		// The comparison converts without allocating; the key is
		// materialized only for events that are kept.
		keep := len(keyb) >= len(prefix) && string(keyb[:len(prefix)]) == prefix
		ev := Event{Type: typ, Rev: rev, KV: KV{ModRev: rev}}
		if typ == EventPut {
			if len(b) < 8 {
				return bad("short create revision")
			}
			ev.KV.CreateRev = int64(binary.BigEndian.Uint64(b))
			b = b[8:]
			if ev.KV.CreateRev <= 0 || ev.KV.CreateRev > rev {
				return bad("bad create revision")
			}
			vl, n := binary.Uvarint(b)
			if n <= 0 || vl > MaxValueSize || vl > uint64(len(b)-n) {
				return bad("bad value length")
			}
			b = b[n:]
			if keep {
				ev.KV.Value = cloneBytes(b[:vl])
			}
			b = b[vl:]
		}
		if !keep {
			continue
		}
		ev.KV.Key = string(keyb)
		dst = append(dst, ev)
	}
	return dst, nil
}
