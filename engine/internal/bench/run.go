package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"

	"github.com/mageship/mageship/engine/internal/command"
)

// Run measures every contender on every service c selects, writes results.json and
// results.md into c.Out and prints the table. The scratch directory (copies, module
// caches, logs) is removed after a successful run unless c.Keep; after a failure it
// is kept and named, with the log of the command that failed.
func Run(ctx context.Context, c Config) (err error) {
	start := time.Now()
	work, temp := c.Work, false
	if work == "" {
		if work, err = os.MkdirTemp("", "mageship-bench-"); err != nil {
			return err
		}
		temp = true
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	defer func() {
		if err == nil && temp && !c.Keep {
			removeAll(work)
			return
		}
		fmt.Fprintf(c.Stdout, "bench: scratch directory kept: %s (logs in %s)\n", work, filepath.Join(work, "logs"))
	}()
	r := &runner{logs: filepath.Join(work, "logs")}

	machine, err := describeMachine(ctx, r, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "bench: %s\n", machine)
	if c.measuresServices() {
		fmt.Fprintf(c.Stdout, "bench: %d run(s) of %s\n", c.Runs, strings.Join(c.services(), ", "))
	}
	for _, sc := range scenarioNames {
		if cs := c.contenders(sc); len(cs) > 0 {
			fmt.Fprintf(c.Stdout, "bench: %s scenario: %s\n", sc, strings.Join(cs, ", "))
		}
	}
	if c.measuresMany() {
		fmt.Fprintf(c.Stdout, "bench: %s scenario: %d run(s) of mageship on %d images\n", Many, c.Runs, manyImages)
	}
	ko := ""
	if c.measures("ko") {
		if ko, err = installKo(ctx, r, c); err != nil {
			return err
		}
	}
	modcache, err := r.run(ctx, Cmd{Dir: c.Root, Name: "go", Args: []string{"env", "GOMODCACHE"}, Env: c.Env}, "gomodcache")
	if err != nil {
		return err
	}
	// The engine's modules too: mageship's targets build it with go run, from the
	// counting proxy, whenever its GOCACHE lacks it.
	if _, err := r.run(ctx, Cmd{Dir: filepath.Join(c.Root, "engine"), Name: "go", Args: []string{"mod", "download"}, Env: c.Env}, "engine-modules"); err != nil {
		return fmt.Errorf("downloading the engine's modules into the host's module cache: %w", err)
	}
	p, err := startProxy(filepath.Join(strings.TrimSpace(modcache), "cache", "download"))
	if err != nil {
		return err
	}
	defer p.Close()

	rep := Report{
		Machine:    machine,
		Runs:       c.Runs,
		Only:       c.Only,
		Scenarios:  c.Scenarios,
		Contenders: c.Contenders,
		Settings: Settings{
			Platforms: strings.Split(platform.Strings(c.Platforms), ","),
			Builder:   c.Builder, Registry: c.Registry, BuilderImage: c.BuilderImage,
			KoVersion: c.KoVersion, KoBaseImage: c.KoBaseImage,
			Buildkitd: c.Buildkitd,
		},
		ServiceInfo: map[string]serviceInfo{},
		Services:    map[string]map[string]*Result{},
	}
	word := strconv.FormatInt(start.Unix(), 36)
	if c.measuresServices() {
		for _, name := range c.services() {
			res, info, err := benchService(ctx, r, c, name, filepath.Join(work, name), p, ko, word)
			if err != nil {
				return fmt.Errorf("benchmarking %s: %w", name, err)
			}
			rep.Services[name], rep.ServiceInfo[name] = res, info
		}
	}
	if c.measuresMany() {
		if rep.Many, err = benchMany(ctx, r, c, filepath.Join(work, Many), p, ko, word); err != nil {
			return fmt.Errorf("many-images scenario: %w", err)
		}
	}
	rep.Date = start.UTC().Format(time.RFC3339)
	if err := rep.write(c.Out); err != nil {
		return fmt.Errorf("writing the results: %w", err)
	}
	fmt.Fprintf(c.Stdout, "\n%s\nbench: wrote %s and %s\n", rep.Markdown(),
		filepath.Join(c.Out, "results.md"), filepath.Join(c.Out, "results.json"))
	return nil
}

// installKo installs ko c.KoVersion into c.ToolsDir once and returns its path.
func installKo(ctx context.Context, r *runner, c Config) (string, error) {
	dir := filepath.Join(c.ToolsDir, "ko-"+c.KoVersion)
	bin := filepath.Join(dir, "ko")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(c.Stdout, "bench: installing ko %s into %s (a few minutes, once)\n", c.KoVersion, dir)
	if _, err := r.run(ctx, koInstallCmd(dir, c.KoVersion, c.Env), "ko-install"); err != nil {
		return "", fmt.Errorf("installing ko: %w", err)
	}
	return bin, nil
}

// contender is one way of building a service, set up in its own copy of it.
type contender struct {
	name     string
	dir      string // its copy of the service
	buildKit bool   // builds in BuildKit: the builder is pruned before a cold run
	what     string
	// build builds once, with env (the go settings of this run) for every command.
	build func(ctx context.Context, env []string, log string) error
	// measure fills the image and binary sizes of the last build.
	measure func(ctx context.Context, res *Result) error
}

// benchService prepares the service name under dir and measures it in each scenario
// c selects: the local scenario, then the CI scenario (its change marks carry word,
// this bench run's own).
func benchService(ctx context.Context, r *runner, c Config, name, dir string, p *proxy, ko, word string) (map[string]*Result, serviceInfo, error) {
	fmt.Fprintf(c.Stdout, "bench: preparing %s\n", name)
	var (
		svc service
		err error
	)
	src := filepath.Join(dir, "src")
	switch name {
	case "hello":
		svc, err = prepareHello(ctx, r, c.Root, src, c.Env)
	case "large":
		svc, err = prepareLarge(ctx, r, c.Root, src, c.Env)
	default:
		err = fmt.Errorf("unknown service %q", name)
	}
	if err != nil {
		return nil, serviceInfo{}, err
	}
	if err := fillModuleCache(ctx, r, &svc, c.Env); err != nil {
		return nil, serviceInfo{}, err
	}
	results := map[string]*Result{}
	if names := c.contenders(Local); len(names) > 0 {
		if err := benchLocal(ctx, r, c, svc, dir, p, ko, names, results); err != nil {
			return nil, serviceInfo{}, err
		}
	}
	if names := c.contenders(CI); len(names) > 0 {
		if err := benchCI(ctx, r, c, svc, filepath.Join(dir, "ci"), p, ko, word, names, results); err != nil {
			return nil, serviceInfo{}, fmt.Errorf("CI scenario: %w", err)
		}
	}
	for _, res := range results {
		res.summarize()
	}
	return results, svc.Info, nil
}

// benchLocal sets up the contenders names and times them in the local scenario: per
// repetition, each contender in turn builds cold, then warm after a one-line change;
// then it measures the images and binaries the last builds left.
func benchLocal(ctx context.Context, r *runner, c Config, svc service, dir string, p *proxy, ko string, names []string, results map[string]*Result) error {
	name := svc.Name
	cs, cleanup, err := setUp(ctx, r, c, svc, dir, ko, names)
	defer cleanup()
	if err != nil {
		return err
	}
	for _, ct := range cs {
		result(results, ct.name).What = ct.what
	}
	for i := 0; i < c.Runs; i++ {
		for _, ct := range cs {
			res := results[ct.name]
			log := fmt.Sprintf("%s-%s-%d", name, ct.name, i+1)
			caches := filepath.Join(dir, "caches", fmt.Sprintf("%s-%d", ct.name, i+1))
			env := goEnv(c.Env, goSettings{Proxy: p.URL, Cache: filepath.Join(caches, "gocache"), ModCache: filepath.Join(caches, "gomodcache")})
			if ct.buildKit {
				if _, err := r.run(ctx, pruneCmd(c.Builder, c.Env), log+"-prune"); err != nil {
					return err
				}
			}
			p.take()
			cold, err := timed(func() error { return ct.build(ctx, env, log+"-cold") })
			if err != nil {
				return fmt.Errorf("%s, cold: %w", ct.name, err)
			}
			coldDL := p.take()
			if err := svc.change(ctx, r, ct.dir, localMark(i+1), versionTag(i+1), c.Env, log+"-change"); err != nil {
				return err
			}
			p.take()
			warm, err := timed(func() error { return ct.build(ctx, env, log+"-warm") })
			if err != nil {
				return fmt.Errorf("%s, warm: %w", ct.name, err)
			}
			warmDL := p.take()
			if err := removeAll(caches); err != nil {
				return err
			}
			res.ColdS = append(res.ColdS, seconds(cold.Seconds()))
			res.WarmS = append(res.WarmS, seconds(warm.Seconds()))
			res.ColdModuleDownloadsByRun = append(res.ColdModuleDownloadsByRun, coldDL.Modules)
			res.WarmModuleDownloadsByRun = append(res.WarmModuleDownloadsByRun, warmDL.Modules)
			res.WarmProxyRequestsByRun = append(res.WarmProxyRequestsByRun, warmDL.Requests)
			fmt.Fprintf(c.Stdout, "bench: %s %-18s run %d/%d: cold %6.1f s (%d module downloads), warm %6.1f s (%d module downloads, %d proxy requests)\n",
				name, ct.name, i+1, c.Runs, cold.Seconds(), coldDL.Modules, warm.Seconds(), warmDL.Modules, warmDL.Requests)
		}
	}
	for _, ct := range cs {
		res := results[ct.name]
		res.BinaryBytesByPlatform = map[string]int64{}
		if err := ct.measure(ctx, res); err != nil {
			return fmt.Errorf("measuring %s's image: %w", ct.name, err)
		}
		if s, ok := res.Images["production"]["linux/amd64"]; ok {
			res.ImageBytes, res.ImageCompressedBytes = &s.Uncompressed, &s.Compressed
		}
		if b, ok := res.BinaryBytesByPlatform["linux/amd64"]; ok {
			res.BinaryBytes = &b
		}
	}
	return nil
}

// setUp makes the copy of svc under dir of each contender in names, and what it
// needs beside it (the naive Dockerfile, the compiled magefile, .ko.yaml). cleanup
// removes the naive image from the Docker engine.
func setUp(ctx context.Context, r *runner, c Config, svc service, dir, ko string, names []string) ([]contender, func(), error) {
	cleanup := func() {}
	copyOf := func(name string) (string, error) {
		d := filepath.Join(dir, name)
		return d, copyTree(svc.Src, d, true)
	}
	var cs []contender
	for _, name := range names {
		d, err := copyOf(name)
		if err != nil {
			return nil, cleanup, err
		}
		var ct contender
		switch name {
		case "naive":
			ct, cleanup, err = setUpNaive(ctx, r, c, svc, dir, d)
		case "mageship", "mageship_buildx", "mageship_container":
			ct, err = setUpMageship(ctx, r, c, svc, dir, d, name)
		case "ko":
			ct, err = setUpKo(ctx, r, c, svc, d, ko)
		case "floor":
			ct = setUpFloor(r, c, svc, dir, d)
		default:
			err = fmt.Errorf("unknown contender %q", name)
		}
		if err != nil {
			return nil, cleanup, err
		}
		cs = append(cs, ct)
	}
	return cs, cleanup, nil
}

// setUpNaive: its copy nd does not use mageship, so it drops the require and the
// replace (the replaced directory is not in its build context).
func setUpNaive(ctx context.Context, r *runner, c Config, svc service, dir, nd string) (contender, func(), error) {
	cleanup := func() {}
	if _, err := r.run(ctx, Cmd{Dir: nd, Name: "go", Args: []string{"mod", "edit", "-droprequire=github.com/mageship/mageship", "-dropreplace=github.com/mageship/mageship"}, Env: c.Env}, svc.Name+"-naive-gomod"); err != nil {
		return contender{}, cleanup, err
	}
	if err := gitCommit(ctx, r, nd, c.Env, "bench: without mageship", "", svc.Name+"-naive-commit"); err != nil {
		return contender{}, cleanup, err
	}
	dockerfile := filepath.Join(dir, "naive.Dockerfile")
	if err := os.WriteFile(dockerfile, []byte(naiveDockerfile(c.BuilderImage, svc.Main, svc.Binary)), 0o644); err != nil {
		return contender{}, cleanup, err
	}
	tag := c.Registry + "/bench-naive/" + svc.Name + ":latest"
	cleanup = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.run(ctx, Cmd{Name: "docker", Args: []string{"image", "rm", "--force", tag}, Env: c.Env}, svc.Name+"-naive-rm")
	}
	host := platform.Host()
	return contender{
		name: "naive", dir: nd, buildKit: true,
		what: fmt.Sprintf("one-stage Dockerfile (FROM the builder image, COPY . ., go build), docker buildx build --load for %s on the same builder", host),
		build: func(ctx context.Context, env []string, log string) error {
			proxy, _ := command.LookupEnv(env, "GOPROXY")
			nb := naiveBuild{Builder: c.Builder, Dockerfile: dockerfile, Context: nd, Tag: tag, Platform: host, Proxy: proxy}
			_, err := r.run(ctx, nb.Cmd(env), log)
			return err
		},
		measure: func(ctx context.Context, res *Result) error {
			img, err := imagefs.FromDaemon(ctx, tag)
			if err != nil {
				return err
			}
			s, err := measureImage(img)
			if err != nil {
				return err
			}
			res.Images = map[string]map[string]imageSize{"production": {host.String(): s}}
			res.BinaryBytesByPlatform[host.String()], err = binarySize(img, "/usr/local/bin/"+svc.Binary)
			return err
		},
	}, cleanup, nil
}

