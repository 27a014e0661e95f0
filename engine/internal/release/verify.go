package release

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/mageship/mageship/engine/internal/crash"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/variant"
)

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
		g.Go(crash.Recover(func() error {
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
		}))
	}
	if err := g.Wait(); err != nil {
		return err // a worker's panic (crash.Panic): each platform's failure is in errs
	}
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
