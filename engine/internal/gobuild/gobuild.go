package gobuild

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Build is one go build of one main package for one platform. It is passive data:
// Args and Env compute the command from it, Run executes it.
type Build struct {
	// Dir is the module root the go command runs in.
	Dir string
	// Main is the package to build, relative to Dir, e.g. "./cmd/hello" or ".".
	Main string
	// Output is the -o path. A relative path is relative to Dir.
	Output string
	// Platform is the target; for arm it needs a variant (linux/arm/v7).
	Platform platform.Platform
	// VersionVar is the string variable -X sets to Version, e.g. "main.version" or
	// "github.com/acme/x/internal/version.Version". Empty means no -X.
	VersionVar string
	// Version is the value for VersionVar. It may not contain whitespace or quotes.
	// Without a VersionVar it is not used: the binary carries no version (an image
	// whose Image.VersionVar is "-", or that has no version variable).
	Version string
	// LDFlags are extra linker flags, appended after "-s -w" and the -X. They are
	// joined with spaces as written, so quote them as go build's -ldflags expects.
	LDFlags []string
	// Stamp is what a release-build file or Image.Ldflags adds, rendered.
	Stamp Stamp
	// Tags are build tags, passed as -tags a,b.
	Tags []string
	// Mod is "" (the go command's default) or a -mod value: "vendor", "mod" or
	// "readonly". VendorMode(Dir) gives "vendor" for a module with a vendor directory.
	Mod string
}

// Stamp is how a binary is built beyond mageship's defaults, with every template
// already rendered: a service's release-build file (goreleaser, ko, promu), or
// Image.Ldflags.
type Stamp struct {
	// File says that Ldflags, Flags and Env are a release-build file's: Ldflags is
	// then the whole -ldflags in place of "-s -w" (none at all when empty, as ko passes
	// none). Otherwise Ldflags (Image.Ldflags) follows "-s -w", the -X and LDFlags.
	File    bool
	Ldflags string
	// Flags are go build flags, one argument each, after mageship's -trimpath
	// -buildvcs=false (a -trimpath among them is not repeated).
	Flags []string
	// Env are KEY=value lines that replace the base environment's (GOTOOLCHAIN,
	// GOEXPERIMENT, GOFLAGS...); CGO_ENABLED, GOOS, GOARCH and GOARM stay mageship's.
	Env []string
}

// Args returns the arguments of the go command for b, starting with "build".
//
// -buildvcs=false: the binary does not depend on the state of the git checkout (a
// commit that only touches go.mod, a dirty tree, or no .git at all, as in the
// container build's context), so the host build, the container build and a plain go
// build of the same sources give the same bytes. The commit is in the image's
// org.opencontainers.image.revision label instead, and where the code keeps it, in the
// -X a release-build file or Image.Ldflags states.
func (b Build) Args() []string {
	args := []string{"build", "-trimpath", "-buildvcs=false"}
	for _, f := range b.Stamp.Flags {
		if f != "-trimpath" && f != "--trimpath" {
			args = append(args, f)
		}
	}
	if ld := b.ldflags(); ld != "" || !b.Stamp.File {
		args = append(args, "-ldflags", ld)
	}
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	if b.Mod != "" {
		args = append(args, "-mod="+b.Mod)
	}
	return append(args, "-o", b.Output, b.Main)
}

// ldflags is the -ldflags value: "-s -w" (or a release-build file's own ldflags), the
// -X of VersionVar unless those already set it, LDFlags, then Image.Ldflags.
func (b Build) ldflags() string {
	var flags []string
	if b.Stamp.File {
		if b.Stamp.Ldflags != "" {
			flags = append(flags, b.Stamp.Ldflags)
		}
	} else {
		flags = append(flags, "-s", "-w")
	}
	if b.VersionVar != "" && !setsVar(b.Stamp.Ldflags, b.VersionVar) {
		flags = append(flags, "-X", b.VersionVar+"="+b.Version)
	}
	flags = append(flags, b.LDFlags...)
	if !b.Stamp.File && b.Stamp.Ldflags != "" {
		flags = append(flags, b.Stamp.Ldflags)
	}
	return strings.Join(flags, " ")
}

