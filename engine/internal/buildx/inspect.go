package buildx

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/platform"
)

// Version returns the version of the buildx plugin, as `docker buildx version`
// prints it and with a leading "v", e.g. "v0.38.0" or "v0.24.0-desktop.1".
func Version(ctx context.Context, opts ...Option) (string, error) {
	r := newRunner(opts)
	var stdout bytes.Buffer
	tail := command.NewTail(stderrLines)
	if err := r.exec(ctx, "docker", []string{"buildx", "version"}, r.env, &stdout, tail); err != nil {
		return "", runError(ctx, "reading the buildx version", err, tail.String())
	}
	return parseVersion(stdout.String())
}

// parseVersion reads "github.com/docker/buildx v0.38.0 <revision>".
func parseVersion(out string) (string, error) {
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasSuffix(f[0], "buildx") {
			continue
		}
		v := f[1]
		if v[0] >= '0' && v[0] <= '9' {
			v = "v" + v
		}
		if len(v) < 2 || v[0] != 'v' || v[1] < '0' || v[1] > '9' {
			break
		}
		return v, nil
	}
	return "", fmt.Errorf("reading the buildx version: unexpected output %q: expected a line like \"github.com/docker/buildx v0.38.0 <revision>\"", strings.TrimSpace(out))
}

// Builder is a buildx builder as `docker buildx inspect` shows it.
type Builder struct {
	Name string
	// Driver is docker, docker-container, kubernetes or remote.
	Driver string
	// Error is set when buildx could not load the builder's nodes.
	Error string
	Nodes []Node
}

// Node is one BuildKit daemon of a builder.
type Node struct {
	Name     string
	Endpoint string
	// Status is running, inactive, stopped, ...; empty when Error is set.
	Status string
	// Error says why buildx could not reach the node.
	Error string
	// BuildKitVersion is the daemon's version, e.g. v0.25.1.
	BuildKitVersion string
	// Platforms are those the node builds for, in buildx's order.
	Platforms []NodePlatform
}

// NodePlatform is one platform of a node.
type NodePlatform struct {
	platform.Platform
	// Set means the platform was set with docker buildx create --platform (printed
	// with a trailing *) rather than detected from the daemon.
	Set bool
}

// Supports reports whether a reachable node of b builds for p. linux/arm64/v8
// and linux/arm64 are the same platform.
func (b Builder) Supports(p platform.Platform) bool {
	p = normalize(p)
	for _, n := range b.Nodes {
		if n.Error != "" {
			continue
		}
		for _, np := range n.Platforms {
			if normalize(np.Platform) == p {
				return true
			}
		}
	}
	return false
}

