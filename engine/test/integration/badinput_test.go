package integration

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// badInput is one wrong thing a user can do, and what mageship must answer.
type badInput struct {
	name    string
	example string                         // hello (default) or multi
	setup   func(t *testing.T, dir string) // breaks the copy of the example
	env     func(repo string) []string     // extra environment; repo is this case's own repository
	args    []string                       // mage arguments
	want    string                         // in mage's "Error:" line
	mage    string                         // "go": run through go tool mage (recompiles); default the precompiled binary
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func commitAll(t *testing.T, dir string) {
	t.Helper()
	rigtest.Git(t, dir, "add", "-A")
	rigtest.Git(t, dir, "commit", "-q", "-m", "break it")
}

func envs(kv ...string) func(string) []string {
	return func(repo string) []string {
		out := []string{"MAGESHIP_IMAGE=" + repo}
		for _, s := range kv {
			out = append(out, strings.ReplaceAll(s, "{repo}", repo))
		}
		return out
	}
}

// TestBadInput runs mage against each bad input and checks the one-line error names
// the problem and the fix, that mage exits non-zero, and that nothing was pushed or
// tagged (and no local image was created).
func TestBadInput(t *testing.T) {
	vars := rigtest.Env(t)
	reg := vars["MAGESHIP_RIG_REGISTRY"]
	faulty := newFaultyRegistry(t, "5003", reg)
	faulty.set(func(*http.Request, int) bool { return true })

	// Compile each example's magefile once; most cases run the binary, so that a case
	// that breaks go.mod or PATH tests mageship, not Mage's compiler.
	bins := map[string]string{}
	for _, ex := range []string{"hello", "multi"} {
		dir := rigtest.Example(t, ex)
		bins[ex] = filepath.Join(t.TempDir(), ex+"-mage")
		rigtest.Run(t, dir, nil, "go", "tool", "mage", "-compile", bins[ex])
	}
	noGit := t.TempDir()
	for _, tool := range []string{"go", "docker"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(noGit, tool)); err != nil {
			t.Fatal(err)
		}
	}
	emptyDockerConfig := t.TempDir()

	cases := []badInput{
		{name: "invalid platform string", env: envs("MAGESHIP_PLATFORMS=linux/amd64,arm64"), args: []string{"release"}, want: `invalid platform "arm64": write it as os/arch`},
		{name: "unsupported platform", env: envs("MAGESHIP_PLATFORMS=windows/amd64"), args: []string{"release"}, want: `unsupported platform "windows/amd64"`},
		{name: "platform listed twice", env: envs("MAGESHIP_PLATFORMS=linux/arm64,linux/arm64"), args: []string{"release"}, want: "listed twice"},
		{name: "empty platform list", env: envs("MAGESHIP_PLATFORMS=,"), args: []string{"release"}, want: "no platform in"},
		{name: "platform the base images lack", env: envs("MAGESHIP_PLATFORMS=linux/amd64,linux/s390x"), args: []string{"release"}, want: "has no linux/s390x variant"},
		{name: "builder that cannot push by digest", env: envs("BUILDX_BUILDER=default", "MAGESHIP_ASSEMBLE=buildx"), args: []string{"release"}, want: "buildx builder default uses the docker driver, which cannot push images by digest as release and release:platform do: create a builder that can (docker buildx create --use)"},
		{name: "invalid image reference", env: func(string) []string { return []string{"MAGESHIP_IMAGE=" + reg + "/bad image"} }, args: []string{"release"}, want: "invalid image repository"},
		{name: "uppercase repository", env: func(string) []string { return []string{"MAGESHIP_IMAGE=" + reg + "/Bad/Hello"} }, args: []string{"release"}, want: `invalid image repository "` + reg + `/Bad/Hello"`},
		{name: "image with a tag conflicts with the version", env: func(repo string) []string { return []string{"MAGESHIP_IMAGE=" + repo + ":1.0"} }, args: []string{"release"}, want: "names a tag or digest: give the repository only"},
		{name: "tag over 128 characters", env: envs("VERSION=" + strings.Repeat("1", 129)), args: []string{"release"}, want: "is not a valid image tag"},
		{name: "VERSION that is not a valid tag", env: envs("VERSION=1.0 beta"), args: []string{"release"}, want: `VERSION "1.0 beta" is not a valid image tag`},
		{name: "release without a registry repository", env: func(string) []string { return nil }, args: []string{"release"}, want: "release needs a registry repository for hello: set MAGESHIP_IMAGE"},
		{name: "missing main package", setup: func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, "cmd")); commitAll(t, dir) }, env: envs(), args: []string{"image"}, want: "no main package in"},
		{name: "ambiguous main package", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "cmd", "other", "main.go"), "package main\nfunc main() {}\n")
			commitAll(t, dir)
		}, env: envs(), args: []string{"image"}, want: "several main packages (./cmd/hello, ./cmd/other)"},
		{name: "package that needs cgo", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "cmd", "hello", "cgo.go"), "package main\n\n// #include <stdlib.h>\nimport \"C\"\n\nvar _ = C.free\n")
			commitAll(t, dir)
		}, env: envs(), args: []string{"image"}, want: `package ./cmd/hello needs cgo (cgo.go imports "C")`},
		{name: "missing go.sum", setup: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "go.sum")); commitAll(t, dir) }, env: envs(), args: []string{"image"}, want: "go.sum is missing but go.mod requires"},
		{name: "go.mod needs a newer Go than the builder", setup: func(t *testing.T, dir string) {
			rigtest.Run(t, dir, []string{"GOTOOLCHAIN=local"}, "go", "mod", "edit", "-go=1.99")
			commitAll(t, dir)
		}, env: envs("GOTOOLCHAIN=local", "MAGESHIP_BUILD=container"), args: []string{"image"}, want: "go.mod needs Go 1.99 but the builder image"},
		{name: "unknown field in a user template", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "my.tmpl"), "FROM {{.BuilderImage}}\nRUN echo {{.Nope}}\n")
			commitAll(t, dir)
		}, env: envs("MAGESHIP_TEMPLATE=my.tmpl"), args: []string{"image"}, want: `map has no entry for key "Nope"`},
		{name: "syntax error in a user template", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "my.tmpl"), "FROM {{.BuilderImage\n")
			commitAll(t, dir)
		}, env: envs("MAGESHIP_TEMPLATE=my.tmpl"), args: []string{"image"}, want: "parsing Dockerfile template"},
		{name: "missing user template", env: envs("MAGESHIP_TEMPLATE=nope.tmpl"), args: []string{"image"}, want: "reading your Dockerfile template"},
		{name: "no Docker engine", env: envs("DOCKER_HOST=unix:///tmp/mageship-no-engine.sock"), args: []string{"image"}, want: "cannot reach the Docker engine at unix:///tmp/mageship-no-engine.sock"},
		{name: "no buildx", env: envs("DOCKER_CONFIG="+emptyDockerConfig, "MAGESHIP_ASSEMBLE=buildx"), args: []string{"image"}, want: "buildx plugin not found"},
		{name: "named builder missing", env: envs("BUILDX_BUILDER=mageship-nope", "MAGESHIP_ASSEMBLE=buildx"), args: []string{"image"}, want: `buildx builder "mageship-nope" not found`},
		{name: "registry unreachable", env: func(string) []string { return []string{"MAGESHIP_IMAGE=127.0.0.1:5009/bad/hello"} }, args: []string{"release"}, want: "cannot reach registry 127.0.0.1:5009"},
		{name: "registry answering 401", env: func(string) []string {
			return []string{"MAGESHIP_IMAGE=" + vars["MAGESHIP_RIG_AUTH_REGISTRY"] + "/bad/hello"}
		}, args: []string{"release"}, want: "run docker login " + vars["MAGESHIP_RIG_AUTH_REGISTRY"]},
		{name: "registry answering 500 throughout", env: func(string) []string { return []string{"MAGESHIP_IMAGE=" + faulty.Addr + "/bad/hello"} }, args: []string{"release"}, want: "answered 500 Internal Server Error 4 times"},
		{name: "release on a dirty tree", setup: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "scratch.txt"), "x") }, env: envs(), args: []string{"release"}, want: "work tree has uncommitted changes: commit or stash them, or set MAGESHIP_ALLOW_DIRTY=1"},
		{name: "not a git repository", setup: func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, ".git")) }, env: envs(), args: []string{"release"}, want: "is not a git repository: run git init, or set VERSION"},
		{name: "no git binary", env: envs("PATH=" + noGit), args: []string{"release"}, want: "git not found on PATH: install git, or set VERSION"},
		{name: "unreadable .dockerignore", setup: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, ".dockerignore"), 0o755)
		}, env: envs("MAGESHIP_ALLOW_DIRTY=1", "MAGESHIP_BUILD=container"), args: []string{"image"}, want: ".dockerignore: is a directory: fix its permissions or remove it"},
		{name: "secret in the build context", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, ".dockerignore"), "dist/\n")
			write(t, filepath.Join(dir, ".env"), "DB_PASSWORD=hunter2\n")
			commitAll(t, dir)
		}, env: envs("MAGESHIP_BUILD=container"), args: []string{"image"}, want: "would send secrets (.env)"},
		{name: "unknown build path", env: envs("MAGESHIP_BUILD=qemu"), args: []string{"image"}, want: `unknown build path "qemu" (from MAGESHIP_BUILD or Config.Build)`},
		{name: "missing base image", env: envs("MAGESHIP_DEBUG_IMAGE=" + reg + "/library/nope:1"), args: []string{"image:debug"}, want: "image " + reg + "/library/nope:1 does not exist"},
		{name: "invalid platform for release:platform", env: envs(), args: []string{"release:platform", "linux/amd65"}, want: `unsupported platform "linux/amd65"`},
		{name: "unknown attestation mode", env: envs("MAGESHIP_ATTESTATIONS=yes"), args: []string{"release"}, want: "MAGESHIP_ATTESTATIONS=yes: use provenance, all, or leave it unset for none"},
		{name: "release:merge without digests", env: envs(), args: []string{"release:merge"}, want: "run mage release:platform linux/amd64"},
		{name: "duplicate image names in config", example: "multi", mage: "go", setup: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "magefiles", "magefile.go")
			b, _ := os.ReadFile(p)
			s := strings.Replace(string(b), `{Main: "./cmd/api",`, `{Name: "same", Main: "./cmd/api",`, 1)
			s = strings.Replace(s, `{Main: "./cmd/worker",`, `{Name: "same", Main: "./cmd/worker",`, 1)
			write(t, p, s)
			commitAll(t, dir)
		}, env: func(string) []string { return nil }, args: []string{"image"}, want: `images 1 and 2 are both named "same": give each image its own Name`},
	}

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex := tc.example
			if ex == "" {
				ex = "hello"
			}
			dir := rigtest.Example(t, ex)
			rigtest.Git(t, dir, "tag", "v0.0.1")
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			repo := fmt.Sprintf("%s/bad/case-%d-%d", reg, i, time.Now().UnixNano())
			env := rigtest.Environ(vars, tc.env(repo)...)
			var out string
			var err error
			if tc.mage == "go" {
				out, err = rigtest.Try(dir, env, "go", append([]string{"tool", "mage"}, tc.args...)...)
			} else {
				out, err = rigtest.Try(dir, env, bins[ex], tc.args...)
			}
			line := errorLine(out)
			if err == nil {
				t.Fatalf("mage %s succeeded; want an error with %q:\n%s", strings.Join(tc.args, " "), tc.want, testfix.TailLines(out, 15))
			}
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
				t.Errorf("mage exited with %v, want a non-zero exit code", err)
			}
			if !strings.Contains(line, tc.want) {
				t.Errorf("error line %q does not contain %q; output:\n%s", line, tc.want, testfix.TailLines(out, 15))
			}
			if goRunExit.MatchString(out) {
				t.Errorf("mage printed an exit status line besides its Error: line:\n%s", testfix.TailLines(out, 15))
			}
			if strings.Contains(out, "hunter2") {
				t.Error("the output shows the secret's value")
			}
			t.Logf("%s", line)
			if tags, err := listTags(t, repo); err == nil && len(tags) > 0 {
				t.Errorf("%s got tags %v", repo, tags)
			}
			if out := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "image", "ls", "-q", repo); strings.TrimSpace(out) != "" {
				t.Errorf("a local image %s was created", repo)
			}
		})
	}
	t.Logf("%d bad inputs checked", len(cases))
}

