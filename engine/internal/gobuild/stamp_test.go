package gobuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/platform"
)

// TestStamped builds real binaries: -X of a variable that exists puts the version in
// the binary; -X of one that does not leaves it only in the build information, where
// it is when -trimpath is off (the -ldflags setting), which Stamped does not count.
func TestStamped(t *testing.T) {
	const version = "7.3.1-stamp"
	dir := writeModule(t, map[string]string{
		"main.go": "package main\n\nvar version = \"dev\"\nvar built = compute()\n\nfunc compute() string { return \"x\" }\n\nfunc main() { println(version, built) }\n",
	})
	for _, tc := range []struct {
		name     string
		x        string
		trimpath bool
		want     bool
	}{
		{"variable exists", "main.version", true, true},
		{"variable exists, no -trimpath", "main.version", false, true},
		{"no such variable", "main.nope", true, false},
		{"no such variable, no -trimpath: only in the build information", "main.nope", false, false},
		{"initialized by a call (the linker sets it, init replaces it)", "main.built", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bin")
			args := []string{"build", "-ldflags", "-s -w -X " + tc.x + "=" + version, "-o", out, "."}
			if tc.trimpath {
				args = append([]string{"build", "-trimpath"}, args[1:]...)
			}
			cmd := exec.CommandContext(t.Context(), "go", args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, b)
			}
			bin, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.trimpath && !strings.Contains(string(bin), "-X "+tc.x+"="+version) {
				t.Errorf("without -trimpath the build information should record the -X flag")
			}
			if got := Stamped(bin, version); got != tc.want {
				t.Errorf("Stamped = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStampedIgnoresBuildInfo: a version that equals a dependency's version in the
// build information is not evidence.
func TestStampedIgnoresBuildInfo(t *testing.T) {
	bin := []byte("\x7fELF....")
	bin = append(bin, infoStart...)
	bin = append(bin, "path\texample.com/m\ndep\tgithub.com/google/uuid\tv1.6.0\th1:x\n"...)
	bin = append(bin, infoEnd...)
	bin = append(bin, "...runtime data..."...)
	if Stamped(bin, "1.6.0") {
		t.Error("Stamped counted the version of a dependency in the build information")
	}
	if !Stamped(append(bin, "1.6.0"...), "1.6.0") {
		t.Error("Stamped missed the version outside the build information")
	}
	if Stamped(bin, "") {
		t.Error("Stamped of an empty version")
	}
}

// TestRunChecksStamp: a build whose binary does not carry the version fails in one
// line that names the fix.
func TestRunChecksStamp(t *testing.T) {
	dir := writeModule(t, map[string]string{"main.go": "package main\n\nfunc main() {}\n"})
	b := Build{Dir: dir, Main: ".", Output: "out/m", Platform: platform.Host(), VersionVar: "main.version", Version: "7.3.1-missing"}
	err := Run(t.Context(), b)
	want := "go build . for " + platform.Host().String() + ": the binary does not carry version 7.3.1-missing: -X main.version=7.3.1-missing had no effect (no such string variable in the binary, or one a function call initializes): set Image.VersionVar to a package-level string variable the binary links, or to - for none"
	if err == nil || err.Error() != want {
		t.Errorf("Run = %v\nwant %s", err, want)
	}
}

// TestRunGoCommandError: when the go command itself refuses to build, the error is its
// first meaningful line and what to do, on one line. Outputs recorded from go1.26.8.
func TestRunGoCommandError(t *testing.T) {
	for _, tc := range []struct {
		name, out, want string
	}{
		{
			name: "go line newer than the local Go",
			out:  "go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)\n",
			want: "go build . for linux/amd64: go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local): install Go 1.99 or newer on this machine, or let the go command fetch it (GOTOOLCHAIN=auto)",
		},
		{
			name: "toolchain line, no download (GOPROXY=off)",
			out:  "go: downloading go1.99.0 (linux/amd64)\ngo: download go1.99.0 for linux/amd64: toolchain not available\n",
			want: "go build . for linux/amd64: go: download go1.99.0 for linux/amd64: toolchain not available: go.mod asks for go1.99.0 (its toolchain or go line) and the go command cannot download it: install it, or build with the Go you have (GOTOOLCHAIN=local) where go.mod's go line allows",
		},
		{
			name: "toolchain line, the proxy has no such toolchain",
			out: "go: downloading go1.99.0 (linux/amd64)\ngo: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: reading https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.zip: 403 Forbidden\n" +
				"\tserver response: This module version is not available.\n",
			want: "go build . for linux/amd64: go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: reading https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.zip: 403 Forbidden server response: This module version is not available.: go.mod asks for go1.99.0 (its toolchain or go line) and the go command cannot download it: install it, or build with the Go you have (GOTOOLCHAIN=local) where go.mod's go line allows",
		},
		{
			name: "go.mod out of date: the continuation carries the fix",
			out:  "go: updates to go.mod needed; to update it:\n\tgo mod tidy\n",
			want: "go build . for linux/amd64: go: updates to go.mod needed; to update it: go mod tidy",
		},
		{
			name: "a compile error keeps every line",
			out:  "# example.com/m\n./main.go:3:1: syntax error\n./main.go:4:1: another\n",
			want: "go build . for linux/amd64 in /m: exit status 1\n# example.com/m\n./main.go:3:1: syntax error\n./main.go:4:1: another",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := func(context.Context, string, []string, string, ...string) ([]byte, error) {
				return []byte(tc.out), errors.New("exit status 1")
			}
			err := Run(t.Context(), Build{Dir: "/m", Main: ".", Output: "out", Platform: amd64}, WithExec(fake))
			if err == nil || err.Error() != tc.want {
				t.Errorf("Run error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

// TestArgsWithoutVersionVar: an image with no version variable (Image.VersionVar "-",
// or none found) builds without -X, whatever the version.
func TestArgsWithoutVersionVar(t *testing.T) {
	b := Build{Main: ".", Output: "out", Platform: amd64, Version: "7.3.1"}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(b.Args(), " "); got != "build -trimpath -buildvcs=false -ldflags -s -w -o out ." {
		t.Errorf("Args = %q", got)
	}
}
