// Package vserver runs one virtual NFS server: its listeners, its export
// table, and the state no other virtual server shares (file-handle key,
// write verifier, duplicate request cache).
//
// A Server serves NFSv3 (RFC 1813) over TCP, MOUNT (RFC 1813 appendix I)
// over TCP and UDP, and a built-in portmapper (RFC 1833) over TCP and UDP
// that answers for exactly these services. Each service has its own
// listeners and oncrpc.Mux, as with Linux nfsd and mountd: the NFS port
// does not answer MOUNT. Every service listens on every address of the
// vserver on the same port.
//
// A listener may live in a Linux network namespace (Listener.Netns): its
// sockets are created from an OS thread that has entered the namespace
// with setns(2), and are then served like any other, by the same process
// and the same scheduler as the vservers of the host namespace.
//
// Nothing is global: two Servers in one process share nothing but the
// process.
package vserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/nfs4"
	nfs4fattr "github.com/vnfsd/vnfsd/internal/nfs4/fattr"
	"github.com/vnfsd/vnfsd/internal/nfs4/state"
	"github.com/vnfsd/vnfsd/internal/nlm"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/faultfs"
	"github.com/vnfsd/vnfsd/internal/vfs/local"
	"golang.org/x/sys/unix"
)

// Disabled as MountPort or PortmapPort means that service is not started
// (and not registered with the portmapper). A port of 0 means a port
// chosen by the operating system, the same one on every address and for
// TCP and UDP.
const Disabled = -1

// DefaultMaxIO is the largest READ and WRITE transfer when Config.MaxIO
// is 0.
const DefaultMaxIO = 1 << 20

// Limits of Config.MaxIO.
const (
	MinMaxIO = 4 << 10
	MaxMaxIO = 16 << 20
)

// KeyFile is the name of the file-handle key in the state directory.
const KeyFile = "fhkey"

// drcEntries bounds the duplicate request cache of a vserver.
const drcEntries = 4096

// Record size limits of the small services (a MNT call with the largest
// credential, verifier and path is under 2 KiB).
const smallRecord = 16 << 10

// Service names, the keys of Addrs.
const (
	ServiceNFS        = "nfs"
	ServiceNLM        = "nlm" // NLM and NSM
	ServiceMount      = "mount"
	ServiceMountUDP   = "mount/udp"
	ServicePortmap    = "portmap"
	ServicePortmapUDP = "portmap/udp"
)

// ExportConfig is one export of the vserver.
type ExportConfig struct {
	// ID goes into file handles: unique within the vserver and never
	// given to another directory, or old handles would reach it.
	ID uint32
	// Path is what clients mount, such as "/export".
	Path string
	// Dir is the local directory exported.
	Dir      string
	ReadOnly bool
	Squash   export.Squash
	// AnonUID and AnonGID are the identity squashed callers get; 0 means
	// export.Nobody (65534). (Squashing to root would defeat the purpose.)
	AnonUID, AnonGID uint32
	// Clients are the networks allowed; empty means every client.
	Clients []netip.Prefix
	// Fault, if not empty, wraps the backend in faultfs with this spec.
	// For tests only.
	Fault string
}

// Listener is one address a vserver listens on, with every service.
type Listener struct {
	Addr netip.Addr
	// Netns, if not empty, is the absolute path of the Linux network
	// namespace the sockets are created in, such as /run/netns/NAME (made
	// by `ip netns add NAME`) or /proc/PID/ns/net. Empty means the
	// namespace of the process.
	Netns string
}

func (l Listener) String() string {
	if l.Netns == "" {
		return l.Addr.String()
	}
	return l.Addr.String() + " in " + l.Netns
}

// NFS versions a vserver can serve (Config.Versions).
var supportedVersions = []uint32{nfs3.Vers, nfs4.Vers}

// Limits of Config.Lease and Config.Grace when they are set.
const (
	MinLease = 10 * time.Second
	MaxLease = time.Hour
)

// DefaultLease is the NFSv4 lease time and grace period when Config.Lease
// and Config.Grace are 0 (90 s, as Linux nfsd).
const DefaultLease = 90 * time.Second

