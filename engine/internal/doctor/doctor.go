package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Need is what the targets about to run need from the environment.
type Need struct {
	// Builder is the buildx builder; empty is buildx's default (BUILDX_BUILDER,
	// else the current builder).
	Builder string
	// Platforms are the release platforms.
	Platforms []platform.Platform
	// Images are the repositories a release pushes to, e.g. ghcr.io/acme/app; the
	// login check looks for credentials for their registries. May be empty.
	Images []string
	// RunForeign says whether images of platforms other than the host's must run
	// here, as the smoke test of linux/arm64 on an amd64 machine does; it makes
	// emulation required.
	RunForeign bool
	// Env is the environment the docker commands get and BUILDX_BUILDER is read from.
	// Default: os.Environ().
	Env []string
	// Config says what the configuration (magefile and environment) resolved to,
	// e.g. "1 image: hello (./cmd/hello)"; ConfigErr is why it did not resolve, which
	// the config check reports with its fix while every other check still runs, on
	// the defaults. With both empty there is no config check.
	Config    string
	ConfigErr error
	// Dir is the module directory and Dist mageship's output directory (absolute):
	// the dist check asks git whether Dist is ignored. An empty Dist: no dist check.
	Dir, Dist string
}

// Check is the outcome of one check.
type Check struct {
	// Name is config, engine, buildx, builder, emulation, login or dist.
	Name string
	OK   bool
	// Detail says what was found, or what is wrong. It never holds a credential.
	Detail string
	// Fix says what to do when the check failed; empty when it passed.
	Fix string
	// Required says whether a failure stops mageship's targets. A failed check
	// that is not required is a warning.
	Required bool
}

// Failed reports whether the check failed and the failure matters.
func (c Check) Failed() bool { return !c.OK && c.Required }

// Report is the outcome of all checks, in the order Run made them.
type Report struct {
	Checks []Check
}

// Run makes every check of checks for n, in that order, and reports on each; it
// never stops at the first problem. The builder is not inspected when buildx is
// missing.
func Run(ctx context.Context, n Need, opts ...Option) Report {
	s := &state{o: newOptions(opts, n.Env), n: n}
	var r Report
	for _, check := range checks {
		if c := check(ctx, s); c.Name != "" {
			s.found = append(s.found, c)
			r.Checks = append(r.Checks, c)
		}
	}
	return r
}

// state is one run of the checks: what they look at and what the earlier ones found.
type state struct {
	o      options
	n      Need
	engine EngineInfo // what the engine check learned
	found  []Check
}

// passed reports whether the check named name was made and passed.
func (s *state) passed(name string) bool {
	for _, c := range s.found {
		if c.Name == name {
			return c.OK
		}
	}
	return false
}

// checker makes one check; a Check with no Name is left out of the report (the
// check had nothing to look at).
type checker func(ctx context.Context, s *state) Check

// checks are the checks Run makes, in order: one line each in the report. A check
// in a file of its own joins the list here.
var checks = []checker{
	func(_ context.Context, s *state) Check { return checkConfig(s.n) },
	func(ctx context.Context, s *state) Check {
		c, info := checkEngine(ctx, s.o)
		s.engine = info
		return c
	},
	func(ctx context.Context, s *state) Check { return checkBuildx(ctx, s.o) },
	func(ctx context.Context, s *state) Check {
		return checkBuilder(ctx, s.o, s.n, s.passed("buildx"), s.engine.ContainerdStore)
	},
	func(_ context.Context, s *state) Check { return checkEmulation(s.o, s.n) },
	func(ctx context.Context, s *state) Check { return checkLogin(ctx, s.o, s.n) },
	func(ctx context.Context, s *state) Check { return checkDist(ctx, s.o, s.n) },
}

// Err is nil unless a required check failed; then it names the failed checks,
// e.g. "doctor: 2 problems: engine, builder".
func (r Report) Err() error {
	var names []string
	for _, c := range r.Checks {
		if c.Failed() {
			names = append(names, c.Name)
		}
	}
	switch len(names) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("doctor: 1 problem: %s", names[0])
	}
	return fmt.Errorf("doctor: %d problems: %s", len(names), strings.Join(names, ", "))
}

// Print writes one line per check: "ok", "warn" (failed, not required) or "FAIL",
// the check's name, its detail, and for a failure "-> fix: " and the fix. Line
// breaks inside a detail become " | ".
func (r Report) Print(w io.Writer) {
	for _, c := range r.Checks {
		status := "ok"
		switch {
		case c.Failed():
			status = "FAIL"
		case !c.OK:
			status = "warn"
		}
		line := fmt.Sprintf("%-4s %-11s %s", status, c.Name, oneLine(c.Detail))
		if !c.OK && c.Fix != "" {
			line += " -> fix: " + oneLine(c.Fix)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// oneLine joins the non-blank lines of s with " | ".
func oneLine(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}
