// Package benchutil holds what the vserver benchmarks (bench/density,
// bench/fairness) share: process memory figures, loopback address
// ranges, a small NFSv3/MOUNT client over internal/oncrpc, and latency
// percentiles.
package benchutil

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vnfsd/vnfsd/internal/mount"
	"github.com/vnfsd/vnfsd/internal/nfs3"
	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// RSS returns the resident set size of the process (VmRSS of
// /proc/self/status), in bytes.
func RSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			return 0, fmt.Errorf("unexpected line %q", line)
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, err
		}
		return kb << 10, nil
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}

// Mem is a memory snapshot taken after a full garbage collection that
// returned the freed memory to the operating system.
type Mem struct {
	RSS        int64 // VmRSS
	HeapInuse  int64
	StackInuse int64
	Sys        int64 // memory obtained from the OS by the Go runtime
	Goroutines int
	FDs        int
}

// Snapshot collects garbage, frees what it can and measures.
func Snapshot() (Mem, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := RSS()
	if err != nil {
		return Mem{}, err
	}
	fds := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents)
	}
	return Mem{RSS: rss, HeapInuse: int64(ms.HeapInuse), StackInuse: int64(ms.StackInuse),
		Sys: int64(ms.Sys), Goroutines: runtime.NumGoroutine(), FDs: fds}, nil
}

