package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestVerifyAndSmoke runs image:verify and image:test on local images, then image:test
// on a release (every platform, arm64 under emulation), then a smoke test that fails:
// it must print the container's logs and leave no container behind.
func TestVerifyAndSmoke(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.8.0")
	rigtest.Mage(t, dir, vars, nil, "image")
	rigtest.Mage(t, dir, vars, nil, "image:debug")
	out := rigtest.Mage(t, dir, vars, nil, "image:verify")
	for _, want := range []string{"verified hello:0.8.0 (production, linux/amd64)", "verified hello:0.8.0-debug (debug, linux/amd64)"} {
		if !strings.Contains(out, want) {
			t.Errorf("image:verify output lacks %q:\n%s", want, out)
		}
	}
	out = rigtest.Mage(t, dir, vars, nil, "image:test")
	if !strings.Contains(out, "smoke test passed: hello:0.8.0 (linux/amd64) answered 200 on /healthz") {
		t.Errorf("image:test output:\n%s", out)
	}

	repo := fmt.Sprintf("%s/it/smoke-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	env := []string{"MAGESHIP_IMAGE=" + repo}
	rigtest.Mage(t, dir, vars, env, "release")
	out = rigtest.Mage(t, dir, vars, env, "image:test")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !strings.Contains(out, "("+p+") answered 200 on /healthz") || !strings.Contains(out, repo+"@sha256:") {
			t.Errorf("image:test after release did not probe %s by digest:\n%s", p, out)
		}
	}

	// A probe that cannot succeed: the service does not listen on the configured port.
	mf := filepath.Join(dir, "magefiles", "magefile.go")
	b, _ := os.ReadFile(mf)
	s := strings.Replace(string(b), "{Ports: []int{8080}}", `{Ports: []int{9999}, HealthTimeout: 3 * time.Second}`, 1)
	s = strings.Replace(s, "import (\n", "import (\n\t\"time\"\n\n", 1)
	write(t, mf, s)
	commitAll(t, dir)
	os.Remove(filepath.Join(dir, "dist", "release.json"))
	out, err := rigtest.Try(dir, rigtest.Environ(vars), "go", "tool", "mage", "image:test")
	if err == nil || !strings.Contains(out, "is not in the local Docker engine: build it with mage image") {
		t.Errorf("image:test of a version that was never built: err %v, output:\n%s", err, testfix.TailLines(out, 5))
	}
	out, err = rigtest.Try(dir, rigtest.Environ(vars, "VERSION=0.8.0"), "go", "tool", "mage", "image:test")
	if err == nil {
		t.Fatalf("image:test passed with a probe on a port nothing listens on:\n%s", out)
	}
	for _, want := range []string{"smoke test of hello:", "GET /healthz on port 9999: ", "what it printed (all of it is in dist/image-test/", "listening on :8080"} {
		if !strings.Contains(out, want) {
			t.Errorf("failing image:test output lacks %q:\n%s", want, testfix.TailLines(out, 15))
		}
	}
	left := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "ps", "-aq", "--filter", "ancestor=hello:0.8.0")
	if strings.TrimSpace(left) != "" {
		t.Errorf("image:test left containers behind: %s", left)
	}
}

// TestVerifyFailureRemovesImage builds a production image on a base with a shell: the
// verification after the build fails naming the check, and the image does not stay.
func TestVerifyFailureRemovesImage(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.8.1")
	out, err := rigtest.Try(dir, rigtest.Environ(vars, "MAGESHIP_RUNTIME_IMAGE="+vars["MAGESHIP_DEBUG_IMAGE"]), "go", "tool", "mage", "image")
	if err == nil {
		t.Fatalf("a production image with a shell passed:\n%s", testfix.TailLines(out, 10))
	}
	for _, want := range []string{"shell: hello:0.8.1: ", "use the debug variant to get a shell", "was removed from the engine"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, testfix.TailLines(out, 10))
		}
	}
	if _, err := rigtest.Try(dir, rigtest.Environ(vars), "docker", "image", "inspect", "hello:0.8.1"); err == nil {
		t.Error("hello:0.8.1 is still in the engine after failing verification")
	}
}

