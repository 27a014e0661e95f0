package variant

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestSpecArgs renders the buildx command lines the pipelines compute, before any of
// them runs, and compares them with golden files.
func TestSpecArgs(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "repo", "examples", "hello")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	p := project.Project{Dir: mod, Module: "github.com/acme/repo/examples/hello", GoVersion: "1.26.0",
		Mains:    []project.Main{{Package: "./cmd/hello", Name: "hello"}},
		Replaces: []project.Replace{{Module: "github.com/acme/repo", Path: "../..", Dir: filepath.Join(dir, "repo")}}}
	r, err := config.Resolve(p, config.Config{Images: []config.Image{{Ports: []int{8080}}}}, func(k string) string {
		return map[string]string{config.EnvImage: "registry.example.com/acme/hello",
			config.EnvCacheTo: "type=registry,ref=registry.example.com/acme/cache:{name},mode=max"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "..", "Dockerfile.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	r.DefaultTemplate = string(tmpl)
	ignore, err := os.ReadFile(filepath.Join("..", "..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	r.DefaultIgnore = string(ignore)
	info := version.Info{Version: "1.2.3", Tags: []string{"1.2.3", "1.2", "1", "latest"}, Revision: strings.Repeat("a", 40),
		Created: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	e := Env{
		goEnv: map[string]string{"GOPROXY": "https://proxy.example.com", "GOPRIVATE": "github.com/acme/*"},
		netrc: "/home/ci/.netrc",
	}
	amd64, arm64 := platform.Platform{OS: "linux", Arch: "amd64"}, platform.Platform{OS: "linux", Arch: "arm64"}
	for _, tc := range []struct {
		name  string
		v     Kind
		plats []platform.Platform
		out   buildx.Output
		tags  []string
	}{
		{"image-load", Production, []platform.Platform{amd64}, buildx.Output{Kind: buildx.OutputLoad}, []string{"registry.example.com/acme/hello:1.2.3"}},
		{"release-production", Production, []platform.Platform{amd64, arm64}, buildx.Output{Kind: buildx.OutputPushByDigest, Repository: "registry.example.com/acme/hello"}, nil},
		{"release-debug", Debug, []platform.Platform{amd64, arm64}, buildx.Output{Kind: buildx.OutputPushByDigest, Repository: "registry.example.com/acme/hello"}, nil},
	} {
		for _, build := range []string{config.BuildContainer, config.BuildHost} {
			t.Run(build+"-"+tc.name, func(t *testing.T) {
				r := r
				r.Build = build
				s, err := Build{Config: r, Image: r.Images[0], Variant: tc.v, Info: info, Platforms: tc.plats}.Spec(tc.out, tc.tags, "/tmp/mageship-x", e)
				if err != nil {
					t.Fatal(err)
				}
				args, err := s.Build.Args()
				if err != nil {
					t.Fatal(err)
				}
				got := strings.ReplaceAll(strings.Join(args, "\n")+"\n", dir, "$TMP")
				golden := filepath.Join("testdata", build+"-"+tc.name+".args")
				if *update {
					os.WriteFile(golden, []byte(got), 0o644)
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test ./internal/variant -update creates it)", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("buildx argv (-want +got):\n%s", diff)
				}
				if build == config.BuildHost {
					// The host path: no RUN, no Go image, the binary copied from the context.
					var instructions []string
					for _, l := range strings.Split(s.Dockerfile, "\n") {
						if !strings.HasPrefix(strings.TrimSpace(l), "#") {
							instructions = append(instructions, l)
						}
					}
					for _, bad := range []string{"RUN ", "golang:", "go build", "--mount"} {
						if strings.Contains(strings.Join(instructions, "\n"), bad) {
							t.Errorf("the host path's Dockerfile contains %q:\n%s", bad, s.Dockerfile)
						}
					}
					if !strings.Contains(s.Dockerfile, "COPY ${TARGETOS}_${TARGETARCH}${TARGETVARIANT:+_}${TARGETVARIANT}/ /out/") {
						t.Errorf("the host path's Dockerfile does not copy the prebuilt binary:\n%s", s.Dockerfile)
					}
					if s.Ignore != "" || s.Build.Context != HostContext("/tmp/mageship-x", r.Images[0]) {
						t.Errorf("the host path's context must be the folder of binaries with no .dockerignore; got %s, ignore %q", s.Build.Context, s.Ignore)
					}
					return
				}
				if !strings.Contains(s.Dockerfile, "WORKDIR /src/examples/hello") || !strings.Contains(s.Dockerfile, "COPY --from=gomod-replace-1 go.mod go.sum* /src/") {
					t.Errorf("the Dockerfile does not place the module and its replacement:\n%s", s.Dockerfile)
				}
				if s.Ignore == "" {
					t.Error("a module without a .dockerignore must get mageship's default beside the Dockerfile")
				}
			})
		}
	}
}

// TestVariantTags: the debug variant gets every tag with -debug.
func TestVariantTags(t *testing.T) {
	got, err := Debug.Tags([]string{"1.2.3", "latest"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.2.3-debug", "latest-debug"}, got); diff != "" {
		t.Error(diff)
	}
}
