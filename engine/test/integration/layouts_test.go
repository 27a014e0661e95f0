package integration

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Zero configuration on the repository layouts real services use (issue #11). Each
// fixture under testdata/layouts is a small repository whose magefile imports the
// targets exactly as the README shows and sets nothing else. Each test runs mage -l,
// mage image and mage binaries on it for real and asserts the binary's name, that it is
// a static ELF, and the version stamped into it (the binary prints it with -version);
// where the layout needs configuration, it asserts the one-line error or warning.

// layoutVersion is the tag every fixture gets: the version mageship stamps.
const (
	layoutTag     = "v7.3.1"
	layoutVersion = "7.3.1"
)

// layout is a fixture under test: its repository, the module directory in it, and the
// environment mage runs with.
type layout struct {
	vars map[string]string
	root string   // the repository
	dir  string   // the module, where mage runs
	env  []string // on top of the rig's
}

// newLayout copies the fixture, runs prepare on the module directory (before the tag),
// and tags it. Each layout gets its own Mage cache, so layouts can run in parallel.
func newLayout(t *testing.T, name, moduleDir string, prepare func(dir string), env ...string) *layout {
	t.Helper()
	vars := rigtest.Env(t)
	l := &layout{vars: vars, root: rigtest.Layout(t, name)}
	l.dir = filepath.Join(l.root, moduleDir)
	if prepare != nil {
		prepare(l.dir)
	}
	rigtest.Git(t, l.root, "tag", layoutTag)
	l.env = append([]string{"MAGEFILE_CACHE=" + t.TempDir()}, env...)
	return l
}

// commit commits every change and moves the tag onto it, so that the version stays
// layoutVersion.
func (l *layout) commit(t *testing.T) {
	t.Helper()
	commitAll(t, l.root)
	rigtest.Git(t, l.root, "tag", "-f", layoutTag)
}

// mage runs a target that must succeed.
func (l *layout) mage(t *testing.T, extra []string, args ...string) string {
	t.Helper()
	return rigtest.Mage(t, l.dir, l.vars, append(slices.Clone(l.env), extra...), args...)
}

// fail runs a target that must fail, and returns the error line after checking that
// it is the only line saying what went wrong (mage prints it as "Error: ...").
func (l *layout) fail(t *testing.T, extra []string, args ...string) string {
	t.Helper()
	env := rigtest.Environ(l.vars, append(slices.Clone(l.env), extra...)...)
	out, err := rigtest.Try(l.dir, env, "go", append([]string{"tool", "mage"}, args...)...)
	if err == nil {
		t.Fatalf("mage %s succeeded, want an error:\n%s", strings.Join(args, " "), testfix.TailLines(out, 20))
	}
	line := errorLine(out)
	if strings.Count(out, "Error: ") != 1 {
		t.Errorf("mage %s printed %d error lines, want 1:\n%s", strings.Join(args, " "), strings.Count(out, "Error: "), testfix.TailLines(out, 20))
	}
	t.Logf("mage %s: %s", strings.Join(args, " "), line)
	return line
}

// warnings are the warning lines of a mage output.
func warnings(out string) []string {
	var w []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "warning: ") {
			w = append(w, sc.Text())
		}
	}
	return w
}

// listTargets runs mage -l and checks it lists every target.
func (l *layout) listTargets(t *testing.T) {
	t.Helper()
	want := []string{"binaries", "dockerfile", "dockerignore", "doctor", "image", "image:debug", "image:sbom", "image:test", "image:verify", "release", "release:merge", "release:platform"}
	out := l.mage(t, nil, "-l")
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "  ") && len(f) > 0 {
			got = append(got, f[0])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("mage -l lists %v, want %v\n%s", got, want, out)
	}
}

