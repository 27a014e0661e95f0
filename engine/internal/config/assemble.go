package config

import "fmt"

// assembler resolves how the images are assembled: env (MAGESHIP_ASSEMBLE) over the
// magefile's Config.Assemble over the build path's default. The host path defaults to
// AssembleDirect; the container path compiles inside BuildKit, so BuildKit assembles
// there too (AssembleBuildx), and asking for direct assembly on it is an error. A
// user's own Dockerfile template (template != "") is built by buildx: the direct
// assembler reads no Dockerfile, so it would leave out whatever the template adds, and
// asking for both is an error.
func assembler(env, cfg, build, template string) (string, error) {
	a := pick(env, cfg)
	switch a {
	case "":
		if build == BuildContainer || template != "" {
			return AssembleBuildx, nil
		}
		return AssembleDirect, nil
	case AssembleDirect:
		if build == BuildContainer {
			return "", fmt.Errorf("%s=%s (or Config.Assemble) with %s=%s: the container path compiles inside BuildKit, which assembles its images; unset %s, or build on the host (%s=%s)", EnvAssemble, a, EnvBuild, BuildContainer, EnvAssemble, EnvBuild, BuildHost)
		}
		if template != "" {
			return "", fmt.Errorf("%s=%s (or Config.Assemble) with your own Dockerfile template %s (%s or Config.Template): the direct assembler reads no Dockerfile and would leave out what the template adds; unset %s (a template is built with buildx), or drop the template", EnvAssemble, a, template, EnvTemplate, EnvAssemble)
		}
		return a, nil
	case AssembleBuildx:
		return a, nil
	}
	return "", fmt.Errorf("unknown assembler %q (from %s or Config.Assemble): use %s (in-process, the default on the host path) or %s (docker buildx)", a, EnvAssemble, AssembleDirect, AssembleBuildx)
}

// EnvPath is the build path and assembler the environment alone asks for, resolved as
// Resolve resolves them (MAGESHIP_BUILD, MAGESHIP_ASSEMBLE, MAGESHIP_TEMPLATE over
// the defaults); a value Resolve would refuse gives the default. It is what doctor
// checks when the configuration does not resolve.
func EnvPath(getenv func(string) string) (build, assemble string) {
	build = pick(getenv(EnvBuild), BuildHost)
	if build != BuildContainer {
		build = BuildHost
	}
	a, err := assembler(getenv(EnvAssemble), "", build, getenv(EnvTemplate))
	if err != nil {
		a, _ = assembler("", "", build, "")
	}
	return build, a
}