// Config configures a vserver.
type Config struct {
	// Name identifies the vserver in logs.
	Name string
	// Addrs are addresses every service listens on in the namespace of
	// the process: a shorthand for Listeners without Netns. Addrs and
	// Listeners may both be given; together they hold at least one
	// listener, and no address twice in one network namespace.
	Addrs     []netip.Addr
	Listeners []Listener
	// Ports of the services: 0 lets the operating system choose,
	// Disabled (MountPort, PortmapPort only) does not start the service.
	NFSPort, MountPort, PortmapPort int
	// StateDir holds the vserver's persistent state (the file-handle key
	// KeyFile). It is created (mode 0700) if missing.
	StateDir string
	Exports  []ExportConfig
	// MaxIO is the largest READ/WRITE transfer; 0 means DefaultMaxIO.
	MaxIO uint32
	// Versions are the NFS versions served (3, 4); empty means {3}.
	Versions []uint32
	// Minor4 are the NFSv4 minor versions served (0, 1, 2) when Versions
	// holds 4; empty means all three.
	Minor4 []uint32
	// NFS4Recovery keeps the NFSv4 clients that may reclaim state after
	// a restart; nil keeps them in the directory NFS4RecoveryDir of
	// StateDir.
	NFS4Recovery state.RecoveryStore
	// Lease and Grace are the NFSv4 lease time and grace period; 0 means
	// DefaultLease. When set they lie within [MinLease, MaxLease]. They
	// are kept for NFSv4 and reported; NFSv3 does not use them.
	Lease, Grace time.Duration
	// IDMap maps the NFSv4 owner and owner_group strings (RFC 8881
	// section 5.9); nil sends and takes numeric strings ("1000") only.
	IDMap nfs4fattr.IDMap
	// NLMPort is the port of the NFSv3 lock manager (NLM v4) and, on the
	// same port, the status monitor (NSM), over TCP and UDP, both
	// registered with the vserver's portmapper: 0 lets the operating
	// system choose (as Linux lockd and statd do), Disabled turns NFSv3
	// locking off. (One port for both saves a listener per vserver.)
	NLMPort int
	// NSMState persists the NSM state number and monitor list; nil keeps
	// them in the file NSMStateFile of StateDir.
	NSMState nsm.StateStore
	// Sched runs the requests of every service of the vserver (the
	// vserver's queue on the shared worker pool); nil runs each request
	// on its own goroutine.
	Sched oncrpc.Scheduler
	// Logger; nil discards.
	Logger *slog.Logger
}

// Server is one virtual NFS server.
type Server struct {
	cfg       Config
	log       *slog.Logger
	handles   *fh.Codec
	writeVerf [8]byte
	drc       *oncrpc.DRC
	table     atomic.Pointer[export.Table]

	mu       sync.Mutex
	started  bool
	stopped  bool
	done     chan struct{} // closed when Shutdown has finished
	backends []*local.FS
	rpcs     []*oncrpc.Server
	tcp      []net.Listener   // closed first by Shutdown
	udp      []net.PacketConn // closed after the servers shut down
	addrs    map[string]string
	serving  sync.WaitGroup
	shutdown atomic.Bool

	locks  *lock.Manager // byte-range locks and shares of NLM and NFSv4
	nlm    *nlm.Server
	nfs4   *nfs4.Server
	nsm    *nsm.NSM
	ctx    context.Context // lives until Shutdown (SM_NOTIFY delivery)
	cancel context.CancelFunc

	udpIdle         time.Duration // see serveUDP
	testHookUDPIdle func()        // called when a UDP socket has gone idle
}

