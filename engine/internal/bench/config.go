package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mageship/mageship/engine/internal/platform"

	"github.com/mageship/mageship/engine/internal/command"
)

// The environment variables ConfigFromEnv reads.
const (
	EnvRuns  = "MAGESHIP_BENCH_RUNS"  // repetitions of each timing; default 3
	EnvOnly  = "MAGESHIP_BENCH_ONLY"  // comma list of services (hello, large); default both
	EnvOut   = "MAGESHIP_BENCH_OUT"   // where results.md and results.json go; default bench/results
	EnvWork  = "MAGESHIP_BENCH_WORK"  // scratch directory; default a new temporary one
	EnvKeep  = "MAGESHIP_BENCH_KEEP"  // 1 keeps the scratch directory (it is always kept after a failure)
	EnvTools = "MAGESHIP_BENCH_TOOLS" // where ko is installed; default <user cache dir>/mageship-bench
	// EnvScenarios is a comma list of scenarios (local, ci, many); default all.
	EnvScenarios = "MAGESHIP_BENCH_SCENARIOS"
	// EnvContenders is a comma list of contenders (naive, mageship, mageship_nocache,
	// mageship_buildx, mageship_container, ko, floor); default all. A contender runs in the scenarios that have it.
	EnvContenders = "MAGESHIP_BENCH_CONTENDERS"
)

// The scenarios.
const (
	// Local is the local scenario: on the rig's builder, cold (every cache emptied),
	// then warm after a one-line change with what the cold build left.
	Local = "local"
	// CI is the CI scenario: every job on a brand-new BuildKit daemon, with only what
	// the contender's CI recipe restores, after a one-line change.
	CI = "ci"
	// Many is the many-images scenario: one release of every image of a generated
	// 10-image repository against one release per image, one after another. It
	// measures mageship's default path on its own repository, not the services.
	Many = "many"
)

// scenarioNames are the scenarios a full run measures, in order.
var scenarioNames = []string{Local, CI, Many}

// ciContenders are the contenders of the CI scenario; the naive Dockerfile has no
// CI recipe to speak of.
var ciContenders = []string{"mageship", "mageship_nocache", "mageship_buildx", "mageship_container", "ko", "floor"}

// ciOnly are the contenders of the CI scenario alone: mageship_nocache is about what
// a CI recipe restores.
var ciOnly = []string{"mageship_nocache"}

// KoVersion is the ko the bench installs and measures.
const KoVersion = "v0.19.1"

// rigVars are the rig's settings the bench needs (scripts/rig env prints them).
var rigVars = []string{"BUILDX_BUILDER", "MAGESHIP_RIG_REGISTRY", "MAGESHIP_BUILDER_IMAGE", "MAGESHIP_DEBUG_IMAGE", "MAGESHIP_DISTROLESS_IMAGE"}

// ciRigVars are the rig's settings the CI scenario needs besides: the BuildKit
// daemon it starts afresh for every job, and that daemon's configuration.
var ciRigVars = []string{"MAGESHIP_RIG_BUILDKITD", "MAGESHIP_RIG_BUILDKIT_CONFIG"}

// Config is one bench run: plain data, made by ConfigFromEnv or by hand.
type Config struct {
	Root       string   // the mageship checkout (the directory holding scripts/rig)
	Runs       int      // repetitions of every timing
	Only       []string // services to measure, in serviceNames order; empty means all
	Scenarios  []string // scenarios to measure, in scenarioNames order; empty means all
	Contenders []string // contenders to measure, in contenderNames order; empty means all
	Out        string   // results directory
	Work       string   // scratch directory; "" means a new temporary one
	Keep       bool     // keep the scratch directory after a successful run
	ToolsDir   string   // ko is installed into ToolsDir/ko-<version>/ko
	KoVersion  string
	// Env is the environment of every command: the process's, with the rig's
	// settings (scripts/rig env) for the variables the process does not set.
	Env            []string
	Builder        string // BUILDX_BUILDER
	Registry       string // MAGESHIP_RIG_REGISTRY, e.g. localhost:5000
	BuilderImage   string // MAGESHIP_BUILDER_IMAGE: the naive Dockerfile's FROM
	KoBaseImage    string // MAGESHIP_DISTROLESS_IMAGE: ko's base
	Buildkitd      string // MAGESHIP_RIG_BUILDKITD: the CI scenario's daemons; set when it runs
	BuildkitConfig string // MAGESHIP_RIG_BUILDKIT_CONFIG: their configuration
	Platforms      []platform.Platform
	Stdout         io.Writer // progress and the final table
}

