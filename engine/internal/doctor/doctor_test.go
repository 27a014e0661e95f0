package doctor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/platform"
)

var (
	amd64   = platform.Platform{OS: "linux", Arch: "amd64"}
	arm64   = platform.Platform{OS: "linux", Arch: "arm64"}
	armv7   = platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"}
	i386    = platform.Platform{OS: "linux", Arch: "386"}
	s390x   = platform.Platform{OS: "linux", Arch: "s390x"}
	release = []platform.Platform{amd64, arm64}
)

func nodePlatforms(ps ...platform.Platform) []buildx.NodePlatform {
	out := make([]buildx.NodePlatform, len(ps))
	for i, p := range ps {
		out[i] = buildx.NodePlatform{Platform: p}
	}
	return out
}

func builder(name, driver string, ps ...platform.Platform) buildx.Builder {
	return buildx.Builder{Name: name, Driver: driver, Nodes: []buildx.Node{{Name: name + "0", Status: "running", Platforms: nodePlatforms(ps...)}}}
}

// checkWant states what a check must say; Detail and Fix are substrings, all
// of which must appear ("" checks nothing, except that a passing check has no Fix).
type checkWant struct {
	OK, Required bool
	Detail, Fix  []string
}

func assertCheck(t *testing.T, c Check, name string, w checkWant) {
	t.Helper()
	if c.Name != name {
		t.Errorf("Name = %q, want %q", c.Name, name)
	}
	if c.OK != w.OK || c.Required != w.Required {
		t.Errorf("OK, Required = %v, %v; want %v, %v (detail %q)", c.OK, c.Required, w.OK, w.Required, c.Detail)
	}
	for _, s := range w.Detail {
		if !strings.Contains(c.Detail, s) {
			t.Errorf("Detail = %q, want it to contain %q", c.Detail, s)
		}
	}
	for _, s := range w.Fix {
		if !strings.Contains(c.Fix, s) {
			t.Errorf("Fix = %q, want it to contain %q", c.Fix, s)
		}
	}
	if c.OK && c.Fix != "" {
		t.Errorf("passing check has Fix %q", c.Fix)
	}
	if !c.OK && c.Fix == "" {
		t.Error("failed check has no Fix")
	}
}

func TestEngine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		probe EngineProbe
		want  checkWant
	}{
		{
			name: "up",
			probe: func(context.Context) (EngineInfo, error) {
				return EngineInfo{Host: "unix:///var/run/docker.sock", Version: "20.10.24", APIVersion: "1.41"}, nil
			},
			want: checkWant{OK: true, Required: true, Detail: []string{"Docker 20.10.24, API 1.41 at unix:///var/run/docker.sock"}},
		},
		{
			name: "down",
			probe: func(context.Context) (EngineInfo, error) {
				return EngineInfo{}, errors.New("cannot reach the Docker engine at unix:///var/run/docker.sock: connection refused" + engineAdvice)
			},
			want: checkWant{Required: true, Detail: []string{"cannot reach the Docker engine at unix:///var/run/docker.sock: connection refused"}, Fix: []string{"start Docker, or set DOCKER_HOST"}},
		},
		{
			name: "password in DOCKER_HOST",
			probe: func(context.Context) (EngineInfo, error) {
				return EngineInfo{Host: "tcp://alice:s3cret@build.example:2376", Version: "28.2.2", APIVersion: "1.50"}, nil
			},
			want: checkWant{OK: true, Required: true, Detail: []string{"Docker 28.2.2, API 1.50 at tcp://alice:xxxxx@build.example:2376"}},
		},
		{
			name: "password in DOCKER_HOST of an error",
			probe: func(context.Context) (EngineInfo, error) {
				return EngineInfo{}, errors.New("cannot reach the Docker engine at tcp://alice:s3cret@build.example:2376: timeout")
			},
			want: checkWant{Required: true, Detail: []string{"tcp://alice:xxxxx@build.example:2376: timeout"}, Fix: []string{"DOCKER_HOST"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := checkEngine(context.Background(), newOptions([]Option{WithEngine(tc.probe)}, nil))
			assertCheck(t, c, "engine", tc.want)
			if strings.Contains(c.Detail, "s3cret") || strings.Contains(c.Detail, engineAdvice) {
				t.Errorf("Detail = %q: it shows a password or repeats the fix", c.Detail)
			}
		})
	}
}

