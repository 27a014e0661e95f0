package integration

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/ship"
	"github.com/mageship/mageship/engine/internal/sign"
)

// bundleType is the artifact type of a cosign v3 signature (a Sigstore bundle).
const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// TestRegistriesRelease releases hello, with SBOMs and a cosign signature, to the
// registries users push to besides distribution 2.8: distribution v3 (no referrers
// API: the fallback tags) and one that serves the OCI 1.1 referrers API
// (go-containerregistry's, which lists a referrer's config media type where the spec
// puts its artifactType). On each: the tags and floating tags, the SBOM of every
// platform, a signature that verifies; two re-runs change nothing and leave exactly one
// signature per index; an older patch release gets its own tags and moves no floating
// tag of the newer one.
func TestRegistriesRelease(t *testing.T) {
	vars := rigtest.Env(t)
	cosign := rigCosign(t, vars)
	key, pub := keyPair(t, cosign, "rig-test")
	for _, tc := range []struct{ name, key string }{
		{"distribution v3", "MAGESHIP_RIG_DISTRIBUTION3_REGISTRY"},
		{"referrers API", "MAGESHIP_RIG_REFERRERS_REGISTRY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := rigtest.Registry(t, vars, tc.key)
			repo := fmt.Sprintf("%s/i25-registries-%d", host, time.Now().UnixNano())
			testRegistryRelease(t, vars, repo, cosign, key, pub)
		})
	}
}

func testRegistryRelease(t *testing.T, vars map[string]string, repo, cosign, key, pub string) {
	ctx := t.Context()
	keyEnv := rigtest.Environ(vars, sign.PasswordEnv+"=rig-test")
	env := []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_COSIGN_KEY=" + key, sign.PasswordEnv + "=rig-test"}
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.2.0")
	dist := filepath.Join(dir, "dist")

	rigtest.Mage(t, dir, vars, env, "release")
	first := readSummary(t, dist)
	tags := []string{"1.2.0", "1.2", "1", "latest", "1.2.0-debug", "1.2-debug", "1-debug", "latest-debug"}
	moved := tagState(t, repo, tags)
	checkReleased(t, first, moved)
	for _, img := range first.Images {
		if err := sign.Verify(ctx, img.Ref, sign.Options{Key: pub, Cosign: cosign}, keyEnv); err != nil {
			t.Errorf("cosign verify %s: %v", img.Ref, err)
		}
		for _, p := range img.Platforms {
			checkSBOM(t, ctx, img.Image+"@"+p.Digest, p.Platform)
		}
	}

	// Re-runs of the same release: the same digests and signatures, one signature per
	// index, no tag moved.
	for run := 2; run <= 3; run++ {
		rigtest.Mage(t, dir, vars, env, "release")
		again := readSummary(t, dist)
		for i, img := range again.Images {
			if img.Digest != first.Images[i].Digest || img.Signature != first.Images[i].Signature {
				t.Errorf("%s (%s): run %d gives %s signed by %s, the first run %s signed by %s",
					img.Image, img.Variant, run, img.Digest, img.Signature, first.Images[i].Digest, first.Images[i].Signature)
			}
		}
		checkReleased(t, again, tagState(t, repo, tags))
	}

	// An older patch release on a new commit: its own tags; 1.2's floating tags stay.
	newRelease(t, dir, "v1.1.5")
	rigtest.Mage(t, dir, vars, env, "release")
	older := readSummary(t, dist)
	checkReleased(t, older, tagState(t, repo, []string{"1.1.5", "1.1", "1.1.5-debug", "1.1-debug"}))
	for tag, d := range tagState(t, repo, tags) {
		if d != moved[tag] {
			t.Errorf("releasing 1.1.5 moved %s:%s from %s to %s", repo, tag, moved[tag], d)
		}
	}
}

// checkReleased asserts that each tag in at points at the index of its variant in sum
// and that every index carries exactly one signature, the one sum names.
func checkReleased(t *testing.T, sum ship.ReleaseSummary, at map[string]string) {
	t.Helper()
	for tag, d := range at {
		found := false
		for _, img := range sum.Images {
			found = found || d == img.Digest
		}
		if !found {
			t.Errorf("tag %s points at %q, not at an index of release %s", tag, d, sum.Version)
		}
	}
	for _, img := range sum.Images {
		sigs := referrersOfType(t, img.Ref, bundleType)
		if len(sigs) != 1 || img.Signature != img.Image+"@"+sigs[0] {
			t.Errorf("%s (%s) carries signatures %v, want exactly the one release.json names (%q)", img.Ref, img.Variant, sigs, img.Signature)
		}
	}
}

// referrersOfType lists the digests of ref's referrers whose artifact type is kind,
// reading each referrer's manifest for its artifactType (then its config's media type)
// as the OCI 1.1 spec defines it, whatever type the registry's listing shows.
func referrersOfType(t *testing.T, ref, kind string) []string {
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
	var out []string
	for _, desc := range im.Manifests {
		got, err := remote.Get(d.Context().Digest(desc.Digest.String()), remote.WithContext(t.Context()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := v1.ParseManifest(bytes.NewReader(got.Manifest))
		if err != nil {
			t.Fatal(err)
		}
		at := m.ArtifactType
		if at == "" {
			at = string(m.Config.MediaType)
		}
		if at == kind {
			out = append(out, desc.Digest.String())
		}
	}
	return out
}
