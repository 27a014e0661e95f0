package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestModuleCache measures, at a module proxy the test runs, what an image build
// downloads on each build path: on a cold cache only the module the example's binary
// needs (github.com/google/uuid: not mageship, not Mage), and after a source-only
// change nothing at all. The container path keeps modules in a layer of their own
// (go.mod and go.sum first); the host path uses the host's module cache, which here
// starts empty.
func TestModuleCache(t *testing.T) {
	for _, build := range buildPaths {
		t.Run(build, func(t *testing.T) { testModuleCache(t, build) })
	}
}

func testModuleCache(t *testing.T, build string) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	// Fill the host's module cache with everything the example and the engine need;
	// the proxy serves it.
	rigtest.Run(t, dir, nil, "go", "mod", "download")
	rigtest.Mage(t, dir, vars, nil, "dockerignore") // builds the engine
	modcache := strings.TrimSpace(rigtest.Run(t, dir, nil, "go", "env", "GOMODCACHE"))

	proxy := &countingProxy{files: http.FileServer(http.Dir(filepath.Join(modcache, "cache", "download")))}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(l)
	defer srv.Close()
	env := []string{"GOPROXY=http://" + l.Addr().String(), "GOFLAGS=", "GONOSUMDB=", "GOPRIVATE=", "GOSUMDB=off", "MAGESHIP_BUILD=" + build}
	if build == "host" {
		// A cold host: an empty module cache. The engine is fetched into it first, and
		// those downloads are the engine's, not the image build's.
		env = append(env, "GOMODCACHE="+t.TempDir(), "GOFLAGS=-modcacherw")
		rigtest.Mage(t, dir, vars, env, "dockerignore")
		proxy.take()
	} else {
		// A go.mod no builder has seen: the module layer cannot come from the cache.
		appendFile(t, filepath.Join(dir, "go.mod"), fmt.Sprintf("\n// TestModuleCache %d\n", time.Now().UnixNano()))
	}
	rigtest.Git(t, dir, "commit", "--allow-empty", "-qam", "module cache test")
	rigtest.Git(t, dir, "tag", "v0.1.0")
	rigtest.Mage(t, dir, vars, env, "image")
	all, zips := proxy.take()
	t.Logf("cold build (%s): %d proxy requests, module zips %v", build, len(all), zips)
	if want := []string{"/github.com/google/uuid/@v/v1.6.0.zip"}; !slices.Equal(zips, want) {
		t.Errorf("the cold build downloaded %v, want only what the binary needs: %v (all requests: %v)", zips, want, all)
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
	t.Logf("warm build after a source-only change (%s): %d proxy requests, %d module zips", build, len(all), len(zips))
	if len(all) != 0 {
		t.Errorf("a source-only change made %d module proxy requests, want 0: %v", len(all), all)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
