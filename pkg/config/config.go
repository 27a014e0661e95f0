package config

import (
	"sync"
	"time"
)

// Names for Image.Runtime.
const (
	// Distroless names the distroless static base (Config.DistrolessImage).
	Distroless = "distroless"
	// Scratch names the empty base; it is the default.
	Scratch = "scratch"
)

// Config is what a magefile may set; every field is optional, and the environment
// overrides each one (see the README).
type Config struct {
	Images          []Image  // one per binary to ship; default: the module's only main package
	Platforms       []string // release platforms; default linux/amd64, linux/arm64 (MAGESHIP_PLATFORMS)
	Build           string   // where go build runs: "host" (default) or "container" (MAGESHIP_BUILD)
	BuilderImage    string   // Go builder image of the container build; default golang:<go.mod major.minor>-alpine
	RuntimeImage    string   // production base for images that set no Runtime; default scratch
	DebugImage      string   // debug base; default alpine:3.22
	DistrolessImage string   // what Runtime "distroless" means; default gcr.io/distroless/static-debian12:nonroot
	Builder         string   // buildx builder; BUILDX_BUILDER wins; default: buildx's current builder
	Template        string   // path to your own Dockerfile template, relative to the module root
	Source          string   // org.opencontainers.image.source; default: the git origin remote (https), else a forge module path cut to host/owner/repo
	Assemble        string   // how host-built images are assembled: "direct" (default, in-process) or "buildx" (MAGESHIP_ASSEMBLE)
}

// File is a file or directory of the repository copied into the image (Image.Files).
type File struct {
	From string // a file or directory of the repository, relative to the module root
	To   string // an absolute path in the image
}

// Image is one image: one main package, one binary.
type Image struct {
	Name       string   // repository, e.g. ghcr.io/acme/hello; default: the binary's name (local only)
	Main       string   // main package, e.g. ./cmd/hello; default: the only one in the module
	Binary     string   // binary name; default: base of Main
	Ports      []int    // EXPOSEd; the first is the smoke test's port
	VersionVar string   // -X target for the version; default main.version; "-" for none
	Runtime    string   // Scratch, Distroless or an image reference; default Config.RuntimeImage
	Tags       []string // go build tags
	User       string   // runtime and debug user; default 65534:65534
	Health     string   // HTTP path the smoke test probes on the first port; default /healthz; "-" for none
	// HealthTimeout is how long the smoke test waits for a 200; default 60s.
	HealthTimeout time.Duration
	MaxBytes      int64 // size budget of the production image, uncompressed; 0 for none

	Args       []string          // the image's CMD, after the entrypoint
	Env        []string          // KEY=value, in the image config
	WorkDir    string            // absolute; created and owned by User
	Volumes    []string          // absolute paths, created and owned by User, declared as volumes
	Files      []File            // repository files copied into the image, owned by root
	Also       []string          // other main packages whose binaries go beside the entrypoint in /usr/local/bin/
	HealthPort int               // the port image:test probes; default the first of Ports
	Labels     map[string]string // extra OCI labels; mageship's own cannot be overridden
	Ldflags    []string          // extra -ldflags, templated: {{.Version}} {{.Tag}} {{.Commit}} {{.ShortCommit}} {{.Branch}} {{.Date}}
}

var (
	mu      sync.Mutex
	current Config
)

// Set records the magefile's configuration; call it from init().
func Set(c Config) {
	mu.Lock()
	defer mu.Unlock()
	current = c
}

// Get returns what Set recorded.
func Get() Config {
	mu.Lock()
	defer mu.Unlock()
	return current
}
