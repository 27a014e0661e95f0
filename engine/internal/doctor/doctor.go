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
}

// Check is the outcome of one check.
type Check struct {
	// Name is engine, buildx, builder, emulation or login.
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

// Run checks the engine, buildx, the builder, emulation and registry logins for
// n, in that order, and reports on each; it never stops at the first problem.
// The builder is not inspected when buildx is missing.
func Run(ctx context.Context, n Need, opts ...Option) Report {
	o := newOptions(opts, n.Env)
	bx := checkBuildx(ctx, o)
	eng, info := checkEngine(ctx, o)
	return Report{Checks: []Check{
		eng,
		bx,
		checkBuilder(ctx, o, n, bx.OK, info.ContainerdStore),
		checkEmulation(o, n),
		checkLogin(ctx, o, n),
	}}
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
