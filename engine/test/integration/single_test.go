package integration

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
)

// TestSinglePlatformRelease: with one platform, buildx pushes an image manifest
// rather than an index; the release verifies and tags it all the same.
func TestSinglePlatformRelease(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.5.0")
	repo := fmt.Sprintf("%s/it/single-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_PLATFORMS=linux/amd64"}, "release")
	sum := readSummary(t, filepath.Join(dir, "dist"))
	for _, img := range sum.Images {
		if len(img.Platforms) != 1 || img.Platforms[0].Platform != "linux/amd64" || img.Platforms[0].Digest != img.Digest {
			t.Errorf("%s (%s): platforms %+v, digest %s; want the one linux/amd64 manifest", img.Image, img.Variant, img.Platforms, img.Digest)
		}
		for _, tag := range img.Tags {
			d, err := registry.Resolve(t.Context(), repo+":"+tag)
			if err != nil || d != img.Digest {
				t.Errorf("%s:%s = %s, %v; want %s", repo, tag, d, err, img.Digest)
			}
		}
	}
}
