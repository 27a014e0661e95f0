// Command stdlibsvc is a service with no dependency outside the standard library: the
// first fixture that adopts mageship in TestAdopt.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

// version is set by the build: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", version)
	})
	log.Printf("stdlibsvc %s listening on :%s", version, port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
