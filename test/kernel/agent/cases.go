//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// env is what a case works with: its own fresh directory dir on the
// mount, named name under the version's directory root.
type env struct {
	version string
	m       *mount
	root    string
	name    string
	dir     string
	res     *result
}

// path returns a path in the case's directory.
func (e *env) path(elem ...string) string {
	return filepath.Join(append([]string{e.dir}, elem...)...)
}

// rel returns the path of p relative to the version's directory, the form
// the host checks use.
func (e *env) rel(p string) string {
	r, err := filepath.Rel(e.root, p)
	if err != nil {
		panic(err)
	}
	return r
}

func (e *env) host(c hostCheck) { e.res.Host = append(e.res.Host, c) }
func (e *env) note(f string, a ...any) {
	s := fmt.Sprintf(f, a...)
	if e.res.Detail != "" {
		e.res.Detail += "; "
	}
	e.res.Detail += s
}

// remount unmounts and mounts the export again, so that nothing of the
// client's caches survives.
func (e *env) remount() error {
	if err := e.m.unmount(); err != nil {
		return err
	}
	return e.m.mount()
}

// dropCaches writes back and drops the client's clean page cache, dentries
// and inodes, so that the next reads go to the server.
func dropCaches() error {
	unix.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0)
}

func ptr[T any](v T) *T { return &v }

// cases are the workload, by the names the harness asks for.
var cases = map[string]func(*env) error{
	"bigfile-8m":         caseBigFile8M,
	"smallfiles-1000":    caseSmallFiles,
	"mkdir-deep":         caseMkdirDeep,
	"rename":             caseRename,
	"hardlink":           caseHardLink,
	"symlink":            caseSymlink,
	"truncate":           caseTruncate,
	"sparse":             caseSparse,
	"append-two-writers": caseAppend,
	"chmod-chown":        caseChmodChown,
	"excl-race":          caseExclRace,
	"fsync":              caseFsync,
	"statfs":             caseStatfs,
	"unlink-open":        caseUnlinkOpen,
	"dir-10000":          caseDir10000,
	"bigfile-100m":       caseBigFile100M,
	"fcntl-locks":        caseLocks,
	"restart-reclaim":    caseRestartReclaim,
}

// newRand returns a fast generator of pseudo-random data, different in
// every run.
func newRand() *rand.ChaCha8 {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(time.Now().UnixNano()))
	binary.LittleEndian.PutUint64(seed[8:], uint64(os.Getpid()))
	return rand.NewChaCha8(seed)
}

// writeRandom writes size random bytes to a new file, in chunks of chunk
// bytes, calls fsync and close, and returns the SHA-256 of what it wrote.
// If keep is set, the data is also returned.
func writeRandom(path string, size, chunk int, keep bool) (string, []byte, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	r := newRand()
	h := sha256.New()
	var all []byte
	if keep {
		all = make([]byte, 0, size)
	}
	buf := make([]byte, chunk)
	for done := 0; done < size; {
		b := buf[:min(chunk, size-done)]
		r.Read(b)
		if _, err := f.Write(b); err != nil {
			return "", nil, fmt.Errorf("write at %d: %w", done, err)
		}
		h.Write(b)
		if keep {
			all = append(all, b...)
		}
		done += len(b)
	}
	if err := f.Sync(); err != nil {
		return "", nil, fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", nil, fmt.Errorf("close: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), all, nil
}

// hashFile reads a file and returns its SHA-256 and length.
func hashFile(path string, h hash.Hash, w io.Writer) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if h == nil {
		h = sha256.New()
	}
	var dst io.Writer = h
	if w != nil {
		dst = io.MultiWriter(h, w)
	}
	n, err := io.CopyBuffer(dst, f, make([]byte, 1<<20))
	if err != nil {
		return "", n, fmt.Errorf("read at %d: %w", n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func mbps(n int64, d time.Duration) float64 {
	return float64(n) / (1 << 20) / d.Seconds()
}

// caseBigFile8M: 8 MiB of random data written, the export remounted, the
// data read back and compared.
func caseBigFile8M(e *env) error {
	const size = 8 << 20
	p := e.path("data")
	t0 := time.Now()
	sum, data, err := writeRandom(p, size, 1<<20, true)
	if err != nil {
		return err
	}
	tw := time.Since(t0)
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(size)), SHA256: sum})
	if err := e.remount(); err != nil {
		return err
	}
	t0 = time.Now()
	var got bytes.Buffer
	got.Grow(size)
	rsum, n, err := hashFile(p, nil, &got)
	if err != nil {
		return err
	}
	tr := time.Since(t0)
	e.note("write %.1f MiB/s, read after remount %.1f MiB/s", mbps(size, tw), mbps(size, tr))
	if n != size {
		return fmt.Errorf("read %d bytes after remount, wrote %d", n, size)
	}
	if rsum != sum {
		first, diff := -1, 0
		for i, b := range got.Bytes() {
			if b != data[i] {
				diff++
				if first < 0 {
					first = i
				}
			}
		}
		return fmt.Errorf("checksum mismatch after remount: wrote sha256 %s, read %s (%d bytes differ, first at offset %d)", sum, rsum, diff, first)
	}
	return nil
}

