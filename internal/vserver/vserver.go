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
// Nothing is global: two Servers in one process share nothing but the
// process.
package vserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/portmap"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/vfs/faultfs"
	"github.com/vnfsd/vnfsd/internal/vfs/local"
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

// Config configures a vserver.
type Config struct {
	// Name identifies the vserver in logs.
	Name string
	// Addrs are the addresses every service listens on (at least one).
	Addrs []netip.Addr
	// Ports of the services: 0 lets the operating system choose,
	// Disabled (MountPort, PortmapPort only) does not start the service.
	NFSPort, MountPort, PortmapPort int
	// StateDir holds the vserver's persistent state (the file-handle key
	// KeyFile). It is created (mode 0700) if missing.
	StateDir string
	Exports  []ExportConfig
	// MaxIO is the largest READ/WRITE transfer; 0 means DefaultMaxIO.
	MaxIO uint32
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
	backends []*local.FS
	rpcs     []*oncrpc.Server
	sockets  []io.Closer // listeners and UDP sockets, closed after the servers shut down
	addrs    map[string]string
	serving  sync.WaitGroup
	shutdown atomic.Bool
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
	s := &Server{cfg: cfg, handles: fh.NewCodec(key), drc: oncrpc.NewDRC(drcEntries)}
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
	if len(cfg.Addrs) == 0 {
		return fmt.Errorf("vserver %s: no listen address", cfg.Name)
	}
	seen := map[netip.Addr]bool{}
	for i, a := range cfg.Addrs {
		if !a.IsValid() {
			return fmt.Errorf("vserver %s: invalid listen address", cfg.Name)
		}
		a = a.Unmap()
		if seen[a] {
			return fmt.Errorf("vserver %s: listen address %v given twice", cfg.Name, a)
		}
		seen[a] = true
		cfg.Addrs[i] = a
	}
	ports := []struct {
		name     string
		port     int
		optional bool
	}{{"nfs", cfg.NFSPort, false}, {"mount", cfg.MountPort, true}, {"portmap", cfg.PortmapPort, true}}
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
	cfg.Addrs = append([]netip.Addr(nil), cfg.Addrs...)
	return nil
}

// Exports returns the current export table (nil before Start).
func (s *Server) Exports() *export.Table { return s.table.Load() }

// Handles returns the vserver's file-handle codec.
func (s *Server) Handles() *fh.Codec { return s.handles }

// Start opens the export backends and the listeners and starts serving.
// ctx bounds the start only; the Server serves until Shutdown. A Server
// can be started once.
func (s *Server) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	}
	nfs := nfs3.New(nfs3.Config{
		Exports:   exportsFn,
		Handles:   s.handles,
		WriteVerf: s.writeVerf,
		MaxIO:     s.cfg.MaxIO,
		Logger:    s.log,
	})
	mnt := mount.New(mount.Config{Exports: exportsFn, Handles: s.handles, Logger: s.log})
	pmap, err := portmap.New(portmap.Config{Logger: s.log})
	if err != nil {
		return err
	}
	services := []service{
		{ServiceNFS, s.cfg.NFSPort, false, func(string) oncrpc.Program { return nfs.Program() }, int(s.cfg.MaxIO) + 64<<10},
		{ServiceMount, s.cfg.MountPort, true, func(string) oncrpc.Program { return mnt.Program() }, smallRecord},
		{ServicePortmap, s.cfg.PortmapPort, true, pmap.Program, smallRecord},
	}

	type opened struct {
		service
		tcp  []net.Listener
		pcs  []net.PacketConn // UDP sockets
		port uint16
	}
	var open []opened
	defer func() {
		if err != nil {
			for _, o := range open {
				closeListeners(o.tcp, o.pcs)
			}
		}
	}()
	s.addrs = map[string]string{}
	for _, svc := range services {
		if svc.port == Disabled {
			continue
		}
		tcp, pcs, port, err := listenService(ctx, s.cfg.Addrs, svc.port, svc.udp)
		if err != nil {
			return fmt.Errorf("vserver %s: %s: %w", s.cfg.Name, svc.name, err)
		}
		open = append(open, opened{svc, tcp, pcs, port})
		s.addrs[svc.name] = tcp[0].Addr().String()
		if svc.udp {
			s.addrs[svc.name+"/udp"] = pcs[0].LocalAddr().String()
		}
	}

	// The portmapper's registry, now that the ports are known.
	var maps []portmap.Mapping
	for _, o := range open {
		p := o.prog(portmap.TCP)
		for v := p.Low; v <= p.High; v++ {
			maps = append(maps, s.mappings(p.Prog, v, portmap.TCP, o.port)...)
			if o.udp {
				maps = append(maps, s.mappings(p.Prog, v, portmap.UDP, o.port)...)
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
			srv := &oncrpc.Server{Mux: mux, Logger: s.log, MaxRecordSize: o.max, DRC: s.drc}
			s.rpcs = append(s.rpcs, srv)
			if transport == portmap.TCP {
				for _, l := range o.tcp {
					s.serve(o.name, l.Addr().String(), func() error { return srv.Serve(l) })
				}
			} else {
				for _, pc := range o.pcs {
					s.serve(o.name+"/udp", pc.LocalAddr().String(), func() error { return srv.ServePacket(pc) })
				}
			}
		}
	}
	for _, o := range open {
		for _, l := range o.tcp {
			s.sockets = append(s.sockets, l)
		}
		for _, pc := range o.pcs {
			s.sockets = append(s.sockets, pc)
		}
	}
	open = nil // owned by the oncrpc servers now
	return nil
}

