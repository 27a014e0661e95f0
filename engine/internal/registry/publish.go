package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Move is one tag to point at a digest.
type Move struct {
	Repo   string
	Tag    string
	Digest string
	// Floating marks a tag that follows the highest release (X.Y, X, latest, and
	// their -debug twins): Publish writes it after every other move, and only when its
	// Gate keeps it.
	Floating bool
}

// Gate decides, once every move that is not floating is written and before any
// floating one is, which floating moves to write, and returns those. It may read the
// registry to decide: this is the latest moment before they are written. An error
// stops Publish, which puts back what it had moved.
type Gate func(ctx context.Context, floating []Move) ([]Move, error)

// Publish is (*Client).Publish with a client of its own, made from opts: for a
// single call outside a run.
func Publish(ctx context.Context, moves []Move, gate Gate, opts ...Option) error {
	c, err := New(opts...)
	if err != nil {
		return err
	}
	return c.Publish(ctx, moves, gate)
}

// Publish writes every move, after first checking that each digest is in its
// repository and reading where each tag points now: first the moves that are not
// floating, in order, then the floating moves gate keeps (all of them when gate is
// nil). When a write or gate fails it puts the tags it had already moved back where
// they were and says so; a tag that did not exist before cannot be taken back on
// every registry, and the error names those.
func (c *Client) Publish(ctx context.Context, moves []Move, gate Gate) error {
	ctx = call(ctx)
	plan := make([]planned, 0, len(moves))
	for _, m := range moves {
		r, err := name.NewRepository(m.Repo, name.WeakValidation)
		if err != nil {
			return fmt.Errorf("invalid repository %q: %w (nothing was tagged)", m.Repo, err)
		}
		tag, err := name.NewTag(m.Repo+":"+m.Tag, name.WeakValidation)
		if err != nil || tag.TagStr() != m.Tag {
			return fmt.Errorf("invalid tag %q for %s (nothing was tagged)", m.Tag, m.Repo)
		}
		if _, err := name.NewDigest(r.Name()+"@"+m.Digest, name.WeakValidation); err != nil {
			return fmt.Errorf("invalid digest %q for %s (nothing was tagged): %w", m.Digest, m.Repo, err)
		}
		desc, err := remote.Get(r.Digest(m.Digest), c.remote(ctx)...)
		if err != nil {
			return explain(ctx, fmt.Sprintf("reading %s@%s before tagging (nothing was tagged)", m.Repo, m.Digest), r.RegistryStr(), err)
		}
		prev, err := c.Resolve(ctx, tag.String())
		if err != nil {
			return fmt.Errorf("%w (nothing was tagged)", err)
		}
		plan = append(plan, planned{Move: m, tag: tag, desc: desc, prev: prev})
	}
	var fixed, floating []planned
	var asked []Move
	for _, p := range plan {
		if p.Floating {
			floating = append(floating, p)
			asked = append(asked, p.Move)
		} else {
			fixed = append(fixed, p)
		}
	}
	var done []planned
	write := func(ps []planned) error {
		for _, p := range ps {
			if p.prev != p.Digest {
				if err := remote.Tag(p.tag, p.desc, c.remote(ctx)...); err != nil {
					// The registry may have moved the tag and failed the answer (a 502
					// from a proxy in front of it): ask, and take it back with the rest
					// when it did, or when the registry cannot say.
					if now, rerr := c.Resolve(context.WithoutCancel(ctx), p.tag.String()); rerr != nil || now == p.Digest {
						done = append(done, p)
					}
					return c.undo(ctx, done, explain(ctx, "tagging "+p.tag.String(), p.tag.RegistryStr(), err))
				}
			}
			done = append(done, p)
		}
		return nil
	}
	if err := write(fixed); err != nil {
		return err
	}
	if gate != nil && len(floating) > 0 {
		keep, err := gate(ctx, asked)
		if err != nil {
			return c.undo(ctx, done, err)
		}
		kept := floating[:0:0]
		for _, k := range keep {
			i := slices.IndexFunc(floating, func(p planned) bool { return p.Move == k })
			if i < 0 {
				return c.undo(ctx, done, fmt.Errorf("the gate kept %s:%s -> %s, which is not a floating move of this publish", k.Repo, k.Tag, k.Digest))
			}
			kept = append(kept, floating[i])
		}
		floating = kept
	}
	return write(floating)
}

