package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := OpenBolt(path, BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// rawUpdate edits the file behind the store's back.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestBoltFormat(t *testing.T) {
	s, path := openTemp(t)
	put(t, s, "k", "v")
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if got := string(tx.Bucket(bucketMeta).Get(metaFormat)); got != "1" {
			t.Errorf("format %q, want \"1\"", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		name    string
		edit    func(tx *bolt.Tx) error
		want    error
		message string
	}{
		{"newer format", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte("2")) },
			ErrUnsupportedFormat, "format 2 was written by a newer version"},
		{"garbage format", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte("x")) },
			ErrCorrupt, "format"},
		{"format zero", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte("0")) },
			ErrCorrupt, "format"},
		{"missing kv bucket", func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketKV) },
			ErrCorrupt, "missing bucket"},
		{"bad revision", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaRev, []byte("x")) },
			ErrCorrupt, "revision"},
		{"compaction past revision", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaCompact, encodeRev(99)) },
			ErrCorrupt, "compaction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTemp(t)
			put(t, s, "k", "v")
			s.Close()
			rawUpdate(t, path, tc.edit)
			_, err := OpenBolt(path, BoltOptions{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("OpenBolt = %v, want %v mentioning %q", err, tc.want, tc.message)
			}
		})
	}
}

func TestBoltForeignFiles(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	rawUpdate(t, other, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	if _, err := OpenBolt(other, BoltOptions{}); !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), "not a vnfsd store") {
		t.Fatalf("foreign bolt file: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBolt(junk, BoltOptions{}); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: %v", err)
	}
	if _, err := OpenBolt(filepath.Join(dir, "no", "such", "dir", "x.db"), BoltOptions{}); err == nil {
		t.Fatal("opened a store in a missing directory")
	}
}

func TestBoltLocked(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	// The outcome does not depend on the timeout's length: the lock is
	// held for the whole call.
	_, err := OpenBolt(path, BoltOptions{Timeout: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second open: %v", err)
	}
}

func TestBoltCorruptData(t *testing.T) {
	s, path := openTemp(t)
	put(t, s, "p/a", "1", "p/b", "2")
	s.Close()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketKV).Put([]byte("p/b"), []byte{1, 2, 3}); err != nil {
			return err
		}
		return tx.Bucket(bucketLog).Put(encodeRev(InitialRev+1), []byte{logVersion, 9})
	})
	s, err := OpenBolt(path, BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if kv := mustGet(t, s, "p/a"); string(kv.Value) != "1" {
		t.Fatalf("intact key: %q", kv.Value)
	}
	if _, _, err := s.Get(bg, "p/b"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get of corrupt value: %v", err)
	}
	if _, err := s.List(bg, "p/"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("List over corrupt value: %v", err)
	}
	if err := s.Update(bg, func(tx Tx) error { return tx.Put("p/b", nil) }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Put over corrupt value: %v", err)
	}
	// Replaying the damaged history entry ends the watch with ErrCorrupt.
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	w, err := s.Watch(ctx, "", InitialRev)
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := recv(t, w)
	if !ok || ev.Type != EventError || !errors.Is(ev.Err, ErrCorrupt) {
		t.Fatalf("watch over damaged history: %+v ok=%v", ev, ok)
	}
	if _, ok := recv(t, w); ok {
		t.Fatal("channel open after the error event")
	}
}
