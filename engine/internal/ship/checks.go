package ship

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/doctor"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/release"
	"github.com/mageship/mageship/engine/internal/variant"
	"github.com/mageship/mageship/engine/internal/version"
)

// loadLocal resolves the configuration and the version local builds use: a dirty
// tree is allowed (the version says -dirty), and so is a directory without git (dev).
func loadLocal(ctx context.Context, o Options) (config.Resolved, version.Info, error) {
	r, err := load(o)
	if err != nil {
		return config.Resolved{}, version.Info{}, err
	}
	vo, err := version.OptionsFromEnv(o.Getenv)
	if err != nil {
		return config.Resolved{}, version.Info{}, err
	}
	vo.AllowDirty, vo.AllowNoGit = true, true
	vo.Env = r.Env
	info, err := version.Resolve(ctx, r.Project.Dir, vo, r.Dist)
	return r, info, err
}

// verifyLocal reads a loaded image from the engine and checks it. prodSHA is the
// production binary's digest for a debug image ("" for a production image, whose own
// digest it returns).
func verifyLocal(ctx context.Context, b variant.Build, ref string, prodSHA string, out io.Writer) (string, error) {
	image, err := imagefs.FromDaemon(ctx, ref)
	if err != nil {
		return "", err
	}
	return b.Verify(ref, image, localPlatform(ctx), prodSHA, out)
}

