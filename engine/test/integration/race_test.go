package integration

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

var floatingHelloTags = []string{"1.2", "1", "latest", "1.2-debug", "1-debug", "latest-debug"}

// raceClones returns two clones of the hello example: newer at v1.2.4, and stale at
// v1.2.3, cloned before v1.2.4 was tagged, so that its git knows nothing of v1.2.4.
func raceClones(t *testing.T) (newer, stale string) {
	t.Helper()
	newer = rigtest.Example(t, "hello")
	newRelease(t, newer, "v1.2.3")
	stale = filepath.Join(t.TempDir(), "hello-stale")
	rigtest.Git(t, newer, "clone", "-q", newer, stale)
	newRelease(t, newer, "v1.2.4")
	if tags := rigtest.Git(t, stale, "tag", "--list"); strings.TrimSpace(tags) != "v1.2.3" {
		t.Fatalf("the stale clone knows tags %q, want only v1.2.3", tags)
	}
	return newer, stale
}

// digestsOf returns the production and debug index digests a release wrote to its
// dist/release.json.
func digestsOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range releaseSummary(t, dir).Images {
		out[p.Variant] = p.Digest
	}
	return out
}

// checkFloatingOn fails unless 1.2, 1, latest point at the production digest of the
// release in dir, and their -debug twins at its debug digest.
func checkFloatingOn(t *testing.T, repo, dir string) {
	t.Helper()
	want := digestsOf(t, dir)
	got := tagState(t, repo, floatingHelloTags)
	for _, tag := range floatingHelloTags {
		w := want["production"]
		if strings.HasSuffix(tag, "-debug") {
			w = want["debug"]
		}
		if got[tag] != w {
			t.Errorf("%s:%s -> %s, want 1.2.4's %s", repo, tag, got[tag], w)
		}
	}
}

// TestReleaseRaceFloatingTags runs two releases of one repository, v1.2.3 from a clone
// whose git lacks v1.2.4 and v1.2.4, finishing in either order, one after the other,
// with the stale one's floating tags held back until the newer release is done, and
// at once: 1.2, 1 and latest (and their -debug twins) always end on 1.2.4.
func TestReleaseRaceFloatingTags(t *testing.T) {
	vars := rigtest.Env(t)
	reg := vars["MAGESHIP_RIG_REGISTRY"]
	newer, stale := raceClones(t)
	release := func(dir, repo string) (string, error) {
		start := time.Now()
		out, err := rigtest.Try(dir, rigtest.Environ(vars, "MAGESHIP_IMAGE="+repo), "go", "tool", "mage", "release")
		t.Logf("%s release of %s took %s", filepath.Base(dir), repo, time.Since(start).Round(time.Millisecond))
		return out, err
	}
	mustRelease := func(dir, repo string) string {
		t.Helper()
		out, err := release(dir, repo)
		if err != nil {
			t.Fatalf("release in %s: %v\n%s", filepath.Base(dir), err, testfix.TailLines(out, 30))
		}
		return out
	}
	newRepo := func(name string) string {
		return fmt.Sprintf("%s/it/race-%s-%d", reg, name, time.Now().UnixNano())
	}

	t.Run("v1.2.4 first, then the stale v1.2.3", func(t *testing.T) {
		repo := newRepo("newer-first")
		mustRelease(newer, repo)
		out := mustRelease(stale, repo)
		note := "note: " + repo + ": 1.2.4 is released there, higher than 1.2.3: not moving 1.2, 1, latest, 1.2-debug, 1-debug, latest-debug"
		if !strings.Contains(out, note) {
			t.Errorf("stale release output lacks %q:\n%s", note, testfix.TailLines(out, 20))
		}
		checkFloatingOn(t, repo, newer)
		if d := tagState(t, repo, []string{"1.2.3", "1.2.3-debug"}); d["1.2.3"] != digestsOf(t, stale)["production"] || d["1.2.3-debug"] != digestsOf(t, stale)["debug"] {
			t.Errorf("the stale release's exact tags: %v, want its own digests", d)
		}
		for _, p := range releaseSummary(t, stale).Images {
			if len(p.Skipped) != 3 || len(p.Tags) != 1 {
				t.Errorf("stale release.json %s: tags %v, skipped %v; want its exact tag only, 3 skipped", p.Variant, p.Tags, p.Skipped)
			}
		}
	})

	t.Run("the stale v1.2.3 first, then v1.2.4", func(t *testing.T) {
		repo := newRepo("stale-first")
		mustRelease(stale, repo)
		mustRelease(newer, repo)
		checkFloatingOn(t, repo, newer)
	})

	t.Run("the stale v1.2.3 writes its floating tags after v1.2.4 finished", func(t *testing.T) {
		// The stale release goes through the fault-injecting proxy, which holds its
		// first floating tag write until the newer release is done: it read the tags
		// when there was no 1.2.4, and writes 1.2, 1, latest last.
		faulty := newFaultyRegistry(t, "5004", reg)
		name := fmt.Sprintf("it/race-held-%d", time.Now().UnixNano())
		direct, viaProxy := reg+"/"+name, faulty.Addr+"/"+name
		held, resume := make(chan struct{}), make(chan struct{})
		var once sync.Once
		faulty.setFaults(func(r *http.Request, _ int) fault {
			if isTagPut(r) && strings.HasSuffix(r.URL.Path, "/manifests/1.2") {
				return fault{Hold: func() {
					once.Do(func() {
						close(held)
						<-resume
					})
				}}
			}
			return fault{}
		})
		var staleOut string
		var staleErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			staleOut, staleErr = release(stale, viaProxy)
		}()
		select {
		case <-held:
		case <-done:
			t.Fatalf("the stale release ended without writing 1.2: %v\n%s", staleErr, testfix.TailLines(staleOut, 30))
		case <-time.After(10 * time.Minute):
			t.Fatal("the stale release did not reach its floating tags in 10 minutes")
		}
		newerOut := mustRelease(newer, direct)
		if strings.Contains(newerOut, "not moving") {
			t.Errorf("the newer release held its floating tags back:\n%s", testfix.TailLines(newerOut, 20))
		}
		checkFloatingOn(t, direct, newer)
		close(resume)
		<-done
		if staleErr != nil {
			t.Fatalf("stale release: %v\n%s", staleErr, testfix.TailLines(staleOut, 30))
		}
		note := "note: " + viaProxy + ": 1.2.4 was released while 1.2.3 was being tagged: moved 1.2, 1, latest, 1.2-debug, 1-debug, latest-debug back to 1.2.4"
		if !strings.Contains(staleOut, note) {
			t.Errorf("stale release output lacks %q:\n%s", note, testfix.TailLines(staleOut, 20))
		}
		checkFloatingOn(t, direct, newer)
	})

	t.Run("both at once", func(t *testing.T) {
		repo := newRepo("concurrent")
		var wg sync.WaitGroup
		outs, errs := make([]string, 2), make([]error, 2)
		for i, dir := range []string{stale, newer} {
			wg.Go(func() { outs[i], errs[i] = release(dir, repo) })
		}
		wg.Wait()
		for i := range errs {
			if errs[i] != nil {
				t.Fatalf("concurrent release %d: %v\n%s", i, errs[i], testfix.TailLines(outs[i], 30))
			}
		}
		checkFloatingOn(t, repo, newer)
		t.Logf("stale release said: %s", noteLine(outs[0]))
	})
}

func noteLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "note: ") {
			return l
		}
	}
	return "(no note: it tagged before, or after, the newer release read the tags)"
}
