// Command tsdb is a fixture modelled on a time-series database as its own Dockerfile
// ships it: it reads --config.file, keeps its data under --storage.path and in data/
// of its working directory (both must be writable by its user), serves on :8080 and
// answers its health check on the monitoring port :9090. Without flags it prints its
// usage and exits 0, as such servers do.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

var version = "dev"

func main() {
	fs := flag.NewFlagSet("tsdb", flag.ContinueOnError)
	cfg := fs.String("config.file", "", "the configuration file")
	storage := fs.String("storage.path", "", "where the data goes")
	fs.Usage = func() {
		fmt.Println("usage: tsdb --config.file=FILE --storage.path=DIR")
		for i := 1; i <= 40; i++ {
			fmt.Printf("  --option%d  an option tsdb has\n", i)
		}
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *cfg == "" || *storage == "" {
		fs.Usage()
		return
	}
	conf, err := os.ReadFile(*cfg)
	if err != nil {
		fmt.Println("reading the configuration:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll("data", 0o755); err != nil {
		fmt.Println("unable to create data directory:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(*storage, "lock"), []byte(version), 0o644); err != nil {
		fmt.Println("unable to lock the storage:", err)
		os.Exit(1)
	}
	fmt.Println("tsdb", version, "started")
	web := http.NewServeMux()
	web.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "tsdb") })
	go func() { fmt.Println(http.ListenAndServe(":8080", web)); os.Exit(1) }()
	mon := http.NewServeMux()
	mon.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		wd, _ := os.Getwd()
		fmt.Fprintf(w, "ok %s mode=%s wd=%s retention=%s\n", version, os.Getenv("TSDB_MODE"), wd, strings.TrimPrefix(lastLine(conf), "retention: "))
	})
	fmt.Println(http.ListenAndServe(":9090", mon))
	os.Exit(1)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
