package ship

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/bytesize"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/doctor"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/verify"
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
func verifyLocal(ctx context.Context, r config.Resolved, img config.ResolvedImage, v Variant, ref string, info version.Info, prodSHA string, out io.Writer) (string, error) {
	image, err := imagefs.FromDaemon(ctx, ref)
	if err != nil {
		return "", err
	}
	return verifyImage(r, img, v, ref, image, localPlatform(ctx), info, prodSHA, out)
}

func verifyImage(r config.Resolved, img config.ResolvedImage, v Variant, ref string, image v1.Image, p platform.Platform, info version.Info, prodSHA string, out io.Writer) (string, error) {
	e := expect(r, img, p, info.Version, info.Revision)
	var res verify.Result
	var err error
	if v == Production {
		res, err = verify.Production(ref, image, e)
	} else {
		res, err = verify.Debug(ref, image, e, prodSHA)
	}
	if err != nil {
		return "", fmt.Errorf("verifying %s: %w", ref, err)
	}
	if err := res.Err(); err != nil {
		return res.BinarySHA256, err
	}
	fmt.Fprintf(out, "verified %s (%s, %s): %s uncompressed, static %s binary, user %s\n", ref, v, p, bytesize.Format(res.Bytes), p.Arch, img.User)
	return res.BinarySHA256, nil
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
		sha, err := verifyLocal(ctx, r, img, Production, ref, info, "", o.Stdout)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tags, err := variantTags(Debug, []string{info.Version})
		if err != nil {
			return err
		}
		if _, err := verifyLocal(ctx, r, img, Debug, img.Name+":"+tags[0], info, sha, o.Stdout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Smoke runs each image and waits for its health endpoint: the released platforms of
// this version when <dist>/release.json has them (foreign ones under emulation), else
// the locally built production image. It prints the container's logs on failure and
// always removes the containers it started.
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
	released := map[string][]PublishedPlatform{}
	if b, err := os.ReadFile(filepath.Join(r.Dist, releaseFile)); err == nil {
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
		if len(img.Ports) == 0 {
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
			if err := probe(ctx, eng, t.ref, t.p, img.Ports[0], img.Health, img.HealthTimeout, o.Stdout); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// probe runs ref for p and waits up to timeout for GET path to answer 200.
func probe(ctx context.Context, eng *daemon.Engine, ref string, p platform.Platform, port int, path string, timeout time.Duration, out io.Writer) error {
	c, err := eng.Start(ctx, ref, p, port)
	if c.ID != "" {
		defer eng.Remove(c.ID)
	}
	if err != nil {
		return err
	}
	url := "http://" + c.Addr + path
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		if running, code, err := eng.Running(ctx, c.ID); err == nil && !running {
			last = "the container exited with code " + strconv.Itoa(code)
			break
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintf(out, "smoke test passed: %s (%s) answered 200 on %s\n", ref, p, path)
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
	logs, _ := eng.Logs(context.WithoutCancel(ctx), c.ID)
	return fmt.Errorf("smoke test of %s (%s) failed: GET %s on port %d: %s; container logs:\n%s", ref, p, path, port, last, logs)
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
	r, err := load(o)
	if err != nil {
		return err
	}
	n := doctor.Need{Builder: r.Builder, Platforms: r.Platforms, RunForeign: true, Env: r.Env}
	for _, img := range r.Images {
		if img.NameSet {
			n.Images = append(n.Images, img.Name)
		}
	}
	rep := doctor.RunFor(ctx, n, doctor.Path{Build: r.Build, Assemble: r.Assemble})
	rep.Print(o.Stdout)
	return rep.Err()
}