// mappings returns the portmapper entries of one program version on one
// transport, for each address family the vserver listens on.
func (s *Server) mappings(prog, vers uint32, transport string, port uint16) []portmap.Mapping {
	var out []portmap.Mapping
	var have4, have6 bool
	for _, a := range s.cfg.Addrs {
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
// ServicePortmapUDP), for the first of the vserver's addresses (the port
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

// Shutdown stops accepting calls, waits for the calls in progress (until
// ctx is done) and closes the listeners and backends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return nil
	}
	s.stopped = true
	s.shutdown.Store(true)
	errs := make([]error, len(s.rpcs))
	var wg sync.WaitGroup
	for i, srv := range s.rpcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = srv.Shutdown(ctx)
		}()
	}
	wg.Wait()
	// The servers have closed their listeners; closing them again also
	// ends a Serve that had not yet begun when Shutdown was called.
	for _, c := range s.sockets {
		c.Close()
	}
	done := make(chan struct{})
	go func() { s.serving.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	errs = append(errs, s.closeAll())
	return errors.Join(errs...)
}

// listenService opens a TCP listener (and with udp, a UDP socket) on
// every address, all on one port. With port 0 the first listener picks
// it, and the whole set is retried on another port if it is taken on
// another address or for UDP.
func listenService(ctx context.Context, addrs []netip.Addr, port int, udp bool) ([]net.Listener, []net.PacketConn, uint16, error) {
	attempts := 1
	if port == 0 {
		attempts = 16
	}
	var err error
	for i := 0; i < attempts; i++ {
		var tcp []net.Listener
		var pcs []net.PacketConn
		var p uint16
		tcp, pcs, p, err = tryListen(ctx, addrs, uint16(port), udp)
		if err == nil {
			return tcp, pcs, p, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, nil, 0, err
}

func tryListen(ctx context.Context, addrs []netip.Addr, port uint16, udp bool) (tcp []net.Listener, pcs []net.PacketConn, _ uint16, err error) {
	defer func() {
		if err != nil {
			closeListeners(tcp, pcs)
		}
	}()
	var lc net.ListenConfig
	for _, a := range addrs {
		fam := "4"
		if a.Is6() {
			fam = "6"
		}
		l, err := lc.Listen(ctx, "tcp"+fam, netip.AddrPortFrom(a, port).String())
		if err != nil {
			return tcp, pcs, 0, err
		}
		tcp = append(tcp, l)
		if port == 0 {
			port = uint16(l.Addr().(*net.TCPAddr).Port)
		}
		if udp {
			pc, err := lc.ListenPacket(ctx, "udp"+fam, netip.AddrPortFrom(a, port).String())
			if err != nil {
				return tcp, pcs, 0, err
			}
			pcs = append(pcs, pc)
		}
	}
	return tcp, pcs, port, nil
}

func closeListeners(tcp []net.Listener, pcs []net.PacketConn) {
	for _, l := range tcp {
		l.Close()
	}
	for _, pc := range pcs {
		pc.Close()
	}
}
