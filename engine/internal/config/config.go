package config

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/mageship/mageship/engine/internal/buildfile"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/project"
)

// Defaults that no repository implies.
const (
	DefaultDebugImage      = "alpine:3.22"
	DefaultDistrolessImage = "gcr.io/distroless/static-debian12:nonroot"
	DefaultVersionVar      = "main.version"
	DefaultUser            = "65534:65534"
	// Distroless, as an Image.Runtime, names the distroless static base (DistrolessImage).
	Distroless = "distroless"
	// Scratch, as an Image.Runtime or RuntimeImage, names the empty base (FROM scratch);
	// it is the one definition, which the dockerfile package renders from.
	Scratch = "scratch"
)

// DefaultPlatforms are the release platforms when neither MAGESHIP_PLATFORMS nor
// Config.Platforms names any.
var DefaultPlatforms = []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}

// Environment variables that override the configuration.
const (
	EnvImage           = "MAGESHIP_IMAGE"
	EnvPlatforms       = "MAGESHIP_PLATFORMS"
	EnvBuilderImage    = "MAGESHIP_BUILDER_IMAGE"
	EnvRuntimeImage    = "MAGESHIP_RUNTIME_IMAGE"
	EnvDebugImage      = "MAGESHIP_DEBUG_IMAGE"
	EnvDistrolessImage = "MAGESHIP_DISTROLESS_IMAGE"
	EnvBuilder         = "BUILDX_BUILDER"
	EnvTemplate        = "MAGESHIP_TEMPLATE"
	EnvBuild           = "MAGESHIP_BUILD"
	// EnvAssemble chooses how host-built images are assembled (Config.Assemble).
	EnvAssemble   = "MAGESHIP_ASSEMBLE"
	EnvSBOM       = "MAGESHIP_SBOM"
	EnvOnly       = "MAGESHIP_ONLY"
	EnvJobs       = "MAGESHIP_JOBS"
	EnvCosignKey  = "MAGESHIP_COSIGN_KEY"
	EnvCosignTlog = "MAGESHIP_COSIGN_TLOG"
	// EnvDist is mageship's output directory (binaries, SHA256SUMS, release.json,
	// digests/), relative to the module root or absolute; default DefaultDist.
	EnvDist = "MAGESHIP_DIST"
	// EnvDockerfile is where mage dockerfile writes the rendered Dockerfile, relative to
	// the module root or absolute; {binary} in it is replaced by each image's binary
	// (required with several images). Default Dockerfile, or {binary}.Dockerfile for
	// several images.
	EnvDockerfile = "MAGESHIP_DOCKERFILE"
)

// DefaultDist is mageship's output directory, relative to the module root.
const DefaultDist = "dist"

// Where go build runs (Config.Build, MAGESHIP_BUILD).
const (
	// BuildHost compiles on the machine mage runs on, with its Go caches, and has
	// BuildKit only assemble the images from the binaries. The default.
	BuildHost = "host"
	// BuildContainer compiles inside BuildKit, in a build stage on $BUILDPLATFORM: the
	// Dockerfile that mage dockerfile ejects.
	BuildContainer = "container"
)

// How host-built images are assembled (Config.Assemble, MAGESHIP_ASSEMBLE).
const (
	// AssembleDirect assembles and pushes in-process with go-containerregistry; no
	// Docker engine or buildx is needed to release. The default on the host path.
	AssembleDirect = "direct"
	// AssembleBuildx has BuildKit copy the prebuilt files onto the base (docker buildx).
	AssembleBuildx = "buildx"
)

// Config is what the magefile set with config.Set (github.com/mageship/mageship/pkg/config),
// as the targets send it to the engine: the same fields, decoded from JSON. Every field
// is optional; the public package documents each one.
type Config struct {
	Images          []Image
	Platforms       []string // release platforms; default linux/amd64, linux/arm64
	Build           string   // where go build runs: BuildHost (default) or BuildContainer
	BuilderImage    string   // Go builder image; default golang:<go.mod major.minor>-alpine
	RuntimeImage    string   // production base for images that set no Runtime; default scratch
	DebugImage      string   // debug base; default alpine:3.22
	DistrolessImage string   // what Runtime "distroless" means; default gcr.io/distroless/static-debian12:nonroot
	Builder         string   // buildx builder; BUILDX_BUILDER wins; default: buildx's current builder
	Template        string   // path to your own Dockerfile template, relative to the module root
	Source          string   // org.opencontainers.image.source; default: the git origin remote as https, else a forge module path's repository (project.Source)
	Assemble        string   // host path's assembler: AssembleDirect (default) or AssembleBuildx (MAGESHIP_ASSEMBLE)
}

