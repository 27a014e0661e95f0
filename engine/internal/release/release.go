package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/mageship/mageship/engine/internal/assemble"
	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/bytesize"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/variant"
	"github.com/mageship/mageship/engine/internal/version"
)

// Published is one variant of one image as a release left it.
type Published struct {
	Image     string              `json:"image"`
	Variant   string              `json:"variant"`
	Digest    string              `json:"digest"` // the index
	Tags      []string            `json:"tags"`
	Platforms []PublishedPlatform `json:"platforms"`
	Ref       string              `json:"ref"` // image@digest
	// Skipped are the floating tags (X.Y, X, latest) this release did not move,
	// because a higher version is released in the repository.
	Skipped []string `json:"skipped_tags,omitempty"`
	// Signature is the cosign signature of the index (a Sigstore bundle attached to it
	// as a referrer), repository@digest; empty when MAGESHIP_COSIGN_KEY is unset.
	Signature string `json:"signature,omitempty"`
}

// PublishedPlatform is one platform's manifest in a published index.
type PublishedPlatform struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Size     int64  `json:"compressed_bytes"`
	SBOM     string `json:"sbom,omitempty"` // the SPDX SBOM attached to it, repository@digest
}

// SummaryFile is where, in the output directory, Run and Merge write
// their summary.
const SummaryFile = "release.json"

// Summary is what Release writes to <dist>/release.json.
type Summary struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	// SourceDateEpoch is the time every image records (the commit's, or the caller's
	// SOURCE_DATE_EPOCH); GoVersion built the binaries; BaseImages are the digests the
	// base images' tags named when the release began. With the commit, what a
	// verifier needs to rebuild and compare.
	SourceDateEpoch int64             `json:"source_date_epoch,omitempty"`
	GoVersion       string            `json:"go_version,omitempty"`
	BaseImages      map[string]string `json:"base_images,omitempty"`
	Images          []Published       `json:"images"`
	// Throttled is what the registries' 429 answers to mageship's own calls cost:
	// checks, verification's reads, SBOMs, signature lookups, tags.
	Throttled registry.Throttled `json:"registry_throttled"`
	// Retried is what was tried again after a transient failure.
	Retried Retried `json:"retried"`
	// Steps are the steps the release took, with their times; a push step's bytes are
	// the compressed size of the images its index lists (BuildKit does not say how
	// many of them it uploaded and how many the registry had).
	Steps []progress.Timing `json:"steps,omitempty"`
}

// Retried counts what a release tried again after a transient failure (a 5xx or 429
// answer, a dropped connection).
type Retried struct {
	// Pushes are variants' whole pushes run again after BuildKit gave up (and the
	// blob race's one push again).
	Pushes int `json:"pushes"`
	// Requests are mageship's own registry requests tried again.
	Requests int `json:"registry_requests"`
}

// String is the summary's line: "2 pushes, 1 registry request", leaving out what is 0.
func (r Retried) String() string {
	var parts []string
	if r.Pushes > 0 {
		parts = append(parts, fmt.Sprintf("%d push%s", r.Pushes, map[bool]string{true: "", false: "es"}[r.Pushes == 1]))
	}
	if r.Requests > 0 {
		parts = append(parts, fmt.Sprintf("%d registry request%s", r.Requests, map[bool]string{true: "", false: "s"}[r.Requests == 1]))
	}
	return strings.Join(parts, ", ")
}

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
		g.Go(func() error {
			for _, st := range steps {
				if errs[i] = verify(ctx, st); errs[i] != nil {
					return nil
				}
			}
			return nil
		})
	}
	g.Wait()
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

// resolveBases records the digests the base images' tags name now, for release.json.
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

// pushWaits are the waits before a variant's push is tried again after a transient
// failure BuildKit gave up on (a 5xx or 429 answer, a dropped connection): four tries
// in all. Pushing again is safe: the push is by digest and no tag has moved, and the
// blobs that made it are not uploaded again.
var pushWaits = []time.Duration{2 * time.Second, 6 * time.Second, 18 * time.Second}

