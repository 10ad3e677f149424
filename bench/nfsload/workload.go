package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs3"
	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

// workload is one kind of load. prepare runs once before the workers
// start (untimed); op is one measured operation of a worker. The 4
// variants are the same work over NFSv4.1 (workload4.go).
type workload struct {
	unit     string // what one op is, for the report
	prepare  func(d *dataset) error
	op       func(w *worker) (bytes int64, err error)
	unit4    string
	prepare4 func(d *dataset) error
	op4      func(w *worker) (bytes int64, err error)
}

var workloads = map[string]workload{
	"read4k": {"READ 4 KiB", prepRead, opRead4k,
		"READ 4 KiB", prepRead4, opRead4k4},
	"write4k-unstable": {"WRITE 4 KiB UNSTABLE", prepWrite, opWrite4kUnstable,
		"WRITE 4 KiB UNSTABLE", prepWrite4, opWrite4kUnstable4},
	"write4k-sync": {"WRITE 4 KiB FILE_SYNC", prepWrite, opWrite4kSync,
		"WRITE 4 KiB FILE_SYNC4", prepWrite4, opWrite4kSync4},
	"read1m": {"READ 1 MiB", prepRead, opRead1m,
		"READ 1 MiB", prepRead4, opRead1m4},
	"write1m": {"WRITE 1 MiB UNSTABLE", prepWrite, opWrite1m,
		"WRITE 1 MiB UNSTABLE", prepWrite4, opWrite1m4},
	"getattr": {"GETATTR", prepGetattr, opGetattr,
		"GETATTR", prepGetattr4, opGetattr4},
	"lookup": {"LOOKUP", prepDir, opLookup,
		"LOOKUP+GETFH+GETATTR", prepDir4, opLookup4},
	"lookup-missing": {"LOOKUP (NOENT)", prepDir, opLookupMissing,
		"LOOKUP (NOENT)", prepDir4, opLookupMissing4},
	"churn": {"file: CREATE+WRITE 4 KiB+COMMIT+REMOVE", prepChurn, opChurn,
		"file: OPEN(create)+WRITE 4 KiB+COMMIT+CLOSE+REMOVE", prepChurn4, opChurn4},
	"readdirplus": {"full READDIRPLUS listing", prepDir, opReaddirplus,
		"full READDIR listing (plus attributes)", prepDir4, opReaddirplus4},
}

// workloadNames lists the workloads in the order bench/compare runs them.
func workloadNames() []string {
	return []string{"read4k", "write4k-unstable", "write4k-sync", "read1m", "write1m",
		"getattr", "lookup", "lookup-missing", "churn", "readdirplus"}
}

// dataset holds the handles a workload works on.
type dataset struct {
	e         *env
	n         *nfsc  // NFSv3
	c         *conn4 // NFSv4.1
	bench     []byte
	file      []byte // read.dat or write.dat
	fileSize  uint64
	dir       []byte   // dir10k or churn
	names     []string // entries of dir10k
	attrFHs   [][]byte // handles for getattr
	large     uint32   // transfer size of read1m/write1m
	commitN   int      // COMMIT every commitN writes (0: never)
	workers   int
	runID     string
	writeData []byte

	// NFSv4.1: the open stateid of file, and PUTFH operations built once.
	stateid  c4.Stateid
	putFile  c4.Op
	putDir   c4.Op
	attrPuts []c4.Op
}

func (d *dataset) lookup(dir []byte, name string) ([]byte, error) {
	var res nfs3.LOOKUP3res
	if err := d.n.lookup(dir, name, &res); err != nil {
		if isStat(err, nfs3.NFS3ErrNoEnt) {
			return nil, fmt.Errorf("%s: missing; run nfsload -setup first", name)
		}
		return nil, err
	}
	return clone(res.Object), nil
}

func prepFile(d *dataset, name string) error {
	fh, err := d.lookup(d.bench, name)
	if err != nil {
		return err
	}
	var g nfs3.GETATTR3res
	if err := d.n.getattr(fh, &g); err != nil {
		return err
	}
	if g.ObjAttributes.Size < 1<<20 {
		return fmt.Errorf("%s: %d bytes; run nfsload -setup first", name, g.ObjAttributes.Size)
	}
	d.file, d.fileSize = fh, g.ObjAttributes.Size&^(1<<20-1)
	return nil
}

func prepRead(d *dataset) error {
	d.large = min(uint32(d.e.cfg.ioSize), d.e.rtmax) &^ 4095
	return prepFile(d, readName)
}

func prepWrite(d *dataset) error {
	d.large = min(uint32(d.e.cfg.ioSize), d.e.wtmax) &^ 4095
	d.writeData = baseBlock[:max(d.large, 4096)]
	return prepFile(d, writeName)
}

