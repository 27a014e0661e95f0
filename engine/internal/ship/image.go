package ship

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/bytesize"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/preflight"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/variant"
	"github.com/mageship/mageship/engine/internal/version"
)

// Loaded is an image Image built and loaded into the local engine.
type Loaded struct {
	Ref        string // repository:tag
	Variant    Variant
	Platform   platform.Platform
	Size       int64
	User       string
	Entrypoint []string
}

// Image builds variant v of every configured image for the Docker engine's platform
// (this machine's, unless DOCKER_HOST names an engine of another architecture) and
// loads it into that engine as <repository>:<version> (debug:
// <version>-debug). Local builds accept a dirty tree (the version says -dirty) and a
// directory without git (version dev).
func Image(ctx context.Context, v Variant, o Options) ([]Loaded, error) {
	o = o.withDefaults()
	step := o.progress.StartCheck("resolve")
	p, err := planImage(ctx, v, o)
	step.Done(err)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(p.dir)

	if p.r.Build == config.BuildHost {
		if err := variant.Compile(ctx, p.r, p.info, []platform.Platform{p.host}, p.dir, o.progress); err != nil {
			return nil, err
		}
	}
	var out []Loaded
	for _, s := range p.specs {
		subject := s.Image.Binary + " (" + v.String() + ")"
		ref := s.Build.Tags[0]
		if err := p.build(ctx, s, subject, o); err != nil {
			return out, err
		}
		ii, err := p.eng.Inspect(ctx, ref)
		if err != nil {
			return out, fmt.Errorf("the build reported success but %w", err)
		}
		// The size is the image's content, the uncompressed size of its layers: the
		// number verification checks the budget against and prints, on every image
		// store (the engine's own size is disk usage on containerd's).
		image, err := imagefs.FromDaemon(ctx, ref)
		if err != nil {
			return out, err
		}
		size, err := variant.ContentSize(image)
		if err != nil {
			return out, fmt.Errorf("reading %s from the engine: %w", ref, err)
		}
		l := Loaded{Ref: ref, Variant: v, Platform: ii.Platform, Size: size, User: ii.User, Entrypoint: ii.Entrypoint}
		out = append(out, l)
		fmt.Fprintf(o.Stdout, "built %s (%s, %s): %s, user %s, entrypoint %s\n", l.Ref, v, l.Platform, bytesize.Format(l.Size), l.User, strings.Join(l.Entrypoint, " "))
		step := o.progress.Start("verify", subject)
		err = verifyBuilt(ctx, variant.Build{Config: p.r, Image: s.Image, Variant: v, Info: p.info, Platforms: []platform.Platform{p.host}}, ref, image, p.host, o)
		step.Done(err)
		if err != nil {
			// Nothing half-done: an image that fails verification does not stay tagged.
			if uerr := p.eng.Untag(context.WithoutCancel(ctx), ref); uerr != nil {
				return out[:len(out)-1], fmt.Errorf("%w\n(and %v)", err, uerr)
			}
			return out[:len(out)-1], fmt.Errorf("%w\n(%s failed verification and was removed from the engine)", err, ref)
		}
	}
	return out, nil
}

// build makes the image s describes and loads it into the engine under its tags: in
// process and loaded through the engine's API (the direct assembler), or by buildx.
func (p imagePlan) build(ctx context.Context, s variant.Spec, subject string, o Options) error {
	if s.Direct() {
		step := o.progress.Start("assemble", subject)
		images, err := s.AssemblePlatforms(ctx, p.reg, []platform.Platform{p.host}, step.Log())
		if err == nil {
			err = p.eng.Load(ctx, images[0], s.Build.Tags...)
		}
		if err == nil {
			fmt.Fprintf(step.Log(), "loaded into the engine as %s\n", strings.Join(s.Build.Tags, ", "))
		}
		step.Done(err)
		return err
	}
	if err := s.Write(); err != nil {
		return err
	}
	b := progress.StartBuild(o.progress, subject, false)
	_, err := buildx.Run(ctx, s.Build, buildx.WithStdout(b), buildx.WithStderr(b), buildx.WithEnv(p.r.Env))
	return b.Done(err)
}

// imagePlan is a computed Image: the builds of variant v for the engine's platform.
// The caller removes dir.
type imagePlan struct {
	r     config.Resolved
	info  version.Info
	eng   *daemon.Engine
	reg   *registry.Client // the run's: the preflight's base checks and the direct assembler's pulls
	host  platform.Platform
	dir   string
	specs []variant.Spec
}

