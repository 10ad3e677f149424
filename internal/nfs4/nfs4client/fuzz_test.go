package nfs4client

import "testing"

// FuzzDecodeResult: any reply decodes or fails without panicking; a
// decoded reply's header and results cover it exactly, and every typed
// decoder copes with every result.
func FuzzDecodeResult(f *testing.F) {
	other := make([]byte, 12)
	f.Add(words(0, 0, 0))
	f.Add(words(int(NFS4ERR_DENIED), 1, "t\x00\x00\x00", 3, OP_PUTROOTFH, 0, OP_GETFH, 0, 3, []byte{1, 2, 3, 0},
		OP_LOCK, int(NFS4ERR_DENIED), uint64(5), uint64(6), 2, uint64(77), 2, "lo\x00\x00"))
	f.Add(words(0, 0, 2, OP_OPEN, 0, 9, other, 1, uint64(1), uint64(2), 4, 1, 1, 2, 9, other, 0, 0, 0, 0, 0, OP_SETATTR, 0, 0))
	f.Add(words(0, 0, 1, OP_READDIR, 0, "cookieve", 1, uint64(3), 1, "a\x00\x00\x00", 1, 1<<1, 4, 2, 0, 1))
	f.Add(words(0, 0, 1, OP_EXCHANGE_ID, 0, uint64(5), 6, 7, 0, uint64(1), 2, "ma\x00\x00", 1, "s\x00\x00\x00", 0))
	f.Add(words(0, 0, 1, OP_CREATE_SESSION, 0, "0123456789abcdef", 1, 2, 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 11, 1, 12))
	f.Add(words(0, 0, 1, OP_SECINFO_NO_NAME, 0, 2, 6, 2, "oi\x00\x00", 0, 1, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := DecodeResult(b)
		if err != nil {
			return
		}
		n := 12 + len(res.Tag) + (4-len(res.Tag)%4)%4
		for _, o := range res.Ops {
			n += 8 + len(o.Body)
		}
		if n != len(b) {
			t.Fatalf("header and results cover %d of %d bytes", n, len(b))
		}
		for _, o := range res.Ops {
			o.Getfh()
			o.Stateid()
			o.Open()
			o.Read()
			o.Write()
			o.Commit()
			o.Denied()
			o.Access()
			o.Create()
			o.ChangeInfo()
			if v, err := o.Attrs(); err == nil && v == nil {
				t.Fatal("nil attributes without error")
			}
			o.Setattr()
			o.Readlink()
			if rd, err := o.Readdir(); err == nil {
				for _, e := range rd.Entries {
					e.Attrs.Decode()
				}
			}
			o.Setclientid()
			o.ExchangeID()
			o.CreateSession()
			o.Sequence()
			o.TestStateid()
			o.Secinfo()
		}
		res.Err()
	})
}

// FuzzFattrDecode: attribute values decode or fail without panicking, and
// a decoded value's raw bytes cover the values exactly.
func FuzzFattrDecode(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1}, words(uint64(10), 0o600))
	f.Add(words(3, 2, 1<<20), words(2, 3, 1<<20, uint64(1), uint64(2), 1, 2, "fh\x00\x00", uint64(7), 8))
	f.Add(words(0x00100913, 0x00b0001a), make([]byte, 100))
	f.Fuzz(func(t *testing.T, mask []byte, vals []byte) {
		var m Bitmap
		for i := 0; i+4 <= len(mask) && len(m) < MaxBitmapWords; i += 4 {
			m = append(m, uint32(mask[i])<<24|uint32(mask[i+1])<<16|uint32(mask[i+2])<<8|uint32(mask[i+3]))
		}
		v, err := Fattr{Mask: m, Vals: vals}.Decode()
		if err != nil {
			return
		}
		n := 0
		for _, a := range m.Attrs() {
			n += len(v.Raw[a])
		}
		if n != len(vals) {
			t.Fatalf("raw values cover %d of %d bytes", n, len(vals))
		}
	})
}
