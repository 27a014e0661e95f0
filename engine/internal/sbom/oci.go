package sbom

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
)

// Annotations of the artifact manifest.
const (
	// AnnotationCreated is the document's creation time (RFC 3339); Find takes the
	// newest when a subject has several SBOMs.
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationTitle names the layer's file, for tools that save it (oras pull).
	AnnotationTitle = "org.opencontainers.image.title"
	// Title is the file name the SBOM layer is given.
	Title = "sbom.spdx.json"
)

// emptyJSON is the OCI empty descriptor's content, the config of an artifact.
var emptyJSON = []byte("{}")

// ClientOption changes how Attach and Find reach the registry.
type ClientOption func(*clientOptions)

type clientOptions struct{ client *registry.Client }

// WithClient goes through c, the run's registry client, so that its credentials,
// retries and 429 policy apply and its counts include the SBOM's traffic. Default: a
// client of the call's own, with the Docker config's credentials.
func WithClient(c *registry.Client) ClientOption { return func(o *clientOptions) { o.client = c } }

func clientOf(opts []ClientOption) (*registry.Client, error) {
	var o clientOptions
	for _, f := range opts {
		f(&o)
	}
	if o.client != nil {
		return o.client, nil
	}
	return registry.New()
}

// Attach pushes doc, an SPDX JSON document, as an OCI 1.1 artifact that refers to
// subject (repository@digest of a platform image): an image manifest with artifactType
// application/spdx+json, the empty config, one layer holding doc, and subject set to
// the image's descriptor. On a registry without the referrers API go-containerregistry
// also writes the referrers tag schema's index (tag sha256-<hex of the subject's
// digest>), so tools that list referrers find it either way. It returns the artifact
// as repository@digest. Pushing the same document again changes nothing.
func Attach(ctx context.Context, subject string, doc []byte, opts ...ClientOption) (string, error) {
	ref, err := digestRef(subject)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM: %w", err)
	}
	created, err := createdOf(doc)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM to %s: %w", subject, err)
	}
	c, err := clientOf(opts)
	if err != nil {
		return "", err
	}
	desc, err := c.Head(ctx, subject)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM: %w", err)
	}
	if desc.MediaType.IsIndex() {
		return "", fmt.Errorf("attaching the SBOM: %s is an index; attach each platform's SBOM to that platform's image", subject)
	}
	art, err := newArtifact(doc, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, created)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM to %s: %w", subject, err)
	}
	ad, err := art.Digest()
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM to %s: %w", subject, err)
	}
	_, herr := c.Head(ctx, ref.Context().Digest(ad.String()).String())
	at, err := c.PushByDigest(ctx, ref.Context().Name(), art)
	if err != nil {
		return "", refused("attaching the SBOM to "+subject, ref, err)
	}
	if herr == nil {
		// It was there already, so the push wrote nothing, not even the referrers tag
		// a run cut short between the two left unwritten: make sure it is listed.
		if err := ensureListed(ctx, c, subject, at, art); err != nil {
			return "", refused("attaching the SBOM to "+subject, ref, err)
		}
	}
	return at, nil
}

// ensureListed writes art's manifest (at) again when subject's referrers do not list
// it, which on a registry without the referrers API rewrites the referrers tag.
func ensureListed(ctx context.Context, c *registry.Client, subject, at string, art v1.Image) error {
	listed, err := c.Referrers(ctx, subject, MediaType)
	if err != nil {
		return err
	}
	for _, d := range listed {
		if strings.HasSuffix(at, "@"+d.Digest.String()) {
			return nil
		}
	}
	return c.PutManifest(ctx, at, art)
}

