package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Release-build files (issue #20). Each fixture under testdata/layouts/bf-* is a
// service written after real ones, with its own goreleaser v2 file at the root, a
// goreleaser v1 file at the path its release workflow passes with --config, a .ko.yaml,
// or a .promu.yml, and a magefile that sets nothing. mage image builds what the file
// states; each test renders the file's go build command itself, from git's own facts,
// runs it, and compares the bytes with the image's binary, then runs the binary to see
// the version, commit and date it prints.

// commitFacts are what git says of HEAD, read by the test itself.
type commitFacts struct {
	commit, short, branch string
	when                  time.Time
}

func headFacts(t *testing.T, dir string) commitFacts {
	t.Helper()
	commit := strings.TrimSpace(rigtest.Git(t, dir, "rev-parse", "HEAD"))
	sec, err := strconv.ParseInt(strings.TrimSpace(rigtest.Git(t, dir, "log", "-1", "--format=%ct")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return commitFacts{commit: commit, short: commit[:7], branch: strings.TrimSpace(rigtest.Git(t, dir, "rev-parse", "--abbrev-ref", "HEAD")), when: time.Unix(sec, 0).UTC()}
}

// plainBuild runs go build for linux on this machine's architecture in dir, with args
// (the flags, then the package) and env over the rig's environment, and returns the
// binary.
func plainBuild(t *testing.T, l *layout, env []string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bin")
	environ := rigtest.Environ(l.vars, append([]string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + runtime.GOARCH}, env...)...)
	rigtest.Run(t, l.dir, environ, "go", append([]string{"build", "-o", out}, args...)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadedBinary reads /usr/local/bin/<bin> of the local image <bin>:<layoutVersion>
// and removes the image when the test ends.
func loadedBinary(t *testing.T, bin string) []byte {
	t.Helper()
	ctx := t.Context()
	ref := bin + ":" + layoutVersion
	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Untag(context.WithoutCancel(ctx), ref) })
	img, err := imagefs.FromDaemon(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := imagefs.ReadFile(img, "/usr/local/bin/"+bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runBinary runs a linux binary of this machine's architecture and returns its output.
func runBinary(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), p).CombinedOutput()
	if err != nil {
		t.Fatalf("running the binary: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// sameBinary checks that the image's binary is byte-identical to the plain go build
// and that it prints want.
func sameBinary(t *testing.T, bin string, image, plain []byte, want string) {
	t.Helper()
	if !bytes.Equal(image, plain) {
		t.Errorf("%s: the image's binary (%d bytes) differs from go build run with the file's flags (%d bytes)", bin, len(image), len(plain))
	}
	if got := runBinary(t, image); got != want {
		t.Errorf("%s prints %q, want %q", bin, got, want)
	}
}

// hasWarning checks that out holds the warning line want.
func hasWarning(t *testing.T, out, want string) {
	t.Helper()
	if !slices.Contains(warnings(out), "warning: "+want) {
		t.Errorf("no warning %q in:\n%s", want, strings.Join(warnings(out), "\n"))
	}
}

// TestReleaseFileGoreleaserV2: service 1 of issue #20. Its root .goreleaser.yml (v2)
// has two linux builds (two images), one for windows only, a before hook, and
// version and commit variables outside mageship's names, with -trimpath, build tags,
// env and template functions.
func TestReleaseFileGoreleaserV2(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "bf-goreleaser2", ".", nil)
	f := headFacts(t, l.root)
	out := l.mage(t, nil, "image")
	hasWarning(t, out, ".goreleaser.yml: left out: before hooks (not run); build windows-service (not for linux)")

	date := f.when.Format(time.RFC3339)
	plain := plainBuild(t, l, []string{"GOTOOLCHAIN=local"}, "-trimpath", "-buildvcs=false", "-tags", "osusergo",
		"-ldflags", fmt.Sprintf("-w -X 'example.com/chat/v2/server.gitCommit=%s' -X 'example.com/chat/v2/server.serverVersion=v%s' -X example.com/chat/v2/server.buildDate=%s", f.short, layoutVersion, date),
		"./cmd/i20chatd")
	sameBinary(t, "i20chatd", loadedBinary(t, "i20chatd"), plain, fmt.Sprintf("v%s %s %s", layoutVersion, f.short, date))

	plain = plainBuild(t, l, nil, "-trimpath", "-buildvcs=false",
		"-ldflags", fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s -X main.date=%s -X main.project=I20CHAT", layoutVersion, f.commit, date),
		"./cmd/i20chatctl")
	sameBinary(t, "i20chatctl", loadedBinary(t, "i20chatctl"), plain, fmt.Sprintf("%s %s %s I20CHAT", layoutVersion, f.commit, date))
}

// TestReleaseFileGoreleaserV1: service 2 of issue #20. Its goreleaser v1 file is
// .github/goreleaser.yml, which its release workflow passes with --config; its
// version variable is share.BuildVersion. mage binaries builds the same bytes, checks
// the version is in them, and says so.
func TestReleaseFileGoreleaserV1(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "bf-goreleaser1", ".", nil)
	f := headFacts(t, l.root)
	l.mage(t, nil, "image")
	date := f.when.Format(time.RFC3339)
	plain := plainBuild(t, l, nil, "-trimpath", "-buildvcs=false",
		"-ldflags", fmt.Sprintf("-s -w -X example.com/tunnel/share.BuildVersion=%s -X example.com/tunnel/share.BuildCommit=%s -X example.com/tunnel/share.BuildDate=%s", layoutVersion, f.commit, date),
		".")
	sameBinary(t, "i20tunnel", loadedBinary(t, "i20tunnel"), plain, fmt.Sprintf("%s %s %s", layoutVersion, f.commit, date))

	out := l.mage(t, nil, "binaries")
	host := platform.Host().Dir()
	if want := "built dist/" + host + "/i20tunnel (" + layoutVersion + ")"; !strings.Contains(out, want) {
		t.Errorf("mage binaries does not say %q:\n%s", want, testfix.TailLines(out, 10))
	}
	b, err := os.ReadFile(filepath.Join(l.dir, "dist", host, "i20tunnel"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, plain) {
		t.Errorf("dist/%s/i20tunnel differs from go build run with the file's flags", host)
	}
}

// TestReleaseFileKo: a .ko.yaml with two builds, one with its own flags, ldflags
// (ko's .Git and .Date) and env (GOAMD64), the other on the file's defaults. ko always
// adds -trimpath; its base image stays mageship's configuration.
func TestReleaseFileKo(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "bf-ko", ".", nil)
	f := headFacts(t, l.root)
	out := l.mage(t, nil, "image")
	hasWarning(t, out, ".ko.yaml: left out: defaultBaseImage (the image's base and platforms are mageship's configuration)")
	date := f.when.Format(time.RFC3339)
	plain := plainBuild(t, l, []string{"GOAMD64=v2"}, "-trimpath", "-buildvcs=false", "-tags", "osusergo",
		"-ldflags", fmt.Sprintf("-s -w -X main.version=v%s -X main.commit=%s -X main.date=%s", layoutVersion, f.short, date),
		"./cmd/i20api")
	sameBinary(t, "i20api", loadedBinary(t, "i20api"), plain, fmt.Sprintf("v%s %s %s", layoutVersion, f.short, date))

	plain = plainBuild(t, l, nil, "-trimpath", "-buildvcs=false", "-tags", "netgo",
		"-ldflags", fmt.Sprintf("-s -w -X main.version=v%s", layoutVersion), "./cmd/i20worker")
	sameBinary(t, "i20worker", loadedBinary(t, "i20worker"), plain, "v"+layoutVersion)
}

// TestReleaseFilePromu: service 3 of issue #20. Its .promu.yml lists two binaries,
// tags: all: [netgo], and the Prometheus ldflags, whose variables are in another
// module (github.com/prometheus/common/version). The version is the git tag's, not
// the VERSION file's; user and host are mageship; the date is the commit's.
func TestReleaseFilePromu(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "bf-promu", ".", nil)
	f := headFacts(t, l.root)
	l.mage(t, nil, "image")
	ldflags := fmt.Sprintf("-X github.com/prometheus/common/version.Version=%s -X github.com/prometheus/common/version.Revision=%s -X github.com/prometheus/common/version.Branch=%s -X github.com/prometheus/common/version.BuildUser=mageship@mageship -X github.com/prometheus/common/version.BuildDate=%s -extldflags '-static'",
		layoutVersion, f.commit, f.branch, f.when.Format("20060102-15:04:05"))
	want := fmt.Sprintf("%s %s %s mageship@mageship %s", layoutVersion, f.commit, f.branch, f.when.Format("20060102-15:04:05"))
	for _, bin := range []string{"i20demo_exporter", "i20democtl"} {
		plain := plainBuild(t, l, nil, "-trimpath", "-buildvcs=false", "-tags", "netgo", "-ldflags", ldflags, "./cmd/"+bin)
		sameBinary(t, bin, loadedBinary(t, bin), plain, want)
	}
}

// TestReleaseFileUnsupported: a template mageship does not support stops image and
// binaries in one line naming the file, the line and the text, before anything is
// built.
func TestReleaseFileUnsupported(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "bf-goreleaser2", ".", func(dir string) {
		p := filepath.Join(dir, ".goreleaser.yml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.Replace(b, []byte("{{ .CommitDate }}"), []byte("{{ .ReleaseURL }}"), 1)
		// Names of its own, so that TestReleaseFileGoreleaserV2's images are not seen.
		b = bytes.ReplaceAll(b, []byte("binary: i20chatd"), []byte("binary: i20nochatd"))
		b = bytes.ReplaceAll(b, []byte("project_name: i20chat"), []byte("project_name: i20nochat"))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	l.commit(t)
	for _, target := range []string{"image", "binaries"} {
		line := l.fail(t, nil, target)
		want := `Error: .goreleaser.yml:17: -X example.com/chat/v2/server.buildDate={{ .ReleaseURL }}: goreleaser template not supported by mageship:`
		if !strings.HasPrefix(line, want) {
			t.Errorf("mage %s: %q\nwant it to start with %q", target, line, want)
		}
	}
	if _, err := os.Stat(filepath.Join(l.dir, "dist")); !os.IsNotExist(err) {
		t.Errorf("dist/ exists after the refusal (%v): something was built", err)
	}
	eng, err := daemon.New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"i20nochatd", "i20nochatctl"} {
		if _, err := eng.Inspect(t.Context(), bin+":"+layoutVersion); err == nil {
			t.Errorf("image %s:%s exists after the refusal", bin, layoutVersion)
		}
	}
}

// TestZeroConfigCommitDate: no release-build file, and the version, commit and date in
// main.version, main.commit and main.date: zero configuration stamps all three, and
// the binary is byte-identical to go build with those -X.
func TestZeroConfigCommitDate(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "bf-detect", ".", nil)
	f := headFacts(t, l.root)
	out := l.mage(t, nil, "image")
	if w := warnings(out); len(w) > 0 {
		t.Errorf("warnings %q, want none", w)
	}
	date := f.when.Format(time.RFC3339)
	plain := plainBuild(t, l, nil, "-trimpath", "-buildvcs=false",
		"-ldflags", fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s -X main.date=%s", layoutVersion, f.commit, date), ".")
	sameBinary(t, "i20detect", loadedBinary(t, "i20detect"), plain, fmt.Sprintf("%s %s %s", layoutVersion, f.commit, date))
}

// TestBinariesNoVersion: mage binaries on a service with no version variable prints
// the warning the image builds print, and says (no version) rather than a version the
// binary does not hold.
func TestBinariesNoVersion(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "no-version", ".", nil)
	out := l.mage(t, nil, "binaries")
	if want := "built dist/" + platform.Host().Dir() + "/plain (no version)"; !strings.Contains(out, want) {
		t.Errorf("mage binaries does not say %q:\n%s", want, testfix.TailLines(out, 10))
	}
	if w := warnings(out); len(w) != 1 || !strings.HasPrefix(w[0], "warning: image plain: no version variable in .") {
		t.Errorf("warnings %q, want the no-version one", w)
	}
}
