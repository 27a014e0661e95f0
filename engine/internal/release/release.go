package release

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/crash"
	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/variant"
	"github.com/mageship/mageship/engine/internal/version"
)

// releaseStep is one variant of one image in a release: its build, its tags, and
// what the release made of it (pub).
type releaseStep struct {
	b    variant.Build // what is built: the image, the variant, the version, the platforms
	spec variant.Spec  // b's computed build
	tags []string
	pub  Published
	// pushed is the index as read back right after the push (for the push step's
	// bytes); verify checks it rather than reading it again. nil: not read.
	pushed *registry.Index
}

// Run builds both variants of every image for every configured platform, pushes
// each by digest (no tag), reads every index back and checks its platforms, user,
// entrypoint and version label, and only when all of that holds writes the tags, in
// one step that puts moved tags back if a write fails, and the summary to
// <dist>/release.json. Push access, and that release.json is mageship's to write,
// are checked before anything is built.
func Run(ctx context.Context, o Options) (Summary, error) {
	step := o.Progress.StartCheck("resolve")
	rp, err := openRelease(ctx, o, "nothing was built")
	if err != nil {
		step.Done(err)
		return Summary{}, err
	}
	defer os.RemoveAll(rp.dir)
	err = rp.checkBeforeBuild(ctx, o)
	if err == nil {
		err = rp.resolveBases(ctx)
	}
	step.Done(err)
	if err != nil {
		return Summary{}, err
	}
	return rp.execute(ctx, rp.stages(o))
}

// releaseStages are the side effects of a planned and checked release, in the order
// the protocol runs them. Each is a seam: the unit tests replace them with fakes that
// record the order and fail or interrupt on cue.
type releaseStages struct {
	compile func(context.Context) error               // the host path's go builds
	build   func(context.Context) error               // every variant pushed by digest, no tag
	verify  func(context.Context, *releaseStep) error // the pushed index read back and checked; SBOMs attached
	sign    func(context.Context) error               // every index signed by digest (with a key)
	publish func(context.Context) (Summary, error)
}

// stages are the real stages of rp.
func (rp *releasePlan) stages(o Options) releaseStages {
	shas := &binaryDigests{m: map[string]string{}}
	return releaseStages{
		compile: func(ctx context.Context) error { return rp.compile(ctx, o) },
		// All variants at once: they share the build stage, which BuildKit runs once.
		build: func(ctx context.Context) error { return rp.runAll(ctx, o) },
		verify: func(ctx context.Context, st *releaseStep) error {
			step := o.Progress.Start("verify", st.subject())
			err := st.verify(ctx, rp, shas, o)
			step.Done(err)
			return err
		},
		sign:    func(ctx context.Context) error { return rp.sign(ctx, o) },
		publish: func(ctx context.Context) (Summary, error) { return rp.publish(ctx, o) },
	}
}

// execute runs the stages in the release protocol's order: push by digest, verify,
// sign, and only then publish, the one stage that moves tags. A failure, or an
// interruption (ctx), at any stage before publish leaves every tag where it was.
func (rp *releasePlan) execute(ctx context.Context, s releaseStages) (Summary, error) {
	if err := s.compile(ctx); err != nil {
		return Summary{}, fmt.Errorf("%w (no tag was moved)", err)
	}
	if err := s.build(ctx); err != nil {
		return Summary{}, fmt.Errorf("%w (no tag was moved)", err)
	}
	if err := rp.verifyAll(ctx, s.verify); err != nil {
		return Summary{}, err
	}
	if err := s.sign(ctx); err != nil {
		return Summary{}, err
	}
	if ctx.Err() != nil {
		return Summary{}, fmt.Errorf("stopped before tagging: %w (no tag was moved)", context.Cause(ctx))
	}
	return s.publish(ctx)
}

