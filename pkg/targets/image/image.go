// Package image is mageship's image:* Mage targets; import it with the alias image:
//
//	//mage:import image
//	_ "github.com/mageship/mageship/pkg/targets/image"
package image

import (
	"context"

	"github.com/mageship/mageship/internal/launch"
)

// Debug builds the debug image (the same binary on Alpine, with a shell) for this machine and loads it into Docker as <image>:<version>-debug.
func Debug(ctx context.Context) error {
	return launch.Run(ctx, "image:debug")
}

// Verify checks the local production and debug images of this version: no shell or package manager, non-root, static binary of the right architecture, CA bundle, zoneinfo, labels, size budget, identical binaries.
func Verify(ctx context.Context) error {
	return launch.Run(ctx, "image:verify")
}

// Test runs each image (every released platform of this version, or the local image) and waits for its health endpoint (default GET /healthz on the first port).
func Test(ctx context.Context) error {
	return launch.Run(ctx, "image:test")
}

// SBOM prints the SPDX 2.3 SBOM of the local production image of this version (made from its binary's Go build information, as release attaches one to every pushed platform image).
func SBOM(ctx context.Context) error {
	return launch.Run(ctx, "image:sbom")
}