// Verify checks the production and debug images of the current version in the local
// engine: no shell or package manager in production, non-root, a static binary of
// the right architecture, CA bundle, zoneinfo, labels, size budget; and that debug
// has a shell and the byte-identical binary.
func Verify(ctx context.Context, o Options) error {
	o = o.withDefaults()
	r, info, err := loadLocal(ctx, o)
	if err != nil {
		return err
	}
	var errs []error
	for _, img := range r.Images {
		ref := img.Name + ":" + info.Version
		prod := variant.Build{Config: r, Image: img, Variant: Production, Info: info}
		sha, err := verifyLocal(ctx, prod, ref, "", o.Stdout)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tags, err := Debug.Tags([]string{info.Version})
		if err != nil {
			return err
		}
		debug := prod
		debug.Variant = Debug
		if _, err := verifyLocal(ctx, debug, img.Name+":"+tags[0], sha, o.Stdout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Smoke runs each image and waits for its health endpoint: the released platforms of
// this version when <dist>/release.json has them (foreign ones under emulation), else
// the locally built production image. Each runs with the image's Args and Env, an
// empty tmpfs at each of Image.Volumes, and is probed on Image.HealthPort (default the
// first of Ports). A failure is decided from the container's state (its exit code
// first) and shows the last 20 lines of its output; all of it goes to
// <dist>/image-test/<binary>-<os>_<arch>.log. It always removes the containers it
// started.
func Smoke(ctx context.Context, o Options) error {
	o = o.withDefaults()
	r, info, err := loadLocal(ctx, o)
	if err != nil {
		return err
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		return err
	}
	released := map[string][]release.PublishedPlatform{}
	if b, err := os.ReadFile(filepath.Join(r.Dist, release.SummaryFile)); err == nil {
		var sum ReleaseSummary
		if json.Unmarshal(b, &sum) == nil && sum.Version == info.Version {
			for _, p := range sum.Images {
				if p.Variant == Production.String() {
					released[p.Image] = p.Platforms
				}
			}
		}
	}
	var errs []error
	for _, img := range r.Images {
		if img.Health == "-" {
			fmt.Fprintf(o.Stdout, "skipped %s: Image.Health is -\n", img.Name)
			continue
		}
		port := img.ProbePort()
		if port == 0 {
			errs = append(errs, fmt.Errorf("image %s exposes no port to probe: set Image.Ports, or Image.Health to - to skip its smoke test", img.Name))
			continue
		}
		targets := []struct {
			ref string
			p   platform.Platform
		}{{img.Name + ":" + info.Version, enginePlatform(ctx, eng)}}
		pubs, ok := released[img.Name]
		if !ok {
			if _, err := eng.Inspect(ctx, targets[0].ref); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if ok {
			targets = targets[:0]
			for _, pp := range pubs {
				p, err := platform.Parse(pp.Platform)
				if err != nil {
					return err
				}
				targets = append(targets, struct {
					ref string
					p   platform.Platform
				}{img.Name + "@" + pp.Digest, p})
			}
		}
		for _, t := range targets {
			run := daemon.Run{Port: port, Tmpfs: img.Volumes}
			if len(img.Volumes) > 0 {
				run.UID, run.GID, _ = config.Owner(img.User) // checked by Resolve
			}
			logs := smokeLog{r: r, rel: path.Join("image-test", img.Binary+"-"+t.p.Dir()+".log")}
			if err := probe(ctx, eng, t.ref, t.p, run, img.Health, img.HealthTimeout, logs, o.Stdout); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// smokeLog is where a failed smoke test keeps all of a container's output:
// <dist>/image-test/<binary>-<os>_<arch>.log.
type smokeLog struct {
	r   config.Resolved
	rel string
}

// save writes logs there and returns how messages name the file; "" when it could
// not be written (the error then says so).
func (l smokeLog) save(logs string) string {
	d, err := dist.Open(l.r)
	if err != nil {
		return ""
	}
	if _, err := d.Put(owned.File{Rel: l.rel, Data: []byte(logs)}); err != nil {
		return ""
	}
	return d.Name(l.rel)
}

// tailLines is the number of lines of a container's output a failed smoke test shows.
const tailLines = 20

// probe runs ref for p and waits up to timeout for GET path on run.Port to answer
// 200. It decides from the container's state: a container that exited is reported
// with its exit code and its output, whatever else went wrong before.
func probe(ctx context.Context, eng *daemon.Engine, ref string, p platform.Platform, run daemon.Run, path string, timeout time.Duration, logs smokeLog, out io.Writer) error {
	c, startErr := eng.Start(ctx, ref, p, run)
	if c.ID != "" {
		defer eng.Remove(c.ID)
	}
	if startErr != nil && !errors.Is(startErr, daemon.ErrNoPort) {
		return startErr
	}
	url := "http://" + c.Addr + path
	deadline := time.Now().Add(timeout)
	last := "no answer"
	exited, code := false, 0
	for startErr == nil && time.Now().Before(deadline) {
		if running, c, err := eng.Running(ctx, c.ID); err == nil && !running {
			exited, code = true, c
			break
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintf(out, "smoke test passed: %s (%s) answered 200 on %s, port %d\n", ref, p, path, run.Port)
				return nil
			}
			last = "status " + resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	bg := context.WithoutCancel(ctx)
	if startErr != nil {
		// Start fails on the port when the container is gone already: its state says why.
		if running, c, err := eng.Running(bg, c.ID); err == nil && !running {
			exited, code = true, c
		}
	}
	text, _ := eng.Logs(bg, c.ID)
	f := smokeFailure{ref: ref, p: p, port: run.Port, path: path, exited: exited, code: code, last: last, startErr: startErr, logs: text}
	return errors.New(f.message(logs.save(text)))
}

// smokeFailure is what a failed smoke test learned, for its message.
type smokeFailure struct {
	ref      string
	p        platform.Platform
	port     int
	path     string
	exited   bool
	code     int
	last     string // the probe's last answer, when the container kept running
	startErr error  // Start's error, when the container ran but had no port
	logs     string
}

// message words the failure: an exit comes first (code 0 and output is one line, a
// usage text most often), then the last lines of the output and where all of it is.
func (f smokeFailure) message(file string) string {
	head := fmt.Sprintf("smoke test of %s (%s) failed: ", f.ref, f.p)
	lines := strings.Split(strings.TrimRight(f.logs, "\n"), "\n")
	if strings.TrimSpace(f.logs) == "" {
		lines = nil
	}
	all := ""
	if file != "" {
		all = " (all of it is in " + file + ")"
	}
	switch {
	case f.exited && f.code == 0 && len(lines) > 0:
		return head + fmt.Sprintf("the container exited with code 0 without serving on port %d, after printing %d lines that start %q%s: a usage text? set Image.Args to the flags that start the service", f.port, len(lines), strings.TrimSpace(lines[0]), all)
	case f.exited && len(lines) == 0:
		return head + fmt.Sprintf("the container exited with code %d and printed nothing: check Image.Args and Image.Env", f.code)
	}
	what := fmt.Sprintf("GET %s on port %d: %s", f.path, f.port, f.last)
	switch {
	case f.exited:
		what = fmt.Sprintf("the container exited with code %d", f.code)
	case f.startErr != nil:
		what = f.startErr.Error()
	}
	if len(lines) == 0 {
		return head + what + "; the container printed nothing"
	}
	shown := lines[max(0, len(lines)-tailLines):]
	intro := "what it printed"
	if len(shown) < len(lines) {
		intro = fmt.Sprintf("the last %d of the %d lines it printed", len(shown), len(lines))
	}
	return head + what + "; " + intro + all + ":\n" + strings.Join(shown, "\n")
}

// WriteDockerignore writes mageship's default .dockerignore unless the module has one.
func WriteDockerignore(o Options) error {
	o = o.withDefaults()
	_, err := writeIgnore(filepath.Join(o.Dir, ".dockerignore"), o.Assets.Ignore, o)
	return err
}

// Doctor checks the environment the targets need and prints a fix for each problem.
func Doctor(ctx context.Context, o Options) error {
	o = o.withDefaults()
	n := doctor.Need{RunForeign: true, Env: o.Env}
	r, err := load(o)
	path := doctor.Path{Build: r.Build, Assemble: r.Assemble}
	if err != nil {
		path.Build, path.Assemble = config.EnvPath(o.Getenv)
		// A configuration error is one finding: the other checks run on the defaults.
		n.ConfigErr, n.Platforms, n.Dir = err, config.DefaultPlatforms, o.Dir
		n.Dist = strings.TrimSpace(o.Getenv(config.EnvDist))
		if n.Dist == "" {
			n.Dist = config.DefaultDist
		}
		if !filepath.IsAbs(n.Dist) {
			n.Dist = filepath.Join(o.Dir, n.Dist)
		}
	} else {
		n.Builder, n.Platforms, n.Env, n.Dir, n.Dist = r.Builder, r.Platforms, r.Env, r.Project.Dir, r.Dist
		var imgs []string
		for _, img := range r.Images {
			imgs = append(imgs, fmt.Sprintf("%s (%s)", img.Name, img.Main))
			if img.NameSet {
				n.Images = append(n.Images, img.Name)
			}
		}
		n.Config = fmt.Sprintf("%d image(s): %s; build path %s", len(imgs), strings.Join(imgs, ", "), r.Build)
	}
	rep := doctor.RunFor(ctx, n, path)
	rep.Print(o.Stdout)
	return rep.Err()
}