// run builds and pushes st by digest, shown as the steps assemble and push, and tries
// again where the failure allows it (retryPush); push counts the compressed bytes of
// the index it pushed.
func (st *releaseStep) run(ctx context.Context, rp *releasePlan, o Options) (buildx.Metadata, error) {
	if st.spec.Direct() {
		return st.assembleDirect(ctx, rp, o) // the host path's default: no buildx (direct.go)
	}
	if err := st.spec.Write(); err != nil {
		return buildx.Metadata{}, err
	}
	b := progress.StartBuild(o.Progress, st.subject(), true)
	var md buildx.Metadata
	retries, err := retryPush(ctx, pushWaits, sleepCtx, func(be *buildx.Error, wait time.Duration) {
		when := "in " + wait.String()
		if wait == 0 {
			when = "at once"
		}
		fmt.Fprintf(o.Stderr, "note: pushing %s (%s): %s; pushing again %s\n", st.pub.Image, st.pub.Variant, firstLine(be.Cause()), when)
	}, func(ctx context.Context) error {
		var err error
		md, err = st.assemble(ctx, o, b)
		return err
	})
	rp.pushRetries.Add(int64(retries))
	if err != nil {
		err = st.failed(err, retries)
	}
	if err == nil {
		if idx, derr := rp.reg.Describe(ctx, st.pub.Image+"@"+md.Digest); derr == nil {
			st.pushed = &idx
			step := b.Push()
			for _, m := range idx.Platforms {
				step.AddBytes(m.Size)
			}
		}
	}
	return md, b.Done(err)
}

// assemble builds st's image for its platforms and pushes it by digest, once, with
// buildx: the one place a variant is assembled. Its output goes to out.
func (st *releaseStep) assemble(ctx context.Context, o Options, out io.Writer) (buildx.Metadata, error) {
	return buildx.Run(ctx, st.spec.Build, buildx.WithStdout(out), buildx.WithStderr(out), buildx.WithEnv(o.Env))
}

// retryPush runs push until it succeeds or fails for good, and returns how many
// times it ran it again. A transient failure (buildx.Error.Transient) is tried again
// after each of waits in turn, told to note first; the blob race, where the registry
// lost one of two concurrent uploads of a shared layer (both variants push their
// COPY --link layers at once), is tried again at once, once: the blob is there now.
func retryPush(ctx context.Context, waits []time.Duration, sleep func(context.Context, time.Duration) error,
	note func(*buildx.Error, time.Duration), push func(context.Context) error) (int, error) {
	retries, raced := 0, false
	for {
		err := push(ctx)
		var be *buildx.Error
		if err == nil || ctx.Err() != nil || !errors.As(err, &be) {
			return retries, err
		}
		switch {
		case be.Kind == buildx.FailureBlobRace && !raced:
			note(be, 0)
			raced = true
		case be.Transient() && len(waits) > 0:
			note(be, waits[0])
			if serr := sleep(ctx, waits[0]); serr != nil {
				return retries, err
			}
			waits = waits[1:]
		default:
			return retries, err
		}
		retries++
	}
}

// failed words a failed build of st in one line that names the image, not the
// build's files: what was pushed where, what the registry answered, and the fix; a
// failure buildx could not classify keeps the tool's last lines below that line.
func (st *releaseStep) failed(err error, retries int) error {
	var be *buildx.Error
	if !errors.As(err, &be) {
		return err
	}
	doing := "building"
	switch be.Kind {
	case buildx.FailurePushStatus, buildx.FailurePushDropped, buildx.FailurePushUnreachable, buildx.FailureAuth, buildx.FailureBlobRace:
		doing = "pushing"
	}
	tries := ""
	if retries > 0 {
		tries = fmt.Sprintf(" (%d tries)", retries+1)
	}
	return &stepError{msg: fmt.Sprintf("%s %s (%s) for %s%s: %s", doing, st.pub.Image, st.pub.Variant, platform.Strings(st.spec.Build.Platforms), tries, be.Cause()), err: err}
}

// stepError is a step's failure worded by the step; the tool's error is in its chain.
type stepError struct {
	msg string
	err error
}

func (e *stepError) Error() string { return e.msg }
func (e *stepError) Unwrap() error { return e.err }

