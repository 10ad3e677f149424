package portmap

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

var testMappings = []Mapping{
	{Prog: 100003, Vers: 3, Netid: "tcp", Port: 2049},
	{Prog: 100005, Vers: 3, Netid: "tcp", Port: 20048},
	{Prog: 100005, Vers: 3, Netid: "udp", Port: 20048},
	{Prog: 100005, Vers: 1, Netid: "udp", Port: 20048},
	{Prog: 100003, Vers: 3, Netid: "tcp6", Port: 2049, Addr: netip.MustParseAddr("fd00::1")},
	{Prog: 100000, Vers: 2, Netid: "tcp", Port: 111},
	{Prog: 100000, Vers: 2, Netid: "udp", Port: 111},
}

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{Mappings: testMappings})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Unix(1700000000, 0) }
	return s
}

// serve runs one call through the program of transport, arriving at
// local from a fixed client.
func serve(s *Server, transport string, local string, vers, proc uint32, args []byte) ([]byte, error) {
	c := &oncrpc.Call{
		XID: 1, Prog: oncrpc.ProgPortmap, Vers: vers, Proc: proc, Args: args,
		Local: netip.MustParseAddrPort(local),
	}
	if c.Local.Addr().Is4() {
		c.Remote = netip.MustParseAddrPort("127.0.0.9:700")
	} else {
		c.Remote = netip.MustParseAddrPort("[fd00::9]:700")
	}
	var w xdr.Writer
	err := s.Program(transport).Handler.ServeRPC(context.Background(), c, &w)
	return w.B, err
}

func enc(f func(w *xdr.Writer)) []byte {
	var w xdr.Writer
	f(&w)
	return w.B
}

func pmapArgs(prog, vers, prot, port uint32) []byte {
	return enc(func(w *xdr.Writer) { w.Uint32(prog); w.Uint32(vers); w.Uint32(prot); w.Uint32(port) })
}

func rpcbArgs(prog, vers uint32, netid, addr, owner string) []byte {
	return enc(func(w *xdr.Writer) {
		w.Uint32(prog)
		w.Uint32(vers)
		w.String(netid)
		w.String(addr)
		w.String(owner)
	})
}

func u32(v uint32) []byte   { return enc(func(w *xdr.Writer) { w.Uint32(v) }) }
func str(s string) []byte   { return enc(func(w *xdr.Writer) { w.String(s) }) }
func boolean(b bool) []byte { return enc(func(w *xdr.Writer) { w.Bool(b) }) }

