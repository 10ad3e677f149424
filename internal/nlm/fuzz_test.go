package nlm

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/export"
	"github.com/vnfsd/vnfsd/internal/fh"
	"github.com/vnfsd/vnfsd/internal/lock"
	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// FuzzServeRPC feeds arbitrary arguments to every NLM procedure. Nothing
// may panic; the outcome is a reply or GARBAGE_ARGS / PROC_UNAVAIL; and
// whatever decodes re-encodes to the same value.
func FuzzServeRPC(f *testing.F) {
	codec := fh.NewCodec(testKey)
	fs := &fakeFS{objs: map[string]vfs.FileType{"f1": vfs.TypeRegular, "d": vfs.TypeDir}}
	table, err := export.NewTable(&export.Export{ID: 1, Path: "/x", FS: fs})
	if err != nil {
		f.Fatal(err)
	}
	refuse := func(context.Context, netip.Addr, netip.AddrPort) (net.Conn, error) { return nil, syscall.ECONNREFUSED }
	store := &nsm.MemStore{}
	mon, err := nsm.New(nsm.Config{State: store, Dial: refuse, MaxHosts: 64})
	if err != nil {
		f.Fatal(err)
	}
	defer mon.Close()
	locks := lock.New(lock.Config{MaxLocks: 4096, MaxWaiters: 256})
	s := New(Config{Locks: locks, Exports: func() *export.Table { return table }, Handles: codec, NSM: mon,
		Dial: refuse, CallbackTimeout: time.Millisecond, CallbackAttempts: 1})
	defer s.Close()

	h := codec.Encode(1, []byte("f1"))
	seed := func(proc uint32, e interface{ Encode(*xdr.Writer) }) {
		var w xdr.Writer
		e.Encode(&w)
		f.Add(proc, w.B)
	}
	l := Lock4{CallerName: "c", FH: h, OH: []byte("oh"), Svid: 1, Offset: 0, Len: 10}
	seed(ProcLock, &LockArgs{Cookie: []byte{1}, Block: true, Exclusive: true, Lock: l, State: 1})
	seed(ProcNMLock, &LockArgs{Cookie: []byte{1}, Lock: l})
	seed(ProcLockMsg, &LockArgs{Cookie: []byte{1}, Lock: l})
	seed(ProcTest, &TestArgs{Cookie: []byte{2}, Exclusive: true, Lock: l})
	seed(ProcCancel, &CancArgs{Cookie: []byte{3}, Block: true, Lock: l})
	seed(ProcUnlock, &UnlockArgs{Cookie: []byte{4}, Lock: l})
	seed(ProcGrantedRes, &Res{Cookie: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Stat: Granted})
	seed(ProcShare, &ShareArgs{Cookie: []byte{5}, Share: Share4{CallerName: "c", FH: h, OH: []byte("oh"), Mode: 1, Access: 3}})
	seed(ProcFreeAll, &Notify{Name: "c", State: 3})
	f.Add(uint32(ProcNull), []byte{})
	f.Add(uint32(99), []byte{0, 0, 0, 1})

	f.Fuzz(func(t *testing.T, proc uint32, args []byte) {
		proc %= 26
		for _, remote := range []string{"127.0.0.9:700", "127.0.0.10:701"} {
			call := &oncrpc.Call{Prog: Prog, Vers: Vers, Proc: proc, Args: args,
				Remote: netip.MustParseAddrPort(remote), Local: netip.MustParseAddrPort("127.0.0.1:4045")}
			var w xdr.Writer
			err := s.ServeRPC(context.Background(), call, &w)
			if err != nil && err != oncrpc.ErrGarbageArgs && err != oncrpc.ErrProcUnavail {
				t.Fatalf("proc %d: unexpected error %v", proc, err)
			}
		}
		roundTrip(t, proc, args)
	})
}

// roundTrip checks decode(encode(decode(args))) == decode(args).
func roundTrip(t *testing.T, proc uint32, args []byte) {
	var v interface {
		Decode(*xdr.Reader)
		Encode(*xdr.Writer)
	}
	var v2 any
	switch proc {
	case ProcLock, ProcLockMsg, ProcNMLock:
		v, v2 = &LockArgs{}, &LockArgs{}
	case ProcTest, ProcTestMsg, ProcGranted, ProcGrantedMsg:
		v, v2 = &TestArgs{}, &TestArgs{}
	case ProcCancel, ProcCancelMsg:
		v, v2 = &CancArgs{}, &CancArgs{}
	case ProcUnlock, ProcUnlockMsg:
		v, v2 = &UnlockArgs{}, &UnlockArgs{}
	case ProcShare, ProcUnshare:
		v, v2 = &ShareArgs{}, &ShareArgs{}
	case ProcFreeAll:
		v, v2 = &Notify{}, &Notify{}
	case ProcGrantedRes:
		v, v2 = &Res{}, &Res{}
	default:
		return
	}
	r := xdr.NewReader(args)
	v.Decode(r)
	if r.Err() != nil {
		return
	}
	var w xdr.Writer
	v.Encode(&w)
	r2 := xdr.NewReader(w.B)
	v2.(interface{ Decode(*xdr.Reader) }).Decode(r2)
	if r2.Err() != nil || r2.Len() != 0 || !reflect.DeepEqual(normalize(v), normalize(v2)) {
		t.Fatalf("proc %d: round trip %+v -> %+v (%v)", proc, v, v2, r2.Err())
	}
}

// normalize makes nil and empty opaques equal.
func normalize(v any) any {
	rv := reflect.ValueOf(v).Elem()
	out := reflect.New(rv.Type()).Elem()
	out.Set(rv)
	var fix func(reflect.Value)
	fix = func(x reflect.Value) {
		switch x.Kind() {
		case reflect.Struct:
			for i := 0; i < x.NumField(); i++ {
				fix(x.Field(i))
			}
		case reflect.Slice:
			if x.Len() == 0 {
				x.Set(reflect.Zero(x.Type()))
			}
		}
	}
	fix(out)
	return out.Interface()
}
