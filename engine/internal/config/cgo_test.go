package config

import (
	"testing"

	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestCgoEnv: CGO_ENABLED=1 from the user is refused in one line, never overridden.
func TestCgoEnv(t *testing.T) {
	for v, refused := range map[string]bool{"": false, "0": false, "1": true, "true": true} {
		getenv := func(k string) string {
			if k == EnvCgo {
				return v
			}
			return ""
		}
		_, err := Resolve(project.Project{Dir: t.TempDir(), Module: "example.com/x", GoVersion: "1.26", Mains: []project.Main{{Package: ".", Name: "x"}}}, Config{}, getenv)
		if !refused {
			if err != nil {
				t.Errorf("CGO_ENABLED=%q: %v", v, err)
			}
			continue
		}
		testfix.OneLine(t, err, "CGO_ENABLED="+v, "static", "unset CGO_ENABLED")
	}
}
