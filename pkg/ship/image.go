package ship

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/mageship/mageship/pkg/buildx"
	"github.com/mageship/mageship/pkg/engine"
	"github.com/mageship/mageship/pkg/platform"
	"github.com/mageship/mageship/pkg/version"
)

// Loaded is an image Image built and loaded into the local engine.
type Loaded struct {
	Ref        string // repository:tag
	Variant    Variant
	Platform   platform.Platform
	Size       int64
	User       string
	Entrypoint []string
}

// Image builds variant v of every configured image for this machine's platform and
// loads it into the local Docker engine as <repository>:<version> (debug:
// <version>-debug). Local builds accept a dirty tree (the version says -dirty) and a
// directory without git (version dev).
func Image(ctx context.Context, v Variant, o Options) ([]Loaded, error) {
	o = o.withDefaults()
	r, err := Load(o.Dir, o.Getenv)
	if err != nil {
		return nil, err
	}
	vo, err := version.OptionsFromEnv(o.Getenv)
	if err != nil {
		return nil, err
	}
	vo.AllowDirty, vo.AllowNoGit = true, true
	info, err := version.Resolve(ctx, r.Project.Dir, vo)
	if err != nil {
		return nil, err
	}
	tags, err := variantTags(v, []string{info.Version})
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mageship-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	e := env{getenv: o.Getenv, goEnv: goEnv(ctx, o.Getenv), netrc: netrc(o.Getenv)}

	host := platform.Host()
	var specs []Spec
	for _, img := range r.Images {
		s, err := spec(r, img, v, info, []platform.Platform{host}, buildx.Output{Kind: buildx.OutputLoad}, tagged(img.Name, tags), dir, e)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Name, err)
		}
		specs = append(specs, s)
	}

	var out []Loaded
	for _, s := range specs {
		if err := s.write(); err != nil {
			return out, err
		}
		if _, err := buildx.Run(ctx, s.Build, buildx.WithStdout(o.Stderr), buildx.WithStderr(o.Stderr)); err != nil {
			return out, err
		}
		ref := s.Build.Tags[0]
		ii, err := eng.Inspect(ctx, ref)
		if err != nil {
			return out, fmt.Errorf("the build reported success but %w", err)
		}
		l := Loaded{Ref: ref, Variant: v, Platform: ii.Platform, Size: ii.Size, User: ii.User, Entrypoint: ii.Entrypoint}
		out = append(out, l)
		fmt.Fprintf(o.Stdout, "built %s (%s, %s): %s, user %s, entrypoint %s\n", l.Ref, v, l.Platform, humanSize(l.Size), l.User, strings.Join(l.Entrypoint, " "))
	}
	return out, nil
}
