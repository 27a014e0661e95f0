package config

import (
	"strings"
	"testing"
)

func TestAssembler(t *testing.T) {
	for _, tc := range []struct {
		name, env, cfg, build, template string
		want, wantErr                   string
	}{
		{name: "host default", build: BuildHost, want: AssembleDirect},
		{name: "container default", build: BuildContainer, want: AssembleBuildx},
		{name: "host buildx from env", env: "buildx", build: BuildHost, want: AssembleBuildx},
		{name: "env wins over config", env: "direct", cfg: "buildx", build: BuildHost, want: AssembleDirect},
		{name: "config", cfg: "buildx", build: BuildHost, want: AssembleBuildx},
		{name: "container buildx", env: "buildx", build: BuildContainer, want: AssembleBuildx},
		{name: "container direct", env: "direct", build: BuildContainer, wantErr: "MAGESHIP_ASSEMBLE=direct (or Config.Assemble) with MAGESHIP_BUILD=container: the container path compiles inside BuildKit"},
		{name: "own template: buildx", template: "build/Dockerfile.tmpl", build: BuildHost, want: AssembleBuildx},
		{name: "own template, buildx asked", env: "buildx", template: "build/Dockerfile.tmpl", build: BuildHost, want: AssembleBuildx},
		{name: "own template, direct asked", cfg: "direct", template: "build/Dockerfile.tmpl", build: BuildHost, wantErr: "MAGESHIP_ASSEMBLE=direct (or Config.Assemble) with your own Dockerfile template build/Dockerfile.tmpl (MAGESHIP_TEMPLATE or Config.Template): the direct assembler reads no Dockerfile"},
		{name: "unknown", env: "kaniko", build: BuildHost, wantErr: `unknown assembler "kaniko" (from MAGESHIP_ASSEMBLE or Config.Assemble): use direct`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := assembler(tc.env, tc.cfg, tc.build, tc.template)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("assembler = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestResolveAssemble(t *testing.T) {
	r, err := Resolve(hello, Config{}, env(EnvBuild, BuildContainer))
	if err != nil || r.Assemble != AssembleBuildx {
		t.Fatalf("container path: Assemble %q, %v; want buildx", r.Assemble, err)
	}
	if _, err := Resolve(hello, Config{Assemble: AssembleDirect}, env(EnvBuild, BuildContainer)); err == nil {
		t.Fatal("Config.Assemble direct on the container path resolved; want a refusal")
	}
}

// TestEnvPath: a doctor whose configuration does not resolve checks the path the
// environment asks for, and by default the host path with in-process assembly.
func TestEnvPath(t *testing.T) {
	for _, tc := range []struct {
		env             map[string]string
		build, assemble string
	}{
		{nil, BuildHost, AssembleDirect},
		{map[string]string{EnvAssemble: "buildx"}, BuildHost, AssembleBuildx},
		{map[string]string{EnvBuild: "container"}, BuildContainer, AssembleBuildx},
		{map[string]string{EnvTemplate: "my.tmpl"}, BuildHost, AssembleBuildx},
		{map[string]string{EnvAssemble: "kaniko"}, BuildHost, AssembleDirect},
	} {
		b, a := EnvPath(func(k string) string { return tc.env[k] })
		if b != tc.build || a != tc.assemble {
			t.Errorf("EnvPath(%v) = %s, %s; want %s, %s", tc.env, b, a, tc.build, tc.assemble)
		}
	}
}
