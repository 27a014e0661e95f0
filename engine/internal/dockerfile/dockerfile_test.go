package dockerfile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mageship/mageship/engine/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func base() Data {
	return Data{
		BuilderImage: "golang:1.26-alpine",
		RuntimeImage: config.Scratch,
		DebugImage:   "alpine:3.22",
		Main:         "./cmd/hello",
		Binary:       "hello",
		VersionVar:   "main.version",
		Ports:        []int{8080},
		User:         "65534:65534",
		DebugUser:    "65534:65534",
		WorkDir:      "/src",
		Modules:      []string{"github.com/google/uuid"},
	}
}

// configurations lists every template configuration; each has a golden file and is linted.
func configurations() map[string]Data {
	distroless := base()
	distroless.RuntimeImage = "gcr.io/distroless/static-debian12:nonroot"
	vendor := base()
	vendor.Vendor = true
	bare := base()
	bare.VersionVar, bare.Ports, bare.Main, bare.Binary, bare.Modules = "", nil, ".", "svc", nil
	tagged := base()
	tagged.Tags, tagged.Ports = []string{"netgo", "osusergo"}, []int{8080, 9090}
	replaced := base()
	replaced.WorkDir = "/src/examples/hello"
	replaced.Replaces = []Replace{{Context: "gomod-replace-1", Dir: "/src"}}
	prebuilt := base()
	prebuilt.Prebuilt = true
	svc := service()
	svcPrebuilt := service()
	svcPrebuilt.Prebuilt = true
	return map[string]Data{"scratch": base(), "distroless": distroless, "vendor": vendor, "bare": bare, "tagged": tagged, "replaced": replaced, "prebuilt": prebuilt,
		"service": svc, "service-prebuilt": svcPrebuilt}
}

// service is a service like the one issue #21 describes: a CLI beside the server,
// a config file, a data directory as volume and working directory, flags, a label,
// and an environment whose values need quoting.
func service() Data {
	d := base()
	d.Binary, d.Main, d.Ports = "tsdb", "./cmd/tsdb", []int{8080, 9090}
	d.Also = []Binary{{Main: "./cmd/tsdbctl", Binary: "tsdbctl"}}
	d.Args = []string{"--config.file=/etc/tsdb/tsdb.yml", "--storage.path=/tsdb", `--name=a "b" $c`}
	d.Env = []string{"TSDB_MODE=server", `TSDB_MOTD=say "hi" \ $HOME`}
	d.Labels = map[string]string{"com.example.team": "storage"}
	d.ImageWorkDir, d.Volumes = "/tsdb", []string{"/tsdb", "/var/lib/tsdb"}
	d.Files = []FileCopy{{From: "etc/tsdb.yml", To: "/etc/tsdb/tsdb.yml"}}
	d.OwnedDirs, d.ParentDirs, d.Owner = []string{"/tsdb", "/var/lib/tsdb"}, []string{"/var/lib", "/var"}, "65534:65534"
	return d
}

