package lock

import (
	"cmp"
	"slices"
)

// Bits of Share.Access and Share.Deny; they match fsh4_access and fsh4_mode
// of NLM (fsa_R/fsm_DR = 1, fsa_W/fsm_DW = 2, fsa_RW/fsm_DRW = 3).
const (
	ShareRead  uint8 = 1
	ShareWrite uint8 = 2
)

// Share is a share reservation (a DOS share mode): the holder opened the
// file for Access and denies Deny to everybody else.
type Share struct {
	File   FileID
	Owner  Owner
	Access uint8
	Deny   uint8
}

type shareEntry struct {
	owner        Owner
	access, deny uint8
}

// Share sets owner's share reservation on s.File, replacing the one it
// has there. It conflicts with another owner's reservation that denies
// what s accesses or accesses what s denies; the conflicting reservation
// is returned with ErrConflict. The grace period rules are those of Lock.
// Reservations count against Config.MaxLocks.
func (m *Manager) Share(s Share, reclaim bool) (Share, error) {
	if s.Access > ShareRead|ShareWrite || s.Deny > ShareRead|ShareWrite {
		return Share{}, ErrInvalid
	}
	if err := m.admit(reclaim); err != nil {
		return Share{}, err
	}
	sh := m.shardOf(s.File)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.get(s.File)
	mine := -1
	for i, e := range f.shares {
		if e.owner == s.Owner {
			mine = i
			continue
		}
		if e.access&s.Deny != 0 || e.deny&s.Access != 0 {
			sh.dropIfIdle(f)
			return Share{File: f.id, Owner: e.owner, Access: e.access, Deny: e.deny}, ErrConflict
		}
	}
	if mine >= 0 {
		f.shares[mine].access, f.shares[mine].deny = s.Access, s.Deny
		return Share{}, nil
	}
	if err := m.reserve(1); err != nil {
		sh.dropIfIdle(f)
		return Share{}, err
	}
	m.nshares.Add(1)
	f.shares = append(f.shares, shareEntry{owner: s.Owner, access: s.Access, deny: s.Deny})
	m.clientAdd(s.Owner.Client, f.id, 1)
	return Share{}, nil
}

// Unshare removes owner's share reservation on file; it reports whether
// there was one.
func (m *Manager) Unshare(file FileID, owner Owner) bool {
	sh := m.shardOf(file)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.files[file]
	if f == nil {
		return false
	}
	i := slices.IndexFunc(f.shares, func(e shareEntry) bool { return e.owner == owner })
	if i < 0 {
		return false
	}
	f.shares = slices.Delete(f.shares, i, i+1)
	m.reserve(-1)
	m.nshares.Add(-1)
	m.clientAdd(owner.Client, f.id, -1)
	sh.dropIfIdle(f)
	return true
}

// SharesOf lists the share reservations of one file.
func (m *Manager) SharesOf(file FileID) []Share {
	sh := m.shardOf(file)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.files[file]
	if f == nil {
		return nil
	}
	out := make([]Share, 0, len(f.shares))
	for _, e := range f.shares {
		out = append(out, Share{File: f.id, Owner: e.owner, Access: e.access, Deny: e.deny})
	}
	return out
}

// Shares lists the share reservations.
func (m *Manager) Shares() []Share {
	var out []Share
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, f := range sh.files {
			for _, e := range f.shares {
				out = append(out, Share{File: f.id, Owner: e.owner, Access: e.access, Deny: e.deny})
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Share) int {
		return cmp.Or(cmp.Compare(a.File.Export, b.File.Export), cmp.Compare(a.File.Object, b.File.Object),
			cmp.Compare(a.Owner.Client, b.Owner.Client), cmp.Compare(a.Owner.ID, b.Owner.ID))
	})
	return out
}
