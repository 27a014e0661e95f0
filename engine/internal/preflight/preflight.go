package preflight

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	goversion "go/version"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mageship/mageship/engine/internal/buildcontext"
	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/registry"
)

// Check checks, before anything is built, what would otherwise fail late or
// half-way: cgo in a main package, a go.mod newer than the builder image, a go.work
// the container build cannot follow, the builder, the base images and their
// platforms, and the build context (secrets, and files go build needs that
// .dockerignore leaves out). It first prints what the configuration left to guess
// (r.Warnings). byDigest: the images are pushed by digest (a release),
// which the builder must be able to do. reg is the run's registry client: the base
// images are read through it.
func Check(ctx context.Context, reg *registry.Client, r config.Resolved, plats []platform.Platform, attest, byDigest bool, stderr io.Writer) error {
	for _, w := range r.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, img := range r.Images {
		if err := checkCgo(r.Project.Dir, img); err != nil {
			return err
		}
	}
	if err := CheckCgoDeps(ctx, r, plats); err != nil {
		return err
	}
	if r.Build == config.BuildContainer {
		if err := checkGoVersion(r); err != nil {
			return err
		}
		if err := checkWorkspace(r.Project); err != nil {
			return err
		}
	}
	if r.Assemble == config.AssembleDirect {
		if attest {
			return fmt.Errorf("%s asks BuildKit for attestations, and the direct assembler uses no BuildKit: set %s=buildx, or unset %s (release attaches an SPDX SBOM anyway)", config.EnvAttestations, config.EnvAssemble, config.EnvAttestations)
		}
	} else if err := checkBuilder(ctx, r, plats, attest, byDigest); err != nil {
		return err
	}
	if err := checkBases(ctx, reg, r, plats); err != nil {
		return err
	}
	if r.Build == config.BuildHost {
		return nil // the build context holds the binaries, never the source
	}
	return auditContext(r, stderr)
}

// checkCgo fails when the main package itself imports "C": mageship builds with
// CGO_ENABLED=0 so that the binary needs no libc.
func checkCgo(dir string, img config.ResolvedImage) error {
	ctx := build.Default
	ctx.CgoEnabled = true
	ctx.GOOS = "linux"
	ctx.BuildTags = img.Tags
	pkg, err := ctx.ImportDir(filepath.Join(dir, img.Main), 0)
	if err != nil {
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return fmt.Errorf("image %s: no Go files in %s: set Image.Main to your main package", img.Name, img.Main)
		}
		return nil // the build reports other problems with the package itself
	}
	if len(pkg.CgoFiles) > 0 {
		return fmt.Errorf("package %s needs cgo (%s imports \"C\"): mageship builds static binaries with CGO_ENABLED=0 so they run on scratch without libc; remove the cgo dependency", img.Main, strings.Join(pkg.CgoFiles, ", "))
	}
	return nil
}

// CheckCgoDeps refuses an image whose import graph holds a package that needs cgo,
// as go build would see it for the first of plats (gobuild.CheckCgo), before anything
// compiles.
func CheckCgoDeps(ctx context.Context, r config.Resolved, plats []platform.Platform) error {
	if len(plats) == 0 {
		return nil
	}
	p := plats[0]
	for _, img := range r.Images {
		b := gobuild.Build{Dir: r.Project.Dir, Main: img.Main, Platform: p, Tags: img.Tags, Mod: gobuild.VendorMode(r.Project.Dir)}
		if err := gobuild.CheckCgo(ctx, b, r.Env); err != nil {
			return fmt.Errorf("image %s: %w", img.Name, err)
		}
	}
	return nil
}

var goTag = regexp.MustCompile(`(?:^|/)golang:(\d+\.\d+(?:\.\d+)?)`)

