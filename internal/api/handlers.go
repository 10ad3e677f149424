package api

import (
	"net/http"

	"github.com/vnfsd/vnfsd/internal/control"
)

// Namespaces.

func (h *Handler) listNamespaces(r *request) (int, any, error) {
	path := r.query["path"]
	if path == "" {
		path = "/"
	}
	var recursive bool
	switch r.query["recursive"] {
	case "", "false":
	case "true":
		recursive = true
	default:
		return 0, nil, errorf(http.StatusBadRequest, "query parameter \"recursive\" must be true or false")
	}
	list, err := h.c.ListNamespaces(r.ctx, r.scope, path, recursive)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"namespaces": list}, nil
}

func (h *Handler) createNamespace(r *request) (int, any, error) {
	var in struct {
		Path string `json:"path"`
	}
	if err := decode(r.body, &in); err != nil {
		return 0, nil, err
	}
	if in.Path == "" {
		return 0, nil, errorf(http.StatusBadRequest, "field \"path\" is required")
	}
	n, err := h.c.CreateNamespace(r.ctx, r.scope, in.Path)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, n, nil
}

func (h *Handler) getNamespace(r *request) (int, any, error) {
	n, err := h.c.GetNamespace(r.ctx, r.scope, r.query["path"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n, nil
}

func (h *Handler) patchNamespace(r *request) (int, any, error) {
	var in struct {
		Name   *string `json:"name"`
		Parent *string `json:"parent"`
	}
	if err := decode(r.body, &in); err != nil {
		return 0, nil, err
	}
	var n control.Namespace
	var err error
	switch {
	case in.Name != nil && in.Parent != nil:
		return 0, nil, errorf(http.StatusBadRequest, "give \"name\" (rename) or \"parent\" (move), not both")
	case in.Name != nil:
		n, err = h.c.RenameNamespace(r.ctx, r.scope, r.query["path"], *in.Name)
	case in.Parent != nil:
		n, err = h.c.MoveNamespace(r.ctx, r.scope, r.query["path"], *in.Parent)
	default:
		return 0, nil, errorf(http.StatusBadRequest, "give \"name\" (rename) or \"parent\" (move)")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n, nil
}

func (h *Handler) deleteNamespace(r *request) (int, any, error) {
	list, err := h.c.DeleteNamespace(r.ctx, r.scope, r.query["path"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"deleted": list}, nil
}

// Servers.

func (h *Handler) getServer(r *request) (int, any, error) {
	s, err := h.c.GetServer(r.ctx, r.scope, r.query["ns"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s, nil
}

func (h *Handler) putServer(r *request) (int, any, error) {
	cfg := control.DefaultServerConfig()
	if err := decode(r.body, &cfg); err != nil {
		return 0, nil, err
	}
	s, created, err := h.c.PutServer(r.ctx, r.scope, r.query["ns"], cfg)
	if err != nil {
		return 0, nil, err
	}
	if created {
		return http.StatusCreated, s, nil
	}
	return http.StatusOK, s, nil
}

func (h *Handler) patchServer(r *request) (int, any, error) {
	var p control.ServerPatch
	if err := decode(r.body, &p); err != nil {
		return 0, nil, err
	}
	s, err := h.c.PatchServer(r.ctx, r.scope, r.query["ns"], p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s, nil
}

func (h *Handler) deleteServer(r *request) (int, any, error) {
	if err := h.c.DeleteServer(r.ctx, r.scope, r.query["ns"]); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (h *Handler) addListener(r *request) (int, any, error) {
	var l control.Listener
	if err := decode(r.body, &l); err != nil {
		return 0, nil, err
	}
	s, err := h.c.AddListener(r.ctx, r.scope, r.query["ns"], l)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s, nil
}

func (h *Handler) removeListener(r *request) (int, any, error) {
	l := control.Listener{Addr: r.query["addr"], Netns: r.query["netns"]}
	s, err := h.c.RemoveListener(r.ctx, r.scope, r.query["ns"], l)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s, nil
}

// Exports.

func (h *Handler) listExports(r *request) (int, any, error) {
	list, err := h.c.ListExports(r.ctx, r.scope, r.query["ns"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"exports": list}, nil
}

func (h *Handler) addExport(r *request) (int, any, error) {
	var spec control.ExportSpec
	if err := decode(r.body, &spec); err != nil {
		return 0, nil, err
	}
	e, err := h.c.AddExport(r.ctx, r.scope, r.query["ns"], spec)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, e, nil
}

func (h *Handler) removeExport(r *request) (int, any, error) {
	if err := h.c.RemoveExport(r.ctx, r.scope, r.query["ns"], r.query["path"]); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// Tokens.

func (h *Handler) createToken(r *request) (int, any, error) {
	var in struct {
		Scope string `json:"scope"`
		Name  string `json:"name"`
	}
	if err := decode(r.body, &in); err != nil {
		return 0, nil, err
	}
	if in.Scope == "" {
		return 0, nil, errorf(http.StatusBadRequest, "field \"scope\" is required")
	}
	t, err := h.c.CreateToken(r.ctx, r.scope, in.Scope, in.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, t, nil
}

func (h *Handler) listTokens(r *request) (int, any, error) {
	list, err := h.c.ListTokens(r.ctx, r.scope)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"tokens": list}, nil
}

func (h *Handler) deleteToken(r *request) (int, any, error) {
	if err := h.c.DeleteToken(r.ctx, r.scope, r.query["id"]); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// unlock drops NLM locks of a running server by client or by export.
func (h *Handler) unlock(r *request) (int, any, error) {
	var in struct {
		Client string `json:"client"`
		Export string `json:"export"`
	}
	if err := decode(r.body, &in); err != nil {
		return 0, nil, err
	}
	n, err := h.c.Unlock(r.ctx, r.scope, r.query["ns"], in.Client, in.Export)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]int{"released": n}, nil
}
