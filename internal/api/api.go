// Package api serves vnfsd's REST API (docs/api.md): JSON over HTTP with
// bearer tokens, a thin layer over internal/control.
//
// Every request is checked in this order: route (404), method (405),
// token (401), query parameters (400), body: media type (415), size
// (413), strict JSON (400); then control validates the values and applies
// the change in one transaction, or nothing.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/vnfsd/vnfsd/internal/control"
	"github.com/vnfsd/vnfsd/internal/ns"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// maxAuthHeader bounds the Authorization header looked at.
const maxAuthHeader = 512

// Handler serves the API.
type Handler struct {
	c      *control.Control
	log    *slog.Logger
	routes map[string]map[string]*endpoint
}

// request is what an endpoint gets: the caller's scope, the checked query
// and the raw body.
type request struct {
	ctx   context.Context
	scope ns.Scope
	query map[string]string
	body  []byte
}

// endpoint is one method of one route.
type endpoint struct {
	// params are the query parameters accepted; those ending in "!" are
	// required.
	params []string
	// body tells whether the method takes a JSON body.
	body bool
	fn   func(h *Handler, r *request) (status int, out any, err error)
}

// New returns the API handler of c. log (nil discards) receives internal
// failures.
func New(c *control.Control, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{c: c, log: log}
	h.routes = map[string]map[string]*endpoint{
		"/v1/namespaces": {
			http.MethodGet:  {params: []string{"path", "recursive"}, fn: (*Handler).listNamespaces},
			http.MethodPost: {body: true, fn: (*Handler).createNamespace},
		},
		"/v1/namespace": {
			http.MethodGet:    {params: []string{"path!"}, fn: (*Handler).getNamespace},
			http.MethodPatch:  {params: []string{"path!"}, body: true, fn: (*Handler).patchNamespace},
			http.MethodDelete: {params: []string{"path!"}, fn: (*Handler).deleteNamespace},
		},
		"/v1/server": {
			http.MethodGet:    {params: []string{"ns!"}, fn: (*Handler).getServer},
			http.MethodPut:    {params: []string{"ns!"}, body: true, fn: (*Handler).putServer},
			http.MethodPatch:  {params: []string{"ns!"}, body: true, fn: (*Handler).patchServer},
			http.MethodDelete: {params: []string{"ns!"}, fn: (*Handler).deleteServer},
		},
		"/v1/server/listeners": {
			http.MethodPost:   {params: []string{"ns!"}, body: true, fn: (*Handler).addListener},
			http.MethodDelete: {params: []string{"ns!", "addr!", "netns"}, fn: (*Handler).removeListener},
		},
		"/v1/server/unlock": {
			http.MethodPost: {params: []string{"ns!"}, body: true, fn: (*Handler).unlock},
		},
		"/v1/exports": {
			http.MethodGet:    {params: []string{"ns!"}, fn: (*Handler).listExports},
			http.MethodPost:   {params: []string{"ns!"}, body: true, fn: (*Handler).addExport},
			http.MethodDelete: {params: []string{"ns!", "path!"}, fn: (*Handler).removeExport},
		},
		"/v1/tokens": {
			http.MethodGet:    {fn: (*Handler).listTokens},
			http.MethodPost:   {body: true, fn: (*Handler).createToken},
			http.MethodDelete: {params: []string{"id!"}, fn: (*Handler).deleteToken},
		},
	}
	return h
}