// firstLine is s up to its first line break.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// runAll runs every step's build concurrently, at most r.Jobs at a time, and records
// the digests. The first failure cancels the others.
func (rp *releasePlan) runAll(ctx context.Context, o Options) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(rp.r.Jobs, 1))
	errs := make([]error, len(rp.steps))
	for i, st := range rp.steps {
		g.Go(func() error {
			if ctx.Err() != nil {
				errs[i] = context.Cause(ctx) // stopped before its turn came
				return errs[i]
			}
			md, err := st.run(ctx, rp, o)
			if err != nil {
				errs[i] = err
				return err
			}
			st.pub.Digest = md.Digest
			st.pub.Ref = st.pub.Image + "@" + md.Digest
			return nil
		})
	}
	g.Wait()
	// Report the failure that caused the others to stop, not their cancellation.
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return joinLine(errs)
}

// lineErrors are failures of things done at once, in one line: a user reads one
// line saying what was wrong.
type lineErrors []error

func (e lineErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e lineErrors) Unwrap() []error { return e }

// joinLine is errors.Join's one-line twin: nil when every error is nil, the error
// itself when there is one.
func joinLine(errs []error) error {
	var e lineErrors
	for _, err := range errs {
		if err != nil {
			e = append(e, err)
		}
	}
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}

// verify reads the pushed index back and checks it: its platforms, and each
// platform's image as verify checks it (files, user, static binary, labels; debug
// binaries against production's, kept in shas by image and platform).
func (st *releaseStep) verify(ctx context.Context, rp *releasePlan, shas *binaryDigests, o Options) error {
	if st.pushed == nil {
		idx, err := rp.reg.Describe(ctx, st.pub.Ref)
		if err != nil {
			return fmt.Errorf("verifying %s: %w (no tag was moved)", st.pub.Ref, err)
		}
		st.pushed = &idx
	}
	idx := *st.pushed
	if err := verifyIndex(idx, st.spec, rp.r.Platforms, rp.info.Version); err != nil {
		return fmt.Errorf("verifying %s: %w (no tag was moved)", st.pub.Ref, err)
	}
	// Every platform at once; each image is downloaded once (imagefs.FromRegistry).
	outs := make([]bytes.Buffer, len(idx.Platforms))
	errs := make([]error, len(idx.Platforms))
	sboms := make([]string, len(idx.Platforms))
	images := make([]v1.Image, len(idx.Platforms))
	var g errgroup.Group
	for i, m := range idx.Platforms {
		g.Go(func() error {
			ref := st.pub.Image + "@" + m.Digest
			image, err := imagefs.FromRegistry(ctx, ref, m.Platform, imagefs.WithClient(rp.reg))
			if err != nil {
				errs[i] = fmt.Errorf("verifying %s: %w", ref, err)
				return nil
			}
			key := st.pub.Image + " " + m.Platform.String()
			prodSHA := shas.get(key)
			sha, err := st.b.Verify(ref, image, m.Platform, prodSHA, &outs[i])
			if err != nil {
				errs[i] = err
				return nil
			}
			if st.b.Variant == variant.Production {
				shas.set(key, sha)
			}
			images[i] = image
			return nil
		})
	}
	g.Wait() // each platform's failure is in errs
	for i := range outs {
		o.Stdout.Write(outs[i].Bytes())
	}
	if err := joinLine(errs); err != nil {
		return fmt.Errorf("%w (no tag was moved)", err)
	}
	// The SBOMs one after another, of every image: uploads of the same blob (the empty
	// config every artifact shares) at once can fail on a registry (distribution 2.8
	// answered DIGEST_INVALID to one of two).
	if rp.r.SBOM {
		rp.sbomMu.Lock()
		defer rp.sbomMu.Unlock()
		when := rp.r.Settings.Time(rp.info.Created)
		for i, m := range idx.Platforms {
			ref := st.pub.Image + "@" + m.Digest
			art, goVersion, err := attachSBOM(ctx, rp.reg, images[i], st.b.Image, ref, when)
			if err != nil {
				return fmt.Errorf("%w (no tag was moved)", err)
			}
			sboms[i], rp.goVersion = art, goVersion
		}
	}
	st.pub.Platforms = nil
	for i, m := range idx.Platforms {
		st.pub.Platforms = append(st.pub.Platforms, PublishedPlatform{Platform: m.Platform.String(), Digest: m.Digest, Size: m.Size, SBOM: sboms[i]})
	}
	return nil
}

