package mount

import (
	"container/list"
	"net/netip"
	"sync"
)

// Entry is one element of the mount list: the client's address (as
// ml_hostname) and the path it mounted.
type Entry struct {
	Host string
	Path string
}

type mountKey struct {
	host netip.Addr
	path string
}

// mountList is the bounded, in-memory mount list. MNT adds or refreshes
// an entry, UMNT and UMNTALL remove; when full, the least recently
// mounted entry is dropped.
type mountList struct {
	mu    sync.Mutex
	max   int
	byKey map[mountKey]*list.Element // of mountKey
	order *list.List                 // least recently mounted first
}

func newMountList(max int) *mountList {
	return &mountList{max: max, byKey: make(map[mountKey]*list.Element), order: list.New()}
}

func (l *mountList) add(host netip.Addr, path string) {
	k := mountKey{host, path}
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.byKey[k]; ok {
		l.order.MoveToBack(el)
		return
	}
	for l.order.Len() >= l.max {
		oldest := l.order.Front()
		delete(l.byKey, oldest.Value.(mountKey))
		l.order.Remove(oldest)
	}
	l.byKey[k] = l.order.PushBack(k)
}

func (l *mountList) remove(host netip.Addr, path string) {
	k := mountKey{host, path}
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.byKey[k]; ok {
		delete(l.byKey, k)
		l.order.Remove(el)
	}
}

func (l *mountList) removeHost(host netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for el := l.order.Front(); el != nil; {
		next := el.Next()
		if k := el.Value.(mountKey); k.host == host {
			delete(l.byKey, k)
			l.order.Remove(el)
		}
		el = next
	}
}

func (l *mountList) entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, 0, l.order.Len())
	for el := l.order.Front(); el != nil; el = el.Next() {
		k := el.Value.(mountKey)
		out = append(out, Entry{Host: k.host.String(), Path: k.path})
	}
	return out
}
