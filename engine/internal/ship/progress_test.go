package ship

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/progress"
)

func TestBuildStepsSplitsAtThePush(t *testing.T) {
	var screen, log strings.Builder
	rep := progress.New(progress.Options{Mode: progress.Lines, Out: &screen, Log: &log, LogName: "dist/release.log"})
	b := startBuild(rep, "hello (production)", true)
	fmt.Fprint(b, "#11 exporting to image\n#11 exporting layers 0.3s done\n#11 pushing lay")
	fmt.Fprint(b, "ers 0.1s done\n#11 DONE 0.4s")
	b.push().AddBytes(1 << 20)
	if err := b.done(nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tm := range rep.Timings() {
		got = append(got, fmt.Sprintf("%s %s %d", tm.Step, tm.Subject, tm.Bytes))
	}
	if want := []string{"assemble hello (production) 0", "push hello (production) 1048576"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("steps = %q, want %q", got, want)
	}
	wantLog := "[assemble hello (production)] #11 exporting to image\n" +
		"[assemble hello (production)] #11 exporting layers 0.3s done\n" +
		"[push hello (production)] #11 pushing layers 0.1s done\n" +
		"[push hello (production)] #11 DONE 0.4s\n"
	if log.String() != wantLog {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), wantLog)
	}
	if strings.Contains(screen.String(), "#11") {
		t.Errorf("BuildKit's output reached the screen:\n%s", screen.String())
	}
}

func TestBuildStepsFailureIsShort(t *testing.T) {
	var screen strings.Builder
	rep := progress.New(progress.Options{Mode: progress.Lines, Out: &screen, LogName: "dist/image.log"})
	b := startBuild(rep, "hello (production)", false)
	fmt.Fprint(b, "#3 [runtime 1/2] FROM localhost:5000/nope\nERROR: localhost:5000/nope: not found\n")
	cause := errors.New("buildx build of hello failed: exit status 1\nERROR: localhost:5000/nope: not found")
	err := b.done(cause)
	if !errors.Is(err, cause) {
		t.Errorf("the short error lost its cause: %v", err)
	}
	want := "buildx build of hello failed: exit status 1 (its last lines are above; whole log: dist/image.log)"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !strings.Contains(screen.String(), "  ERROR: localhost:5000/nope: not found\n") {
		t.Errorf("the failing step's tail is not on the screen:\n%s", screen.String())
	}

	// In plain mode everything was on the screen as it came: the error stays whole.
	rep = progress.New(progress.Options{Mode: progress.Plain, Out: &screen})
	b = startBuild(rep, "hello (production)", false)
	fmt.Fprint(b, "ERROR: not found\n")
	if err := b.done(cause); err.Error() != cause.Error() {
		t.Errorf("plain error = %q, want it whole", err)
	}
}

func TestGitHubSummary(t *testing.T) {
	s := ReleaseSummary{Version: "1.2.4", Images: []Published{{
		Image: "localhost:5000/acme/hello", Variant: "production", Digest: "sha256:aaa",
		Tags: []string{"1.2.4", "1.2"}, Skipped: []string{"1", "latest"}, Signature: "localhost:5000/acme/hello@sha256:sig",
		Platforms: []PublishedPlatform{{Platform: "linux/amd64", Size: 2 << 20}, {Platform: "linux/arm64", Size: 3 << 20}},
	}}, Steps: []progress.Timing{{Step: "resolve", Seconds: 0.4}, {Step: "compile", Subject: "linux/amd64", Seconds: 0.61}}}
	want := "### mageship released 1.2.4\n\n" +
		"| Image | Variant | Digest | Platforms (compressed) | Tags | Signature |\n" +
		"|---|---|---|---|---|---|\n" +
		"| `localhost:5000/acme/hello` | production | `sha256:aaa` | linux/amd64 2.0 MiB<br>linux/arm64 3.0 MiB | `1.2.4` `1.2` (not moved: `1` `latest`) | `localhost:5000/acme/hello@sha256:sig` |\n" +
		"\nSteps: resolve 0.4s, compile linux/amd64 0.6s\n"
	if got := githubSummary(s); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestEscapeWorkflow(t *testing.T) {
	if got, want := escapeWorkflow("100% failed\r\nsee log"), "100%25 failed%0D%0Asee log"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