// File is a repository file or directory copied into the image (Image.Files).
type File struct {
	From string // relative to the module root
	To   string // absolute path in the image
}

// Image is one image: one main package, one binary.
type Image struct {
	Name       string   // repository, e.g. ghcr.io/acme/hello; default: the binary's name (local only)
	Main       string   // main package, e.g. ./cmd/hello; default: the only one in the module
	Binary     string   // binary name; default: go build's name for Main (its last element, before any /vN)
	Ports      []int    // EXPOSEd; the first is the smoke test's port
	VersionVar string   // -X target for the version; default: detected (see versionVar); "-" for none
	Runtime    string   // "scratch", "distroless" or an image; default Config.RuntimeImage
	Tags       []string // go build tags
	User       string   // runtime and debug user; default 65534:65534
	Health     string   // HTTP path the smoke test probes on the first port; default /healthz; "-" for none
	// HealthTimeout is how long the smoke test waits for a 200; default 60s.
	HealthTimeout time.Duration
	MaxBytes      int64 // size budget of the production image, uncompressed; 0 for none

	Args       []string          // the image's CMD, after the entrypoint
	Env        []string          // KEY=value, in the image config
	WorkDir    string            // absolute; created and owned by User
	Volumes    []string          // absolute; created and owned by User, declared as volumes
	Files      []File            // repository files copied into the image, owned by root
	Also       []string          // other main packages built beside the entrypoint into /usr/local/bin/
	HealthPort int               // the port image:test probes; default the first of Ports
	Labels     map[string]string // extra OCI labels; ours cannot be overridden
	Ldflags    []string          // extra -ldflags, templated (version, tag, commit, short commit, branch, date)
}

// Resolved is a configuration with every field filled and checked.
type Resolved struct {
	Project   project.Project
	Images    []ResolvedImage
	Platforms []platform.Platform
	Build     string // BuildHost or BuildContainer
	Assemble  string // AssembleDirect or AssembleBuildx (assembler)
	// Env is the environment, as the target read it once, that every child process
	// (go, git, docker, cosign) gets.
	Env        []string
	SBOM       bool   // attach an SPDX SBOM to every released platform image (MAGESHIP_SBOM, default on)
	Jobs       int    // image builds run at once (MAGESHIP_JOBS, default: the number of CPUs, at least 2)
	CosignKey  string // sign released indexes with this cosign key file or KMS URI (MAGESHIP_COSIGN_KEY); "" for none
	CosignTlog bool   // upload signatures to the transparency log (MAGESHIP_COSIGN_TLOG, default off)
	// Settings are the time images record, the attestations and the build cache,
	// read here once (buildsettings.go).
	Settings     BuildSettings
	BuilderImage string
	DebugImage   string
	Builder      string // empty: let buildx choose (BUILDX_BUILDER or its current builder)
	Template     string // path of the user's own template, relative to the module root; "" for mageship's
	Source       string
	// Dist is mageship's output directory, absolute (MAGESHIP_DIST; default <module root>/dist).
	Dist string
	// Dockerfile is where mage dockerfile writes, absolute; {binary} stands for each
	// image's binary (see DockerfilePath).
	Dockerfile string
	// DefaultTemplate and DefaultIgnore are mageship's Dockerfile.tmpl and .dockerignore,
	// which the targets embed and send with every request.
	DefaultTemplate string
	DefaultIgnore   string
	// Warnings are what the repository left to guess, one line each naming the fix,
	// for the pipelines to print before they build.
	Warnings []string
}

