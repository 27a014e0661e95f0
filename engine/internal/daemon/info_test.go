package daemon

import (
	"encoding/json"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/mageship/mageship/engine/internal/platform"
)

// TestImagePlatform: the platform mage image builds is the engine's, as docker info
// reports it, not the client's.
func TestImagePlatform(t *testing.T) {
	amd64 := platform.Platform{OS: "linux", Arch: "amd64"}
	arm64 := platform.Platform{OS: "linux", Arch: "arm64"}
	for _, tc := range []struct {
		name   string
		info   string // the fields of GET /info that matter
		client platform.Platform
		want   platform.Platform
	}{
		{"Apple silicon, Docker Desktop", `{"OSType":"linux","Architecture":"aarch64","ServerVersion":"29.1.3"}`, arm64, arm64},
		{"amd64 client, DOCKER_HOST on an arm64 engine", `{"OSType":"linux","Architecture":"aarch64"}`, amd64, arm64},
		{"arm64 client, DOCKER_HOST on an amd64 engine", `{"OSType":"linux","Architecture":"x86_64"}`, arm64, amd64},
		{"same machine", `{"OSType":"linux","Architecture":"x86_64","ServerVersion":"20.10.24+dfsg1"}`, amd64, amd64},
		{"32-bit arm engine", `{"OSType":"linux","Architecture":"armv7l"}`, amd64, platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"}},
		{"engine of another kind: windows containers", `{"OSType":"windows","Architecture":"x86_64"}`, arm64, arm64},
		{"engine that does not say", `{}`, amd64, amd64},
		{"unknown architecture", `{"OSType":"linux","Architecture":"mips64"}`, amd64, amd64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw system.Info
			if err := json.Unmarshal([]byte(tc.info), &raw); err != nil {
				t.Fatal(err)
			}
			if got := InfoOf(raw).ImagePlatform(tc.client); got != tc.want {
				t.Errorf("ImagePlatform = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestContainerdStore(t *testing.T) {
	for status, want := range map[string]bool{
		`[["driver-type","io.containerd.snapshotter.v1"]]`:            true,
		`[["Backing Filesystem","extfs"],["Supports d_type","true"]]`: false,
		`[["driver-type","io.containerd.snapshotter.v1.stargz"]]`:     false,
		`null`: false,
	} {
		var raw system.Info
		if err := json.Unmarshal([]byte(`{"DriverStatus":`+status+`}`), &raw); err != nil {
			t.Fatal(err)
		}
		if got := InfoOf(raw).ContainerdStore(); got != want {
			t.Errorf("ContainerdStore(%s) = %v, want %v", status, got, want)
		}
	}
}
