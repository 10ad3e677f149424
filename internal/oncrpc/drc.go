package oncrpc

import (
	"container/list"
	"hash/crc32"
	"net/netip"
	"sync"
)

// DRC is a duplicate request cache (the "replay cache" of Linux nfsd and
// NFS-Ganesha's DRC): a client that loses a reply retransmits the call
// with the same XID, and a non-idempotent procedure (REMOVE, RENAME,
// CREATE with EXCLUSIVE, ...) must not run twice. The cache remembers the
// reply of every recent non-idempotent call; a retransmission is answered
// from it, and one that arrives while the original is still running is
// dropped (the client retransmits again later).
//
// Entries are keyed by client address (without the port, so a client
// that reconnects from another port still matches), XID, program,
// version, procedure and the length and a CRC32 of the first 256 bytes of the arguments, which tells apart two
// calls that happen to reuse an XID. The cache holds at most max entries
// and at most MaxDRCBytes of replies, and evicts the least recently used
// completed entry first.
type DRC struct {
	mu      sync.Mutex
	max     int
	bytes   int // of the kept replies
	entries map[drcKey]*list.Element
	lru     list.List // of *drcEntry, most recent at the front

	hits, inProgress, misses uint64
}

type drcKey struct {
	addr                  netip.Addr
	xid, prog, vers, proc uint32
	sum                   uint32
	n                     int
}

type drcEntry struct {
	key   drcKey
	done  bool
	reply []byte // the reply record without the record mark
}

// MaxCachedReply bounds the size of a reply the cache keeps (the reply
// record without its record mark). A larger reply is sent but not kept:
// a retransmission of its call runs again. The replies of NFSv3's
// non-idempotent procedures are far smaller; the bound is for NFSv4.0
// COMPOUNDs, which may carry a READ beside a CREATE.
const MaxCachedReply = 16 << 10

// MaxDRCBytes bounds the replies one cache keeps in all (a vserver's
// cache: 4096 NFSv3 replies of ~150 bytes use a seventh of it).
const MaxDRCBytes = 4 << 20

// NewDRC returns a cache of at most max entries (at least 1).
func NewDRC(max int) *DRC {
	if max < 1 {
		max = 1
	}
	return &DRC{max: max, entries: make(map[drcKey]*list.Element)}
}

// drcState is the outcome of DRC.start.
type drcState int

const (
	drcNew        drcState = iota // run the call, then finish or forget
	drcInProgress                 // the original is running: drop
	drcReplay                     // answer with the cached reply
)

// drcSumLen is how much of the arguments the key's checksum covers (as
// RC_CSUMLEN in Linux nfsd): enough to tell calls apart, cheap for a
// 1 MiB WRITE. The full length is part of the key too.
const drcSumLen = 256

func keyOf(c *Call) drcKey {
	a := c.Args
	if len(a) > drcSumLen {
		a = a[:drcSumLen]
	}
	return drcKey{addr: c.Remote.Addr(), xid: c.XID, prog: c.Prog, vers: c.Vers, proc: c.Proc,
		sum: crc32.ChecksumIEEE(a), n: len(c.Args)}
}

// start looks the call up. For drcReplay the returned reply is a copy the
// caller may keep.
func (d *DRC) start(k drcKey) (drcState, []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.entries[k]; ok {
		e := el.Value.(*drcEntry)
		if !e.done {
			d.inProgress++
			return drcInProgress, nil
		}
		d.hits++
		d.lru.MoveToFront(el)
		return drcReplay, append(getBuf(len(e.reply)), e.reply...)
	}
	d.misses++
	d.entries[k] = d.lru.PushFront(&drcEntry{key: k})
	d.evict()
	return drcNew, nil
}

// evict drops least recently used completed entries beyond max. Entries
// in progress are never evicted (their number is bounded by the servers'
// in-flight limits).
func (d *DRC) evict() {
	for el := d.lru.Back(); (len(d.entries) > d.max || d.bytes > MaxDRCBytes) && el != nil; {
		prev := el.Prev()
		if e := el.Value.(*drcEntry); e.done {
			d.lru.Remove(el)
			delete(d.entries, e.key)
			d.bytes -= len(e.reply)
		}
		el = prev
	}
}

// finish stores the reply of a call started with drcNew.
func (d *DRC) finish(k drcKey, reply []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.entries[k]; ok {
		e := el.Value.(*drcEntry)
		e.done = true
		d.bytes -= len(e.reply)
		e.reply = append(e.reply[:0], reply...)
		d.bytes += len(e.reply)
		d.evict()
	}
}

// forget removes a call started with drcNew that produced no reply.
func (d *DRC) forget(k drcKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.entries[k]; ok {
		d.lru.Remove(el)
		delete(d.entries, k)
		d.bytes -= len(el.Value.(*drcEntry).reply)
	}
}

// DRCStats counts lookups.
type DRCStats struct {
	Entries, Bytes           int
	Hits, InProgress, Misses uint64
}

// Stats returns the cache's counters.
func (d *DRC) Stats() DRCStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return DRCStats{Entries: len(d.entries), Bytes: d.bytes, Hits: d.hits, InProgress: d.inProgress, Misses: d.misses}
}
