package ship

import (
	"bytes"
	"strings"
	"testing"
)

// TestTargetChecksItsCall: a name the engine does not know, or the wrong number of
// arguments, is one line, before anything is resolved or shown.
func TestTargetChecksItsCall(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"image:push", nil, `the engine has no target "image:push" (it knows binaries, dockerfile, dockerignore, doctor, image, image:debug, image:sbom, image:test, image:verify, release, release:merge, release:platform): the targets and the engine are from different mageship versions; run go mod tidy and mage -f`},
		{"release:platform", nil, "target release:platform takes 1 arguments, got 0"},
		{"release", []string{"linux/amd64"}, "target release takes 0 arguments, got 1"},
	} {
		var stdout, stderr bytes.Buffer
		err := Target(t.Context(), tc.name, tc.args, Options{Dir: t.TempDir(), Env: []string{}, Stdout: &stdout, Stderr: &stderr})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s %v: err = %v, want %q", tc.name, tc.args, err, tc.want)
		}
		if strings.Contains(err.Error(), "\n") || stdout.Len()+stderr.Len() > 0 {
			t.Errorf("%s %v: not one line before anything ran: %q, stdout %q, stderr %q", tc.name, tc.args, err, stdout.String(), stderr.String())
		}
	}
}

// TestReleaseOptions: a release reads what the target read, once: its environment,
// its writers and its steps, and resolves the configuration as every target does.
func TestReleaseOptions(t *testing.T) {
	var stdout, stderr bytes.Buffer
	o := Options{Dir: t.TempDir(), Env: []string{"MAGESHIP_JOBS=3", "MAGESHIP_JOBS=4"}, Stdout: &stdout, Stderr: &stderr}.withDefaults()
	ro := o.release()
	if ro.Getenv("MAGESHIP_JOBS") != "4" || len(ro.Env) != 2 || ro.Stdout != &stdout || ro.Stderr != &stderr || ro.Progress != o.progress {
		t.Errorf("release options %+v do not carry the target's", ro)
	}
	if _, err := ro.Load(); err == nil {
		t.Error("Load resolved a directory with no go.mod")
	}
}
