package crash

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
)

func TestRecoverOnAWorker(t *testing.T) {
	var g errgroup.Group
	g.Go(Recover(func() error {
		var m map[string]int
		m["x"] = 1 // a nil map write panics
		return nil
	}))
	g.Go(Recover(func() error { return nil }))
	err := g.Wait()
	var p *Panic
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want a *Panic", err)
	}
	if !strings.Contains(p.Error(), "assignment to entry in nil map") || !strings.Contains(string(p.Stack), "crash_test.go") {
		t.Errorf("panic %q, stack:\n%s", p.Error(), p.Stack)
	}
}

func TestRecoverPassesErrors(t *testing.T) {
	want := errors.New("plain")
	if err := Recover(func() error { return want })(); err != want {
		t.Errorf("err = %v, want %v", err, want)
	}
	if err := Recover(func() error { return nil })(); err != nil {
		t.Errorf("err = %v, want nil", err)
	}
}
