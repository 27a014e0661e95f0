//go:build mage

// The magefile of mageship's multi example: one module, two binaries, two images.
// The worker ships on a distroless static base; both stamp their version into a
// shared package instead of main.version.
package main

import (
	"github.com/mageship/mageship/pkg/config"

	//mage:import
	_ "github.com/mageship/mageship/pkg/targets"
	//mage:import image
	_ "github.com/mageship/mageship/pkg/targets/image"
	//mage:import release
	_ "github.com/mageship/mageship/pkg/targets/release"
)

const versionVar = "github.com/mageship/mageship/examples/multi/internal/buildinfo.Version"

func init() {
	config.Set(config.Config{
		Images: []config.Image{
			{Main: "./cmd/api", Ports: []int{9090}, VersionVar: versionVar},
			{Main: "./cmd/worker", Ports: []int{9091}, VersionVar: versionVar, Runtime: config.Distroless},
		},
	})
}
