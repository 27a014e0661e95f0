// Command grpcsvc is a service with real dependencies: gRPC's health service and an
// HTTP /healthz on one port (HTTP/2 without TLS through golang.org/x/net/http2/h2c).
// It is the second fixture that adopts mageship in TestAdopt; its go.mod pins
// google.golang.org/grpc, golang.org/x/net, google.golang.org/protobuf and
// golang.org/x/sys, and adopting mageship must leave every one of them alone.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// version is set by the build: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", version)
	})
	both := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			srv.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	log.Printf("grpcsvc %s listening on :%s (gRPC health and HTTP /healthz)", version, port)
	log.Fatal(http.ListenAndServe(":"+port, h2c.NewHandler(both, &http2.Server{})))
}