// caseSmallFiles: 1,000 small files created, listed, stat'ed, read after
// the caches are dropped, removed.
func caseSmallFiles(e *env) error {
	const n = 1000
	content := func(i int) []byte { return []byte(fmt.Sprintf("small file %04d of the vnfsd kernel test\n", i)) }
	name := func(i int) string { return fmt.Sprintf("f%04d", i) }
	for i := 0; i < n; i++ {
		if err := os.WriteFile(e.path(name(i)), content(i), 0o644); err != nil {
			return err
		}
	}
	if err := dropCaches(); err != nil {
		return err
	}
	names, err := readNames(e.dir)
	if err != nil {
		return err
	}
	if err := sameNames(names, n, name); err != nil {
		return fmt.Errorf("listing after create: %w", err)
	}
	for i := 0; i < n; i++ {
		fi, err := os.Lstat(e.path(name(i)))
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || fi.Size() != int64(len(content(i))) || fi.Mode().Perm() != 0o644 {
			return fmt.Errorf("stat %s: mode %v size %d, want regular 0644 size %d", name(i), fi.Mode(), fi.Size(), len(content(i)))
		}
	}
	for i := 0; i < n; i++ {
		b, err := os.ReadFile(e.path(name(i)))
		if err != nil {
			return err
		}
		if !bytes.Equal(b, content(i)) {
			return fmt.Errorf("%s reads %q, wrote %q", name(i), b, content(i))
		}
	}
	for i := 0; i < n; i++ {
		if err := os.Remove(e.path(name(i))); err != nil {
			return err
		}
	}
	names, err = readNames(e.dir)
	if err != nil {
		return err
	}
	if len(names) != 0 {
		return fmt.Errorf("%d entries left after removing all, e.g. %q", len(names), names[0])
	}
	e.host(hostCheck{Path: e.rel(e.dir), Type: "dir", Entries: ptr(0)})
	return nil
}

// readNames lists a directory completely (every READDIR(PLUS) round).
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// sameNames checks that names holds name(0..n-1), each once.
func sameNames(names []string, n int, name func(int) string) error {
	seen := make(map[string]int, len(names))
	for _, s := range names {
		seen[s]++
	}
	var missing, dup, extra []string
	for i := 0; i < n; i++ {
		switch c := seen[name(i)]; {
		case c == 0:
			missing = append(missing, name(i))
		case c > 1:
			dup = append(dup, name(i))
		}
		delete(seen, name(i))
	}
	for s := range seen {
		extra = append(extra, s)
	}
	if len(missing)+len(dup)+len(extra) == 0 && len(names) == n {
		return nil
	}
	short := func(l []string) []string { slices.Sort(l); return l[:min(len(l), 5)] }
	return fmt.Errorf("%d names listed, want %d: %d missing %v, %d duplicated %v, %d unexpected %v",
		len(names), n, len(missing), short(missing), len(dup), short(dup), len(extra), short(extra))
}

// caseMkdirDeep: mkdir -p of a 64-level tree, a file at the bottom, every
// level checked after the caches are dropped, mkdir -p again.
func caseMkdirDeep(e *env) error {
	const depth = 64
	parts := make([]string, depth)
	for i := range parts {
		parts[i] = fmt.Sprintf("level-%02d", i)
	}
	deep := e.path(parts...)
	if err := os.MkdirAll(deep, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(deep, "bottom"), []byte("bottom\n"), 0o644); err != nil {
		return err
	}
	if err := dropCaches(); err != nil {
		return err
	}
	p := e.dir
	for i, part := range parts {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("level %d: %w", i, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("level %d is %v, not a directory", i, fi.Mode())
		}
		names, err := readNames(filepath.Dir(p))
		if err != nil {
			return err
		}
		if len(names) != 1 || names[0] != part {
			return fmt.Errorf("level %d lists %q, want [%s]", i, names, part)
		}
	}
	if b, err := os.ReadFile(filepath.Join(deep, "bottom")); err != nil || string(b) != "bottom\n" {
		return fmt.Errorf("bottom file: %q, %v", b, err)
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		return fmt.Errorf("mkdir -p of an existing tree: %w", err)
	}
	if err := os.Mkdir(deep, 0o755); !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("mkdir of an existing directory: %v, want EEXIST", err)
	}
	e.host(hostCheck{Path: e.rel(filepath.Join(deep, "bottom")), Type: "file", Size: ptr(int64(7))})
	e.note("%d levels, %d bytes of path", depth, len(deep))
	return nil
}

func expectContent(p string, want string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if string(b) != want {
		return fmt.Errorf("%s reads %q, want %q", p, b, want)
	}
	return nil
}

