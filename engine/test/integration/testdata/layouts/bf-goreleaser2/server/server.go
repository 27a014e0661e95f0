// Package server keeps the version and commit in variables whose names are outside
// mageship's conventions, as service 1 of issue #20 does.
package server

var (
	gitCommit     string
	serverVersion string
	buildDate     string
)

// Banner is what the server prints at startup.
func Banner() string {
	c := gitCommit
	if c == "" {
		c = "[not set]"
	}
	return serverVersion + " " + c + " " + buildDate
}
