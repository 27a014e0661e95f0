// Package project owns what mageship learns from the Go repository it ships, before
// any configuration: the module path and Go version from go.mod (via
// golang.org/x/mod/modfile), the main packages and the names go build gives their
// binaries, whether vendor/ is committed, whether go.sum is present where it is needed,
// the go.work the module builds in (at a go.work root, also the main packages of the
// workspace's modules below it, each read in its own module), and where the code lives
// for the source label (the git origin remote, else a forge's repository); and, read
// from the source files with go/build and go/parser (never with the go command, so
// nothing is downloaded), what one main package links from its module: the files its
// build reads, what it embeds, and the variables -X can stamp the version into.
package project
