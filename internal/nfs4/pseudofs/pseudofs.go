// Package pseudofs is the NFSv4 pseudo file system of one virtual server
// (RFC 7530 section 7, RFC 8881 section 7): the read-only directories that
// join its exports into one tree under PUTROOTFH, so that a client mounting
// "/" (or any path) walks with LOOKUP to the exports it may use.
//
// A Tree is built from the export paths, such as /data and /home/alice:
// the root, /home are pseudo directories; /data and /home/alice are
// junctions, where LOOKUP leaves the pseudo file system for the export's
// root. An export at "/" makes the export itself the root and leaves no
// pseudo directory. An export whose path lies below another export's path
// is not reachable through the outer export in NFSv4 (the outer export's
// directories are the backend's, which knows nothing of junctions); its
// path in the pseudo tree is shadowed by the outer export.
//
// Pseudo directories have handles in export 0 (an id no export uses)
// whose object id is a 64-bit hash of the directory's path, so they stay
// valid across restarts and changes of the export table as long as the
// directory still exists in the tree.
package pseudofs

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// ExportID is the export id of pseudo directories' handles.
const ExportID = 0

// IDLen is the length of a pseudo directory's object id.
const IDLen = 8

// Node is a pseudo directory, or a junction to an export.
type Node struct {
	Path     string // "/" or "/home"
	Name     string // last component ("" for the root)
	ID       []byte // object id in the handle (IDLen bytes)
	Fileid   uint64
	Parent   *Node  // nil for the root
	Export   uint32 // junction: the export's id; 0 for a pseudo directory
	children map[string]*Node
	names    []string // sorted, for READDIR
}

// IsJunction reports whether n is an export's root.
func (n *Node) IsJunction() bool { return n.Export != 0 }

// Tree is an immutable pseudo file system.
type Tree struct {
	root     *Node
	byID     map[string]*Node
	byExport map[uint32]*Node
	mtime    vfs.Timespec
	// RootExport is the export mounted at "/", or 0.
	RootExport uint32
}

// Export names an export for New.
type Export struct {
	ID   uint32
	Path string // clean and absolute (export.CleanPath)
}

// New builds the tree of exports at the given time (the pseudo
// directories' times).
func New(exports []Export, now time.Time) *Tree {
	t := &Tree{byID: map[string]*Node{}, byExport: map[uint32]*Node{}, mtime: vfs.Timespec{Sec: now.Unix(), Nsec: uint32(now.Nanosecond())}}
	t.root = t.node(nil, "/", "")
	// Shorter paths first, so that an outer export is placed before the
	// exports below it (which it then shadows).
	sorted := slices.Clone(exports)
	slices.SortFunc(sorted, func(a, b Export) int {
		if d := len(a.Path) - len(b.Path); d != 0 {
			return d
		}
		return strings.Compare(a.Path, b.Path)
	})
	for _, e := range sorted {
		if e.ID == ExportID {
			continue
		}
		if e.Path == "/" {
			t.RootExport = e.ID
			t.root.Export = e.ID
			t.byExport[e.ID] = t.root
			continue
		}
		n := t.root
		parts := strings.Split(strings.Trim(e.Path, "/"), "/")
		for i, p := range parts {
			if n.IsJunction() {
				break // shadowed by an outer export
			}
			c := n.children[p]
			if c == nil {
				path := "/" + strings.Join(parts[:i+1], "/")
				c = t.node(n, path, p)
			}
			if i == len(parts)-1 && len(c.children) == 0 && !c.IsJunction() {
				c.Export = e.ID
				t.byExport[e.ID] = c
			}
			n = c
		}
	}
	return t
}

func (t *Tree) node(parent *Node, path, name string) *Node {
	sum := sha256.Sum256([]byte("vnfsd pseudo " + path))
	n := &Node{Path: path, Name: name, ID: sum[:IDLen], Parent: parent, children: map[string]*Node{}}
	// Fileids of pseudo directories are kept apart from the backend's
	// (inode numbers) by the top bit.
	n.Fileid = binary.BigEndian.Uint64(sum[IDLen:16]) | 1<<63
	if parent != nil {
		parent.children[name] = n
		i, _ := slices.BinarySearch(parent.names, name)
		parent.names = slices.Insert(parent.names, i, name)
	}
	t.byID[string(n.ID)] = n
	return n
}

// Root returns the root of the tree.
func (t *Tree) Root() *Node { return t.root }

// ByID returns the pseudo directory whose handle carries id, or nil (the
// directory no longer exists: the handle is stale).
func (t *Tree) ByID(id []byte) *Node { return t.byID[string(id)] }

// Lookup returns the child name of pseudo directory n, or nil.
func (t *Tree) Lookup(n *Node, name string) *Node { return n.children[name] }

// Junction returns the node of export id, or nil when the export is not in
// the tree (or shadowed).
func (t *Tree) Junction(id uint32) *Node { return t.byExport[id] }

// Children returns the names of n's children in order. The cookie of the
// i-th child is i+3 (0, 1 and 2 are reserved by RFC 8881 section 18.23.3).
func (t *Tree) Children(n *Node) []string { return n.names }

// Attr returns the attributes of pseudo directory n: a read-only
// directory (0555, owned by root) whose link count is 2 plus its
// subdirectories, with the tree's build time as its times.
func (t *Tree) Attr(n *Node) vfs.Attr {
	return vfs.Attr{Type: vfs.TypeDir, Mode: 0o555, Nlink: uint32(2 + len(n.children)),
		Size: 4096, Used: 4096, Fileid: n.Fileid, Atime: t.mtime, Mtime: t.mtime, Ctime: t.mtime}
}
