//go:build prod

// Command svc is a fixture: a main package only under the prod build tag, in a /v2
// module that vendors its replaced sibling.
package main

import (
	"fmt"
	"os"

	"example.com/tagged/lib/greet"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	fmt.Println(greet.Hello("svc"), version)
}
