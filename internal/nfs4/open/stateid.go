package open

import (
	"encoding/binary"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
)

// Stateid is stateid4 (RFC 7530 section 9.1.4.2, RFC 8881 section 8.2.2):
// Other names a set of state, Seqid counts its changes.
//
// Other of the stateids this package issues is the boot epoch of the
// vserver (4 bytes, big-endian) followed by a counter (8 bytes,
// big-endian) that is never reused within the epoch, so a stateid of an
// earlier server instance is recognized (NFS4ERR_STALE_STATEID in 4.0).
type Stateid struct {
	Seqid uint32
	Other [12]byte
}

var allOnes = [12]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// The special stateids (RFC 7530 section 9.1.4.3, RFC 8881 section
// 8.2.3).
var (
	// AnonymousStateid (all zeros) is used by I/O without an open.
	AnonymousStateid = Stateid{}
	// BypassStateid (all ones) lets READ bypass locking checks.
	BypassStateid = Stateid{Seqid: 0xffffffff, Other: allOnes}
	// CurrentStateid (seqid 1, other zero) stands for the COMPOUND's
	// current stateid (4.1); the server substitutes it before calling
	// this package.
	CurrentStateid = Stateid{Seqid: 1}
	// InvalidStateid (seqid NFS4_UINT32_MAX, other zero) is returned by
	// CLOSE in 4.1 (RFC 8881 section 18.2.4) and is never valid.
	InvalidStateid = Stateid{Seqid: 0xffffffff}
)

// IsSpecial reports whether s is in the space of special stateids: its
// Other is all zeros or all ones (RFC 8881 section 8.2.3). The server
// handles them itself; every operation of this package but CheckIO
// answers NFS4ERR_BAD_STATEID for them.
func IsSpecial(s Stateid) bool { return s.Other == [12]byte{} || s.Other == allOnes }

func (t *Table) other(id uint64) [12]byte {
	var o [12]byte
	binary.BigEndian.PutUint32(o[:4], t.epoch)
	binary.BigEndian.PutUint64(o[4:], id)
	return o
}

func splitOther(o [12]byte) (epoch uint32, id uint64) {
	return binary.BigEndian.Uint32(o[:4]), binary.BigEndian.Uint64(o[4:])
}

// nextSeqid returns the seqid after s: it wraps from 0xffffffff to 1, 0
// being reserved in 4.1 (RFC 8881 section 8.2.2).
func nextSeqid(s uint32) uint32 {
	s++
	if s == 0 {
		s = 1
	}
	return s
}

// checkGeneration compares a presented seqid with the state's current one
// (RFC 7530 section 9.1.4.3, RFC 8881 section 8.2.4): a newer seqid than
// the server issued is NFS4ERR_BAD_STATEID, an older one
// NFS4ERR_OLD_STATEID. In 4.1 a seqid of 0 means the current one (RFC 8881
// section 8.2.2). Seqids are compared in serial number arithmetic, as they
// wrap.
func checkGeneration(minor, got, cur uint32) error {
	if got == cur || (minor >= 1 && got == 0) {
		return nil
	}
	if int32(got-cur) > 0 {
		return nfserr.BadStateid
	}
	return nfserr.OldStateid
}
