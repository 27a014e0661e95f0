package ship

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/project"
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

// load resolves the configuration for the module in o.Dir: the repository's defaults,
// then what the magefile set (o.Config), then the environment.
func load(o Options) (config.Resolved, error) {
	p, err := project.Load(o.Dir)
	if err != nil {
		return config.Resolved{}, err
	}
	if p.Requires > 0 && !p.HasGoSum && !p.Vendor {
		return config.Resolved{}, fmt.Errorf("go.sum is missing but go.mod requires %d modules: run go mod tidy and commit go.sum", p.Requires)
	}
	r, err := config.Resolve(p, o.Config, o.Getenv)
	r.DefaultTemplate, r.DefaultIgnore = o.Assets.Template, o.Assets.Ignore
	r.Env = o.Env
	if err == nil && o.log != nil {
		if name := o.log.place(r); name != "" {
			o.progress.SetLogName(name)
		}
	}
	return r, err
}
