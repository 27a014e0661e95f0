package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/doctor"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
)

// TestRig runs every check against the rig's engine, builder and registry.
func TestRig(t *testing.T) {
	vars := rigtest.Env(t)
	t.Setenv("BUILDX_BUILDER", vars["BUILDX_BUILDER"])
	if h := vars["DOCKER_HOST"]; h != "" {
		t.Setenv("DOCKER_HOST", h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ps, err := platform.ParseList([]string{"linux/amd64", "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	r := doctor.Run(ctx, doctor.Need{
		Platforms:  ps,
		Images:     []string{vars["MAGESHIP_RIG_REGISTRY"] + "/x"},
		RunForeign: true,
	})
	var out strings.Builder
	r.Print(&out)
	t.Logf("doctor:\n%s", out.String())
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(r.Checks) != 5 {
		t.Fatalf("%d checks, want 5", len(r.Checks))
	}
	for _, c := range r.Checks {
		if c.Required && !c.OK {
			t.Errorf("%s failed: %s", c.Name, c.Detail)
		}
	}
	for _, c := range r.Checks[:4] { // all but login: the rig's registry takes anonymous pushes
		if !c.OK {
			t.Errorf("%s: %s -> fix: %s", c.Name, c.Detail, c.Fix)
		}
	}
	if b := r.Checks[2]; !strings.HasPrefix(b.Detail, vars["BUILDX_BUILDER"]+" (") {
		t.Errorf("builder detail %q does not name the rig's builder %s", b.Detail, vars["BUILDX_BUILDER"])
	}
}
