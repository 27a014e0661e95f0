package gobuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/platform"
)

// call is one command a fake Exec was asked to run.
type call struct {
	Dir  string
	Env  []string
	Name string
	Args []string
}

func TestRunCommand(t *testing.T) {
	var got call
	fake := func(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
		got = call{Dir: dir, Env: env, Name: name, Args: args}
		return []byte("cmd/hello/main.go:3:1: syntax error\n"), errors.New("exit status 1")
	}
	b := Build{Dir: "/src/hello", Main: "./cmd/hello", Output: "dist/linux_arm64/hello", Platform: arm64,
		VersionVar: "main.version", Version: "v1.2.3"}
	err := Run(t.Context(), b, WithExec(fake), WithEnv([]string{"HOME=/home/me", "CGO_ENABLED=1", "GOFLAGS=-buildvcs=false"}))

	want := call{
		Dir:  "/src/hello",
		Env:  []string{"HOME=/home/me", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"},
		Name: "go",
		Args: []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version=v1.2.3", "-o", "dist/linux_arm64/hello", "./cmd/hello"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	for _, s := range []string{"go build ./cmd/hello for linux/arm64", "exit status 1", "syntax error"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("Run error = %v, want one containing %q", err, s)
		}
	}
}

func TestRunChecksOutput(t *testing.T) {
	dir := t.TempDir()
	fake := func(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
		// Write a shell script where the binary should be.
		out := filepath.Join(dir, args[len(args)-2])
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, err
		}
		return nil, os.WriteFile(out, []byte("#!/bin/sh\n"), 0o755)
	}
	err := Run(t.Context(), Build{Dir: dir, Main: ".", Output: "out/hello", Platform: amd64}, WithExec(fake))
	if err == nil || !strings.Contains(err.Error(), "not an ELF binary") {
		t.Errorf("Run error = %v, want one containing %q", err, "not an ELF binary")
	}
}

func TestRunInvalid(t *testing.T) {
	called := false
	fake := func(context.Context, string, []string, string, ...string) ([]byte, error) {
		called = true
		return nil, nil
	}
	err := Run(t.Context(), Build{Main: ".", Output: "out", Platform: amd64, VersionVar: "main.version", Version: "1 2"}, WithExec(fake))
	if err == nil || called {
		t.Errorf("Run of an invalid build: err = %v, go command run = %v", err, called)
	}
	if err := Run(t.Context(), Build{Main: ".", Output: "out", Platform: amd64}, WithExec(nil)); err == nil || !strings.Contains(err.Error(), "WithExec(nil)") {
		t.Errorf("Run with WithExec(nil): err = %v", err)
	}
}

