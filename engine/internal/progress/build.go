package progress

import (
	"bytes"
	"strings"
	"sync"
)

// Build shows one buildx run as steps: assemble, then, from BuildKit's first
// "pushing layers" line on, push (when the build pushes). It is the run's output.
type Build struct {
	rep     *Reporter
	subject string
	pushes  bool

	mu     sync.Mutex
	cur    *Step
	pushed bool
	buf    []byte
}

// StartBuild starts subject's assemble step; pushes: a push step follows.
func StartBuild(rep *Reporter, subject string, pushes bool) *Build {
	return &Build{rep: rep, subject: subject, pushes: pushes, cur: rep.Start("assemble", subject)}
}

func (b *Build) Write(p []byte) (int, error) {
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

// Push is the step that pushes (started now if BuildKit never said it pushed).
func (b *Build) Push() *Step {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.startPush()
	return b.cur
}

// startPush ends assemble and starts push, once, for a build that pushes; b.mu is held.
func (b *Build) startPush() {
	if b.pushes && !b.pushed {
		b.cur.Done(nil)
		b.cur, b.pushed = b.rep.Start("push", b.subject), true
	}
}

// Done ends the current step; err, when not nil, gets a short form when the step's
// log tail is on the screen already.
func (b *Build) Done(err error) error {
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
func shorten(rep *Reporter, s *Step, err error) error {
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
