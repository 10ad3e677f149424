package vserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/nfs4"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// NFS4RecoveryDir holds the NFSv4 recovery records in the state
// directory when Config.NFS4Recovery is nil.
const NFS4RecoveryDir = "nfs4recovery"

// versionMux serves NFSv3 and NFSv4 on one program: calls go to the
// version's handler; a version not enabled is PROG_MISMATCH (the
// program's Low and High cover the enabled ones).
type nfsVersions struct {
	v3 *nfs3.Server
	v4 *nfs4.Server
}

func versionMux(versions []uint32, v3 *nfs3.Server, v4 *nfs4.Server) oncrpc.Program {
	m := &nfsVersions{v4: v4}
	if slices.Contains(versions, nfs3.Vers) {
		m.v3 = v3
	}
	p := v3.Program()
	p.Handler = m
	// The duplicate request cache answers NFSv3's non-idempotent
	// procedures and the NFSv4.0 COMPOUNDs that change something
	// (nfs4.CacheCall); 4.1 and 4.2 have the session slots.
	nonIdem := p.NonIdempotent
	p.NonIdempotent = nil
	p.CacheCall = func(c *oncrpc.Call) bool {
		if c.Vers == nfs3.Vers {
			return nonIdem(c.Vers, c.Proc)
		}
		return nfs4.CacheCall(c)
	}
	return p
}

func (m *nfsVersions) ServeRPC(ctx context.Context, call *oncrpc.Call, w *xdr.Writer) error {
	switch {
	case call.Vers == nfs4.Vers:
		return m.v4.ServeRPC(ctx, call, w)
	case call.Vers == nfs3.Vers && m.v3 != nil:
		return m.v3.ServeRPC(ctx, call, w)
	}
	return oncrpc.ErrProcUnavail
}

// FileRecovery keeps NFSv4 recovery records as files of a directory, one
// per client owner (named by the SHA-256 of the owner, holding the
// owner), written durably.
type FileRecovery struct {
	Dir string
}

func (f *FileRecovery) path(owner []byte) string {
	sum := sha256.Sum256(owner)
	return filepath.Join(f.Dir, hex.EncodeToString(sum[:]))
}

// Load returns the recorded owners.
func (f *FileRecovery) Load() ([][]byte, error) {
	ents, err := os.ReadDir(f.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.Dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Add records owner durably (write, fsync, rename, fsync of the directory).
func (f *FileRecovery) Add(owner []byte) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return err
	}
	p := f.path(owner)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	tmp := p + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, werr := fh.Write(owner)
	serr := fh.Sync()
	cerr := fh.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("nfs4 recovery record: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(f.Dir)
}

// Remove forgets owner.
func (f *FileRecovery) Remove(owner []byte) error {
	err := os.Remove(f.path(owner))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(f.Dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// nfs4GraceEnded ends the lock manager's grace period with NFSv4's when
// no NFSv3 client can still need it: the locks and shares of both live in
// one lock.Manager, whose grace admits only reclaims, and NLM clients
// reclaim only if NSM monitored them before the restart.
//
// It runs on the NFSv4 server's reaper, which Start starts last, when
// the NSM (if any) is set up.
func (s *Server) nfs4GraceEnded() {
	if s.nsm == nil || len(s.nsm.Hosts()) == 0 {
		s.locks.EndGrace()
	}
}

// v3Delegations lets NFSv3 wait for the NFSv4 delegations of the same
// vserver (nfs3.Config.Delegations). The NFSv4 server is made after the
// NFSv3 one, before anything is served.
type v3Delegations struct{ s *Server }

func (d v3Delegations) Any() bool { return d.s.nfs4 != nil && d.s.nfs4.DelegationsOut() }

func (d v3Delegations) Conflict(export uint32, id vfs.ID) bool {
	return d.s.nfs4 != nil && d.s.nfs4.ConflictsWith(lock.FileID{Export: export, Object: string(id)}, 0)
}
