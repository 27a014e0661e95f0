package config

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/buildfile"
	"github.com/mageship/mageship/engine/internal/project"
)

// EnvKoConfigPath is ko's own variable naming its .ko.yaml (a file or a directory).
const EnvKoConfigPath = "KO_CONFIG_PATH"

// releaseFile is the service's release-build file (goreleaser, ko or promu), as
// Resolve merges it into the images: it sits between what the repository implies
// and what the magefile sets.
type releaseFile struct {
	file   *buildfile.File
	module string
	env    map[string]string // the variables its templates name, from getenv
}

// readReleaseFile reads the module's release-build file, if any, and the warnings it
// gives: what it states that mageship leaves out, and the other files found.
func readReleaseFile(p project.Project, getenv func(string) string) (releaseFile, []string, error) {
	rf := releaseFile{module: p.Module, env: map[string]string{}}
	f, others, err := buildfile.Read(p.Dir, getenv(buildfile.EnvReleaseFile), getenv(EnvKoConfigPath), project.ExecName(p.Module))
	if err != nil || f == nil {
		return rf, nil, err
	}
	rf.file = f
	var warnings []string
	if len(f.Left) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s: left out: %s", f.Path, strings.Join(f.Left, "; ")))
	}
	if len(others) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s states how the binaries are built; %s not read", f.Path, strings.Join(others, ", ")))
	}
	for _, b := range f.Builds {
		for _, ts := range [][]buildfile.Text{b.Ldflags, b.Flags, b.Env} {
			for _, t := range ts {
				rf.readEnv([]string{t.S}, getenv)
			}
		}
	}
	return rf, warnings, nil
}

// readEnv records the variables that the templates ts name, as getenv has them.
func (rf releaseFile) readEnv(ts []string, getenv func(string) string) {
	for _, t := range ts {
		for _, m := range envRef.FindAllStringSubmatch(t, -1) {
			if v := getenv(m[1] + m[2]); v != "" {
				rf.env[m[1]+m[2]] = v
			}
		}
	}
}

// envRef finds the environment variables a template names: .Env.NAME (group 1),
// envOrDefault "NAME" or isEnvSet "NAME" (group 2).
var envRef = regexp.MustCompile(`\.Env\.([A-Za-z_][A-Za-z0-9_]*)|(?:envOrDefault|isEnvSet)\s+"([A-Za-z_][A-Za-z0-9_]*)"`)

// images are the file's builds as images, when the magefile lists none: one per main
// package and binary, in the file's order.
func (rf releaseFile) images() []Image {
	if rf.file == nil {
		return nil
	}
	var out []Image
	for _, b := range rf.file.Builds {
		img := Image{Main: rf.main(b.Main), Binary: b.Binary}
		if !slices.ContainsFunc(out, func(o Image) bool { return o.Main == img.Main && o.Binary == img.Binary }) {
			out = append(out, img)
		}
	}
	return out
}

// main is a build's main as a directory of the module: ko names it by import path.
func (rf releaseFile) main(m string) string {
	switch {
	case m == rf.module:
		return "."
	case strings.HasPrefix(m, rf.module+"/"):
		return "./" + strings.TrimPrefix(m, rf.module+"/")
	}
	return m
}

