package fattr

import (
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
