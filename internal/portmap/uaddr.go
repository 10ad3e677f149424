package portmap

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Limits of the strings and buffers decoded from callers. RFC 1833 sets
// none; these are far above anything a real client sends.
const (
	// MaxNetidLen bounds r_netid (netids are short names such as "tcp6").
	MaxNetidLen = 64
	// MaxUaddrLen bounds universal addresses: the longest IPv6 text form
	// (45 bytes) plus ".255.255" fits many times over.
	MaxUaddrLen = 128
	// MaxOwnerLen bounds r_owner.
	MaxOwnerLen = 256
	// MaxTaddrLen bounds the netbuf of TADDR2UADDR (a struct sockaddr).
	MaxTaddrLen = 128
)

var errBadUaddr = errors.New("portmap: malformed universal address")

// UniversalAddr returns the universal address of ap for the TCP and UDP
// netids: "h1.h2.h3.h4.p1.p2" for IPv4 (RFC 1833 section 2) and the IPv6
// text form followed by ".p1.p2" for IPv6 (RFC 5665 section 5.2.3.4), where
// p1 and p2 are the high and low bytes of the port in decimal. An
// IPv4-mapped IPv6 address is written as IPv4; a zone is dropped.
func UniversalAddr(ap netip.AddrPort) string {
	var buf [64]byte
	return string(AppendUniversalAddr(buf[:0], ap))
}

// AppendUniversalAddr appends the universal address of ap to dst.
func AppendUniversalAddr(dst []byte, ap netip.AddrPort) []byte {
	a := ap.Addr().Unmap().WithZone("")
	dst = a.AppendTo(dst)
	p := ap.Port()
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(p>>8), 10)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, uint64(p&0xff), 10)
}

// ParseUniversalAddr parses a TCP or UDP universal address (IPv4 or IPv6).
func ParseUniversalAddr(s string) (netip.AddrPort, error) {
	if len(s) > MaxUaddrLen {
		return netip.AddrPort{}, errBadUaddr
	}
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return netip.AddrPort{}, errBadUaddr
	}
	j := strings.LastIndexByte(s[:i], '.')
	if j < 0 {
		return netip.AddrPort{}, errBadUaddr
	}
	p1, err1 := parseOctet(s[j+1 : i])
	p2, err2 := parseOctet(s[i+1:])
	if err1 != nil || err2 != nil {
		return netip.AddrPort{}, errBadUaddr
	}
	a, err := netip.ParseAddr(s[:j])
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, errBadUaddr
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p1)<<8|uint16(p2)), nil
}

func parseOctet(s string) (uint8, error) {
	if len(s) == 0 || len(s) > 3 {
		return 0, errBadUaddr
	}
	v, err := strconv.ParseUint(s, 10, 8)
	return uint8(v), err
}

// Address families and sizes of the Linux struct sockaddr_in and
// sockaddr_in6, the transport addresses (taddr) that rpcbind on Linux
// exchanges in UADDR2TADDR and TADDR2UADDR. The family is in host byte
// order and the port in network byte order, exactly as in memory.
const (
	afInet       = 2
	afInet6      = 10
	sockaddrIn4  = 16
	sockaddrIn6  = 28
	sockaddrPort = 2
)

// appendTaddr appends the struct sockaddr of ap.
func appendTaddr(dst []byte, ap netip.AddrPort) []byte {
	a := ap.Addr().Unmap()
	if a.Is4() {
		dst = binary.NativeEndian.AppendUint16(dst, afInet)
		dst = binary.BigEndian.AppendUint16(dst, ap.Port())
		b := a.As4()
		dst = append(dst, b[:]...)
		return append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	dst = binary.NativeEndian.AppendUint16(dst, afInet6)
	dst = binary.BigEndian.AppendUint16(dst, ap.Port())
	dst = append(dst, 0, 0, 0, 0) // sin6_flowinfo
	b := a.As16()
	dst = append(dst, b[:]...)
	return append(dst, 0, 0, 0, 0) // sin6_scope_id
}

// parseTaddr decodes a struct sockaddr_in or sockaddr_in6.
func parseTaddr(b []byte) (netip.AddrPort, bool) {
	if len(b) < 2 {
		return netip.AddrPort{}, false
	}
	switch binary.NativeEndian.Uint16(b) {
	case afInet:
		if len(b) < sockaddrIn4 {
			return netip.AddrPort{}, false
		}
		a := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[sockaddrPort:])), true
	case afInet6:
		if len(b) < sockaddrIn6 {
			return netip.AddrPort{}, false
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[sockaddrPort:])), true
	}
	return netip.AddrPort{}, false
}
