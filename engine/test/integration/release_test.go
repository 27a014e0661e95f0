package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

var allHelloTags = []string{"1.0.0", "1.0", "1", "latest", "1.0.0-debug", "1.0-debug", "1-debug", "latest-debug"}

// tagState reads where each tag of repo points ("" for a missing tag).
func tagState(t *testing.T, repo string, tags []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tag := range tags {
		d, err := registry.Resolve(t.Context(), repo+":"+tag)
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = d
	}
	return out
}

// newRelease commits a change in dir and tags it, so the next release has something new.
func newRelease(t *testing.T, dir, tag string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "RELEASE"), []byte(tag+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rigtest.Git(t, dir, "add", "RELEASE")
	rigtest.Git(t, dir, "commit", "-q", "-m", tag)
	rigtest.Git(t, dir, "tag", tag)
}

// TestReleaseFailureInjection breaks the registry in the middle of releases and checks
// that no tag moved: the builds push by digest, and tags are written last.
func TestReleaseFailureInjection(t *testing.T) {
	vars := rigtest.Env(t)
	faulty := newFaultyRegistry(t, "5002", vars["MAGESHIP_RIG_REGISTRY"])
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.0.0")
	repo := fmt.Sprintf("%s/it/failures-%d", faulty.Addr, time.Now().UnixNano())
	env := []string{"MAGESHIP_IMAGE=" + repo}

	rigtest.Mage(t, dir, vars, env, "release")
	before := tagState(t, repo, allHelloTags)
	for tag, d := range before {
		if d == "" {
			t.Fatalf("the first release left no %s tag", tag)
		}
	}
	for i, tc := range []struct {
		name   string
		policy func(r *http.Request, writes int) bool
		want   []string
	}{
		{"500s while pushing layers", func(r *http.Request, writes int) bool { return writes > 4 }, []string{"no tag was moved"}},
		{"500s on every tag write", func(r *http.Request, writes int) bool { return isTagPut(r) }, []string{"no tag was moved"}},
		{"500s on the third tag: the tags moved before it are put back", func(r *http.Request, writes int) bool {
			return isTagPut(r) && strings.HasSuffix(r.URL.Path, "/manifests/1")
		}, []string{"put back where they were: " + repo + ":1.0", "new tags left in place (they did not exist before): " + repo + ":1.0."}},
		{"registry stops answering mid-push", func(r *http.Request, writes int) bool {
			if writes > 6 {
				go faulty.srv.Close()
				return true
			}
			return false
		}, []string{"no tag was moved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A new commit each time, so that the release has new layers to push.
			newRelease(t, dir, fmt.Sprintf("v1.0.%d", i+1))
			faulty.set(tc.policy)
			out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", "tool", "mage", "release")
			if err == nil {
				t.Fatalf("release succeeded through a broken registry:\n%s", testfix.TailLines(out, 20))
			}
			if faulty.failures() == 0 {
				t.Fatalf("no failure was injected; the test proves nothing:\n%s", testfix.TailLines(out, 20))
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("release output lacks %q:\n%s", w, testfix.TailLines(out, 20))
				}
			}
			after := tagState(t, strings.Replace(repo, faulty.Addr, vars["MAGESHIP_RIG_REGISTRY"], 1), allHelloTags)
			for _, tag := range allHelloTags {
				if after[tag] != before[tag] {
					t.Errorf("tag %s moved from %s to %s", tag, before[tag], after[tag])
				}
			}
			t.Logf("injected %d failures; the %d tags of the previous release still point where they did; mage said: %s", faulty.failures(), len(allHelloTags), errorLine(out))
		})
	}
}

// TestReleaseDistributed builds each platform as its own step (as two CI runners
// would), then merges the digests into indexes and tags them.
func TestReleaseDistributed(t *testing.T) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v2.0.0")
	repo := fmt.Sprintf("%s/it/distributed-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	env := []string{"MAGESHIP_IMAGE=" + repo}

	out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", "tool", "mage", "release:merge")
	if err == nil || !strings.Contains(out, "run mage release:platform linux/amd64") {
		t.Errorf("merge without digests: err %v, output:\n%s", err, testfix.TailLines(out, 5))
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		rigtest.Mage(t, dir, vars, env, "release:platform", p)
	}
	if d, _ := registry.Resolve(ctx, repo+":2.0.0"); d != "" {
		t.Fatalf("release:platform moved a tag: %s:2.0.0 -> %s", repo, d)
	}
	rigtest.Mage(t, dir, vars, env, "release:merge")
	for _, tag := range []string{"2.0.0", "2.0.0-debug", "latest"} {
		idx, err := registry.Describe(ctx, repo+":"+tag)
		if err != nil {
			t.Fatal(err)
		}
		var plats []string
		for _, m := range idx.Platforms {
			plats = append(plats, m.Platform.String())
		}
		if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("%s:%s platforms = %v", repo, tag, plats)
		}
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if body := runHealthz(t, eng, repo+":2.0.0", platform.Platform{OS: "linux", Arch: "arm64"}, 8080); body != "ok 2.0.0\n" {
		t.Errorf("arm64 /healthz = %q", body)
	}
}

// TestRegistryAuth pushes to the rig's htpasswd registry: without login it fails with
// one line naming docker login, before anything is built; after login it succeeds;
// the password is never printed.
func TestRegistryAuth(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.9.0")
	host := vars["MAGESHIP_RIG_AUTH_REGISTRY"]
	repo := fmt.Sprintf("%s/it/auth-%d", host, time.Now().UnixNano())

	// A Docker config of the test's own, sharing the CLI plugins and buildx builders.
	cfg := t.TempDir()
	home, _ := os.UserHomeDir()
	for _, d := range []string{"cli-plugins", "buildx"} {
		if err := os.Symlink(filepath.Join(home, ".docker", d), filepath.Join(cfg, d)); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"MAGESHIP_IMAGE=" + repo, "DOCKER_CONFIG=" + cfg}

	out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", "tool", "mage", "release")
	if err == nil {
		t.Fatal("release to the auth registry succeeded without login")
	}
	want := "run docker login " + host
	if !strings.Contains(out, want) {
		t.Errorf("release without login does not say %q:\n%s", want, testfix.TailLines(out, 10))
	}
	if strings.Contains(out, "mageship: assemble") {
		t.Errorf("release without login started a build before checking access:\n%s", testfix.TailLines(out, 10))
	}

	if d, err := registry.Resolve(t.Context(), repo+":0.9.0"); err == nil || !registry.IsAuth(err) {
		t.Errorf("anonymous resolve of the auth registry: %q, %v; want an auth error", d, err)
	}

	login := rigtest.Environ(vars, "DOCKER_CONFIG="+cfg, "U="+vars["MAGESHIP_RIG_AUTH_USER"], "PW="+vars["MAGESHIP_RIG_AUTH_PASSWORD"])
	rigtest.Run(t, dir, login, "sh", "-c", `printf %s "$PW" | docker login --username "$U" --password-stdin `+host)
	out = rigtest.Mage(t, dir, vars, env, "release")
	if strings.Contains(out, vars["MAGESHIP_RIG_AUTH_PASSWORD"]) {
		t.Error("release printed the registry password")
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	idx, err := registry.Describe(t.Context(), repo+":0.9.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Platforms) != 2 {
		t.Errorf("%s:0.9.0 has %d platforms, want 2", repo, len(idx.Platforms))
	}
}

// errorLine is the line of mage's output that carries the error.
func errorLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			return l
		}
	}
	return "(no Error: line)"
}
