package ship

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
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
		publish: func(context.Context) (ReleaseSummary, error) {
			return ReleaseSummary{Version: "1.2.3"}, f.stage("tag")
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
