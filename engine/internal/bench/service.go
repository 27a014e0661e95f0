package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// service is one service the bench builds: a git repository, tagged v0.1.0, that
// every contender gets its own copy of.
type service struct {
	Name   string // hello, large
	Main   string // the main package, e.g. ./cmd/hello
	Binary string // the binary's name, e.g. hello
	// File is where the one-line change is made, relative to the repository; it
	// holds the /healthz line `fmt.Fprintf(w, "ok %s\n", version)`.
	File string
	Src  string // the prepared repository
	Info serviceInfo
}

// serviceInfo says how big a service is.
type serviceInfo struct {
	Packages      int    `json:"packages"`       // packages of the module (go list ./...)
	Modules       int    `json:"modules"`        // modules in the build list, less the main module
	DirectModules int    `json:"direct_modules"` // third-party modules the module's code imports
	Lines         int    `json:"go_lines"`       // lines of the module's own .go files
	Source        string `json:"source"`         // where it comes from
	ChangedFile   string `json:"changed_file"`   // where the warm runs' one-line change is
}

// serviceNames are the services a full run measures, in order.
var serviceNames = []string{"hello", "large"}

// healthzLine matches the format string of the /healthz line, as the bench may have
// changed it before ("ok %s r3\n", "ok %s c2-x1y2z3\n").
var healthzLine = regexp.MustCompile(`"ok %s( [0-9a-z-]+)?\\n"`)

// changeLine makes a one-line source change: the /healthz format string becomes
// "ok %s <mark>\n". It changes exactly one line, or fails.
func changeLine(src, mark string) (string, error) {
	lines := strings.Split(src, "\n")
	found := -1
	for i, l := range lines {
		if healthzLine.MatchString(l) {
			if found >= 0 {
				return "", fmt.Errorf("two lines carry the /healthz format string (lines %d and %d): the change must be one line", found+1, i+1)
			}
			found = i
		}
	}
	if found < 0 {
		return "", fmt.Errorf(`no line carries the /healthz format string "ok %%s\n" to change`)
	}
	lines[found] = healthzLine.ReplaceAllLiteralString(lines[found], `"ok %s `+mark+`\n"`)
	return strings.Join(lines, "\n"), nil
}

// localMark is the local scenario's n-th change: "r<n>".
func localMark(n int) string { return "r" + strconv.Itoa(n) }

// versionTag is the local scenario's tag of the n-th change; the prepared repository
// is at v0.1.0.
func versionTag(n int) string { return "v0.1." + strconv.Itoa(n) }

// ciMark is the CI scenario's n-th change: "c<n>-<run>", where run is the bench
// run's own word, so that no earlier bench run has built (and pushed) the same
// binary: a CI job builds a binary nobody has built.
func ciMark(n int, run string) string { return "c" + strconv.Itoa(n) + "-" + run }

// ciVersionTag is the CI scenario's tag of the n-th change.
func ciVersionTag(n int) string { return "v0.2." + strconv.Itoa(n) }

// prepareHello copies examples/hello into dir, points its replace of mageship at
// root (as the integration tests do), and makes it a git repository at v0.1.0.
func prepareHello(ctx context.Context, r *runner, root, dir string, base []string) (service, error) {
	s := service{Name: "hello", Main: "./cmd/hello", Binary: "hello", File: "cmd/hello/main.go", Src: dir}
	if err := copyTree(filepath.Join(root, "examples", "hello"), dir, false); err != nil {
		return s, fmt.Errorf("copying examples/hello: %w", err)
	}
	s.Info.Source = "examples/hello"
	if _, err := r.run(ctx, Cmd{Dir: dir, Name: "go", Args: []string{"mod", "edit", "-replace", "github.com/mageship/mageship=" + root}, Env: base}, "hello-replace"); err != nil {
		return s, err
	}
	return s, gitInit(ctx, r, dir, base, "hello")
}

// prepareLarge writes the generated service into dir, completes its go.mod and
// go.sum with go mod tidy (from the module proxy base names), and makes it a git
// repository at v0.1.0.
func prepareLarge(ctx context.Context, r *runner, root, dir string, base []string) (service, error) {
	s := service{Name: "large", Main: "./cmd/large", Binary: "large", File: "cmd/large/main.go", Src: dir}
	files, err := generateLarge(root, largeShape)
	if err != nil {
		return s, err
	}
	if err := testfix.WriteFiles(dir, files); err != nil {
		return s, err
	}
	s.Info.Source = fmt.Sprintf("generated: %d layers of %d packages, %d functions each", largeShape.Layers, largeShape.PerLayer, largeShape.Funcs)
	if _, err := r.run(ctx, Cmd{Dir: dir, Name: "go", Args: []string{"mod", "tidy"}, Env: base}, "large-tidy"); err != nil {
		return s, fmt.Errorf("completing the generated service's go.mod: %w", err)
	}
	return s, gitInit(ctx, r, dir, base, "large")
}

