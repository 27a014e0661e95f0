package ship

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/crash"
	"github.com/mageship/mageship/engine/internal/project"
)

// BugReports is where a crash of the engine asks to be reported.
const BugReports = "https://github.com/mageship/mageship/issues"

// guardPanics runs the pipeline behind target and turns a panic in it (on this
// goroutine) into one line naming the target and asking for a bug report. The stack
// goes to the target's log, <dist>/<target>.log, never to the screen. o is the
// target's Options as withProgress set them up.
//
// A panic on a worker goroutine comes back as a crash.Panic error (the engine's
// workers run through crash.Recover) and is worded the same way.
func guardPanics(target string, o Options, run func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked(target, o, v, debug.Stack())
		}
	}()
	err = run()
	if p, ok := errors.AsType[*crash.Panic](err); ok {
		return panicked(target, o, p.Value, p.Stack)
	}
	return err
}

// panicked is the one line of a panic v in target, its stack written to the log.
func panicked(target string, o Options, v any, stack []byte) error {
	where := "its log"
	if o.log != nil {
		fmt.Fprintf(o.log, "mageship engine panic in target %s: %v\n\n%s", target, v, stack)
		if name := o.log.place(panicDist(o)); name != "" {
			where = name
		}
	}
	return fmt.Errorf("mage %s stopped on a bug in mageship (panic: %v), not on anything in your repository: please report it at %s with %s, which holds the stack", target, oneLine(fmt.Sprint(v)), BugReports, where)
}

// panicDist is where the log goes when the configuration was not resolved before
// the panic: MAGESHIP_DIST, else dist/ of the target's directory.
func panicDist(o Options) config.Resolved {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		dir = o.Dir
	}
	d := o.Getenv(config.EnvDist)
	if d == "" {
		d = config.DefaultDist
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(dir, d)
	}
	return config.Resolved{Project: project.Project{Dir: dir}, Dist: d}
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	for i, c := range s {
		if c == '\n' || c == '\r' {
			return s[:i]
		}
	}
	return s
}
