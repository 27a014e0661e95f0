// Package release is mageship's release:* Mage targets, for releases built across
// several machines (one CI runner per platform). Import it with the alias release:
//
//	//mage:import release
//	_ "github.com/mageship/mageship/pkg/targets/release"
package release

import (
	"context"

	"github.com/mageship/mageship/internal/launch"
)

// Platform builds and pushes both variants for one platform, such as linux/arm64, by digest, verifies them and writes dist/digests/; moves no tag.
func Platform(ctx context.Context, platform string) error {
	return launch.Run(ctx, "release:platform", platform)
}

// Merge combines the digests in dist/digests/ into multi-platform indexes, verifies them, then moves all tags in one final step; writes dist/release.json.
func Merge(ctx context.Context) error {
	return launch.Run(ctx, "release:merge")
}
