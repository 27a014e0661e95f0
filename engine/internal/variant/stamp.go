package variant

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/buildfile"
	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/version"
)

// Stamp renders, for this version, each image's release-build file build (goreleaser,
// ko, promu) or Image.Ldflags into its Stamp, which go build gets. The templates were
// checked when the configuration was resolved; the facts they get are fixed by the
// commit: the version, the commit, the branch, and the commit's time or
// SOURCE_DATE_EPOCH.
func Stamp(ctx context.Context, r config.Resolved, info version.Info) (config.Resolved, error) {
	if !slices.ContainsFunc(r.Images, func(img config.ResolvedImage) bool { return img.Release != nil || len(img.Ldflags) > 0 }) {
		return r, nil
	}
	v := buildfile.Vars{
		Version: info.Version, Commit: info.Revision, Date: r.Settings.Time(info.Created), CommitDate: info.Created,
		Branch: gitBranch(ctx, r.Project.Dir, r.Env), ModulePath: r.Project.Module, Dirty: info.Dirty,
		Env: buildfile.EnvMap(r.Env),
	}
	r.Images = slices.Clone(r.Images)
	for i, img := range r.Images {
		var s gobuild.Stamp
		if img.Release != nil {
			rendered, err := img.Release.Render(v)
			if err != nil {
				return r, err
			}
			s = gobuild.Stamp{File: true, Ldflags: rendered.Ldflags, Flags: rendered.Flags, Env: rendered.Env}
		}
		if len(img.Ldflags) > 0 {
			var err error
			if s.Ldflags, err = buildfile.Ldflags(img.Ldflags, v); err != nil {
				return r, fmt.Errorf("image %s: %w", img.Name, err)
			}
			s.File = false
		}
		r.Images[i].Stamp = s
	}
	return r, nil
}

// gitBranch is git rev-parse --abbrev-ref HEAD in dir ("HEAD" when detached), as
// goreleaser and promu read it; "" without git.
func gitBranch(ctx context.Context, dir string, env []string) string {
	out, err := command.Output(ctx, command.Cmd{Name: "git", Args: []string{"rev-parse", "--abbrev-ref", "HEAD"}, Dir: dir, Env: env})
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
