package targets

import (
	"context"

	"github.com/mageship/mageship/pkg/ship"
)

// Image builds the production image (static binary on scratch, non-root) for this machine and loads it into Docker as <image>:<version>; reads MAGESHIP_IMAGE, VERSION, MAGESHIP_*_IMAGE, BUILDX_BUILDER.
func Image(ctx context.Context) error {
	_, err := ship.Image(ctx, ship.Production, ship.Options{})
	return err
}

// Release builds production and debug images for MAGESHIP_PLATFORMS (default linux/amd64,linux/arm64), pushes them by digest, verifies them, then moves the version tags (and -debug ones) last; writes dist/release.json.
func Release(ctx context.Context) error {
	_, err := ship.Release(ctx, ship.Options{})
	return err
}

// Binaries cross-compiles static binaries for MAGESHIP_PLATFORMS into dist/<os>_<arch>/ and writes dist/SHA256SUMS.
func Binaries(ctx context.Context) error {
	_, err := ship.Binaries(ctx, ship.Options{})
	return err
}

// Dockerfile writes the rendered Dockerfile (one per image) and, if missing, the default .dockerignore into the repository, to read, commit or eject.
func Dockerfile(ctx context.Context) error {
	_, err := ship.WriteDockerfiles(ctx, ship.Options{})
	return err
}

// Doctor checks the Docker engine, buildx, the builder and its platforms, emulation and registry logins, and prints the fix for each problem.
func Doctor(ctx context.Context) error {
	return ship.Doctor(ctx, ship.Options{})
}

// Dockerignore writes mageship's default .dockerignore unless the repository has one.
func Dockerignore() error {
	return ship.WriteDockerignore(ship.Options{})
}
