package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// service writes a module like the service (a server, its CLI, a config file)
// and returns it as Load would describe it.
func service(t *testing.T) project.Project {
	t.Helper()
	dir := t.TempDir()
	testfix.WriteTree(t, dir, map[string]string{
		"go.mod":                 "module example.com/tsdb\n\ngo 1.26\n",
		"cmd/tsdb/main.go":       "package main\n\nfunc main() {}\n",
		"cmd/tsdbctl/main.go":    "package main\n\nfunc main() {}\n",
		"cmd/other/tsdb/main.go": "package main\n\nfunc main() {}\n",
		"internal/lib/lib.go":    "package lib\n",
		"etc/tsdb.yml":           "storage: /tsdb\n",
		"web/index.html":         "<p>hi</p>\n",
		"web/js/app.js":          "1\n",
		"secrets/id_ed25519":     "x\n",
		"linked/ok.txt":          "x\n",
	})
	if err := os.Chmod(filepath.Join(dir, "web", "js", "app.js"), 0o775); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("js/app.js", filepath.Join(dir, "web", "app.js")); err != nil {
		t.Fatal(err)
	}
	return project.Project{Dir: dir, Module: "example.com/tsdb", GoVersion: "1.26", Mains: []project.Main{
		{Package: "./cmd/tsdb", Name: "tsdb"}, {Package: "./cmd/tsdbctl", Name: "tsdbctl"},
	}}
}

func good() Image {
	return Image{
		Main: "./cmd/tsdb", Ports: []int{8080, 9090}, HealthPort: 9090,
		Args:    []string{"--config.file=/etc/tsdb/tsdb.yml", "--storage.path=/tsdb"},
		Env:     []string{"TSDB_MODE=server", "EMPTY="},
		WorkDir: "/tsdb", Volumes: []string{"/tsdb"},
		Files:  []File{{From: "etc/tsdb.yml", To: "/etc/tsdb/tsdb.yml"}, {From: "web", To: "/usr/share/tsdb/web"}},
		Also:   []string{"cmd/tsdbctl"},
		Labels: map[string]string{"com.example.team": "storage"},
	}
}

func TestRuntimeResolves(t *testing.T) {
	p := service(t)
	r, err := Resolve(p, Config{Images: []Image{good()}}, env())
	if err != nil {
		t.Fatal(err)
	}
	img := r.Images[0]
	if diff := cmp.Diff([]Extra{{Main: "./cmd/tsdbctl", Binary: "tsdbctl"}}, img.Extras); diff != "" {
		t.Errorf("Extras (-want +got):\n%s", diff)
	}
	wantCopies := []Copy{
		{From: "etc/tsdb.yml", Src: filepath.Join(p.Dir, "etc", "tsdb.yml"), To: "/etc/tsdb/tsdb.yml"},
		{From: "web", Src: filepath.Join(p.Dir, "web"), To: "/usr/share/tsdb/web", Dir: true},
	}
	if diff := cmp.Diff(wantCopies, img.Copies); diff != "" {
		t.Errorf("Copies (-want +got):\n%s", diff)
	}
	if img.ProbePort() != 9090 {
		t.Errorf("ProbePort = %d, want 9090", img.ProbePort())
	}
	got, err := Contents(img)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: "/etc", Kind: KindDir, Mode: 0o755},
		{Path: "/etc/tsdb", Kind: KindDir, Mode: 0o755},
		{Path: "/etc/tsdb/tsdb.yml", Kind: KindFile, Mode: 0o644, Src: filepath.Join(p.Dir, "etc", "tsdb.yml")},
		{Path: "/tsdb", Kind: KindOwned, Mode: 0o755, UID: 65534, GID: 65534},
		{Path: "/usr", Kind: KindDir, Mode: 0o755},
		{Path: "/usr/local/bin/tsdbctl", Kind: KindBinary, Mode: 0o755, Main: "./cmd/tsdbctl"},
		{Path: "/usr/share", Kind: KindDir, Mode: 0o755},
		{Path: "/usr/share/tsdb", Kind: KindDir, Mode: 0o755},
		{Path: "/usr/share/tsdb/web", Kind: KindDir, Mode: 0o755},
		{Path: "/usr/share/tsdb/web/app.js", Kind: KindSymlink, Mode: 0o777, Link: "js/app.js"},
		{Path: "/usr/share/tsdb/web/index.html", Kind: KindFile, Mode: 0o644, Src: filepath.Join(p.Dir, "web", "index.html")},
		{Path: "/usr/share/tsdb/web/js", Kind: KindDir, Mode: 0o755},
		{Path: "/usr/share/tsdb/web/js/app.js", Kind: KindFile, Mode: 0o755, Src: filepath.Join(p.Dir, "web", "js", "app.js")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Contents (-want +got):\n%s", diff)
	}
}

