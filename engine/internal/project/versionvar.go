package project

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Where the version goes: go build -ldflags "-X importpath.name=value" sets a string
// variable, and silently does nothing when there is no such variable in the linked
// program. So mageship reads the source first: it looks for a conventional variable
// when none is configured, and checks a configured one.

// The variables looked for, in order of preference: in the main package the
// unexported name comes first (main.version is -X's classic target), in a package
// named version or buildinfo the exported one.
var (
	mainVersionNames = []string{"version", "Version", "VERSION"}
	pkgVersionNames  = []string{"Version", "VERSION", "version"}
	versionPackages  = []string{"version", "buildinfo"}
)

// VersionVars lists the version variables main links that -X can set, in the
// conventional places, best first: version, Version or VERSION in the main package
// (as main.NAME), then, for each package of the module named version or buildinfo
// that main imports (directly or not), its Version, VERSION or version, in import
// path order. Each package gives at most one.
func (p Project) VersionVars(main string, tags []string) ([]string, error) {
	l, err := p.Link(main, tags)
	if err != nil {
		return nil, err
	}
	var out []string
	vars, err := readVars(l.Packages[0])
	if err != nil {
		return nil, err
	}
	if name := firstSettable(vars, mainVersionNames); name != "" {
		out = append(out, "main."+name)
	}
	for _, pkg := range l.Packages[1:] {
		if !slices.Contains(versionPackages, pkg.Name) {
			continue
		}
		vars, err := readVars(pkg)
		if err != nil {
			return nil, err
		}
		if name := firstSettable(vars, pkgVersionNames); name != "" {
			out = append(out, pkg.ImportPath+"."+name)
		}
	}
	if slices.Contains(l.External, PrometheusVersion) {
		out = append(out, PrometheusVersion+".Version")
	}
	return out, nil
}

// PrometheusVersion is the package the Prometheus ecosystem keeps its build facts in
// (Version, Revision, Branch, BuildUser, BuildDate), which promu stamps.
const PrometheusVersion = "github.com/prometheus/common/version"

// Facts a build can stamp besides the version (BuildVars).
const (
	FactCommit = "commit" // the full commit sha
	FactDate   = "date"   // the commit's time (or SOURCE_DATE_EPOCH), RFC 3339
	FactBranch = "branch" // git rev-parse --abbrev-ref HEAD
	FactUser   = "user"   // mageship@mageship (promu's {{user}}@{{host}})
)

// The commit and date variables people use, in the main package or in the module's
// package named version or buildinfo; Prometheus' are fixed.
var (
	commitNames = []string{"commit", "Commit", "gitCommit", "GitCommit", "Revision"}
	dateNames   = []string{"date", "Date", "buildDate", "BuildDate"}
	prometheus  = [][2]string{{"Revision", FactCommit}, {"Branch", FactBranch}, {"BuildUser", FactUser}, {"BuildDate", FactDate}}
)

// BuildVars lists the variables besides the version that main's binary links and -X
// can set, each with the fact it holds (FactCommit, FactDate...), as "importpath.name"
// pairs in a stable order: the main package's, then those of the module's package that
// VersionVars gave the version variable (its version or buildinfo package), then
// github.com/prometheus/common/version's when versionVar is in it. versionVar is the
// variable the version goes to ("" for none): the other facts go beside it.
func (p Project) BuildVars(main string, tags []string, versionVar string) ([][2]string, error) {
	if versionVar == PrometheusVersion+".Version" {
		var out [][2]string
		for _, v := range prometheus {
			out = append(out, [2]string{PrometheusVersion + "." + v[0], v[1]})
		}
		return out, nil
	}
	l, err := p.Link(main, tags)
	if err != nil {
		return nil, err
	}
	pkgs := []*build.Package{l.Packages[0]}
	if i := strings.LastIndex(versionVar, "."); i > 0 && versionVar[:i] != "main" {
		for _, pkg := range l.Packages[1:] {
			if pkg.ImportPath == versionVar[:i] {
				pkgs = append(pkgs, pkg)
			}
		}
	}
	var out [][2]string
	for i, pkg := range pkgs {
		vars, err := readVars(pkg)
		if err != nil {
			return nil, err
		}
		prefix := pkg.ImportPath
		if i == 0 {
			prefix = "main"
		}
		if name := firstSettable(vars, commitNames); name != "" {
			out = append(out, [2]string{prefix + "." + name, FactCommit})
		}
		if name := firstSettable(vars, dateNames); name != "" {
			out = append(out, [2]string{prefix + "." + name, FactDate})
		}
	}
	return out, nil
}

