package control

import (
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits and defaults of a server's configuration (docs/api.md).
const (
	MinThreads = 0
	MaxThreads = 8192

	MinLeaseSeconds     = 10
	MaxLeaseSeconds     = 3600
	DefaultLeaseSeconds = 90

	MinMaxIO     = 4 << 10
	MaxMaxIO     = 16 << 20
	DefaultMaxIO = 1 << 20

	DefaultNFSPort     = 2049
	DefaultMountPort   = 20048
	DefaultPortmapPort = 111
	// PortOff as MountPort or PortmapPort does not start that service.
	PortOff = -1

	// MaxListeners bounds the listeners of one server.
	MaxListeners = 64
	// MaxExports bounds the exports of one server.
	MaxExports = 1024
	// MaxExportClients bounds the client networks of one export.
	MaxExportClients = 256
	// MaxVersions bounds the versions list.
	MaxVersions = 8
	// maxDirLen bounds an export's directory path.
	maxDirLen = 4096

	// MaxIDMapUsers and MaxIDMapGroups bound the tables of an id_map.
	MaxIDMapUsers  = 10000
	MaxIDMapGroups = 10000
	// MaxIDMapNameLen bounds a user or group name of an id_map, in bytes.
	MaxIDMapNameLen = 64
	// MaxIDMapDomainLen bounds the domain of an id_map, in bytes (a DNS
	// name).
	MaxIDMapDomainLen = 253
	// maxDomainLabelLen bounds one label of the domain (as DNS).
	maxDomainLabelLen = 63
	// MaxIDMapID is the largest ID of an id_map: 4294967295 is
	// (uid_t)-1, which chown(2) takes for "leave unchanged".
	MaxIDMapID = 1<<32 - 2
)

// nfsVersion is an NFS version of the API: the program version and, for
// NFSv4, the minor version.
type nfsVersion struct{ prog, minor uint32 }

// supportedVersions maps the version names of the API to what the
// vserver serves.
var supportedVersions = map[string]nfsVersion{"3": {3, 0}, "4.0": {4, 0}, "4.1": {4, 1}, "4.2": {4, 2}}

// Listener is one address a server listens on, in the host's network
// namespace (Netns "") or in the network namespace at the path Netns.
type Listener struct {
	Addr  string `json:"addr"`
	Netns string `json:"netns"`
}

// ServerConfig is the configuration of a namespace's server, as stored
// and as given to PUT /v1/server.
type ServerConfig struct {
	// Threads: 0 stops the server; 1..MaxThreads is how many of its
	// requests run at once on the shared pool.
	Threads      int        `json:"threads"`
	Versions     []string   `json:"versions"`
	LeaseSeconds int        `json:"lease_seconds"`
	GraceSeconds int        `json:"grace_seconds"`
	MaxIO        int        `json:"max_io"`
	NFSPort      int        `json:"nfs_port"`
	MountPort    int        `json:"mount_port"`
	PortmapPort  int        `json:"portmap_port"`
	Listeners    []Listener `json:"listeners"`
	// IDMap maps the NFSv4 owner and owner_group strings; nil (the
	// default) sends numeric strings ("1000") only.
	IDMap *IDMapConfig `json:"id_map,omitempty"`
}

// IDMapConfig is the NFSv4 owner mapping of a server (RFC 8881 section
// 5.9): the IDs in Users and Groups go out as "name@Domain", all others
// as decimal numbers ("1000"); coming in, "name@domain" (domain compared
// ignoring ASCII case) is translated through the tables and numbers are
// always accepted. Users and Groups are separate; each maps names to IDs
// one-to-one. An IDMapConfig without a domain and without entries means
// no mapping (normalize makes it nil).
type IDMapConfig struct {
	Domain string           `json:"domain"`
	Users  map[string]int64 `json:"users"`
	Groups map[string]int64 `json:"groups"`
}

// DefaultServerConfig returns the configuration fields omitted from a PUT
// take: stopped, NFSv3, 90 s lease and grace, 1 MiB I/O, standard ports,
// no listeners.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Versions:     []string{"3"},
		LeaseSeconds: DefaultLeaseSeconds,
		GraceSeconds: DefaultLeaseSeconds,
		MaxIO:        DefaultMaxIO,
		NFSPort:      DefaultNFSPort,
		MountPort:    DefaultMountPort,
		PortmapPort:  DefaultPortmapPort,
		Listeners:    []Listener{},
	}
}

