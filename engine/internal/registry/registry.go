package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Option configures access to the registry.
type Option func(*options)

type options struct {
	keychain  authn.Keychain
	transport http.RoundTripper
	backoff   remote.Backoff
	// sleep and now are the throttle transport's clock; tests replace them.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

// WithKeychain sets where credentials come from; default authn.DefaultKeychain
// (the Docker config and credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// WithTransport sets the HTTP transport; default remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// WithBackoff sets the retry schedule for transient errors: b.Steps tries in all, b.Duration
// apart and growing by b.Factor; default 4 tries, starting at 500ms and tripling. Steps
// below 1 mean a single try. A 429 Too Many Requests is not on this schedule: it is
// waited out as its Retry-After asks, up to 60s, or backing off from 1s, 5 times per
// request.
func WithBackoff(b remote.Backoff) Option { return func(o *options) { o.backoff = b } }

func (o *options) remote(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain),
		remote.WithTransport(o.transport),
		remote.WithRetryBackoff(o.backoff),
		remote.WithRetryPredicate(retryable),
		remote.WithRetryStatusCodes(retryStatusCodes...),
	}
}

// newOptions applies opts over the defaults. The transport waits out 429s, counting
// them in ctx's Throttle (CountThrottling).
func newOptions(ctx context.Context, opts []Option) *options {
	o := &options{
		keychain:  authn.DefaultKeychain,
		transport: remote.DefaultTransport,
		backoff:   remote.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4},
		sleep:     sleepCtx,
		now:       time.Now,
	}
	for _, f := range opts {
		f(o)
	}
	o.transport = &throttle{inner: o.transport, count: throttleFrom(ctx), sleep: o.sleep, now: o.now}
	// go-containerregistry's retry loop makes no attempt at all when Steps is 0: reads
	// fail with "RoundTripper returned a nil *Response" and manifest writes are skipped.
	if o.backoff.Steps < 1 {
		o.backoff.Steps = 1
	}
	return o
}

// Index is a pushed image: a multi-platform index, or a single image manifest (what
// buildx pushes for one platform), described as an index of that one platform.
type Index struct {
	Ref       string // repository@digest
	Digest    string
	Platforms []Manifest // in index order, attestation manifests left out
	// Attestations counts the unknown/unknown manifests BuildKit adds for provenance and SBOMs.
	Attestations int
}

// Manifest is one platform's image in an index.
type Manifest struct {
	Platform   platform.Platform
	Digest     string
	Size       int64 // compressed: config plus layers, as pulled
	User       string
	Entrypoint []string
	Labels     map[string]string
}

// Describe reads the index at ref (repository@digest or repository:tag).
func Describe(ctx context.Context, ref string, opts ...Option) (Index, error) {
	o := newOptions(ctx, opts)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return Index{}, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	desc, err := remote.Get(r, o.remote(ctx)...)
	if err != nil {
		return Index{}, explain("reading index "+ref, r.Context().RegistryStr(), err)
	}
	if desc.MediaType.IsImage() {
		// One platform: buildx pushes its image manifest, not an index of one.
		img, err := desc.Image()
		if err != nil {
			return Index{}, explain("reading image "+ref, r.Context().RegistryStr(), err)
		}
		m, err := describeImage(img)
		if err != nil {
			return Index{}, explain("reading image "+ref, r.Context().RegistryStr(), err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return Index{}, explain("reading image "+ref, r.Context().RegistryStr(), err)
		}
		m.Platform = platform.Platform{OS: cf.OS, Arch: cf.Architecture, Variant: cf.Variant}
		m.Digest = desc.Digest.String()
		return Index{Ref: r.Context().Digest(m.Digest).String(), Digest: m.Digest, Platforms: []Manifest{m}}, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return Index{}, explain("reading index "+ref, r.Context().RegistryStr(), err)
	}
	d, err := idx.Digest()
	if err != nil {
		return Index{}, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return Index{}, explain("reading index "+ref, r.Context().RegistryStr(), err)
	}
	out := Index{Ref: r.Context().Digest(d.String()).String(), Digest: d.String()}
	for _, desc := range im.Manifests {
		if desc.Platform == nil || desc.Platform.OS == "unknown" {
			out.Attestations++
			continue
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return Index{}, explain("reading image "+desc.Digest.String(), r.Context().RegistryStr(), err)
		}
		m, err := describeImage(img)
		if err != nil {
			return Index{}, explain("reading image "+desc.Digest.String(), r.Context().RegistryStr(), err)
		}
		m.Platform = platform.Platform{OS: desc.Platform.OS, Arch: desc.Platform.Architecture, Variant: desc.Platform.Variant}
		m.Digest = desc.Digest.String()
		out.Platforms = append(out.Platforms, m)
	}
	return out, nil
}

func describeImage(img v1.Image) (Manifest, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return Manifest{}, err
	}
	mf, err := img.Manifest()
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Size: mf.Config.Size, User: cf.Config.User, Entrypoint: cf.Config.Entrypoint, Labels: cf.Config.Labels}
	for _, l := range mf.Layers {
		m.Size += l.Size
	}
	return m, nil
}

// Resolve returns the digest a tag points at, or "" when the tag does not exist.
func Resolve(ctx context.Context, ref string, opts ...Option) (string, error) {
	o := newOptions(ctx, opts)
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	desc, err := remote.Head(r, o.remote(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", explain("resolving "+ref, r.Context().RegistryStr(), err)
	}
	return desc.Digest.String(), nil
}

// IsAuth reports whether err is the registry refusing the credentials (or their absence).
func IsAuth(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden)
}

func explain(what, host string, err error) error {
	if IsAuth(err) {
		login := "docker login " + host
		if host == name.DefaultRegistry {
			// docker login index.docker.io stores the credentials under a key that
			// credential helpers do not match to Docker Hub; plain docker login does.
			login = "docker login"
		}
		return fmt.Errorf("%s: registry %s refused access (%w): run %s", what, host, err, login)
	}
	var nerr *net.OpError
	if errors.As(err, &nerr) {
		return fmt.Errorf("%s: cannot reach registry %s (%w): check the address, or start the registry", what, host, err)
	}
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode >= 500 {
		return fmt.Errorf("%s: registry %s answered %d after retries (%w): try again later, or check the registry", what, host, terr.StatusCode, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
