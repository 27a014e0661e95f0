// Command proxyd is a fixture: a /v2 module with its main package in cmd/proxyd and its
// version in main.Version.
package main

import (
	"fmt"
	"os"
)

// Version is set at build time with -X.
var Version string

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(Version)
		return
	}
	fmt.Println("proxyd", Version)
}
