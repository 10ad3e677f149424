package store

import (
	"fmt"
	"sort"
)

// change is the net effect of one transaction on one key.
type change struct {
	kv      KV   // new state when !deleted (Value owned by the change)
	deleted bool // the key does not exist at the end of the transaction
	// existed reports whether the key existed before the transaction.
	existed bool
	seq     int // order of the last operation on the key
}

// changeSet collects the changes of one read-write transaction. It doubles
// as the write overlay of the memory implementation and as the source of the
// transaction's events (one per changed key, in the order of each key's last
// operation).
type changeSet struct {
	m     map[string]*change
	seq   int
	bytes int64 // keys and values written, for MaxTxnSize
}

func (cs *changeSet) get(key string) (*change, bool) {
	c, ok := cs.m[key]
	return c, ok
}

// account adds n bytes to the transaction's size and fails past MaxTxnSize.
func (cs *changeSet) account(n int) error {
	if cs.bytes+int64(n) > MaxTxnSize {
		return fmt.Errorf("%w: more than %d bytes written in one transaction", ErrTxTooLarge, MaxTxnSize)
	}
	cs.bytes += int64(n)
	return nil
}

// put records that key now holds kv. existed tells whether the key existed
// before the transaction; it is used only on the first touch of the key.
func (cs *changeSet) put(kv KV, existed bool) {
	cs.record(kv.Key, &change{kv: kv, existed: existed})
}

// del records that key no longer exists.
func (cs *changeSet) del(key string, existed bool) {
	cs.record(key, &change{kv: KV{Key: key}, deleted: true, existed: existed})
}

func (cs *changeSet) record(key string, c *change) {
	if cs.m == nil {
		cs.m = make(map[string]*change)
	}
	if old, ok := cs.m[key]; ok {
		c.existed = old.existed
	}
	cs.seq++
	c.seq = cs.seq
	cs.m[key] = c
}

// events returns the transaction's events at revision rev. Deleting a key
// that the transaction itself created yields no event.
func (cs *changeSet) events(rev int64) []Event {
	if len(cs.m) == 0 {
		return nil
	}
	cl := make([]*change, 0, len(cs.m))
	for _, c := range cs.m {
		if c.deleted && !c.existed {
			continue
		}
		cl = append(cl, c)
	}
	sort.Slice(cl, func(i, j int) bool { return cl[i].seq < cl[j].seq })
	evs := make([]Event, len(cl))
	for i, c := range cl {
		if c.deleted {
			evs[i] = Event{Type: EventDelete, KV: KV{Key: c.kv.Key, ModRev: rev}, Rev: rev}
		} else {
			evs[i] = Event{Type: EventPut, KV: c.kv, Rev: rev}
		}
	}
	return evs
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}
