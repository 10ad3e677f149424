package store

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestLogEntryRoundTrip(t *testing.T) {
	evs := []Event{
		{Type: EventPut, Rev: 9, KV: KV{Key: "a/1", Value: []byte("x"), CreateRev: 3, ModRev: 9}},
		{Type: EventDelete, Rev: 9, KV: KV{Key: "b", ModRev: 9}},
		{Type: EventPut, Rev: 9, KV: KV{Key: "a/2", Value: []byte{}, CreateRev: 9, ModRev: 9}},
	}
	b := encodeLogEntry(evs)
	for _, tc := range []struct {
		prefix string
		want   []Event
	}{
		{"", evs},
		{"a/", []Event{evs[0], evs[2]}},
		{"b", evs[1:2]},
		{"c", nil},
	} {
		got, err := decodeLogEntry(9, b, tc.prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("prefix %q: got %+v, want %+v", tc.prefix, got, tc.want)
		}
	}
}

func TestDecodeLogEntryRejects(t *testing.T) {
	good := encodeLogEntry([]Event{{Type: EventPut, Rev: 5, KV: KV{Key: "k", Value: []byte("v"), CreateRev: 5}}})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version", append([]byte{2}, good[1:]...)},
		{"no events", []byte{logVersion}},
		{"type", []byte{logVersion, 7, 1, 'k'}},
		{"zero key", []byte{logVersion, byte(EventDelete), 0}},
		{"key past end", []byte{logVersion, byte(EventDelete), 5, 'k'}},
		{"huge key", []byte{logVersion, byte(EventDelete), 0x81, 0x10, 'k'}},
		{"truncated", good[:len(good)-1]},
		{"future create rev", encodeLogEntry([]Event{{Type: EventPut, KV: KV{Key: "k", CreateRev: 6}}})},
		{"zero create rev", encodeLogEntry([]Event{{Type: EventPut, KV: KV{Key: "k"}}})},
	} {
		if _, err := decodeLogEntry(5, tc.b, "", nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", tc.name, err)
		}
	}
}

func TestEnvelope(t *testing.T) {
	b := encodeEnvelope(3, 7, []byte("value"))
	kv, err := decodeEnvelope("k", b)
	if err != nil || kv.CreateRev != 3 || kv.ModRev != 7 || string(kv.Value) != "value" {
		t.Fatalf("%+v %v", kv, err)
	}
	for name, bad := range map[string][]byte{
		"short":      b[:5],
		"version":    append([]byte{9}, b[1:]...),
		"mod<create": encodeEnvelope(7, 3, nil),
		"zero":       encodeEnvelope(0, 0, nil),
	} {
		if _, err := decodeEnvelope("k", bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzDecodeLogEntry(f *testing.F) {
	f.Add(encodeLogEntry([]Event{
		{Type: EventPut, KV: KV{Key: "a", Value: []byte("v"), CreateRev: 1}},
		{Type: EventDelete, KV: KV{Key: "b"}},
	}), "a")
	f.Add([]byte{logVersion, byte(EventDelete), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, "")
	f.Fuzz(func(t *testing.T, b []byte, prefix string) {
		evs, err := decodeLogEntry(10, b, prefix, nil)
		if err != nil {
			return
		}
		all, err := decodeLogEntry(10, b, "", nil)
		if err != nil {
			t.Fatalf("decodes with prefix %q but not without: %v", prefix, err)
		}
		// What decoded re-encodes to the same events (varints may have
		// had a longer form), and filtering keeps exactly the matching
		// events.
		again, err := decodeLogEntry(10, encodeLogEntry(all), "", nil)
		if err != nil || !reflect.DeepEqual(again, all) {
			t.Fatalf("re-encoding differs: %v", err)
		}
		n := 0
		for _, ev := range all {
			if len(ev.KV.Key) == 0 || len(ev.KV.Key) > MaxKeySize || len(ev.KV.Value) > MaxValueSize {
				t.Fatalf("out of limits: %d/%d", len(ev.KV.Key), len(ev.KV.Value))
			}
			if hasPrefix(ev.KV.Key, prefix) {
				if !reflect.DeepEqual(ev, evs[n]) {
					t.Fatalf("filtered %+v, want %+v", evs[n], ev)
				}
				n++
			}
		}
		if n != len(evs) {
			t.Fatalf("filtered %d events, want %d", len(evs), n)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(encodeEnvelope(1, 2, []byte("x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		kv, err := decodeEnvelope("k", b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeEnvelope(kv.CreateRev, kv.ModRev, kv.Value), b) {
			t.Fatal("re-encoding differs")
		}
	})
}
