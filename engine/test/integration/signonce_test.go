package integration

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/sign"
)

// TestSignOnceOnReferrersRegistry releases a signed hello, twice, to a registry with
// the OCI 1.1 referrers API that lists each referrer's config media type
// (application/vnd.oci.empty.v1+json) where the spec has its artifactType:
// go-containerregistry's own, in the test, behind the fault proxy on a port the rig's
// BuildKit treats as plain HTTP. Both runs pass, and each index carries exactly one
// signature, which cosign verifies.
func TestSignOnceOnReferrersRegistry(t *testing.T) {
	vars := rigtest.Env(t)
	reg := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(true)))
	t.Cleanup(reg.Close)
	front := newFaultyRegistryAny(t, strings.TrimPrefix(reg.URL, "http://"))
	keys := t.TempDir()
	keyEnv := rigtest.Environ(vars, "COSIGN_PASSWORD=rig-test")
	rigtest.Run(t, keys, keyEnv, "cosign", "generate-key-pair")
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v4.0.0")
	repo := fmt.Sprintf("%s/i23/signonce-%d", front.Addr, time.Now().UnixNano())
	env := []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_COSIGN_KEY=" + filepath.Join(keys, "cosign.key"), "COSIGN_PASSWORD=rig-test"}

	var first []string
	for run := 1; run <= 2; run++ {
		rigtest.Mage(t, dir, vars, env, "release")
		sum := releaseSummary(t, dir)
		for i, img := range sum.Images {
			sigs := referrersOfType(t, img.Ref, bundleType)
			if n := slices.Index(referrerTypes(t, img.Ref), bundleType); run == 1 && n >= 0 {
				t.Logf("the registry listed a referrer of %s by its artifactType: the case this test is about did not arise", img.Ref)
			}
			if len(sigs) != 1 {
				t.Errorf("run %d: %s (%s) carries %d signatures, want 1: %v", run, img.Ref, img.Variant, len(sigs), sigs)
			}
			if img.Signature == "" || len(sigs) > 0 && img.Signature != img.Image+"@"+sigs[0] {
				t.Errorf("run %d: release.json names signature %q for %s, the registry has %v", run, img.Signature, img.Ref, sigs)
			}
			if run == 1 {
				first = append(first, img.Signature)
			} else if img.Signature != first[i] {
				t.Errorf("the re-run names signature %s for %s, the first run %s", img.Signature, img.Ref, first[i])
			}
			if err := sign.Verify(t.Context(), img.Ref, sign.Options{Key: filepath.Join(keys, "cosign.pub")}, keyEnv); err != nil {
				t.Errorf("run %d: cosign verify %s: %v", run, img.Ref, err)
			}
		}
	}
	t.Logf("two signed releases to a referrers registry that lists config media types: one signature per index: %v", first)
}
