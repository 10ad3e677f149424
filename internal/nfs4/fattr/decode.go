package fattr

import (
	"errors"
	"unicode/utf8"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
	"github.com/vnfsd/vnfsd/internal/xdr"
)

// time_how4 (RFC 8881 section 3.3.2).
const (
	SetToServerTime4 = 0
	SetToClientTime4 = 1
)

// DecodeSettable decodes the attribute values vals of a fattr4 whose
// bitmap is mask, as SETATTR (RFC 8881 section 18.30), CREATE's
// createattrs and OPEN's createattrs carry them, into a vfs.SetAttr. The
// attributes that can be set are size, mode, owner, owner_group,
// time_access_set and time_modify_set (SET_TO_SERVER_TIME4 gives
// vfs.SetAtimeNow / vfs.SetMtimeNow). set is the bitmap of those
// attributes (mask without trailing zero words), the attrsset of a
// successful SETATTR.
//
// Errors, checked in this order:
//   - NFS4ERR_ATTRNOTSUPP: mask has an attribute not in Supported(minor),
//     acl for one (RFC 8881 section 18.30.4);
//   - NFS4ERR_INVAL: mask has a supported attribute that cannot be set
//     (type, change, ...; RFC 8881 section 5.5);
//   - then, value by value in attribute order: NFS4ERR_BADXDR for a value
//     that does not decode (short input, a time_how4 other than 0 or 1);
//     NFS4ERR_INVAL for mode bits beyond 07777, nseconds above 999999999
//     (RFC 8881 section 3.3.1) and owner strings that are not UTF-8 (RFC
//     8881 section 14.5); NFS4ERR_BADOWNER for owner strings idmap cannot
//     translate or longer than MaxOwnerLen (a Status error of idmap is
//     returned as it is);
//   - NFS4ERR_BADXDR: bytes left after the last value.
//
// idmap nil means NumericIDMap{}. Whether the caller may make the change,
// and whether it fits the object (size of a directory), is for the
// server to decide.
func DecodeSettable(vals []byte, mask []uint32, idmap IDMap, minor uint32) (sa vfs.SetAttr, set []uint32, err error) {
	sup := supportedFor(minor)
	if !Subset(mask, sup[:]) {
		return vfs.SetAttr{}, nil, nfserr.Attrnotsupp
	}
	m := fromSlice(mask) // a subset of sup: nothing is lost
	if !m.andNot(settable).isZero() {
		return vfs.SetAttr{}, nil, nfserr.Inval
	}
	idmap = idmapOf(idmap)
	r := xdr.NewReader(vals)
	// Attribute order: size (4), mode (33), owner (36), owner_group (37),
	// time_access_set (48), time_modify_set (54).
	if m[0]&(1<<AttrSize) != 0 {
		sa.Size = r.Uint64()
		sa.Valid |= vfs.SetSize
	}
	if m[1]&(1<<(AttrMode-32)) != 0 {
		sa.Mode = r.Uint32()
		if r.Err() == nil && sa.Mode&^0o7777 != 0 {
			return vfs.SetAttr{}, nil, nfserr.Inval
		}
		sa.Valid |= vfs.SetMode
	}
	if m[1]&(1<<(AttrOwner-32)) != 0 {
		s, err := readOwner(r)
		if err == nil {
			sa.UID, err = idmap.NameToUID(s)
		}
		if err != nil {
			return vfs.SetAttr{}, nil, ownerStatus(err)
		}
		sa.Valid |= vfs.SetUID
	}
	if m[1]&(1<<(AttrOwnerGroup-32)) != 0 {
		s, err := readOwner(r)
		if err == nil {
			sa.GID, err = idmap.NameToGID(s)
		}
		if err != nil {
			return vfs.SetAttr{}, nil, ownerStatus(err)
		}
		sa.Valid |= vfs.SetGID
	}
	if m[1]&(1<<(AttrTimeAccessSet-32)) != 0 {
		now, t, err := readSettime(r)
		if err != nil {
			return vfs.SetAttr{}, nil, err
		}
		if now {
			sa.Valid |= vfs.SetAtimeNow
		} else {
			sa.Atime = t
			sa.Valid |= vfs.SetAtime
		}
	}
	if m[1]&(1<<(AttrTimeModifySet-32)) != 0 {
		now, t, err := readSettime(r)
		if err != nil {
			return vfs.SetAttr{}, nil, err
		}
		if now {
			sa.Valid |= vfs.SetMtimeNow
		} else {
			sa.Mtime = t
			sa.Valid |= vfs.SetMtime
		}
	}
	if r.Err() != nil || r.Len() != 0 {
		return vfs.SetAttr{}, nil, nfserr.Badxdr
	}
	return sa, m.slice(), nil
}

// readOwner reads a utf8str_mixed owner or owner_group.
func readOwner(r *xdr.Reader) (string, error) {
	n := r.Uint32()
	if r.Err() != nil || uint64(n) > uint64(r.Len()) {
		return "", nfserr.Badxdr
	}
	if n > MaxOwnerLen {
		return "", nfserr.Badowner
	}
	p := r.Fixed(int(n))
	if r.Err() != nil {
		return "", nfserr.Badxdr
	}
	if !utf8.Valid(p) || len(p) == 0 {
		// An empty owner names nobody (RFC 8881 section 5.9; pynfs
		// SATT16/17 expect NFS4ERR_INVAL, as Linux nfsd answers).
		return "", nfserr.Inval
	}
	return string(p), nil
}

// ownerStatus is the status for an owner that cannot be set.
func ownerStatus(err error) error {
	var st nfserr.Status
	if errors.As(err, &st) && st != nfserr.OK {
		return st
	}
	return nfserr.Badowner
}

// readSettime reads a settime4 (RFC 8881 section 3.3.3).
func readSettime(r *xdr.Reader) (now bool, t vfs.Timespec, err error) {
	how := r.Uint32()
	if r.Err() != nil {
		return false, t, nfserr.Badxdr
	}
	switch how {
	case SetToServerTime4:
		return true, t, nil
	case SetToClientTime4:
		t.Sec = r.Int64()
		t.Nsec = r.Uint32()
		if r.Err() != nil {
			return false, t, nfserr.Badxdr
		}
		if t.Nsec > 999999999 {
			return false, t, nfserr.Inval
		}
		return false, t, nil
	}
	return false, t, nfserr.Badxdr
}
