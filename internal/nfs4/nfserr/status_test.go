package nfserr

import (
	"fmt"
	"syscall"
	"testing"
)

func TestValues(t *testing.T) {
	// Spot checks against the RFCs' tables.
	for _, tc := range []struct {
		s    Status
		v    uint32
		name string
	}{
		{OK, 0, "NFS4_OK"}, {Stale, 70, "NFS4ERR_STALE"}, {Badhandle, 10001, "NFS4ERR_BADHANDLE"},
		{OpIllegal, 10044, "NFS4ERR_OP_ILLEGAL"}, {Badxdr, 10036, "NFS4ERR_BADXDR"},
		{SeqMisordered, 10063, "NFS4ERR_SEQ_MISORDERED"}, {TooManyOps, 10070, "NFS4ERR_TOO_MANY_OPS"},
		{DelegRevoked, 10087, "NFS4ERR_DELEG_REVOKED"}, {OffloadNoReqs, 10094, "NFS4ERR_OFFLOAD_NO_REQS"},
		{Noxattr, 10095, "NFS4ERR_NOXATTR"}, {Xattr2big, 10096, "NFS4ERR_XATTR2BIG"},
	} {
		if uint32(tc.s) != tc.v || tc.s.String() != tc.name {
			t.Errorf("%v = %d, want %s = %d", tc.s, uint32(tc.s), tc.name, tc.v)
		}
	}
	if Status(10073).Known() || Status(3).Known() {
		t.Error("unassigned values reported known")
	}
	if Status(12345).String() != "nfsstat4(12345)" {
		t.Error(Status(12345).String())
	}
}

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Status
	}{
		{nil, OK},
		{Denied, Denied},
		{fmt.Errorf("lock: %w", Grace), Grace},
		{syscall.ENOENT, Noent},
		{fmt.Errorf("lookup: %w", syscall.ESTALE), Stale},
		{syscall.ENOTEMPTY, Notempty},
		{syscall.EHOSTDOWN, Io},
		{fmt.Errorf("plain"), Serverfault},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
