package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// proxy is a Go module proxy on loopback that serves a module download cache
// (GOMODCACHE/cache/download has the proxy protocol's own layout) and counts what it
// is asked for. BuildKit's build steps reach it because the rig's BuildKit runs them
// on the host network.
type proxy struct {
	URL string

	mu       sync.Mutex
	requests []string
	files    http.Handler
	srv      *http.Server
}

// downloads is what the proxy was asked for in one build.
type downloads struct {
	Requests int // every request: lists, .info, .mod and .zip
	Modules  int // .zip requests: module downloads
}

// countRequests classifies request paths.
func countRequests(paths []string) downloads {
	d := downloads{Requests: len(paths)}
	for _, r := range paths {
		if strings.HasSuffix(r, ".zip") {
			d.Modules++
		}
	}
	return d
}

// startProxy serves downloadDir on a free loopback port until Close.
func startProxy(downloadDir string) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the counting module proxy: %w", err)
	}
	p := &proxy{URL: "http://" + l.Addr().String(), files: http.FileServer(http.Dir(downloadDir))}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(l)
	return p, nil
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.URL.Path)
	p.mu.Unlock()
	p.files.ServeHTTP(w, r)
}

// take returns the counts since the last take and starts counting again.
func (p *proxy) take() downloads {
	p.mu.Lock()
	reqs := p.requests
	p.requests = nil
	p.mu.Unlock()
	return countRequests(reqs)
}

// Close stops the proxy.
func (p *proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}