func expectAbsent(p string) error {
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %v, want ENOENT", p, err)
	}
	return nil
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// caseRename: rename across directories of a file, over an existing file,
// of a directory with its contents; a directory into itself fails.
func caseRename(e *env) error {
	a, b := e.path("a"), e.path("b")
	for _, d := range []string{a, b, filepath.Join(a, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	write := func(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
	if err := write(filepath.Join(a, "f"), "moved across"); err != nil {
		return err
	}
	if err := write(filepath.Join(a, "x"), "new content"); err != nil {
		return err
	}
	if err := write(filepath.Join(b, "y"), "old content, to be replaced"); err != nil {
		return err
	}
	if err := write(filepath.Join(a, "sub", "inner"), "inside a moved directory"); err != nil {
		return err
	}
	for _, r := range [][2]string{
		{filepath.Join(a, "f"), filepath.Join(b, "g")},
		{filepath.Join(a, "x"), filepath.Join(b, "y")},
		{filepath.Join(a, "sub"), filepath.Join(b, "sub2")},
	} {
		if err := os.Rename(r[0], r[1]); err != nil {
			return err
		}
	}
	if err := os.Rename(b, filepath.Join(b, "sub2", "loop")); !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("rename of a directory into itself: %v, want EINVAL", err)
	}
	for pass := 0; pass < 2; pass++ {
		for _, p := range []string{filepath.Join(a, "f"), filepath.Join(a, "x"), filepath.Join(a, "sub")} {
			if err := expectAbsent(p); err != nil {
				return err
			}
		}
		for _, c := range [][2]string{
			{filepath.Join(b, "g"), "moved across"},
			{filepath.Join(b, "y"), "new content"},
			{filepath.Join(b, "sub2", "inner"), "inside a moved directory"},
		} {
			if err := expectContent(c[0], c[1]); err != nil {
				return err
			}
		}
		names, err := readNames(b)
		if err != nil {
			return err
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"g", "sub2", "y"}) {
			return fmt.Errorf("b lists %q", names)
		}
		if pass == 0 {
			if err := dropCaches(); err != nil {
				return err
			}
		}
	}
	e.host(hostCheck{Path: e.rel(filepath.Join(a, "f")), Absent: true})
	e.host(hostCheck{Path: e.rel(filepath.Join(b, "g")), Type: "file", SHA256: sha("moved across")})
	e.host(hostCheck{Path: e.rel(filepath.Join(b, "y")), Type: "file", SHA256: sha("new content")})
	e.host(hostCheck{Path: e.rel(filepath.Join(b, "sub2", "inner")), Type: "file", SHA256: sha("inside a moved directory")})
	return nil
}

func statT(p string) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return nil, fmt.Errorf("lstat %s: %w", p, err)
	}
	return &st, nil
}

// caseHardLink: link across directories, one inode with two names, writes
// through one name seen through the other, the original name removed.
func caseHardLink(e *env) error {
	f, sub := e.path("f"), e.path("sub")
	h := filepath.Join(sub, "h")
	if err := os.Mkdir(sub, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(f, []byte("linked "), 0o644); err != nil {
		return err
	}
	if err := os.Link(f, h); err != nil {
		return err
	}
	sf, err := statT(f)
	if err != nil {
		return err
	}
	sh, err := statT(h)
	if err != nil {
		return err
	}
	if sf.Ino != sh.Ino || sf.Nlink != 2 || sh.Nlink != 2 {
		return fmt.Errorf("after link: inodes %d and %d, nlink %d and %d; want one inode, nlink 2", sf.Ino, sh.Ino, sf.Nlink, sh.Nlink)
	}
	fa, err := os.OpenFile(h, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := fa.WriteString("data"); err != nil {
		fa.Close()
		return err
	}
	if err := fa.Close(); err != nil {
		return err
	}
	if err := dropCaches(); err != nil {
		return err
	}
	if err := expectContent(f, "linked data"); err != nil {
		return err
	}
	if err := os.Link(f, h); !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("link to an existing name: %v, want EEXIST", err)
	}
	if err := os.Link(sub, e.path("dirlink")); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("link of a directory: %v, want EPERM", err)
	}
	if err := os.Remove(f); err != nil {
		return err
	}
	if sh, err = statT(h); err != nil {
		return err
	}
	if sh.Nlink != 1 {
		return fmt.Errorf("nlink %d after the other name was removed, want 1", sh.Nlink)
	}
	if err := expectContent(h, "linked data"); err != nil {
		return err
	}
	e.host(hostCheck{Path: e.rel(h), Type: "file", Nlink: ptr(uint64(1)), SHA256: sha("linked data")})
	e.host(hostCheck{Path: e.rel(f), Absent: true})
	return nil
}

