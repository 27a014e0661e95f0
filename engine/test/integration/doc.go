// Package integration holds mageship's end-to-end tests. They run against the rig
// (scripts/rig up: Docker engine, BuildKit, buildx, registries, arm64 emulation),
// build real images through the examples' magefiles, and assert on what came out.
// They fail when the rig is down; only go test -short skips them.
package integration
