package gobuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/command"
)

// Before anything compiles, mageship reads the binary's import graph as go build
// will see it (go list -deps with CGO_ENABLED=0) and looks, among the packages that
// are not in the standard library, for one that has cgo files and no pure-Go version:
// with cgo off it has no Go files left, or its Go files lack names its cgo files
// export. go build would fail on it late, with an error that never says cgo
// ("undefined: sqlite3.Error" in the importer).

// listPackage is what CheckCgo reads of one package from go list -json.
type listPackage struct {
	ImportPath     string
	Dir            string
	Standard       bool
	DepOnly        bool
	Imports        []string
	GoFiles        []string
	IgnoredGoFiles []string
}

// CgoListArgs returns the arguments of the go command that lists b's import graph,
// starting with "list". It runs with b.Env, as the build does.
func (b Build) CgoListArgs() []string {
	args := []string{"list", "-e", "-deps", "-json=ImportPath,Dir,Standard,DepOnly,Imports,GoFiles,IgnoredGoFiles"}
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	if b.Mod != "" {
		args = append(args, "-mod="+b.Mod)
	}
	return append(args, b.Main)
}

// CheckCgo refuses, in one line, a build whose import graph holds a package that
// needs cgo (see above): it names the package, the import that pulls it in, and the
// fix. When go list itself fails (a module it cannot download, a broken go.mod) it
// returns nil: go build then reports that in its own words. base is the environment
// Build.Env adds the platform to.
func CheckCgo(ctx context.Context, b Build, base []string) error {
	out, err := command.Output(ctx, command.Cmd{Name: "go", Args: b.CgoListArgs(), Env: b.Env(base), Dir: b.Dir})
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	pkgs, err := decodeList(strings.NewReader(string(out)))
	if err != nil {
		return nil
	}
	return needsCgo(pkgs, b)
}

// decodeList reads go list -json's stream of objects.
func decodeList(r io.Reader) ([]listPackage, error) {
	var pkgs []listPackage
	dec := json.NewDecoder(r)
	for {
		var p listPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
}

// needsCgo finds the first package of pkgs (go list -deps order: dependencies first)
// that needs cgo, and words the refusal.
func needsCgo(pkgs []listPackage, b Build) error {
	bc := build.Default
	bc.GOOS, bc.GOARCH = b.Platform.OS, b.Platform.Arch
	bc.CgoEnabled = true
	bc.BuildTags = b.Tags
	for _, p := range pkgs {
		if p.Standard || p.Dir == "" || len(p.IgnoredGoFiles) == 0 {
			continue // the standard library has pure-Go versions of its cgo packages
		}
		withCgo, err := bc.ImportDir(p.Dir, 0)
		if err != nil || len(withCgo.CgoFiles) == 0 {
			continue
		}
		missing := missingNames(p.Dir, append(slices.Clone(withCgo.GoFiles), withCgo.CgoFiles...), p.GoFiles)
		if len(p.GoFiles) > 0 && len(missing) == 0 {
			continue // a pure-Go version with the same API
		}
		why := "has no Go files without cgo"
		if len(p.GoFiles) > 0 {
			why = "has no pure-Go " + missing[0] + " without cgo"
		}
		chain := importChain(pkgs, p.ImportPath)
		by := b.Main
		if len(chain) > 1 {
			by = chain[len(chain)-2]
		}
		return fmt.Errorf("%s cannot build for %s with CGO_ENABLED=0: package %s needs cgo (%s imports \"C\" and it %s), pulled in by %s (%s): mageship builds static binaries with CGO_ENABLED=0 so they run without libc; replace it with a pure-Go package, or set in Image.Tags the build tag that selects the service's pure-Go variant",
			b.Main, b.Platform, p.ImportPath, withCgo.CgoFiles[0], why, by, strings.Join(chain, " → "))
	}
	return nil
}

// importChain is a shortest chain of imports from the main package (the one go list
// did not list only as a dependency) to target.
func importChain(pkgs []listPackage, target string) []string {
	byPath := map[string]listPackage{}
	var roots []string
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
		if !p.DepOnly {
			roots = append(roots, p.ImportPath)
		}
	}
	parent := map[string]string{}
	queue := slices.Clone(roots)
	for _, r := range roots {
		parent[r] = ""
	}
	for len(queue) > 0 {
		ip := queue[0]
		queue = queue[1:]
		if ip == target {
			var chain []string
			for at := ip; at != ""; at = parent[at] {
				chain = append(chain, at)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, imp := range byPath[ip].Imports {
			if _, seen := parent[imp]; !seen {
				parent[imp] = ip
				queue = append(queue, imp)
			}
		}
	}
	return []string{target}
}

// missingNames lists the exported package-level names that the files withCgo declare
// and the files withoutCgo do not (all in dir), as "name", sorted.
func missingNames(dir string, withCgo, withoutCgo []string) []string {
	have := exported(dir, withoutCgo)
	var out []string
	for n := range exported(dir, withCgo) {
		if !have[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// exported reads the exported package-level names (types, functions, variables and
// constants; not methods) that files declare. A file that does not parse declares none.
func exported(dir string, files []string) map[string]bool {
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names
}
