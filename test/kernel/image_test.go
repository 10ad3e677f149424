package kernel

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// moduleRoots are the modules the guest needs; their dependencies come
// from modules.dep. virtio_pci and virtio_net give eth0 (net_failover and
// failover come in as dependencies), nfsv3 and nfsv4 the NFS client
// (sunrpc, lockd, grace, nfs, ...).
var moduleRoots = []string{"virtio_pci", "virtio_net", "nfsv3", "nfsv4"}

// kernelPackage is a Debian kernel image package.
type kernelPackage struct {
	name    string // linux-image-6.1.0-56-amd64
	version string // 6.1.192-2
}

func (k kernelPackage) String() string { return k.name + "=" + k.version }

// resolveKernel asks apt which kernel linux-image-amd64 currently
// depends on.
func resolveKernel() (kernelPackage, error) {
	out, err := exec.Command("apt-cache", "policy", "linux-image-amd64").CombinedOutput()
	if err != nil {
		return kernelPackage{}, fmt.Errorf("apt-cache policy linux-image-amd64: %v: %s", err, out)
	}
	var cand string
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Candidate:"); ok {
			cand = strings.TrimSpace(v)
		}
	}
	if cand == "" || cand == "(none)" {
		return kernelPackage{}, errors.New("apt knows no candidate for linux-image-amd64")
	}
	out, err = exec.Command("apt-cache", "show", "linux-image-amd64="+cand).CombinedOutput()
	if err != nil {
		return kernelPackage{}, fmt.Errorf("apt-cache show linux-image-amd64=%s: %v: %s", cand, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		deps, ok := strings.CutPrefix(l, "Depends:")
		if !ok {
			continue
		}
		for _, d := range strings.Split(deps, ",") {
			// "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
			f := strings.Fields(strings.TrimSpace(d))
			if len(f) == 3 && strings.HasPrefix(f[0], "linux-image-") && f[1] == "(=" {
				return kernelPackage{name: f[0], version: strings.TrimSuffix(f[2], ")")}, nil
			}
		}
	}
	return kernelPackage{}, fmt.Errorf("linux-image-amd64=%s depends on no linux-image-* package of an exact version", cand)
}

// kernelTree is an extracted kernel package in the cache.
type kernelTree struct {
	pkg     kernelPackage
	dir     string // the extracted package
	release string // 6.1.0-56-amd64
}

func (k *kernelTree) vmlinuz() string { return filepath.Join(k.dir, "boot", "vmlinuz-"+k.release) }
func (k *kernelTree) modDir() string  { return filepath.Join(k.dir, "lib", "modules", k.release) }

// cacheDir is where kernel packages are kept between runs.
func cacheDir() string {
	if d := os.Getenv("VNFSD_KERNEL_CACHE"); d != "" {
		return d
	}
	return "/var/cache/vnfsd-kernel"
}

const completeMarker = ".complete"

