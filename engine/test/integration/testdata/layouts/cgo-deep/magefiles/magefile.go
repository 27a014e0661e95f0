//go:build mage

package main

import (
	//mage:import
	_ "github.com/mageship/mageship/pkg/targets"
	//mage:import image
	_ "github.com/mageship/mageship/pkg/targets/image"
	//mage:import release
	_ "github.com/mageship/mageship/pkg/targets/release" // optional: release:platform, release:merge
)
