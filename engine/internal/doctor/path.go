package doctor

import (
	"context"

	"github.com/mageship/mageship/engine/internal/config"
)

// Path is the way the images are built: config.Resolved's Build (host or container)
// and Assemble (direct or buildx).
type Path struct {
	Build, Assemble string
}

// direct reports whether p assembles in-process: no buildx and no builder at all, and
// a Docker engine only for what runs images locally (image, image:debug, image:test).
func (p Path) direct() bool { return p.Assemble == config.AssembleDirect }

// RunFor is Run for the path p, which decides what each check means:
//   - on the host path's direct assembler, buildx and the builder are not used, and
//     release needs no engine: those checks no longer stop anything, and a failure
//     among them says which targets still need the part;
//   - with buildx (host+buildx, or the container path), a release pushes by digest,
//     which buildx refuses on a docker-driver builder: the builder check fails there,
//     with the fix.
func RunFor(ctx context.Context, n Need, p Path, opts ...Option) Report {
	rep := Run(ctx, n, opts...)
	for i := range rep.Checks {
		c := &rep.Checks[i]
		switch {
		case p.direct() && (c.Name == "buildx" || c.Name == "builder"):
			c.Required = false
			if c.OK {
				c.Detail += " (not used: images are assembled in-process)"
			} else {
				c.Detail += "; not used on this path (" + config.EnvAssemble + "=" + config.AssembleDirect + ")"
			}
		case p.direct() && c.Name == "engine":
			c.Required = false
			if !c.OK {
				c.Detail += "; release does not need it, image, image:debug and image:test do"
			}
		case !p.direct() && c.Name == "builder":
			// A docker-driver builder fails here whatever else it lacks: its push-by-digest
			// refusal is the one a release meets first.
			o := newOptions(opts, n.Env)
			b, err := o.inspect(ctx, n.Builder)
			if err != nil {
				continue
			}
			if why := b.PushByDigest(); why != "" {
				c.OK, c.Required = false, true
				c.Detail = why
				c.Fix = "docker buildx create --use"
				if p.Build == config.BuildHost {
					c.Fix += ", or unset " + config.EnvAssemble + " (the host path's default assembles without buildx)"
				} else {
					c.Fix += ", or build on the host (unset " + config.EnvBuild + "), whose default assembles without buildx"
				}
			}
		}
	}
	return rep
}
