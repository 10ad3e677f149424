// Command vnfsctl is the command-line client of vnfsd's REST API
// (docs/api.md): namespaces, virtual servers, exports and tokens.
// docs/cli.md documents it.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const usage = `usage: vnfsctl [global flags] <command> [flags] [args]

global flags (before the command):
  --api URL          API address (default $VNFSD_API or http://127.0.0.1:8786)
  --token TOKEN      bearer token (default $VNFSD_TOKEN)
  --token-file FILE  file holding the token (default $VNFSD_TOKEN_FILE or ./vnfsd-data/state/root.token)
  -o text|json       output format (default text)

commands:
  ns create PATH
  ns list [PATH] [--recursive]
  ns show PATH
  ns rename PATH NEWNAME
  ns move PATH NEWPARENT
  ns delete PATH
  server create NS [server flags]      configure the namespace's server (replaces any config)
  server set NS [server flags]         change some settings
  server show NS                       settings and status (clients, listening addresses)
  server delete NS
  server listener add NS ADDR [--netns PATH]
  server listener remove NS ADDR [--netns PATH]
  server unlock NS --client IP | --export PATH   drop NFSv3 (NLM) locks of a client or an export
  export add NS PATH DIR [--ro] [--squash root|none|all] [--anon-uid N] [--anon-gid N] [--clients CIDR,...]
  export remove NS PATH
  export list NS
  token create SCOPE [--name NAME]
  token list
  token delete ID

server flags: --threads N --versions 3,4.0,4.1,4.2 --lease SECONDS --grace SECONDS
              --max-io BYTES --nfs-port P --mount-port P --portmap-port P
              --id-map FILE (a JSON id_map object: {"domain":...,"users":{...},"groups":{...}};
              {} clears it)
              --listen ADDR[,ADDR...] (create only) --netns PATH (for --listen)
`

// errUsage marks errors in the command line (exit status 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, a ...any) error { return errUsage{fmt.Sprintf(format, a...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status: 0 success,
// 1 failure reported by the API or the network, 2 bad command line.
func run(args []string, stdout, stderr io.Writer) int {
	c, rest, err := parseGlobal(args)
	if err == nil {
		c.out = stdout
		err = c.dispatch(rest)
	}
	if err == nil {
		return 0
	}
	var ue errUsage
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "vnfsctl: %v\n", err)
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	fmt.Fprintf(stderr, "vnfsctl: %v\n", err)
	return 1
}

type client struct {
	api    string
	token  string
	output string
	out    io.Writer
	http   *http.Client
}

func parseGlobal(args []string) (*client, []string, error) {
	fs := flag.NewFlagSet("vnfsctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	api := fs.String("api", envOr("VNFSD_API", "http://127.0.0.1:8786"), "")
	token := fs.String("token", os.Getenv("VNFSD_TOKEN"), "")
	tokenFile := fs.String("token-file", envOr("VNFSD_TOKEN_FILE", "vnfsd-data/state/root.token"), "")
	output := fs.String("o", "text", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageErr("%v", err)
	}
	if *output != "text" && *output != "json" {
		return nil, nil, usageErr("-o must be text or json, not %q", *output)
	}
	u, err := url.Parse(*api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, usageErr("--api %q is not an http(s) URL", *api)
	}
	tok := *token
	if tok == "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return nil, nil, fmt.Errorf("no token: set --token or $VNFSD_TOKEN, or make %s readable: %v", *tokenFile, err)
		}
		tok = strings.TrimSpace(string(b))
	}
	return &client{api: strings.TrimRight(*api, "/"), token: tok, output: *output,
		http: &http.Client{Timeout: 60 * time.Second}}, fs.Args(), nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// apiError is the API's error body.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// do sends one request and decodes a JSON response into out (if not nil).
// It returns the raw body too, for -o json.
func (c *client) do(method, path string, query url.Values, body any) ([]byte, error) {
	u := c.api + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
			if e.Error == "" {
				e.Error = http.StatusText(resp.StatusCode)
			}
		}
		return nil, &apiError{Status: resp.StatusCode, Message: e.Error}
	}
	return raw, nil
}

// emit prints raw JSON with -o json, else calls text with the decoded value.
func emit[T any](c *client, raw []byte, text func(v T)) error {
	if c.output == "json" {
		if len(raw) == 0 {
			raw = []byte("{}")
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return fmt.Errorf("API returned invalid JSON: %v", err)
		}
		buf.WriteByte('\n')
		_, err := c.out.Write(buf.Bytes())
		return err
	}
	var v T
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("API returned unexpected JSON: %v", err)
		}
	}
	text(v)
	return nil
}

func (c *client) dispatch(args []string) error {
	if len(args) == 0 {
		return usageErr("no command")
	}
	switch args[0] {
	case "ns", "namespace", "namespaces":
		return c.ns(args[1:])
	case "server", "servers":
		return c.server(args[1:])
	case "export", "exports":
		return c.export(args[1:])
	case "token", "tokens":
		return c.tokenCmd(args[1:])
	case "help":
		return flag.ErrHelp
	}
	return usageErr("unknown command %q", args[0])
}

// parse parses flags that may appear anywhere among the positional
// arguments and checks their number.
func parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < min || len(pos) > max {
		return nil, usageErr("%s: wrong number of arguments", fs.Name())
	}
	return pos, nil
}

// Namespaces.

type namespace struct {
	UUID       string `json:"uuid"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	ParentUUID string `json:"parent_uuid"`
	Created    string `json:"created"`
}

