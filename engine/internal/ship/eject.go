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
	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/variant"
	"github.com/mageship/mageship/engine/internal/version"
)

// WriteDockerfiles renders each image's Dockerfile into the module root (Dockerfile
// for one image, <binary>.Dockerfile for several; MAGESHIP_DOCKERFILE elsewhere) and
// writes the default .dockerignore unless one exists. It never overwrites a file it
// did not write, or one edited since: nothing is written then. It prints the command
// that builds each file, and which files it changed.
func WriteDockerfiles(ctx context.Context, o Options) ([]string, error) {
	o = o.withDefaults()
	r, err := load(o)
	if err != nil {
		return nil, err
	}
	// An ejected Dockerfile must build on its own: it compiles in its build stage.
	r.Build = config.BuildContainer
	info := version.Info{Version: version.Dev}
	type dockerfile struct {
		path, name, text string
		cmd              []string
	}
	var files []dockerfile
	for _, img := range r.Images {
		path := r.DockerfilePath(img)
		name := dist.RepoName(r, path)
		s, err := variant.Build{Config: r, Image: img, Variant: Production, Info: info, Platforms: []platform.Platform{platform.Host()}}.Spec(buildx.Output{Kind: buildx.OutputLoad}, []string{img.Name + ":dev"}, r.Project.Dir, variant.Env{})
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Name, err)
		}
		cmd := []string{"docker", "buildx", "build", "--target", "runtime", "--build-arg", "VERSION=1.2.3"}
		if name != "Dockerfile" {
			cmd = append(cmd, "-f", name)
		}
		for _, c := range slices.Sorted(maps.Keys(s.Build.Contexts)) {
			rel, _ := filepath.Rel(r.Project.Dir, s.Build.Contexts[c])
			cmd = append(cmd, "--build-context", c+"="+rel)
		}
		cmd = append(cmd, "-t", img.Name+":1.2.3", ".")
		files = append(files, dockerfile{path: path, name: name, text: s.Dockerfile, cmd: cmd})
	}
	// Every file is checked before any is written.
	for _, f := range files {
		if err := owned.CheckDockerfile(f.path, f.name); err != nil {
			return nil, dockerfileInTheWay(err, o.Getenv, len(r.Images))
		}
	}
	var changed []string
	var names []string
	for _, f := range files {
		c, err := owned.WriteDockerfile(f.path, f.name, f.text)
		if err != nil {
			return changed, dockerfileInTheWay(err, o.Getenv, len(r.Images))
		}
		what := "wrote " + f.name
		switch c {
		case owned.Updated:
			what = "updated " + f.name
		case owned.Unchanged:
			what = f.name + " is up to date"
		}
		if c != owned.Unchanged {
			changed = append(changed, f.path)
			names = append(names, f.name)
		}
		fmt.Fprintf(o.Stdout, "%s; build it with: %s\n", what, strings.Join(f.cmd, " "))
	}
	ignore := filepath.Join(r.Project.Dir, ".dockerignore")
	created, err := writeIgnore(ignore, r.DefaultIgnore, o)
	if err != nil {
		return changed, err
	}
	if created {
		changed = append(changed, ignore)
		names = append(names, ".dockerignore")
	}
	if len(names) == 0 {
		fmt.Fprintln(o.Stdout, "mage dockerfile changed no file")
	} else {
		fmt.Fprintf(o.Stdout, "mage dockerfile changed %s: commit or remove them before mage release, which refuses a dirty tree\n", strings.Join(names, ", "))
	}
	return changed, nil
}

// writeIgnore writes mageship's default .dockerignore at path unless a file is there,
// says which, and reports whether it wrote.
func writeIgnore(path, def string, o Options) (bool, error) {
	created, err := owned.Create(path, []byte(def), 0o644)
	if err != nil {
		return false, err
	}
	switch b, _ := os.ReadFile(path); {
	case created:
		fmt.Fprintln(o.Stdout, "wrote .dockerignore (mageship's default)")
	case string(b) == def:
		fmt.Fprintln(o.Stdout, "kept .dockerignore (mageship's default, unchanged)")
	default:
		fmt.Fprintln(o.Stdout, "kept your .dockerignore (remove it to get mageship's default)")
	}
	return created, nil
}

// dockerfileInTheWay adds the fix to an error about a Dockerfile mageship may not
// overwrite.
func dockerfileInTheWay(err error, getenv func(string) string, images int) error {
	var itw *owned.InTheWay
	if !errors.As(err, &itw) {
		return err
	}
	fix := "set " + config.EnvDockerfile + "=Dockerfile.mageship to write beside it"
	switch {
	case getenv(config.EnvDockerfile) != "":
		fix = "set " + config.EnvDockerfile + " to another path"
	case images > 1:
		fix = "set " + config.EnvDockerfile + "={binary}.mageship.Dockerfile to write beside it"
	}
	return fmt.Errorf("%w; mageship never overwrites a file it did not write: %s, or move it away", err, fix)
}
