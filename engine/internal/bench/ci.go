package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mageship/mageship/engine/internal/platform"
)

// ciJob is one CI job of one contender in the CI scenario: where its checkout and
// state are, and what its CI recipe restored. Every path of the state is the same in
// every job of the contender, as a runner's ~/.cache/go-build and ~/go/pkg/mod are:
// without -trimpath (go tool mage, go run of the engine) the go command keys its
// cache by the package's directory, so a module cache restored elsewhere would not
// be reused.
type ciJob struct {
	Dir string // the contender's checkout of the service
	// Home is the job's state: gocache/ and gomodcache/ (restored from the previous
	// job, or empty), magefile/ (MAGEFILE_CACHE) and mageship/ (MAGESHIP_CACHE_DIR,
	// the engine's binary; both restored for the mageship contenders as the CI
	// recipes do, empty for mageship_nocache), buildkit-cache/ (where this job
	// exports the BuildKit cache) and out/ (the floor's binaries).
	Home string
	// ImportCache is the BuildKit cache the previous job exported (a directory of
	// one local cache per image and variant), or "" for the first job.
	ImportCache string
	Builder     string // the job's brand-new buildx builder; "" for contenders without BuildKit
	Proxy       string // GOPROXY: the counting proxy
}

func (j ciJob) goCache() string       { return filepath.Join(j.Home, "gocache") }
func (j ciJob) goModCache() string    { return filepath.Join(j.Home, "gomodcache") }
func (j ciJob) magefileCache() string { return filepath.Join(j.Home, "magefile") }
func (j ciJob) engineCache() string   { return filepath.Join(j.Home, "mageship") }
func (j ciJob) exportCache() string   { return filepath.Join(j.Home, "buildkit-cache") }
func (j ciJob) out() string           { return filepath.Join(j.Home, "out") }

// move is one rename of a directory, when its source exists.
type move struct{ From, To string }

// ciCaches are the subdirectories of a job's home that contender's CI recipe
// restores and saves: GOCACHE and GOMODCACHE for every contender (as
// actions/setup-go does); for the mageship contenders also the compiled magefile
// (MAGEFILE_CACHE) and the engine's binary (MAGESHIP_CACHE_DIR), as the recipes in
// examples/ci do, but not for mageship_nocache (the recipes before they did); for
// mageship_container also the BuildKit cache the job exported.
func ciCaches(contender string) []string {
	subs := []string{"gocache", "gomodcache"}
	switch contender {
	case "mageship", "mageship_buildx", "mageship_container":
		subs = append(subs, "magefile", "mageship")
	}
	if contender == "mageship_container" {
		subs = append(subs, "buildkit-cache")
	}
	return subs
}

// restorePlan is what contender's CI recipe restores into a job's fresh home from
// saved (what the previous job saved): every cache of ciCaches into its place, but
// mageship_container's exported BuildKit cache to home/buildkit-cache-from, to be
// imported from (the job exports anew into home/buildkit-cache).
func restorePlan(contender, saved, home string) (moves []move, importCache string) {
	for _, sub := range ciCaches(contender) {
		to := filepath.Join(home, sub)
		if sub == "buildkit-cache" {
			importCache = filepath.Join(home, "buildkit-cache-from")
			to = importCache
		}
		moves = append(moves, move{filepath.Join(saved, sub), to})
	}
	return moves, importCache
}

// savePlan is what contender's CI recipe saves from a job's home into saved for the
// next job: every cache of ciCaches as the job left it. Nothing else of home
// survives the job.
func savePlan(contender, home, saved string) []move {
	var moves []move
	for _, sub := range ciCaches(contender) {
		moves = append(moves, move{filepath.Join(home, sub), filepath.Join(saved, sub)})
	}
	return moves
}

// ciService is what every CI job of one service shares.
type ciService struct {
	Service   service
	Registry  string
	Platforms []platform.Platform
	Ko        string // the ko binary
	KoBase    string
}

// usesBuildKit reports whether contender builds with BuildKit: its CI jobs get a
// brand-new builder.
func usesBuildKit(contender string) bool {
	return contender == "naive" || contender == "mageship_buildx" || contender == "mageship_container"
}

// imageRepo is where contender pushes service's images in both scenarios.
func imageRepo(registry, contender, service string) string {
	switch contender {
	case "mageship":
		return registry + "/bench/" + service
	case "mageship_buildx":
		return registry + "/bench-buildx/" + service
	case "mageship_container":
		return registry + "/bench-container/" + service
	case "mageship_nocache":
		return registry + "/bench-nocache/" + service
	case "ko":
		return registry + "/bench-ko/" + service
	}
	return registry + "/bench-" + contender + "/" + service
}

