package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Adopting mageship (issue #10) must leave the service's own dependencies alone. The
// fixtures under testdata/adopt are services before adoption (go.mod and go.sum
// committed); TestAdopt adopts mageship in a copy of each exactly as the README's "Use
// it in your repository" says, from a module proxy that serves this working tree as
// the published mageship, and checks the service's requirements, its production
// binary and what a cold image build downloads.
const (
	// adoptVersion is the version the working tree is published as, for both the
	// targets (github.com/mageship/mageship) and the engine (.../engine), as a
	// release tags vX and engine/vX on one commit.
	adoptVersion = "v0.99.0"
	// adoptMage pins the Mage the README's go get -tool installs, so that the test
	// does not follow Mage's releases.
	adoptMage = "v1.17.2"
	// adoptStamp is VERSION for every build: -X main.version=1.2.3.
	adoptStamp = "1.2.3"
	// upstreamProxy is where every module but mageship comes from.
	upstreamProxy = "https://proxy.golang.org"
)

// adoptFixture is a service under testdata/adopt.
type adoptFixture struct {
	dir    string // under testdata/adopt
	binary string // its main package is ./cmd/<binary>
}

// TestAdopt adopts mageship in each fixture and asserts, per fixture:
//   - every requirement of go.mod before adoption is there after it with the same
//     version (and indirect mark), the go and toolchain lines are unchanged, the only
//     requirements added are Mage and mageship, and every go.sum line stays;
//   - the production binary of go tool mage binaries (dist/linux_amd64/<binary>) is
//     byte-identical to the one go build made before adoption with mageship's flags;
//   - a cold go tool mage image (fresh GOMODCACHE and a BuildKit that never built
//     anything, after the engine was built once) downloads only modules the binary
//     links, per build path (MAGESHIP_BUILD=host and container), and the image's
//     binary is the pre-adoption one too, and answers /healthz.
//
// It logs go.mod and go.sum lines before and after, and the downloads of every step.
func TestAdopt(t *testing.T) {
	vars := rigtest.Env(t)
	root := rigtest.Root(t)
	commands, magefile := readmeAdoption(t, filepath.Join(root, "README.md"))

	proxy := rigtest.NewModProxy(t, upstreamProxy)
	proxy.Publish(t, "github.com/mageship/mageship", adoptVersion, root)
	proxy.Publish(t, "github.com/mageship/mageship/engine", adoptVersion, filepath.Join(root, "engine"))

	for _, fx := range []adoptFixture{
		{dir: "stdlib", binary: "stdlibsvc"},
		{dir: "grpc", binary: "grpcsvc"},
	} {
		t.Run(fx.dir, func(t *testing.T) {
			a := &adoption{fixture: fx, vars: vars, proxy: proxy}
			a.start(t)
			a.referenceBuild(t)
			a.adopt(t, commands, magefile)
			t.Run("requirements", a.checkRequirements)
			t.Run("binary", a.checkBinary)
			for _, build := range []string{"host", "container"} {
				t.Run("image-"+build, func(t *testing.T) { a.checkImageDownloads(t, build) })
			}
		})
	}
}

// adoption is one fixture's run: its copy, what it looked like before, and what each
// step measured.
type adoption struct {
	fixture adoptFixture
	vars    map[string]string
	proxy   *rigtest.ModProxy

	dir      string // the copy, a git repository
	devCache string // GOMODCACHE of the developer's machine: reference build, adoption, binaries
	refSum   string // sha256 of the pre-adoption go build

	modBefore, modAfter []byte
	sumBefore, sumAfter []byte
}

// env is the environment of every command: the rig's, the test's module proxy (with
// mageship kept out of the checksum database, which has never seen it, and checksum
// verification on for everything else), and explicit Go settings that would
// otherwise come from this machine's go env: GOFLAGS empty (this machine's go env has
// -buildvcs=false; mageship passes -buildvcs=false itself, and that is what is under
// test), GOTOOLCHAIN=local (no toolchain download). VERSION fixes the stamp; binaries
// builds linux/amd64 only.
func (a *adoption) env(extra ...string) []string {
	base := []string{
		"GOPROXY=" + a.proxy.URL, "GOSUMDB=sum.golang.org", "GONOSUMDB=github.com/mageship/mageship",
		"GOPRIVATE=", "GONOPROXY=", "GOINSECURE=", "GOWORK=off",
		"GOFLAGS=", "GOTOOLCHAIN=local",
		"VERSION=" + adoptStamp, "MAGESHIP_PLATFORMS=linux/amd64",
	}
	return rigtest.Environ(a.vars, append(base, extra...)...)
}

// start copies the fixture into a git repository with one commit.
func (a *adoption) start(t *testing.T) {
	src := filepath.Join("testdata", "adopt", a.fixture.dir)
	a.dir = filepath.Join(t.TempDir(), a.fixture.dir)
	testfix.CopyTree(t, src, a.dir)
	rigtest.Git(t, a.dir, "init", "-q", "-b", "main")
	rigtest.Git(t, a.dir, "add", "-A")
	rigtest.Git(t, a.dir, "commit", "-q", "-m", "service before mageship")
	a.devCache = modCache(t)
	a.modBefore = readOrEmpty(t, filepath.Join(a.dir, "go.mod"))
	a.sumBefore = readOrEmpty(t, filepath.Join(a.dir, "go.sum"))
}

// referenceBuild builds the service before adoption as mageship's binaries target
// documents it: CGO_ENABLED=0, -trimpath, -buildvcs=false, -ldflags "-s -w -X main.version=...",
// written out here, and checked against what engine/internal/gobuild computes so that
// a change of mageship's flags fails here rather than comparing unlike binaries.
func (a *adoption) referenceBuild(t *testing.T) {
	out := filepath.Join(t.TempDir(), a.fixture.binary)
	main := "./cmd/" + a.fixture.binary
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version=" + adoptStamp, "-o", out, main}
	goEnv := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}

	amd64, err := platform.Parse("linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	b := gobuild.Build{Dir: a.dir, Main: main, Output: out, Platform: amd64, VersionVar: "main.version", Version: adoptStamp}
	if got := b.Args(); !slices.Equal(got, args) {
		t.Fatalf("mageship's go build arguments are %q; the reference build uses %q: update the test to mageship's flags", got, args)
	}
	if got := b.Env(nil); !slices.Equal(got, goEnv) {
		t.Fatalf("mageship's go build environment is %q; the reference build uses %q: update the test", got, goEnv)
	}

	a.proxy.Take()
	start := time.Now()
	rigtest.Run(t, a.dir, append(a.env("GOMODCACHE="+a.devCache), goEnv...), "go", args...)
	a.refSum = sha256Of(t, out)
	t.Logf("reference go build before adoption: %s, sha256 %s, %d module downloads",
		time.Since(start).Round(time.Millisecond), a.refSum[:16], len(rigtest.Downloads(a.proxy.Take())))
}

// adopt runs the README's commands and writes its magefile, then go mod tidy (the
// issue's last step; the README does not name it).
func (a *adoption) adopt(t *testing.T, commands [][]string, magefile string) {
	env := a.env("GOMODCACHE=" + a.devCache)
	a.proxy.Take()
	start := time.Now()
	for _, c := range commands {
		rigtest.Run(t, a.dir, env, c[0], c[1:]...)
	}
	if err := os.MkdirAll(filepath.Join(a.dir, "magefiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "magefiles", "magefile.go"), []byte(magefile), 0o644); err != nil {
		t.Fatal(err)
	}
	rigtest.Run(t, a.dir, env, "go", "mod", "tidy")
	a.modAfter = readOrEmpty(t, filepath.Join(a.dir, "go.mod"))
	a.sumAfter = readOrEmpty(t, filepath.Join(a.dir, "go.sum"))
	got := rigtest.Downloads(a.proxy.Take())
	t.Logf("adoption (%s, magefile, go mod tidy): %s, %d module downloads %v",
		strings.Join(joinCommands(commands), "; "), time.Since(start).Round(time.Millisecond), len(got), got)
	t.Logf("go.mod after adoption:\n%s", a.modAfter)
	rigtest.Git(t, a.dir, "add", "-A")
	rigtest.Git(t, a.dir, "commit", "-q", "-m", "adopt mageship")
}

func (a *adoption) checkRequirements(t *testing.T) {
	before, err := modfile.Parse("go.mod", a.modBefore, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := modfile.Parse("go.mod", a.modAfter, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := requirementVersion(after, "github.com/mageship/mageship"); v != adoptVersion {
		t.Errorf("go.mod after adoption requires mageship %q, want the published %s", v, adoptVersion)
	}
	if goLine(before) != goLine(after) || toolchainLine(before) != toolchainLine(after) {
		t.Errorf("adoption changed the go line %q, toolchain %q to %q, %q", goLine(before), toolchainLine(before), goLine(after), toolchainLine(after))
	}
	var upgraded []string
	for _, r := range before.Require {
		var got *modfile.Require
		for _, s := range after.Require {
			if s.Mod.Path == r.Mod.Path {
				got = s
			}
		}
		switch {
		case got == nil:
			t.Errorf("adoption removed the requirement %s %s", r.Mod.Path, r.Mod.Version)
		case got.Mod.Version != r.Mod.Version:
			upgraded = append(upgraded, fmt.Sprintf("%s %s => %s", r.Mod.Path, r.Mod.Version, got.Mod.Version))
		case got.Indirect != r.Indirect:
			t.Errorf("adoption changed %s from indirect=%v to indirect=%v", r.Mod.Path, r.Indirect, got.Indirect)
		}
	}
	var added []string
	for _, r := range after.Require {
		if requirementVersion(before, r.Mod.Path) == "" {
			added = append(added, r.Mod.Path+" "+r.Mod.Version)
		}
	}
	t.Logf("go.mod: %d lines, %d requirements before; %d lines, %d requirements after; added %v; upgraded %d %v",
		lineCount(a.modBefore), len(before.Require), lineCount(a.modAfter), len(after.Require), added, len(upgraded), upgraded)
	if len(upgraded) > 0 {
		t.Errorf("adoption changed the version of %d of the service's requirements: %v", len(upgraded), upgraded)
	}
	want := []string{"github.com/magefile/mage " + adoptMage, "github.com/mageship/mageship " + adoptVersion}
	slices.Sort(added)
	if !slices.Equal(added, want) {
		t.Errorf("adoption added the requirements %v, want exactly %v", added, want)
	}

	sumAfter := map[string]bool{}
	for _, l := range lines(a.sumAfter) {
		sumAfter[l] = true
	}
	for _, l := range lines(a.sumBefore) {
		if !sumAfter[l] {
			t.Errorf("go.sum lost the line %q", l)
		}
	}
	t.Logf("go.sum: %d lines before, %d after", lineCount(a.sumBefore), lineCount(a.sumAfter))
}

// checkBinary compares go tool mage binaries' production binary with the reference.
func (a *adoption) checkBinary(t *testing.T) {
	a.proxy.Take()
	start := time.Now()
	rigtest.Run(t, a.dir, a.env("GOMODCACHE="+a.devCache), "go", "tool", "mage", "binaries")
	bin := filepath.Join(a.dir, "dist", "linux_amd64", a.fixture.binary)
	sum := sha256Of(t, bin)
	t.Logf("go tool mage binaries (first engine run, developer's module cache): %s, %d module downloads",
		time.Since(start).Round(time.Millisecond), len(rigtest.Downloads(a.proxy.Take())))
	if sum != a.refSum {
		t.Errorf("dist/linux_amd64/%s has sha256 %s, the go build before adoption %s\nafter:\n%s", a.fixture.binary, sum, a.refSum,
			rigtest.Run(t, a.dir, nil, "go", "version", "-m", bin))
	} else {
		t.Logf("production binary identical to the pre-adoption build: sha256 %s", sum)
	}
}

// checkImageDownloads builds the production image cold on one build path and counts
// the modules it downloads. The engine is built first with the same, fresh
// GOMODCACHE (mage -l compiles the magefile, mage dockerignore runs the engine), so
// only the image build's own downloads are counted; those must all be modules the
// binary links (go version -m of the image's binary): on the container path that
// means the magefile's modules (Mage, mageship) stay out of the build stage too.
func (a *adoption) checkImageDownloads(t *testing.T, build string) {
	cache := modCache(t)
	env := a.env("GOMODCACHE="+cache, "MAGEFILE_CACHE="+t.TempDir(), "MAGESHIP_CACHE_DIR="+t.TempDir(), "MAGESHIP_BUILD="+build,
		"BUILDX_BUILDER="+coldBuilder(t, a.vars))

	a.proxy.Take()
	start := time.Now()
	list := rigtest.Run(t, a.dir, env, "go", "tool", "mage", "-l")
	magefileDownloads := rigtest.Downloads(a.proxy.Take())
	for _, target := range []string{"image", "binaries", "image:debug", "release:merge"} {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(target) + `\s`).MatchString(list) {
			t.Errorf("go tool mage -l does not list %s:\n%s", target, list)
		}
	}
	rigtest.Run(t, a.dir, env, "go", "tool", "mage", "dockerignore")
	if err := os.Remove(filepath.Join(a.dir, ".dockerignore")); err != nil {
		t.Fatal(err)
	}
	engineReqs := a.proxy.Take()
	engineDownloads := rigtest.Downloads(engineReqs)
	t.Logf("%s: magefile compile (mage -l) %d module downloads %v; engine (mage dockerignore) %d module downloads, %d proxy requests (%d to the checksum database); %s",
		build, len(magefileDownloads), magefileDownloads, len(engineDownloads), len(engineReqs), countKind(engineReqs, "sumdb"), time.Since(start).Round(time.Millisecond))
	t.Logf("%s: the engine's downloads: %v", build, engineDownloads)
	if len(engineDownloads) == 0 {
		t.Errorf("the engine's first run downloaded nothing into the fresh GOMODCACHE: the engine was not built from the test's proxy")
	}

	start = time.Now()
	out := rigtest.Run(t, a.dir, env, "go", "tool", "mage", "image")
	reqs := a.proxy.Take()
	got := rigtest.Downloads(reqs)
	ref := a.fixture.binary + ":" + adoptStamp
	t.Cleanup(func() { rigtest.Try("", rigtest.Environ(a.vars), "docker", "image", "rm", "-f", ref) })
	if !strings.Contains(out, "built "+ref) {
		t.Errorf("go tool mage image printed:\n%s", testfix.TailLines(out, 30))
	}
	bin := imageBinary(t, ref, a.fixture.binary)
	linked := linkedModules(t, bin)
	t.Logf("%s: cold go tool mage image: %s, %d proxy requests, %d module downloads %v; the binary links %d modules %v",
		build, time.Since(start).Round(time.Millisecond), len(reqs), len(got), got, len(linked), linked)
	if sum := sha256Of(t, bin); sum != a.refSum {
		t.Errorf("MAGESHIP_BUILD=%s: the image's binary has sha256 %s, the go build before adoption %s", build, sum, a.refSum)
	}
	var extra []string
	for _, d := range got {
		if !slices.Contains(linked, d) {
			extra = append(extra, d)
		}
	}
	if len(extra) > 0 {
		t.Errorf("MAGESHIP_BUILD=%s: the cold image build downloaded %d modules the binary does not link: %v (it links %v)", build, len(extra), extra, linked)
	}

	eng, err := daemon.New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if body := runHealthz(t, eng, ref, platform.Host(), 8080); body != "ok "+adoptStamp+"\n" {
		t.Errorf("%s /healthz = %q, want %q", ref, body, "ok "+adoptStamp+"\n")
	}
}

// readmeAdoption reads the README's "Use it in your repository": the commands of its
// sh block (Mage pinned to adoptMage when the README names no version) and the
// magefile of its go block, verbatim.
func readmeAdoption(t *testing.T, readme string) (commands [][]string, magefile string) {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Use it in your repository\n")
	if !ok {
		t.Fatal(`README.md has no "## Use it in your repository" section: the test adopts mageship as that section says`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```(sh|go)\n(.*?)```").FindAllStringSubmatch(section, -1)
	for _, blk := range blocks {
		switch {
		case blk[1] == "sh" && commands == nil:
			sc := bufio.NewScanner(strings.NewReader(blk[2]))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 0 || strings.HasPrefix(f[0], "#") {
					continue
				}
				if f[len(f)-1] == "github.com/magefile/mage" {
					f[len(f)-1] += "@" + adoptMage
				}
				commands = append(commands, f)
			}
		case blk[1] == "go" && magefile == "" && strings.Contains(blk[2], "//go:build mage"):
			magefile = blk[2]
		}
	}
	if len(commands) == 0 || magefile == "" {
		t.Fatalf("README.md's \"Use it in your repository\" has no sh block of commands or no go block with the magefile:\n%s", section)
	}
	return commands, magefile
}

func countKind(reqs []rigtest.ModRequest, kind string) int {
	n := 0
	for _, r := range reqs {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

func joinCommands(cs [][]string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = strings.Join(c, " ")
	}
	return out
}

// imageBinary writes the binary of a local image to a file and returns its path.
func imageBinary(t *testing.T, ref, name string) string {
	t.Helper()
	img, err := imagefs.FromDaemon(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := imagefs.ReadFile(img, "/usr/local/bin/"+name)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// linkedModules lists module@version of every dependency go version -m reports for
// the binary at p, sorted.
func linkedModules(t *testing.T, p string) []string {
	t.Helper()
	out := rigtest.Run(t, "", nil, "go", "version", "-m", p)
	var mods []string
	for _, l := range lines([]byte(out)) {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "dep" {
			mods = append(mods, f[1]+"@"+f[2])
		}
		// A replaced dependency: "=>" path version; the download is the replacement.
		if len(f) >= 3 && f[0] == "=>" {
			mods[len(mods)-1] = f[1] + "@" + f[2]
		}
	}
	slices.Sort(mods)
	return mods
}

// modCache returns a fresh, empty GOMODCACHE that is removed when the test ends (the
// go command makes the module cache read-only).
func modCache(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gomodcache")
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return dir
}

func readOrEmpty(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

func sha256Of(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func lineCount(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func requirementVersion(f *modfile.File, path string) string {
	for _, r := range f.Require {
		if r.Mod.Path == path {
			return r.Mod.Version
		}
	}
	return ""
}

func goLine(f *modfile.File) string {
	if f.Go == nil {
		return ""
	}
	return f.Go.Version
}

func toolchainLine(f *modfile.File) string {
	if f.Toolchain == nil {
		return ""
	}
	return f.Toolchain.Name
}
