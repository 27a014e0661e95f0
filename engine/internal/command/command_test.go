package command

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func sh(t *testing.T, script string) Cmd {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	return Cmd{Name: "sh", Args: []string{"-c", script}, Env: []string{"PATH=/usr/bin:/bin", "GREETING=hi"}}
}

func TestOutput(t *testing.T) {
	c := sh(t, `echo "$GREETING from $(pwd)"; echo progress >&2`)
	c.Dir = t.TempDir()
	out, err := Output(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "hi from "+c.Dir+"\n"; got != want {
		t.Errorf("Output = %q, want %q: the env and dir did not reach the child", got, want)
	}
}

func TestRunError(t *testing.T) {
	var streamed strings.Builder
	c := sh(t, `for i in $(seq 1 80); do echo "line $i" >&2; done; echo out; exit 3`)
	c.Stderr = &streamed
	err := Run(t.Context(), c)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("err does not wrap the exit status 3: %v", err)
	}
	got := strings.Split(ce.Output, "\n")
	if len(got) != TailLines || got[0] != "line 31" || got[len(got)-1] != "line 80" {
		t.Errorf("Output kept %d lines, %q .. %q; want the last %d", len(got), got[0], got[len(got)-1], TailLines)
	}
	if !strings.HasPrefix(err.Error(), "running sh -c ") || !strings.Contains(err.Error(), ": exit status 3:\nline 31\n") {
		t.Errorf("err = %q", err)
	}
	if strings.Count(streamed.String(), "\n") != 80 {
		t.Errorf("stderr not streamed to Cmd.Stderr: %q", streamed.String())
	}
}

func TestCombinedOutput(t *testing.T) {
	out, err := CombinedOutput(t.Context(), sh(t, `echo one; echo two >&2; exit 1`))
	if err == nil {
		t.Fatal("want the exit error")
	}
	if string(out) != "one\ntwo\n" {
		t.Errorf("output = %q, want both streams, also on failure", out)
	}
	if !strings.HasSuffix(err.Error(), "exit status 1:\none\ntwo") {
		t.Errorf("err = %q", err)
	}
}

func TestNotFound(t *testing.T) {
	err := Run(t.Context(), Cmd{Name: "mageship-no-such-program", Env: []string{"PATH=" + t.TempDir()}})
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("err = %v, want exec.ErrNotFound", err)
	}
}

func TestInterrupt(t *testing.T) {
	c := sh(t, `trap 'echo interrupted >&2; exit 130' INT; echo started >&2; while :; do sleep 0.05; done`)
	c.Interrupt = true
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	c.Stderr = writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "started") {
			close(started)
		}
		return len(p), nil
	})
	done := make(chan error, 1)
	begin := time.Now()
	go func() { done <- Run(ctx, c) }()
	<-started
	cancel()
	err := <-done
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Output, "interrupted") {
		t.Errorf("err = %v, want the program to have seen SIGINT", err)
	}
	if d := time.Since(begin); d >= defaultWaitDelay {
		t.Errorf("took %v, want well under the kill delay", d)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestTail(t *testing.T) {
	tl := NewTail(3)
	for _, chunk := range []string{"one\ntw", "o\r\nthree\n", "four\nfi", "ve"} {
		tl.Write([]byte(chunk))
	}
	if got, want := tl.String(), "three\nfour\nfive"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
	long := NewTail(2)
	long.Write([]byte(strings.Repeat("x", 3*maxLineLen) + "\n"))
	if got := len(long.String()); got != maxLineLen {
		t.Errorf("kept a line of %d bytes, want it capped at %d", got, maxLineLen)
	}
}

func TestLookupEnv(t *testing.T) {
	env := []string{"A=1", "AB=2", "A=3", "EMPTY="}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{{"A", "3", true}, {"AB", "2", true}, {"EMPTY", "", true}, {"B", "", false}} {
		if got, ok := LookupEnv(env, tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("LookupEnv(%s) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
