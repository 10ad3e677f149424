// Command nfsload is a load generator for NFS servers: NFSv3, or NFSv4.1
// (-vers 4.1), over TCP with AUTH_SYS, many calls in flight on each of
// several connections, exact latency percentiles. It is the yardstick of
// bench/compare, which points it at vnfsd and at NFS-Ganesha in the same
// run.
//
//	nfsload -setup [flags]              create the data set through NFS (idempotent)
//	nfsload -workload NAME [flags]      run one workload and report
//	nfsload -check [flags]              mount, ask FSINFO, report
//
// The data set lives in the directory -dir (default "nfsload") of the
// export: read.dat and write.dat (-file-size-mib each, deterministic
// pseudo-random content), dir10k with -dir-entries empty files named
// f000000, f000001, ..., and churn, an empty directory. Creating it through
// NFS gives two servers identical data, whatever their caches.
//
// Workloads (an "op" is what the latency percentiles measure):
//
//	read4k            READ of 4 KiB at a random aligned offset of read.dat
//	write4k-unstable  WRITE UNSTABLE of 4 KiB at a random offset of write.dat;
//	                  each worker sends COMMIT every -commit-every writes
//	                  (not part of the op's latency, part of the throughput)
//	write4k-sync      WRITE FILE_SYNC of 4 KiB at a random offset of write.dat
//	read1m            READ of 1 MiB, sequential in each worker's region of read.dat
//	write1m           WRITE UNSTABLE of 1 MiB, sequential in each worker's region
//	                  of write.dat, COMMIT every -commit-every writes
//	getattr           GETATTR of one of the first 1024 files of dir10k
//	lookup            LOOKUP of a random existing name of dir10k
//	lookup-missing    LOOKUP of a name that does not exist (NFS3ERR_NOENT expected)
//	churn             one file: CREATE (GUARDED), WRITE 4 KiB UNSTABLE, COMMIT
//	                  (what a client sends at close), REMOVE
//	readdirplus       one full READDIRPLUS listing of dir10k, entries counted
//
// Any NFS status other than NFS3_OK is an error, except NFS3ERR_NOENT for
// lookup-missing (where NFS3_OK is the error).
//
// With -vers 4.1 (or 4.2) the same workloads run over NFSv4.1 as the
// Linux client sends them (workload4.go): one client ID (EXCHANGE_ID) for
// the process, one session per connection whose slots the connection's
// workers use concurrently, the export found by PUTROOTFH and LOOKUP of
// each component of -export (no MOUNT protocol), read.dat and write.dat
// opened with OPEN (share access READ, or BOTH for writing, CLAIM_NULL)
// and their open stateid used by READ and WRITE; churn is OPEN with
// create, WRITE, COMMIT, CLOSE and REMOVE; readdirplus is READDIR with
// the attributes of a Linux "plus" listing. An "RPC" is then a COMPOUND.
// An NFSv4 error is reported with its operation ("OPEN: NFS4ERR_...").
// -setup over 4.1 makes the same data set. At exit the run's opens are
// closed and its sessions and client ID destroyed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
)

