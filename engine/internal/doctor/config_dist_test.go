package doctor

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitFix(t *testing.T) {
	for _, tc := range []struct{ msg, detail, fix string }{
		{
			msg:    "several main packages (./cmd/a, ./cmd/b): list the images to ship in config.Set(config.Config{Images: ...}) in your magefile",
			detail: "several main packages (./cmd/a, ./cmd/b)", fix: "list the images to ship in config.Set(config.Config{Images: ...}) in your magefile",
		},
		{
			msg:    `invalid platform "arm64": write it as os/arch, e.g. linux/arm64 (from MAGESHIP_PLATFORMS or Config.Platforms)`,
			detail: `invalid platform "arm64"`, fix: "write it as os/arch, e.g. linux/arm64 (from MAGESHIP_PLATFORMS or Config.Platforms)",
		},
		{
			msg:    "no main package in /src/svc: put one under cmd/<name>/ or at the module root, or set Image.Main in your magefile",
			detail: "no main package in /src/svc", fix: "put one under cmd/<name>/ or at the module root, or set Image.Main in your magefile",
		},
		{
			msg:    "reading go.mod: open /src/svc/go.mod: no such file or directory",
			detail: "reading go.mod: open /src/svc/go.mod: no such file or directory", fix: "change the setting it names",
		},
	} {
		d, f := splitFix(tc.msg)
		if d != tc.detail || !strings.HasPrefix(f, tc.fix) {
			t.Errorf("splitFix(%q) = %q, %q; want %q, %q", tc.msg, d, f, tc.detail, tc.fix)
		}
	}
}

// TestRunConfigError: a configuration that does not resolve is the config check's
// finding, and every other check still runs.
func TestRunConfigError(t *testing.T) {
	need := Need{
		Platforms: release, RunForeign: true,
		ConfigErr: errors.New("several main packages (./cmd/a, ./cmd/b): list the images to ship in config.Set(config.Config{Images: ...}) in your magefile"),
	}
	r := Run(context.Background(), need, fakes()...)
	var b strings.Builder
	r.Print(&b)
	want := `FAIL config      several main packages (./cmd/a, ./cmd/b) -> fix: list the images to ship in config.Set(config.Config{Images: ...}) in your magefile
ok   engine      Docker 20.10.24, API 1.41 at unix:///var/run/docker.sock
ok   buildx      buildx v0.38.0
ok   builder     mageship (docker-container driver), platforms linux/amd64, linux/arm64
ok   emulation   linux/arm64 (qemu-aarch64) enabled in testdata/binfmt_misc
ok   login       no image to push
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Print (-want +got):\n%s", diff)
	}
	if err := r.Err(); err == nil || err.Error() != "doctor: 1 problem: config" {
		t.Errorf("Err() = %v", err)
	}
	need.ConfigErr, need.Config = nil, "1 image: hello (./cmd/hello)"
	if c := Run(context.Background(), need, fakes()...).Checks[0]; c.Name != "config" || !c.OK || c.Detail != need.Config {
		t.Errorf("config check of a resolved configuration = %+v", c)
	}
}

// TestCheckDist asks the real git about repositories that do and do not ignore dist/.
func TestCheckDist(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	git := func(t *testing.T, dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t.invalid")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	repo := func(t *testing.T, gitignore string) string {
		dir := t.TempDir()
		git(t, dir, "init", "-q")
		if gitignore != "" {
			if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(gitignore), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	for _, tc := range []struct {
		name  string
		dir   func(t *testing.T) string
		dist  string // relative to dir, or absolute
		want  checkWant
		setup func(t *testing.T, dir string)
	}{
		{name: "ignored", dir: func(t *testing.T) string { return repo(t, "/dist/\n") }, dist: "dist", want: checkWant{OK: true, Detail: []string{"dist is ignored by git"}}},
		{name: "ignored by a pattern without slash", dir: func(t *testing.T) string { return repo(t, "dist\n") }, dist: "dist", want: checkWant{OK: true}},
		{name: "not ignored", dir: func(t *testing.T) string { return repo(t, "*.log\n") }, dist: "dist",
			want: checkWant{Detail: []string{"dist is not ignored by git"}, Fix: []string{"echo '/dist/' >> .gitignore"}}},
		{name: "no .gitignore, MAGESHIP_DIST=out/bin", dir: func(t *testing.T) string { return repo(t, "") }, dist: "out/bin",
			want: checkWant{Detail: []string{"out/bin is not ignored"}, Fix: []string{"echo '/out/bin/' >> .gitignore"}}},
		{name: "ignored but its manifest committed", dir: func(t *testing.T) string { return repo(t, "/dist/\n") }, dist: "dist",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "dist", ".mageship-manifest.json"), []byte("{}"), 0o644); err != nil {
					t.Fatal(err)
				}
				git(t, dir, "add", "-f", "dist/.mageship-manifest.json")
			},
			want: checkWant{Detail: []string{"dist is not ignored by git"}}},
		{name: "not a git repository", dir: func(t *testing.T) string { return t.TempDir() }, dist: "dist", want: checkWant{OK: true, Detail: []string{"not checked: "}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			dist := tc.dist
			if !filepath.IsAbs(dist) {
				dist = filepath.Join(dir, dist)
			}
			assertCheck(t, checkDist(context.Background(), newOptions(nil, nil), Need{Dir: dir, Dist: dist}), "dist", tc.want)
		})
	}
	if c := checkDist(context.Background(), newOptions(nil, nil), Need{}); c.Name != "" {
		t.Errorf("without a Dist the dist check reports %+v", c)
	}
}
