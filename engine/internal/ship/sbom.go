package ship

import (
	"context"
	"fmt"

	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/release"
)

// SBOM prints the SPDX SBOM of the local production image of every configured image
// (what release attaches to each platform image), one JSON document per image.
func SBOM(ctx context.Context, o Options) error {
	o = o.withDefaults()
	r, info, err := loadLocal(ctx, o)
	if err != nil {
		return err
	}
	when := r.Settings.Time(info.Created)
	for _, img := range r.Images {
		ref := img.Name + ":" + info.Version
		image, err := imagefs.FromDaemon(ctx, ref)
		if err != nil {
			return fmt.Errorf("%w; build it first with mage image", err)
		}
		doc, _, err := release.SBOMOf(image, img, ref, when)
		if err != nil {
			return fmt.Errorf("making the SBOM of %s: %w", ref, err)
		}
		if _, err := o.Stdout.Write(append(doc, '\n')); err != nil {
			return err
		}
	}
	return nil
}
