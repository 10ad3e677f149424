package nfs3

import (
	"context"
	"net/netip"
	"testing"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// benchDispatch measures one procedure through ServeRPC: decoding the
// arguments, the backend call(s) on a real directory, encoding the
// results into a reused reply buffer (as the RPC server does).
func benchDispatch(b *testing.B, proc uint32, setup func(f *fixture) encoder) {
	f := newFixture(b, 0)
	args := encode(setup(f))
	c := &oncrpc.Call{XID: 1, Prog: oncrpc.ProgNFS, Vers: Vers, Proc: proc, Args: args, CredFlavor: oncrpc.AuthSys,
		Sys: alice, Local: netip.MustParseAddrPort("127.0.0.1:2049"), Remote: netip.MustParseAddrPort(clientAddr)}
	ctx := context.Background()
	w := xdr.Writer{B: make([]byte, 0, 64<<10)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.B = w.B[:0]
		if err := f.srv.ServeRPC(ctx, c, &w); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := Stat(be.Uint32(w.B)); st != NFS3OK {
		b.Fatalf("%s: %v", ProcNames[proc], st)
	}
}

func BenchmarkDispatchGETATTR(b *testing.B) {
	benchDispatch(b, ProcGETATTR, func(f *fixture) encoder {
		return &GETATTR3args{Object: f.mustCreate(alice, f.rw(), "file", 0o644)}
	})
}

func BenchmarkDispatchLOOKUP(b *testing.B) {
	benchDispatch(b, ProcLOOKUP, func(f *fixture) encoder {
		f.mustCreate(alice, f.rw(), "a-file-name", 0o644)
		return &LOOKUP3args{What: Diropargs3{Dir: f.rw(), Name: "a-file-name"}}
	})
}

func BenchmarkDispatchREAD4K(b *testing.B) {
	benchDispatch(b, ProcREAD, func(f *fixture) encoder {
		h := f.mustCreate(alice, f.rw(), "file", 0o644)
		f.write(alice, h, 0, make([]byte, 1<<20), vfs.FileSync)
		return &READ3args{File: h, Offset: 64 << 10, Count: 4096}
	})
}

func BenchmarkDispatchWRITE4K(b *testing.B) {
	benchDispatch(b, ProcWRITE, func(f *fixture) encoder {
		h := f.mustCreate(alice, f.rw(), "file", 0o644)
		return &WRITE3args{File: h, Offset: 64 << 10, Count: 4096, Stable: vfs.Unstable, Data: make([]byte, 4096)}
	})
}

// BenchmarkDispatchSETATTR covers the path that locks the object around
// its before and after attributes.
func BenchmarkDispatchSETATTR(b *testing.B) {
	benchDispatch(b, ProcSETATTR, func(f *fixture) encoder {
		h := f.mustCreate(alice, f.rw(), "file", 0o644)
		return &SETATTR3args{Object: h, NewAttributes: Sattr3{Valid: vfs.SetMode, Mode: 0o640}}
	})
}
