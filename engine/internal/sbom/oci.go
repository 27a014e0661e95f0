package sbom

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

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

// Attach pushes doc, an SPDX JSON document, as an OCI 1.1 artifact that refers to
// subject (repository@digest of a platform image): an image manifest with artifactType
// application/spdx+json, the empty config, one layer holding doc, and subject set to
// the image's descriptor. On a registry without the referrers API go-containerregistry
// also writes the referrers tag schema's index (tag sha256-<hex of the subject's
// digest>), so tools that list referrers find it either way. It returns the artifact
// as repository@digest. Pushing the same document again changes nothing.
//
// opts are go-containerregistry's remote options, applied after the defaults
// (the context, and credentials from authn.DefaultKeychain).
func Attach(ctx context.Context, subject string, doc []byte, opts ...remote.Option) (string, error) {
	ref, err := digestRef(subject)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM: %w", err)
	}
	created, err := createdOf(doc)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM to %s: %w", subject, err)
	}
	ro := remoteOptions(ctx, opts)
	desc, err := remote.Head(ref, ro...)
	if err != nil {
		return "", explain("attaching the SBOM: reading the image "+subject, ref, err)
	}
	if desc.MediaType.IsIndex() {
		return "", fmt.Errorf("attaching the SBOM: %s is an index; attach each platform's SBOM to that platform's image", subject)
	}
	art, err := newArtifact(doc, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, created)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM to %s: %w", subject, err)
	}
	d, err := art.Digest()
	if err != nil {
		return "", err
	}
	at := ref.Context().Digest(d.String())
	if err := remote.Write(at, art, ro...); err != nil {
		return "", explainPush("attaching the SBOM to "+subject, ref, err)
	}
	return at.String(), nil
}

// Find returns the SPDX document attached to subject (repository@digest), read through
// the referrers API or, where the registry lacks it, the referrers tag schema. When
// several are attached it returns the newest by creation time (then by digest). No
// SBOM attached is an error that says so.
func Find(ctx context.Context, subject string, opts ...remote.Option) ([]byte, error) {
	ref, err := digestRef(subject)
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM: %w", err)
	}
	ro := remoteOptions(ctx, opts)
	idx, err := remote.Referrers(ref, ro...)
	if err != nil {
		return nil, explain("listing the referrers of "+subject, ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, explain("listing the referrers of "+subject, ref, err)
	}
	var found []v1.Descriptor
	for _, desc := range im.Manifests {
		switch desc.ArtifactType {
		case MediaType:
			found = append(found, desc)
		case "", string(types.OCIEmptyJSON):
			// The spec has the referrers list give the manifest's artifactType, but some
			// registries give the config's media type (go-containerregistry's own
			// pkg/registry does): look at the manifest.
			got, err := remote.Get(ref.Context().Digest(desc.Digest.String()), ro...)
			if err != nil {
				return nil, explain("reading the referrer "+desc.Digest.String()+" of "+subject, ref, err)
			}
			var m v1.Manifest
			if json.Unmarshal(got.Manifest, &m) == nil && m.ArtifactType == MediaType {
				desc.Annotations = m.Annotations
				found = append(found, desc)
			}
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("reading the SBOM: %s has no SBOM attached (no referrer of type %s)", subject, MediaType)
	}
	slices.SortFunc(found, func(a, b v1.Descriptor) int {
		return cmp.Or(strings.Compare(b.Annotations[AnnotationCreated], a.Annotations[AnnotationCreated]),
			strings.Compare(b.Digest.String(), a.Digest.String()))
	})
	at := ref.Context().Digest(found[0].Digest.String())
	img, err := remote.Image(at, ro...)
	if err != nil {
		return nil, explain("reading the SBOM "+at.String(), ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, explain("reading the SBOM "+at.String(), ref, err)
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
		return nil, explain("reading the SBOM "+at.String(), ref, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, explain("reading the SBOM "+at.String(), ref, err)
	}
	return b, nil
}

func remoteOptions(ctx context.Context, opts []remote.Option) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
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

// explain makes a registry error one line that says what to do.
func explain(what string, ref name.Digest, err error) error {
	host := ref.Context().RegistryStr()
	msg := oneLine(err)
	if registry.IsAuth(err) {
		return fmt.Errorf("%s: registry %s refused access (%s): run docker login %s", what, host, msg, host)
	}
	var nerr *net.OpError
	if errors.As(err, &nerr) {
		return fmt.Errorf("%s: cannot reach registry %s (%s): check the address, or start the registry", what, host, msg)
	}
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode >= 500 {
		return fmt.Errorf("%s: registry %s answered %d after retries (%s): try again later, or check the registry", what, host, terr.StatusCode, msg)
	}
	if registry.IsNotFound(err) {
		return fmt.Errorf("%s: not found in %s (%s)", what, host, msg)
	}
	return fmt.Errorf("%s: %s", what, msg)
}

// explainPush is explain for writing the artifact, where any other refusal is the
// registry not taking an OCI 1.1 artifact or the referrers index.
func explainPush(what string, ref name.Digest, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode >= 400 && terr.StatusCode < 500 && !registry.IsAuth(err) {
		return fmt.Errorf("%s: registry %s refused the SBOM artifact (%s): it does not take OCI 1.1 artifacts (an image manifest with artifactType and subject) or their referrers index; use a registry that does, or set MAGESHIP_SBOM=off", what, ref.Context().RegistryStr(), oneLine(err))
	}
	return explain(what, ref, err)
}

// oneLine is err's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