// Find returns the SPDX document attached to subject (repository@digest), read through
// the referrers API or, where the registry lacks it, the referrers tag schema. When
// several are attached it returns the newest by creation time (then by digest). No
// SBOM attached is an error that says so.
func Find(ctx context.Context, subject string, opts ...ClientOption) ([]byte, error) {
	ref, err := digestRef(subject)
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM: %w", err)
	}
	c, err := clientOf(opts)
	if err != nil {
		return nil, err
	}
	found, err := c.Referrers(ctx, subject, MediaType)
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM: %w", err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("reading the SBOM: %s has no SBOM attached (no referrer of type %s)", subject, MediaType)
	}
	slices.SortFunc(found, func(a, b v1.Descriptor) int {
		return cmp.Or(strings.Compare(b.Annotations[AnnotationCreated], a.Annotations[AnnotationCreated]),
			strings.Compare(b.Digest.String(), a.Digest.String()))
	})
	at := ref.Context().Digest(found[0].Digest.String())
	img, err := c.Image(ctx, at.String(), platform.Platform{})
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM %s: %w", at, err)
	}
	var layer *v1.Descriptor
	for i, l := range m.Layers {
		if l.MediaType == MediaType {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		return nil, fmt.Errorf("reading the SBOM: %s has no %s layer", at, MediaType)
	}
	l, err := img.LayerByDigest(layer.Digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM %s: %w", at, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM %s: %w", at, err)
	}
	return b, nil
}

func digestRef(s string) (name.Digest, error) {
	d, err := name.NewDigest(s, name.WeakValidation)
	if err != nil {
		return name.Digest{}, fmt.Errorf("%q is not an image reference by digest (repository@sha256:...): %w", s, err)
	}
	return d, nil
}

// createdOf reads creationInfo.created of an SPDX JSON document, checking on the way
// that doc is one.
func createdOf(doc []byte) (string, error) {
	var d struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal(doc, &d); err != nil || !strings.HasPrefix(d.SPDXVersion, "SPDX-") {
		return "", errors.New("the document is not SPDX JSON")
	}
	if _, err := time.Parse(time.RFC3339, d.CreationInfo.Created); err != nil {
		return "", fmt.Errorf("the document's creationInfo.created %q is not an RFC 3339 time", d.CreationInfo.Created)
	}
	return d.CreationInfo.Created, nil
}

// artifact is an OCI 1.1 artifact as an image manifest: the empty config, one layer.
type artifact struct {
	manifest []byte
	layer    v1.Layer
}

func newArtifact(doc []byte, subject v1.Descriptor, created string) (v1.Image, error) {
	layer := static.NewLayer(doc, MediaType)
	ld, err := layer.Digest()
	if err != nil {
		return nil, err
	}
	cd, cs, err := v1.SHA256(bytes.NewReader(emptyJSON))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  MediaType,
		Config:        v1.Descriptor{MediaType: types.OCIEmptyJSON, Digest: cd, Size: cs},
		Layers: []v1.Descriptor{{
			MediaType:   MediaType,
			Digest:      ld,
			Size:        int64(len(doc)),
			Annotations: map[string]string{AnnotationTitle: Title},
		}},
		Subject:     &subject,
		Annotations: map[string]string{AnnotationCreated: created},
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifact{manifest: b, layer: layer})
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return emptyJSON, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if d, _ := a.layer.Digest(); d == h {
		return a.layer, nil
	}
	if d, _, _ := v1.SHA256(bytes.NewReader(emptyJSON)); d == h {
		return static.NewLayer(emptyJSON, types.OCIEmptyJSON), nil
	}
	return nil, fmt.Errorf("the SBOM artifact has no blob %s", h)
}

// refused adds, to a failed write of the artifact, what a refusal other than an
// authentication error means: the registry does not take an OCI 1.1 artifact or the
// referrers index. Other failures come as the registry client explained them.
func refused(what string, ref name.Digest, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode >= 400 && terr.StatusCode < 500 && !registry.IsAuth(err) {
		return fmt.Errorf("%s: registry %s refused the SBOM artifact (%w): it does not take OCI 1.1 artifacts (an image manifest with artifactType and subject) or their referrers index; use a registry that does, or set MAGESHIP_SBOM=off", what, ref.Context().RegistryStr(), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