// TestContentsNested: a volume below other directories leaves them root's, and a
// WorkDir that a file goes into stays the user's.
func TestContentsNested(t *testing.T) {
	p := service(t)
	img := good()
	img.WorkDir, img.Volumes = "/etc/tsdb", []string{"/var/lib/tsdb"}
	img.Files = img.Files[:1]
	r, err := Resolve(p, Config{Images: []Image{img}}, env())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Contents(r.Images[0])
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]Kind{}
	for _, e := range got {
		kinds[e.Path] = e.Kind
	}
	want := map[string]Kind{"/etc": KindDir, "/etc/tsdb": KindOwned, "/etc/tsdb/tsdb.yml": KindFile, "/var": KindParent, "/var/lib": KindParent, "/var/lib/tsdb": KindOwned, "/usr/local/bin/tsdbctl": KindBinary}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
}

// TestAlsoIsNotADefault: with the CLI shipped through Also, the server is the only
// main left, so the image need not name it.
func TestAlsoIsNotADefault(t *testing.T) {
	p := service(t)
	img := good()
	img.Main = ""
	r, err := Resolve(p, Config{Images: []Image{img}}, env())
	if err != nil {
		t.Fatal(err)
	}
	if r.Images[0].Main != "./cmd/tsdb" {
		t.Errorf("Main = %s, want ./cmd/tsdb", r.Images[0].Main)
	}
}

