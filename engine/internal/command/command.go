package command

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Cmd is one child process, computed before it runs.
type Cmd struct {
	// Name is the program, looked up on this process's PATH unless it has a slash.
	Name string
	// Args are the arguments after Name.
	Args []string
	// Env is the child's whole environment, KEY=VALUE. Callers pass it explicitly
	// (the engine reads no environment of its own); nil would inherit this process's.
	Env []string
	// Dir is the working directory; empty is this process's.
	Dir string
	// Stdout and Stderr receive the output as it comes; nil discards it (it is still
	// kept for the error, and returned by Output and CombinedOutput).
	Stdout, Stderr io.Writer
	// Interrupt sends SIGINT when ctx is done, so that the program can clean up (buildx
	// cancels its BuildKit session), and kills it WaitDelay later. Default: killed at once.
	Interrupt bool
	// WaitDelay is how long, once ctx is done or the program has exited, to wait for it
	// and for children still holding its output (the go command's compilers, cosign's
	// helpers) before they are killed and the pipes closed. Default 5 s.
	WaitDelay time.Duration
}

// String is the command line as the errors show it: name and arguments.
func (c Cmd) String() string {
	return strings.Join(append([]string{c.Name}, c.Args...), " ")
}

// TailLines is how many of the last output lines an Error carries.
const TailLines = 50

// defaultWaitDelay is Cmd.WaitDelay's default.
const defaultWaitDelay = 5 * time.Second

// Error is a command that failed to start or exited non-zero.
type Error struct {
	// Cmd is the command line (Cmd.String) and Dir its directory. The environment is
	// not kept: it may hold secrets (COSIGN_PASSWORD), and an error gets printed.
	Cmd, Dir string
	// Err is what os/exec said: an *exec.ExitError, or why the program did not
	// start (exec.ErrNotFound ...). When ctx was done, it is what killing it left;
	// callers that want to say "interrupted" check ctx themselves.
	Err error
	// Output is the last TailLines lines of the program's standard error (for
	// CombinedOutput, of its output), without trailing blank lines.
	Output string
}

// Error reads "running NAME ARGS [in DIR]: ERR" and, when the program printed
// anything, a colon and its last lines on the lines below.
func (e *Error) Error() string {
	s := "running " + e.Cmd
	if e.Dir != "" {
		s += " in " + e.Dir
	}
	s += ": " + e.Err.Error()
	if e.Output != "" {
		s += ":\n" + e.Output
	}
	return s
}

// Unwrap returns Err: errors.As finds the *exec.ExitError, errors.Is exec.ErrNotFound.
// A caller that words the failure itself (and adds the output its own way) takes
// errors.Unwrap(err).
func (e *Error) Unwrap() error { return e.Err }

// Run runs c under ctx and returns when it has exited: nil, or an *Error that carries
// the end of its standard error.
func Run(ctx context.Context, c Cmd) error {
	tail := NewTail(TailLines)
	return run(ctx, c, orDiscard(c.Stdout), io.MultiWriter(orDiscard(c.Stderr), tail), tail)
}

// Output runs c and returns its standard output, which also streams to c.Stdout when
// set. A failure is an *Error carrying the end of its standard error.
func Output(ctx context.Context, c Cmd) ([]byte, error) {
	var out bytes.Buffer
	tail := NewTail(TailLines)
	err := run(ctx, c, io.MultiWriter(orDiscard(c.Stdout), &out), io.MultiWriter(orDiscard(c.Stderr), tail), tail)
	return out.Bytes(), err
}

// CombinedOutput runs c and returns its standard output and error interleaved, all of
// it, also when it fails (then with an *Error carrying the end of it). c.Stdout and
// c.Stderr are not used.
func CombinedOutput(ctx context.Context, c Cmd) ([]byte, error) {
	var out bytes.Buffer
	tail := NewTail(TailLines)
	// One writer for both: exec then has one goroutine at a time write to it.
	w := io.MultiWriter(&out, tail)
	err := run(ctx, c, w, w, tail)
	return out.Bytes(), err
}

func run(ctx context.Context, c Cmd, stdout, stderr io.Writer, tail *Tail) error {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env, cmd.Dir = c.Env, c.Dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if c.Interrupt {
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	}
	cmd.WaitDelay = c.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = defaultWaitDelay
	}
	if err := cmd.Run(); err != nil {
		return &Error{Cmd: c.String(), Dir: c.Dir, Err: err, Output: tail.String()}
	}
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