// caseSymlink: relative, absolute, dangling and long symlinks; readlink,
// lstat and following them.
func caseSymlink(e *env) error {
	target := e.path("target")
	if err := os.WriteFile(target, []byte("through the link"), 0o644); err != nil {
		return err
	}
	long := strings.Repeat("long/", 200) + "end" // 1003 bytes
	links := []struct{ name, to string }{
		{"rel", "target"},
		{"abs", target},
		{"dangling", "does/not/exist"},
		{"long", long},
	}
	for _, l := range links {
		if err := os.Symlink(l.to, e.path(l.name)); err != nil {
			return fmt.Errorf("symlink %s: %w", l.name, err)
		}
	}
	if err := os.Symlink("x", e.path("rel")); !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("symlink over an existing name: %v, want EEXIST", err)
	}
	if err := dropCaches(); err != nil {
		return err
	}
	for _, l := range links {
		got, err := os.Readlink(e.path(l.name))
		if err != nil {
			return err
		}
		if got != l.to {
			return fmt.Errorf("readlink %s: %q, want %q", l.name, got, l.to)
		}
		fi, err := os.Lstat(e.path(l.name))
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink == 0 || fi.Size() != int64(len(l.to)) {
			return fmt.Errorf("lstat %s: mode %v size %d, want a symlink of size %d", l.name, fi.Mode(), fi.Size(), len(l.to))
		}
		e.host(hostCheck{Path: e.rel(e.path(l.name)), Type: "symlink", Link: ptr(l.to)})
	}
	for _, n := range []string{"rel", "abs"} {
		if err := expectContent(e.path(n), "through the link"); err != nil {
			return err
		}
	}
	if _, err := os.Stat(e.path("dangling")); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat through a dangling symlink: %v, want ENOENT", err)
	}
	return nil
}

// caseTruncate: truncate up (zeros appear), down (data kept up to the new
// size), up again through an open descriptor, checked after dropping the
// caches.
func caseTruncate(e *env) error {
	p := e.path("t")
	data := make([]byte, 10000)
	newRand().Read(data)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	check := func(step string, size int, prefix []byte) error {
		if err := dropCaches(); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(b) != size {
			return fmt.Errorf("%s: size %d, want %d", step, len(b), size)
		}
		if !bytes.Equal(b[:len(prefix)], prefix) {
			return fmt.Errorf("%s: the first %d bytes changed", step, len(prefix))
		}
		for i := len(prefix); i < size; i++ {
			if b[i] != 0 {
				return fmt.Errorf("%s: byte %d is %#x, want 0", step, i, b[i])
			}
		}
		return nil
	}
	if err := os.Truncate(p, 1<<20); err != nil {
		return err
	}
	if err := check("truncate up to 1 MiB", 1<<20, data); err != nil {
		return err
	}
	if err := os.Truncate(p, 100); err != nil {
		return err
	}
	if err := check("truncate down to 100", 100, data[:100]); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(5000); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := check("ftruncate up to 5000", 5000, data[:100]); err != nil {
		return err
	}
	want := append(append([]byte{}, data[:100]...), make([]byte, 4900)...)
	h := sha256.Sum256(want)
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(5000)), SHA256: hex.EncodeToString(h[:])})
	if err := os.Truncate(e.path("missing"), 1); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("truncate of a missing file: %v, want ENOENT", err)
	}
	return nil
}

// caseSparse: data at 0 and at 64 MiB, a hole between that reads as zeros
// and takes no space.
func caseSparse(e *env) error {
	const off = 64 << 20
	p := e.path("sparse")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte("head"), 0); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt([]byte("tail"), off); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := dropCaches(); err != nil {
		return err
	}
	st, err := statT(p)
	if err != nil {
		return err
	}
	if st.Size != off+4 {
		return fmt.Errorf("size %d, want %d", st.Size, off+4)
	}
	r, err := os.Open(p)
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	for _, at := range []int64{4, 1 << 20, 32 << 20, off - int64(len(buf))} {
		if _, err := r.ReadAt(buf, at); err != nil {
			return fmt.Errorf("read at %d: %w", at, err)
		}
		if i := slices.IndexFunc(buf, func(b byte) bool { return b != 0 }); i >= 0 {
			return fmt.Errorf("hole: byte %d is %#x, want 0", at+int64(i), buf[i])
		}
	}
	for _, c := range []struct {
		at   int64
		want string
	}{{0, "head"}, {off, "tail"}} {
		b := make([]byte, 8)
		n, err := r.ReadAt(b, c.at)
		if err != nil && err != io.EOF {
			return err
		}
		if !strings.HasPrefix(string(b[:n]), c.want) {
			return fmt.Errorf("read at %d: %q, want %q", c.at, b[:n], c.want)
		}
	}
	if n, err := r.ReadAt(buf[:16], off+4); n != 0 || err != io.EOF {
		return fmt.Errorf("read at EOF: %d bytes, %v", n, err)
	}
	alloc := st.Blocks * 512
	e.note("size %d, allocated %d bytes", st.Size, alloc)
	if alloc > 8<<20 {
		return fmt.Errorf("%d bytes allocated for a sparse file of %d: the hole was filled", alloc, st.Size)
	}
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(off + 4)), MaxAllocated: ptr(int64(8 << 20))})
	return nil
}

