package nfs3

import (
	"errors"
	"testing"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// resultOf returns a decoder of the results of proc.
func resultOf(proc uint32) decoder {
	switch proc {
	case ProcGETATTR:
		return &GETATTR3res{}
	case ProcSETATTR, ProcREMOVE, ProcRMDIR:
		return &WccRes{}
	case ProcLOOKUP:
		return &LOOKUP3res{}
	case ProcACCESS:
		return &ACCESS3res{}
	case ProcREADLINK:
		return &READLINK3res{}
	case ProcREAD:
		return &READ3res{}
	case ProcWRITE:
		return &WRITE3res{}
	case ProcCREATE, ProcMKDIR, ProcSYMLINK, ProcMKNOD:
		return &DiropRes{}
	case ProcRENAME:
		return &RENAME3res{}
	case ProcLINK:
		return &LINK3res{}
	case ProcREADDIR:
		return &READDIR3res{}
	case ProcREADDIRPLUS:
		return &READDIRPLUS3res{}
	case ProcFSSTAT:
		return &FSSTAT3res{}
	case ProcFSINFO:
		return &FSINFO3res{}
	case ProcPATHCONF:
		return &PATHCONF3res{}
	case ProcCOMMIT:
		return &COMMIT3res{}
	}
	return nil
}

// FuzzArgs feeds arbitrary arguments to every procedure of a server over
// real exports in a temporary directory: the server must answer with a
// reply that decodes exactly as the procedure's result, or with
// GARBAGE_ARGS (or PROC_UNAVAIL for an unknown procedure), and never
// panic.
//
// Inputs: the procedure (its low bits; the high bit selects an
// unprivileged caller), the handle to prefix the arguments with (one of
// the fixture's objects, which are valid only in the process that made
// them; 255: none, the arguments are used as they are), the arguments.
// The seeds are valid arguments of every procedure.
func FuzzArgs(f *testing.F) {
	fx := newFixture(f, 64<<10)
	dir := fx.mustMkdir(root, fx.rw(), "dir", 0o777)
	file := fx.mustCreate(root, dir, "file", 0o666)
	fx.write(root, file, 0, []byte("some data in the file"), vfs.FileSync)
	fx.mustCreate(root, dir, "other", 0o644)
	fx.mustMkdir(root, dir, "sub", 0o755)
	var sres SYMLINK3res
	fx.call(ProcSYMLINK, root, &SYMLINK3args{Where: Diropargs3{Dir: dir, Name: "link"}, SymlinkData: []byte("file")}, &sres)
	handles := [][]byte{fx.rw(), dir, file, sres.Obj.Handle, fx.rehandle(dir, expRO), fx.root(expOther), fx.rehandle(dir, expSquash), fx.root(expRestricted)}
	var verf [8]byte
	{
		var rd READDIR3res
		fx.call(ProcREADDIR, root, &READDIR3args{Dir: dir, Count: 4096}, &rd)
		verf = rd.Cookieverf
	}
	// Valid arguments without the leading handle, by procedure and handle.
	seed := func(proc uint32, hsel uint8, args encoder) {
		b := encode(args)
		h := handles[hsel]
		n := 4 + len(h) + xdr.Pad(len(h))
		f.Add(uint8(proc), hsel, b[n:])
		f.Add(uint8(proc), uint8(255), b)
	}
	dop := func(name string) Diropargs3 { return Diropargs3{Dir: dir, Name: name} }
	sa := Sattr3{Valid: vfs.SetMode | vfs.SetAtime | vfs.SetMtimeNow, Mode: 0o640, Atime: vfs.Timespec{Sec: 5}}
	seed(ProcGETATTR, 2, &GETATTR3args{Object: file})
	seed(ProcSETATTR, 2, &SETATTR3args{Object: file, NewAttributes: sa, Guard: Sattrguard3{Check: true}})
	seed(ProcSETATTR, 2, &SETATTR3args{Object: file, NewAttributes: Sattr3{Valid: vfs.SetSize, Size: 3}})
	seed(ProcLOOKUP, 1, &LOOKUP3args{What: dop("file")})
	seed(ProcLOOKUP, 1, &LOOKUP3args{What: dop("..")})
	seed(ProcACCESS, 2, &ACCESS3args{Object: file, Access: 0x3f})
	seed(ProcREADLINK, 3, &READLINK3args{Symlink: sres.Obj.Handle})
	seed(ProcREAD, 2, &READ3args{File: file, Offset: 2, Count: 10})
	seed(ProcWRITE, 2, &WRITE3args{File: file, Offset: 4, Count: 3, Stable: vfs.FileSync, Data: []byte("xyz")})
	seed(ProcCREATE, 1, &CREATE3args{Where: dop("new"), How: Createhow3{Mode: vfs.Guarded, ObjAttributes: sa}})
	seed(ProcCREATE, 1, &CREATE3args{Where: dop("excl"), How: Createhow3{Mode: vfs.Exclusive, Verf: [8]byte{1}}})
	seed(ProcMKDIR, 1, &MKDIR3args{Where: dop("newdir"), Attributes: sa})
	seed(ProcSYMLINK, 1, &SYMLINK3args{Where: dop("newlink"), SymlinkAttributes: sa, SymlinkData: []byte("../x")})
	seed(ProcMKNOD, 1, &MKNOD3args{Where: dop("fifo"), What: Mknoddata3{Type: vfs.TypeFIFO, Attributes: sa}})
	seed(ProcMKNOD, 1, &MKNOD3args{Where: dop("chr"), What: Mknoddata3{Type: vfs.TypeChar, Spec: Specdata3{1, 3}}})
	seed(ProcREMOVE, 1, &REMOVE3args{Object: dop("other")})
	seed(ProcRMDIR, 1, &RMDIR3args{Object: dop("sub")})
	seed(ProcRENAME, 1, &RENAME3args{From: dop("other"), To: Diropargs3{Dir: fx.rw(), Name: "moved"}})
	seed(ProcLINK, 2, &LINK3args{File: file, Link: dop("hardlink")})
	seed(ProcREADDIR, 1, &READDIR3args{Dir: dir, Count: 1024})
	seed(ProcREADDIR, 1, &READDIR3args{Dir: dir, Cookie: 2, Cookieverf: verf, Count: 300})
	seed(ProcREADDIRPLUS, 1, &READDIRPLUS3args{Dir: dir, Dircount: 512, Maxcount: 4096})
	seed(ProcFSSTAT, 0, &FSSTAT3args{Object: fx.rw()})
	seed(ProcFSINFO, 0, &FSINFO3args{Object: fx.rw()})
	seed(ProcPATHCONF, 0, &PATHCONF3args{Object: fx.rw()})
	seed(ProcCOMMIT, 2, &COMMIT3args{File: file, Offset: 0, Count: 100})
	f.Add(uint8(ProcNULL), uint8(255), []byte{})
	f.Add(uint8(30), uint8(0), []byte{})

	f.Fuzz(func(t *testing.T, proc, hsel uint8, args []byte) {
		cred := root
		if proc&0x80 != 0 {
			cred = alice
		}
		p := uint32(proc & 0x7f)
		if int(hsel) < len(handles) {
			var w xdr.Writer
			w.Opaque(handles[hsel])
			args = append(w.B, args...)
		}
		reply, err := fx.raw(p, cred, args)
		switch {
		case p >= numProcs:
			if !errors.Is(err, oncrpc.ErrProcUnavail) {
				t.Fatalf("procedure %d: %v", p, err)
			}
			return
		case err != nil:
			if !errors.Is(err, oncrpc.ErrGarbageArgs) {
				t.Fatalf("%s: error %v", ProcNames[p], err)
			}
			return
		case p == ProcNULL:
			if len(reply) != 0 {
				t.Fatal("NULL with results")
			}
			return
		}
		res := resultOf(p)
		r := xdr.NewReader(reply)
		res.Decode(r)
		if r.Err() != nil || r.Len() != 0 {
			t.Fatalf("%s: reply of %d bytes does not decode (%v, %d left): %x", ProcNames[p], len(reply), r.Err(), r.Len(), reply)
		}
	})
}
