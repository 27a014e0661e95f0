package buildx

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mageship/mageship/engine/internal/platform"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var (
	amd64 = platform.Platform{OS: "linux", Arch: "amd64"}
	arm64 = platform.Platform{OS: "linux", Arch: "arm64"}
	armv7 = platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"}
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/buildx -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), run with -update if the change is intended:\n%s", path, diff)
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build Build
	}{
		{
			// platform.Host() on amd64; fixed so the golden file is the same on every machine.
			name: "load_host",
			build: Build{
				Context:      ".",
				Dockerfile:   "Dockerfile",
				Platforms:    []platform.Platform{amd64},
				Tags:         []string{"hello:dev"},
				Output:       Output{Kind: OutputLoad},
				MetadataFile: "dist/buildx/load.json",
			},
		},
		{
			// The container path's load on a docker-driver builder with containerd's
			// image store (Docker Engine 29): rewritten times, no unpacking.
			name: "load_rewrite_no_unpack",
			build: Build{
				Context:          ".",
				Dockerfile:       "Dockerfile",
				Platforms:        []platform.Platform{amd64},
				Tags:             []string{"hello:dev"},
				Output:           Output{Kind: OutputLoad, NoUnpack: true},
				SourceDateEpoch:  "1700000000",
				RewriteTimestamp: true,
				MetadataFile:     "dist/buildx/load.json",
			},
		},
		{
			name: "push_by_digest_multi_platform",
			build: Build{
				Builder:      "mageship",
				Context:      ".",
				Dockerfile:   "dist/Dockerfile",
				Target:       "release",
				Platforms:    []platform.Platform{amd64, arm64, armv7},
				Output:       Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello"},
				MetadataFile: "dist/buildx/push.json",
			},
		},
		{
			name: "push_by_digest",
			build: Build{
				Builder:      "ci-remote",
				Context:      ".",
				Dockerfile:   "dist/Dockerfile",
				Platforms:    []platform.Platform{arm64},
				Output:       Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello"},
				MetadataFile: "dist/buildx/linux_arm64.json",
			},
		},
		{
			name: "secrets_and_build_args",
			build: Build{
				Context:    "services/api",
				Dockerfile: "services/api/Dockerfile",
				Platforms:  []platform.Platform{arm64},
				Tags:       []string{"api:dev"},
				BuildArgs: map[string]string{
					"VERSION":     "1.4.0",
					"GO_LDFLAGS":  "-s -w -X main.version=1.4.0",
					"CGO_ENABLED": "0",
				},
				Secrets: []Secret{
					{ID: "netrc", Src: "/home/ci/.netrc"},
					{ID: "goproxy_token", Env: "GOPROXY_TOKEN"},
				},
				Output:       Output{Kind: OutputLoad},
				MetadataFile: "dist/buildx/api.json",
			},
		},
		{
			name: "cache_from_to",
			build: Build{
				Context:    ".",
				Dockerfile: "Dockerfile",
				Platforms:  []platform.Platform{amd64, arm64},
				CacheFrom: []string{
					"type=registry,ref=ghcr.io/acme/hello:buildcache",
					"type=gha,scope=hello",
				},
				CacheTo: []string{
					"type=registry,ref=ghcr.io/acme/hello:buildcache,mode=max",
				},
				Output:       Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello"},
				MetadataFile: "dist/buildx/push.json",
			},
		},
		{
			name: "attestations",
			build: Build{
				Context:      ".",
				Dockerfile:   "Dockerfile",
				Platforms:    []platform.Platform{amd64, arm64},
				Provenance:   true,
				SBOM:         true,
				Progress:     "rawjson",
				Output:       Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello"},
				MetadataFile: "dist/buildx/push.json",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, err := tc.build.Args()
			if err != nil {
				t.Fatalf("Args: %v", err)
			}
			if args[0] != "buildx" || args[1] != "build" {
				t.Errorf("args start with %q, want buildx build", args[:2])
			}
			if last := args[len(args)-1]; last != tc.build.Context {
				t.Errorf("last argument is %q, want the context %q", last, tc.build.Context)
			}
			golden(t, "args_"+tc.name+".golden", strings.Join(args, "\n")+"\n")
		})
	}
}

