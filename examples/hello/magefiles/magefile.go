//go:build mage

// The magefile of mageship's hello example: two imports give it every mageship
// target; init() says what the repository cannot imply (the port).
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

func init() {
	config.Set(config.Config{
		Images: []config.Image{{Ports: []int{8080}}},
	})
}
