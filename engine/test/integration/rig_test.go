package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
)

// TestRig is the rig's self-test: a tiny two-platform image built on the rig's
// builder, pushed to its registry, read back, and run for both platforms.
func TestRig(t *testing.T) {
	vars := rigtest.Env(t)
	dir := t.TempDir()
	dockerfile := fmt.Sprintf(`FROM --platform=$BUILDPLATFORM %s AS build
ARG TARGETARCH
WORKDIR /src
RUN printf 'package main\nimport ("fmt"; "runtime")\nfunc main() { fmt.Println(runtime.GOOS + "/" + runtime.GOARCH) }\n' > main.go && \
    printf 'module rigtest\ngo 1.26\n' > go.mod && \
    CGO_ENABLED=0 GOARCH=$TARGETARCH go build -o /out/arch .
FROM scratch
COPY --from=build /out/arch /arch
ENTRYPOINT ["/arch"]
`, vars["MAGESHIP_BUILDER_IMAGE"])
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("%s/rig-selftest:%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	env := rigtest.Environ(vars)
	rigtest.Run(t, dir, env, "docker", "buildx", "build", "--provenance=false", "--sbom=false",
		"--platform", "linux/amd64,linux/arm64", "-t", ref, "--push", dir)

	idx, err := registry.Describe(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range idx.Platforms {
		got = append(got, m.Platform.String())
	}
	if strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Fatalf("index platforms = %v, want linux/amd64,linux/arm64", got)
	}
	repo := ref[:strings.LastIndex(ref, ":")]
	for _, m := range idx.Platforms {
		byDigest := repo + "@" + m.Digest
		out := rigtest.Run(t, dir, env, "docker", "run", "--rm", "--platform", m.Platform.String(), byDigest)
		if strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]) != m.Platform.String() {
			t.Errorf("the %s container printed %q, want %s", m.Platform, out, m.Platform)
		}
	}
}
