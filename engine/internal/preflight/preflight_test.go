package preflight

import (
	"fmt"
	"testing"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/project"
)

func TestPushByDigestFix(t *testing.T) {
	host := PushByDigestFix(config.Resolved{Build: config.BuildHost, Assemble: config.AssembleBuildx})
	container := PushByDigestFix(config.Resolved{Build: config.BuildContainer, Assemble: config.AssembleBuildx})
	for _, tc := range []struct{ got, want string }{
		{host, "create a builder that can (docker buildx create --use), or assemble without buildx: unset MAGESHIP_ASSEMBLE (direct, the host path's default)"},
		{container, "create a builder that can (docker buildx create --use), or build on the host (unset MAGESHIP_BUILD), whose default assembler needs no builder"},
	} {
		if tc.got != tc.want {
			t.Errorf("fix %q, want %q", tc.got, tc.want)
		}
	}
}

// TestCheckGoVersion: go.mod's go line against the builder image's tag; a tag with
// only major.minor carries the newest patch release.
func TestCheckGoVersion(t *testing.T) {
	for _, tc := range []struct{ goMod, image, want string }{
		{"1.26.0", "golang:1.26-alpine", ""},
		{"1.26.3", "golang:1.26-alpine", ""},
		{"1.26.3", "golang:1.26.1-alpine", "go.mod needs Go 1.26.3 but the builder image golang:1.26.1-alpine has Go 1.26.1: use a newer builder image (MAGESHIP_BUILDER_IMAGE=golang:1.26-alpine) or lower the go line in go.mod"},
		{"1.27.0", "mirror.example.com/library/golang:1.26", "go.mod needs Go 1.27.0 but the builder image mirror.example.com/library/golang:1.26 has Go 1.26: use a newer builder image (MAGESHIP_BUILDER_IMAGE=golang:1.27-alpine) or lower the go line in go.mod"},
		{"1.27.0", "registry.example.com/builder:latest", ""}, // not a golang image: nothing to compare
		{"", "golang:1.20", ""},
	} {
		r := config.Resolved{BuilderImage: tc.image, Project: project.Project{GoVersion: tc.goMod}}
		err := checkGoVersion(r)
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("go %s on %s: err = %v, want %q", tc.goMod, tc.image, err, tc.want)
		}
	}
}

func TestHasPlatform(t *testing.T) {
	have := []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm", Variant: "v7"}}
	for _, tc := range []struct {
		p    platform.Platform
		want bool
	}{
		{platform.Platform{OS: "linux", Arch: "amd64"}, true},
		{platform.Platform{OS: "linux", Arch: "arm"}, true},
		{platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"}, true},
		{platform.Platform{OS: "linux", Arch: "arm", Variant: "v6"}, false},
		{platform.Platform{OS: "linux", Arch: "arm64"}, false},
	} {
		if got := hasPlatform(have, tc.p); got != tc.want {
			t.Errorf("hasPlatform(%s) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
