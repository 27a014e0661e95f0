package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// hostAssemblers are the host path's two assemblers, as MAGESHIP_ASSEMBLE names them.
var hostAssemblers = []string{"direct", "buildx"}

// TestHostAssemblers runs the host path's flows on both assemblers: image and
// image:debug (loaded, verified, /healthz), release (both platforms, /healthz on amd64
// and arm64), then release:platform for each platform, release:merge and
// image:verify.
func TestHostAssemblers(t *testing.T) {
	for _, a := range hostAssemblers {
		t.Run(a, func(t *testing.T) {
			t.Setenv("MAGESHIP_ASSEMBLE", a) // the rig's environment plus this reaches every mage run
			t.Run("image", func(t *testing.T) { testHelloImage(t, "host") })
			t.Run("release", func(t *testing.T) { testHelloRelease(t, "host") })
			t.Run("distributed", func(t *testing.T) { testDistributed(t, a) })
		})
	}
}

// testDistributed releases hello one platform at a time, merges, and checks the
// indexes, /healthz on arm64, and that the size mage image prints is the one
// image:verify prints.
func testDistributed(t *testing.T, assembler string) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v2.4.0")
	repo := fmt.Sprintf("%s/i24-%s-distributed-%d", vars["MAGESHIP_RIG_REGISTRY"], assembler, time.Now().UnixNano())
	env := []string{"MAGESHIP_IMAGE=" + repo}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		out := rigtest.Mage(t, dir, vars, env, "release:platform", p)
		if !strings.Contains(out, "by digest; wrote dist/digests/") {
			t.Errorf("release:platform %s output:\n%s", p, testfix.TailLines(out, 8))
		}
	}
	if d, _ := registry.Resolve(ctx, repo+":2.4.0"); d != "" {
		t.Fatalf("release:platform moved a tag: %s:2.4.0 -> %s", repo, d)
	}
	rigtest.Mage(t, dir, vars, env, "release:merge")
	for _, tag := range []string{"2.4.0", "2.4.0-debug"} {
		idx, err := registry.Describe(ctx, repo+":"+tag)
		if err != nil {
			t.Fatal(err)
		}
		var plats []string
		for _, m := range idx.Platforms {
			plats = append(plats, m.Platform.String())
		}
		if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("%s:%s platforms = %v", repo, tag, plats)
		}
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if body := runHealthz(t, eng, repo+":2.4.0-debug", platform.Platform{OS: "linux", Arch: "arm64"}, 8080); body != "ok 2.4.0\n" {
		t.Errorf("arm64 debug /healthz = %q", body)
	}

	// One size: built and verified print the same number.
	built := rigtest.Mage(t, dir, vars, env, "image")
	verified := rigtest.Mage(t, dir, vars, env, "image:debug", "image:verify")
	size := func(out, word string) string {
		m := regexp.MustCompile(word + ` \S+:2\.4\.0 \(production, [^)]*\): ([0-9.]+ [KMG]?i?B)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q line for the production image in:\n%s", word, testfix.TailLines(out, 10))
		}
		return m[1]
	}
	if b, v := size(built, "built"), size(verified, "verified"); b != v {
		t.Errorf("built says %s, verified says %s: want the same content size", b, v)
	}
}

// TestDirectReleaseWithoutDocker releases on the default path with DOCKER_HOST
// pointing nowhere and no docker (so no buildx) on PATH: both variants of both
// platforms are pushed, verified and tagged.
func TestDirectReleaseWithoutDocker(t *testing.T) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v3.2.1")
	repo := fmt.Sprintf("%s/i24-nodocker-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())

	// PATH holds go and git, nothing else.
	bin := t.TempDir()
	for _, tool := range []string{"go", "git"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"MAGESHIP_IMAGE=" + repo, "PATH=" + bin, "DOCKER_HOST=unix:///nonexistent/docker.sock", "MAGESHIP_ASSEMBLE="}
	if _, err := exec.LookPath(filepath.Join(bin, "docker")); err == nil {
		t.Fatal("docker is on the test's PATH")
	}
	out := rigtest.Mage(t, dir, vars, env, "release")
	t.Logf("mage release without docker:\n%s", testfix.TailLines(out, 12))
	sum := releaseSummary(t, dir)
	if len(sum.Images) != 2 {
		t.Fatalf("release.json lists %d images, want production and debug", len(sum.Images))
	}
	for _, p := range sum.Images {
		var plats []string
		for _, pl := range p.Platforms {
			plats = append(plats, pl.Platform)
		}
		if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("%s: platforms %v", p.Variant, plats)
		}
		d, err := registry.Resolve(ctx, repo+":"+p.Tags[0])
		if err != nil || d != p.Digest {
			t.Errorf("%s:%s -> %s, %v; want %s", repo, p.Tags[0], d, err, p.Digest)
		}
	}
}

// TestReproducibleDirectRelease releases one commit twice with the direct
// assembler, the second time with an empty Go build cache, and compares every digest.
func TestReproducibleDirectRelease(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v2.0.0")
	var sums [2]map[string]string
	for i := range sums {
		repo := fmt.Sprintf("%s/i24-repro-%d-%d", vars["MAGESHIP_RIG_REGISTRY"], i, time.Now().UnixNano())
		env := []string{"MAGESHIP_ASSEMBLE=direct", "MAGESHIP_IMAGE=" + repo}
		if i == 1 {
			env = append(env, "GOCACHE="+t.TempDir()) // a fresh machine's build cache
		}
		rigtest.Mage(t, dir, vars, env, "release")
		sums[i] = releaseDigests(t, filepath.Join(dir, "dist", "release.json"))
	}
	if len(sums[0]) != 6 {
		t.Fatalf("release.json lists %d digests, want 2 indexes and 4 platform manifests: %v", len(sums[0]), sums[0])
	}
	for k, d := range sums[0] {
		if sums[1][k] != d {
			t.Errorf("%s: %s, then %s with an empty build cache", k, d, sums[1][k])
		}
	}
}

// TestDockerDriverRefused: a docker-driver builder (the engine's default) asked to
// push by digest (MAGESHIP_ASSEMBLE=buildx) is refused in preflight, in one line with
// the fix, before anything is compiled or pushed.
func TestDockerDriverRefused(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.0.0")
	repo := fmt.Sprintf("%s/i24-refused-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	for _, env := range [][]string{
		{"MAGESHIP_ASSEMBLE=buildx", "BUILDX_BUILDER=default", "MAGESHIP_IMAGE=" + repo},
		{"MAGESHIP_BUILD=container", "BUILDX_BUILDER=default", "MAGESHIP_IMAGE=" + repo},
	} {
		out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", "tool", "mage", "release")
		if err == nil {
			t.Fatalf("release with %v passed:\n%s", env, out)
		}
		line := errorLine(out)
		for _, want := range []string{"buildx builder default uses the docker driver", "docker buildx create --use"} {
			if !strings.Contains(line, want) {
				t.Errorf("release with %v: error line %q lacks %q", env, line, want)
			}
		}
		if strings.Contains(out, "compile linux/") {
			t.Errorf("release with %v compiled before refusing:\n%s", env, testfix.TailLines(out, 10))
		}
	}
	if tags, _ := registry.ListTags(t.Context(), repo); len(tags) > 0 {
		t.Errorf("a refused release left tags: %v", tags)
	}
}
