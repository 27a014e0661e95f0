package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestProgress releases the hello example in each way a release is watched: in CI
// (stderr not a terminal: a line per step start and end, BuildKit's output in
// dist/release.log), with MAGESHIP_PROGRESS=plain (everything, as it comes), on
// GitHub Actions (a job summary), and at a real terminal (tmux: a live view of one
// line per step).
func TestProgress(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v1.5.0")
	repo := fmt.Sprintf("%s/it/progress-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	summary := filepath.Join(t.TempDir(), "step-summary.md")
	// BuildKit's output is what goes to the log and the plain view: the host path
	// assembled by buildx.
	env := []string{"MAGESHIP_IMAGE=" + repo, "GITHUB_STEP_SUMMARY=" + summary, "MAGESHIP_ASSEMBLE=buildx"}

	t.Run("lines", func(t *testing.T) {
		out := rigtest.Mage(t, dir, vars, env, "release")
		t.Logf("mage release in CI: %d lines:\n%s", strings.Count(out, "\n"), out)
		for _, want := range []string{
			`(?m)^mageship: resolve done in \d+\.\ds$`,
			`(?m)^mageship: compile linux/amd64 done in \d+\.\ds$`,
			`(?m)^mageship: compile linux/arm64 done in \d+\.\ds$`,
			`(?m)^mageship: assemble hello \(production\) done in \d+\.\ds$`,
			`(?m)^mageship: push hello \(production\) done in \d+\.\ds, \d+\.\d MiB$`,
			`(?m)^mageship: push hello \(debug\) done in \d+\.\ds, \d+\.\d MiB$`,
			`(?m)^mageship: verify hello \(debug\) done in \d+\.\ds$`,
			`(?m)^mageship: tag 8 tags done in \d+\.\ds$`,
			`(?m)^  steps: resolve \d+\.\ds · compile \d+\.\ds · assemble \d+\.\ds · push \d+\.\ds · verify \d+\.\ds · tag \d+\.\ds$`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("mage release printed no line matching %s", want)
			}
		}
		if m := regexp.MustCompile(`(?m)^.*#\d+ .*$`).FindString(out); m != "" {
			t.Errorf("BuildKit's output reached the CI log: %q", m)
		}
		log := stepLog(t, dir, "release")
		for _, want := range []string{"[assemble hello (production)] #1 [internal] load build definition", "[push hello (debug)] ", "pushing layers"} {
			if !strings.Contains(log, want) {
				t.Errorf("dist/release.log lacks %q", want)
			}
		}

		sum := releaseSummary(t, dir)
		seen := map[string]bool{}
		for _, s := range sum.Steps {
			seen[s.Step+" "+s.Subject] = true
			if s.Seconds < 0 || s.Failed {
				t.Errorf("release.json step %+v", s)
			}
			if s.Step == "push" && s.Bytes < 1<<20 {
				t.Errorf("release.json: push %s counted %d bytes", s.Subject, s.Bytes)
			}
		}
		for _, want := range []string{"resolve ", "compile linux/amd64", "compile linux/arm64", "assemble hello (production)", "push hello (debug)", "verify hello (production)", "tag 8 tags"} {
			if !seen[want] {
				t.Errorf("release.json steps lack %q: %+v", want, sum.Steps)
			}
		}

		md, err := os.ReadFile(summary)
		if err != nil {
			t.Fatalf("GITHUB_STEP_SUMMARY: %v", err)
		}
		for _, want := range []string{
			"### mageship released 1.5.0\n",
			"| Image | Variant | Digest | Platforms (compressed) | Tags | Signature |\n",
			fmt.Sprintf("| `%s` | production | `%s` | linux/amd64 ", repo, sum.Images[0].Digest),
			"<br>linux/arm64 ",
			"| `1.5.0` `1.5` `1` `latest` | unsigned |\n",
			"| `1.5.0-debug` `1.5-debug` `1-debug` `latest-debug` | unsigned |\n",
			"\nSteps: resolve ",
		} {
			if !strings.Contains(string(md), want) {
				t.Errorf("the GitHub job summary lacks %q:\n%s", want, md)
			}
		}
	})

	t.Run("plain", func(t *testing.T) {
		// The same version again: a re-run publishes the same digests.
		out := rigtest.Mage(t, dir, vars, append(env, "MAGESHIP_PROGRESS=plain"), "release")
		for _, want := range []string{"[assemble hello (production)] #1 [internal] load build definition", "mageship: push hello (debug) done in "} {
			if !strings.Contains(out, want) {
				t.Errorf("MAGESHIP_PROGRESS=plain printed no %q:\n%s", want, testfix.TailLines(out, 20))
			}
		}
	})

	t.Run("tty", func(t *testing.T) {
		screen, full := inTerminal(t, dir, rigtest.Environ(vars, env...), 100, 30, "go", "tool", "mage", "release")
		t.Logf("mage release at a terminal: %d lines:\n%s", len(strings.Split(strings.TrimRight(full, "\n"), "\n")), full)
		rows := regexp.MustCompile(`(?m)^[✓✗] (resolve|compile|assemble|push|verify|tag) .*$`).FindAllString(screen, -1)
		for _, want := range []string{
			`^✓ resolve +\d+\.\ds$`,
			`^✓ compile +linux/amd64 +\d+\.\ds$`,
			`^✓ compile +linux/arm64 +\d+\.\ds$`,
			`^✓ assemble +hello \(production\) +\d+\.\ds$`,
			`^✓ assemble +hello \(debug\) +\d+\.\ds$`,
			`^✓ push +hello \(production\) +\d+\.\ds  \d+\.\d MiB$`,
			`^✓ push +hello \(debug\) +\d+\.\ds  \d+\.\d MiB$`,
			`^✓ verify +hello \(production\) +\d+\.\ds$`,
			`^✓ verify +hello \(debug\) +\d+\.\ds$`,
			`^✓ tag +8 tags +\d+\.\ds$`,
		} {
			n := 0
			for _, r := range rows {
				if regexp.MustCompile(want).MatchString(r) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d step lines on the screen match %s, want 1", n, want)
			}
		}
		if len(rows) != 10 {
			t.Errorf("the screen shows %d step lines, want 10 (one per step, drawn in place):\n%s", len(rows), screen)
		}
		if strings.Contains(full, "#1 [internal]") || strings.Contains(full, "mageship: compile") {
			t.Errorf("BuildKit's output or CI lines reached the terminal:\n%s", full)
		}
		if !regexp.MustCompile(`(?m)^  steps: resolve \d+\.\ds · compile`).MatchString(screen) {
			t.Errorf("the summary's steps are not below the live view:\n%s", screen)
		}
		if strings.Index(screen, "✓ tag") > strings.Index(screen, "released version 1.5.0") {
			t.Errorf("the summary is above the steps:\n%s", screen)
		}
	})
}

