// Command api is the front half of mageship's multi example: served on port 9090 from a
// scratch image.
package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/mageship/mageship/examples/multi/internal/buildinfo"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", buildinfo.Healthz("api"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api %s\n", buildinfo.Version)
	})
	log.Printf("api %s listening on :9090", buildinfo.Version)
	srv := &http.Server{Addr: ":9090", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