// runChildren starts helper processes (this binary with args), lets them
// go at once by closing their stdin, and returns their standard outputs.
func runChildren(argss ...[]string) ([]string, error) {
	type proc struct {
		p     *os.Process
		start *os.File
		out   *os.File
		bytes []byte
		err   error
	}
	procs := make([]*proc, len(argss))
	defer func() {
		for _, p := range procs {
			if p != nil && p.p != nil {
				p.p.Kill()
			}
		}
	}()
	for i, args := range argss {
		inR, inW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		p, err := os.StartProcess("/proc/self/exe", append([]string{"agent"}, args...), &os.ProcAttr{
			Files: []*os.File{inR, outW, os.Stderr},
		})
		inR.Close()
		outW.Close()
		if err != nil {
			inW.Close()
			outR.Close()
			return nil, err
		}
		procs[i] = &proc{p: p, start: inW, out: outR}
	}
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.bytes, p.err = io.ReadAll(p.out)
			p.out.Close()
		}()
	}
	// Each child blocks reading its stdin; EOF on all of them is the
	// start signal.
	for _, p := range procs {
		p.start.Close()
	}
	wg.Wait()
	outs := make([]string, len(procs))
	var errs []error
	for i, p := range procs {
		st, err := p.p.Wait()
		p.p = nil
		switch {
		case err != nil:
			errs = append(errs, err)
		case !st.Success():
			errs = append(errs, fmt.Errorf("child %q: %v: %s", argss[i], st, strings.TrimSpace(string(p.bytes))))
		case p.err != nil:
			errs = append(errs, p.err)
		}
		outs[i] = string(p.bytes)
	}
	return outs, errors.Join(errs...)
}

// caseAppend: two processes append fixed-size records with O_APPEND; the
// file must hold all of them, whole, each writer's in its order.
func caseAppend(e *env) error {
	const n, size = 1000, 128
	p := e.path("log")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := runChildren(
		[]string{"append", p, "A", fmt.Sprint(n), fmt.Sprint(size)},
		[]string{"append", p, "B", fmt.Sprint(n), fmt.Sprint(size)},
	); err != nil {
		return err
	}
	tw := time.Since(t0)
	if err := dropCaches(); err != nil {
		return err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if len(b) != 2*n*size {
		return fmt.Errorf("file is %d bytes, want %d (2 writers x %d records x %d bytes)", len(b), 2*n*size, n, size)
	}
	next := map[byte]int{'A': 0, 'B': 0}
	switches := 0
	for i := 0; i < 2*n; i++ {
		rec := b[i*size : (i+1)*size]
		id, seq, ok := parseRecord(rec)
		if !ok {
			return fmt.Errorf("record %d at offset %d is torn: %q", i, i*size, rec)
		}
		if seq != next[id] {
			return fmt.Errorf("record %d: writer %c sequence %d, want %d", i, id, seq, next[id])
		}
		next[id]++
		if i > 0 && b[(i-1)*size] != id {
			switches++
		}
	}
	h := sha256.Sum256(b)
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(len(b))), SHA256: hex.EncodeToString(h[:])})
	e.note("%d records, writers interleaved %d times, %v", 2*n, switches, tw.Round(time.Millisecond))
	return nil
}

// record returns the record seq of writer id: "<id> <seq, 6 digits> "
// padded with id to size-1 bytes and a newline.
func record(id byte, seq, size int) []byte {
	r := bytes.Repeat([]byte{id}, size)
	copy(r, fmt.Sprintf("%c %06d ", id, seq))
	r[size-1] = '\n'
	return r
}

func parseRecord(r []byte) (byte, int, bool) {
	if len(r) < 10 {
		return 0, 0, false
	}
	id := r[0]
	var seq int
	if _, err := fmt.Sscanf(string(r[:9]), "%c %06d", new(byte), &seq); err != nil {
		return 0, 0, false
	}
	if !bytes.Equal(r, record(id, seq, len(r))) {
		return 0, 0, false
	}
	return id, seq, true
}

