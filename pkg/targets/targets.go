package targets

import (
	"context"

	"github.com/mageship/mageship/internal/launch"
)

// Image builds the production image (static binary on scratch, non-root) for this machine and loads it into Docker as <image>:<version>; reads MAGESHIP_IMAGE, MAGESHIP_BUILD, VERSION, MAGESHIP_*_IMAGE, BUILDX_BUILDER.
func Image(ctx context.Context) error {
	return launch.Run(ctx, "image")
}

// Release builds production and debug images for MAGESHIP_PLATFORMS (default linux/amd64,linux/arm64), pushes them by digest, verifies them, then moves the version tags (and -debug ones) last; writes dist/release.json.
func Release(ctx context.Context) error {
	return launch.Run(ctx, "release")
}

// Binaries cross-compiles static binaries for MAGESHIP_PLATFORMS into dist/<os>_<arch>/ and writes dist/SHA256SUMS.
func Binaries(ctx context.Context) error {
	return launch.Run(ctx, "binaries")
}

// Dockerfile writes the rendered Dockerfile (one per image) and, if missing, the default .dockerignore into the repository, to read, commit or eject.
func Dockerfile(ctx context.Context) error {
	return launch.Run(ctx, "dockerfile")
}

// Doctor checks the Docker engine, buildx, the builder and its platforms, emulation and registry logins, and prints the fix for each problem.
func Doctor(ctx context.Context) error {
	return launch.Run(ctx, "doctor")
}

// Dockerignore writes mageship's default .dockerignore unless the repository has one.
func Dockerignore(ctx context.Context) error {
	return launch.Run(ctx, "dockerignore")
}
