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

// Base reads the base image ref (a tag or digest) for platform p, through the client:
// the platform's image of an index, or the image itself when ref names a single image.
// Its layers are read only when something asks for them; a push of an image built on
// it mounts them from ref's repository instead of uploading them when both are on one
// registry.
func (c *Client) Base(ctx context.Context, ref string, p platform.Platform) (v1.Image, error) {
	img, err := c.Image(ctx, ref, p)
	if err != nil {
		if IsNotFound(err) {
			r, _ := name.ParseReference(ref, name.WeakValidation)
			host := ref
			if r != nil {
				host = r.Context().RegistryStr()
			}
			return nil, fmt.Errorf("base image %s does not exist in %s: check the name and tag, or push it there", ref, host)
		}
		return nil, err
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
// digest; no tag is written. It is PushByDigest (each blob once, blobs the repository
// has skipped, layers of a Base on the same registry mounted, transient failures
// retried) with the pushes to one repository run one after another; pushes to others
// run at once.
func (c *Client) Push(ctx context.Context, repo string, t Pushable) (string, error) {
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	mu, _ := repoLocks.LoadOrStore(r.Name(), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	ref, err := c.PushByDigest(ctx, repo, t)
	if err != nil {
		return "", err
	}
	_, digest, _ := strings.Cut(ref, "@")
	return digest, nil
}