func TestRenderGolden(t *testing.T) {
	tmpl, err := Parse("Dockerfile.tmpl", mageshipTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range configurations() {
		t.Run(name, func(t *testing.T) {
			got, err := Render(tmpl, d)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".Dockerfile")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/dockerfile -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("rendered Dockerfile differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestNoRunOnTargetPlatform proves from each rendered Dockerfile that only stages on
// $BUILDPLATFORM run commands, and that the runtime and debug stages exist and copy the
// one binary into the same path.
func TestNoRunOnTargetPlatform(t *testing.T) {
	tmpl, _ := Parse("Dockerfile.tmpl", mageshipTemplate(t))
	for name, d := range configurations() {
		t.Run(name, func(t *testing.T) {
			got, err := Render(tmpl, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := Lint(got); err != nil {
				t.Fatal(err)
			}
			stages := map[string]bool{}
			runs := 0
			var stage string
			for _, ins := range instructions(got) {
				f := strings.Fields(ins.text)
				switch f[0] {
				case "FROM":
					stage, _ = fromStage(f[1:], stages)
				case "RUN":
					runs++
					if stage != "build" {
						t.Errorf("RUN in stage %q", stage)
					}
				}
			}
			if d.Prebuilt {
				// The host path: nothing runs, and no Go image is named.
				if runs != 0 || strings.Contains(got, d.BuilderImage) {
					t.Errorf("the prebuilt Dockerfile has %d RUN steps or names the builder image %s", runs, d.BuilderImage)
				}
			} else {
				if !stages["build"] || stages["runtime"] || stages["debug"] {
					t.Errorf("stage platforms = %v, want only build on $BUILDPLATFORM", stages)
				}
				if runs == 0 {
					t.Error("no RUN at all: the build stage must compile")
				}
			}
			if n := strings.Count(got, "COPY --link --from=build /out/rootfs/ /"); n != 2 {
				t.Errorf("binary copied %d times, want once into debug and once into runtime", n)
			}
		})
	}
}

func TestLintFindsRunOnTarget(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"run in final stage", "FROM --platform=$BUILDPLATFORM golang AS b\nRUN go build\nFROM alpine\nRUN apk add curl\n", `line 4: RUN in stage "alpine"`},
		{"continued RUN", "FROM --platform=$BUILDPLATFORM golang AS b\nRUN true\nFROM scratch AS rt\n# c\nRUN a \\\n  b\n", `line 5: RUN in stage "rt"`},
		{"stage from target stage", "FROM alpine AS base\nFROM base AS x\nRUN id\n", `RUN in stage "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Lint(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Lint error = %v, want %q", err, tc.want)
			}
		})
	}
	ok := "FROM --platform=${BUILDPLATFORM} golang AS b\nRUN go build\nFROM b AS test\nRUN go test\nFROM scratch\nCOPY --from=b /x /x\n"
	if err := Lint(ok); err != nil {
		t.Errorf("Lint(build-platform stages) = %v", err)
	}
}

func TestUserTemplateErrors(t *testing.T) {
	if _, err := Parse("my.tmpl", "FROM {{.BuilderImage"); err == nil || !strings.Contains(err.Error(), "parsing Dockerfile template") {
		t.Errorf("syntax error: %v", err)
	}
	tmpl, err := Parse("my.tmpl", "FROM {{.BuilderImag}}\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(tmpl, base()); err == nil || !strings.Contains(err.Error(), `map has no entry for key "BuilderImag"`) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Data)
		want string
	}{
		{"binary with slash", func(d *Data) { d.Binary = "a/b" }, "invalid binary name"},
		{"main with space", func(d *Data) { d.Main = "./cmd/x y" }, "invalid main package"},
		{"version var without variable", func(d *Data) { d.VersionVar = "main" }, "invalid version variable"},
		{"port zero", func(d *Data) { d.Ports = []int{0} }, "invalid port 0"},
		{"newline in image", func(d *Data) { d.DebugImage = "alpine\nRUN x" }, "invalid debug image"},
		{"user injection", func(d *Data) { d.User = "0\nRUN x" }, "invalid user"},
		{"env without =", func(d *Data) { d.Env = []string{"A"} }, "invalid Env entry"},
		{"arg with newline", func(d *Data) { d.Args = []string{"a\nRUN x"} }, "invalid Env or Args entry"},
		{"volume injection", func(d *Data) { d.Volumes = []string{"/x\nRUN y"} }, "invalid path in the image"},
		{"file from injection", func(d *Data) { d.Files = []FileCopy{{From: "a b", To: "/a"}} }, "invalid file to copy"},
		{"owner by name", func(d *Data) { d.OwnedDirs, d.Owner = []string{"/d"}, "nobody" }, "invalid owner"},
		{"label injection", func(d *Data) { d.Labels = map[string]string{"a": "b\nRUN x"} }, "invalid label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.edit(&d)
			if err := d.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		name     string
		module   string
		replaces []string
		wantWork string
		wantDirs []string
	}{
		{"no replaces", "/home/u/hello", nil, "/src", []string{}},
		{"replace to the repository root", "/repo/examples/hello", []string{"../.."}, "/src/examples/hello", []string{"/src"}},
		{"sibling modules", "/w/svc", []string{"../lib", "../tools/x"}, "/src/svc", []string{"/src/lib", "/src/tools/x"}},
		{"absolute replace keeps its path", "/w/svc", []string{"/opt/lib", "../x"}, "/src/svc", []string{"/opt/lib", "/src/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work, dirs := Layout(tc.module, tc.replaces)
			if work != tc.wantWork {
				t.Errorf("workdir = %q, want %q", work, tc.wantWork)
			}
			if diff := cmp.Diff(tc.wantDirs, dirs); diff != "" {
				t.Errorf("dirs (-want +got):\n%s", diff)
			}
		})
	}
}

// mageshipTemplate is mageship's Dockerfile.tmpl, at the top of the repository.
func mageshipTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "Dockerfile.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
