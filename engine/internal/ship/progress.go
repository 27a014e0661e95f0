package ship

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/progress"
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
	d, err := openDist(r)
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
	github := o.Getenv(EnvGitHubActions) == "true"
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

// buildSteps shows one buildx run as steps: assemble, then, from BuildKit's first
// "pushing layers" line on, push (when the build pushes). It is the run's output.
type buildSteps struct {
	rep     *progress.Reporter
	subject string
	pushes  bool

	mu     sync.Mutex
	cur    *progress.Step
	pushed bool
	buf    []byte
}

func startBuild(rep *progress.Reporter, subject string, pushes bool) *buildSteps {
	return &buildSteps{rep: rep, subject: subject, pushes: pushes, cur: rep.Start("assemble", subject)}
}

func (b *buildSteps) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	for {
		i := bytes.IndexByte(b.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := b.buf[:i+1]
		if bytes.Contains(line, []byte("pushing layers")) {
			b.startPush()
		}
		b.cur.Log().Write(line)
		b.buf = b.buf[i+1:]
	}
}

// push is the step that pushes (started now if BuildKit never said it pushed).
func (b *buildSteps) push() *progress.Step {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.startPush()
	return b.cur
}

// startPush ends assemble and starts push, once, for a build that pushes; b.mu is held.
func (b *buildSteps) startPush() {
	if b.pushes && !b.pushed {
		b.cur.Done(nil)
		b.cur, b.pushed = b.rep.Start("push", b.subject), true
	}
}

// done ends the current step; err, when not nil, gets a short form when the step's
// log tail is on the screen already.
func (b *buildSteps) done(err error) error {
	b.mu.Lock()
	if len(b.buf) > 0 {
		b.cur.Log().Write(append(b.buf, '\n'))
		b.buf = nil
	}
	cur := b.cur
	b.mu.Unlock()
	cur.Done(err)
	return shorten(b.rep, cur, err)
}

// shorten cuts a tool's failure to its first line when its step's last log lines
// are on the screen already (not in Plain mode, which shows them all as they come
// and keeps the error whole).
func shorten(rep *progress.Reporter, s *progress.Step, err error) error {
	if err == nil || !s.ShownTail() {
		return err
	}
	first, _, ok := strings.Cut(err.Error(), "\n")
	if !ok {
		return err
	}
	where := ""
	if n := rep.LogName(); n != "" {
		where = "; whole log: " + n
	}
	first = strings.TrimSuffix(strings.TrimSpace(first), ":")
	return &shortError{msg: first + " (its last lines are above" + where + ")", err: err}
}

// shortError is an error shown by its first line; the whole is still in its chain.
type shortError struct {
	msg string
	err error
}

func (e *shortError) Error() string { return e.msg }
func (e *shortError) Unwrap() error { return e.err }