func TestArgsErrors(t *testing.T) {
	valid := Build{Context: ".", Dockerfile: "Dockerfile", MetadataFile: "m.json", Output: Output{Kind: OutputLoad}}
	with := func(f func(*Build)) Build {
		b := valid
		f(&b)
		return b
	}
	for _, tc := range []struct {
		name    string
		build   Build
		wantErr string
	}{
		{"no context", with(func(b *Build) { b.Context = "" }), "needs a context directory: set Build.Context"},
		{"stdin context", with(func(b *Build) { b.Context = "-" }), `from stdin ("-") is not supported`},
		{"dash context", with(func(b *Build) { b.Context = "-ctx" }), "write it as ./-ctx"},
		{"no dockerfile", with(func(b *Build) { b.Dockerfile = "" }), "needs a Dockerfile: set Build.Dockerfile"},
		{"no metadata file", with(func(b *Build) { b.MetadataFile = "" }), "needs a metadata file: set Build.MetadataFile"},
		{"bad progress", with(func(b *Build) { b.Progress = "fancy" }), `unknown buildx progress mode "fancy"`},
		{"empty platform", with(func(b *Build) { b.Platforms = []platform.Platform{{OS: "linux"}} }), "no OS or architecture"},
		{
			"load several platforms",
			with(func(b *Build) {
				b.Output = Output{Kind: OutputLoad}
				b.Platforms = []platform.Platform{amd64, arm64}
			}),
			"--load takes one platform; use release to push several (got linux/amd64,linux/arm64)",
		},
		{"push by digest without repository", with(func(b *Build) { b.Output = Output{Kind: OutputPushByDigest} }), "push-by-digest needs a repository name"},
		{
			"push by digest with tags",
			with(func(b *Build) {
				b.Output = Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello"}
				b.Tags = []string{"ghcr.io/acme/hello:1.4.0"}
			}),
			"push-by-digest pushes no tags, but 1 are given",
		},
		{
			"push by digest repository with tag",
			with(func(b *Build) { b.Output = Output{Kind: OutputPushByDigest, Repository: "localhost:5000/hello:1.4.0"} }),
			"has a tag or digest: give the bare repository",
		},
		{
			"push by digest repository with digest",
			with(func(b *Build) {
				b.Output = Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello@sha256:" + strings.Repeat("a", 64)}
			}),
			"has a tag or digest",
		},
		{
			"push by digest upper-case repository",
			with(func(b *Build) { b.Output = Output{Kind: OutputPushByDigest, Repository: "ghcr.io/Acme/hello"} }),
			"upper-case",
		},
		{
			"push by digest repository with comma",
			with(func(b *Build) {
				b.Output = Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello,push=false"}
			}),
			"invalid push-by-digest repository",
		},
		{
			"repository without push by digest",
			with(func(b *Build) {
				b.Output = Output{Kind: OutputLoad, Repository: "ghcr.io/acme/hello"}
				b.Tags = []string{"ghcr.io/acme/hello:1"}
			}),
			"only push-by-digest uses it",
		},
		{"no output", with(func(b *Build) { b.Output = Output{} }), "needs an output: set Build.Output"},
		{"unknown output", with(func(b *Build) { b.Output = Output{Kind: OutputKind(9)} }), "unknown output kind 9"},
		{
			"tag with comma",
			with(func(b *Build) { b.Tags = []string{"a:1,b:2"} }),
			`invalid tag "a:1,b:2"`,
		},
		{"empty build arg name", with(func(b *Build) { b.BuildArgs = map[string]string{"": "x"} }), `invalid build arg name ""`},
		{"build context name with =", with(func(b *Build) { b.Contexts = map[string]string{"a=b": "x"} }), `invalid build context name "a=b"`},
		{"secret without id", with(func(b *Build) { b.Secrets = []Secret{{Src: "f"}} }), "secret has no id"},
		{"secret with src and env", with(func(b *Build) { b.Secrets = []Secret{{ID: "s", Src: "f", Env: "E"}} }), `secret "s" needs exactly one of Src`},
		{"secret with neither", with(func(b *Build) { b.Secrets = []Secret{{ID: "s"}} }), `secret "s" needs exactly one of Src`},
		{"secret with comma", with(func(b *Build) { b.Secrets = []Secret{{ID: "s", Src: "a,b"}} }), "which buildx would split"},
		{"secret bad env", with(func(b *Build) { b.Secrets = []Secret{{ID: "s", Env: "NOT-A-VAR"}} }), "not a valid variable name"},
		{"duplicate secret", with(func(b *Build) { b.Secrets = []Secret{{ID: "s", Src: "f"}, {ID: "s", Env: "E"}} }), `secret id "s" is listed twice`},
		{"empty cache", with(func(b *Build) { b.CacheTo = []string{" "} }), "empty cache source or destination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, err := tc.build.Args()
			if err == nil {
				t.Fatalf("Args() = %q, want error containing %q", args, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Args() error = %q, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Args() error %q is not one line", err)
			}
		})
	}
}

// call records one run of a fake Exec.
type call struct {
	name string
	args []string
	env  []string
}

