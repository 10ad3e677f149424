package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The conformance suite: every implementation runs every test below.

type implOpts struct {
	history int
	buffer  int
}

type impl struct {
	name string
	// open returns a new empty store and, for persistent implementations, a
	// function that closes it and opens it again.
	open func(t *testing.T, o implOpts) (Store, func(t *testing.T) Store)
}

var impls = []impl{
	{"memory", func(t *testing.T, o implOpts) (Store, func(t *testing.T) Store) {
		m := NewMemoryWithOptions(MemoryOptions{HistoryRevisions: o.history, WatchBuffer: o.buffer})
		t.Cleanup(func() { m.Close() })
		return m, nil
	}},
	{"bolt", func(t *testing.T, o implOpts) (Store, func(t *testing.T) Store) {
		path := filepath.Join(t.TempDir(), "store.db")
		bo := BoltOptions{HistoryRevisions: o.history, WatchBuffer: o.buffer, NoSync: true}
		s, err := OpenBolt(path, bo)
		if err != nil {
			t.Fatal(err)
		}
		cur := s
		t.Cleanup(func() { cur.Close() })
		reopen := func(t *testing.T) Store {
			if err := cur.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			n, err := OpenBolt(path, bo)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			cur = n
			return n
		}
		return s, reopen
	}},
}

func forEachImpl(t *testing.T, o implOpts, f func(t *testing.T, s Store, reopen func(t *testing.T) Store)) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s, reopen := im.open(t, o)
			f(t, s, reopen)
		})
	}
}

var bg = context.Background()

// r is the revision of the n-th change of a new store.
func r(n int64) int64 { return InitialRev + n }

func put(t *testing.T, s Store, kvs ...string) {
	t.Helper()
	if err := s.Update(bg, func(tx Tx) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := tx.Put(kvs[i], []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("put %q: %v", kvs, err)
	}
}

func del(t *testing.T, s Store, key string) bool {
	t.Helper()
	var ok bool
	if err := s.Update(bg, func(tx Tx) (err error) {
		ok, err = tx.Delete(key)
		return err
	}); err != nil {
		t.Fatalf("delete %q: %v", key, err)
	}
	return ok
}

func mustGet(t *testing.T, s Store, key string) KV {
	t.Helper()
	kv, ok, err := s.Get(bg, key)
	if err != nil || !ok {
		t.Fatalf("get %q: ok=%v err=%v", key, ok, err)
	}
	return kv
}

func keysOf(kvs []KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}

// recv receives one event; the guard only turns a hang into a failure.
func recv(t *testing.T, ch <-chan Event) (Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(30 * time.Second):
		t.Fatal("no event after 30s")
		return Event{}, false
	}
}

func expectEvent(t *testing.T, ch <-chan Event, typ EventType, key, value string, rev int64) Event {
	t.Helper()
	ev, ok := recv(t, ch)
	if !ok {
		t.Fatalf("channel closed, want %v %q@%d", typ, key, rev)
	}
	if ev.Type != typ || ev.KV.Key != key || string(ev.KV.Value) != value || ev.Rev != rev || ev.KV.ModRev != rev {
		t.Fatalf("event %v %q=%q rev %d modrev %d err %v, want %v %q=%q@%d",
			ev.Type, ev.KV.Key, ev.KV.Value, ev.Rev, ev.KV.ModRev, ev.Err, typ, key, value, rev)
	}
	return ev
}