// TestDoctor: all good on the rig; a missing builder fails with its fix.
func TestDoctor(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + vars["MAGESHIP_RIG_REGISTRY"] + "/it/doctor"}, "doctor")
	for _, want := range []string{"ok   engine", "API 1.41", "ok   buildx", "ok   builder", "linux/arm64", "ok   emulation"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	out, err := rigtest.Try(dir, rigtest.Environ(vars, "BUILDX_BUILDER=mageship-missing", "MAGESHIP_ASSEMBLE=buildx"), "go", "tool", "mage", "doctor")
	if err == nil || !strings.Contains(out, "FAIL builder") || !strings.Contains(out, "docker buildx create") {
		t.Errorf("doctor with a missing builder: err %v, output:\n%s", err, out)
	}
	// The default path (host+direct) uses no builder: a missing one is a warning.
	out, err = rigtest.Try(dir, rigtest.Environ(vars, "BUILDX_BUILDER=mageship-missing"), "go", "tool", "mage", "doctor")
	if err != nil || !strings.Contains(out, "warn builder") || !strings.Contains(out, "not used on this path (MAGESHIP_ASSEMBLE=direct)") {
		t.Errorf("doctor on the default path with a missing builder: err %v, output:\n%s", err, out)
	}
	// A docker-driver builder cannot push by digest: doctor says so on the buildx paths.
	out, err = rigtest.Try(dir, rigtest.Environ(vars, "BUILDX_BUILDER=default", "MAGESHIP_ASSEMBLE=buildx"), "go", "tool", "mage", "doctor")
	if err == nil || !strings.Contains(out, "FAIL builder") || !strings.Contains(out, "cannot push images by digest") || !strings.Contains(out, "docker buildx create --use") {
		t.Errorf("doctor with a docker-driver builder on host+buildx: err %v, output:\n%s", err, out)
	}
}

// TestContextAuditWarnsAboutGit: on the container path (the only one that sends the
// source), a .dockerignore that lets .git through builds, with a warning and the
// context's size.
func TestContextAuditWarnsAboutGit(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	write(t, filepath.Join(dir, ".dockerignore"), "dist/\n")
	commitAll(t, dir)
	out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=container"}, "image")
	if !strings.Contains(out, "warning: .git would be sent into the build context") || !strings.Contains(out, "build context: ") {
		t.Errorf("mage image with .git in the context:\n%s", grepLines(out, "warning", "build context"))
	}
}

// TestAttestationsOnRequest: MAGESHIP_ATTESTATIONS=provenance adds BuildKit's
// provenance manifests to the index (the default, checked in TestHelloRelease, has
// none). SBOMs are not tested: BuildKit's generator is an image on Docker Hub.
func TestAttestationsOnRequest(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.8.2")
	repo := fmt.Sprintf("%s/it/attest-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	// The direct assembler (the default) uses no BuildKit: it refuses, before building.
	out, err := rigtest.Try(dir, rigtest.Environ(vars, "MAGESHIP_IMAGE="+repo, "MAGESHIP_ATTESTATIONS=provenance"), "go", "tool", "mage", "release")
	if want := "Error: MAGESHIP_ATTESTATIONS asks BuildKit for attestations, and the direct assembler uses no BuildKit: set MAGESHIP_ASSEMBLE=buildx"; err == nil || !strings.HasPrefix(errorLine(out), want) {
		t.Errorf("release with attestations on the direct assembler: err %v, error line %q, want %q...", err, errorLine(out), want)
	}
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_ATTESTATIONS=provenance", "MAGESHIP_ASSEMBLE=buildx"}, "release")
	idx, err := registry.Describe(t.Context(), repo+":0.8.2")
	if err != nil {
		t.Fatal(err)
	}
	if idx.Attestations != 2 || len(idx.Platforms) != 2 {
		t.Errorf("index has %d platforms and %d attestation manifests, want 2 and 2", len(idx.Platforms), idx.Attestations)
	}
}