// publish is the one step that moves tags, then the summary. The exact version tags
// are written first, so that a concurrent release sees them; the floating tags (X.Y,
// X, latest and their -debug twins) then follow only where this version is still the
// highest stable one, by git and by the repository's tags read right before they are
// written (floatGate), and are checked again right after (settle).
func (rp *releasePlan) publish(ctx context.Context, o Options) (Summary, error) {
	floating := map[string]bool{}
	for _, f := range version.Floating(rp.info.Version, nil, nil) {
		floating[f.Tag], floating[f.Tag+version.DebugSuffix] = true, true
	}
	var moves []registry.Move
	for _, st := range rp.steps {
		for _, t := range st.tags {
			moves = append(moves, registry.Move{Repo: st.pub.Image, Tag: t, Digest: st.pub.Digest, Floating: floating[t]})
		}
	}
	step := o.Progress.Start("tag", fmt.Sprintf("%d tags", len(moves)))
	if err := rp.reg.Publish(ctx, moves, rp.floatGate(o)); err != nil {
		step.Done(err)
		return Summary{}, err
	}
	rp.settle(ctx, o, floating)
	step.Done(nil)
	sum := Summary{Version: rp.info.Version, Revision: rp.info.Revision, Throttled: rp.reg.Throttled(),
		Retried:   Retried{Pushes: int(rp.pushRetries.Load()), Requests: rp.reg.Transient()},
		GoVersion: rp.goVersion, BaseImages: rp.bases, Steps: o.Progress.Timings()}
	if when := rp.r.Settings.Time(rp.info.Created); !when.IsZero() {
		sum.SourceDateEpoch = when.Unix()
	}
	for _, st := range rp.steps {
		sum.Images = append(sum.Images, st.pub)
	}
	if err := dist.PutJSON(rp.dist, SummaryFile, sum); err != nil {
		return sum, dist.InTheWay(err, "the release is published and tagged, but this summary of it is not written")
	}
	o.Progress.Close() // the summary goes under the steps
	printSummary(o, sum, rp.dist.Name(SummaryFile))
	if err := appendGitHubSummary(o.Getenv, sum); err != nil {
		fmt.Fprintf(o.Stderr, "warning: writing the GitHub job summary: %v\n", err)
	}
	return sum, nil
}

// floatOwners reads repo's tags and returns, for each floating tag of this version,
// the version it belongs on (version.Floating). git's tags need not be weighed again:
// a floating tag is among the moves only where git allowed it.
func (rp *releasePlan) floatOwners(ctx context.Context, repo string) (map[string]string, error) {
	tags, err := rp.reg.ListTags(ctx, repo)
	if err != nil {
		return nil, err
	}
	own := map[string]string{}
	for _, f := range version.Floating(rp.info.Version, nil, tags) {
		own[f.Tag] = f.Owner
	}
	return own, nil
}

// floatGate keeps the floating moves whose tag this version still owns in each
// repository, and notes the others, one line per repository.
func (rp *releasePlan) floatGate(o Options) registry.Gate {
	return func(ctx context.Context, fl []registry.Move) ([]registry.Move, error) {
		owners := map[string]map[string]string{}
		var keep []registry.Move
		var held heldTags
		for _, m := range fl {
			own, ok := owners[m.Repo]
			if !ok {
				var err error
				if own, err = rp.floatOwners(ctx, m.Repo); err != nil {
					return nil, fmt.Errorf("%w: cannot tell whether %s is still the highest version there, so no floating tag moved", err, rp.info.Version)
				}
				owners[m.Repo] = own
			}
			if owner := own[strings.TrimSuffix(m.Tag, version.DebugSuffix)]; owner != rp.info.Version {
				held.add(rp, m, owner)
				continue
			}
			keep = append(keep, m)
		}
		held.note(o.Stderr, "note: %[1]s: %[2]s is released there, higher than %[3]s: not moving %[4]s", rp.info.Version)
		return keep, nil
	}
}

