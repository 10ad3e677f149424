package nsm

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Encoding of the state and monitor list (Marshal): a version word, the
// state, the number of hosts and each host, in XDR.
const (
	encodingVersion = 1
	// maxEncodedHosts bounds what Unmarshal accepts.
	maxEncodedHosts = 1 << 20
)

// Marshal encodes a state and a monitor list for a store.
func Marshal(state int32, hosts []Host) []byte {
	var w xdr.Writer
	w.Uint32(encodingVersion)
	w.Int32(state)
	w.Uint32(uint32(len(hosts)))
	for i := range hosts {
		h := &hosts[i]
		w.String(h.Name)
		w.Opaque(addrBytes(h.Addr))
		w.Opaque(addrBytes(h.Local))
		w.Int32(h.State)
		w.String(h.MyName)
		w.Uint32(h.MyProg)
		w.Uint32(h.MyVers)
		w.Uint32(h.MyProc)
		w.Fixed(h.Priv[:])
	}
	return w.B
}

func addrBytes(a netip.Addr) []byte {
	if !a.IsValid() {
		return nil
	}
	return a.AsSlice()
}

// Unmarshal decodes what Marshal encoded.
func Unmarshal(b []byte) (int32, []Host, error) {
	r := xdr.NewReader(b)
	if v := r.Uint32(); r.Err() == nil && v != encodingVersion {
		return 0, nil, fmt.Errorf("nsm: monitor list encoding version %d, want %d", v, encodingVersion)
	}
	state := r.Int32()
	// A host takes at least 12 words.
	n := r.ArrayLen(maxEncodedHosts, 12*4)
	hosts := make([]Host, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var h Host
		h.Name = r.String(MaxStrLen)
		var ok1, ok2 bool
		h.Addr, ok1 = addrFrom(r.Opaque(16))
		h.Local, ok2 = addrFrom(r.Opaque(16))
		h.State = r.Int32()
		h.MyName = r.String(MaxStrLen)
		h.MyProg = r.Uint32()
		h.MyVers = r.Uint32()
		h.MyProc = r.Uint32()
		copy(h.Priv[:], r.Fixed(PrivSize))
		if !ok1 || !h.Addr.IsValid() || !ok2 {
			r.SetErr(errors.New("bad address"))
		}
		hosts = append(hosts, h)
	}
	if r.Err() != nil {
		return 0, nil, fmt.Errorf("nsm: decoding monitor list: %w", r.Err())
	}
	return state, hosts, nil
}

func addrFrom(b []byte) (netip.Addr, bool) {
	if len(b) == 0 {
		return netip.Addr{}, true
	}
	a, ok := netip.AddrFromSlice(b)
	return a, ok
}

// MemStore is a StateStore in memory, for tests.
type MemStore struct {
	mu    sync.Mutex
	state int32
	hosts []Host
	saves int
}

// Load implements StateStore.
func (m *MemStore) Load() (int32, []Host, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state, slices.Clone(m.hosts), nil
}

// Save implements StateStore.
func (m *MemStore) Save(state int32, hosts []Host) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state, m.hosts = state, slices.Clone(hosts)
	m.saves++
	return nil
}

// Saves returns how many times Save was called.
func (m *MemStore) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// FileStore is a StateStore in one file (written atomically: a temporary
// file, fsync, rename, fsync of the directory).
type FileStore struct {
	Path string
}

// Load implements StateStore.
func (f FileStore) Load() (int32, []Host, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return Unmarshal(b)
}

// Save implements StateStore.
func (f FileStore) Save(state int32, hosts []Host) error {
	tmp := f.Path + ".tmp"
	fd, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fd.Write(Marshal(state, hosts))
	if err == nil {
		err = fd.Sync()
	}
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	dir, err := os.Open(filepath.Dir(f.Path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
