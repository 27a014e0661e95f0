package progress

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestBuildStepsSplitsAtThePush(t *testing.T) {
	var screen, log strings.Builder
	rep := New(Options{Mode: Lines, Out: &screen, Log: &log, LogName: "dist/release.log"})
	b := StartBuild(rep, "hello (production)", true)
	fmt.Fprint(b, "#11 exporting to image\n#11 exporting layers 0.3s done\n#11 pushing lay")
	fmt.Fprint(b, "ers 0.1s done\n#11 DONE 0.4s")
	b.Push().AddBytes(1 << 20)
	if err := b.Done(nil); err != nil {
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
	rep := New(Options{Mode: Lines, Out: &screen, LogName: "dist/image.log"})
	b := StartBuild(rep, "hello (production)", false)
	fmt.Fprint(b, "#3 [runtime 1/2] FROM localhost:5000/nope\nERROR: localhost:5000/nope: not found\n")
	cause := errors.New("buildx build of hello failed: exit status 1\nERROR: localhost:5000/nope: not found")
	err := b.Done(cause)
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
	rep = New(Options{Mode: Plain, Out: &screen})
	b = StartBuild(rep, "hello (production)", false)
	fmt.Fprint(b, "ERROR: not found\n")
	if err := b.Done(cause); err.Error() != cause.Error() {
		t.Errorf("plain error = %q, want it whole", err)
	}
}
