package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Index is a pushed image: a multi-platform index, or a single image manifest (what
// buildx pushes for one platform), described as an index of that one platform.
type Index struct {
	Ref       string // repository@digest
	Digest    string
	Platforms []Manifest // in index order, attestation manifests left out
	// Attestations counts the unknown/unknown manifests BuildKit adds for provenance and SBOMs.
	Attestations int
}

// Manifest is one platform's image in an index.
type Manifest struct {
	Platform   platform.Platform
	Digest     string
	Size       int64 // compressed: config plus layers, as pulled
	User       string
	Entrypoint []string
	Labels     map[string]string
}

// Describe is (*Client).Describe with a client of its own, made from opts: for a
// single call outside a run.
func Describe(ctx context.Context, ref string, opts ...Option) (Index, error) {
	c, err := New(opts...)
	if err != nil {
		return Index{}, err
	}
	return c.Describe(ctx, ref)
}

// Describe reads the index at ref (repository@digest or repository:tag).
func (c *Client) Describe(ctx context.Context, ref string) (Index, error) {
	ctx = call(ctx)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return Index{}, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	desc, err := remote.Get(r, c.remote(ctx)...)
	if err != nil {
		return Index{}, explain(ctx, "reading index "+ref, r.Context().RegistryStr(), err)
	}
	if desc.MediaType.IsImage() {
		// One platform: buildx pushes its image manifest, not an index of one.
		img, err := desc.Image()
		if err != nil {
			return Index{}, explain(ctx, "reading image "+ref, r.Context().RegistryStr(), err)
		}
		m, err := describeImage(img)
		if err != nil {
			return Index{}, explain(ctx, "reading image "+ref, r.Context().RegistryStr(), err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return Index{}, explain(ctx, "reading image "+ref, r.Context().RegistryStr(), err)
		}
		m.Platform = platform.Platform{OS: cf.OS, Arch: cf.Architecture, Variant: cf.Variant}
		m.Digest = desc.Digest.String()
		return Index{Ref: r.Context().Digest(m.Digest).String(), Digest: m.Digest, Platforms: []Manifest{m}}, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return Index{}, explain(ctx, "reading index "+ref, r.Context().RegistryStr(), err)
	}
	d, err := idx.Digest()
	if err != nil {
		return Index{}, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return Index{}, explain(ctx, "reading index "+ref, r.Context().RegistryStr(), err)
	}
	out := Index{Ref: r.Context().Digest(d.String()).String(), Digest: d.String()}
	for _, desc := range im.Manifests {
		if desc.Platform == nil || desc.Platform.OS == "unknown" {
			out.Attestations++
			continue
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return Index{}, explain(ctx, "reading image "+desc.Digest.String(), r.Context().RegistryStr(), err)
		}
		m, err := describeImage(img)
		if err != nil {
			return Index{}, explain(ctx, "reading image "+desc.Digest.String(), r.Context().RegistryStr(), err)
		}
		m.Platform = platform.Platform{OS: desc.Platform.OS, Arch: desc.Platform.Architecture, Variant: desc.Platform.Variant}
		m.Digest = desc.Digest.String()
		out.Platforms = append(out.Platforms, m)
	}
	return out, nil
}

func describeImage(img v1.Image) (Manifest, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return Manifest{}, err
	}
	mf, err := img.Manifest()
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Size: mf.Config.Size, User: cf.Config.User, Entrypoint: cf.Config.Entrypoint, Labels: cf.Config.Labels}
	for _, l := range mf.Layers {
		m.Size += l.Size
	}
	return m, nil
}

// Resolve is (*Client).Resolve with a client of its own, made from opts: for a
// single call outside a run.
func Resolve(ctx context.Context, ref string, opts ...Option) (string, error) {
	c, err := New(opts...)
	if err != nil {
		return "", err
	}
	return c.Resolve(ctx, ref)
}

