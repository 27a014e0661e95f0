package rigtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// Layout copies the fixture repository testdata/layouts/<name>, under the calling test
// package's directory, into a fresh directory; points the replace of mageship in each
// of its go.mod files at this checkout; and makes it a git repository with one commit.
// It returns the repository's root. The fixtures import the targets as the README
// shows, and get the rig's base images through the environment (Mage, Env), as every
// integration test does.
func Layout(t testing.TB, name string) string {
	t.Helper()
	root := Root(t)
	src, err := filepath.Abs(filepath.Join("testdata", "layouts", name))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), name)
	testfix.CopyTree(t, src, dst)
	// GOTOOLCHAIN=local: a fixture's go.mod may name a toolchain that does not exist.
	env := append(os.Environ(), "GOTOOLCHAIN=local")
	err = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "go.mod" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "github.com/mageship/mageship =>") {
			Run(t, filepath.Dir(p), env, "go", "mod", "edit", "-replace", "github.com/mageship/mageship="+root)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	Git(t, dst, "init", "-q", "-b", "main")
	Git(t, dst, "add", "-A")
	Git(t, dst, "commit", "-q", "-m", "layout "+name)
	return dst
}

// Vendor runs go mod vendor in the module dir and commits vendor/.
func Vendor(t testing.TB, dir string) {
	t.Helper()
	Run(t, dir, append(os.Environ(), "GOTOOLCHAIN=local"), "go", "mod", "vendor")
	Git(t, dir, "add", "-A")
	Git(t, dir, "commit", "-q", "-m", "vendor")
}