// VersionLike lists up to n package-level string variables of the module that -X can
// set and whose names contain "version" in any case, as importpath.name (main.name in
// the main package main), in directory order: what to suggest when no conventional one
// is found. Other main packages, vendor/, testdata/, directories starting with . or _
// and nested modules are left out.
func (p Project) VersionLike(main string, n int) []string {
	var out []string
	ctx := buildContext(nil)
	_ = filepath.WalkDir(p.Dir, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || len(out) >= n {
			return nil
		}
		if dir != p.Dir {
			if skipDir(d.Name()) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		pkg, err := ctx.ImportDir(dir, 0)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(p.Dir, dir)
		pkg.ImportPath = p.ImportPath(filepath.ToSlash(rel))
		vars, err := readVars(pkg)
		if err != nil {
			return nil
		}
		names := make([]string, 0, len(vars))
		for name, why := range vars {
			if why == "" && strings.Contains(strings.ToLower(name), "version") {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		prefix := pkg.ImportPath
		if pkg.Name == "main" {
			if pkg.ImportPath != p.ImportPath(main) {
				return nil // another main package's main.X is not this binary's
			}
			prefix = "main"
		}
		for _, name := range names {
			if len(out) < n {
				out = append(out, prefix+"."+name)
			}
		}
		return nil
	})
	return out
}

// PickVersionVar chooses the variable to stamp among VersionVars' candidates: the
// main package's own when it has one, else the only one. It returns "" when there is
// none, or several in different packages and none in main: that needs configuration.
func PickVersionVar(candidates []string) string {
	switch {
	case len(candidates) == 0:
		return ""
	case strings.HasPrefix(candidates[0], "main."), len(candidates) == 1:
		return candidates[0]
	}
	return ""
}

// CheckVersionVar says why -X cannot stamp the version into v ("main.version",
// "example.com/m/internal/buildinfo.Version") of main's binary, in words that follow
// the variable's name, such as "does not exist: main has no package-level variable
// version". It returns "" when -X can set v, and also when the module's files cannot
// tell: v is in another module (a requirement, a workspace or vendored module), and
// then only the binary can (see gobuild.Stamped).
func (p Project) CheckVersionVar(main string, tags []string, v string) (string, error) {
	i := strings.LastIndex(v, ".")
	if i <= 0 || i == len(v)-1 {
		return "is not a variable name: write it as importpath.name, e.g. main.version", nil
	}
	pkgPath, name := v[:i], v[i+1:]
	l, err := p.Link(main, tags)
	if err != nil {
		return "", err
	}
	var pkg *build.Package
	if pkgPath == "main" {
		pkg = l.Packages[0]
	} else {
		if _, local := p.localDir(pkgPath); !local {
			return "", nil
		}
		for _, lp := range l.Packages {
			if lp.ImportPath == pkgPath {
				pkg = lp
			}
		}
		if pkg == nil {
			return fmt.Sprintf("does not exist in the binary: %s does not import package %s", main, pkgPath), nil
		}
	}
	vars, err := readVars(pkg)
	if err != nil {
		return "", err
	}
	why, ok := vars[name]
	switch {
	case !ok:
		return fmt.Sprintf("does not exist: %s has no package-level variable %s", pkgPath, name), nil
	case why != "":
		return why, nil
	}
	return "", nil
}

// firstSettable returns the first of names that vars says -X can set, or "".
func firstSettable(vars map[string]string, names []string) string {
	for _, n := range names {
		if why, ok := vars[n]; ok && why == "" {
			return n
		}
	}
	return ""
}

// readVars parses the Go files of pkg and returns its package-level variables, each
// with "" when -X can set it, else why not (see settable).
func readVars(pkg *build.Package) (map[string]string, error) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", pkg.ImportPath, err)
		}
		files = append(files, f)
	}
	return settable(files), nil
}

// settable maps each package-level variable of files to "" when go build's -X can set
// it, or to why not. The linker sets a variable of type string that is uninitialized
// or initialized to a constant string expression; a variable of another type is an
// error at link time, and an initializer that is not constant (a function call, another
// variable) runs after the linker's value is in place and replaces it.
func settable(files []*ast.File) map[string]string {
	consts := map[string]bool{}
	var specs []*ast.ValueSpec
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				vs, ok := s.(*ast.ValueSpec)
				if !ok {
					continue
				}
				switch gd.Tok {
				case token.CONST:
					for _, n := range vs.Names {
						consts[n.Name] = true
					}
				case token.VAR:
					specs = append(specs, vs)
				}
			}
		}
	}
	vars := map[string]string{}
	for _, vs := range specs {
		for i, n := range vs.Names {
			if n.Name == "_" {
				continue
			}
			vars[n.Name] = whyNotSettable(vs, i, consts)
		}
	}
	return vars
}

func whyNotSettable(vs *ast.ValueSpec, i int, consts map[string]bool) string {
	if vs.Type != nil {
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "string" {
			return "is not a string variable (-X sets only variables of type string)"
		}
	}
	if len(vs.Values) == 0 {
		return ""
	}
	if len(vs.Values) != len(vs.Names) {
		return "is initialized by a function call, which replaces the value -X sets"
	}
	v := vs.Values[i]
	if !constString(v, consts) {
		return "is initialized by an expression that is not constant, which replaces the value -X sets"
	}
	if lit, ok := v.(*ast.BasicLit); ok && vs.Type == nil && lit.Kind != token.STRING {
		return "is not a string variable (-X sets only variables of type string)"
	}
	return ""
}

// constString reports whether e is a constant expression that may be a string: a
// literal, a constant of the package, or a sum of them.
func constString(e ast.Expr, consts map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return consts[e.Name]
	case *ast.ParenExpr:
		return constString(e.X, consts)
	case *ast.BinaryExpr:
		return e.Op == token.ADD && constString(e.X, consts) && constString(e.Y, consts)
	}
	return false
}
