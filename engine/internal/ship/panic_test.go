package ship

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/mageship/mageship/engine/internal/crash"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestGuardPanics: a panic in a target is one line naming the target and asking for
// a bug report; the stack is in dist/<target>.log and never on the screen.
func TestGuardPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"on the target's goroutine", func() error {
			var s []int
			return stale(s, 5) // a runtime error, as in issue #26
		}},
		{"on a worker", func() error {
			var g errgroup.Group
			g.Go(crash.Recover(func() error {
				var s []int
				return stale(s, 5)
			}))
			return g.Wait()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			o := Options{Dir: dir, Env: []string{"MAGESHIP_PROGRESS=plain"}, Stdout: &stdout, Stderr: &stderr}.withDefaults()
			o, finish, err := withProgress("image:test", o)
			if err != nil {
				t.Fatal(err)
			}
			err = finish(guardPanics("image:test", o, tc.run))
			testfix.OneLine(t, err, "mage image:test", "bug in mageship", BugReports, "dist/image-test.log")
			if strings.Contains(stdout.String()+stderr.String(), "goroutine") {
				t.Errorf("the stack reached the screen:\n%s%s", stdout.String(), stderr.String())
			}
			log, rerr := os.ReadFile(filepath.Join(dir, "dist", "image-test.log"))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !strings.Contains(string(log), "stale") || !strings.Contains(string(log), "index out of range") {
				t.Errorf("dist/image-test.log has no stack:\n%s", log)
			}
		})
	}
}

func stale(s []int, i int) error {
	_ = s[i]
	return nil
}
