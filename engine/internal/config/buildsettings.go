package config

import (
	"fmt"
	"strconv"
	"time"
)

// The build settings every pipeline reads: the time images record, the attestations
// BuildKit attaches, the build cache. Resolve reads them once (buildSettings).
const (
	// EnvSourceDateEpoch overrides the time every image records (default: the
	// commit's time), as reproducible-builds.org defines it.
	EnvSourceDateEpoch = "SOURCE_DATE_EPOCH"
	// EnvAttestations asks BuildKit for attestations: "provenance" for SLSA
	// provenance, "all" (or "1") for provenance and an SBOM. They add unknown/unknown
	// manifests to the index, so they are off by default. The SBOM generator is an
	// image BuildKit pulls (docker/buildkit-syft-scanner), so "all" needs Docker Hub
	// or a mirror of it.
	EnvAttestations = "MAGESHIP_ATTESTATIONS"
	// EnvCacheFrom and EnvCacheTo are passed to buildx as --cache-from and
	// --cache-to, with {name} replaced by <binary>-<variant>, e.g.
	// MAGESHIP_CACHE_TO=type=registry,ref=ghcr.io/acme/cache:{name},mode=max.
	EnvCacheFrom = "MAGESHIP_CACHE_FROM"
	EnvCacheTo   = "MAGESHIP_CACHE_TO"
)

// BuildSettings are the settings of every build that come from the environment alone.
type BuildSettings struct {
	// SourceDateEpoch is SOURCE_DATE_EPOCH, in UTC; zero when unset (the commit's
	// time applies: see Time).
	SourceDateEpoch time.Time
	// Provenance and AttestSBOM are the attestations BuildKit attaches
	// (MAGESHIP_ATTESTATIONS).
	Provenance, AttestSBOM bool
	// CacheFrom and CacheTo are buildx's --cache-from and --cache-to, with {name}
	// for <binary>-<variant>; "" for none.
	CacheFrom, CacheTo string
}

// Time is the time every image records: SOURCE_DATE_EPOCH when the caller sets it,
// else commit (the commit's time); zero when neither is known (no git).
func (s BuildSettings) Time(commit time.Time) time.Time {
	if !s.SourceDateEpoch.IsZero() {
		return s.SourceDateEpoch
	}
	return commit
}

// Attest reports whether BuildKit is asked for any attestation.
func (s BuildSettings) Attest() bool { return s.Provenance || s.AttestSBOM }

// buildSettings reads the build settings from the environment.
func buildSettings(getenv func(string) string) (BuildSettings, error) {
	s := BuildSettings{CacheFrom: getenv(EnvCacheFrom), CacheTo: getenv(EnvCacheTo)}
	if v := getenv(EnvSourceDateEpoch); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return BuildSettings{}, fmt.Errorf("%s=%s is not a Unix time in seconds: unset it to use the commit's time", EnvSourceDateEpoch, v)
		}
		s.SourceDateEpoch = time.Unix(n, 0).UTC()
	}
	switch v := getenv(EnvAttestations); v {
	case "", "0", "none":
	case "provenance":
		s.Provenance = true
	case "1", "all":
		s.Provenance, s.AttestSBOM = true, true
	default:
		return BuildSettings{}, fmt.Errorf("%s=%s: use provenance, all, or leave it unset for none", EnvAttestations, v)
	}
	return s, nil
}
