// Command newer is a fixture: its go.mod names a toolchain newer than any Go there is.
package main

import (
	"fmt"
	"os"
	"runtime"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	fmt.Println("newer", version, runtime.Version())
}