// caseChmodChown: chmod and chown as root (the export has no root
// squash), on a file and a directory, through paths and descriptors.
func caseChmodChown(e *env) error {
	f, d := e.path("f"), e.path("d")
	if err := os.WriteFile(f, []byte("owned"), 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(d, 0o755); err != nil {
		return err
	}
	expect := func(p string, mode, uid, gid uint32) error {
		st, err := statT(p)
		if err != nil {
			return err
		}
		if st.Mode&07777 != mode || st.Uid != uid || st.Gid != gid {
			return fmt.Errorf("%s: mode %04o uid %d gid %d, want %04o %d %d", filepath.Base(p), st.Mode&07777, st.Uid, st.Gid, mode, uid, gid)
		}
		return nil
	}
	steps := []struct {
		what string
		do   func() error
		p    string
		mode uint32
		uid  uint32
		gid  uint32
	}{
		{"chmod 0600", func() error { return os.Chmod(f, 0o600) }, f, 0o600, 0, 0},
		{"chown 1234:5678", func() error { return os.Chown(f, 1234, 5678) }, f, 0o600, 1234, 5678},
		{"chown -1:4321", func() error { return os.Chown(f, -1, 4321) }, f, 0o600, 1234, 4321},
		{"fchmod 0640", func() error {
			h, err := os.Open(f)
			if err != nil {
				return err
			}
			defer h.Close()
			return h.Chmod(0o640)
		}, f, 0o640, 1234, 4321},
		{"chmod 3775 (setgid, sticky) on a directory", func() error { return os.Chmod(d, 0o775|fs.ModeSetgid|fs.ModeSticky) }, d, 0o3775, 0, 0},
		{"chown 0:100 on a directory", func() error { return os.Chown(d, 0, 100) }, d, 0o3775, 0, 100},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		if err := expect(s.p, s.mode, s.uid, s.gid); err != nil {
			return fmt.Errorf("after %s: %w", s.what, err)
		}
	}
	if err := dropCaches(); err != nil {
		return err
	}
	if err := expect(f, 0o640, 1234, 4321); err != nil {
		return fmt.Errorf("after dropping caches: %w", err)
	}
	if err := expect(d, 0o3775, 0, 100); err != nil {
		return fmt.Errorf("after dropping caches: %w", err)
	}
	e.host(hostCheck{Path: e.rel(f), Type: "file", Mode: ptr(uint32(0o640)), UID: ptr(uint32(1234)), GID: ptr(uint32(4321))})
	e.host(hostCheck{Path: e.rel(d), Type: "dir", Mode: ptr(uint32(0o3775)), UID: ptr(uint32(0)), GID: ptr(uint32(100))})
	return nil
}

// caseExclRace: two processes create the same 200 names with O_EXCL at the
// same time; for every name exactly one wins and the other sees EEXIST.
func caseExclRace(e *env) error {
	const n = 200
	outs, err := runChildren(
		[]string{"excl", e.dir, "1", fmt.Sprint(n)},
		[]string{"excl", e.dir, "2", fmt.Sprint(n)},
	)
	if err != nil {
		return err
	}
	won := make([][]string, 2) // by child, per name: W (won) or E (EEXIST)
	for c, out := range outs {
		won[c] = strings.Fields(out)
		if len(won[c]) != n {
			return fmt.Errorf("child %d reported %d outcomes, want %d: %.200q", c+1, len(won[c]), n, out)
		}
	}
	wins := [2]int{}
	for i := 0; i < n; i++ {
		a, b := won[0][i], won[1][i]
		switch {
		case a == "W" && b == "E":
			wins[0]++
		case a == "E" && b == "W":
			wins[1]++
		default:
			return fmt.Errorf("name %d: child 1 %q, child 2 %q; want exactly one winner and one EEXIST", i, a, b)
		}
	}
	if err := dropCaches(); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		want := "1"
		if won[1][i] == "W" {
			want = "2"
		}
		if err := expectContent(filepath.Join(e.dir, fmt.Sprintf("r%03d", i)), want); err != nil {
			return fmt.Errorf("the winner's data: %w", err)
		}
	}
	e.host(hostCheck{Path: e.rel(e.dir), Type: "dir", Entries: ptr(n)})
	e.note("%d names: process 1 won %d, process 2 won %d", n, wins[0], wins[1])
	return nil
}

// caseFsync: fsync and fdatasync succeed and the data is on the server
// (the harness checks the file on the host).
func caseFsync(e *env) error {
	p := e.path("synced")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	r := newRand()
	h := sha256.New()
	var times []string
	for i, sync := range []func(int) error{unix.Fsync, unix.Fdatasync} {
		r.Read(buf)
		h.Write(buf)
		if _, err := f.Write(buf); err != nil {
			return err
		}
		t0 := time.Now()
		if err := sync(int(f.Fd())); err != nil {
			return fmt.Errorf("sync %d: %w", i, err)
		}
		times = append(times, time.Since(t0).Round(time.Millisecond).String())
	}
	if err := unix.Fsync(int(f.Fd())); err != nil {
		return fmt.Errorf("fsync with nothing dirty: %w", err)
	}
	dir, err := os.Open(e.dir)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("fsync of a directory: %w", err)
	}
	e.note("fsync of 1 MiB %s, fdatasync of 1 MiB %s", times[0], times[1])
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(2 << 20)), SHA256: hex.EncodeToString(h.Sum(nil))})
	return f.Close()
}

