package release

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/sbom"
	"github.com/mageship/mageship/engine/internal/sign"
)

// The supply-chain steps of a release: an SPDX SBOM attached to every platform image
// (an OCI 1.1 referrer), and a cosign signature on every index, both by digest, after
// verification and before any tag moves.

// SBOMOf is the SPDX SBOM of the binary in image, from its Go build information, and
// the Go version that built it.
func SBOMOf(image v1.Image, img config.ResolvedImage, ref string, created time.Time) ([]byte, string, error) {
	bin, err := imagefs.ReadFile(image, path.Join("/usr/local/bin", img.Binary))
	if err != nil {
		return nil, "", err
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return nil, "", fmt.Errorf("reading the Go build information of %s's binary: %w", ref, err)
	}
	doc, err := sbom.FromBuildInfo(bi, created, sbom.WithName(ref))
	return doc, bi.GoVersion, err
}

// attachSBOM makes and attaches the SBOM of the platform image ref and returns the
// SBOM artifact's reference (repository@digest) and the binary's Go version.
func attachSBOM(ctx context.Context, reg *registry.Client, image v1.Image, img config.ResolvedImage, ref string, created time.Time) (string, string, error) {
	doc, goVersion, err := SBOMOf(image, img, ref, created)
	if err != nil {
		return "", "", fmt.Errorf("making the SBOM of %s: %w", ref, err)
	}
	art, err := sbom.Attach(ctx, ref, doc, sbom.WithClient(reg))
	if err != nil {
		return "", "", fmt.Errorf("%w; or set %s=off", err, config.EnvSBOM)
	}
	return art, goVersion, nil
}

// signOptions are cosign's options for r.
func signOptions(r config.Resolved) sign.Options {
	return sign.Options{Key: r.CosignKey, TlogUpload: r.CosignTlog}
}

// checkSigning fails before anything is built when signing is asked for and cannot
// happen: no cosign on PATH, or a key file that does not exist.
func checkSigning(r config.Resolved) error {
	if r.CosignKey == "" {
		return nil
	}
	if _, err := exec.LookPath("cosign"); err != nil {
		return fmt.Errorf("%s is set but cosign is not installed (%v): install it (go install %s), or unset %s to release unsigned", config.EnvCosignKey, err, sign.CosignModule, config.EnvCosignKey)
	}
	if sign.IsFileKey(r.CosignKey) {
		if _, err := os.Stat(r.CosignKey); err != nil {
			return fmt.Errorf("%s=%s: %v: point it at a cosign key file (cosign generate-key-pair) or a KMS URI", config.EnvCosignKey, r.CosignKey, err)
		}
	}
	return nil
}

// signIndex signs ref (repository@digest) with cosign and returns the signature's
// reference: the Sigstore bundle cosign attached to ref as a referrer. An index that
// carries a signature by this key already is not signed again, so that re-runs leave
// one signature.
func signIndex(ctx context.Context, reg *registry.Client, r config.Resolved, ref string) (string, error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return "", err
	}
	before, err := signatures(ctx, reg, ref)
	if err != nil {
		return "", err
	}
	// A re-run of a release (one killed after signing, say) finds the index signed
	// with this key already: it keeps that signature rather than adding a second.
	if len(before) > 0 && sign.SignedBy(ctx, ref, signOptions(r), r.Env) {
		return d.Context().Name() + "@" + before[0], nil
	}
	if err := sign.Sign(ctx, ref, signOptions(r), r.Env); err != nil {
		return "", err
	}
	after, err := signatures(ctx, reg, ref)
	if err != nil {
		return "", err
	}
	for _, s := range after {
		if !slices.Contains(before, s) {
			return d.Context().Name() + "@" + s, nil
		}
	}
	return "", fmt.Errorf("cosign signed %s but left no new %s referrer", ref, sigstoreBundle)
}

// signatures are the digests of the Sigstore bundles attached to ref
// (repository@digest) as referrers. A registry that lists a referrer by its config's
// media type has that referrer's manifest read (registry.Client.Referrers).
func signatures(ctx context.Context, reg *registry.Client, ref string) ([]string, error) {
	found, err := reg.Referrers(ctx, ref, sigstoreBundle)
	if err != nil {
		return nil, fmt.Errorf("finding the signatures attached to %s: %w", ref, err)
	}
	var sigs []string
	for _, m := range found {
		sigs = append(sigs, m.Digest.String())
	}
	return sigs, nil
}

// sigstoreBundle is the artifact type of the signatures cosign v3 attaches.
const sigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