// ServerPatch changes the fields that are not nil (PATCH /v1/server).
type ServerPatch struct {
	Threads      *int        `json:"threads"`
	Versions     *[]string   `json:"versions"`
	LeaseSeconds *int        `json:"lease_seconds"`
	GraceSeconds *int        `json:"grace_seconds"`
	MaxIO        *int        `json:"max_io"`
	NFSPort      *int        `json:"nfs_port"`
	MountPort    *int        `json:"mount_port"`
	PortmapPort  *int        `json:"portmap_port"`
	Listeners    *[]Listener `json:"listeners"`
	// IDMap replaces the whole owner mapping; an object without a domain
	// and without entries ({}) removes it. null or absent: unchanged.
	IDMap *IDMapConfig `json:"id_map"`
}

// apply returns cfg with the patch applied.
func (p ServerPatch) apply(cfg ServerConfig) ServerConfig {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cfg.Threads, p.Threads)
	set(&cfg.LeaseSeconds, p.LeaseSeconds)
	set(&cfg.GraceSeconds, p.GraceSeconds)
	set(&cfg.MaxIO, p.MaxIO)
	set(&cfg.NFSPort, p.NFSPort)
	set(&cfg.MountPort, p.MountPort)
	set(&cfg.PortmapPort, p.PortmapPort)
	if p.Versions != nil {
		cfg.Versions = *p.Versions
	}
	if p.Listeners != nil {
		cfg.Listeners = *p.Listeners
	}
	if p.IDMap != nil {
		cfg.IDMap = p.IDMap.clone()
	}
	return cfg
}

func (c ServerConfig) clone() ServerConfig {
	c.Versions = slices.Clone(c.Versions)
	c.Listeners = slices.Clone(c.Listeners)
	c.IDMap = c.IDMap.clone()
	return c
}

func (m *IDMapConfig) clone() *IDMapConfig {
	if m == nil {
		return nil
	}
	return &IDMapConfig{Domain: m.Domain, Users: maps.Clone(m.Users), Groups: maps.Clone(m.Groups)}
}

// normalize checks a configuration and returns it in canonical form
// (canonical address strings, versions in a fixed order). It does no I/O:
// network namespace paths are checked by checkNetns.
func (c ServerConfig) normalize() (ServerConfig, error) {
	c = c.clone()
	if c.Threads < MinThreads || c.Threads > MaxThreads {
		return c, invalidf("threads %d out of range: 0 (stopped) or 1..%d", c.Threads, MaxThreads)
	}
	if len(c.Versions) == 0 {
		return c, invalidf("versions: at least one NFS version is needed (supported: %s)", supportedList())
	}
	if len(c.Versions) > MaxVersions {
		return c, invalidf("versions: %d given, at most %d", len(c.Versions), MaxVersions)
	}
	seenV := map[string]bool{}
	for _, v := range c.Versions {
		if _, ok := supportedVersions[v]; !ok {
			return c, invalidf("versions: %s is not supported (supported: %s)", quote(v), supportedList())
		}
		if seenV[v] {
			return c, invalidf("versions: %s given twice", quote(v))
		}
		seenV[v] = true
	}
	slices.Sort(c.Versions)
	for _, f := range []struct {
		name string
		v    int
	}{{"lease_seconds", c.LeaseSeconds}, {"grace_seconds", c.GraceSeconds}} {
		if f.v < MinLeaseSeconds || f.v > MaxLeaseSeconds {
			return c, invalidf("%s %d out of range %d..%d", f.name, f.v, MinLeaseSeconds, MaxLeaseSeconds)
		}
	}
	if c.MaxIO < MinMaxIO || c.MaxIO > MaxMaxIO {
		return c, invalidf("max_io %d out of range %d..%d", c.MaxIO, MinMaxIO, MaxMaxIO)
	}
	if c.NFSPort < 0 || c.NFSPort > 65535 {
		return c, invalidf("nfs_port %d out of range 0..65535 (0: chosen by the system)", c.NFSPort)
	}
	ports := map[int]string{}
	if c.NFSPort > 0 {
		ports[c.NFSPort] = "nfs_port"
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"mount_port", c.MountPort}, {"portmap_port", c.PortmapPort}} {
		if f.v < PortOff || f.v > 65535 {
			return c, invalidf("%s %d out of range -1..65535 (-1: off, 0: chosen by the system)", f.name, f.v)
		}
		if f.v > 0 {
			if other, dup := ports[f.v]; dup {
				return c, invalidf("%s and %s are both %d", other, f.name, f.v)
			}
			ports[f.v] = f.name
		}
	}
	if c.Listeners == nil {
		c.Listeners = []Listener{}
	}
	if len(c.Listeners) > MaxListeners {
		return c, invalidf("listeners: %d given, at most %d", len(c.Listeners), MaxListeners)
	}
	seenL := map[Listener]bool{}
	for i, l := range c.Listeners {
		nl, err := l.normalize()
		if err != nil {
			return c, err
		}
		if seenL[nl] {
			return c, invalidf("listener %s given twice", nl)
		}
		seenL[nl] = true
		c.Listeners[i] = nl
	}
	if c.IDMap != nil {
		m, err := c.IDMap.normalize()
		if err != nil {
			return c, err
		}
		c.IDMap = m
	}
	return c, nil
}