func TestCRUD(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		if s.Rev() != InitialRev {
			t.Fatalf("new store at revision %d", s.Rev())
		}
		if _, ok, err := s.Get(bg, "a"); ok || err != nil {
			t.Fatalf("get of missing key: ok=%v err=%v", ok, err)
		}
		steps := []struct {
			op         string // put, del
			key, value string
			wantOK     bool  // del: existed
			wantRev    int64 // after InitialRev
			wantCreate int64 // put: CreateRev afterwards, after InitialRev
		}{
			{"put", "a", "1", true, 1, 1},
			{"put", "a", "2", true, 2, 1},
			{"put", "b", "x", true, 3, 3},
			{"del", "a", "", true, 4, 0},
			{"del", "a", "", false, 4, 0},
			{"put", "a", "3", true, 5, 5},
			{"put", "empty", "", true, 6, 6},
		}
		for i, st := range steps {
			switch st.op {
			case "put":
				put(t, s, st.key, st.value)
				kv := mustGet(t, s, st.key)
				if string(kv.Value) != st.value || kv.CreateRev != r(st.wantCreate) || kv.ModRev != r(st.wantRev) {
					t.Fatalf("step %d: got %q create %d mod %d, want %q %d %d", i, kv.Value, kv.CreateRev, kv.ModRev, st.value, st.wantCreate, st.wantRev)
				}
			case "del":
				if ok := del(t, s, st.key); ok != st.wantOK {
					t.Fatalf("step %d: delete existed=%v, want %v", i, ok, st.wantOK)
				}
				if _, ok, _ := s.Get(bg, st.key); ok {
					t.Fatalf("step %d: key still there", i)
				}
			}
			if s.Rev() != r(st.wantRev) {
				t.Fatalf("step %d: revision %d, want %d", i, s.Rev(), st.wantRev)
			}
		}
		if kv := mustGet(t, s, "empty"); kv.Value == nil || len(kv.Value) != 0 {
			t.Fatalf("empty value read back as %#v", kv.Value)
		}
	})
}

func TestValuesAreCopied(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		v := []byte("hello")
		if err := s.Update(bg, func(tx Tx) error { return tx.Put("k", v) }); err != nil {
			t.Fatal(err)
		}
		v[0] = 'X'
		got := mustGet(t, s, "k")
		if string(got.Value) != "hello" {
			t.Fatalf("store kept the caller's slice: %q", got.Value)
		}
		got.Value[0] = 'Y'
		l, err := s.List(bg, "k")
		if err != nil || len(l) != 1 || string(l[0].Value) != "hello" {
			t.Fatalf("store returned its own slice: %+v %v", l, err)
		}
	})
}

func TestList(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		put(t, s, "a", "", "a/1", "", "a/10", "", "a/2", "", "a0", "", "ab", "", "b/x", "", "\xff", "")
		for _, tc := range []struct {
			prefix string
			want   string
		}{
			{"", "a a/1 a/10 a/2 a0 ab b/x \xff"},
			{"a", "a a/1 a/10 a/2 a0 ab"},
			{"a/", "a/1 a/10 a/2"},
			{"a/1", "a/1 a/10"},
			{"a/10", "a/10"},
			{"a/3", ""},
			{"b/", "b/x"},
			{"c", ""},
			{"\xff", "\xff"},
		} {
			kvs, err := s.List(bg, tc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(keysOf(kvs), " "); got != tc.want {
				t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		}
	})
}

func TestDeletePrefix(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int
		left   string
	}{
		{"a/", 3, "a a0 b"},
		{"a", 5, "b"},
		{"a/1", 2, "a a/2 a0 b"},
		{"zz", 0, "a a/1 a/10 a/2 a0 b"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
				put(t, s, "a", "", "a/1", "", "a/10", "", "a/2", "", "a0", "", "b", "")
				rev := s.Rev()
				var n int
				if err := s.Update(bg, func(tx Tx) (err error) {
					n, err = tx.DeletePrefix(tc.prefix)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				kvs, _ := s.List(bg, "")
				if got := strings.Join(keysOf(kvs), " "); n != tc.n || got != tc.left {
					t.Fatalf("deleted %d leaving %q, want %d leaving %q", n, got, tc.n, tc.left)
				}
				wantRev := rev + 1
				if tc.n == 0 {
					wantRev = rev
				}
				if s.Rev() != wantRev {
					t.Fatalf("revision %d, want %d", s.Rev(), wantRev)
				}
			})
		})
	}
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		err := s.Update(bg, func(tx Tx) error { _, err := tx.DeletePrefix(""); return err })
		if !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("DeletePrefix(\"\") = %v, want ErrInvalidKey", err)
		}
	})
}

