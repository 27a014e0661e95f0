package daemon

import (
	"context"
	"fmt"
	"slices"

	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Info is what docker info says of the engine that decides how mageship builds for it.
type Info struct {
	Version string // e.g. 20.10.24, 29.1.3
	OSType  string // linux or windows: the kind of containers it runs
	// Arch is the engine machine's architecture as the kernel names it: x86_64,
	// aarch64, armv7l ...
	Arch string
	// Driver is the storage driver: overlay2 on the classic image store; overlayfs,
	// stargz ... (containerd snapshotters) on the containerd image store.
	Driver string
	// DriverStatus are the driver's key/value pairs; on the containerd image store they
	// include driver-type io.containerd.snapshotter.v1.
	DriverStatus [][2]string
}

// Info asks the engine about itself (GET /info).
func (e *Engine) Info(ctx context.Context) (Info, error) {
	r, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("asking the Docker engine about itself (docker info): %w", err)
	}
	return InfoOf(r.Info), nil
}

// InfoOf keeps what mageship needs of the engine's answer to GET /info (the JSON of
// docker info --format '{{json .}}').
func InfoOf(i system.Info) Info {
	return Info{Version: i.ServerVersion, OSType: i.OSType, Arch: i.Architecture, Driver: i.Driver, DriverStatus: i.DriverStatus}
}

// containerdSnapshotter is the driver-type of every storage driver of the containerd
// image store.
const containerdSnapshotter = "io.containerd.snapshotter.v1"

// ContainerdStore reports whether the engine keeps images in containerd's image store
// (the default of Docker Engine 29 and of Docker Desktop; opt-in since Engine 24),
// rather than the classic store of graph drivers (overlay2), which holds one platform
// of an image at a time. It reads driver-type in DriverStatus, not Driver: a
// containerd store can use any snapshotter.
func (i Info) ContainerdStore() bool {
	return slices.ContainsFunc(i.DriverStatus, func(kv [2]string) bool {
		return kv[0] == "driver-type" && kv[1] == containerdSnapshotter
	})
}

// unameArch maps the kernel's machine names, which docker info reports, to Go's.
var unameArch = map[string]platform.Platform{
	"x86_64":  {OS: "linux", Arch: "amd64"},
	"amd64":   {OS: "linux", Arch: "amd64"},
	"aarch64": {OS: "linux", Arch: "arm64"},
	"arm64":   {OS: "linux", Arch: "arm64"},
	"armv7l":  {OS: "linux", Arch: "arm", Variant: "v7"},
	"armv6l":  {OS: "linux", Arch: "arm", Variant: "v6"},
	"i386":    {OS: "linux", Arch: "386"},
	"i686":    {OS: "linux", Arch: "386"},
	"ppc64le": {OS: "linux", Arch: "ppc64le"},
	"s390x":   {OS: "linux", Arch: "s390x"},
	"riscv64": {OS: "linux", Arch: "riscv64"},
}

// ImagePlatform is the platform of the images mageship loads into this engine: a
// linux engine's own architecture, which need not be the client's (DOCKER_HOST on
// another machine; Docker Desktop's VM is the Mac's architecture). When the engine
// does not say, or runs windows containers, it is fallback (this machine's platform).
func (i Info) ImagePlatform(fallback platform.Platform) platform.Platform {
	if i.OSType != "linux" {
		return fallback
	}
	if p, ok := unameArch[i.Arch]; ok {
		return p
	}
	return fallback
}
