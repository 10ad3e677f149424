package fattr

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

func TestNumericIDMap(t *testing.T) {
	m := NumericIDMap{
		Domain: "Example.org",
		Users:  map[string]uint32{"alice": 501, "root": 0},
		Groups: map[string]uint32{"staff": 20},
	}
	if got := m.UIDToName(0); got != "0" {
		t.Errorf("UIDToName(0) = %q", got)
	}
	if got := m.UIDToName(4294967295); got != "4294967295" {
		t.Errorf("UIDToName(max) = %q", got)
	}
	if got := m.GIDToName(100); got != "100" {
		t.Errorf("GIDToName(100) = %q", got)
	}
	for _, tc := range []nameCase{
		{"0", false, 0, true},
		{"1000", false, 1000, true},
		{"4294967295", false, 4294967295, true},
		{"4294967296", false, 0, false},
		{"99999999999", false, 0, false},
		{"00", false, 0, false},
		{"0100", false, 0, false},
		{"+1", false, 0, false},
		{"-1", false, 0, false},
		{"1 ", false, 0, false},
		{" 1", false, 0, false},
		{"1e3", false, 0, false},
		{"", false, 0, false},
		{"alice@example.org", false, 501, true},
		{"alice@EXAMPLE.ORG", false, 501, true},
		{"root@example.org", false, 0, true},
		{"alice@example.com", false, 0, false},
		{"alice", false, 0, false},
		{"@example.org", false, 0, false},
		{"bob@example.org", false, 0, false},
		{"alice@example.org@example.org", false, 0, false},
		{"staff@example.org", false, 0, false}, // a group, not a user
		{"staff@example.org", true, 20, true},
		{"alice@example.org", true, 0, false},
		{"20", true, 20, true},
		{"nobody", true, 0, false},
	} {
		checkNameIn(t, m, tc)
	}
	// Without a domain, names are refused even if the tables have them.
	m.Domain = ""
	if _, err := m.NameToUID("alice@"); err != nfserr.Badowner {
		t.Errorf("no domain: %v", err)
	}
	if _, err := m.NameToUID("alice@example.org"); err != nfserr.Badowner {
		t.Errorf("no domain: %v", err)
	}
	// The zero value takes numbers.
	if id, err := (NumericIDMap{}).NameToGID("7"); err != nil || id != 7 {
		t.Errorf("zero value: %d, %v", id, err)
	}
}

