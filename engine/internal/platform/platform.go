package platform

import (
	"fmt"
	"runtime"
	"strings"
)

// Platform is one target: an operating system, an architecture and, for arm, a variant.
type Platform struct {
	OS      string
	Arch    string
	Variant string
}

// known lists the GOOS/GOARCH pairs mageship builds images for, with the variants each accepts.
var known = map[string][]string{
	"linux/amd64":   {""},
	"linux/arm64":   {"", "v8"},
	"linux/arm":     {"v6", "v7"},
	"linux/386":     {""},
	"linux/ppc64le": {""},
	"linux/s390x":   {""},
	"linux/riscv64": {""},
}

// Parse reads "os/arch[/variant]", e.g. "linux/arm64" or "linux/arm/v7".
func Parse(s string) (Platform, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, fmt.Errorf("invalid platform %q: write it as os/arch[/variant], e.g. linux/amd64 or linux/arm64", s)
	}
	p := Platform{OS: parts[0], Arch: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if p.OS == "linux" && p.Arch == "arm" && p.Variant == "" {
		p.Variant = "v7"
	}
	variants, ok := known[p.OS+"/"+p.Arch]
	if !ok {
		return Platform{}, fmt.Errorf("unsupported platform %q: use one of %s", s, strings.Join(Supported(), ", "))
	}
	for _, v := range variants {
		if v == p.Variant {
			if p.Variant == "v8" {
				p.Variant = ""
			}
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("unsupported variant %q in platform %q: %s/%s takes %v", p.Variant, s, p.OS, p.Arch, variants)
}

// ParseList reads a list of platforms, such as the fields of MAGESHIP_PLATFORMS
// (linux/amd64,linux/arm64) split at the commas; blank fields are skipped. It is the
// one place that refuses duplicates and an empty list: what it returns is passed down
// as it is, and formatted again only for buildx (Strings).
func ParseList(fields []string) ([]Platform, error) {
	var out []Platform
	seen := map[Platform]bool{}
	for _, f := range fields {
		if strings.TrimSpace(f) == "" {
			continue
		}
		p, err := Parse(f)
		if err != nil {
			return nil, err
		}
		if seen[p] {
			return nil, fmt.Errorf("platform %s is listed twice in %q: list each platform once", p, strings.Join(fields, ","))
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no platform in %q: give a comma-separated list such as linux/amd64,linux/arm64", strings.Join(fields, ","))
	}
	return out, nil
}

// Supported returns the platforms Parse accepts, without variants.
func Supported() []string {
	return []string{"linux/amd64", "linux/arm64", "linux/arm/v6", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64"}
}

// Host is the linux platform of this machine's architecture: what a locally loaded image runs as.
func Host() Platform {
	p := Platform{OS: "linux", Arch: runtime.GOARCH}
	if p.Arch == "arm" {
		p.Variant = "v7"
	}
	return p
}

// String gives the buildx and OCI form, os/arch[/variant].
func (p Platform) String() string {
	if p.Variant != "" {
		return p.OS + "/" + p.Arch + "/" + p.Variant
	}
	return p.OS + "/" + p.Arch
}

// Dir is the form used for folder names, os_arch[_variant], as in dist/linux_arm64.
func (p Platform) Dir() string {
	return strings.ReplaceAll(p.String(), "/", "_")
}

// GoEnv returns the GOOS, GOARCH and (for arm) GOARM settings that compile for p.
func (p Platform) GoEnv() []string {
	env := []string{"GOOS=" + p.OS, "GOARCH=" + p.Arch}
	if p.Arch == "arm" {
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	return env
}

// Strings formats a list back into buildx's comma-separated --platform value.
func Strings(ps []Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