func prepDir(d *dataset) error {
	fh, err := d.lookup(d.bench, dirName)
	if err != nil {
		return err
	}
	d.dir = fh
	d.names = make([]string, d.e.cfg.dirEntries)
	for i := range d.names {
		d.names[i] = entryName(i)
	}
	return nil
}

func prepGetattr(d *dataset) error {
	if err := prepDir(d); err != nil {
		return err
	}
	for i := range min(1024, len(d.names)) {
		fh, err := d.lookup(d.dir, d.names[i])
		if err != nil {
			return err
		}
		d.attrFHs = append(d.attrFHs, fh)
	}
	return nil
}

func prepChurn(d *dataset) error {
	fh, err := d.lookup(d.bench, churnName)
	if err != nil {
		return err
	}
	d.dir = fh
	d.writeData = baseBlock[:4096]
	return nil
}

// worker is one goroutine issuing calls one at a time.
type worker struct {
	id    int
	d     *dataset
	ctx   context.Context
	n     *nfsc  // NFSv3
	c4    *conn4 // NFSv4.1
	rng   *rand.Rand
	seq   uint64        // ops done (sequential position, name counter)
	excl  time.Duration // time of the last op not to count as its latency
	lat   []time.Duration
	ops   int64
	bytes int64
	errs  map[string]int64
	fatal error
	fh    []byte // scratch handle

	rres  nfs3.READ3res
	wres  nfs3.WRITE3res
	cres  nfs3.COMMIT3res
	gres  nfs3.GETATTR3res
	lres  nfs3.LOOKUP3res
	crres nfs3.CREATE3res
	rmres nfs3.REMOVE3res
	rdres nfs3.READDIRPLUS3res
}

// verifyError is a reply that is well-formed but wrong.
type verifyError struct{ msg string }

func (e *verifyError) Error() string { return e.msg }

func (w *worker) randBlock(size uint64) uint64 { return w.rng.Uint64N(w.d.fileSize/size) * size }

// seqOffset is the next offset of the worker's sequential stream: each
// worker has a region of its own and wraps around in it.
func (w *worker) seqOffset() uint64 {
	size := uint64(w.d.large)
	blocks := w.d.fileSize / size
	per := max(blocks/uint64(w.d.workers), 1)
	blk := (uint64(w.id)*per + w.seq%per) % blocks
	return blk * size
}

func (w *worker) read(off uint64, count uint32) (int64, error) {
	if err := w.n.read(w.d.file, off, count, &w.rres); err != nil {
		return 0, err
	}
	if w.rres.Count != count || len(w.rres.Data) != int(count) {
		return 0, &verifyError{fmt.Sprintf("READ: %d bytes of %d", len(w.rres.Data), count)}
	}
	return int64(count), nil
}

func opRead4k(w *worker) (int64, error) { return w.read(w.randBlock(4096), 4096) }

func opRead1m(w *worker) (int64, error) { return w.read(w.seqOffset(), w.d.large) }

func (w *worker) write(off uint64, data []byte, stable vfs.Stability) (int64, error) {
	if err := w.n.write(w.d.file, off, data, stable, &w.wres); err != nil {
		return 0, err
	}
	if stable == vfs.Unstable && w.d.commitN > 0 && (w.seq+1)%uint64(w.d.commitN) == 0 {
		t := time.Now()
		err := w.n.commit(w.d.file, &w.cres)
		w.excl = time.Since(t)
		if err != nil {
			return 0, err
		}
	}
	return int64(len(data)), nil
}

func opWrite4kUnstable(w *worker) (int64, error) {
	return w.write(w.randBlock(4096), w.d.writeData[:4096], vfs.Unstable)
}

func opWrite4kSync(w *worker) (int64, error) {
	return w.write(w.randBlock(4096), w.d.writeData[:4096], vfs.FileSync)
}

func opWrite1m(w *worker) (int64, error) {
	return w.write(w.seqOffset(), w.d.writeData[:w.d.large], vfs.Unstable)
}

func opGetattr(w *worker) (int64, error) {
	fh := w.d.attrFHs[w.rng.IntN(len(w.d.attrFHs))]
	return 0, w.n.getattr(fh, &w.gres)
}

func opLookup(w *worker) (int64, error) {
	return 0, w.n.lookup(w.d.dir, w.d.names[w.rng.IntN(len(w.d.names))], &w.lres)
}

func opLookupMissing(w *worker) (int64, error) {
	name := "missing-" + strconv.Itoa(w.id) + "-" + strconv.FormatUint(w.rng.Uint64(), 36)
	err := w.n.lookup(w.d.dir, name, &w.lres)
	switch {
	case err == nil:
		return 0, &verifyError{"LOOKUP of a missing name: NFS3_OK"}
	case isStat(err, nfs3.NFS3ErrNoEnt):
		return 0, nil
	}
	return 0, err
}

