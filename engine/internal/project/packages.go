package project

import (
	"fmt"
	"go/build"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ExecName is the name go build and go install give the binary of the main package
// importPath: its last element or, when that is a major version suffix (/v2, /v7 ...),
// the element before it, as cmd/go's DefaultExecName does in module mode.
func ExecName(importPath string) string {
	dir, elem := path.Split(importPath)
	if dir != "" && isVersionElement(elem) {
		_, elem = path.Split(path.Dir(importPath))
	}
	return elem
}

// isVersionElement reports whether s is a major version suffix: v2, v3, ... (not v0, v1).
func isVersionElement(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || s[1] == '1' && len(s) == 2 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ImportPath is the import path of the package rel ("./server", "." or "server") of
// the module.
// the module, or of the module nested below the root that holds it.
func (p Project) ImportPath(rel string) string {
	if sub, subRel, ok := p.nested(rel); ok {
		return sub.ImportPath(subRel)
	}
	rel = path.Clean(strings.TrimPrefix(filepath.ToSlash(rel), "./"))
	if rel == "." || rel == "" {
		return p.Module
	}
	return p.Module + "/" + rel
}

// nested finds the module nested below the root that holds the package rel
// ("./server/cmd/x"): the nearest go.mod above the package's directory, below the
// root. It returns that module, as much of it as Link needs, and rel within it.
func (p Project) nested(rel string) (Project, string, bool) {
	clean := path.Clean(strings.TrimPrefix(filepath.ToSlash(rel), "./"))
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
		return Project{}, "", false
	}
	elems := strings.Split(clean, "/")
	for i := len(elems); i > 0; i-- {
		dir := filepath.Join(p.Dir, filepath.FromSlash(strings.Join(elems[:i], "/")))
		mod := modulePath(dir)
		if mod == "" {
			continue
		}
		sub := Project{Dir: dir, Module: mod}
		if _, err := os.Stat(filepath.Join(dir, "vendor", "modules.txt")); err == nil {
			sub.Vendor = true
		}
		return sub, "./" + path.Join(append([]string{"."}, elems[i:]...)...), true
	}
	return Project{}, "", false
}

// CheckMain says, in one line, why go build run at the module root cannot build the
// main package main, when it is in a module nested below the root that no go.work of
// the root uses; nil otherwise (go build reports any other problem itself).
func (p Project) CheckMain(main string) error {
	sub, _, ok := p.nested(main)
	if !ok {
		return nil
	}
	rel, _ := p.below(sub.Dir)
	if p.Workspace.File != "" && slices.ContainsFunc(p.Workspace.Uses, func(u Replace) bool { return filepath.Clean(u.Dir) == sub.Dir }) {
		return nil
	}
	if p.Workspace.File != "" {
		return fmt.Errorf("main package %s is in the module %s (%s/go.mod), which %s does not use: add it (go work use ./%s), or run mage inside %s/", main, sub.Module, rel, p.Workspace.File, rel, rel)
	}
	return fmt.Errorf("main package %s is in the module %s (%s/go.mod), not in %s: run mage inside %s/, or build both in a workspace (go work init . ./%s at the root)", main, sub.Module, rel, p.Module, rel, rel)
}

// buildContext is how mageship's builds see the source: linux, the machine's
// architecture, cgo off, and the image's build tags.
func buildContext(tags []string) build.Context {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "linux", runtime.GOARCH
	ctx.CgoEnabled = false
	ctx.BuildTags = tags
	return ctx
}

// Linked is what one main package links from its own module, as go/build reads the
// files (linux, cgo off, the image's tags). It is read from the files alone: no go
// command runs, nothing is downloaded.
type Linked struct {
	// Packages are the module's packages the main package links, itself first, then
	// in import path order.
	Packages []*build.Package
	// External are the other import paths they import, without the standard library:
	// packages of required, replaced, vendored or workspace modules.
	External []string
	// Vendored are the packages of vendor/ the main package links, when the module
	// vendors its requirements.
	Vendored []*build.Package
}

// Link reads the main package main ("./cmd/api", ".") and the packages of the module
// it imports, directly or not. A package of a nested module (a directory below the
// root with its own go.mod) is external; a main package in a nested module is read in
// that module (a workspace root's main).
func (p Project) Link(main string, tags []string) (Linked, error) {
	if sub, rel, ok := p.nested(main); ok {
		return sub.Link(rel, tags)
	}
	ctx := buildContext(tags)
	var l Linked
	seen := map[string]bool{}
	external := map[string]bool{}
	mainPath := p.ImportPath(main)
	queue := []string{mainPath}
	seen[mainPath] = true
	for len(queue) > 0 {
		ip := queue[0]
		queue = queue[1:]
		dir, local := p.localDir(ip)
		vendored := false
		if !local && ip == mainPath {
			return Linked{}, fmt.Errorf("reading package %s: it is not in the module %s", main, p.Module)
		}
		if !local {
			if !p.Vendor {
				external[ip] = true
				continue
			}
			dir, vendored = filepath.Join(p.Dir, "vendor", filepath.FromSlash(ip)), true
		}
		pkg, err := ctx.ImportDir(dir, 0)
		if err != nil {
			if ip == mainPath {
				return Linked{}, fmt.Errorf("reading package %s: %w", main, err)
			}
			continue // go build reports it, in its own words
		}
		pkg.ImportPath = ip
		if vendored {
			l.Vendored = append(l.Vendored, pkg)
		} else {
			l.Packages = append(l.Packages, pkg)
		}
		for _, imp := range pkg.Imports {
			if seen[imp] || isStd(imp) || imp == "C" {
				continue
			}
			seen[imp] = true
			queue = append(queue, imp)
		}
	}
	if len(l.Packages) == 0 {
		return Linked{}, fmt.Errorf("reading package %s: it is not in the module %s", main, p.Module)
	}
	slices.SortFunc(l.Packages[1:], func(a, b *build.Package) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	slices.SortFunc(l.Vendored, func(a, b *build.Package) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	for ip := range external {
		l.External = append(l.External, ip)
	}
	slices.Sort(l.External)
	return l, nil
}

// localDir returns the directory of import path ip when it is a package of this
// module (not of a module nested in it).
func (p Project) localDir(ip string) (string, bool) {
	if ip != p.Module && !strings.HasPrefix(ip, p.Module+"/") {
		return "", false
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(ip, p.Module), "/")
	dir := p.Dir
	for _, elem := range strings.Split(rel, "/") {
		if elem == "" {
			continue
		}
		dir = filepath.Join(dir, elem)
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", false
		}
	}
	return dir, true
}

// isStd reports whether an import path is in the standard library: its first element
// has no dot, as the go command decides.
func isStd(ip string) bool {
	first, _, _ := strings.Cut(ip, "/")
	return !strings.Contains(first, ".")
}

// skipDir reports whether the go command's ./... pattern leaves out the directory
// named name: testdata, vendor, and names starting with . or _ (node_modules holds
// no Go code and can be large).
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}