// setUpMageship: the magefile of the copy md compiled once, so the timings leave
// out Mage compiling it. mageship runs the default path (MAGESHIP_BUILD unset),
// mageship_container MAGESHIP_BUILD=container; each pushes to its own repository.
func setUpMageship(ctx context.Context, r *runner, c Config, svc service, dir, md, name string) (contender, error) {
	mageBin := filepath.Join(dir, "mage-"+name)
	if _, err := r.run(ctx, mageCompileCmd(md, mageBin, c.Env), svc.Name+"-"+name+"-mage-compile"); err != nil {
		return contender{}, fmt.Errorf("compiling the magefile of %s: %w", svc.Name, err)
	}
	image := imageRepo(c.Registry, name, svc.Name)
	m := mageRelease{Bin: mageBin, Dir: md, Image: image, Platforms: c.Platforms}
	path := "MAGESHIP_BUILD and MAGESHIP_ASSEMBLE unset: the default path, host+direct, no BuildKit"
	switch name {
	case "mageship_buildx":
		m.Assemble, path = "buildx", "MAGESHIP_ASSEMBLE=buildx: host+buildx"
	case "mageship_container":
		m.Build, path = "container", "MAGESHIP_BUILD=container"
	}
	return contender{
		name: name, dir: md, buildKit: name != "mageship",
		what: fmt.Sprintf("mage release (compiled magefile; %s): production and debug images for %s, pushed by digest to %s, verified, tagged", path, platform.Strings(c.Platforms), image),
		build: func(ctx context.Context, env []string, log string) error {
			_, err := r.run(ctx, m.Cmd(env), log)
			return err
		},
		measure: func(ctx context.Context, res *Result) error {
			return measureRelease(ctx, filepath.Join(md, "dist", "release.json"), svc.Binary, c.Platforms, res)
		},
	}, nil
}

