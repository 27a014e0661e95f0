package imagefs

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/moby/client"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
)

// Entry is one path in the flattened filesystem.
type Entry struct {
	Path string // absolute, cleaned, e.g. "/usr/local/bin/hello"
	Type byte   // tar type flag: tar.TypeReg, tar.TypeSymlink, tar.TypeDir, tar.TypeLink...
	Mode int64
	Size int64
	// Linkname is the target of a link. For a symlink it is kept as written (it may
	// be relative to the symlink's directory); for a hard link it is made absolute and
	// cleaned, so it is a key of the map List returns.
	Linkname string
	UID, GID int
	SHA256   string // hex, regular files only
}

// List reads the flattened filesystem of img (mutate.Extract: layers applied in
// order, whiteouts and opaque directories honoured) and returns every path in it,
// keyed by Entry.Path. The root directory itself is not listed. It reads every layer
// in full, to hash the regular files.
func List(img v1.Image) (map[string]Entry, error) {
	entries := map[string]Entry{}
	err := walk(img, func(hdr *tar.Header, p string, r io.Reader) (bool, error) {
		if p == "/" {
			return false, nil
		}
		e := entryOf(hdr, p)
		if e.Type == tar.TypeReg {
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				return true, fmt.Errorf("hashing %s: %w", p, err)
			}
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		entries[p] = e
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the files of the image: %w", err)
	}
	return entries, nil
}

// ReadFile returns the contents of the regular file at p (absolute, or taken as
// relative to /) in the flattened filesystem of img. A hard link is followed one
// level; a symlink is not followed and is an error that names its target, as are a
// directory and a missing path ("no file /x in image").
func ReadFile(img v1.Image, p string) ([]byte, error) {
	p = path.Clean("/" + p)
	data, e, found, err := readOne(img, p)
	if err != nil {
		return nil, fmt.Errorf("reading %s from the image: %w", p, err)
	}
	if !found {
		return nil, fmt.Errorf("no file %s in image", p)
	}
	if e.Type != tar.TypeLink {
		return data, nil
	}
	target := e.Linkname
	data, t, found, err := readOne(img, target)
	if err != nil {
		return nil, fmt.Errorf("reading %s (hard link to %s) from the image: %w", p, target, err)
	}
	if !found {
		return nil, fmt.Errorf("no file %s in image: %s is a hard link to it", target, p)
	}
	if t.Type == tar.TypeLink {
		return nil, fmt.Errorf("reading %s from the image: it is a hard link to %s, itself a hard link to %s; only one level is followed", p, target, t.Linkname)
	}
	return data, nil
}

// readOne scans the flattened filesystem for p and returns its entry and, for a
// regular file, its contents. Any other type except a hard link is an error.
func readOne(img v1.Image, p string) ([]byte, Entry, bool, error) {
	var (
		data  []byte
		e     Entry
		found bool
	)
	err := walk(img, func(hdr *tar.Header, name string, r io.Reader) (bool, error) {
		if name != p {
			return false, nil
		}
		found = true
		e = entryOf(hdr, name)
		switch e.Type {
		case tar.TypeReg:
			b, err := io.ReadAll(r)
			if err != nil {
				return true, err
			}
			data = b
		case tar.TypeLink:
		case tar.TypeSymlink:
			return true, fmt.Errorf("%s is a symlink to %s, not a regular file: read the target instead", p, e.Linkname)
		case tar.TypeDir:
			return true, fmt.Errorf("%s is a directory, not a regular file", p)
		default:
			return true, fmt.Errorf("%s is not a regular file (tar type %q)", p, e.Type)
		}
		return true, nil
	})
	return data, e, found, err
}

// walk calls fn for each entry of the flattened filesystem of img with its absolute,
// cleaned path, until fn says stop or returns an error.
func walk(img v1.Image, fn func(hdr *tar.Header, p string, r io.Reader) (stop bool, err error)) (err error) {
	rc := mutate.Extract(img)
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		stop, err := fn(hdr, path.Clean("/"+hdr.Name), tr)
		if err != nil || stop {
			return err
		}
	}
}

func entryOf(hdr *tar.Header, p string) Entry {
	e := Entry{
		Path:     p,
		Type:     hdr.Typeflag,
		Mode:     hdr.Mode,
		Size:     hdr.Size,
		Linkname: hdr.Linkname,
		UID:      hdr.Uid,
		GID:      hdr.Gid,
	}
	if e.Type == tar.TypeLink {
		e.Linkname = path.Clean("/" + hdr.Linkname)
	}
	return e
}

// shells are the paths whose presence means a shell can be started in the image.
var shells = []string{"/bin/sh", "/bin/bash", "/bin/ash", "/bin/busybox", "/usr/bin/sh", "/usr/bin/bash", "/bin/dash"}

// packageManagers are the paths of the package managers an image may carry.
var packageManagers = []string{"/sbin/apk", "/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/yum", "/usr/bin/dnf", "/usr/bin/microdnf", "/sbin/apk.static", "/usr/bin/rpm"}