func TestProcedures(t *testing.T) {
	const lo4 = "127.0.0.5:111"
	const lo6 = "[fd00::1]:111"
	tests := []struct {
		name      string
		transport string
		local     string
		vers      uint32
		proc      uint32
		args      []byte
		want      []byte
		wantErr   error
	}{
		{"v2 null", TCP, lo4, 2, PmapProcNull, nil, nil, nil},
		{"v2 getport nfs tcp", TCP, lo4, 2, PmapProcGetport, pmapArgs(100003, 3, IPProtoTCP, 0), u32(2049), nil},
		{"v2 getport mount udp", UDP, lo4, 2, PmapProcGetport, pmapArgs(100005, 3, IPProtoUDP, 0), u32(20048), nil},
		{"v2 getport other version", TCP, lo4, 2, PmapProcGetport, pmapArgs(100003, 4, IPProtoTCP, 0), u32(2049), nil},
		{"v2 getport nfs udp unregistered", TCP, lo4, 2, PmapProcGetport, pmapArgs(100003, 3, IPProtoUDP, 0), u32(0), nil},
		{"v2 getport unknown prog", TCP, lo4, 2, PmapProcGetport, pmapArgs(100021, 4, IPProtoTCP, 0), u32(0), nil},
		{"v2 getport unknown prot", TCP, lo4, 2, PmapProcGetport, pmapArgs(100003, 3, 99, 0), u32(0), nil},
		{"v2 getport short args", TCP, lo4, 2, PmapProcGetport, []byte{0, 0, 0, 1}, nil, oncrpc.ErrGarbageArgs},
		{"v2 set refused", TCP, lo4, 2, PmapProcSet, pmapArgs(200000, 1, IPProtoTCP, 999), boolean(false), nil},
		{"v2 unset refused", UDP, lo4, 2, PmapProcUnset, pmapArgs(100003, 3, IPProtoTCP, 0), boolean(false), nil},
		{"v2 set garbage", TCP, lo4, 2, PmapProcSet, nil, nil, oncrpc.ErrGarbageArgs},
		{"v2 callit", UDP, lo4, 2, PmapProcCallit, nil, nil, oncrpc.ErrProcUnavail},
		{"v2 proc 6", TCP, lo4, 2, 6, nil, nil, oncrpc.ErrProcUnavail},

		{"v3 getaddr tcp", TCP, lo4, 3, RPCBProcGetaddr, rpcbArgs(100003, 3, "tcp", "", ""), str("127.0.0.5.8.1"), nil},
		{"v3 getaddr netid inferred from transport", TCP, lo4, 3, RPCBProcGetaddr, rpcbArgs(100005, 3, "udp", "", ""), str("127.0.0.5.78.80"), nil},
		{"v4 getaddr udp", UDP, lo4, 4, RPCBProcGetaddr, rpcbArgs(100005, 3, "udp", "", ""), str("127.0.0.5.78.80"), nil},
		{"v4 getaddr nfs over udp unregistered", UDP, lo4, 4, RPCBProcGetaddr, rpcbArgs(100003, 3, "udp", "", ""), str(""), nil},
		{"v4 getaddr other version", UDP, lo4, 4, RPCBProcGetaddr, rpcbArgs(100005, 2, "udp", "", ""), str("127.0.0.5.78.80"), nil},
		{"v4 getaddr tcp6", TCP, lo6, 4, RPCBProcGetaddr, rpcbArgs(100003, 3, "tcp6", "", ""), str("fd00::1.8.1"), nil},
		{"v4 getaddr udp6 unregistered", UDP, lo6, 4, RPCBProcGetaddr, rpcbArgs(100005, 3, "udp6", "", ""), str(""), nil},
		{"v4 getversaddr exact", TCP, lo4, 4, RPCBProcGetversaddr, rpcbArgs(100003, 3, "tcp", "", ""), str("127.0.0.5.8.1"), nil},
		{"v4 getversaddr other version", TCP, lo4, 4, RPCBProcGetversaddr, rpcbArgs(100003, 4, "tcp", "", ""), str(""), nil},
		{"v3 getversaddr is v4 only", TCP, lo4, 3, RPCBProcGetversaddr, rpcbArgs(100003, 3, "tcp", "", ""), nil, oncrpc.ErrProcUnavail},
		{"v3 getaddr netid too long", TCP, lo4, 3, RPCBProcGetaddr, rpcbArgs(100003, 3, string(make([]byte, MaxNetidLen+1)), "", ""), nil, oncrpc.ErrGarbageArgs},
		{"v3 getaddr truncated", TCP, lo4, 3, RPCBProcGetaddr, rpcbArgs(100003, 3, "tcp", "", "")[:12], nil, oncrpc.ErrGarbageArgs},
		{"v3 set refused", TCP, lo4, 3, RPCBProcSet, rpcbArgs(100003, 3, "tcp", "127.0.0.5.3.4", "me"), boolean(false), nil},
		{"v4 unset refused", TCP, lo4, 4, RPCBProcUnset, rpcbArgs(100003, 3, "tcp", "", "me"), boolean(false), nil},
		{"v3 callit", UDP, lo4, 3, RPCBProcCallit, nil, nil, oncrpc.ErrProcUnavail},
		{"v4 bcast", UDP, lo4, 4, RPCBProcCallit, nil, nil, oncrpc.ErrProcUnavail},
		{"v4 indirect", UDP, lo4, 4, RPCBProcIndirect, nil, nil, oncrpc.ErrProcUnavail},
		{"v3 gettime", TCP, lo4, 3, RPCBProcGettime, nil, u32(1700000000), nil},
		{"v3 proc 9", TCP, lo4, 3, 9, nil, nil, oncrpc.ErrProcUnavail},
		{"v4 proc 13", TCP, lo4, 4, 13, nil, nil, oncrpc.ErrProcUnavail},
		{"v3 taddr2uaddr v4", TCP, lo4, 3, RPCBProcTaddr2uaddr,
			enc(func(w *xdr.Writer) {
				w.Uint32(16)
				w.Opaque(appendTaddr(nil, netip.MustParseAddrPort("10.1.2.3:2049")))
			}),
			str("10.1.2.3.8.1"), nil},
		{"v4 taddr2uaddr v6", TCP, lo4, 4, RPCBProcTaddr2uaddr,
			enc(func(w *xdr.Writer) {
				w.Uint32(28)
				w.Opaque(appendTaddr(nil, netip.MustParseAddrPort("[fe80::1:2]:111")))
			}),
			str("fe80::1:2.0.111"), nil},
		{"v4 taddr2uaddr short", TCP, lo4, 4, RPCBProcTaddr2uaddr,
			enc(func(w *xdr.Writer) { w.Uint32(16); w.Opaque([]byte{2, 0, 1}) }), str(""), nil},
		{"v4 taddr2uaddr too long", TCP, lo4, 4, RPCBProcTaddr2uaddr,
			enc(func(w *xdr.Writer) { w.Uint32(16); w.Opaque(make([]byte, MaxTaddrLen+1)) }), nil, oncrpc.ErrGarbageArgs},
		{"v3 uaddr2taddr", TCP, lo4, 3, RPCBProcUaddr2taddr, str("192.168.0.1.0.111"),
			enc(func(w *xdr.Writer) {
				w.Uint32(16)
				w.Opaque(appendTaddr(nil, netip.MustParseAddrPort("192.168.0.1:111")))
			}), nil},
		{"v3 uaddr2taddr bad", TCP, lo4, 3, RPCBProcUaddr2taddr, str("192.168.0.1.0"),
			enc(func(w *xdr.Writer) { w.Uint32(0); w.Uint32(0) }), nil},
		{"v3 getstat is v4 only", TCP, lo4, 3, RPCBProcGetstat, nil, nil, oncrpc.ErrProcUnavail},
		{"v3 getaddrlist is v4 only", TCP, lo4, 3, RPCBProcGetaddrlist, rpcbArgs(100003, 3, "", "", ""), nil, oncrpc.ErrProcUnavail},
		{"v4 getaddrlist mount v3 over ipv4", UDP, lo4, 4, RPCBProcGetaddrlist, rpcbArgs(100005, 3, "", "", ""),
			enc(func(w *xdr.Writer) {
				w.Bool(true)
				w.String("127.0.0.5.78.80")
				w.String("tcp")
				w.Uint32(3)
				w.String("inet")
				w.String("tcp")
				w.Bool(true)
				w.String("127.0.0.5.78.80")
				w.String("udp")
				w.Uint32(1)
				w.String("inet")
				w.String("udp")
				w.Bool(false)
			}), nil},
		{"v4 getaddrlist nfs over ipv6", TCP, lo6, 4, RPCBProcGetaddrlist, rpcbArgs(100003, 3, "", "", ""),
			enc(func(w *xdr.Writer) {
				w.Bool(true)
				w.String("fd00::1.8.1")
				w.String("tcp6")
				w.Uint32(3)
				w.String("inet6")
				w.String("tcp")
				w.Bool(false)
			}), nil},
		{"v4 getaddrlist none", TCP, lo4, 4, RPCBProcGetaddrlist, rpcbArgs(100003, 2, "", "", ""), boolean(false), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			got, err := serve(s, tc.transport, tc.local, tc.vers, tc.proc, tc.args)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("reply\n%x\nwant\n%x", got, tc.want)
			}
		})
	}
}