func opChurn(w *worker) (int64, error) {
	name := w.d.runID + "-" + strconv.Itoa(w.id) + "-" + strconv.FormatUint(w.seq, 10)
	h, err := w.n.create(w.d.dir, name, true, false, &w.crres)
	if err != nil {
		return 0, err
	}
	fh := append(w.fh[:0], h...)
	w.fh = fh
	werr := w.n.write(fh, 0, w.d.writeData[:4096], vfs.Unstable, &w.wres)
	if werr == nil {
		werr = w.n.commit(fh, &w.cres)
	}
	rerr := w.n.remove(w.d.dir, name, &w.rmres)
	if werr != nil {
		return 0, werr
	}
	return 4096, rerr
}

func opReaddirplus(w *worker) (int64, error) {
	got := 0
	count := len(w.d.names)
	_, err := w.n.listDir(w.d.dir, uint32(w.d.e.cfg.readdirMax), &w.rdres, func(en *nfs3.Entryplus3) {
		if isEntryName(en.Name, count) && en.NameAttributes.Present {
			got++
		}
	})
	if err != nil {
		return 0, err
	}
	if got != count {
		return 0, &verifyError{fmt.Sprintf("READDIRPLUS: %d entries with attributes, want %d", got, count)}
	}
	return 0, nil
}

