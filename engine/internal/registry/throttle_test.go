package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// fakeClock records the throttle's waits instead of sleeping.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
	now   time.Time
}

func (c *fakeClock) option() Option {
	return func(o *options) {
		o.sleep = func(ctx context.Context, d time.Duration) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.waits = append(c.waits, d)
			return ctx.Err()
		}
		o.now = func() time.Time { return c.now }
	}
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// throttling wraps reg: the requests that match get 429, with Retry-After when after
// is not "", the first n times (n < 0: always). It counts the 429s and the requests
// that matched.
type throttling struct {
	reg     http.Handler
	match   func(r *http.Request) bool
	n       int32
	after   string
	matched atomic.Int32
	refused atomic.Int32
}

func (h *throttling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.match(r) {
		if i := h.matched.Add(1); h.n < 0 || i <= h.n {
			h.refused.Add(1)
			if h.after != "" {
				w.Header().Set("Retry-After", h.after)
			}
			http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, http.StatusTooManyRequests)
			return
		}
	}
	h.reg.ServeHTTP(w, r)
}

func isTagPut(r *http.Request) bool {
	return isManifest(r, http.MethodPut) && !strings.Contains(r.URL.Path, "/manifests/sha256:")
}

func secs(s ...float64) []time.Duration {
	var out []time.Duration
	for _, f := range s {
		out = append(out, time.Duration(f*float64(time.Second)))
	}
	return out
}

func TestThrottledTagWritesAreWaitedOut(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int32
		after     string
		wantWaits []time.Duration
		want      Throttled
	}{
		{name: "Retry-After in seconds", n: 2, after: "3", wantWaits: secs(3, 3), want: Throttled{RetryAfter: 2, Seconds: 6}},
		{name: "Retry-After zero", n: 1, after: "0", wantWaits: secs(0), want: Throttled{RetryAfter: 1}},
		{name: "Retry-After as an HTTP date", n: 1, after: "Sun, 06 Nov 1994 08:49:47 GMT", wantWaits: secs(10), want: Throttled{RetryAfter: 1, Seconds: 10}},
		{name: "no Retry-After: backing off", n: 3, wantWaits: secs(1, 2, 4), want: Throttled{Backoff: 3, Seconds: 7}},
		{name: "unreadable Retry-After: backing off", n: 2, after: "soon", wantWaits: secs(1, 2), want: Throttled{Backoff: 2, Seconds: 3}},
		{name: "the most a request waits out", n: maxThrottleWaits, after: "60", wantWaits: secs(60, 60, 60, 60, 60), want: Throttled{RetryAfter: 5, Seconds: 300}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry()
			digest, _ := pushIndex(t, serve(t, reg))
			h := &throttling{reg: reg, match: isTagPut, n: tc.n, after: tc.after}
			repo := serve(t, h) + "/" + repoPath
			clock := &fakeClock{now: time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)}
			ctx := context.Background()
			opts := append(testOptions(3), clock.option())
			c := newClient(t, opts...)

			start := time.Now()
			moves := []Move{{Repo: repo, Tag: "1.2.3", Digest: digest}, {Repo: repo, Tag: "latest", Digest: digest, Floating: true}}
			if err := c.Publish(ctx, moves, nil); err != nil {
				t.Fatalf("Publish through %d 429s: %v", tc.n, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Publish took %v: the waits must go through the injected sleep", d)
			}
			if diff := cmp.Diff(tc.wantWaits, clock.slept()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, c.Throttled()); diff != "" {
				t.Errorf("counted (-want +got):\n%s", diff)
			}
			if got := h.refused.Load(); got != tc.n {
				t.Errorf("%d 429s answered, want %d", got, tc.n)
			}
			for _, tag := range []string{"1.2.3", "latest"} {
				if got, err := Resolve(ctx, repo+":"+tag, opts...); err != nil || got != digest {
					t.Errorf("Resolve(%s) = %q, %v; want %s", tag, got, err, digest)
				}
			}
		})
	}
}

