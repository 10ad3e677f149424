package nfs4client

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/vnfsd/vnfsd/internal/oncrpc"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// slotServer is a fake NFSv4.1 server for ConcurrentSession: it answers
// COMPOUNDs of SEQUENCE and PUTROOTFH on one session, checking the slot
// rules of RFC 8881 section 2.10.6.1 and recording what it saw.
type slotServer struct {
	t     *testing.T
	ln    net.Listener
	sid   SessionID
	slots int

	mu          sync.Mutex
	last        []uint32 // sequence id last executed per slot
	inFlight    []bool
	cur, peak   int // requests in progress now, at most
	maxSlotSeen uint32
	calls       int
	violations  []string
	target      uint32
	delayEvery  int // every n-th call gets NFS4ERR_DELAY on SEQUENCE
	delays      int
	release     chan struct{} // tag "hold": wait for this before replying
}

func newSlotServer(t *testing.T, slots int) *slotServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &slotServer{t: t, ln: ln, slots: slots, last: make([]uint32, slots), inFlight: make([]bool, slots),
		target: uint32(slots - 1), release: make(chan struct{})}
	copy(s.sid[:], "fake-session-id!")
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *slotServer) violate(msg string) {
	s.violations = append(s.violations, msg)
}

func (s *slotServer) serve() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			var wmu sync.Mutex
			for {
				var hdr [4]byte
				if _, err := io.ReadFull(nc, hdr[:]); err != nil {
					return
				}
				rec := make([]byte, binary.BigEndian.Uint32(hdr[:])&0x7fffffff)
				if _, err := io.ReadFull(nc, rec); err != nil {
					return
				}
				go func() {
					reply := s.handle(rec)
					wmu.Lock()
					nc.Write(reply)
					wmu.Unlock()
				}()
			}
		}()
	}
}

// handle executes one call and returns the reply record.
func (s *slotServer) handle(rec []byte) []byte {
	var call oncrpc.Call
	if err := oncrpc.DecodeCall(rec, &call); err != nil {
		s.t.Errorf("fake server: %v", err)
		return nil
	}
	r := xdr.NewReader(call.Args)
	tag := r.String(64)
	r.Uint32() // minor
	n := r.Uint32()
	op := r.Uint32()
	var sid SessionID
	copy(sid[:], r.Fixed(16))
	seq, slot, highest, _ := r.Uint32(), r.Uint32(), r.Uint32(), r.Bool()
	if r.Err() != nil || n < 1 || op != OP_SEQUENCE {
		s.t.Errorf("fake server: bad COMPOUND (%v, %d ops, first %d)", r.Err(), n, op)
		return nil
	}

	status := NFS4_OK
	s.mu.Lock()
	s.calls++
	switch {
	case sid != s.sid:
		status = NFS4ERR_BADSESSION
	case slot >= uint32(s.slots):
		status = NFS4ERR_BADSLOT
		s.violate("slot above the table")
	case highest < slot || highest >= uint32(s.slots):
		status = NFS4ERR_BAD_HIGH_SLOT
		s.violate("bad highest_slotid")
	case s.inFlight[slot]:
		s.violate("slot used while a request is in progress on it")
		status = NFS4ERR_DELAY
	case seq != s.last[slot]+1:
		s.violate("sequence id not the next one")
		status = NFS4ERR_SEQ_MISORDERED
	case s.delayEvery > 0 && s.calls%s.delayEvery == 0:
		status = NFS4ERR_DELAY // the slot is not used
		s.delays++
	default:
		s.inFlight[slot] = true
		s.last[slot] = seq
		s.cur++
		s.peak = max(s.peak, s.cur)
		s.maxSlotSeen = max(s.maxSlotSeen, slot)
	}
	target, rel := s.target, s.release
	s.mu.Unlock()

	if status == NFS4_OK {
		switch tag {
		case "hold":
			<-rel
		case "badseq":
			seq += 100
		default:
			time.Sleep(200 * time.Microsecond)
		}
		s.mu.Lock()
		s.inFlight[slot] = false
		s.cur--
		s.mu.Unlock()
	}

	var w xdr.Writer
	w.Reserve(4)
	w.Uint32(call.XID)
	w.Uint32(1) // REPLY
	w.Uint32(0) // MSG_ACCEPTED
	w.Uint32(0) // verifier AUTH_NONE
	w.Uint32(0)
	w.Uint32(0) // SUCCESS
	w.Uint32(uint32(status))
	w.String(tag)
	if status != NFS4_OK {
		w.Uint32(1)
		w.Uint32(OP_SEQUENCE)
		w.Uint32(uint32(status))
	} else {
		w.Uint32(2)
		w.Uint32(OP_SEQUENCE)
		w.Uint32(0)
		w.Fixed(sid[:])
		w.Uint32(seq)
		w.Uint32(slot)
		w.Uint32(uint32(s.slots - 1))
		w.Uint32(target)
		w.Uint32(0)
		w.Uint32(OP_PUTROOTFH)
		w.Uint32(0)
	}
	w.PutUint32At(0, 0x80000000|uint32(w.Len()-4))
	return w.B
}

func (s *slotServer) session(t *testing.T) *ConcurrentSession {
	c, err := Dial(context.Background(), s.ln.Addr().String(), oncrpc.AuthNoneCred())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return NewConcurrentSession(c, 1, 7, &CreateSessionRes{Sessionid: s.sid, Fore: ChannelAttrs{MaxRequests: uint32(s.slots)}})
}