func TestBuildx(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version BuildxVersion
		want    checkWant
	}{
		{
			name:    "present",
			version: func(context.Context) (string, error) { return "v0.38.0", nil },
			want:    checkWant{OK: true, Required: true, Detail: []string{"buildx v0.38.0"}},
		},
		{
			name: "missing",
			version: func(context.Context) (string, error) {
				return "", errors.New("reading the buildx version failed: docker buildx plugin not found")
			},
			want: checkWant{Required: true, Detail: []string{"plugin not found"}, Fix: []string{"install the buildx plugin", "docker-buildx", "docker buildx version"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := checkBuildx(context.Background(), newOptions([]Option{WithBuildxVersion(tc.version)}, nil))
			assertCheck(t, c, "buildx", tc.want)
		})
	}
}

func TestBuilder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		need     Need
		buildxOK bool
		store    bool   // the engine's containerd image store
		env      string // BUILDX_BUILDER
		b        buildx.Builder
		err      error
		want     checkWant
		wantFix  string // exact, when set
	}{
		{
			name: "container builder with every platform", need: Need{Platforms: release}, buildxOK: true,
			b:    builder("mageship", "docker-container", amd64, platform.Platform{OS: "linux", Arch: "amd64", Variant: "v2"}, arm64),
			want: checkWant{OK: true, Required: true, Detail: []string{"mageship (docker-container driver), platforms linux/amd64, linux/amd64/v2, linux/arm64"}},
		},
		{
			name: "platform not listed is a warning", need: Need{Platforms: []platform.Platform{amd64, arm64, s390x}}, buildxOK: true,
			b: builder("mageship", "remote", amd64, arm64),
			want: checkWant{Required: false, Detail: []string{"mageship (remote driver)", "does not list linux/s390x", "cross-compiles"},
				Fix: []string{"tonistiigi/binfmt --install all", "restart the builder"}},
		},
		{
			name: "docker driver, several platforms", need: Need{Platforms: release}, buildxOK: true,
			b:       builder("default", "docker", amd64),
			want:    checkWant{Required: true, Detail: []string{"default (docker driver)", "cannot produce a multi-platform image for linux/amd64,linux/arm64"}},
			wantFix: "docker buildx create --use --driver docker-container",
		},
		{
			name: "docker driver named by BUILDX_BUILDER", need: Need{Platforms: release}, buildxOK: true, env: "default",
			b:       builder("default", "docker", amd64, arm64),
			want:    checkWant{Required: true, Detail: []string{"docker driver"}},
			wantFix: "docker buildx create --use --driver docker-container, then unset BUILDX_BUILDER or set it to the new builder's name",
		},
		{
			name: "docker driver named by Need", need: Need{Builder: "desktop-linux", Platforms: release}, buildxOK: true,
			b:       builder("desktop-linux", "docker", amd64, arm64),
			want:    checkWant{Required: true},
			wantFix: "docker buildx create --use --driver docker-container, then use the new builder instead of desktop-linux",
		},
		{
			// Builder.MultiPlatform decides, as in release's preflight.
			name: "docker driver, several platforms, containerd store", need: Need{Platforms: release}, buildxOK: true, store: true,
			b:    builder("desktop-linux", "docker", amd64, arm64),
			want: checkWant{OK: true, Required: true, Detail: []string{"desktop-linux (docker driver), platforms linux/amd64, linux/arm64"}},
		},
		{
			name: "docker driver, one platform", need: Need{Platforms: []platform.Platform{amd64}}, buildxOK: true,
			b:    builder("default", "docker", amd64, i386),
			want: checkWant{OK: true, Required: true, Detail: []string{"default (docker driver), platforms linux/amd64, linux/386"}},
		},
		{
			name: "docker driver, one foreign platform", need: Need{Platforms: []platform.Platform{arm64}}, buildxOK: true,
			b:    builder("default", "docker", amd64),
			want: checkWant{Required: false, Detail: []string{"does not list linux/arm64"}, Fix: []string{"binfmt"}},
		},
		{
			name: "no platforms asked", buildxOK: true,
			b:    builder("mageship", "docker-container", amd64),
			want: checkWant{OK: true, Required: true, Detail: []string{"mageship (docker-container driver), platforms linux/amd64"}},
		},
		{
			name: "builder of BUILDX_BUILDER missing", need: Need{Platforms: release}, buildxOK: true, env: "gone",
			err:  &buildx.BuilderNotFoundError{Name: "gone"},
			want: checkWant{Required: true, Detail: []string{`no buildx builder named "gone"`}, Fix: []string{"docker buildx create --name gone --driver docker-container --bootstrap", "unset"}},
		},
		{
			name: "builder of Need missing", need: Need{Builder: "gone"}, buildxOK: true,
			err:     errors.Join(errors.New("inspecting"), &buildx.BuilderNotFoundError{Name: "gone"}),
			want:    checkWant{Required: true, Detail: []string{`no buildx builder named "gone"`}},
			wantFix: "docker buildx create --name gone --driver docker-container --bootstrap, or pick a builder docker buildx ls lists",
		},
		{
			name: "inspect fails", need: Need{Builder: "mageship"}, buildxOK: true,
			err:  errors.New("inspecting buildx builder \"mageship\" failed: exit status 1:\nERROR: failed to connect"),
			want: checkWant{Required: true, Detail: []string{"failed to connect"}, Fix: []string{"docker buildx ls", "docker buildx inspect --bootstrap"}},
		},
		{
			name: "no node answers", need: Need{Platforms: release}, buildxOK: true,
			b:    buildx.Builder{Name: "far", Driver: "remote", Nodes: []buildx.Node{{Name: "far0", Error: "connection refused"}}},
			want: checkWant{Required: true, Detail: []string{"far (remote driver): no node answers: far0: connection refused"}, Fix: []string{"docker buildx inspect --bootstrap far", "docker buildx rm far"}},
		},
		{
			name: "buildx missing", need: Need{Platforms: release}, buildxOK: false,
			err:  errors.New("must not be called"),
			want: checkWant{Required: true, Detail: []string{"not checked: buildx is missing"}, Fix: []string{"install buildx first"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			need := tc.need
			need.Env = []string{"BUILDX_BUILDER=" + tc.env}
			inspected := false
			inspect := func(_ context.Context, name string) (buildx.Builder, error) {
				inspected = true
				if name != tc.need.Builder {
					t.Errorf("inspected %q, want %q", name, tc.need.Builder)
				}
				return tc.b, tc.err
			}
			c := checkBuilder(context.Background(), newOptions([]Option{WithBuildxInspect(inspect)}, nil), need, tc.buildxOK, tc.store)
			assertCheck(t, c, "builder", tc.want)
			if tc.wantFix != "" && c.Fix != tc.wantFix {
				t.Errorf("Fix = %q, want %q", c.Fix, tc.wantFix)
			}
			if inspected != tc.buildxOK {
				t.Errorf("inspected = %v with buildx ok = %v", inspected, tc.buildxOK)
			}
		})
	}
}

