package buildx

import (
	"encoding/json"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/platform"
)

// TestMultiPlatformByImageStore decides whether a builder can build several platforms
// into one image from docker info as engines print it (docker info --format
// '{{json .}}'). docker_info_engine20_classic.json was recorded on the test rig's
// Docker 20.10 engine, which has only the classic image store.
// docker_info_engine29_containerd.json is written after Docker Desktop with Engine 29
// (Driver overlayfs, DriverStatus [["driver-type","io.containerd.snapshotter.v1"]],
// aarch64): no such engine can run here, so it is not a recording.
func TestMultiPlatformByImageStore(t *testing.T) {
	two := []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}
	one := two[:1]
	for _, tc := range []struct {
		name       string
		info       string // testdata file
		driver     string
		plats      []platform.Platform
		containerd bool
		refused    bool
	}{
		{"docker driver, classic store, two platforms", "docker_info_engine20_classic.json", "docker", two, false, true},
		{"docker driver, classic store, one platform", "docker_info_engine20_classic.json", "docker", one, false, false},
		{"docker driver, containerd store, two platforms", "docker_info_engine29_containerd.json", "docker", two, true, false},
		{"remote driver, classic store, two platforms", "docker_info_engine20_classic.json", "remote", two, false, false},
		{"docker-container driver, two platforms", "docker_info_engine20_classic.json", "docker-container", two, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw system.Info
			if err := json.Unmarshal([]byte(readFixture(t, tc.info)), &raw); err != nil {
				t.Fatal(err)
			}
			info := daemon.InfoOf(raw)
			if got := info.ContainerdStore(); got != tc.containerd {
				t.Fatalf("%s: ContainerdStore = %v, want %v (driver %s, status %q)", tc.info, got, tc.containerd, info.Driver, info.DriverStatus)
			}
			why := Builder{Name: "b", Driver: tc.driver}.MultiPlatform(tc.plats, info.ContainerdStore())
			if (why != "") != tc.refused {
				t.Errorf("MultiPlatform = %q, want refused %v", why, tc.refused)
			}
		})
	}
}
