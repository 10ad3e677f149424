package oncrpc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
)

type discardReply struct{}

func (discardReply) send(b []byte) {}
func (discardReply) hint() int     { return 0 }

// BenchmarkHandleNull measures the server's per-call path without the
// network: header and AUTH_SYS decode, dispatch, reply encoding.
func BenchmarkHandleNull(b *testing.B) {
	srv := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv.init()
	srv.Mux.Register(Program{Name: "test", Prog: testProg, Low: 2, High: 2, Handler: &testHandler{}})
	call := rawCall(1, 2, testProg, 2, 0, AuthSys, authSysBody("client.example", 4, 0), AuthNone, nil, nil)[4:]
	peer := netip.MustParseAddrPort("127.0.0.1:700")
	b.ReportAllocs()
	for b.Loop() {
		rec := append(getBuf(len(call)), call...)
		srv.handle(rec, peer, peer, discardReply{})
	}
}

// BenchmarkTCPNullRoundTrip measures NULL calls over loopback TCP with 8
// calls in flight.
func BenchmarkTCPNullRoundTrip(b *testing.B) {
	mux := NewMux()
	mux.Register(Program{Name: "test", Prog: testProg, Low: 2, High: 2, Handler: &testHandler{}})
	srv := &Server{Mux: mux, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	c, err := Dial(context.Background(), l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(context.Background(), testProg, 2, 0, AuthNoneCred(), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
