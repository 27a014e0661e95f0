// Command server is a fixture: the module's only main package, outside cmd/, with its
// version in internal/buildinfo.Version.
package main

import (
	"fmt"
	"os"

	"example.com/shop/internal/buildinfo"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(buildinfo.Version)
		return
	}
	fmt.Println("server", buildinfo.Version)
}
