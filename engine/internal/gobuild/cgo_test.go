package gobuild

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

func TestCgoListArgs(t *testing.T) {
	b := Build{Dir: "/src", Main: "./cmd/api", Tags: []string{"netgo", "osusergo"}, Mod: "vendor"}
	want := []string{"list", "-e", "-deps", "-json=ImportPath,Dir,Standard,DepOnly,Imports,GoFiles,IgnoredGoFiles", "-tags", "netgo,osusergo", "-mod=vendor", "./cmd/api"}
	if diff := cmp.Diff(want, b.CgoListArgs()); diff != "" {
		t.Errorf("CgoListArgs (-want +got):\n%s", diff)
	}
}

// cgoModule is a service whose main imports a store that imports a package that
// needs cgo (a sibling module, replaced): the cgo dependency two imports deep. The
// "fallback" package has cgo files and a pure-Go version with the same API.
var cgoModule = map[string]string{
	"svc/go.mod":                  "module example.com/svc\n\ngo 1.26\n\nrequire example.com/csqlite v0.0.0\n\nreplace example.com/csqlite => ../csqlite\n",
	"svc/cmd/api/main.go":         "package main\n\nimport \"example.com/svc/internal/store\"\n\nfunc main() { store.Open() }\n",
	"svc/internal/store/store.go": "package store\n\nimport \"example.com/csqlite\"\n\nfunc Open() error { return csqlite.Error{} }\n",
	"svc/cmd/ok/main.go":          "package main\n\nimport \"example.com/svc/internal/fast\"\n\nfunc main() { fast.Hash() }\n",
	"svc/internal/fast/cgo.go":    "package fast\n\n// int one(void) { return 1; }\nimport \"C\"\n\nfunc Hash() int { return int(C.one()) }\n",
	"svc/internal/fast/pure.go":   "//go:build !cgo\n\npackage fast\n\nfunc Hash() int { return 1 }\n",
	"csqlite/go.mod":              "module example.com/csqlite\n\ngo 1.26\n",
	"csqlite/sqlite.go":           "package csqlite\n\n// int ok(void) { return 0; }\nimport \"C\"\n\ntype Error struct{}\n\nfunc (Error) Error() string { return \"sqlite\" }\n\nfunc Ok() int { return int(C.ok()) }\n",
	"csqlite/mock.go":             "//go:build !cgo\n\npackage csqlite\n\nfunc Ok() int { return -1 }\n",
}

// TestCheckCgo runs go list for real on a module with a cgo dependency two imports
// deep, and on one whose cgo package has a pure-Go version.
func TestCheckCgo(t *testing.T) {
	root := t.TempDir()
	testfix.WriteTree(t, root, cgoModule)
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
	b := Build{Dir: filepath.Join(root, "svc"), Main: "./cmd/api", Platform: platform.Platform{OS: "linux", Arch: "amd64"}}
	err := CheckCgo(context.Background(), b, env)
	testfix.OneLine(t, err, "./cmd/api cannot build for linux/amd64 with CGO_ENABLED=0: package example.com/csqlite needs cgo", `sqlite.go imports "C"`, "no pure-Go Error",
		"pulled in by example.com/svc/internal/store", "example.com/svc/cmd/api → example.com/svc/internal/store → example.com/csqlite", "pure-Go package", "Image.Tags")

	start := time.Now()
	b.Main = "./cmd/ok"
	if err := CheckCgo(context.Background(), b, env); err != nil {
		t.Errorf("a cgo package with a pure-Go version: %v", err)
	}
	t.Logf("go list -deps of ./cmd/ok took %s", time.Since(start))
}
