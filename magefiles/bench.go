//go:build mage

package main

import (
	"context"
	"os"
	"os/exec"
)

// Bench times mageship's release (host+direct, host+buildx, container) against a naive Dockerfile, ko and plain go build on examples/hello and a generated service, on the rig (scripts/rig up), and writes bench/results/results.{md,json}; reads MAGESHIP_BENCH_RUNS, MAGESHIP_BENCH_ONLY and the others in bench/README.md.
func Bench(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "go", "run", "./internal/bench/cmd/bench")
	cmd.Dir = "engine"
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