// Platforms lists the platforms of b's reachable nodes, first node first, each once.
func (b Builder) Platforms() []platform.Platform {
	var out []platform.Platform
	seen := map[platform.Platform]bool{}
	for _, n := range b.Nodes {
		if n.Error != "" {
			continue
		}
		for _, np := range n.Platforms {
			if p := normalize(np.Platform); !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// normalize applies the defaults buildx applies: arm64 is v8, arm is v7.
func normalize(p platform.Platform) platform.Platform {
	switch {
	case p.Arch == "arm64" && p.Variant == "v8":
		p.Variant = ""
	case p.Arch == "arm" && p.Variant == "":
		p.Variant = "v7"
	}
	return p
}

// MultiPlatform says why b cannot build plats into one image, or "" when it can. Only
// the docker driver is limited, and by the engine's image store: the classic store
// (graph drivers such as overlay2) holds one platform of an image, so the docker driver
// builds one platform at a time; with containerd's image store (containerdStore: the
// default of Docker Engine 29 and Docker Desktop, see daemon.Info.ContainerdStore) it
// builds, loads and pushes several.
func (b Builder) MultiPlatform(plats []platform.Platform, containerdStore bool) string {
	if len(plats) <= 1 || b.Driver != "docker" || containerdStore {
		return ""
	}
	return "the docker driver builds one platform at a time into the engine's classic image store"
}

// Attestations says why b cannot produce provenance and SBOM attestations, or ""
// when it can: BuildKit gained them in v0.11, and the docker driver's classic image
// store cannot hold them. A node whose version is unknown (a source build) is given
// the benefit of the doubt.
func (b Builder) Attestations() string {
	if b.Driver == "docker" {
		return "the docker driver"
	}
	for _, n := range b.Nodes {
		v := n.BuildKitVersion
		if semver.IsValid(v) && semver.Compare(v, "v0.0.1") > 0 && semver.Compare(v, "v0.11.0") < 0 {
			return "node " + n.Name + " runs BuildKit " + v
		}
	}
	return ""
}

// BuilderNotFoundError is returned when buildx has no builder of that name.
type BuilderNotFoundError struct {
	Name string
	// Err is the error of the docker command that reported it.
	Err error
}

func (e *BuilderNotFoundError) Error() string {
	return fmt.Sprintf("buildx builder %q not found: create it with docker buildx create --name %s, or unset BUILDX_BUILDER", e.Name, e.Name)
}

func (e *BuilderNotFoundError) Unwrap() error { return e.Err }

// noBuilder matches buildx's `ERROR: no builder "NAME" found`.
var noBuilder = regexp.MustCompile(`no builder "([^"]*)" found`)

func missingBuilder(stderr string) (string, bool) {
	m := noBuilder.FindStringSubmatch(stderr)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// inspectArgs returns the command line after `docker` that Inspect runs. The
// builder is bootstrapped, so that a builder not started yet shows the platforms
// it detects; an empty name inspects the one buildx would use.
func inspectArgs(builder string) []string {
	args := []string{"buildx", "inspect", "--bootstrap"}
	if builder != "" {
		args = append(args, builder)
	}
	return args
}

// Inspect runs `docker buildx inspect --bootstrap NAME` and returns the builder:
// its driver, nodes and their platforms. An empty name inspects the builder
// buildx would use (BUILDX_BUILDER, else the current one). Bootstrapping starts
// a docker-container builder that is not running yet.
func Inspect(ctx context.Context, builder string, opts ...Option) (Builder, error) {
	r := newRunner(opts)
	what := "inspecting the current buildx builder"
	if builder != "" {
		what = fmt.Sprintf("inspecting buildx builder %q", builder)
	}
	var stdout bytes.Buffer
	tail := command.NewTail(stderrLines)
	if err := r.exec(ctx, "docker", inspectArgs(builder), r.env, &stdout, tail); err != nil {
		if name, ok := missingBuilder(tail.String()); ok && ctx.Err() == nil {
			return Builder{}, &BuilderNotFoundError{Name: name, Err: err}
		}
		return Builder{}, runError(ctx, what, err, tail.String())
	}
	b, err := parseInspect(stdout.String())
	if err != nil {
		return Builder{}, fmt.Errorf("%s: %w", what, err)
	}
	if b.Error != "" {
		return b, fmt.Errorf("%s: %s: check the builder with docker buildx ls", what, b.Error)
	}
	return b, nil
}

// parseInspect reads the text `docker buildx inspect` prints: "Key: value" lines
// for the builder, then "Nodes:" and a block per node. Indented lines (labels,
// GC policy, files) are skipped.
func parseInspect(out string) (Builder, error) {
	var b Builder
	var node *Node
	inNodes := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		if !inNodes {
			switch key {
			case "Name":
				b.Name = value
			case "Driver":
				b.Driver = value
			case "Error":
				b.Error = value
			case "Nodes":
				inNodes = true
			}
			continue
		}
		if key == "Name" {
			b.Nodes = append(b.Nodes, Node{Name: value})
			node = &b.Nodes[len(b.Nodes)-1]
			continue
		}
		if node == nil {
			continue
		}
		switch key {
		case "Endpoint":
			node.Endpoint = value
		case "Status":
			node.Status = value
		case "Error":
			node.Error = value
		case "BuildKit version", "Buildkit": // "Buildkit" before buildx v0.13
			node.BuildKitVersion = value
		case "Platforms":
			ps, err := parsePlatforms(value)
			if err != nil {
				return Builder{}, fmt.Errorf("node %s: %w", node.Name, err)
			}
			node.Platforms = ps
		}
	}
	if err := sc.Err(); err != nil {
		return Builder{}, fmt.Errorf("reading docker buildx inspect output: %w", err)
	}
	if b.Name == "" {
		return Builder{}, fmt.Errorf("unexpected docker buildx inspect output, no builder name in %q", firstLines(out, 5))
	}
	return b, nil
}

// parsePlatforms reads "linux/amd64, linux/arm64*, linux/arm/v7". It accepts any
// os/arch[/variant] a node reports, including those mageship does not build for.
func parsePlatforms(s string) ([]NodePlatform, error) {
	var out []NodePlatform
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		np := NodePlatform{}
		if strings.HasSuffix(f, "*") {
			np.Set = true
			f = strings.TrimSuffix(f, "*")
		}
		parts := strings.Split(f, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("unexpected platform %q in docker buildx inspect output: expected os/arch[/variant]", f)
		}
		np.OS, np.Arch = parts[0], parts[1]
		if len(parts) == 3 {
			np.Variant = parts[2]
		}
		out = append(out, np)
	}
	return out, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
