// Package ship owns the pipelines behind mageship's targets: it resolves the
// configuration, computes every build (Dockerfile text, buildx command, tags) before
// running any of it, then executes: Image loads one variant for this machine's
// platform into the local engine; Release pushes both variants for every platform by
// digest, verifies what the registry holds, and only then moves tags; Binaries
// cross-compiles on the host; WriteDockerfiles ejects the rendered Dockerfile.
package ship
