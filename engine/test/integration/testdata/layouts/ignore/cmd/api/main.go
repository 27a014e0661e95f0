// Command api is a fixture: a service whose .dockerignore leaves out what go build reads.
package main

import (
	"fmt"
	"os"

	"github.com/google/uuid"

	"example.com/ignored/internal/greet"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	fmt.Println(greet.Hello("api"), version, uuid.NewString())
}
