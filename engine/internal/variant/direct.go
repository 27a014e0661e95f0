package variant

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/assemble"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
)

// The direct assembler (config.AssembleDirect, the host path's default) makes the
// images a Spec describes in-process, from the same build context buildx would copy
// from (compile's <os>_<arch>/rootfs/ and users/): the production image is the runtime
// base (nothing for scratch, plus a layer with passwd and group) and one layer holding
// rootfs/, the debug image the debug base and that same layer, one blob. The config is
// the Dockerfile's: user, entrypoint, ZONEINFO, the exposed ports, the four OCI labels
// from the build args, and created = SOURCE_DATE_EPOCH (the commit's time). No Docker
// engine and no buildx take part; the registry package pulls the bases and pushes.

// Direct reports whether s is assembled in-process.
func (s Spec) Direct() bool { return s.Assemble == config.AssembleDirect }

// treeEntries lists the files and folders under dir as layer entries below /: root's,
// folders 0755, files 0755 when executable and 0644 otherwise (what a COPY of compile's
// tree gives with the usual umask, and the same on every machine whatever its umask).
func treeEntries(dir string) ([]assemble.Entry, error) {
	var out []assemble.Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		e := assemble.Entry{Path: "/" + filepath.ToSlash(rel), Mode: 0o644}
		switch {
		case d.IsDir():
			e.Dir, e.Mode = true, 0o755
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.Mode()&0o111 != 0 {
				e.Mode = 0o755
			}
			e.Source = p
		default:
			return fmt.Errorf("%s is neither a file nor a folder: the direct assembler copies only those", p)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// withContents adds to the rootfs entries what img's runtime fields put into the image
// (config.Contents): the Files (root's, their modes without write for group and
// others, symlinks inside them kept), WorkDir and the volumes (owned by the image's
// user) and the folders above them (root's). The Also binaries are in the rootfs tree
// already, beside the entrypoint. An entry of Contents replaces the tree's entry of
// the same path: a folder the tree and a Files directory share is the one Contents
// describes.
func withContents(rootfs []assemble.Entry, img config.ResolvedImage) ([]assemble.Entry, error) {
	contents, err := config.Contents(img)
	if err != nil {
		return nil, err
	}
	if len(contents) == 0 {
		return rootfs, nil
	}
	at := map[string]int{}
	for i, e := range rootfs {
		at[e.Path] = i
	}
	put := func(e assemble.Entry) {
		if i, ok := at[e.Path]; ok {
			rootfs[i] = e
			return
		}
		at[e.Path] = len(rootfs)
		rootfs = append(rootfs, e)
	}
	for _, c := range contents {
		e := assemble.Entry{Path: c.Path, Mode: c.Mode, UID: c.UID, GID: c.GID}
		switch c.Kind {
		case config.KindBinary:
			continue
		case config.KindFile:
			e.Source = c.Src
		case config.KindSymlink:
			e.Link = c.Link
		case config.KindDir, config.KindOwned, config.KindParent:
			e.Dir = true
		default:
			return nil, fmt.Errorf("%s: an entry of kind %d the direct assembler does not know", c.Path, c.Kind)
		}
		put(e)
	}
	return rootfs, nil
}

// created is the time s's images record: the build's SOURCE_DATE_EPOCH, or the Unix
// epoch when there is none (no git, no SOURCE_DATE_EPOCH), so that a local build is
// reproducible too.
func (s Spec) created() (time.Time, error) {
	if s.Build.SourceDateEpoch == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s.Build.SourceDateEpoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s.Build.SourceDateEpoch, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

// imageConfig is the config the Dockerfile gives s's images: Image.Labels under
// mageship's four labels (set from the build args, as the Dockerfile's LABEL sets
// them, empty ones too), Image.Env after ZONEINFO, Image.Args as the CMD.
func (s Spec) imageConfig(when time.Time) assemble.Config {
	img := s.Image
	labels := map[string]string{}
	for k, v := range img.Labels {
		labels[k] = v
	}
	for label, arg := range map[string]string{
		"org.opencontainers.image.source":   "SOURCE",
		"org.opencontainers.image.revision": "REVISION",
		"org.opencontainers.image.version":  "VERSION",
		"org.opencontainers.image.created":  "CREATED",
	} {
		// Set even when empty, as the Dockerfile's LABEL does: an empty one hides
		// the base image's (a base that names its own revision or source must not
		// lend it to this image).
		labels[label] = s.Build.BuildArgs[arg]
	}
	return assemble.Config{
		User:       img.User,
		Entrypoint: []string{"/usr/local/bin/" + img.Binary},
		Cmd:        img.Args,
		Env:        append([]string{"ZONEINFO=/usr/share/zoneinfo.zip"}, img.Env...),
		Labels:     labels,
		Ports:      img.Ports,
		WorkDir:    img.WorkDir,
		Volumes:    img.Volumes,
		Created:    when,
	}
}

// assembleImage makes s's image for platform p, on base (nil: scratch).
func (s Spec) assembleImage(base v1.Image, p platform.Platform) (v1.Image, error) {
	when, err := s.created()
	if err != nil {
		return nil, err
	}
	mt, err := assemble.LayerMediaType(base)
	if err != nil {
		return nil, err
	}
	var layers []v1.Layer
	if base == nil {
		// On scratch the image brings its own passwd and group, as the Dockerfile's
		// COPY of users/ does.
		users, err := treeEntries(filepath.Join(s.Build.Context, "users"))
		if err != nil {
			return nil, err
		}
		l, err := assemble.Layer(users, when, mt)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	rootfs, err := treeEntries(filepath.Join(s.Build.Context, p.Dir(), "rootfs"))
	if err != nil {
		return nil, err
	}
	if rootfs, err = withContents(rootfs, s.Image); err != nil {
		return nil, err
	}
	l, err := assemble.Layer(rootfs, when, mt)
	if err != nil {
		return nil, err
	}
	return assemble.Image(base, append(layers, l), p, s.imageConfig(when))
}

// PinBase returns s with its base named by the digest bases gives for it (a base
// image reference -> the digest its tag named when the release began), so that every
// image of a release is assembled on the base its release.json records, even if the
// tag moves meanwhile. A base already named by digest, scratch, and a base bases does
// not know are left as they are.
func (s Spec) PinBase(bases map[string]string) Spec {
	if d := bases[s.Base]; d != "" && s.Base != config.Scratch && !strings.Contains(s.Base, "@") {
		s.Base += "@" + d
	}
	return s
}

// AssemblePlatforms makes s's image for each of plats, pulling the base of each from
// its registry (scratch needs none), and says what it made on log (the step's log,
// dist/<target>.log).
func (s Spec) AssemblePlatforms(ctx context.Context, reg *registry.Client, plats []platform.Platform, log io.Writer) ([]v1.Image, error) {
	out := make([]v1.Image, len(plats))
	for i, p := range plats {
		var base v1.Image
		if s.Base != config.Scratch {
			var err error
			if base, err = reg.Base(ctx, s.Base, p); err != nil {
				return nil, err
			}
		}
		img, err := s.assembleImage(base, p)
		if err != nil {
			return nil, fmt.Errorf("assembling %s (%s, %s): %w", s.Image.Name, s.Variant, p, err)
		}
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("assembling %s (%s, %s): %w", s.Image.Name, s.Variant, p, err)
		}
		fmt.Fprintf(log, "assembled %s (%s) for %s on %s: %s\n", s.Image.Name, s.Variant, p, s.Base, d)
		out[i] = img
	}
	return out, nil
}
