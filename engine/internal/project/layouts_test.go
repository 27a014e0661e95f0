package project

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/testfix"
)

func TestExecName(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/acme/proxy/v7":              "proxy",
		"github.com/acme/proxy/v7/cmd/proxyd":   "proxyd",
		"github.com/acme/proxy/cmd/proxy/v2":    "proxy",
		"github.com/acme/proxy":                 "proxy",
		"github.com/acme/proxy/v1":              "v1", // not a major version suffix
		"github.com/acme/proxy/v0":              "v0",
		"github.com/acme/proxy/v2beta":          "v2beta",
		"example.com/server":                    "server",
		"v2":                                    "v2", // a one-element path keeps its name
		"github.com/acme/tool/v10":              "tool",
		"gopkg.in/yaml.v3":                      "yaml.v3",
		"github.com/acme/proxy/v7/server":       "server",
		"github.com/acme/proxy/v7/internal/v3x": "v3x",
	} {
		if got := ExecName(in); got != want {
			t.Errorf("ExecName(%q) = %q, want %q", in, got, want)
		}
	}
}

const mainSrc = "package main\nfunc main(){}\n"

// TestFindMains: which main packages a module has, as mageship finds them with no
// configuration, and their binaries' names.
func TestFindMains(t *testing.T) {
	for _, tc := range []struct {
		name   string
		module string
		files  map[string]string
		want   []Main
	}{
		{name: "vN module, root main", module: "github.com/acme/proxy/v7",
			files: map[string]string{"main.go": mainSrc, "pkg/version/version.go": "package version\n"},
			want:  []Main{{".", "proxy"}}},
		{name: "vN module, cmd main", module: "github.com/acme/proxy/v7",
			files: map[string]string{"cmd/proxyd/main.go": mainSrc},
			want:  []Main{{"./cmd/proxyd", "proxyd"}}},
		{name: "main outside cmd", module: "example.com/svc",
			files: map[string]string{"server/main.go": mainSrc, "internal/store/store.go": "package store\n"},
			want:  []Main{{"./server", "server"}}},
		{name: "several outside cmd", module: "example.com/svc",
			files: map[string]string{"server/main.go": mainSrc, "tools/migrate/main.go": mainSrc},
			want:  []Main{{"./server", "server"}, {"./tools/migrate", "migrate"}}},
		{name: "cmd wins over other places", module: "example.com/svc",
			files: map[string]string{"cmd/api/main.go": mainSrc, "hack/gen/main.go": mainSrc},
			want:  []Main{{"./cmd/api", "api"}}},
		{name: "left out like go list ./...", module: "example.com/svc",
			files: map[string]string{
				"server/main.go":               mainSrc,
				"testdata/fixture/main.go":     mainSrc,
				"vendor/x.com/y/main.go":       mainSrc,
				".hidden/main.go":              mainSrc,
				"_old/main.go":                 mainSrc,
				"nested/go.mod":                "module example.com/nested\n",
				"nested/main.go":               mainSrc,
				"magefiles/magefile.go":        "//go:build mage\npackage main\nfunc Build(){}\n",
				"scripts/gen.go":               "//go:build ignore\npackage main\nfunc main(){}\n",
				"server/v2/main.go":            mainSrc,
				"node_modules/x/main.go":       mainSrc,
				"internal/store/store_test.go": "package main\n",
			},
			want: []Main{{"./server", "server"}, {"./server/v2", "server"}}},
		{name: "none", module: "example.com/lib", files: map[string]string{"lib.go": "package lib\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["go.mod"] = "module " + tc.module + "\ngo 1.26\n"
			p := load(t, tc.files)
			if diff := cmp.Diff(tc.want, p.Mains); diff != "" {
				t.Errorf("Mains (-want +got):\n%s", diff)
			}
		})
	}
}

func parseSrc(t *testing.T, src string) []*ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	return []*ast.File{f}
}

// TestSettable: which package-level variables go build's -X can set.
func TestSettable(t *testing.T) {
	src := `package version
const base = "0.0.0"
type V string
var (
	plain string
	lit = "dev"
	typed string = "dev"
	fromConst = base
	sum = base + "-dev"
	call = compute()
	other = plain
	n = 3
	named V
	a, b string
	c, d = pair()
)
var _ = "blank"
func compute() string { var inFunc = "x"; return inFunc }
func pair() (string, string) { return "", "" }
`
	got := settable(parseSrc(t, src))
	notString := "is not a string variable (-X sets only variables of type string)"
	want := map[string]string{
		"plain": "", "lit": "", "typed": "", "fromConst": "", "sum": "", "a": "", "b": "",
		"call":  "is initialized by an expression that is not constant, which replaces the value -X sets",
		"other": "is initialized by an expression that is not constant, which replaces the value -X sets",
		"n":     notString, "named": notString,
		"c": "is initialized by a function call, which replaces the value -X sets",
		"d": "is initialized by a function call, which replaces the value -X sets",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settable (-want +got):\n%s", diff)
	}
}

