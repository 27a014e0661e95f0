package doctor_test

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/doctor"
	"github.com/mageship/mageship/engine/internal/platform"
)

func ExampleRun() {
	amd64 := platform.Platform{OS: "linux", Arch: "amd64"}
	arm64 := platform.Platform{OS: "linux", Arch: "arm64"}
	need := doctor.Need{
		Platforms:  []platform.Platform{amd64, arm64},
		Images:     []string{"ghcr.io/acme/app"},
		RunForeign: true,
	}
	// Fakes stand in for Docker here; without options Run asks the real thing.
	report := doctor.Run(context.Background(), need,
		doctor.WithEngine(func(context.Context) (doctor.EngineInfo, error) {
			return doctor.EngineInfo{Host: "unix:///var/run/docker.sock", Version: "20.10.24", APIVersion: "1.41"}, nil
		}),
		doctor.WithBuildxVersion(func(context.Context) (string, error) { return "v0.38.0", nil }),
		doctor.WithBuildxInspect(func(context.Context, string) (buildx.Builder, error) {
			return buildx.Builder{Name: "default", Driver: "docker", Nodes: []buildx.Node{{
				Name: "default", Platforms: []buildx.NodePlatform{{Platform: amd64}},
			}}}, nil
		}),
		doctor.WithHost(amd64),
		doctor.WithBinfmtDir("testdata/binfmt_misc"),
		doctor.WithKeychain(authn.NewMultiKeychain()), // no credentials anywhere
	)
	report.Print(os.Stdout)
	fmt.Println(report.Err())
	// Output:
	// ok   engine      Docker 20.10.24, API 1.41 at unix:///var/run/docker.sock
	// ok   buildx      buildx v0.38.0
	// FAIL builder     default (docker driver), platforms linux/amd64: the docker driver cannot produce a multi-platform image for linux/amd64,linux/arm64 -> fix: docker buildx create --use --driver docker-container
	// ok   emulation   linux/arm64 (qemu-aarch64) enabled in testdata/binfmt_misc
	// FAIL login       ghcr.io: no credentials -> fix: docker login ghcr.io
	// doctor: 2 problems: builder, login
}
