package store

import (
	"fmt"
	"path/filepath"
	"testing"
)

func benchStores(b *testing.B, f func(b *testing.B, s Store)) {
	b.Run("memory", func(b *testing.B) {
		s := NewMemory()
		defer s.Close()
		f(b, s)
	})
	for _, sync := range []bool{false, true} {
		name := "bolt-nosync"
		if sync {
			name = "bolt-fsync"
		}
		b.Run(name, func(b *testing.B) {
			s, err := OpenBolt(filepath.Join(b.TempDir(), "b.db"), BoltOptions{NoSync: !sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			f(b, s)
		})
	}
}

// BenchmarkUpdate writes one 256-byte record per transaction.
func BenchmarkUpdate(b *testing.B) {
	benchStores(b, func(b *testing.B, s Store) {
		v := make([]byte, 256)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			key := fmt.Sprintf("/bench/%d", i%1000)
			if err := s.Update(bg, func(tx Tx) error { return tx.Put(key, v) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGet reads one of 1000 keys.
func BenchmarkGet(b *testing.B) {
	benchStores(b, func(b *testing.B, s Store) {
		v := make([]byte, 256)
		if err := s.Update(bg, func(tx Tx) error {
			for i := 0; i < 1000; i++ {
				if err := tx.Put(fmt.Sprintf("/bench/%d", i), v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, ok, err := s.Get(bg, fmt.Sprintf("/bench/%d", i%1000)); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
}
