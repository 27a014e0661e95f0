package project

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// monorepo is a repository as issue #26 found one: a go.work at the root, whose own
// module has tools in odd places, and whose server is the root package of a nested
// /vN module that imports a sibling library module.
var monorepo = map[string]string{
	"go.mod":                    "module example.com/mono\n\ngo 1.26\n",
	"go.work":                   "go 1.26\n\nuse (\n\t.\n\t./server\n\t./lib\n\t./worker\n)\n",
	"tools/gen/main.go":         mainSrc,
	"tools/lint/main.go":        mainSrc,
	"server/go.mod":             "module example.com/mono/server/v3\n\ngo 1.26\n\nrequire example.com/mono/lib v0.0.0\n\nreplace example.com/mono/lib => ../lib\n",
	"server/main.go":            "package main\n\nimport _ \"example.com/mono/lib/store\"\n\nvar version = \"dev\"\n\nfunc main() {}\n",
	"server/internal/x/x.go":    "package x\n",
	"lib/go.mod":                "module example.com/mono/lib\n\ngo 1.26\n",
	"lib/store/store.go":        "package store\n",
	"worker/go.mod":             "module example.com/mono/worker\n\ngo 1.26\n",
	"worker/cmd/worker/main.go": mainSrc,
	"worker/hack/probe/main.go": mainSrc,
	"stray/go.mod":              "module example.com/mono/stray\n\ngo 1.26\n",
	"stray/main.go":             mainSrc,
}

// TestWorkspaceRootMains: at a go.work root the mains of every workspace module are
// listed, those at a module's root or under its cmd/ first.
func TestWorkspaceRootMains(t *testing.T) {
	p := load(t, monorepo)
	want := []Main{
		{"./server", "server"},
		{"./worker/cmd/worker", "worker"},
		{"./tools/gen", "gen"},
		{"./tools/lint", "lint"},
	}
	if diff := cmp.Diff(want, p.Mains); diff != "" {
		t.Errorf("Mains (-want +got):\n%s", diff)
	}
}

// TestNestedMain: a main at a nested module's root is read in its own module (the
// panic of issue #26 was Link finding no package there).
func TestNestedMain(t *testing.T) {
	p := load(t, monorepo)
	if got, want := p.ImportPath("./server"), "example.com/mono/server/v3"; got != want {
		t.Errorf("ImportPath(./server) = %q, want %q", got, want)
	}
	if got := ExecName(p.ImportPath("./server")); got != "server" {
		t.Errorf("binary of ./server = %q, want server", got)
	}
	vars, err := p.VersionVars("./server", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"main.version"}, vars); diff != "" {
		t.Errorf("VersionVars(./server) (-want +got):\n%s", diff)
	}
	why, err := p.CheckVersionVar("./server", nil, "main.version")
	if err != nil || why != "" {
		t.Errorf("CheckVersionVar(./server, main.version) = %q, %v; want settable", why, err)
	}
	in, err := p.Inputs("./server", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(in.Files, " "), "server/main.go") {
		t.Errorf("Inputs(./server) = %v, want server/main.go among them", in.Files)
	}
	if err := p.CheckMain("./server"); err != nil {
		t.Errorf("CheckMain(./server) in the workspace: %v", err)
	}
	testfix.OneLine(t, p.CheckMain("./stray"), "example.com/mono/stray", "go work use ./stray", "inside stray/")
}

// TestNestedMainNoWorkspace: without a go.work, a main of a nested module is refused
// in one line, and reading it never panics.
func TestNestedMainNoWorkspace(t *testing.T) {
	files := map[string]string{}
	for k, v := range monorepo {
		if k != "go.work" {
			files[k] = v
		}
	}
	p := load(t, files)
	testfix.OneLine(t, p.CheckMain("./server"), "example.com/mono/server/v3", "run mage inside server/")
	if _, err := p.VersionVars("./server", nil); err != nil {
		t.Errorf("VersionVars(./server): %v", err)
	}
	// A package the module does not have: an error, not a panic.
	if _, err := p.VersionVars("./nowhere", nil); err == nil {
		t.Error("VersionVars(./nowhere): no error")
	}
}

// TestWorkRootWithoutModule: a go.work root with no go.mod is refused in one line.
func TestWorkRootWithoutModule(t *testing.T) {
	dir := t.TempDir()
	testfix.WriteTree(t, dir, map[string]string{"go.work": "go 1.26\nuse ./server\n", "server/go.mod": "module example.com/s\n", "server/main.go": mainSrc})
	_, err := Load(dir)
	testfix.OneLine(t, err, "only a go.work", "inside the module")
}

// TestNestedModuleWorkspace: adopted inside the nested module, the workspace's root
// module (example.com/mono) does not own example.com/mono/lib/greet: lib does, and
// server's go.mod replaces it, so the build needs nothing from the go.work.
func TestNestedModuleWorkspace(t *testing.T) {
	root := load(t, monorepo).Dir
	p, err := Load(root + "/server")
	if err != nil {
		t.Fatal(err)
	}
	if p.Workspace.File == "" || len(p.Workspace.Needed) != 0 {
		t.Errorf("Workspace = %+v, want the go.work and nothing needed", p.Workspace)
	}
}

// TestWorkspaceRootNeedsNothing: at a go.work root, the modules below it are in the
// build context with the go.work, so the container path needs nothing more.
func TestWorkspaceRootNeedsNothing(t *testing.T) {
	p := load(t, monorepo)
	if len(p.Workspace.Needed) != 0 {
		t.Errorf("Workspace.Needed = %+v, want none", p.Workspace.Needed)
	}
}
