package integration

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// resumeTags are the release tags of hello at v1.4.0.
var resumeTags = []string{"1.4.0", "1.4", "1", "latest", "1.4.0-debug", "1.4-debug", "1-debug", "latest-debug"}

// isReferrersTag reports a tag of the OCI referrers tag schema (sha256-<hex>), which
// go-containerregistry writes for the SBOMs on a registry without the referrers API.
func isReferrersTag(tag string) bool { return strings.HasPrefix(tag, "sha256-") }

// isManifestPutByDigest reports a manifest PUT by digest (no tag moves).
func isManifestPutByDigest(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/sha256:")
}

// registryState reads every tag of repo: a release tag gives the digest it names, a
// referrers tag (sha256-<hex>) the artifact types its index lists, in order, so that
// an SBOM attached twice shows.
func registryState(t *testing.T, repo string) map[string]string {
	t.Helper()
	tags, err := listTags(t, repo)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, tag := range tags {
		if !isReferrersTag(tag) {
			d, err := registry.Resolve(t.Context(), repo+":"+tag)
			if err != nil {
				t.Fatal(err)
			}
			state[tag] = d
			continue
		}
		ref, err := name.NewTag(repo+":"+tag, name.WeakValidation)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Index(ref, remote.WithContext(t.Context()))
		if err != nil {
			t.Fatalf("reading %s: %v", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, m := range im.Manifests {
			types = append(types, m.ArtifactType)
		}
		state[tag] = "referrers: " + strings.Join(types, ", ")
	}
	return state
}

// releaseTagsOf is the release tags (not the referrers tags) among state's.
func releaseTagsOf(state map[string]string) []string {
	var out []string
	for tag := range state {
		if !isReferrersTag(tag) {
			out = append(out, tag)
		}
	}
	slices.Sort(out)
	return out
}

// killAt starts the compiled magefile bin's release in dir in a process group of its
// own, holds the first request through faulty for which at says true (at runs under
// the proxy's lock, so it may count), and when that request arrives sends SIGKILL to
// the whole group: mage, the engine, buildx, go, whatever runs. No cleanup runs. The
// held request is then answered 503, never passed on. It returns the release's
// output.
func killAt(t *testing.T, faulty *faultyRegistry, bin, dir string, env []string, at func(r *http.Request) bool) string {
	t.Helper()
	reached, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	unhold := func() { releaseOnce.Do(func() { close(release) }) }
	defer unhold()
	held := false
	faulty.setFaults(func(r *http.Request, _ int) fault {
		if held || !at(r) {
			return fault{}
		}
		held = true
		return fault{Status: http.StatusServiceUnavailable, Hold: func() {
			close(reached)
			<-release
		}}
	})
	defer faulty.setFaults(nil)

	cmd := exec.Command(bin, "release")
	cmd.Dir = dir
	// The killed release's temporary directories (mageship-release-*) go with the test's.
	cmd.Env = append(env, "TMPDIR="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	kill := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("the release ended (%v) before it reached the point to kill it at:\n%s", err, testfix.TailLines(out.String(), 30))
	case <-time.After(10 * time.Minute):
		kill()
		t.Fatalf("the release did not reach the point to kill it at in 10 minutes:\n%s", testfix.TailLines(out.String(), 30))
	}
	kill()
	return out.String()
}

// TestResumeKilledRelease kills `mage release` (SIGKILL of its whole process group, so
// nothing cleans up) at three points: during the builds, after every push by digest
// but before any tag (while verifying and attaching SBOMs), and between tag writes.
// Each time, `mage release` run again on the same commit finishes the release, and
// the repository ends exactly as one clean run of that commit left another: the same
// release tags on the same digests, one SBOM per platform image, and a release.json
// with the same digests (releases are reproducible, so digests compare).
func TestResumeKilledRelease(t *testing.T) {
	vars := rigtest.Env(t)
	reg := vars["MAGESHIP_RIG_REGISTRY"]
	faulty := newFaultyRegistryAny(t, reg)
	dir := rigtest.Example(t, "hello")
	bin := filepath.Join(t.TempDir(), "mage-hello")
	rigtest.Run(t, dir, nil, "go", "tool", "mage", "-compile", bin)
	// A source change nobody has built, so that the first kill interrupts a real build.
	write(t, filepath.Join(dir, "cmd", "hello", "stamp.go"), fmt.Sprintf("package main\n\nconst buildStamp = %q\n", time.Now().String()))
	commitAll(t, dir)
	rigtest.Git(t, dir, "tag", "v1.4.0")
	stamp := time.Now().UnixNano()

	// What each re-run left: the repository's tags, and release.json's digests.
	type resumed struct {
		name, repo     string
		state, digests map[string]string
	}
	var runs []resumed

	for _, tc := range []struct {
		id, name string
		// at picks the request the release is killed at; it runs under the proxy's lock.
		at func() func(r *http.Request) bool
		// left is the release tags the kill must have left in the repository.
		left []string
		// referrers is how many referrers tags (SBOMs) the kill must have left.
		referrers int
	}{
		{
			id: "a", name: "during the builds",
			// The first manifest (the direct assembler's, or BuildKit's): layers are
			// pushed, no manifest is.
			at: func() func(r *http.Request) bool {
				return func(r *http.Request) bool { return isManifestPutByDigest(r) }
			},
		},
		{
			id: "b", name: "after the pushes by digest, while verifying",
			// The second SBOM's manifest: every variant is pushed, one SBOM is attached
			// (its manifest, then its referrers tag); the next manifest pushed by digest
			// is the second SBOM's, whoever assembled the images.
			at: func() func(r *http.Request) bool {
				attached := false
				return func(r *http.Request) bool {
					if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/sha256-") {
						attached = true
						return false
					}
					return attached && isManifestPutByDigest(r)
				}
			},
			referrers: 1,
		},
		{
			id: "c", name: "between tag writes",
			// The fourth tag: 1.4.0, 1.4.0-debug and 1.4 are written, 1 and the rest not.
			at: func() func(r *http.Request) bool {
				return func(r *http.Request) bool { return isTagPut(r) && strings.HasSuffix(r.URL.Path, "/manifests/1") }
			},
			left:      []string{"1.4", "1.4.0", "1.4.0-debug"},
			referrers: 4,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("it/resume-%s-%d", tc.id, stamp)
			viaProxy, direct := faulty.Addr+"/"+path, reg+"/"+path
			env := []string{"MAGESHIP_IMAGE=" + viaProxy}

			start := time.Now()
			out := killAt(t, faulty, bin, dir, rigtest.Environ(vars, env...), tc.at())
			killed := time.Since(start)
			after := registryState(t, direct)
			if got := releaseTagsOf(after); !slices.Equal(got, tc.left) {
				t.Fatalf("killed %s, the repository has release tags %v, want %v:\n%s", tc.name, got, tc.left, testfix.TailLines(out, 20))
			}
			if n := len(after) - len(tc.left); n != tc.referrers {
				t.Fatalf("killed %s, the repository has %d referrers tags, want %d: %v", tc.name, n, tc.referrers, after)
			}

			start = time.Now()
			out = rigtest.Run(t, dir, rigtest.Environ(vars, env...), bin, "release")
			rerun := time.Since(start)
			if !strings.Contains(out, "released version 1.4.0") {
				t.Errorf("the re-run does not say it released 1.4.0:\n%s", testfix.TailLines(out, 20))
			}
			runs = append(runs, resumed{tc.name, direct, registryState(t, direct), releaseDigests(t, filepath.Join(dir, "dist", "release.json"))})
			t.Logf("killed %s after %s (left %d release tags, %d SBOMs); the re-run finished in %s ",
				tc.name, killed.Round(time.Millisecond), len(tc.left), tc.referrers, rerun.Round(time.Millisecond))
		})
	}

	// The clean release last, so that the first kill interrupts a real build of this
	// commit, not one BuildKit has cached.
	cleanRepo := fmt.Sprintf("%s/it/resume-clean-%d", reg, stamp)
	start := time.Now()
	rigtest.Run(t, dir, rigtest.Environ(vars, "MAGESHIP_IMAGE="+cleanRepo), bin, "release")
	t.Logf("clean release: %s", time.Since(start).Round(time.Millisecond))
	clean := registryState(t, cleanRepo)
	if got := releaseTagsOf(clean); !slices.Equal(got, slices.Sorted(slices.Values(resumeTags))) {
		t.Fatalf("the clean release left tags %v, want %v", got, resumeTags)
	}
	if n := len(clean) - len(resumeTags); n != 4 {
		t.Fatalf("the clean release left %d referrers tags, want 4 (an SBOM on each platform image of both variants): %v", n, clean)
	}
	cleanDigests := releaseDigests(t, filepath.Join(dir, "dist", "release.json"))
	if len(runs) != 3 {
		t.Fatalf("%d of the 3 killed releases were re-run", len(runs))
	}
	for _, r := range runs {
		if diff := cmp.Diff(clean, r.state); diff != "" {
			t.Errorf("killed %s and re-run, %s differs from one clean release's %s (-clean +re-run):\n%s", r.name, r.repo, cleanRepo, diff)
		}
		if diff := cmp.Diff(cleanDigests, r.digests); diff != "" {
			t.Errorf("killed %s and re-run, release.json differs from the clean release's (-clean +re-run):\n%s", r.name, diff)
		}
	}
	t.Logf("each re-run left the clean release's %d tags (%d release tags, %d referrers) on the same digests", len(clean), len(resumeTags), len(clean)-len(resumeTags))
}