// fakeExec records what would run, prints stderr and, unless err is set,
// copies the fixture to the --metadata-file path like buildx does.
func fakeExec(calls *[]call, stderr, fixture string, err error) Exec {
	return func(ctx context.Context, name string, args, env []string, stdout, errw io.Writer) error {
		*calls = append(*calls, call{name, args, env})
		io.WriteString(errw, stderr)
		if err != nil {
			return err
		}
		if fixture == "" {
			return nil
		}
		i := slices.Index(args, "--metadata-file")
		data, rerr := os.ReadFile(filepath.Join("testdata", fixture))
		if rerr != nil {
			return rerr
		}
		return os.WriteFile(args[i+1], data, 0o644)
	}
}

func pushBuild(t *testing.T) Build {
	return Build{
		Context:      ".",
		Dockerfile:   "Dockerfile",
		Platforms:    []platform.Platform{amd64, arm64},
		Output:       Output{Kind: OutputPushByDigest, Repository: "ghcr.io/acme/hello"},
		MetadataFile: filepath.Join(t.TempDir(), "out", "metadata.json"),
	}
}

func TestRun(t *testing.T) {
	t.Setenv("BUILDX_BUILDER", "from-env")
	b := pushBuild(t)
	var calls []call
	var stderr strings.Builder
	m, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "#1 [internal] load build definition from Dockerfile\n", "metadata_push_index.json", nil)), WithStderr(&stderr), WithStdout(io.Discard))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m.Digest != "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6" || !m.Descriptor.IsIndex() {
		t.Errorf("Run returned %+v, want the index from metadata_push_index.json", m)
	}
	if len(calls) != 1 {
		t.Fatalf("ran %d commands, want 1", len(calls))
	}
	wantArgs, _ := b.Args()
	if calls[0].name != "docker" {
		t.Errorf("ran %q, want docker", calls[0].name)
	}
	if diff := cmp.Diff(wantArgs, calls[0].args); diff != "" {
		t.Errorf("args mismatch (-want +got):\n%s", diff)
	}
	env := calls[0].env
	if !slices.Contains(env, "BUILDX_BUILDER=from-env") {
		t.Errorf("BUILDX_BUILDER did not pass through: env has %d entries", len(env))
	}
	env2 := []string{"PATH=/usr/bin", "SOURCE_DATE_EPOCH=1700000000"}
	calls = nil
	if _, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "", "metadata_push_index.json", nil)), WithEnv(env2), WithStderr(io.Discard)); err != nil {
		t.Fatalf("Run WithEnv: %v", err)
	}
	if diff := cmp.Diff(env2, calls[0].env); diff != "" {
		t.Errorf("WithEnv is not the process's environment (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr.String(), "load build definition") {
		t.Errorf("stderr not streamed to WithStderr writer: %q", stderr.String())
	}
}

func TestRunRemovesStaleMetadata(t *testing.T) {
	b := pushBuild(t)
	os.MkdirAll(filepath.Dir(b.MetadataFile), 0o755)
	if err := os.WriteFile(b.MetadataFile, []byte(`{"containerimage.digest":"sha256:`+strings.Repeat("0", 64)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var calls []call
	_, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "", "", nil)), WithStderr(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Run with a stale metadata file and a build that wrote none: err = %v, want it to say the file does not exist", err)
	}
}

func TestRunNoDigest(t *testing.T) {
	b := pushBuild(t)
	var calls []call
	_, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "", "metadata_cacheonly.json", nil)), WithStderr(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "wrote no containerimage.digest") {
		t.Fatalf("err = %v, want one about the missing digest", err)
	}
}

func TestRunFailure(t *testing.T) {
	var lines []string
	for i := 1; i <= 80; i++ {
		lines = append(lines, fmt.Sprintf("#%d step %d", i, i))
	}
	lines = append(lines, `ERROR: failed to build: failed to solve: process "/bin/sh -c go build ./..." did not complete successfully: exit code: 1`)
	exitErr := errors.New("exit status 1")
	b := pushBuild(t)
	b.Target = "release"
	var calls []call
	_, err := Run(t.Context(), b, WithExec(fakeExec(&calls, strings.Join(lines, "\n")+"\n", "", exitErr)), WithStderr(io.Discard))
	if err == nil {
		t.Fatal("Run succeeded, want the exit error")
	}
	if !errors.Is(err, exitErr) {
		t.Errorf("error does not wrap the exit error: %v", err)
	}
	msg := err.Error()
	wantStart := "buildx build of Dockerfile (target release) for linux/amd64,linux/arm64 failed: exit status 1:\n"
	if !strings.HasPrefix(msg, wantStart) {
		t.Errorf("error = %q, want it to start with %q", msg, wantStart)
	}
	got := strings.Split(strings.TrimPrefix(msg, wantStart), "\n")
	if diff := cmp.Diff(lines[len(lines)-stderrLines:], got); diff != "" {
		t.Errorf("error does not end with the last %d stderr lines (-want +got):\n%s", stderrLines, diff)
	}
}

