package project

import (
	"path/filepath"
	"testing"

	"github.com/mageship/mageship/engine/internal/testfix"
)

func TestNormalizeRemote(t *testing.T) {
	for in, want := range map[string]string{
		"git@github.com:acme/proxy.git":                 "https://github.com/acme/proxy",
		"ssh://git@github.com:22/acme/proxy.git":        "https://github.com/acme/proxy",
		"https://user:s3cret@gitlab.com/g/sub/repo.git": "https://gitlab.com/g/sub/repo",
		"https://github.com/acme/proxy":                 "https://github.com/acme/proxy",
		"git://git.example.org/tools.git":               "https://git.example.org/tools",
		"http://Code.Example.com/x/y/":                  "https://code.example.com/x/y",
		"/srv/git/repo.git":                             "",
		"file:///srv/git/repo.git":                      "",
		"../upstream":                                   "",
		"localhost:repo":                                "",
		"":                                              "",
	} {
		if got := normalizeRemote(in); got != want {
			t.Errorf("normalizeRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForgeURL(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/acme/proxy/v2":       "https://github.com/acme/proxy",
		"github.com/acme/mono/server/v3": "https://github.com/acme/mono",
		"github.com/acme/proxy":          "https://github.com/acme/proxy",
		"codeberg.org/a/b/c":             "https://codeberg.org/a/b",
		"go.acme.dev/proxy/v2":           "", // a vanity path names no page
		"example.com/server":             "",
		"github.com/acme":                "",
		"hello":                          "",
	} {
		if got := forgeURL(in); got != want {
			t.Errorf("forgeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSource: the origin remote of the repository above a nested module wins over
// its module path; without a remote, a vanity path gives no source at all.
func TestSource(t *testing.T) {
	root := t.TempDir()
	testfix.WriteTree(t, root, map[string]string{
		".git/config":    "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = git@github.com:other/x.git\n[remote \"origin\"]\n\turl = git@github.com:acme/mono.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
		"server/go.mod":  "module go.acme.dev/mono/server/v3\n\ngo 1.26\n",
		"server/main.go": mainSrc,
	})
	p, err := Load(filepath.Join(root, "server"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Source(), "https://github.com/acme/mono"; got != want {
		t.Errorf("Source() = %q, want %q", got, want)
	}
	// A worktree: .git is a file naming the git directory, whose commondir has the config.
	wt := t.TempDir()
	testfix.WriteTree(t, wt, map[string]string{
		".git":   "gitdir: " + filepath.Join(root, ".git", "worktrees", "w") + "\n",
		"go.mod": "module go.acme.dev/mono/v2\n",
	})
	testfix.WriteTree(t, root, map[string]string{".git/worktrees/w/commondir": "../..\n"})
	if got, want := (Project{Dir: wt, Module: "go.acme.dev/mono/v2"}).Source(), "https://github.com/acme/mono"; got != want {
		t.Errorf("Source() of a worktree = %q, want %q", got, want)
	}
	if got := (Project{Dir: t.TempDir(), Module: "go.acme.dev/proxy/v2"}).Source(); got != "" {
		t.Errorf("Source() of a vanity module with no remote = %q, want none", got)
	}
	if got, want := (Project{Dir: t.TempDir(), Module: "github.com/acme/proxy/v2"}).Source(), "https://github.com/acme/proxy"; got != want {
		t.Errorf("Source() of a /v2 module with no remote = %q, want %q", got, want)
	}
}
