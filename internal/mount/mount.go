// Package mount implements the MOUNT protocol, program 100005, version 3
// (RFC 1813 appendix I), for one virtual server: it turns an export path
// into the file handle NFSv3 starts from.
//
// Versions 1 and 2 (RFC 1094 appendix A) are answered for NULL, DUMP,
// UMNT, UMNTALL and EXPORT, whose arguments and results are the same as in
// version 3; tools such as showmount(8) ask version 1 for EXPORT and DUMP.
// MNT of versions 1 and 2 returns an NFSv2 handle, and this server has no
// NFSv2, so it gets PROC_UNAVAIL, as do EXPORTALL (versions 1, 2) and
// PATHCONF (version 2).
//
// MNT accepts an export path or a directory below one (as Linux nfsd does
// by default): the longest export path that is a prefix of the requested
// path names the export, and the rest is looked up component by component
// with the caller's identity (after the export's squashing), so a caller
// who may not search a directory may not mount below it.
//
// The mount list reported by DUMP is advisory (RFC 1813 says so too): it
// is kept in memory only, keyed by client address and path, bounded in
// entries (the oldest entry is dropped when it is full) and, in the DUMP
// reply, in bytes.
package mount

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"path"
	"strings"
	"syscall"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Limits of RFC 1813 appendix I.
const (
	MNTPathLen = 1024 // MNTPATHLEN: bytes in a path name
	MNTNameLen = 255  // MNTNAMLEN: bytes in a name
	FHSize3    = 64   // FHSIZE3: bytes in a version 3 file handle
)

// Versions of the MOUNT program.
const (
	Vers1 = 1
	Vers2 = 2
	Vers3 = 3
)

// Procedures (the same numbers in versions 1 to 3).
const (
	ProcNull    = 0
	ProcMnt     = 1
	ProcDump    = 2
	ProcUmnt    = 3
	ProcUmntall = 4
	ProcExport  = 5
)

// Stat is mountstat3.
type Stat uint32

const (
	MNT3OK             Stat = 0
	MNT3ErrPerm        Stat = 1
	MNT3ErrNoEnt       Stat = 2
	MNT3ErrIO          Stat = 5
	MNT3ErrAcces       Stat = 13
	MNT3ErrNotDir      Stat = 20
	MNT3ErrInval       Stat = 22
	MNT3ErrNameTooLong Stat = 63
	MNT3ErrNotSupp     Stat = 10004
	MNT3ErrServerFault Stat = 10006
)

// DefaultMaxMounts is the default bound of the mount list.
const DefaultMaxMounts = 4096

// maxDumpBytes bounds the mount list in a DUMP reply, so that the reply
// fits in one UDP datagram; entries beyond it are left out (the list is
// advisory anyway).
const maxDumpBytes = 60 << 10

// Config configures a Server.
type Config struct {
	// Exports returns the current export table (it may change between
	// calls; the vserver swaps it atomically).
	Exports func() *export.Table
	// Handles makes the root handles.
	Handles *fh.Codec
	// MaxMounts bounds the mount list; 0 means DefaultMaxMounts.
	MaxMounts int
	// Logger receives one line per MNT; nil discards.
	Logger *slog.Logger
}

