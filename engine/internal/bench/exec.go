package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mageship/mageship/engine/internal/command"
)

// runner runs computed commands. Each command's output (stdout and stderr) goes to
// its own log file under logs; a failure's error names the command and carries the
// end of that log.
type runner struct {
	logs string
}

// run runs c with ctx reaching the child (an interrupt first, a kill 10 s later),
// logging its output to logs/<log>.log, and returns what it wrote to stdout.
func (r *runner) run(ctx context.Context, c Cmd, log string) (string, error) {
	if err := os.MkdirAll(r.logs, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(r.logs, log+".log")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fmt.Fprintf(f, "$ %s\n# in %s\n", c, c.Dir)
	out, err := command.Output(ctx, command.Cmd{Name: c.Name, Args: c.Args, Env: c.Env, Dir: c.Dir,
		Stdout: f, Stderr: f, Interrupt: true, WaitDelay: 10 * time.Second})
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("running %s: %w", c, context.Cause(ctx))
		}
		return "", fmt.Errorf("running %s in %s: %v; its output is in %s, ending:\n%s", c, c.Dir, errors.Unwrap(err), path, tailFile(path, 40))
	}
	return string(out), nil
}

// parallel runs every command at once; the first failure stops the others and is
// the error returned, after all have ended.
func (r *runner) parallel(ctx context.Context, cs []Cmd, log string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i, c := range cs {
		wg.Go(func() {
			if _, err := r.run(ctx, c, fmt.Sprintf("%s-%d", log, i)); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
