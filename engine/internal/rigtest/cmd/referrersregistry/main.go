// Command referrersregistry is the rig's registry with the OCI 1.1 referrers API:
// go-containerregistry's pkg/registry with referrers support turned on, serving plain
// HTTP on one address, blobs on disk and manifests in memory (they are lost when it
// stops, as a test rig's may be). `crane registry serve` has no referrers API, hence
// this small main. scripts/rig builds and starts it.
//
//	referrersregistry -addr 127.0.0.1:5003 -blobs DIR
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5003", "the address to listen on")
	blobs := flag.String("blobs", "", "the directory that keeps the blobs (required)")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()
	if *blobs == "" {
		fmt.Fprintln(os.Stderr, "referrersregistry: -blobs DIR is required: the directory that keeps the blobs")
		os.Exit(2)
	}
	if err := os.MkdirAll(*blobs, 0o755); err != nil {
		log.Fatalf("referrersregistry: %v", err)
	}
	reqLog := log.New(io.Discard, "", 0)
	if *verbose {
		reqLog = log.New(os.Stderr, "", log.LstdFlags)
	}
	srv := &http.Server{
		Addr: *addr,
		Handler: registry.New(
			registry.WithReferrersSupport(true),
			registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobs)),
			registry.Logger(reqLog),
		),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("referrersregistry: serving the OCI distribution API with referrers on %s, blobs in %s", *addr, *blobs)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("referrersregistry: %v", err)
	}
}
