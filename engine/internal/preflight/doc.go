// Package preflight owns the checks a pipeline makes before it builds anything, of
// what would otherwise fail late or half-way: cgo, the Go version against the
// builder image, go.work, the buildx builder (push by digest, platforms,
// attestations), the base images and their platforms, and the build context.
package preflight