// New checks cfg, loads (or creates) the file-handle key in
// cfg.StateDir and draws a random write verifier. It opens no backend and
// no listener: Start does.
func New(cfg Config) (*Server, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("vserver %s: state directory: %w", cfg.Name, err)
	}
	key, err := fh.LoadOrCreateKey(filepath.Join(cfg.StateDir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("vserver %s: %w", cfg.Name, err)
	}
	s := &Server{cfg: cfg, handles: fh.NewCodec(key), drc: oncrpc.NewDRC(drcEntries), done: make(chan struct{}), udpIdle: udpIdle}
	// A new verifier at every start tells clients that unstable writes
	// they have not committed may be lost and must be sent again.
	if _, err := rand.Read(s.writeVerf[:]); err != nil {
		return nil, fmt.Errorf("vserver %s: write verifier: %w", cfg.Name, err)
	}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("vserver", cfg.Name)
	return s, nil
}

func checkConfig(cfg *Config) error {
	if cfg.Name == "" {
		return errors.New("vserver: no name")
	}
	if len(cfg.Addrs)+len(cfg.Listeners) == 0 {
		return fmt.Errorf("vserver %s: no listen address", cfg.Name)
	}
	ls := make([]Listener, 0, len(cfg.Addrs)+len(cfg.Listeners))
	for _, a := range cfg.Addrs {
		ls = append(ls, Listener{Addr: a})
	}
	ls = append(ls, cfg.Listeners...)
	seen := map[Listener]bool{}
	for i, l := range ls {
		if !l.Addr.IsValid() {
			return fmt.Errorf("vserver %s: invalid listen address", cfg.Name)
		}
		l.Addr = l.Addr.Unmap()
		if l.Addr.Zone() != "" {
			return fmt.Errorf("vserver %s: listen address %v: zones are not supported", cfg.Name, l.Addr)
		}
		if l.Netns != "" {
			if err := checkNetnsPath(l.Netns); err != nil {
				return fmt.Errorf("vserver %s: listener %v: %w", cfg.Name, l.Addr, err)
			}
		}
		if seen[l] {
			return fmt.Errorf("vserver %s: listen address %v given twice", cfg.Name, l)
		}
		seen[l] = true
		ls[i] = l
	}
	// From here on, Listeners holds every listener (Addrs first) and
	// Addrs those in the namespace of the process.
	cfg.Listeners = ls
	cfg.Addrs = nil
	for _, l := range ls {
		if l.Netns == "" {
			cfg.Addrs = append(cfg.Addrs, l.Addr)
		}
	}
	if len(cfg.Versions) == 0 {
		cfg.Versions = []uint32{nfs3.Vers}
	} else {
		cfg.Versions = slices.Clone(cfg.Versions)
		slices.Sort(cfg.Versions)
		for i, v := range cfg.Versions {
			if i > 0 && cfg.Versions[i-1] == v {
				return fmt.Errorf("vserver %s: NFS version %d given twice", cfg.Name, v)
			}
			if !slices.Contains(supportedVersions, v) {
				return fmt.Errorf("vserver %s: NFS version %d not supported", cfg.Name, v)
			}
		}
	}
	if len(cfg.Minor4) == 0 {
		cfg.Minor4 = []uint32{0, 1, 2}
	}
	cfg.Minor4 = slices.Clone(cfg.Minor4)
	slices.Sort(cfg.Minor4)
	cfg.Minor4 = slices.Compact(cfg.Minor4)
	if cfg.Minor4[len(cfg.Minor4)-1] > 2 {
		return fmt.Errorf("vserver %s: NFSv4 minor version %d not supported", cfg.Name, cfg.Minor4[len(cfg.Minor4)-1])
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"lease", cfg.Lease}, {"grace", cfg.Grace}} {
		if d.v != 0 && (d.v < MinLease || d.v > MaxLease) {
			return fmt.Errorf("vserver %s: %s time %v not within [%v, %v]", cfg.Name, d.name, d.v, MinLease, MaxLease)
		}
	}
	ports := []struct {
		name     string
		port     int
		optional bool
	}{{"nfs", cfg.NFSPort, false}, {"mount", cfg.MountPort, true}, {"portmap", cfg.PortmapPort, true},
		{"nlm", cfg.NLMPort, true}}
	for _, p := range ports {
		if p.port > 65535 || p.port < 0 && !(p.optional && p.port == Disabled) {
			return fmt.Errorf("vserver %s: %s port %d out of range", cfg.Name, p.name, p.port)
		}
	}
	if cfg.StateDir == "" {
		return fmt.Errorf("vserver %s: no state directory", cfg.Name)
	}
	if cfg.MaxIO == 0 {
		cfg.MaxIO = DefaultMaxIO
	}
	if cfg.MaxIO < MinMaxIO || cfg.MaxIO > MaxMaxIO {
		return fmt.Errorf("vserver %s: MaxIO %d not within [%d, %d]", cfg.Name, cfg.MaxIO, MinMaxIO, MaxMaxIO)
	}
	ids := map[uint32]bool{}
	paths := map[string]bool{}
	exps := make([]ExportConfig, len(cfg.Exports))
	for i, e := range cfg.Exports {
		p, err := export.CleanPath(e.Path)
		if err != nil {
			return fmt.Errorf("vserver %s: %w", cfg.Name, err)
		}
		if e.Dir == "" {
			return fmt.Errorf("vserver %s: export %s: no directory", cfg.Name, p)
		}
		if ids[e.ID] {
			return fmt.Errorf("vserver %s: export %s: id %d already used", cfg.Name, p, e.ID)
		}
		if paths[p] {
			return fmt.Errorf("vserver %s: export path %s given twice", cfg.Name, p)
		}
		switch e.Squash {
		case export.RootSquash, export.NoRootSquash, export.AllSquash:
		default:
			return fmt.Errorf("vserver %s: export %s: unknown squash %d", cfg.Name, p, e.Squash)
		}
		ids[e.ID], paths[p] = true, true
		e.Path = p
		if e.AnonUID == 0 {
			e.AnonUID = export.Nobody
		}
		if e.AnonGID == 0 {
			e.AnonGID = export.Nobody
		}
		e.Clients = append([]netip.Prefix(nil), e.Clients...)
		exps[i] = e
	}
	cfg.Exports = exps
	return nil
}