type config struct {
	addr        string
	nfsPort     int
	mountPort   int
	export      string
	vers        string
	workload    string
	conns       int
	depth       int
	duration    time.Duration
	warmup      time.Duration
	opsPerConn  int
	jsonOut     bool
	setup       bool
	check       bool
	dir         string
	fileSizeMiB int
	dirEntries  int
	commitEvery int
	readdirMax  int
	ioSize      int
	uid, gid    int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("nfsload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1", "server `address`")
	fs.IntVar(&c.nfsPort, "nfs-port", 2049, "NFS `port`")
	fs.IntVar(&c.mountPort, "mount-port", 20048, "MOUNT `port`")
	fs.StringVar(&c.export, "export", "/export", "export `path` to mount")
	fs.StringVar(&c.vers, "vers", "3", "NFS `version`: 3, 4.1 or 4.2")
	fs.StringVar(&c.workload, "workload", "", "workload `name`: "+strings.Join(workloadNames(), ", "))
	fs.IntVar(&c.conns, "conns", 4, "TCP connections")
	fs.IntVar(&c.depth, "depth", 8, "outstanding calls per connection (one worker goroutine each)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured duration")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured warm-up before the measured duration")
	fs.IntVar(&c.opsPerConn, "ops", 0, "if > 0: run this many ops per worker instead of -duration (no warm-up)")
	fs.BoolVar(&c.jsonOut, "json", false, "print one JSON object instead of text")
	fs.BoolVar(&c.setup, "setup", false, "create the data set (idempotent) and exit")
	fs.BoolVar(&c.check, "check", false, "mount, ask FSINFO and exit")
	fs.StringVar(&c.dir, "dir", "nfsload", "data set `directory` in the export")
	fs.IntVar(&c.fileSizeMiB, "file-size-mib", 256, "size of read.dat and write.dat in MiB")
	fs.IntVar(&c.dirEntries, "dir-entries", 10000, "files in dir10k")
	fs.IntVar(&c.commitEvery, "commit-every", 0, "COMMIT after this many UNSTABLE writes per worker (0: 256 for 4 KiB, 16 for 1 MiB)")
	fs.IntVar(&c.readdirMax, "readdir-maxcount", 65536, "READDIRPLUS maxcount in bytes (dircount is the same, as the Linux client sends)")
	fs.IntVar(&c.ioSize, "large-io", 1<<20, "transfer size of read1m and write1m, capped at the server's rtmax/wtmax")
	fs.IntVar(&c.uid, "uid", 0, "AUTH_SYS uid")
	fs.IntVar(&c.gid, "gid", 0, "AUTH_SYS gid")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch c.vers {
	case "3", "4.1", "4.2":
	case "4", "4.0":
		return nil, fmt.Errorf("-vers %s: NFSv4.0 is not supported (no sessions): use 4.1", c.vers)
	default:
		return nil, fmt.Errorf("-vers %q: unknown NFS version (3, 4.1, 4.2)", c.vers)
	}
	modes := 0
	for _, b := range []bool{c.setup, c.check, c.workload != ""} {
		if b {
			modes++
		}
	}
	if modes != 1 {
		return nil, errors.New("give exactly one of -setup, -check, -workload NAME")
	}
	if c.workload != "" {
		if _, ok := workloads[c.workload]; !ok {
			return nil, fmt.Errorf("-workload %q: unknown (%s)", c.workload, strings.Join(workloadNames(), ", "))
		}
	}
	switch {
	case c.conns < 1 || c.conns > 1024:
		return nil, errors.New("-conns: 1 to 1024")
	case c.depth < 1 || c.depth > 1024:
		return nil, errors.New("-depth: 1 to 1024")
	case c.duration <= 0 && c.opsPerConn <= 0:
		return nil, errors.New("-duration must be positive")
	case c.warmup < 0:
		return nil, errors.New("-warmup must not be negative")
	case c.fileSizeMiB < 1 || c.fileSizeMiB > 1<<20:
		return nil, errors.New("-file-size-mib: 1 to 1048576")
	case c.dirEntries < 1 || c.dirEntries > 1000000:
		return nil, errors.New("-dir-entries: 1 to 1000000")
	case c.commitEvery < 0:
		return nil, errors.New("-commit-every must not be negative")
	case c.readdirMax < 1024 || c.readdirMax > 4<<20:
		return nil, errors.New("-readdir-maxcount: 1024 to 4194304")
	case c.ioSize < 4096 || c.ioSize > 2<<20:
		return nil, errors.New("-large-io: 4096 to 2097152")
	case c.uid < 0 || c.gid < 0:
		return nil, errors.New("-uid, -gid must not be negative")
	case c.dir == "" || strings.ContainsAny(c.dir, "/\x00"):
		return nil, errors.New("-dir: one non-empty name")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "nfsload:", err)
		return 2
	}
	var e *env
	if c.vers == "3" {
		e, err = connect(ctx, c)
	} else {
		e, err = connect4(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(stderr, "nfsload:", err)
		return 1
	}
	defer func() {
		if err := e.close(); err != nil {
			fmt.Fprintln(stderr, "nfsload: releasing the NFSv4.1 state:", err)
		}
	}()
	switch {
	case c.check:
		out := map[string]any{
			"server": e.server, "vers": c.vers, "rtmax": e.rtmax, "wtmax": e.wtmax, "dtpref": e.dtpref, "root_handle_len": len(e.root),
		}
		if v := e.v4; v != nil {
			fore := v.sessions[0].Fore
			out["slots"] = v.sessions[0].Slots()
			out["max_request_size"] = fore.MaxRequestSize
			out["max_response_size"] = fore.MaxResponseSize
			out["max_response_size_cached"] = fore.MaxResponseSizeCached
			out["max_operations"] = fore.MaxOperations
			out["lease_time"] = v.lease
		}
		if c.jsonOut {
			json.NewEncoder(stdout).Encode(out)
		} else if v := e.v4; v != nil {
			fore := v.sessions[0].Fore
			fmt.Fprintf(stdout, "%s: NFSv%s, mounted %s (handle %d bytes), rtmax %d, wtmax %d; session: %d slots, "+
				"max request %d, max response %d (cached %d), %d operations; lease %d s\n",
				e.server, c.vers, c.export, len(e.root), e.rtmax, e.wtmax, v.sessions[0].Slots(),
				fore.MaxRequestSize, fore.MaxResponseSize, fore.MaxResponseSizeCached, fore.MaxOperations, v.lease)
		} else {
			fmt.Fprintf(stdout, "%s: mounted %s (handle %d bytes), rtmax %d, wtmax %d, dtpref %d\n",
				e.server, c.export, len(e.root), e.rtmax, e.wtmax, e.dtpref)
		}
		return 0
	case c.setup:
		// The setup's calls get a deadline: a stuck server fails the
		// run instead of hanging it.
		sctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		defer cancel()
		var st *setupStats
		if e.v4 != nil {
			st, err = setup4(sctx, e)
		} else {
			st, err = setup(sctx, e)
		}
		if err != nil {
			fmt.Fprintln(stderr, "nfsload: setup:", err)
			return 1
		}
		if c.jsonOut {
			json.NewEncoder(stdout).Encode(st)
		} else {
			fmt.Fprintf(stdout, "%s: data set %q ready in %.1f s (created: %s)\n", e.server, c.dir, st.Seconds, strings.Join(st.Created, ", "))
		}
		return 0
	}
	res, err := runWorkload(ctx, e, c.workload)
	if err != nil {
		fmt.Fprintln(stderr, "nfsload:", err)
		return 1
	}
	if c.jsonOut {
		json.NewEncoder(stdout).Encode(res)
	} else {
		res.print(stdout)
	}
	if res.Aborted != "" {
		return 1
	}
	return 0
}