// listTags lists a repository's tags; a repository that does not exist has none.
func listTags(t *testing.T, repo string) ([]string, error) {
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(r, remote.WithContext(t.Context()))
	if err != nil && strings.Contains(err.Error(), "NAME_UNKNOWN") {
		return nil, nil
	}
	return tags, err
}

// TestInterruptedRelease sends Ctrl-C to a release mid-build: mage exits non-zero,
// the buildx child stops, and no tag is written.
func TestInterruptedRelease(t *testing.T) {
	for _, build := range buildPaths {
		t.Run(build, func(t *testing.T) { testInterruptedRelease(t, build) })
	}
}

// testInterruptedRelease interrupts a release while it compiles: in go build on the
// host, or in BuildKit's go build step.
func testInterruptedRelease(t *testing.T, build string) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.4.0")
	bin := filepath.Join(t.TempDir(), "mage-hello")
	rigtest.Run(t, dir, nil, "go", "tool", "mage", "-compile", bin)
	// A source change nobody has built, so the build is still running when interrupted.
	write(t, filepath.Join(dir, "cmd", "hello", "extra.go"), fmt.Sprintf("package main\n\nconst buildStamp = %q\n", time.Now().String()))
	commitAll(t, dir)
	rigtest.Git(t, dir, "tag", "v0.4.1")
	repo := fmt.Sprintf("%s/it/interrupt-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())

	cmd := exec.Command(bin, "release")
	cmd.Dir = dir
	// An empty GOCACHE: the compile, wherever it runs, takes long enough to interrupt.
	cmd.Env = rigtest.Environ(vars, "MAGESHIP_IMAGE="+repo, "MAGESHIP_BUILD="+build, "GOCACHE="+t.TempDir())
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := map[string]string{"host": "mageship: compile linux/", "container": "mageship: assemble"}[build]
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), started) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), started) {
		cmd.Process.Kill()
		t.Fatalf("the build never reached %q:\n%s", started, testfix.TailLines(out.String(), 20))
	}
	time.Sleep(time.Second) // well inside the compile
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("release finished despite Ctrl-C:\n%s", testfix.TailLines(out.String(), 20))
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("release did not stop within 30 s of Ctrl-C:\n%s", testfix.TailLines(out.String(), 20))
	}
	// Every child of a release (go build, buildx) names the release's own temporary
	// directory, mageship-release-*, and this release's version, 0.4.1 (in -X or
	// --build-arg VERSION=): another release running on the machine is not ours.
	time.Sleep(time.Second)
	ps, _ := exec.Command("ps", "-eo", "args").Output()
	for _, l := range strings.Split(string(ps), "\n") {
		if strings.Contains(l, "mageship-release-") && strings.Contains(l, "0.4.1") {
			t.Errorf("a child of the release is still running after Ctrl-C: %s", l)
		}
	}
	if tags, err := listTags(t, repo); err == nil && len(tags) > 0 {
		t.Errorf("%s got tags %v after an interrupted release", repo, tags)
	}
	t.Logf("interrupted: %s", errorLine(out.String()))
}
