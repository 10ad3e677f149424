package kernel

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// These tests need neither root nor qemu: they cover the parts of the
// harness that the kernel tests rely on.

const testModulesDep = `kernel/fs/nfs/nfsv4.ko: kernel/fs/nfs/nfs.ko kernel/net/sunrpc/sunrpc.ko
kernel/fs/nfs/nfs.ko: kernel/net/sunrpc/sunrpc.ko
kernel/net/sunrpc/sunrpc.ko:
kernel/drivers/net/virtio_net.ko.xz: kernel/net/core/failover.ko.zst kernel/drivers/net/net_failover.ko.xz
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.zst
kernel/net/core/failover.ko.zst:
kernel/x/foo-bar.ko:
`

func TestResolveModules(t *testing.T) {
	builtin := "kernel/drivers/virtio/virtio-pci.ko\n"
	got, err := resolveModules(strings.NewReader(testModulesDep), strings.NewReader(builtin),
		[]string{"nfsv4", "virtio_net", "foo_bar", "virtio_pci", "nfs"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kernel/net/sunrpc/sunrpc.ko", "kernel/fs/nfs/nfs.ko", "kernel/fs/nfs/nfsv4.ko",
		"kernel/net/core/failover.ko.zst", "kernel/drivers/net/net_failover.ko.xz", "kernel/drivers/net/virtio_net.ko.xz",
		"kernel/x/foo-bar.ko",
	}
	if !slices.Equal(got, want) {
		t.Errorf("load order\n got %q\nwant %q", got, want)
	}

	for _, c := range []struct {
		name, dep string
		roots     []string
		want      string
	}{
		{"unknown root", testModulesDep, []string{"nfsv9"}, "neither in modules.dep nor built in"},
		{"missing dependency", "a.ko: b.ko\n", []string{"a"}, "b.ko (needed by a.ko) is not in modules.dep"},
		{"cycle", "a.ko: b.ko\nb.ko: a.ko\n", []string{"a"}, "dependency cycle: a.ko -> b.ko -> a.ko"},
	} {
		_, err := resolveModules(strings.NewReader(c.dep), nil, c.roots)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/fs/nfs/nfsv4.ko":                 "nfsv4",
		"kernel/drivers/virtio/virtio-pci.ko.xz": "virtio_pci",
		"x/rpcsec_gss_krb5.ko.zst":               "rpcsec_gss_krb5",
		"nfs":                                    "nfs",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

// cpioEntry is an entry as read back by parseNewc.
type cpioEntry struct {
	name                 string
	mode, nlink          uint32
	rdevMajor, rdevMinor uint32
	data                 []byte
}

// parseNewc reads a newc archive strictly: magic, hexadecimal fields,
// NUL-terminated names, 4-byte alignment of names and data, the trailer
// last and nothing after it.
func parseNewc(b []byte) ([]cpioEntry, error) {
	var out []cpioEntry
	off := 0
	field := func(i int) (uint32, error) {
		s := string(b[off+6+8*i : off+14+8*i])
		v, err := strconv.ParseUint(s, 16, 32)
		return uint32(v), err
	}
	for {
		if off%4 != 0 {
			return nil, fmt.Errorf("header at %d is not 4-byte aligned", off)
		}
		if len(b)-off < 110 {
			return nil, fmt.Errorf("short header at %d", off)
		}
		if string(b[off:off+6]) != "070701" {
			return nil, fmt.Errorf("bad magic %q at %d", b[off:off+6], off)
		}
		var f [13]uint32
		for i := range f {
			v, err := field(i)
			if err != nil {
				return nil, fmt.Errorf("field %d at %d: %v", i, off, err)
			}
			f[i] = v
		}
		if f[12] != 0 {
			return nil, fmt.Errorf("check field %#x, want 0", f[12])
		}
		namesize, filesize := int(f[11]), int(f[6])
		nameEnd := off + 110 + namesize
		if namesize == 0 || nameEnd > len(b) || b[nameEnd-1] != 0 {
			return nil, fmt.Errorf("bad name at %d", off)
		}
		name := string(b[off+110 : nameEnd-1])
		dataOff := (nameEnd + 3) &^ 3
		if dataOff+filesize > len(b) {
			return nil, fmt.Errorf("%s: data past the end", name)
		}
		for _, p := range b[nameEnd:dataOff] {
			if p != 0 {
				return nil, fmt.Errorf("%s: non-zero name padding", name)
			}
		}
		e := cpioEntry{name: name, mode: f[1], nlink: f[4], rdevMajor: f[9], rdevMinor: f[10], data: b[dataOff : dataOff+filesize]}
		off = (dataOff + filesize + 3) &^ 3
		if off > len(b) {
			return nil, fmt.Errorf("%s: data padding past the end", name)
		}
		if name == "TRAILER!!!" {
			if off != len(b) {
				return nil, fmt.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out, nil
		}
		out = append(out, e)
	}
}

func TestCpioNewc(t *testing.T) {
	var buf bytes.Buffer
	c := &cpioWriter{w: &buf}
	c.dir("dev")
	c.chardev("dev/console", 0o600, 5, 1)
	// Data lengths of every residue modulo 4 and names of every length
	// residue exercise both paddings.
	files := map[string][]byte{"a": {1}, "bb": {1, 2}, "ccc": {1, 2, 3}, "dddd": {1, 2, 3, 4}, "init": bytes.Repeat([]byte{7}, 1001), "empty": nil}
	names := []string{"a", "bb", "ccc", "dddd", "init", "empty"}
	for _, n := range names {
		c.file(n, 0o755, files[n])
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	ents, err := parseNewc(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2+len(names) {
		t.Fatalf("%d entries, want %d", len(ents), 2+len(names))
	}
	if e := ents[0]; e.name != "dev" || e.mode != syscall.S_IFDIR|0o755 || e.nlink != 2 {
		t.Errorf("dir entry %+v", e)
	}
	if e := ents[1]; e.name != "dev/console" || e.mode != syscall.S_IFCHR|0o600 || e.rdevMajor != 5 || e.rdevMinor != 1 || len(e.data) != 0 {
		t.Errorf("device entry %+v", e)
	}
	for i, n := range names {
		e := ents[2+i]
		if e.name != n || e.mode != syscall.S_IFREG|0o755 || !bytes.Equal(e.data, files[n]) {
			t.Errorf("file entry %d: %q mode %o %d bytes, want %q %d bytes", i, e.name, e.mode, len(e.data), n, len(files[n]))
		}
	}
}

func TestReadModule(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("\x7fELF module body "), 1000)
	plain := filepath.Join(dir, "m.ko")
	if err := os.WriteFile(plain, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(data)
	z.Close()
	if err := os.WriteFile(filepath.Join(dir, "g.ko.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{"m.ko", "g.ko.gz"}
	for _, c := range []struct{ tool, ext string }{{"xz", ".xz"}, {"zstd", ".zst"}} {
		if _, err := exec.LookPath(c.tool); err != nil {
			t.Logf("%s not installed: .ko%s not tested", c.tool, c.ext)
			continue
		}
		out, err := exec.Command(c.tool, "-c", plain).Output()
		if err != nil {
			t.Fatal(err)
		}
		name := c.tool + ".ko" + c.ext
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	for _, f := range files {
		got, err := readModule(filepath.Join(dir, f))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("readModule(%s): %d bytes, %v; want the %d bytes of the module", f, len(got), err, len(data))
		}
	}
	os.WriteFile(filepath.Join(dir, "bad.ko.xz"), []byte("not xz"), 0o644)
	if _, err := readModule(filepath.Join(dir, "bad.ko.xz")); err == nil {
		t.Error("readModule of a corrupt .ko.xz succeeded")
	}
	if _, err := readModule(filepath.Join(dir, "m.txt")); err == nil {
		t.Error("readModule of a non-module name succeeded")
	}
}

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want string // result case, event name, "bad" or "" for no message
	}{
		{`VNFSD-RESULT {"version":"3","case":"fsync","status":"pass","ms":1.5}` + "\r\n", "fsync"},
		{`[   12.3] nfs: server 10.0.2.2 OK VNFSD-RESULT {"version":"3","case":"rename","status":"fail","ms":2,"detail":"x"}`, "rename"},
		{`VNFSD-EVENT {"event":"hello","ms":0}`, "hello"},
		{`VNFSD-RESULT {"version":"3","case":"fsync","sta`, "bad"},
		{`VNFSD-RESULT {"version":"3","case":"fsync","status":"pass","ms":1,"surprise":1}`, "bad"},
		{`VNFSD-EVENT {"ms":1}`, "bad"},
		{`[    1.0] Run /init as init process`, ""},
	} {
		m, ok := parseLine(c.line)
		var got string
		switch {
		case !ok:
		case m.bad != "":
			got = "bad"
		case m.result != nil:
			got = m.result.Case
		case m.event != nil:
			got = m.event.Event
		}
		if got != c.want {
			t.Errorf("parseLine(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

func TestCompareStatfs(t *testing.T) {
	dir := t.TempDir()
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		t.Fatal(err)
	}
	// What the Linux client reports for the same numbers: its own block
	// size, totals rounded up to it.
	const bsize = 1 << 20
	bs := uint64(s.Bsize)
	g := &statfsData{Bsize: bsize, Blocks: (s.Blocks*bs + bsize - 1) / bsize, Bfree: s.Bfree * bs / bsize, Bavail: s.Bavail * bs / bsize, Files: s.Files, Ffree: s.Ffree}
	if err := compareStatfs(dir, g); err != nil {
		t.Errorf("the same file system: %v", err)
	}
	bad := *g
	bad.Blocks *= 2
	if err := compareStatfs(dir, &bad); err == nil {
		t.Error("twice the total size accepted")
	}
	bad = *g
	bad.Bsize = 4096 // the right block count with the wrong unit
	bad.Blocks = s.Blocks * bs / bsize
	if err := compareStatfs(dir, &bad); err == nil {
		t.Error("a wrong block size accepted")
	}
}

func TestJudge(t *testing.T) {
	export := t.TempDir()
	if err := os.MkdirAll(filepath.Join(export, "v3", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(export, "v3", "c", "f"), []byte("on the server"), 0o640); err != nil {
		t.Fatal(err)
	}
	size := int64(len("on the server"))
	mode := uint32(0o640)
	good := hostCheck{Path: "c/f", Type: "file", Size: &size, Mode: &mode}
	for _, c := range []struct {
		name      string
		r         result
		skip      bool
		guest     bool
		hostProbs int
	}{
		{"pass", result{Version: "3", Status: "pass", Host: []hostCheck{good, {Path: "c/gone", Absent: true}}}, false, false, 0},
		{"skip", result{Version: "3", Status: "skip", Detail: "why"}, true, false, 0},
		{"guest failure", result{Version: "3", Status: "fail", Detail: "boom", Host: []hostCheck{good}}, false, true, 0},
		{"odd status", result{Version: "3", Status: "maybe"}, false, true, 0},
		{"wrong content", result{Version: "3", Status: "pass", Host: []hostCheck{{Path: "c/f", SHA256: strings.Repeat("0", 64)}}}, false, false, 1},
		{"wrong type", result{Version: "3", Status: "pass", Host: []hostCheck{{Path: "c", Type: "file"}}}, false, false, 1},
		{"not absent", result{Version: "3", Status: "pass", Host: []hostCheck{{Path: "c/f", Absent: true}}}, false, false, 1},
		{"escape", result{Version: "3", Status: "pass", Host: []hostCheck{{Path: "../v3/c/f"}}}, false, false, 1},
		{"missing", result{Version: "3", Status: "pass", Host: []hostCheck{{Path: "c/nope"}}}, false, false, 1},
	} {
		v := judge(export, &c.r)
		if (v.skip != "") != c.skip || (v.guest != "") != c.guest || len(v.host) != c.hostProbs {
			t.Errorf("%s: verdict %+v", c.name, v)
		}
	}
}