func TestTxReadsOwnWrites(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		put(t, s, "p/a", "1", "p/b", "2", "p/c", "3")
		err := s.Update(bg, func(tx Tx) error {
			if tx.Rev() != r(1) {
				return fmt.Errorf("tx.Rev %d, want %d", tx.Rev(), r(1))
			}
			if err := tx.Put("p/b", []byte("22")); err != nil {
				return err
			}
			if err := tx.Put("p/d", []byte("4")); err != nil {
				return err
			}
			if _, err := tx.Delete("p/a"); err != nil {
				return err
			}
			kv, ok, err := tx.Get("p/b")
			if err != nil || !ok || string(kv.Value) != "22" || kv.CreateRev != r(1) || kv.ModRev != r(2) {
				return fmt.Errorf("get p/b in tx: %+v %v %v", kv, ok, err)
			}
			if _, ok, _ := tx.Get("p/a"); ok {
				return errors.New("deleted key visible in its transaction")
			}
			kvs, err := tx.List("p/")
			if err != nil {
				return err
			}
			var got []string
			for _, kv := range kvs {
				got = append(got, kv.Key+"="+string(kv.Value))
			}
			if g := strings.Join(got, " "); g != "p/b=22 p/c=3 p/d=4" {
				return fmt.Errorf("list in tx: %q", g)
			}
			// Delete then re-create: a new key as far as revisions go.
			if _, err := tx.Delete("p/c"); err != nil {
				return err
			}
			if err := tx.Put("p/c", []byte("33")); err != nil {
				return err
			}
			if kv, _, _ := tx.Get("p/c"); kv.CreateRev != r(2) {
				return fmt.Errorf("re-created key has CreateRev %d, want %d", kv.CreateRev, r(2))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.Rev() != r(2) {
			t.Fatalf("revision %d, want %d", s.Rev(), r(2))
		}
		if err := s.View(bg, func(tx Tx) error {
			if tx.Rev() != r(2) {
				return fmt.Errorf("view rev %d", tx.Rev())
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

var errBoom = errors.New("boom")

func TestRollback(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(ctx context.Context, cancel func()) error // run at the end of fn
	}{
		{"error", func(context.Context, func()) error { return fmt.Errorf("wrapped: %w", errBoom) }},
		{"panic", func(context.Context, func()) error { panic(errBoom) }},
		{"context cancelled", func(_ context.Context, cancel func()) error { cancel(); return nil }},
		{"limit error", func(context.Context, func()) error { return nil }}, // Put of a too-large value below
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachImpl(t, implOpts{}, func(t *testing.T, s Store, reopen func(*testing.T) Store) {
				put(t, s, "k/1", "old", "k/2", "old")
				rev := s.Rev()
				w, err := s.Watch(bg, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(bg)
				defer cancel()
				var got error
				func() {
					defer func() {
						if r := recover(); r != nil {
							got = r.(error)
						}
					}()
					got = s.Update(ctx, func(tx Tx) error {
						if err := tx.Put("k/1", []byte("new")); err != nil {
							return err
						}
						if err := tx.Put("k/3", []byte("new")); err != nil {
							return err
						}
						if _, err := tx.Delete("k/2"); err != nil {
							return err
						}
						if tc.name == "limit error" {
							return tx.Put("k/4", make([]byte, MaxValueSize+1))
						}
						return tc.fail(ctx, cancel)
					})
				}()
				switch tc.name {
				case "context cancelled":
					if !errors.Is(got, context.Canceled) {
						t.Fatalf("Update = %v, want context.Canceled", got)
					}
				case "limit error":
					if !errors.Is(got, ErrValueTooLarge) {
						t.Fatalf("Update = %v, want ErrValueTooLarge", got)
					}
				default:
					if !errors.Is(got, errBoom) {
						t.Fatalf("Update = %v, want errBoom", got)
					}
				}
				check := func(s Store) {
					kvs, err := s.List(bg, "")
					if err != nil {
						t.Fatal(err)
					}
					var g []string
					for _, kv := range kvs {
						g = append(g, kv.Key+"="+string(kv.Value))
					}
					if strings.Join(g, " ") != "k/1=old k/2=old" || s.Rev() != rev {
						t.Fatalf("after rollback: %q at %d, want old state at %d", g, s.Rev(), rev)
					}
				}
				check(s)
				// The store is still usable, and the next commit is the next
				// revision: the watcher sees it first.
				put(t, s, "after", "1")
				expectEvent(t, w, EventPut, "after", "1", rev+1)
				if reopen != nil {
					check2 := reopen(t)
					if kv := mustGet(t, check2, "k/1"); string(kv.Value) != "old" {
						t.Fatalf("after reopen k/1=%q", kv.Value)
					}
				}
			})
		})
	}
}

func TestReadOnlyAndFinishedTx(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		put(t, s, "k", "v")
		var kept Tx
		err := s.View(bg, func(tx Tx) error {
			kept = tx
			for name, f := range map[string]func() error{
				"Put":          func() error { return tx.Put("k", nil) },
				"Delete":       func() error { _, err := tx.Delete("k"); return err },
				"DeletePrefix": func() error { _, err := tx.DeletePrefix("k"); return err },
			} {
				if err := f(); !errors.Is(err, ErrReadOnly) {
					return fmt.Errorf("%s in View = %v, want ErrReadOnly", name, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := kept.Get("k"); !errors.Is(err, ErrTxDone) {
			t.Fatalf("Get after View = %v, want ErrTxDone", err)
		}
		if err := s.Update(bg, func(tx Tx) error { kept = tx; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := kept.Put("k", nil); !errors.Is(err, ErrTxDone) {
			t.Fatalf("Put after Update = %v, want ErrTxDone", err)
		}
		if _, err := kept.List(""); !errors.Is(err, ErrTxDone) {
			t.Fatalf("List after Update = %v, want ErrTxDone", err)
		}
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if err := s.Update(ctx, func(Tx) error { t.Fatal("fn ran"); return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Update with cancelled ctx = %v", err)
		}
		if _, _, err := s.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get with cancelled ctx = %v", err)
		}
	})
}

func TestRevisions(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		put(t, s, "a", "1", "b", "2", "c", "3")
		for _, k := range []string{"a", "b", "c"} {
			if kv := mustGet(t, s, k); kv.ModRev != r(1) || kv.CreateRev != r(1) {
				t.Fatalf("%s: %+v, want all at revision 1", k, kv)
			}
		}
		noops := map[string]func(tx Tx) error{
			"read only":          func(tx Tx) error { _, _, err := tx.Get("a"); return err },
			"delete missing":     func(tx Tx) error { _, err := tx.Delete("zz"); return err },
			"delete prefix none": func(tx Tx) error { _, err := tx.DeletePrefix("zz"); return err },
			"create then delete": func(tx Tx) error { tx.Put("new", nil); _, err := tx.Delete("new"); return err },
			"nothing":            func(tx Tx) error { return nil },
			"create, delete twice": func(tx Tx) error {
				tx.Put("n", nil)
				tx.Delete("n")
				tx.Put("n", nil)
				_, err := tx.Delete("n")
				return err
			},
		}
		for name, fn := range noops {
			if err := s.Update(bg, fn); err != nil {
				t.Fatal(name, err)
			}
			if s.Rev() != r(1) {
				t.Fatalf("%s: revision moved to %d", name, s.Rev())
			}
		}
		// Rewriting a value is a change.
		put(t, s, "a", "1")
		if s.Rev() != r(2) {
			t.Fatalf("revision %d after rewrite", s.Rev())
		}
	})
}

func TestLimits(t *testing.T) {
	k1024 := strings.Repeat("k", MaxKeySize)
	k1025 := strings.Repeat("k", MaxKeySize+1)
	cases := []struct {
		name string
		fn   func(tx Tx) error
		want error
	}{
		{"put key at limit", func(tx Tx) error { return tx.Put(k1024, nil) }, nil},
		{"put value at limit", func(tx Tx) error { return tx.Put("v", make([]byte, MaxValueSize)) }, nil},
		{"put empty key", func(tx Tx) error { return tx.Put("", nil) }, ErrInvalidKey},
		{"put key too large", func(tx Tx) error { return tx.Put(k1025, nil) }, ErrKeyTooLarge},
		{"put value too large", func(tx Tx) error { return tx.Put("v", make([]byte, MaxValueSize+1)) }, ErrValueTooLarge},
		{"get empty key", func(tx Tx) error { _, _, err := tx.Get(""); return err }, ErrInvalidKey},
		{"get key too large", func(tx Tx) error { _, _, err := tx.Get(k1025); return err }, ErrKeyTooLarge},
		{"delete key too large", func(tx Tx) error { _, err := tx.Delete(k1025); return err }, ErrKeyTooLarge},
		{"list prefix too large", func(tx Tx) error { _, err := tx.List(k1025); return err }, ErrKeyTooLarge},
		{"delete prefix too large", func(tx Tx) error { _, err := tx.DeletePrefix(k1025); return err }, ErrKeyTooLarge},
		{"transaction too large", func(tx Tx) error {
			v := make([]byte, MaxValueSize)
			for i := 0; ; i++ {
				if err := tx.Put("big/"+strconv.Itoa(i), v); err != nil {
					if i != MaxTxnSize/MaxValueSize-1 {
						return fmt.Errorf("failed at put %d: %w", i, err)
					}
					return err
				}
			}
		}, ErrTxTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
				err := s.Update(bg, tc.fn)
				if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if err != nil && len(err.Error()) > 300 {
					t.Fatalf("error message of %d bytes", len(err.Error()))
				}
				if tc.want != nil && s.Rev() != InitialRev {
					t.Fatalf("failed transaction committed")
				}
			})
		})
	}
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		if _, err := s.Watch(bg, k1025, 0); !errors.Is(err, ErrKeyTooLarge) {
			t.Fatalf("Watch with long prefix: %v", err)
		}
		if _, err := s.Watch(bg, "", -1); !errors.Is(err, ErrInvalidRev) {
			t.Fatalf("Watch at -1: %v", err)
		}
	})
}

func TestWatchOrdering(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		put(t, s, "w/old", "0") // rev 1, before the watch
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		w, err := s.Watch(ctx, "w/", 0)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.Watch(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		put(t, s, "w/a", "1")                      // r(2)
		put(t, s, "w/b", "2", "w/c", "3")          // r(3)
		put(t, s, "other", "x")                    // r(4)
		del(t, s, "w/a")                           // r(5)
		if err := s.Update(bg, func(tx Tx) error { // r(6): order of last touch
			tx.Put("w/z", []byte("z"))
			tx.Put("w/y", []byte("y"))
			tx.Put("w/z", []byte("zz"))
			_, err := tx.DeletePrefix("w/b")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		expectEvent(t, w, EventPut, "w/a", "1", r(2))
		expectEvent(t, w, EventPut, "w/b", "2", r(3))
		expectEvent(t, w, EventPut, "w/c", "3", r(3))
		ev := expectEvent(t, w, EventDelete, "w/a", "", r(5))
		if ev.KV.CreateRev != 0 || ev.KV.Value != nil {
			t.Fatalf("delete event %+v", ev.KV)
		}
		expectEvent(t, w, EventPut, "w/y", "y", r(6))
		ev = expectEvent(t, w, EventPut, "w/z", "zz", r(6))
		if ev.KV.CreateRev != r(6) {
			t.Fatalf("create rev %d", ev.KV.CreateRev)
		}
		expectEvent(t, w, EventDelete, "w/b", "", r(6))
		for _, want := range []struct {
			typ EventType
			key string
			val string
			rev int64
		}{
			{EventPut, "w/a", "1", 2}, {EventPut, "w/b", "2", 3}, {EventPut, "w/c", "3", 3},
			{EventPut, "other", "x", 4}, {EventDelete, "w/a", "", 5},
			{EventPut, "w/y", "y", 6}, {EventPut, "w/z", "zz", 6}, {EventDelete, "w/b", "", 6},
		} {
			expectEvent(t, all, want.typ, want.key, want.val, r(want.rev))
		}
		// A change to an existing key keeps its CreateRev in the event.
		put(t, s, "w/c", "33")
		if ev := expectEvent(t, w, EventPut, "w/c", "33", r(7)); ev.KV.CreateRev != r(3) {
			t.Fatalf("create rev %d, want %d", ev.KV.CreateRev, r(3))
		}
		cancel()
		for {
			ev, ok := recv(t, w)
			if !ok {
				break
			}
			if ev.Type == EventError {
				t.Fatalf("error event after cancel: %v", ev.Err)
			}
		}
	})
}

func TestWatchFromRevision(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, reopen func(*testing.T) Store) {
		vals := []string{"", ""} // vals[rev] is the value written at rev
		write := func(s Store, v string) {
			put(t, s, "k", v)
			vals = append(vals, v)
			if s.Rev() != int64(len(vals)-1) {
				t.Fatalf("revision %d after %d writes", s.Rev(), len(vals)-1)
			}
		}
		for i := 1; i <= 5; i++ {
			write(s, strconv.Itoa(i))
		}
		check := func(s Store) {
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			w, err := s.Watch(ctx, "k", r(2))
			if err != nil {
				t.Fatal(err)
			}
			for r := r(3); r < int64(len(vals)); r++ {
				expectEvent(t, w, EventPut, "k", vals[r], int64(r))
			}
			// A future revision: nothing until it is passed.
			f, err := s.Watch(ctx, "k", s.Rev()+1)
			if err != nil {
				t.Fatal(err)
			}
			cur := s.Rev()
			write(s, "a")
			write(s, "b")
			expectEvent(t, w, EventPut, "k", "a", cur+1)
			expectEvent(t, w, EventPut, "k", "b", cur+2)
			expectEvent(t, f, EventPut, "k", "b", cur+2)
		}
		check(s)
		if reopen != nil {
			s = reopen(t)
			if s.Rev() != r(7) {
				t.Fatalf("revision after reopen %d, want %d", s.Rev(), r(7))
			}
			check(s)
		}
	})
}

// List in a View, then Watch from the snapshot's revision: nothing is lost
// or seen twice even with concurrent writers.
func TestListThenWatch(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		const n = 200
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				put(t, s, "c/"+strconv.Itoa(i), "")
			}
		}()
		var rev int64
		seen := map[string]bool{}
		if err := s.View(bg, func(tx Tx) error {
			kvs, err := tx.List("c/")
			for _, kv := range kvs {
				seen[kv.Key] = true
			}
			rev = tx.Rev()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if r(int64(len(seen))) != rev {
			t.Fatalf("snapshot at %d holds %d keys", rev, len(seen))
		}
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		w, err := s.Watch(ctx, "c/", rev)
		if err != nil {
			t.Fatal(err)
		}
		for len(seen) < n {
			ev, ok := recv(t, w)
			if !ok || ev.Type != EventPut {
				t.Fatalf("event %+v ok=%v", ev, ok)
			}
			if seen[ev.KV.Key] {
				t.Fatalf("%s seen twice", ev.KV.Key)
			}
			seen[ev.KV.Key] = true
		}
		wg.Wait()
	})
}

