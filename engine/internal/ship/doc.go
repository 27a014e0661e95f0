// Package ship owns the wiring behind mageship's targets: it takes a target's name
// and surroundings (Options), resolves the configuration once, shows the steps and
// keeps the tools' log, and runs the pipeline: Image loads one variant for this
// machine's platform into the local engine, Verify, Smoke and SBOM check what it
// loaded, Binaries cross-compiles on the host, WriteDockerfiles ejects the rendered
// Dockerfile. The release protocol is package release's; one variant's build is
// package variant's; the checks before building are package preflight's.
package ship
