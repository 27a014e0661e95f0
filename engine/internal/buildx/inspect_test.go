package buildx

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mageship/mageship/engine/internal/platform"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		name, out, want, wantErr string
	}{
		{name: "release", out: "github.com/docker/buildx v0.38.0 1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e\n", want: "v0.38.0"},
		{name: "desktop", out: "github.com/docker/buildx v0.24.0-desktop.1 8e1c3d8a0bd5ef1e1d1bd6fc4e2cbbe8e4d4b43e\n", want: "v0.24.0-desktop.1"},
		{name: "distro package", out: "github.com/docker/buildx 0.13.1+ds1-3 0.13.1+ds1-3\n", want: "v0.13.1+ds1-3"},
		{name: "after a warning", out: "WARNING: config file permissions\ngithub.com/docker/buildx v0.38.0 1b2c3d4\n", want: "v0.38.0"},
		{name: "not buildx", out: "Docker version 28.2.2, build e6534b4\n", wantErr: "unexpected output"},
		{name: "no version", out: "github.com/docker/buildx dev\n", wantErr: "unexpected output"},
		{name: "empty", out: "", wantErr: "unexpected output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVersion(tc.out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseVersion = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseVersion = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// plats turns "linux/amd64 linux/arm64*" into node platforms.
func plats(s string) []NodePlatform {
	var out []NodePlatform
	for _, f := range strings.Fields(s) {
		np := NodePlatform{Set: strings.HasSuffix(f, "*")}
		parts := strings.Split(strings.TrimSuffix(f, "*"), "/")
		np.OS, np.Arch = parts[0], parts[1]
		if len(parts) == 3 {
			np.Variant = parts[2]
		}
		out = append(out, np)
	}
	return out
}

func TestParseInspect(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    Builder
	}{
		{
			fixture: "inspect_remote.txt",
			want: Builder{
				Name:   "ci-remote",
				Driver: "remote",
				Nodes: []Node{
					{
						Name:            "ci-remote0",
						Endpoint:        "tcp://buildkitd-amd64.ci.internal:1234",
						Status:          "running",
						BuildKitVersion: "v0.25.1",
						Platforms:       plats("linux/amd64 linux/amd64/v2 linux/amd64/v3 linux/386 linux/arm64 linux/riscv64 linux/ppc64le linux/s390x linux/mips64le linux/mips64 linux/loong64 linux/arm/v7 linux/arm/v6"),
					},
					{
						Name:            "ci-remote1",
						Endpoint:        "tcp://buildkitd-arm64.ci.internal:1234",
						Status:          "running",
						BuildKitVersion: "v0.25.1",
						Platforms:       plats("linux/arm64* linux/arm/v7* linux/arm/v6"),
					},
					{
						Name:     "ci-remote2",
						Endpoint: "tcp://buildkitd-spare.ci.internal:1234",
						Error:    `failed to list workers: Unavailable: connection error: desc = "transport: Error while dialing: dial tcp 10.0.4.17:1234: connect: connection refused"`,
					},
				},
			},
		},
		{
			fixture: "inspect_docker_container.txt",
			want: Builder{
				Name:   "mageship",
				Driver: "docker-container",
				Nodes: []Node{{
					Name:            "mageship0",
					Endpoint:        "unix:///var/run/docker.sock",
					Status:          "running",
					BuildKitVersion: "v0.25.1",
					Platforms:       plats("linux/amd64 linux/amd64/v2 linux/amd64/v3 linux/386"),
				}},
			},
		},
		{
			fixture: "inspect_docker.txt",
			want: Builder{
				Name:   "default",
				Driver: "docker",
				Nodes: []Node{{
					Name:            "default",
					Endpoint:        "default",
					Status:          "running",
					BuildKitVersion: "v0.25.1",
					Platforms:       plats("linux/amd64 linux/amd64/v2 linux/amd64/v3 linux/386"),
				}},
			},
		},
		{
			fixture: "inspect_inactive.txt",
			want: Builder{
				Name:   "fresh",
				Driver: "docker-container",
				Nodes:  []Node{{Name: "fresh0", Endpoint: "unix:///var/run/docker.sock", Status: "inactive"}},
			},
		},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			got, err := parseInspect(readFixture(t, tc.fixture))
			if err != nil {
				t.Fatalf("parseInspect: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseInspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInspectOldFormat(t *testing.T) {
	// buildx before v0.13 printed "Buildkit:" and no Last Activity.
	out := "Name:   elated_tesla\nDriver: docker-container\n\nNodes:\nName:      elated_tesla0\nEndpoint:  unix:///var/run/docker.sock\nStatus:    running\nBuildkit:  v0.10.3\nPlatforms: linux/amd64\n"
	got, err := parseInspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Nodes[0]; n.BuildKitVersion != "v0.10.3" || len(n.Platforms) != 1 {
		t.Errorf("node = %+v", n)
	}
}

func TestParseInspectErrors(t *testing.T) {
	for _, out := range []string{
		"",
		"Docker version 28.2.2, build e6534b4\n",
		"Name: b\nDriver: remote\n\nNodes:\nName: b0\nPlatforms: linux\n",
	} {
		if b, err := parseInspect(out); err == nil {
			t.Errorf("parseInspect(%q) = %+v, want an error", out, b)
		}
	}
}

func TestSupports(t *testing.T) {
	remote, err := parseInspect(readFixture(t, "inspect_remote.txt"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := parseInspect(readFixture(t, "inspect_docker_container.txt"))
	if err != nil {
		t.Fatal(err)
	}
	inactive, err := parseInspect(readFixture(t, "inspect_inactive.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		builder Builder
		p       string
		want    bool
	}{
		{remote, "linux/amd64", true},
		{remote, "linux/arm64", true},
		{remote, "linux/arm64/v8", true},
		{remote, "linux/arm/v7", true},
		{remote, "linux/arm", true},
		{remote, "linux/s390x", true},
		{remote, "windows/amd64", false},
		{local, "linux/amd64", true},
		{local, "linux/386", true},
		{local, "linux/arm64", false},
		{inactive, "linux/amd64", false},
	} {
		p := platform.Platform{}
		parts := strings.Split(tc.p, "/")
		p.OS, p.Arch = parts[0], parts[1]
		if len(parts) == 3 {
			p.Variant = parts[2]
		}
		if got := tc.builder.Supports(p); got != tc.want {
			t.Errorf("%s.Supports(%s) = %v, want %v", tc.builder.Name, tc.p, got, tc.want)
		}
	}
	// A node buildx cannot reach supports nothing.
	down := Builder{Nodes: []Node{{Name: "n0", Error: "connection refused", Platforms: plats("linux/amd64")}}}
	if down.Supports(platform.Platform{OS: "linux", Arch: "amd64"}) {
		t.Error("a node with an error supports linux/amd64")
	}
}

func TestBuilderPlatforms(t *testing.T) {
	remote, err := parseInspect(readFixture(t, "inspect_remote.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := platform.Strings(remote.Platforms())
	want := "linux/amd64,linux/amd64/v2,linux/amd64/v3,linux/386,linux/arm64,linux/riscv64,linux/ppc64le,linux/s390x,linux/mips64le,linux/mips64,linux/loong64,linux/arm/v7,linux/arm/v6"
	if got != want {
		t.Errorf("Platforms() = %s, want %s", got, want)
	}
}

// stubExec answers one docker command with stdout, stderr and err, and records its args.
func stubExec(gotArgs *[]string, stdout, stderr string, err error) Exec {
	return func(ctx context.Context, name string, args, env []string, outw, errw io.Writer) error {
		*gotArgs = args
		io.WriteString(outw, stdout)
		io.WriteString(errw, stderr)
		return err
	}
}

func TestInspect(t *testing.T) {
	var args []string
	b, err := Inspect(t.Context(), "mageship", WithExec(stubExec(&args, readFixture(t, "inspect_docker_container.txt"), "", nil)))
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if diff := cmp.Diff([]string{"buildx", "inspect", "--bootstrap", "mageship"}, args); diff != "" {
		t.Errorf("args mismatch (-want +got):\n%s", diff)
	}
	if b.Driver != "docker-container" || !b.Supports(platform.Platform{OS: "linux", Arch: "amd64"}) {
		t.Errorf("Inspect = %+v", b)
	}

	if _, err := Inspect(t.Context(), "", WithExec(stubExec(&args, readFixture(t, "inspect_docker.txt"), "", nil))); err != nil {
		t.Fatalf("Inspect of the current builder: %v", err)
	}
	if diff := cmp.Diff([]string{"buildx", "inspect", "--bootstrap"}, args); diff != "" {
		t.Errorf("args for the current builder mismatch (-want +got):\n%s", diff)
	}
}

func TestInspectNotFound(t *testing.T) {
	exitErr := errors.New("exit status 1")
	for _, name := range []string{"nosuch", ""} {
		var args []string
		// With an empty name buildx reports the builder BUILDX_BUILDER names.
		_, err := Inspect(t.Context(), name, WithExec(stubExec(&args, "", "ERROR: no builder \"nosuch\" found\n", exitErr)))
		want := `buildx builder "nosuch" not found: create it with docker buildx create --name nosuch, or unset BUILDX_BUILDER`
		if err == nil || err.Error() != want {
			t.Errorf("Inspect(%q) error = %v, want %q", name, err, want)
		}
		var nf *BuilderNotFoundError
		if !errors.As(err, &nf) || !errors.Is(err, exitErr) {
			t.Errorf("Inspect(%q) error %v is not a BuilderNotFoundError wrapping the exit error", name, err)
		}
	}
}

func TestInspectErrors(t *testing.T) {
	var args []string
	out := "Name:   broken\nDriver: docker-container\nError:  Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
	_, err := Inspect(t.Context(), "broken", WithExec(stubExec(&args, out, "", nil)))
	if err == nil || !strings.Contains(err.Error(), `inspecting buildx builder "broken": Cannot connect to the Docker daemon`) {
		t.Errorf("err = %v", err)
	}
	// What docker 28 prints without the buildx plugin.
	for _, stderr := range []string{
		"docker: unknown command: docker buildx\n\nRun 'docker --help' for more information\n",
		"unknown flag: --bootstrap\n\nUsage:  docker [OPTIONS] COMMAND [ARG...]\n\nRun 'docker --help' for more information\n",
	} {
		_, err = Inspect(t.Context(), "", WithExec(stubExec(&args, "", stderr, errors.New("exit status 125"))))
		if err == nil || !strings.Contains(err.Error(), "docker buildx plugin not found") {
			t.Errorf("err = %v, want one about the missing plugin", err)
		}
	}
	// buildx's own usage for a flag it does not know is not a missing plugin.
	_, err = Inspect(t.Context(), "", WithExec(stubExec(&args, "", "unknown flag: --bootstrap\nSee 'docker buildx inspect --help'.\n\nUsage:  docker buildx inspect [NAME]\n", errors.New("exit status 1"))))
	if err == nil || strings.Contains(err.Error(), "plugin not found") || !strings.Contains(err.Error(), "unknown flag: --bootstrap") {
		t.Errorf("err = %v, want buildx's own message", err)
	}
}

func TestVersion(t *testing.T) {
	var args []string
	v, err := Version(t.Context(), WithExec(stubExec(&args, "github.com/docker/buildx v0.38.0 1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e\n", "", nil)))
	if err != nil || v != "v0.38.0" {
		t.Errorf("Version = %q, %v; want v0.38.0", v, err)
	}
	if diff := cmp.Diff([]string{"buildx", "version"}, args); diff != "" {
		t.Errorf("args mismatch (-want +got):\n%s", diff)
	}
}

func TestAttestations(t *testing.T) {
	for _, tc := range []struct {
		b    Builder
		want string
	}{
		{Builder{Name: "default", Driver: "docker"}, "the docker driver"},
		{Builder{Name: "old", Driver: "docker-container", Nodes: []Node{{Name: "old0", BuildKitVersion: "v0.10.6"}}}, "node old0 runs BuildKit v0.10.6"},
		{Builder{Name: "new", Driver: "docker-container", Nodes: []Node{{Name: "new0", BuildKitVersion: "v0.34.2"}}}, ""},
		{Builder{Name: "src", Driver: "remote", Nodes: []Node{{Name: "src0", BuildKitVersion: "v0.0.0+unknown"}}}, ""},
	} {
		if got := tc.b.Attestations(); got != tc.want {
			t.Errorf("%s.Attestations() = %q, want %q", tc.b.Name, got, tc.want)
		}
	}
}
