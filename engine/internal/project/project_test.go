package project

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// load writes files into a new directory and loads the project there.
func load(t *testing.T, files map[string]string) Project {
	t.Helper()
	dir := t.TempDir()
	testfix.WriteTree(t, dir, files)
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  Project
	}{
		{
			name: "cmd dirs, mage files and libraries ignored",
			files: map[string]string{
				"go.mod":                 "module github.com/acme/shop\n\ngo 1.26.2\n\nrequire golang.org/x/text v0.1.0\n",
				"go.sum":                 "",
				"cmd/api/main.go":        "package main\nfunc main(){}\n",
				"cmd/worker/main.go":     "package main\nfunc main(){}\n",
				"cmd/README/x.go":        "package readme\n",
				"magefiles/magefile.go":  "//go:build mage\npackage main\nfunc Build(){}\n",
				"magefile.go":            "//go:build mage\npackage main\n",
				"internal/store/db.go":   "package store\n",
				"vendor/modules.txt":     "",
				"cmd/api/main_test.go":   "package main\n",
				"cmd/empty/.placeholder": "",
			},
			want: Project{Module: "github.com/acme/shop", GoVersion: "1.26.2", Requires: 1, HasGoSum: true, Vendor: true, Modules: []string{"golang.org/x/text"},
				Mains: []Main{{"./cmd/api", "api"}, {"./cmd/worker", "worker"}}},
		},
		{
			name:  "root main package",
			files: map[string]string{"go.mod": "module example.com/hello\ngo 1.25\n", "main.go": "package main\nfunc main(){}\n"},
			want:  Project{Module: "example.com/hello", GoVersion: "1.25", Mains: []Main{{".", "hello"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfix.WriteTree(t, dir, tc.files)
			got, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Dir = dir
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("no go.mod: %v", err)
	}
	testfix.WriteTree(t, dir, map[string]string{"go.mod": "go 1.26\n"})
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "no module line") {
		t.Errorf("no module line: %v", err)
	}
}

func TestMinorGo(t *testing.T) {
	for in, want := range map[string]string{"1.26.2": "1.26", "1.26": "1.26", "1.21rc1": "1.21rc1"} {
		if got := (Project{GoVersion: in}).MinorGo(); got != want {
			t.Errorf("MinorGo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadReplaces(t *testing.T) {
	root := t.TempDir()
	testfix.WriteTree(t, root, map[string]string{
		"go.mod": "module example.com/root\ngo 1.26\n",
		"examples/hello/go.mod": "module example.com/root/examples/hello\ngo 1.26\nrequire (\n\texample.com/root v0.0.0\n\texample.com/inner v0.0.0\n\texample.com/versioned v1.0.0\n)\n" +
			"replace example.com/root => ../..\nreplace example.com/inner => ./third_party/inner\nreplace example.com/versioned => example.com/fork v1.0.1\n",
		"examples/hello/main.go": "package main\nfunc main(){}\n",
	})
	p, err := Load(filepath.Join(root, "examples", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Replace{{Module: "example.com/root", Path: "../..", Dir: root}}, p.Replaces); diff != "" {
		t.Errorf("Replaces (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/versioned"}, p.Modules); diff != "" {
		t.Errorf("Modules (-want +got):\n%s", diff)
	}
}

// TestServiceModules: the container build downloads the service's requirements, not
// the magefile's (mageship, Mage, tool directives).
func TestServiceModules(t *testing.T) {
	p := load(t, map[string]string{
		"go.mod": "module example.com/svc\ngo 1.26\ntool (\n\tgithub.com/magefile/mage\n\tgolang.org/x/tools/cmd/stringer\n)\nrequire (\n" +
			"\tgithub.com/google/uuid v1.6.0\n\tgithub.com/magefile/mage v1.17.2\n\tgithub.com/mageship/mageship v1.0.0\n\tgolang.org/x/tools v0.30.0\n\tgoogle.golang.org/grpc v1.71.1\n)\n",
		"main.go": "package main\nfunc main(){}\n",
	})
	if diff := cmp.Diff([]string{"github.com/google/uuid", "google.golang.org/grpc"}, p.Modules); diff != "" {
		t.Errorf("Modules (-want +got):\n%s", diff)
	}
}