// verifyAll runs verify on every step: the images at once, at most r.Jobs at a time,
// and each image's variants in order (debug's binaries are compared with
// production's). It returns the failure of the first step, in the steps' order, that
// failed; the other images' verifications run to their end.
func (rp *releasePlan) verifyAll(ctx context.Context, verify func(context.Context, *releaseStep) error) error {
	var images [][]*releaseStep
	at := map[string]int{}
	for _, st := range rp.steps {
		i, ok := at[st.pub.Image]
		if !ok {
			i = len(images)
			at[st.pub.Image] = i
			images = append(images, nil)
		}
		images[i] = append(images[i], st)
	}
	// A plain group: one image's failure does not stop the others.
	var g errgroup.Group
	g.SetLimit(max(rp.r.Jobs, 1))
	errs := make([]error, len(images))
	for i, steps := range images {
		g.Go(crash.Recover(func() error {
			for _, st := range steps {
				if errs[i] = verify(ctx, st); errs[i] != nil {
					return nil
				}
			}
			return nil
		}))
	}
	if err := g.Wait(); err != nil {
		return err // a worker's panic (crash.Panic): the workers keep their failures in errs
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// binaryDigests are the production binaries' digests by image and platform, which
// the debug images' binaries must equal.
type binaryDigests struct {
	mu sync.Mutex
	m  map[string]string
}

func (b *binaryDigests) get(key string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[key]
}

func (b *binaryDigests) set(key, sha string) {
	b.mu.Lock()
	b.m[key] = sha
	b.mu.Unlock()
}

// sign signs every verified index by digest when a cosign key is configured.
func (rp *releasePlan) sign(ctx context.Context, o Options) error {
	if rp.r.CosignKey == "" {
		return nil
	}
	for _, st := range rp.steps {
		step := o.Progress.Start("sign", st.subject())
		sig, err := signIndex(ctx, rp.reg, rp.r, st.pub.Ref)
		step.Done(err)
		if err != nil {
			return fmt.Errorf("%w (no tag was moved)", err)
		}
		st.pub.Signature = sig
		fmt.Fprintf(o.Stdout, "signed %s (%s): %s\n", st.pub.Ref, st.pub.Variant, sig)
	}
	return nil
}

// resolveBases records the digests the base images' tags name now: release.json reports
// them, and the direct assembler builds on them (Spec.PinBase).
func (rp *releasePlan) resolveBases(ctx context.Context) error {
	rp.bases = map[string]string{}
	refs := []string{rp.r.DebugImage}
	for _, img := range rp.r.Images {
		if img.RuntimeImage != config.Scratch {
			refs = append(refs, img.RuntimeImage)
		}
	}
	if rp.r.Build == config.BuildContainer {
		refs = append(refs, rp.r.BuilderImage)
	}
	for _, ref := range refs {
		d, err := rp.reg.Resolve(ctx, ref)
		if err != nil {
			return fmt.Errorf("base image: %w", err)
		}
		rp.bases[ref] = d
	}
	return nil
}

// releasePlan is a computed release: every build and every tag, nothing run yet.
type releasePlan struct {
	r     config.Resolved
	info  version.Info
	plats []platform.Platform
	dir   string // temporary: rendered Dockerfiles, metadata files, the host path's build contexts
	dist  *owned.Dist
	steps []*releaseStep
	// reg is the run's one registry client: every registry call of the release goes
	// through it, and its counts are the summary's.
	reg *registry.Client
	// pushRetries counts the variants' pushes tried again (retryPush).
	pushRetries atomic.Int64
	bases       map[string]string // base image reference -> digest, when the release began
	goVersion   string            // of the released binaries, from their build information
	sbomMu      sync.Mutex        // one SBOM upload at a time; guards goVersion
}

// planRelease resolves the configuration and version and computes the builds for
// plats (nil: the configured platforms). The caller removes rp.dir.
func planRelease(ctx context.Context, o Options, plats []platform.Platform) (*releasePlan, error) {
	r, err := o.Load()
	if err != nil {
		return nil, err
	}
	if plats == nil {
		plats = r.Platforms
	}
	vo, err := version.OptionsFromEnv(o.Getenv)
	if err != nil {
		return nil, err
	}
	vo.Env = r.Env
	info, err := version.Resolve(ctx, r.Project.Dir, vo, r.Dist)
	if err != nil {
		return nil, err
	}
	dist, err := dist.Open(r)
	if err != nil {
		return nil, err
	}
	for _, img := range r.Images {
		if !img.NameSet {
			return nil, fmt.Errorf("release needs a registry repository for %s: set %s=registry.example.com/team/%s, or Image.Name in your magefile", img.Binary, config.EnvImage, img.Binary)
		}
	}
	dir, err := os.MkdirTemp("", "mageship-release-")
	if err != nil {
		return nil, err
	}
	reg, err := registry.New()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := variant.NewEnv(ctx, r, o.Getenv)
	rp := &releasePlan{r: r, info: info, plats: plats, dir: dir, dist: dist, reg: reg}
	for _, img := range r.Images {
		for _, v := range []variant.Kind{variant.Production, variant.Debug} {
			tags, err := v.Tags(info.Tags)
			if err == nil {
				b := variant.Build{Config: r, Image: img, Variant: v, Info: info, Platforms: plats}
				var s variant.Spec
				s, err = b.Spec(buildx.Output{Kind: buildx.OutputPushByDigest, Repository: img.Name}, nil, dir, e)
				if err == nil {
					s.Build.Provenance, s.Build.SBOM = r.Settings.Provenance, r.Settings.AttestSBOM
					_, err = s.Build.Args()
				}
				rp.steps = append(rp.steps, &releaseStep{b: b, spec: s, tags: tags, pub: Published{Image: img.Name, Variant: v.String(), Tags: tags}})
			}
			if err != nil {
				os.RemoveAll(dir)
				return nil, fmt.Errorf("image %s: %w", img.Name, err)
			}
		}
	}
	return rp, nil
}

// compile runs the host path's go builds (nothing on the container path).
func (rp *releasePlan) compile(ctx context.Context, o Options) error {
	if rp.r.Build != config.BuildHost {
		return nil
	}
	return variant.Compile(ctx, rp.r, rp.info, rp.plats, rp.dir, o.Progress)
}

// checkPush asks each registry, before anything is built, whether the credentials
// allow pushing.
func (rp *releasePlan) checkPush(ctx context.Context) error {
	seen := map[string]bool{}
	for _, img := range rp.r.Images {
		if seen[img.Name] {
			continue
		}
		seen[img.Name] = true
		if err := rp.reg.CheckPush(ctx, img.Name); err != nil {
			return err
		}
	}
	return nil
}

// subject is how the steps call st, by its binary: "hello (production)".
func (st *releaseStep) subject() string {
	return st.b.Image.Binary + " (" + st.pub.Variant + ")"
}
