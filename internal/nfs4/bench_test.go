package nfs4_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// BenchmarkReaddir lists a directory of 1000 files with the attributes
// the Linux client asks of a "plus" READDIR (nfs4_readdir_bitmap), over
// loopback, one listing (of as many READDIRs as it takes) per iteration.
// It is the per-entry cost of the NFSv4 READDIR path (the readdirplus
// row of docs/benchmarks.md).
func BenchmarkReaddir(b *testing.B) {
	ts := newServer(b, newBackend(b), serverOpts{})
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(ts.b.dirA, fmt.Sprintf("file-%04d", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	c, err := c4.Dial(ctx, ts.addr, c4.SysCred(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession(ctx, 1, []byte("bench"), verf("bench"))
	if err != nil {
		b.Fatal(err)
	}
	s.CacheThis = false // as the Linux client for READDIR
	res, err := s.MustDo(ctx, c4.Putrootfh(), c4.Lookup("a"), c4.Getfh())
	if err != nil {
		b.Fatal(err)
	}
	dir, err := res.Ops[3].Getfh()
	if err != nil {
		b.Fatal(err)
	}
	attrs := c4.NewBitmap(c4.FATTR4_TYPE, c4.FATTR4_CHANGE, c4.FATTR4_SIZE, c4.FATTR4_FSID,
		c4.FATTR4_FILEID, c4.FATTR4_MODE, c4.FATTR4_NUMLINKS, c4.FATTR4_OWNER, c4.FATTR4_OWNER_GROUP,
		c4.FATTR4_RAWDEV, c4.FATTR4_SPACE_USED, c4.FATTR4_TIME_ACCESS, c4.FATTR4_TIME_METADATA,
		c4.FATTR4_TIME_MODIFY, c4.FATTR4_MOUNTED_ON_FILEID, c4.FATTR4_RDATTR_ERROR, c4.FATTR4_FILEHANDLE)
	b.ResetTimer()
	for range b.N {
		var cookie uint64
		var verf [c4.NFS4_VERIFIER_SIZE]byte
		n := 0
		for {
			res, err := s.MustDo(ctx, c4.Putfh(dir), c4.Readdir(cookie, verf, 32768, 262144, attrs))
			if err != nil {
				b.Fatal(err)
			}
			rd, err := res.Ops[2].Readdir()
			if err != nil {
				b.Fatal(err)
			}
			n += len(rd.Entries)
			if rd.EOF {
				break
			}
			cookie, verf = rd.Entries[len(rd.Entries)-1].Cookie, rd.Cookieverf
		}
		if n != 1000 {
			b.Fatalf("%d entries, want 1000", n)
		}
	}
}