// Server is the MOUNT program of one virtual server. It is safe for
// concurrent use.
type Server struct {
	exports func() *export.Table
	handles *fh.Codec
	log     *slog.Logger
	mounts  *mountList
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Exports == nil || cfg.Handles == nil {
		panic("mount: Config needs Exports and Handles")
	}
	s := &Server{exports: cfg.Exports, handles: cfg.Handles, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	max := cfg.MaxMounts
	if max <= 0 {
		max = DefaultMaxMounts
	}
	s.mounts = newMountList(max)
	return s
}

// Program returns the MOUNT program for an oncrpc mux.
func (s *Server) Program() oncrpc.Program {
	return oncrpc.Program{
		Name:    "mount",
		Prog:    oncrpc.ProgMount,
		Low:     Vers1,
		High:    Vers3,
		Handler: oncrpc.HandlerFunc(s.serveRPC),
	}
}

// Mounts returns the current mount list, oldest first.
func (s *Server) Mounts() []Entry { return s.mounts.entries() }

func (s *Server) serveRPC(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	var r xdr.Reader
	r.Reset(call.Args)
	switch call.Proc {
	case ProcNull:
		return nil
	case ProcMnt:
		if call.Vers != Vers3 {
			return oncrpc.ErrProcUnavail
		}
		return s.mnt(ctx, call, &r, w)
	case ProcDump:
		s.dump(w)
		return nil
	case ProcUmnt:
		p := r.Opaque(MNTPathLen)
		if r.Err() != nil {
			return oncrpc.ErrGarbageArgs
		}
		s.mounts.remove(clientAddr(call), cleanOrRaw(string(p)))
		return nil
	case ProcUmntall:
		s.mounts.removeHost(clientAddr(call))
		return nil
	case ProcExport:
		s.export(w)
		return nil
	}
	return oncrpc.ErrProcUnavail
}

func clientAddr(call *oncrpc.Call) netip.Addr { return call.Remote.Addr().Unmap() }

func cleanOrRaw(p string) string {
	if c, err := export.CleanPath(p); err == nil {
		return c
	}
	return p
}

// mnt is MOUNTPROC3_MNT.
func (s *Server) mnt(ctx context.Context, call *oncrpc.Call, r *xdr.Reader, w *xdr.Writer) error {
	n := r.Uint32()
	if r.Err() != nil {
		return oncrpc.ErrGarbageArgs
	}
	if n > MNTPathLen {
		// dirpath is string<MNTPATHLEN>: too long is the client's
		// error with a status of its own, not garbage.
		s.log.Info("mount refused", "client", call.Remote.Addr(), "reason", "path too long", "len", n)
		w.Uint32(uint32(MNT3ErrNameTooLong))
		return nil
	}
	raw := r.Fixed(int(n))
	if r.Err() != nil {
		return oncrpc.ErrGarbageArgs
	}
	p := string(raw)
	h, stat, why := s.resolve(ctx, call, p)
	if stat != MNT3OK {
		s.log.Info("mount refused", "client", call.Remote.Addr(), "path", p, "status", stat, "reason", why)
		w.Uint32(uint32(stat))
		return nil
	}
	clean, _ := export.CleanPath(p) // resolve succeeded, so p is valid
	s.mounts.add(clientAddr(call), clean)
	s.log.Info("mount", "client", call.Remote.Addr(), "path", clean)
	w.Uint32(uint32(MNT3OK))
	w.Opaque(h)
	w.Uint32(1) // auth_flavors<>
	w.Uint32(oncrpc.AuthSys)
	return nil
}

// resolve finds the handle of the directory at p for the caller.
func (s *Server) resolve(ctx context.Context, call *oncrpc.Call, p string) (h []byte, stat Stat, why string) {
	clean, err := export.CleanPath(p)
	if err != nil {
		return nil, MNT3ErrInval, err.Error()
	}
	t := s.exports()
	var exp *export.Export
	q := clean
	for {
		if exp = t.ByPath(q); exp != nil || q == "/" {
			break
		}
		q = path.Dir(q)
	}
	if exp == nil {
		return nil, MNT3ErrNoEnt, "not exported"
	}
	if !exp.Allowed(clientAddr(call)) {
		return nil, MNT3ErrAcces, "client not allowed by export " + exp.Path
	}
	id, err := exp.FS.Root(ctx)
	if err != nil {
		return nil, errStat(err), "export root: " + err.Error()
	}
	if rest := strings.Trim(clean[len(q):], "/"); rest != "" {
		cred := exp.Cred(call)
		var attr vfs.Attr
		for _, name := range strings.Split(rest, "/") {
			if len(name) > vfs.MaxNameLen {
				return nil, MNT3ErrNameTooLong, "component too long"
			}
			id, attr, err = exp.FS.Lookup(ctx, &cred, id, name)
			if err != nil {
				return nil, errStat(err), "lookup " + name + ": " + err.Error()
			}
		}
		if attr.Type != vfs.TypeDir {
			return nil, MNT3ErrNotDir, "not a directory"
		}
	}
	if len(id) > fh.MaxIDLen {
		return nil, MNT3ErrServerFault, "backend object id too long"
	}
	return s.handles.Encode(exp.ID, id), MNT3OK, ""
}

// errStat maps a backend error to mountstat3.
func errStat(err error) Stat {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return MNT3ErrServerFault
	}
	switch errno {
	case syscall.ENOENT, syscall.ESTALE:
		return MNT3ErrNoEnt
	case syscall.EPERM:
		return MNT3ErrPerm
	case syscall.EACCES:
		return MNT3ErrAcces
	case syscall.ENOTDIR:
		return MNT3ErrNotDir
	case syscall.EINVAL:
		return MNT3ErrInval
	case syscall.ENAMETOOLONG:
		return MNT3ErrNameTooLong
	case syscall.EIO:
		return MNT3ErrIO
	case syscall.ENOTSUP:
		return MNT3ErrNotSupp
	}
	return MNT3ErrServerFault
}

// dump writes the mountlist of MOUNTPROC3_DUMP.
func (s *Server) dump(w *xdr.Writer) {
	start := w.Len()
	for _, e := range s.mounts.entries() {
		if w.Len()-start > maxDumpBytes {
			break
		}
		w.Bool(true)
		w.String(e.Host)
		w.String(e.Path)
	}
	w.Bool(false)
}

// export writes the exports of MOUNTPROC3_EXPORT: every export path with
// its groups, the client networks allowed (an address for a single host,
// CIDR notation otherwise); an empty list means every client.
func (s *Server) export(w *xdr.Writer) {
	var buf []byte
	for _, e := range s.exports().List() {
		w.Bool(true)
		w.String(e.Path)
		for _, c := range e.Clients {
			w.Bool(true)
			if c.IsSingleIP() {
				buf = c.Addr().AppendTo(buf[:0])
			} else {
				buf = c.AppendTo(buf[:0])
			}
			w.Opaque(buf)
		}
		w.Bool(false)
	}
	w.Bool(false)
}
