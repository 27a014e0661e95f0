package ship

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/preflight"
	"github.com/mageship/mageship/engine/internal/variant"
)

// Binaries cross-compiles every image's binary for every configured platform on
// this machine into <dist>/<os>_<arch>/ (dist/ unless MAGESHIP_DIST says otherwise),
// checks each is static and of the right architecture, and writes <dist>/SHA256SUMS.
// Files there that mageship did not write are never overwritten: when one is in the
// way, nothing is built. It returns the files, relative to the output directory.
func Binaries(ctx context.Context, o Options) ([]string, error) {
	o = o.withDefaults()
	r, info, err := loadLocal(ctx, o)
	if err != nil {
		return nil, err
	}
	d, err := dist.Open(r)
	if err != nil {
		return nil, err
	}
	var rels []string
	for _, img := range r.Images {
		for _, p := range r.Platforms {
			rels = append(rels, path.Join(p.Dir(), img.Binary))
		}
	}
	if err := d.Check(append(rels, binary.SumsFile)...); err != nil {
		return nil, dist.InTheWay(err, "nothing was built")
	}
	// Build into a staging folder inside the output directory, then move the results
	// into place: a failed build leaves the earlier binaries as they were.
	stage, err := d.Stage()
	if err != nil {
		return nil, dist.InTheWay(err, "nothing was built")
	}
	defer os.RemoveAll(stage)
	for _, w := range r.Warnings {
		fmt.Fprintln(o.Stderr, "warning:", w)
	}
	if r, err = variant.Stamp(ctx, r, info); err != nil {
		return nil, err
	}
	var builds []gobuild.Build
	i := 0
	for _, img := range r.Images {
		for _, p := range r.Platforms {
			builds = append(builds, gobuild.Build{
				Dir: r.Project.Dir, Main: img.Main, Output: filepath.Join(stage, filepath.FromSlash(rels[i])), Platform: p,
				VersionVar: img.VersionVar, Version: info.Version, Tags: img.Tags, Mod: gobuild.VendorMode(r.Project.Dir),
				Stamp: img.Stamp,
			})
			i++
		}
	}
	if err := preflight.CheckCgoDeps(ctx, r, r.Platforms); err != nil {
		return nil, err
	}
	step := o.progress.Start("compile", platform.Strings(r.Platforms))
	err = gobuild.All(ctx, builds, gobuild.WithEnv(r.Env))
	step.Done(err)
	if err != nil {
		return nil, err
	}
	sums, err := binary.Sums(stage, rels)
	if err != nil {
		return nil, err
	}
	var files []owned.File
	for _, rel := range rels {
		files = append(files, owned.File{Rel: rel, From: filepath.Join(stage, filepath.FromSlash(rel)), Mode: 0o755})
	}
	files = append(files, owned.File{Rel: binary.SumsFile, Data: sums})
	changes, err := d.Put(files...)
	if err != nil {
		return nil, dist.InTheWay(err, "the binaries were built but not put in place")
	}
	var out []string
	for i, rel := range rels {
		note := ""
		if changes[i] == owned.Unchanged {
			note = ", unchanged"
		}
		what := info.Version
		if builds[i].VersionVar == "" {
			what = "no version"
		}
		fmt.Fprintf(o.Stdout, "built %s (%s%s)\n", d.Name(rel), what, note)
		out = append(out, filepath.FromSlash(rel))
	}
	if changes[len(rels)] == owned.Unchanged {
		fmt.Fprintf(o.Stdout, "%s is up to date\n", d.Name(binary.SumsFile))
	} else {
		fmt.Fprintf(o.Stdout, "wrote %s\n", d.Name(binary.SumsFile))
	}
	return out, nil
}
