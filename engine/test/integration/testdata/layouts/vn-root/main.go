// Command proxy is a fixture: a /v7 module whose main package is at its root and whose
// version lives in pkg/version.VERSION, as in the service issue #11 reports.
package main

import (
	"fmt"
	"os"

	"github.com/acme/proxy/v7/pkg/version"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version.VERSION)
		return
	}
	fmt.Println("proxy", version.VERSION)
}
