package project

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad loads generated layouts (nested modules, go.work, replace directives,
// vendor/, build tags, embeds, cgo, broken files) and reads every main package as the
// targets do. It must never panic; a package it reads has packages. The seeds are in
// testdata/fuzz/FuzzLoad; go test -fuzz=FuzzLoad ./internal/project finds more.
func FuzzLoad(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, layout []byte) {
		root := t.TempDir()
		writeLayout(t, root, layout)
		p, err := Load(root)
		if err != nil {
			return
		}
		mains := []string{".", "./server", "./nowhere", "../outside", "./vendor/example.com/dep", "./lib"}
		for _, m := range p.Mains {
			mains = append(mains, m.Package)
			if m.Name == "" {
				t.Errorf("main %s has no binary name", m.Package)
			}
		}
		for _, m := range mains {
			for _, tags := range [][]string{nil, {"tools"}} {
				if l, err := p.Link(m, tags); err == nil && len(l.Packages) == 0 {
					t.Errorf("Link(%q) read no package and gave no error", m)
				}
				_, _ = p.VersionVars(m, tags)
				_, _ = p.CheckVersionVar(m, tags, "main.version")
				_, _ = p.CheckVersionVar(m, tags, p.Module+"/lib/version.Version")
				_, _ = p.Inputs(m, tags)
			}
			_ = p.CheckMain(m)
			_ = ExecName(p.ImportPath(m))
		}
		_ = p.Source()
		_ = p.MinorGo()
	})
}

// fuzzSeeds are layouts as writeLayout reads them: triples of (directory, kind,
// variant) bytes.
var fuzzSeeds = [][]byte{
	{0, 0, 0, 1, 2, 0}, // a module with cmd/api
	{0, 0, 0, 0, 1, 0x0e, 3, 0, 1, 3, 2, 3, 2, 0, 1}, // a go.work root, a nested /v3 server
	{0, 0, 0, 3, 0, 1, 3, 2, 4, 0, 7, 0},             // a replace to a sibling lib
	{0, 0, 0, 1, 2, 3, 8, 6, 0, 8, 3, 0},             // vendor/
	{0, 0, 0, 7, 4, 0},                               // a main only under a build tag
	{0, 0, 1, 0, 2, 5, 0, 5, 0, 6, 2, 0},             // a /v2 root main, a broken file
	{0, 0, 0, 1, 9, 0, 1, 10, 0},                     // embed, cgo
}

// fuzzDirs are the directories a layout writes into.
var fuzzDirs = []string{".", "cmd/api", "cmd/worker", "server", "lib", "lib/version", "internal/version", "tools/gen", "vendor/example.com/dep", "sub/v2", "server/cmd/x"}

// fuzzModules are the module paths a go.mod can declare.
var fuzzModules = []string{"example.com/m", "github.com/acme/m/v2", "example.com/m/server/v3", "example.com/m/lib", "", "not a path", "example.com/dep", "go.acme.dev/x/v9"}

// fuzzImports are what a generated package can import.
var fuzzImports = []string{"example.com/m/lib", "example.com/m/lib/version", "example.com/m/internal/version", "github.com/acme/m/v2/internal/version", "example.com/dep", "example.com/m/server/v3", "C", "fmt", "example.com/m/cmd/api", "../lib"}

// writeLayout writes the files layout describes into root.
func writeLayout(t *testing.T, root string, layout []byte) {
	for i := 0; i+2 < len(layout) && i < 3*24; i += 3 {
		dir := fuzzDirs[int(layout[i])%len(fuzzDirs)]
		kind, v := layout[i+1]%11, int(layout[i+2])
		name, text := "", ""
		imports := func() string {
			var b strings.Builder
			for j, ip := range fuzzImports {
				if v&(1<<j%8) != 0 && (j < 8) == (v&0x80 == 0) {
					fmt.Fprintf(&b, "import _ %q\n", ip)
				}
			}
			return b.String()
		}
		switch kind {
		case 0:
			name, text = "go.mod", fmt.Sprintf("module %s\n\ngo 1.2%d\n", fuzzModules[v%len(fuzzModules)], v%10)
		case 1:
			var uses []string
			for j, d := range fuzzDirs {
				if v&(1<<(j%8)) != 0 {
					uses = append(uses, "./"+d)
				}
			}
			name, text = "go.work", "go 1.26\n\nuse (\n\t"+strings.Join(uses, "\n\t")+"\n)\n"
		case 2:
			name, text = "main.go", "package main\n\n"+imports()+"\nvar version = \"dev\"\n\nfunc main() {}\n"
		case 3:
			pkg := path.Base(dir)
			if pkg == "." || strings.Contains(pkg, ".") {
				pkg = "lib"
			}
			name, text = pkg+".go", "package "+pkg+"\n\n"+imports()+"\nvar Version string\n"
		case 4:
			name, text = "tools.go", "//go:build tools\n\npackage main\n\nfunc main() {}\n"
		case 5:
			name, text = "broken.go", "package\n"
		case 6:
			name, text = "modules.txt", "# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n"
			dir = "vendor"
		case 7:
			name, text = "go.mod", fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire example.com/m/lib v0.0.0\n\nreplace example.com/m/lib => %s\n", fuzzModules[v%len(fuzzModules)], []string{"../lib", "./lib", "/nonexistent", "example.com/fork v1.0.0"}[v%4])
		case 8:
			name, text = "dep.go", "package dep\n\nvar Version = \"1\"\n"
		case 9:
			name, text = "embed.go", "package main\n\nimport _ \"embed\"\n\n//go:embed static\nvar static string\n"
			if v%2 == 0 {
				writeFile(t, filepath.Join(root, dir, "static"), "x\n")
			}
		case 10:
			name, text = "cgo.go", "package main\n\n// int one(void) { return 1; }\nimport \"C\"\n\nvar version = \"c\"\n"
		}
		writeFile(t, filepath.Join(root, filepath.FromSlash(dir), name), text)
	}
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
