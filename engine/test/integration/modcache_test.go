package integration

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mageship/mageship/engine/internal/rigtest"
)

// countingProxy is a Go module proxy on loopback that serves the host's module
// download cache (the proxy protocol's own layout) and counts what it is asked for.
type countingProxy struct {
	mu       sync.Mutex
	requests []string
	files    http.Handler
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.URL.Path)
	p.mu.Unlock()
	p.files.ServeHTTP(w, r)
}

func (p *countingProxy) take() (all, zips []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all, p.requests = p.requests, nil
	for _, r := range all {
		if strings.HasSuffix(r, ".zip") {
			zips = append(zips, r)
		}
	}
	return all, zips
}

// TestModuleCache measures, at a module proxy the test runs, that a source-only change
// downloads no module: go.mod and go.sum come first in their own layer, and the
// module cache is a BuildKit cache mount.
func TestModuleCache(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	// Fill the host's module cache with everything the example's go.mod names.
	rigtest.Run(t, dir, nil, "go", "mod", "download")
	modcache := strings.TrimSpace(rigtest.Run(t, dir, nil, "go", "env", "GOMODCACHE"))

	proxy := &countingProxy{files: http.FileServer(http.Dir(filepath.Join(modcache, "cache", "download")))}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(l)
	defer srv.Close()
	env := []string{"GOPROXY=http://" + l.Addr().String(), "GOFLAGS=", "GONOSUMDB=", "GOPRIVATE="}

	// Empty the builder's cache mounts so that the first build has to download.
	rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "buildx", "prune", "--force", "--filter", "type=exec.cachemount")
	rigtest.Git(t, dir, "tag", "v0.1.0")
	rigtest.Mage(t, dir, vars, env, "image")
	all, zips := proxy.take()
	t.Logf("cold build: %d proxy requests, %d module zips", len(all), len(zips))
	if len(zips) == 0 {
		t.Fatalf("the cold build downloaded no module through the test's proxy (requests: %v): the count proves nothing", all)
	}

	main := filepath.Join(dir, "cmd", "hello", "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), `"ok %s\n"`, `"ok %s \n"`, 1)
	if changed == string(src) {
		t.Fatal("could not make the one-line change to main.go")
	}
	if err := os.WriteFile(main, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	rigtest.Git(t, dir, "commit", "-qam", "source-only change")
	rigtest.Git(t, dir, "tag", "v0.1.1")
	rigtest.Mage(t, dir, vars, env, "image")
	all, zips = proxy.take()
	t.Logf("warm build after a source-only change: %d proxy requests, %d module zips", len(all), len(zips))
	if len(all) != 0 {
		t.Errorf("a source-only change made %d module proxy requests, want 0: %v", len(all), all)
	}
}
