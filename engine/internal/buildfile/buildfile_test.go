package buildfile

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

var commitTime = time.Date(2026, 11, 30, 12, 34, 56, 0, time.UTC)

func vars() Vars {
	return Vars{
		Version: "2.3.4", Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main",
		Date: commitTime, CommitDate: commitTime, ModulePath: "github.com/acme/svc/v2",
		Env: map[string]string{"FOO": "bar", "TOOLCHAIN": "go1.26.8"},
	}
}

func TestRender(t *testing.T) {
	snapshot := vars()
	snapshot.Version = "2.3.4-5-g0123456"
	tests := []struct {
		name    string
		dialect Dialect
		text    string
		v       Vars
		want    string
	}{
		{"goreleaser version", Goreleaser, "-X main.version={{.Version}} -X main.tag={{.Tag}}", vars(), "-X main.version=2.3.4 -X main.tag=v2.3.4"},
		{"goreleaser commits", Goreleaser, "{{.Commit}} {{.FullCommit}} {{.ShortCommit}} {{.Branch}}", vars(), "0123456789abcdef0123456789abcdef01234567 0123456789abcdef0123456789abcdef01234567 0123456 main"},
		{"goreleaser semver", Goreleaser, "{{.Major}}.{{.Minor}}.{{.Patch}} {{.RawVersion}} {{.IsSnapshot}}", vars(), "2.3.4 2.3.4 false"},
		{"goreleaser snapshot", Goreleaser, "{{.Version}} {{.Tag}} {{.IsSnapshot}}", snapshot, "2.3.4-5-g0123456 v2.3.4-5-g0123456 true"},
		{"goreleaser dates", Goreleaser, "{{.Date}} {{.CommitDate}} {{.Timestamp}} {{.CommitTimestamp}}", vars(), "2026-11-30T12:34:56Z 2026-11-30T12:34:56Z 1796042096 1796042096"},
		{"goreleaser time is the commit's", Goreleaser, `{{ time "2006" }}`, vars(), "2026"},
		{"goreleaser env", Goreleaser, `{{.Env.FOO}} {{ envOrDefault "NOPE" "go1.26.5" }} {{ envOrDefault "TOOLCHAIN" "x" }}`, vars(), "bar go1.26.5 go1.26.8"},
		{"goreleaser functions", Goreleaser, `{{ tolower "AB" }}{{ toupper "cd" }}{{ trimprefix .Tag "v" }}{{ replace .Version "." "_" }}{{ index .Env "FOO" }}`, vars(), "abCD2.3.42_3_4bar"},
		{"goreleaser project", Goreleaser, "{{.ProjectName}} {{.ModulePath}}", Vars{ProjectName: "svc", ModulePath: "m"}, "svc m"},
		{"ko", Ko, "{{.Git.Tag}} {{.Git.ShortCommit}} {{.Git.FullCommit}} {{.Date}} {{.Timestamp}} {{.Env.FOO}}{{.Env.LDFLAGS}}", vars(), "v2.3.4 0123456 0123456789abcdef0123456789abcdef01234567 2026-11-30T12:34:56Z 1796042096 bar"},
		{"promu", Promu, `{{.Version}} {{.Revision}} {{.Branch}} {{user}}@{{host}} {{date "20060102-15:04:05"}}`, vars(), "2.3.4 0123456789abcdef0123456789abcdef01234567 main mageship@mageship 20261130-12:34:56"},
		{"mageship", Mageship, "-X main.commit={{.ShortCommit}}", vars(), "-X main.commit=0123456"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Text{S: tc.text, File: "f", Line: 1}.render(tc.dialect, tc.v, promuRepo{path: "github.com/prometheus/x"})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderUnsupported(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		text    Text
		want    string
	}{
		{"unknown function", Goreleaser, Text{S: `-X main.d={{ now }}`, File: ".goreleaser.yml", Line: 12}, `.goreleaser.yml:12: -X main.d={{ now }}: goreleaser template not supported by mageship: function "now" not defined`},
		{"unknown field", Goreleaser, Text{S: `-X main.u={{ .ReleaseURL }}`, File: ".goreleaser.yml", Line: 7}, `.goreleaser.yml:7: -X main.u={{ .ReleaseURL }}: goreleaser template not supported`},
		{"unset env", Goreleaser, Text{S: `{{ .Env.MISSING }}`, File: "g.yml", Line: 3}, `g.yml:3: {{ .Env.MISSING }}: environment variable MISSING is not set`},
		{"ko GoEnv", Ko, Text{S: `{{ .GoEnv.GOOS }}`, File: ".ko.yaml", Line: 4}, `.ko.yaml:4: {{ .GoEnv.GOOS }}: ko template not supported`},
		{"promu line in block", Promu, Text{S: "-s\n-X a.b={{.Nope}}\n", File: ".promu.yml", Line: 10}, `.promu.yml:11: -X a.b={{.Nope}}: promu template not supported`},
		{"promu goreleaser function", Promu, Text{S: `{{ tolower .Version }}`, File: ".promu.yml", Line: 2}, `function "tolower" not defined`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.text.render(tc.dialect, vars(), promuRepo{})
			if err == nil {
				t.Fatal("rendered, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q\nwant one line containing %q", err, tc.want)
			}
		})
	}
}

func TestTag(t *testing.T) {
	for v, want := range map[string]string{"1.2.3": "v1.2.3", "1.2.3-rc.1": "v1.2.3-rc.1", "1.2.3-4-gabcdef0": "v1.2.3-4-gabcdef0", "dev": "dev"} {
		if got := (Vars{Version: v}).Tag(); got != want {
			t.Errorf("Tag of %s = %q, want %q", v, got, want)
		}
	}
}

const goreleaserV2 = `version: 2
project_name: svc
env:
  - GO111MODULE=on
before:
  hooks:
    - go mod tidy
builds:
  - id: server
    main: ./cmd/server
    binary: "{{ .ProjectName }}-server"
    flags: [-trimpath, -tags=netgo]
    ldflags:
      - -s -w -X 'github.com/acme/svc/v2/server.gitCommit={{.ShortCommit}}'
      - -X github.com/acme/svc/v2/server.serverVersion={{.Tag}}
    env:
      - GOTOOLCHAIN={{ envOrDefault "GORELEASER_TOOLCHAIN" "local" }}
      - CGO_ENABLED=0
    goos: [linux, darwin]
  - id: mac
    main: ./cmd/mac
    goos: [darwin]
  - id: rusty
    builder: rust
  - id: off
    skip: true
  - id: plain
    main: ./cmd/plain
`

func TestParseGoreleaser(t *testing.T) {
	f, err := Parse(".goreleaser.yml", Goreleaser, []byte(goreleaserV2), "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"before hooks (not run)", "build mac (not for linux)", "build rusty (builder rust)", "build off (skip: true)"}, f.Left); diff != "" {
		t.Errorf("left out (-want +got):\n%s", diff)
	}
	if len(f.Builds) != 2 {
		t.Fatalf("%d builds, want 2", len(f.Builds))
	}
	b := f.Builds[0]
	if b.Main != "./cmd/server" || b.Binary != "svc-server" || b.Line != 9 || !cmp.Equal(b.Tags, []string{"netgo"}) {
		t.Errorf("build: main %q binary %q line %d tags %v", b.Main, b.Binary, b.Line, b.Tags)
	}
	r, err := b.Render(vars())
	if err != nil {
		t.Fatal(err)
	}
	want := Rendered{
		Ldflags:    "-s -w -X 'github.com/acme/svc/v2/server.gitCommit=0123456' -X github.com/acme/svc/v2/server.serverVersion=v2.3.4",
		HasLdflags: true,
		Flags:      []string{"-trimpath"},
		Env:        []string{"GO111MODULE=on", "GOTOOLCHAIN=local", "CGO_ENABLED=0"},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("rendered (-want +got):\n%s", diff)
	}
	if got := b.VersionVar(vars()); got != "github.com/acme/svc/v2/server.serverVersion" {
		t.Errorf("VersionVar = %q", got)
	}
	plain := f.Builds[1]
	r, err = plain.Render(vars())
	if err != nil {
		t.Fatal(err)
	}
	if plain.Binary != "svc" || r.Ldflags != "-s -w -X main.version=2.3.4 -X main.commit=0123456789abcdef0123456789abcdef01234567 -X main.date=2026-11-30T12:34:56Z -X main.builtBy=goreleaser" {
		t.Errorf("goreleaser's defaults: binary %q ldflags %q", plain.Binary, r.Ldflags)
	}
}

func TestParseGoreleaserV1Single(t *testing.T) {
	f, err := Parse("g.yml", Goreleaser, []byte("build:\n  main: main.go\n  ldflags: -s -w -X main.Version={{.Version}}\n  hooks:\n    pre: make\n"), "tool")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Builds) != 1 || f.Builds[0].Main != "." || f.Builds[0].Binary != "tool" || len(f.Left) != 1 || f.Left[0] != "build #1 hooks (not run)" {
		t.Fatalf("builds %v left %v", f.Builds, f.Left)
	}
}