// addKoConfig writes and commits the .ko.yaml that gives ko the same linker flags.
func addKoConfig(ctx context.Context, r *runner, c Config, svc service, kd, log string) error {
	if err := os.WriteFile(filepath.Join(kd, ".ko.yaml"), []byte(koConfig(svc.Main, svc.Binary)), 0o644); err != nil {
		return err
	}
	return gitCommit(ctx, r, kd, c.Env, "bench: .ko.yaml", "", log)
}

// setUpKo: ko in its copy kd.
func setUpKo(ctx context.Context, r *runner, c Config, svc service, kd, ko string) (contender, error) {
	if err := addKoConfig(ctx, r, c, svc, kd, svc.Name+"-ko-commit"); err != nil {
		return contender{}, err
	}
	koRepo := imageRepo(c.Registry, "ko", svc.Name)
	var koRef string
	return contender{
		name: "ko", dir: kd,
		what: fmt.Sprintf("ko build %s --bare --sbom=none for %s on %s, pushed to %s", c.KoVersion, platform.Strings(c.Platforms), c.KoBaseImage, koRepo),
		build: func(ctx context.Context, env []string, log string) error {
			k := koBuild{Ko: ko, Dir: kd, Main: svc.Main, Repo: koRepo, Base: c.KoBaseImage, Platforms: c.Platforms, Tag: "latest"}
			out, err := r.run(ctx, k.Cmd(env), log)
			if err != nil {
				return err
			}
			if koRef, err = lastRef(out); err != nil {
				return fmt.Errorf("ko build: %w", err)
			}
			return nil
		},
		measure: func(ctx context.Context, res *Result) error {
			res.Images = map[string]map[string]imageSize{"production": {}}
			for _, pl := range c.Platforms {
				img, err := imagefs.FromRegistry(ctx, koRef, pl)
				if err != nil {
					return err
				}
				if res.Images["production"][pl.String()], err = measureImage(img); err != nil {
					return err
				}
				if res.BinaryBytesByPlatform[pl.String()], err = binarySize(img, "/ko-app/"+svc.Binary); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// setUpFloor: go build for every platform at once in the copy fd, no image.
func setUpFloor(r *runner, c Config, svc service, dir, fd string) contender {
	builds := floorBuilds(fd, svc.Main, svc.Binary, filepath.Join(dir, "floor-out"), c.Platforms)
	return contender{
		name: "floor", dir: fd,
		what: fmt.Sprintf("go build -trimpath -ldflags='-s -w' with CGO_ENABLED=0 for %s in parallel; no image", platform.Strings(c.Platforms)),
		build: func(ctx context.Context, env []string, log string) error {
			return r.parallel(ctx, floorCmds(builds, env), log)
		},
		measure: func(ctx context.Context, res *Result) error {
			for _, b := range builds {
				st, err := os.Stat(b.Output)
				if err != nil {
					return err
				}
				res.BinaryBytesByPlatform[b.Platform.String()] = st.Size()
			}
			return nil
		},
	}
}

// measureRelease reads the images a release published (dist/release.json) from the
// registry: every variant and platform, and the production linux/amd64 binary.
func measureRelease(ctx context.Context, summary, binary string, plats []platform.Platform, res *Result) error {
	b, err := os.ReadFile(summary)
	if err != nil {
		return fmt.Errorf("reading the release summary: %w", err)
	}
	var sum struct {
		Images []struct {
			Variant string `json:"variant"`
			Ref     string `json:"ref"`
		} `json:"images"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return fmt.Errorf("reading %s: %w", summary, err)
	}
	res.Images = map[string]map[string]imageSize{}
	for _, im := range sum.Images {
		res.Images[im.Variant] = map[string]imageSize{}
		for _, pl := range plats {
			img, err := imagefs.FromRegistry(ctx, im.Ref, pl)
			if err != nil {
				return err
			}
			if res.Images[im.Variant][pl.String()], err = measureImage(img); err != nil {
				return err
			}
			if im.Variant == "production" {
				if res.BinaryBytesByPlatform[pl.String()], err = binarySize(img, "/usr/local/bin/"+binary); err != nil {
					return err
				}
			}
		}
	}
	if _, ok := res.Images["production"]; !ok {
		return fmt.Errorf("%s names no production image", summary)
	}
	return nil
}

// lastRef is the image reference ko prints last on stdout (repository@sha256:...).
func lastRef(stdout string) (string, error) {
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.Contains(l, "@sha256:") {
			return l, nil
		}
	}
	return "", fmt.Errorf("no image reference (repository@sha256:...) on its standard output: %q", stdout)
}
