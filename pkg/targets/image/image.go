// Package image is mageship's image:* Mage targets; import it with the alias image:
//
//	//mage:import image
//	_ "github.com/mageship/mageship/pkg/targets/image"
package image

import (
	"context"

	"github.com/mageship/mageship/pkg/ship"
)

// Debug builds the debug image (the same binary on Alpine, with a shell) for this machine and loads it into Docker as <image>:<version>-debug.
func Debug(ctx context.Context) error {
	_, err := ship.Image(ctx, ship.Debug, ship.Options{})
	return err
}

// Verify checks the local production and debug images of this version: no shell or package manager, non-root, static binary of the right architecture, CA bundle, zoneinfo, labels, size budget, identical binaries.
func Verify(ctx context.Context) error {
	return ship.Verify(ctx, ship.Options{})
}

// Test runs each image (every released platform of this version, or the local image) and waits for its health endpoint (default GET /healthz on the first port).
func Test(ctx context.Context) error {
	return ship.Smoke(ctx, ship.Options{})
}
