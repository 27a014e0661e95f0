package release

import (
	"io"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/progress"
)

// Options is what a release reads from its surroundings; ship's targets fill it in.
type Options struct {
	// Load resolves the configuration (the repository, the magefile, the
	// environment), as every target does.
	Load   func() (config.Resolved, error)
	Env    []string            // the environment, read once by the target
	Getenv func(string) string // a lookup in Env
	Stdout io.Writer           // summaries
	Stderr io.Writer           // notes and warnings

	Progress *progress.Reporter // the steps
}
