package integration

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// Issue #22: the targets build the engine once per version into MAGESHIP_CACHE_DIR and
// start it directly. These tests run a service that requires a published mageship (this
// working tree, served by a module proxy at a version of its own), as a user's does.

var (
	compilingLine = regexp.MustCompile(`(?m)^mageship: compiling the engine (\S+) with go\S+, once per version`)
	compiledLine  = regexp.MustCompile(`(?m)^mageship: engine compiled in (\d+\.\d)s$`)
	// goRunExit is the line go run printed after every failing target.
	goRunExit = regexp.MustCompile(`(?m)^exit status \d+$`)
)

// publishedService is examples/hello requiring mageship at a version only the test's
// module proxy serves, with its magefile compiled (by go tool mage -compile, with this
// machine's build cache). env is the environment to run it in: modules come from this
// machine's module cache (as a file proxy) or the test's proxy, into a fresh GOMODCACHE.
type publishedService struct {
	dir, mage, version string
	env                []string
}

func newPublishedService(t *testing.T, vars map[string]string) publishedService {
	t.Helper()
	root := rigtest.Root(t)
	version := fmt.Sprintf("v0.99.22-i22.%d", time.Now().UnixNano())
	proxy := rigtest.NewModProxy(t, upstreamProxy)
	proxy.Publish(t, "github.com/mageship/mageship", version, root)
	proxy.Publish(t, "github.com/mageship/mageship/engine", version, filepath.Join(root, "engine"))
	shared := strings.TrimSpace(rigtest.Run(t, "", nil, "go", "env", "GOMODCACHE"))

	s := publishedService{dir: rigtest.Example(t, "hello"), version: version}
	s.env = rigtest.Environ(vars,
		"GOPROXY=file://"+filepath.Join(shared, "cache", "download")+"|"+proxy.URL,
		"GOSUMDB=off", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "GOMODCACHE="+modCache(t),
		"MAGEFILE_CACHE="+t.TempDir(), "MAGESHIP_CACHE_DIR="+t.TempDir())
	rigtest.Run(t, s.dir, s.env, "go", "mod", "edit", "-dropreplace=github.com/mageship/mageship", "-require=github.com/mageship/mageship@"+version)
	rigtest.Run(t, s.dir, s.env, "go", "mod", "tidy")
	rigtest.Git(t, s.dir, "commit", "-q", "-am", "mageship "+version)
	s.mage = filepath.Join(t.TempDir(), "mage-hello")
	rigtest.Run(t, s.dir, s.env, "go", "tool", "mage", "-compile", s.mage)
	proxy.Take()
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range proxy.Take() {
				t.Logf("proxy: %+v", r)
			}
		}
	})
	return s
}

// timedLine is a line of output and when it came, from the start of the process.
type timedLine struct {
	at   time.Duration
	text string
}

// runTimed runs the magefile binary with args and records each output line's time.
func runTimed(t *testing.T, dir string, env []string, bin string, args ...string) ([]timedLine, time.Duration, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir, cmd.Env = dir, env
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	var lines []timedLine
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines = append(lines, timedLine{time.Since(start), sc.Text()})
		}
	}()
	err := cmd.Run()
	total := time.Since(start)
	w.Close()
	<-done
	return lines, total, err
}

// plain is the output as the process wrote it.
func plain(ls []timedLine) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

// joinLines is the output with each line's time, to show.
func joinLines(ls []timedLine) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%6.2fs %s\n", l.at.Seconds(), l.text)
	}
	return b.String()
}

