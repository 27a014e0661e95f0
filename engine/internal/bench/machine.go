package bench

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/buildx"
)

// describeMachine checks that the rig answers (the engine, the builder, the
// registry) and says what the machine is: CPUs, memory, kernel, Docker, buildx,
// BuildKit and Go versions.
func describeMachine(ctx context.Context, r *runner, c Config) (string, error) {
	docker, err := r.run(ctx, Cmd{Name: "docker", Args: []string{"version", "--format", "{{.Server.Version}}"}, Env: c.Env}, "machine-docker")
	if err != nil {
		return "", fmt.Errorf("the Docker engine does not answer: %w; bring the rig up (scripts/rig up)", err)
	}
	b, err := buildx.Inspect(ctx, c.Builder)
	if err != nil {
		return "", fmt.Errorf("the rig's builder: %w; bring the rig up (scripts/rig up)", err)
	}
	bk := ""
	if len(b.Nodes) > 0 {
		bk = b.Nodes[0].BuildKitVersion
		if unstamped(bk) {
			bk = buildkitdVersion(b.Nodes[0].Endpoint)
		}
	}
	bk = orUnknown(bk)
	bx, err := buildx.Version(ctx)
	if err != nil {
		return "", err
	}
	if unstamped(bx) {
		bx = orUnknown(buildxPluginVersion())
	}
	hc := http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + c.Registry + "/v2/")
	if err != nil {
		return "", fmt.Errorf("the registry %s does not answer: %w; bring the rig up (scripts/rig up)", c.Registry, err)
	}
	resp.Body.Close()
	gov, err := r.run(ctx, Cmd{Name: "go", Args: []string{"env", "GOVERSION"}, Env: c.Env}, "machine-go")
	if err != nil {
		return "", err
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d CPUs, %s RAM, Linux %s, Docker %s, buildx %s, BuildKit %s (%s driver), %s",
		runtime.NumCPU(), memTotal(), strings.TrimSpace(string(kernel)), strings.TrimSpace(docker), bx, bk, b.Driver, strings.TrimSpace(gov)), nil
}

// unstamped reports a version a binary built with go install (no -ldflags -X)
// reports about itself.
func unstamped(v string) bool {
	return v == "" || v == "unknown" || strings.HasPrefix(v, "v0.0.0")
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// moduleVersion is the version of module mod that the Go binary at path was built
// from, as its build information records it, or "".
func moduleVersion(path, mod string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return ""
	}
	if bi.Main.Path == mod && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == mod {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// buildxPluginVersion reads the buildx version from the plugin binary's build
// information (the rig compiles it with go install, which stamps no version).
func buildxPluginVersion() string {
	dirs := []string{"/usr/local/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins"}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		dirs = append([]string{filepath.Join(d, "cli-plugins")}, dirs...)
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append([]string{filepath.Join(home, ".docker", "cli-plugins")}, dirs...)
	}
	for _, d := range dirs {
		if v := moduleVersion(filepath.Join(d, "docker-buildx"), "github.com/docker/buildx"); v != "" {
			return v
		}
	}
	return ""
}

// buildkitdVersion reads the BuildKit version from the binary of the buildkitd
// process on this host that listens on endpoint (the rig runs it here), or "".
func buildkitdVersion(endpoint string) string {
	addr := "--addr\x00" + endpoint + "\x00"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), addr) {
			continue
		}
		if v := moduleVersion(filepath.Join(filepath.Dir(p), "exe"), "github.com/moby/buildkit"); v != "" {
			return v
		}
	}
	return ""
}

// memTotal is MemTotal of /proc/meminfo, in GiB.
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}
