package fattr

import (
	"testing"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
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
	for _, tc := range []struct {
		name  string
		group bool
		id    uint32
		ok    bool
	}{
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
		} else if err != nfserr.Badowner {
			t.Errorf("%q (group %v): %d, %v; want BADOWNER", tc.name, tc.group, id, err)
		}
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