// Exports returns the current export table (nil before Start).
func (s *Server) Exports() *export.Table { return s.table.Load() }

// Handles returns the vserver's file-handle codec.
func (s *Server) Handles() *fh.Codec { return s.handles }

// Config returns the vserver's configuration as New normalized it:
// Listeners holds every listener (those of Addrs first), Addrs those in
// the namespace of the process, Versions is sorted and never empty.
func (s *Server) Config() Config {
	c := s.cfg
	c.Addrs = slices.Clone(c.Addrs)
	c.Listeners = slices.Clone(c.Listeners)
	c.Versions = slices.Clone(c.Versions)
	c.Exports = slices.Clone(c.Exports)
	for i := range c.Exports {
		c.Exports[i].Clients = slices.Clone(c.Exports[i].Clients)
	}
	return c
}

// Lease returns the NFSv4 lease time in effect.
func (s *Server) Lease() time.Duration { return orDefault(s.cfg.Lease) }

// Grace returns the NFSv4 grace period in effect.
func (s *Server) Grace() time.Duration { return orDefault(s.cfg.Grace) }

func orDefault(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultLease
	}
	return d
}

// Clients lists the open TCP connections of all the vserver's services.
func (s *Server) Clients() []oncrpc.ConnInfo {
	s.mu.Lock()
	rpcs := s.rpcs
	s.mu.Unlock()
	var out []oncrpc.ConnInfo
	for _, r := range rpcs {
		out = append(out, r.Conns()...)
	}
	return out
}

