// Package project owns what mageship learns from the Go repository it ships, before
// any configuration: the module path and Go version from go.mod (via
// golang.org/x/mod/modfile), the main packages (cmd/* or the root), whether vendor/
// is committed and whether go.sum is present where it is needed.
package project
