//go:build mage

// The magefile of the mageship repository itself: how it tests and lints itself.
// The examples under examples/ are where its own image targets are dogfooded.
package main

import (
	"context"
	"os"

	"github.com/mageship/mageship/internal/dev"
)

// Test runs go vet and all tests, unit and integration (the rig must be up: scripts/rig up); under CI=true a skipped test fails the run.
func Test(ctx context.Context) error {
	return dev.Test(ctx, os.Stdout, dev.InCI())
}

// Lint checks gofmt and runs go vet on the module and the examples.
func Lint(ctx context.Context) error {
	return dev.Lint(ctx, os.Stdout)
}