// ciCmds are the commands of contender's CI job j, run together and timed as one:
//   - mageship: go tool mage release, MAGEFILE_CACHE and MAGESHIP_CACHE_DIR in j's
//     home (restored: the magefile and the engine are not compiled again when
//     unchanged), MAGESHIP_BUILD and MAGESHIP_ASSEMBLE unset (the default path:
//     host+direct, no BuildKit);
//   - mageship_nocache: the same with MAGEFILE_CACHE and MAGESHIP_CACHE_DIR empty
//     (not restored): Mage compiles the magefile and the launcher the engine;
//   - mageship_buildx: the same with MAGESHIP_ASSEMBLE=buildx, on j's builder;
//   - mageship_container: the same with MAGESHIP_BUILD=container, the BuildKit cache
//     imported from the previous job's export and exported (mode=max) for the next;
//   - ko: ko build of every platform;
//   - floor: go build of every platform, in parallel.
//
// Every go command runs with j's GOCACHE and GOMODCACHE and the counting proxy.
func ciCmds(contender string, j ciJob, s ciService, base []string) ([]Cmd, error) {
	env := goEnv(base, goSettings{Proxy: j.Proxy, Cache: j.goCache(), ModCache: j.goModCache()})
	repo := imageRepo(s.Registry, contender, s.Service.Name)
	switch contender {
	case "mageship", "mageship_nocache", "mageship_buildx", "mageship_container":
		m := mageRelease{Dir: j.Dir, MagefileCache: j.magefileCache(), EngineCache: j.engineCache(), Image: repo, Platforms: s.Platforms, Builder: j.Builder}
		if contender == "mageship_buildx" {
			m.Assemble = "buildx"
		}
		if contender == "mageship_container" {
			m.Build = "container"
			if j.ImportCache != "" {
				m.CacheFrom = "type=local,src=" + filepath.Join(j.ImportCache, "{name}")
			}
			m.CacheTo = "type=local,dest=" + filepath.Join(j.exportCache(), "{name}") + ",mode=max"
		}
		return []Cmd{m.Cmd(env)}, nil
	case "ko":
		k := koBuild{Ko: s.Ko, Dir: j.Dir, Main: s.Service.Main, Repo: repo, Base: s.KoBase, Platforms: s.Platforms, Tag: "latest"}
		return []Cmd{k.Cmd(env)}, nil
	case "floor":
		return floorCmds(floorBuilds(j.Dir, s.Service.Main, s.Service.Binary, j.out(), s.Platforms), env), nil
	}
	return nil, fmt.Errorf("the CI scenario has no contender %q", contender)
}

// ciWhat says what contender's CI job runs and restores, for results.json.
func ciWhat(contender string) string {
	const mageCaches = "MAGEFILE_CACHE (the compiled magefile) and MAGESHIP_CACHE_DIR (the engine's binary)"
	switch contender {
	case "mageship":
		return "go tool mage release (MAGESHIP_BUILD and MAGESHIP_ASSEMBLE unset: the default path, host+direct, no BuildKit); restored: GOCACHE, GOMODCACHE, " + mageCaches
	case "mageship_nocache":
		return "go tool mage release as mageship, but " + mageCaches + " start empty (not restored: Mage compiles the magefile and the launcher builds the engine in every job); restored: GOCACHE, GOMODCACHE"
	case "mageship_buildx":
		return "go tool mage release with MAGESHIP_ASSEMBLE=buildx (host+buildx), on a brand-new BuildKit daemon; restored: GOCACHE, GOMODCACHE, " + mageCaches
	case "mageship_container":
		return "go tool mage release with MAGESHIP_BUILD=container, on a brand-new BuildKit daemon; restored: GOCACHE, GOMODCACHE, " + mageCaches + ", and the previous job's BuildKit cache (MAGESHIP_CACHE_FROM type=local; MAGESHIP_CACHE_TO type=local,mode=max)"
	case "ko":
		return "ko build as in the local scenario; restored: GOCACHE, GOMODCACHE"
	case "floor":
		return "go build as in the local scenario; restored: GOCACHE, GOMODCACHE"
	}
	return ""
}

// cleanCmd makes a checkout as a CI job finds it: nothing untracked (dist/ ...).
func cleanCmd(dir string, base []string) Cmd {
	return Cmd{Dir: dir, Name: "git", Args: []string{"clean", "-q", "-ffdx"}, Env: gitEnv(base)}
}

