// Command server is a fixture: the root package of a nested /v3 module of a go.work
// monorepo, importing a sibling module it replaces.
package main

import (
	"fmt"
	"os"

	"example.com/mono/lib/greet"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	fmt.Println(greet.Hello("server"), version)
}
