package ship

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mageship/mageship/pkg/buildx"
	"github.com/mageship/mageship/pkg/config"
	"github.com/mageship/mageship/pkg/platform"
	"github.com/mageship/mageship/pkg/registry"
	"github.com/mageship/mageship/pkg/version"
)

// EnvAttestations, set to 1, asks BuildKit for provenance and SBOM attestations. They
// add unknown/unknown manifests to the index, so they are off by default.
const EnvAttestations = "MAGESHIP_ATTESTATIONS"

// Published is one variant of one image as a release left it.
type Published struct {
	Image     string              `json:"image"`
	Variant   string              `json:"variant"`
	Digest    string              `json:"digest"` // the index
	Tags      []string            `json:"tags"`
	Platforms []PublishedPlatform `json:"platforms"`
	Ref       string              `json:"ref"` // image@digest
}

// PublishedPlatform is one platform's manifest in a published index.
type PublishedPlatform struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Size     int64  `json:"compressed_bytes"`
}

// ReleaseSummary is what Release writes to dist/release.json.
type ReleaseSummary struct {
	Version  string      `json:"version"`
	Revision string      `json:"revision,omitempty"`
	Images   []Published `json:"images"`
}

type releaseStep struct {
	spec Spec
	tags []string
	pub  Published
}

// Release builds both variants of every image for every configured platform, pushes
// each by digest (no tag), reads every index back and checks its platforms, user,
// entrypoint and version label, and only when all of that holds writes the tags. So
// a failure before the last step leaves every tag where it was.
func Release(ctx context.Context, o Options) (ReleaseSummary, error) {
	o = o.withDefaults()
	r, err := Load(o.Dir, o.Getenv)
	if err != nil {
		return ReleaseSummary{}, err
	}
	vo, err := version.OptionsFromEnv(o.Getenv)
	if err != nil {
		return ReleaseSummary{}, err
	}
	info, err := version.Resolve(ctx, r.Project.Dir, vo)
	if err != nil {
		return ReleaseSummary{}, err
	}
	for _, img := range r.Images {
		if !img.NameSet {
			return ReleaseSummary{}, fmt.Errorf("release needs a registry repository for %s: set %s=registry.example.com/team/%s, or Image.Name in your magefile", img.Binary, config.EnvImage, img.Binary)
		}
	}
	dir, err := os.MkdirTemp("", "mageship-release-")
	if err != nil {
		return ReleaseSummary{}, err
	}
	defer os.RemoveAll(dir)
	e := env{getenv: o.Getenv, goEnv: goEnv(ctx, o.Getenv), netrc: netrc(o.Getenv)}
	attest := o.Getenv(EnvAttestations) == "1"

	// Compute every build and every tag before anything runs.
	var steps []*releaseStep
	for _, img := range r.Images {
		for _, v := range []Variant{Production, Debug} {
			tags, err := variantTags(v, info.Tags)
			if err != nil {
				return ReleaseSummary{}, err
			}
			s, err := spec(r, img, v, info, r.Platforms, buildx.Output{Kind: buildx.OutputPushByDigest, Repository: img.Name}, nil, dir, e)
			if err != nil {
				return ReleaseSummary{}, fmt.Errorf("image %s: %w", img.Name, err)
			}
			s.Build.Attestations = attest
			if _, err := s.Build.Args(); err != nil {
				return ReleaseSummary{}, fmt.Errorf("image %s: %w", img.Name, err)
			}
			steps = append(steps, &releaseStep{spec: s, tags: tags, pub: Published{Image: img.Name, Variant: v.String(), Tags: tags}})
		}
	}

	// Build and push by digest.
	for _, st := range steps {
		if err := st.spec.write(); err != nil {
			return ReleaseSummary{}, err
		}
		md, err := buildx.Run(ctx, st.spec.Build, buildx.WithStdout(o.Stderr), buildx.WithStderr(o.Stderr))
		if err != nil {
			return ReleaseSummary{}, fmt.Errorf("%w (no tag was moved)", err)
		}
		st.pub.Digest = md.Digest
		st.pub.Ref = st.pub.Image + "@" + md.Digest
	}

	// Verify what the registry holds.
	for _, st := range steps {
		idx, err := registry.Describe(ctx, st.pub.Ref)
		if err != nil {
			return ReleaseSummary{}, fmt.Errorf("verifying %s: %w (no tag was moved)", st.pub.Ref, err)
		}
		if err := verifyIndex(idx, st.spec, r.Platforms, info.Version); err != nil {
			return ReleaseSummary{}, fmt.Errorf("verifying %s: %w (no tag was moved)", st.pub.Ref, err)
		}
		for _, m := range idx.Platforms {
			st.pub.Platforms = append(st.pub.Platforms, PublishedPlatform{Platform: m.Platform.String(), Digest: m.Digest, Size: m.Size})
		}
	}

	// The one step that moves tags.
	for _, st := range steps {
		if err := registry.Tag(ctx, st.pub.Image, st.pub.Digest, st.tags); err != nil {
			return ReleaseSummary{}, err
		}
	}

	sum := ReleaseSummary{Version: info.Version, Revision: info.Revision}
	for _, st := range steps {
		sum.Images = append(sum.Images, st.pub)
	}
	if err := writeSummary(filepath.Join(r.Project.Dir, "dist", "release.json"), sum); err != nil {
		return sum, err
	}
	printSummary(o, sum)
	return sum, nil
}

// verifyIndex checks a pushed index against what was asked for.
func verifyIndex(idx registry.Index, s Spec, want []platform.Platform, ver string) error {
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
	entry := []string{"/usr/local/bin/" + s.Image.Binary}
	for _, m := range idx.Platforms {
		if m.User == "" || m.User == "0" || m.User == "root" || strings.HasPrefix(m.User, "0:") {
			return fmt.Errorf("%s image runs as root (user %q): set Image.User to a non-root uid:gid", m.Platform, m.User)
		}
		if m.User != s.Image.User {
			return fmt.Errorf("%s image has user %q, want %q", m.Platform, m.User, s.Image.User)
		}
		if !slices.Equal(m.Entrypoint, entry) {
			return fmt.Errorf("%s image has entrypoint %v, want %v", m.Platform, m.Entrypoint, entry)
		}
		if l := m.Labels["org.opencontainers.image.version"]; l != ver {
			return fmt.Errorf("%s image has version label %q, want %q", m.Platform, l, ver)
		}
	}
	return nil
}

func writeSummary(path string, s ReleaseSummary) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func printSummary(o Options, s ReleaseSummary) {
	fmt.Fprintf(o.Stdout, "released version %s (%s)\n", s.Version, time.Now().UTC().Format(time.RFC3339))
	for _, p := range s.Images {
		fmt.Fprintf(o.Stdout, "  %s (%s) %s\n    tags: %s\n", p.Image, p.Variant, p.Digest, strings.Join(p.Tags, ", "))
		for _, pl := range p.Platforms {
			fmt.Fprintf(o.Stdout, "    %-14s %s  %s compressed\n", pl.Platform, pl.Digest, humanSize(pl.Size))
		}
	}
	fmt.Fprintln(o.Stdout, "  summary: dist/release.json")
}
