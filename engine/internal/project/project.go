package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
)

// Project is a Go module as found on disk.
type Project struct {
	Dir       string // module root, absolute
	Module    string // module path from go.mod
	GoVersion string // the go directive, e.g. "1.26" or "1.26.2"
	// Mains are the main packages: each cmd/<name> and the module root, else any. At a
	// workspace root (the module's directory holds the go.work) they include those of
	// the workspace's modules below it, named from the root ("./server"): go build run
	// at the root builds each in its own module, through the go.work.
	Mains    []Main
	Vendor   bool // vendor/modules.txt exists
	HasGoSum bool
	Requires int // requirements in go.mod: a module with any needs go.sum
	// Modules are the required modules the service's own code can need: go.mod's
	// requirements without the build tooling (mageship, Mage and the modules of tool
	// directives) and without modules replaced by a directory. The container build
	// downloads these, and nothing else, in its module layer.
	Modules []string
	// Replaces are go.mod replace directives that point at directories outside the
	// module root: an image build must bring them into the build.
	Replaces []Replace
	// Workspace is the go.work the module builds in, if any.
	Workspace Workspace
}

// Replace is a module replaced by a directory outside the module root.
type Replace struct {
	Module string // the replaced module path
	Path   string // the directory as go.mod writes it: relative to the module root, or absolute
	Dir    string // the directory, absolute
}

// Main is one main package of the module.
type Main struct {
	Package string // relative to the module root: "./cmd/hello", "./server" or "."
	Name    string // the binary's default name, as go build names it (see ExecName)
}

// conventional reports whether m is in a conventional place of its module: the
// module's root or a cmd/<name> below it.
func (m Main) conventional(moduleDirs []string) bool {
	pkg := strings.TrimPrefix(m.Package, "./")
	for _, d := range moduleDirs {
		rest := pkg
		if d != "." {
			var ok bool
			if rest, ok = strings.CutPrefix(pkg, d+"/"); !ok && pkg != d {
				continue
			}
			if pkg == d {
				rest = "."
			}
		}
		if rest == "." || strings.HasPrefix(rest, "cmd/") && !strings.Contains(strings.TrimPrefix(rest, "cmd/"), "/") {
			return true
		}
	}
	return false
}

// Load reads the module rooted at dir.
func Load(dir string) (Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Project{}, err
	}
	data, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if errors.Is(err, os.ErrNotExist) {
		if _, werr := os.Stat(filepath.Join(abs, "go.work")); werr == nil {
			return Project{}, fmt.Errorf("no go.mod in %s, only a go.work: mageship ships from a module; run mage inside the module of your service, or give the workspace root a go.mod (go mod init) and name the main with Image.Main, e.g. ./server", abs)
		}
		return Project{}, fmt.Errorf("no go.mod in %s: run mage from the root of your Go module", abs)
	}
	if err != nil {
		return Project{}, fmt.Errorf("reading go.mod: %w", err)
	}
	mf, err := modfile.Parse(filepath.Join(abs, "go.mod"), data, nil)
	if err != nil {
		return Project{}, fmt.Errorf("parsing go.mod: %w", err)
	}
	if mf.Module == nil {
		return Project{}, fmt.Errorf("go.mod in %s has no module line: run go mod init", abs)
	}
	p := Project{Dir: abs, Module: mf.Module.Mod.Path, Requires: len(mf.Require)}
	if mf.Go != nil {
		p.GoVersion = mf.Go.Version
	}
	_, err = os.Stat(filepath.Join(abs, "go.sum"))
	p.HasGoSum = err == nil
	_, err = os.Stat(filepath.Join(abs, "vendor", "modules.txt"))
	p.Vendor = err == nil
	p.Modules = serviceModules(mf)
	for _, r := range mf.Replace {
		if r.New.Version != "" || !modfile.IsDirectoryPath(r.New.Path) {
			continue
		}
		dir := r.New.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(abs, dir)
		}
		if rel, err := filepath.Rel(abs, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue // inside the module: already in the build context
		}
		p.Replaces = append(p.Replaces, Replace{Module: r.Old.Path, Path: r.New.Path, Dir: dir})
	}
	if p.Mains, err = findMains(abs, p.Module); err != nil {
		return Project{}, err
	}
	p.Workspace.File, p.Workspace.Uses = findWorkspace(abs)
	if p.Workspace.File == filepath.Join(abs, "go.work") {
		if p.Mains, err = p.workspaceMains(); err != nil {
			return Project{}, err
		}
	}
	p.Workspace.Needed = p.workspace(mf)
	return p, nil
}

