package assemble

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Entry is one file or directory of a layer.
type Entry struct {
	Path     string      // absolute slash path in the image, e.g. /usr/local/bin/hello
	Mode     fs.FileMode // permission bits, e.g. 0o755
	UID, GID int
	Dir      bool   // a directory (Data and Source unused)
	Data     []byte // the file's contents, when Source is ""
	Source   string // a file on this machine to read the contents from
	Link     string // a symbolic link to this target, as written (Dir, Data and Source unused)
}

// DefaultPath is the PATH BuildKit (and Docker) give an image whose base sets none,
// such as scratch.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Layer builds the layer holding entries, as a gzipped tar of the given media type
// (types.OCILayer or types.DockerLayer: match the base's). The tar lists the entries
// sorted by path, each missing parent folder first (0755, root), and every time in it
// is when, to the second: the same entries give the same bytes on any machine.
func Layer(entries []Entry, when time.Time, mt types.MediaType) (v1.Layer, error) {
	b, err := tarOf(entries, when)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(mt), tarball.WithCompressedCaching)
}

// tarOf writes the tar of entries (see Layer).
func tarOf(entries []Entry, when time.Time) ([]byte, error) {
	when = when.UTC().Truncate(time.Second)
	all := map[string]Entry{}
	for _, e := range entries {
		p := path.Clean(e.Path)
		if !path.IsAbs(e.Path) || p == "/" {
			return nil, fmt.Errorf("layer entry %q: give an absolute path below /", e.Path)
		}
		if _, dup := all[p]; dup {
			return nil, fmt.Errorf("layer entry %s is listed twice", p)
		}
		e.Path = p
		all[p] = e
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				all[d] = Entry{Path: d, Mode: 0o755, Dir: true}
			}
		}
	}
	// A parent listed after its children is still a parent: only folders may have
	// children.
	for p := range all {
		if d := path.Dir(p); d != "/" && !all[d].Dir {
			return nil, fmt.Errorf("layer entry %s is inside %s, which is a file", p, d)
		}
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		e := all[p]
		hdr := &tar.Header{
			Name: strings.TrimPrefix(p, "/"), Mode: int64(e.Mode.Perm()), Uid: e.UID, Gid: e.GID,
			ModTime: when, Format: tar.FormatPAX,
		}
		if e.Dir {
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			continue
		}
		if e.Link != "" {
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			continue
		}
		data := e.Data
		if e.Source != "" {
			var err error
			if data, err = os.ReadFile(e.Source); err != nil {
				return nil, fmt.Errorf("layer entry %s: %w", p, err)
			}
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Config is the runtime configuration an image records on top of its base's.
type Config struct {
	User       string
	Entrypoint []string // replaces the base's, and with it the base's Cmd, as ENTRYPOINT does
	Cmd        []string // the arguments after the entrypoint
	Env        []string // KEY=value, set over the base's (a key already there is replaced)
	Labels     map[string]string
	Ports      []int // exposed, tcp
	WorkDir    string
	Volumes    []string
	Created    time.Time // the image's and its history's time
}

// LayerMediaType is the layer media type that matches base's manifest: Docker's when
// the base is a Docker image, OCI's otherwise (and for scratch, nil).
func LayerMediaType(base v1.Image) (types.MediaType, error) {
	if base == nil {
		return types.OCILayer, nil
	}
	mt, err := base.MediaType()
	if err != nil {
		return "", fmt.Errorf("reading the base image's media type: %w", err)
	}
	if mt == types.DockerManifestSchema2 {
		return types.DockerLayer, nil
	}
	return types.OCILayer, nil
}

// Image puts layers, in order, on base (nil: scratch, the empty image) and records c
// and platform p in its config. The result is an OCI image on scratch, and of the
// base's manifest type otherwise.
func Image(base v1.Image, layers []v1.Layer, p platform.Platform, c Config) (v1.Image, error) {
	var cf *v1.ConfigFile
	if base == nil {
		base = mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1)
		cf = &v1.ConfigFile{Config: v1.Config{Env: []string{DefaultPath}}}
	} else {
		bcf, err := base.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading the base image's config: %w", err)
		}
		cf = bcf.DeepCopy()
	}
	created := v1.Time{Time: c.Created.UTC()}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i] = mutate.Addendum{Layer: l, History: v1.History{Created: created, CreatedBy: "mageship", Comment: "direct assembly"}}
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	// mutate.Append has appended the history and diff IDs to the base's config; the
	// rest of it is ours.
	withLayers, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf.RootFS, cf.History = withLayers.RootFS, withLayers.History
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Arch, p.Variant
	cf.Created = created
	cfg := &cf.Config
	cfg.User = c.User
	cfg.Entrypoint = slices.Clone(c.Entrypoint)
	cfg.Cmd = slices.Clone(c.Cmd)
	for _, kv := range c.Env {
		k, _, _ := strings.Cut(kv, "=")
		cfg.Env = slices.DeleteFunc(cfg.Env, func(have string) bool { return strings.HasPrefix(have, k+"=") })
		cfg.Env = append(cfg.Env, kv)
	}
	if len(c.Labels) > 0 && cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for k, v := range c.Labels {
		cfg.Labels[k] = v
	}
	for _, port := range c.Ports {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		cfg.ExposedPorts[strconv.Itoa(port)+"/tcp"] = struct{}{}
	}
	if c.WorkDir != "" {
		cfg.WorkingDir = c.WorkDir
	}
	for _, v := range c.Volumes {
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, created)
}

// Index is the OCI index of images, one per platform, each described by its config's
// platform.
func Index(images []v1.Image) (v1.ImageIndex, error) {
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	adds := make([]mutate.IndexAddendum, len(images))
	for i, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		adds[i] = mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}}}
	}
	return mutate.AppendManifests(idx, adds...), nil
}
