package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// The CI recipes in examples/ci are what users copy; these tests check them with the
// tools their CI systems would: actionlint for the GitHub workflows, gitlab-ci-local
// for the GitLab file (GitLab's schema, then the release job itself).

// ciRecipe returns the contents of examples/ci/<name>.
func ciRecipe(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rigtest.Root(t), "examples", "ci", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCIRecipesGitHub runs actionlint (the rig's, v1.7.12) on each GitHub workflow
// of examples/ci: no finding. A copy with a constant `if: false` job must be flagged,
// so a clean result means something.
func TestCIRecipesGitHub(t *testing.T) {
	vars := rigtest.Env(t)
	actionlint := rigtest.Tool(t, vars, "MAGESHIP_RIG_ACTIONLINT")
	dir := t.TempDir()
	for _, name := range []string{"github-actions.yml", "github-actions-per-platform.yml"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			write(t, path, ciRecipe(t, name))
			// -shellcheck= : no shellcheck on this machine; actionlint's own checks only.
			if out, err := rigtest.Try(dir, nil, actionlint, "-shellcheck=", "-no-color", path); err != nil || out != "" {
				t.Errorf("actionlint %s: %v\n%s", name, err, out)
			}
		})
	}
	broken := filepath.Join(dir, "broken.yml")
	write(t, broken, strings.Replace(ciRecipe(t, "github-actions.yml"), "    runs-on: ubuntu-latest\n", "    if: false\n    runs-on: ubuntu-latest\n", 1))
	out, err := rigtest.Try(dir, nil, actionlint, "-shellcheck=", "-no-color", broken)
	if err == nil || !strings.Contains(out, "constant") {
		t.Errorf("actionlint passed a workflow with an `if: false` job: %v\n%s", err, out)
	}
}

// gitlabProject copies examples/hello into a git repository with recipe as its
// .gitlab-ci.yml, and gitlab-ci-local's state folder ignored (as its users do), for
// gitlab-ci-local.
func gitlabProject(t *testing.T, recipe string) string {
	t.Helper()
	dir := rigtest.Example(t, "hello")
	write(t, filepath.Join(dir, ".gitlab-ci.yml"), recipe)
	ignore, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, ".gitignore"), string(ignore)+"/.gitlab-ci-local/\n")
	commitAll(t, dir)
	return dir
}

// gitlabCILocal runs the rig's gitlab-ci-local (4.60.0) in dir with args; its own
// state goes to a temporary home.
func gitlabCILocal(t *testing.T, vars map[string]string, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	gcl := rigtest.Tool(t, vars, "MAGESHIP_RIG_GITLAB_CI_LOCAL")
	return rigtest.Try(dir, rigtest.Environ(vars, env...), gcl, args...)
}

// TestCIRecipesGitLabSchema: examples/ci/gitlab-ci.yml passes gitlab-ci-local's
// validation against GitLab's JSON schema; its release job is in a tag pipeline and
// not in a branch pipeline; a copy with a key GitLab does not know fails validation.
func TestCIRecipesGitLabSchema(t *testing.T) {
	vars := rigtest.Env(t)
	recipe := ciRecipe(t, "gitlab-ci.yml")
	dir := gitlabProject(t, recipe)
	listed := regexp.MustCompile(`(?m)^release\s+test\s+on_success\b`)
	for _, tc := range []struct {
		pipeline string
		vars     []string
		release  bool
	}{
		{"tag v1.0.0", []string{"--variable", "CI_COMMIT_TAG=v1.0.0"}, true},
		{"branch main", nil, false},
	} {
		out, err := gitlabCILocal(t, vars, dir, nil, append([]string{"--list", "--json-schema-validation"}, tc.vars...)...)
		if err != nil || !strings.Contains(out, "json schema validated") {
			t.Errorf("gitlab-ci-local --list --json-schema-validation (%s pipeline): %v\n%s", tc.pipeline, err, out)
		}
		if got := listed.MatchString(out); got != tc.release {
			t.Errorf("%s pipeline: release job listed %t, want %t:\n%s", tc.pipeline, got, tc.release, out)
		}
	}
	bad := gitlabProject(t, strings.Replace(recipe, "  rules:\n", "  rulez:\n", 1))
	out, err := gitlabCILocal(t, vars, bad, nil, "--list", "--json-schema-validation")
	if err == nil || !strings.Contains(out, "'rulez' property is not expected") {
		t.Errorf("gitlab-ci-local on a job with the unknown key rulez: %v\n%s", err, out)
	}
}