// apply merges the file's build of ri's main package (and binary) into ri: the
// binary's name and the build tags where the magefile set none, and the build itself
// (ri.Release), checked now so that an unsupported template stops the run before
// anything is built. build is Resolved.Build.
func (rf releaseFile) apply(ri *ResolvedImage, build string, getenv func(string) string) error {
	if len(ri.Ldflags) > 0 {
		rf.readEnv(ri.Ldflags, getenv)
		if _, err := buildfile.Ldflags(ri.Ldflags, buildfile.Example(rf.env, rf.module)); err != nil {
			return fmt.Errorf("image %s: %w", ri.Main, err)
		}
		if build == BuildContainer {
			return fmt.Errorf("image %s: Image.Ldflags are not carried by the container build path: build on this machine (%s=%s, the default)", ri.Main, EnvBuild, BuildHost)
		}
	}
	if rf.file == nil {
		return nil
	}
	var match *buildfile.Build
	for i, b := range rf.file.Builds {
		m := rf.main(b.Main)
		if !strings.HasPrefix(m, ".") {
			return fmt.Errorf("%s:%d: main %s is not a package of module %s: name it ./cmd/<name> or by the module's import path", b.File, b.Line, b.Main, rf.module)
		}
		if "./"+path.Clean(m) == ri.Main || m == ri.Main {
			if match == nil || ri.Binary != "" && b.Binary == ri.Binary && match.Binary != ri.Binary {
				match = &rf.file.Builds[i]
			}
		}
	}
	if match == nil {
		return nil
	}
	if err := match.Check(buildfile.Example(rf.env, rf.module)); err != nil {
		return err
	}
	if build == BuildContainer {
		return fmt.Errorf("image %s: %s states how its binary is built (ldflags, flags, env), which the container build path does not carry: build on this machine (%s=%s, the default)", ri.Main, match.File, EnvBuild, BuildHost)
	}
	if ri.Binary == "" {
		ri.Binary = match.Binary
	}
	if len(ri.Tags) == 0 {
		ri.Tags = slices.Clone(match.Tags)
	}
	ri.Release = match
	return nil
}

// versionVar is versionVar (the variable -X stamps the version into, and a warning),
// except for an image built as its release-build file says, with no VersionVar set:
// then it is the variable the file's ldflags stamp the version into. When
// Image.Ldflags replace the file's ldflags, versionVar applies.
func (rf releaseFile) versionVar(p project.Project, ri ResolvedImage) (string, string) {
	if ri.Release == nil || ri.VersionVar != "" || len(ri.Ldflags) > 0 {
		return versionVar(p, ri)
	}
	if v := ri.Release.VersionVar(buildfile.Example(rf.env, rf.module)); v != "" {
		// goreleaser's default ldflags stamp main.version whether or not the main
		// package declares it; -X then does nothing, and the build goes on, as it does
		// under goreleaser: the binary just carries no version.
		if why, err := p.CheckVersionVar(ri.Main, ri.Tags, v); err == nil && why != "" {
			return "", fmt.Sprintf("image %s: %s:%d stamps the version into %s, which %s, so the binary carries none: declare it (var version string), or set Image.VersionVar", ri.Name, ri.Release.File, ri.Release.Line, v, why)
		}
		return v, ""
	}
	return "", fmt.Sprintf("image %s: %s:%d builds it with ldflags that stamp no version (no -X NAME={{.Version}}), so the binary carries none: add one there, or set Image.VersionVar", ri.Name, ri.Release.File, ri.Release.Line)
}

// detect adds to an image that no release-build file builds the -X of the commit, date
// and other build variables its binary links (project.BuildVars), as Image.Ldflags
// templates, on the host build path. The container path's Dockerfile stamps the
// version alone: there it says so instead.
func detect(p project.Project, ri *ResolvedImage, build string) string {
	if ri.Release != nil || len(ri.Ldflags) > 0 {
		return ""
	}
	vars, err := p.BuildVars(ri.Main, ri.Tags, ri.VersionVar)
	if err != nil || len(vars) == 0 {
		return ""
	}
	if build == BuildContainer {
		var names []string
		for _, v := range vars {
			names = append(names, v[0])
		}
		return fmt.Sprintf("image %s: %s stay empty on the container build path, which stamps the version alone: build on this machine (%s=%s, the default) to stamp them", ri.Name, strings.Join(names, ", "), EnvBuild, BuildHost)
	}
	for _, v := range vars {
		ri.Ldflags = append(ri.Ldflags, "-X "+v[0]+"="+factTemplate(v[0], v[1]))
	}
	return ""
}

// factTemplate is the template of a fact for variable v: Prometheus' BuildDate in
// promu's layout, other dates in RFC 3339 (goreleaser's {{.Date}}).
func factTemplate(v, fact string) string {
	switch fact {
	case project.FactCommit:
		return "{{.Commit}}"
	case project.FactBranch:
		return "{{.Branch}}"
	case project.FactUser:
		return buildfile.Fixed + "@" + buildfile.Fixed
	}
	if strings.HasPrefix(v, project.PrometheusVersion+".") {
		return `{{ time "20060102-15:04:05" }}`
	}
	return "{{.Date}}"
}
