package bench

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/platform"
)

var (
	amd64 = platform.Platform{OS: "linux", Arch: "amd64"}
	arm64 = platform.Platform{OS: "linux", Arch: "arm64"}
)

func TestWithEnv(t *testing.T) {
	tests := []struct {
		name string
		base []string
		kv   []string
		want []string
	}{
		{"appends", []string{"A=1"}, []string{"B=2"}, []string{"A=1", "B=2"}},
		{"replaces every earlier value", []string{"A=1", "B=2", "A=3"}, []string{"A=4"}, []string{"B=2", "A=4"}},
		{"empty value is kept", []string{"GOFLAGS=-mod=mod"}, []string{"GOFLAGS="}, []string{"GOFLAGS="}},
		{"nil base", nil, []string{"A=1"}, []string{"A=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, withEnv(tc.base, tc.kv...)); diff != "" {
				t.Errorf("withEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoEnv(t *testing.T) {
	base := []string{"PATH=/bin", "GOPROXY=https://proxy.golang.org,direct", "GOFLAGS=-mod=mod", "GOCACHE=/root/.cache/go-build"}
	tests := []struct {
		name string
		s    goSettings
		want []string
	}{
		{"fresh caches", goSettings{Proxy: "http://127.0.0.1:1", Cache: "/w/c", ModCache: "/w/m"}, []string{
			"PATH=/bin",
			"GOPROXY=http://127.0.0.1:1", "GOSUMDB=off", "GOFLAGS=-buildvcs=false",
			"GONOPROXY=", "GONOSUMDB=", "GOPRIVATE=", "GOINSECURE=", "GOTOOLCHAIN=local",
			"GOCACHE=/w/c", "GOMODCACHE=/w/m",
		}},
		{"host caches", goSettings{Proxy: "http://127.0.0.1:1"}, []string{
			"PATH=/bin", "GOCACHE=/root/.cache/go-build",
			"GOPROXY=http://127.0.0.1:1", "GOSUMDB=off", "GOFLAGS=-buildvcs=false",
			"GONOPROXY=", "GONOSUMDB=", "GOPRIVATE=", "GOINSECURE=", "GOTOOLCHAIN=local",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, goEnv(base, tc.s)); diff != "" {
				t.Errorf("goEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNaiveBuild(t *testing.T) {
	nb := naiveBuild{Builder: "mageship", Dockerfile: "/w/naive.Dockerfile", Context: "/w/naive", Tag: "localhost:5000/bench-naive/hello:latest", Platform: amd64, Proxy: "http://127.0.0.1:1"}
	got := nb.Cmd([]string{"BUILDX_BUILDER=other", "HOME=/root"})
	want := Cmd{
		Dir:  "/w/naive",
		Name: "docker",
		Args: []string{"buildx", "build", "--builder", "mageship", "--progress", "plain", "--platform", "linux/amd64",
			"--file", "/w/naive.Dockerfile", "--tag", "localhost:5000/bench-naive/hello:latest", "--load",
			"--build-arg", "GOPROXY=http://127.0.0.1:1", "--build-arg", "GOSUMDB=off", "--build-arg", "GOFLAGS=-buildvcs=false",
			"/w/naive"},
		Env: []string{"HOME=/root", "BUILDX_BUILDER=mageship"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("naive build (-want +got):\n%s", diff)
	}
}

func TestNaiveDockerfile(t *testing.T) {
	got := naiveDockerfile("localhost:5000/library/golang:1.26-alpine", "./cmd/hello", "hello")
	for _, line := range []string{
		"FROM localhost:5000/library/golang:1.26-alpine\n",
		"COPY . .\n",
		"RUN go build -o /usr/local/bin/hello ./cmd/hello\n",
		"CMD [\"/usr/local/bin/hello\"]\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("naive Dockerfile lacks %q:\n%s", line, got)
		}
	}
	if n := strings.Count(got, "FROM "); n != 1 {
		t.Errorf("naive Dockerfile has %d stages, want 1:\n%s", n, got)
	}
}

func TestKoBuild(t *testing.T) {
	tests := []struct {
		name     string
		k        koBuild
		wantArgs []string
	}{
		{"two platforms", koBuild{Ko: "/t/ko", Dir: "/w/ko", Main: "./cmd/hello", Repo: "localhost:5000/bench-ko/hello", Base: "localhost:5000/distroless/static-debian12:nonroot", Platforms: []platform.Platform{amd64, arm64}, Tag: "latest"},
			[]string{"build", "--bare", "--platform=linux/amd64,linux/arm64", "--sbom=none", "--insecure-registry", "--tags=latest", "./cmd/hello"}},
		{"one platform", koBuild{Ko: "/t/ko", Dir: "/w/ko", Main: "./cmd/large", Repo: "r/large", Base: "b", Platforms: []platform.Platform{arm64}, Tag: "v1"},
			[]string{"build", "--bare", "--platform=linux/arm64", "--sbom=none", "--insecure-registry", "--tags=v1", "./cmd/large"}},
		{"several mains in one build", koBuild{Ko: "/t/ko", Dir: "/w/ko", Main: "./cmd/svc01", More: []string{"./cmd/svc02", "./cmd/svc03"}, Repo: "r/many", Base: "b", Platforms: []platform.Platform{amd64}, Tag: "latest"},
			[]string{"build", "--base-import-paths", "--platform=linux/amd64", "--sbom=none", "--insecure-registry", "--tags=latest", "./cmd/svc01", "./cmd/svc02", "./cmd/svc03"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.k.Cmd([]string{"KOCACHE=/old", "GOPROXY=http://127.0.0.1:1"})
			if got.Name != tc.k.Ko || got.Dir != tc.k.Dir {
				t.Errorf("runs %s in %s, want %s in %s", got.Name, got.Dir, tc.k.Ko, tc.k.Dir)
			}
			if diff := cmp.Diff(tc.wantArgs, got.Args); diff != "" {
				t.Errorf("ko args (-want +got):\n%s", diff)
			}
			wantEnv := []string{"GOPROXY=http://127.0.0.1:1", "KO_DOCKER_REPO=" + tc.k.Repo, "KO_DEFAULTBASEIMAGE=" + tc.k.Base, "KOCACHE=", "KO_CONFIG_PATH=" + tc.k.Dir}
			if diff := cmp.Diff(wantEnv, got.Env); diff != "" {
				t.Errorf("ko env (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFloorCmds(t *testing.T) {
	builds := floorBuilds("/w/floor", "./cmd/hello", "hello", "/w/out", []platform.Platform{amd64, arm64})
	cs := floorCmds(builds, []string{"GOOS=darwin", "GOPROXY=http://127.0.0.1:1"})
	if len(cs) != 2 {
		t.Fatalf("%d commands, want one per platform", len(cs))
	}
	for i, want := range []struct{ out, goarch string }{{"/w/out/linux_amd64/hello", "GOARCH=amd64"}, {"/w/out/linux_arm64/hello", "GOARCH=arm64"}} {
		c := cs[i]
		wantArgs := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version=bench", "-o", want.out, "./cmd/hello"}
		if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
			t.Errorf("floor build %d args (-want +got):\n%s", i, diff)
		}
		for _, kv := range []string{"CGO_ENABLED=0", "GOOS=linux", want.goarch, "GOPROXY=http://127.0.0.1:1"} {
			if !slices.Contains(c.Env, kv) {
				t.Errorf("floor build %d env lacks %s: %v", i, kv, c.Env)
			}
		}
		if slices.Contains(c.Env, "GOOS=darwin") {
			t.Errorf("floor build %d keeps the caller's GOOS: %v", i, c.Env)
		}
	}
}

func TestMageRelease(t *testing.T) {
	base := []string{"MAGESHIP_ALLOW_DIRTY=1", "VERSION=9.9.9", "GOPROXY=http://127.0.0.1:1", "MAGESHIP_BUILD=container", "MAGESHIP_ASSEMBLE=buildx", "MAGESHIP_CACHE_TO=type=gha", "MAGESHIP_ONLY=api", "MAGESHIP_JOBS=1"}
	plats := []platform.Platform{amd64, arm64}
	tests := []struct {
		name string
		m    mageRelease
		want Cmd
	}{
		{"default path: the caller's MAGESHIP_BUILD and cache settings cleared",
			mageRelease{Bin: "/w/mage-hello", Dir: "/w/mageship", Image: "localhost:5000/bench/hello", Platforms: plats},
			Cmd{Dir: "/w/mageship", Name: "/w/mage-hello", Args: []string{"release"}, Env: []string{
				"GOPROXY=http://127.0.0.1:1",
				"MAGESHIP_IMAGE=localhost:5000/bench/hello", "MAGESHIP_PLATFORMS=linux/amd64,linux/arm64",
				"MAGESHIP_ALLOW_DIRTY=", "VERSION=",
			}}},
		{"container path",
			mageRelease{Bin: "/w/mage-hello", Dir: "/w/mageship_container", Image: "localhost:5000/bench-container/hello", Platforms: plats, Build: "container"},
			Cmd{Dir: "/w/mageship_container", Name: "/w/mage-hello", Args: []string{"release"}, Env: []string{
				"GOPROXY=http://127.0.0.1:1",
				"MAGESHIP_IMAGE=localhost:5000/bench-container/hello", "MAGESHIP_PLATFORMS=linux/amd64,linux/arm64",
				"MAGESHIP_ALLOW_DIRTY=", "VERSION=", "MAGESHIP_BUILD=container",
			}}},
		{"host+buildx",
			mageRelease{Bin: "/w/mage-hello", Dir: "/w/mageship_buildx", Image: "localhost:5000/bench-buildx/hello", Platforms: plats, Assemble: "buildx"},
			Cmd{Dir: "/w/mageship_buildx", Name: "/w/mage-hello", Args: []string{"release"}, Env: []string{
				"GOPROXY=http://127.0.0.1:1",
				"MAGESHIP_IMAGE=localhost:5000/bench-buildx/hello", "MAGESHIP_PLATFORMS=linux/amd64,linux/arm64",
				"MAGESHIP_ALLOW_DIRTY=", "VERSION=", "MAGESHIP_ASSEMBLE=buildx",
			}}},
		{"go tool mage, its own builder and caches",
			mageRelease{Dir: "/w/ci", MagefileCache: "/w/mf", EngineCache: "/w/engine", Image: "r/hello", Platforms: plats[:1], Builder: "fresh", CacheFrom: "type=local,src=/a/{name}", CacheTo: "type=local,dest=/b/{name},mode=max"},
			Cmd{Dir: "/w/ci", Name: "go", Args: []string{"tool", "mage", "release"}, Env: []string{
				"GOPROXY=http://127.0.0.1:1",
				"MAGESHIP_IMAGE=r/hello", "MAGESHIP_PLATFORMS=linux/amd64",
				"MAGESHIP_ALLOW_DIRTY=", "VERSION=",
				"MAGESHIP_CACHE_FROM=type=local,src=/a/{name}", "MAGESHIP_CACHE_TO=type=local,dest=/b/{name},mode=max",
				"BUILDX_BUILDER=fresh", "MAGEFILE_CACHE=/w/mf", "MAGESHIP_CACHE_DIR=/w/engine",
			}}},
		{"one image of several: MAGESHIP_ONLY set, the caller's MAGESHIP_JOBS cleared",
			mageRelease{Bin: "/w/mage-many", Dir: "/w/many", Image: "r/many", Platforms: plats, Only: "svc03"},
			Cmd{Dir: "/w/many", Name: "/w/mage-many", Args: []string{"release"}, Env: []string{
				"GOPROXY=http://127.0.0.1:1",
				"MAGESHIP_IMAGE=r/many", "MAGESHIP_PLATFORMS=linux/amd64,linux/arm64",
				"MAGESHIP_ALLOW_DIRTY=", "VERSION=", "MAGESHIP_ONLY=svc03",
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.m.Cmd(base)); diff != "" {
				t.Errorf("mage release (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithoutEnv(t *testing.T) {
	got := withoutEnv([]string{"A=1", "B=2", "A=3", "AB=4"}, "A", "C")
	if diff := cmp.Diff([]string{"B=2", "AB=4"}, got); diff != "" {
		t.Errorf("withoutEnv (-want +got):\n%s", diff)
	}
}

func TestKoConfig(t *testing.T) {
	want := "# ko's configuration for mageship's benchmark: the linker flags mageship and the floor use.\n" +
		"builds:\n- id: hello\n  main: ./cmd/hello\n  ldflags:\n  - -s\n  - -w\n  - -X main.version=bench\n"
	if got := koConfig("./cmd/hello", "hello"); got != want {
		t.Errorf(".ko.yaml:\n%s\nwant:\n%s", got, want)
	}
}

func TestLastRef(t *testing.T) {
	tests := []struct {
		name, stdout, want string
		err                bool
	}{
		{"ko's output", "localhost:5000/bench-ko/hello@sha256:abc\n", "localhost:5000/bench-ko/hello@sha256:abc", false},
		{"last of several", "x@sha256:1\ny@sha256:2\n\n", "y@sha256:2", false},
		{"none", "built\n", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lastRef(tc.stdout)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("lastRef(%q) = %q, %v; want %q, error %v", tc.stdout, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestCountRequests(t *testing.T) {
	got := countRequests([]string{
		"/github.com/google/uuid/@v/v1.6.0.mod",
		"/github.com/google/uuid/@v/v1.6.0.info",
		"/github.com/google/uuid/@v/v1.6.0.zip",
		"/golang.org/x/sync/@v/list",
	})
	if want := (downloads{Requests: 4, Modules: 1}); got != want {
		t.Errorf("countRequests = %+v, want %+v", got, want)
	}
}

func TestKoManyConfig(t *testing.T) {
	want := "# ko's configuration for mageship's benchmark: the linker flags mageship and the floor use.\nbuilds:\n" +
		"- id: svc01\n  main: ./cmd/svc01\n  ldflags:\n  - -s\n  - -w\n  - -X main.version=bench\n" +
		"- id: svc02\n  main: ./cmd/svc02\n  ldflags:\n  - -s\n  - -w\n  - -X main.version=bench\n"
	if got := koManyConfig([]string{"svc01", "svc02"}); got != want {
		t.Errorf("koManyConfig:\n%s\nwant:\n%s", got, want)
	}
}
