package ship

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/gobuild"
)

// Binaries cross-compiles every image's binary for every configured platform on
// this machine into dist/<os>_<arch>/, checks each is static and of the right
// architecture, and writes dist/SHA256SUMS. It returns the files, relative to dist/.
func Binaries(ctx context.Context, o Options) ([]string, error) {
	o = o.withDefaults()
	r, info, err := loadLocal(ctx, o)
	if err != nil {
		return nil, err
	}
	dist := filepath.Join(r.Project.Dir, "dist")
	var builds []gobuild.Build
	var files []string
	for _, img := range r.Images {
		for _, p := range r.Platforms {
			rel := filepath.Join(p.Dir(), img.Binary)
			files = append(files, rel)
			builds = append(builds, gobuild.Build{
				Dir: r.Project.Dir, Main: img.Main, Output: filepath.Join(dist, rel), Platform: p,
				VersionVar: img.VersionVar, Version: info.Version, Tags: img.Tags, Mod: gobuild.VendorMode(r.Project.Dir),
			})
		}
	}
	if err := gobuild.All(ctx, builds); err != nil {
		return nil, err
	}
	if err := binary.WriteSums(dist, files); err != nil {
		return nil, err
	}
	for _, f := range files {
		fmt.Fprintf(o.Stdout, "built dist/%s (%s)\n", filepath.ToSlash(f), info.Version)
	}
	fmt.Fprintf(o.Stdout, "wrote dist/%s\n", binary.SumsFile)
	return files, nil
}
