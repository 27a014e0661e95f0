package variant

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/testfix"
	"github.com/mageship/mageship/engine/internal/version"
)

// TestHostRuntime: the host path's build context holds what config.Contents lists,
// in the three trees the prebuilt Dockerfile copies, with the modes it lists.
func TestHostRuntime(t *testing.T) {
	repo := t.TempDir()
	testfix.WriteTree(t, repo, map[string]string{
		"go.mod":              "module example.com/tsdb\n\ngo 1.26\n",
		"cmd/tsdb/main.go":    "package main\n\nfunc main() {}\n",
		"cmd/tsdbctl/main.go": "package main\n\nfunc main() {}\n",
		"etc/tsdb.yml":        "retention: 15d\n",
		"web/bin/run.sh":      "#!/bin/sh\n",
	})
	if err := os.Chmod(filepath.Join(repo, "web", "bin", "run.sh"), 0o777); err != nil {
		t.Fatal(err)
	}
	p := project.Project{Dir: repo, Module: "example.com/tsdb", GoVersion: "1.26", Mains: []project.Main{{Package: "./cmd/tsdb", Name: "tsdb"}, {Package: "./cmd/tsdbctl", Name: "tsdbctl"}}}
	r, err := config.Resolve(p, config.Config{Images: []config.Image{{
		Main: "./cmd/tsdb", Also: []string{"./cmd/tsdbctl"}, WorkDir: "/tsdb", Volumes: []string{"/var/lib/tsdb"},
		Files: []config.File{{From: "etc/tsdb.yml", To: "/etc/tsdb/tsdb.yml"}, {From: "web", To: "/srv/web"}},
	}}}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	c := t.TempDir()
	if err := hostRuntime(c, r.Images[0]); err != nil {
		t.Fatal(err)
	}
	got := map[string]fs.FileMode{}
	filepath.WalkDir(c, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == c {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c, p)
		got[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	want := map[string]fs.FileMode{
		"files": fs.ModeDir | 0o755, "files/etc": fs.ModeDir | 0o755, "files/etc/tsdb": fs.ModeDir | 0o755, "files/etc/tsdb/tsdb.yml": 0o644,
		"files/srv": fs.ModeDir | 0o755, "files/srv/web": fs.ModeDir | 0o755, "files/srv/web/bin": fs.ModeDir | 0o755, "files/srv/web/bin/run.sh": 0o755,
		"owned": fs.ModeDir | 0o755, "owned/tsdb": fs.ModeDir | 0o755, "owned/var": fs.ModeDir | 0o755, "owned/var/lib": fs.ModeDir | 0o755, "owned/var/lib/tsdb": fs.ModeDir | 0o755,
		"parents": fs.ModeDir | 0o755, "parents/var": fs.ModeDir | 0o755, "parents/var/lib": fs.ModeDir | 0o755,
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: mode %v, want %v", k, got[k], want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("the context holds %d paths, want %d: %v", len(got), len(want), got)
	}
	builds := HostBuilds(r, version.Info{Version: "2.3.4"}, []platform.Platform{{OS: "linux", Arch: "amd64"}}, c)
	if len(builds) != 2 || builds[1].Main != "./cmd/tsdbctl" || filepath.Base(builds[1].Output) != "tsdbctl" || builds[1].Version != builds[0].Version || filepath.Dir(builds[1].Output) != filepath.Dir(builds[0].Output) {
		t.Errorf("builds = %+v, want tsdb and tsdbctl beside it, with the same version", builds)
	}
}
