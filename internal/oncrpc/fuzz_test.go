package oncrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/vnfsd/vnfsd/internal/xdr"
)

type captureReply struct{ out [][]byte }

func (c *captureReply) send(b []byte) { c.out = append(c.out, append([]byte(nil), b...)) }
func (c *captureReply) hint() int     { return 0 }

// FuzzRecordAndCall feeds arbitrary bytes to the stream decoder (record
// marking) and every record it yields to the server's call path: decode,
// authentication, dispatch, reply encoding. Nothing may panic; every
// reply must be a well-formed reply to the call's XID.
func FuzzRecordAndCall(f *testing.F) {
	f.Add(rawCall(1, 2, testProg, 2, 1, AuthNone, nil, AuthNone, nil, []byte("args")))
	f.Add(rawCall(2, 2, testProg, 3, 6, AuthSys, authSysBody("host", 3, 0), AuthNone, nil, nil))
	f.Add(rawCall(3, 3, 1, 1, 1, AuthNone, nil, AuthNone, nil, nil))
	f.Add(append(rawCall(4, 2, testProg, 2, 9, AuthNone, nil, AuthNone, nil, []byte{0, 0, 1, 0}), 0, 0, 0, 4, 1, 2, 3, 4))
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 1, 0x80, 0, 0, 4, 0, 0, 0, 0})
	srv := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DRC: NewDRC(8)}
	srv.init()
	h := &testHandler{release: make(chan struct{})}
	close(h.release)
	srv.Mux.Register(Program{Name: "test", Prog: testProg, Low: 2, High: 3, Handler: h,
		NonIdempotent: func(vers, proc uint32) bool { return proc == 6 }})
	peer := netip.MustParseAddrPort("127.0.0.1:700")
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		for {
			rec, err := readRecord(r, 1<<16)
			if err != nil {
				return
			}
			if len(rec) >= 8 && binary.BigEndian.Uint32(rec[4:]) == MsgCall && len(rec) >= 16 &&
				binary.BigEndian.Uint32(rec[12:]) == testProg && len(rec) >= 24 && binary.BigEndian.Uint32(rec[20:]) == 9 {
				continue // the big-reply procedure would allocate what the input asks
			}
			xid := uint32(0)
			if len(rec) >= 4 {
				xid = binary.BigEndian.Uint32(rec)
			}
			cr := &captureReply{}
			srv.handle(rec, peer, peer, cr)
			for _, b := range cr.out {
				if len(b) < 16 { // 4 reserved for the record mark, then at least xid, mtype, reply_stat
					t.Fatalf("short reply %x", b)
				}
				if _, err := ParseReply(b[4:], xid); err != nil {
					if _, ok := err.(*RPCError); !ok {
						t.Fatalf("malformed reply %x: %v", b, err)
					}
				}
			}
		}
	})
}

// FuzzDecodeCall checks the call header decoder alone.
func FuzzDecodeCall(f *testing.F) {
	f.Add(rawCall(1, 2, 100003, 3, 1, AuthSys, authSysBody("h", 16, 0), AuthNone, nil, nil)[4:])
	f.Fuzz(func(t *testing.T, rec []byte) {
		var c Call
		err := DecodeCall(rec, &c)
		if err == nil {
			if c.CredFlavor == AuthSys && (c.Sys == nil || len(c.Sys.GIDs) > MaxAuthSysGIDs || len(c.Sys.Machine) > MaxMachineName) {
				t.Fatalf("accepted bad AUTH_SYS %+v", c.Sys)
			}
			if len(c.Args) > len(rec) {
				t.Fatal("args beyond record")
			}
		}
	})
}

// FuzzParseReply checks the reply decoder, which reads what a client
// sends back on a back channel: it never panics, and an accepted
// SUCCESS reply yields exactly the bytes after its header.
func FuzzParseReply(f *testing.F) {
	var w xdr.Writer
	appendAccepted(&w, 7, Success)
	w.Uint32(0xabcd)
	f.Add(w.B, uint32(7))
	w = xdr.Writer{}
	appendAuthError(&w, 7, AuthTooWeak)
	f.Add(w.B, uint32(7))
	w = xdr.Writer{}
	appendRPCMismatch(&w, 9)
	f.Add(w.B, uint32(9))
	f.Fuzz(func(t *testing.T, rec []byte, xid uint32) {
		res, err := ParseReply(rec, xid)
		if err != nil {
			return
		}
		if len(res) > len(rec) || (len(res) > 0 && &res[len(res)-1] != &rec[len(rec)-1]) {
			t.Fatalf("results %x are not the record's tail", res)
		}
		if len(rec) < 24 || binary.BigEndian.Uint32(rec) != xid {
			t.Fatalf("accepted a reply of another xid or too short: %x", rec)
		}
	})
}

// FuzzRecordReader checks the incremental record decoder of poll mode
// against readRecord: fed the same stream in pieces of the sizes cuts
// gives, it must yield the same records and end the same way (clean
// EOF, EOF inside a record, or a record over the limit).
func FuzzRecordReader(f *testing.F) {
	call := rawCall(1, 2, testProg, 2, 1, AuthNone, nil, AuthNone, nil, []byte("args"))
	f.Add(append(call, call...), []byte{0, 3, 200})
	f.Add([]byte{0, 0, 0, 2, 'a', 'b', 0x80, 0, 0, 1, 'c', 0x80, 0}, []byte{1})
	big := binary.BigEndian.AppendUint32(nil, lastFragment|20000)
	f.Add(append(big, make([]byte, 20000)...), []byte{255, 7})
	f.Add([]byte{0x80, 0x01, 0, 0, 1, 2}, []byte(nil))
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		const max = 1 << 16
		var want [][]byte
		var wantErr error
		r := bytes.NewReader(stream)
		for {
			rec, err := readRecord(r, max)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, bytes.Clone(rec))
			putBuf(rec)
		}
		pos, ci := 0, 0
		read := func(b []byte) (int, error) {
			if pos == len(stream) {
				return 0, io.EOF
			}
			n := len(b)
			if len(cuts) > 0 {
				n = min(n, int(cuts[ci%len(cuts)])*97+1)
				ci++
			}
			n = min(n, len(stream)-pos)
			copy(b, stream[pos:pos+n])
			pos += n
			return n, nil
		}
		rr := recordReader{max: max}
		defer rr.release()
		var got [][]byte
		var gotErr error
		for {
			rec, err := rr.next()
			if err != nil {
				gotErr = err
				break
			}
			if rec != nil {
				got = append(got, bytes.Clone(rec))
				putBuf(rec)
				continue
			}
			if n, err := rr.fill(read); n == 0 && err == io.EOF {
				gotErr = io.EOF
				if rr.midRecord() {
					gotErr = io.ErrUnexpectedEOF
				}
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, readRecord gave %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("record %d differs", i)
			}
		}
		if errors.Is(wantErr, ErrRecordTooLarge) != errors.Is(gotErr, ErrRecordTooLarge) ||
			(wantErr == io.EOF) != (gotErr == io.EOF) {
			t.Fatalf("ends with %v, readRecord with %v", gotErr, wantErr)
		}
	})
}
