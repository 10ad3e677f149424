package nfs4_test

import (
	"testing"

	c4 "github.com/vnfsd/vnfsd/internal/nfs4/nfs4client"
)

// TestReaddirNoAttrs: READDIR with an empty attr_request lists the names
// with empty fattr4s (it crashed the handler once: pynfs RDDR*).
func TestReaddirNoAttrs(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s := ts.session(t, "rd")
	dir := rootFH(t, nil, 0, s, "a")
	mustOK(t, do(t, s, c4.Putfh(dir), c4.Mkdir("x", c4.NewFattr())))
	res := mustOK(t, do(t, s, c4.Putfh(dir), c4.Readdir(0, [8]byte{}, 4096, 8192, c4.NewBitmap())))
	rd, err := res.Ops[2].Readdir()
	if err != nil || len(rd.Entries) != 1 || rd.Entries[0].Name != "x" || !rd.EOF {
		t.Fatalf("READDIR without attributes: %+v %v", rd, err)
	}
}

// TestAccessSupported: ACCESS4resok.supported holds only the bits that
// mean something for the object's type (RFC 8881 section 18.1.3; pynfs
// ACC2*): no LOOKUP or DELETE for a file, no EXECUTE for a directory.
func TestAccessSupported(t *testing.T) {
	ts := newServer(t, newBackend(t), serverOpts{})
	s := ts.session(t, "acc")
	dir := rootFH(t, nil, 0, s, "a")
	owner := c4.StateOwner{Clientid: s.Clientid, Owner: []byte("o")}
	res := mustOK(t, do(t, s, c4.Putfh(dir),
		c4.OpenCreate(0, c4.OPEN4_SHARE_ACCESS_READ, 0, owner, "f", c4.UNCHECKED4, c4.NewFattr()), c4.Getfh()))
	file := fhOf(t, res.Ops[3])
	const all = 0x3f
	for _, tc := range []struct {
		name string
		fh   []byte
		want uint32
	}{
		{"file", file, all &^ (0x02 | 0x10)},
		{"directory", dir, all &^ 0x20},
	} {
		res := mustOK(t, do(t, s, c4.Putfh(tc.fh), c4.Access(all)))
		sup, _, err := res.Ops[2].Access()
		if err != nil || sup != tc.want {
			t.Errorf("%s: supported %#x, want %#x (%v)", tc.name, sup, tc.want, err)
		}
	}
}
