package dist

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/project"
)

// TestPutJSON: the summary files are indented JSON ending in a newline, and a file
// of someone else's in their place is left alone, with the fix in the one line.
func TestPutJSON(t *testing.T) {
	root := t.TempDir()
	r := config.Resolved{Project: project.Project{Dir: root}, Dist: filepath.Join(root, "dist")}
	d, err := Open(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := PutJSON(d, "release.json", map[string]int{"images": 2}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "dist", "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"images\": 2\n}\n"; string(b) != want {
		t.Errorf("release.json = %q, want %q", b, want)
	}

	theirs := filepath.Join(root, "dist", "digests.json")
	if err := os.WriteFile(theirs, []byte("goreleaser's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = InTheWay(PutJSON(d, "digests.json", []string{"sha256:aaa"}), "nothing was built")
	var itw *owned.InTheWay
	if !errors.As(err, &itw) {
		t.Fatalf("err = %v, want an owned.InTheWay in its chain", err)
	}
	if want := itw.Error() + " (nothing was built); mageship never overwrites a file it did not write: move it away, or set MAGESHIP_DIST to a directory of mageship's own, e.g. MAGESHIP_DIST=out"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if b, _ := os.ReadFile(theirs); string(b) != "goreleaser's\n" {
		t.Errorf("their file became %q", b)
	}
	other := errors.New("disk full")
	if got := InTheWay(other, "nothing was built"); got != other {
		t.Errorf("InTheWay changed an error that is not about a file in the way: %v", got)
	}
}

func TestRepoName(t *testing.T) {
	r := config.Resolved{Project: project.Project{Dir: filepath.FromSlash("/src/svc")}}
	for path, want := range map[string]string{
		"/src/svc/dist":       "dist",
		"/src/svc/out/x.json": "out/x.json",
		"/src/svc":            ".",
		"/src/other/dist":     filepath.FromSlash("/src/other/dist"),
		"/tmp/dist":           filepath.FromSlash("/tmp/dist"),
	} {
		if got := RepoName(r, filepath.FromSlash(path)); got != want {
			t.Errorf("RepoName(%s) = %q, want %q", path, got, want)
		}
	}
}
