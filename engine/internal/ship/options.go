package ship

import (
	"io"
	"os"

	"github.com/mageship/mageship/engine/internal/config"
)

// Assets are the two files mageship renders into builds. They live at the top of the
// repository (Dockerfile.tmpl, .dockerignore), where the targets embed them and send
// them to the engine with every request.
type Assets struct {
	Template string
	Ignore   string
}

// Options is what a pipeline reads from its surroundings. The zero value means: the
// current directory, the process environment, os.Stdout and os.Stderr.
type Options struct {
	Config config.Config       // what the magefile set
	Assets Assets              // mageship's Dockerfile.tmpl and .dockerignore
	Dir    string              // the module root; default "."
	Getenv func(string) string // default os.Getenv
	Stdout io.Writer           // summaries; default os.Stdout
	Stderr io.Writer           // build progress; default os.Stderr
}

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return o
}
