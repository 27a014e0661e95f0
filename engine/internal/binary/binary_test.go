package binary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

func TestStaticBinaries(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			path := testfix.WriteExecutable(t, "prog", testfix.StaticBinary(t, arch))
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
	path := testfix.WriteExecutable(t, "prog", testfix.CgoBinary(t))
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
