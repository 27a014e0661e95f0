package rigtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// ModProxy is a Go module proxy (the GOPROXY protocol) on a loopback port. It serves
// the modules a test publishes into it, zipped from directories with
// golang.org/x/mod/zip as a release of them would be, and passes every other request
// to an upstream proxy, keeping upstream's immutable answers (.info, .mod, .zip,
// checksum database tiles and lookups) so that each is fetched from upstream once. It
// records every request it answers, so a test can count what the go command
// downloaded. Point GOPROXY at URL alone: it is the chain, and BuildKit's build steps
// (host network) reach it too, which a file:// GOPROXY would not.
type ModProxy struct {
	// URL is the GOPROXY value, http://127.0.0.1:PORT.
	URL string

	upstream string
	local    string // published modules, in the proxy protocol's layout
	cache    string // upstream answers worth keeping

	mu        sync.Mutex
	published []string // module paths served from local only
	requests  []ModRequest
}

// ModRequest is one request the proxy answered.
type ModRequest struct {
	Path    string // the URL path
	Module  string // the module path, unescaped; "" for the checksum database and others
	Version string // for .info, .mod and .zip
	Kind    string // "list", "latest", "info", "mod", "zip", "sumdb" or "other"
	Status  int
	Local   bool // answered from a published module, not from upstream
}

// NewModProxy starts a proxy in front of upstream (e.g. https://proxy.golang.org),
// closed when the test ends.
func NewModProxy(t testing.TB, upstream string) *ModProxy {
	t.Helper()
	p := &ModProxy{upstream: strings.TrimRight(upstream, "/"), local: t.TempDir(), cache: t.TempDir()}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Publish serves the module in dir as modPath at version: its zip made with
// zip.CreateFromDir (which leaves out .git and every subdirectory holding a go.mod of
// its own, that is nested modules), its go.mod, an .info and the version list. From
// then on the proxy answers every request for modPath, and for module paths within or
// above it, itself: what it does not have is a 404, never a question to upstream.
func (p *ModProxy) Publish(t testing.TB, modPath, version, dir string) {
	t.Helper()
	esc, err := module.EscapePath(modPath)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(p.local, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	if err := zip.CreateFromDir(&z, module.Version{Path: modPath, Version: version}, dir); err != nil {
		t.Fatalf("zipping %s as %s@%s: %v", dir, modPath, version, err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	files := map[string][]byte{ev + ".zip": z.Bytes(), ev + ".mod": gomod, ev + ".info": info}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(vdir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list, err := os.OpenFile(filepath.Join(vdir, "list"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(list, version)
	if err := list.Close(); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.published = append(p.published, modPath)
	p.mu.Unlock()
	t.Logf("module proxy: published %s@%s from %s (zip %d bytes)", modPath, version, dir, z.Len())
}

// Take returns the requests answered since the last Take and starts a new count.
func (p *ModProxy) Take() []ModRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.requests
	p.requests = nil
	return r
}

// Downloads returns module@version for every module zip the proxy handed out in reqs
// (a module download), sorted.
func Downloads(reqs []ModRequest) []string {
	var out []string
	for _, r := range reqs {
		if r.Kind == "zip" && r.Status == http.StatusOK {
			out = append(out, r.Module+"@"+r.Version)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (p *ModProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := parseModRequest(r.URL.Path)
	var body []byte
	switch {
	case r.Method != http.MethodGet:
		req.Status = http.StatusMethodNotAllowed
	case req.Module != "" && p.owns(req.Module):
		req.Local = true
		body, req.Status = p.readLocal(r.URL.Path)
	default:
		body, req.Status = p.fromUpstream(r.Context(), r.URL.Path, req)
	}
	p.mu.Lock()
	p.requests = append(p.requests, req)
	p.mu.Unlock()
	if req.Status != http.StatusOK {
		http.Error(w, http.StatusText(req.Status), req.Status)
		return
	}
	w.Write(body)
}

// owns reports whether requests for mod are answered from the published modules only:
// mod is published, inside a published module's path, or above one (the go command
// asks for every prefix of a package path, e.g. for go run path/cmd/x@version).
func (p *ModProxy) owns(mod string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pub := range p.published {
		if mod == pub || strings.HasPrefix(mod, pub+"/") || strings.HasPrefix(pub, mod+"/") {
			return true
		}
	}
	return false
}

func (p *ModProxy) readLocal(urlPath string) ([]byte, int) {
	b, err := os.ReadFile(filepath.Join(p.local, filepath.FromSlash(path.Clean(urlPath))))
	if err != nil {
		return nil, http.StatusNotFound
	}
	return b, http.StatusOK
}

// fromUpstream answers from the cache or asks upstream; upstream's 404 and 410 (not
// found) are passed on as they are, so the go command reports them as it would.
func (p *ModProxy) fromUpstream(ctx context.Context, urlPath string, req ModRequest) ([]byte, int) {
	keep := req.Kind == "info" || req.Kind == "mod" || req.Kind == "zip" ||
		(req.Kind == "sumdb" && (strings.Contains(urlPath, "/lookup/") || strings.Contains(urlPath, "/tile/")) && !strings.Contains(urlPath, ".p/"))
	cached := filepath.Join(p.cache, filepath.FromSlash(path.Clean(urlPath)))
	if keep {
		if b, err := os.ReadFile(cached); err == nil {
			return b, http.StatusOK
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, p.upstream+urlPath, nil)
	if err != nil {
		return nil, http.StatusBadGateway
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, http.StatusBadGateway
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, http.StatusBadGateway
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	if keep && os.MkdirAll(filepath.Dir(cached), 0o755) == nil {
		tmp := fmt.Sprintf("%s.%d.tmp", cached, time.Now().UnixNano())
		if os.WriteFile(tmp, b, 0o644) == nil {
			os.Rename(tmp, cached)
		}
	}
	return b, http.StatusOK
}

// parseModRequest classifies a proxy protocol path: /<module>/@v/list,
// /<module>/@v/<version>.{info,mod,zip}, /<module>/@latest, /sumdb/...
func parseModRequest(urlPath string) ModRequest {
	req := ModRequest{Path: urlPath, Kind: "other"}
	p := strings.TrimPrefix(urlPath, "/")
	if strings.HasPrefix(p, "sumdb/") {
		req.Kind = "sumdb"
		return req
	}
	escMod, rest, ok := strings.Cut(p, "/@")
	if !ok {
		return req
	}
	mod, err := module.UnescapePath(escMod)
	if err != nil {
		return req
	}
	req.Module = mod
	switch {
	case rest == "latest":
		req.Kind = "latest"
	case rest == "v/list":
		req.Kind = "list"
	case strings.HasPrefix(rest, "v/"):
		file := strings.TrimPrefix(rest, "v/")
		ext := path.Ext(file)
		v, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
		if err != nil {
			return req
		}
		switch ext {
		case ".info", ".mod", ".zip":
			req.Kind, req.Version = ext[1:], v
		}
	}
	return req
}