// Result is the report of one run.
type Result struct {
	Workload   string           `json:"workload"`
	Unit       string           `json:"unit"`
	Server     string           `json:"server"`
	Vers       string           `json:"vers"`
	Conns      int              `json:"conns"`
	Depth      int              `json:"depth"`
	IOSize     uint32           `json:"io_size,omitempty"`
	Seconds    float64          `json:"seconds"`
	Ops        int64            `json:"ops"`
	OpsPerSec  float64          `json:"ops_per_s"`
	MiBPerSec  float64          `json:"mib_per_s"`
	RPCs       int64            `json:"rpcs"`
	RPCsPerSec float64          `json:"rpcs_per_s"`
	Latency    Latency          `json:"latency_us"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Aborted    string           `json:"aborted,omitempty"`
}

func (r *Result) print(out io.Writer) {
	fmt.Fprintf(out, "%s (%s) on %s, NFSv%s, %d conns x %d deep, %.1f s\n", r.Workload, r.Unit, r.Server, r.Vers, r.Conns, r.Depth, r.Seconds)
	fmt.Fprintf(out, "  %d ops  %.0f ops/s  %.1f MiB/s  %.0f RPC/s\n", r.Ops, r.OpsPerSec, r.MiBPerSec, r.RPCsPerSec)
	fmt.Fprintf(out, "  latency us: mean %.1f  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", r.Latency.Mean, r.Latency.P50, r.Latency.P99, r.Latency.P999, r.Latency.Max)
	fmt.Fprintf(out, "  errors %d", r.Errors)
	keys := make([]string, 0, len(r.ErrorKinds))
	for k := range r.ErrorKinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "  %s: %d", k, r.ErrorKinds[k])
	}
	fmt.Fprintln(out)
	if r.Aborted != "" {
		fmt.Fprintf(out, "  ABORTED: %s\n", r.Aborted)
	}
}

// rpcCount is the counter of the calls of the worker's client.
func (w *worker) rpcCount() *int64 {
	if w.c4 != nil {
		return &w.c4.rpcs
	}
	return &w.n.rpcs
}

// errKind classifies an error for the report and says whether the
// worker must stop (the connection or the session is gone).
func errKind(err error) (kind string, fatal bool) {
	var se *statusError
	var s4 *status4Error
	var re *oncrpc.RPCError
	var ve *verifyError
	switch {
	case errors.As(err, &se):
		return se.stat.String(), false
	case errors.As(err, &s4):
		// An NFSv4 status is reported with its operation. A SEQUENCE
		// that fails for another reason than NFS4ERR_DELAY means the
		// session is unusable.
		return s4.Error(), s4.op == "SEQUENCE" && s4.stat != c4.NFS4ERR_DELAY
	case errors.As(err, &re):
		return re.Error(), false
	case errors.As(err, &ve):
		return "verify: " + ve.msg, false
	case errors.Is(err, errGarbageReply):
		return "undecodable reply", false
	}
	return "transport", true
}

func runWorkload(ctx context.Context, e *env, name string) (*Result, error) {
	c := e.cfg
	wl := workloads[name]
	d := &dataset{
		e:       e,
		workers: c.conns * c.depth,
		runID:   "c" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
	}
	unit, prepare, op := wl.unit, wl.prepare, wl.op
	// The preparation's calls get a deadline: a stuck server fails the
	// run instead of hanging it.
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer pcancel()
	var err error
	if e.v4 != nil {
		unit, prepare, op = wl.unit4, wl.prepare4, wl.op4
		d.c = e.v4.conn(pctx, 0)
		d.bench, err = d.lookup4(e.root, c.dir)
	} else {
		d.n = newNFSC(pctx, e.clients[0], e.cred)
		d.bench, err = d.lookup(e.root, c.dir)
	}
	if err != nil {
		return nil, err
	}
	if err := prepare(d); err != nil {
		return nil, err
	}
	d.commitN = c.commitEvery
	if d.commitN == 0 {
		d.commitN = 256
		if name == "write1m" {
			d.commitN = 16
		}
	}

	start := time.Now()
	measure := start.Add(c.warmup)
	end := measure.Add(c.duration)
	if c.opsPerConn > 0 {
		measure = start
	}
	// A server that stops answering must not hang the run.
	rctx, cancel := context.WithDeadline(ctx, end.Add(60*time.Second))
	defer cancel()

	workers := make([]*worker, d.workers)
	finished := make([]time.Time, d.workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{
			id:   i,
			d:    d,
			ctx:  rctx,
			rng:  rand.New(rand.NewPCG(uint64(i), 0x6e66736c6f6164)),
			errs: map[string]int64{},
		}
		if e.v4 != nil {
			w.c4 = e.v4.conn(rctx, i)
		} else {
			w.n = newNFSC(rctx, e.clients[i%len(e.clients)], e.cred)
		}
		if c.opsPerConn > 0 {
			w.lat = make([]time.Duration, 0, c.opsPerConn)
		} else {
			w.lat = make([]time.Duration, 0, 4096)
		}
		workers[i] = w
		wg.Go(func() {
			finished[i] = w.loop(op, measure, end, c.opsPerConn)
		})
	}
	wg.Wait()
	last := start
	for _, t := range finished {
		if t.After(last) {
			last = t
		}
	}
	elapsed := last.Sub(measure)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	res := &Result{
		Workload: name, Unit: unit, Server: e.server, Vers: c.vers,
		Conns: c.conns, Depth: c.depth, IOSize: d.large,
		Seconds:    elapsed.Seconds(),
		ErrorKinds: map[string]int64{},
	}
	var lat []time.Duration
	var bytes int64
	for _, w := range workers {
		res.Ops += w.ops
		res.RPCs += *w.rpcCount()
		bytes += w.bytes
		lat = append(lat, w.lat...)
		for k, v := range w.errs {
			res.ErrorKinds[k] += v
			res.Errors += v
		}
		if w.fatal != nil && res.Aborted == "" {
			res.Aborted = fmt.Sprintf("worker %d: %v", w.id, w.fatal)
		}
	}
	if len(res.ErrorKinds) == 0 {
		res.ErrorKinds = nil
	}
	res.Latency = summarize(lat)
	if s := elapsed.Seconds(); s > 0 {
		res.OpsPerSec = round(float64(res.Ops)/s, 1)
		res.MiBPerSec = round(float64(bytes)/(1<<20)/s, 2)
		res.RPCsPerSec = round(float64(res.RPCs)/s, 1)
	}
	res.Seconds = round(res.Seconds, 3)
	return res, nil
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// loop runs ops until end (or n ops when n > 0) and returns when the last
// finished. Only ops started in [measure, end) are counted; RPCs are
// counted from the start (the warm-up is short and its RPC share alike
// for every server).
func (w *worker) loop(op func(*worker) (int64, error), measure, end time.Time, n int) time.Time {
	last := time.Now()
	for i := 0; n <= 0 || i < n; i++ {
		t0 := time.Now()
		if n <= 0 && !t0.Before(end) {
			break
		}
		if w.ctx.Err() != nil {
			w.fatal = w.ctx.Err()
			break
		}
		w.excl = 0
		b, err := op(w)
		last = time.Now()
		w.seq++
		counted := !t0.Before(measure)
		if !counted {
			*w.rpcCount() = 0
		}
		if err != nil {
			kind, fatal := errKind(err)
			if counted {
				w.errs[kind]++
			}
			if fatal {
				w.fatal = err
				break
			}
			continue
		}
		if counted {
			w.ops++
			w.bytes += b
			w.lat = append(w.lat, last.Sub(t0)-w.excl)
		}
	}
	return last
}

// sortedCopy is for tests.
func sortedCopy(d []time.Duration) []time.Duration {
	c := slices.Clone(d)
	slices.Sort(c)
	return c
}