func TestThrottlingThatDoesNotEnd(t *testing.T) {
	for _, tc := range []struct {
		name      string
		after     string
		wantPuts  int32
		wantWaits []time.Duration
		want      []string
	}{
		{name: "always 429", wantPuts: maxThrottleWaits + 1, wantWaits: secs(1, 2, 4, 8, 16),
			want: []string{"tagging ", "registry 127.0.0.1:", "is throttling requests (429 Too Many Requests) and still was after 5 waits (31s): try again later", "no tag was moved"}},
		{name: "Retry-After beyond the ceiling", after: "3600", wantPuts: 1,
			want: []string{"asks to wait 1h0m0s, longer than mageship waits (1m0s): try again after that", "no tag was moved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry()
			digest, _ := pushIndex(t, serve(t, reg))
			h := &throttling{reg: reg, match: isTagPut, n: -1, after: tc.after}
			repo := serve(t, h) + "/" + repoPath
			clock := &fakeClock{}
			c := newClient(t, append(testOptions(4), clock.option())...)

			err := c.Publish(context.Background(), []Move{{Repo: repo, Tag: "1.2.3", Digest: digest}}, nil)
			if err == nil {
				t.Fatal("Publish succeeded against a registry that always answers 429")
			}
			if !IsThrottled(err) {
				t.Errorf("IsThrottled(%v) = false", err)
			}
			testfix.OneLine(t, err, tc.want...)
			// The 5xx retries (4 tries here) must not multiply the 429 waits.
			if got := h.matched.Load(); got != tc.wantPuts {
				t.Errorf("%d tag PUTs, want %d", got, tc.wantPuts)
			}
			if diff := cmp.Diff(tc.wantWaits, clock.slept()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if got := c.Throttled().Waits(); got != len(tc.wantWaits) {
				t.Errorf("%d waits counted, want %d", got, len(tc.wantWaits))
			}
		})
	}
}

// TestThrottledReadsAndWrites: index reads, index writes (Merge), the push check and
// the tag list wait out 429s too, and count them.
func TestThrottledReadsAndWrites(t *testing.T) {
	reg := newRegistry()
	host0 := serve(t, reg)
	digest, _ := pushIndex(t, host0)
	var imgs []string
	for range 2 {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		ref, err := name.ParseReference(host0 + "/" + repoPath + "@" + d.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, d.String())
	}
	blob := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/") }
	for _, tc := range []struct {
		name  string
		match func(r *http.Request) bool
		call  func(ctx context.Context, c *Client, repo string) error
	}{
		{"index read", func(r *http.Request) bool { return isManifest(r, http.MethodGet) }, func(ctx context.Context, c *Client, repo string) error {
			_, err := c.Describe(ctx, repo+"@"+digest)
			return err
		}},
		{"index write", func(r *http.Request) bool { return isManifest(r, http.MethodPut) }, func(ctx context.Context, c *Client, repo string) error {
			_, err := c.Merge(ctx, repo, imgs)
			return err
		}},
		{"tag list", func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/tags/list") }, func(ctx context.Context, c *Client, repo string) error {
			_, err := c.ListTags(ctx, repo)
			return err
		}},
		{"push check", func(r *http.Request) bool { return r.Method == http.MethodPost }, func(ctx context.Context, c *Client, repo string) error {
			return c.CheckPush(ctx, repo)
		}},
		// What verification reads: a platform's image and its layers.
		{"image and layer reads", blob, func(ctx context.Context, c *Client, repo string) error {
			img, err := c.Image(ctx, repo+"@"+digest, platform.Platform{OS: "linux", Arch: "arm64"})
			if err != nil {
				return err
			}
			ls, err := img.Layers()
			if err != nil {
				return err
			}
			rc, err := ls[0].Compressed()
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(io.Discard, rc)
			return err
		}},
		// What an SBOM upload writes, and signing and SBOM lookups list.
		{"artifact push", blob, func(ctx context.Context, c *Client, repo string) error {
			img, err := random.Image(64, 1)
			if err != nil {
				return err
			}
			_, err = c.PushByDigest(ctx, repo, img)
			return err
		}},
		{"referrers", func(r *http.Request) bool {
			return strings.Contains(r.URL.Path, "/referrers/") || isManifest(r, http.MethodGet)
		}, func(ctx context.Context, c *Client, repo string) error {
			_, err := c.Referrers(ctx, repo+"@"+digest, "application/spdx+json")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &throttling{reg: reg, match: tc.match, n: 2, after: "1"}
			repo := serve(t, h) + "/" + repoPath
			clock := &fakeClock{}
			c := newClient(t, append(testOptions(3), clock.option())...)
			if err := tc.call(context.Background(), c, repo); err != nil {
				t.Fatalf("through two 429s: %v", err)
			}
			if h.refused.Load() != 2 {
				t.Fatalf("%d 429s answered, want 2: the test proves nothing", h.refused.Load())
			}
			if diff := cmp.Diff(Throttled{RetryAfter: 2, Seconds: 2}, c.Throttled()); diff != "" {
				t.Errorf("counted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThrottleWaitStopsWithTheContext(t *testing.T) {
	reg := newRegistry()
	digest, _ := pushIndex(t, serve(t, reg))
	h := &throttling{reg: reg, match: isTagPut, n: -1, after: "30"}
	repo := serve(t, h) + "/" + repoPath
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Publish(ctx, []Move{{Repo: repo, Tag: "1.2.3", Digest: digest}}, nil, testOptions(3)...)
	if err == nil {
		t.Fatal("Publish succeeded against a registry that always answers 429")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a cancelled wait took %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not say the deadline passed", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"3600", time.Hour, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"Sun, 29 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 29-Nov-26 12:01:00 GMT", time.Minute, true},
		{"Sun Nov 29 12:00:05 2026", 5 * time.Second, true},
		{"Sun, 29 Nov 2026 11:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	} {
		d, ok := retryAfter(tc.h, now)
		if d != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.h, d, ok, tc.want, tc.ok)
		}
	}
}

func TestPublishGate(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(1)
	// setup starts a registry holding one index and returns the repository, the
	// index's digest, the moves of tags to it (1.2.3 and 1.2.3-debug fixed, the others
	// floating) and the tag PUTs seen so far.
	setup := func(t *testing.T) (repo, digest string, moves func(tags ...string) []Move, puts func() []string) {
		reg := newRegistry()
		digest, _ = pushIndex(t, serve(t, reg))
		var mu sync.Mutex
		var order []string
		host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isTagPut(r) {
				mu.Lock()
				order = append(order, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
				mu.Unlock()
			}
			reg.ServeHTTP(w, r)
		}))
		repo = host + "/" + repoPath
		moves = func(tags ...string) []Move {
			var out []Move
			for _, tg := range tags {
				fl := tg != "1.2.3" && tg != "1.2.3-debug"
				out = append(out, Move{Repo: repo, Tag: tg, Digest: digest, Floating: fl})
			}
			return out
		}
		puts = func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(order)
		}
		return repo, digest, moves, puts
	}

	t.Run("nil gate: fixed tags first, then floating", func(t *testing.T) {
		_, _, moves, puts := setup(t)
		if err := Publish(ctx, moves("latest", "1.2.3", "1.2", "1.2.3-debug"), nil, opts...); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1.2.3", "1.2.3-debug", "latest", "1.2"}, puts()); diff != "" {
			t.Errorf("write order (-want +got):\n%s", diff)
		}
	})

	t.Run("gate sees the fixed tags and keeps some", func(t *testing.T) {
		repo, _, moves, puts := setup(t)
		var asked []Move
		gate := func(ctx context.Context, fl []Move) ([]Move, error) {
			asked = fl
			tags, err := ListTags(ctx, repo, opts...)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(tags, "1.2.3") || slices.Contains(tags, "latest") {
				t.Errorf("the gate saw tags %v: want 1.2.3 written and no floating tag yet", tags)
			}
			return fl[1:], nil
		}
		ms := moves("1.2.3", "latest", "1")
		if err := Publish(ctx, ms, gate, opts...); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ms[1:], asked); diff != "" {
			t.Errorf("gate asked about (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"1.2.3", "1"}, puts()); diff != "" {
			t.Errorf("writes (-want +got):\n%s", diff)
		}
		if got, _ := Resolve(ctx, repo+":latest", opts...); got != "" {
			t.Errorf("latest was written though the gate dropped it: %s", got)
		}
	})

	t.Run("gate error puts back what moved", func(t *testing.T) {
		repo, digest, moves, _ := setup(t)
		// 1.2.3 exists, on another digest, before the publish.
		other, _ := pushIndex(t, strings.Split(repo, "/")[0])
		if err := Publish(ctx, []Move{{Repo: repo, Tag: "1.2.3", Digest: other}}, nil, opts...); err != nil {
			t.Fatal(err)
		}
		err := Publish(ctx, moves("1.2.3", "1.2.3-debug", "latest"), func(context.Context, []Move) ([]Move, error) {
			return nil, errors.New("listing the tags of x: registry down")
		}, opts...)
		if err == nil {
			t.Fatal("Publish succeeded though its gate failed")
		}
		for _, w := range []string{"listing the tags of x: registry down", "put back where they were: " + repo + ":1.2.3;", "new tags left in place (they did not exist before): " + repo + ":1.2.3-debug"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		for tag, want := range map[string]string{"1.2.3": other, "1.2.3-debug": digest, "latest": ""} {
			if got, _ := Resolve(ctx, repo+":"+tag, opts...); got != want {
				t.Errorf("%s -> %q, want %q", tag, got, want)
			}
		}
	})

	t.Run("gate keeping a move it was not asked about", func(t *testing.T) {
		repo, digest, moves, _ := setup(t)
		err := Publish(ctx, moves("1.2.3", "latest"), func(_ context.Context, fl []Move) ([]Move, error) {
			return []Move{{Repo: repo, Tag: "other", Digest: digest, Floating: true}}, nil
		}, opts...)
		if err == nil || !strings.Contains(err.Error(), "not a floating move of this publish") {
			t.Errorf("err = %v", err)
		}
	})
}
