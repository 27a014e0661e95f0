package variant

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/dockerfile"
	"github.com/mageship/mageship/engine/internal/version"
)

// Kind is which image of a binary to build.
type Kind int

const (
	// Production is the runtime stage: scratch (or distroless) and the binary.
	Production Kind = iota
	// Debug is the debug stage: the same binary on a base with a shell.
	Debug
)

func (v Kind) String() string {
	if v == Debug {
		return "debug"
	}
	return "production"
}

func (v Kind) target() string {
	if v == Debug {
		return "debug"
	}
	return "runtime"
}

// goEnvNames are the Go settings of the caller that reach the build stage.
var goEnvNames = []string{"GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOFLAGS"}

// goEnv reads the caller's Go module settings as the go command sees them (environment
// and go env -w), falling back to the environment alone when go cannot be run.
func goEnv(ctx context.Context, env []string, getenv func(string) string) map[string]string {
	out := map[string]string{}
	if b, err := command.Output(ctx, command.Cmd{Name: "go", Args: append([]string{"env", "-json"}, goEnvNames...), Env: env}); err == nil {
		var m map[string]string
		if json.Unmarshal(b, &m) == nil {
			for k, v := range m {
				if v != "" {
					out[k] = v
				}
			}
			return out
		}
	}
	for _, k := range goEnvNames {
		if v := getenv(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// netrc returns the .netrc to hand to the build as a secret, if there is one.
func netrc(getenv func(string) string) string {
	p := getenv("NETRC")
	if p == "" {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, ".netrc")
		}
	}
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	return ""
}

// Spec is one computed image build: everything needed to run it, nothing run yet.
type Spec struct {
	Image      config.ResolvedImage
	Variant    Kind
	Dockerfile string // rendered text
	Ignore     string // .dockerignore to place beside the Dockerfile; "" when the context has its own
	Build      buildx.Build
	// Assemble is who assembles the image: config.AssembleDirect (in-process, from
	// Build's context, platforms and build args: assembleDirect) or buildx (Build run).
	Assemble string
	// Base is the variant's base image: the image's RuntimeImage, or the DebugImage.
	Base string
}

// Env is what a build stage reads from outside: the Go settings and .netrc.
type Env struct {
	goEnv map[string]string
	netrc string
}

// NewEnv reads what the build of r needs from outside. The host path hands BuildKit
// no Go settings and no .netrc: it compiles nothing there.
func NewEnv(ctx context.Context, r config.Resolved, getenv func(string) string) Env {
	if r.Build == config.BuildHost {
		return Env{}
	}
	return Env{goEnv: goEnv(ctx, r.Env, getenv), netrc: netrc(getenv)}
}

// Spec computes b's build: its Dockerfile, its buildx command, its tags. The Dockerfile and metadata
// paths are under dir, which the caller creates and removes.
func (b Build) Spec(out buildx.Output, tags []string, dir string, e Env) (Spec, error) {
	r, img, v, info, plats := b.Config, b.Image, b.Variant, b.Info, b.Platforms
	text := r.DefaultTemplate
	name := "Dockerfile.tmpl"
	if r.Template != "" {
		name = filepath.Join(r.Project.Dir, r.Template)
		b, err := os.ReadFile(name)
		if err != nil {
			return Spec{}, fmt.Errorf("reading your Dockerfile template: %w; fix Config.Template or remove it to use mageship's", err)
		}
		text = string(b)
	}
	tmpl, err := dockerfile.Parse(name, text)
	if err != nil {
		return Spec{}, err
	}
	written := make([]string, len(r.Project.Replaces))
	for i, rp := range r.Project.Replaces {
		written[i] = rp.Path
	}
	work, dirs := dockerfile.Layout(r.Project.Dir, written)
	host := r.Build == config.BuildHost
	data := dockerfile.Data{
		Prebuilt:     host,
		BuilderImage: r.BuilderImage,
		RuntimeImage: img.RuntimeImage,
		DebugImage:   r.DebugImage,
		Main:         img.Main,
		Binary:       img.Binary,
		VersionVar:   img.VersionVar,
		Ports:        img.Ports,
		Vendor:       r.Project.Vendor,
		Modules:      r.Project.Modules,
		Tags:         img.Tags,
		User:         img.User,
		DebugUser:    img.User,
		WorkDir:      work,
	}
	contents, err := config.Contents(img)
	if err != nil {
		return Spec{}, err
	}
	data.Runtime(img, contents)
	contexts := map[string]string{}
	if !r.Project.Vendor && !host {
		for i, d := range dirs {
			c := "gomod-replace-" + strconv.Itoa(i+1)
			data.Replaces = append(data.Replaces, dockerfile.Replace{Context: c, Dir: d})
			contexts[c] = r.Project.Replaces[i].Dir
		}
	}
	text, err = dockerfile.Render(tmpl, data)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{Image: img, Variant: v, Dockerfile: text, Assemble: r.Assemble, Base: img.RuntimeImage}
	if v == Debug {
		s.Base = r.DebugImage
	}
	context := r.Project.Dir
	if host {
		// The context is the folder of prebuilt binaries: the source never enters it.
		context = HostContext(dir, img)
	} else if _, err := os.Stat(filepath.Join(r.Project.Dir, ".dockerignore")); err != nil {
		s.Ignore = r.DefaultIgnore
	}
	base := img.Binary + "-" + v.String()
	args := map[string]string{"VERSION": info.Version, "REVISION": info.Revision, "SOURCE": r.Source}
	if !info.Created.IsZero() {
		args["CREATED"] = info.Created.UTC().Format(time.RFC3339)
	}
	// Reproducible images: every timestamp BuildKit writes (config, history, the files
	// of the new layers) is the commit's time, or the caller's SOURCE_DATE_EPOCH.
	when := r.Settings.Time(info.Created)
	epoch := ""
	if !when.IsZero() {
		epoch = strconv.FormatInt(when.Unix(), 10)
	}
	if !host {
		for k, val := range e.goEnv {
			args[k] = val
		}
	}
	s.Build = buildx.Build{
		Builder:      r.Builder,
		Context:      context,
		Dockerfile:   filepath.Join(dir, base+".Dockerfile"),
		Target:       v.target(),
		Platforms:    plats,
		Tags:         tags,
		BuildArgs:    args,
		Contexts:     contexts,
		Output:       out,
		MetadataFile: filepath.Join(dir, base+".metadata.json"),
		Progress:     "auto",
		// Clamp the times of the files a build stage made to SOURCE_DATE_EPOCH. The
		// host path needs no rewriting: its context's files already carry that time
		// (compile), and rewriting costs BuildKit a pass over every new layer.
		SourceDateEpoch:  epoch,
		RewriteTimestamp: !host,
	}
	if c := r.Settings.CacheFrom; c != "" {
		s.Build.CacheFrom = []string{strings.ReplaceAll(c, "{name}", base)}
	}
	if c := r.Settings.CacheTo; c != "" {
		s.Build.CacheTo = []string{strings.ReplaceAll(c, "{name}", base)}
	}
	if e.netrc != "" && !host {
		s.Build.Secrets = []buildx.Secret{{ID: "netrc", Src: e.netrc}}
	}
	return s, nil
}

// Write puts the Dockerfile (and its .dockerignore) where the build expects them.
func (s Spec) Write() error {
	if err := os.WriteFile(s.Build.Dockerfile, []byte(s.Dockerfile), 0o644); err != nil {
		return err
	}
	if s.Ignore != "" {
		return os.WriteFile(s.Build.Dockerfile+".dockerignore", []byte(s.Ignore), 0o644)
	}
	return nil
}

// Tagged joins repository and tags into references.
func Tagged(repo string, tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = repo + ":" + t
	}
	return out
}

// Tags are the tags of variant v for a version's tags: debug's carry -debug.
func (v Kind) Tags(tags []string) ([]string, error) {
	if v == Debug {
		return version.DebugTags(tags)
	}
	return tags, nil
}