// settle reads each repository's tags again once the floating tags are written.
// Registries have no compare-and-swap on tags: a concurrent release of a higher
// version may have read the tags before this one's exact tag was there, and written
// its floating tags before this one did. Where a higher version shows up now, the
// floating tags this release moved go to that version's own tag (X.Y.Z or
// X.Y.Z-debug) again. A failure here is a warning: the release itself is done.
//
// What is left: a release stopped (killed, or its registry gone) between writing its
// floating tags and this check leaves them behind; a registry whose tag list lags
// behind its writes (eventually consistent listing) hides a higher version from both
// reads; and a concurrent release that fails puts the tags it moved back where it read
// them at its start.
func (rp *releasePlan) settle(ctx context.Context, o Options, floating map[string]bool) {
	owners := map[string]map[string]string{}
	var moves []registry.Move
	var held heldTags
	for _, st := range rp.steps {
		for _, t := range st.pub.Tags {
			if !floating[t] {
				continue
			}
			own, ok := owners[st.pub.Image]
			if !ok {
				var err error
				if own, err = rp.floatOwners(ctx, st.pub.Image); err != nil {
					fmt.Fprintf(o.Stderr, "warning: checking, after tagging, that no higher version of %s was released meanwhile: %v; check where its floating tags point\n", st.pub.Image, err)
					own = map[string]string{}
				}
				owners[st.pub.Image] = own
			}
			base := strings.TrimSuffix(t, version.DebugSuffix)
			owner := own[base]
			if owner == "" || owner == rp.info.Version {
				continue
			}
			ref := st.pub.Image + ":" + owner + strings.TrimPrefix(t, base)
			d, err := rp.reg.Resolve(ctx, ref)
			if err != nil || d == "" {
				fmt.Fprintf(o.Stderr, "warning: %s is released in %s, but %s cannot be read (%v): %s:%s stays on %s\n", owner, st.pub.Image, ref, err, st.pub.Image, t, rp.info.Version)
				continue
			}
			moves = append(moves, registry.Move{Repo: st.pub.Image, Tag: t, Digest: d})
			held.add(rp, registry.Move{Repo: st.pub.Image, Tag: t, Digest: st.pub.Digest}, owner)
		}
	}
	if len(moves) == 0 {
		return
	}
	if err := rp.reg.Publish(ctx, moves, nil); err != nil {
		fmt.Fprintf(o.Stderr, "warning: a higher version was released while this one was tagging, and putting the floating tags on it failed: %v\n", err)
		return
	}
	held.note(o.Stderr, "note: %[1]s: %[2]s was released while %[3]s was being tagged: moved %[4]s back to %[2]s", rp.info.Version)
}

// heldTags are floating tags that stay with (or went back to) a higher version: per
// repository and owner, in the order met.
type heldTags struct {
	keys []heldKey
	tags map[heldKey][]string
}

type heldKey struct{ repo, owner string }

// add records m's tag as held by owner, in its step's summary too.
func (h *heldTags) add(rp *releasePlan, m registry.Move, owner string) {
	for _, st := range rp.steps {
		if st.pub.Image == m.Repo && st.pub.Digest == m.Digest {
			st.pub.Tags = slices.DeleteFunc(slices.Clone(st.pub.Tags), func(t string) bool { return t == m.Tag })
			st.pub.Skipped = append(st.pub.Skipped, m.Tag)
		}
	}
	if h.tags == nil {
		h.tags = map[heldKey][]string{}
	}
	k := heldKey{m.Repo, owner}
	if _, ok := h.tags[k]; !ok {
		h.keys = append(h.keys, k)
	}
	h.tags[k] = append(h.tags[k], m.Tag)
}

// note prints one line per repository and owner: format gets the repository, the
// owner, this version and the tags.
func (h *heldTags) note(w io.Writer, format, ver string) {
	for _, k := range h.keys {
		fmt.Fprintf(w, format+"\n", k.repo, k.owner, ver, strings.Join(h.tags[k], ", "))
	}
}

