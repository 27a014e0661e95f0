package ship

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/release"
)

// runLog is the log of one target's tools (BuildKit's output, mostly): a temporary
// file while the target runs, put into the output directory as <target>.log when it
// ends, once the configuration has said where that is (place).
type runLog struct {
	mu   sync.Mutex
	f    *os.File // created by the first Write: a target that runs no tool has none
	rel  string   // release.log
	dist *owned.Dist
}

func (l *runLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		f, err := os.CreateTemp("", "mageship-*.log")
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	return l.f.Write(p)
}

// place opens the output directory of r for the log and returns how messages call
// the log there ("" when the directory cannot be used: the log then stays where it is).
func (l *runLog) place(r config.Resolved) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dist != nil {
		return l.dist.Name(l.rel)
	}
	d, err := dist.Open(r)
	if err != nil || d.Check(l.rel) != nil {
		return ""
	}
	l.dist = d
	return d.Name(l.rel)
}

// close puts the log into the output directory, when anything was written to it and
// it has a place there. A log with no place there (a file of another tool is where it
// would go) is kept where it is when the target failed, and warn says so; otherwise it
// is removed.
func (l *runLog) close(failed bool, warn io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	name := l.f.Name()
	l.f.Close()
	if l.dist == nil && !failed {
		os.Remove(name)
		return
	}
	if l.dist == nil {
		fmt.Fprintf(warn, "the whole log of this run: %s\n", name)
		return
	}
	data, err := os.ReadFile(name)
	if err == nil {
		_, err = l.dist.Put(owned.File{Rel: l.rel, Data: data})
	}
	if err != nil {
		fmt.Fprintf(warn, "warning: the log of this run stays in %s: %v\n", name, err)
		return
	}
	os.Remove(name)
}

// withProgress sets o up to show target's steps (progress.EnvProgress; live when
// stderr is a terminal) and to log its tools' output, and returns the function that
// ends both and gives the target's error its final form.
func withProgress(target string, o Options) (Options, func(error) error, error) {
	width, height, terminal := 0, 0, false
	if f, ok := o.Stderr.(*os.File); ok {
		width, height, terminal = progress.Terminal(f)
	}
	mode, err := progress.ParseMode(o.Getenv(progress.EnvProgress), terminal)
	if err != nil {
		return o, nil, err
	}
	l := &runLog{rel: strings.ReplaceAll(target, ":", "-") + ".log"}
	rep := progress.New(progress.Options{Mode: mode, Out: o.Stderr, Log: l, Width: width, Height: height})
	raw := o.Stderr
	o.progress, o.log = rep, l
	o.Stdout, o.Stderr = rep.Writer(o.Stdout), rep.Writer(o.Stderr)
	github := o.Getenv(release.EnvGitHubActions) == "true"
	return o, func(err error) error {
		rep.Close()
		l.close(err != nil, raw)
		if err != nil && github {
			// A workflow command: GitHub shows it as an annotation of the job.
			fmt.Fprintf(o.Stdout, "::error title=mage %s::%s\n", target, escapeWorkflow(err.Error()))
		}
		return err
	}, nil
}

// escapeWorkflow escapes a GitHub Actions workflow command's message.
func escapeWorkflow(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}
