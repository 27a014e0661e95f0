package rigtest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/command"
)

var (
	engine29Once sync.Once
	engine29Err  error
)

// Engine29 returns the rig's settings pointed at its Docker Engine 29, where users are:
// DOCKER_HOST is MAGESHIP_RIG_DOCKER29_HOST and BUILDX_BUILDER is "default", that
// engine's own builder (buildx's docker driver). It fails (never skips) when that
// engine does not answer, does not use the containerd image store, or its default
// builder is not the docker driver.
func Engine29(t testing.TB) map[string]string {
	t.Helper()
	vars := maps.Clone(Env(t))
	host := vars["MAGESHIP_RIG_DOCKER29_HOST"]
	if host == "" {
		t.Fatal("scripts/rig env exports no MAGESHIP_RIG_DOCKER29_HOST; run scripts/rig up from this checkout")
	}
	vars["DOCKER_HOST"] = host
	vars["BUILDX_BUILDER"] = "default"
	engine29Once.Do(func() { engine29Err = checkEngine29(vars) })
	if engine29Err != nil {
		t.Fatalf("the rig's Engine 29 at %s: %v; run scripts/rig up", host, engine29Err)
	}
	return vars
}

func checkEngine29(vars map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(args ...string) (string, error) {
		out, err := command.CombinedOutput(ctx, command.Cmd{Name: "docker", Args: args, Env: Environ(vars)})
		return string(out), err
	}
	info, err := run("info", "--format", "{{.ServerVersion}} {{json .DriverStatus}}")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(info, "29.") || !strings.Contains(info, "io.containerd.snapshotter.v1") {
		return fmt.Errorf("want Engine 29 with the containerd image store, docker info says %s", strings.TrimSpace(info))
	}
	builder, err := run("buildx", "inspect", "default")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(builder, "\n") {
		if d, ok := strings.CutPrefix(line, "Driver:"); ok && strings.TrimSpace(d) == "docker" {
			return nil
		}
	}
	return fmt.Errorf("its default builder is not buildx's docker driver:\n%s", builder)
}

// Registry returns the address (host:port) the rig exports as key, e.g.
// MAGESHIP_RIG_REFERRERS_REGISTRY, after checking that it answers /v2/.
func Registry(t testing.TB, vars map[string]string, key string) string {
	t.Helper()
	addr := vars[key]
	if addr == "" {
		t.Fatalf("scripts/rig env exports no %s; run scripts/rig up from this checkout", key)
	}
	resp, err := http.Get("http://" + addr + "/v2/")
	if err != nil {
		t.Fatalf("the rig's registry %s (%s) does not answer: %v; run scripts/rig up", addr, key, err)
	}
	resp.Body.Close()
	return addr
}

// Tool returns the path of an executable the rig installed and exports as key, e.g.
// MAGESHIP_RIG_ACTIONLINT, failing when it is not there.
func Tool(t testing.TB, vars map[string]string, key string) string {
	t.Helper()
	p := vars[key]
	fi, err := os.Stat(p)
	if p == "" || err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("the rig's %s %q is not installed (%v); run scripts/rig up", key, p, err)
	}
	return p
}