// env is a connected load generator: its connections, the export's root
// and the server's transfer sizes; for NFSv4.1, its client ID and
// sessions.
type env struct {
	cfg     *config
	server  string
	clients []*oncrpc.Client
	cred    oncrpc.Cred
	root    []byte
	rtmax   uint32
	wtmax   uint32
	dtpref  uint32
	v4      *v4env // nil for NFSv3
}

func connect(ctx context.Context, c *config) (*env, error) {
	host := c.addr
	e := &env{
		cfg:    c,
		server: net.JoinHostPort(host, strconv.Itoa(c.nfsPort)),
		cred: oncrpc.AuthSysCred(oncrpc.AuthSysParams{
			Stamp: uint32(time.Now().Unix()), Machine: "nfsload", UID: uint32(c.uid), GID: uint32(c.gid),
		}),
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	root, err := mnt(dctx, net.JoinHostPort(host, strconv.Itoa(c.mountPort)), c.export, e.cred)
	if err != nil {
		return nil, err
	}
	e.root = root
	for range c.conns {
		cl, err := oncrpc.Dial(dctx, e.server)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("connect %s: %w", e.server, err)
		}
		e.clients = append(e.clients, cl)
	}
	n := newNFSC(dctx, e.clients[0], e.cred)
	var fi nfs3.FSINFO3res
	if err := n.fsinfo(root, &fi); err != nil {
		e.close()
		return nil, err
	}
	e.rtmax, e.wtmax, e.dtpref = fi.Rtmax, fi.Wtmax, fi.Dtpref
	return e, nil
}

// close closes the connections, after releasing the NFSv4.1 state of
// the run; it returns the error of that release.
func (e *env) close() error {
	var err error
	if e.v4 != nil {
		err = e.v4.close4()
	}
	for _, c := range e.clients {
		c.Close()
	}
	e.clients = nil
	return err
}