// ResolvedImage is an Image with its defaults applied.
type ResolvedImage struct {
	Image
	RuntimeImage string // the base image reference (Runtime resolved)
	NameSet      bool   // Name came from code or MAGESHIP_IMAGE, not from the binary's name
	// Release is the build of the service's release-build file (goreleaser, ko,
	// promu) for this image (see buildfile.go); nil for none.
	Release *buildfile.Build
	// Stamp is Release or Image.Ldflags rendered for this version, which the build
	// steps fill in (variant.Stamp) before go build runs.
	Stamp gobuild.Stamp

	// The runtime fields, checked (runtime.go).
	Copies []Copy  // Files, with their host paths
	Extras []Extra // Also, with their binaries' names
}

// Resolve applies env over c over what p implies, and validates everything.
// getenv is os.Getenv in production.
func Resolve(p project.Project, c Config, getenv func(string) string) (Resolved, error) {
	r := Resolved{Project: p, Template: pick(getenv(EnvTemplate), c.Template), Builder: c.Builder}
	if err := checkCgoEnv(getenv); err != nil {
		return Resolved{}, err
	}
	if getenv(EnvBuilder) != "" {
		r.Builder = "" // buildx reads BUILDX_BUILDER itself
	}

	// The platforms are parsed here, once; everything below takes r.Platforms as it
	// is, and only buildx.Build.Args formats them again, for --platform.
	var err error
	r.Platforms = slices.Clone(DefaultPlatforms)
	fields := c.Platforms
	if v := getenv(EnvPlatforms); v != "" {
		fields = strings.Split(v, ",")
	}
	if len(fields) > 0 {
		if r.Platforms, err = platform.ParseList(fields); err != nil {
			return Resolved{}, fmt.Errorf("%w (from %s or Config.Platforms)", err, EnvPlatforms)
		}
	}

	switch r.Build = pick(getenv(EnvBuild), c.Build, BuildHost); r.Build {
	case BuildHost, BuildContainer:
	default:
		return Resolved{}, fmt.Errorf("unknown build path %q (from %s or Config.Build): use %s (compile on this machine, the default) or %s (compile inside BuildKit)", r.Build, EnvBuild, BuildHost, BuildContainer)
	}
	if r.Assemble, err = assembler(getenv(EnvAssemble), c.Assemble, r.Build, r.Template); err != nil {
		return Resolved{}, err
	}
	if r.Dist, err = dist(p.Dir, getenv(EnvDist)); err != nil {
		return Resolved{}, err
	}
	if r.SBOM, err = onOff(EnvSBOM, getenv(EnvSBOM), true); err != nil {
		return Resolved{}, err
	}
	if r.CosignTlog, err = onOff(EnvCosignTlog, getenv(EnvCosignTlog), false); err != nil {
		return Resolved{}, err
	}
	r.CosignKey = getenv(EnvCosignKey)
	r.Jobs = max(runtime.NumCPU(), 2) // production and debug of one image share a build stage
	if v := getenv(EnvJobs); v != "" {
		if r.Jobs, err = strconv.Atoi(v); err != nil || r.Jobs < 1 {
			return Resolved{}, fmt.Errorf("%s=%s: give the number of image builds to run at once, 1 or more", EnvJobs, v)
		}
	}
	r.BuilderImage = pick(getenv(EnvBuilderImage), c.BuilderImage, "golang:"+p.MinorGo()+"-alpine")
	if p.GoVersion == "" && r.BuilderImage == "golang:-alpine" {
		return Resolved{}, fmt.Errorf("go.mod has no go directive: add one (go mod edit -go=1.26) or set %s", EnvBuilderImage)
	}
	r.DebugImage = pick(getenv(EnvDebugImage), c.DebugImage, DefaultDebugImage)
	distroless := pick(getenv(EnvDistrolessImage), c.DistrolessImage, DefaultDistrolessImage)
	runtimeEnv := getenv(EnvRuntimeImage)
	r.Source = pick(c.Source, p.Source())

	rf, warnings, err := readReleaseFile(p, getenv)
	if err != nil {
		return Resolved{}, err
	}
	r.Warnings = append(r.Warnings, warnings...)
	images := c.Images
	if len(images) == 0 {
		images = rf.images()
	}
	if len(images) == 0 {
		if len(p.Mains) == 0 {
			return Resolved{}, fmt.Errorf("no main package in %s: put one under cmd/<name>/ or at the module root, or set Image.Main in your magefile", p.Dir)
		}
		if len(p.Mains) > 1 {
			var names []string
			for _, m := range p.Mains {
				names = append(names, m.Package)
			}
			return Resolved{}, fmt.Errorf("several main packages (%s): list the images to ship in config.Set(config.Config{Images: ...}) in your magefile", strings.Join(names, ", "))
		}
		images = []Image{{}}
	}
	envImage := getenv(EnvImage)
	if envImage != "" {
		if ref, err := name.ParseReference(envImage, name.WeakValidation); err == nil && ref.Identifier() != "latest" || strings.Contains(envImage, "@") {
			return Resolved{}, fmt.Errorf("%s=%s names a tag or digest: give the repository only (the tags come from the version, which VERSION overrides)", EnvImage, envImage)
		}
	}
	seen := map[string]int{}
	mains := mainsLeft(p, images) // a main that an image ships through Also is not a default
	for i, img := range images {
		ri := ResolvedImage{Image: img}
		if ri.Main == "" {
			switch {
			case len(mains) == 0:
				return Resolved{}, fmt.Errorf("no main package in %s: put one under cmd/<name>/ or at the module root, or set Image.Main in your magefile", p.Dir)
			case len(mains) > 1:
				var names []string
				for _, m := range mains {
					names = append(names, m.Package)
				}
				return Resolved{}, fmt.Errorf("several main packages (%s) and image %d names none: set Image.Main, e.g. %s", strings.Join(names, ", "), i+1, names[0])
			}
			ri.Main = mains[0].Package
		}
		if !strings.HasPrefix(ri.Main, ".") {
			ri.Main = "./" + ri.Main
		}
		ri.Main = "./" + path.Clean(ri.Main)
		if ri.Main == "./." {
			ri.Main = "."
		}
		if err := p.CheckMain(ri.Main); err != nil {
			return Resolved{}, err
		}
		if err := rf.apply(&ri, r.Build, getenv); err != nil {
			return Resolved{}, err
		}
		if ri.Binary == "" {
			ri.Binary = project.ExecName(p.ImportPath(ri.Main))
		}
		ri.NameSet = ri.Name != "" || envImage != ""
		if ri.Name == "" {
			ri.Name = sanitize(ri.Binary)
		}
		if envImage != "" {
			if len(images) == 1 {
				ri.Name = envImage
			} else {
				ri.Name = strings.TrimSuffix(envImage, "/") + "/" + path.Base(ri.Name)
			}
		}
		if _, err := name.NewRepository(ri.Name, name.WeakValidation); err != nil {
			return Resolved{}, fmt.Errorf("invalid image repository %q: %v; use lowercase letters, digits and . _ - /, e.g. ghcr.io/acme/%s (set by Image.Name or %s)", ri.Name, stripPrefix(err), sanitize(ri.Binary), EnvImage)
		}
		if j, dup := seen[ri.Name]; dup {
			return Resolved{}, fmt.Errorf("images %d and %d are both named %q: give each image its own Name", j+1, i+1, ri.Name)
		}
		seen[ri.Name] = i
		var warning string
		if ri.VersionVar, warning = rf.versionVar(p, ri); warning != "" {
			r.Warnings = append(r.Warnings, warning)
		}
		if w := detect(p, &ri, r.Build); w != "" {
			r.Warnings = append(r.Warnings, w)
		}
		if ri.User == "" {
			ri.User = DefaultUser
		}
		if ri.Health == "" {
			ri.Health = "/healthz"
		}
		if ri.HealthTimeout <= 0 {
			ri.HealthTimeout = 60 * time.Second
		}
		if ri.Health != "-" && !strings.HasPrefix(ri.Health, "/") {
			return Resolved{}, fmt.Errorf("image %s: health path %q must start with /, e.g. /healthz, or be - for no probe", ri.Name, ri.Health)
		}
		for _, port := range ri.Ports {
			if port < 1 || port > 65535 {
				return Resolved{}, fmt.Errorf("image %s: invalid port %d: ports are 1 to 65535", ri.Name, port)
			}
		}
		rt := pick(runtimeEnv, img.Runtime, c.RuntimeImage, Scratch)
		switch rt {
		case Distroless:
			rt = distroless
		}
		ri.RuntimeImage = rt
		if err := resolveRuntime(p, &ri); err != nil {
			return Resolved{}, err
		}
		r.Images = append(r.Images, ri)
	}
	if r.Images, err = only(r.Images, getenv(EnvOnly)); err != nil {
		return Resolved{}, err
	}
	if r.Dockerfile, err = dockerfilePath(p.Dir, getenv(EnvDockerfile), len(r.Images)); err != nil {
		return Resolved{}, err
	}
	if r.Settings, err = buildSettings(getenv); err != nil {
		return Resolved{}, err
	}
	return r, nil
}

