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