// ConfigFromEnv finds the mageship checkout above the working directory, reads the
// rig's settings from its scripts/rig env, and the MAGESHIP_BENCH_* variables.
func ConfigFromEnv(ctx context.Context) (Config, error) {
	root, err := findRoot()
	if err != nil {
		return Config{}, err
	}
	out, err := command.Output(ctx, command.Cmd{Name: filepath.Join(root, "scripts", "rig"), Args: []string{"env"}, Env: os.Environ()})
	if err != nil {
		return Config{}, fmt.Errorf("reading the rig's settings (scripts/rig env): %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return newConfig(root, os.Getenv, os.Environ(), parseRigEnv(string(out)), filepath.Join(cache, "mageship-bench"))
}

// newConfig computes the Config from the process environment and the rig's settings.
func newConfig(root string, getenv func(string) string, environ []string, rig map[string]string, defaultTools string) (Config, error) {
	c := Config{
		Root:      root,
		Runs:      3,
		Out:       filepath.Join(root, "bench", "results"),
		Work:      getenv(EnvWork),
		Keep:      getenv(EnvKeep) == "1",
		ToolsDir:  defaultTools,
		KoVersion: KoVersion,
		Platforms: []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}},
		Stdout:    os.Stdout,
	}
	if v := getenv(EnvRuns); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s=%q: want a whole number of repetitions, 1 or more", EnvRuns, v)
		}
		c.Runs = n
	}
	var err error
	if c.Only, err = parseList(EnvOnly, getenv(EnvOnly), serviceNames, "service"); err != nil {
		return c, err
	}
	if c.Scenarios, err = parseList(EnvScenarios, getenv(EnvScenarios), scenarioNames, "scenario"); err != nil {
		return c, err
	}
	if c.Contenders, err = parseList(EnvContenders, getenv(EnvContenders), contenderNames, "contender"); err != nil {
		return c, err
	}
	if len(c.contenders(Local)) == 0 && len(c.contenders(CI)) == 0 && !c.measuresMany() {
		return c, fmt.Errorf("%s=%s and %s=%s leave nothing to measure: the CI scenario has %s, the many-images scenario mageship",
			EnvScenarios, getenv(EnvScenarios), EnvContenders, getenv(EnvContenders), strings.Join(ciContenders, ", "))
	}
	if v := getenv(EnvOut); v != "" {
		// Relative to the checkout, where the magefile that runs the bench is, not to
		// engine/, where the bench runs.
		if !filepath.IsAbs(v) {
			v = filepath.Join(root, v)
		}
		c.Out = v
	}
	if v := getenv(EnvTools); v != "" {
		c.ToolsDir = v
	}
	vals := map[string]string{}
	var extra []string
	need := rigVars
	if len(c.contenders(CI)) > 0 {
		need = append(slices.Clone(rigVars), ciRigVars...)
	}
	for _, k := range need {
		v := getenv(k)
		if v == "" {
			v = rig[k]
			if v != "" {
				extra = append(extra, k+"="+v)
			}
		}
		if v == "" {
			return c, fmt.Errorf("%s is not set and scripts/rig env does not print it: bring the rig up (scripts/rig up) or set it", k)
		}
		vals[k] = v
	}
	// The rest of the rig's settings (DOCKER_HOST ...) too, where the process has none.
	for k, v := range rig {
		if !slices.Contains(need, k) && getenv(k) == "" {
			extra = append(extra, k+"="+v)
		}
	}
	slices.Sort(extra)
	c.Env = withEnv(environ, extra...)
	c.Builder, c.Registry = vals["BUILDX_BUILDER"], vals["MAGESHIP_RIG_REGISTRY"]
	c.BuilderImage, c.KoBaseImage = vals["MAGESHIP_BUILDER_IMAGE"], vals["MAGESHIP_DISTROLESS_IMAGE"]
	c.Buildkitd, c.BuildkitConfig = vals["MAGESHIP_RIG_BUILDKITD"], vals["MAGESHIP_RIG_BUILDKIT_CONFIG"]
	return c, nil
}

// parseList reads the comma list v of env, each item one of known, into known's
// order without repeats; "" is nil.
func parseList(env, v string, known []string, what string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("%s=%q: unknown %s %q; the %ss are %s", env, v, what, s, what, strings.Join(known, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	return out, nil
}

// contenders are the contenders this run measures in scenario (local or ci), in
// contenderNames order: none when the scenario is not selected.
func (c Config) contenders(scenario string) []string {
	if scenario == Many || len(c.Scenarios) > 0 && !slices.Contains(c.Scenarios, scenario) {
		return nil
	}
	var out []string
	for _, n := range contenderNames {
		if scenario == CI && !slices.Contains(ciContenders, n) || scenario == Local && slices.Contains(ciOnly, n) {
			continue
		}
		if len(c.Contenders) == 0 || slices.Contains(c.Contenders, n) {
			out = append(out, n)
		}
	}
	return out
}

// measuresMany reports whether this run measures the many-images scenario: it is
// selected, and so is mageship, its one contender.
func (c Config) measuresMany() bool {
	return (len(c.Scenarios) == 0 || slices.Contains(c.Scenarios, Many)) &&
		(len(c.Contenders) == 0 || slices.Contains(c.Contenders, "mageship"))
}

// measuresServices reports whether this run measures the services (hello, large):
// the local or the CI scenario has a contender.
func (c Config) measuresServices() bool {
	return len(c.contenders(Local)) > 0 || len(c.contenders(CI)) > 0
}

// measures reports whether contender runs in any scenario of this run.
func (c Config) measures(contender string) bool {
	return slices.Contains(c.contenders(Local), contender) || slices.Contains(c.contenders(CI), contender) ||
		contender == "ko" && c.measuresMany() && (len(c.Contenders) == 0 || slices.Contains(c.Contenders, "ko"))
}

// services are the services this run measures.
func (c Config) services() []string {
	if len(c.Only) > 0 {
		return c.Only
	}
	return serviceNames
}

// parseRigEnv reads the "export NAME=value" lines of scripts/rig env.
func parseRigEnv(out string) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && !strings.ContainsAny(k, " #") {
			vars[k] = strings.Trim(v, `"'`)
		}
	}
	return vars
}

// findRoot is the directory holding scripts/rig, at or above the working directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "rig")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the mageship checkout (a directory holding scripts/rig) at or above the working directory: run go tool mage bench in the repository")
		}
		dir = parent
	}
}
