package main

import (
	"fmt"
	"strconv"
	"time"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// The workloads over NFSv4.1. Each op is what the Linux client sends for
// the same work (fs/nfs/nfs4proc.c, nfs4xdr.c), every COMPOUND starting
// with SEQUENCE:
//
//	read4k, read1m    PUTFH READ (open stateid of read.dat, opened for READ)
//	write4k-*, write1m PUTFH WRITE GETATTR (open stateid of write.dat,
//	                  opened for BOTH); PUTFH COMMIT every -commit-every
//	getattr           PUTFH GETATTR
//	lookup(-missing)  PUTFH LOOKUP GETFH GETATTR
//	churn             PUTFH OPEN(create, GUARDED4) GETFH ACCESS GETATTR;
//	                  PUTFH WRITE GETATTR (4 KiB UNSTABLE); PUTFH COMMIT;
//	                  PUTFH CLOSE GETATTR; PUTFH REMOVE
//	readdirplus       PUTFH READDIR with the attributes of a "plus" listing
//
// read.dat and write.dat are opened once per run (before the workers
// start) and closed at the end; every worker uses that open stateid.

func (d *dataset) lookup4(dir []byte, name string) ([]byte, error) {
	fh, _, err := d.c.lookup(dir, name)
	if err != nil {
		if isStat4(err, "LOOKUP", c4.NFS4ERR_NOENT) {
			return nil, fmt.Errorf("%s: missing; run nfsload -setup first", name)
		}
		return nil, err
	}
	return fh, nil
}

// prepFile4 opens name in the data set directory with share access
// access for the run.
func prepFile4(d *dataset, name string, access uint32) error {
	o, err := d.c.openFile(d.bench, name, access, false, false)
	if err != nil {
		if isStat4(err, "OPEN", c4.NFS4ERR_NOENT) {
			return fmt.Errorf("%s: missing; run nfsload -setup first", name)
		}
		return err
	}
	v := d.e.v4
	v.mu.Lock()
	v.opens = append(v.opens, o)
	v.mu.Unlock()
	if o.size < 1<<20 {
		return fmt.Errorf("%s: %d bytes; run nfsload -setup first", name, o.size)
	}
	d.file, d.fileSize = o.fh, o.size&^(1<<20-1)
	d.stateid = o.stateid
	d.putFile = c4.Putfh(o.fh)
	return nil
}

func prepRead4(d *dataset) error {
	d.large = min(uint32(d.e.cfg.ioSize), d.e.rtmax) &^ 4095
	return prepFile4(d, readName, c4.OPEN4_SHARE_ACCESS_READ)
}

func prepWrite4(d *dataset) error {
	d.large = min(uint32(d.e.cfg.ioSize), d.e.wtmax) &^ 4095
	d.writeData = baseBlock[:max(d.large, 4096)]
	return prepFile4(d, writeName, c4.OPEN4_SHARE_ACCESS_BOTH)
}

func prepDir4(d *dataset) error {
	fh, err := d.lookup4(d.bench, dirName)
	if err != nil {
		return err
	}
	d.dir = fh
	d.putDir = c4.Putfh(fh)
	d.names = make([]string, d.e.cfg.dirEntries)
	for i := range d.names {
		d.names[i] = entryName(i)
	}
	return nil
}

func prepGetattr4(d *dataset) error {
	if err := prepDir4(d); err != nil {
		return err
	}
	for i := range min(1024, len(d.names)) {
		fh, err := d.lookup4(d.dir, d.names[i])
		if err != nil {
			return err
		}
		d.attrFHs = append(d.attrFHs, fh)
		d.attrPuts = append(d.attrPuts, c4.Putfh(fh))
	}
	return nil
}

func prepChurn4(d *dataset) error {
	fh, err := d.lookup4(d.bench, churnName)
	if err != nil {
		return err
	}
	d.dir = fh
	d.putDir = c4.Putfh(fh)
	d.writeData = baseBlock[:4096]
	return nil
}

func (w *worker) read4(off uint64, count uint32) (int64, error) {
	res, err := w.c4.call(w.d.putFile, c4.Read(w.d.stateid, off, count))
	if err != nil {
		return 0, err
	}
	rr, err := res.Ops[2].Read()
	if err != nil {
		return 0, garbage("READ", err)
	}
	if len(rr.Data) != int(count) {
		return 0, &verifyError{fmt.Sprintf("READ: %d bytes of %d", len(rr.Data), count)}
	}
	return int64(count), nil
}

func opRead4k4(w *worker) (int64, error) { return w.read4(w.randBlock(4096), 4096) }

func opRead1m4(w *worker) (int64, error) { return w.read4(w.seqOffset(), w.d.large) }

func (w *worker) write4(off uint64, data []byte, stable uint32) (int64, error) {
	if err := w.c4.write(w.d.putFile, w.d.stateid, off, data, stable); err != nil {
		return 0, err
	}
	if stable == c4.UNSTABLE4 && w.d.commitN > 0 && (w.seq+1)%uint64(w.d.commitN) == 0 {
		t := time.Now()
		err := w.c4.commit(w.d.putFile)
		w.excl = time.Since(t)
		if err != nil {
			return 0, err
		}
	}
	return int64(len(data)), nil
}

func opWrite4kUnstable4(w *worker) (int64, error) {
	return w.write4(w.randBlock(4096), w.d.writeData[:4096], c4.UNSTABLE4)
}

func opWrite4kSync4(w *worker) (int64, error) {
	return w.write4(w.randBlock(4096), w.d.writeData[:4096], c4.FILE_SYNC4)
}

func opWrite1m4(w *worker) (int64, error) {
	return w.write4(w.seqOffset(), w.d.writeData[:w.d.large], c4.UNSTABLE4)
}

func opGetattr4(w *worker) (int64, error) {
	res, err := w.c4.call(w.d.attrPuts[w.rng.IntN(len(w.d.attrPuts))], getattrOp)
	if err != nil {
		return 0, err
	}
	f, err := res.Ops[2].Getattr()
	if err != nil {
		return 0, garbage("GETATTR", err)
	}
	if !f.Mask.Has(c4.FATTR4_TYPE) || !f.Mask.Has(c4.FATTR4_SIZE) {
		return 0, &verifyError{"GETATTR: no type or size"}
	}
	return 0, nil
}

// lookup4 is PUTFH LOOKUP GETFH GETATTR of name in the directory.
func (w *worker) lookup4(name string) error {
	res, err := w.c4.call(w.d.putDir, c4.Lookup(name), c4.Getfh(), getattrOp)
	if err != nil {
		return err
	}
	if fh, err := res.Ops[3].Getfh(); err != nil || len(fh) == 0 {
		return garbage("GETFH", err)
	}
	return nil
}

func opLookup4(w *worker) (int64, error) {
	return 0, w.lookup4(w.d.names[w.rng.IntN(len(w.d.names))])
}

func opLookupMissing4(w *worker) (int64, error) {
	name := "missing-" + strconv.Itoa(w.id) + "-" + strconv.FormatUint(w.rng.Uint64(), 36)
	err := w.lookup4(name)
	switch {
	case err == nil:
		return 0, &verifyError{"LOOKUP of a missing name: NFS4_OK"}
	case isStat4(err, "LOOKUP", c4.NFS4ERR_NOENT):
		return 0, nil
	}
	return 0, err
}

func opChurn4(w *worker) (int64, error) {
	name := w.d.runID + "-" + strconv.Itoa(w.id) + "-" + strconv.FormatUint(w.seq, 10)
	o, err := w.c4.openFile(w.d.dir, name, c4.OPEN4_SHARE_ACCESS_BOTH, true, true)
	if err != nil {
		return 0, err
	}
	putfh := c4.Putfh(o.fh)
	werr := w.c4.write(putfh, o.stateid, 0, w.d.writeData[:4096], c4.UNSTABLE4)
	if werr == nil {
		werr = w.c4.commit(putfh)
	}
	cerr := w.c4.closeFile(o)
	rerr := w.c4.remove(w.d.putDir, name)
	switch {
	case werr != nil:
		return 0, werr
	case cerr != nil:
		return 0, cerr
	}
	return 4096, rerr
}

func opReaddirplus4(w *worker) (int64, error) {
	got := 0
	count := len(w.d.names)
	_, err := w.c4.listDir(w.d.dir, uint32(w.d.e.cfg.readdirMax), readdirBitmap, func(en *c4.Entry) {
		if isEntryName(en.Name, count) && en.Attrs.Mask.Has(c4.FATTR4_FILEHANDLE) {
			got++
		}
	})
	if err != nil {
		return 0, err
	}
	if got != count {
		return 0, &verifyError{fmt.Sprintf("READDIR: %d entries with a filehandle, want %d", got, count)}
	}
	return 0, nil
}