// testDomainMap is the DomainIDMap of the tests.
func testDomainMap(t testing.TB) *DomainIDMap {
	t.Helper()
	m, err := NewDomainIDMap("Example.com",
		map[string]uint32{"alice": 1000, "root": 0, "bob": 4294967294, "Élodie": 1001},
		map[string]uint32{"staff": 50, "alice": 1000, "wheel": 0})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDomainIDMapOut(t *testing.T) {
	m := testDomainMap(t)
	if m.Domain() != "Example.com" {
		t.Errorf("Domain() = %q", m.Domain())
	}
	for _, tc := range []struct {
		id    uint32
		group bool
		want  string
	}{
		// The domain goes out as configured.
		{1000, false, "alice@Example.com"},
		{0, false, "root@Example.com"},
		{4294967294, false, "bob@Example.com"},
		{1001, false, "Élodie@Example.com"},
		// IDs not in the table go out as numbers.
		{1002, false, "1002"},
		{50, false, "50"}, // a group's ID, not a user's
		{4294967295, false, "4294967295"},
		{50, true, "staff@Example.com"},
		{1000, true, "alice@Example.com"},
		{0, true, "wheel@Example.com"},
		{1001, true, "1001"}, // a user's ID, not a group's
		{65534, true, "65534"},
	} {
		var got string
		if tc.group {
			got = m.GIDToName(tc.id)
		} else {
			got = m.UIDToName(tc.id)
		}
		if got != tc.want {
			t.Errorf("id %d (group %v) = %q, want %q", tc.id, tc.group, got, tc.want)
		}
	}
}

func TestDomainIDMapIn(t *testing.T) {
	m := testDomainMap(t)
	for _, tc := range []nameCase{
		// Numbers pass through, in and out of the tables.
		{"1000", false, 1000, true},
		{"0", false, 0, true},
		{"77", false, 77, true},
		{"4294967295", false, 4294967295, true},
		{"77", true, 77, true},
		{"0100", false, 0, false},
		{"4294967296", false, 0, false},
		{"-1", false, 0, false},
		// Names in the domain, which compares ignoring ASCII case.
		{"alice@example.com", false, 1000, true},
		{"alice@EXAMPLE.COM", false, 1000, true},
		{"alice@Example.com", false, 1000, true},
		{"root@example.com", false, 0, true},
		{"bob@example.com", false, 4294967294, true},
		{"Élodie@example.com", false, 1001, true},
		{"staff@example.com", true, 50, true},
		{"alice@example.com", true, 1000, true},
		{"wheel@eXample.Com", true, 0, true},
		// Names compare exactly.
		{"Alice@example.com", false, 0, false},
		{"élodie@example.com", false, 0, false},
		{"alice @example.com", false, 0, false},
		// Unknown names, or in the other table.
		{"carol@example.com", false, 0, false},
		{"staff@example.com", false, 0, false},
		{"bob@example.com", true, 0, false},
		// Wrong or missing domains.
		{"alice@example.org", false, 0, false},
		{"alice@example.com.", false, 0, false},
		{"alice@sub.example.com", false, 0, false},
		{"alice@", false, 0, false},
		{"alice", false, 0, false},
		{"alice@example.com@example.com", false, 0, false},
		{"alice@example.\u212Aom", false, 0, false}, // Kelvin sign: no Unicode folding
		{"@example.com", false, 0, false},
		{"1000@example.com", false, 0, false},
		{"", false, 0, false},
		{"", true, 0, false},
		{"@", true, 0, false},
	} {
		checkNameIn(t, m, tc)
	}
}

func TestNewDomainIDMapErrors(t *testing.T) {
	for _, tc := range []struct {
		name          string
		domain        string
		users, groups map[string]uint32
		want          string // in the error
	}{
		{"no domain", "", map[string]uint32{"a": 1}, nil, `domain ""`},
		{"domain with @", "a@b", nil, nil, `domain "a@b"`},
		{"empty user", "d", map[string]uint32{"": 1}, nil, `user name ""`},
		{"user with @", "d", map[string]uint32{"a@b": 1}, nil, `user name "a@b"`},
		{"group with @", "d", nil, map[string]uint32{"g@": 1}, `group name "g@"`},
		{"user NoID", "d", map[string]uint32{"a": NoID}, nil, `user "a" has ID 4294967295`},
		{"group NoID", "d", nil, map[string]uint32{"g": NoID}, `group "g" has ID 4294967295`},
		{"users share an ID", "d", map[string]uint32{"zed": 5, "amy": 5, "bob": 6}, nil, `users "amy" and "zed" both have ID 5`},
		{"groups share an ID", "d", nil, map[string]uint32{"b": 0, "a": 0}, `groups "a" and "b" both have ID 0`},
	} {
		m, err := NewDomainIDMap(tc.domain, tc.users, tc.groups)
		if err == nil || m != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, %v; want an error with %s", tc.name, m, err, tc.want)
		}
	}
	// Empty tables are fine: every owner is numeric.
	m, err := NewDomainIDMap("d", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.UIDToName(0); got != "0" {
		t.Errorf("empty tables: UIDToName(0) = %q", got)
	}
	if _, err := m.NameToUID("root@d"); err != nfserr.Badowner {
		t.Errorf("empty tables: root@d: %v", err)
	}
}

// TestDomainIDMapCopies: changing the caller's tables afterwards changes
// nothing.
func TestDomainIDMapCopies(t *testing.T) {
	users := map[string]uint32{"alice": 1000}
	m, err := NewDomainIDMap("example.com", users, nil)
	if err != nil {
		t.Fatal(err)
	}
	users["alice"] = 2000
	users["bob"] = 1001
	if id, err := m.NameToUID("alice@example.com"); err != nil || id != 1000 {
		t.Errorf("alice: %d, %v", id, err)
	}
	if _, err := m.NameToUID("bob@example.com"); err != nfserr.Badowner {
		t.Errorf("bob: %v", err)
	}
	if got := m.UIDToName(2000); got != "2000" {
		t.Errorf("UIDToName(2000) = %q", got)
	}
}

// TestEncodeDomainOwner: GETATTR's owner and owner_group go out as
// "name@domain" through a DomainIDMap, as numbers when not in the table.
func TestEncodeDomainOwner(t *testing.T) {
	m, err := NewDomainIDMap("example.com", map[string]uint32{"alice": 1000}, map[string]uint32{"staff": 100})
	if err != nil {
		t.Fatal(err)
	}
	src := testSource(1, nil) // UID 1000, GID 100
	src.IDMap = m
	var w xdr.Writer
	if err := Encode(&w, bm(AttrOwner, AttrOwnerGroup), src); err != nil {
		t.Fatal(err)
	}
	want := hx(t, "00000002 00000000 00000030 00000030"+
		" 00000011 616C6963 65406578 616D706C 652E636F 6D000000"+ // "alice@example.com"
		" 00000011 73746166 66406578 616D706C 652E636F 6D000000") // "staff@example.com"
	if !bytes.Equal(w.B, want) {
		t.Errorf("\n got %x\nwant %x", w.B, want)
	}

	src.Attr.GID = 101 // not in the table
	w = xdr.Writer{}
	if err := Encode(&w, bm(AttrOwner, AttrOwnerGroup), src); err != nil {
		t.Fatal(err)
	}
	want = hx(t, "00000002 00000000 00000030 00000020"+
		" 00000011 616C6963 65406578 616D706C 652E636F 6D000000"+ // "alice@example.com"
		" 00000003 31303100") // "101"
	if !bytes.Equal(w.B, want) {
		t.Errorf("\n got %x\nwant %x", w.B, want)
	}

	// DecodeSettable (SETATTR) takes the name back.
	sa, _, err := DecodeSettable(hx(t, "00000011 616C6963 65404558 414D504C 452E434F 4D000000"), // "alice@EXAMPLE.COM"
		bm(AttrOwner), m, 1)
	if err != nil || sa.UID != 1000 {
		t.Errorf("SETATTR owner alice@EXAMPLE.COM: UID %d, %v", sa.UID, err)
	}
}

// FuzzDomainIDMap: any owner string either maps to an ID whose owner
// string maps back to the same ID, or is refused with BADOWNER.
func FuzzDomainIDMap(f *testing.F) {
	for _, s := range []string{"alice@example.com", "STAFF@EXAMPLE.COM", "staff@example.com", "1000", "0", "4294967295", "", "@", "a@b@c", "bob@Example.com"} {
		f.Add(s)
	}
	m := testDomainMap(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, dir := range []struct {
			in  func(string) (uint32, error)
			out func(uint32) string
		}{{m.NameToUID, m.UIDToName}, {m.NameToGID, m.GIDToName}} {
			id, err := dir.in(s)
			if err != nil {
				if err != nfserr.Badowner {
					t.Fatalf("%q: %v", s, err)
				}
				continue
			}
			back := dir.out(id)
			if id2, err := dir.in(back); err != nil || id2 != id {
				t.Fatalf("%q -> %d -> %q -> %d, %v", s, id, back, id2, err)
			}
			if strings.Contains(s, "@") && !strings.EqualFold(s, back) {
				t.Fatalf("%q -> %d -> %q", s, id, back)
			}
		}
	})
}

// nameCase is an owner string coming in: the user (or group) ID it must
// map to, or ok false for NFS4ERR_BADOWNER.
type nameCase struct {
	name  string
	group bool
	id    uint32
	ok    bool
}

func checkNameIn(t *testing.T, m IDMap, tc nameCase) {
	t.Helper()
	var id uint32
	var err error
	if tc.group {
		id, err = m.NameToGID(tc.name)
	} else {
		id, err = m.NameToUID(tc.name)
	}
	if tc.ok {
		if err != nil || id != tc.id {
			t.Errorf("%q (group %v): %d, %v; want %d", tc.name, tc.group, id, err, tc.id)
		}
	} else if err != nfserr.Badowner || id != 0 {
		t.Errorf("%q (group %v): %d, %v; want BADOWNER", tc.name, tc.group, id, err)
	}
}