// Start opens the export backends and the listeners and starts serving.
// ctx bounds the start only; the Server serves until Shutdown. A Server
// can be started once; Start after Shutdown fails.
func (s *Server) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return fmt.Errorf("vserver %s: shut down (a Server starts once; make a new one)", s.cfg.Name)
	}
	if s.started {
		return fmt.Errorf("vserver %s: already started", s.cfg.Name)
	}
	s.started = true
	defer func() {
		if err != nil {
			s.addrs = nil
			s.closeAll()
		}
	}()

	// The network namespaces, opened once for all the services (and
	// checked before anything else is opened).
	nsfds := map[string]int{}
	defer func() {
		for _, fd := range nsfds {
			unix.Close(fd)
		}
	}()
	for _, l := range s.cfg.Listeners {
		if l.Netns == "" || nsfds[l.Netns] != 0 {
			continue
		}
		fd, err := openNetns(l.Netns)
		if err != nil {
			return fmt.Errorf("vserver %s: listener %v: %w", s.cfg.Name, l.Addr, err)
		}
		nsfds[l.Netns] = fd
	}

	if err := s.openExports(); err != nil {
		return err
	}
	exportsFn := s.Exports

	type service struct {
		name string
		port int
		udp  bool
		prog func(transport string) oncrpc.Program
		max  int
		more []oncrpc.Program // served on the same port
	}
	nfs := nfs3.New(nfs3.Config{
		Exports:     exportsFn,
		Handles:     s.handles,
		WriteVerf:   s.writeVerf,
		MaxIO:       s.cfg.MaxIO,
		Logger:      s.log,
		Delegations: v3Delegations{s},
	})
	s.locks = lock.New(lock.Config{})
	nfsProg := nfs.Program()
	if slices.Contains(s.cfg.Versions, nfs4.Vers) {
		rec := s.cfg.NFS4Recovery
		if rec == nil {
			rec = &FileRecovery{Dir: filepath.Join(s.cfg.StateDir, NFS4RecoveryDir)}
		}
		if s.nfs4, err = nfs4.New(nfs4.Config{Name: s.cfg.Name, Exports: exportsFn, Handles: s.handles,
			Locks: s.locks, Minor: s.cfg.Minor4, MaxIO: s.cfg.MaxIO, WriteVerf: s.writeVerf,
			Lease: s.Lease(), Grace: s.Grace(), Recovery: rec, Logger: s.log,
			OnGraceEnd: s.nfs4GraceEnded, IDMap: s.cfg.IDMap}); err != nil {
			return fmt.Errorf("vserver %s: %w", s.cfg.Name, err)
		}
		defer func() {
			if err != nil {
				s.nfs4.Close()
				s.nfs4 = nil
			}
		}()
		nfsProg = versionMux(s.cfg.Versions, nfs, s.nfs4)
	}
	nfsProg.Low, nfsProg.High = s.cfg.Versions[0], s.cfg.Versions[len(s.cfg.Versions)-1]
	mnt := mount.New(mount.Config{Exports: exportsFn, Handles: s.handles, Logger: s.log})
	pmap, err := portmap.New(portmap.Config{Logger: s.log})
	if err != nil {
		return err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.cfg.NLMPort != Disabled {
		state := s.cfg.NSMState
		if state == nil {
			state = nsm.FileStore{Path: filepath.Join(s.cfg.StateDir, NSMStateFile)}
		}
		if s.nsm, err = nsm.New(nsm.Config{State: state, Logger: s.log, Dial: s.dialCallback, Name: s.callbackName()}); err != nil {
			return fmt.Errorf("vserver %s: %w", s.cfg.Name, err)
		}
		s.nlm = nlm.New(nlm.Config{Locks: s.locks, Exports: exportsFn, Handles: s.handles, NSM: s.nsm,
			Logger: s.log, Dial: s.dialCallback, Name: s.callbackName(),
			Delegations: func(f lock.FileID) bool { return s.nfs4 != nil && s.nfs4.ConflictsWith(f, 0) }})
	}
	services := []service{
		{ServiceNFS, s.cfg.NFSPort, false, func(string) oncrpc.Program { return nfsProg }, int(s.cfg.MaxIO) + 64<<10, nil},
		{ServiceMount, s.cfg.MountPort, true, func(string) oncrpc.Program { return mnt.Program() }, smallRecord, nil},
		{ServicePortmap, s.cfg.PortmapPort, true, pmap.Program, smallRecord, nil},
	}
	if s.nlm != nil {
		services = append(services,
			service{ServiceNLM, s.cfg.NLMPort, true, func(string) oncrpc.Program { return s.nlm.Program() }, smallRecord,
				[]oncrpc.Program{s.nsm.Program()}})
	}

	type opened struct {
		service
		socks sockets
	}
	var open []opened
	defer func() {
		if err != nil {
			for _, o := range open {
				o.socks.close()
			}
		}
	}()
	s.addrs = map[string]string{}
	for _, svc := range services {
		if svc.port == Disabled {
			continue
		}
		socks, err := listenService(ctx, s.cfg.Listeners, nsfds, svc.port, svc.udp)
		if err != nil {
			return fmt.Errorf("vserver %s: %s: %w", s.cfg.Name, svc.name, err)
		}
		open = append(open, opened{svc, socks})
		s.addrs[svc.name] = socks.tcp[0].Addr().String()
		if svc.udp {
			s.addrs[svc.name+"/udp"] = socks.udp[0].LocalAddr().String()
		}
	}

	// The portmapper's registry, now that the ports are known.
	var maps []portmap.Mapping
	for _, o := range open {
		for _, p := range append([]oncrpc.Program{o.prog(portmap.TCP)}, o.more...) {
			for v := p.Low; v <= p.High; v++ {
				maps = append(maps, s.mappings(p.Prog, v, portmap.TCP, o.socks.port)...)
				if o.udp {
					maps = append(maps, s.mappings(p.Prog, v, portmap.UDP, o.socks.port)...)
				}
			}
		}
	}
	if err := pmap.SetMappings(maps); err != nil {
		return err
	}

	for _, o := range open {
		for _, transport := range []string{portmap.TCP, portmap.UDP} {
			if transport == portmap.UDP && !o.udp {
				continue
			}
			mux := oncrpc.NewMux()
			mux.Register(o.prog(transport))
			for _, p := range o.more {
				mux.Register(p)
			}
			srv := &oncrpc.Server{Mux: mux, Logger: s.log, MaxRecordSize: o.max, DRC: s.drc, Sched: s.cfg.Sched}
			s.rpcs = append(s.rpcs, srv)
			if transport == portmap.TCP {
				for _, l := range o.socks.tcp {
					s.serve(o.name, l.Addr().String(), func() error { return srv.Serve(l) })
				}
			} else {
				for _, pc := range o.socks.udp {
					s.serve(o.name+"/udp", pc.LocalAddr().String(), func() error { return s.serveUDP(srv, pc) })
				}
			}
		}
	}
	for _, o := range open {
		s.tcp = append(s.tcp, o.socks.tcp...)
		s.udp = append(s.udp, o.socks.udp...)
	}
	open = nil // owned by the oncrpc servers now
	if s.nlm != nil || s.nfs4 != nil {
		// Grace: after a (re)start only reclaims of locks and opens
		// clients held are granted. Other vservers are not affected.
		s.locks.StartGrace(s.Grace())
	}
	if s.nlm != nil {
		// NLM clients are told to reclaim (SM_NOTIFY with a new state
		// number).
		if _, err := s.nsm.Restarted(s.ctx); err != nil {
			s.log.Error("NSM restart notification", "err", err)
		}
	}
	if s.nfs4 != nil {
		s.nfs4.Start()
	}
	s.log.Debug("vserver started", "listeners", len(s.cfg.Listeners), "addrs", s.addrs)
	return nil
}

