// Package version holds the version the build stamps in.
package version

// VERSION is set at build time with -X; "undefined" means it was not.
var VERSION = "undefined"
