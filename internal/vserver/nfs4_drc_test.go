package vserver

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"testing"
	"time"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// nfs4Record is an NFSv4 COMPOUND call record (record mark included)
// with AUTH_SYS uid 1000.
func nfs4Record(xid uint32, comp c4.Compound) []byte {
	var w xdr.Writer
	w.Reserve(4)
	w.Uint32(xid)
	w.Uint32(oncrpc.MsgCall)
	w.Uint32(oncrpc.RPCVersion)
	w.Uint32(oncrpc.ProgNFS)
	w.Uint32(4)
	w.Uint32(1) // COMPOUND
	w.Uint32(oncrpc.AuthSys)
	w.Opaque(oncrpc.EncodeAuthSys(oncrpc.AuthSysParams{Machine: "drc-test", UID: 1000, GID: 1000}))
	w.Uint32(oncrpc.AuthNone)
	w.Uint32(0)
	w.B = comp.AppendEncode(w.B)
	w.PutUint32At(0, 1<<31|uint32(len(w.B)-4))
	return w.B
}

// exchange sends rec on a new connection to addr and returns the reply
// record (one fragment) without its mark.
func exchange(t *testing.T, addr string, rec []byte) []byte {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(rec); err != nil {
		t.Fatal(err)
	}
	var h [4]byte
	if _, err := io.ReadFull(nc, h[:]); err != nil {
		t.Fatal(err)
	}
	rep := make([]byte, binary.BigEndian.Uint32(h[:])&^(1<<31))
	if _, err := io.ReadFull(nc, rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// compoundStatus is the COMPOUND4res status of an accepted reply.
func compoundStatus(t *testing.T, rep []byte) uint32 {
	t.Helper()
	res, err := oncrpc.ParseReply(rep, binary.BigEndian.Uint32(rep))
	if err != nil || len(res) < 4 {
		t.Fatalf("reply: %v", err)
	}
	return binary.BigEndian.Uint32(res)
}

// TestNFS40ReplayCache: an NFSv4.0 COMPOUND that changes something
// (here CREATE of a directory), retransmitted with its XID on a new
// connection, gets its first reply again instead of running twice
// (NFS4ERR_EXIST); a COMPOUND of reads only is not kept; NFSv4.1
// COMPOUNDs never are (the session slots replay them).
func TestNFS40ReplayCache(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	s, _ := start(t, Config{StateDir: t.TempDir(), Versions: []uint32{3, 4},
		Exports: []ExportConfig{{ID: 1, Path: "/export", Dir: dir}}})
	addr := s.Addrs()[ServiceNFS]
	mkdir := nfs4Record(0x4000_0001, c4.Compound{Minor: 0, Ops: []c4.Op{c4.Putrootfh(), c4.Lookup("export"), c4.Mkdir("d", c4.NewFattr())}})
	first := exchange(t, addr, mkdir)
	if st := compoundStatus(t, first); st != 0 {
		t.Fatalf("MKDIR: status %d", st)
	}
	again := exchange(t, addr, mkdir)
	if !bytes.Equal(first, again) {
		t.Fatalf("retransmitted MKDIR: status %d, reply differs from the first", compoundStatus(t, again))
	}
	// The same CREATE under a new XID runs: NFS4ERR_EXIST.
	other := nfs4Record(0x4000_0002, c4.Compound{Minor: 0, Ops: []c4.Op{c4.Putrootfh(), c4.Lookup("export"), c4.Mkdir("d", c4.NewFattr())}})
	if st := compoundStatus(t, exchange(t, addr, other)); st != uint32(c4.NFS4ERR_EXIST) {
		t.Fatalf("MKDIR under a new XID: status %d, want NFS4ERR_EXIST", st)
	}
	entries := s.drc.Stats().Entries
	if entries != 2 {
		t.Fatalf("%d cache entries after two MKDIRs, want 2", entries)
	}
	// Reads only, in 4.0 and in 4.1: nothing kept.
	exchange(t, addr, nfs4Record(0x4000_0003, c4.Compound{Minor: 0, Ops: []c4.Op{c4.Putrootfh(), c4.Lookup("export"), c4.Getfh()}}))
	exchange(t, addr, nfs4Record(0x4000_0004, c4.Compound{Minor: 1, Ops: []c4.Op{c4.Putrootfh()}}))
	if got := s.drc.Stats().Entries; got != entries {
		t.Errorf("%d cache entries after read-only COMPOUNDs, want %d", got, entries)
	}
}
