package store

import (
	"context"
	"fmt"
	"sync"
)

// Bounds of one read from the history by one watcher. A revision is never
// split, so a batch may exceed them by the events of its last revision
// (which MaxTxnSize bounds).
const (
	watchBatchEvents = 256
	watchBatchBytes  = 4 << 20
)

// historyReader is what a watcher needs from an implementation.
type historyReader interface {
	// readHistory returns the events under prefix of the revisions from
	// `from` on, stopping after the revision at which the batch bounds are
	// reached. next is the first revision not read; caughtUp reports that
	// every committed revision was read. A revision at or below the
	// compaction point yields ErrCompacted.
	readHistory(from int64, prefix string) (evs []Event, next int64, caughtUp bool, err error)
	// compactRev is the highest revision no longer in the history.
	compactRev() int64
	Rev() int64
}

// watchHub wakes watchers on commits and stops them on Close.
type watchHub struct {
	mu     sync.Mutex
	wake   chan struct{} // closed at the next commit
	done   chan struct{} // closed by close
	closed bool
	wg     sync.WaitGroup
	buffer int
}

func (h *watchHub) init(buffer int) {
	if buffer <= 0 {
		buffer = DefaultWatchBuffer
	}
	h.buffer = buffer
	h.wake = make(chan struct{})
	h.done = make(chan struct{})
}

// notify wakes every watcher waiting for a commit.
func (h *watchHub) notify() {
	h.mu.Lock()
	close(h.wake)
	h.wake = make(chan struct{})
	h.mu.Unlock()
}

func (h *watchHub) waitCh() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wake
}

// close stops every watcher and waits for them to exit.
func (h *watchHub) close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *watchHub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *watchHub) watch(ctx context.Context, src historyReader, prefix string, rev int64) (<-chan Event, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	if rev < 0 {
		return nil, fmt.Errorf("%w: negative revision %d", ErrInvalidRev, rev)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	next := rev + 1
	if rev == 0 {
		next = src.Rev() + 1
	}
	if c := src.compactRev(); next <= c {
		return nil, fmt.Errorf("%w: watch after revision %d, history starts after %d", ErrCompacted, next-1, c)
	}
	out := make(chan Event, h.buffer)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go h.run(ctx, src, prefix, next, out)
	return out, nil
}

func (h *watchHub) run(ctx context.Context, src historyReader, prefix string, next int64, out chan<- Event) {
	defer h.wg.Done()
	defer close(out)
	for {
		wake := h.waitCh()
		evs, nxt, caughtUp, err := src.readHistory(next, prefix)
		if err != nil {
			select {
			case out <- Event{Type: EventError, Err: err}:
			case <-ctx.Done():
			case <-h.done:
				h.closing(out)
			}
			return
		}
		for _, ev := range evs {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			case <-h.done:
				h.closing(out)
				return
			}
		}
		next = nxt
		if !caughtUp {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		case <-h.done:
			h.closing(out)
			return
		}
	}
}

// closing tells a watcher that the store was closed if its channel has room.
func (h *watchHub) closing(out chan<- Event) {
	select {
	case out <- Event{Type: EventError, Err: ErrClosed}:
	default:
	}
}
