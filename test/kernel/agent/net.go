//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// configureNet brings lo and eth0 up, gives eth0 the address ip and adds a
// default route via gw, with rtnetlink (RFC 3549) requests.
func configureNet(ip netip.Prefix, gw netip.Addr) error {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err
	}
	if err := linkUp(lo.Index); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	// virtio_net probes asynchronously after the module is loaded.
	var eth *net.Interface
	deadline := time.Now().Add(30 * time.Second)
	for {
		eth, err = net.InterfaceByName("eth0")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no eth0 after 30 s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := addrAdd(eth.Index, ip); err != nil {
		return fmt.Errorf("eth0 address %s: %w", ip, err)
	}
	if err := linkUp(eth.Index); err != nil {
		return fmt.Errorf("eth0 up: %w", err)
	}
	if err := defaultRoute(eth.Index, gw); err != nil {
		return fmt.Errorf("default route via %s: %w", gw, err)
	}
	return nil
}

func linkUp(index int) error {
	// struct ifinfomsg: family, pad, type, index, flags, change.
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], unix.IFF_UP)
	binary.NativeEndian.PutUint32(b[12:], unix.IFF_UP)
	return rtnetlink(unix.RTM_NEWLINK, 0, b)
}

func addrAdd(index int, p netip.Prefix) error {
	if !p.Addr().Is4() {
		return errors.New("IPv4 only")
	}
	// struct ifaddrmsg: family, prefixlen, flags, scope, index.
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0] = unix.AF_INET
	b[1] = byte(p.Bits())
	b[3] = unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	a := p.Addr().As4()
	b = append(b, rtattr(unix.IFA_LOCAL, a[:])...)
	b = append(b, rtattr(unix.IFA_ADDRESS, a[:])...)
	return rtnetlink(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, b)
}

func defaultRoute(index int, gw netip.Addr) error {
	if !gw.Is4() {
		return errors.New("IPv4 only")
	}
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope,
	// type, flags.
	b := make([]byte, unix.SizeofRtMsg)
	b[0] = unix.AF_INET
	b[4] = unix.RT_TABLE_MAIN
	b[5] = unix.RTPROT_BOOT
	b[6] = unix.RT_SCOPE_UNIVERSE
	b[7] = unix.RTN_UNICAST
	g := gw.As4()
	var oif [4]byte
	binary.NativeEndian.PutUint32(oif[:], uint32(index))
	b = append(b, rtattr(unix.RTA_GATEWAY, g[:])...)
	b = append(b, rtattr(unix.RTA_OIF, oif[:])...)
	return rtnetlink(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, b)
}

func rtattr(typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b := make([]byte, (l+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], data)
	return b
}

// rtnetlink sends one request and waits for its acknowledgement.
func rtnetlink(typ, flags uint16, body []byte) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	const seq = 1
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return errors.New("short netlink error message")
			}
			if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
				return syscall.Errno(-e)
			}
			return nil
		}
	}
}
