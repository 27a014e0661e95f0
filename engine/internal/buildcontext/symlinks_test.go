package buildcontext

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestSymlinks: a symlink out of the context is refused in one line naming the
// link, its target and the fix; links inside it, and links .dockerignore leaves out,
// are fine.
func TestSymlinks(t *testing.T) {
	root := t.TempDir()
	ctx := filepath.Join(root, "server")
	testfix.WriteTree(t, root, map[string]string{
		"tests/example_test.go": "package x\n",
		"server/go.mod":         "module example.com/server\n",
		"server/main.go":        "package main\n",
		"server/data/a.txt":     "a\n",
	})
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(ctx, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("data/a.txt", "a.txt")       // inside
	link("a.txt", "chain.txt")        // inside, through another link
	link("data/gone.txt", "gone.txt") // dangling, but inside
	if err := Symlinks(ctx, nil); err != nil {
		t.Fatalf("links inside the context: %v", err)
	}

	link("../tests/example_test.go", "example_test.go")
	err := Symlinks(ctx, nil)
	testfix.OneLine(t, err, "example_test.go is a symlink to ../tests/example_test.go", "outside the build context", "MAGESHIP_BUILD=host", ".dockerignore line example_test.go")
	if err := Symlinks(ctx, []string{"example_test.go"}); err != nil {
		t.Errorf("a link .dockerignore leaves out: %v", err)
	}

	link("/etc/hostname", "data/host")
	testfix.OneLine(t, Symlinks(ctx, []string{"example_test.go"}), "data/host is a symlink to /etc/hostname")
	link("../../tests", "data/up") // a chain that leaves through a link inside
	link("data/up", "via")
	testfix.OneLine(t, Symlinks(ctx, []string{"example_test.go", "data/host", "data/up"}), "via is a symlink to data/up")
}