// HasShell reports whether entries hold a shell: any of /bin/sh, /bin/bash,
// /bin/ash, /bin/busybox, /usr/bin/sh, /usr/bin/bash or /bin/dash, of any type (a
// dangling symlink counts). It returns the first one found, in that order.
func HasShell(entries map[string]Entry) (string, bool) {
	for _, p := range shells {
		if _, ok := entries[p]; ok {
			return p, true
		}
	}
	return "", false
}

// PackageManagers returns the package managers present in entries, among
// /sbin/apk, /usr/bin/apt, /usr/bin/apt-get, /usr/bin/dpkg, /usr/bin/yum,
// /usr/bin/dnf, /usr/bin/microdnf, /sbin/apk.static and /usr/bin/rpm, in that order;
// nil when there is none.
func PackageManagers(entries map[string]Entry) []string {
	var found []string
	for _, p := range packageManagers {
		if _, ok := entries[p]; ok {
			found = append(found, p)
		}
	}
	return found
}

// FromDaemon returns the image ref from the local Docker engine (DOCKER_HOST and the
// other DOCKER_* variables are read). The client negotiates the API version, so it
// works against Docker 20.10 (API 1.41) and current engines. The image must exist
// there; its layers are fetched (docker save) on first use, with ctx, and held in
// memory.
func FromDaemon(ctx context.Context, ref string) (v1.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("reading image %q from the Docker engine: %w", ref, err)
	}
	// go-containerregistry's daemon package takes a github.com/moby/moby/client
	// client, which negotiates the API version by default (its
	// WithAPIVersionNegotiation is a deprecated no-op).
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("reading image %s from the Docker engine: creating the Docker client: %w", ref, err)
	}
	img, err := daemon.Image(r, daemon.WithContext(ctx), daemon.WithClient(c))
	if err != nil {
		return nil, fmt.Errorf("reading image %s from the Docker engine: %w; check that the engine runs (docker version) and holds the image (docker image ls)", ref, err)
	}
	return img, nil
}

// RegistryOption changes how FromRegistry reads.
type RegistryOption func(*fromRegistry)

type fromRegistry struct{ client *registry.Client }

// WithClient reads through c, the run's registry client, so that its credentials,
// retries and 429 policy apply and its counts include the reads. Default: a client
// of FromRegistry's own, with the Docker config's credentials.
func WithClient(c *registry.Client) RegistryOption {
	return func(o *fromRegistry) { o.client = c }
}

// FromRegistry returns the image ref for platform p from its registry, with the
// credentials of the Docker config and its helpers (docker login). When ref names an
// index, the child for p is picked; when it names a single image, that image must be
// for p (its config's OS and architecture, and variant when both sides set one).
func FromRegistry(ctx context.Context, ref string, p platform.Platform, opts ...RegistryOption) (v1.Image, error) {
	if p.OS == "" || p.Arch == "" {
		return nil, fmt.Errorf("reading image %s for platform %q: the platform needs an os and an arch, e.g. linux/amd64", ref, p)
	}
	var o fromRegistry
	for _, f := range opts {
		f(&o)
	}
	if o.client == nil {
		c, err := registry.New()
		if err != nil {
			return nil, err
		}
		o.client = c
	}
	want := v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}
	img, err := o.client.Image(ctx, ref, p)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of image %s for %s: %w", ref, p, err)
	}
	if cf.OS != "" && cf.Architecture != "" {
		if cf.OS != want.OS || cf.Architecture != want.Architecture ||
			(cf.Variant != "" && want.Variant != "" && cf.Variant != want.Variant) {
			got := cf.OS + "/" + cf.Architecture
			if cf.Variant != "" {
				got += "/" + cf.Variant
			}
			return nil, fmt.Errorf("reading image %s for %s: it is a single image for %s, not an index with %s", ref, p, got, p)
		}
	}
	return readOnce(img), nil
}

// readOnce wraps img so that each of its layers is fetched and decompressed once and
// then served from memory: verification walks an image several times (its file list,
// the binary, the uncompressed size), and a pushed image should be downloaded once.
func readOnce(img v1.Image) v1.Image {
	return &onceImage{Image: img}
}

type onceImage struct {
	v1.Image
	mu     sync.Mutex
	layers []v1.Layer
}

func (o *onceImage) Layers() ([]v1.Layer, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.layers == nil {
		ls, err := o.Image.Layers()
		if err != nil {
			return nil, err
		}
		o.layers = make([]v1.Layer, len(ls))
		for i, l := range ls {
			o.layers[i] = &onceLayer{Layer: l}
		}
	}
	return o.layers, nil
}

type onceLayer struct {
	v1.Layer
	once sync.Once
	data []byte
	err  error
}

func (l *onceLayer) Uncompressed() (io.ReadCloser, error) {
	l.once.Do(func() {
		rc, err := l.Layer.Uncompressed()
		if err != nil {
			l.err = err
			return
		}
		defer rc.Close()
		l.data, l.err = io.ReadAll(rc)
	})
	if l.err != nil {
		return nil, l.err
	}
	return io.NopCloser(bytes.NewReader(l.data)), nil
}
