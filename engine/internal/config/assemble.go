package config

import "fmt"

// assembler resolves how the images are assembled: env (MAGESHIP_ASSEMBLE) over the
// magefile's Config.Assemble over the build path's default. The host path defaults to
// AssembleDirect; the container path compiles inside BuildKit, so BuildKit assembles
// there too (AssembleBuildx), and asking for direct assembly on it is an error.
func assembler(env, cfg, build string) (string, error) {
	a := pick(env, cfg)
	switch a {
	case "":
		if build == BuildContainer {
			return AssembleBuildx, nil
		}
		return AssembleDirect, nil
	case AssembleDirect:
		if build == BuildContainer {
			return "", fmt.Errorf("%s=%s (or Config.Assemble) with %s=%s: the container path compiles inside BuildKit, which assembles its images; unset %s, or build on the host (%s=%s)", EnvAssemble, a, EnvBuild, BuildContainer, EnvAssemble, EnvBuild, BuildHost)
		}
		return a, nil
	case AssembleBuildx:
		return a, nil
	}
	return "", fmt.Errorf("unknown assembler %q (from %s or Config.Assemble): use %s (in-process, the default on the host path) or %s (docker buildx)", a, EnvAssemble, AssembleDirect, AssembleBuildx)
}
