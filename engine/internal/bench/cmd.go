package bench

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/platform"
)

// Cmd is one external command, computed before it runs: the program, its
// arguments, the directory it runs in and its whole environment.
type Cmd struct {
	Dir  string
	Name string
	Args []string
	Env  []string
}

// String is the command line, for logs and error messages.
func (c Cmd) String() string {
	return strings.Join(append([]string{c.Name}, c.Args...), " ")
}

// withEnv returns base with every variable named in kv ("NAME=value") removed,
// then kv appended in order. "NAME=" sets NAME to empty, which is not the same as
// leaving it out: the go command then ignores its go env -w value.
func withEnv(base []string, kv ...string) []string {
	drop := map[string]bool{}
	for _, s := range kv {
		k, _, _ := strings.Cut(s, "=")
		drop[k] = true
	}
	out := make([]string, 0, len(base)+len(kv))
	for _, s := range base {
		k, _, _ := strings.Cut(s, "=")
		if !drop[k] {
			out = append(out, s)
		}
	}
	return append(out, kv...)
}

// goSettings are the Go settings every contender's go command runs with.
type goSettings struct {
	// Proxy is the GOPROXY: the bench's counting proxy.
	Proxy string
	// Cache and ModCache are GOCACHE and GOMODCACHE; empty keeps base's.
	Cache, ModCache string
}

// goEnv lays s over base. Besides the proxy it pins what would otherwise make the
// contenders differ or reach past the proxy: no checksum database (go.sum is
// complete, so it would not be asked anyway), no VCS stamping (the builder image has
// no git), no toolchain switch, and no private-module settings.
func goEnv(base []string, s goSettings) []string {
	kv := []string{
		"GOPROXY=" + s.Proxy,
		"GOSUMDB=off",
		"GOFLAGS=-buildvcs=false",
		"GONOPROXY=", "GONOSUMDB=", "GOPRIVATE=", "GOINSECURE=",
		"GOTOOLCHAIN=local",
	}
	if s.Cache != "" {
		kv = append(kv, "GOCACHE="+s.Cache)
	}
	if s.ModCache != "" {
		kv = append(kv, "GOMODCACHE="+s.ModCache)
	}
	return withEnv(base, kv...)
}

// naiveDockerfile is the single-stage Dockerfile that tutorials show: the Go image,
// the whole source, go build, the binary run from there. The three ARGs are the only
// addition: they point the go command at the bench's counting proxy (and keep it
// from stamping VCS data, since .git is in the context and the image has no git).
func naiveDockerfile(builderImage, main, binary string) string {
	return "# The naive Dockerfile: one stage, the Go image, the whole source, go build.\n" +
		"FROM " + builderImage + "\n" +
		"ARG GOPROXY\n" +
		"ARG GOSUMDB\n" +
		"ARG GOFLAGS\n" +
		"WORKDIR /src\n" +
		"COPY . .\n" +
		"RUN go build -o /usr/local/bin/" + binary + " " + main + "\n" +
		"CMD [\"/usr/local/bin/" + binary + "\"]\n"
}

// naiveBuild is the buildx command that builds the naive Dockerfile for the host
// platform and loads the image into the Docker engine.
type naiveBuild struct {
	Builder    string // buildx builder
	Dockerfile string // path to the naive Dockerfile (outside the context)
	Context    string // the service's directory
	Tag        string // what the image is loaded as
	Platform   platform.Platform
	Proxy      string // GOPROXY for the RUN step
}

func (n naiveBuild) Cmd(base []string) Cmd {
	return Cmd{
		Dir:  n.Context,
		Name: "docker",
		Args: []string{"buildx", "build",
			"--builder", n.Builder,
			"--progress", "plain",
			"--platform", n.Platform.String(),
			"--file", n.Dockerfile,
			"--tag", n.Tag,
			"--load",
			"--build-arg", "GOPROXY=" + n.Proxy,
			"--build-arg", "GOSUMDB=off",
			"--build-arg", "GOFLAGS=-buildvcs=false",
			n.Context,
		},
		Env: withEnv(base, "BUILDX_BUILDER="+n.Builder),
	}
}

