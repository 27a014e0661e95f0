package integration

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

type imagefsImage = v1.Image

// healthz polls url until it answers 200 and returns the body.
func healthz(url string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b.String(), nil
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, b.String())
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not answer 200 within %s: %s", url, timeout, last)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stepLog is the log of BuildKit's output the last mage target wrote in dir:
// dist/<target>.log, each line prefixed with its step ("[assemble hello (production)] ").
func stepLog(t *testing.T, dir, target string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "dist", target+".log"))
	if err != nil {
		t.Fatalf("the target's log: %v", err)
	}
	return string(b)
}

// stripSteps removes the step prefixes of a step log's lines, leaving BuildKit's own.
func stripSteps(log string) string {
	return regexp.MustCompile(`(?m)^\[[^\]]*\] `).ReplaceAllString(log, "")
}

// referrerTypes are the artifact types of what is attached to ref (repository@digest)
// as a referrer: SBOMs, signatures.
func referrerTypes(t *testing.T, ref string) []string {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range im.Manifests {
		kinds = append(kinds, m.ArtifactType)
	}
	return kinds
}