func TestRunBuilderNotFound(t *testing.T) {
	b := pushBuild(t)
	b.Builder = "nosuch"
	var calls []call
	_, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "ERROR: no builder \"nosuch\" found\n", "", errors.New("exit status 1"))), WithStderr(io.Discard))
	var nf *BuilderNotFoundError
	if !errors.As(err, &nf) || nf.Name != "nosuch" {
		t.Fatalf("err = %v, want a BuilderNotFoundError for nosuch", err)
	}
	if !strings.Contains(err.Error(), `buildx builder "nosuch" not found: create it with docker buildx create --name nosuch, or unset BUILDX_BUILDER`) {
		t.Errorf("err = %q", err)
	}
}

func TestRunMissingSecretEnv(t *testing.T) {
	b := pushBuild(t)
	b.Secrets = []Secret{{ID: "token", Env: "MAGESHIP_TEST_UNSET_TOKEN"}}
	var calls []call
	_, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "", "metadata_push_index.json", nil)))
	if err == nil || !strings.Contains(err.Error(), "$MAGESHIP_TEST_UNSET_TOKEN, which is not set") {
		t.Fatalf("err = %v, want one about the unset variable", err)
	}
	if len(calls) != 0 {
		t.Errorf("docker ran although a secret is missing")
	}
	if _, err := Run(t.Context(), b, WithExec(fakeExec(&calls, "", "metadata_push_index.json", nil)), WithEnv([]string{"MAGESHIP_TEST_UNSET_TOKEN=t"})); err != nil {
		t.Errorf("Run with the secret's variable in WithEnv: %v", err)
	}
}

func TestRunInvalidBuildRunsNothing(t *testing.T) {
	var calls []call
	_, err := Run(t.Context(), Build{Context: "."}, WithExec(fakeExec(&calls, "", "", nil)))
	if err == nil || len(calls) != 0 {
		t.Errorf("Run of an invalid build: err = %v, %d commands run; want an error and none", err, len(calls))
	}
}

// fakeDocker puts a shell script named docker first on PATH.
func fakeDocker(t *testing.T, script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake docker is a shell script")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestRunProcess(t *testing.T) {
	fixture, err := filepath.Abs("testdata/metadata_push_index.json")
	if err != nil {
		t.Fatal(err)
	}
	// Like buildx: progress on stderr, the metadata file written at the end.
	fakeDocker(t, `
echo "#0 building with \"$BUILDX_BUILDER\" instance" >&2
while [ $# -gt 1 ]; do
  if [ "$1" = --metadata-file ]; then out=$2; fi
  shift
done
cp "`+fixture+`" "$out"
`)
	t.Setenv("BUILDX_BUILDER", "ci")
	var stderr strings.Builder
	m, err := Run(t.Context(), pushBuild(t), WithStderr(&stderr))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !m.Descriptor.IsIndex() {
		t.Errorf("metadata = %+v, want the index", m)
	}
	if got := stderr.String(); got != "#0 building with \"ci\" instance\n" {
		t.Errorf("stderr = %q", got)
	}
}

func TestRunProcessExit(t *testing.T) {
	fakeDocker(t, `echo "ERROR: failed to build: failed to solve: failed to read dockerfile" >&2; exit 1`)
	_, err := Run(t.Context(), pushBuild(t), WithStderr(io.Discard))
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("err = %v, want it to wrap the exit status 1", err)
	}
	if !strings.HasSuffix(err.Error(), "failed: exit status 1:\nERROR: failed to build: failed to solve: failed to read dockerfile") {
		t.Errorf("err = %q", err)
	}
}

func TestRunProcessCancel(t *testing.T) {
	// buildx answers SIGINT by cancelling its BuildKit session and exiting.
	fakeDocker(t, `
trap 'echo "interrupted, cancelling session" >&2; exit 130' INT
echo started >&2
while :; do sleep 0.05; done
`)
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := Run(ctx, pushBuild(t), WithStderr(pw))
		pw.Close()
		done <- err
	}()
	buf := make([]byte, len("started\n"))
	if _, err := io.ReadFull(pr, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	rest, _ := io.ReadAll(pr)
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	if !strings.Contains(string(rest), "interrupted, cancelling session") {
		t.Errorf("docker was not sent SIGINT first: stderr after cancel = %q", rest)
	}
	if d := time.Since(start); d >= waitDelay {
		t.Errorf("Run took %v to stop, want well under the %v kill delay", d, waitDelay)
	}
}

func TestRunDockerNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Run(t.Context(), pushBuild(t), WithStderr(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "docker CLI not found on PATH: install Docker and the buildx plugin") {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("err does not wrap exec.ErrNotFound: %v", err)
	}
}
