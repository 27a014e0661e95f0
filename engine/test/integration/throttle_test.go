package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/ship"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// byMageship reports a request made by mageship itself (go-containerregistry), not
// by BuildKit.
func byMageship(r *http.Request) bool {
	return strings.Contains(r.UserAgent(), "go-containerregistry")
}

func isWrite(r *http.Request) bool {
	return r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodPatch
}

// releaseSummary reads dir/dist/release.json.
func releaseSummary(t *testing.T, dir string) ship.ReleaseSummary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "dist", "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum ship.ReleaseSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("dist/release.json: %v\n%s", err, b)
	}
	return sum
}

// TestReleaseThrottled puts a registry that answers 429 Too Many Requests in front of
// the rig's: mageship waits out the 429s on its own writes, as Retry-After asks or
// backing off, and reports the waits; BuildKit's push, throttled for good, fails in
// one line and moves no tag.
func TestReleaseThrottled(t *testing.T) {
	vars := rigtest.Env(t)
	faulty := newFaultyRegistry(t, "5004", vars["MAGESHIP_RIG_REGISTRY"])
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.0.0")

	t.Run("429 on mageship's first writes, with and without Retry-After", func(t *testing.T) {
		repo := fmt.Sprintf("%s/it/throttled-%d", faulty.Addr, time.Now().UnixNano())
		// mageship's writes are the push check (POST) before the build and the tag
		// PUTs after it. The 1st, 3rd, 5th and 7th get a 429, each then passing on its
		// retry: Retry-After: 1 on the 1st and 5th, none (a 1 s backoff) on the others.
		var mine int
		faulty.setFaults(func(r *http.Request, _ int) fault {
			if !isWrite(r) || !byMageship(r) {
				return fault{}
			}
			mine++
			switch mine {
			case 1, 5:
				return fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
			case 3, 7:
				return fault{Status: http.StatusTooManyRequests}
			}
			return fault{}
		})
		start := time.Now()
		// Without SBOMs, whose artifact uploads would take some of the 429s (they
		// are counted too: TestReleaseRegistryFaults).
		out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_SBOM=off"}, "release")
		took := time.Since(start)
		if got := faulty.failures(); got != 4 {
			t.Fatalf("%d 429s answered, want 4:\n%s", got, testfix.TailLines(out, 20))
		}
		const line = "registry throttling: 4 waits for 429 Too Many Requests (2 as Retry-After asked, 2 backing off), 4s"
		if !strings.Contains(out, line) {
			t.Errorf("release output lacks %q:\n%s", line, testfix.TailLines(out, 20))
		}
		sum := releaseSummary(t, dir)
		if want := (registry.Throttled{RetryAfter: 2, Backoff: 2, Seconds: 4}); sum.Throttled != want {
			t.Errorf("release.json registry_throttled = %+v, want %+v", sum.Throttled, want)
		}
		direct := strings.Replace(repo, faulty.Addr, vars["MAGESHIP_RIG_REGISTRY"], 1)
		for tag, d := range tagState(t, direct, allHelloTags) {
			if d == "" {
				t.Errorf("tag %s missing after a throttled release", tag)
			}
		}
		t.Logf("release through 4 injected 429s took %s; it said: %s", took.Round(time.Millisecond), line)
	})

	t.Run("BuildKit's push throttled for good", func(t *testing.T) {
		repo := fmt.Sprintf("%s/it/throttled-buildkit-%d", faulty.Addr, time.Now().UnixNano())
		faulty.setFaults(func(r *http.Request, _ int) fault {
			if isWrite(r) && !byMageship(r) {
				return fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
			}
			return fault{}
		})
		newRelease(t, dir, "v1.0.1")
		start := time.Now()
		// BuildKit pushes on the host path assembled by buildx (the direct assembler's
		// pushes are mageship's, whose 429s are waited out: the subtest above).
		out, err := rigtest.Try(dir, rigtest.Environ(vars, "MAGESHIP_IMAGE="+repo, "MAGESHIP_ASSEMBLE=buildx"), "go", "tool", "mage", "release")
		if err == nil {
			t.Fatalf("release succeeded though the registry throttled every BuildKit write:\n%s", testfix.TailLines(out, 20))
		}
		if faulty.failures() == 0 {
			t.Fatalf("no 429 was injected; the test proves nothing:\n%s", testfix.TailLines(out, 20))
		}
		e := errorLine(out)
		for _, w := range []string{"pushing " + repo + " (", "the registry throttled BuildKit's push (429 Too Many Requests) and BuildKit gave up", "no tag was moved"} {
			if !strings.Contains(e, w) {
				t.Errorf("error line lacks %q: %s\n%s", w, e, testfix.TailLines(out, 20))
			}
		}
		if i := strings.Index(out, e); i >= 0 && strings.TrimSpace(out[i+len(e):]) != "" {
			t.Errorf("the error is not one line; after %q came:\n%s", e, out[i+len(e):])
		}
		direct := strings.Replace(repo, faulty.Addr, vars["MAGESHIP_RIG_REGISTRY"], 1)
		tags, err := registry.ListTags(t.Context(), direct)
		if err != nil {
			t.Fatal(err)
		}
		if len(tags) > 0 {
			t.Errorf("tags written though the push failed: %v", tags)
		}
		t.Logf("BuildKit got %d 429s; release failed in %s with: %s", faulty.failures(), time.Since(start).Round(time.Millisecond), e)
	})
}
