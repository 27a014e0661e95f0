// Command worker is the back half of mageship's multi example: a ticking job with a
// health endpoint on port 9091, shipped on a distroless static base.
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/mageship/mageship/examples/multi/internal/buildinfo"
)

func main() {
	go func() {
		for t := range time.Tick(30 * time.Second) {
			log.Printf("worker %s: tick at %s", buildinfo.Version, t.UTC().Format(time.RFC3339))
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", buildinfo.Healthz("worker"))
	log.Printf("worker %s listening on :9091", buildinfo.Version)
	srv := &http.Server{Addr: ":9091", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
