package variant

import (
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/version"
)

// Build is one variant of one image, of one version, for its platforms: what a
// pipeline plans (Spec), assembles and verifies (Verify).
type Build struct {
	Config    config.Resolved      // the run's configuration
	Image     config.ResolvedImage // the image
	Variant   Kind                 // production or debug
	Info      version.Info         // the version, revision and commit time
	Platforms []platform.Platform  // what it is built for
}