// NSMStateFile holds the NSM state number and monitor list in the state
// directory when Config.NSMState is nil.
const NSMStateFile = "nsm.state"

// UnlockClient releases every NLM lock, share and waiting lock request of
// the client at addr (the kernel's unlock_ip) and returns how many were
// released.
func (s *Server) UnlockClient(addr netip.Addr) (int, error) {
	if s.nlm == nil {
		return 0, errors.New("NFSv3 locking is disabled on this server")
	}
	return s.nlm.UnlockAddr(addr), nil
}

// UnlockExport releases every lock on files of the export with path p
// (the kernel's unlock_fs) and returns how many were released.
func (s *Server) UnlockExport(p string) (int, error) {
	if s.nlm == nil {
		return 0, errors.New("NFSv3 locking is disabled on this server")
	}
	t := s.Exports()
	if t == nil {
		return 0, errors.New("server not started")
	}
	for _, e := range s.cfg.Exports {
		if e.Path == p {
			return s.nlm.UnlockExport(e.ID), nil
		}
	}
	return 0, fmt.Errorf("no export %s", p)
}

// LockStats counts the vserver's byte-range locks, share reservations
// and waiting requests, and says whether it is in its grace period.
func (s *Server) LockStats() lock.Stats {
	if s.locks == nil {
		return lock.Stats{}
	}
	return s.locks.Stats()
}

