package buildx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Metadata is what buildx writes to --metadata-file after a build. Fields the
// build did not produce are empty: a build that exported no image has only BuildRef.
type Metadata struct {
	// Digest is the digest of what was exported: the image manifest for one
	// platform, the index for several (containerimage.digest).
	Digest string `json:"containerimage.digest,omitempty"`
	// ConfigDigest is the image config's digest for a single-platform image; an
	// index has none (containerimage.config.digest).
	ConfigDigest string `json:"containerimage.config.digest,omitempty"`
	// ImageName is the comma-separated list of names the image was exported
	// under: the tags, or the repository for push-by-digest (image.name).
	ImageName string `json:"image.name,omitempty"`
	// Descriptor describes the exported manifest or index (containerimage.descriptor).
	Descriptor Descriptor `json:"containerimage.descriptor,omitzero"`
	// BuildRef names the build in the builder's history, as
	// builder/node/ref (buildx.build.ref).
	BuildRef string `json:"buildx.build.ref,omitempty"`
}

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Media types of a multi-platform index.
const (
	MediaTypeOCIIndex           = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// IsIndex reports whether d describes an index of several manifests rather
// than one image manifest.
func (d Descriptor) IsIndex() bool {
	return d.MediaType == MediaTypeOCIIndex || d.MediaType == MediaTypeDockerManifestList
}

// Names splits ImageName into its names, in the order buildx wrote them.
func (m Metadata) Names() []string {
	var names []string
	for _, n := range strings.Split(m.ImageName, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// ReadMetadata reads the file buildx wrote with --metadata-file.
func ReadMetadata(path string) (Metadata, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Metadata{}, fmt.Errorf("reading buildx metadata: %s does not exist: buildx writes it only at the end of a successful build run with --metadata-file", path)
	}
	if err != nil {
		return Metadata{}, fmt.Errorf("reading buildx metadata: %w", err)
	}
	return parseMetadata(path, data)
}

func parseMetadata(path string, data []byte) (Metadata, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Metadata{}, fmt.Errorf("reading buildx metadata: %s is empty: run the build again, it was probably interrupted", path)
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return Metadata{}, fmt.Errorf("reading buildx metadata from %s: %w: it should be the JSON object buildx writes with --metadata-file", path, err)
	}
	for _, d := range []string{m.Digest, m.ConfigDigest, m.Descriptor.Digest} {
		if d != "" && !validDigest(d) {
			return Metadata{}, fmt.Errorf("reading buildx metadata from %s: %q is not a digest: expected algorithm:hex, e.g. sha256:...", path, d)
		}
	}
	return m, nil
}

// validDigest checks the algorithm:hex shape of a digest.
func validDigest(d string) bool {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || alg == "" || len(hex) < 32 {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
