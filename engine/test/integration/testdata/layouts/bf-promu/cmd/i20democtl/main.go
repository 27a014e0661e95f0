package main

import (
	"fmt"

	"github.com/prometheus/common/version"
)

func main() {
	fmt.Println(version.Version, version.Revision, version.Branch, version.BuildUser, version.BuildDate)
}
