// Package share holds the build's version, as service 2 of issue #20 does.
package share

var (
	BuildVersion = "0.0.0-src"
	BuildCommit  = ""
	BuildDate    = ""
)
