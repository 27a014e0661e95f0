// Command vendored is a fixture: a service whose requirements are vendored.
package main

import (
	"fmt"
	"os"

	"github.com/google/uuid"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	fmt.Println("vendored", version, uuid.NewString())
}