// Resolve returns the digest a tag points at, or "" when the tag does not exist.
func (c *Client) Resolve(ctx context.Context, ref string) (string, error) {
	ctx = call(ctx)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	desc, err := remote.Head(r, c.remote(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", explain(ctx, "resolving "+ref, r.Context().RegistryStr(), err)
	}
	return desc.Digest.String(), nil
}

// IsAuth reports whether err is the registry refusing the credentials (or their absence).
func IsAuth(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden)
}

// Image reads the image ref for platform p: the child for p when ref names an index,
// else the image itself (the caller checks its platform; p may be zero for an
// image that is not in an index, an artifact say). Its layers are read when
// asked for, through the client.
func (c *Client) Image(ctx context.Context, ref string, p platform.Platform) (v1.Image, error) {
	ctx = call(ctx)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	img, err := remote.Image(r, append(c.remote(ctx), remote.WithPlatform(v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}))...)
	if err != nil {
		what := "reading image " + ref
		if p.OS != "" {
			what += " for " + p.String()
		}
		return nil, explain(ctx, what+" from the registry", r.Context().RegistryStr(), err)
	}
	return img, nil
}

// Head reads the descriptor of the manifest at ref.
func (c *Client) Head(ctx context.Context, ref string) (v1.Descriptor, error) {
	ctx = call(ctx)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	d, err := remote.Head(r, c.remote(ctx)...)
	if err != nil {
		return v1.Descriptor{}, explain(ctx, "reading "+ref, r.Context().RegistryStr(), err)
	}
	return *d, nil
}

// Referrers lists the manifests that refer to subject (repository@digest) and have
// artifactType, through the OCI 1.1 referrers API or, where the registry lacks it,
// the referrers tag schema. The spec has the list give each manifest's artifactType,
// but some registries give its config's media type (go-containerregistry's
// pkg/registry gives application/vnd.oci.empty.v1+json), or none: such a referrer's
// manifest is read, once, to see its artifactType. Each descriptor returned has
// artifactType and, when the list left them out, the manifest's annotations.
func (c *Client) Referrers(ctx context.Context, subject, artifactType string) ([]v1.Descriptor, error) {
	ctx = call(ctx)
	d, err := name.NewDigest(subject, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("%q is not an image reference by digest (repository@sha256:...): %w", subject, err)
	}
	host := d.Context().RegistryStr()
	idx, err := remote.Referrers(d, c.remote(ctx)...)
	if err != nil {
		return nil, explain(ctx, "listing the referrers of "+subject, host, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, explain(ctx, "listing the referrers of "+subject, host, err)
	}
	var found []v1.Descriptor
	for _, desc := range im.Manifests {
		switch desc.ArtifactType {
		case artifactType:
			found = append(found, desc)
		case "", string(types.OCIEmptyJSON):
			m, err := c.referrer(ctx, d.Context().Digest(desc.Digest.String()))
			if err != nil {
				return nil, explain(ctx, "reading the referrer "+desc.Digest.String()+" of "+subject, host, err)
			}
			if m.ArtifactType == artifactType {
				desc.ArtifactType = m.ArtifactType
				if desc.Annotations == nil {
					desc.Annotations = m.Annotations
				}
				found = append(found, desc)
			}
		}
	}
	return found, nil
}

// referrer reads the manifest at d, once per client: a manifest by digest never
// changes, and a signing step lists the referrers before and after cosign runs.
func (c *Client) referrer(ctx context.Context, d name.Digest) (v1.Manifest, error) {
	if m, ok := c.manifests.Load(d.String()); ok {
		return m.(v1.Manifest), nil
	}
	got, err := remote.Get(d, c.remote(ctx)...)
	if err != nil {
		return v1.Manifest{}, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(got.Manifest, &m); err != nil {
		// Not an image manifest (an index, say): it has no artifactType to match.
		m = v1.Manifest{}
	}
	c.manifests.Store(d.String(), m)
	return m, nil
}
