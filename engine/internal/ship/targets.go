package ship

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Targets are the names the Mage targets send, with how many arguments each takes.
var Targets = map[string]int{
	"image": 0, "image:debug": 0, "image:verify": 0, "image:test": 0, "image:sbom": 0,
	"release": 0, "release:platform": 1, "release:merge": 0,
	"binaries": 0, "dockerfile": 0, "dockerignore": 0, "doctor": 0,
}

// Target runs the pipeline behind the Mage target name with args.
func Target(ctx context.Context, name string, args []string, o Options) (err error) {
	n, ok := Targets[name]
	if !ok {
		return fmt.Errorf("the engine has no target %q (it knows %s): the targets and the engine are from different mageship versions; run go mod tidy and mage -f", name, strings.Join(slices.Sorted(maps.Keys(Targets)), ", "))
	}
	if len(args) != n {
		return fmt.Errorf("target %s takes %d arguments, got %d", name, n, len(args))
	}
	o, finish, err := withProgress(name, o.withDefaults())
	if err != nil {
		return err
	}
	defer func() { err = finish(err) }()
	return guardPanics(name, o, func() error { return run(ctx, name, args, o) })
}

// run runs the pipeline behind the target name.
func run(ctx context.Context, name string, args []string, o Options) (err error) {
	switch name {
	case "image":
		_, err = Image(ctx, Production, o)
	case "image:debug":
		_, err = Image(ctx, Debug, o)
	case "image:verify":
		err = Verify(ctx, o)
	case "image:test":
		err = Smoke(ctx, o)
	case "image:sbom":
		err = SBOM(ctx, o)
	case "release":
		_, err = Release(ctx, o)
	case "release:platform":
		_, err = ReleasePlatform(ctx, args[0], o)
	case "release:merge":
		_, err = ReleaseMerge(ctx, o)
	case "binaries":
		_, err = Binaries(ctx, o)
	case "dockerfile":
		_, err = WriteDockerfiles(ctx, o)
	case "dockerignore":
		err = WriteDockerignore(o)
	case "doctor":
		err = Doctor(ctx, o)
	}
	return err
}
