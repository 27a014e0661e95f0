package ship

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/platform"
)

func TestSmokeFailureMessage(t *testing.T) {
	lines := func(n int, format string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, format+"\n", i)
		}
		return b.String()
	}
	base := smokeFailure{ref: "tsdb:dev", p: platform.Platform{OS: "linux", Arch: "amd64"}, port: 9090, path: "/-/healthy", last: "connection refused"}
	for _, tc := range []struct {
		name      string
		edit      func(*smokeFailure)
		want      []string
		lineCount int // lines of the whole message
	}{
		{"usage printed, exit 0: one short line", func(f *smokeFailure) {
			f.exited, f.logs = true, "usage: tsdb [<flags>]\n"+lines(119, "  --flag%d")
		}, []string{"exited with code 0 without serving on port 9090", `120 lines that start "usage: tsdb [<flags>]"`, "set Image.Args", "dist/image-test/tsdb-linux_amd64.log"}, 1},
		{"exit 1: the last 20 lines, the exit before the missing port", func(f *smokeFailure) {
			f.exited, f.code, f.startErr = true, 1, errors.New("container abc of tsdb:dev publishes no port for 9090/tcp")
			f.logs = lines(29, "starting %d") + "unable to create data directory: mkdir data/: permission denied\n"
		}, []string{"exited with code 1", "the last 20 of the 30 lines it printed", "starting 11\n", "mkdir data/: permission denied", "(all of it is in dist/image-test/tsdb-linux_amd64.log)"}, 21},
		{"no answer in time: the probe's last answer and the output", func(f *smokeFailure) {
			f.logs = "listening on :8080\n"
		}, []string{"GET /-/healthy on port 9090: connection refused", "; what it printed (all of it is in ", "listening on :8080"}, 2},
		{"exit with no output", func(f *smokeFailure) { f.exited, f.code = true, 2 }, []string{"exited with code 2 and printed nothing"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			tc.edit(&f)
			got := f.message("dist/image-test/tsdb-linux_amd64.log")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("message does not say %q:\n%s", w, got)
				}
			}
			if n := strings.Count(got, "\n") + 1; n != tc.lineCount {
				t.Errorf("message has %d lines, want %d:\n%s", n, tc.lineCount, got)
			}
			if strings.Contains(got, "publishes no port") {
				t.Errorf("the port error came before the exit:\n%s", got)
			}
		})
	}
}