// callbackName is the name this server gives itself in callbacks.
func (s *Server) callbackName() string {
	return s.cfg.Listeners[0].Addr.String()
}

// dialCallback opens a callback connection (NLM GRANTED and _RES, NSM
// SM_NOTIFY) to a client from the vserver's own address and inside its
// network namespace: a Linux client accepts GRANTED only from the address
// it locked through.
func (s *Server) dialCallback(ctx context.Context, local netip.Addr, remote netip.AddrPort) (net.Conn, error) {
	l := s.cfg.Listeners[0]
	for _, c := range s.cfg.Listeners {
		if c.Addr == local {
			l = c
			break
		}
	}
	d := net.Dialer{}
	if src := l.Addr; src.IsValid() && !src.IsUnspecified() && src.Is4() == remote.Addr().Unmap().Is4() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	if l.Netns == "" {
		return d.DialContext(ctx, "tcp", remote.String())
	}
	fd, err := openNetns(l.Netns)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var c net.Conn
	err = inNetns(fd, func() error {
		var err error
		c, err = d.DialContext(ctx, "tcp", remote.String())
		return err
	})
	return c, err
}

// mappings returns the portmapper entries of one program version on one
// transport, for each address family the vserver listens on.
func (s *Server) mappings(prog, vers uint32, transport string, port uint16) []portmap.Mapping {
	var out []portmap.Mapping
	var have4, have6 bool
	for _, l := range s.cfg.Listeners {
		a := l.Addr
		netid := transport
		if a.Is6() {
			if have6 {
				continue
			}
			have6 = true
			netid += "6"
		} else {
			if have4 {
				continue
			}
			have4 = true
		}
		m := portmap.Mapping{Prog: prog, Vers: vers, Netid: netid, Port: port}
		if !a.IsUnspecified() {
			m.Addr = a
		}
		out = append(out, m)
	}
	return out
}

func (s *Server) serve(service, addr string, fn func() error) {
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		err := fn()
		if s.shutdown.Load() {
			return
		}
		s.log.Error("listener stopped", "service", service, "addr", addr, "err", err)
	}()
}

// openExports opens the backends and publishes the export table.
func (s *Server) openExports() error {
	var exps []*export.Export
	for _, e := range s.cfg.Exports {
		lfs, err := local.New(e.Dir, local.Options{})
		if err != nil {
			return fmt.Errorf("vserver %s: export %s (%s): %w", s.cfg.Name, e.Path, e.Dir, err)
		}
		s.backends = append(s.backends, lfs)
		var fs vfs.FS = lfs
		if e.Fault != "" {
			if fs, err = faultfs.Wrap(lfs, e.Fault); err != nil {
				return fmt.Errorf("vserver %s: export %s: fault %q: %w", s.cfg.Name, e.Path, e.Fault, err)
			}
			s.log.Warn("fault injection enabled", "export", e.Path, "fault", e.Fault)
		}
		exps = append(exps, &export.Export{
			ID: e.ID, Path: e.Path, FS: fs, ReadOnly: e.ReadOnly, Squash: e.Squash,
			AnonUID: e.AnonUID, AnonGID: e.AnonGID, Clients: e.Clients,
		})
	}
	t, err := export.NewTable(exps...)
	if err != nil {
		return fmt.Errorf("vserver %s: %w", s.cfg.Name, err)
	}
	s.table.Store(t)
	return nil
}