func TestEmulation(t *testing.T) {
	const enabled = "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n"
	for _, tc := range []struct {
		name  string
		host  platform.Platform
		goos  string
		files map[string]string // binfmt_misc entries; nil: not mounted
		need  Need
		want  checkWant // DIR in Detail and Fix stands for the binfmt_misc directory
	}{
		{
			name: "host only", host: amd64, files: map[string]string{},
			need: Need{Platforms: []platform.Platform{amd64}, RunForeign: true},
			want: checkWant{OK: true, Required: true, Detail: []string{"no foreign platform: all run natively on linux/amd64"}},
		},
		{
			name: "386 runs natively on amd64", host: amd64, files: map[string]string{"status": "enabled"},
			need: Need{Platforms: []platform.Platform{amd64, i386}, RunForeign: true},
			want: checkWant{OK: true, Required: true, Detail: []string{"no foreign platform"}},
		},
		{
			name: "arm64 enabled", host: amd64, files: map[string]string{"status": "enabled", "qemu-aarch64": enabled},
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{OK: true, Required: true, Detail: []string{"linux/arm64 (qemu-aarch64) enabled in DIR"}},
		},
		{
			name: "arm64 missing, running foreign", host: amd64, files: map[string]string{"status": "enabled"},
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{Required: true, Detail: []string{"linux/arm64: qemu-aarch64 is not registered"},
				Fix: []string{"docker run --privileged --rm tonistiigi/binfmt --install all", "apt-get install qemu-user-static binfmt-support"}},
		},
		{
			name: "arm64 missing, building only", host: amd64, files: map[string]string{"status": "enabled"},
			need: Need{Platforms: release},
			want: checkWant{Required: false, Detail: []string{"qemu-aarch64 is not registered", "needed only to run"}, Fix: []string{"tonistiigi/binfmt"}},
		},
		{
			name: "disabled entry", host: amd64, files: map[string]string{"status": "enabled", "qemu-aarch64": "disabled\ninterpreter /usr/bin/qemu-aarch64-static\n"},
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{Required: true, Detail: []string{"linux/arm64: qemu-aarch64 is registered but disabled"}, Fix: []string{"echo 1 | sudo tee DIR/qemu-aarch64"}},
		},
		{
			name: "binfmt_misc disabled", host: amd64, files: map[string]string{"status": "disabled", "qemu-aarch64": enabled},
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{Required: true, Detail: []string{"binfmt_misc is disabled"}, Fix: []string{"echo 1 | sudo tee DIR/status"}},
		},
		{
			name: "binfmt_misc not mounted", host: amd64, files: nil,
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{Required: true, Detail: []string{"binfmt_misc is not mounted at DIR"}, Fix: []string{"sudo mount -t binfmt_misc binfmt_misc DIR", "tonistiigi/binfmt"}},
		},
		{
			name: "several, one missing", host: amd64,
			files: map[string]string{"status": "enabled", "qemu-aarch64": enabled, "qemu-arm": enabled},
			need:  Need{Platforms: []platform.Platform{amd64, arm64, armv7, s390x, i386}, RunForeign: true},
			want:  checkWant{Required: true, Detail: []string{"linux/s390x: qemu-s390x is not registered"}, Fix: []string{"tonistiigi/binfmt"}},
		},
		{
			name: "amd64 on an arm64 host", host: arm64, files: map[string]string{"status": "enabled", "qemu-x86_64": enabled},
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{OK: true, Required: true, Detail: []string{"linux/amd64 (qemu-x86_64) enabled"}},
		},
		{
			name: "not linux", host: arm64, goos: "darwin", files: nil,
			need: Need{Platforms: release, RunForeign: true},
			want: checkWant{OK: true, Required: true, Detail: []string{"not checked on darwin"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "binfmt_misc")
			if tc.files != nil {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, content := range tc.files {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			o := newOptions([]Option{WithBinfmtDir(dir), WithHost(tc.host)}, nil)
			o.goos = "linux"
			if tc.goos != "" {
				o.goos = tc.goos
			}
			w := tc.want
			w.Detail = replaceAll(w.Detail, "DIR", dir)
			w.Fix = replaceAll(w.Fix, "DIR", dir)
			assertCheck(t, checkEmulation(o, tc.need), "emulation", w)
		})
	}
}

func replaceAll(ss []string, old, new string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ReplaceAll(s, old, new)
	}
	return out
}

func TestQemuArch(t *testing.T) {
	for goarch, want := range map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "arm": "arm", "386": "i386",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	} {
		if got := qemuArch(goarch); got != want {
			t.Errorf("qemuArch(%q) = %q, want %q", goarch, got, want)
		}
	}
}

