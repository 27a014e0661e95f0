package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestMulti builds and releases the two-image example: api on scratch (port 9090),
// worker on the distroless stand-in (port 9091), both stamping a shared version
// variable.
func TestMulti(t *testing.T) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "multi")
	rigtest.Git(t, dir, "tag", "v3.2.1")
	out := rigtest.Mage(t, dir, vars, nil, "image")
	for _, want := range []string{"built api:3.2.1 (production", "built worker:3.2.1 (production"} {
		if !strings.Contains(out, want) {
			t.Errorf("mage image output lacks %q:\n%s", want, testfix.TailLines(out, 10))
		}
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host := platform.Host()
	for _, tc := range []struct {
		name string
		port int
	}{{"api", 9090}, {"worker", 9091}} {
		ref := tc.name + ":3.2.1"
		img, err := imagefs.FromDaemon(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		if tc.name == "api" {
			files = productionFiles("api")
		}
		checkProduction(t, img, tc.name, host, files)
		if body := runHealthz(t, eng, ref, host, tc.port); body != fmt.Sprintf("ok %s 3.2.1\n", tc.name) {
			t.Errorf("%s /healthz = %q", ref, body)
		}
	}
	// The worker's base is the distroless stand-in: its nonroot home is there.
	wimg, _ := imagefs.FromDaemon(ctx, "worker:3.2.1")
	entries, err := imagefs.List(wimg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := entries["/home/nonroot"]; !ok {
		t.Error("worker image is not on the distroless base (no /home/nonroot)")
	}

	prefix := fmt.Sprintf("%s/it-multi-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_IMAGE=" + prefix}, "release")
	for _, name := range []string{"api", "worker"} {
		for _, tag := range []string{"3.2.1", "3.2.1-debug", "latest"} {
			idx, err := registry.Describe(ctx, prefix+"/"+name+":"+tag)
			if err != nil {
				t.Fatal(err)
			}
			var plats []string
			for _, m := range idx.Platforms {
				plats = append(plats, m.Platform.String())
			}
			if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
				t.Errorf("%s/%s:%s platforms = %v", prefix, name, tag, plats)
			}
		}
	}
	arm := platform.Platform{OS: "linux", Arch: "arm64"}
	if body := runHealthz(t, eng, prefix+"/worker:3.2.1", arm, 9091); body != "ok worker 3.2.1\n" {
		t.Errorf("arm64 worker /healthz = %q", body)
	}
}
