package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/rigtest"
)

// coldBuilder starts a BuildKit daemon with an empty state and registers it as a
// buildx builder; both go away when the test ends.
func coldBuilder(t *testing.T, vars map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("it-cold-%d", time.Now().UnixNano())
	rigtest.Run(t, "", rigtest.Environ(vars), "docker", "buildx", "create", "--name", name, "--driver", "remote", startBuildkitd(t, vars))
	t.Cleanup(func() { exec.Command("docker", "buildx", "rm", name).Run() })
	return name
}

// startBuildkitd starts a BuildKit daemon of the rig's version with an empty state,
// stopped when the test ends, and returns its address.
func startBuildkitd(t *testing.T, vars map[string]string) string {
	t.Helper()
	root, err := os.MkdirTemp("", "mageship-buildkit-")
	if err != nil {
		t.Fatal(err)
	}
	sock := "unix://" + filepath.Join(root, "buildkitd.sock")
	cmd := exec.Command(vars["MAGESHIP_RIG_BUILDKITD"], "--config", vars["MAGESHIP_RIG_BUILDKIT_CONFIG"], "--addr", sock,
		"--root", filepath.Join(root, "state"), "--oci-worker-net", "host")
	log, _ := os.Create(filepath.Join(root, "buildkitd.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		os.RemoveAll(root) // best effort: a mount left behind must not fail the test
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for exec.CommandContext(ctx, vars["MAGESHIP_RIG_BUILDCTL"], "--addr", sock, "debug", "workers").Run() != nil {
		if ctx.Err() != nil {
			b, _ := os.ReadFile(filepath.Join(root, "buildkitd.log"))
			t.Fatalf("buildkitd did not come up:\n%s", b)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return sock
}

// goBuildCached reports whether BuildKit's progress output says the go build step
// of the build stage came from the cache.
func goBuildCached(out string) bool {
	out = stripSteps(out)
	step := regexp.MustCompile(`(?m)^#(\d+) \[build \d+/\d+\] RUN .*go build`).FindStringSubmatch(out)
	if step == nil {
		return false
	}
	return regexp.MustCompile(`(?m)^#` + step[1] + ` CACHED$`).MatchString(out)
}

// TestLocalCacheOnColdBuilder (the container build path) exports the build cache to a
// local directory from the rig's builder, then builds on a second builder that has never built anything: with
// the cache imported, BuildKit reports the compile step CACHED; without it, it does not.
func TestLocalCacheOnColdBuilder(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	// A source change nobody has built, so the first build really compiles.
	write(t, filepath.Join(dir, "cmd", "hello", "stamp.go"), fmt.Sprintf("package main\n\nconst stamp = %q\n", time.Now().String()))
	commitAll(t, dir)
	rigtest.Git(t, dir, "tag", "v0.7.0")
	cache := t.TempDir()

	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=container", "MAGESHIP_CACHE_TO=type=local,dest=" + cache + "/{name},mode=max"}, "image")
	out := stepLog(t, dir, "image")
	if goBuildCached(out) {
		t.Fatal("the first build's compile step was already cached: the test would prove nothing")
	}
	if _, err := os.Stat(filepath.Join(cache, "hello-production", "index.json")); err != nil {
		t.Fatalf("no cache was exported: %v", err)
	}

	cold := coldBuilder(t, vars)
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=container", "BUILDX_BUILDER=" + cold, "MAGESHIP_CACHE_FROM=type=local,src=" + cache + "/{name}"}, "image")
	out = stepLog(t, dir, "image")
	if !goBuildCached(out) {
		t.Errorf("the cold builder rebuilt the compile step despite the imported cache:\n%s", grepLines(out, "go build", "CACHED"))
	}

	rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "buildx", "prune", "--builder", cold, "--all", "--force")
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=container", "BUILDX_BUILDER=" + cold}, "image")
	out = stepLog(t, dir, "image")
	if goBuildCached(out) {
		t.Errorf("without the imported cache the emptied cold builder still reports the compile step CACHED:\n%s", grepLines(out, "go build", "CACHED"))
	}
}

func grepLines(s string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