// keychain is a fake: credentials by registry host, anonymous for the others.
type keychain map[string]authn.Authenticator

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a, ok := k[r.RegistryStr()]; ok {
		if a == nil {
			return nil, errors.New("error getting credentials - err: exit status 1, out: `helper crashed`")
		}
		return a, nil
	}
	return authn.Anonymous, nil
}

const secret = "s3cret-Pa55"

var creds = &authn.Basic{Username: "alice", Password: secret}

func TestLogin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		k       keychain
		images  []string
		want    checkWant
		wantFix string // exact, when set
	}{
		{
			name: "no images",
			want: checkWant{OK: true, Detail: []string{"no image to push"}},
		},
		{
			name: "credentials found", k: keychain{"ghcr.io": creds}, images: []string{"ghcr.io/acme/app", "ghcr.io/acme/tool"},
			want: checkWant{OK: true, Required: true, Detail: []string{"ghcr.io: credentials found (helper or config)"}},
		},
		{
			name: "remote registry without credentials", images: []string{"ghcr.io/acme/app"},
			want:    checkWant{Required: true, Detail: []string{"ghcr.io: no credentials"}},
			wantFix: "docker login ghcr.io",
		},
		{
			name: "Docker Hub without credentials", images: []string{"acme/app"},
			want:    checkWant{Required: true, Detail: []string{"index.docker.io: no credentials"}},
			wantFix: "docker login",
		},
		{
			name: "localhost without credentials", images: []string{"localhost:5000/x"},
			want:    checkWant{Required: false, Detail: []string{"localhost:5000: no credentials (fine if it takes anonymous pushes)"}},
			wantFix: "docker login localhost:5000",
		},
		{
			name: "127.0.0.1 without credentials", images: []string{"127.0.0.1:5000/x:dev"},
			want: checkWant{Required: false, Fix: []string{"docker login 127.0.0.1:5000"}},
		},
		{
			name: "localhost with credentials", k: keychain{"localhost:5001": creds}, images: []string{"localhost:5001/x"},
			want: checkWant{OK: true, Required: false, Detail: []string{"localhost:5001: credentials found"}},
		},
		{
			name: "remote found, localhost missing", k: keychain{"ghcr.io": creds}, images: []string{"ghcr.io/acme/app", "localhost:5000/app"},
			want:    checkWant{Required: false, Detail: []string{"ghcr.io: credentials found", "localhost:5000: no credentials"}},
			wantFix: "docker login localhost:5000",
		},
		{
			name: "two remote registries missing", images: []string{"ghcr.io/acme/app", "quay.io/acme/app", "ghcr.io/acme/other"},
			want:    checkWant{Required: true, Detail: []string{"ghcr.io: no credentials; quay.io: no credentials"}},
			wantFix: "docker login ghcr.io; docker login quay.io",
		},
		{
			name: "empty credentials", k: keychain{"ghcr.io": authn.FromConfig(authn.AuthConfig{})}, images: []string{"ghcr.io/acme/app"},
			want: checkWant{Required: true, Detail: []string{"ghcr.io: no credentials"}, Fix: []string{"docker login ghcr.io"}},
		},
		{
			name: "credential helper fails", k: keychain{"ghcr.io": nil}, images: []string{"ghcr.io/acme/app"},
			want: checkWant{Required: true, Detail: []string{"ghcr.io: reading credentials: error getting credentials"}, Fix: []string{"credential helper"}},
		},
		{
			name: "not an image name", images: []string{"ghcr.io/Acme/App"},
			want: checkWant{Required: true, Detail: []string{`"ghcr.io/Acme/App" is not an image name`}, Fix: []string{"registry/repository"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := checkLogin(context.Background(), newOptions([]Option{WithKeychain(tc.k)}, nil), Need{Images: tc.images})
			assertCheck(t, c, "login", tc.want)
			if tc.wantFix != "" && c.Fix != tc.wantFix {
				t.Errorf("Fix = %q, want %q", c.Fix, tc.wantFix)
			}
			if strings.Contains(c.Detail+c.Fix, secret) || strings.Contains(c.Detail+c.Fix, "alice") {
				t.Errorf("check shows a credential: %+v", c)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1:5000": true, "127.0.0.1": true,
		"[::1]:5000": true, "ghcr.io": false, "localhost.example:5000": false, "10.0.0.1:5000": false,
	} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestReportErr(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks []Check
		want   string // "" for nil
	}{
		{name: "all ok", checks: []Check{{Name: "engine", OK: true, Required: true}, {Name: "login", OK: true}}},
		{name: "only warnings", checks: []Check{{Name: "engine", OK: true, Required: true}, {Name: "emulation"}, {Name: "login"}}},
		{name: "one", checks: []Check{{Name: "engine", Required: true}, {Name: "login"}}, want: "doctor: 1 problem: engine"},
		{
			name:   "two",
			checks: []Check{{Name: "engine", Required: true}, {Name: "buildx", OK: true, Required: true}, {Name: "builder", Required: true}, {Name: "emulation"}},
			want:   "doctor: 2 problems: engine, builder",
		},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Report{Checks: tc.checks}.Err()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Err() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReportPrint(t *testing.T) {
	r := Report{Checks: []Check{
		{Name: "engine", OK: true, Required: true, Detail: "Docker 20.10.24, API 1.41 at unix:///var/run/docker.sock"},
		{Name: "buildx", Required: true, Detail: "reading the buildx version failed: exit status 1:\n  docker: 'buildx' is not a docker command.\n\nSee 'docker --help'\n", Fix: "install the buildx plugin"},
		{Name: "builder", Required: true, Detail: "not checked: buildx is missing", Fix: "install buildx first"},
		{Name: "emulation", Detail: "linux/arm64: qemu-aarch64 is not registered", Fix: "docker run --privileged --rm tonistiigi/binfmt --install all"},
		{Name: "login", OK: true, Detail: "no image to push"},
		{Name: "other", OK: true},
	}}
	var b strings.Builder
	r.Print(&b)
	want := `ok   engine      Docker 20.10.24, API 1.41 at unix:///var/run/docker.sock
FAIL buildx      reading the buildx version failed: exit status 1: | docker: 'buildx' is not a docker command. | See 'docker --help' -> fix: install the buildx plugin
FAIL builder     not checked: buildx is missing -> fix: install buildx first
warn emulation   linux/arm64: qemu-aarch64 is not registered -> fix: docker run --privileged --rm tonistiigi/binfmt --install all
ok   login       no image to push
ok   other
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Print (-want +got):\n%s", diff)
	}
}

// fakes returns options under which every check passes on an amd64 host.
func fakes() []Option {
	return []Option{
		WithEngine(func(context.Context) (EngineInfo, error) {
			return EngineInfo{Host: "unix:///var/run/docker.sock", Version: "20.10.24", APIVersion: "1.41"}, nil
		}),
		WithBuildxVersion(func(context.Context) (string, error) { return "v0.38.0", nil }),
		WithBuildxInspect(func(_ context.Context, name string) (buildx.Builder, error) {
			return builder("mageship", "docker-container", amd64, arm64), nil
		}),
		WithBinfmtDir(filepath.Join("testdata", "binfmt_misc")),
		WithHost(amd64),
		WithKeychain(keychain{"ghcr.io": creds}),
	}
}

func TestRun(t *testing.T) {
	need := Need{Builder: "mageship", Platforms: release, Images: []string{"ghcr.io/acme/app", "localhost:5000/app"}, RunForeign: true}
	t.Run("all ok but a local login", func(t *testing.T) {
		r := Run(context.Background(), need, fakes()...)
		var names []string
		for _, c := range r.Checks {
			names = append(names, c.Name)
		}
		if diff := cmp.Diff([]string{"engine", "buildx", "builder", "emulation", "login"}, names); diff != "" {
			t.Errorf("check names (-want +got):\n%s", diff)
		}
		if err := r.Err(); err != nil {
			t.Errorf("Err() = %v", err)
		}
		var b strings.Builder
		r.Print(&b)
		want := `ok   engine      Docker 20.10.24, API 1.41 at unix:///var/run/docker.sock
ok   buildx      buildx v0.38.0
ok   builder     mageship (docker-container driver), platforms linux/amd64, linux/arm64
ok   emulation   linux/arm64 (qemu-aarch64) enabled in testdata/binfmt_misc
warn login       ghcr.io: credentials found (helper or config); localhost:5000: no credentials (fine if it takes anonymous pushes) -> fix: docker login localhost:5000
`
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("Print (-want +got):\n%s", diff)
		}
		if strings.Contains(b.String(), secret) {
			t.Error("Print shows a password")
		}
	})
	t.Run("nothing there", func(t *testing.T) {
		inspected := false
		opts := append(fakes(),
			WithEngine(func(context.Context) (EngineInfo, error) {
				return EngineInfo{}, errors.New("cannot reach the Docker engine")
			}),
			WithBuildxVersion(func(context.Context) (string, error) { return "", errors.New("docker CLI not found on PATH") }),
			WithBuildxInspect(func(context.Context, string) (buildx.Builder, error) {
				inspected = true
				return buildx.Builder{}, errors.New("no")
			}),
			WithBinfmtDir(t.TempDir()),
			WithKeychain(keychain{}),
		)
		err := Run(context.Background(), need, opts...).Err()
		if err == nil || err.Error() != "doctor: 5 problems: engine, buildx, builder, emulation, login" {
			t.Errorf("Err() = %v", err)
		}
		if inspected {
			t.Error("the builder was inspected without buildx")
		}
	})
}

// TestDefaultEngineDown runs the default probe against a socket nobody listens on.
func TestDefaultEngineDown(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "docker.sock"))
	c, _ := checkEngine(context.Background(), newOptions(nil, nil))
	assertCheck(t, c, "engine", checkWant{Required: true, Detail: []string{"cannot reach the Docker engine at unix://"}, Fix: []string{"DOCKER_HOST"}})
	if strings.Contains(c.Detail, "start Docker") {
		t.Errorf("Detail = %q repeats the fix", c.Detail)
	}
}

// TestDefaultKeychain reads credentials from a Docker config file the way
// docker login leaves it, and shows none of them.
func TestDefaultKeychain(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, ".docker")
	if err := os.Mkdir(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	// "alice:s3cret-Pa55" in base64, as docker login writes it without a helper.
	config := `{"auths":{"ghcr.io":{"auth":"YWxpY2U6czNjcmV0LVBhNTU="}}}`
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", cfg)
	c := checkLogin(context.Background(), newOptions(nil, nil), Need{Images: []string{"ghcr.io/acme/app", "quay.io/acme/app"}})
	assertCheck(t, c, "login", checkWant{Required: true,
		Detail: []string{"ghcr.io: credentials found (helper or config); quay.io: no credentials"}, Fix: []string{"docker login quay.io"}})
	var b strings.Builder
	Report{Checks: []Check{c}}.Print(&b)
	for _, s := range []string{secret, "alice", "YWxpY2U6czNjcmV0LVBhNTU="} {
		if strings.Contains(b.String(), s) {
			t.Errorf("Print shows %q:\n%s", s, b.String())
		}
	}
}
