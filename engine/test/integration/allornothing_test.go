package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestReleaseAllOrNothing releases the two-image example (api, worker) once, then
// breaks one image of the next release while the other builds, pushes and verifies:
// no tag moves in either repository, and the error is one line saying what was wrong.
func TestReleaseAllOrNothing(t *testing.T) {
	vars := rigtest.Env(t)
	faulty := newFaultyRegistryAny(t, vars["MAGESHIP_RIG_REGISTRY"])
	dir := rigtest.Example(t, "multi")
	rigtest.Git(t, dir, "tag", "v3.2.0")
	path := fmt.Sprintf("it/all-or-nothing-%d", time.Now().UnixNano())
	prefix := faulty.Addr + "/" + path
	env := []string{"MAGESHIP_IMAGE=" + prefix}
	repos := []string{vars["MAGESHIP_RIG_REGISTRY"] + "/" + path + "/api", vars["MAGESHIP_RIG_REGISTRY"] + "/" + path + "/worker"}
	// tags reads the release tags of both repositories (the SBOMs' referrers tags
	// left out: verification writes them, and they move no release tag).
	tags := func(t *testing.T) map[string]string {
		all := map[string]string{}
		for _, repo := range repos {
			for tag, d := range registryState(t, repo) {
				if !isReferrersTag(tag) {
					all[filepath.Base(repo)+":"+tag] = d
				}
			}
		}
		return all
	}
	rigtest.Mage(t, dir, vars, env, "release")
	before := tags(t)
	if len(before) != 16 {
		t.Fatalf("the first release left %d tags, want 16 (3.2.0, 3.2, 3, latest and their -debug twins in each repository): %v", len(before), before)
	}

	// fails runs a release that must fail, and checks that it moved no tag and said
	// why in one line holding every one of want.
	fails := func(t *testing.T, want ...string) string {
		t.Helper()
		out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", "tool", "mage", "release")
		if err == nil {
			t.Fatalf("the release succeeded:\n%s", testfix.TailLines(out, 30))
		}
		e := errorLine(out)
		for _, w := range want {
			if !strings.Contains(e, w) {
				t.Errorf("error line lacks %q: %s\n%s", w, e, testfix.TailLines(out, 30))
			}
		}
		if i := strings.Index(out, e); i >= 0 && strings.TrimSpace(out[i+len(e):]) != "" {
			t.Errorf("the error is not one line; after %q came:\n%s", e, out[i+len(e):])
		}
		if diff := cmp.Diff(before, tags(t)); diff != "" {
			t.Errorf("tags moved (-before +after):\n%s", diff)
		}
		return out
	}

	t.Run("worker fails verification after api verified", func(t *testing.T) {
		// A size budget the worker's production image cannot meet: it builds and
		// pushes, then fails verification; api, verified before it, must not be tagged.
		mf := filepath.Join(dir, "magefiles", "magefile.go")
		b, err := os.ReadFile(mf)
		if err != nil {
			t.Fatal(err)
		}
		const worker = `{Main: "./cmd/worker", `
		if !strings.Contains(string(b), worker) {
			t.Fatalf("%s has no %q to give a size budget", mf, worker)
		}
		write(t, mf, strings.Replace(string(b), worker, worker+"MaxBytes: 4096, ", 1))
		commitAll(t, dir)
		rigtest.Git(t, dir, "tag", "v3.2.1")
		start := time.Now()
		out := fails(t, "worker", "size", "no tag was moved")
		for _, v := range []string{"production", "debug"} {
			for _, p := range []string{"linux/amd64", "linux/arm64"} {
				if !hasLine(out, "verified "+prefix+"/api@sha256:", fmt.Sprintf(" (%s, %s): ", v, p)) {
					t.Errorf("api's %s %s image was not verified before the worker failed:\n%s", v, p, testfix.TailLines(out, 30))
				}
			}
		}
		t.Logf("failed in %s with: %s", time.Since(start).Round(time.Millisecond), errorLine(out))
		rigtest.Git(t, dir, "revert", "--no-edit", "HEAD")
	})

	t.Run("worker's push fails", func(t *testing.T) {
		newRelease(t, dir, "v3.2.2")
		faulty.set(func(r *http.Request, _ int) bool {
			// The worker's first manifest, whoever assembles it (the direct assembler or
			// BuildKit); the push check before the builds writes none.
			return isManifestPutByDigest(r) && strings.Contains(r.URL.Path, "/"+path+"/worker/")
		})
		defer faulty.setFaults(nil)
		start := time.Now()
		out := fails(t, "worker", "no tag was moved")
		if faulty.failures() == 0 {
			t.Fatalf("no failure was injected; the test proves nothing:\n%s", testfix.TailLines(out, 20))
		}
		t.Logf("%d injected 500s; failed in %s with: %s", faulty.failures(), time.Since(start).Round(time.Millisecond), errorLine(out))
	})
}

// hasLine reports whether one line of out holds every one of subs.
func hasLine(out string, subs ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return true
		}
	}
	return false
}