func TestAllStopsOnFirstError(t *testing.T) {
	var (
		mu      sync.Mutex
		started []string
		stopped []string
	)
	fake := func(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
		main := args[len(args)-1]
		mu.Lock()
		started = append(started, main)
		mu.Unlock()
		if main == "./bad" {
			return []byte("bad/main.go:1:1: expected 'package'"), errors.New("exit status 1")
		}
		select {
		case <-ctx.Done():
			mu.Lock()
			stopped = append(stopped, main)
			mu.Unlock()
			return nil, errors.New("signal: killed")
		case <-time.After(30 * time.Second):
			return nil, errors.New("not stopped")
		}
	}
	builds := []Build{{Main: "./bad", Output: "bad", Platform: amd64}}
	for i := range 2 * runtime.NumCPU() {
		builds = append(builds, Build{Main: "./slow", Output: "slow" + string(rune('a'+i)), Platform: amd64})
	}
	start := time.Now()
	err := All(t.Context(), builds, WithExec(fake))
	if err == nil || !strings.Contains(err.Error(), "go build ./bad") || !strings.Contains(err.Error(), "expected 'package'") {
		t.Errorf("All error = %v, want the error of ./bad", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("All took %v: the other builds were not stopped", d)
	}
	if len(started) > runtime.NumCPU() {
		t.Errorf("%d builds started, want at most runtime.NumCPU() = %d: %q", len(started), runtime.NumCPU(), started)
	}
	if len(stopped) != len(started)-1 {
		t.Errorf("started %q, stopped %q: every slow build that started should be stopped", started, stopped)
	}
}

func TestAllRunsEach(t *testing.T) {
	var (
		mu  sync.Mutex
		got = map[string][]string{}
	)
	fake := func(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		got[args[len(args)-2]] = env
		return nil, nil
	}
	// Not linux, so Run does not look for an ELF binary the fake did not write.
	p := platform.Platform{OS: "freebsd", Arch: "amd64"}
	q := platform.Platform{OS: "freebsd", Arch: "arm64"}
	builds := []Build{{Main: ".", Output: "a", Platform: p}, {Main: ".", Output: "b", Platform: q}}
	if err := All(t.Context(), builds, WithExec(fake), WithEnv([]string{})); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"a": {"CGO_ENABLED=0", "GOOS=freebsd", "GOARCH=amd64"},
		"b": {"CGO_ENABLED=0", "GOOS=freebsd", "GOARCH=arm64"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("envs by output (-want +got):\n%s", diff)
	}
}

func TestAllRejects(t *testing.T) {
	fake := func(context.Context, string, []string, string, ...string) ([]byte, error) {
		t.Error("a build ran")
		return nil, nil
	}
	same := []Build{{Dir: "/m", Main: ".", Output: "dist/hello", Platform: amd64}, {Dir: "/m", Main: ".", Output: "/m/dist/hello", Platform: arm64}}
	if err := All(t.Context(), same, WithExec(fake)); err == nil || !strings.Contains(err.Error(), "both write /m/dist/hello") {
		t.Errorf("All with one output twice: err = %v", err)
	}
	invalid := []Build{{Main: ".", Output: "a", Platform: amd64}, {Main: ".", Platform: amd64}}
	if err := All(t.Context(), invalid, WithExec(fake)); err == nil || !strings.Contains(err.Error(), "Output is empty") {
		t.Errorf("All with an invalid build: err = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := All(ctx, []Build{{Main: ".", Output: "a", Platform: amd64}}, WithExec(fake)); !errors.Is(err, context.Canceled) {
		t.Errorf("All with a canceled context: err = %v, want context.Canceled", err)
	}
}

// writeModule writes files (slash-separated path -> content) under a new module example.com/m.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRunReal(t *testing.T) {
	const version = "v9.0.0-mageship-test"
	dir := writeModule(t, map[string]string{
		"cmd/hello/main.go": "package main\n\nvar version = \"dev\"\n\nfunc main() { println(version) }\n",
	})
	host := platform.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH}
	if host.Arch == "arm" {
		host.Variant = "v7"
	}
	builds := []Build{
		{Dir: dir, Main: "./cmd/hello", Output: "dist/linux_arm64/hello", Platform: arm64, VersionVar: "main.version", Version: version},
		{Dir: dir, Main: "./cmd/hello", Output: "dist/host/hello", Platform: host, VersionVar: "main.version", Version: version},
	}
	if err := All(t.Context(), builds); err != nil {
		t.Fatal(err)
	}

	arm := filepath.Join(dir, "dist", "linux_arm64", "hello")
	if err := binary.CheckFile(arm, arm64); err != nil {
		t.Errorf("linux/arm64 binary: %v", err)
	}
	data, err := os.ReadFile(arm)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(version)) {
		t.Errorf("linux/arm64 binary does not contain the version %q set with -X", version)
	}

	out, err := exec.CommandContext(t.Context(), filepath.Join(dir, "dist", "host", "hello")).CombinedOutput()
	if err != nil {
		t.Fatalf("run the host binary: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != version {
		t.Errorf("host binary printed %q, want %q", got, version)
	}
}

func TestRunRealCgo(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"cmd/direct/main.go": "package main\n\n// int two(void) { return 2; }\nimport \"C\"\n\nfunc main() { println(C.two()) }\n",
		"cmd/dep/main.go":    "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.Two()) }\n",
		"lib/two.go":         "package lib\n\n// int two(void) { return 2; }\nimport \"C\"\n\nfunc Two() int { return int(C.two()) }\n",
	})
	for _, tc := range []struct {
		main string
		want []string
	}{
		{main: "./cmd/direct", want: []string{"cmd/direct needs cgo (main.go imports \"C\")", "CGO_ENABLED=0", "build constraints exclude"}},
		{main: "./cmd/dep", want: []string{"lib needs cgo (two.go imports \"C\")", "CGO_ENABLED=0"}},
	} {
		t.Run(tc.main, func(t *testing.T) {
			b := Build{Dir: dir, Main: tc.main, Output: "out", Platform: platform.Host()}
			err := Run(t.Context(), b, WithEnv(append(os.Environ(), "CGO_ENABLED=1")))
			if err == nil {
				t.Fatal("Run of a cgo package: no error")
			}
			t.Log(err)
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Run error does not contain %q:\n%v", s, err)
				}
			}
		})
	}
}
