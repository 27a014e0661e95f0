// Package launch runs mageship's engine for a Mage target. The engine
// (github.com/mageship/mageship/engine, a module of its own) holds everything heavy:
// the Docker client, go-containerregistry, BuildKit's command lines. It is built with
// the go command in its own module graph, at exactly the version of these targets, so
// that none of its dependencies enter the module graph of the service that imports the
// targets, into a cache directory (MAGESHIP_CACHE_DIR, default os.UserCacheDir()/mageship)
// once per engine version and Go version, and then started directly: a run after the
// first costs a stat and an exec.
package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mageship/mageship"
	"github.com/mageship/mageship/pkg/config"
)

// Module is the module path of the targets; the engine is EngineModule, a module
// nested in the same repository and released at the same versions.
const (
	Module       = "github.com/mageship/mageship"
	EngineModule = Module + "/engine"
	enginePkg    = "/cmd/mageship"
	protocol     = 1
)

// request is what the engine reads from stdin (engine/cmd/mageship).
type request struct {
	Protocol     int           `json:"protocol"`
	Target       string        `json:"target"`
	Args         []string      `json:"args"`
	Config       config.Config `json:"config"`
	Template     string        `json:"template"`
	DockerIgnore string        `json:"dockerignore"`
	Env          []string      `json:"env"`
	Dir          string        `json:"dir"`
	ErrorFile    string        `json:"error_file"`
}

// Run runs target with args in the engine and returns its error. The environment is
// read here, once, and handed to the engine whole.
func Run(ctx context.Context, target string, args ...string) error {
	env := os.Environ()
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	src, err := locate(ctx, dir, env)
	if err != nil {
		return err
	}
	cache, err := cacheDir(env)
	if err != nil {
		return err
	}
	bin, release, err := engine(ctx, src, env, cache, thisToolchain(), os.Stderr)
	if err != nil {
		return err
	}
	errFile, err := os.CreateTemp("", "mageship-error-")
	if err != nil {
		release()
		return err
	}
	errFile.Close()
	defer os.Remove(errFile.Name())
	req := request{
		Protocol: protocol, Target: target, Args: args, Config: config.Get(),
		Template: mageship.DockerfileTemplate, DockerIgnore: mageship.DockerIgnore,
		Env: env, Dir: dir, ErrorFile: errFile.Name(),
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	runErr := run(ctx, cmd, req, release)
	if b, _ := os.ReadFile(errFile.Name()); len(b) > 0 {
		return errors.New(string(b))
	}
	if runErr != nil {
		return fmt.Errorf("running the mageship engine (%s): %w", src, runErr)
	}
	return nil
}

// source is where the engine's code comes from: a published version, or a directory
// (a replace directive, or this repository itself).
type source struct {
	version string // module version, e.g. v1.2.3; empty when dir is set
	path    string // module path of the targets (a replace may name a fork)
	dir     string // the targets' module directory, holding engine/
}

func (s source) String() string {
	if s.dir != "" {
		return filepath.Join(s.dir, "engine")
	}
	return s.path + "/engine@" + s.version
}

// locate finds the engine matching these targets, from the build information of the
// running magefile binary.
func locate(ctx context.Context, dir string, env []string) (source, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return source{}, errors.New("finding the mageship engine: the magefile binary has no build information; build it with module support (go tool mage)")
	}
	return locateIn(bi, func() (string, error) { return goModDir(ctx, dir, env) })
}

// locateIn is locate's decision: a published version runs the engine of that
// version; a directory (a replace directive, relative to the service's go.mod in
// modDir, or this repository's own magefile) runs the engine from its engine/.
func locateIn(bi *debug.BuildInfo, modDir func() (string, error)) (source, error) {
	var mod *debug.Module
	if bi.Main.Path == Module {
		mod = &bi.Main
	}
	for _, d := range bi.Deps {
		if d.Path == Module {
			mod = d
		}
	}
	if mod == nil {
		return source{}, fmt.Errorf("finding the mageship engine: the magefile does not depend on %s; run go get %s", Module, Module)
	}
	isMain := mod == &bi.Main
	if mod.Replace != nil {
		mod = mod.Replace
	}
	if mod.Version != "" && mod.Version != "(devel)" {
		return source{path: mod.Path, version: mod.Version}, nil
	}
	d := mod.Path
	if isMain || !filepath.IsAbs(d) {
		base, err := modDir()
		if err != nil {
			return source{}, err
		}
		d = base
		if !isMain {
			d = filepath.Join(base, mod.Path)
		}
	}
	if _, err := os.Stat(filepath.Join(d, "engine", "go.mod")); err != nil {
		return source{}, fmt.Errorf("finding the mageship engine: %s has no engine/go.mod; point the replace directive for %s at a checkout of the mageship repository", d, Module)
	}
	return source{dir: d}, nil
}

// goModDir is the directory of the service's go.mod.
func goModDir(ctx context.Context, dir string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding the module's go.mod (go env GOMOD): %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("no go.mod in %s or above: run the targets from your module", dir)
	}
	return filepath.Dir(gomod), nil
}

// run starts cmd, calls started once the engine runs (or could not start), writes
// req to its stdin and keeps stdin open until the engine ends or ctx is done: closing
// it is how the engine learns to stop, whatever its parent. After that the engine
// gets waitDelay to clean up before it is killed.
func run(ctx context.Context, cmd *exec.Cmd, req request, started func()) error {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		started()
		return err
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Start()
	started()
	if err != nil {
		return err
	}
	werr := json.NewEncoder(stdin).Encode(req)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		stdin.Close()
	}()
	err = waitWithin(cmd, done, ctx, waitDelay)
	if err == nil && werr != nil {
		err = werr
	}
	return err
}

const waitDelay = 30 * time.Second

// waitWithin waits for cmd; once ctx is done it allows delay before killing it.
func waitWithin(cmd *exec.Cmd, done chan struct{}, ctx context.Context, delay time.Duration) error {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(done) }()
	select {
	case err := <-exited:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-exited:
		return err
	case <-time.After(delay):
		_ = cmd.Process.Kill()
		<-exited
		return ctx.Err()
	}
}
