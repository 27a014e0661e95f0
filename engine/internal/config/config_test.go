package config

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/project"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

var hello = project.Project{Dir: "/src/hello", Module: "github.com/acme/hello", GoVersion: "1.26.2", Mains: []project.Main{{Package: "./cmd/hello", Name: "hello"}}}

func TestResolveDefaults(t *testing.T) {
	r, err := Resolve(hello, Config{}, env())
	if err != nil {
		t.Fatal(err)
	}
	want := Resolved{
		Project:      hello,
		Platforms:    []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}},
		Build:        BuildHost,
		Assemble:     AssembleDirect,
		SBOM:         true,
		Jobs:         max(runtime.NumCPU(), 2),
		BuilderImage: "golang:1.26-alpine",
		DebugImage:   "alpine:3.22",
		Source:       "https://github.com/acme/hello",
		Dist:         "/src/hello/dist",
		Dockerfile:   "/src/hello/Dockerfile",
		Images: []ResolvedImage{{
			Image:        Image{Name: "hello", Main: "./cmd/hello", Binary: "hello", VersionVar: "main.version", User: "65534:65534", Health: "/healthz", HealthTimeout: 60 * time.Second},
			RuntimeImage: "scratch",
		}},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

// TestPrecedence: environment over code over what the repository implies.
func TestPrecedence(t *testing.T) {
	code := Config{
		Images:       []Image{{Name: "ghcr.io/acme/hello", Runtime: Distroless, Ports: []int{8080}}},
		Platforms:    []string{"linux/arm64"},
		BuilderImage: "mirror.local/golang:1.26-alpine",
		DebugImage:   "mirror.local/alpine:3.22",
		Builder:      "ci",
		Build:        BuildContainer,
	}
	for _, tc := range []struct {
		name  string
		env   func(string) string
		check func(t *testing.T, r Resolved)
	}{
		{"code only", env(), func(t *testing.T, r Resolved) {
			img := r.Images[0]
			if img.Name != "ghcr.io/acme/hello" || img.RuntimeImage != DefaultDistrolessImage || !img.NameSet {
				t.Errorf("image = %+v", img)
			}
			if platform.Strings(r.Platforms) != "linux/arm64" || r.BuilderImage != "mirror.local/golang:1.26-alpine" || r.Builder != "ci" || r.Build != BuildContainer {
				t.Errorf("resolved = %+v", r)
			}
		}},
		{"env over code", env(EnvImage, "localhost:5000/hello", EnvPlatforms, "linux/amd64", EnvBuilderImage, "b:1", EnvDebugImage, "d:1",
			EnvDistrolessImage, "localhost:5000/distroless:nonroot", EnvBuilder, "other", EnvBuild, "host"), func(t *testing.T, r Resolved) {
			img := r.Images[0]
			if img.Name != "localhost:5000/hello" || img.RuntimeImage != "localhost:5000/distroless:nonroot" {
				t.Errorf("image = %+v", img)
			}
			if platform.Strings(r.Platforms) != "linux/amd64" || r.BuilderImage != "b:1" || r.DebugImage != "d:1" || r.Builder != "" || r.Build != BuildHost {
				t.Errorf("resolved = %+v", r)
			}
		}},
		{"runtime env over per-image runtime", env(EnvRuntimeImage, "scratch"), func(t *testing.T, r Resolved) {
			if r.Images[0].RuntimeImage != "scratch" {
				t.Errorf("runtime = %q", r.Images[0].RuntimeImage)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(hello, code, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestResolveSeveralImages(t *testing.T) {
	multi := project.Project{Dir: "/m", Module: "example.com/multi", GoVersion: "1.26",
		Mains: []project.Main{{Package: "./cmd/api", Name: "api"}, {Package: "./cmd/worker", Name: "worker"}}}
	c := Config{Images: []Image{{Main: "./cmd/api", Ports: []int{9000}}, {Main: "cmd/worker", Runtime: Distroless, VersionVar: "-"}}}
	r, err := Resolve(multi, c, env(EnvImage, "localhost:5000/acme/"))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{r.Images[0].Name, r.Images[0].Binary, r.Images[1].Name, r.Images[1].Main, r.Images[1].VersionVar}
	want := []string{"localhost:5000/acme/api", "api", "localhost:5000/acme/worker", "./cmd/worker", ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if img, err := r.Image("worker"); err != nil || img.Main != "./cmd/worker" {
		t.Errorf("Image(worker) = %+v, %v", img, err)
	}
}

func TestResolveErrors(t *testing.T) {
	two := hello
	two.Mains = []project.Main{{Package: "./cmd/a", Name: "a"}, {Package: "./cmd/b", Name: "b"}}
	none := hello
	none.Mains = nil
	for _, tc := range []struct {
		name string
		p    project.Project
		c    Config
		env  func(string) string
		want string
	}{
		{"invalid platform", hello, Config{}, env(EnvPlatforms, "linux/amd64,arm64"), "invalid platform \"arm64\""},
		{"platform twice in code", hello, Config{Platforms: []string{"linux/arm64", "linux/arm64"}}, env(), `platform linux/arm64 is listed twice in "linux/arm64,linux/arm64"`},
		{"platform twice in env", hello, Config{}, env(EnvPlatforms, "linux/amd64, linux/amd64"), "platform linux/amd64 is listed twice"},
		{"no platform in env", hello, Config{}, env(EnvPlatforms, " , "), "no platform in"},
		{"uppercase repository", hello, Config{Images: []Image{{Name: "ghcr.io/Acme/hello"}}}, env(), "invalid image repository \"ghcr.io/Acme/hello\""},
		{"ambiguous main", two, Config{}, env(), "several main packages (./cmd/a, ./cmd/b)"},
		{"missing main", none, Config{}, env(), "no main package in /src/hello"},
		{"MAGESHIP_ONLY names no image", two, Config{Images: []Image{{Main: "./cmd/a"}, {Main: "./cmd/b"}}}, env(EnvOnly, "a,c"), `MAGESHIP_ONLY=a,c: no image "c"; the images are a, b`},
		{"bad MAGESHIP_JOBS", hello, Config{}, env(EnvJobs, "0"), "MAGESHIP_JOBS=0: give the number of image builds to run at once, 1 or more"},
		{"bad SBOM switch", hello, Config{}, env(EnvSBOM, "maybe"), "MAGESHIP_SBOM=maybe: use on or off"},
		{"unknown build path", hello, Config{}, env(EnvBuild, "qemu"), `unknown build path "qemu" (from MAGESHIP_BUILD or Config.Build): use host`},
		{"duplicate names", two, Config{Images: []Image{{Main: "./cmd/a", Name: "x"}, {Main: "./cmd/b", Name: "x"}}}, env(), `images 1 and 2 are both named "x"`},
		{"dist is the module root", hello, Config{}, env(EnvDist, "."), "MAGESHIP_DIST=. is the module root or a directory above it: name a directory of its own for mageship's output, e.g. MAGESHIP_DIST=dist"},
		{"dist above the module root", hello, Config{}, env(EnvDist, ".."), "MAGESHIP_DIST=.. is the module root"},
		{"dist is the module root, absolute", hello, Config{}, env(EnvDist, "/src/hello/"), "MAGESHIP_DIST=/src/hello/ is the module root"},
		{"dist is /", hello, Config{}, env(EnvDist, "/"), "MAGESHIP_DIST=/ is the module root"},
		{"dockerfile names a directory", hello, Config{}, env(EnvDockerfile, "docker/"), "MAGESHIP_DOCKERFILE=docker/ names a directory: name the file, e.g. MAGESHIP_DOCKERFILE=Dockerfile.mageship"},
		{"dockerfile is the module root", hello, Config{}, env(EnvDockerfile, "."), "MAGESHIP_DOCKERFILE=. names a directory"},
		{"one dockerfile for several images", two, Config{Images: []Image{{Main: "./cmd/a"}, {Main: "./cmd/b"}}}, env(EnvDockerfile, "Dockerfile.mageship"), "MAGESHIP_DOCKERFILE=Dockerfile.mageship names one file for 2 images: put {binary} in it, e.g. MAGESHIP_DOCKERFILE=docker/{binary}.Dockerfile"},
		{"env image for several images collides", two, Config{Images: []Image{{Main: "./cmd/a", Name: "r/one/x"}, {Main: "./cmd/b", Name: "r/two/x"}}}, env(EnvImage, "localhost:5000/p"), `both named "localhost:5000/p/x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(tc.p, tc.c, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestOutputPaths: where MAGESHIP_DIST and MAGESHIP_DOCKERFILE put mageship's files.
func TestOutputPaths(t *testing.T) {
	two := hello
	two.Mains = []project.Main{{Package: "./cmd/api", Name: "api"}, {Package: "./cmd/worker", Name: "worker"}}
	twoImages := Config{Images: []Image{{Main: "./cmd/api"}, {Main: "./cmd/worker"}}}
	for _, tc := range []struct {
		name            string
		p               project.Project
		c               Config
		env             func(string) string
		wantDist        string
		wantDockerfiles []string
	}{
		{"defaults", hello, Config{}, env(), "/src/hello/dist", []string{"/src/hello/Dockerfile"}},
		{"defaults, several images", two, twoImages, env(), "/src/hello/dist", []string{"/src/hello/api.Dockerfile", "/src/hello/worker.Dockerfile"}},
		{"relative", hello, Config{}, env(EnvDist, "out", EnvDockerfile, "Dockerfile.mageship"), "/src/hello/out", []string{"/src/hello/Dockerfile.mageship"}},
		{"nested and unclean", hello, Config{}, env(EnvDist, "./build//mageship/", EnvDockerfile, "./docker/Dockerfile"), "/src/hello/build/mageship", []string{"/src/hello/docker/Dockerfile"}},
		{"absolute", hello, Config{}, env(EnvDist, "/tmp/out", EnvDockerfile, "/tmp/hello.Dockerfile"), "/tmp/out", []string{"/tmp/hello.Dockerfile"}},
		{"beside the module", hello, Config{}, env(EnvDist, "../hello-dist"), "/src/hello-dist", []string{"/src/hello/Dockerfile"}},
		{"pattern, several images", two, twoImages, env(EnvDockerfile, "docker/{binary}.Dockerfile"), "/src/hello/dist", []string{"/src/hello/docker/api.Dockerfile", "/src/hello/docker/worker.Dockerfile"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(tc.p, tc.c, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			var dockerfiles []string
			for _, img := range r.Images {
				dockerfiles = append(dockerfiles, r.DockerfilePath(img))
			}
			if r.Dist != tc.wantDist || !cmp.Equal(dockerfiles, tc.wantDockerfiles) {
				t.Errorf("Dist %q, Dockerfiles %q; want %q, %q", r.Dist, dockerfiles, tc.wantDist, tc.wantDockerfiles)
			}
		})
	}
}

func TestEnvImageWithTag(t *testing.T) {
	for _, v := range []string{"localhost:5000/hello:1.0", "ghcr.io/acme/hello@sha256:" + strings.Repeat("a", 64)} {
		_, err := Resolve(hello, Config{}, env(EnvImage, v))
		if err == nil || !strings.Contains(err.Error(), "names a tag or digest") {
			t.Errorf("%s=%s: err = %v", EnvImage, v, err)
		}
	}
}

// TestOnly: MAGESHIP_ONLY keeps the images it names, by binary or image name, in the
// configured order's first mention, once each.
func TestOnly(t *testing.T) {
	two := hello
	two.Mains = []project.Main{{Package: "./cmd/a", Name: "a"}, {Package: "./cmd/b", Name: "b"}}
	c := Config{Images: []Image{{Main: "./cmd/a", Name: "ghcr.io/acme/a"}, {Main: "./cmd/b"}}}
	for list, want := range map[string][]string{"": {"a", "b"}, "b": {"b"}, "ghcr.io/acme/a, b, a": {"a", "b"}} {
		r, err := Resolve(two, c, env(EnvOnly, list))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, img := range r.Images {
			got = append(got, img.Binary)
		}
		if !slices.Equal(got, want) {
			t.Errorf("MAGESHIP_ONLY=%q keeps %v, want %v", list, got, want)
		}
	}
}
