// Package buildinfo holds what the build stamps in.
package buildinfo

// Version is set at build time with -X.
var Version = "dev"
