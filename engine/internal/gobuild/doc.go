// Package gobuild owns running go build for one main package and one platform on the
// host: the command line and environment it computes from a Build (static with
// CGO_ENABLED=0, -trimpath, stripped, the version stamped with -X; or with the ldflags,
// flags and env a service's release-build file states: Stamp), running it under a
// context, checking that what came out is a static binary for the right architecture
// that carries the version it was stamped with (Stamped), turning the go command's own
// refusals (a toolchain it cannot get) into one line, and running many such builds in
// parallel. Before any of them, CheckCgo reads the import graph with go list -deps and
// refuses a package that needs cgo, in one line.
package gobuild
