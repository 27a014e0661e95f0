package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/ship"
)

// TestReproducibleRelease releases one commit twice, each time on a brand-new
// BuildKit daemon with an empty state, on both build paths, and compares every digest:
// both indexes and all four platform manifests must be identical.
func TestReproducibleRelease(t *testing.T) {
	for _, build := range buildPaths {
		t.Run(build, func(t *testing.T) {
			vars := rigtest.Env(t)
			dir := rigtest.Example(t, "hello")
			rigtest.Git(t, dir, "tag", "v2.0.0")
			var sums [2]map[string]string
			for i := range sums {
				repo := fmt.Sprintf("%s/it/repro-%s-%d-%d", vars["MAGESHIP_RIG_REGISTRY"], build, i, time.Now().UnixNano())
				rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=" + build, "MAGESHIP_IMAGE=" + repo, "BUILDX_BUILDER=" + coldBuilder(t, vars)}, "release")
				sums[i] = releaseDigests(t, filepath.Join(dir, "dist", "release.json"))
			}
			if len(sums[0]) != 6 {
				t.Fatalf("release.json lists %d digests, want 2 indexes and 4 platform manifests: %v", len(sums[0]), sums[0])
			}
			for k, d := range sums[0] {
				if sums[1][k] != d {
					t.Errorf("%s: %s, then %s on another fresh builder", k, d, sums[1][k])
				}
			}
		})
	}
}

// releaseDigests reads dist/release.json into "variant[/platform]" -> digest.
func releaseDigests(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum ship.ReleaseSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, img := range sum.Images {
		out[img.Variant] = img.Digest
		for _, p := range img.Platforms {
			out[img.Variant+"/"+p.Platform] = p.Digest
		}
	}
	return out
}
