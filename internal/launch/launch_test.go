package launch

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
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

// TestCommand: the go run that starts the engine, and the settings it runs without.
func TestCommand(t *testing.T) {
	env := []string{"HOME=/root", "GOFLAGS=-mod=vendor", "GOWORK=/src/go.work", "GOOS=windows", "GOARCH=arm64", "CGO_ENABLED=1", "GOPROXY=https://proxy.example.com"}
	cmd := source{path: Module, version: "v1.4.0"}.command(env)
	if want := []string{"go", "run", Module + "/engine/cmd/mageship@v1.4.0"}; !slices.Equal(cmd.Args, want) {
		t.Errorf("args = %q, want %q", cmd.Args, want)
	}
	want := []string{"HOME=/root", "GOPROXY=https://proxy.example.com", "GOWORK=off", "CGO_ENABLED=0"}
	if !slices.Equal(cmd.Env, want) {
		t.Errorf("env = %q, want %q", cmd.Env, want)
	}
	cmd = source{dir: "/src/mageship"}.command(env)
	if want := []string{"go", "run", "./cmd/mageship"}; !slices.Equal(cmd.Args, want) || cmd.Dir != "/src/mageship/engine" {
		t.Errorf("from a directory: args %q in %s", cmd.Args, cmd.Dir)
	}
}