// dist resolves MAGESHIP_DIST (v) against the module root.
func dist(root, v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		v = DefaultDist
	}
	d := v
	if !filepath.IsAbs(d) {
		d = filepath.Join(root, d)
	}
	d = filepath.Clean(d)
	// root relative to d: "." or a path down from d when d is the root or above it.
	if rel, err := filepath.Rel(d, root); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s=%s is the module root or a directory above it: name a directory of its own for mageship's output, e.g. %s=%s", EnvDist, v, EnvDist, DefaultDist)
	}
	return d, nil
}

// dockerfilePath resolves MAGESHIP_DOCKERFILE (v) against the module root, for n images.
func dockerfilePath(root, v string, n int) (string, error) {
	p := v
	switch {
	case strings.TrimSpace(v) == "" && n > 1:
		p = "{binary}.Dockerfile"
	case strings.TrimSpace(v) == "":
		p = "Dockerfile"
	case strings.HasSuffix(v, "/") || strings.HasSuffix(v, string(filepath.Separator)) || filepath.Clean(v) == "." || filepath.Base(v) == "..":
		return "", fmt.Errorf("%s=%s names a directory: name the file, e.g. %s=Dockerfile.mageship", EnvDockerfile, v, EnvDockerfile)
	case n > 1 && !strings.Contains(v, "{binary}"):
		return "", fmt.Errorf("%s=%s names one file for %d images: put {binary} in it, e.g. %s=docker/{binary}.Dockerfile", EnvDockerfile, v, n, EnvDockerfile)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	return filepath.Clean(p), nil
}

// DockerfilePath is where mage dockerfile writes img's Dockerfile.
func (r Resolved) DockerfilePath(img ResolvedImage) string {
	return strings.ReplaceAll(r.Dockerfile, "{binary}", img.Binary)
}

// Image returns the image whose Name or Binary is n.
func (r Resolved) Image(n string) (ResolvedImage, error) {
	var names []string
	for _, img := range r.Images {
		if img.Name == n || img.Binary == n {
			return img, nil
		}
		names = append(names, img.Binary)
	}
	return ResolvedImage{}, fmt.Errorf("no image %q: configured images are %s", n, strings.Join(names, ", "))
}

// only keeps the images MAGESHIP_ONLY names (a comma list of binaries or image
// names); empty keeps them all.
func only(images []ResolvedImage, list string) ([]ResolvedImage, error) {
	if strings.TrimSpace(list) == "" {
		return images, nil
	}
	var out []ResolvedImage
	var all []string
	for _, img := range images {
		all = append(all, img.Binary)
	}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, img := range images {
			if n == img.Binary || n == img.Name {
				if !slices.ContainsFunc(out, func(o ResolvedImage) bool { return o.Name == img.Name }) {
					out = append(out, img)
				}
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s=%s: no image %q; the images are %s", EnvOnly, list, n, strings.Join(all, ", "))
		}
	}
	return out, nil
}

// onOff reads a switch: "", on, 1, true, off, 0, false.
func onOff(name, v string, def bool) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "on", "1", "true":
		return true, nil
	case "off", "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("%s=%s: use on or off", name, v)
}

func pick(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

var invalidRepoChars = regexp.MustCompile(`[^a-z0-9._/-]+`)

func sanitize(s string) string {
	return strings.Trim(invalidRepoChars.ReplaceAllString(strings.ToLower(s), "-"), "-._/")
}

func stripPrefix(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
