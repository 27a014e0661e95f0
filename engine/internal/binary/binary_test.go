package binary

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/platform"
)

const emptyMain = "package main\n\nfunc main() {}\n"

const cgoMain = `package main

// int two(void) { return 2; }
import "C"

func main() { println(C.two()) }
`

// build compiles src as a one-file main package with the go command and env, and returns the binary's path.
func build(t *testing.T, src string, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", "prog", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", env, err, out)
	}
	return filepath.Join(dir, "prog")
}

func TestStaticBinaries(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			path := build(t, emptyMain, "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
			if err := CheckStaticFile(path); err != nil {
				t.Errorf("CheckStaticFile: %v", err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got, err := Arch(f); err != nil || got != arch {
				t.Errorf("Arch = %q, %v; want %q", got, err, arch)
			}
			if err := Check(f, platform.Platform{OS: "linux", Arch: arch}); err != nil {
				t.Errorf("Check: %v", err)
			}
			other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[arch]
			err = CheckFile(path, platform.Platform{OS: "linux", Arch: other})
			if want := "is built for " + arch + ", want " + other; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("CheckFile for %s: err = %v, want one containing %q", other, err, want)
			}
		})
	}
}

func TestCgoBinaryIsDynamic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a cgo build makes an ELF binary only on a linux host")
	}
	cc := "gcc"
	if out, err := exec.Command("go", "env", "CC").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		cc = string(bytes.TrimSpace(out))
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) for a cgo build: %v", cc, err)
	}
	path := build(t, cgoMain, "CGO_ENABLED=1")
	err := CheckStaticFile(path)
	if err == nil {
		t.Fatal("CheckStaticFile of a cgo binary: no error")
	}
	t.Log(err)
	for _, want := range []string{"dynamically linked", "libc.so", "via /", "CGO_ENABLED=0", "cgo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if err := CheckFile(path, platform.Host()); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("CheckFile of a cgo binary: err = %v", err)
	}
}

func TestNotELF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"CheckStaticFile": CheckStaticFile(path),
		"CheckFile":       CheckFile(path, platform.Host()),
		"CheckStatic":     CheckStatic(strings.NewReader("")),
	} {
		if err == nil || !strings.Contains(err.Error(), "not an ELF binary") {
			t.Errorf("%s: err = %v, want one containing %q", name, err, "not an ELF binary")
		}
	}
	if _, err := Arch(strings.NewReader("MZ\x90\x00")); err == nil {
		t.Error("Arch of a PE header: no error")
	}
	if err := CheckStaticFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("CheckStaticFile of a missing file: no error")
	}
}
