package nsm

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// Callbacks: both NSM (SM_NOTIFY to the clients' status monitors) and NLM
// (GRANTED and the _RES messages to the clients' lock managers) call
// services on client hosts. They locate the service through the host's
// portmapper (program 100000 version 2, GETPORT, RFC 1833 section 3) at
// port 111 and call it over TCP, one connection per call.

// PortmapPort is the well-known port of the portmapper.
const PortmapPort = 111

// Portmapper program, version and procedure (RFC 1833 section 3).
const (
	pmapVers    = 2
	pmapGetport = 3
	ipprotoTCP  = 6
)

// Dialer opens a TCP connection to remote for a callback. local is the
// address the peer knows this server by (the address its calls arrived
// at): a virtual server should originate callbacks from it (the Linux
// client matches a GRANTED callback against the server's address), and
// from its network namespace. It is invalid when unknown.
type Dialer func(ctx context.Context, local netip.Addr, remote netip.AddrPort) (net.Conn, error)

// DialTCP is the default Dialer: a TCP connection from local (any port)
// in the current network namespace.
func DialTCP(ctx context.Context, local netip.Addr, remote netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	if local.IsValid() && !local.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: local.AsSlice(), Zone: local.Zone()}
	}
	return d.DialContext(ctx, "tcp", remote.String())
}

func call(ctx context.Context, dial Dialer, local netip.Addr, remote netip.AddrPort,
	prog, vers, proc uint32, cred oncrpc.Cred, args []byte) ([]byte, error) {
	nc, err := dial(ctx, local, remote)
	if err != nil {
		return nil, err
	}
	c := oncrpc.NewClient(nc)
	defer c.Close()
	res, err := c.Call(ctx, prog, vers, proc, cred, args)
	if err != nil {
		return nil, err
	}
	// The results alias the client's record, which Close does not reuse.
	return res, nil
}

// GetPort asks the portmapper of host for the TCP port of prog, vers.
func GetPort(ctx context.Context, dial Dialer, local, host netip.Addr, prog, vers uint32) (uint16, error) {
	var w xdr.Writer
	w.Uint32(prog)
	w.Uint32(vers)
	w.Uint32(ipprotoTCP)
	w.Uint32(0)
	res, err := call(ctx, dial, local, netip.AddrPortFrom(host, PortmapPort), oncrpc.ProgPortmap, pmapVers, pmapGetport, oncrpc.AuthNoneCred(), w.B)
	if err != nil {
		return 0, fmt.Errorf("portmapper of %s: %w", host, err)
	}
	r := xdr.NewReader(res)
	port := r.Uint32()
	if r.Err() != nil || port > 65535 {
		return 0, fmt.Errorf("portmapper of %s: bad GETPORT reply", host)
	}
	if port == 0 {
		return 0, fmt.Errorf("portmapper of %s: program %d version %d not registered over tcp", host, prog, vers)
	}
	return uint16(port), nil
}

// CallHost calls procedure proc of prog, vers on host, found through the
// host's portmapper, and returns the results.
func CallHost(ctx context.Context, dial Dialer, local, host netip.Addr, prog, vers, proc uint32,
	cred oncrpc.Cred, args []byte) ([]byte, error) {
	if dial == nil {
		dial = DialTCP
	}
	port, err := GetPort(ctx, dial, local, host, prog, vers)
	if err != nil {
		return nil, err
	}
	return call(ctx, dial, local, netip.AddrPortFrom(host, port), prog, vers, proc, cred, args)
}
