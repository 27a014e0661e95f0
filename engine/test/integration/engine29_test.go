package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
)

// These tests run where users are: the rig's Docker Engine 29 with the containerd image
// store, and its default builder (buildx's docker driver, BuildKit inside the engine),
// as Docker Desktop and a fresh Engine 29 install give. The rest of the suite runs on
// Docker 20.10 with a remote BuildKit builder. They are few: one per user-facing flow.

// engine29 is rigtest.Engine29, with this test process's own Docker client (daemon.New)
// pointed at that engine too.
func engine29(t *testing.T) (map[string]string, *daemon.Engine) {
	t.Helper()
	vars := rigtest.Engine29(t)
	t.Setenv("DOCKER_HOST", vars["DOCKER_HOST"])
	eng, err := daemon.New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return vars, eng
}

// TestEngine29Image: image, image:debug, image:verify, image:test and image:sbom of
// hello on the default (host) path, loaded into Engine 29's containerd image store;
// the images hold what they must and answer /healthz.
func TestEngine29Image(t *testing.T) {
	vars, eng := engine29(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v2.9.0")
	host := platform.Host()

	out := rigtest.Mage(t, dir, vars, nil, "image")
	if !strings.Contains(out, "built hello:2.9.0 (production, "+host.String()+")") {
		t.Errorf("mage image printed:\n%s", out)
	}
	rigtest.Mage(t, dir, vars, nil, "image:debug")
	prod, err := eng.Inspect(ctx, "hello:2.9.0")
	if err != nil {
		t.Fatal(err)
	}
	if prod.User != "65534:65534" || !slices.Equal(prod.Entrypoint, []string{"/usr/local/bin/hello"}) || prod.Platform != host {
		t.Errorf("production image in Engine 29: user %q, entrypoint %v, platform %s", prod.User, prod.Entrypoint, prod.Platform)
	}
	pimg, err := imagefs.FromDaemon(ctx, "hello:2.9.0")
	if err != nil {
		t.Fatal(err)
	}
	prodSum := checkProduction(t, pimg, "hello", host, productionFiles("hello"))
	dimg, err := imagefs.FromDaemon(ctx, "hello:2.9.0-debug")
	if err != nil {
		t.Fatal(err)
	}
	dentries, err := imagefs.List(dimg)
	if err != nil {
		t.Fatal(err)
	}
	if got := dentries["/usr/local/bin/hello"].SHA256; got != prodSum {
		t.Errorf("debug binary sha256 %s differs from production %s", got, prodSum)
	}
	uid := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "run", "--rm", "--entrypoint", "sh", "hello:2.9.0-debug", "-c", "id -u")
	if strings.TrimSpace(uid) != "65534" {
		t.Errorf("sh in the debug image says uid %q", uid)
	}

	out = rigtest.Mage(t, dir, vars, nil, "image:verify")
	for _, want := range []string{"verified hello:2.9.0 (production, " + host.String() + ")", "verified hello:2.9.0-debug (debug, " + host.String() + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("image:verify output lacks %q:\n%s", want, out)
		}
	}
	out = rigtest.Mage(t, dir, vars, nil, "image:test")
	if !strings.Contains(out, "smoke test passed: hello:2.9.0 ("+host.String()+") answered 200 on /healthz") {
		t.Errorf("image:test output:\n%s", out)
	}
	out = rigtest.Mage(t, dir, vars, nil, "image:sbom")
	if !strings.Contains(out, `"spdxVersion": "SPDX-2.3"`) || !strings.Contains(out, "github.com/google/uuid") {
		t.Errorf("image:sbom printed no SPDX 2.3 document listing hello's module github.com/google/uuid:\n%s", out)
	}
}

// TestEngine29ContainerPath builds hello's image with MAGESHIP_BUILD=container on
// Engine 29's own BuildKit: its RUN steps download hello's module through the bridge's
// NAT, and the image answers /healthz.
func TestEngine29ContainerPath(t *testing.T) {
	vars, eng := engine29(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v2.9.1")
	host := platform.Host()
	out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=container"}, "image")
	if !strings.Contains(out, "built hello:2.9.1 (production, "+host.String()+")") {
		t.Errorf("mage image printed:\n%s", out)
	}
	if body := runHealthz(t, eng, "hello:2.9.1", host, 8080); body != "ok 2.9.1\n" {
		t.Errorf("/healthz = %q, want %q", body, "ok 2.9.1\n")
	}
}

// TestEngine29Release releases hello from Engine 29's default builder (the default
// path): both platforms pushed, SBOMs attached, tags moved; image:test then runs every
// released platform there (arm64 under emulation). Then the same by platform and merge.
func TestEngine29Release(t *testing.T) {
	vars, _ := engine29(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v2.9.2")
	repo := fmt.Sprintf("%s/i25-e29-release-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	env := []string{"MAGESHIP_IMAGE=" + repo}

	rigtest.Mage(t, dir, vars, env, "release")
	sum := readSummary(t, dir+"/dist")
	checkIndexes(t, repo, []string{"2.9.2", "2.9", "2", "latest", "2.9.2-debug", "latest-debug"})
	for _, img := range sum.Images {
		for _, p := range img.Platforms {
			if p.SBOM == "" {
				t.Errorf("%s@%s (%s) has no SBOM in release.json", img.Image, p.Digest, p.Platform)
			}
		}
	}
	out := rigtest.Mage(t, dir, vars, env, "image:test")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !strings.Contains(out, "("+p+") answered 200 on /healthz") {
			t.Errorf("image:test after release did not probe %s:\n%s", p, out)
		}
	}

	newRelease(t, dir, "v2.9.3")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		rigtest.Mage(t, dir, vars, env, "release:platform", p)
	}
	if d, _ := registry.Resolve(ctx, repo+":2.9.3"); d != "" {
		t.Fatalf("release:platform moved a tag: %s:2.9.3 -> %s", repo, d)
	}
	rigtest.Mage(t, dir, vars, env, "release:merge")
	checkIndexes(t, repo, []string{"2.9.3", "2.9.3-debug", "latest"})
}

// checkIndexes asserts that each tag of repo is an index of linux/amd64 and linux/arm64.
func checkIndexes(t *testing.T, repo string, tags []string) {
	t.Helper()
	for _, tag := range tags {
		idx, err := registry.Describe(t.Context(), repo+":"+tag)
		if err != nil {
			t.Fatal(err)
		}
		var plats []string
		for _, m := range idx.Platforms {
			plats = append(plats, m.Platform.String())
		}
		if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("%s:%s platforms = %v, want linux/amd64, linux/arm64", repo, tag, plats)
		}
	}
}

// TestEngine29Doctor: doctor on Engine 29 and its default builder finds nothing
// missing for the default path and names what it found.
func TestEngine29Doctor(t *testing.T) {
	vars, _ := engine29(t)
	dir := rigtest.Example(t, "hello")
	out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + vars["MAGESHIP_RIG_REGISTRY"] + "/i25-e29-doctor"}, "doctor")
	for _, want := range []string{"ok   engine", "Docker 29.", "ok   builder", "default (docker driver)"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}