func TestDumpV2(t *testing.T) {
	s := newTestServer(t)
	got, err := serve(s, TCP, "127.0.0.5:111", 2, PmapProcDump, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := xdr.NewReader(got)
	var list []pmapMapping
	for r.Bool() {
		list = append(list, readPmapMapping(r))
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Fatalf("bad pmaplist: %v, %d bytes left", r.Err(), r.Len())
	}
	want := []pmapMapping{
		{100003, 3, IPProtoTCP, 2049},
		{100005, 3, IPProtoTCP, 20048},
		{100005, 3, IPProtoUDP, 20048},
		{100005, 1, IPProtoUDP, 20048},
		// the tcp6 entry has no version 2 form
		{100000, 2, IPProtoTCP, 111},
		{100000, 2, IPProtoUDP, 111},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("dump %v\nwant %v", list, want)
	}
}

type rpcbEntry struct {
	prog, vers         uint32
	netid, addr, owner string
}

func TestDumpRPCB(t *testing.T) {
	s := newTestServer(t)
	for _, vers := range []uint32{3, 4} {
		got, err := serve(s, UDP, "127.0.0.5:111", vers, RPCBProcDump, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := xdr.NewReader(got)
		var list []rpcbEntry
		for r.Bool() {
			list = append(list, rpcbEntry{r.Uint32(), r.Uint32(), r.String(64), r.String(64), r.String(64)})
		}
		if r.Err() != nil || r.Len() != 0 {
			t.Fatalf("bad rpcblist: %v, %d bytes left", r.Err(), r.Len())
		}
		want := []rpcbEntry{
			{100003, 3, "tcp", "127.0.0.5.8.1", "superuser"},
			{100005, 3, "tcp", "127.0.0.5.78.80", "superuser"},
			{100005, 3, "udp", "127.0.0.5.78.80", "superuser"},
			{100005, 1, "udp", "127.0.0.5.78.80", "superuser"},
			// Called over IPv4: the tcp6 entry shows its own address.
			{100003, 3, "tcp6", "fd00::1.8.1", "superuser"},
			{100000, 2, "tcp", "127.0.0.5.0.111", "superuser"},
			{100000, 2, "udp", "127.0.0.5.0.111", "superuser"},
		}
		if !reflect.DeepEqual(list, want) {
			t.Fatalf("v%d dump %v\nwant %v", vers, list, want)
		}
	}
}

func TestGetstat(t *testing.T) {
	s := newTestServer(t)
	calls := []struct {
		vers, proc uint32
		args       []byte
	}{
		{2, PmapProcNull, nil},
		{2, PmapProcGetport, pmapArgs(100003, 3, IPProtoTCP, 0)},
		{2, PmapProcGetport, pmapArgs(100003, 3, IPProtoTCP, 0)},
		{2, PmapProcGetport, pmapArgs(100021, 4, IPProtoUDP, 0)},
		{3, RPCBProcGetaddr, rpcbArgs(100005, 3, "", "", "")},
		{4, RPCBProcGetversaddr, rpcbArgs(100005, 9, "", "", "")},
		{4, RPCBProcSet, rpcbArgs(1, 1, "tcp", "", "")},
	}
	for _, c := range calls {
		if _, err := serve(s, TCP, "127.0.0.5:111", c.vers, c.proc, c.args); err != nil {
			t.Fatal(err)
		}
	}
	got, err := serve(s, TCP, "127.0.0.5:111", 4, RPCBProcGetstat, nil)
	if err != nil {
		t.Fatal(err)
	}
	type addrinfo struct {
		prog, vers, success, failure uint32
		netid                        string
	}
	r := xdr.NewReader(got)
	var procs [3][statHighProc]uint32
	var addrs [3][]addrinfo
	for v := 0; v < 3; v++ {
		for p := range procs[v] {
			procs[v][p] = r.Uint32()
		}
		if set, unset := r.Uint32(), r.Uint32(); set != 0 || unset != 0 {
			t.Errorf("v%d setinfo %d unsetinfo %d, want 0 (SET is refused)", v+2, set, unset)
		}
		for r.Bool() {
			addrs[v] = append(addrs[v], addrinfo{r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32(), r.String(64)})
		}
		if r.Bool() {
			t.Errorf("v%d rmtinfo not empty", v+2)
		}
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Fatalf("bad rpcb_stat_byvers: %v, %d bytes left", r.Err(), r.Len())
	}
	if procs[0][PmapProcNull] != 1 || procs[0][PmapProcGetport] != 3 || procs[1][RPCBProcGetaddr] != 1 ||
		procs[2][RPCBProcGetversaddr] != 1 || procs[2][RPCBProcSet] != 1 || procs[2][RPCBProcGetstat] != 1 {
		t.Errorf("procedure counts %v", procs)
	}
	want := [3][]addrinfo{
		{{100003, 3, 2, 0, "tcp"}, {100021, 4, 0, 1, "udp"}},
		{{100005, 3, 1, 0, "tcp"}},
		{{100005, 9, 0, 1, "tcp"}},
	}
	if !reflect.DeepEqual(addrs, want) {
		t.Errorf("addrinfo %v\nwant %v", addrs, want)
	}
}

func TestAddrStatsBounded(t *testing.T) {
	s := newTestServer(t)
	for i := uint32(0); i < 3*maxAddrStats; i++ {
		if _, err := serve(s, TCP, "127.0.0.5:111", 2, PmapProcGetport, pmapArgs(300000+i, 1, IPProtoTCP, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.stats.addrs[0]); n != maxAddrStats {
		t.Fatalf("%d lookup records kept, want the bound %d", n, maxAddrStats)
	}
}

func TestSetMappingsValidates(t *testing.T) {
	bad := []Mapping{
		{Prog: 1, Vers: 1, Netid: "sctp", Port: 1},
		{Prog: 1, Vers: 1, Netid: "tcp", Port: 0},
		{Prog: 1, Vers: 1, Netid: "tcp", Port: 1, Addr: netip.MustParseAddr("::1")},
		{Prog: 1, Vers: 1, Netid: "udp6", Port: 1, Addr: netip.MustParseAddr("10.0.0.1")},
	}
	for _, m := range bad {
		if _, err := New(Config{Mappings: []Mapping{m}}); err == nil {
			t.Errorf("mapping %+v accepted", m)
		}
	}
	s := newTestServer(t)
	if err := s.SetMappings([]Mapping{{Prog: 7, Vers: 1, Netid: "udp", Port: 7}}); err != nil {
		t.Fatal(err)
	}
	got, _ := serve(s, TCP, "127.0.0.5:111", 2, PmapProcGetport, pmapArgs(100003, 3, IPProtoTCP, 0))
	if !reflect.DeepEqual(got, u32(0)) {
		t.Fatalf("old registry still answered after SetMappings: %x", got)
	}
}

func TestUniversalAddr(t *testing.T) {
	good := []struct {
		s  string
		ap netip.AddrPort
	}{
		{"127.0.0.1.8.1", netip.MustParseAddrPort("127.0.0.1:2049")},
		{"0.0.0.0.0.111", netip.MustParseAddrPort("0.0.0.0:111")},
		{"10.20.30.40.255.255", netip.MustParseAddrPort("10.20.30.40:65535")},
		{"::1.0.111", netip.MustParseAddrPort("[::1]:111")},
		{"fe80::a:b.78.80", netip.MustParseAddrPort("[fe80::a:b]:20048")},
	}
	for _, g := range good {
		if s := UniversalAddr(g.ap); s != g.s {
			t.Errorf("UniversalAddr(%v) = %q, want %q", g.ap, s, g.s)
		}
		ap, err := ParseUniversalAddr(g.s)
		if err != nil || ap != g.ap {
			t.Errorf("ParseUniversalAddr(%q) = %v, %v; want %v", g.s, ap, err, g.ap)
		}
	}
	if s := UniversalAddr(netip.MustParseAddrPort("[::ffff:10.0.0.1]:2049")); s != "10.0.0.1.8.1" {
		t.Errorf("mapped address written as %q", s)
	}
	bad := []string{
		"", ".", "..", "1.2.3.4", "1.2.3.4.5", "1.2.3.4.256.1", "1.2.3.4.1.-1", "1.2.3.4.1.+1",
		"1.2.3.4..1", "1.2.3.4.1.", "1.2.3.4.5.6.7", "::1.1", "fe80::1%eth0.0.1", "host.0.111",
		"1.2.3.4.0001.1", string(make([]byte, MaxUaddrLen+1)),
	}
	for _, b := range bad {
		if ap, err := ParseUniversalAddr(b); err == nil {
			t.Errorf("ParseUniversalAddr(%q) accepted: %v", b, ap)
		}
	}
}

func TestTaddr(t *testing.T) {
	for _, s := range []string{"127.0.0.1:111", "[2001:db8::7]:2049"} {
		ap := netip.MustParseAddrPort(s)
		b := appendTaddr(nil, ap)
		if len(b) != sockaddrIn4 && len(b) != sockaddrIn6 {
			t.Fatalf("taddr of %v has %d bytes", ap, len(b))
		}
		got, ok := parseTaddr(b)
		if !ok || got != ap {
			t.Errorf("taddr round trip of %v gave %v %v", ap, got, ok)
		}
	}
	for _, b := range [][]byte{nil, {2}, {2, 0, 0, 111, 127, 0, 0}, {10, 0, 0, 111}, {99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if ap, ok := parseTaddr(b); ok {
			t.Errorf("parseTaddr(%x) accepted: %v", b, ap)
		}
	}
}

// FuzzServeRPC feeds arbitrary arguments to every procedure of every
// version on both transports: no input may panic or produce a reply that
// is not a whole number of XDR units.
func FuzzServeRPC(f *testing.F) {
	f.Add(uint8(2), uint8(3), false, pmapArgs(100003, 3, 6, 0))
	f.Add(uint8(4), uint8(3), true, rpcbArgs(100005, 3, "udp", "", ""))
	f.Add(uint8(3), uint8(7), false, str("127.0.0.1.0.111"))
	f.Add(uint8(4), uint8(8), false, enc(func(w *xdr.Writer) { w.Uint32(16); w.Opaque(appendTaddr(nil, netip.MustParseAddrPort("[::1]:1"))) }))
	f.Add(uint8(4), uint8(11), true, rpcbArgs(100003, 3, "", "", ""))
	s, err := New(Config{Mappings: testMappings})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, vers, proc uint8, udp bool, args []byte) {
		transport := TCP
		if udp {
			transport = UDP
		}
		for _, local := range []string{"127.0.0.5:111", "[fd00::1]:111"} {
			reply, err := serve(s, transport, local, 2+uint32(vers%3), uint32(proc%16), args)
			if err == nil && len(reply)%4 != 0 {
				t.Fatalf("reply of %d bytes", len(reply))
			}
			if err != nil && !errors.Is(err, oncrpc.ErrGarbageArgs) && !errors.Is(err, oncrpc.ErrProcUnavail) {
				t.Fatalf("unexpected error %v", err)
			}
		}
	})
}