// binaryVersion runs a host binary with -version and returns what it printed.
func binaryVersion(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), path, "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -version: %v\n%s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// image runs mage image and checks what it loaded: <binary>:<version>, entrypoint
// /usr/local/bin/<binary>, a static ELF for this machine that prints wantVersion. It
// returns mage's output and the binary's bytes.
func (l *layout) image(t *testing.T, extra []string, bin, wantVersion string) (string, []byte) {
	t.Helper()
	ctx := t.Context()
	out := l.mage(t, extra, "image")
	ref := bin + ":" + layoutVersion
	host := platform.Host()
	if !strings.Contains(out, "built "+ref+" (production, "+host.String()+")") || !strings.Contains(out, "verified "+ref) {
		t.Errorf("mage image did not build and verify %s:\n%s", ref, testfix.TailLines(out, 15))
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Untag(ctx, ref) })
	ii, err := eng.Inspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ii.Entrypoint, []string{"/usr/local/bin/" + bin}) {
		t.Errorf("%s: entrypoint %v, want /usr/local/bin/%s", ref, ii.Entrypoint, bin)
	}
	img, err := imagefs.FromDaemon(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := imagefs.ReadFile(img, "/usr/local/bin/"+bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := binary.Check(bytes.NewReader(b), host); err != nil {
		t.Errorf("%s: %v", ref, err)
	}
	p := filepath.Join(t.TempDir(), bin)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := binaryVersion(t, p); got != wantVersion {
		t.Errorf("the binary in %s says version %q, want %q", ref, got, wantVersion)
	}
	return out, b
}

// binaries runs mage binaries and checks dist/: static ELF binaries named bin for
// linux/amd64 and linux/arm64, the host's printing wantVersion and equal to the image's
// binary (want, when given).
func (l *layout) binaries(t *testing.T, extra []string, bin, wantVersion string, imageBinary []byte) string {
	t.Helper()
	out := l.mage(t, extra, "binaries")
	for _, s := range []string{"linux/amd64", "linux/arm64"} {
		p, _ := platform.Parse(s)
		path := filepath.Join(l.dir, "dist", p.Dir(), bin)
		if err := binary.CheckFile(path, p); err != nil {
			t.Errorf("mage binaries, %s: %v", s, err)
		}
	}
	host := filepath.Join(l.dir, "dist", platform.Host().Dir(), bin)
	if got := binaryVersion(t, host); got != wantVersion {
		t.Errorf("dist binary says version %q, want %q", got, wantVersion)
	}
	if imageBinary != nil {
		b, err := os.ReadFile(host)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, imageBinary) {
			t.Errorf("dist/%s/%s differs from the image's binary", platform.Host().Dir(), bin)
		}
	}
	return out
}

// zeroConfig is the whole check of a layout that needs no configuration: mage -l,
// mage image and mage binaries, no warning, the binary named bin carrying the version.
func (l *layout) zeroConfig(t *testing.T, bin string) {
	t.Helper()
	l.listTargets(t)
	out, b := l.image(t, nil, bin, layoutVersion)
	out += l.binaries(t, nil, bin, layoutVersion, b)
	if w := warnings(out); len(w) > 0 {
		t.Errorf("zero configuration gave warnings: %q", w)
	}
}

// TestLayoutVersionSuffixRoot: a /v7 module with its main package at the root, and
// its version in pkg/version.VERSION (the service issue #11 reports): the binary and
// image are proxy, not v7, and carry the version.
func TestLayoutVersionSuffixRoot(t *testing.T) {
	t.Parallel()
	newLayout(t, "vn-root", ".", nil).zeroConfig(t, "proxy")
}

// TestLayoutVersionSuffixCmd: a /v2 module with cmd/proxyd and main.Version.
func TestLayoutVersionSuffixCmd(t *testing.T) {
	t.Parallel()
	newLayout(t, "vn-cmd", ".", nil).zeroConfig(t, "proxyd")
}

// TestLayoutServer: the only main package is ./server, the version in
// internal/buildinfo.Version.
func TestLayoutServer(t *testing.T) {
	t.Parallel()
	newLayout(t, "server", ".", nil).zeroConfig(t, "server")
}

// TestLayoutSeveralMains: main packages in two places and no configuration: mage
// image and mage binaries fail in one line that lists them.
func TestLayoutSeveralMains(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "several-mains", ".", nil)
	l.listTargets(t)
	want := "Error: several main packages (./server, ./tools/migrate): list the images to ship in config.Set(config.Config{Images: ...}) in your magefile"
	for _, target := range []string{"image", "binaries"} {
		if line := l.fail(t, nil, target); line != want {
			t.Errorf("mage %s: %q\nwant %q", target, line, want)
		}
	}
}

// TestLayoutNoVersion: no version variable anywhere: a one-line warning naming
// Image.VersionVar, and a build without -X. Then a VersionVar that does not exist,
// set in the magefile: a one-line warning, and still a build.
func TestLayoutNoVersion(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "no-version", ".", nil)
	l.listTargets(t)
	out, b := l.image(t, nil, "plain", "plain")
	l.binaries(t, nil, "plain", "plain", b)
	want := []string{"warning: image plain: no version variable in . (a package-level string version, Version or VERSION in the main package or in a package of the module named version or buildinfo), so the binary gets no version: set Image.VersionVar to the variable that holds it (importpath.name), or to - for none"}
	if got := warnings(out); !slices.Equal(got, want) {
		t.Errorf("warnings %q\nwant %q", got, want)
	}

	write(t, filepath.Join(l.dir, "magefiles", "config.go"), "//go:build mage\n\npackage main\n\nimport \"github.com/mageship/mageship/pkg/config\"\n\n"+
		"func init() {\n\tconfig.Set(config.Config{Images: []config.Image{{VersionVar: \"main.Version\"}}})\n}\n")
	l.commit(t)
	out, _ = l.image(t, nil, "plain", "plain")
	want = []string{"warning: image plain: Image.VersionVar main.Version does not exist: main has no package-level variable Version, so -X cannot stamp the version and the binary gets none: set Image.VersionVar to a package-level string variable the binary links, or to - for none"}
	if got := warnings(out); !slices.Equal(got, want) {
		t.Errorf("warnings %q\nwant %q", got, want)
	}
}

