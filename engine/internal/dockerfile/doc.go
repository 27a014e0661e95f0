// Package dockerfile owns the Dockerfile of an image build: the data it is rendered
// from, rendering mageship's Dockerfile.tmpl (or a user's own template) with
// missingkey=error, the default .dockerignore, and Lint, which proves from the rendered
// text that no stage executing on the target platform runs a command, so a
// multi-platform build never needs QEMU.
package dockerfile