// TestCIRecipesGitLabRelease runs the GitLab file's release job for real on this
// machine (gitlab-ci-local --force-shell-executor: the job's script in a shell here,
// with no Docker engine asked for) with the variables a tag pipeline has, against the
// rig's htpasswd registry, logging in as the recipe does. The tags it pushes are
// checked in the registry.
func TestCIRecipesGitLabRelease(t *testing.T) {
	vars := rigtest.Env(t)
	dir := gitlabProject(t, ciRecipe(t, "gitlab-ci.yml"))
	rigtest.Git(t, dir, "tag", "v3.5.0")
	host := vars["MAGESHIP_RIG_AUTH_REGISTRY"]
	repo := fmt.Sprintf("%s/i25-gitlab-%d", host, time.Now().UnixNano())
	dockerConfig := t.TempDir() // the job's docker config, not this machine's
	variables := []string{
		"CI_COMMIT_TAG=v3.5.0",
		"CI_COMMIT_REF_NAME=v3.5.0",
		"CI_REGISTRY=" + host,
		"CI_REGISTRY_IMAGE=" + repo,
		"CI_REGISTRY_USER=" + vars["MAGESHIP_RIG_AUTH_USER"],
		"CI_REGISTRY_PASSWORD=" + vars["MAGESHIP_RIG_AUTH_PASSWORD"],
		"DOCKER_CONFIG=" + dockerConfig,
		// Where the shell runs the job, as a runner's shell executor says; for a job
		// with an image, gitlab-ci-local names the container's /builds/... even when
		// it runs the job in a shell here.
		"CI_PROJECT_DIR=" + dir,
		// The rig's base images, as a registry mirror would name them.
		"MAGESHIP_DEBUG_IMAGE=" + vars["MAGESHIP_DEBUG_IMAGE"],
		"MAGESHIP_DISTROLESS_IMAGE=" + vars["MAGESHIP_DISTROLESS_IMAGE"],
		// The default path needs no Docker engine: name one that is not there.
		"DOCKER_HOST=unix:///var/empty/no-docker-here.sock",
		// This machine's Go caches instead of the recipe's empty ones under .cache/,
		// to spare CI a cold compile; MAGEFILE_CACHE and MAGESHIP_CACHE_DIR stay the
		// recipe's, inside the project, where its exclude keeps the tree clean.
		"GOCACHE=" + goEnv(t, "GOCACHE"),
		"GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
	}
	args := []string{"--force-shell-executor"}
	for _, v := range variables {
		args = append(args, "--variable", v)
	}
	start := time.Now()
	out, err := gitlabCILocal(t, vars, dir, nil, append(args, "release")...)
	t.Logf("gitlab-ci-local release took %s", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("the GitLab recipe's release job failed: %v\n%s", err, testfix.TailLines(out, 40))
	}
	if strings.Contains(out, vars["MAGESHIP_RIG_AUTH_PASSWORD"]) {
		t.Error("the job's output shows the registry password")
	}
	// What the recipe caches is where its cache: paths say: Mage's compiled magefile
	// and mageship's engine binary.
	for _, d := range []string{".cache/mage", ".cache/mageship"} {
		if entries, err := os.ReadDir(filepath.Join(dir, d)); err != nil || len(entries) == 0 {
			t.Errorf("the job left nothing in %s, a path the recipe caches: %v", d, err)
		}
	}
	t.Setenv("DOCKER_CONFIG", dockerConfig)
	for _, tag := range []string{"3.5.0", "3.5", "3", "latest", "3.5.0-debug"} {
		idx, err := registry.Describe(t.Context(), repo+":"+tag)
		if err != nil {
			t.Fatalf("%s:%s after the GitLab job: %v", repo, tag, err)
		}
		if len(idx.Platforms) != 2 {
			t.Errorf("%s:%s has %d platforms, want 2", repo, tag, len(idx.Platforms))
		}
	}
}

// goEnv is go env NAME on this machine.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(rigtest.Run(t, t.TempDir(), nil, "go", "env", name))
}
