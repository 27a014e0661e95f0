package ship

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

	"golang.org/x/mod/semver"

	"github.com/mageship/mageship/engine/internal/buildcontext"
	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/dockerfile"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/verify"
)

// preflight checks, before anything is built, what would otherwise fail late or
// half-way: cgo in a main package, a go.mod newer than the builder image, the builder,
// the base images and their platforms, and secrets in the build context.
func preflight(ctx context.Context, r config.Resolved, plats []platform.Platform, attest bool, stderr io.Writer) error {
	for _, img := range r.Images {
		if err := checkCgo(r.Project.Dir, img); err != nil {
			return err
		}
	}
	if r.Build == config.BuildContainer {
		if err := checkGoVersion(r); err != nil {
			return err
		}
	}
	if err := checkBuilder(ctx, r.Builder, plats, attest); err != nil {
		return err
	}
	if err := checkBases(ctx, r, plats); err != nil {
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

// checkBuilder makes sure the buildx builder exists and can produce a
// multi-platform image when more than one platform is asked for.
func checkBuilder(ctx context.Context, name string, plats []platform.Platform, attest bool) error {
	b, err := buildx.Inspect(ctx, name)
	if err != nil {
		return err
	}
	if b.Driver == "docker" && len(plats) > 1 {
		return fmt.Errorf("buildx builder %s uses the docker driver, which cannot build %s into one image: create a builder that can (docker buildx create --use --driver docker-container) or set BUILDX_BUILDER", b.Name, platform.Strings(plats))
	}
	if attest {
		if why := noAttestations(b); why != "" {
			return fmt.Errorf("buildx builder %s cannot attach provenance and SBOM attestations (%s): unset %s, or use a docker-container or remote builder with BuildKit 0.11 or newer", b.Name, why, EnvAttestations)
		}
	}
	return nil
}

// noAttestations says why a builder cannot produce attestations, or "" when it can:
// BuildKit gained them in v0.11, and the docker driver's classic image store cannot
// hold them. A node whose version is unknown (a source build) is given the benefit
// of the doubt.
func noAttestations(b buildx.Builder) string {
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

// checkBases checks that every base image exists and has every platform it is used for.
func checkBases(ctx context.Context, r config.Resolved, plats []platform.Platform) error {
	need := map[string][]platform.Platform{r.DebugImage: plats}
	if r.Build == config.BuildContainer {
		need[r.BuilderImage] = []platform.Platform{platform.Host()}
	}
	for _, img := range r.Images {
		if img.RuntimeImage != dockerfile.Scratch {
			need[img.RuntimeImage] = plats
		}
	}
	for ref, want := range need {
		have, err := registry.Platforms(ctx, ref)
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

// auditContext computes what the build context would send, fails on secrets and
// warns about version control directories.
func auditContext(r config.Resolved, stderr io.Writer) error {
	patterns, source, err := buildcontext.ReadIgnore(r.Project.Dir, r.DefaultIgnore)
	if err != nil {
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
	for _, w := range rep.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintln(stderr, rep.String())
	return nil
}

// expect is what verify checks of one image.
func expect(r config.Resolved, img config.ResolvedImage, p platform.Platform, ver, revision string) verify.Expect {
	e := verify.Expect{Binary: img.Binary, Platform: p, User: img.User, Version: ver, Zoneinfo: true, MaxBytes: img.MaxBytes,
		Labels: []string{verify.LabelVersion}}
	if revision != "" {
		e.Labels = append(e.Labels, verify.LabelRevision, verify.LabelCreated)
	}
	if r.Source != "" {
		e.Labels = append(e.Labels, verify.LabelSource)
	}
	return e
}
