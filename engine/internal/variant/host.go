package variant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
	"golang.org/x/sync/errgroup"

	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/crash"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/version"
)

// The host build path compiles every binary on this machine, with its GOCACHE and
// GOMODCACHE (which CI systems restore between jobs, unlike BuildKit's cache mounts),
// into one small build context per image; BuildKit then only assembles the images
// from it, with no RUN step and no Go image.

// passwd and group name the users the images run as (root, nobody, nonroot).
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
)

// HostContext is the build context of img on the host build path, under dir.
func HostContext(dir string, img config.ResolvedImage) string {
	return filepath.Join(dir, "context-"+img.Binary)
}

// HostBuilds computes the go builds of the host path: every image for every platform,
// each into its image's build context as
// <os>_<arch>[_<variant>]/rootfs/usr/local/bin/<binary>, the tree the images copy.
func HostBuilds(r config.Resolved, info version.Info, plats []platform.Platform, dir string) []gobuild.Build {
	var builds []gobuild.Build
	for _, img := range r.Images {
		for _, p := range plats {
			main := gobuild.Build{
				Dir: r.Project.Dir, Main: img.Main, Platform: p,
				Output:     filepath.Join(HostContext(dir, img), p.Dir(), "rootfs", "usr", "local", "bin", img.Binary),
				VersionVar: img.VersionVar, Version: info.Version, Tags: img.Tags, Mod: gobuild.VendorMode(r.Project.Dir),
				Stamp: img.Stamp,
			}
			builds = append(builds, main)
			for _, x := range img.Extras { // Image.Also: the same flags and version, beside it
				also := main
				also.Main, also.Output = x.Main, filepath.Join(filepath.Dir(main.Output), x.Binary)
				builds = append(builds, also)
			}
		}
	}
	return builds
}

// Compile runs the host path's builds, every platform at once, each platform one
// step of rep, and puts beside each image's binaries the files its images need: the
// CA bundle (caBundle), Go's zoneinfo.zip (from the Go that compiled them), passwd
// and group.
func Compile(ctx context.Context, r config.Resolved, info version.Info, plats []platform.Platform, dir string, rep *progress.Reporter) error {
	when := r.Settings.Time(info.Created)
	r, err := Stamp(ctx, r, info)
	if err != nil {
		return err
	}
	builds := HostBuilds(r, info, plats, dir)
	// Every platform at once; the first failure stops the others, and is the one told.
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range plats {
		var mine []gobuild.Build
		for _, b := range builds {
			if b.Platform == p {
				mine = append(mine, b)
			}
		}
		g.Go(crash.Recover(func() error {
			step := rep.Start("compile", p.String())
			err := gobuild.All(gctx, mine, gobuild.WithEnv(r.Env))
			step.Done(err)
			return err
		}))
	}
	if err := g.Wait(); err != nil {
		return err
	}
	zoneinfo, err := goZoneinfo(ctx, r.Project.Dir, r.Env)
	if err != nil {
		return err
	}
	ca := caBundle()
	for _, img := range r.Images {
		c := HostContext(dir, img)
		files := map[string][]byte{"users/etc/passwd": []byte(passwd), "users/etc/group": []byte(group)}
		for _, p := range plats {
			files[p.Dir()+"/rootfs/etc/ssl/certs/ca-certificates.crt"] = ca
			files[p.Dir()+"/rootfs/usr/share/zoneinfo.zip"] = zoneinfo
		}
		for name, data := range files {
			f := filepath.Join(c, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(f, data, 0o644); err != nil {
				return err
			}
		}
		if err := hostRuntime(c, img); err != nil {
			return err
		}
		if !when.IsZero() {
			// COPY keeps the times of the files and folders it copies: the layers then
			// depend only on the sources.
			if err := touchAll(c, when); err != nil {
				return err
			}
		}
	}
	return nil
}

// hostRuntime lays out in the build context c what img's runtime fields put into
// its images (config.Contents), as the prebuilt Dockerfile copies them: files/
// (Image.Files at their places, modes without write for group and others), owned/
// (WorkDir and the volumes) and parents/ (the directories above those). COPY sets
// root as the owner of all of it; the Dockerfile gives owned/ to the image's user.
func hostRuntime(c string, img config.ResolvedImage) error {
	entries, err := config.Contents(img)
	if err != nil {
		return err
	}
	owned := map[string]bool{}
	for _, e := range entries {
		if e.Kind == config.KindOwned {
			owned[e.Path] = true
		}
	}
	mkdir := func(p string) error {
		// Each directory down to p, 0755 whatever the umask.
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		for d := p; d != c; d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				return err
			}
		}
		return nil
	}
	at := func(tree, p string) string { return filepath.Join(c, tree, filepath.FromSlash(p)) }
	for _, e := range entries {
		switch e.Kind {
		case config.KindFile:
			b, err := os.ReadFile(e.Src)
			if err != nil {
				return err
			}
			f := at("files", e.Path)
			if err := mkdir(filepath.Dir(f)); err != nil {
				return err
			}
			if err := os.WriteFile(f, b, e.Mode); err != nil {
				return err
			}
			if err := os.Chmod(f, e.Mode); err != nil {
				return err
			}
		case config.KindDir:
			if err := mkdir(at("files", e.Path)); err != nil {
				return err
			}
		case config.KindSymlink:
			l := at("files", e.Path)
			if err := mkdir(filepath.Dir(l)); err != nil {
				return err
			}
			if err := os.Symlink(filepath.FromSlash(e.Link), l); err != nil {
				return err
			}
		case config.KindOwned:
			if err := mkdir(at("owned", e.Path)); err != nil {
				return err
			}
			for a := path.Dir(e.Path); a != "/"; a = path.Dir(a) {
				if !owned[a] {
					if err := mkdir(at("parents", a)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// touchAll gives everything under dir the time t, so that the layers COPY makes
// from it depend on the sources only. A file gets t plus a fraction of a second taken
// from its content: BuildKit's context transfer reuses the copy it already holds of a
// file whose size and time are unchanged, so two binaries of one size built for the
// same t would otherwise be taken for one another.
func touchAll(dir string, t time.Time) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		when := t
		if d.Type()&fs.ModeSymlink != 0 {
			// The link's own time (Image.Files keeps symlinks); its target may not be here.
			return linkTime(p, t)
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			when = t.Add(time.Duration(binary.BigEndian.Uint64(sum[:8]) % uint64(time.Second)))
		}
		return os.Chtimes(p, when, when)
	})
}

// caBundle is the host path's CA bundle, in PEM: the Mozilla NSS roots as the Go team
// publishes them (golang.org/x/crypto/x509roots/fallback, pinned by the engine's
// go.mod), without the roots NSS distrusts after a date, a constraint PEM cannot carry.
// It is the same bytes on every machine, so images stay reproducible, and taking it
// needs no image pull.
func caBundle() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint == nil {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
		}
	}
	return b.Bytes()
}

// goZoneinfo reads lib/time/zoneinfo.zip of the Go toolchain that builds the module
// in dir (go env GOROOT there honours a toolchain line).
func goZoneinfo(ctx context.Context, dir string, env []string) ([]byte, error) {
	b, err := command.Output(ctx, command.Cmd{Name: "go", Args: []string{"env", "GOROOT"}, Dir: dir, Env: env})
	if err != nil {
		return nil, fmt.Errorf("finding Go's zoneinfo.zip (go env GOROOT): %w", err)
	}
	z, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(b)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		return nil, fmt.Errorf("reading Go's zoneinfo.zip: %w; the images need it for time zones", err)
	}
	return z, nil
}
