package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vnfsd/vnfsd/internal/ns"
	"github.com/vnfsd/vnfsd/internal/store"
)

// Tokens are "<id>.<secret>": id is 16 lowercase hex digits ("root" for
// the root token), secret 32 random bytes in unpadded base64url. The store
// keeps the SHA-256 of the whole token; authentication looks the record up
// by id and compares the hashes in constant time.
const (
	rootTokenID   = "root"
	tokenIDLen    = 16
	secretLen     = 43 // base64url of 32 bytes
	maxTokenLen   = 128
	maxTokenName  = 128
	maxTokenCount = 65536
)

// Token is an API token as a scoped caller sees it. Token (the secret) is
// set only in the result of CreateToken.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Scope is the token's namespace, relative to the caller's scope.
	Scope   string    `json:"scope"`
	Created time.Time `json:"created"`
	Token   string    `json:"token,omitempty"`
}

func newSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newTokenID() string {
	var b [tokenIDLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// splitToken checks a token's form and returns its id.
func splitToken(tok string) (string, bool) {
	if len(tok) > maxTokenLen {
		return "", false
	}
	id, secret, ok := strings.Cut(tok, ".")
	if !ok || len(secret) != secretLen {
		return "", false
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	if id == rootTokenID {
		return id, true
	}
	return id, validTokenID(id)
}

func validTokenID(id string) bool {
	if len(id) != tokenIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// loadOrCreateRootToken reads the root token file, creating it (mode 0600)
// with a new token on first use, and returns the token's hash.
func loadOrCreateRootToken(path string) ([sha256.Size]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		tok := rootTokenID + "." + newSecret()
		tmp := path + ".tmp"
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("root token: %w", err)
		}
		_, err = f.WriteString(tok + "\n")
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			// Link rather than rename: two processes racing on a new
			// data directory must not replace each other's token.
			err = os.Link(tmp, path)
		}
		os.Remove(tmp)
		if errors.Is(err, os.ErrExist) {
			return loadOrCreateRootToken(path)
		}
		if err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("root token: %w", err)
		}
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
		return sha256.Sum256([]byte(tok)), nil
	}
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("root token: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("root token: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return [sha256.Size]byte{}, fmt.Errorf("root token: %s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	tok := strings.TrimSpace(string(b))
	if id, ok := splitToken(tok); !ok || id != rootTokenID {
		return [sha256.Size]byte{}, fmt.Errorf("root token: %s does not hold a root token (delete it to have a new one made)", path)
	}
	return sha256.Sum256([]byte(tok)), nil
}

// Authenticate returns the scope of a bearer token; ErrUnauthenticated
// if the token is malformed, unknown or revoked.
func (c *Control) Authenticate(ctx context.Context, tok string) (ns.Scope, error) {
	unknown := newErr(ErrUnauthenticated, "unknown or revoked token")
	id, ok := splitToken(tok)
	if !ok {
		return ns.Scope{}, unknown
	}
	sum := sha256.Sum256([]byte(tok))
	if id == rootTokenID {
		if subtle.ConstantTimeCompare(sum[:], c.rootHash[:]) != 1 {
			return ns.Scope{}, unknown
		}
		return ns.Scope{Root: "/"}, nil
	}
	var scope ns.Scope
	err := c.st.View(ctx, func(tx store.Tx) error {
		kv, ok, err := tx.Get(tokenKey(id))
		if err != nil || !ok {
			if err == nil {
				err = unknown
			}
			return err
		}
		r, err := decodeToken(kv)
		if err != nil {
			return err
		}
		want, err := hex.DecodeString(r.Hash)
		if err != nil || len(want) != sha256.Size {
			return fmt.Errorf("control: token %s: corrupt hash", id)
		}
		if subtle.ConstantTimeCompare(sum[:], want) != 1 {
			return unknown
		}
		n, err := c.tree.GetByUUIDTx(tx, r.NS)
		if err != nil {
			if errors.Is(err, ns.ErrNotFound) {
				return unknown
			}
			return err
		}
		scope = ns.Scope{Root: n.Path}
		return nil
	})
	return scope, err
}

func checkTokenName(name string) error {
	if len(name) > maxTokenName || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return invalidf("token name %s: at most %d bytes of printable UTF-8", quote(name), maxTokenName)
	}
	return nil
}

// CreateToken creates a token bound to the namespace at scopePath (which
// must exist) and returns it with its secret, which is not kept.
func (c *Control) CreateToken(ctx context.Context, sc ns.Scope, scopePath, name string) (Token, error) {
	a, err := abs(sc, scopePath)
	if err != nil {
		return Token{}, err
	}
	if err := checkTokenName(name); err != nil {
		return Token{}, err
	}
	r := &tokenRecord{Name: name, Created: time.Now().UTC()}
	secret := newSecret()
	var tok string
	err = c.st.Update(ctx, func(tx store.Tx) error {
		n, err := c.tree.GetTx(tx, a)
		if err != nil {
			return err
		}
		r.NS = n.UUID
		all, err := tx.List(PrefixTokenByID)
		if err != nil {
			return err
		}
		if len(all) >= maxTokenCount {
			return invalidf("there are %d tokens, the most allowed", maxTokenCount)
		}
		for {
			r.ID = newTokenID()
			if _, ok, err := tx.Get(tokenKey(r.ID)); err != nil || !ok {
				if err != nil {
					return err
				}
				break
			}
		}
		tok = r.ID + "." + secret
		sum := sha256.Sum256([]byte(tok))
		r.Hash = hex.EncodeToString(sum[:])
		return putToken(tx, r)
	})
	if err != nil {
		return Token{}, scoped(sc, err)
	}
	return Token{ID: r.ID, Name: r.Name, Scope: scopePath, Created: r.Created, Token: tok}, nil
}

// ListTokens returns the tokens whose scope is within the caller's, by
// scope path and then id.
func (c *Control) ListTokens(ctx context.Context, sc ns.Scope) ([]Token, error) {
	out := []Token{}
	err := c.st.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.List(PrefixTokenByID)
		if err != nil {
			return err
		}
		paths := map[string]string{}
		for _, kv := range kvs {
			r, err := decodeToken(kv)
			if err != nil {
				return err
			}
			p, ok := paths[r.NS]
			if !ok {
				n, err := c.tree.GetByUUIDTx(tx, r.NS)
				if err != nil {
					if errors.Is(err, ns.ErrNotFound) {
						continue
					}
					return err
				}
				p = n.Path
				paths[r.NS] = p
			}
			rel, ok := sc.Rel(p)
			if !ok {
				continue
			}
			out = append(out, Token{ID: r.ID, Name: r.Name, Scope: rel, Created: r.Created})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := strings.Compare(a.Scope, b.Scope); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// DeleteToken revokes a token whose scope is within the caller's.
func (c *Control) DeleteToken(ctx context.Context, sc ns.Scope, id string) error {
	notFound := notFoundf("token %s not found", quote(id))
	if !validTokenID(id) {
		if id == rootTokenID {
			return invalidf("the root token cannot be revoked through the API: delete %s and restart vnfsd", RootTokenFile)
		}
		return notFound
	}
	return c.st.Update(ctx, func(tx store.Tx) error {
		kv, ok, err := tx.Get(tokenKey(id))
		if err != nil || !ok {
			if err == nil {
				err = notFound
			}
			return err
		}
		r, err := decodeToken(kv)
		if err != nil {
			return err
		}
		n, err := c.tree.GetByUUIDTx(tx, r.NS)
		if err != nil {
			if errors.Is(err, ns.ErrNotFound) {
				return notFound
			}
			return err
		}
		if !sc.Contains(n.Path) {
			return notFound
		}
		return deleteToken(tx, r)
	})
}
