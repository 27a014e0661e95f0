// Package buildinfo holds what the build stamps into both binaries of the multi
// example: -ldflags "-X github.com/mageship/mageship/examples/multi/internal/buildinfo.Version=1.2.3".
package buildinfo

import (
	"fmt"
	"net/http"
)

// Version is the release, set at build time.
var Version = "dev"

// Healthz answers liveness probes with the binary's name and version.
func Healthz(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s %s\n", name, Version)
	}
}
