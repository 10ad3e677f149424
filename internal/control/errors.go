package control

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vnfsd/vnfsd/internal/ns"
)

// Kinds of errors, for errors.Is; the REST API maps them to HTTP statuses
// (400, 404, 409, 401). Errors of any other kind are internal failures.
var (
	ErrInvalid         = errors.New("invalid argument")
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Error is an error of a known kind with a message fit for the caller:
// paths in it are relative to the caller's scope.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func newErr(kind error, format string, a ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

func invalidf(format string, a ...any) error  { return newErr(ErrInvalid, format, a...) }
func notFoundf(format string, a ...any) error { return newErr(ErrNotFound, format, a...) }
func conflictf(format string, a ...any) error { return newErr(ErrConflict, format, a...) }

// quote renders user input for a message, bounded.
func quote(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// scoped translates an error of package ns into an Error of the matching
// kind whose message names paths relative to sc: ns quotes the tree's
// absolute paths, which would reveal the scope's place in the tree.
// Errors of other kinds are returned unchanged.
func scoped(sc ns.Scope, err error) error {
	var kind error
	var prefix string
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ns.ErrInvalid):
		kind, prefix = ErrInvalid, ns.ErrInvalid.Error()+": "
	case errors.Is(err, ns.ErrNotFound):
		kind, prefix = ErrNotFound, ""
	case errors.Is(err, ns.ErrExists):
		kind, prefix = ErrConflict, ""
	default:
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return err
	}
	msg := err.Error()
	msg = strings.Replace(msg, prefix, "", 1)
	if root := sc.Root; root != "" && root != "/" {
		msg = strings.ReplaceAll(msg, `"`+root+`/`, `"/`)
		msg = strings.ReplaceAll(msg, `"`+root+`"`, `"/"`)
	}
	return &Error{Kind: kind, Msg: msg}
}
