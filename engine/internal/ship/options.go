package ship

import (
	"io"
	"os"
	"strings"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/progress"
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
	Env    []string            // the environment, read once by the target; default os.Environ()
	Getenv func(string) string // default: a lookup in Env
	Stdout io.Writer           // summaries; default os.Stdout
	Stderr io.Writer           // steps, notes and warnings; default os.Stderr

	progress *progress.Reporter // the steps; default: a line at each start and end, on Stderr
	log      *runLog            // the tools' output, for <dist>/<target>.log; nil: none
}

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Getenv == nil {
		o.Getenv = lookup(o.Env)
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.progress == nil {
		o.progress = progress.New(progress.Options{Mode: progress.Lines, Out: o.Stderr})
	}
	return o
}

// lookup is getenv over env: the last setting of a name wins, as for a process.
func lookup(env []string) func(string) string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}
