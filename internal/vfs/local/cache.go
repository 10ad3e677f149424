package local

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// node is an open object: a descriptor usable with the *at system calls,
// fstat, fchownat(AT_EMPTY_PATH), linkat(AT_EMPTY_PATH) and the
// /proc/self/fd paths; for regular files also descriptors for data I/O,
// opened when first needed.
type node struct {
	key string // the object ID
	fd  int    // O_PATH, or for a file created here O_RDWR (then rfd == wfd == fd)
	typ uint32 // S_IFMT bits

	ioMu sync.Mutex   // serializes opening rfd/wfd
	rfd  atomic.Int32 // regular files: O_RDONLY (or the O_RDWR wfd), -1 until opened
	wfd  atomic.Int32 // regular files: O_RDWR, -1 until opened

	// Under cache.mu.
	refs       int32
	weight     int  // descriptors held
	dead       bool // out of the map: close when refs drops to 0
	pinned     bool // the root: never evicted
	prev, next *node
}

func newNode(key string, fd int, typ uint32) *node {
	n := &node{key: key, fd: fd, typ: typ, weight: 1}
	n.rfd.Store(-1)
	n.wfd.Store(-1)
	return n
}

// closeFDs closes every descriptor of n. Only called once no one uses n.
func (n *node) closeFDs() {
	r, w := int(n.rfd.Load()), int(n.wfd.Load())
	if w >= 0 && w != n.fd {
		unix.Close(w)
	}
	if r >= 0 && r != n.fd && r != w {
		unix.Close(r)
	}
	unix.Close(n.fd)
}

// fdCache is a bounded LRU of open nodes keyed by object ID. The bound is
// on descriptors (a regular file may hold up to three). A node in use
// (refs > 0) may be evicted: it leaves the map at once and its descriptors
// are closed when the last user releases it.
type fdCache struct {
	mu     sync.Mutex
	m      map[string]*node
	head   node // sentinel of the LRU ring: head.next is the most recent
	total  int  // descriptors held by nodes in the map
	max    int
	closed bool
}

func newFDCache(max int) *fdCache {
	c := &fdCache{m: make(map[string]*node), max: max}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *fdCache) unlink(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (c *fdCache) pushFront(n *node) {
	n.prev, n.next = &c.head, c.head.next
	c.head.next.prev = n
	c.head.next = n
}

// get returns the node of key with a reference, or nil.
func (c *fdCache) get(key []byte) *node {
	c.mu.Lock()
	n := c.m[string(key)]
	if n != nil {
		n.refs++
		if !n.pinned && c.head.next != n {
			c.unlink(n)
			c.pushFront(n)
		}
	}
	c.mu.Unlock()
	return n
}

// add inserts n (refs 0, fresh) and returns it with a reference; if a node
// for the key is already there (a concurrent open), that one is returned
// and n is closed. If the cache is closed, n is returned unshared (dead)
// and is closed on release.
func (c *fdCache) add(n *node) *node {
	var victims []*node
	c.mu.Lock()
	if c.closed {
		n.dead = true
		n.refs = 1
		c.mu.Unlock()
		return n
	}
	if old := c.m[n.key]; old != nil {
		old.refs++
		c.mu.Unlock()
		n.closeFDs()
		return old
	}
	n.refs = 1
	c.m[n.key] = n
	c.total += n.weight
	if !n.pinned {
		c.pushFront(n)
	}
	victims = c.evictLocked(victims)
	c.mu.Unlock()
	for _, v := range victims {
		v.closeFDs()
	}
	return n
}

// evictLocked drops least recently used nodes until the bound holds and
// returns those nobody uses, to be closed after unlocking.
func (c *fdCache) evictLocked(victims []*node) []*node {
	for c.total > c.max {
		v := c.head.prev
		if v == &c.head {
			break // only pinned nodes left
		}
		c.removeLocked(v)
		if v.refs == 0 {
			victims = append(victims, v)
		}
	}
	return victims
}

func (c *fdCache) removeLocked(n *node) {
	if n.dead {
		return
	}
	delete(c.m, n.key)
	c.total -= n.weight
	if !n.pinned {
		c.unlink(n)
	}
	n.dead = true
}

// grow accounts for a descriptor n opened after insertion.
func (c *fdCache) grow(n *node) {
	var victims []*node
	c.mu.Lock()
	n.weight++
	if !n.dead {
		c.total++
		victims = c.evictLocked(victims)
	}
	c.mu.Unlock()
	for _, v := range victims {
		v.closeFDs()
	}
}

// release drops a reference; the last one of an evicted node closes it.
func (c *fdCache) release(n *node) {
	c.mu.Lock()
	n.refs--
	closeNow := n.dead && n.refs == 0
	c.mu.Unlock()
	if closeNow {
		n.closeFDs()
	}
}

// invalidate drops n from the cache (its object is gone); it is closed
// when its last user releases it.
func (c *fdCache) invalidate(n *node) {
	c.mu.Lock()
	if !n.pinned {
		c.removeLocked(n)
	}
	c.mu.Unlock()
}

// peek returns the node of key with a reference, without touching the LRU
// order, or nil.
func (c *fdCache) peek(key []byte) *node {
	c.mu.Lock()
	n := c.m[string(key)]
	if n != nil {
		n.refs++
	}
	c.mu.Unlock()
	return n
}

// close drops every node; nodes in use are closed on their last release.
func (c *fdCache) close() {
	var victims []*node
	c.mu.Lock()
	c.closed = true
	for _, n := range c.m {
		if n.dead {
			continue
		}
		delete(c.m, n.key)
		c.total -= n.weight
		if !n.pinned {
			c.unlink(n)
		}
		n.dead = true
		if n.refs == 0 {
			victims = append(victims, n)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		v.closeFDs()
	}
}

// stats returns the number of nodes and descriptors in the map.
func (c *fdCache) stats() (nodes, fds int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.total
}

// tryAcquire takes a reference on n unless it was dropped from the cache.
func (c *fdCache) tryAcquire(n *node) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.dead {
		return false
	}
	n.refs++
	return true
}
