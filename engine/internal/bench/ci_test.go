package bench

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/platform"
)

// ciBase is the environment the CI jobs start from: the caller's settings that the
// bench must override or clear.
var ciBase = []string{
	"PATH=/bin", "HOME=/root",
	"BUILDX_BUILDER=mageship",
	"GOCACHE=/root/.cache/go-build", "GOMODCACHE=/root/go/pkg/mod", "GOPROXY=https://proxy.golang.org",
	"MAGESHIP_BUILD=host", "MAGESHIP_CACHE_FROM=type=gha", "MAGESHIP_CACHE_TO=type=gha",
}

// ciGoEnv is what goEnv makes of ciBase for a job under /w/ci/x/home.
func ciGoEnv(home string) []string {
	return []string{
		"GOPROXY=http://127.0.0.1:1", "GOSUMDB=off", "GOFLAGS=-buildvcs=false",
		"GONOPROXY=", "GONOSUMDB=", "GOPRIVATE=", "GOINSECURE=", "GOTOOLCHAIN=local",
		"GOCACHE=" + home + "/gocache", "GOMODCACHE=" + home + "/gomodcache",
	}
}

func TestCICmds(t *testing.T) {
	s := ciService{
		Service:   service{Name: "hello", Main: "./cmd/hello", Binary: "hello"},
		Registry:  "localhost:5000",
		Platforms: []platform.Platform{amd64, arm64},
		Ko:        "/t/ko",
		KoBase:    "localhost:5000/distroless/static-debian12:nonroot",
	}
	kept := []string{"PATH=/bin", "HOME=/root"}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	const home = "/w/ci/x/home"
	mageEnv := func(extra ...string) []string {
		return cat(kept, ciGoEnv(home), []string{
			"MAGESHIP_IMAGE=" + extra[0], "MAGESHIP_PLATFORMS=linux/amd64,linux/arm64", "MAGESHIP_ALLOW_DIRTY=", "VERSION=",
		}, extra[1:], []string{"BUILDX_BUILDER=mageship-bench-ci-1-2", "MAGEFILE_CACHE=" + home + "/magefile", "MAGESHIP_CACHE_DIR=" + home + "/mageship"})
	}
	tests := []struct {
		name      string
		contender string
		job       ciJob
		want      []Cmd
	}{
		{"mageship: the default path, on the job's builder, magefile compiled afresh", "mageship",
			ciJob{Dir: "/w/ci/x/src", Home: home, Builder: "mageship-bench-ci-1-2", Proxy: "http://127.0.0.1:1"},
			[]Cmd{{Dir: "/w/ci/x/src", Name: "go", Args: []string{"tool", "mage", "release"},
				Env: mageEnv("localhost:5000/bench/hello")}}},
		{"mageship_nocache: mageship's command, its own repository (its home's caches start empty)", "mageship_nocache",
			ciJob{Dir: "/w/ci/x/src", Home: home, Builder: "mageship-bench-ci-1-2", Proxy: "http://127.0.0.1:1"},
			[]Cmd{{Dir: "/w/ci/x/src", Name: "go", Args: []string{"tool", "mage", "release"},
				Env: mageEnv("localhost:5000/bench-nocache/hello")}}},
		{"mageship_buildx: the host path assembled by buildx, on the job's builder", "mageship_buildx",
			ciJob{Dir: "/w/ci/x/src", Home: home, Builder: "mageship-bench-ci-1-2", Proxy: "http://127.0.0.1:1"},
			[]Cmd{{Dir: "/w/ci/x/src", Name: "go", Args: []string{"tool", "mage", "release"},
				Env: mageEnv("localhost:5000/bench-buildx/hello", "MAGESHIP_ASSEMBLE=buildx")}}},
		{"mageship_container, priming job: exports the cache, imports none", "mageship_container",
			ciJob{Dir: "/w/ci/x/src", Home: home, Builder: "mageship-bench-ci-1-2", Proxy: "http://127.0.0.1:1"},
			[]Cmd{{Dir: "/w/ci/x/src", Name: "go", Args: []string{"tool", "mage", "release"},
				Env: mageEnv("localhost:5000/bench-container/hello",
					"MAGESHIP_BUILD=container",
					"MAGESHIP_CACHE_TO=type=local,dest="+home+"/buildkit-cache/{name},mode=max")}}},
		{"mageship_container: imports the previous job's cache", "mageship_container",
			ciJob{Dir: "/w/ci/x/src", Home: home, ImportCache: home + "/buildkit-cache-from", Builder: "mageship-bench-ci-1-2", Proxy: "http://127.0.0.1:1"},
			[]Cmd{{Dir: "/w/ci/x/src", Name: "go", Args: []string{"tool", "mage", "release"},
				Env: mageEnv("localhost:5000/bench-container/hello",
					"MAGESHIP_BUILD=container",
					"MAGESHIP_CACHE_FROM=type=local,src="+home+"/buildkit-cache-from/{name}",
					"MAGESHIP_CACHE_TO=type=local,dest="+home+"/buildkit-cache/{name},mode=max")}}},
		{"ko", "ko",
			ciJob{Dir: "/w/ci/x/src", Home: home, Proxy: "http://127.0.0.1:1"},
			[]Cmd{{Dir: "/w/ci/x/src", Name: "/t/ko",
				Args: []string{"build", "--bare", "--platform=linux/amd64,linux/arm64", "--sbom=none", "--insecure-registry", "--tags=latest", "./cmd/hello"},
				Env: cat(kept, []string{"BUILDX_BUILDER=mageship", "MAGESHIP_BUILD=host", "MAGESHIP_CACHE_FROM=type=gha", "MAGESHIP_CACHE_TO=type=gha"}, ciGoEnv(home), []string{
					"KO_DOCKER_REPO=localhost:5000/bench-ko/hello", "KO_DEFAULTBASEIMAGE=localhost:5000/distroless/static-debian12:nonroot", "KOCACHE=", "KO_CONFIG_PATH=/w/ci/x/src",
				})}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ciCmds(tc.contender, tc.job, s, ciBase)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CI job commands (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("floor: both platforms into the job's home, with its caches", func(t *testing.T) {
		got, err := ciCmds("floor", ciJob{Dir: "/w/ci/x/src", Home: home, Proxy: "http://127.0.0.1:1"}, s, ciBase)
		if err != nil {
			t.Fatal(err)
		}
		want := floorCmds(floorBuilds("/w/ci/x/src", "./cmd/hello", "hello", home+"/out", s.Platforms), goEnv(ciBase, goSettings{Proxy: "http://127.0.0.1:1", Cache: home + "/gocache", ModCache: home + "/gomodcache"}))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("floor CI commands (-want +got):\n%s", diff)
		}
		if len(got) != 2 || got[0].Args[len(got[0].Args)-2] != home+"/out/linux_amd64/hello" {
			t.Errorf("floor CI commands = %v", got)
		}
	})
	if _, err := ciCmds("naive", ciJob{}, s, ciBase); err == nil {
		t.Error("ciCmds(naive): no error; the naive Dockerfile has no CI scenario")
	}
}

func TestRestoreAndSavePlans(t *testing.T) {
	tests := []struct {
		contender   string
		wantRestore []move
		wantImport  string
		wantSave    []move
	}{
		{"mageship",
			[]move{{"/s/gocache", "/h/gocache"}, {"/s/gomodcache", "/h/gomodcache"}, {"/s/magefile", "/h/magefile"}, {"/s/mageship", "/h/mageship"}}, "",
			[]move{{"/h/gocache", "/s/gocache"}, {"/h/gomodcache", "/s/gomodcache"}, {"/h/magefile", "/s/magefile"}, {"/h/mageship", "/s/mageship"}}},
		{"mageship_nocache",
			[]move{{"/s/gocache", "/h/gocache"}, {"/s/gomodcache", "/h/gomodcache"}}, "",
			[]move{{"/h/gocache", "/s/gocache"}, {"/h/gomodcache", "/s/gomodcache"}}},
		{"mageship_buildx",
			[]move{{"/s/gocache", "/h/gocache"}, {"/s/gomodcache", "/h/gomodcache"}, {"/s/magefile", "/h/magefile"}, {"/s/mageship", "/h/mageship"}}, "",
			[]move{{"/h/gocache", "/s/gocache"}, {"/h/gomodcache", "/s/gomodcache"}, {"/h/magefile", "/s/magefile"}, {"/h/mageship", "/s/mageship"}}},
		{"ko",
			[]move{{"/s/gocache", "/h/gocache"}, {"/s/gomodcache", "/h/gomodcache"}}, "",
			[]move{{"/h/gocache", "/s/gocache"}, {"/h/gomodcache", "/s/gomodcache"}}},
		{"mageship_container",
			[]move{{"/s/gocache", "/h/gocache"}, {"/s/gomodcache", "/h/gomodcache"}, {"/s/magefile", "/h/magefile"}, {"/s/mageship", "/h/mageship"}, {"/s/buildkit-cache", "/h/buildkit-cache-from"}}, "/h/buildkit-cache-from",
			[]move{{"/h/gocache", "/s/gocache"}, {"/h/gomodcache", "/s/gomodcache"}, {"/h/magefile", "/s/magefile"}, {"/h/mageship", "/s/mageship"}, {"/h/buildkit-cache", "/s/buildkit-cache"}}},
	}
	for _, tc := range tests {
		t.Run(tc.contender, func(t *testing.T) {
			restore, imp := restorePlan(tc.contender, "/s", "/h")
			if diff := cmp.Diff(tc.wantRestore, restore); diff != "" {
				t.Errorf("restore (-want +got):\n%s", diff)
			}
			if imp != tc.wantImport {
				t.Errorf("import cache = %q, want %q", imp, tc.wantImport)
			}
			if diff := cmp.Diff(tc.wantSave, savePlan(tc.contender, "/h", "/s")); diff != "" {
				t.Errorf("save (-want +got):\n%s", diff)
			}
		})
	}
	// The job's paths are fixed under Home, so a restored cache sits where the
	// previous job's go commands left it.
	j := ciJob{Home: "/h"}
	restore, _ := restorePlan("mageship", "/s", j.Home)
	if restore[0].To != j.goCache() || restore[1].To != j.goModCache() || restore[2].To != j.magefileCache() || restore[3].To != j.engineCache() {
		t.Errorf("restore puts the caches at %v, the job uses %s, %s, %s and %s", restore, j.goCache(), j.goModCache(), j.magefileCache(), j.engineCache())
	}
}

func TestFreshBuilder(t *testing.T) {
	b := freshBuilder{Name: "mageship-bench-ci-1-2", Dir: "/tmp/mageship-bench-bk-3"}
	base := []string{"DOCKER_HOST=unix:///var/run/docker.sock"}
	d := b.daemonCmd("/rig/bin/buildkitd", "/rig/buildkitd.toml", base)
	wantD := Cmd{Dir: "/tmp/mageship-bench-bk-3", Name: "/rig/bin/buildkitd", Args: []string{
		"--config", "/rig/buildkitd.toml",
		"--addr", "unix:///tmp/mageship-bench-bk-3/buildkitd.sock",
		"--root", "/tmp/mageship-bench-bk-3/root",
		"--oci-worker=true", "--containerd-worker=false",
		"--oci-worker-net", "host",
	}, Env: base}
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Errorf("buildkitd (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		got  Cmd
		want []string
	}{
		{b.createCmd(base), []string{"buildx", "create", "--name", "mageship-bench-ci-1-2", "--driver", "remote", "unix:///tmp/mageship-bench-bk-3/buildkitd.sock"}},
		{b.inspectCmd(base), []string{"buildx", "inspect", "--bootstrap", "mageship-bench-ci-1-2"}},
		{b.rmCmd(base), []string{"buildx", "rm", "mageship-bench-ci-1-2"}},
	} {
		if tc.got.Name != "docker" || !cmp.Equal(tc.got.Args, tc.want) || !cmp.Equal(tc.got.Env, base) {
			t.Errorf("%s, want docker %v", tc.got, tc.want)
		}
	}
}

func TestImageRepo(t *testing.T) {
	for contender, want := range map[string]string{
		"mageship":           "localhost:5000/bench/hello",
		"mageship_container": "localhost:5000/bench-container/hello",
		"mageship_buildx":    "localhost:5000/bench-buildx/hello",
		"mageship_nocache":   "localhost:5000/bench-nocache/hello",
		"ko":                 "localhost:5000/bench-ko/hello",
		"naive":              "localhost:5000/bench-naive/hello",
	} {
		if got := imageRepo("localhost:5000", contender, "hello"); got != want {
			t.Errorf("imageRepo(%s) = %s, want %s", contender, got, want)
		}
	}
}

func TestCIVersions(t *testing.T) {
	if got := ciVersionTag(3); got != "v0.2.3" {
		t.Errorf("ciVersionTag(3) = %s", got)
	}
	if got := ciMark(3, "abc"); got != "c3-abc" {
		t.Errorf("ciMark(3, abc) = %s", got)
	}
	if !healthzLine.MatchString(`fmt.Fprintf(w, "ok %s ` + ciMark(12, "t5x0k2") + `\n", version)`) {
		t.Error("a CI change's line no longer matches healthzLine: the next change would not find it")
	}
}