// checkGoVersion compares go.mod's go line with the Go version a golang:<v>-... builder
// image names; other builder images are taken on trust.
func checkGoVersion(r config.Resolved) error {
	m := goTag.FindStringSubmatch(r.BuilderImage)
	if m == nil || r.Project.GoVersion == "" {
		return nil
	}
	need, have := "go"+r.Project.GoVersion, "go"+m[1]
	// The image tag golang:1.26 carries the newest 1.26.x: compare major.minor then.
	if strings.Count(m[1], ".") == 1 {
		need = "go" + r.Project.MinorGo()
	}
	if goversion.Compare(need, have) > 0 {
		return fmt.Errorf("go.mod needs Go %s but the builder image %s has Go %s: use a newer builder image (%s=golang:%s-alpine) or lower the go line in go.mod", r.Project.GoVersion, r.BuilderImage, m[1], config.EnvBuilderImage, r.Project.MinorGo())
	}
	return nil
}

// checkWorkspace fails on the container build path when the module builds in a go.work
// whose other modules it imports: the build context is the module directory, and only
// go.mod's replace directives bring other directories in.
func checkWorkspace(p project.Project) error {
	w := p.Workspace
	if len(w.Needed) == 0 {
		return nil
	}
	var mods, edits []string
	for _, m := range w.Needed {
		rel, err := filepath.Rel(p.Dir, m.Dir)
		if err != nil {
			rel = m.Dir
		}
		rel = filepath.ToSlash(rel)
		mods = append(mods, fmt.Sprintf("%s (%s)", m.Module, rel))
		edits = append(edits, fmt.Sprintf("-require=%s@v0.0.0 -replace=%s=%s", m.Module, m.Module, rel))
	}
	file, err := filepath.Rel(p.Dir, w.File)
	if err != nil {
		file = w.File
	}
	return fmt.Errorf("module %s builds in the workspace %s with %s, which the container build path cannot bring into BuildKit (its build context is the module directory): build on this machine (MAGESHIP_BUILD=host, the default), or say it in go.mod too: go mod edit %s",
		p.Module, filepath.ToSlash(file), strings.Join(mods, ", "), strings.Join(edits, " "))
}

// checkBuilder makes sure the buildx builder exists, can push by digest when
// byDigest asks it to, and can produce a multi-platform image when more than one
// platform is asked for. The checks
// themselves are the builder's (Builder.MultiPlatform, Builder.Attestations), which
// the doctor's builder check runs too; this turns their answer into an error.
func checkBuilder(ctx context.Context, r config.Resolved, plats []platform.Platform, attest, byDigest bool) error {
	b, err := buildx.Inspect(ctx, r.Builder, buildx.WithEnv(r.Env))
	if err != nil {
		return err
	}
	if why := b.PushByDigest(); why != "" && byDigest {
		return fmt.Errorf("%s: %s", why, PushByDigestFix(r))
	}
	if b.Driver == "docker" && len(plats) > 1 {
		if why := b.MultiPlatform(plats, containerdStore(ctx)); why != "" {
			return fmt.Errorf("buildx builder %s uses the docker driver, which cannot build %s into one image (%s): turn on the containerd image store (Docker Desktop: Use containerd for pulling and storing images; Docker Engine: \"features\": {\"containerd-snapshotter\": true} in daemon.json), create a builder that can (docker buildx create --use --driver docker-container) or set BUILDX_BUILDER", b.Name, platform.Strings(plats), why)
		}
	}
	if attest {
		if why := b.Attestations(); why != "" {
			return fmt.Errorf("buildx builder %s cannot attach provenance and SBOM attestations (%s): unset %s, or use a docker-container or remote builder with BuildKit 0.11 or newer", b.Name, why, config.EnvAttestations)
		}
	}
	return nil
}

// containerdStore reports whether the Docker engine keeps images in containerd's image
// store (docker info), which a docker-driver builder builds several platforms into; an
// engine that does not answer is taken to have the classic store.
func containerdStore(ctx context.Context) bool {
	eng, err := daemon.New(ctx)
	if err != nil {
		return false
	}
	info, err := eng.Info(ctx)
	return err == nil && info.ContainerdStore()
}