type planned struct {
	Move
	tag  name.Tag
	desc *remote.Descriptor
	prev string
}

// undo puts the tags of done back where they were after err, and returns err with
// what it did: put back, left in place (new tags), or could not put back.
func (c *Client) undo(ctx context.Context, done []planned, err error) error {
	var restored, stranded, failed []string
	for _, d := range done {
		if d.prev == d.Digest {
			continue
		}
		if d.prev == "" {
			stranded = append(stranded, d.tag.String())
			continue
		}
		back, gerr := remote.Get(d.tag.Context().Digest(d.prev), c.remote(context.WithoutCancel(ctx))...)
		if gerr == nil {
			gerr = remote.Tag(d.tag, back, c.remote(context.WithoutCancel(ctx))...)
		}
		if gerr != nil {
			failed = append(failed, d.tag.String())
			continue
		}
		restored = append(restored, d.tag.String())
	}
	var msg []string
	if len(restored) > 0 {
		msg = append(msg, "put back where they were: "+strings.Join(restored, ", "))
	}
	if len(stranded) > 0 {
		msg = append(msg, "new tags left in place (they did not exist before): "+strings.Join(stranded, ", "))
	}
	if len(failed) > 0 {
		msg = append(msg, "could NOT be put back: "+strings.Join(failed, ", "))
	}
	if len(restored)+len(stranded)+len(failed) == 0 {
		msg = append(msg, "no tag was moved")
	}
	return fmt.Errorf("%w; %s", err, strings.Join(msg, "; "))
}

// ListTags is (*Client).ListTags with a client of its own, made from opts: for a
// single call outside a run.
func ListTags(ctx context.Context, repo string, opts ...Option) ([]string, error) {
	c, err := New(opts...)
	if err != nil {
		return nil, err
	}
	return c.ListTags(ctx, repo)
}

// ListTags returns the tags of repo, every page of them; none when the repository
// does not exist yet.
func (c *Client) ListTags(ctx context.Context, repo string) ([]string, error) {
	ctx = call(ctx)
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	tags, err := remote.List(r, c.remote(ctx)...)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, explain(ctx, "listing the tags of "+repo, r.RegistryStr(), err)
	}
	return tags, nil
}

// CheckPush is (*Client).CheckPush with a client of its own, made from opts: for a
// single call outside a run.
func CheckPush(ctx context.Context, repo string, opts ...Option) error {
	c, err := New(opts...)
	if err != nil {
		return err
	}
	return c.CheckPush(ctx, repo)
}

// CheckPush checks, before anything is built, that the credentials in the Docker
// config allow pushing to repo: it opens a blob upload there (what a push does first;
// some registries grant a push token they then refuse) and cancels it. Transient
// failures are retried as every other call's.
func (c *Client) CheckPush(ctx context.Context, repo string) error {
	ctx = call(ctx)
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	if err := c.openUpload(ctx, r); err != nil {
		return explain(ctx, "checking push access to "+repo, r.RegistryStr(), err)
	}
	return nil
}

// openUpload is go-containerregistry's remote.CheckPushPermission with ctx, under
// the client's retry policy: that function takes neither.
func (c *Client) openUpload(ctx context.Context, r name.Repository) error {
	auth, err := authn.Resolve(ctx, c.o.keychain, r)
	if err != nil {
		return fmt.Errorf("resolving the credentials for %s: %w", r, err)
	}
	rt := transport.NewRetry(c.o.transport, transport.WithRetryBackoff(c.o.backoff),
		transport.WithRetryPredicate(retryable), transport.WithRetryStatusCodes(retryStatusCodes...))
	tr, err := transport.NewWithContext(ctx, r.Registry, auth, rt, []string{r.Scope(transport.PushScope)})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: tr}
	u := url.URL{Scheme: r.Registry.Scheme(), Host: r.RegistryStr(), Path: "/v2/" + r.RepositoryStr() + "/blobs/uploads/"}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusAccepted); err != nil {
		return err
	}
	// The upload was only opened to see that it can be: cancel it, best effort.
	if loc, err := resp.Location(); err == nil {
		if del, err := http.NewRequestWithContext(ctx, http.MethodDelete, loc.String(), nil); err == nil {
			if resp, err := client.Do(del); err == nil {
				resp.Body.Close()
			}
		}
	}
	return nil
}