// Addrs returns n IPv4 loopback addresses from base on, skipping those
// whose last byte is 0 or 255 (127.1.0.1, ..., 127.1.0.254, 127.1.1.1, ...).
func Addrs(base netip.Addr, n int) ([]netip.Addr, error) {
	if !base.Is4() || !base.IsLoopback() {
		return nil, fmt.Errorf("base address %v is not in 127.0.0.0/8", base)
	}
	out := make([]netip.Addr, 0, n)
	for a := base; len(out) < n; a = a.Next() {
		if !a.IsValid() || !a.IsLoopback() {
			return nil, fmt.Errorf("not enough loopback addresses after %v", base)
		}
		if b := a.As4(); b[3] == 0 || b[3] == 255 {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// Client makes NFSv3, MOUNT and portmapper calls on one TCP connection
// with AUTH_SYS (uid and gid 0). It is not safe for concurrent use.
type Client struct {
	RPC  *oncrpc.Client
	cred oncrpc.Cred
	w    xdr.Writer
	r    xdr.Reader
}

// Dial connects to addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	c, err := oncrpc.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return &Client{RPC: c, cred: oncrpc.AuthSysCred(oncrpc.AuthSysParams{Machine: host})}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.RPC.Close() }

func (c *Client) call(ctx context.Context, prog, vers, proc uint32) (*xdr.Reader, error) {
	res, err := c.RPC.Call(ctx, prog, vers, proc, c.cred, c.w.B)
	if err != nil {
		return nil, err
	}
	c.r.Reset(res)
	return &c.r, nil
}

// Null calls procedure 0 of prog, vers.
func (c *Client) Null(ctx context.Context, prog, vers uint32) error {
	c.w.B = c.w.B[:0]
	_, err := c.call(ctx, prog, vers, 0)
	return err
}

// Mount calls MOUNTPROC3_MNT and returns the root handle of path.
func (c *Client) Mount(ctx context.Context, path string) ([]byte, error) {
	c.w.B = c.w.B[:0]
	c.w.String(path)
	r, err := c.call(ctx, oncrpc.ProgMount, 3, mount.ProcMnt)
	if err != nil {
		return nil, fmt.Errorf("MNT %s: %w", path, err)
	}
	if st := r.Uint32(); st != uint32(mount.MNT3OK) {
		return nil, fmt.Errorf("MNT %s: status %d", path, st)
	}
	h := slices.Clone(r.Opaque(mount.FHSize3))
	if r.Err() != nil {
		return nil, fmt.Errorf("MNT %s: %w", path, r.Err())
	}
	return h, nil
}

func status(proc string, r *xdr.Reader, st nfs3.Stat) error {
	if r.Err() != nil {
		return fmt.Errorf("%s: undecodable reply: %w", proc, r.Err())
	}
	if st != nfs3.NFS3OK {
		return fmt.Errorf("%s: %v", proc, st)
	}
	return nil
}

// Getattr calls NFSPROC3_GETATTR.
func (c *Client) Getattr(ctx context.Context, fh []byte) error {
	c.w.B = c.w.B[:0]
	a := nfs3.GETATTR3args{Object: fh}
	a.Encode(&c.w)
	r, err := c.call(ctx, oncrpc.ProgNFS, nfs3.Vers, nfs3.ProcGETATTR)
	if err != nil {
		return fmt.Errorf("GETATTR: %w", err)
	}
	var res nfs3.GETATTR3res
	res.Decode(r)
	return status("GETATTR", r, res.Status)
}

// Lookup calls NFSPROC3_LOOKUP and returns the handle of name in dir.
func (c *Client) Lookup(ctx context.Context, dir []byte, name string) ([]byte, error) {
	c.w.B = c.w.B[:0]
	a := nfs3.LOOKUP3args{What: nfs3.Diropargs3{Dir: dir, Name: name}}
	a.Encode(&c.w)
	r, err := c.call(ctx, oncrpc.ProgNFS, nfs3.Vers, nfs3.ProcLOOKUP)
	if err != nil {
		return nil, fmt.Errorf("LOOKUP %s: %w", name, err)
	}
	var res nfs3.LOOKUP3res
	res.Decode(r)
	if err := status("LOOKUP "+name, r, res.Status); err != nil {
		return nil, err
	}
	return slices.Clone(res.Object), nil
}

// Read calls NFSPROC3_READ and returns the number of bytes read.
func (c *Client) Read(ctx context.Context, fh []byte, off uint64, count uint32) (int, error) {
	c.w.B = c.w.B[:0]
	a := nfs3.READ3args{File: fh, Offset: off, Count: count}
	a.Encode(&c.w)
	r, err := c.call(ctx, oncrpc.ProgNFS, nfs3.Vers, nfs3.ProcREAD)
	if err != nil {
		return 0, fmt.Errorf("READ: %w", err)
	}
	var res nfs3.READ3res
	res.Decode(r)
	if err := status("READ", r, res.Status); err != nil {
		return 0, err
	}
	return len(res.Data), nil
}

// Getport asks a portmapper (version 2) for the TCP port of prog, vers.
func (c *Client) Getport(ctx context.Context, prog, vers uint32) (uint32, error) {
	c.w.B = c.w.B[:0]
	c.w.Uint32(prog)
	c.w.Uint32(vers)
	c.w.Uint32(6) // IPPROTO_TCP
	c.w.Uint32(0)
	r, err := c.call(ctx, oncrpc.ProgPortmap, 2, 3)
	if err != nil {
		return 0, fmt.Errorf("GETPORT: %w", err)
	}
	p := r.Uint32()
	return p, r.Err()
}

// Latencies summarizes a set of durations.
type Latencies struct {
	N                  int
	P50, P90, P99, Max time.Duration
	P999               time.Duration
}

// Summarize sorts d and returns its percentiles (nearest rank).
func Summarize(d []time.Duration) Latencies {
	if len(d) == 0 {
		return Latencies{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.5) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return Latencies{N: len(d), P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: d[len(d)-1]}
}

// KiB formats bytes as KiB with one decimal.
func KiB(b float64) string { return strconv.FormatFloat(b/1024, 'f', 1, 64) }

// UDPNull sends a NULL call with AUTH_NONE over UDP to the MOUNT (mount
// true, version 3) or portmapper (version 2) program at addr and waits for
// the reply, retransmitting up to 5 times.
func UDPNull(addr string, mount bool) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	prog, vers := uint32(oncrpc.ProgPortmap), uint32(2)
	if mount {
		prog, vers = oncrpc.ProgMount, 3
	}
	var xb [4]byte
	rand.Read(xb[:])
	xid := binary.BigEndian.Uint32(xb[:])
	var w xdr.Writer
	for _, v := range []uint32{xid, oncrpc.MsgCall, 2, prog, vers, 0, oncrpc.AuthNone, 0, oncrpc.AuthNone, 0} {
		w.Uint32(v)
	}
	buf := make([]byte, 512)
	for try := 0; try < 5; try++ {
		if _, err := c.Write(w.B); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := oncrpc.ParseReply(buf[:n], xid); err != nil {
			return err
		}
		return nil
	}
	return errors.New("no reply")
}