func TestParseUnsupported(t *testing.T) {
	tests := []struct {
		name, file string
		dialect    Dialect
		data       string
		want       string
	}{
		{"unknown key", "g.yml", Goreleaser, "builds:\n  - main: .\n    frobnicate: 1\n", "g.yml:3: frobnicate: 1: goreleaser key not supported by mageship"},
		{"buildmode", "g.yml", Goreleaser, "builds:\n  - buildmode: c-shared\n", "g.yml:2: buildmode: c-shared: goreleaser key not supported"},
		{"other dir", "g.yml", Goreleaser, "builds:\n  - dir: sub\n", "g.yml:2: dir: sub: goreleaser key not supported"},
		{"templated skip", "g.yml", Goreleaser, "builds:\n  - skip: '{{ .IsSnapshot }}'\n", "g.yml:2: skip: {{ .IsSnapshot }}: goreleaser template in skip not supported"},
		{"ko capabilities", ".ko.yaml", Ko, "builds:\n- main: ./cmd/a\n  linux_capabilities: net_bind_service\n", ".ko.yaml:3: linux_capabilities: net_bind_service: ko key not supported"},
		{"promu cgo", ".promu.yml", Promu, "go:\n  cgo: true\n", ".promu.yml:1: go: cgo: true: promu key not supported"},
		{"bad yaml", "g.yml", Goreleaser, "builds: [\n", "reading g.yml: yaml: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file, tc.dialect, []byte(tc.data), "p")
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v\nwant one line containing %q", err, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"cgo", "builds:\n  - env: [CGO_ENABLED=1]\n", "g.yml:2: CGO_ENABLED=1: cgo is not supported"},
		{"output flag", "builds:\n  - flags: [-o, x]\n", "g.yml:2: -o: flag -o is not supported"},
		{"ldflags flag", "builds:\n  - flags:\n      - -ldflags=-s\n", "g.yml:3: -ldflags=-s: flag -ldflags is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("g.yml", Goreleaser, []byte(tc.data), "p")
			if err != nil {
				t.Fatal(err)
			}
			err = f.Builds[0].Check(vars())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseKo(t *testing.T) {
	data := `defaultBaseImage: cgr.dev/chainguard/static
defaultEnv: [GOEXPERIMENT=loopvar]
defaultLdflags: ["-s -w"]
builds:
- id: api
  main: ./cmd/api
  flags: -tags netgo
  ldflags:
  - -s -w
  - -X main.version={{.Git.Tag}} -X main.commit={{.Git.FullCommit}}
- id: worker
  main: github.com/acme/svc/cmd/worker
`
	f, err := Parse(".ko.yaml", Ko, []byte(data), "svc")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Builds) != 2 || len(f.Left) != 1 {
		t.Fatalf("builds %d, left %v", len(f.Builds), f.Left)
	}
	api, err := f.Builds[0].Render(vars())
	if err != nil {
		t.Fatal(err)
	}
	want := Rendered{Ldflags: "-s -w -X main.version=v2.3.4 -X main.commit=0123456789abcdef0123456789abcdef01234567", HasLdflags: true, Flags: []string{"-trimpath"}, Env: []string{"GOEXPERIMENT=loopvar"}}
	if diff := cmp.Diff(want, api); diff != "" {
		t.Errorf("api (-want +got):\n%s", diff)
	}
	if !cmp.Equal(f.Builds[0].Tags, []string{"netgo"}) || f.Builds[1].Main != "github.com/acme/svc/cmd/worker" {
		t.Errorf("tags %v, worker main %q", f.Builds[0].Tags, f.Builds[1].Main)
	}
	worker, _ := f.Builds[1].Render(vars())
	if worker.Ldflags != "-s -w" {
		t.Errorf("worker ldflags %q, want the default -s -w", worker.Ldflags)
	}
}

func TestParsePromu(t *testing.T) {
	data := `go:
    version: 1.26
repository:
    path: github.com/prometheus/demo_exporter
build:
    binaries:
        - name: demo_exporter
          path: ./cmd/demo_exporter
        - name: democtl
          path: ./cmd/democtl
    tags:
        all: [netgo]
    ldflags: |
        -X github.com/prometheus/common/version.Version={{.Version}}
        -X github.com/prometheus/common/version.Revision={{.Revision}}
        -X github.com/prometheus/common/version.Branch={{.Branch}}
        -X github.com/prometheus/common/version.BuildUser={{user}}@{{host}}
        -X github.com/prometheus/common/version.BuildDate={{date "20060102-15:04:05"}}
`
	f, err := Parse(".promu.yml", Promu, []byte(data), "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Builds) != 2 || f.Builds[1].Binary != "democtl" || f.Builds[1].Main != "./cmd/democtl" {
		t.Fatalf("builds %+v", f.Builds)
	}
	r, err := f.Builds[0].Render(vars())
	if err != nil {
		t.Fatal(err)
	}
	want := "-X github.com/prometheus/common/version.Version=2.3.4 -X github.com/prometheus/common/version.Revision=0123456789abcdef0123456789abcdef01234567 -X github.com/prometheus/common/version.Branch=main -X github.com/prometheus/common/version.BuildUser=mageship@mageship -X github.com/prometheus/common/version.BuildDate=20261130-12:34:56  -extldflags '-static'"
	if r.Ldflags != want || !cmp.Equal(f.Builds[0].Tags, []string{"netgo"}) {
		t.Errorf("ldflags\n%q\nwant\n%q\ntags %v", r.Ldflags, want, f.Builds[0].Tags)
	}
	if f.Builds[0].Ldflags[0].Line != 14 {
		t.Errorf("ldflags line %d, want 14", f.Builds[0].Ldflags[0].Line)
	}
	if got := f.Builds[0].VersionVar(vars()); got != "github.com/prometheus/common/version.Version" {
		t.Errorf("VersionVar = %q", got)
	}
}

func TestFind(t *testing.T) {
	workflow := "jobs:\n  release:\n    steps:\n      - uses: goreleaser/goreleaser-action@v6\n        with:\n          args: release --clean --config .github/goreleaser.yml\n"
	tests := []struct {
		name  string
		files map[string]string
		ko    string
		want  []Candidate
	}{
		{"none", map[string]string{"go.mod": ""}, "", nil},
		{"default names in goreleaser's order", map[string]string{"goreleaser.yaml": "", ".goreleaser.yaml": ""}, "", []Candidate{{Path: ".goreleaser.yaml", Dialect: Goreleaser}}},
		{"a workflow's --config wins", map[string]string{".goreleaser.yml": "", ".github/goreleaser.yml": "", ".github/workflows/release.yml": workflow}, "",
			[]Candidate{{Path: ".github/goreleaser.yml", Dialect: Goreleaser, Why: "named by .github/workflows/release.yml:6"}}},
		{"gitlab -f", map[string]string{"ci/gr.yaml": "", ".gitlab-ci.yml": "release:\n  script:\n    - goreleaser release -f=ci/gr.yaml\n"}, "",
			[]Candidate{{Path: "ci/gr.yaml", Dialect: Goreleaser, Why: "named by .gitlab-ci.yml:3"}}},
		{"docker -f is not goreleaser's", map[string]string{"compose.yml": "", ".github/workflows/ci.yml": "run: docker compose -f compose.yml up\n"}, "", nil},
		{"a named file that is missing", map[string]string{".goreleaser.yml": "", ".github/workflows/r.yml": "run: goreleaser --config gone.yml\n"}, "",
			[]Candidate{{Path: ".goreleaser.yml", Dialect: Goreleaser}}},
		{"all three", map[string]string{".ko.yaml": "", ".goreleaser.yml": "", ".promu.yml": ""}, "",
			[]Candidate{{Path: ".goreleaser.yml", Dialect: Goreleaser}, {Path: ".ko.yaml", Dialect: Ko}, {Path: ".promu.yml", Dialect: Promu}}},
		{"KO_CONFIG_PATH directory", map[string]string{"deploy/.ko.yaml": "", ".ko.yaml": ""}, "deploy", []Candidate{{Path: "deploy/.ko.yaml", Dialect: Ko, Why: "KO_CONFIG_PATH"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, s := range tc.files {
				fsys[p] = &fstest.MapFile{Data: []byte(s)}
			}
			got, err := Find(fsys, tc.ko)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Find(fstest.MapFS{}, "nope.yaml"); err == nil || !strings.Contains(err.Error(), "KO_CONFIG_PATH=nope.yaml: no such file") {
		t.Errorf("missing KO_CONFIG_PATH: %v", err)
	}
}

func TestXflags(t *testing.T) {
	got := xflags(`-s -w -X 'a.b=1 2' -X=c.d=3 -X "e.f=4"`)
	want := [][2]string{{"a.b", "1 2"}, {"c.d", "3"}, {"e.f", "4"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// TestGoreleaserBuildEnv: the build's env is what {{.Env.NAME}} reads after it (as
// goreleaser renders it), and of several CGO_ENABLED entries the last one counts (a
// global CGO_ENABLED=1 that the build sets back to 0 builds).
func TestGoreleaserBuildEnv(t *testing.T) {
	data := "env: [CGO_ENABLED=1]\nbuilds:\n  - env: [CGO_ENABLED=0, PKG=github.com/acme/svc/version]\n    ldflags: [\"-X {{.Env.PKG}}.Version={{.Version}}\"]\n"
	f, err := Parse("g.yml", Goreleaser, []byte(data), "p")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Builds[0].Check(vars()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	r, err := f.Builds[0].Render(vars())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Ldflags, "-X github.com/acme/svc/version.Version=2.3.4") {
		t.Errorf("ldflags %q: want the build's env in {{.Env.PKG}}", r.Ldflags)
	}
}
