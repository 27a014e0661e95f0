package integration

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
)

// TestMultiNodeBuilder releases through a buildx builder of two BuildKit nodes, one
// per platform, named by BUILDX_BUILDER alone, and reads each node's own build
// records to see which node built which platform.
//
// On the rig both daemons run on this one amd64 machine: each node's platform is set
// on the buildx side (docker buildx create --platform), which is what buildx routes by,
// while both daemons compile on their native amd64 build platform.
func TestMultiNodeBuilder(t *testing.T) {
	vars := rigtest.Env(t)
	nodes := map[string]string{"linux/amd64": startBuildkitd(t, vars), "linux/arm64": startBuildkitd(t, vars)}
	builder := fmt.Sprintf("it-multinode-%d", time.Now().UnixNano())
	env := rigtest.Environ(vars)
	rigtest.Run(t, "", env, "docker", "buildx", "create", "--name", builder, "--driver", "remote", "--platform", "linux/amd64", nodes["linux/amd64"])
	t.Cleanup(func() { exec.Command("docker", "buildx", "rm", builder).Run() })
	rigtest.Run(t, "", env, "docker", "buildx", "create", "--append", "--name", builder, "--driver", "remote", "--platform", "linux/arm64", nodes["linux/arm64"])
	inspect := rigtest.Run(t, "", env, "docker", "buildx", "inspect", "--bootstrap", builder)
	t.Logf("builder:\n%s", grepLines(inspect, "Name:", "Endpoint:", "Platforms:"))

	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v5.0.0")
	repo := fmt.Sprintf("%s/it/multinode-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	rigtest.Mage(t, dir, vars, []string{"BUILDX_BUILDER=" + builder, "MAGESHIP_IMAGE=" + repo, "MAGESHIP_ASSEMBLE=buildx"}, "release")

	idx, err := registry.Describe(t.Context(), repo+":5.0.0")
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, m := range idx.Platforms {
		plats = append(plats, m.Platform.String())
	}
	if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("index platforms = %v", plats)
	}
	for want, addr := range nodes {
		built := nodePlatforms(t, vars, addr, "5.0.0")
		t.Logf("node for %s (%s) built: %v", want, addr, built)
		if len(built) == 0 || slices.ContainsFunc(built, func(p string) bool { return p != want }) {
			t.Errorf("node %s built %v, want only %s", addr, built, want)
		}
	}
}

// nodePlatforms reads a BuildKit node's build records and returns the platforms of the
// builds of the given version.
func nodePlatforms(t *testing.T, vars map[string]string, addr, version string) []string {
	t.Helper()
	out := rigtest.Run(t, "", nil, vars["MAGESHIP_RIG_BUILDCTL"], "--addr", addr, "debug", "histories", "--format", "{{json .}}")
	var plats []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct {
			Record struct {
				FrontendAttrs map[string]string
			} `json:"record"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		a := rec.Record.FrontendAttrs
		if a["build-arg:VERSION"] == version {
			plats = append(plats, a["platform"])
		}
	}
	return plats
}
