package bench

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const rigEnvOut = `export MAGESHIP_RIG=1
export DOCKER_HOST=unix:///var/run/docker.sock
export BUILDX_BUILDER=mageship
export MAGESHIP_RIG_REGISTRY=localhost:5000
export MAGESHIP_BUILDER_IMAGE=localhost:5000/library/golang:1.26-alpine
export MAGESHIP_DEBUG_IMAGE=localhost:5000/library/alpine:3.22
export MAGESHIP_DISTROLESS_IMAGE=localhost:5000/distroless/static-debian12:nonroot
export MAGESHIP_RIG_BUILDKITD=/var/lib/mageship-rig/bin/buildkitd-v0.34.2
export MAGESHIP_RIG_BUILDKIT_CONFIG=/var/lib/mageship-rig/buildkitd.toml
`

func TestParseRigEnv(t *testing.T) {
	got := parseRigEnv(rigEnvOut + "# a comment\n\n")
	if got["BUILDX_BUILDER"] != "mageship" || got["MAGESHIP_RIG_REGISTRY"] != "localhost:5000" || len(got) != 9 {
		t.Errorf("parseRigEnv = %v", got)
	}
}

func TestNewConfig(t *testing.T) {
	rig := parseRigEnv(rigEnvOut)
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr bool
	}{
		{"defaults", nil, func(t *testing.T, c Config) {
			if c.Runs != 3 || len(c.services()) != 2 || c.Out != "/r/bench/results" || c.KoVersion != "v0.19.1" || c.ToolsDir != "/cache/mageship-bench" {
				t.Errorf("config = %+v", c)
			}
			if c.Builder != "mageship" || c.Registry != "localhost:5000" || c.KoBaseImage != "localhost:5000/distroless/static-debian12:nonroot" {
				t.Errorf("rig settings = %+v", c)
			}
			for _, kv := range []string{"MAGESHIP_BUILDER_IMAGE=localhost:5000/library/golang:1.26-alpine", "DOCKER_HOST=unix:///var/run/docker.sock", "PATH=/bin"} {
				if !slices.Contains(c.Env, kv) {
					t.Errorf("Env lacks %s: %v", kv, c.Env)
				}
			}
		}, false},
		{"smoke", map[string]string{EnvRuns: "1", EnvOnly: "hello", EnvOut: "/tmp/out"}, func(t *testing.T, c Config) {
			if c.Runs != 1 || !cmp.Equal(c.services(), []string{"hello"}) || c.Out != "/tmp/out" {
				t.Errorf("config = %+v", c)
			}
		}, false},
		{"a relative output directory is the checkout's", map[string]string{EnvOut: "bench/results/many"}, func(t *testing.T, c Config) {
			if c.Out != "/r/bench/results/many" {
				t.Errorf("Out = %q, want /r/bench/results/many", c.Out)
			}
		}, false},
		{"services in order", map[string]string{EnvOnly: "large, hello"}, func(t *testing.T, c Config) {
			if !cmp.Equal(c.Only, []string{"hello", "large"}) {
				t.Errorf("Only = %v", c.Only)
			}
		}, false},
		{"the environment wins over the rig", map[string]string{"BUILDX_BUILDER": "other"}, func(t *testing.T, c Config) {
			if c.Builder != "other" || slices.Contains(c.Env, "BUILDX_BUILDER=mageship") {
				t.Errorf("Builder = %s, Env = %v", c.Builder, c.Env)
			}
		}, false},
		{"every scenario and contender by default", nil, func(t *testing.T, c Config) {
			if diff := cmp.Diff([]string{"naive", "mageship", "mageship_buildx", "mageship_container", "ko", "floor"}, c.contenders(Local)); diff != "" {
				t.Errorf("local contenders (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"mageship", "mageship_nocache", "mageship_buildx", "mageship_container", "ko", "floor"}, c.contenders(CI)); diff != "" {
				t.Errorf("CI contenders (-want +got):\n%s", diff)
			}
			if c.Buildkitd != "/var/lib/mageship-rig/bin/buildkitd-v0.34.2" || c.BuildkitConfig != "/var/lib/mageship-rig/buildkitd.toml" {
				t.Errorf("BuildKit daemon = %q, config %q", c.Buildkitd, c.BuildkitConfig)
			}
		}, false},
		{"the CI scenario alone", map[string]string{EnvScenarios: "ci", EnvContenders: "floor, naive,mageship,ko,mageship"}, func(t *testing.T, c Config) {
			if !cmp.Equal(c.Scenarios, []string{"ci"}) || !cmp.Equal(c.Contenders, []string{"naive", "mageship", "ko", "floor"}) {
				t.Errorf("Scenarios = %v, Contenders = %v", c.Scenarios, c.Contenders)
			}
			if got := c.contenders(Local); got != nil {
				t.Errorf("local contenders = %v, want none", got)
			}
			if diff := cmp.Diff([]string{"mageship", "ko", "floor"}, c.contenders(CI)); diff != "" {
				t.Errorf("CI contenders (-want +got):\n%s", diff)
			}
		}, false},
		{"mageship_nocache is in the CI scenario only", map[string]string{EnvContenders: "mageship_nocache,mageship"}, func(t *testing.T, c Config) {
			if diff := cmp.Diff([]string{"mageship"}, c.contenders(Local)); diff != "" {
				t.Errorf("local contenders (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"mageship", "mageship_nocache"}, c.contenders(CI)); diff != "" {
				t.Errorf("CI contenders (-want +got):\n%s", diff)
			}
		}, false},
		{"scenarios in order", map[string]string{EnvScenarios: "ci,local"}, func(t *testing.T, c Config) {
			if !cmp.Equal(c.Scenarios, []string{"local", "ci"}) {
				t.Errorf("Scenarios = %v", c.Scenarios)
			}
		}, false},
		{"the many-images scenario alone", map[string]string{EnvScenarios: "many"}, func(t *testing.T, c Config) {
			if !c.measuresMany() || c.measuresServices() || c.contenders(Many) != nil {
				t.Errorf("many %v, services %v, many's contenders %v; want the many-images scenario only", c.measuresMany(), c.measuresServices(), c.contenders(Many))
			}
			if !c.measures("ko") {
				t.Error("the many-images scenario alone does not measure ko, which builds the same mains in one ko build")
			}
		}, false},
		{"every scenario, many too, by default", nil, func(t *testing.T, c Config) {
			if !c.measuresMany() || !c.measuresServices() {
				t.Errorf("many %v, services %v; want both", c.measuresMany(), c.measuresServices())
			}
		}, false},
		{"the many-images scenario measures mageship only", map[string]string{EnvScenarios: "many", EnvContenders: "ko"}, nil, true},
		{"zero runs", map[string]string{EnvRuns: "0"}, nil, true},
		{"unknown service", map[string]string{EnvOnly: "world"}, nil, true},
		{"unknown scenario", map[string]string{EnvScenarios: "cloud"}, nil, true},
		{"unknown contender", map[string]string{EnvContenders: "kaniko"}, nil, true},
		{"nothing to measure", map[string]string{EnvScenarios: "ci", EnvContenders: "naive"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			environ := []string{"PATH=/bin"}
			for k, v := range tc.env {
				environ = append(environ, k+"="+v)
			}
			c, err := newConfig("/r", func(k string) string { return tc.env[k] }, environ, rig, "/cache/mageship-bench")
			if (err != nil) != tc.wantErr {
				t.Fatalf("newConfig error = %v, want error %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
	if _, err := newConfig("/r", func(string) string { return "" }, nil, map[string]string{}, "/c"); err == nil {
		t.Error("newConfig without the rig's settings: no error")
	}
	// The BuildKit daemon is needed only by the CI scenario.
	old := map[string]string{}
	for k, v := range rig {
		if k != "MAGESHIP_RIG_BUILDKITD" && k != "MAGESHIP_RIG_BUILDKIT_CONFIG" {
			old[k] = v
		}
	}
	local := map[string]string{EnvScenarios: "local"}
	if _, err := newConfig("/r", func(k string) string { return local[k] }, nil, old, "/c"); err != nil {
		t.Errorf("newConfig of the local scenario without the BuildKit daemon: %v", err)
	}
	if _, err := newConfig("/r", func(string) string { return "" }, nil, old, "/c"); err == nil || !strings.Contains(err.Error(), "MAGESHIP_RIG_BUILDKITD") {
		t.Errorf("newConfig of the CI scenario without the BuildKit daemon: error %v, want one naming MAGESHIP_RIG_BUILDKITD", err)
	}
}
