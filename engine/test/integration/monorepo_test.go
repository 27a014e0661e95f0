package integration

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Monorepos and nested modules (issue #26), on the fixture testdata/layouts/monorepo:
// a go.work at the root over the root module (tools in odd places), server/ (a /v3
// module whose main is its root package, replacing the sibling lib/), lib/ and worker/
// (a cmd/ main). It is adopted both ways the README describes: at the root, naming
// ./server, and inside server/ with no configuration. Every target that reads the
// project runs on each. Image names start with i26-.

// monoOrigin is the fixture repository's origin remote: the source label's.
const (
	monoOrigin = "git@github.com:acme/mono.git"
	monoSource = "https://github.com/acme/mono"
)

// newMonorepo copies the fixture, gives it an origin remote and tags it.
func newMonorepo(t *testing.T, moduleDir string, env ...string) *layout {
	t.Helper()
	return newLayout(t, "monorepo", moduleDir, func(string) {}, env...).withOrigin(t)
}

func (l *layout) withOrigin(t *testing.T) *layout {
	t.Helper()
	rigtest.Git(t, l.root, "remote", "add", "origin", monoOrigin)
	return l
}

// namedImage runs mage image and checks what it loaded as ref: entrypoint
// /usr/local/bin/<bin>, a static ELF for this machine printing layoutVersion, and the
// source label. It returns mage's output and the binary.
func (l *layout) namedImage(t *testing.T, extra []string, ref, bin, source string) (string, []byte) {
	t.Helper()
	ctx := t.Context()
	out := l.mage(t, extra, "image")
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
	if got := ii.Labels["org.opencontainers.image.source"]; got != source {
		t.Errorf("%s: source label %q, want %q", ref, got, source)
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
	if got := binaryVersion(t, p); got != layoutVersion {
		t.Errorf("the binary in %s says version %q, want %q", ref, got, layoutVersion)
	}
	return out, b
}

// readers runs the other targets that read the project (mage image:verify and
// image:sbom of what mage image loaded, dockerfile, dockerignore, doctor) and checks
// that each either succeeds or fails in one line, and never panics. (image:test is
// left out: these fixtures' binaries serve nothing to probe.)
func (l *layout) readers(t *testing.T, extra []string) {
	t.Helper()
	l.mage(t, extra, "image:debug") // image:verify checks both variants
	for _, target := range []string{"image:verify", "image:sbom", "dockerfile", "dockerignore", "doctor"} {
		env := rigtest.Environ(l.vars, append(slices.Clone(l.env), extra...)...)
		out, err := rigtest.Try(l.dir, env, "go", "tool", "mage", target)
		if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
			t.Errorf("mage %s panicked:\n%s", target, testfix.TailLines(out, 20))
		}
		if err != nil && strings.Count(out, "Error: ") != 1 {
			t.Errorf("mage %s failed without one error line:\n%s", target, testfix.TailLines(out, 20))
		}
		t.Logf("mage %s: %v %s", target, err, errorLine(out))
	}
}

// TestMonorepoRoot: adopted at the go.work root. Zero configuration lists the mains
// of every workspace module, the ones at a module root or under cmd/ first; naming
// ./server (the panic of issue #26) builds it in its own module, through the go.work,
// into the root's dist/, on both build paths to the same bytes, and releases it.
func TestMonorepoRoot(t *testing.T) {
	t.Parallel()
	l := newMonorepo(t, ".", "MAGESHIP_IMAGE=i26-mono-root")
	l.listTargets(t)
	want := "Error: several main packages (./server, ./worker/cmd/worker, ./tools/gen, ./tools/lint): list the images to ship in config.Set(config.Config{Images: ...}) in your magefile"
	for _, target := range []string{"image", "binaries", "dockerfile"} {
		if line := l.fail(t, nil, target); line != want {
			t.Errorf("mage %s: %q\nwant %q", target, line, want)
		}
	}

	write(t, filepath.Join(l.dir, "magefiles", "config.go"), "//go:build mage\n\npackage main\n\nimport \"github.com/mageship/mageship/pkg/config\"\n\n"+
		"func init() {\n\tconfig.Set(config.Config{Images: []config.Image{{Main: \"./server\"}}})\n}\n")
	l.commit(t)
	out, b := l.namedImage(t, nil, "i26-mono-root:"+layoutVersion, "server", monoSource)
	out += l.binaries(t, nil, "server", layoutVersion, b)
	if w := warnings(out); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "server", "dist")); err == nil {
		t.Error("mage at the root wrote server/dist: dist/ belongs at the root")
	}
	l.readers(t, nil)
	l.commit(t) // mage dockerfile wrote Dockerfile and .dockerignore

	// The container path: the root's build context holds the go.work and every module
	// it uses, so BuildKit builds ./server in workspace mode too, to the same bytes.
	_, cb := l.namedImage(t, []string{"MAGESHIP_BUILD=container"}, "i26-mono-root:"+layoutVersion, "server", monoSource)
	if !bytes.Equal(b, cb) {
		t.Errorf("the container path's binary differs from the host path's: %s", depLines(t, cb))
	}

	repo := fmt.Sprintf("%s/i26/mono-%d", l.vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	out = l.mage(t, []string{"MAGESHIP_IMAGE=" + repo, "MAGESHIP_PLATFORMS=linux/amd64"}, "release")
	if !strings.Contains(out, "released version "+layoutVersion) || !strings.Contains(out, repo+" (production)") {
		t.Errorf("mage release did not publish %s:%s:\n%s", repo, layoutVersion, testfix.TailLines(out, 15))
	}
	if _, err := os.Stat(filepath.Join(l.dir, "dist", "release.json")); err != nil {
		t.Errorf("mage release at the root: %v", err)
	}
}