func (c *client) printNamespaces(list []namespace) {
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tUUID\tCREATED")
	for _, n := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Path, n.UUID, n.Created)
	}
	tw.Flush()
}

func (c *client) ns(args []string) error {
	if len(args) == 0 {
		return usageErr("ns: missing subcommand")
	}
	one := func(raw []byte, err error) error {
		if err != nil {
			return err
		}
		return emit(c, raw, func(n namespace) { c.printNamespaces([]namespace{n}) })
	}
	switch args[0] {
	case "create":
		pos, err := parse(flag.NewFlagSet("ns create", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		return one(c.do("POST", "/v1/namespaces", nil, map[string]string{"path": pos[0]}))
	case "list", "ls":
		fs := flag.NewFlagSet("ns list", flag.ContinueOnError)
		rec := fs.Bool("recursive", false, "")
		fs.BoolVar(rec, "r", false, "")
		pos, err := parse(fs, args[1:], 0, 1)
		if err != nil {
			return err
		}
		q := url.Values{}
		if len(pos) == 1 {
			q.Set("path", pos[0])
		}
		if *rec {
			q.Set("recursive", "true")
		}
		raw, err := c.do("GET", "/v1/namespaces", q, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(v struct {
			Namespaces []namespace `json:"namespaces"`
		}) {
			c.printNamespaces(v.Namespaces)
		})
	case "show", "get":
		pos, err := parse(flag.NewFlagSet("ns show", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		return one(c.do("GET", "/v1/namespace", url.Values{"path": {pos[0]}}, nil))
	case "rename":
		pos, err := parse(flag.NewFlagSet("ns rename", flag.ContinueOnError), args[1:], 2, 2)
		if err != nil {
			return err
		}
		return one(c.do("PATCH", "/v1/namespace", url.Values{"path": {pos[0]}}, map[string]string{"name": pos[1]}))
	case "move", "mv":
		pos, err := parse(flag.NewFlagSet("ns move", flag.ContinueOnError), args[1:], 2, 2)
		if err != nil {
			return err
		}
		return one(c.do("PATCH", "/v1/namespace", url.Values{"path": {pos[0]}}, map[string]string{"parent": pos[1]}))
	case "delete", "rm":
		pos, err := parse(flag.NewFlagSet("ns delete", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		raw, err := c.do("DELETE", "/v1/namespace", url.Values{"path": {pos[0]}}, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(v struct {
			Deleted []namespace `json:"deleted"`
		}) {
			for _, n := range v.Deleted {
				fmt.Fprintf(c.out, "deleted %s (%s)\n", n.Path, n.UUID)
			}
		})
	}
	return usageErr("ns: unknown subcommand %q", args[0])
}

// Servers.

type listener struct {
	Addr  string `json:"addr"`
	Netns string `json:"netns"`
}

type connInfo struct {
	Remote string `json:"remote"`
	Local  string `json:"local"`
	Since  string `json:"since"`
}

type serverStatus struct {
	Running   bool              `json:"running"`
	Listening map[string]string `json:"listening"`
	Clients   []connInfo        `json:"clients"`
	PoolSize  int               `json:"pool_size"`
	Error     string            `json:"error"`
}

type server struct {
	Namespace   string       `json:"namespace"`
	UUID        string       `json:"uuid"`
	Threads     int          `json:"threads"`
	Versions    []string     `json:"versions"`
	Lease       int          `json:"lease_seconds"`
	Grace       int          `json:"grace_seconds"`
	MaxIO       int          `json:"max_io"`
	NFSPort     int          `json:"nfs_port"`
	MountPort   int          `json:"mount_port"`
	PortmapPort int          `json:"portmap_port"`
	Listeners   []listener   `json:"listeners"`
	Status      serverStatus `json:"status"`
}

func (c *client) printServer(s server) {
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	state := "stopped"
	if s.Status.Running {
		state = "running"
	}
	fmt.Fprintf(tw, "namespace\t%s (%s)\n", s.Namespace, s.UUID)
	fmt.Fprintf(tw, "state\t%s\n", state)
	if s.Status.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", s.Status.Error)
	}
	fmt.Fprintf(tw, "threads\t%d (pool size %d)\n", s.Threads, s.Status.PoolSize)
	fmt.Fprintf(tw, "versions\t%s\n", strings.Join(s.Versions, ", "))
	fmt.Fprintf(tw, "lease / grace\t%d s / %d s\n", s.Lease, s.Grace)
	fmt.Fprintf(tw, "max io\t%d\n", s.MaxIO)
	fmt.Fprintf(tw, "ports\tnfs %d, mount %d, portmap %d\n", s.NFSPort, s.MountPort, s.PortmapPort)
	for _, l := range s.Listeners {
		where := "host network namespace"
		if l.Netns != "" {
			where = "netns " + l.Netns
		}
		fmt.Fprintf(tw, "listener\t%s (%s)\n", l.Addr, where)
	}
	keys := make([]string, 0, len(s.Status.Listening))
	for k := range s.Status.Listening {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "listening\t%s %s\n", k, s.Status.Listening[k])
	}
	for _, cl := range s.Status.Clients {
		fmt.Fprintf(tw, "client\t%s -> %s since %s\n", cl.Remote, cl.Local, cl.Since)
	}
	tw.Flush()
}

// serverFlags registers the settable fields and returns a function that
// builds the request body from the flags actually given.
func serverFlags(fs *flag.FlagSet, create bool) func() (map[string]any, error) {
	threads := fs.Int("threads", 0, "")
	versions := fs.String("versions", "", "")
	lease := fs.Int("lease", 0, "")
	grace := fs.Int("grace", 0, "")
	maxIO := fs.Int("max-io", 0, "")
	nfsPort := fs.Int("nfs-port", 0, "")
	mountPort := fs.Int("mount-port", 0, "")
	pmPort := fs.Int("portmap-port", 0, "")
	idMap := fs.String("id-map", "", "")
	var listen, netns *string
	if create {
		listen = fs.String("listen", "", "")
		netns = fs.String("netns", "", "")
	}
	return func() (map[string]any, error) {
		body := map[string]any{}
		var err error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "threads":
				body["threads"] = *threads
			case "versions":
				body["versions"] = splitList(*versions)
			case "lease":
				body["lease_seconds"] = *lease
			case "grace":
				body["grace_seconds"] = *grace
			case "max-io":
				body["max_io"] = *maxIO
			case "nfs-port":
				body["nfs_port"] = *nfsPort
			case "mount-port":
				body["mount_port"] = *mountPort
			case "portmap-port":
				body["portmap_port"] = *pmPort
			case "id-map":
				// The server validates the object (docs/api.md); the
				// file must hold one JSON object.
				b, rerr := os.ReadFile(*idMap)
				if rerr != nil {
					err = usageErr("--id-map: %v", rerr)
					return
				}
				var m map[string]json.RawMessage
				if jerr := json.Unmarshal(b, &m); jerr != nil || m == nil {
					err = usageErr("--id-map %s: not a JSON object", *idMap)
					return
				}
				body["id_map"] = m
			case "listen":
				ls := []listener{}
				for _, a := range splitList(*listen) {
					ls = append(ls, listener{Addr: a, Netns: *netns})
				}
				body["listeners"] = ls
			case "netns":
				if *listen == "" {
					err = usageErr("--netns needs --listen")
				}
			}
		})
		return body, err
	}
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *client) server(args []string) error {
	if len(args) == 0 {
		return usageErr("server: missing subcommand")
	}
	one := func(raw []byte, err error) error {
		if err != nil {
			return err
		}
		return emit(c, raw, c.printServer)
	}
	switch args[0] {
	case "create", "set":
		create := args[0] == "create"
		fs := flag.NewFlagSet("server "+args[0], flag.ContinueOnError)
		body := serverFlags(fs, create)
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		b, err := body()
		if err != nil {
			return err
		}
		method := "PATCH"
		if create {
			method = "PUT"
		} else if len(b) == 0 {
			return usageErr("server set: nothing to change")
		}
		return one(c.do(method, "/v1/server", url.Values{"ns": {pos[0]}}, b))
	case "show", "status", "get":
		pos, err := parse(flag.NewFlagSet("server show", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		return one(c.do("GET", "/v1/server", url.Values{"ns": {pos[0]}}, nil))
	case "delete", "rm":
		pos, err := parse(flag.NewFlagSet("server delete", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		raw, err := c.do("DELETE", "/v1/server", url.Values{"ns": {pos[0]}}, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(struct{}) { fmt.Fprintf(c.out, "deleted server of %s\n", pos[0]) })
	case "unlock":
		fs := flag.NewFlagSet("server unlock", flag.ContinueOnError)
		client := fs.String("client", "", "")
		export := fs.String("export", "", "")
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		if (*client == "") == (*export == "") {
			return usageErr("server unlock: give --client or --export")
		}
		body := map[string]string{}
		if *client != "" {
			body["client"] = *client
		} else {
			body["export"] = *export
		}
		raw, err := c.do("POST", "/v1/server/unlock", url.Values{"ns": {pos[0]}}, body)
		if err != nil {
			return err
		}
		return emit(c, raw, func(v struct {
			Released int `json:"released"`
		}) {
			fmt.Fprintf(c.out, "released %d locks\n", v.Released)
		})
	case "listener", "listeners":
		if len(args) < 2 {
			return usageErr("server listener: add or remove?")
		}
		fs := flag.NewFlagSet("server listener "+args[1], flag.ContinueOnError)
		netns := fs.String("netns", "", "")
		pos, err := parse(fs, args[2:], 2, 2)
		if err != nil {
			return err
		}
		switch args[1] {
		case "add":
			return one(c.do("POST", "/v1/server/listeners", url.Values{"ns": {pos[0]}}, listener{Addr: pos[1], Netns: *netns}))
		case "remove", "rm", "delete":
			q := url.Values{"ns": {pos[0]}, "addr": {pos[1]}}
			if *netns != "" {
				q.Set("netns", *netns)
			}
			return one(c.do("DELETE", "/v1/server/listeners", q, nil))
		}
		return usageErr("server listener: unknown subcommand %q", args[1])
	}
	return usageErr("server: unknown subcommand %q", args[0])
}

// Exports.

type exportEntry struct {
	ID       uint32   `json:"id,omitempty"`
	Path     string   `json:"path"`
	Dir      string   `json:"dir"`
	ReadOnly bool     `json:"read_only"`
	Squash   string   `json:"squash,omitempty"`
	AnonUID  *uint32  `json:"anon_uid,omitempty"`
	AnonGID  *uint32  `json:"anon_gid,omitempty"`
	Clients  []string `json:"clients,omitempty"`
}

func (c *client) printExports(list []exportEntry) {
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPATH\tDIR\tACCESS\tSQUASH\tCLIENTS")
	for _, e := range list {
		acc := "rw"
		if e.ReadOnly {
			acc = "ro"
		}
		clients := strings.Join(e.Clients, ",")
		if clients == "" {
			clients = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Path, e.Dir, acc, e.Squash, clients)
	}
	tw.Flush()
}

func (c *client) export(args []string) error {
	if len(args) == 0 {
		return usageErr("export: missing subcommand")
	}
	switch args[0] {
	case "add", "create":
		fs := flag.NewFlagSet("export add", flag.ContinueOnError)
		ro := fs.Bool("ro", false, "")
		squash := fs.String("squash", "", "")
		anonUID := fs.String("anon-uid", "", "")
		anonGID := fs.String("anon-gid", "", "")
		clients := fs.String("clients", "", "")
		pos, err := parse(fs, args[1:], 3, 3)
		if err != nil {
			return err
		}
		e := exportEntry{Path: pos[1], Dir: pos[2], ReadOnly: *ro, Squash: *squash, Clients: splitList(*clients)}
		for _, f := range []struct {
			s   string
			dst **uint32
			n   string
		}{{*anonUID, &e.AnonUID, "anon-uid"}, {*anonGID, &e.AnonGID, "anon-gid"}} {
			if f.s == "" {
				continue
			}
			v, err := strconv.ParseUint(f.s, 10, 32)
			if err != nil {
				return usageErr("--%s %q: not a 32-bit id", f.n, f.s)
			}
			v32 := uint32(v)
			*f.dst = &v32
		}
		raw, err := c.do("POST", "/v1/exports", url.Values{"ns": {pos[0]}}, e)
		if err != nil {
			return err
		}
		return emit(c, raw, func(e exportEntry) { c.printExports([]exportEntry{e}) })
	case "remove", "rm", "delete":
		pos, err := parse(flag.NewFlagSet("export remove", flag.ContinueOnError), args[1:], 2, 2)
		if err != nil {
			return err
		}
		raw, err := c.do("DELETE", "/v1/exports", url.Values{"ns": {pos[0]}, "path": {pos[1]}}, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(struct{}) { fmt.Fprintf(c.out, "removed export %s of %s\n", pos[1], pos[0]) })
	case "list", "ls":
		pos, err := parse(flag.NewFlagSet("export list", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		raw, err := c.do("GET", "/v1/exports", url.Values{"ns": {pos[0]}}, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(v struct {
			Exports []exportEntry `json:"exports"`
		}) {
			c.printExports(v.Exports)
		})
	}
	return usageErr("export: unknown subcommand %q", args[0])
}

// Tokens.

type token struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
	Token string `json:"token,omitempty"`
}

func (c *client) tokenCmd(args []string) error {
	if len(args) == 0 {
		return usageErr("token: missing subcommand")
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("token create", flag.ContinueOnError)
		name := fs.String("name", "", "")
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		raw, err := c.do("POST", "/v1/tokens", nil, map[string]string{"scope": pos[0], "name": *name})
		if err != nil {
			return err
		}
		return emit(c, raw, func(t token) {
			fmt.Fprintf(c.out, "id\t%s\nname\t%s\nscope\t%s\ntoken\t%s\n(the token is shown only now)\n", t.ID, t.Name, t.Scope, t.Token)
		})
	case "list", "ls":
		if _, err := parse(flag.NewFlagSet("token list", flag.ContinueOnError), args[1:], 0, 0); err != nil {
			return err
		}
		raw, err := c.do("GET", "/v1/tokens", nil, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(v struct {
			Tokens []token `json:"tokens"`
		}) {
			tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCOPE")
			for _, t := range v.Tokens {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.Scope)
			}
			tw.Flush()
		})
	case "delete", "rm", "revoke":
		pos, err := parse(flag.NewFlagSet("token delete", flag.ContinueOnError), args[1:], 1, 1)
		if err != nil {
			return err
		}
		raw, err := c.do("DELETE", "/v1/tokens", url.Values{"id": {pos[0]}}, nil)
		if err != nil {
			return err
		}
		return emit(c, raw, func(struct{}) { fmt.Fprintf(c.out, "revoked token %s\n", pos[0]) })
	}
	return usageErr("token: unknown subcommand %q", args[0])
}