// TestEngineFirstRun: with empty caches (Go build cache, engine cache, compiled
// magefile) a first run says within 2 s that it compiles the engine, and then how long
// that took; the second run starts the engine without compiling it.
func TestEngineFirstRun(t *testing.T) {
	vars := rigtest.Env(t)
	s := newPublishedService(t, vars)
	env := append(s.env, "GOCACHE="+t.TempDir())

	lines, total, err := runTimed(t, s.dir, env, s.mage, "doctor")
	out := joinLines(lines)
	if err != nil {
		t.Fatalf("the first mage doctor failed: %v\n%s", err, testfix.TailLines(out, 30))
	}
	if len(lines) == 0 || !compilingLine.MatchString(lines[0].text) {
		t.Fatalf("the first line of a first run is not the compiling line:\n%s", out)
	}
	if m := compilingLine.FindStringSubmatch(lines[0].text); m[1] != s.version {
		t.Errorf("the compiling line names %s, want the targets' version %s", m[1], s.version)
	}
	if lines[0].at > 2*time.Second {
		t.Errorf("the compiling line came %.2fs after the target started, want within 2 s", lines[0].at.Seconds())
	}
	m := compiledLine.FindStringSubmatch(plain(lines))
	if m == nil {
		t.Fatalf("no line says how long the compile took:\n%s", out)
	}
	if !strings.Contains(plain(lines), "ok   engine") {
		t.Errorf("mage doctor did not run the engine's checks:\n%s", out)
	}
	t.Logf("first run with empty caches: compiling line after %.2fs, engine compiled in %ss, %.1fs in all", lines[0].at.Seconds(), m[1], total.Seconds())

	lines, total, err = runTimed(t, s.dir, env, s.mage, "doctor")
	out = joinLines(lines)
	if err != nil {
		t.Fatalf("the second mage doctor failed: %v\n%s", err, out)
	}
	if compilingLine.MatchString(plain(lines)) || compiledLine.MatchString(plain(lines)) {
		t.Errorf("the second run compiled the engine again:\n%s", out)
	}
	t.Logf("second run: %.2fs in all (doctor's own checks included)", total.Seconds())
}

// TestEngineConcurrentFirstRuns starts two targets at once on a machine that has no
// engine yet: both succeed, and the engine is compiled once.
func TestEngineConcurrentFirstRuns(t *testing.T) {
	vars := rigtest.Env(t)
	s := newPublishedService(t, vars)
	cache := t.TempDir()
	env := append(s.env, "MAGESHIP_CACHE_DIR="+cache)

	outs, texts := make([]string, 2), make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lines, _, err := runTimed(t, s.dir, env, s.mage, "doctor")
			outs[i], texts[i], errs[i] = joinLines(lines), plain(lines), err
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Errorf("run %d failed: %v\n%s", i, errs[i], testfix.TailLines(outs[i], 30))
		}
	}
	if n := len(compilingLine.FindAllString(strings.Join(texts, ""), -1)); n != 1 {
		t.Errorf("two concurrent first runs compiled the engine %d times, want once:\n%s", n, strings.Join(outs, ""))
	}
	entries, err := os.ReadDir(filepath.Join(cache, "engine"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("the engine cache holds %d entries, want one engine directory: %v", len(entries), entries)
	}
	inside, err := os.ReadDir(filepath.Join(cache, "engine", entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range inside {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != ".lock mageship" {
		t.Errorf("the engine directory %s holds %v, want the lock and the binary only", entries[0].Name(), names)
	}
	t.Logf("engine cached as %s", filepath.Join("engine", entries[0].Name(), "mageship"))
}

// TestDoctorBrokenConfiguration: with a configuration error (two main packages) and a
// dist/ that git does not ignore, doctor reports the configuration with its fix, still
// checks the engine and the builder, and warns about dist/.
func TestDoctorBrokenConfiguration(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	write(t, filepath.Join(dir, "cmd", "other", "main.go"), "package main\n\nfunc main() {}\n")
	if err := os.Remove(filepath.Join(dir, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	rigtest.Git(t, dir, "add", "-A")
	rigtest.Git(t, dir, "commit", "-q", "-m", "two main packages, no .gitignore")

	out, err := rigtest.Try(dir, rigtest.Environ(vars), "go", "tool", "mage", "doctor")
	if err == nil {
		t.Fatalf("mage doctor passed with two main packages:\n%s", out)
	}
	for _, want := range []string{
		`(?m)^FAIL config +several main packages \(\./cmd/hello, \./cmd/other\).* -> fix: \S`,
		`(?m)^ok   engine +Docker `,
		`(?m)^ok   buildx +`,
		`(?m)^ok   builder +` + regexp.QuoteMeta(vars["BUILDX_BUILDER"]) + ` `,
		`(?m)^warn dist +dist is not ignored by git.* -> fix: echo '/dist/' >> \.gitignore$`,
		`(?m)^Error: doctor: 1 problem: config$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("mage doctor's output does not match %s:\n%s", want, out)
		}
	}
	if goRunExit.MatchString(out) {
		t.Errorf("mage doctor printed an exit status line:\n%s", out)
	}
}