func TestPickVersionVar(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"main.version"}, "main.version"},
		{[]string{"main.Version", "example.com/m/pkg/version.VERSION"}, "main.Version"},
		{[]string{"example.com/m/pkg/version.VERSION"}, "example.com/m/pkg/version.VERSION"},
		{[]string{"example.com/m/internal/buildinfo.Version", "example.com/m/pkg/version.Version"}, ""},
	} {
		if got := PickVersionVar(tc.in); got != tc.want {
			t.Errorf("PickVersionVar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestVersionVars: where a module keeps its version, found from the source alone.
func TestVersionVars(t *testing.T) {
	const mod = "module github.com/acme/proxy/v7\ngo 1.26\n"
	importing := func(pkgs ...string) string {
		s := "package main\nimport (\n"
		for _, p := range pkgs {
			s += "\t_ \"github.com/acme/proxy/v7/" + p + "\"\n"
		}
		return s + ")\nfunc main(){}\n"
	}
	for _, tc := range []struct {
		name  string
		main  string
		files map[string]string
		want  []string
	}{
		{name: "main.version", main: ".", files: map[string]string{"main.go": "package main\nvar version = \"dev\"\nfunc main(){}\n"},
			want: []string{"main.version"}},
		{name: "main.Version in cmd", main: "./cmd/proxyd", files: map[string]string{"cmd/proxyd/main.go": "package main\nvar Version string\nfunc main(){}\n"},
			want: []string{"main.Version"}},
		{name: "pkg/version.VERSION linked through another package", main: ".", files: map[string]string{
			"main.go":                importing("internal/app"),
			"internal/app/app.go":    "package app\nimport _ \"github.com/acme/proxy/v7/pkg/version\"\n",
			"pkg/version/version.go": "package version\nvar VERSION = \"undefined\"\n",
		}, want: []string{"github.com/acme/proxy/v7/pkg/version.VERSION"}},
		{name: "buildinfo and version, both", main: ".", files: map[string]string{
			"main.go":                      importing("pkg/version", "internal/buildinfo"),
			"pkg/version/version.go":       "package version\nvar Version string\n",
			"internal/buildinfo/bi.go":     "package buildinfo\nvar version, Version string\n",
			"internal/buildinfo/bi_dev.go": "//go:build dev\npackage buildinfo\nvar VERSION string\n",
		}, want: []string{"github.com/acme/proxy/v7/internal/buildinfo.Version", "github.com/acme/proxy/v7/pkg/version.Version"}},
		{name: "not linked, not settable, not conventional", main: ".", files: map[string]string{
			"main.go":                importing("internal/meta"),
			"internal/meta/meta.go":  "package meta\nvar Version string\n",
			"pkg/version/version.go": "package version\nvar Version string\n",
			"internal/other/v.go":    "package version\nvar Version string\n",
		}},
		{name: "initialized by a call", main: ".", files: map[string]string{"main.go": "package main\nimport \"os\"\nvar version = os.Getenv(\"V\")\nfunc main(){}\n"}},
		{name: "a version package of a nested module is another module's", main: ".", files: map[string]string{
			"main.go":                 importing("sub/version"),
			"sub/go.mod":              "module github.com/acme/proxy/v7/sub\n",
			"sub/version/version.go":  "package version\nvar Version string\n",
			"internal/version/doc.go": "package version\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["go.mod"] = mod
			p := load(t, tc.files)
			got, err := p.VersionVars(tc.main, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("VersionVars (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckVersionVar(t *testing.T) {
	p := load(t, map[string]string{
		"go.mod":                 "module example.com/svc\ngo 1.26\n",
		"main.go":                "package main\nimport (\n\t_ \"example.com/svc/pkg/version\"\n\t_ \"example.com/dep/version\"\n)\nvar version string\nvar built = now()\nfunc now() string { return \"\" }\nfunc main(){}\n",
		"pkg/version/version.go": "package version\nvar VERSION = \"undefined\"\n",
		"internal/meta/meta.go":  "package meta\nvar Version string\n",
	})
	for v, want := range map[string]string{
		"main.version":                          "",
		"example.com/svc/pkg/version.VERSION":   "",
		"example.com/dep/version.Version":       "", // another module: only the binary can tell
		"main.nope":                             "does not exist: main has no package-level variable nope",
		"example.com/svc/pkg/version.Version":   "does not exist: example.com/svc/pkg/version has no package-level variable Version",
		"example.com/svc/internal/meta.Version": "does not exist in the binary: . does not import package example.com/svc/internal/meta",
		"main.built":                            "is initialized by an expression that is not constant, which replaces the value -X sets",
		"version":                               "is not a variable name: write it as importpath.name, e.g. main.version",
	} {
		got, err := p.CheckVersionVar(".", nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("CheckVersionVar(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestWorkspace: the go.work above the module and the modules of it that only the
// go.work brings into a build.
func TestWorkspace(t *testing.T) {
	root := t.TempDir()
	testfix.WriteTree(t, root, map[string]string{
		"go.work":        "go 1.26\nuse (\n\t./svc\n\t./lib\n\t./tools\n\t./fork\n)\n",
		"lib/go.mod":     "module example.com/repo/lib\ngo 1.26\n",
		"lib/greet/g.go": "package greet\n",
		"tools/go.mod":   "module example.com/repo/tools\ngo 1.26\n",
		"fork/go.mod":    "module example.com/fork\ngo 1.26\n",
		"svc/go.mod":     "module example.com/repo/svc\ngo 1.26\nrequire example.com/fork v0.0.0\nreplace example.com/fork => ../fork\n",
		"svc/main.go":    "package main\nimport (\n\t_ \"example.com/repo/lib/greet\"\n\t_ \"example.com/fork\"\n)\nfunc main(){}\n",
		"other/go.mod":   "module example.com/repo/other\ngo 1.26\n",
		"other/main.go":  mainSrc,
	})
	p, err := Load(filepath.Join(root, "svc"))
	if err != nil {
		t.Fatal(err)
	}
	want := Workspace{File: filepath.Join(root, "go.work"),
		Uses: []Replace{
			{Module: "example.com/repo/lib", Path: "./lib", Dir: filepath.Join(root, "lib")},
			{Module: "example.com/repo/tools", Path: "./tools", Dir: filepath.Join(root, "tools")},
			{Module: "example.com/fork", Path: "./fork", Dir: filepath.Join(root, "fork")},
		},
		Needed: []Replace{{Module: "example.com/repo/lib", Path: "./lib", Dir: filepath.Join(root, "lib")}}}
	if diff := cmp.Diff(want, p.Workspace); diff != "" {
		t.Errorf("Workspace (-want +got):\n%s", diff)
	}
	// A module the go.work does not use is in no workspace (the go command refuses it).
	p, err = Load(filepath.Join(root, "other"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Workspace{}, p.Workspace); diff != "" {
		t.Errorf("Workspace of a module go.work does not use (-want +got):\n%s", diff)
	}
}

// TestInputs: the files the build of a main package reads, and what its embeds match.
func TestInputs(t *testing.T) {
	p := load(t, map[string]string{
		"go.mod":                        "module example.com/web\ngo 1.26\nrequire github.com/google/uuid v1.6.0\n",
		"go.sum":                        "",
		"main.go":                       "package main\nimport (\n\t_ \"embed\"\n\t_ \"example.com/web/internal/ui\"\n)\n//go:embed VERSION\nvar v string\nfunc main(){}\n",
		"main_test.go":                  "package main\n",
		"VERSION":                       "1\n",
		"internal/ui/ui.go":             "package ui\nimport \"embed\"\n//go:embed static all:templates\nvar FS embed.FS\n",
		"internal/ui/asm_amd64.s":       "",
		"internal/ui/asm_arm64.s":       "",
		"internal/ui/static/app.js":     "x",
		"internal/ui/static/.map":       "x",
		"internal/ui/static/_draft":     "x",
		"internal/ui/static/css/a.css":  "x",
		"internal/ui/templates/_p.html": "x",
		"internal/ui/templates/i.html":  "x",
		"internal/unused/u.go":          "package unused\n",
	})
	got, err := p.Inputs(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	asm := "internal/ui/asm_" + buildContext(nil).GOARCH + ".s"
	want := Inputs{
		Files: []string{"go.mod", "go.sum", "main.go", "internal/ui/ui.go", asm},
		Embeds: []Embed{
			{Pos: "main.go:6", Pattern: "VERSION", Files: []string{"VERSION"}},
			{Pos: "internal/ui/ui.go:3", Pattern: "all:templates", Files: []string{"internal/ui/templates/_p.html", "internal/ui/templates/i.html"}},
			{Pos: "internal/ui/ui.go:3", Pattern: "static", Files: []string{"internal/ui/static/app.js", "internal/ui/static/css/a.css"}},
		},
	}
	if buildContext(nil).GOARCH != "amd64" && buildContext(nil).GOARCH != "arm64" {
		want.Files = want.Files[:4]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inputs (-want +got):\n%s", diff)
	}
}

// TestInputsVendor: with vendor/, the vendored packages the binary links are inputs,
// go.sum is not.
func TestInputsVendor(t *testing.T) {
	p := load(t, map[string]string{
		"go.mod":                                "module example.com/v\ngo 1.26\nrequire github.com/google/uuid v1.6.0\n",
		"go.sum":                                "",
		"main.go":                               "package main\nimport _ \"github.com/google/uuid\"\nfunc main(){}\n",
		"vendor/modules.txt":                    "# github.com/google/uuid v1.6.0\n## explicit\ngithub.com/google/uuid\n",
		"vendor/github.com/google/uuid/uuid.go": "package uuid\n",
		"vendor/github.com/google/other/o.go":   "package other\n",
	})
	got, err := p.Inputs(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"go.mod", "vendor/modules.txt", "main.go", "vendor/github.com/google/uuid/uuid.go"}
	if diff := cmp.Diff(want, got.Files); diff != "" {
		t.Errorf("Inputs.Files (-want +got):\n%s", diff)
	}
}
