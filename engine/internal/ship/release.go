package ship

import (
	"context"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/release"
)

// ReleaseSummary is what a release writes to <dist>/release.json.
type ReleaseSummary = release.Summary

// Release runs mage release (release.Run).
func Release(ctx context.Context, o Options) (ReleaseSummary, error) {
	return release.Run(ctx, o.withDefaults().release())
}

// ReleasePlatform runs mage release:platform p (release.Platform).
func ReleasePlatform(ctx context.Context, p string, o Options) ([]release.PlatformDigest, error) {
	return release.Platform(ctx, p, o.withDefaults().release())
}

// ReleaseMerge runs mage release:merge (release.Merge).
func ReleaseMerge(ctx context.Context, o Options) (ReleaseSummary, error) {
	return release.Merge(ctx, o.withDefaults().release())
}

// release is what a release reads of o, which has its defaults.
func (o Options) release() release.Options {
	return release.Options{Load: func() (config.Resolved, error) { return load(o) },
		Env: o.Env, Getenv: o.Getenv, Stdout: o.Stdout, Stderr: o.Stderr, Progress: o.progress}
}
