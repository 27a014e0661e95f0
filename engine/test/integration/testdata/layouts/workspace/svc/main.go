// Command svc is a fixture: a service that imports a sibling module of its go.work
// workspace, which its go.mod neither requires nor replaces.
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
	fmt.Println(greet.Hello("svc"), version)
}
