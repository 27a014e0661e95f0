package launch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLocateIn: which engine the targets run, from the magefile binary's build info.
func TestLocateIn(t *testing.T) {
	repo := t.TempDir() // a checkout of mageship: has engine/go.mod
	if err := os.MkdirAll(filepath.Join(repo, "engine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "engine", "go.mod"), []byte("module "+EngineModule+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	service := filepath.Join(repo, "examples", "hello")
	modDir := func() (string, error) { return service, nil }
	dep := func(m debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"}, Deps: []*debug.Module{{Path: "github.com/google/uuid", Version: "v1.6.0"}, &m}}
	}
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		want    source
		wantErr string
	}{
		{name: "published version", bi: dep(debug.Module{Path: Module, Version: "v1.4.0"}), want: source{path: Module, version: "v1.4.0"}},
		{name: "replaced by a relative directory", bi: dep(debug.Module{Path: Module, Version: "v0.0.0", Replace: &debug.Module{Path: "../.."}}), want: source{dir: repo}},
		{name: "replaced by an absolute directory", bi: dep(debug.Module{Path: Module, Version: "v0.0.0", Replace: &debug.Module{Path: repo}}), want: source{dir: repo}},
		{name: "replaced by a fork", bi: dep(debug.Module{Path: Module, Version: "v1.4.0", Replace: &debug.Module{Path: "example.com/fork/mageship", Version: "v1.4.1"}}), want: source{path: "example.com/fork/mageship", version: "v1.4.1"}},
		{name: "a module that is neither mageship nor has it in engine/", bi: &debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"}}, wantErr: service + " has no engine/go.mod"},
		{name: "not a dependency", bi: &debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"}}, wantErr: "the magefile does not depend on " + Module + "; run go get " + Module},
		{name: "replaced by a directory without the engine", bi: dep(debug.Module{Path: Module, Replace: &debug.Module{Path: "/nowhere"}}), wantErr: "/nowhere has no engine/go.mod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := locateIn(tc.bi, modDir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("locateIn = %+v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("locateIn = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	// This repository's own magefile: the engine is the module's own engine/.
	got, err := locateIn(&debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"}}, func() (string, error) { return repo, nil })
	if err != nil || got != (source{dir: repo}) {
		t.Errorf("locateIn for mageship's own magefile = %+v, %v", got, err)
	}
	// A module directory that cannot be found is the error.
	_, err = locateIn(dep(debug.Module{Path: Module, Replace: &debug.Module{Path: "../.."}}), func() (string, error) { return "", errors.New("no go.mod") })
	if err == nil || err.Error() != "no go.mod" {
		t.Errorf("locateIn without a go.mod = %v", err)
	}
}

// TestBuildCommand: the go command that builds the engine, and the settings it runs without.
func TestBuildCommand(t *testing.T) {
	env := []string{"HOME=/root", "GOFLAGS=-mod=vendor", "GOWORK=/src/go.work", "GOOS=windows", "GOARCH=arm64", "CGO_ENABLED=1", "GOBIN=/go/bin", "GOPROXY=https://proxy.example.com"}
	for _, tc := range []struct {
		name     string
		src      source
		args     []string
		dir, bin string // bin: GOBIN
	}{
		{name: "published version", src: source{path: Module, version: "v1.4.0"},
			args: []string{"go", "install", "-trimpath", "-ldflags=-s -w", Module + "/engine/cmd/mageship@v1.4.0"}, dir: "/cache/x", bin: "/cache/x"},
		{name: "fork", src: source{path: "example.com/fork/mageship", version: "v1.4.1"},
			args: []string{"go", "install", "-trimpath", "-ldflags=-s -w", "example.com/fork/mageship/engine/cmd/mageship@v1.4.1"}, dir: "/cache/x", bin: "/cache/x"},
		{name: "source directory", src: source{dir: "/src/mageship"},
			args: []string{"go", "build", "-v", "-trimpath", "-ldflags=-s -w", "-o", "/cache/x/mageship", "./cmd/mageship"}, dir: "/src/mageship/engine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := tc.src.buildCommand(context.Background(), env, "/cache/x/mageship")
			if !slices.Equal(cmd.Args, tc.args) || cmd.Dir != tc.dir {
				t.Errorf("args %q in %s, want %q in %s", cmd.Args, cmd.Dir, tc.args, tc.dir)
			}
			want := []string{"HOME=/root", "GOPROXY=https://proxy.example.com", "GOWORK=off", "CGO_ENABLED=0"}
			if tc.bin != "" {
				want = append(want, "GOBIN="+tc.bin)
			}
			if !slices.Equal(cmd.Env, want) {
				t.Errorf("env = %q, want %q", cmd.Env, want)
			}
		})
	}
}

// TestBinPath: one binary per engine version (or source directory), Go version and platform.
func TestBinPath(t *testing.T) {
	tc := toolchain{goVersion: "go1.26.8", goos: "linux", goarch: "amd64"}
	if runtime.GOOS == "windows" {
		t.Skip("the binary is mageship.exe there")
	}
	for _, c := range []struct {
		src  source
		want string
	}{
		{source{path: Module, version: "v1.4.0"}, "/c/engine/v1.4.0-go1.26.8-linux-amd64/mageship"},
		{source{path: Module, version: "v0.0.0-20261207-abcdef+incompatible"}, "/c/engine/v0.0.0-20261207-abcdef+incompatible-go1.26.8-linux-amd64/mageship"},
		{source{path: "example.com/fork/mageship", version: "v1.4.0"}, "/c/engine/v1.4.0-go1.26.8-linux-amd64-" + shortHash("example.com/fork/mageship") + "/mageship"},
		{source{dir: "/src/mageship"}, "/c/engine/dir-" + shortHash("/src/mageship") + "-go1.26.8-linux-amd64/mageship"},
	} {
		if got := c.src.binPath("/c", tc); got != c.want {
			t.Errorf("binPath(%v) = %s, want %s", c.src, got, c.want)
		}
	}
	v140 := source{path: Module, version: "v1.4.0"}
	if v140.binPath("/c", toolchain{goVersion: "go1.27.0", goos: "linux", goarch: "amd64"}) == v140.binPath("/c", tc) {
		t.Error("a new Go version shares the old one's engine")
	}
}

func TestCacheDir(t *testing.T) {
	if got, err := cacheDir([]string{EnvCacheDir + "=/a", EnvCacheDir + "=/b"}); err != nil || got != filepath.Clean("/b") {
		t.Errorf("cacheDir with %s = %s, %v", EnvCacheDir, got, err)
	}
	ucd, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	if got, err := cacheDir(nil); err != nil || got != filepath.Join(ucd, "mageship") {
		t.Errorf("cacheDir = %s, %v; want %s", got, err, filepath.Join(ucd, "mageship"))
	}
}

// TestEngineFromSource builds a stand-in engine from a source directory with the real
// go command: the first run compiles and says so, concurrent runs build once, a run
// with nothing changed says nothing, and a change is rebuilt.
func TestEngineFromSource(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "engine", "go.mod"), "module "+EngineModule+"\n\ngo 1.21\n")
	writeFile(t, filepath.Join(repo, "engine", "cmd", "mageship", "main.go"), "package main\n\nfunc main() { println(\"one\") }\n")
	src := source{dir: repo}
	cache := t.TempDir()
	env := append(os.Environ(), "GOFLAGS=-mod=mod")
	tc := thisToolchain()

	var mu sync.Mutex
	var logs []string
	var wg sync.WaitGroup
	for range [3]int{} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var log strings.Builder
			bin, release, err := engine(context.Background(), src, env, cache, tc, &log)
			if err != nil {
				t.Error(err)
				return
			}
			release()
			if bin != src.binPath(cache, tc) {
				t.Errorf("engine = %s, want %s", bin, src.binPath(cache, tc))
			}
			mu.Lock()
			logs = append(logs, log.String())
			mu.Unlock()
		}()
	}
	wg.Wait()
	all := strings.Join(logs, "")
	if n := strings.Count(all, "mageship: compiling the engine from "+filepath.Join(repo, "engine")); n != 1 {
		t.Errorf("three concurrent first runs printed the compiling line %d times, want 1:\n%s", n, all)
	}
	if !regexp.MustCompile(`(?m)^mageship: engine compiled in \d+\.\ds$`).MatchString(all) {
		t.Errorf("no line saying how long it took:\n%s", all)
	}

	var log strings.Builder
	if _, release, err := engine(context.Background(), src, env, cache, tc, &log); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	if log.Len() > 0 {
		t.Errorf("a run with nothing changed printed %q", log.String())
	}
	// Source the build cache has never seen (-trimpath makes a package's cache key
	// independent of its directory): a package recompiled, not only relinked.
	stamp := time.Now().Format(time.RFC3339Nano)
	writeFile(t, filepath.Join(repo, "engine", "cmd", "mageship", "main.go"), "package main\n\nconst stamp = \""+stamp+"\"\n\nfunc main() { println(\"two\") }\n")
	bin, release, err := engine(context.Background(), src, env, cache, tc, &log)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if !strings.Contains(log.String(), "mageship: compiling the engine") {
		t.Errorf("a changed source was rebuilt silently: %q", log.String())
	}
	out, _ := exec.Command(bin).CombinedOutput()
	if strings.TrimSpace(string(out)) != "two" {
		t.Errorf("the rebuilt engine prints %q, want two", out)
	}
}

func writeFile(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBuildFailedOneLine: a failed engine build is one line naming the go command's
// first error, with all of its output (-v package names, downloads) in a log file.
func TestBuildFailedOneLine(t *testing.T) {
	out := []byte("go: downloading github.com/google/go-containerregistry v0.22.1\ngithub.com/mageship/mageship/engine/internal/config\n# github.com/mageship/mageship/engine/internal/ship\ninternal/ship/image.go:12:2: undefined: foo\ninternal/ship/image.go:13:2: undefined: bar\n")
	err := buildFailed("v1.2.3", []string{"go", "build", "-v"}, errors.New("exit status 1"), out)
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "compiling the mageship engine v1.2.3 failed: internal/ship/image.go:12:2: undefined: foo (the go command's output is in ") {
		t.Fatalf("error %q: want one line with the first compile error and the log", msg)
	}
	log := msg[strings.Index(msg, "output is in ")+len("output is in "):]
	log = log[:strings.Index(log, ")")]
	t.Cleanup(func() { os.Remove(log) })
	b, rerr := os.ReadFile(log)
	if rerr != nil || !strings.Contains(string(b), "undefined: bar") || !strings.Contains(string(b), "go: downloading") {
		t.Errorf("log %s: %v\n%s", log, rerr, b)
	}
}
