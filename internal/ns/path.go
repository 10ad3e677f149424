package ns

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Limits on names and paths.
const (
	// MaxNameLen is the maximum length of a namespace name (a DNS label).
	MaxNameLen = 63
	// MaxDepth is the maximum number of names in a path ("/a/b" has 2).
	MaxDepth = 16
	// MaxPathLen is the maximum length of a path in bytes.
	MaxPathLen = 1024
)

// quote renders user input for an error message, bounded.
func quote(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// ValidName checks a namespace name: a lowercase DNS label (RFC 1123),
// 1 to 63 characters of [a-z0-9-], not starting or ending with '-'.
func ValidName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: name %s is longer than %d characters", ErrInvalid, quote(name), MaxNameLen)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%w: %q is not a name (paths cannot go up)", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-':
			if i == 0 || i == len(name)-1 {
				return fmt.Errorf("%w: name %s starts or ends with '-'", ErrInvalid, quote(name))
			}
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("%w: name %s has uppercase letters (names are lowercase)", ErrInvalid, quote(name))
		default:
			return fmt.Errorf("%w: name %s has character %q (allowed: a-z, 0-9, '-')", ErrInvalid, quote(name), c)
		}
	}
	return nil
}

// splitPath checks an absolute path and returns its names; the root "/"
// has none. Paths are canonical: no trailing '/', no empty, "." or ".."
// element.
func splitPath(path string) ([]string, error) {
	if len(path) > MaxPathLen {
		return nil, fmt.Errorf("%w: path %s is longer than %d bytes", ErrInvalid, quote(path), MaxPathLen)
	}
	if path == "" || path[0] != '/' {
		return nil, fmt.Errorf("%w: path %s is not absolute", ErrInvalid, quote(path))
	}
	if path == "/" {
		return nil, nil
	}
	if path[len(path)-1] == '/' {
		return nil, fmt.Errorf("%w: path %s ends with '/'", ErrInvalid, quote(path))
	}
	names := strings.Split(path[1:], "/")
	if len(names) > MaxDepth {
		return nil, fmt.Errorf("%w: path %s is deeper than %d levels", ErrInvalid, quote(path), MaxDepth)
	}
	for _, n := range names {
		if err := ValidName(n); err != nil {
			return nil, fmt.Errorf("path %s: %w", quote(path), err)
		}
	}
	return names, nil
}

// ValidPath checks an absolute namespace path such as "/acme/prod".
func ValidPath(path string) error {
	_, err := splitPath(path)
	return err
}

// join appends a name to a path.
func join(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// splitParent returns the parent path and the last name of a path that is
// not the root.
func splitParent(path string) (string, string) {
	i := strings.LastIndexByte(path, '/')
	if i == 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}

// newUUID returns a random (version 4) UUID, RFC 9562 section 5.4.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand aborts the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

// ValidUUID checks the canonical lowercase form of a UUID.
func ValidUUID(u string) error {
	if len(u) != 36 {
		return fmt.Errorf("%w: UUID %s is not 36 characters", ErrInvalid, quote(u))
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return fmt.Errorf("%w: UUID %s is malformed", ErrInvalid, quote(u))
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("%w: UUID %s is not lowercase hexadecimal", ErrInvalid, quote(u))
		}
	}
	return nil
}

// Scope is the part of the tree an administrator may see: the subtree at
// Root. Inside a scope, paths are relative to Root and written as absolute
// paths: with Root "/acme", "/prod" means "/acme/prod" and "/" means
// "/acme". Nothing outside Root can be named. The zero Scope is the whole
// tree.
type Scope struct {
	Root string
}

func (s Scope) root() (string, []string, error) {
	r := s.Root
	if r == "" {
		r = "/"
	}
	names, err := splitPath(r)
	if err != nil {
		return "", nil, fmt.Errorf("scope root: %w", err)
	}
	return r, names, nil
}

// Abs maps a path seen inside the scope to the tree's absolute path. The
// path must be absolute within the scope; "..", "." and anything else that
// is not a plain name is refused with ErrInvalid, so nothing can escape.
func (s Scope) Abs(rel string) (string, error) {
	root, rootNames, err := s.root()
	if err != nil {
		return "", err
	}
	names, err := splitPath(rel)
	if err != nil {
		return "", err
	}
	if len(rootNames)+len(names) > MaxDepth {
		return "", fmt.Errorf("%w: path %s is deeper than %d levels in the tree", ErrInvalid, quote(rel), MaxDepth)
	}
	if rel == "/" {
		return root, nil
	}
	if root == "/" {
		return rel, nil
	}
	abs := root + rel
	if len(abs) > MaxPathLen {
		return "", fmt.Errorf("%w: path %s is longer than %d bytes in the tree", ErrInvalid, quote(rel), MaxPathLen)
	}
	return abs, nil
}

// Rel maps an absolute path of the tree to the path seen inside the scope;
// false when the path is outside the scope (or not a valid path).
func (s Scope) Rel(abs string) (string, bool) {
	root, _, err := s.root()
	if err != nil || ValidPath(abs) != nil {
		return "", false
	}
	switch {
	case root == "/":
		return abs, true
	case abs == root:
		return "/", true
	case strings.HasPrefix(abs, root) && abs[len(root)] == '/':
		return abs[len(root):], true
	}
	return "", false
}

// Contains reports whether an absolute path is inside the scope.
func (s Scope) Contains(abs string) bool {
	_, ok := s.Rel(abs)
	return ok
}

// Namespace returns n as seen inside the scope: Path relative to the scope,
// and for the scope's root an empty Parent, since its parent is outside.
// False when n is outside the scope.
func (s Scope) Namespace(n Namespace) (Namespace, bool) {
	rel, ok := s.Rel(n.Path)
	if !ok {
		return Namespace{}, false
	}
	if rel == "/" {
		n.Parent = ""
	}
	n.Path = rel
	return n, true
}