// TestLayoutWorkspace: the service module imports a sibling module through go.work.
// The host path (go build honours go.work) needs nothing; the container path, whose
// build context is the module directory, fails in one line that names both fixes.
func TestLayoutWorkspace(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "workspace", "svc", nil)
	l.zeroConfig(t, "svc")
	line := l.fail(t, []string{"MAGESHIP_BUILD=container"}, "image")
	want := "Error: module example.com/mono/svc builds in the workspace ../go.work with example.com/mono/lib (../lib), which the container build path cannot bring into BuildKit (its build context is the module directory): " +
		"build on this machine (MAGESHIP_BUILD=host, the default), or say it in go.mod too: go mod edit -require=example.com/mono/lib@v0.0.0 -replace=example.com/mono/lib=../lib"
	if line != want {
		t.Errorf("container path: %q\nwant %q", line, want)
	}
}

// TestLayoutVendor: vendor/ committed: -mod=vendor on both build paths, and the two
// give the same binary.
func TestLayoutVendor(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "vendored", ".", func(dir string) { rigtest.Vendor(t, dir) })
	l.zeroConfig(t, "vendored")
	_, b := l.image(t, []string{"MAGESHIP_BUILD=container"}, "vendored", layoutVersion)
	if log := stepLog(t, l.dir, "image"); !strings.Contains(log, "-mod=vendor") {
		t.Errorf("the container build did not use -mod=vendor:\n%s", testfix.TailLines(log, 30))
	}
	host, err := os.ReadFile(filepath.Join(l.dir, "dist", platform.Host().Dir(), "vendored"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, host) {
		t.Error("the container path's binary differs from the host path's")
	}
}

// TestLayoutToolchain: go.mod names a toolchain (go1.99.0) newer than any Go.
//   - Host path, GOTOOLCHAIN=local: go builds with the local Go (the go line allows
//     it), so everything works, and the binary says which Go built it.
//   - Container path: the Dockerfile sets GOTOOLCHAIN=local, so the builder image's Go
//     builds it; a builder image whose tag names an older Go than go.mod's go line is
//     refused before the build, in one line.
//   - A go line newer than the local Go: go tool mage itself cannot start (go's own one
//     line); a magefile compiled before (mage -compile) gets mageship's one line.
//
// With GOTOOLCHAIN=auto the go command tries to download go1.99.0 before anything
// runs; that needs the network and is not tested here.
func TestLayoutToolchain(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "toolchain", ".", nil, "GOTOOLCHAIN=local")
	l.zeroConfig(t, "newer")
	goVersion := func(path string) string {
		bi, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bi.GoVersion
	}
	if got := goVersion(filepath.Join(l.dir, "dist", platform.Host().Dir(), "newer")); got != runtime.Version() {
		t.Errorf("host path: built by %s, want the local %s", got, runtime.Version())
	}

	out, b := l.image(t, []string{"MAGESHIP_BUILD=container"}, "newer", layoutVersion)
	p := filepath.Join(t.TempDir(), "newer")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := goVersion(p); !strings.HasPrefix(got, "go1.26") {
		t.Errorf("container path: built by %s, want the builder image's go1.26\n%s", got, testfix.TailLines(out, 10))
	}
	older := l.vars["MAGESHIP_RIG_REGISTRY"] + "/nowhere/golang:1.25-alpine"
	line := l.fail(t, []string{"MAGESHIP_BUILD=container", "MAGESHIP_BUILDER_IMAGE=" + older}, "image")
	want := "Error: go.mod needs Go 1.26.0 but the builder image " + older + " has Go 1.25: use a newer builder image (MAGESHIP_BUILDER_IMAGE=golang:1.26-alpine) or lower the go line in go.mod"
	if line != want {
		t.Errorf("older builder image: %q\nwant %q", line, want)
	}

	compiled := filepath.Join(t.TempDir(), "mage-toolchain")
	l.mage(t, nil, "-compile", compiled)
	rigtest.Run(t, l.dir, append(os.Environ(), "GOTOOLCHAIN=local"), "go", "mod", "edit", "-go=1.99")
	l.commit(t)
	env := rigtest.Environ(l.vars, l.env...)
	out, err := rigtest.Try(l.dir, env, "go", "tool", "mage", "-l")
	if err == nil || strings.TrimSpace(out) != "go: go.mod requires go >= 1.99 (running go "+strings.TrimPrefix(runtime.Version(), "go")+"; GOTOOLCHAIN=local)" {
		t.Errorf("go tool mage -l with go 1.99 in go.mod: %v\n%s", err, out)
	}
	out, err = rigtest.Try(l.dir, env, compiled, "binaries")
	want = "Error: go build . for linux/amd64: go: go.mod requires go >= 1.99 (running go " + strings.TrimPrefix(runtime.Version(), "go") +
		"; GOTOOLCHAIN=local): install Go 1.99 or newer on this machine, or let the go command fetch it (GOTOOLCHAIN=auto)"
	if line := errorLine(out); err == nil || !strings.HasPrefix(line, "Error: go build . for linux/") || !strings.Contains(line, strings.TrimPrefix(want, "Error: go build . for linux/amd64")) {
		t.Errorf("compiled magefile, mage binaries: %v\n%s\nwant a line like %q", err, testfix.TailLines(out, 10), want)
	} else {
		t.Logf("mage binaries: %s", line)
	}
}

