package fattr

import (
	"encoding/binary"
	"slices"
	"strconv"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// maskOf turns fuzz bytes into a bitmap of at most 8 words.
func maskOf(b []byte) []uint32 {
	var m []uint32
	for len(b) >= 4 && len(m) < 8 {
		m = append(m, binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	return m
}

// encodeSettable is the client side of DecodeSettable with numeric owners.
func encodeSettable(sa vfs.SetAttr) []byte {
	var w xdr.Writer
	if sa.Valid&vfs.SetSize != 0 {
		w.Uint64(sa.Size)
	}
	if sa.Valid&vfs.SetMode != 0 {
		w.Uint32(sa.Mode)
	}
	if sa.Valid&vfs.SetUID != 0 {
		w.String(strconv.FormatUint(uint64(sa.UID), 10))
	}
	if sa.Valid&vfs.SetGID != 0 {
		w.String(strconv.FormatUint(uint64(sa.GID), 10))
	}
	for _, set := range []struct {
		now, client int
		t           vfs.Timespec
	}{{vfs.SetAtimeNow, vfs.SetAtime, sa.Atime}, {vfs.SetMtimeNow, vfs.SetMtime, sa.Mtime}} {
		switch {
		case sa.Valid&uint32(set.now) != 0:
			w.Uint32(SetToServerTime4)
		case sa.Valid&uint32(set.client) != 0:
			w.Uint32(SetToClientTime4)
			w.Int64(set.t.Sec)
			w.Uint32(set.t.Nsec)
		}
	}
	return w.B
}

func FuzzDecodeSettable(f *testing.F) {
	add := func(vals string, mask []uint32, minor uint8) {
		var mb []byte
		for _, v := range mask {
			mb = binary.BigEndian.AppendUint32(mb, v)
		}
		f.Add(hx(f, vals), mb, minor)
	}
	add("", nil, 0)
	add("00000000 00001000", bm(AttrSize), 0)
	add("000001A4 00000004 31303030 00000003 31303000", bm(AttrMode, AttrOwner, AttrOwnerGroup), 1)
	add("00000001 00000000 6553F100 00000005 00000000", bm(AttrTimeAccessSet, AttrTimeModifySet), 2)
	add("00000000 00000000 000001ED 00000002 37370000 00000002 38380000 00000001 00000000 00000010 00000020 00000000",
		bm(AttrSize, AttrMode, AttrOwner, AttrOwnerGroup, AttrTimeAccessSet, AttrTimeModifySet), 2)
	add("00000005 30313030 30000000", bm(AttrOwner), 0)
	add("00000000", bm(AttrAcl), 0)
	add("00000001", bm(AttrType), 1)
	f.Fuzz(func(t *testing.T, vals, maskBytes []byte, minor uint8) {
		mask := maskOf(maskBytes)
		maskCopy := slices.Clone(mask)
		sa, set, err := DecodeSettable(vals, mask, nil, uint32(minor%4))
		if !slices.Equal(mask, maskCopy) {
			t.Fatal("mask changed")
		}
		if err != nil {
			switch err {
			case nfserr.Attrnotsupp, nfserr.Inval, nfserr.Badxdr, nfserr.Badowner:
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if sa != (vfs.SetAttr{}) || set != nil {
				t.Fatalf("results with error %v: %+v %#x", err, sa, set)
			}
			return
		}
		if !slices.Equal(set, Trim(slices.Clone(mask))) || !Subset(set, Settable()) {
			t.Fatalf("attrsset %#x for mask %#x", set, mask)
		}
		if sa.Mode&^0o7777 != 0 || sa.Atime.Nsec > 999999999 || sa.Mtime.Nsec > 999999999 {
			t.Fatalf("invalid values accepted: %+v", sa)
		}
		if sa.Valid&vfs.SetAtime != 0 && sa.Valid&vfs.SetAtimeNow != 0 ||
			sa.Valid&vfs.SetMtime != 0 && sa.Valid&vfs.SetMtimeNow != 0 {
			t.Fatalf("both time forms: %+v", sa)
		}
		// What was accepted encodes back to as many bytes and decodes to
		// the same.
		re := encodeSettable(sa)
		if len(re) != len(vals) {
			t.Fatalf("re-encoded %d bytes from %d: %+v", len(re), len(vals), sa)
		}
		sa2, set2, err := DecodeSettable(re, set, nil, uint32(minor%4))
		if err != nil || sa2 != sa || !slices.Equal(set2, set) {
			t.Fatalf("round trip: %+v %v, want %+v", sa2, err, sa)
		}
	})
}

func FuzzCompare(f *testing.F) {
	add := func(vals string, mask []uint32, minor uint8) {
		var mb []byte
		for _, v := range mask {
			mb = binary.BigEndian.AppendUint32(mb, v)
		}
		f.Add(hx(f, vals), mb, minor)
	}
	add("", nil, 0)
	add("00000001 01020304 05060708", bm(AttrType, AttrSize), 0)
	add("00000004 FCFFAFFF 00F9BE3E 00000000 00000000", bm(AttrSupportedAttrs), 0)
	add("00000005 01020304 05000000 00000004 31303030", bm(AttrFilehandle, AttrOwner), 2)
	add("00000000 000F4240 00000100 00000000", bm(AttrFilesTotal, AttrSpaceTotal), 1)
	f.Fuzz(func(t *testing.T, vals, maskBytes []byte, minor uint8) {
		mask := maskOf(maskBytes)
		src := testSource(uint32(minor%4), nil)
		equal, err := Compare(vals, mask, src)
		if err != nil {
			switch err {
			case nfserr.Attrnotsupp, nfserr.Inval, nfserr.Badxdr:
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if equal {
				t.Fatal("equal with an error")
			}
			return
		}
		// The attributes of the mask as Encode writes them compare equal.
		var w xdr.Writer
		if err := Encode(&w, mask, src); err != nil {
			t.Fatalf("Encode of a verifiable mask: %v", err)
		}
		r := xdr.NewReader(w.B)
		n := r.ArrayLen(8, 4)
		got := make([]uint32, n)
		for i := range got {
			got[i] = r.Uint32()
		}
		if !slices.Equal(got, Trim(slices.Clone(mask))) {
			t.Fatalf("Encode returned %#x for verifiable mask %#x", got, mask)
		}
		own := r.Opaque(1 << 20)
		if eq, err := Compare(own, mask, src); err != nil || !eq {
			t.Fatalf("own encoding: %v %v", eq, err)
		}
	})
}