// caseStatfs: statfs(2) of the mount, which the harness compares with the
// host's statfs of the export directory.
func caseStatfs(e *env) error {
	var s unix.Statfs_t
	if err := unix.Statfs(e.dir, &s); err != nil {
		return err
	}
	if s.Type != unix.NFS_SUPER_MAGIC {
		return fmt.Errorf("f_type %#x, want NFS_SUPER_MAGIC", s.Type)
	}
	e.res.Statfs = &statfsData{Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail, Files: s.Files, Ffree: s.Ffree}
	if s.Bsize <= 0 || s.Blocks == 0 || s.Bfree > s.Blocks || s.Bavail > s.Bfree || s.Ffree > s.Files {
		return fmt.Errorf("inconsistent statfs %+v", s)
	}
	e.note("bsize %d blocks %d bfree %d bavail %d files %d ffree %d", s.Bsize, s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree)
	return nil
}

// caseUnlinkOpen: a file unlinked while open stays readable and writable
// through the descriptor, its name is gone at once, and nothing is left
// once it is closed.
func caseUnlinkOpen(e *env) error {
	p := e.path("doomed")
	data := bytes.Repeat([]byte("still readable through the descriptor\n"), 2000)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Remove(p); err != nil {
		return err
	}
	if err := expectAbsent(p); err != nil {
		return err
	}
	if err := dropCaches(); err != nil {
		return err
	}
	got := make([]byte, len(data))
	if _, err := f.ReadAt(got, 0); err != nil {
		return fmt.Errorf("read through the descriptor after unlink: %w", err)
	}
	if !bytes.Equal(got, data) {
		return errors.New("the data read through the descriptor after unlink differs")
	}
	if _, err := f.WriteAt([]byte("STILL"), 0); err != nil {
		return fmt.Errorf("write through the descriptor after unlink: %w", err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Size != int64(len(data)) {
		return fmt.Errorf("fstat after unlink: size %d, want %d", st.Size, len(data))
	}
	names, err := readNames(e.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == "doomed" {
			return errors.New("the unlinked name is still listed")
		}
	}
	e.note("listing while open: %q", names)
	if err := f.Close(); err != nil {
		return err
	}
	// The client removes its .nfsXXXX rename when the last reference goes.
	deadline := time.Now().Add(15 * time.Second)
	for {
		names, err = readNames(e.dir)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after close, %q still listed", names)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.host(hostCheck{Path: e.rel(e.dir), Type: "dir", Entries: ptr(0)})
	return nil
}

// caseDir10000: a directory of 10,000 entries, listed completely after the
// caches are dropped.
func caseDir10000(e *env) error {
	const n, workers = 10000, 4
	name := func(i int) string { return fmt.Sprintf("entry-%05d", i) }
	t0 := time.Now()
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f, err := os.OpenFile(e.path(name(i)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
				if err == nil {
					err = f.Close()
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	tc := time.Since(t0)
	if err := dropCaches(); err != nil {
		return err
	}
	t0 = time.Now()
	names, err := readNames(e.dir)
	if err != nil {
		return err
	}
	tl := time.Since(t0)
	if err := sameNames(names, n, name); err != nil {
		return err
	}
	// A second listing with the attributes (READDIRPLUS or GETATTRs).
	if err := dropCaches(); err != nil {
		return err
	}
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		return err
	}
	if len(ents) != n {
		return fmt.Errorf("second listing has %d entries, want %d", len(ents), n)
	}
	for _, de := range ents[:100] {
		if _, err := de.Info(); err != nil {
			return err
		}
	}
	e.note("created in %v, listed in %v", tc.Round(time.Millisecond), tl.Round(time.Millisecond))
	e.host(hostCheck{Path: e.rel(e.dir), Type: "dir", Entries: ptr(n)})
	return nil
}

// caseBigFile100M: 100 MiB written and read back after the caches are
// dropped, compared by SHA-256.
func caseBigFile100M(e *env) error {
	const size = 100 << 20
	p := e.path("data")
	t0 := time.Now()
	sum, _, err := writeRandom(p, size, 1<<20, false)
	if err != nil {
		return err
	}
	tw := time.Since(t0)
	e.host(hostCheck{Path: e.rel(p), Type: "file", Size: ptr(int64(size)), SHA256: sum})
	if err := dropCaches(); err != nil {
		return err
	}
	t0 = time.Now()
	rsum, n, err := hashFile(p, nil, nil)
	if err != nil {
		return err
	}
	tr := time.Since(t0)
	e.note("write+fsync %.1f MiB/s, read %.1f MiB/s", mbps(size, tw), mbps(size, tr))
	if n != size {
		return fmt.Errorf("read %d bytes, wrote %d", n, size)
	}
	if rsum != sum {
		return fmt.Errorf("checksum mismatch: wrote sha256 %s, read %s", sum, rsum)
	}
	return nil
}

// caseLocks: POSIX byte-range locks between processes. On NFSv3 they go
// over NLM (lockd, with the agent's rpcbind and statd), on NFSv4 in the
// protocol itself.
//
// Two processes on one mount share an inode, so the client's own lock
// table finds their conflicts before the server is asked. The export is
// therefore mounted a second time with nosharecache (another superblock,
// other inodes): locks taken there conflict with the first mount's only
// on the server, which must deny them (F_SETLK: EAGAIN), describe the
// holder (F_GETLK, NLM TEST) and let a blocked F_SETLKW through once the
// holder unlocks. The server cannot call the guest back (GRANTED) through
// qemu's user networking, so the blocked client learns of it by polling
// again: Linux re-sends a blocked NLM LOCK every 30 s.
func caseLocks(e *env) error {
	p := e.path("locked")
	if err := os.WriteFile(p, make([]byte, 4096), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: 0, Len: 100}
	t0 := time.Now()
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		return fmt.Errorf("F_SETLK [0,100): %w", err)
	}
	// A server in its grace period (it just started) holds new locks
	// back: the client retries until the grace period is over.
	e.note("F_SETLK [0,100) granted in %.1f s", time.Since(t0).Seconds())
	helper := func(args ...string) (string, error) {
		outs, err := runChildren(args)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(outs[0]), nil
	}

	m2 := &mount{source: e.m.source, target: mountPoint + "2", opts: e.m.opts + ",nosharecache"}
	if err := os.MkdirAll(m2.target, 0o755); err != nil {
		return err
	}
	if err := m2.mount(); err != nil {
		return fmt.Errorf("second mount (nosharecache): %w", err)
	}
	defer m2.unmount()
	p2 := filepath.Join(m2.target, strings.TrimPrefix(p, mountPoint))
	if _, err := os.Stat(p2); err != nil {
		return fmt.Errorf("second mount: %w", err)
	}

	for _, path := range []string{p, p2} {
		where := "same mount"
		if path == p2 {
			where = "second mount"
		}
		for _, c := range []struct {
			typ        string
			start, len int
			want       string
		}{
			{"w", 50, 10, "EAGAIN"},
			{"r", 99, 1, "EAGAIN"},
			{"w", 100, 10, "locked"},
			{"r", 200, 100, "locked"},
		} {
			got, err := helper("lock", path, c.typ, fmt.Sprint(c.start), fmt.Sprint(c.len))
			if err != nil {
				return err
			}
			if got != c.want {
				return fmt.Errorf("%s: other process locking %s [%d,%d) while [0,100) is write-locked: %s, want %s", where, c.typ, c.start, c.start+c.len, got, c.want)
			}
		}
		got, err := helper("getlk", path, "w", "50", "10")
		if err != nil {
			return err
		}
		var typ string
		var start, n int64
		var pid int32
		if _, err := fmt.Sscan(got, &typ, &start, &n, &pid); err != nil || typ != "w" || start != 0 || n != 100 {
			return fmt.Errorf("%s: F_GETLK [50,60) while [0,100) is write-locked: %q, want \"w 0 100 PID\"", where, got)
		}
		// The client's own table knows the holder's pid (this process,
		// 1); the server knows an NLM svid, which Linux reports as a
		// pid of 0 or less (a remote lock).
		if path == p && pid != int32(os.Getpid()) {
			return fmt.Errorf("same mount: F_GETLK reports pid %d, want %d", pid, os.Getpid())
		}
		if path == p2 && pid > 0 && e.version == "3" {
			return fmt.Errorf("second mount: F_GETLK reports pid %d, want the NLM holder as a remote lock (<= 0)", pid)
		}
		e.note("%s: F_GETLK holder pid %d", where, pid)
		if got, err := helper("getlk", path, "w", "100", "10"); err != nil || got != "unlocked" {
			return fmt.Errorf("%s: F_GETLK [100,110): %q (%v), want unlocked", where, got, err)
		}
	}

	// F_SETLKW from the second mount waits for the unlock on the first.
	const hold = 3 * time.Second
	type outcome struct {
		out string
		err error
	}
	ch := make(chan outcome, 1)
	go func() {
		out, err := helper("lockw", p2, "w", "50", "10")
		ch <- outcome{out, err}
	}()
	time.Sleep(hold)
	select {
	case o := <-ch:
		return fmt.Errorf("F_SETLKW [50,60) on the second mount returned while [0,100) was held: %q %v", o.out, o.err)
	default:
	}
	lk.Type = unix.F_UNLCK
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	tu := time.Now()
	var o outcome
	select {
	case o = <-ch:
	case <-time.After(100 * time.Second):
		return fmt.Errorf("F_SETLKW [50,60) on the second mount not granted 100 s after the unlock")
	}
	if o.err != nil {
		return fmt.Errorf("F_SETLKW: %w", o.err)
	}
	var waited int64
	if _, err := fmt.Sscanf(o.out, "locked %d", &waited); err != nil {
		return fmt.Errorf("F_SETLKW: %q", o.out)
	}
	e.note("F_SETLKW blocked %.1f s, granted %.1f s after the unlock", float64(waited)/1000, time.Since(tu).Seconds())

	for _, path := range []string{p, p2} {
		got, err := helper("lock", path, "w", "50", "10")
		if err != nil {
			return err
		}
		if got != "locked" {
			return fmt.Errorf("other process locking [50,60) of %s after unlock: %s, want locked", path, got)
		}
	}
	return nil
}
