package integration

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// isBlobWrite reports a write of blob data: the PATCH and PUT of an upload (not the
// POST that opens it).
func isBlobWrite(r *http.Request) bool {
	return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

// TestReleaseRegistryFaults puts a fault-injecting proxy in front of the rig's
// registry (faulty_test.go) and checks what a release says and does when the registry
// fails: for good, for a moment, or throttling mageship's own SBOM and verification
// traffic.
func TestReleaseRegistryFaults(t *testing.T) {
	vars := rigtest.Env(t)
	faulty := newFaultyRegistryAny(t, vars["MAGESHIP_RIG_REGISTRY"])
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.0.0")
	repoFor := func(what string) (viaProxy, direct string) {
		path := fmt.Sprintf("i23/%s-%d", what, time.Now().UnixNano())
		return faulty.Addr + "/" + path, vars["MAGESHIP_RIG_REGISTRY"] + "/" + path
	}

	// Both host assemblers: buildx pushes (and mageship tries the whole push again),
	// the direct assembler pushes through mageship's registry client (which tries each
	// request again).
	for n, asm := range []string{config.AssembleDirect, config.AssembleBuildx} {
		tag := fmt.Sprintf("v1.0.%d", 1+n*10)
		t.Run(asm+": 500 on every blob data write", func(t *testing.T) {
			repo, direct := repoFor(asm + "-blob500")
			faulty.set(func(r *http.Request, _ int) bool { return isBlobWrite(r) })
			start := time.Now()
			out, err := rigtest.Try(dir, rigtest.Environ(vars, "MAGESHIP_IMAGE="+repo, "MAGESHIP_ASSEMBLE="+asm), "go", "tool", "mage", "release")
			if err == nil {
				t.Fatalf("release succeeded though every blob write got a 500:\n%s", testfix.TailLines(out, 20))
			}
			if faulty.failures() == 0 {
				t.Fatalf("no 500 was injected; the test proves nothing:\n%s", testfix.TailLines(out, 20))
			}
			e := errorLine(out)
			// buildx gives up on a push at the first 500, and the whole push is tried 4
			// times; the direct assembler's client tries each request 4 times.
			// (several blobs at once: the line counts every 500 the push met).
			tries := "(4 tries)"
			if asm == config.AssembleDirect {
				tries = "500 Internal Server Error "
				if !regexp.MustCompile(`500 Internal Server Error \d+ times`).MatchString(e) {
					t.Errorf("error line does not say the registry answered 500 several times: %s", e)
				}
			}
			for _, w := range []string{"pushing " + repo + " (", "registry " + faulty.Addr + " answered 500 Internal Server Error", tries, "try again later, or check the registry", "no tag was moved"} {
				if !strings.Contains(e, w) {
					t.Errorf("error line lacks %q: %s\n%s", w, e, testfix.TailLines(out, 20))
				}
			}
			for _, bad := range []string{"/tmp/", "mageship-release-", ".Dockerfile"} {
				if strings.Contains(e, bad) {
					t.Errorf("error line names the build's temporary files (%q): %s", bad, e)
				}
			}
			if i := strings.Index(out, e); i >= 0 && strings.TrimSpace(out[i+len(e):]) != "" {
				t.Errorf("the error is not one line; after %q came:\n%s", e, out[i+len(e):])
			}
			if n := strings.Count(out, "; pushing again in "); asm == config.AssembleBuildx && n < 3 {
				t.Errorf("%d notes of a push tried again, want 3 (4 tries):\n%s", n, testfix.TailLines(out, 30))
			}
			tags, err := registry.ListTags(t.Context(), direct)
			if err != nil {
				t.Fatal(err)
			}
			if len(tags) > 0 {
				t.Errorf("tags written though the push failed: %v", tags)
			}
			t.Logf("%d blob writes answered 500; release failed after %s with: %s", faulty.failures(), time.Since(start).Round(time.Second), e)
		})

		t.Run(asm+": three transient 500s on blob writes, one on the push-access check", func(t *testing.T) {
			newRelease(t, dir, tag)
			repo, direct := repoFor(asm + "-transient")
			var blobWrites, posts int
			faulty.set(func(r *http.Request, _ int) bool {
				// buildx's blob writes; on the direct path, mageship's own
				if isBlobWrite(r) && (asm == config.AssembleDirect || !byMageship(r)) {
					blobWrites++
					return blobWrites <= 3
				}
				if r.Method == http.MethodPost && byMageship(r) {
					posts++
					return posts == 1 // the first is the push-access check, before any build
				}
				return false
			})
			out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_ASSEMBLE=" + asm}, "release")
			if got := faulty.failures(); got != 4 {
				t.Fatalf("%d 500s injected, want 4:\n%s", got, testfix.TailLines(out, 20))
			}
			sum := releaseSummary(t, dir)
			// On the direct path the three blob writes were registry requests the
			// client tried again too.
			if asm == config.AssembleDirect && sum.Retried.Requests < 4 {
				t.Errorf("release.json retried = %+v, want at least 4 registry requests", sum.Retried)
			}
			if sum.Retried.Requests < 1 {
				t.Errorf("release.json retried = %+v, want the push-access check's retry among the registry requests", sum.Retried)
			}
			if want := "retried after transient failures: " + sum.Retried.String(); !strings.Contains(out, want) {
				t.Errorf("release output lacks %q:\n%s", want, testfix.TailLines(out, 20))
			}
			v := strings.TrimPrefix(tag, "v")
			for tag, d := range tagState(t, direct, []string{v, v + "-debug", "latest"}) {
				if d == "" {
					t.Errorf("tag %s missing after a release through transient failures", tag)
				}
			}
			t.Logf("release through 3 blob-write 500s and a 500 on the push check: retried %+v", sum.Retried)
		})

	}

	t.Run("registry_throttled counts SBOM and verification traffic", func(t *testing.T) {
		newRelease(t, dir, "v1.0.30")
		repo, _ := repoFor("throttled")
		// One 429 on mageship's first blob read (verification reads the pushed images
		// back) and one on its first SBOM artifact write (a manifest PUT by digest; the
		// release writes no other manifest by digest), each with Retry-After: 1.
		var reads, sbomPuts int
		faulty.setFaults(func(r *http.Request, _ int) fault {
			if !byMageship(r) {
				return fault{}
			}
			i := strings.LastIndex(r.URL.Path, "/manifests/sha256:")
			switch {
			case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:"):
				reads++
				if reads == 1 {
					return fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
				}
			case r.Method == http.MethodPut && i >= 0:
				sbomPuts++
				if sbomPuts == 1 {
					return fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
				}
			}
			return fault{}
		})
		out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo}, "release")
		if got := faulty.failures(); got != 2 {
			t.Fatalf("%d 429s answered, want 2 (a verification read, an SBOM write):\n%s", got, testfix.TailLines(out, 20))
		}
		sum := releaseSummary(t, dir)
		if want := (registry.Throttled{RetryAfter: 2, Seconds: 2}); sum.Throttled != want {
			t.Errorf("release.json registry_throttled = %+v, want %+v", sum.Throttled, want)
		}
		for _, img := range sum.Images {
			for _, p := range img.Platforms {
				if p.SBOM == "" {
					t.Errorf("%s (%s) %s has no SBOM", img.Image, img.Variant, p.Platform)
				}
			}
		}
		t.Logf("release.json registry_throttled: %+v", sum.Throttled)
	})
}
