package integration

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/sbom"
	"github.com/mageship/mageship/engine/internal/sign"
)

// TestSupplyChainRelease releases hello with a cosign key: every index is signed by
// digest (cosign verify passes), every platform image carries an SPDX SBOM whose
// modules are the binary's, and release.json records what a verifier needs.
func TestSupplyChainRelease(t *testing.T) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	keys := t.TempDir()
	keyEnv := rigtest.Environ(vars, "COSIGN_PASSWORD=rig-test")
	rigtest.Run(t, keys, keyEnv, "cosign", "generate-key-pair")
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v3.0.0")
	repo := fmt.Sprintf("%s/it/supply-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_COSIGN_KEY=" + filepath.Join(keys, "cosign.key"), "COSIGN_PASSWORD=rig-test"}, "release")
	if strings.Contains(out, "rig-test") {
		t.Error("the cosign password appears in the output")
	}
	sum := readSummary(t, filepath.Join(dir, "dist"))
	commit := strings.TrimSpace(rigtest.Run(t, dir, nil, "git", "log", "-1", "--format=%ct"))
	if fmt.Sprint(sum.SourceDateEpoch) != commit || !strings.HasPrefix(sum.GoVersion, "go1.") || sum.BaseImages[vars["MAGESHIP_DEBUG_IMAGE"]] == "" {
		t.Errorf("release.json: source_date_epoch %d (commit %s), go_version %q, base_images %v", sum.SourceDateEpoch, commit, sum.GoVersion, sum.BaseImages)
	}
	pub := sign.Options{Key: filepath.Join(keys, "cosign.pub")}
	for _, img := range sum.Images {
		if img.Signature == "" {
			t.Errorf("%s (%s) has no signature in release.json", img.Ref, img.Variant)
		}
		if err := sign.Verify(ctx, img.Ref, pub, keyEnv); err != nil {
			t.Errorf("cosign verify %s: %v", img.Ref, err)
		}
		for _, p := range img.Platforms {
			ref := img.Image + "@" + p.Digest
			if p.SBOM == "" {
				t.Errorf("%s has no SBOM in release.json", ref)
				continue
			}
			checkSBOM(t, ctx, ref, p.Platform)
		}
	}
	// The same release again (a re-run after a kill, say) keeps each index's one
	// signature: it neither signs twice nor names another signature.
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_COSIGN_KEY=" + filepath.Join(keys, "cosign.key"), "COSIGN_PASSWORD=rig-test"}, "release")
	again := readSummary(t, filepath.Join(dir, "dist"))
	for i, img := range again.Images {
		if img.Signature != sum.Images[i].Signature {
			t.Errorf("%s (%s): the re-run names signature %s, the first run %s", img.Ref, img.Variant, img.Signature, sum.Images[i].Signature)
		}
		n := 0
		for _, kind := range referrerTypes(t, img.Ref) {
			if kind == "application/vnd.dev.sigstore.bundle.v0.3+json" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s (%s) carries %d signatures after a re-run, want 1", img.Ref, img.Variant, n)
		}
	}

	// An index pushed to the same repository outside the release (here: of one
	// platform) carries no signature.
	other := repo + ":outside"
	prod := sum.Images[0]
	rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "buildx", "imagetools", "create", "--tag", other,
		prod.Image+"@"+prod.Platforms[0].Digest)
	d, err := registry.Resolve(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if d == prod.Digest {
		t.Fatalf("imagetools made the very index the release signed (%s): the check would prove nothing", d)
	}
	if err := sign.Verify(ctx, repo+"@"+d, pub, keyEnv); err == nil {
		t.Errorf("cosign verify passed for %s, pushed outside the release", other)
	}
}

// checkSBOM reads the SBOM attached to ref back through the referrers API (or its tag
// fallback) and compares its modules with the Go build information of ref's binary.
func checkSBOM(t *testing.T, ctx context.Context, ref, plat string) {
	t.Helper()
	doc, err := sbom.Find(ctx, ref)
	if err != nil {
		t.Errorf("finding the SBOM of %s: %v", ref, err)
		return
	}
	mods, err := sbom.Modules(doc)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := platform.Parse(plat)
	image, err := imagefs.FromRegistry(ctx, ref, p)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := imagefs.ReadFile(image, "/usr/local/bin/hello")
	if err != nil {
		t.Fatal(err)
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range mods {
		got[m.Path] = m.Version
	}
	for _, d := range bi.Deps {
		if got[d.Path] != d.Version {
			t.Errorf("%s: SBOM has %s %q, the binary links %s", ref, d.Path, got[d.Path], d.Version)
		}
	}
	if len(bi.Deps) == 0 {
		t.Errorf("%s: the binary lists no dependency; hello links github.com/google/uuid", ref)
	}
}

// TestSigningBadInput: a missing key file fails before anything is built, a wrong
// password after the push but before any tag; both in one line, no tag moved.
func TestSigningBadInput(t *testing.T) {
	vars := rigtest.Env(t)
	keys := t.TempDir()
	rigtest.Run(t, keys, rigtest.Environ(vars, "COSIGN_PASSWORD=right"), "cosign", "generate-key-pair")
	// A PATH without /usr/local/bin, where the rig puts cosign (and docker, which a
	// release without cosign must not get as far as needing).
	var noCosign []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != "/usr/local/bin" {
			noCosign = append(noCosign, d)
		}
	}
	for _, tc := range []struct {
		name, key, password, want string
		extra                     []string
	}{
		{name: "missing key file", key: filepath.Join(keys, "nope.key"), password: "right", want: "MAGESHIP_COSIGN_KEY=" + filepath.Join(keys, "nope.key")},
		{name: "wrong password", key: filepath.Join(keys, "cosign.key"), password: "wrong", want: "password"},
		{name: "cosign not installed", key: filepath.Join(keys, "cosign.key"), password: "right", want: "cosign is not installed",
			extra: []string{"PATH=" + strings.Join(noCosign, string(filepath.ListSeparator))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := rigtest.Example(t, "hello")
			repo := fmt.Sprintf("%s/it/signbad-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
			env := rigtest.Environ(vars, append([]string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_COSIGN_KEY=" + tc.key, "COSIGN_PASSWORD=" + tc.password}, tc.extra...)...)
			out, err := rigtest.Try(dir, env, "go", "tool", "mage", "release")
			if err == nil {
				t.Fatalf("release succeeded:\n%s", out)
			}
			line := errorLine(out)
			if !strings.Contains(line, tc.want) || strings.Contains(line, "\n") {
				t.Errorf("error line %q, want one line with %q", line, tc.want)
			}
			// The SBOMs' referrer fallback tags (sha256-<hex>) are not release tags.
			if tags, err := listTags(t, repo); err == nil {
				for _, tag := range tags {
					if !strings.HasPrefix(tag, "sha256-") {
						t.Errorf("%s got tag %s", repo, tag)
					}
				}
			}
		})
	}
}
