package testfix

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/command"
)

// Info is what go version -m prints about a binary.
type Info struct {
	GoVersion string
	Main      string   // the main module's path
	Deps      []string // "path version sum" of each dependency as compiled (after =>)
	Settings  []string // key=value of each build setting, unquoted
}

// GoVersionM runs go version -m on bin and parses its output.
func GoVersionM(t testing.TB, bin string) Info {
	t.Helper()
	out, err := command.CombinedOutput(context.Background(), command.Cmd{Name: "go", Args: []string{"version", "-m", bin}, Env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	var r Info
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	_, r.GoVersion, _ = strings.Cut(lines[0], ": ")
	for _, l := range lines[1:] {
		f := strings.Split(strings.TrimPrefix(l, "\t"), "\t")
		for len(f) < 4 {
			f = append(f, "")
		}
		switch f[0] {
		case "mod":
			r.Main = f[1]
		case "dep":
			r.Deps = append(r.Deps, f[1]+" "+f[2]+" "+f[3])
		case "=>":
			r.Deps[len(r.Deps)-1] = f[1] + " " + f[2] + " " + f[3]
		case "build":
			k, v, _ := strings.Cut(f[1], "=")
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			r.Settings = append(r.Settings, k+"="+v)
		}
	}
	return r
}

// BuildHello compiles example.com/hello, which imports golang.org/x/mod/semver, for
// GOOS/GOARCH goarch (linux/amd64 when empty) offline from the module cache, with
// -ldflags holding a space (go version -m quotes it), and returns the binary's path.
// golang.org/x/mod v0.43.0 is a requirement of the engine module, so it is in the
// cache wherever the engine's tests compile.
func BuildHello(t testing.TB, goarch ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.26\n\nrequire golang.org/x/mod v0.43.0\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/mod/semver\"\n)\n\nfunc main() { fmt.Println(semver.Canonical(\"v1.2\")) }\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	arch := "amd64"
	if len(goarch) > 0 {
		arch = goarch[0]
	}
	bin := filepath.Join(dir, "hello")
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off",
		"GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	c := command.Cmd{Name: "go", Args: []string{"build", "-trimpath", "-ldflags=-s -w", "-o", bin, "."}, Env: env, Dir: dir}
	if _, err := command.CombinedOutput(context.Background(), c); err != nil {
		t.Fatalf("go build of the test program (needs golang.org/x/mod v0.43.0 in the module cache: go mod download in engine/): %v", err)
	}
	return bin
}