// fetchKernel returns the current Debian kernel, extracted and with
// modules.dep, from the cache or downloaded with apt-get into it. When apt
// cannot tell the current version (no package lists, no network) the
// newest complete kernel in the cache is used. logf reports progress.
func fetchKernel(logf func(string, ...any)) (*kernelTree, error) {
	cache := cacheDir()
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	// Parallel test processes share the cache: one downloads, the others
	// wait for it.
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	pkg, err := resolveKernel()
	if err != nil {
		logf("apt cannot resolve the kernel (%v); running apt-get update", err)
		if out, uerr := exec.Command("apt-get", "update", "-qq").CombinedOutput(); uerr != nil {
			logf("apt-get update: %v: %s", uerr, out)
		}
		pkg, err = resolveKernel()
	}
	if err != nil {
		if k := newestCached(cache); k != nil {
			logf("using the cached %s: %v", k.pkg, err)
			return k, nil
		}
		return nil, err
	}
	dir := filepath.Join(cache, pkg.name+"_"+pkg.version)
	if k, err := openTree(pkg, dir); err == nil {
		return k, nil
	}

	logf("downloading %s into %s", pkg, cache)
	t0 := time.Now()
	tmp, err := os.MkdirTemp(cache, "download-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// apt-get download warns that it runs unsandboxed as root when _apt
	// cannot write the directory; let it.
	os.Chmod(tmp, 0o777)
	dl := exec.Command("apt-get", "download", "-q", pkg.String())
	dl.Dir = tmp
	if out, err := dl.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("apt-get download %s: %v: %s", pkg, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return nil, fmt.Errorf("apt-get download %s left %d .deb files", pkg, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x: %v: %s", err, out)
	}
	release, err := findRelease(root)
	if err != nil {
		return nil, err
	}
	// The package ships no modules.dep: its postinst runs depmod.
	if out, err := exec.Command("depmod", "-b", root, release).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("depmod -b %s %s: %v: %s", root, release, err, out)
	}
	if err := os.WriteFile(filepath.Join(root, completeMarker), []byte(pkg.String()+"\n"), 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	if err := os.Rename(root, dir); err != nil {
		return nil, err
	}
	logf("%s downloaded and extracted in %v", pkg, time.Since(t0).Round(time.Millisecond))
	// Older kernels are of no further use.
	old, _ := filepath.Glob(filepath.Join(cache, "linux-image-*"))
	for _, o := range old {
		if o != dir {
			os.RemoveAll(o)
		}
	}
	return openTree(pkg, dir)
}

func openTree(pkg kernelPackage, dir string) (*kernelTree, error) {
	if _, err := os.Stat(filepath.Join(dir, completeMarker)); err != nil {
		return nil, err
	}
	release, err := findRelease(dir)
	if err != nil {
		return nil, err
	}
	k := &kernelTree{pkg: pkg, dir: dir, release: release}
	for _, p := range []string{k.vmlinuz(), filepath.Join(k.modDir(), "modules.dep")} {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// newestCached returns the complete kernel tree in the cache with the
// newest modification time, or nil.
func newestCached(cache string) *kernelTree {
	dirs, _ := filepath.Glob(filepath.Join(cache, "linux-image-*_*"))
	var best *kernelTree
	var bestTime time.Time
	for _, d := range dirs {
		name, version, _ := strings.Cut(filepath.Base(d), "_")
		k, err := openTree(kernelPackage{name, version}, d)
		if err != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join(d, completeMarker))
		if err == nil && fi.ModTime().After(bestTime) {
			best, bestTime = k, fi.ModTime()
		}
	}
	return best
}

// findRelease returns the one kernel release under root/lib/modules.
func findRelease(root string) (string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if err != nil {
		return "", err
	}
	if len(ents) != 1 {
		return "", fmt.Errorf("%d kernel releases in %s/lib/modules, want 1", len(ents), root)
	}
	return ents[0].Name(), nil
}

// moduleName is the name of a module file: the base name without .ko and
// compression suffix, with dashes as underscores (as the kernel names
// modules).
func moduleName(p string) string {
	b := path.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// resolveModules reads modules.dep and modules.builtin and returns the
// module files (relative to the modules directory) needed for roots, each
// after all of its dependencies. Roots built into the kernel are left
// out; a root that is neither is an error.
func resolveModules(modulesDep, modulesBuiltin io.Reader, roots []string) ([]string, error) {
	deps := map[string][]string{} // module file -> dependency files
	byName := map[string]string{} // module name -> module file
	sc := bufio.NewScanner(modulesDep)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		file, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		file = strings.TrimSpace(file)
		deps[file] = strings.Fields(rest)
		byName[moduleName(file)] = file
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	builtin := map[string]bool{}
	if modulesBuiltin != nil {
		sc = bufio.NewScanner(modulesBuiltin)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				builtin[moduleName(l)] = true
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	var order []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(file string, chain []string) error
	visit = func(file string, chain []string) error {
		switch state[file] {
		case 1:
			return fmt.Errorf("dependency cycle: %s", strings.Join(append(chain, file), " -> "))
		case 2:
			return nil
		}
		ds, ok := deps[file]
		if !ok {
			return fmt.Errorf("%s (needed by %s) is not in modules.dep", file, strings.Join(chain, " -> "))
		}
		state[file] = 1
		// Sorted, so that the load order does not depend on the order of
		// modules.dep lines.
		ds = append([]string(nil), ds...)
		sort.Strings(ds)
		for _, d := range ds {
			if err := visit(d, append(chain, file)); err != nil {
				return err
			}
		}
		state[file] = 2
		order = append(order, file)
		return nil
	}
	for _, r := range roots {
		file, ok := byName[moduleName(r)]
		if !ok {
			if builtin[moduleName(r)] {
				continue
			}
			return nil, fmt.Errorf("module %s is neither in modules.dep nor built in", r)
		}
		if err := visit(file, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// readModule returns the contents of a module file, decompressed: .ko.xz
// with xz, .ko.zst with zstd (Debian's tools, as the kernel's own
// decompression may be configured out), .ko.gz with Go.
func readModule(p string) ([]byte, error) {
	var tool []string
	switch {
	case strings.HasSuffix(p, ".ko"):
		return os.ReadFile(p)
	case strings.HasSuffix(p, ".ko.xz"):
		tool = []string{"xz", "-dc", p}
	case strings.HasSuffix(p, ".ko.zst"):
		tool = []string{"zstd", "-dcq", p}
	case strings.HasSuffix(p, ".ko.gz"):
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return io.ReadAll(z)
	default:
		return nil, fmt.Errorf("%s: not a kernel module file name", p)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tool[0], tool[1:]...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", strings.Join(tool, " "), err, stderr.Bytes())
	}
	return out, nil
}

// cpioWriter writes a cpio archive in the "new ASCII" (newc) format that
// the kernel unpacks as initramfs (Documentation/driver-api/early-userspace/
// buffer-format.rst): per entry a 110-byte header of "070701" and thirteen
// 8-digit hexadecimal fields, the NUL-terminated name, padding to a
// multiple of 4, the data, padding to a multiple of 4; a last entry named
// "TRAILER!!!".
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor uint32, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := uint32(1)
	if mode&syscall.S_IFMT == syscall.S_IFDIR {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	var b bytes.Buffer
	b.WriteString(hdr)
	b.WriteString(name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	if _, c.err = c.w.Write(b.Bytes()); c.err != nil {
		return
	}
	if _, c.err = c.w.Write(data); c.err != nil {
		return
	}
	if pad := (4 - len(data)%4) % 4; pad > 0 {
		_, c.err = c.w.Write(make([]byte, pad))
	}
}

func (c *cpioWriter) dir(name string) { c.entry(name, syscall.S_IFDIR|0o755, 0, 0, nil) }
func (c *cpioWriter) file(name string, perm uint32, data []byte) {
	c.entry(name, syscall.S_IFREG|perm, 0, 0, data)
}
func (c *cpioWriter) chardev(name string, perm, major, minor uint32) {
	c.entry(name, syscall.S_IFCHR|perm, major, minor, nil)
}

// close writes the trailer.
func (c *cpioWriter) close() error {
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	return c.err
}

// buildInitramfs writes a gzip-compressed newc cpio archive with the agent
// as /init, the modules (decompressed) under /lib/modules and their load
// order in /etc/vnfsd-modules.
func buildInitramfs(out string, agent string, k *kernelTree) (nmod int, err error) {
	modDir := k.modDir()
	dep, err := os.Open(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return 0, err
	}
	defer dep.Close()
	var builtin io.Reader
	if f, err := os.Open(filepath.Join(modDir, "modules.builtin")); err == nil {
		defer f.Close()
		builtin = f
	}
	mods, err := resolveModules(dep, builtin, moduleRoots)
	if err != nil {
		return 0, err
	}
	init, err := os.ReadFile(agent)
	if err != nil {
		return 0, err
	}

	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	z, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	c := &cpioWriter{w: z}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "mnt", "etc", "lib", "lib/modules"} {
		c.dir(d)
	}
	// The kernel opens /dev/console as stdin/stdout/stderr of /init.
	c.chardev("dev/console", 0o600, 5, 1)
	c.file("init", 0o755, init)
	var list strings.Builder
	for _, m := range mods {
		data, err := readModule(filepath.Join(modDir, m))
		if err != nil {
			return 0, err
		}
		name := "lib/modules/" + moduleName(m) + ".ko"
		c.file(name, 0o644, data)
		list.WriteString("/" + name + "\n")
	}
	c.file("etc/vnfsd-modules", 0o644, []byte(list.String()))
	if err := c.close(); err != nil {
		return 0, err
	}
	if err := z.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return len(mods), f.Close()
}

// goBuild builds a Go package into out with extra environment variables.
func goBuild(out, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}
