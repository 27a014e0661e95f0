package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Client is mageship's one door to registries for a run: every read and write of the
// run goes through it, so they share one transport, one set of credentials and auth
// tokens (a remote.Puller and remote.Pusher, reused), one retry policy for transient
// failures (5xx, 408, connection resets), one 429 policy (Throttled), and one way of
// explaining a failure. It is safe for concurrent use.
type Client struct {
	o      *options
	puller *remote.Puller
	pusher *remote.Pusher
	// throttle counts the 429s waited out; transient the transient failures answered
	// (each retried, unless it was a request's last try).
	throttle  Throttle
	transient atomic.Int64
	// manifests are the referrers' manifests read so far, by repository@digest.
	manifests sync.Map
}

// Option configures a Client.
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

// New returns a Client: the options are applied over the defaults and checked here,
// once, and the transport is wrapped once.
func New(opts ...Option) (*Client, error) {
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
	switch {
	case o.keychain == nil:
		return nil, errors.New("registry client: WithKeychain(nil): pass authn.NewMultiKeychain() for no credentials")
	case o.transport == nil:
		return nil, errors.New("registry client: WithTransport(nil): leave it out for the default transport")
	}
	// go-containerregistry's retry loop makes no attempt at all when Steps is 0: reads
	// fail with "RoundTripper returned a nil *Response" and manifest writes are skipped.
	if o.backoff.Steps < 1 {
		o.backoff.Steps = 1
	}
	c := &Client{o: o}
	// Below go-containerregistry's retries: every try passes here, so the 429s are
	// waited out once per try and the transient failures are each counted.
	o.transport = &throttle{inner: o.transport, count: &c.throttle, transient: &c.transient, sleep: o.sleep, now: o.now}
	base := []remote.Option{
		remote.WithAuthFromKeychain(o.keychain),
		remote.WithTransport(o.transport),
		remote.WithRetryBackoff(o.backoff),
		remote.WithRetryPredicate(retryable),
		remote.WithRetryStatusCodes(retryStatusCodes...),
	}
	var err error
	if c.puller, err = remote.NewPuller(base...); err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	if c.pusher, err = remote.NewPusher(base...); err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	return c, nil
}

// Throttled is what the registries' 429 answers cost this client's calls so far.
func (c *Client) Throttled() Throttled { return c.throttle.Counts() }

// Transient is how many transient failures (5xx, 408, dropped connections) the
// registries answered this client's calls so far; each was tried again, unless it
// was a request's last try, and then the call failed and said so.
func (c *Client) Transient() int { return int(c.transient.Load()) }

// remote is go-containerregistry's options for one call under ctx: the reused puller
// and pusher carry the transport, the credentials and the retry policy.
func (c *Client) remote(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.Reuse(c.puller), remote.Reuse(c.pusher)}
}

// call returns ctx with a counter of the transient failures its requests meet, which
// explain reads: a failure says how many tries it took only when there were several.
func call(ctx context.Context) context.Context {
	return context.WithValue(ctx, triesKey{}, new(atomic.Int32))
}

type triesKey struct{}

// failedTries is how many of ctx's call's requests failed transiently.
func failedTries(ctx context.Context) int {
	if n, ok := ctx.Value(triesKey{}).(*atomic.Int32); ok {
		return int(n.Load())
	}
	return 0
}

func countTry(ctx context.Context) {
	if n, ok := ctx.Value(triesKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
}

// PushByDigest writes t, a v1.Image or a v1.ImageIndex, to repo by its digest, with
// every blob and child manifest it lists that the registry lacks, and returns
// repo@digest. No tag is written. Transient failures are retried (the retry policy of
// the Client); what was written stays, and a retry skips it.
func (c *Client) PushByDigest(ctx context.Context, repo string, t remote.Taggable) (string, error) {
	ctx = call(ctx)
	r, err := name.NewRepository(repo, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	var d v1.Hash
	switch t := t.(type) {
	case v1.Image:
		d, err = t.Digest()
	case v1.ImageIndex:
		d, err = t.Digest()
	default:
		return "", fmt.Errorf("pushing to %s: %T is neither an image nor an index", repo, t)
	}
	if err != nil {
		return "", fmt.Errorf("pushing to %s: %w", repo, err)
	}
	ref := r.Digest(d.String())
	if err := c.pusher.Push(ctx, ref, t); err != nil {
		return "", explain(ctx, "pushing "+ref.String(), r.RegistryStr(), err)
	}
	return ref.String(), nil
}

// PutManifest writes t's manifest to ref (repository@digest) again, blobs untouched,
// whether or not the registry has it already. For a manifest with a subject on a
// registry without the referrers API, this is what writes it into the subject's
// referrers tag: PushByDigest skips a manifest that exists, and with it that tag.
func (c *Client) PutManifest(ctx context.Context, ref string, t remote.Taggable) error {
	ctx = call(ctx)
	d, err := name.NewDigest(ref, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	if err := c.pusher.Put(ctx, d, t); err != nil {
		return explain(ctx, "writing "+ref, d.Context().RegistryStr(), err)
	}
	return nil
}

// explain makes a registry failure one line that says what was being done, what the
// registry answered, and what to do: run docker login for a refusal, check the address
// when it cannot be reached, try again later after a 5xx. It wraps err. A 5xx says how
// many of the call's requests it answered so, when there were several (counted by
// the transport under call's ctx: the tries of the requests the call made).
func explain(ctx context.Context, what, host string, err error) error {
	msg := oneLine(err)
	var e string
	var terr *transport.Error
	var nerr *net.OpError
	switch {
	case IsAuth(err):
		login := "docker login " + host
		if host == name.DefaultRegistry {
			// docker login index.docker.io stores the credentials under a key that
			// credential helpers do not match to Docker Hub; plain docker login does.
			login = "docker login"
		}
		e = fmt.Sprintf("%s: registry %s refused access (%s): run %s", what, host, msg, login)
	case errors.As(err, &nerr):
		e = fmt.Sprintf("%s: cannot reach registry %s (%s): check the address, or start the registry", what, host, msg)
	case errors.As(err, &terr) && terr.StatusCode >= 500:
		times := ""
		if n := failedTries(ctx); n > 1 {
			times = fmt.Sprintf(" %d times", n)
		}
		e = fmt.Sprintf("%s: registry %s answered %d %s%s (%s): try again later, or check the registry", what, host, terr.StatusCode, http.StatusText(terr.StatusCode), times, msg)
	case IsNotFound(err):
		e = fmt.Sprintf("%s: not found in %s (%s)", what, host, msg)
	default:
		e = what + ": " + msg
	}
	return &explained{msg: e, err: err}
}

// explained is a registry failure in one line; the failure is still in its chain.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// oneLine is err's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