// closeAll closes the backends (after a failed start or at shutdown).
func (s *Server) closeAll() error {
	var errs []error
	for _, b := range s.backends {
		if err := b.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.backends = nil
	return errors.Join(errs...)
}

// Addrs returns the address each service listens on, by service name
// (ServiceNFS, ServiceMount, ServiceMountUDP, ServicePortmap,
// ServicePortmapUDP), for the first of the vserver's listeners (the port
// is the same on all of them). It is empty before Start.
func (s *Server) Addrs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.addrs))
	for k, v := range s.addrs {
		out[k] = v
	}
	return out
}

// Shutdown stops the vserver: it closes the TCP listeners at once (a
// client connecting from then on is refused), stops reading calls, waits
// for the calls in progress (until ctx is done; then the connections are
// closed under them) and closes the connections, UDP sockets and
// backends. When it returns nil, no goroutine and no descriptor of the
// vserver remain. A second call waits for the first to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		select {
		case <-s.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.stopped = true
	s.shutdown.Store(true)
	for _, l := range s.tcp {
		l.Close()
	}
	rpcs, udp := s.rpcs, s.udp
	s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	if s.nlm != nil {
		s.nlm.Close()
		s.nsm.Close()
	}
	if s.nfs4 != nil {
		s.nfs4.Close()
	}
	defer close(s.done)

	errs := make([]error, len(rpcs))
	var wg sync.WaitGroup
	for i, srv := range rpcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = srv.Shutdown(ctx)
		}()
	}
	wg.Wait()
	// The servers have closed their sockets; closing them again also
	// ends a ServePacket that had not yet begun when Shutdown was called.
	for _, pc := range udp {
		pc.Close()
	}
	done := make(chan struct{})
	go func() { s.serving.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	s.mu.Lock()
	errs = append(errs, s.closeAll())
	s.mu.Unlock()
	return errors.Join(errs...)
}

// sockets are the listening sockets of one service on every listener of
// the vserver, all on one port.
type sockets struct {
	tcp  []net.Listener
	udp  []net.PacketConn
	port uint16
}

func (ss *sockets) close() {
	for _, l := range ss.tcp {
		l.Close()
	}
	for _, pc := range ss.udp {
		pc.Close()
	}
	ss.tcp, ss.udp = nil, nil
}

// listenService opens a TCP listener (and with udp, a UDP socket) on
// every listener, all on one port, each in its network namespace (nsfds
// holds the open namespaces by path). With port 0 the first listener
// picks it, and the whole set is retried on another port if it is taken
// on another address or for UDP.
func listenService(ctx context.Context, ls []Listener, nsfds map[string]int, port int, udp bool) (sockets, error) {
	attempts := 1
	if port == 0 {
		attempts = 16
	}
	var err error
	for i := 0; i < attempts; i++ {
		var ss sockets
		ss, err = tryListen(ctx, ls, nsfds, uint16(port), udp)
		if err == nil {
			return ss, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return sockets{}, err
}

func tryListen(ctx context.Context, ls []Listener, nsfds map[string]int, port uint16, udp bool) (ss sockets, err error) {
	defer func() {
		if err != nil {
			ss.close()
		}
	}()
	var lc net.ListenConfig
	for _, l := range ls {
		fam := "4"
		if l.Addr.Is6() {
			fam = "6"
		}
		open := func() error {
			tl, err := lc.Listen(ctx, "tcp"+fam, netip.AddrPortFrom(l.Addr, port).String())
			if err != nil {
				return err
			}
			ss.tcp = append(ss.tcp, tl)
			if port == 0 {
				port = uint16(tl.Addr().(*net.TCPAddr).Port)
			}
			if udp {
				pc, err := lc.ListenPacket(ctx, "udp"+fam, netip.AddrPortFrom(l.Addr, port).String())
				if err != nil {
					return err
				}
				ss.udp = append(ss.udp, pc)
			}
			return nil
		}
		if l.Netns == "" {
			err = open()
		} else if err = inNetns(nsfds[l.Netns], open); err != nil {
			err = fmt.Errorf("in network namespace %s: %w", l.Netns, err)
		}
		if err != nil {
			return ss, err
		}
	}
	ss.port = port
	return ss, nil
}