// TestProgressFailingStep builds an image whose compile fails inside BuildKit (the
// container path): the failing step shows its log's last lines and where the whole log
// is; the error is one line; on GitHub Actions it is also an annotation.
func TestProgressFailingStep(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	write(t, filepath.Join(dir, "cmd", "hello", "broken.go"), "package main\n\nfunc broken() int { return \"not an int\" }\n")
	commitAll(t, dir)
	out, err := rigtest.Try(dir, rigtest.Environ(vars, "MAGESHIP_BUILD=container", "GITHUB_ACTIONS=true"), "go", "tool", "mage", "image")
	if err == nil {
		t.Fatalf("mage image of a service that does not compile succeeded:\n%s", out)
	}
	t.Logf("mage image, failing:\n%s", out)
	for _, want := range []string{
		`(?m)^mageship: assemble hello \(production\) FAILED in \d+\.\ds$`,
		`(?m)^assemble hello \(production\) failed; the last lines of its log:$`,
		`(?m)^  .*broken\.go:3:.*cannot use "not an int"`,
		`(?m)^whole log: dist/image\.log$`,
		`(?m)^::error title=mage image::buildx build of .* failed: exit status 1 \(its last lines are above; whole log: dist/image\.log\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("mage image printed no line matching %s", want)
		}
	}
	// The error itself, as mage prints it, is one line: the tail is above it already.
	if m := regexp.MustCompile(`(?m)^Error: .*$`).FindString(out); !strings.HasSuffix(m, "(its last lines are above; whole log: dist/image.log)") {
		t.Errorf("the error is not one line pointing at the log: %q", m)
	}
	if !strings.Contains(stepLog(t, dir, "image"), `cannot use "not an int"`) {
		t.Error("dist/image.log lacks the compiler's error")
	}
}

// inTerminal runs a command in a tmux session of width×height, waits for it to end,
// and returns the screen as it was left and the whole of it with its scrollback.
func inTerminal(t *testing.T, dir string, env []string, width, height int, name string, args ...string) (screen, full string) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: scripts/rig up installs it")
	}
	tmp := t.TempDir()
	script := filepath.Join(tmp, "run.sh")
	var b strings.Builder
	b.WriteString("cd " + shellQuote(dir) + "\n")
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k) {
			b.WriteString("export " + shellQuote(kv) + "\n")
		}
	}
	b.WriteString("export TERM=xterm-256color\n")
	q := []string{shellQuote(name)}
	for _, a := range args {
		q = append(q, shellQuote(a))
	}
	b.WriteString(strings.Join(q, " ") + "\necho $? > " + shellQuote(filepath.Join(tmp, "exit")) + "\nsleep 3600\n")
	write(t, script, b.String())
	sock := fmt.Sprintf("mageship-test-%d", time.Now().UnixNano())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "bash --noprofile --norc "+shellQuote(script))
	t.Cleanup(func() { exec.Command("tmux", "-L", sock, "kill-server").Run() })
	tmux("set-option", "-t", "t", "history-limit", "5000")
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if b, err := os.ReadFile(filepath.Join(tmp, "exit")); err == nil {
			screen = tmux("capture-pane", "-p", "-t", "t")
			full = tmux("capture-pane", "-p", "-t", "t", "-S", "-", "-E", "-")
			if code := strings.TrimSpace(string(b)); code != "0" {
				t.Fatalf("%s exited %s at the terminal:\n%s", name, code, full)
			}
			return screen, full
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not end in 10 minutes:\n%s", name, tmux("capture-pane", "-p", "-t", "t"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
