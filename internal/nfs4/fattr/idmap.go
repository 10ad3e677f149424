package fattr

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// IDMap translates between the owner and owner_group strings of NFSv4
// (utf8str_mixed, RFC 8881 section 5.9) and numeric IDs.
//
// NameToUID and NameToGID return an error for a string without a
// translation; a Status error is passed to the client as it is, any other
// error becomes NFS4ERR_BADOWNER.
type IDMap interface {
	UIDToName(uid uint32) string
	GIDToName(gid uint32) string
	NameToUID(name string) (uint32, error)
	NameToGID(name string) (uint32, error)
}

// NumericIDMap is the default IDMap. Owners go out as decimal numbers
// ("1000"), the NFSv3-compatible form of RFC 8881 section 5.9 that the
// Linux client accepts when it runs without idmapping (the default with
// AUTH_SYS).
//
// Coming in, a decimal number without leading zeros ("0", "1000", at most
// 4294967295) is accepted always, and a "name@domain" string if Domain is
// set, the domain equals it (ignoring ASCII case, as DNS does) and name is
// in Users (NameToUID) or Groups (NameToGID). Anything else is
// NFS4ERR_BADOWNER.
//
// The zero value accepts numbers only. The maps must not be changed while
// the IDMap is in use.
type NumericIDMap struct {
	Domain string
	Users  map[string]uint32
	Groups map[string]uint32
}

// UIDToName implements IDMap.
func (NumericIDMap) UIDToName(uid uint32) string { return strconv.FormatUint(uint64(uid), 10) }

// GIDToName implements IDMap.
func (NumericIDMap) GIDToName(gid uint32) string { return strconv.FormatUint(uint64(gid), 10) }

// NameToUID implements IDMap.
func (m NumericIDMap) NameToUID(name string) (uint32, error) { return m.lookup(name, m.Users) }

// NameToGID implements IDMap.
func (m NumericIDMap) NameToGID(name string) (uint32, error) { return m.lookup(name, m.Groups) }

func (m NumericIDMap) lookup(name string, table map[string]uint32) (uint32, error) {
	if id, ok := parseNumericID(name); ok {
		return id, nil
	}
	if m.Domain == "" {
		return 0, nfserr.Badowner
	}
	user, domain, ok := strings.Cut(name, "@")
	if !ok || user == "" || !strings.EqualFold(domain, m.Domain) {
		return 0, nfserr.Badowner
	}
	id, ok := table[user]
	if !ok {
		return 0, nfserr.Badowner
	}
	return id, nil
}

// parseNumericID parses the numeric form of RFC 8881 section 5.9: decimal
// digits with no leading zeros, within uint32.
func parseNumericID(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// NoID is the ID 4294967295, (uid_t)-1: chown(2) reads it as "leave
// unchanged", so a DomainIDMap never maps a name to it.
const NoID = 1<<32 - 1

// DomainIDMap is an IDMap that names the owners in its tables
// "name@domain", the form of RFC 8881 section 5.9 (RFC 7530 section 5.9),
// and the others by their decimal number ("1000"), the numeric form that
// section allows and that the Linux client accepts with AUTH_SYS.
//
// Coming in, it accepts the numeric form (as NumericIDMap) always, and
// "name@domain" when domain equals its domain ignoring ASCII case (as
// DNS does) and name is in the users table (NameToUID) or the groups
// table (NameToGID), compared exactly. Anything else is NFS4ERR_BADOWNER.
//
// A DomainIDMap is made by NewDomainIDMap and never changes: it is safe
// for concurrent use.
type DomainIDMap struct {
	domain         string
	users, groups  map[string]uint32 // name -> ID
	uidOut, gidOut map[uint32]string // ID -> "name@domain": the reverse
}

// NewDomainIDMap returns a DomainIDMap for domain with the tables users
// and groups (name -> ID; a user and a group may share a name or an ID).
// The tables are copied. It fails if domain is empty or holds '@', a name
// is empty or holds '@', an ID is NoID, or two names of one table have
// the same ID: the mapping must be one-to-one to be reversed.
func NewDomainIDMap(domain string, users, groups map[string]uint32) (*DomainIDMap, error) {
	if domain == "" || strings.Contains(domain, "@") {
		return nil, fmt.Errorf("idmap: domain %q is empty or holds '@'", domain)
	}
	m := &DomainIDMap{domain: domain}
	var err error
	if m.users, m.uidOut, err = reverseTable("user", domain, users); err != nil {
		return nil, err
	}
	if m.groups, m.gidOut, err = reverseTable("group", domain, groups); err != nil {
		return nil, err
	}
	return m, nil
}

// reverseTable copies a name -> ID table and builds its reverse: the
// owner strings that go out.
func reverseTable(kind, domain string, t map[string]uint32) (names map[string]uint32, out map[uint32]string, err error) {
	names = make(map[string]uint32, len(t))
	rev := make(map[uint32]string, len(t))
	out = make(map[uint32]string, len(t))
	// In name order, so that the error for a shared ID is always the same.
	for _, name := range slices.Sorted(maps.Keys(t)) {
		id := t[name]
		if name == "" || strings.Contains(name, "@") {
			return nil, nil, fmt.Errorf("idmap: %s name %q is empty or holds '@'", kind, name)
		}
		if id == NoID {
			return nil, nil, fmt.Errorf("idmap: %s %q has ID %d, which cannot be mapped", kind, name, id)
		}
		if other, dup := rev[id]; dup {
			return nil, nil, fmt.Errorf("idmap: %ss %q and %q both have ID %d", kind, other, name, id)
		}
		names[name] = id
		rev[id] = name
		out[id] = name + "@" + domain
	}
	return names, out, nil
}

// Domain returns the domain of the map.
func (m *DomainIDMap) Domain() string { return m.domain }

// UIDToName implements IDMap: "name@domain" for a user in the table, the
// decimal number for any other ID.
func (m *DomainIDMap) UIDToName(uid uint32) string {
	if s, ok := m.uidOut[uid]; ok {
		return s
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// GIDToName implements IDMap: "name@domain" for a group in the table,
// the decimal number for any other ID.
func (m *DomainIDMap) GIDToName(gid uint32) string {
	if s, ok := m.gidOut[gid]; ok {
		return s
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// NameToUID implements IDMap.
func (m *DomainIDMap) NameToUID(name string) (uint32, error) { return m.lookup(name, m.users) }

// NameToGID implements IDMap.
func (m *DomainIDMap) NameToGID(name string) (uint32, error) { return m.lookup(name, m.groups) }

func (m *DomainIDMap) lookup(s string, table map[string]uint32) (uint32, error) {
	if id, ok := parseNumericID(s); ok {
		return id, nil
	}
	name, domain, ok := strings.Cut(s, "@")
	if !ok || name == "" || !asciiEqualFold(domain, m.domain) {
		return 0, nfserr.Badowner
	}
	id, ok := table[name]
	if !ok {
		return 0, nfserr.Badowner
	}
	return id, nil
}

// asciiEqualFold reports whether a and b are equal ignoring the case of
// ASCII letters only (strings.EqualFold also folds Unicode, so that the
// Kelvin sign would match "k").
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