// setsVar reports whether ldflags has a -X for the variable v.
func setsVar(ldflags, v string) bool {
	f := strings.Fields(strings.NewReplacer("'", " ", "\"", " ").Replace(ldflags))
	for i, a := range f {
		if a == "-X" && i+1 < len(f) && strings.HasPrefix(f[i+1], v+"=") || strings.HasPrefix(a, "-X="+v+"=") {
			return true
		}
	}
	return false
}

// overridden are the variables Env sets, dropped from the base environment first.
var overridden = []string{"CGO_ENABLED", "GOOS", "GOARCH", "GOARM"}

// Env returns the environment of the go command for b: base, without any
// CGO_ENABLED, GOOS, GOARCH or GOARM it has nor any variable Stamp.Env sets, then
// Stamp.Env (without those four), followed by CGO_ENABLED=0 and the platform's GOOS,
// GOARCH and (for arm) GOARM. Everything else in base (GOPROXY, GOFLAGS, GOPRIVATE,
// HOME, PATH ...) passes through in its order.
func (b Build) Env(base []string) []string {
	env := make([]string, 0, len(base)+len(b.Stamp.Env)+4)
	var stamped []string
	for _, kv := range b.Stamp.Env {
		name, _, _ := strings.Cut(kv, "=")
		stamped = append(stamped, name)
	}
	keep := func(kv string, names []string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return !slices.Contains(overridden, name) && !slices.Contains(names, name)
	}
	for _, kv := range base {
		if keep(kv, stamped) {
			env = append(env, kv)
		}
	}
	for _, kv := range b.Stamp.Env {
		if keep(kv, nil) {
			env = append(env, kv)
		}
	}
	env = append(env, "CGO_ENABLED=0")
	return append(env, b.Platform.GoEnv()...)
}

// Validate reports the first field of b that would make a wrong or broken command.
func (b Build) Validate() error {
	switch {
	case b.Main == "":
		return fmt.Errorf("build: Main is empty: set it to the main package, e.g. ./cmd/hello or .")
	case strings.HasPrefix(b.Main, "-"):
		return fmt.Errorf("build %s: Main looks like a flag: set it to a package path such as ./cmd/hello", b.Main)
	case b.Output == "":
		return fmt.Errorf("build %s: Output is empty: set it to the binary's path, e.g. dist/linux_amd64/hello", b.Main)
	case b.Platform.OS == "" || b.Platform.Arch == "":
		return fmt.Errorf("build %s: Platform %q has no OS or architecture: set it, e.g. with platform.Parse(\"linux/amd64\")", b.Main, b.Platform)
	case b.Platform.Arch == "arm" && b.Platform.Variant == "":
		return fmt.Errorf("build %s: platform %s has no variant: use linux/arm/v6 or linux/arm/v7", b.Main, b.Platform)
	}
	if b.VersionVar != "" {
		if strings.ContainsAny(b.VersionVar, " \t\r\n\"'`=") || !strings.Contains(b.VersionVar, ".") {
			return fmt.Errorf("build %s: VersionVar %q is not a variable name: write it as importpath.name, e.g. main.version", b.Main, b.VersionVar)
		}
		if strings.ContainsAny(b.Version, " \t\r\n\v\f\"'`\\") {
			return fmt.Errorf("build %s: version %q contains whitespace, a quote or a backslash: use a plain version such as v1.2.3 or 1.2.3-rc.1+abc123", b.Main, b.Version)
		}
	}
	for _, tag := range b.Tags {
		if tag == "" || strings.ContainsAny(tag, ", \t\r\n\"'") {
			return fmt.Errorf("build %s: build tag %q is empty or has a comma, space or quote: give one tag per element of Tags", b.Main, tag)
		}
	}
	switch b.Mod {
	case "", "vendor", "mod", "readonly":
	default:
		return fmt.Errorf("build %s: Mod %q is not a -mod value: use \"\", \"vendor\", \"mod\" or \"readonly\"", b.Main, b.Mod)
	}
	return nil
}

// outputPath is where the go command writes the binary, as seen from this process.
func (b Build) outputPath() string {
	if filepath.IsAbs(b.Output) {
		return b.Output
	}
	return filepath.Join(b.Dir, b.Output)
}

// VendorMode returns "vendor" when dir is a module with a vendor/modules.txt, else "".
// Use it for Build.Mod.
func VendorMode(dir string) string {
	if fi, err := os.Stat(filepath.Join(dir, "vendor", "modules.txt")); err == nil && fi.Mode().IsRegular() {
		return "vendor"
	}
	return ""
}