// pruneCmd empties the builder's whole cache: layers, pulled base images and cache
// mounts, so the next BuildKit build is cold.
func pruneCmd(builder string, base []string) Cmd {
	return Cmd{
		Name: "docker",
		Args: []string{"buildx", "prune", "--builder", builder, "--all", "--force"},
		Env:  withEnv(base, "BUILDX_BUILDER="+builder),
	}
}

// koModule is what go install builds for ko.
const koModule = "github.com/google/ko"

// koInstallCmd installs ko at version into gobin, from the module proxy base names.
func koInstallCmd(gobin, version string, base []string) Cmd {
	return Cmd{
		Dir:  gobin,
		Name: "go",
		Args: []string{"install", koModule + "@" + version},
		Env:  withEnv(base, "GOBIN="+gobin, "GOFLAGS=-buildvcs=false"),
	}
}

// koBuild is one ko build of one main package for every platform, pushed without a
// path suffix (--bare) to Repo.
type koBuild struct {
	Ko   string // the ko binary
	Dir  string // the service's directory, holding .ko.yaml
	Main string // ./cmd/hello
	// More are further main packages built and pushed by the same ko build, each to
	// <Repo>/<its last element> (--base-import-paths); with none, Main goes to Repo
	// itself (--bare).
	More      []string
	Repo      string // KO_DOCKER_REPO
	Base      string // KO_DEFAULTBASEIMAGE
	Platforms []platform.Platform
	Tag       string
}

// Cmd is ko build for k. SBOMs are off, as mageship's attestations are by default,
// so both push only the images; the registry is plain HTTP.
func (k koBuild) Cmd(goenv []string) Cmd {
	naming := "--bare"
	if len(k.More) > 0 {
		naming = "--base-import-paths"
	}
	return Cmd{
		Dir:  k.Dir,
		Name: k.Ko,
		Args: append([]string{"build",
			naming,
			"--platform=" + platform.Strings(k.Platforms),
			"--sbom=none",
			"--insecure-registry",
			"--tags=" + k.Tag,
			k.Main,
		}, k.More...),
		Env: withEnv(goenv,
			"KO_DOCKER_REPO="+k.Repo,
			"KO_DEFAULTBASEIMAGE="+k.Base,
			"KOCACHE=",
			"KO_CONFIG_PATH="+k.Dir,
		),
	}
}

// koConfig is the .ko.yaml that gives ko's build of main the floor's and mageship's
// linker flags (ko alone adds only -trimpath).
func koConfig(main, binary string) string {
	return "# ko's configuration for mageship's benchmark: the linker flags mageship and the floor use.\n" +
		"builds:\n" +
		"- id: " + binary + "\n" +
		"  main: " + main + "\n" +
		"  ldflags:\n" +
		"  - -s\n" +
		"  - -w\n" +
		"  - -X main.version=bench\n"
}

// koManyConfig is koConfig for several binaries, each cmd/<name>.
func koManyConfig(names []string) string {
	var b strings.Builder
	b.WriteString("# ko's configuration for mageship's benchmark: the linker flags mageship and the floor use.\nbuilds:\n")
	for _, n := range names {
		b.WriteString("- id: " + n + "\n  main: ./cmd/" + n + "\n  ldflags:\n  - -s\n  - -w\n  - -X main.version=bench\n")
	}
	return b.String()
}

// floorBuilds are the go builds of the floor: the same main package for every
// platform, static, stripped, into out/<os_arch>/<binary>.
func floorBuilds(dir, main, binary, out string, plats []platform.Platform) []gobuild.Build {
	var bs []gobuild.Build
	for _, p := range plats {
		bs = append(bs, gobuild.Build{
			Dir:        dir,
			Main:       main,
			Output:     filepath.Join(out, p.Dir(), binary),
			Platform:   p,
			VersionVar: "main.version",
			Version:    "bench",
		})
	}
	return bs
}

