package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
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
	fmt.Fprintf(c.Stdout, "bench: %s\nbench: %d run(s) of %s\n", machine, c.Runs, strings.Join(c.services(), ", "))
	ko, err := installKo(ctx, r, c)
	if err != nil {
		return err
	}
	modcache, err := r.run(ctx, Cmd{Dir: c.Root, Name: "go", Args: []string{"env", "GOMODCACHE"}, Env: c.Env}, "gomodcache")
	if err != nil {
		return err
	}
	p, err := startProxy(filepath.Join(strings.TrimSpace(modcache), "cache", "download"))
	if err != nil {
		return err
	}
	defer p.Close()

	rep := Report{
		Machine: machine,
		Runs:    c.Runs,
		Only:    c.Only,
		Settings: Settings{
			Platforms: strings.Split(platform.Strings(c.Platforms), ","),
			Builder:   c.Builder, Registry: c.Registry, BuilderImage: c.BuilderImage,
			KoVersion: c.KoVersion, KoBaseImage: c.KoBaseImage,
		},
		ServiceInfo: map[string]serviceInfo{},
		Services:    map[string]map[string]*Result{},
	}
	for _, name := range c.services() {
		res, info, err := benchService(ctx, r, c, name, filepath.Join(work, name), p, ko)
		if err != nil {
			return fmt.Errorf("benchmarking %s: %w", name, err)
		}
		rep.Services[name], rep.ServiceInfo[name] = res, info
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

// benchService prepares the service name under dir, sets up the contenders and
// times them: per repetition, each contender in turn builds cold, then warm after a
// one-line change.
func benchService(ctx context.Context, r *runner, c Config, name, dir string, p *proxy, ko string) (map[string]*Result, serviceInfo, error) {
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
	cs, cleanup, err := setUp(ctx, r, c, svc, dir, ko)
	defer cleanup()
	if err != nil {
		return nil, serviceInfo{}, err
	}

	results := map[string]*Result{}
	for _, ct := range cs {
		results[ct.name] = &Result{What: ct.what}
	}
	for i := 0; i < c.Runs; i++ {
		for _, ct := range cs {
			res := results[ct.name]
			log := fmt.Sprintf("%s-%s-%d", name, ct.name, i+1)
			caches := filepath.Join(dir, "caches", fmt.Sprintf("%s-%d", ct.name, i+1))
			env := goEnv(c.Env, goSettings{Proxy: p.URL, Cache: filepath.Join(caches, "gocache"), ModCache: filepath.Join(caches, "gomodcache")})
			if ct.buildKit {
				if _, err := r.run(ctx, pruneCmd(c.Builder, c.Env), log+"-prune"); err != nil {
					return nil, serviceInfo{}, err
				}
			}
			p.take()
			cold, err := timed(func() error { return ct.build(ctx, env, log+"-cold") })
			if err != nil {
				return nil, serviceInfo{}, fmt.Errorf("%s, cold: %w", ct.name, err)
			}
			coldDL := p.take()
			if err := svc.change(ctx, r, ct.dir, i+1, c.Env, log+"-change"); err != nil {
				return nil, serviceInfo{}, err
			}
			p.take()
			warm, err := timed(func() error { return ct.build(ctx, env, log+"-warm") })
			if err != nil {
				return nil, serviceInfo{}, fmt.Errorf("%s, warm: %w", ct.name, err)
			}
			warmDL := p.take()
			if err := removeAll(caches); err != nil {
				return nil, serviceInfo{}, err
			}
			res.ColdS = append(res.ColdS, seconds(cold.Seconds()))
			res.WarmS = append(res.WarmS, seconds(warm.Seconds()))
			res.ColdModuleDownloadsByRun = append(res.ColdModuleDownloadsByRun, coldDL.Modules)
			res.WarmModuleDownloadsByRun = append(res.WarmModuleDownloadsByRun, warmDL.Modules)
			res.WarmProxyRequestsByRun = append(res.WarmProxyRequestsByRun, warmDL.Requests)
			fmt.Fprintf(c.Stdout, "bench: %s %-8s run %d/%d: cold %6.1f s (%d module downloads), warm %6.1f s (%d module downloads, %d proxy requests)\n",
				name, ct.name, i+1, c.Runs, cold.Seconds(), coldDL.Modules, warm.Seconds(), warmDL.Modules, warmDL.Requests)
		}
	}
	for _, ct := range cs {
		res := results[ct.name]
		res.BinaryBytesByPlatform = map[string]int64{}
		if err := ct.measure(ctx, res); err != nil {
			return nil, serviceInfo{}, fmt.Errorf("measuring %s's image: %w", ct.name, err)
		}
		if s, ok := res.Images["production"]["linux/amd64"]; ok {
			res.ImageBytes, res.ImageCompressedBytes = &s.Uncompressed, &s.Compressed
		}
		res.BinaryBytes = res.BinaryBytesByPlatform["linux/amd64"]
		res.summarize()
	}
	return results, svc.Info, nil
}

// setUp makes each contender's copy of svc under dir and what it needs beside it
// (the naive Dockerfile, the compiled magefile, .ko.yaml). cleanup removes the naive
// image from the Docker engine.
func setUp(ctx context.Context, r *runner, c Config, svc service, dir, ko string) ([]contender, func(), error) {
	cleanup := func() {}
	copyOf := func(name string) (string, error) {
		d := filepath.Join(dir, name)
		return d, copyTree(svc.Src, d, true)
	}
	var cs []contender

	// naive: its copy does not use mageship, so it drops the require and the replace
	// (the replaced directory is not in its build context).
	nd, err := copyOf("naive")
	if err != nil {
		return nil, cleanup, err
	}
	if _, err := r.run(ctx, Cmd{Dir: nd, Name: "go", Args: []string{"mod", "edit", "-droprequire=github.com/mageship/mageship", "-dropreplace=github.com/mageship/mageship"}, Env: c.Env}, svc.Name+"-naive-gomod"); err != nil {
		return nil, cleanup, err
	}
	if err := gitCommit(ctx, r, nd, c.Env, "bench: without mageship", "", svc.Name+"-naive-commit"); err != nil {
		return nil, cleanup, err
	}
	dockerfile := filepath.Join(dir, "naive.Dockerfile")
	if err := os.WriteFile(dockerfile, []byte(naiveDockerfile(c.BuilderImage, svc.Main, svc.Binary)), 0o644); err != nil {
		return nil, cleanup, err
	}
	tag := c.Registry + "/bench-naive/" + svc.Name + ":latest"
	cleanup = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.run(ctx, Cmd{Name: "docker", Args: []string{"image", "rm", "--force", tag}, Env: c.Env}, svc.Name+"-naive-rm")
	}
	host := platform.Host()
	cs = append(cs, contender{
		name: "naive", dir: nd, buildKit: true,
		what: fmt.Sprintf("one-stage Dockerfile (FROM the builder image, COPY . ., go build), docker buildx build --load for %s on the same builder", host),
		build: func(ctx context.Context, env []string, log string) error {
			nb := naiveBuild{Builder: c.Builder, Dockerfile: dockerfile, Context: nd, Tag: tag, Platform: host, Proxy: envValue(env, "GOPROXY")}
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
	})

	// mageship: the magefile compiled once, so the timings leave out Mage compiling it.
	md, err := copyOf("mageship")
	if err != nil {
		return nil, cleanup, err
	}
	mageBin := filepath.Join(dir, "mage-"+svc.Name)
	if _, err := r.run(ctx, mageCompileCmd(md, mageBin, c.Env), svc.Name+"-mage-compile"); err != nil {
		return nil, cleanup, fmt.Errorf("compiling the magefile of %s: %w", svc.Name, err)
	}
	image := c.Registry + "/bench/" + svc.Name
	cs = append(cs, contender{
		name: "mageship", dir: md, buildKit: true,
		what: fmt.Sprintf("mage release (compiled magefile): production and debug images for %s, pushed by digest to %s, verified, tagged", platform.Strings(c.Platforms), image),
		build: func(ctx context.Context, env []string, log string) error {
			m := mageRelease{Bin: mageBin, Dir: md, Image: image, Platforms: c.Platforms}
			_, err := r.run(ctx, m.Cmd(env), log)
			return err
		},
		measure: func(ctx context.Context, res *Result) error {
			return measureRelease(ctx, filepath.Join(md, "dist", "release.json"), svc.Binary, c.Platforms, res)
		},
	})

	// ko: .ko.yaml gives it the same linker flags.
	kd, err := copyOf("ko")
	if err != nil {
		return nil, cleanup, err
	}
	if err := os.WriteFile(filepath.Join(kd, ".ko.yaml"), []byte(koConfig(svc.Main, svc.Binary)), 0o644); err != nil {
		return nil, cleanup, err
	}
	if err := gitCommit(ctx, r, kd, c.Env, "bench: .ko.yaml", "", svc.Name+"-ko-commit"); err != nil {
		return nil, cleanup, err
	}
	koRepo := c.Registry + "/bench-ko/" + svc.Name
	var koRef string
	cs = append(cs, contender{
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
	})

	// floor: go build for every platform at once, no image.
	fd, err := copyOf("floor")
	if err != nil {
		return nil, cleanup, err
	}
	out := filepath.Join(dir, "floor-out")
	builds := floorBuilds(fd, svc.Main, svc.Binary, out, c.Platforms)
	cs = append(cs, contender{
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
	})
	return cs, cleanup, nil
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

// envValue is the value of the last NAME= in env.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
