//go:build mage

// The magefile of a service like the one issue #21 describes: a server and its CLI,
// a config file, a data directory that is both volume and working directory, flags,
// and its health check on a second port.
package main

import (
	"os"

	"github.com/mageship/mageship/pkg/config"

	//mage:import
	_ "github.com/mageship/mageship/pkg/targets"
	//mage:import image
	_ "github.com/mageship/mageship/pkg/targets/image"
	//mage:import release
	_ "github.com/mageship/mageship/pkg/targets/release"
)

func init() {
	img := config.Image{
		Name:    "i21-tsdb",
		Main:    "./cmd/tsdb",
		Also:    []string{"./cmd/tsdbctl"},
		Files:   []config.File{{From: "etc/tsdb.yml", To: "/etc/tsdb/tsdb.yml"}, {From: "web", To: "/usr/share/tsdb/web"}},
		Args:    []string{"--config.file=/etc/tsdb/tsdb.yml", "--storage.path=/tsdb"},
		Env:     []string{"TSDB_MODE=server"},
		WorkDir: "/tsdb", Volumes: []string{"/tsdb"},
		Ports: []int{8080, 9090}, HealthPort: 9090, Health: "/-/healthy",
		Labels: map[string]string{"com.example.team": "storage"},
	}
	if os.Getenv("I21_NO_ARGS") != "" {
		img.Args = nil // the test of a container that prints its usage and exits 0
	}
	config.Set(config.Config{Images: []config.Image{img}})
}
