// Command mageship is mageship's engine: the program the Mage targets
// (github.com/mageship/mageship/pkg/targets) build in a module graph of its own, once
// per version into a cache directory, and start, so that its dependencies (the Docker
// client, go-containerregistry, ...) never enter the module graph of the service that
// imports the targets.
//
// It reads one request, a JSON value, from stdin: the target, its arguments, the
// magefile's configuration, mageship's Dockerfile template and .dockerignore, the
// environment and the directory the target ran in. It runs the target with that
// environment, and writes the error, if any, to the request's error file. The targets
// keep stdin open while it runs: when they close it (interrupted, timed out or gone),
// the engine cancels what it is doing.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/ship"
)

// protocol is the version of the request format; the targets send the one they speak.
const protocol = 1

// request is what the targets send; internal/launch in the root module writes it.
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

func main() {
	os.Exit(run())
}

func run() int {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "mageship engine: reading the request from the targets: %v (it is run by the Mage targets, not by hand)\n", err)
		return 2
	}
	err := serve(req)
	if err == nil {
		return 0
	}
	if req.ErrorFile == "" || os.WriteFile(req.ErrorFile, []byte(err.Error()), 0o600) != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
	}
	return 1
}

func serve(req request) error {
	if req.Protocol != protocol {
		return fmt.Errorf("the targets speak request protocol %d and this engine %d: they are from different mageship versions; run go mod tidy, then mage -f", req.Protocol, protocol)
	}
	// The environment is the one the target saw, read once there. It reaches every
	// child process explicitly (ship.Options.Env, config.Resolved.Env); it is also made
	// this process's environment, for the libraries that read theirs (the Docker
	// client's DOCKER_HOST, go-containerregistry's DOCKER_CONFIG).
	os.Clearenv()
	for _, kv := range req.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			os.Setenv(k, v)
		}
	}
	if err := os.Chdir(req.Dir); err != nil {
		return fmt.Errorf("entering the module directory: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		// The targets close stdin when their context ends.
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel(errors.New("the Mage target was stopped"))
	}()

	return ship.Target(ctx, req.Target, req.Args, ship.Options{
		Config: req.Config,
		Assets: ship.Assets{Template: req.Template, Ignore: req.DockerIgnore},
		Dir:    req.Dir,
		Env:    req.Env,
	})
}
