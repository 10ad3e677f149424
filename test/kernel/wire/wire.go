// Package wire is the report protocol between the guest agent
// (test/kernel/agent, the guest's /init) and the harness (test/kernel):
// JSON lines on the serial console, each after one of the prefixes.
package wire

// Line prefixes on the serial console.
const (
	EventPrefix  = "VNFSD-EVENT "
	ResultPrefix = "VNFSD-RESULT "
)

// Event is a progress line.
type Event struct {
	Event   string  `json:"event"`
	Version string  `json:"version,omitempty"`
	Case    string  `json:"case,omitempty"`
	MS      float64 `json:"ms"`
	Uptime  float64 `json:"uptime_ms,omitempty"`
	Detail  string  `json:"detail,omitempty"`
}

// Result is the outcome of one case for one NFS version.
type Result struct {
	Version string      `json:"version"`
	Case    string      `json:"case"`
	Status  string      `json:"status"` // pass, fail or skip
	MS      float64     `json:"ms"`
	Detail  string      `json:"detail,omitempty"`
	Host    []HostCheck `json:"host,omitempty"`
	Statfs  *Statfs     `json:"statfs,omitempty"`
}

// HostCheck asks the harness to verify an object in the export directory
// on the host: Path is relative to the version's directory (v3, v4.1...).
// Unset fields are not checked.
type HostCheck struct {
	Path         string  `json:"path"`
	Absent       bool    `json:"absent,omitempty"`
	Type         string  `json:"type,omitempty"` // file, dir, symlink
	Size         *int64  `json:"size,omitempty"`
	SHA256       string  `json:"sha256,omitempty"`
	Mode         *uint32 `json:"mode,omitempty"` // permission and set-id/sticky bits
	UID          *uint32 `json:"uid,omitempty"`
	GID          *uint32 `json:"gid,omitempty"`
	Nlink        *uint64 `json:"nlink,omitempty"`
	Link         *string `json:"link,omitempty"`
	Entries      *int    `json:"entries,omitempty"`
	MaxAllocated *int64  `json:"max_allocated,omitempty"` // bytes of st_blocks
}

// Statfs is statfs(2) of the mount as the guest sees it.
type Statfs struct {
	Bsize  int64  `json:"bsize"`
	Blocks uint64 `json:"blocks"`
	Bfree  uint64 `json:"bfree"`
	Bavail uint64 `json:"bavail"`
	Files  uint64 `json:"files"`
	Ffree  uint64 `json:"ffree"`
}