// benchCI runs the CI scenario of svc for the contenders names under dir, into
// results: per contender a priming job (cold, timed once), then c.Runs timed jobs,
// each after a one-line change. Jobs of the contenders take turns, as in the local
// scenario.
func benchCI(ctx context.Context, r *runner, c Config, svc service, dir string, p *proxy, ko, word string, names []string, results map[string]*Result) error {
	s := ciService{Service: svc, Registry: c.Registry, Platforms: c.Platforms, Ko: ko, KoBase: c.KoBaseImage}
	checkouts := map[string]string{}
	for _, name := range names {
		co := filepath.Join(dir, name, "src")
		if err := copyTree(svc.Src, co, true); err != nil {
			return err
		}
		if name == "ko" {
			if err := addKoConfig(ctx, r, c, svc, co, svc.Name+"-ci-ko-commit"); err != nil {
				return err
			}
		}
		checkouts[name] = co
		result(results, name).CIWhat = ciWhat(name)
	}
	for n := 0; n <= c.Runs; n++ {
		for _, name := range names {
			base := filepath.Join(dir, name)
			d, dl, err := ciRun(ctx, r, c, s, name, checkouts[name], base, n, word, p)
			if err != nil {
				return fmt.Errorf("%s, CI job %d: %w", name, n, err)
			}
			res := result(results, name)
			if n == 0 {
				res.CIColdS, res.CIColdModuleDownloads = ptrTo(seconds(d.Seconds())), ptrTo(dl.Modules)
				fmt.Fprintf(c.Stdout, "bench: %s %-18s CI priming job: %6.1f s (%d module downloads)\n", svc.Name, name, d.Seconds(), dl.Modules)
				continue
			}
			res.CIWarmS = append(res.CIWarmS, seconds(d.Seconds()))
			res.CIWarmModuleDownloadsByRun = append(res.CIWarmModuleDownloadsByRun, dl.Modules)
			res.CIWarmProxyRequestsByRun = append(res.CIWarmProxyRequestsByRun, dl.Requests)
			fmt.Fprintf(c.Stdout, "bench: %s %-18s CI job %d/%d: %6.1f s (%d module downloads, %d proxy requests)\n",
				svc.Name, name, n, c.Runs, d.Seconds(), dl.Modules, dl.Requests)
		}
	}
	for _, name := range names {
		if err := removeAll(filepath.Join(dir, name, "saved")); err != nil {
			return err
		}
	}
	return nil
}

// ciRun is job n of contender (0: the priming job, on the unchanged checkout) with
// its state under base: home/ is made afresh and gets what saved/ holds (the
// previous job's caches), the checkout is cleaned (and changed, for n > 0), a
// brand-new builder is started for a BuildKit contender, the job's commands are timed,
// and what the recipe saves goes back to saved/. The builder goes, also after a
// failure.
func ciRun(ctx context.Context, r *runner, c Config, s ciService, contender, checkout, base string, n int, word string, p *proxy) (d time.Duration, dl downloads, err error) {
	log := fmt.Sprintf("%s-ci-%s-%d", s.Service.Name, contender, n)
	home, saved := filepath.Join(base, "home"), filepath.Join(base, "saved")
	if err := removeAll(home); err != nil {
		return 0, dl, err
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return 0, dl, err
	}
	j := ciJob{Dir: checkout, Home: home, Proxy: p.URL}
	moves, importCache := restorePlan(contender, saved, home)
	if err := doMoves(moves); err != nil {
		return 0, dl, fmt.Errorf("restoring the previous job's caches: %w", err)
	}
	if importCache != "" && exists(importCache) {
		j.ImportCache = importCache
	}
	if _, err := r.run(ctx, cleanCmd(checkout, c.Env), log+"-clean"); err != nil {
		return 0, dl, err
	}
	if n > 0 {
		if err := s.Service.change(ctx, r, checkout, ciMark(n, word), ciVersionTag(n), c.Env, log+"-change"); err != nil {
			return 0, dl, err
		}
	}
	if usesBuildKit(contender) {
		var (
			b    freshBuilder
			stop func() error
		)
		b, stop, err = startFreshBuilder(ctx, r, c, fmt.Sprintf("mageship-bench-ci-%d-%d", os.Getpid(), time.Now().UnixNano()), log)
		if stop != nil {
			// The named result: a failed teardown fails the job.
			defer func() { err = errors.Join(err, stop()) }()
		}
		if err != nil {
			return 0, dl, err
		}
		j.Builder = b.Name
	}
	cmds, err := ciCmds(contender, j, s, c.Env)
	if err != nil {
		return 0, dl, err
	}
	p.take()
	d, err = timed(func() error {
		if len(cmds) == 1 {
			_, err := r.run(ctx, cmds[0], log)
			return err
		}
		return r.parallel(ctx, cmds, log)
	})
	dl = p.take()
	if err != nil {
		return 0, dl, err
	}
	// Save what the recipe saves; everything else of the job goes.
	if err := removeAll(saved); err != nil {
		return 0, dl, err
	}
	if err := os.MkdirAll(saved, 0o755); err != nil {
		return 0, dl, err
	}
	if err := doMoves(savePlan(contender, home, saved)); err != nil {
		return 0, dl, fmt.Errorf("saving the job's caches: %w", err)
	}
	return d, dl, removeAll(home)
}

// doMoves renames every move's source that exists.
func doMoves(moves []move) error {
	for _, m := range moves {
		if !exists(m.From) {
			continue
		}
		if err := os.Rename(m.From, m.To); err != nil {
			return err
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// result is results[name], made when missing.
func result(results map[string]*Result, name string) *Result {
	if results[name] == nil {
		results[name] = &Result{}
	}
	return results[name]
}

func ptrTo[T any](v T) *T { return &v }
