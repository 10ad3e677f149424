package oncrpc

import (
	"fmt"
	"sync"
)

// Mux maps program numbers to Programs. A Server dispatches every call
// through one Mux; registering while serving is safe.
type Mux struct {
	mu    sync.RWMutex
	progs map[uint32]*Program
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{progs: map[uint32]*Program{}} }

// Register adds p. It fails if p is incomplete or its program number is
// already registered.
func (m *Mux) Register(p Program) error {
	if p.Handler == nil || p.Low > p.High {
		return fmt.Errorf("oncrpc: program %d (%s): no handler or empty version range", p.Prog, p.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.progs[p.Prog]; dup {
		return fmt.Errorf("oncrpc: program %d (%s) registered twice", p.Prog, p.Name)
	}
	m.progs[p.Prog] = &p
	return nil
}

// Unregister removes program prog.
func (m *Mux) Unregister(prog uint32) {
	m.mu.Lock()
	delete(m.progs, prog)
	m.mu.Unlock()
}

// Lookup returns the program registered for prog, or nil.
func (m *Mux) Lookup(prog uint32) *Program {
	m.mu.RLock()
	p := m.progs[prog]
	m.mu.RUnlock()
	return p
}