func TestWatchCompaction(t *testing.T) {
	forEachImpl(t, implOpts{history: 4, buffer: 1}, func(t *testing.T, s Store, reopen func(*testing.T) Store) {
		for i := 1; i <= 10; i++ {
			put(t, s, "k", strconv.Itoa(i))
		}
		// Kept: revisions r(7)..r(10), so watching after r(6) works, after
		// r(5) not.
		for _, tc := range []struct {
			rev  int64
			want error
		}{{InitialRev, ErrCompacted}, {r(5), ErrCompacted}, {r(6), nil}, {r(10), nil}} {
			ctx, cancel := context.WithCancel(bg)
			w, err := s.Watch(ctx, "", tc.rev)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Watch after %d = %v, want %v", tc.rev, err, tc.want)
			}
			if err == nil && tc.rev < r(10) {
				expectEvent(t, w, EventPut, "k", strconv.Itoa(int(tc.rev-InitialRev)+1), tc.rev+1)
			}
			cancel()
		}
		if reopen != nil {
			s = reopen(t)
			if _, err := s.Watch(bg, "", r(5)); !errors.Is(err, ErrCompacted) {
				t.Fatalf("after reopen: %v", err)
			}
		}
	})
}

// A watcher that does not read falls behind; writers go on, and the watcher
// ends with ErrCompacted after a gap-free run of events.
func TestSlowWatcherCancelled(t *testing.T) {
	forEachImpl(t, implOpts{history: 4, buffer: 1}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		w, err := s.Watch(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 50; i++ {
			put(t, s, "k", strconv.Itoa(i))
		}
		next := r(1)
		for {
			ev, ok := recv(t, w)
			if !ok {
				t.Fatal("closed without an error event")
			}
			if ev.Type == EventError {
				if !errors.Is(ev.Err, ErrCompacted) {
					t.Fatalf("error event %v, want ErrCompacted", ev.Err)
				}
				break
			}
			if ev.Rev != next {
				t.Fatalf("event at %d, want %d", ev.Rev, next)
			}
			next++
		}
		if next > r(50) {
			t.Fatalf("watcher saw every event yet was cancelled")
		}
		if _, ok := recv(t, w); ok {
			t.Fatal("channel open after the error event")
		}
	})
}

