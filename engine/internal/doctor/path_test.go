package doctor

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
)

func TestRunFor(t *testing.T) {
	ctx := context.Background()
	noEngine := WithEngine(func(context.Context) (EngineInfo, error) { return EngineInfo{}, errors.New("no engine") })
	withEngine := WithEngine(func(context.Context) (EngineInfo, error) {
		return EngineInfo{Version: "29.0.0", ContainerdStore: true}, nil
	})
	noBuildx := WithBuildxVersion(func(context.Context) (string, error) {
		return "", errors.New("docker: 'buildx' is not a docker command")
	})
	hasBuildx := WithBuildxVersion(func(context.Context) (string, error) { return "v0.38.2", nil })
	dockerDriver := WithBuildxInspect(func(context.Context, string) (buildx.Builder, error) {
		return builder("default", "docker", amd64, arm64), nil
	})
	common := []Option{WithKeychain(authn.NewMultiKeychain()), WithBinfmtDir(t.TempDir()), WithHost(amd64)}
	n := Need{Platforms: release[:1], Env: []string{}}
	find := func(r Report, name string) Check {
		for _, c := range r.Checks {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no %s check in %v", name, r.Checks)
		return Check{}
	}

	t.Run("direct needs no engine, buildx or builder", func(t *testing.T) {
		r := RunFor(ctx, n, Path{Build: config.BuildHost, Assemble: config.AssembleDirect}, append(common, noEngine, noBuildx)...)
		assertCheck(t, find(r, "engine"), "engine", checkWant{Detail: []string{"release does not need it"}})
		assertCheck(t, find(r, "buildx"), "buildx", checkWant{Detail: []string{"not used on this path"}})
		assertCheck(t, find(r, "builder"), "builder", checkWant{Detail: []string{"not used on this path"}})
		if err := r.Err(); err != nil {
			t.Errorf("Err = %v, want nil on the direct path", err)
		}
	})
	for _, p := range []Path{{config.BuildHost, config.AssembleBuildx}, {config.BuildContainer, config.AssembleBuildx}} {
		t.Run(p.Build+"+buildx refuses a docker-driver builder", func(t *testing.T) {
			r := RunFor(ctx, n, p, append(common, withEngine, hasBuildx, dockerDriver)...)
			assertCheck(t, find(r, "builder"), "builder", checkWant{Required: true,
				Detail: []string{"buildx builder default uses the docker driver", "cannot push images by digest"}, Fix: []string{"docker buildx create --use"}})
		})
	}
}

func TestRunForDockerDriverWithoutMultiPlatform(t *testing.T) {
	// On the classic image store a docker-driver builder also cannot build two
	// platforms into one image; the push-by-digest refusal is what doctor reports.
	r := RunFor(context.Background(), Need{Platforms: release, Env: []string{}}, Path{config.BuildHost, config.AssembleBuildx},
		WithKeychain(authn.NewMultiKeychain()), WithBinfmtDir(t.TempDir()), WithHost(amd64),
		WithEngine(func(context.Context) (EngineInfo, error) { return EngineInfo{Version: "20.10.24"}, nil }),
		WithBuildxVersion(func(context.Context) (string, error) { return "v0.38.2", nil }),
		WithBuildxInspect(func(context.Context, string) (buildx.Builder, error) {
			return builder("default", "docker", amd64, arm64), nil
		}))
	for _, c := range r.Checks {
		if c.Name == "builder" {
			assertCheck(t, c, "builder", checkWant{Required: true, Detail: []string{"cannot push images by digest"}, Fix: []string{"docker buildx create --use", "unset MAGESHIP_ASSEMBLE"}})
		}
	}
}
