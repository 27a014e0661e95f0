package version

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// commitTime is the committer date of every commit made by the tests.
var commitTime = time.Unix(1704164645, 0).UTC() // 2024-01-02T03:04:05Z

// gitTestEnv isolates git from the user's configuration and from any repository
// around the test's temporary directories.
func gitTestEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"GIT_AUTHOR_NAME":         "Mageship Test",
		"GIT_AUTHOR_EMAIL":        "test@mageship.invalid",
		"GIT_COMMITTER_NAME":      "Mageship Test",
		"GIT_COMMITTER_EMAIL":     "test@mageship.invalid",
		"GIT_AUTHOR_DATE":         "@1704164645 +0000",
		"GIT_COMMITTER_DATE":      "@1704164645 +0000",
		"GIT_CONFIG_GLOBAL":       "/dev/null",
		"GIT_CONFIG_NOSYSTEM":     "1",
		"GIT_CEILING_DIRECTORIES": os.TempDir(),
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE"} {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
}

// newRepo returns an empty git repository with branch main.
func newRepo(t *testing.T) string {
	t.Helper()
	gitTestEnv(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes name with content and commits it; it returns the new HEAD sha.
func commit(t *testing.T, dir, name, content string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", name)
	git(t, dir, "commit", "-q", "-m", "change "+name)
	return git(t, dir, "rev-parse", "HEAD")
}

func TestResolveHistory(t *testing.T) {
	dir := newRepo(t)
	// Each step changes the repository, then Resolve must give version and tags;
	// "%s" in them stands for the 7-character sha of HEAD.
	for _, step := range []struct {
		name    string
		do      func()
		version string
		tags    []string
	}{
		{
			name:    "first commit, no tags",
			do:      func() { commit(t, dir, "a", "a") },
			version: "0.0.0-1-g%s",
			tags:    []string{"0.0.0-1-g%s", "sha-%s"},
		},
		{
			name:    "second commit, no tags",
			do:      func() { commit(t, dir, "b", "b") },
			version: "0.0.0-2-g%s",
			tags:    []string{"0.0.0-2-g%s", "sha-%s"},
		},
		{
			name:    "lightweight v1.0.0",
			do:      func() { git(t, dir, "tag", "v1.0.0") },
			version: "1.0.0",
			tags:    []string{"1.0.0", "1.0", "1", "latest"},
		},
		{
			name: "annotated v1.1.0",
			do: func() {
				commit(t, dir, "c", "c")
				git(t, dir, "tag", "-a", "-m", "v1.1.0", "v1.1.0")
			},
			version: "1.1.0",
			tags:    []string{"1.1.0", "1.1", "1", "latest"},
		},
		{
			name: "prerelease v2.0.0-rc.1",
			do: func() {
				commit(t, dir, "d", "d")
				git(t, dir, "tag", "v2.0.0-rc.1")
			},
			version: "2.0.0-rc.1",
			tags:    []string{"2.0.0-rc.1"},
		},
		{
			name: "untagged after the prerelease, non-semver tags skipped",
			do: func() {
				commit(t, dir, "e", "e")
				for _, tag := range []string{"vNext", "v3", "v3.1", "v3.0.0+meta", "nightly"} {
					git(t, dir, "tag", tag)
				}
			},
			version: "2.0.0-rc.1-1-g%s",
			tags:    []string{"2.0.0-rc.1-1-g%s", "sha-%s"},
		},
		{
			name:    "two commits after the prerelease",
			do:      func() { commit(t, dir, "f", "f") },
			version: "2.0.0-rc.1-2-g%s",
			tags:    []string{"2.0.0-rc.1-2-g%s", "sha-%s"},
		},
		{
			name: "v2.0.0",
			do: func() {
				git(t, dir, "tag", "-a", "-m", "v2.0.0", "v2.0.0")
			},
			version: "2.0.0",
			tags:    []string{"2.0.0", "2.0", "2", "latest"},
		},
		{
			name: "patch of the 1.0 line",
			do: func() {
				git(t, dir, "checkout", "-q", "-b", "release-1.0", "v1.0.0")
				commit(t, dir, "fix", "fix")
				git(t, dir, "tag", "v1.0.1")
			},
			version: "1.0.1",
			tags:    []string{"1.0.1", "1.0"},
		},
		{
			name: "patch of the 1.1 line",
			do: func() {
				git(t, dir, "checkout", "-q", "-b", "release-1.1", "v1.1.0")
				commit(t, dir, "fix", "fix")
				git(t, dir, "tag", "v1.1.1")
			},
			version: "1.1.1",
			tags:    []string{"1.1.1", "1.1", "1"},
		},
		{
			name:    "back on main",
			do:      func() { git(t, dir, "checkout", "-q", "main") },
			version: "2.0.0",
			tags:    []string{"2.0.0", "2.0", "2", "latest"},
		},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			head := git(t, dir, "rev-parse", "HEAD")
			short := head[:7]
			want := Info{Version: strings.ReplaceAll(step.version, "%s", short), Revision: head, Created: commitTime}
			for _, tag := range step.tags {
				want.Tags = append(want.Tags, strings.ReplaceAll(tag, "%s", short))
			}
			got, err := Resolve(t.Context(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGather(t *testing.T) {
	dir := newRepo(t)
	commit(t, dir, "a", "a")
	git(t, dir, "tag", "v0.1.0")
	head := commit(t, dir, "b", "b")
	git(t, dir, "tag", "-a", "-m", "annotated", "v0.2.0-rc.1")
	git(t, dir, "tag", "nightly")
	got, err := Gather(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Facts{
		ExactTags:  []string{"nightly", "v0.2.0-rc.1"},
		AllTags:    []string{"nightly", "v0.1.0", "v0.2.0-rc.1"},
		Describe:   "v0.2.0-rc.1-0-g" + head[:7],
		Commit:     head,
		CommitTime: commitTime,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Gather (-want +got):\n%s", diff)
	}
}

func TestResolveDirty(t *testing.T) {
	dir := newRepo(t)
	commit(t, dir, ".gitignore", "*.log\n")
	commit(t, dir, "main.go", "package main\n")
	git(t, dir, "tag", "v1.0.0")
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clean := func() {
		git(t, dir, "reset", "-q", "--hard")
		git(t, dir, "clean", "-q", "-f")
	}
	for _, tc := range []struct {
		name  string
		do    func()
		dirty bool
	}{
		{name: "clean", do: func() {}},
		{name: "ignored file", do: func() { write("build.log", "x") }},
		{name: "untracked file", do: func() { write("new.go", "package main\n") }, dirty: true},
		{name: "modified tracked file", do: func() { write("main.go", "package main // changed\n") }, dirty: true},
		{name: "staged change", do: func() {
			write("main.go", "package main // staged\n")
			git(t, dir, "add", "main.go")
		}, dirty: true},
		{name: "deleted tracked file", do: func() { os.Remove(filepath.Join(dir, "main.go")) }, dirty: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clean()
			tc.do()
			got, err := Resolve(t.Context(), dir, Options{})
			if !tc.dirty {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"1.0.0", "1.0", "1", "latest"}, got.Tags); diff != "" {
					t.Errorf("tags (-want +got):\n%s", diff)
				}
				return
			}
			const wantErr = "work tree has uncommitted changes: commit or stash them, or set MAGESHIP_ALLOW_DIRTY=1 to release a -dirty version"
			if err == nil || err.Error() != wantErr {
				t.Errorf("Resolve error = %v, want %q", err, wantErr)
			}
			got, err = Resolve(t.Context(), dir, Options{AllowDirty: true})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != "1.0.0-dirty" || !got.Dirty {
				t.Errorf("Resolve allowing dirty: version %q, dirty %v; want 1.0.0-dirty, true", got.Version, got.Dirty)
			}
			if diff := cmp.Diff([]string{"1.0.0-dirty"}, got.Tags); diff != "" {
				t.Errorf("tags allowing dirty (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDirtyOutputs: files under mageship's output directory, wherever it is configured,
// do not make the tree dirty; files anywhere else still do.
func TestDirtyOutputs(t *testing.T) {
	dir := newRepo(t)
	commit(t, dir, "main.go", "package main\n")
	git(t, dir, "tag", "v1.0.0")
	for _, tc := range []struct {
		name    string
		file    string // written, untracked, relative to dir
		outputs []string
		dirty   bool
	}{
		{name: "no output directory", file: "dist/SHA256SUMS", dirty: true},
		{name: "default dist", file: "dist/SHA256SUMS", outputs: []string{"dist"}},
		{name: "configured out", file: "out/linux_amd64/hello", outputs: []string{"out"}},
		{name: "absolute", file: "out/release.json", outputs: []string{filepath.Join(dir, "out")}},
		{name: "nested", file: "build/mageship/release.json", outputs: []string{"build/mageship"}},
		{name: "a name that starts like it", file: "distribution/notes", outputs: []string{"dist"}, dirty: true},
		{name: "the old default, now configured away", file: "dist/SHA256SUMS", outputs: []string{"out"}, dirty: true},
		{name: "glob characters are literal", file: "out[1]/x", outputs: []string{"out[1]"}},
		{name: "glob characters do not match others", file: "out1/x", outputs: []string{"out[1]"}, dirty: true},
		{name: "outside the work tree", file: "main.txt", outputs: []string{filepath.Join(filepath.Dir(dir), "elsewhere")}, dirty: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			git(t, dir, "clean", "-q", "-f", "-d")
			p := filepath.Join(dir, filepath.FromSlash(tc.file))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Gather(t.Context(), dir, tc.outputs...)
			if err != nil {
				t.Fatal(err)
			}
			if f.Dirty != tc.dirty {
				t.Errorf("Gather(outputs %q) with %s: dirty = %v, want %v", tc.outputs, tc.file, f.Dirty, tc.dirty)
			}
			_, err = Resolve(t.Context(), dir, Options{}, tc.outputs...)
			if (err != nil) != tc.dirty {
				t.Errorf("Resolve(outputs %q) with %s: err = %v, want dirty %v", tc.outputs, tc.file, err, tc.dirty)
			}
		})
	}
}

// TestDirtyOutputsInSubdirectory: a module below the repository's top excludes its own
// output directory, not the top's.
func TestDirtyOutputsInSubdirectory(t *testing.T) {
	dir := newRepo(t)
	if err := os.MkdirAll(filepath.Join(dir, "svc", "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	commit(t, dir, "svc/main.go", "package main\n")
	if err := os.WriteFile(filepath.Join(dir, "svc", "dist", "release.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Gather(t.Context(), filepath.Join(dir, "svc"), "dist")
	if err != nil || f.Dirty {
		t.Errorf("svc/dist/release.json: dirty %v, err %v; want clean", f.Dirty, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "svc", "notes"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := Gather(t.Context(), filepath.Join(dir, "svc"), "dist"); err != nil || !f.Dirty {
		t.Errorf("svc/notes: dirty %v, err %v; want dirty", f.Dirty, err)
	}
}

func TestResolveWithoutGit(t *testing.T) {
	notRepo := func(t *testing.T) string {
		gitTestEnv(t)
		return t.TempDir()
	}
	emptyRepo := newRepo
	noGitBinary := func(t *testing.T) string {
		dir := newRepo(t)
		commit(t, dir, "a", "a")
		t.Setenv("PATH", t.TempDir())
		return dir
	}
	for _, tc := range []struct {
		name     string
		dir      func(t *testing.T) string
		sentinel error
		wantErr  string // %s stands for the directory
	}{
		{"not a repository", notRepo, ErrNotRepository, "%s is not a git repository: run git init, or set VERSION"},
		{"no commits", emptyRepo, ErrNoCommits, "%s has no commits yet: make a first commit, or set VERSION"},
		{"no git binary", noGitBinary, ErrNoGit, "git not found on PATH: install git, or set VERSION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			_, err := Resolve(t.Context(), dir, Options{})
			if want := strings.ReplaceAll(tc.wantErr, "%s", dir); err == nil || err.Error() != want {
				t.Errorf("Resolve error = %v, want %q", err, want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("Resolve error = %v, want one wrapping %v", err, tc.sentinel)
			}

			got, err := Resolve(t.Context(), dir, Options{AllowNoGit: true})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Info{Version: "dev", Tags: []string{"dev"}}, got); diff != "" {
				t.Errorf("Resolve with AllowNoGit (-want +got):\n%s", diff)
			}

			got, err = Resolve(t.Context(), dir, Options{Override: "v1.2.3"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Info{Version: "1.2.3", Tags: []string{"1.2.3"}}, got); diff != "" {
				t.Errorf("Resolve with VERSION (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveBadOverrideBeforeGit(t *testing.T) {
	gitTestEnv(t)
	_, err := Resolve(t.Context(), t.TempDir(), Options{Override: "no spaces"})
	if err == nil || !strings.HasPrefix(err.Error(), `VERSION "no spaces" is not a valid image tag`) {
		t.Errorf("Resolve error = %v, want the VERSION error", err)
	}
}

func TestGatherCanceled(t *testing.T) {
	dir := newRepo(t)
	commit(t, dir, "a", "a")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Gather(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("Gather with a canceled context: err = %v, want context.Canceled", err)
	}
}
