package release

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// fakeRelease is a planned release of one image, production and debug, whose stages
// record what ran; fail names a stage to fail, cancel one that interrupts (as Ctrl-C
// does) and then succeeds.
type fakeRelease struct {
	log          []string
	fail, cancel string
	stop         context.CancelFunc
}

func (f *fakeRelease) stage(name string) error {
	f.log = append(f.log, name)
	switch name {
	case f.fail:
		return errors.New(name + " failed")
	case f.cancel:
		f.stop()
	}
	return nil
}

func (f *fakeRelease) stages() releaseStages {
	return releaseStages{
		compile: func(context.Context) error { return f.stage("compile") },
		build:   func(context.Context) error { return f.stage("push by digest") },
		verify:  func(_ context.Context, st *releaseStep) error { return f.stage("verify " + st.pub.Variant) },
		sign:    func(context.Context) error { return f.stage("sign") },
		publish: func(context.Context) (Summary, error) {
			return Summary{Version: "1.2.3"}, f.stage("tag")
		},
	}
}

// TestReleaseProtocolOrder pins the release protocol without Docker or a registry:
// push by digest, verify every variant, sign, and tag last; a failure or an
// interruption before tagging moves no tag, and says so.
func TestReleaseProtocolOrder(t *testing.T) {
	everything := []string{"compile", "push by digest", "verify production", "verify debug", "sign", "tag"}
	for _, tc := range []struct {
		name         string
		fail, cancel string
		want         []string // the stages that ran
		wantErr      string
	}{
		{name: "clean release", want: everything},
		{name: "compile fails", fail: "compile", want: everything[:1], wantErr: "compile failed (no tag was moved)"},
		{name: "push fails", fail: "push by digest", want: everything[:2], wantErr: "push by digest failed (no tag was moved)"},
		{name: "verify fails", fail: "verify debug", want: everything[:4], wantErr: "verify debug failed"},
		{name: "signing fails", fail: "sign", want: everything[:5], wantErr: "sign failed"},
		{name: "tag fails", fail: "tag", want: everything, wantErr: "tag failed"},
		{name: "Ctrl-C while pushing", cancel: "push by digest", want: everything[:5], wantErr: "stopped before tagging"},
		{name: "Ctrl-C while signing", cancel: "sign", want: everything[:5], wantErr: "stopped before tagging: interrupted (no tag was moved)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			f := &fakeRelease{fail: tc.fail, cancel: tc.cancel, stop: func() { cancel(errors.New("interrupted")) }}
			rp := &releasePlan{steps: []*releaseStep{{pub: Published{Variant: "production"}}, {pub: Published{Variant: "debug"}}}}
			_, err := rp.execute(ctx, f.stages())
			if !slices.Equal(f.log, tc.want) {
				t.Errorf("stages run: %q, want %q", f.log, tc.want)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("execute: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("execute error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}

func TestJoinLine(t *testing.T) {
	a, b := errors.New("linux/amd64: image has 12 MiB, over the budget of 10 MiB"), errors.New("linux/arm64: image has 11 MiB, over the budget of 10 MiB")
	if joinLine([]error{nil, nil}) != nil {
		t.Error("joinLine of nils is not nil")
	}
	if got := joinLine([]error{nil, a}); got != a {
		t.Errorf("joinLine of one error = %v, want it as it is", got)
	}
	got := joinLine([]error{a, nil, b})
	if want := a.Error() + "; " + b.Error(); got.Error() != want {
		t.Errorf("joinLine = %q, want %q", got, want)
	}
	if !errors.Is(got, a) || !errors.Is(got, b) {
		t.Error("joinLine lost an error from its chain")
	}
}

// TestVerifyAll: the images are verified at once, at most Jobs at a time, each
// image's production before its debug; the error is the first failing step's, and
// the other images still finish. In a synctest bubble: each verification blocks
// until the test lets one end, once every goroutine is blocked (synctest.Wait), so the
// number running then is all that can run at once.
func TestVerifyAll(t *testing.T) {
	synctest.Test(t, testVerifyAll)
}

func testVerifyAll(t *testing.T) {
	rp := &releasePlan{}
	rp.r.Jobs = 2
	for _, img := range []string{"reg/a", "reg/b", "reg/c"} {
		for _, v := range []string{"production", "debug"} {
			rp.steps = append(rp.steps, &releaseStep{pub: Published{Image: img, Variant: v}})
		}
	}
	var mu sync.Mutex
	var done []string
	running, most := 0, 0
	next := make(chan struct{})
	finished := make(chan struct{})
	var err error
	go func() {
		defer close(finished)
		err = rp.verifyAll(t.Context(), func(_ context.Context, st *releaseStep) error {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			<-next
			mu.Lock()
			defer mu.Unlock()
			running--
			name := st.pub.Image + " " + st.pub.Variant
			if name == "reg/b production" {
				return errors.New("reg/b: image runs as root")
			}
			done = append(done, name)
			return nil
		})
	}()
	for ended := false; !ended; {
		synctest.Wait()
		select {
		case <-finished:
			ended = true
		case next <- struct{}{}:
		}
	}
	if err == nil || err.Error() != "reg/b: image runs as root" {
		t.Errorf("err = %v, want reg/b's failure", err)
	}
	if most != 2 {
		t.Errorf("at most %d verifications ran at once, want 2 (Jobs)", most)
	}
	for _, img := range []string{"reg/a", "reg/c"} {
		p, d := slices.Index(done, img+" production"), slices.Index(done, img+" debug")
		if p < 0 || d < 0 || p > d {
			t.Errorf("%s: verified %v; want production, then debug", img, done)
		}
	}
	if slices.Contains(done, "reg/b debug") {
		t.Error("reg/b's debug was verified after its production failed")
	}
}