func TestClose(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		put(t, s, "k", "v")
		w, err := s.Watch(bg, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		ev, ok := recv(t, w)
		if ok && (ev.Type != EventError || !errors.Is(ev.Err, ErrClosed)) {
			t.Fatalf("event after close: %+v", ev)
		}
		if ok {
			if _, ok := recv(t, w); ok {
				t.Fatal("channel still open")
			}
		}
		if _, _, err := s.Get(bg, "k"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Get after close: %v", err)
		}
		if err := s.Update(bg, func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Fatalf("Update after close: %v", err)
		}
		if _, err := s.Watch(bg, "", 0); !errors.Is(err, ErrClosed) {
			t.Fatalf("Watch after close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
	})
}

// Serializability under concurrency: read-modify-write increments never
// lose an update, revisions are strictly increasing, and a watcher sees
// every one of them in order.
func TestConcurrentUpdates(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, _ func(*testing.T) Store) {
		const workers, each = 8, 50
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		w, err := s.Watch(ctx, "counter", 0)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					err := s.Update(bg, func(tx Tx) error {
						kv, _, err := tx.Get("counter")
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(string(kv.Value))
						if err := tx.Put("counter", []byte(strconv.Itoa(n+1))); err != nil {
							return err
						}
						return tx.Put(fmt.Sprintf("g/%d", g), []byte(strconv.Itoa(i)))
					})
					if err != nil {
						errs <- err
						return
					}
					// Concurrent readers see a consistent snapshot.
					if err := s.View(bg, func(tx Tx) error {
						kv, ok, err := tx.Get("counter")
						if err != nil || !ok {
							return fmt.Errorf("counter missing: %v", err)
						}
						if n, _ := strconv.Atoi(string(kv.Value)); r(int64(n)) != tx.Rev() || kv.ModRev != tx.Rev() {
							return fmt.Errorf("snapshot at %d has counter %d modified at %d", tx.Rev(), n, kv.ModRev)
						}
						return nil
					}); err != nil {
						errs <- err
						return
					}
				}
			}(g)
		}
		for i := 1; i <= workers*each; i++ {
			expectEvent(t, w, EventPut, "counter", strconv.Itoa(i), r(int64(i)))
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if kv := mustGet(t, s, "counter"); string(kv.Value) != strconv.Itoa(workers*each) || s.Rev() != r(workers*each) {
			t.Fatalf("counter %s at revision %d", kv.Value, s.Rev())
		}
	})
}