// checkBases checks that every base image exists and has every platform it is used for,
// through the run's registry client (its 429s count in the run's).
func checkBases(ctx context.Context, reg *registry.Client, r config.Resolved, plats []platform.Platform) error {
	need := map[string][]platform.Platform{r.DebugImage: plats}
	if r.Build == config.BuildContainer {
		need[r.BuilderImage] = []platform.Platform{platform.Host()}
	}
	for _, img := range r.Images {
		if img.RuntimeImage != config.Scratch {
			need[img.RuntimeImage] = plats
		}
	}
	for ref, want := range need {
		have, err := reg.Platforms(ctx, ref)
		if err != nil {
			return fmt.Errorf("base image: %w", err)
		}
		for _, p := range want {
			if !hasPlatform(have, p) {
				return fmt.Errorf("base image %s has no %s variant (it has %s): choose platforms it provides, or another base image", ref, p, platform.Strings(have))
			}
		}
	}
	return nil
}

func hasPlatform(have []platform.Platform, p platform.Platform) bool {
	for _, h := range have {
		if h.OS == p.OS && h.Arch == p.Arch && (p.Variant == "" || h.Variant == p.Variant) {
			return true
		}
	}
	return false
}

// auditContext computes what the build context would send, fails on secrets and on
// files go build reads that .dockerignore leaves out (an embed that loses some files
// is a warning), and warns about version control directories.
func auditContext(r config.Resolved, stderr io.Writer) error {
	patterns, source, err := buildcontext.ReadIgnore(r.Project.Dir, r.DefaultIgnore)
	if err != nil {
		return err
	}
	if err := buildcontext.Symlinks(r.Project.Dir, patterns); err != nil {
		return err
	}
	rep, err := buildcontext.Audit(r.Project.Dir, patterns)
	if err != nil {
		return err
	}
	rep.IgnoreFile = source
	if err := rep.Err(); err != nil {
		return err
	}
	for _, img := range r.Images {
		if err := checkFilesSent(r.Project.Dir, patterns, source, img); err != nil {
			return err
		}
		in, err := r.Project.Inputs(img.Main, img.Tags)
		if err != nil {
			continue // a package go/build cannot read: go build says why
		}
		if err := buildcontext.CheckInputs(patterns, source, img.Main, in.Files); err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		embeds := make([]buildcontext.Embed, len(in.Embeds))
		for i, e := range in.Embeds {
			embeds[i] = buildcontext.Embed{Pattern: e.Pattern, Pos: e.Pos, Files: e.Files}
		}
		warnings, err := buildcontext.CheckEmbeds(patterns, source, img.Main, embeds)
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		for _, w := range warnings {
			fmt.Fprintln(stderr, "warning: build context:", w)
		}
	}
	for _, w := range rep.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintln(stderr, rep.String())
	return nil
}

// PushByDigestFix is the fix for a builder that cannot push by digest (a docker-driver
// builder), on r's path: a builder that can, or the host path's direct assembler,
// which needs no builder.
func PushByDigestFix(r config.Resolved) string {
	other := "or assemble without buildx: unset " + config.EnvAssemble + " (direct, the host path's default)"
	if r.Build == config.BuildContainer {
		other = "or build on the host (unset " + config.EnvBuild + "), whose default assembler needs no builder"
	}
	return "create a builder that can (docker buildx create --use), " + other
}

// checkFilesSent fails when the .dockerignore patterns leave out of the build context
// a file that img's Files copies from it (the container build path).
func checkFilesSent(dir string, patterns []string, source string, img config.ResolvedImage) error {
	entries, err := config.Contents(img)
	if err != nil {
		return err
	}
	var rels []string
	for _, e := range entries {
		if e.Kind == config.KindFile {
			rel, err := filepath.Rel(dir, e.Src)
			if err != nil {
				return err
			}
			rels = append(rels, filepath.ToSlash(rel))
		}
	}
	if err := buildcontext.CheckFiles(patterns, source, rels); err != nil {
		return fmt.Errorf("image %s: build context: %w", img.Name, err)
	}
	return nil
}