// TestMonorepoNested: adopted inside server/, a nested /v3 module in the go.work that
// replaces its sibling lib/: zero configuration builds it, on both build paths, into
// server/dist/. A file that is a symlink out of server/ (shared tests, as in issue
// #26) is refused on the container path before anything is built, in one line; the
// host path builds.
func TestMonorepoNested(t *testing.T) {
	t.Parallel()
	l := newMonorepo(t, "server", "MAGESHIP_IMAGE=i26-mono-nested")
	l.listTargets(t)
	ref := "i26-mono-nested:" + layoutVersion
	out, b := l.namedImage(t, nil, ref, "server", monoSource)
	out += l.binaries(t, nil, "server", layoutVersion, b)
	if w := warnings(out); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	if _, err := os.Stat(filepath.Join(l.root, "dist")); err == nil {
		t.Error("mage inside server/ wrote the root's dist/: it belongs in server/dist")
	}
	l.readers(t, nil)
	l.commit(t) // mage dockerfile wrote Dockerfile and .dockerignore

	// The container path builds the module on its own (no go.work in its context), with
	// the replace of ../lib as a second build context. Its binary carries the version;
	// its build information says module mode where the host's says workspace mode
	// (dep example.com/mono/lib v0.0.0 => ../lib, not (devel)): the README's limit.
	container := []string{"MAGESHIP_BUILD=container"}
	_, cb := l.namedImage(t, container, ref, "server", monoSource)
	if bytes.Equal(b, cb) {
		t.Log("the container path's binary is the host path's")
	} else {
		t.Logf("the container path's binary differs from the host path's: %s", depLines(t, cb))
	}

	if err := os.Symlink("../tests/example_test.go", filepath.Join(l.dir, "example_test.go")); err != nil {
		t.Fatal(err)
	}
	l.commit(t)
	env := rigtest.Environ(l.vars, append(slices.Clone(l.env), container...)...)
	out, err := rigtest.Try(l.dir, env, "go", "tool", "mage", "image")
	want := "Error: build context: example_test.go is a symlink to ../tests/example_test.go, outside the build context " + l.dir +
		", which BuildKit cannot follow: build on the host path (unset MAGESHIP_BUILD, or MAGESHIP_BUILD=host), replace the link with the file, or leave it out with the .dockerignore line example_test.go"
	if line := errorLine(out); err == nil || line != want || strings.Count(out, "Error: ") != 1 {
		t.Errorf("symlink out of the context: %v %q\nwant %q", err, line, want)
	}
	if strings.Contains(out, "assemble") || strings.Contains(out, "compile") {
		t.Errorf("the refused build started a build step:\n%s", testfix.TailLines(out, 20))
	}
	l.namedImage(t, nil, ref, "server", monoSource)
}

// TestMonorepoTaggedVendor: a module whose only main is under a build tag, with
// vendor/ committed and a replace of a sibling module (vendored with it). Zero
// configuration finds no main and says what to set; with Image.Main and Image.Tags
// both build paths build it.
func TestMonorepoTaggedVendor(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "tagged-vendor", "svc", func(dir string) { vendor(t, dir) }, "MAGESHIP_IMAGE=i26-tagged")
	l.listTargets(t)
	for _, target := range []string{"image", "binaries"} {
		line := l.fail(t, nil, target)
		if !strings.HasPrefix(line, "Error: no main package in ") || !strings.Contains(line, "set Image.Main") {
			t.Errorf("mage %s: %q, want the no-main-package line naming Image.Main", target, line)
		}
	}
	write(t, filepath.Join(l.dir, "magefiles", "config.go"), "//go:build mage\n\npackage main\n\nimport \"github.com/mageship/mageship/pkg/config\"\n\n"+
		"func init() {\n\tconfig.Set(config.Config{Images: []config.Image{{Main: \"./cmd/svc\", Tags: []string{\"prod\"}}}})\n}\n")
	l.commit(t)
	ref := "i26-tagged:" + layoutVersion
	out, b := l.namedImage(t, nil, ref, "svc", "")
	out += l.binaries(t, nil, "svc", layoutVersion, b)
	_, cb := l.namedImage(t, []string{"MAGESHIP_BUILD=container"}, ref, "svc", "")
	if !bytes.Equal(b, cb) {
		t.Error("the container path's binary differs from the host path's")
	}
	if w := warnings(out); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	l.readers(t, nil)
}

// depLines is what a binary's build information says of its dependencies.
func depLines(t *testing.T, bin []byte) string {
	t.Helper()
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	var deps []string
	for _, d := range bi.Deps {
		s := d.Path + " " + d.Version
		if d.Replace != nil {
			s += " => " + d.Replace.Path
		}
		deps = append(deps, s)
	}
	return strings.Join(deps, ", ")
}

// vendor runs go mod vendor in the module dir and commits vendor/, without the .git
// file a checkout that is a git worktree leaves in the vendored copy of mageship (git
// would record it as an embedded repository, and the tree would stay dirty).
func vendor(t *testing.T, dir string) {
	t.Helper()
	rigtest.Run(t, dir, append(os.Environ(), "GOTOOLCHAIN=local"), "go", "mod", "vendor")
	os.Remove(filepath.Join(dir, "vendor", "github.com", "mageship", "mageship", ".git"))
	rigtest.Git(t, dir, "add", "-A")
	rigtest.Git(t, dir, "commit", "-q", "-m", "vendor")
}
