package rigtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Root is the mageship repository root: the directory holding scripts/rig.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "rig")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the mageship repository (scripts/rig) above the test's directory")
		}
		dir = parent
	}
}

var (
	envOnce sync.Once
	envVars map[string]string
	envErr  error
)

// Env returns the rig's settings (the export lines of scripts/rig env) after checking
// that the Docker engine, the builder and the registry answer. An integration test
// that calls it fails when the rig is down; under go test -short it is skipped, as
// every integration test is.
func Env(t testing.TB) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the rig (scripts/rig up); skipped by -short")
	}
	envOnce.Do(func() { envVars, envErr = readEnv(Root(t)) })
	if envErr != nil {
		t.Fatalf("the rig is not up: %v; run scripts/rig up", envErr)
	}
	return envVars
}

func readEnv(root string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := command.Output(ctx, command.Cmd{Name: filepath.Join(root, "scripts", "rig"), Args: []string{"env"}, Env: os.Environ()})
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	checks := [][]string{
		{"docker", "version", "--format", "{{.Server.Version}}"},
		{"docker", "buildx", "inspect", vars["BUILDX_BUILDER"]},
	}
	for _, c := range checks {
		if _, err := command.CombinedOutput(ctx, command.Cmd{Name: c[0], Args: c[1:], Env: Environ(vars)}); err != nil {
			return nil, err
		}
	}
	resp, err := http.Get("http://" + vars["MAGESHIP_RIG_REGISTRY"] + "/v2/")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", vars["MAGESHIP_RIG_REGISTRY"], err)
	}
	resp.Body.Close()
	return vars, nil
}

// Environ is the process environment with vars laid over it.
func Environ(vars map[string]string, extra ...string) []string {
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// Example copies examples/<name> into a fresh directory, points its replace of
// mageship at this checkout, and makes it a git repository with one commit, so a test
// can tag, edit and build it without touching the checkout.
func Example(t testing.TB, name string) string {
	t.Helper()
	root := Root(t)
	src := filepath.Join(root, "examples", name)
	dst := filepath.Join(t.TempDir(), name)
	testfix.CopyTree(t, src, dst, "dist")
	Run(t, dst, nil, "go", "mod", "edit", "-replace", "github.com/mageship/mageship="+root)
	Git(t, dst, "init", "-q", "-b", "main")
	Git(t, dst, "add", "-A")
	Git(t, dst, "commit", "-q", "-m", "example "+name)
	return dst
}

// Git runs git in dir with a fixed identity and no user configuration.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return Run(t, dir, nil, "git", args...)
}

// Run runs a command in dir and returns its combined output; it fails the test on error.
func Run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := Try(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, testfix.TailLines(out, 60))
	}
	return out
}

// Try runs a command in dir and returns its combined output and error.
func Try(dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if env == nil {
		env = os.Environ()
	}
	env = append(slices.Clip(env),
		"GIT_AUTHOR_NAME=mageship test", "GIT_AUTHOR_EMAIL=test@mageship.invalid",
		"GIT_COMMITTER_NAME=mageship test", "GIT_COMMITTER_EMAIL=test@mageship.invalid",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := command.CombinedOutput(ctx, command.Cmd{Name: name, Args: args, Env: env, Dir: dir})
	if err != nil {
		err = errors.Unwrap(err) // the callers show out themselves
	}
	return string(out), err
}

// Mage runs go tool mage with args in dir under the rig's environment plus extra.
func Mage(t testing.TB, dir string, vars map[string]string, extra []string, args ...string) string {
	t.Helper()
	return Run(t, dir, Environ(vars, extra...), "go", append([]string{"tool", "mage"}, args...)...)
}
