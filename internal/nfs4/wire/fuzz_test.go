package wire

import (
	"reflect"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// FuzzCompound decodes a COMPOUND4args header and then every operation
// until an error, as minor versions 0, 1 and 2; every operation decoded
// must re-encode to the same length and decode again to the same value,
// and every error must be BADXDR or OP_ILLEGAL.
func FuzzCompound(f *testing.F) {
	// Small seeds: the engine minimizes every new input, which is slow
	// for large ones (the whole compoundOfSamples runs in TestTruncation).
	for _, s := range samples() {
		f.Add(encodeCompound("", s.minor, s.op))
	}
	f.Add(encodeCompound("linux", 1, Op{OpSequence, &SequenceArgs{Sessionid: sess, Sequenceid: 1}},
		Op{OpPutrootfh, nil}, Op{OpGetfh, nil}, Op{OpGetattr, &GetattrArgs{AttrRequest: Bitmap4{0x0010011a, 0x00b0a23a}}}))
	lim := DefaultLimits
	f.Fuzz(func(t *testing.T, data []byte) {
		for minor := uint32(0); minor <= 2; minor++ {
			r := xdr.NewReader(data)
			h, err := DecodeCompoundHeader(r, lim)
			if err != nil {
				if err != nfserr.Badxdr {
					t.Fatalf("header: %v", err)
				}
				return
			}
			if err := CheckNumOps(h, lim); err != nil && err != nfserr.Resource && err != nfserr.TooManyOps {
				t.Fatalf("CheckNumOps: %v", err)
			}
			for i := uint32(0); i < h.NumOps && i < 512; i++ {
				start := r.Offset()
				op, err := DecodeOp(r, minor, lim)
				if err != nil {
					if (err != nfserr.Badxdr && err != nfserr.OpIllegal) || op.Args != nil {
						t.Fatalf("op %d: %+v %v", i, op, err)
					}
					if err == nfserr.OpIllegal && op.Num != OpIllegal {
						t.Fatalf("op %d: OP_ILLEGAL with Num %d", i, op.Num)
					}
					break
				}
				var w xdr.Writer
				encodeOp(&w, op)
				if w.Len() != r.Offset()-start {
					t.Fatalf("op %v: decoded %d bytes, re-encoded %d", op, r.Offset()-start, w.Len())
				}
				r2 := xdr.NewReader(w.B)
				op2, err := DecodeOp(r2, minor, lim)
				if err != nil || r2.Len() != 0 || !reflect.DeepEqual(op, op2) {
					t.Fatalf("re-decode of %v: %+v %v", op, op2, err)
				}
			}
		}
	})
}

// FuzzCbCompoundRes decodes a CB_COMPOUND4res as the server receives it.
func FuzzCbCompoundRes(f *testing.F) {
	f.Add(encodeCbRes(CbCompoundRes{Tag: []byte("t"), Results: []CbResult{
		{Op: CbOpSequence, Res: &CbSequenceRes{Sessionid: sess, Sequenceid: 2}},
		{Op: CbOpGetattr, Res: &CbGetattrRes{ObjAttributes: fat1}},
		{Op: CbOpRecall, Status: nfserr.Badhandle},
	}}))
	f.Add([]byte{0, 0, 0x27, 0x11, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0x27, 0x11})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := DecodeCbCompoundRes(xdr.NewReader(data), DefaultLimits)
		if err != nil {
			if err != nfserr.Badxdr {
				t.Fatal(err)
			}
			return
		}
		b := encodeCbRes(res)
		res2, err := DecodeCbCompoundRes(xdr.NewReader(b), DefaultLimits)
		if err != nil || !reflect.DeepEqual(res, res2) {
			t.Fatalf("re-decode: %+v %v, want %+v", res2, err, res)
		}
	})
}