// floorCmds are the commands of floorBuilds, run in parallel.
func floorCmds(builds []gobuild.Build, goenv []string) []Cmd {
	var cs []Cmd
	for _, b := range builds {
		cs = append(cs, Cmd{Dir: b.Dir, Name: "go", Args: b.Args(), Env: b.Env(goenv)})
	}
	return cs
}

// mageCompileCmd compiles dir's magefile into out once, so that the timed runs do
// not include Mage compiling it.
func mageCompileCmd(dir, out string, base []string) Cmd {
	return Cmd{Dir: dir, Name: "go", Args: []string{"tool", "mage", "-compile", out}, Env: base}
}

// mageshipVars are the variables of mageship that the bench sets for a release, or
// clears so that the caller's environment does not choose for it.
var mageshipVars = []string{"MAGESHIP_BUILD", "MAGESHIP_ASSEMBLE", "MAGESHIP_CACHE_FROM", "MAGESHIP_CACHE_TO", "MAGESHIP_ONLY", "MAGESHIP_JOBS"}

// mageRelease is the release target of a service's magefile for one image.
type mageRelease struct {
	// Bin is the compiled magefile. Empty runs go tool mage release, which compiles
	// the magefile first, into MagefileCache.
	Bin           string
	MagefileCache string // MAGEFILE_CACHE for go tool mage; empty keeps base's
	EngineCache   string // MAGESHIP_CACHE_DIR (where the launcher keeps the engine); empty keeps base's
	Dir           string // the service's directory
	Image         string // MAGESHIP_IMAGE
	Platforms     []platform.Platform
	// Build is MAGESHIP_BUILD (host, container); empty leaves it unset: mageship's
	// default path.
	Build string
	// Assemble is MAGESHIP_ASSEMBLE (direct, buildx); empty leaves it unset: the
	// path's default.
	Assemble string
	Builder  string // BUILDX_BUILDER; empty keeps base's
	// CacheFrom and CacheTo are MAGESHIP_CACHE_FROM and MAGESHIP_CACHE_TO; empty
	// leaves them unset.
	CacheFrom, CacheTo string
	// Only is MAGESHIP_ONLY (the images to release, of those the magefile lists);
	// empty leaves it unset: every image.
	Only string
}

func (m mageRelease) Cmd(goenv []string) Cmd {
	kv := []string{
		"MAGESHIP_IMAGE=" + m.Image,
		"MAGESHIP_PLATFORMS=" + platform.Strings(m.Platforms),
		"MAGESHIP_ALLOW_DIRTY=",
		"VERSION=",
	}
	for _, e := range []struct{ name, val string }{
		{"MAGESHIP_BUILD", m.Build},
		{"MAGESHIP_ASSEMBLE", m.Assemble},
		{"MAGESHIP_CACHE_FROM", m.CacheFrom},
		{"MAGESHIP_CACHE_TO", m.CacheTo},
		{"BUILDX_BUILDER", m.Builder},
		{"MAGEFILE_CACHE", m.MagefileCache},
		{"MAGESHIP_CACHE_DIR", m.EngineCache},
		{"MAGESHIP_ONLY", m.Only},
	} {
		if e.val != "" {
			kv = append(kv, e.name+"="+e.val)
		}
	}
	c := Cmd{Dir: m.Dir, Name: m.Bin, Args: []string{"release"}, Env: withEnv(withoutEnv(goenv, mageshipVars...), kv...)}
	if m.Bin == "" {
		c.Name, c.Args = "go", []string{"tool", "mage", "release"}
	}
	return c
}

// withoutEnv returns base without the variables names.
func withoutEnv(base []string, names ...string) []string {
	var out []string
	for _, s := range base {
		k, _, _ := strings.Cut(s, "=")
		if !slices.Contains(names, k) {
			out = append(out, s)
		}
	}
	return out
}

// gitEnv is base with a fixed identity and no user or system git configuration.
func gitEnv(base []string) []string {
	return withEnv(base,
		"GIT_AUTHOR_NAME=mageship bench", "GIT_AUTHOR_EMAIL=bench@mageship.invalid",
		"GIT_COMMITTER_NAME=mageship bench", "GIT_COMMITTER_EMAIL=bench@mageship.invalid",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
}