// TestConcurrentSessionSlots: many goroutines share 4 slots; every slot
// is used in order, never twice at once, all of them are used, and a
// SEQUENCE that fails does not consume the sequence id.
func TestConcurrentSessionSlots(t *testing.T) {
	srv := newSlotServer(t, 4)
	srv.delayEvery = 7
	s := srv.session(t)
	if s.Slots() != 4 {
		t.Fatalf("%d slots", s.Slots())
	}
	const goroutines, calls = 16, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, delayed := 0, 0
	for range goroutines {
		wg.Go(func() {
			for range calls {
				res, err := s.Do(context.Background(), Putrootfh())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				switch {
				case res.Status == NFS4_OK && len(res.Ops) == 2:
					ok++
				case res.Status == NFS4ERR_DELAY && res.Ops[0].Op == OP_SEQUENCE:
					delayed++
				default:
					t.Errorf("result %v %+v", res.Status, res.Ops)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.violations) > 0 {
		t.Fatalf("slot rules broken %d times, first: %q", len(srv.violations), srv.violations[0])
	}
	if ok+delayed != goroutines*calls || delayed != srv.delays || delayed == 0 {
		t.Fatalf("%d ok, %d delayed (server: %d delays)", ok, delayed, srv.delays)
	}
	if srv.peak != 4 || srv.maxSlotSeen != 3 {
		t.Fatalf("peak %d requests in progress, highest slot %d: want all 4 slots used", srv.peak, srv.maxSlotSeen)
	}
	var sum uint32
	for _, v := range srv.last {
		sum += v
	}
	if int(sum) != ok {
		t.Fatalf("sequence ids executed %d, successful calls %d", sum, ok)
	}
}

// TestConcurrentSessionTarget: after a reply lowering
// sr_target_highest_slotid to 1, only slots 0 and 1 are used.
func TestConcurrentSessionTarget(t *testing.T) {
	srv := newSlotServer(t, 8)
	srv.target = 1
	s := srv.session(t)
	if _, err := s.MustDo(context.Background(), Putrootfh()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := s.MustDo(context.Background(), Putrootfh()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.violations) > 0 || srv.maxSlotSeen != 1 || srv.peak != 2 {
		t.Fatalf("%d violations, highest slot %d, peak %d: want slots 0 and 1 only", len(srv.violations), srv.maxSlotSeen, srv.peak)
	}
}

// TestConcurrentSessionLostReply: a call abandoned before its reply
// retires its slot, which is not used again; a reply for another
// sequence id is an error.
func TestConcurrentSessionLostReply(t *testing.T) {
	srv := newSlotServer(t, 2)
	s := srv.session(t)
	s.C.Tag = "hold"
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := s.Do(ctx, Putrootfh())
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned call: %v", err)
	}
	// (oncrpc.Client keeps the last deadline as the connection's write
	// deadline: later calls need one of their own.)
	bg, cancelBg := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelBg()
	s.C.Tag = ""
	for range 5 {
		if _, err := s.MustDo(bg, Putrootfh()); err != nil {
			t.Fatal(err)
		}
	}
	s.C.Tag = "badseq"
	if _, err := s.Do(bg, Putrootfh()); !errors.Is(err, ErrBadReply) {
		t.Fatalf("reply for another sequence id: %v", err)
	}
	close(srv.release)
	srv.mu.Lock()
	if len(srv.violations) > 0 || srv.last[0] != 1 || srv.last[1] != 6 {
		t.Fatalf("%d violations, sequence ids %v: want slot 0 retired after 1, slot 1 at 6", len(srv.violations), srv.last)
	}
	srv.mu.Unlock()
	// The last slot retired: calls fail at once rather than wait.
	s.C.Tag = "hold"
	srv.mu.Lock()
	srv.release = make(chan struct{})
	srv.mu.Unlock()
	ctx, cancel = context.WithTimeout(bg, 50*time.Millisecond)
	s.Do(ctx, Putrootfh())
	cancel()
	if _, err := s.Do(bg, Putrootfh()); !errors.Is(err, ErrNoSlots) {
		t.Fatalf("all slots retired: %v", err)
	}
	close(srv.release)
}

func TestModifiesAndOpName(t *testing.T) {
	if Modifies(Putrootfh(), Getattr(FATTR4_SIZE), Read(Stateid{}, 0, 1)) {
		t.Error("PUTROOTFH GETATTR READ modify")
	}
	for _, o := range []Op{Write(Stateid{}, 0, 0, nil), Remove("x"), Close(0, Stateid{}), Commit(0, 0), OpenNull(0, 1, 0, StateOwner{}, "f")} {
		if !Modifies(Putrootfh(), o) {
			t.Errorf("op %d does not modify", o.Num)
		}
	}
	for num, want := range map[uint32]string{OP_LOOKUP: "LOOKUP", OP_SEQUENCE: "SEQUENCE", OP_RECLAIM_COMPLETE: "RECLAIM_COMPLETE", 99: "op(99)"} {
		if got := OpName(num); got != want {
			t.Errorf("OpName(%d) = %q, want %q", num, got, want)
		}
	}
	if got := Delegreturn(Stateid{Seqid: 3}); got.Num != OP_DELEGRETURN || len(got.Args) != 16 || got.Args[3] != 3 {
		t.Errorf("DELEGRETURN %+v", got)
	}
}
