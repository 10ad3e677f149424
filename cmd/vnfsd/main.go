// Command vnfsd is the vnfsd daemon.
//
//	vnfsd serve [flags]   serve NFSv3 from a data directory
//	vnfsd version         print the version
//
// `vnfsd serve` runs the control plane (internal/control) on the data
// directory --data DIR: the namespace tree, the virtual servers of every
// namespace (all on one shared worker pool) and the REST API on --api
// (docs/api.md; the root token is DIR/state/root.token). Its embedded
// default is the namespace /default, whose server listens on --listen
// with the NFS port 2049, MOUNT on 20048 and a built-in portmapper on 111,
// and exports the directory DIR/export (created if missing) as /export.
// The flags are applied to /default at every start; every other
// namespace comes from the store (DIR/state/vnfsd.db). SIGINT or SIGTERM
// shut everything down gracefully.
//
// Exit status: 0 after a clean shutdown, 1 on a runtime error, 2 on a
// usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/vnfsd/vnfsd/internal/api"
	"github.com/vnfsd/vnfsd/internal/control"
	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/vserver"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// shutdownTimeout bounds the graceful shutdown after a signal.
const shutdownTimeout = 15 * time.Second

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: vnfsd <command> [flags]

commands:
  serve     serve NFSv3 from a data directory (vnfsd serve -h for its flags)
  version   print the version
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "version", "-version", "--version":
		if len(args) > 1 {
			fmt.Fprintln(stderr, "vnfsd version: takes no arguments")
			return exitUsage
		}
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "vnfsd: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func versionString() string {
	s := "vnfsd " + version
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				if kv.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			s += " (" + rev + dirty + ")"
		}
		s += " " + bi.GoVersion
	}
	return s
}

// serveFlags are the flags of `vnfsd serve`.
type serveFlags struct {
	data         string
	listen       []netip.Addr
	nfsPort      int
	mountPort    int
	portmapPort  int
	logLevel     slog.Level
	fault        string
	exportRO     bool
	noRootSquash bool
	threads      int
	// versions, lease and grace (seconds) patch /default only when
	// given (else what is stored, perhaps set through the API, stays).
	versions     []string
	lease, grace int
	// api is the REST API's address; invalid (zero) when "off".
	api         netip.AddrPort
	apiExplicit bool
}

// Defaults of flags.
const (
	defaultAPI     = "127.0.0.1:8786"
	defaultThreads = 64
)

// parseServe parses the flags of `vnfsd serve`. It returns flag.ErrHelp
// for -h.
func parseServe(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("vnfsd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vnfsd serve [flags]\n\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.data, "data", "./vnfsd-data", "data `dir`ectory: state in DIR/state, DIR/export served as /export")
	listen := fs.String("listen", "127.0.0.1", "`addr`ess(es) to listen on, comma-separated")
	fs.IntVar(&f.nfsPort, "nfs-port", 2049, "NFS `port` (0: chosen by the system)")
	fs.IntVar(&f.mountPort, "mount-port", 20048, "MOUNT `port` (0: chosen by the system)")
	fs.IntVar(&f.portmapPort, "portmap-port", 111, "portmapper `port` (0: no portmapper)")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&f.fault, "fault", "", "fault injection `spec` for the export (testing only)")
	fs.BoolVar(&f.exportRO, "export-ro", false, "export read-only")
	fs.BoolVar(&f.noRootSquash, "no-root-squash", false, "do not map root to nobody (root_squash is the default)")
	fs.IntVar(&f.threads, "threads", defaultThreads, "`n` requests of /default served at once on the shared pool (0: /default stopped)")
	api := fs.String("api", defaultAPI, "`addr`ess (IP:port) of the REST API, or \"off\"")
	versions := fs.String("versions", "", "NFS `list` served by /default, comma-separated, of 3, 4.0, 4.1, 4.2 (default: as stored; 3 at first)")
	fs.IntVar(&f.lease, "lease", 0, "NFSv4 lease time of /default in `seconds` (default: as stored; 90 at first)")
	fs.IntVar(&f.grace, "grace", 0, "grace period of /default in `seconds` after each start (default: as stored; 90 at first)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *versions != "" {
		for _, v := range strings.Split(*versions, ",") {
			f.versions = append(f.versions, strings.TrimSpace(v))
		}
	}
	if f.lease < 0 || f.grace < 0 {
		return nil, usageErr(fs, "--lease, --grace: seconds must be positive")
	}
	fs.Visit(func(fl *flag.Flag) { f.apiExplicit = f.apiExplicit || fl.Name == "api" })
	if *api != "off" {
		ap, err := netip.ParseAddrPort(*api)
		if err != nil {
			return nil, usageErr(fs, "--api: %q is not IP:port or \"off\"", *api)
		}
		f.api = ap
	}
	if f.threads < 0 || f.threads > control.MaxThreads {
		return nil, usageErr(fs, "--threads: %d is not within 0..%d", f.threads, control.MaxThreads)
	}
	if fs.NArg() > 0 {
		return nil, usageErr(fs, "unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*listen, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, usageErr(fs, "--listen: %v", err)
		}
		f.listen = append(f.listen, a)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"nfs-port", f.nfsPort}, {"mount-port", f.mountPort}, {"portmap-port", f.portmapPort}} {
		if p.v < 0 || p.v > 65535 {
			return nil, usageErr(fs, "--%s: %d is not a port", p.name, p.v)
		}
	}
	if err := f.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, usageErr(fs, "--log-level: %q is not debug, info, warn or error", *level)
	}
	if f.data == "" {
		return nil, usageErr(fs, "--data: empty")
	}
	return f, nil
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErr(fs *flag.FlagSet, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintln(fs.Output(), msg)
	fs.Usage()
	return &usageError{msg}
}