// normalize checks an owner mapping and returns it in canonical form:
// nil for no mapping (no domain and no entries), empty tables rather
// than absent ones.
func (m *IDMapConfig) normalize() (*IDMapConfig, error) {
	if m.Domain == "" && len(m.Users) == 0 && len(m.Groups) == 0 {
		return nil, nil
	}
	if m.Domain == "" {
		return nil, invalidf("id_map: a domain is needed to map users or groups (an empty id_map {} removes the mapping)")
	}
	if err := checkIDMapDomain(m.Domain); err != nil {
		return nil, err
	}
	out := &IDMapConfig{Domain: m.Domain, Users: maps.Clone(m.Users), Groups: maps.Clone(m.Groups)}
	if out.Users == nil {
		out.Users = map[string]int64{}
	}
	if out.Groups == nil {
		out.Groups = map[string]int64{}
	}
	for _, t := range []struct {
		field string
		max   int
		table map[string]int64
	}{{"id_map.users", MaxIDMapUsers, out.Users}, {"id_map.groups", MaxIDMapGroups, out.Groups}} {
		if len(t.table) > t.max {
			return nil, invalidf("%s: %d given, at most %d", t.field, len(t.table), t.max)
		}
		// In name order, so that the message for a shared ID is always
		// the same.
		byID := make(map[int64]string, len(t.table))
		for _, name := range slices.Sorted(maps.Keys(t.table)) {
			if err := checkIDMapName(t.field, name); err != nil {
				return nil, err
			}
			id := t.table[name]
			if id < 0 || id > MaxIDMapID {
				return nil, invalidf("%s: %s has id %d, out of range 0..%d", t.field, quote(name), id, MaxIDMapID)
			}
			if other, dup := byID[id]; dup {
				return nil, invalidf("%s: %s and %s both have id %d: the mapping must be one-to-one", t.field, quote(other), quote(name), id)
			}
			byID[id] = name
		}
	}
	return out, nil
}

// checkIDMapDomain checks the domain of an owner mapping: a DNS-like
// name of 1..MaxIDMapDomainLen bytes, labels of ASCII letters, digits and
// '-' of 1..maxDomainLabelLen bytes separated by single dots.
func checkIDMapDomain(d string) error {
	if len(d) > MaxIDMapDomainLen {
		return invalidf("id_map.domain %s is %d bytes, at most %d", quote(d), len(d), MaxIDMapDomainLen)
	}
	for _, label := range strings.Split(d, ".") {
		ok := len(label) >= 1 && len(label) <= maxDomainLabelLen
		for i := 0; ok && i < len(label); i++ {
			c := label[i]
			ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
		}
		if !ok {
			return invalidf("id_map.domain %s is not a domain name: labels of letters, digits and '-' (1..%d bytes each) separated by single dots, no leading or trailing dot", quote(d), maxDomainLabelLen)
		}
	}
	return nil
}

// checkIDMapName checks a user or group name of an owner mapping:
// 1..MaxIDMapNameLen bytes of UTF-8 without '@', white space, control
// characters or invisible format characters (Unicode category Cf, such as
// U+200B ZERO WIDTH SPACE).
func checkIDMapName(field, name string) error {
	if len(name) == 0 || len(name) > MaxIDMapNameLen {
		return invalidf("%s: name %s is %d bytes, must be 1..%d", field, quote(name), len(name), MaxIDMapNameLen)
	}
	if !utf8.ValidString(name) {
		return invalidf("%s: name %s is not valid UTF-8", field, quote(name))
	}
	for _, r := range name {
		switch {
		case r == '@':
			return invalidf("%s: name %s holds '@'", field, quote(name))
		case unicode.IsSpace(r):
			return invalidf("%s: name %s holds white space (%U)", field, quote(name), r)
		case unicode.IsControl(r):
			return invalidf("%s: name %s holds a control character (%U)", field, quote(name), r)
		case unicode.Is(unicode.Cf, r):
			return invalidf("%s: name %s holds an invisible format character (%U)", field, quote(name), r)
		}
	}
	return nil
}

