package ship

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/version"
)

// WriteDockerfiles renders each image's Dockerfile into the module root (Dockerfile
// for one image, <binary>.Dockerfile for several) and writes the default
// .dockerignore unless one exists. It prints the command that builds each file.
func WriteDockerfiles(ctx context.Context, o Options) ([]string, error) {
	o = o.withDefaults()
	r, err := load(o)
	if err != nil {
		return nil, err
	}
	// An ejected Dockerfile must build on its own: it compiles in its build stage.
	r.Build = config.BuildContainer
	info := version.Info{Version: version.Dev}
	var written []string
	for _, img := range r.Images {
		name := "Dockerfile"
		if len(r.Images) > 1 {
			name = img.Binary + ".Dockerfile"
		}
		path := filepath.Join(r.Project.Dir, name)
		s, err := spec(r, img, Production, info, []platform.Platform{platform.Host()}, buildx.Output{Kind: buildx.OutputLoad}, []string{img.Name + ":dev"}, r.Project.Dir, env{getenv: o.Getenv})
		if err != nil {
			return written, fmt.Errorf("image %s: %w", img.Name, err)
		}
		if err := os.WriteFile(path, []byte(s.Dockerfile), 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
		cmd := []string{"docker", "buildx", "build", "--target", "runtime", "--build-arg", "VERSION=1.2.3"}
		if name != "Dockerfile" {
			cmd = append(cmd, "-f", name)
		}
		for _, c := range slices.Sorted(maps.Keys(s.Build.Contexts)) {
			rel, _ := filepath.Rel(r.Project.Dir, s.Build.Contexts[c])
			cmd = append(cmd, "--build-context", c+"="+rel)
		}
		cmd = append(cmd, "-t", img.Name+":1.2.3", ".")
		fmt.Fprintf(o.Stdout, "wrote %s; build it with: %s\n", name, strings.Join(cmd, " "))
	}
	ignore := filepath.Join(r.Project.Dir, ".dockerignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte(r.DefaultIgnore), 0o644); err != nil {
			return written, err
		}
		written = append(written, ignore)
		fmt.Fprintln(o.Stdout, "wrote .dockerignore")
	} else {
		fmt.Fprintln(o.Stdout, "kept your .dockerignore")
	}
	return written, nil
}
