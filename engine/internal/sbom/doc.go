// Package sbom owns the software bill of materials of a Go binary: an SPDX 2.3 JSON
// document built in-process from the build information the Go toolchain embeds in the
// binary (debug/buildinfo: the main module, every dependency module with its version
// and go.sum hash, the Go version and the build settings), reproducible byte for byte
// from the binary and a creation time, and its life in a registry as an OCI 1.1
// referrer of a platform image (an artifact manifest whose subject is the image), read
// back through the referrers API or, on registries without it, the referrers tag
// schema. Its registry traffic goes through the registry package's client.
package sbom