// fillModuleCache downloads what s needs into the host's module cache with the
// normal proxy, so the counting proxy (which serves that cache) has it, and reads
// how big s is.
func fillModuleCache(ctx context.Context, r *runner, s *service, base []string) error {
	for i, args := range [][]string{{"mod", "download"}, {"list", "-m", "all"}, {"list", "./..."}} {
		out, err := r.run(ctx, Cmd{Dir: s.Src, Name: "go", Args: args, Env: base}, fmt.Sprintf("%s-modules-%d", s.Name, i))
		if err != nil {
			return fmt.Errorf("downloading the modules of %s into the host's module cache: %w", s.Name, err)
		}
		switch i {
		case 1:
			s.Info.Modules = len(strings.Split(strings.TrimSpace(out), "\n")) - 1 // less the main module
		case 2:
			s.Info.Packages = len(strings.Fields(out))
		}
	}
	direct, lines, err := scanSource(s.Src)
	if err != nil {
		return err
	}
	s.Info.DirectModules, s.Info.Lines, s.Info.ChangedFile = direct, lines, s.File
	return nil
}

// scanSource counts the third-party modules imported by the module's non-mage code
// (import paths with a dot in the first element, outside the module itself) by
// their go.mod requirement, and the lines of its .go files.
func scanSource(dir string) (direct, lines int, err error) {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return 0, 0, err
	}
	var reqs []string
	for _, l := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		if len(f) >= 2 && strings.Contains(f[0], ".") && strings.HasPrefix(f[1], "v") {
			reqs = append(reqs, f[0])
		}
	}
	used := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "magefiles" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		lines += strings.Count(string(b), "\n")
		for _, m := range reqs {
			if strings.Contains(string(b), `"`+m+`"`) || strings.Contains(string(b), `"`+m+`/`) {
				used[m] = true
			}
		}
		return nil
	})
	return len(used), lines, err
}

// gitInit makes dir a git repository with one commit, tagged v0.1.0.
func gitInit(ctx context.Context, r *runner, dir string, base []string, name string) error {
	for i, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "bench: " + name},
		{"tag", versionTag(0)},
	} {
		if _, err := r.run(ctx, Cmd{Dir: dir, Name: "git", Args: args, Env: gitEnv(base)}, fmt.Sprintf("%s-git-%d", name, i)); err != nil {
			return err
		}
	}
	return nil
}

// gitCommit commits every change in dir and, when tag is set, tags the commit.
func gitCommit(ctx context.Context, r *runner, dir string, base []string, msg, tag, log string) error {
	cmds := [][]string{{"add", "-A"}, {"commit", "-q", "-m", msg}}
	if tag != "" {
		cmds = append(cmds, []string{"tag", tag})
	}
	for i, args := range cmds {
		if _, err := r.run(ctx, Cmd{Dir: dir, Name: "git", Args: args, Env: gitEnv(base)}, fmt.Sprintf("%s-%d", log, i)); err != nil {
			return err
		}
	}
	return nil
}

// change makes a one-line change (changeLine with mark) in the copy at dir, commits
// it and tags it tag.
func (s service) change(ctx context.Context, r *runner, dir, mark, tag string, base []string, log string) error {
	p := filepath.Join(dir, filepath.FromSlash(s.File))
	src, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	changed, err := changeLine(string(src), mark)
	if err != nil {
		return fmt.Errorf("changing %s: %w", p, err)
	}
	if err := os.WriteFile(p, []byte(changed), 0o644); err != nil {
		return err
	}
	return gitCommit(ctx, r, dir, base, "bench: one-line change "+mark, tag, log)
}

// copyTree copies the regular files of src into dst, skipping dist/ and, unless
// withGit, .git/.
func copyTree(src, dst string, withGit bool) error {
	if withGit {
		return testfix.CopyFiles(src, dst, "dist")
	}
	return testfix.CopyFiles(src, dst, "dist", ".git")
}

// removeAll removes dir, making read-only directories (a module cache's) writable first.
func removeAll(dir string) error {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