// httpError is an error with its status, produced by the HTTP layer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, a ...any) error {
	return &httpError{status, fmt.Sprintf(format, a...)}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	route, ok := h.routes[r.URL.Path]
	if !ok {
		h.fail(w, r, errorf(http.StatusNotFound, "no such API route %s", quote(r.URL.Path)))
		return
	}
	ep, ok := route[r.Method]
	if !ok {
		allowed := make([]string, 0, len(route))
		for m := range route {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		h.fail(w, r, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	req := &request{ctx: r.Context()}
	var err error
	if req.scope, err = h.authenticate(r); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vnfsd"`)
		h.fail(w, r, err)
		return
	}
	if req.query, err = checkQuery(r.URL.RawQuery, ep.params); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.body, err = readBody(w, r, ep.body); err != nil {
		h.fail(w, r, err)
		return
	}
	status, out, err := ep.fn(h, req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if out == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}

func (h *Handler) authenticate(r *http.Request) (ns.Scope, error) {
	hdr := r.Header.Values("Authorization")
	if len(hdr) == 0 {
		return ns.Scope{}, errorf(http.StatusUnauthorized, "missing token: send Authorization: Bearer <token>")
	}
	if len(hdr) > 1 || len(hdr[0]) > maxAuthHeader {
		return ns.Scope{}, errorf(http.StatusUnauthorized, "malformed Authorization header")
	}
	scheme, tok, ok := strings.Cut(hdr[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return ns.Scope{}, errorf(http.StatusUnauthorized, "malformed Authorization header: want Bearer <token>")
	}
	return h.c.Authenticate(r.Context(), strings.TrimSpace(tok))
}

// checkQuery parses the query string and checks it against the
// parameters an endpoint accepts: no unknown or repeated parameter, every
// required one present and not empty.
func checkQuery(raw string, params []string) (map[string]string, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "malformed query string: %v", err)
	}
	out := make(map[string]string, len(vals))
	known := map[string]bool{}
	for _, p := range params {
		name, required := strings.CutSuffix(p, "!")
		known[name] = true
		if required && (len(vals[name]) == 0 || vals[name][0] == "") {
			return nil, errorf(http.StatusBadRequest, "query parameter %q is required", name)
		}
	}
	for k, v := range vals {
		if !known[k] {
			if len(params) == 0 {
				return nil, errorf(http.StatusBadRequest, "unknown query parameter %s (this request takes none)", quote(k))
			}
			return nil, errorf(http.StatusBadRequest, "unknown query parameter %s", quote(k))
		}
		if len(v) > 1 {
			return nil, errorf(http.StatusBadRequest, "query parameter %q given %d times", k, len(v))
		}
		out[k] = v[0]
	}
	return out, nil
}

// readBody reads a request body: a JSON object of at most MaxBody bytes
// for the methods that take one, nothing for the others.
func readBody(w http.ResponseWriter, r *http.Request, want bool) ([]byte, error) {
	if !want {
		if r.ContentLength > 0 {
			return nil, errorf(http.StatusBadRequest, "%s %s takes no request body", r.Method, r.URL.Path)
		}
		// A chunked body of unknown length is read (bounded) to be sure.
		b, err := io.ReadAll(io.LimitReader(r.Body, 1))
		if err == nil && len(b) > 0 {
			return nil, errorf(http.StatusBadRequest, "%s %s takes no request body", r.Method, r.URL.Path)
		}
		return nil, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return nil, errorf(http.StatusUnsupportedMediaType, "the request body must be application/json (Content-Type is %s)", quote(ct))
	}
	if r.ContentLength > MaxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes is over the limit of %d", r.ContentLength, MaxBody)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "request body is over the limit of %d bytes", MaxBody)
		}
		return nil, errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	return b, nil
}

// decode decodes a JSON object strictly into v: no unknown field (names
// match exactly, not case-insensitively as encoding/json would), no
// trailing data, no value of the wrong type.
func decode(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return errorf(http.StatusBadRequest, "the request body is empty: a JSON object is expected")
	}
	if trimmed[0] != '{' {
		return errorf(http.StatusBadRequest, "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "malformed JSON: data after the object")
	}
	var generic any
	gdec := json.NewDecoder(bytes.NewReader(body))
	gdec.UseNumber()
	if err := gdec.Decode(&generic); err != nil {
		return jsonError(err)
	}
	return checkKeys(generic, reflect.TypeOf(v), "")
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		if te.Field == "" {
			return errorf(http.StatusBadRequest, "malformed JSON: a %s where %s is expected", te.Value, typeName(te.Type))
		}
		return errorf(http.StatusBadRequest, "field %q: a JSON %s where %s is expected", te.Field, te.Value, typeName(te.Type))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "malformed JSON: unexpected end of the body")
	}
	return errorf(http.StatusBadRequest, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// checkKeys verifies that every object key of v names a field of t by its
// exact JSON name.
func checkKeys(v any, t reflect.Type, where string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, val := range m {
			f, ok := fieldByJSONName(t, k)
			if !ok {
				return errorf(http.StatusBadRequest, "unknown field %s%s", quote(where+k), hint(t, k))
			}
			if err := checkKeys(val, f.Type, where+k+"."); err != nil {
				return err
			}
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range list {
			if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(where, "."), i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			if sf, ok := fieldByJSONName(f.Type, name); ok {
				return sf, true
			}
			continue
		}
		n, _, _ := strings.Cut(tag, ",")
		if n == "" {
			n = f.Name
		}
		if n == name && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// hint suggests the field a wrongly spelled key may have meant.
func hint(t reflect.Type, k string) string {
	for i := 0; i < t.NumField(); i++ {
		n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if n != "" && strings.EqualFold(n, k) {
			return fmt.Sprintf(" (field names are lowercase: %q)", n)
		}
	}
	return ""
}

func quote(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"internal error: encoding the response"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// fail answers with the status of an error and its message; internal
// failures are logged and answered with a generic message.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var he *httpError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.Is(err, control.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, control.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, control.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, control.ErrUnauthenticated):
		status = http.StatusUnauthorized
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		h.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		// The details may name things outside the caller's scope.
		msg = "internal error; vnfsd's log has the details"
	}
	writeJSON(w, status, map[string]string{"error": msg})
}