// DescribeImage is (*Client).DescribeImage with a client of its own, made from opts: for a
// single call outside a run.
func DescribeImage(ctx context.Context, ref string, opts ...Option) (Manifest, error) {
	c, err := New(opts...)
	if err != nil {
		return Manifest{}, err
	}
	return c.DescribeImage(ctx, ref)
}

// DescribeImage reads a single-platform image manifest at ref.
func (c *Client) DescribeImage(ctx context.Context, ref string) (Manifest, error) {
	ctx = call(ctx)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return Manifest{}, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	img, err := remote.Image(r, c.remote(ctx)...)
	if err != nil {
		return Manifest{}, explain(ctx, "reading image "+ref, r.Context().RegistryStr(), err)
	}
	m, err := describeImage(img)
	if err != nil {
		return Manifest{}, explain(ctx, "reading image "+ref, r.Context().RegistryStr(), err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Manifest{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return Manifest{}, err
	}
	m.Platform = platform.Platform{OS: cf.OS, Arch: cf.Architecture, Variant: cf.Variant}
	m.Digest = d.String()
	return m, nil
}

// Merge is (*Client).Merge with a client of its own, made from opts: for a
// single call outside a run.
func Merge(ctx context.Context, repo string, digests []string, opts ...Option) (string, error) {
	c, err := New(opts...)
	if err != nil {
		return "", err
	}
	return c.Merge(ctx, repo, digests)
}

// Merge writes, by digest, an OCI index of repo's single-platform images with the
// given digests, and returns the index's digest. No tag is written.
func (c *Client) Merge(ctx context.Context, repo string, digests []string) (string, error) {
	ctx = call(ctx)
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, d := range digests {
		desc, err := remote.Get(r.Digest(d), c.remote(ctx)...)
		if err != nil {
			return "", explain(ctx, "reading "+repo+"@"+d, r.RegistryStr(), err)
		}
		img, err := desc.Image()
		if err != nil {
			return "", fmt.Errorf("%s@%s is not a single-platform image: %w", repo, d, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return "", err
		}
		add := desc.Descriptor
		add.Platform = &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: add})
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(r.Digest(d.String()), idx, c.remote(ctx)...); err != nil {
		return "", explain(ctx, "writing the index of "+repo, r.RegistryStr(), err)
	}
	return d.String(), nil
}

// Platforms lists the platforms an image reference provides: every platform of an
// index, or the one of a single image. A missing image is an error that says so.
func (c *Client) Platforms(ctx context.Context, ref string) ([]platform.Platform, error) {
	ctx = call(ctx)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	desc, err := remote.Get(r, c.remote(ctx)...)
	if err != nil {
		if IsNotFound(err) {
			return nil, fmt.Errorf("image %s does not exist in %s: check the name and tag, or push it there", ref, r.Context().RegistryStr())
		}
		return nil, explain(ctx, "reading "+ref, r.Context().RegistryStr(), err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		var out []platform.Platform
		for _, m := range im.Manifests {
			if m.Platform != nil && m.Platform.OS != "unknown" {
				out = append(out, platform.Platform{OS: m.Platform.OS, Arch: m.Platform.Architecture, Variant: m.Platform.Variant})
			}
		}
		return out, nil
	}
	img, err := desc.Image()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return []platform.Platform{{OS: cf.OS, Arch: cf.Architecture, Variant: cf.Variant}}, nil
}

// IsNotFound reports whether err is the registry saying the manifest does not exist.
func IsNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