// embedded lists the files a site binary embeds.
func embedded(t *testing.T, bin []byte) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "site")
	if err := os.WriteFile(p, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), p, "-files").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

// TestLayoutEmbed: //go:embed static templates. With mageship's default .dockerignore
// the container build embeds all of it, as the host build does. A .dockerignore that
// leaves out some of the files is a one-line warning (the build goes on, embedding the
// rest); one that leaves out all of what a pattern matches is a one-line error before
// the build.
func TestLayoutEmbed(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "embed", ".", nil)
	l.listTargets(t)
	container := []string{"MAGESHIP_BUILD=container"}
	out, b := l.image(t, container, "site", layoutVersion)
	l.binaries(t, nil, "site", layoutVersion, b)
	all := []string{"static/app.js", "static/app.js.map", "templates/index.html"}
	if got := embedded(t, b); !slices.Equal(got, all) {
		t.Errorf("the container build embeds %v, want %v", got, all)
	}
	if w := warnings(out); len(w) > 0 {
		t.Errorf("default .dockerignore: warnings %q", w)
	}

	write(t, filepath.Join(l.dir, ".dockerignore"), ".git\ndist/\n**/*.map\n")
	l.commit(t)
	out, b = l.image(t, container, "site", layoutVersion)
	want := []string{`warning: build context: .dockerignore excludes 1 of the 2 files //go:embed static matches (main.go:13), e.g. static/app.js.map (pattern "**/*.map"): the binary built inside BuildKit embeds the rest only; remove that pattern if it needs them`}
	if got := warnings(out); !slices.Equal(got, want) {
		t.Errorf("warnings %q\nwant %q", got, want)
	}
	if got := embedded(t, b); !slices.Equal(got, []string{"static/app.js", "templates/index.html"}) {
		t.Errorf("with **/*.map ignored the container build embeds %v", got)
	}

	write(t, filepath.Join(l.dir, ".dockerignore"), ".git\ndist/\ntemplates/\n")
	l.commit(t)
	line := l.fail(t, container, "image")
	wantLine := `Error: build context: .dockerignore excludes everything //go:embed templates matches (main.go:13), so go build . fails inside BuildKit: remove pattern "templates", or build on this machine (MAGESHIP_BUILD=host, the default)`
	if line != wantLine {
		t.Errorf("templates ignored: %q\nwant %q", line, wantLine)
	}
}

// TestLayoutIgnore: a .dockerignore that leaves out go.sum, or a package directory the
// binary needs: the container path fails before the build, in one line naming the
// file and the pattern; the host path, whose context holds only the binaries, builds.
func TestLayoutIgnore(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "ignore", ".", nil)
	l.zeroConfig(t, "api")
	container := []string{"MAGESHIP_BUILD=container"}
	line := l.fail(t, container, "image")
	want := `Error: build context: .dockerignore excludes go.sum (pattern "go.sum"), which go build ./cmd/api reads inside BuildKit: remove that pattern, or build on this machine (MAGESHIP_BUILD=host, the default)`
	if line != want {
		t.Errorf("go.sum ignored: %q\nwant %q", line, want)
	}
	write(t, filepath.Join(l.dir, ".dockerignore"), ".git\ndist/\ninternal/\n")
	l.commit(t)
	line = l.fail(t, container, "image")
	want = `Error: build context: .dockerignore excludes internal/greet/greet.go (pattern "internal"), which go build ./cmd/api reads inside BuildKit: remove that pattern, or build on this machine (MAGESHIP_BUILD=host, the default)`
	if line != want {
		t.Errorf("internal/ ignored: %q\nwant %q", line, want)
	}
}