func planImage(ctx context.Context, v Variant, o Options) (imagePlan, error) {
	r, info, err := loadLocal(ctx, o)
	if err != nil {
		return imagePlan{}, err
	}
	tags, err := v.Tags([]string{info.Version})
	if err != nil {
		return imagePlan{}, err
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		return imagePlan{}, err
	}
	host := enginePlatform(ctx, eng)
	reg, err := registry.New()
	if err != nil {
		return imagePlan{}, err
	}
	if err := preflight.Check(ctx, reg, r, []platform.Platform{host}, false, false, o.Stderr); err != nil {
		return imagePlan{}, err
	}
	dir, err := os.MkdirTemp("", "mageship-")
	if err != nil {
		return imagePlan{}, err
	}
	e := variant.NewEnv(ctx, r, o.Getenv)
	p := imagePlan{r: r, info: info, eng: eng, reg: reg, host: host, dir: dir}
	out := buildx.Output{Kind: buildx.OutputLoad, NoUnpack: r.Build == config.BuildContainer && dockerDriverOnContainerd(ctx, r, eng)}
	for _, img := range r.Images {
		s, err := variant.Build{Config: r, Image: img, Variant: v, Info: info, Platforms: []platform.Platform{host}}.Spec(out, variant.Tagged(img.Name, tags), dir, e)
		if err != nil {
			os.RemoveAll(dir)
			return imagePlan{}, fmt.Errorf("image %s: %w", img.Name, err)
		}
		p.specs = append(p.specs, s)
	}
	return p, nil
}

// dockerDriverOnContainerd reports whether r's builder is a docker-driver builder of
// an engine with containerd's image store, whose exporter cannot both rewrite the
// layers' times and unpack (buildx.Output.NoUnpack). A builder or engine that does
// not answer is taken not to be one.
func dockerDriverOnContainerd(ctx context.Context, r config.Resolved, eng *daemon.Engine) bool {
	info, err := eng.Info(ctx)
	if err != nil || !info.ContainerdStore() {
		return false
	}
	b, err := buildx.Inspect(ctx, r.Builder, buildx.WithEnv(r.Env))
	return err == nil && b.Driver == "docker"
}

// enginePlatform is the platform of the images the local engine runs: this
// machine's, unless DOCKER_HOST names an engine of another architecture.
func enginePlatform(ctx context.Context, eng *daemon.Engine) platform.Platform {
	if ei, err := eng.Info(ctx); err == nil {
		return ei.ImagePlatform(platform.Host())
	}
	return platform.Host()
}

// localPlatform is enginePlatform without an engine at hand (this machine's when no
// engine answers; reading the image then fails with its own message).
func localPlatform(ctx context.Context) platform.Platform {
	eng, err := daemon.New(ctx)
	if err != nil {
		return platform.Host()
	}
	return enginePlatform(ctx, eng)
}

// verifyBuilt checks image, ref as Image just loaded it for platform p. A debug image is
// compared with the production image of the same version when that is in the engine
// too.
func verifyBuilt(ctx context.Context, b variant.Build, ref string, image v1.Image, p platform.Platform, o Options) error {
	if b.Variant == Production {
		_, err := b.Verify(ref, image, p, "", o.Stdout)
		return err
	}
	prodRef := b.Image.Name + ":" + b.Info.Version
	prod := b
	prod.Variant = Production
	prodSHA, err := verifyLoaded(ctx, prod, prodRef, p, "", io.Discard)
	if err != nil {
		// No production image to compare with (or a broken one): check the debug image
		// on its own; mage image:verify compares the two once both are built.
		fmt.Fprintf(o.Stdout, "note: %s is not built (or does not verify), so the debug binary is not compared with it; run mage image and mage image:verify\n", prodRef)
		bin, ierr := imagefs.List(image)
		if ierr != nil {
			return ierr
		}
		prodSHA = bin["/usr/local/bin/"+b.Image.Binary].SHA256
	}
	_, err = b.Verify(ref, image, p, prodSHA, o.Stdout)
	return err
}

// verifyLoaded is verifyLocal for an image of platform p, the engine's, which is not
// this machine's when DOCKER_HOST names an engine of another architecture.
func verifyLoaded(ctx context.Context, b variant.Build, ref string, p platform.Platform, prodSHA string, out io.Writer) (string, error) {
	image, err := imagefs.FromDaemon(ctx, ref)
	if err != nil {
		return "", err
	}
	return b.Verify(ref, image, p, prodSHA, out)
}
