package binary

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mageship/mageship/engine/internal/platform"
)

// CheckStatic returns an error unless r holds an ELF executable that needs no dynamic
// loader and no shared library: one that runs in an image without libc.
func CheckStatic(r io.ReaderAt) error {
	return withELF(r, "binary", func(f *elf.File) error { return checkStatic("binary", f) })
}

// CheckStaticFile is CheckStatic for the file at path.
func CheckStaticFile(path string) error {
	return withFile(path, func(f *elf.File) error { return checkStatic(path, f) })
}

// Arch returns the GOARCH that the ELF binary in r was built for, e.g. "amd64" or "arm64".
// It cannot tell arm variants (v6, v7) apart.
func Arch(r io.ReaderAt) (string, error) {
	var arch string
	err := withELF(r, "binary", func(f *elf.File) error {
		var err error
		arch, err = goarch(f)
		return err
	})
	return arch, err
}

// Check returns an error unless r holds a statically linked linux ELF executable built
// for want's architecture. The arm variant is not checked: the ELF header does not record it.
func Check(r io.ReaderAt, want platform.Platform) error {
	return withELF(r, "binary", func(f *elf.File) error { return check("binary", f, want) })
}

// CheckFile is Check for the file at path.
func CheckFile(path string, want platform.Platform) error {
	return withFile(path, func(f *elf.File) error { return check(path, f, want) })
}

func check(name string, f *elf.File, want platform.Platform) error {
	if want.OS != "linux" {
		return fmt.Errorf("check %s for %s: only linux binaries can be checked, and mageship images run linux binaries: build for linux/%s", name, want, want.Arch)
	}
	if err := checkStatic(name, f); err != nil {
		return err
	}
	arch, err := goarch(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if arch != want.Arch {
		return fmt.Errorf("%s is built for %s, want %s: build it with GOOS=linux GOARCH=%s", name, arch, want.Arch, want.Arch)
	}
	return nil
}

func checkStatic(name string, f *elf.File) error {
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %s, not an executable: give the output of go build for a main package", name, f.Type)
	}
	var interp string
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return fmt.Errorf("read the program interpreter of %s: %w", name, err)
		}
		interp = strings.TrimRight(string(b), "\x00")
		break
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read the shared libraries %s needs: %w", name, err)
	}
	if interp == "" && len(libs) == 0 {
		return nil
	}
	var needs string
	switch {
	case len(libs) > 0 && interp != "":
		needs = strings.Join(libs, ", ") + " via " + interp
	case len(libs) > 0:
		needs = strings.Join(libs, ", ")
	default:
		needs = "the loader " + interp
	}
	return fmt.Errorf(`%s is dynamically linked (needs %s): build with CGO_ENABLED=0, or remove the cgo dependency (import "C", or packages like net/os/user built with cgo)`, name, needs)
}

// goarchs maps ELF machines to GOARCH values. EM_PPC64 is handled in goarch by byte order.
var goarchs = map[elf.Machine]string{
	elf.EM_X86_64:  "amd64",
	elf.EM_AARCH64: "arm64",
	elf.EM_ARM:     "arm",
	elf.EM_386:     "386",
	elf.EM_S390:    "s390x",
	elf.EM_RISCV:   "riscv64",
}

func goarch(f *elf.File) (string, error) {
	if f.Machine == elf.EM_PPC64 {
		if f.Data == elf.ELFDATA2LSB {
			return "ppc64le", nil
		}
		return "ppc64", nil
	}
	if f.Machine == elf.EM_RISCV && f.Class != elf.ELFCLASS64 {
		return "", fmt.Errorf("binary is 32-bit riscv, which Go does not build: build it with GOARCH=riscv64")
	}
	if arch, ok := goarchs[f.Machine]; ok {
		return arch, nil
	}
	return "", fmt.Errorf("binary is built for machine %s, which mageship does not build images for: use one of %s", f.Machine, strings.Join(platform.Supported(), ", "))
}

func withFile(path string, fn func(*elf.File) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check binary: %w", err)
	}
	defer fh.Close()
	return withELF(fh, path, fn)
}

func withELF(r io.ReaderAt, name string, fn func(*elf.File) error) error {
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("%s is not an ELF binary (%w): images run linux binaries, build it with GOOS=linux", name, err)
	}
	defer f.Close()
	return fn(f)
}
