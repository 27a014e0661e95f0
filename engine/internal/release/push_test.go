package release

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestRetryPush: transient push failures are tried again after each wait in turn,
// the blob race once at once, and anything else not at all.
func TestRetryPush(t *testing.T) {
	status := func(code int) error {
		return &buildx.Error{Kind: buildx.FailurePushStatus, Status: code, Registry: "r.example", Err: errors.New("exit status 1")}
	}
	race := &buildx.Error{Kind: buildx.FailureBlobRace, Err: errors.New("exit status 1")}
	dropped := &buildx.Error{Kind: buildx.FailurePushDropped, Err: errors.New("exit status 1")}
	auth := &buildx.Error{Kind: buildx.FailureAuth, Status: 401, Err: errors.New("exit status 1")}
	waits := []time.Duration{time.Second, 3 * time.Second, 9 * time.Second}
	for _, tc := range []struct {
		name      string
		fails     []error
		wantErr   bool
		wantRuns  int
		wantWaits []time.Duration
	}{
		{name: "through", wantRuns: 1},
		{name: "three 500s, then through", fails: []error{status(500), status(502), status(500)}, wantRuns: 4, wantWaits: waits},
		{name: "a 429 and a reset", fails: []error{status(429), dropped}, wantRuns: 3, wantWaits: waits[:2]},
		{name: "500 every time", fails: []error{status(500), status(500), status(500), status(500), status(500)}, wantErr: true, wantRuns: 4, wantWaits: waits},
		{name: "the blob race once", fails: []error{race}, wantRuns: 2},
		{name: "the blob race twice", fails: []error{race, race}, wantErr: true, wantRuns: 2},
		{name: "a race, then a 500", fails: []error{race, status(503)}, wantRuns: 3, wantWaits: waits[:1]},
		{name: "auth is not retried", fails: []error{auth}, wantErr: true, wantRuns: 1},
		{name: "a 400 is not retried", fails: []error{status(400)}, wantErr: true, wantRuns: 1},
		{name: "a failure buildx did not classify", fails: []error{errors.New("docker: not found")}, wantErr: true, wantRuns: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, noted := 0, 0
			var slept []time.Duration
			retries, err := retryPush(context.Background(), waits,
				func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
				func(*buildx.Error, time.Duration) { noted++ },
				func(context.Context) error {
					runs++
					if runs <= len(tc.fails) {
						return tc.fails[runs-1]
					}
					return nil
				})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			if runs != tc.wantRuns || retries != tc.wantRuns-1 {
				t.Errorf("ran %d times, %d retries; want %d runs", runs, retries, tc.wantRuns)
			}
			if diff := cmp.Diff(tc.wantWaits, slept); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if noted != retries {
				t.Errorf("%d notes for %d retries", noted, retries)
			}
		})
	}
}

// TestRetryPushStopsWithTheContext: an interrupted wait ends the retries with the
// push's failure.
func TestRetryPushStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fail := &buildx.Error{Kind: buildx.FailurePushStatus, Status: 500, Err: errors.New("exit status 1")}
	runs := 0
	_, err := retryPush(ctx, []time.Duration{time.Hour}, sleepCtx, func(*buildx.Error, time.Duration) { cancel() },
		func(context.Context) error { runs++; return fail })
	if !errors.Is(err, fail) || runs != 1 {
		t.Errorf("retryPush after cancel = %v after %d runs, want the push's failure after 1", err, runs)
	}
}

// TestStepFailed: a failed variant is named by its image, never by the build's
// temporary files, with what the registry answered, the fix, and the tries.
func TestStepFailed(t *testing.T) {
	st := &releaseStep{pub: Published{Image: "localhost:5002/i23/app", Variant: "production"}}
	st.spec.Build.Platforms = []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}
	what := "buildx build of /tmp/mageship-release-1/app-production.Dockerfile (target runtime) for linux/amd64,linux/arm64"
	push := &buildx.Error{What: what, Kind: buildx.FailurePushStatus, Status: 500, Registry: "localhost:5002",
		Line: "ERROR: failed to push", Output: "#12 pushing layers\nERROR: failed to push", Err: errors.New("exit status 1")}
	err := st.failed(push, 3)
	testfix.OneLine(t, err, "pushing localhost:5002/i23/app (production) for linux/amd64,linux/arm64 (4 tries): registry localhost:5002 answered 500 Internal Server Error to BuildKit's push: try again later")
	if strings.Contains(err.Error(), "/tmp/") {
		t.Errorf("the error names a temporary file: %v", err)
	}
	var be *buildx.Error
	if !errors.As(err, &be) || be.Output != push.Output {
		t.Error("the buildx failure and its output are not in the chain")
	}

	other := &buildx.Error{What: what, Err: errors.New("exit status 1"), Output: "ERROR: process did not complete successfully"}
	got := st.failed(other, 0).Error()
	if want := "building localhost:5002/i23/app (production) for linux/amd64,linux/arm64: exit status 1:\nERROR: process did not complete successfully"; got != want {
		t.Errorf("failed(other) = %q, want %q", got, want)
	}
}

func TestRetriedString(t *testing.T) {
	for _, tc := range []struct {
		r    Retried
		want string
	}{
		{Retried{Pushes: 1}, "1 push"},
		{Retried{Pushes: 2, Requests: 1}, "2 pushes, 1 registry request"},
		{Retried{Requests: 3}, "3 registry requests"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.r, got, tc.want)
		}
	}
}
