package integration

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// faultyRegistry is a reverse proxy on a fixed loopback port (one the rig's BuildKit
// treats as plain HTTP) in front of the rig's registry, that breaks on command.
type faultyRegistry struct {
	Addr string

	mu     sync.Mutex
	policy func(r *http.Request, writes int) fault
	writes int // PUT/POST/PATCH requests seen
	failed int // requests answered with an injected status
	srv    *http.Server
	l      net.Listener
}

// fault is what the proxy does with one request; the zero value passes it on.
type fault struct {
	// Status, when not 0, is answered instead of passing the request on: 500 as
	// "injected failure", 429 as a registry's TOOMANYREQUESTS error.
	Status int
	// RetryAfter, with Status 429, is sent as the Retry-After header.
	RetryAfter string
	// Hold, when set, is called before the request is passed on or answered, outside
	// the proxy's lock: it may block to hold the request back.
	Hold func()
}

func newFaultyRegistry(t *testing.T, port, upstream string) *faultyRegistry {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("listening on 127.0.0.1:%s for the fault-injecting registry proxy: %v", port, err)
	}
	target, _ := url.Parse("http://" + upstream)
	f := &faultyRegistry{Addr: l.Addr().String(), l: l}
	proxy := httputil.NewSingleHostReverseProxy(target)
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		write := r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodPatch
		if write {
			f.writes++
		}
		var ft fault
		if f.policy != nil {
			ft = f.policy(r, f.writes)
		}
		if ft.Status != 0 {
			f.failed++
		}
		f.mu.Unlock()
		if ft.Hold != nil {
			ft.Hold()
		}
		switch ft.Status {
		case 0:
		case http.StatusTooManyRequests:
			if ft.RetryAfter != "" {
				w.Header().Set("Retry-After", ft.RetryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"injected: too many requests"}]}`)
			return
		default:
			http.Error(w, "injected failure", ft.Status)
			return
		}
		// Redirects and upload locations must name the proxy, not the upstream.
		r.Host = target.Host
		proxy.ServeHTTP(&locationRewriter{ResponseWriter: w, from: upstream, to: f.Addr}, r)
	})}
	go f.srv.Serve(l)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// set installs a failure policy, true answering 500, and resets the counters.
func (f *faultyRegistry) set(policy func(r *http.Request, writes int) bool) {
	f.setFaults(func(r *http.Request, writes int) fault {
		if policy(r, writes) {
			return fault{Status: http.StatusInternalServerError}
		}
		return fault{}
	})
}

// setFaults installs a policy of faults and resets the counters.
func (f *faultyRegistry) setFaults(policy func(r *http.Request, writes int) fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policy, f.writes, f.failed = policy, 0, 0
}

func (f *faultyRegistry) failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// isTagPut reports a manifest PUT by tag (not by digest): the writes that move tags.
func isTagPut(r *http.Request) bool {
	if r.Method != http.MethodPut {
		return false
	}
	i := strings.LastIndex(r.URL.Path, "/manifests/")
	return i >= 0 && !strings.HasPrefix(r.URL.Path[i+len("/manifests/"):], "sha256:")
}

type locationRewriter struct {
	http.ResponseWriter
	from, to string
}

func (l *locationRewriter) WriteHeader(code int) {
	if loc := l.Header().Get("Location"); loc != "" {
		l.Header().Set("Location", strings.Replace(loc, l.from, l.to, 1))
	}
	l.ResponseWriter.WriteHeader(code)
}

// newFaultyRegistryAny is newFaultyRegistry on the first free one of the loopback
// ports the rig's BuildKit treats as plain HTTP (5002-5004): another test run on the
// machine may hold one of them.
func newFaultyRegistryAny(t *testing.T, upstream string) *faultyRegistry {
	t.Helper()
	for _, port := range []string{"5002", "5003", "5004"} {
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			continue
		}
		l.Close()
		return newFaultyRegistry(t, port, upstream)
	}
	t.Fatal("ports 5002, 5003 and 5004 are all taken: the fault-injecting registry proxy needs one of them (the rig's BuildKit treats only those as plain HTTP); wait for the other test run to end")
	return nil
}
