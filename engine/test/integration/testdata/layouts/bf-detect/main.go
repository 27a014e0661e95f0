// Command i20detect keeps its version, commit and date in the variables goreleaser's
// defaults name, with no release-build file: zero configuration stamps all three.
package main

import "fmt"

var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() { fmt.Println(version, commit, date) }