// TestRuntimeBadInput: one test per bad input the issue lists, each a one-line error
// naming the field and the fix.
func TestRuntimeBadInput(t *testing.T) {
	p := service(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "host.yml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "host.yml"), filepath.Join(p.Dir, "etc", "link.yml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../"+filepath.Base(outside), filepath.Join(p.Dir, "linked", "out")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Image)
		want []string
	}{
		{"From that does not exist", func(i *Image) { i.Files[0].From = "etc/nope.yml" }, []string{"etc/nope.yml does not exist"}},
		{"From with ../", func(i *Image) { i.Files[0].From = "../x.yml" }, []string{"../x.yml is outside the repository"}},
		{"From an absolute host path", func(i *Image) { i.Files[0].From = filepath.Join(outside, "host.yml") }, []string{"absolute host path"}},
		{"From a symlink out", func(i *Image) { i.Files[0].From = "etc/link.yml" }, []string{"etc/link.yml is a symlink to", "outside the repository"}},
		{"From a directory holding a symlink out", func(i *Image) { i.Files[1].From = "linked" }, []string{"linked/out is a symlink to", "outside the repository"}},
		{"From a secret", func(i *Image) { i.Files[0].From = "secrets" }, []string{"secrets/id_ed25519", "looks like a secret"}},
		{"relative WorkDir", func(i *Image) { i.WorkDir = "tsdb" }, []string{"Image.WorkDir \"tsdb\" is not absolute"}},
		{"relative To", func(i *Image) { i.Files[0].To = "etc/tsdb.yml" }, []string{"Image.To \"etc/tsdb.yml\" is not absolute"}},
		{"relative volume", func(i *Image) { i.Volumes = []string{"data"} }, []string{"Image.Volumes entry \"data\" is not absolute"}},
		{"two Files with one To", func(i *Image) { i.Files[1] = File{From: "web/index.html", To: i.Files[0].To} }, []string{"copies both etc/tsdb.yml and web/index.html to /etc/tsdb/tsdb.yml"}},
		{"To over the binary", func(i *Image) { i.Files[0].To = "/usr/local/bin/tsdb" }, []string{"over the binary of ./cmd/tsdb"}},
		{"To over an Also binary", func(i *Image) { i.Files[0].To = "/usr/local/bin/tsdbctl" }, []string{"over the binary of ./cmd/tsdbctl"}},
		{"Also not a main package", func(i *Image) { i.Also = []string{"./internal/lib"} }, []string{"package lib, not a main package"}},
		{"Also not a package", func(i *Image) { i.Also = []string{"./cmd/nope"} }, []string{"./cmd/nope is not a package"}},
		{"Also whose binary name clashes", func(i *Image) { i.Also = []string{"./cmd/other/tsdb"} }, []string{"binary named tsdb, and so does ./cmd/tsdb"}},
		{"Also the Main itself", func(i *Image) { i.Also = []string{"./cmd/tsdb"} }, []string{"the image's own Main"}},
		{"Env without =", func(i *Image) { i.Env = []string{"TSDB_MODE"} }, []string{`Image.Env entry "TSDB_MODE" has no =`}},
		{"HealthPort not in Ports", func(i *Image) { i.HealthPort = 7070 }, []string{"Image.HealthPort 7070 is not in Image.Ports [8080 9090]"}},
		{"Label over ours", func(i *Image) { i.Labels = map[string]string{"org.opencontainers.image.version": "x"} }, []string{"sets org.opencontainers.image.version, which mageship sets itself"}},
		{"named user with a WorkDir", func(i *Image) { i.User = "tsdb" }, []string{`Image.User "tsdb"`, "uid:gid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := good()
			img.Files = append([]File(nil), img.Files...)
			tc.edit(&img)
			_, err := Resolve(p, Config{Images: []Image{img}}, env())
			testfix.OneLine(t, err, tc.want...)
		})
	}
}

// TestFileModeIgnoresUmask: a file of Image.Files gets 0644 or 0755 whatever the
// checkout's umask made of it, so one commit gives one digest, and a file checked out
// 0600 stays readable by the image's user.
func TestFileModeIgnoresUmask(t *testing.T) {
	for in, want := range map[fs.FileMode]fs.FileMode{0o600: 0o644, 0o644: 0o644, 0o664: 0o644, 0o444: 0o644, 0o700: 0o755, 0o755: 0o755, 0o775: 0o755} {
		if got := fileMode(in); got != want {
			t.Errorf("fileMode(%#o) = %#o, want %#o", in, got, want)
		}
	}
}

// TestFilesFromDirectorySymlink: a From that is a symlink to a directory is copied as
// that directory (its files), not as a link that would dangle in the image.
func TestFilesFromDirectorySymlink(t *testing.T) {
	p := service(t)
	if err := os.Symlink("web", filepath.Join(p.Dir, "site")); err != nil {
		t.Fatal(err)
	}
	img := good()
	img.Files = []File{{From: "site", To: "/srv/site"}}
	r, err := Resolve(p, Config{Images: []Image{img}}, env())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Contents(r.Images[0])
	if err != nil {
		t.Fatal(err)
	}
	var file bool
	for _, e := range got {
		if e.Path == "/srv/site" && e.Kind != KindDir {
			t.Errorf("%s is a %v in the image: want the directory", e.Path, e.Kind)
		}
		file = file || (e.Path == "/srv/site/index.html" && e.Kind == KindFile)
	}
	if !file {
		t.Errorf("no /srv/site/index.html among %v", got)
	}
}