// verifyIndex checks a pushed index against what was asked for.
func verifyIndex(idx registry.Index, s variant.Spec, want []platform.Platform, ver string) error {
	var got []string
	for _, m := range idx.Platforms {
		got = append(got, m.Platform.String())
	}
	var wantS []string
	for _, p := range want {
		wantS = append(wantS, p.String())
	}
	slices.Sort(got)
	slices.Sort(wantS)
	if !slices.Equal(got, wantS) {
		return fmt.Errorf("index has platforms %v, want %v", got, wantS)
	}
	for _, m := range idx.Platforms {
		if err := verifyManifest(m, s, ver); err != nil {
			return err
		}
	}
	return nil
}

// verifyManifest checks one platform's image: non-root user as configured, the
// entrypoint, the version label.
func verifyManifest(m registry.Manifest, s variant.Spec, ver string) error {
	if m.User == "" || m.User == "0" || m.User == "root" || strings.HasPrefix(m.User, "0:") {
		return fmt.Errorf("%s image runs as root (user %q): set Image.User to a non-root uid:gid", m.Platform, m.User)
	}
	if m.User != s.Image.User {
		return fmt.Errorf("%s image has user %q, want %q", m.Platform, m.User, s.Image.User)
	}
	if entry := []string{"/usr/local/bin/" + s.Image.Binary}; !slices.Equal(m.Entrypoint, entry) {
		return fmt.Errorf("%s image has entrypoint %v, want %v", m.Platform, m.Entrypoint, entry)
	}
	if l := m.Labels["org.opencontainers.image.version"]; l != ver {
		return fmt.Errorf("%s image has version label %q, want %q", m.Platform, l, ver)
	}
	return nil
}

func printSummary(o Options, s Summary, file string) {
	fmt.Fprintf(o.Stdout, "released version %s (%s)\n", s.Version, time.Now().UTC().Format(time.RFC3339))
	for _, p := range s.Images {
		fmt.Fprintf(o.Stdout, "  %s (%s)\n    index %s\n    tags: %s\n", p.Image, p.Variant, p.Digest, strings.Join(p.Tags, ", "))
		for _, pl := range p.Platforms {
			fmt.Fprintf(o.Stdout, "    %-11s  %7s  %s\n", pl.Platform, bytesize.Format(pl.Size), pl.Digest)
		}
	}
	if s.Throttled.Waits() > 0 {
		fmt.Fprintln(o.Stdout, "  registry throttling: "+s.Throttled.String())
	}
	if s.Retried != (Retried{}) {
		fmt.Fprintln(o.Stdout, "  retried after transient failures: "+s.Retried.String())
	}
	if steps := o.Progress.Summary(); steps != "" {
		fmt.Fprintln(o.Stdout, "  steps: "+steps)
	}
	fmt.Fprintln(o.Stdout, "  summary: "+file)
}

// assembleDirect makes st's images for its platforms and pushes them by digest: an
// index for several platforms, the image itself for one (as buildx does, and as
// release:merge expects), shown as the steps assemble and push. It is the direct
// assembler's twin of running st.spec.Build.
func (st *releaseStep) assembleDirect(ctx context.Context, rp *releasePlan, o Options) (buildx.Metadata, error) {
	b := progress.StartBuild(o.Progress, st.subject(), true)
	images, err := st.spec.AssemblePlatforms(ctx, rp.reg, st.spec.Build.Platforms, b)
	if err != nil {
		return buildx.Metadata{}, b.Done(err)
	}
	var t registry.Pushable = images[0]
	if len(images) > 1 {
		if t, err = assemble.Index(images); err != nil {
			return buildx.Metadata{}, b.Done(err)
		}
	}
	step := b.Push()
	d, err := rp.reg.Push(ctx, st.pub.Image, t)
	if err != nil {
		return buildx.Metadata{}, b.Done(err)
	}
	idx, err := rp.reg.Describe(ctx, st.pub.Image+"@"+d)
	if err != nil {
		return buildx.Metadata{}, b.Done(fmt.Errorf("reading back %s@%s: %w", st.pub.Image, d, err))
	}
	fmt.Fprintf(b, "pushed %s@%s\n", st.pub.Image, d)
	st.pushed = &idx
	for _, m := range idx.Platforms {
		step.AddBytes(m.Size)
	}
	return buildx.Metadata{Digest: d}, b.Done(nil)
}
