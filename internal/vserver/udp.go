package vserver

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
)

// UDP sockets are served lazily. oncrpc.Server.ServePacket holds a
// receive buffer of the largest datagram (64 KiB) while it waits, and a
// vserver has two UDP sockets per address (MOUNT and the portmapper),
// which are idle nearly all the time: with a thousand vservers that is
// 128 MiB of heap for nothing. So a vserver waits for a datagram itself,
// in the netpoller and without a buffer, serves the socket with
// ServePacket while datagrams keep coming, and goes back to waiting when
// none has come for udpIdle.

// udpIdle is how long a UDP socket is served after its last datagram
// (Server.udpIdle, which tests shorten).
const udpIdle = 10 * time.Second

// errIdle ends a ServePacket after udpIdle without a datagram. It is not
// a net.Error timeout, which ServePacket would ride out.
var errIdle = errors.New("vserver: UDP socket idle")

// serveUDP serves pc until Shutdown closes it.
func (s *Server) serveUDP(srv *oncrpc.Server, pc net.PacketConn) error {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return srv.ServePacket(pc)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	ic := &idleUDP{UDPConn: uc, idle: s.udpIdle}
	for {
		if err := waitReadable(rc); err != nil {
			if s.shutdown.Load() {
				return oncrpc.ErrServerClosed
			}
			return err
		}
		if s.shutdown.Load() {
			return oncrpc.ErrServerClosed
		}
		if err := srv.ServePacket(ic); !errors.Is(err, errIdle) {
			return err
		}
		// Clear the idle deadline, which would fail the next wait at
		// once, unless Shutdown has set its own.
		if !ic.clearIdle() {
			return oncrpc.ErrServerClosed
		}
		if s.testHookUDPIdle != nil {
			s.testHookUDPIdle()
		}
	}
}

// clearIdle removes the idle read deadline, unless one was set from
// outside; it reports whether it did.
func (c *idleUDP) clearIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.external {
		return false
	}
	c.UDPConn.SetReadDeadline(time.Time{})
	return true
}

// waitReadable blocks until a datagram is queued on the socket (or the
// socket is closed), without reading it.
func waitReadable(rc syscall.RawConn) error {
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN && err != unix.EINTR
	})
}

// idleUDP is the view of a UDP socket that ServePacket gets: a read that
// waits longer than udpIdle fails with errIdle, and Close does nothing
// (the vserver closes the socket at Shutdown). A read deadline set from
// outside (ServePacket's Shutdown) wins over the idle deadline for good.
type idleUDP struct {
	*net.UDPConn
	idle     time.Duration
	mu       sync.Mutex
	external bool // a read deadline was set by SetReadDeadline
}

func (c *idleUDP) ReadFrom(b []byte) (int, net.Addr, error) {
	c.mu.Lock()
	idle := !c.external
	if idle {
		c.UDPConn.SetReadDeadline(time.Now().Add(c.idle))
	}
	c.mu.Unlock()
	n, addr, err := c.UDPConn.ReadFrom(b)
	var ne net.Error
	if idle && errors.As(err, &ne) && ne.Timeout() {
		c.mu.Lock()
		idle = !c.external
		c.mu.Unlock()
		if idle {
			return 0, nil, errIdle
		}
	}
	return n, addr, err
}

func (c *idleUDP) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.external = true
	return c.UDPConn.SetReadDeadline(t)
}

func (c *idleUDP) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.external = true
	return c.UDPConn.SetDeadline(t)
}

func (c *idleUDP) Close() error { return nil }
