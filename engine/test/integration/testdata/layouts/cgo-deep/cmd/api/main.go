// Command api is a fixture: its store imports a driver that needs cgo, two imports
// below the main package, as the sqlite service of issue #26 did.
package main

import (
	"fmt"
	"os"

	"example.com/cgosvc/internal/store"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	fmt.Println(version, store.Open())
}
