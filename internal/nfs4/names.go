package nfs4

import (
	"bytes"
	"unicode/utf8"

	"github.com/vnfsd/vnfsd/internal/nfs4/nfserr"
	"github.com/vnfsd/vnfsd/internal/vfs"
)

// checkName checks a component4 that names an object (LOOKUP, CREATE,
// OPEN, REMOVE, RENAME, LINK): RFC 8881 section 14.5 and the operations'
// ERRORS sections. Empty or invalid UTF-8 is NFS4ERR_INVAL, over NAME_MAX
// NFS4ERR_NAMETOOLONG, "." and ".." and names containing '/' are
// NFS4ERR_BADNAME, a NUL byte NFS4ERR_BADCHAR.
func checkName(name []byte) (string, error) {
	switch {
	case len(name) == 0:
		return "", nfserr.Inval
	case len(name) > vfs.MaxNameLen:
		return "", nfserr.Nametoolong
	case !utf8.Valid(name):
		return "", nfserr.Inval
	case bytes.IndexByte(name, 0) >= 0:
		return "", nfserr.Badchar
	case string(name) == "." || string(name) == ".." || bytes.IndexByte(name, '/') >= 0:
		return "", nfserr.Badname
	}
	return string(name), nil
}