// workspaceMains adds to the module's main packages those of the workspace's other
// modules below its root (see Main), and orders them all: the mains at a module's root
// or under its cmd/ first, then the others, each group by package.
func (p Project) workspaceMains() ([]Main, error) {
	mains := slices.Clone(p.Mains)
	dirs := []string{"."}
	for _, u := range p.Workspace.Uses {
		rel, ok := p.below(u.Dir)
		if !ok || rel == "." {
			continue // outside the root: Image.Main cannot name it as ./dir
		}
		dirs = append(dirs, rel)
		sub, err := findMains(u.Dir, u.Module)
		if err != nil {
			return nil, err
		}
		for _, m := range sub {
			pkg := "./" + rel
			if m.Package != "." {
				pkg += "/" + strings.TrimPrefix(m.Package, "./")
			}
			mains = append(mains, Main{Package: pkg, Name: m.Name})
		}
	}
	rank := func(m Main) int {
		if m.conventional(dirs) {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(mains, func(a, b Main) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Package, b.Package)
	})
	return slices.CompactFunc(mains, func(a, b Main) bool { return a.Package == b.Package }), nil
}

// below returns dir relative to the module root, slash-separated, when it is the
// root or below it.
func (p Project) below(dir string) (string, bool) {
	rel, err := filepath.Rel(p.Dir, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// workspace lists the modules of the go.work that the main packages import and go.mod
// does not replace, and that a build context of the module directory lacks: at a
// workspace root, the modules below it are in the context with the go.work.
func (p Project) workspace(mf *modfile.File) []Replace {
	if p.Workspace.File == "" || len(p.Workspace.Uses) == 0 {
		return nil
	}
	var others []Replace
	atRoot := p.Workspace.File == filepath.Join(p.Dir, "go.work")
	for _, u := range p.Workspace.Uses {
		if _, below := p.below(u.Dir); atRoot && below {
			continue // the go.work and the module are both in the build context
		}
		others = append(others, u)
	}
	var imports []string
	for _, m := range p.Mains {
		if l, err := p.Link(m.Package, nil); err == nil {
			imports = append(imports, l.External...)
		}
	}
	replaced := map[string]bool{}
	for _, r := range mf.Replace {
		replaced[r.Old.Path] = true
	}
	return neededWorkspace(others, imports, replaced)
}

// tooling are the modules a repository requires for its magefile, never for its
// binaries.
var tooling = []string{"github.com/mageship/mageship", "github.com/magefile/mage"}

// serviceModules lists mf's requirements that the service's code can need.
func serviceModules(mf *modfile.File) []string {
	skip := map[string]bool{}
	for _, m := range tooling {
		skip[m] = true
	}
	for _, r := range mf.Replace {
		if r.New.Version == "" && modfile.IsDirectoryPath(r.New.Path) {
			skip[r.Old.Path] = true
		}
	}
	var tools []string
	for _, t := range mf.Tool {
		tools = append(tools, t.Path)
	}
	var out []string
	for _, r := range mf.Require {
		m := r.Mod.Path
		if skip[m] || slices.ContainsFunc(tools, func(t string) bool { return t == m || strings.HasPrefix(t, m+"/") }) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// findMains lists the module's main packages: those in the conventional places, each
// cmd/<name> and the root package; only when there are none there, every main package
// that go list ./... would list (vendor/, testdata/ and directories starting with . or
// _ are left out, and so are nested modules). Files with build tags that are not set by
// default (such as mage's) are ignored. Each is named as go build names its binary.
func findMains(dir, module string) ([]Main, error) {
	var mains []Main
	add := func(rel string) {
		pkg := "./" + rel
		ip := module + "/" + rel
		if rel == "." {
			pkg, ip = ".", module
		}
		mains = append(mains, Main{Package: pkg, Name: ExecName(ip)})
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "cmd"))
	for _, e := range entries {
		if e.IsDir() && isMain(filepath.Join(dir, "cmd", e.Name())) {
			add("cmd/" + e.Name())
		}
	}
	if isMain(dir) {
		add(".")
	}
	if len(mains) == 0 {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() || p == dir {
				return nil // unreadable corners are go build's to report
			}
			if skipDir(d.Name()) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module
			}
			if isMain(p) {
				rel, _ := filepath.Rel(dir, p)
				add(filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(mains, func(i, j int) bool { return mains[i].Package < mains[j].Package })
	return mains, nil
}

func isMain(dir string) bool {
	ctx := buildContext(nil)
	pkg, err := ctx.ImportDir(dir, 0)
	return err == nil && pkg.Name == "main" && len(pkg.GoFiles) > 0
}

// MinorGo is the major.minor of the go directive ("1.26" of "1.26.2"), used to pick
// a builder image tag.
func (p Project) MinorGo() string {
	v := p.GoVersion
	dots := 0
	for i, c := range v {
		if c == '.' {
			dots++
			if dots == 2 {
				return v[:i]
			}
		}
	}
	return v
}
