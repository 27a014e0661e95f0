package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// productionFiles is everything a scratch production image of binary may hold.
func productionFiles(binaryName string) []string {
	return []string{"/etc/group", "/etc/passwd", "/etc/ssl/certs/ca-certificates.crt", "/usr/local/bin/" + binaryName, "/usr/share/zoneinfo.zip"}
}

func regularFiles(entries map[string]imagefs.Entry) []string {
	var out []string
	for p, e := range entries {
		if e.Type != 'd' && e.Type != '5' {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// checkProduction asserts what a production image must be: only the expected files,
// no shell or package manager, non-root, a static binary for p.
func checkProduction(t *testing.T, img imagefsImage, binaryName string, p platform.Platform, wantFiles []string) string {
	t.Helper()
	entries, err := imagefs.List(img)
	if err != nil {
		t.Fatal(err)
	}
	if sh, ok := imagefs.HasShell(entries); ok {
		t.Errorf("production image has a shell: %s", sh)
	}
	if pm := imagefs.PackageManagers(entries); len(pm) > 0 {
		t.Errorf("production image has package managers: %v", pm)
	}
	if wantFiles != nil {
		if got := regularFiles(entries); !slices.Equal(got, wantFiles) {
			t.Errorf("production image files = %v, want exactly %v", got, wantFiles)
		}
	}
	bin, err := imagefs.ReadFile(img, "/usr/local/bin/"+binaryName)
	if err != nil {
		t.Fatal(err)
	}
	if err := binary.Check(bytes.NewReader(bin), p); err != nil {
		t.Errorf("production binary: %v", err)
	}
	return entries["/usr/local/bin/"+binaryName].SHA256
}

// buildPaths are mageship's two build paths, as MAGESHIP_BUILD names them.
var buildPaths = []string{"host", "container"}

// TestHelloImage builds, verifies and runs the production and debug images of hello
// on both build paths.
func TestHelloImage(t *testing.T) {
	for _, build := range buildPaths {
		t.Run(build, func(t *testing.T) { testHelloImage(t, build) })
	}
}

func testHelloImage(t *testing.T, build string) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.4.2")
	env := []string{"MAGESHIP_BUILD=" + build}
	if build == "host" {
		// The host path never needs a Go image: name one that does not exist.
		env = append(env, "MAGESHIP_BUILDER_IMAGE="+vars["MAGESHIP_RIG_REGISTRY"]+"/nowhere/golang:0-alpine")
	}
	out := rigtest.Mage(t, dir, vars, env, "image")
	if !strings.Contains(out, "built hello:1.4.2 (production, linux/amd64)") {
		t.Errorf("mage image printed:\n%s", out)
	}
	out += stepLog(t, dir, "image")
	out += rigtest.Mage(t, dir, vars, env, "image:debug")
	out += stepLog(t, dir, "image-debug")
	if build == "host" {
		// BuildKit's plain progress names every step it runs, e.g. "[build 3/5] RUN ...".
		if m := regexp.MustCompile(`(?m)^#\d+ \[[^\]]*\] RUN .*$`).FindString(stripSteps(out)); m != "" {
			t.Errorf("the host path ran a RUN step in BuildKit: %s", m)
		}
		if strings.Contains(out, "nowhere/golang") {
			t.Errorf("the host path touched the builder image:\n%s", out)
		}
		if !strings.Contains(out, "mageship: compile linux/amd64 done in ") {
			t.Errorf("the host path did not say it compiled on the host:\n%s", out)
		}
	}
	host := platform.Host()

	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := eng.Inspect(ctx, "hello:1.4.2")
	if err != nil {
		t.Fatal(err)
	}
	if prod.User != "65534:65534" || !slices.Equal(prod.Entrypoint, []string{"/usr/local/bin/hello"}) || prod.Platform != host {
		t.Errorf("production image: user %q, entrypoint %v, platform %s", prod.User, prod.Entrypoint, prod.Platform)
	}
	if v := prod.Labels["org.opencontainers.image.version"]; v != "1.4.2" {
		t.Errorf("version label = %q", v)
	}
	if r := prod.Labels["org.opencontainers.image.revision"]; len(r) != 40 {
		t.Errorf("revision label = %q, want a commit sha", r)
	}

	pimg, err := imagefs.FromDaemon(ctx, "hello:1.4.2")
	if err != nil {
		t.Fatal(err)
	}
	prodSum := checkProduction(t, pimg, "hello", host, productionFiles("hello"))
	bin, _ := imagefs.ReadFile(pimg, "/usr/local/bin/hello")
	t.Logf("hello production image: %d bytes uncompressed (engine), binary %d bytes", prod.Size, len(bin))
	if prod.Size > int64(len(bin))+1<<20 {
		t.Errorf("production image is %d bytes, more than the binary (%d) plus 1 MiB", prod.Size, len(bin))
	}

	dimg, err := imagefs.FromDaemon(ctx, "hello:1.4.2-debug")
	if err != nil {
		t.Fatal(err)
	}
	dentries, err := imagefs.List(dimg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := imagefs.HasShell(dentries); !ok {
		t.Error("debug image has no shell")
	}
	if got := dentries["/usr/local/bin/hello"].SHA256; got != prodSum {
		t.Errorf("debug binary sha256 %s differs from production %s", got, prodSum)
	}
	debug, err := eng.Inspect(ctx, "hello:1.4.2-debug")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hello debug image: %d bytes uncompressed (engine)", debug.Size)
	if debug.User != "65534:65534" {
		t.Errorf("debug user = %q", debug.User)
	}
	uid := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "run", "--rm", "--entrypoint", "sh", "hello:1.4.2-debug", "-c", "id -u")
	if strings.TrimSpace(uid) != "65534" {
		t.Errorf("sh in the debug image says uid %q", uid)
	}

	for _, ref := range []string{"hello:1.4.2", "hello:1.4.2-debug"} {
		body := runHealthz(t, eng, ref, host, 8080)
		if body != "ok 1.4.2\n" {
			t.Errorf("%s /healthz = %q, want %q", ref, body, "ok 1.4.2\n")
		}
	}
}

// runHealthz runs ref for p, returns its /healthz answer, and removes the container.
func runHealthz(t *testing.T, eng *daemon.Engine, ref string, p platform.Platform, port int) string {
	t.Helper()
	c, err := eng.Start(t.Context(), ref, p, daemon.Run{Port: port})
	if c.ID != "" {
		defer eng.Remove(c.ID)
	}
	if err != nil {
		t.Fatal(err)
	}
	body, err := healthz("http://"+c.Addr+"/healthz", 60*time.Second)
	if err != nil {
		logs, _ := eng.Logs(t.Context(), c.ID)
		t.Fatalf("%s (%s): %v\ncontainer logs:\n%s", ref, p, err, logs)
	}
	return body
}

// TestHelloRelease releases hello on both build paths and checks the registry: tags,
// platforms, files, identical binaries, and /healthz on amd64 and arm64 (emulated).
func TestHelloRelease(t *testing.T) {
	for _, build := range buildPaths {
		t.Run(build, func(t *testing.T) { testHelloRelease(t, build) })
	}
}

func testHelloRelease(t *testing.T, build string) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.0.0")
	if err := os.WriteFile(filepath.Join(dir, "NOTES"), []byte("second release\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rigtest.Git(t, dir, "add", "NOTES")
	rigtest.Git(t, dir, "commit", "-q", "-m", "second")
	rigtest.Git(t, dir, "tag", "v1.1.0")
	repo := fmt.Sprintf("%s/it/hello-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())

	out := rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_BUILD=" + build}, "release")
	t.Logf("mage release:\n%s", testfix.TailLines(out, 12))

	sum := releaseSummary(t, dir)
	if sum.Version != "1.1.0" || len(sum.Images) != 2 {
		t.Fatalf("release.json: %+v", sum)
	}
	wantTags := map[string][]string{
		"production": {"1.1.0", "1.1", "1", "latest"},
		"debug":      {"1.1.0-debug", "1.1-debug", "1-debug", "latest-debug"},
	}
	for _, p := range sum.Images {
		if !slices.Equal(p.Tags, wantTags[p.Variant]) {
			t.Errorf("%s tags = %v, want %v", p.Variant, p.Tags, wantTags[p.Variant])
		}
		for _, tag := range p.Tags {
			d, err := registry.Resolve(ctx, repo+":"+tag)
			if err != nil {
				t.Fatal(err)
			}
			if d != p.Digest {
				t.Errorf("%s:%s points at %s, want %s", repo, tag, d, p.Digest)
			}
		}
	}

	idx, err := registry.Describe(ctx, repo+":1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, m := range idx.Platforms {
		plats = append(plats, m.Platform.String())
	}
	if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) || idx.Attestations != 0 {
		t.Errorf("index platforms %v, attestations %d; want linux/amd64, linux/arm64 and none", plats, idx.Attestations)
	}

	// mage binaries of the same commit gives the same bytes as the images hold.
	rigtest.Mage(t, dir, vars, nil, "binaries")
	binarySums := readSums(t, filepath.Join(dir, "dist", "SHA256SUMS"))

	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range idx.Platforms {
		pimg, err := imagefs.FromRegistry(ctx, repo+":1.1.0", m.Platform)
		if err != nil {
			t.Fatal(err)
		}
		prodSum := checkProduction(t, pimg, "hello", m.Platform, productionFiles("hello"))
		dimg, err := imagefs.FromRegistry(ctx, repo+":1.1.0-debug", m.Platform)
		if err != nil {
			t.Fatal(err)
		}
		dentries, err := imagefs.List(dimg)
		if err != nil {
			t.Fatal(err)
		}
		if dentries["/usr/local/bin/hello"].SHA256 != prodSum {
			t.Errorf("%s: debug binary differs from production", m.Platform)
		}
		if want := binarySums[m.Platform.Dir()+"/hello"]; prodSum != want {
			t.Errorf("%s: the released binary's sha256 %s differs from mage binaries' %s", m.Platform, prodSum, want)
		}
		if body := runHealthz(t, eng, repo+"@"+m.Digest, m.Platform, 8080); body != "ok 1.1.0\n" {
			t.Errorf("%s /healthz = %q", m.Platform, body)
		}
	}
	arch := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "run", "--rm", "--pull", "always", "--platform", "linux/arm64", "--entrypoint", "sh", repo+":1.1.0-debug", "-c", "uname -m")
	if !strings.HasSuffix(strings.TrimSpace(arch), "aarch64") {
		t.Errorf("the arm64 debug image's shell says %q, want aarch64", arch)
	}
}

// readSums reads a SHA256SUMS file into a map from file name to hex sha256.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if sum, name, ok := strings.Cut(line, "  "); ok {
			sums[name] = sum
		}
	}
	return sums
}
