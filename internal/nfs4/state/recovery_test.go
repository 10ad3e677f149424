package state

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/store"
)

func TestStoreRecovery(t *testing.T) {
	st := store.NewMemory()
	defer st.Close()
	if _, err := NewStoreRecovery(st, ""); err == nil {
		t.Error("empty prefix accepted")
	}
	if _, err := NewStoreRecovery(st, strings.Repeat("p", store.MaxKeySize-63)); err == nil {
		t.Error("prefix without room for the key accepted")
	}
	a, err := NewStoreRecovery(st, "/nfs4rec/a/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewStoreRecovery(st, "/nfs4rec/b/")
	long := bytes.Repeat([]byte{0xff}, MaxOwnerLen)
	for _, o := range [][]byte{[]byte("one"), long, {}, []byte("one")} {
		if err := a.Add(o); err != nil {
			t.Fatalf("Add(%q): %v", o, err)
		}
	}
	b.Add([]byte("other server"))
	got, err := a.Load()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, bytes.Compare)
	want := [][]byte{{}, []byte("one"), long}
	if len(got) != len(want) {
		t.Fatalf("Load = %q, want %q", got, want)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("Load = %q, want %q", got, want)
		}
	}
	if err := a.Remove([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove([]byte("never added")); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Load(); len(got) != 2 {
		t.Fatalf("after Remove: %q", got)
	}
	if got, _ := b.Load(); len(got) != 1 || string(got[0]) != "other server" {
		t.Fatalf("other prefix: %q", got)
	}
	// A record whose key does not match its value is corrupt.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st.Update(ctx, func(tx store.Tx) error { return tx.Put("/nfs4rec/b/0000", []byte("x")) })
	if _, err := b.Load(); err == nil {
		t.Error("corrupt record loaded")
	}
}

// TestStoreRecoveryTable runs a table on StoreRecovery through a restart.
func TestStoreRecoveryTable(t *testing.T) {
	st := store.NewMemory()
	defer st.Close()
	rec, _ := NewStoreRecovery(st, "/nfs4rec/x/")
	clock := newClock()
	t1, err := New(Config{Now: clock.Now, Boot: 1, Recovery: rec})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := t1.SetClientID(SetClientIDArgs{ID: []byte("client"), Principal: "p"})
	t1.SetClientIDConfirm(s.ClientID, s.Confirm, "p")
	if err := t1.RecordClient(s.ClientID); err != nil {
		t.Fatal(err)
	}
	t2, err := New(Config{Now: clock.Now, Boot: 2, Recovery: rec})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := t2.SetClientID(SetClientIDArgs{ID: []byte("client"), Principal: "p"})
	t2.SetClientIDConfirm(s2.ClientID, s2.Confirm, "p")
	if !t2.MayReclaim(s2.ClientID) {
		t.Fatal("recorded client may not reclaim after the restart")
	}
}
