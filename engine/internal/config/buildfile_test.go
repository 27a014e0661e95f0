package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Service 3 of issue #20: two promu binaries whose version lives in another module.
var promuService = map[string]string{
	"go.mod":                     "module github.com/acme/demo\ngo 1.26\n",
	"cmd/demo_exporter/main.go":  "package main\nfunc main(){}\n",
	"cmd/democtl/main.go":        "package main\nfunc main(){}\n",
	"internal/version/v.go":      "package version\nvar Version string\n",
	".github/workflows/ci.yml":   "on: push\n",
	".promu.yml":                 "build:\n  binaries:\n    - name: demo_exporter\n      path: ./cmd/demo_exporter\n    - name: democtl\n      path: ./cmd/democtl\n  tags:\n    all: [netgo]\n  ldflags: |\n    -X github.com/prometheus/common/version.Version={{.Version}}\n    -X github.com/prometheus/common/version.Revision={{.Revision}}\n",
	"cmd/demo_exporter/extra.go": "package main\nvar version string\n",
}

func resolveFiles(t *testing.T, files map[string]string, c Config, vars ...string) (Resolved, error) {
	t.Helper()
	dir := t.TempDir()
	testfix.WriteTree(t, dir, files)
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Resolve(p, c, env(vars...))
}

func TestReleaseFileImages(t *testing.T) {
	r, err := resolveFiles(t, promuService, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, img := range r.Images {
		if img.Release == nil {
			t.Fatalf("image %s has no release build", img.Name)
		}
		got = append(got, []string{img.Main, img.Binary, img.VersionVar, strings.Join(img.Tags, ",")})
	}
	want := [][]string{
		{"./cmd/demo_exporter", "demo_exporter", "github.com/prometheus/common/version.Version", "netgo"},
		{"./cmd/democtl", "democtl", "github.com/prometheus/common/version.Version", "netgo"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %q, want none", r.Warnings)
	}
}

func TestReleaseFileMagefileWins(t *testing.T) {
	r, err := resolveFiles(t, promuService, Config{Images: []Image{
		{Main: "./cmd/demo_exporter", Binary: "exporter", Tags: []string{"osusergo"}, VersionVar: "main.version"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != 1 {
		t.Fatalf("%d images, want the magefile's one", len(r.Images))
	}
	img := r.Images[0]
	if img.Binary != "exporter" || !cmp.Equal(img.Tags, []string{"osusergo"}) || img.VersionVar != "main.version" || img.Release == nil {
		t.Errorf("binary %q tags %v VersionVar %q release %v: want the magefile's, with the file's build", img.Binary, img.Tags, img.VersionVar, img.Release != nil)
	}
}

func TestReleaseFileRefusals(t *testing.T) {
	gr := func(ldflags string) map[string]string {
		return map[string]string{
			"go.mod":          "module example.com/svc\ngo 1.26\n",
			"main.go":         "package main\nvar version string\nfunc main(){}\n",
			".goreleaser.yml": "version: 2\nbuilds:\n  - main: .\n    ldflags:\n      - " + ldflags + "\n",
		}
	}
	tests := []struct {
		name  string
		files map[string]string
		c     Config
		vars  []string
		want  string
	}{
		{"unsupported function", gr("-X main.version={{ .Version | sha256 }}"), Config{}, nil,
			`.goreleaser.yml:5: -X main.version={{ .Version | sha256 }}: goreleaser template not supported by mageship: function "sha256" not defined`},
		{"container path", gr("-s -w -X main.version={{.Version}}"), Config{Build: BuildContainer}, nil,
			"image .: .goreleaser.yml states how its binary is built (ldflags, flags, env), which the container build path does not carry: build on this machine (MAGESHIP_BUILD=host, the default)"},
		{"Image.Ldflags field", map[string]string{"go.mod": "module example.com/svc\ngo 1.26\n", "main.go": "package main\nfunc main(){}\n"},
			Config{Images: []Image{{Ldflags: []string{"-X main.c={{.Commitx}}"}}}}, nil,
			`image .: Image.Ldflags:1: -X main.c={{.Commitx}}: mageship template not supported by mageship: <.Commitx>: map has no entry for key "Commitx"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveFiles(t, tc.files, tc.c, tc.vars...)
			testfix.OneLine(t, err, tc.want)
		})
	}
	// The environment a template names is read through getenv.
	if _, err := resolveFiles(t, gr("-X main.version={{.Env.RELEASE_TAG}}"), Config{}, "RELEASE_TAG", "1.0"); err != nil {
		t.Errorf("a set .Env variable: %v", err)
	}
	// MAGESHIP_RELEASE_FILE=off reads none.
	r, err := resolveFiles(t, gr("-X main.version={{ now }}"), Config{}, "MAGESHIP_RELEASE_FILE", "off")
	if err != nil || r.Images[0].Release != nil || r.Images[0].VersionVar != "main.version" {
		t.Errorf("MAGESHIP_RELEASE_FILE=off: %v, release %v", err, err == nil && r.Images[0].Release != nil)
	}
}

func TestReleaseFileNoVersion(t *testing.T) {
	r, err := resolveFiles(t, map[string]string{
		"go.mod":     "module example.com/svc\ngo 1.26\n",
		"main.go":    "package main\nvar commit string\nfunc main(){}\n",
		".ko.yaml":   "builds:\n- id: svc\n  main: example.com/svc\n  ldflags: [\"-X main.commit={{.Git.FullCommit}}\"]\n",
		".promu.yml": "build: {}\n",
	}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".ko.yaml states how the binaries are built; .promu.yml not read",
		"image svc: .ko.yaml:2 builds it with ldflags that stamp no version (no -X NAME={{.Version}}), so the binary carries none: add one there, or set Image.VersionVar",
	}
	if diff := cmp.Diff(want, r.Warnings); diff != "" || r.Images[0].Main != "." || r.Images[0].VersionVar != "" {
		t.Errorf("main %q VersionVar %q warnings (-want +got):\n%s", r.Images[0].Main, r.Images[0].VersionVar, diff)
	}
}

// TestDetectBuildVars: without a release-build file, the commit and date variables
// people use get -X too (host path), beside the version variable.
func TestDetectBuildVars(t *testing.T) {
	mod := "go.mod"
	tests := []struct {
		name        string
		files       map[string]string
		build       string
		wantVar     string
		wantLdflags []string
		wantWarning string
	}{
		{"main package", map[string]string{mod: "module example.com/svc\ngo 1.26\n", "main.go": "package main\nvar version, commit, date string\nvar buildDate = \"x\"\nfunc main(){}\n"}, "",
			"main.version", []string{"-X main.commit={{.Commit}}", "-X main.date={{.Date}}"}, ""},
		{"buildinfo package", map[string]string{mod: "module example.com/svc\ngo 1.26\n",
			"main.go":                  "package main\nimport _ \"example.com/svc/internal/buildinfo\"\nfunc main(){}\n",
			"internal/buildinfo/bi.go": "package buildinfo\nvar Version, GitCommit string\nvar BuildDate = \"unknown\"\nvar Date = f()\nfunc f() string { return \"\" }\n"}, "",
			"example.com/svc/internal/buildinfo.Version", []string{"-X example.com/svc/internal/buildinfo.GitCommit={{.Commit}}", "-X example.com/svc/internal/buildinfo.BuildDate={{.Date}}"}, ""},
		{"prometheus/common/version", map[string]string{mod: "module example.com/exp\ngo 1.26\n", "main.go": "package main\nimport _ \"github.com/prometheus/common/version\"\nfunc main(){}\n"}, "",
			"github.com/prometheus/common/version.Version", []string{
				"-X github.com/prometheus/common/version.Revision={{.Commit}}",
				"-X github.com/prometheus/common/version.Branch={{.Branch}}",
				"-X github.com/prometheus/common/version.BuildUser=mageship@mageship",
				`-X github.com/prometheus/common/version.BuildDate={{ time "20060102-15:04:05" }}`}, ""},
		{"container path", map[string]string{mod: "module example.com/svc\ngo 1.26\n", "main.go": "package main\nvar version, Commit string\nfunc main(){}\n"}, BuildContainer,
			"main.version", nil, "image svc: main.Commit stay empty on the container build path, which stamps the version alone: build on this machine (MAGESHIP_BUILD=host, the default) to stamp them"},
		{"version-like candidates", map[string]string{mod: "module example.com/svc\ngo 1.26\n", "main.go": "package main\nvar appVersion string\nfunc main(){}\n",
			"internal/meta/meta.go": "package meta\nvar ServerVersion, APIVersion string\nvar versionCount int\n", "cmd/other/main.go": "package main\nvar OtherVersion string\nfunc main(){}\n"}, "",
			"", nil, `so the binary gets no version: set Image.VersionVar to the variable that holds it (importpath.name), or to - for none; candidates: VersionVar: "main.appVersion", VersionVar: "example.com/svc/internal/meta.APIVersion", VersionVar: "example.com/svc/internal/meta.ServerVersion"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := resolveFiles(t, tc.files, Config{Build: tc.build, Images: []Image{{Main: "."}}})
			if err != nil {
				t.Fatal(err)
			}
			img := r.Images[0]
			if img.VersionVar != tc.wantVar {
				t.Errorf("VersionVar %q, want %q", img.VersionVar, tc.wantVar)
			}
			if diff := cmp.Diff(tc.wantLdflags, img.Ldflags); diff != "" {
				t.Errorf("Ldflags (-want +got):\n%s", diff)
			}
			switch {
			case tc.wantWarning == "" && len(r.Warnings) > 0:
				t.Errorf("warnings %q, want none", r.Warnings)
			case tc.wantWarning != "" && (len(r.Warnings) != 1 || !strings.HasSuffix(r.Warnings[0], tc.wantWarning)):
				t.Errorf("warnings %q\nwant one ending %q", r.Warnings, tc.wantWarning)
			}
		})
	}
}

// TestReleaseFileDefaultLdflagsNoVariable: `goreleaser init`'s file (no ldflags, so
// goreleaser's default -X main.version=...) on a main that declares no version builds,
// as under goreleaser, with a warning that the binary carries no version.
func TestReleaseFileDefaultLdflagsNoVariable(t *testing.T) {
	r, err := resolveFiles(t, map[string]string{
		"go.mod":          "module example.com/svc\ngo 1.26\n",
		"main.go":         "package main\nfunc main(){}\n",
		".goreleaser.yml": "version: 2\nbuilds:\n  - env: [CGO_ENABLED=0]\n    goos: [linux]\n",
	}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	img := r.Images[0]
	if img.Release == nil || img.VersionVar != "" {
		t.Errorf("release %v, VersionVar %q: want the file's build and no version variable", img.Release != nil, img.VersionVar)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], ".goreleaser.yml:3 stamps the version into main.version, which ") || !strings.Contains(r.Warnings[0], "declare it") {
		t.Errorf("warnings %q: want one naming main.version and the fix", r.Warnings)
	}
}