func supportedList() string {
	var vs []string
	for v := range supportedVersions {
		vs = append(vs, quote(v))
	}
	slices.Sort(vs)
	return strings.Join(vs, ", ")
}

func (l Listener) String() string {
	if l.Netns == "" {
		return l.Addr
	}
	return l.Addr + " in netns " + l.Netns
}

// normalize checks a listener's syntax and returns it with the canonical
// form of its address.
func (l Listener) normalize() (Listener, error) {
	a, err := parseAddr(l.Addr)
	if err != nil {
		return l, err
	}
	if err := checkNetnsSyntax(l.Netns); err != nil {
		return l, err
	}
	return Listener{Addr: a.String(), Netns: l.Netns}, nil
}

// parseAddr checks a listen address: an IPv4 or IPv6 address (no host
// name, no zone, not multicast); IPv4-mapped IPv6 addresses become IPv4.
func parseAddr(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, invalidf("listener: no address")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, invalidf("listener address %s is not an IP address", quote(s))
	}
	if a.Zone() != "" {
		return a, invalidf("listener address %s: addresses with a zone are not supported", quote(s))
	}
	a = a.Unmap()
	if a.IsMulticast() {
		return a, invalidf("listener address %s is a multicast address", quote(s))
	}
	if a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return a, invalidf("listener address %s is the broadcast address", quote(s))
	}
	return a, nil
}

// checkNetnsSyntax checks the form of a network namespace path: empty (the
// host's) or an absolute, clean path.
func checkNetnsSyntax(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > maxDirLen || !strings.HasPrefix(p, "/") || filepath.Clean(p) != p || strings.ContainsRune(p, 0) {
		return invalidf("netns %s must be empty (the host's network namespace) or an absolute, clean path such as /run/netns/NAME", quote(p))
	}
	return nil
}

// seconds converts seconds of the configuration.
func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// versionNumbers returns the NFS program versions of a normalized
// configuration.
func (c ServerConfig) versionNumbers() []uint32 {
	out := make([]uint32, 0, len(c.Versions))
	for _, v := range c.Versions {
		if p := supportedVersions[v].prog; !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// minor4 returns the NFSv4 minor versions of a normalized configuration.
func (c ServerConfig) minor4() []uint32 {
	var out []uint32
	for _, v := range c.Versions {
		if sv := supportedVersions[v]; sv.prog == 4 {
			out = append(out, sv.minor)
		}
	}
	return out
}

// fixedPorts returns the fixed ports (> 0) of a normalized configuration.
func (c ServerConfig) fixedPorts() []int {
	var out []int
	for _, p := range []int{c.NFSPort, c.MountPort, c.PortmapPort} {
		if p > 0 {
			out = append(out, p)
		}
	}
	return out
}

// listenersConflict reports whether two listeners would compete for the
// same sockets: the same network namespace and family, and the same
// address or an unspecified one on either side.
func listenersConflict(a, b Listener) bool {
	if a.Netns != b.Netns {
		return false
	}
	x, errx := netip.ParseAddr(a.Addr)
	y, erry := netip.ParseAddr(b.Addr)
	if errx != nil || erry != nil {
		return a.Addr == b.Addr // not from normalize: a damaged record
	}
	if x.Is4() != y.Is4() {
		return false
	}
	return x == y || x.IsUnspecified() || y.IsUnspecified()
}

// Export is one export of a server.
type Export struct {
	// ID goes into file handles; vnfsd assigns it and never gives it to
	// another export of the server.
	ID       uint32   `json:"id"`
	Path     string   `json:"path"`
	Dir      string   `json:"dir"`
	ReadOnly bool     `json:"read_only"`
	Squash   string   `json:"squash"`
	AnonUID  uint32   `json:"anon_uid"`
	AnonGID  uint32   `json:"anon_gid"`
	Clients  []string `json:"clients"`
}

// ExportSpec is an export to add (POST /v1/exports).
type ExportSpec struct {
	Path     string `json:"path"`
	Dir      string `json:"dir"`
	ReadOnly bool   `json:"read_only"`
	// Squash is "root" (the default when empty), "none" or "all".
	Squash string `json:"squash"`
	// AnonUID and AnonGID default to 65534.
	AnonUID *uint32  `json:"anon_uid"`
	AnonGID *uint32  `json:"anon_gid"`
	Clients []string `json:"clients"`
}

// Squash values.
const (
	SquashRoot = "root"
	SquashNone = "none"
	SquashAll  = "all"
)