func serve(args []string, stderr io.Writer) int {
	f, err := parseServe(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: f.logLevel}))
	if err := serveUntilSignal(f, log); err != nil {
		log.Error("vnfsd failed", "err", err)
		return exitError
	}
	return exitOK
}

func serveUntilSignal(f *serveFlags, log *slog.Logger) error {
	data, err := filepath.Abs(f.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	exportDir := filepath.Join(data, "export")
	if err := os.Mkdir(exportDir, 0o755); err == nil {
		// Mkdir applies the umask; the export root is 0755 as documented.
		if err := os.Chmod(exportDir, 0o755); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("export directory: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctl, err := control.Open(ctx, control.Options{
		DataDir:         data,
		Logger:          log,
		Seeds:           []control.Seed{defaultSeed(f, data, exportDir)},
		ShutdownTimeout: shutdownTimeout,
	})
	if err != nil {
		return err
	}
	defer ctl.Close()

	def, err := ctl.GetServer(ctx, ns.Scope{}, defaultNamespace)
	if err != nil {
		return err
	}
	if f.threads > 0 && !def.Status.Running {
		return fmt.Errorf("%s: %s", defaultNamespace, def.Status.Error)
	}

	var apiSrv *http.Server
	apiAddr := "off"
	if f.api.IsValid() {
		ln, err := net.Listen("tcp", f.api.String())
		switch {
		case err == nil:
			apiAddr = ln.Addr().String()
			apiSrv = &http.Server{
				Handler:           api.New(ctl, log),
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       30 * time.Second,
				WriteTimeout:      60 * time.Second,
				IdleTimeout:       2 * time.Minute,
				MaxHeaderBytes:    64 << 10,
				ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			}
			go func() {
				if err := apiSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("API server stopped", "err", err)
				}
			}()
		case f.apiExplicit:
			return fmt.Errorf("--api: %w", err)
		default:
			// Another vnfsd (with another data directory) may hold the
			// default address: serve NFS anyway, and say so.
			log.Warn("REST API not served: its default address is taken (give --api ADDR or --api off)", "addr", f.api.String(), "err", err)
		}
	}

	attrs := []any{"version", version, "ns", defaultNamespace, "export", "/export", "dir", exportDir, "read_only", f.exportRO,
		"root_squash", !f.noRootSquash, "threads", f.threads, "api", apiAddr}
	for _, k := range []string{vserver.ServiceNFS, vserver.ServiceMount, vserver.ServiceMountUDP, vserver.ServicePortmap, vserver.ServicePortmapUDP} {
		if a, ok := def.Status.Listening[k]; ok {
			attrs = append(attrs, k, a)
		}
	}
	log.Info("vnfsd serving", attrs...)

	<-ctx.Done()
	stop() // a second signal kills the process
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	if apiSrv != nil {
		if err := apiSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("API shutdown: %w", err))
		}
	}
	if err := ctl.Close(); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// defaultNamespace is the namespace of the embedded default.
const defaultNamespace = "/default"

// defaultSeed is the embedded default as the flags configure it.
func defaultSeed(f *serveFlags, data, exportDir string) control.Seed {
	listeners := make([]control.Listener, 0, len(f.listen))
	for _, a := range f.listen {
		listeners = append(listeners, control.Listener{Addr: a.String()})
	}
	portmapPort := f.portmapPort
	if portmapPort == 0 {
		// --portmap-port 0 has always meant no portmapper.
		portmapPort = control.PortOff
	}
	squash := control.SquashRoot
	if f.noRootSquash {
		squash = control.SquashNone
	}
	s := control.Seed{
		Namespace: defaultNamespace,
		Patch: control.ServerPatch{
			Threads:     &f.threads,
			Listeners:   &listeners,
			NFSPort:     &f.nfsPort,
			MountPort:   &f.mountPort,
			PortmapPort: &portmapPort,
		},
		Exports: []control.ExportSpec{{Path: "/export", Dir: exportDir, ReadOnly: f.exportRO, Squash: squash}},
		// Before namespaces, the key of the single server was here.
		LegacyKeyFile: filepath.Join(data, control.StateDirName, vserver.KeyFile),
	}
	if f.fault != "" {
		s.Faults = map[string]string{"/export": f.fault}
	}
	if f.versions != nil {
		s.Patch.Versions = &f.versions
	}
	if f.lease > 0 {
		s.Patch.LeaseSeconds = &f.lease
	}
	if f.grace > 0 {
		s.Patch.GraceSeconds = &f.grace
	}
	return s
}
