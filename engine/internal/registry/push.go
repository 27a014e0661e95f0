package registry

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Base reads the image ref (a tag or digest) for platform p: the platform's image of
// an index, or the image itself when ref names a single image. Its layers are read
// only when something asks for them; Push mounts them from ref's repository instead
// of uploading them when both are on one registry.
func Base(ctx context.Context, ref string, p platform.Platform, opts ...Option) (v1.Image, error) {
	o := newOptions(ctx, opts)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	img, err := remote.Image(r, append(o.remote(ctx), remote.WithPlatform(v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}))...)
	if err != nil {
		if IsNotFound(err) {
			return nil, fmt.Errorf("base image %s does not exist in %s: check the name and tag, or push it there", ref, r.Context().RegistryStr())
		}
		return nil, explain("reading base image "+ref+" for "+p.String(), r.Context().RegistryStr(), err)
	}
	return img, nil
}

// Pushable is what Push writes: a v1.Image or a v1.ImageIndex.
type Pushable interface {
	remote.Taggable
	Digest() (v1.Hash, error)
}

// repoLocks serializes the pushes to one repository within this process, so that a
// blob two of them share (the layer a production and a debug image have in common) is
// uploaded once: the later push finds it there. Concurrent uploads of one blob are
// what distribution 2.8 loses.
var repoLocks sync.Map // repository name -> *sync.Mutex

// Push writes t to repo by digest, with everything it refers to, and returns the
// digest; no tag is written. An index's images are written with it. Each blob is
// uploaded once, blobs the repository has are skipped, and layers read with Base from
// another repository of the same registry are mounted rather than uploaded. Pushes to
// one repository run one after another (repoLocks); pushes to others at once.
func Push(ctx context.Context, repo string, t Pushable, opts ...Option) (string, error) {
	o := newOptions(ctx, opts)
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	d, err := t.Digest()
	if err != nil {
		return "", fmt.Errorf("computing the digest of what to push to %s: %w", repo, err)
	}
	mu, _ := repoLocks.LoadOrStore(r.Name(), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if err := remote.Push(r.Digest(d.String()), t, o.remote(ctx)...); err != nil {
		return "", lineError{explain("pushing "+repo+"@"+d.String(), r.RegistryStr(), err)}
	}
	return d.String(), nil
}

// lineError is an error on one line: a registry's answer that ends a push may carry
// a body of several lines, and the user reads one line saying what went wrong.
type lineError struct{ error }

func (e lineError) Error() string {
	return strings.Join(strings.Fields(e.error.Error()), " ")
}

func (e lineError) Unwrap() error { return e.error }