func TestPersistence(t *testing.T) {
	forEachImpl(t, implOpts{}, func(t *testing.T, s Store, reopen func(*testing.T) Store) {
		if reopen == nil {
			t.Skip("not persistent")
		}
		put(t, s, "a", "1", "b", "2")
		put(t, s, "a", "11")
		del(t, s, "b")
		big := bytes.Repeat([]byte{0xa5}, MaxValueSize)
		if err := s.Update(bg, func(tx Tx) error { return tx.Put("big", big) }); err != nil {
			t.Fatal(err)
		}
		s = reopen(t)
		if s.Rev() != r(4) {
			t.Fatalf("revision after reopen %d, want %d", s.Rev(), r(4))
		}
		if kv := mustGet(t, s, "a"); string(kv.Value) != "11" || kv.CreateRev != r(1) || kv.ModRev != r(2) {
			t.Fatalf("a after reopen: %+v", kv)
		}
		if _, ok, _ := s.Get(bg, "b"); ok {
			t.Fatal("deleted key back after reopen")
		}
		if kv := mustGet(t, s, "big"); !bytes.Equal(kv.Value, big) {
			t.Fatal("big value changed")
		}
		put(t, s, "a", "111")
		if kv := mustGet(t, s, "a"); kv.ModRev != r(5) || kv.CreateRev != r(1) {
			t.Fatalf("a after write: %+v", kv)
		}
		s = reopen(t)
		if s.Rev() != r(5) {
			t.Fatalf("revision after second reopen %d", s.Rev())
		}
	})
}
