package registry

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

const repoPath = "mageship/app"

// newRegistry returns an in-process registry handler, quiet in test output. Several
// test servers may wrap the same handler: they share its storage.
func newRegistry() http.Handler {
	return ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
}

// serve starts a test server for h and returns its host:port (a loopback address,
// which go-containerregistry talks to over plain HTTP).
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// testOptions keeps the developer's Docker config out of the tests and retries
// transient errors steps times in all, a millisecond apart.
func testOptions(steps int) []Option {
	return []Option{
		WithKeychain(authn.NewMultiKeychain()),
		WithBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: steps}),
	}
}

// newClient is New, failing the test on an error.
func newClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func isManifest(r *http.Request, method string) bool {
	return r.Method == method && strings.Contains(r.URL.Path, "/manifests/")
}

// pushIndex pushes an index with a linux/amd64 and a linux/arm64 image and one
// BuildKit-style attestation manifest to host, and returns the index digest and the
// platform manifests Describe should report.
func pushIndex(t *testing.T, host string) (string, []Manifest) {
	t.Helper()
	idx := v1.ImageIndex(empty.Index)
	var want []Manifest
	for _, p := range []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}} {
		img, err := random.Image(256, 2)
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{
			"org.opencontainers.image.source": "https://github.com/mageship/mageship",
			"org.opencontainers.image.title":  p.Arch,
		}
		img = testfix.WithConfig(t, img, func(cf *v1.ConfigFile) {
			cf.OS, cf.Architecture = p.OS, p.Arch
			cf.Config.User = "65534:65534"
			cf.Config.Entrypoint = []string{"/usr/local/bin/app", "serve"}
			cf.Config.Labels = labels
		})
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		mf, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		size := mf.Config.Size
		for _, l := range mf.Layers {
			size += l.Size
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}},
		})
		want = append(want, Manifest{
			Platform:   p,
			Digest:     d.String(),
			Size:       size,
			User:       "65534:65534",
			Entrypoint: []string{"/usr/local/bin/app", "serve"},
			Labels:     labels,
		})
	}
	// BuildKit puts the attestation manifests after the images they describe.
	att, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
		Add: att,
		Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		},
	})
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/" + repoPath + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return d.String(), want
}

func TestLoopbackIsPlainHTTP(t *testing.T) {
	// The tests below rely on this: no name.Insecure needed for 127.0.0.1:port.
	r, err := name.NewRegistry("127.0.0.1:5000", name.WeakValidation)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Scheme(); got != "http" {
		t.Fatalf("scheme for 127.0.0.1:5000 = %q, want http", got)
	}
}

func TestDescribe(t *testing.T) {
	host := serve(t, newRegistry())
	digest, want := pushIndex(t, host)

	got, err := Describe(context.Background(), host+"/"+repoPath+"@"+digest, testOptions(1)...)
	if err != nil {
		t.Fatal(err)
	}
	wantIndex := Index{
		Ref:          host + "/" + repoPath + "@" + digest,
		Digest:       digest,
		Platforms:    want,
		Attestations: 1,
	}
	if diff := cmp.Diff(wantIndex, got); diff != "" {
		t.Errorf("Describe mismatch (-want +got):\n%s", diff)
	}
	for _, m := range got.Platforms {
		if m.Size <= 0 {
			t.Errorf("%v: size %d, want > 0", m.Platform, m.Size)
		}
	}
}

func TestPublishAndResolve(t *testing.T) {
	ctx := context.Background()
	host := serve(t, newRegistry())
	digest, _ := pushIndex(t, host)
	repo := host + "/" + repoPath
	opts := testOptions(1)

	if err := publish(ctx, repo, digest, []string{"1.2.3", "1.2", "latest"}, opts...); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"1.2.3", "1.2", "latest"} {
		got, err := Resolve(ctx, repo+":"+tag, opts...)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", tag, err)
		}
		if got != digest {
			t.Errorf("Resolve(%s) = %q, want %q", tag, got, digest)
		}
	}

	got, err := Resolve(ctx, repo+":missing", opts...)
	if err != nil || got != "" {
		t.Errorf("Resolve(missing) = %q, %v; want \"\", nil", got, err)
	}
	got, err = Resolve(ctx, host+"/no/such/repo:latest", opts...)
	if err != nil || got != "" {
		t.Errorf("Resolve(missing repository) = %q, %v; want \"\", nil", got, err)
	}

	idx, err := Describe(ctx, repo+":latest", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Digest != digest || idx.Ref != repo+"@"+digest {
		t.Errorf("Describe(:latest) = %s (%s), want %s", idx.Ref, idx.Digest, repo+"@"+digest)
	}
}

func TestPublishRejectsBadInputBeforeWriting(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(1)

	for _, tc := range []struct {
		name   string
		digest string // "" for the pushed index's
		tags   []string
		want   string
	}{
		{name: "semver build metadata", tags: []string{"1.2.3", "1.2.3+build.7"}, want: `invalid tag "1.2.3+build.7"`},
		{name: "empty tag", tags: []string{"1.2.3", ""}, want: `invalid tag ""`},
		{name: "slash", tags: []string{"1.2.3", "a/b"}, want: `invalid tag "a/b"`},
		{name: "bad digest", digest: "sha256:abc", tags: []string{"1.2.3"}, want: `invalid digest "sha256:abc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := serve(t, newRegistry())
			digest, _ := pushIndex(t, host)
			if tc.digest != "" {
				digest = tc.digest
			}
			repo := host + "/" + repoPath
			err := publish(ctx, repo, digest, tc.tags, opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Publish error = %v, want one containing %q", err, tc.want)
			}
			if got, err := Resolve(ctx, repo+":1.2.3", opts...); err != nil || got != "" {
				t.Errorf("tag 1.2.3 = %q, %v after a rejected Publish; want nothing written", got, err)
			}
		})
	}
}

func TestAuthErrorsAreExplainedAndNotRetried(t *testing.T) {
	const steps = 10 // a retried 401 would show up as at least this many requests
	var requests atomic.Int32
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	}))
	repo := host + "/" + repoPath
	digest := "sha256:" + strings.Repeat("a", 64)
	opts := testOptions(steps)

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Describe", func() error { _, err := Describe(context.Background(), repo+"@"+digest, opts...); return err }},
		{"Resolve", func() error { _, err := Resolve(context.Background(), repo+":latest", opts...); return err }},
		{"Publish", func() error { return publish(context.Background(), repo, digest, []string{"latest"}, opts...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			err := tc.call()
			if err == nil {
				t.Fatal("no error from a registry that refuses everything")
			}
			if want := "run docker login " + host; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			if !IsAuth(err) {
				t.Errorf("IsAuth(%v) = false, want true", err)
			}
			// The ping (GET /v2/) and the one request that was refused.
			if n := requests.Load(); n > 2 {
				t.Errorf("%d requests reached the registry, want at most 2: the 401 was retried", n)
			}
		})
	}
}

func TestDescribeRetriesTransientErrors(t *testing.T) {
	reg := newRegistry()
	digest, want := pushIndex(t, serve(t, reg))

	t.Run("recovers", func(t *testing.T) {
		var failures atomic.Int32
		host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isManifest(r, http.MethodGet) && failures.Add(1) <= 2 {
				http.Error(w, "try again", http.StatusInternalServerError)
				return
			}
			reg.ServeHTTP(w, r)
		}))
		got, err := Describe(context.Background(), host+"/"+repoPath+"@"+digest, testOptions(3)...)
		if err != nil {
			t.Fatalf("Describe with 2 transient failures and 3 tries: %v", err)
		}
		if diff := cmp.Diff(want, got.Platforms); diff != "" {
			t.Errorf("platforms mismatch (-want +got):\n%s", diff)
		}
		if n := failures.Load(); n < 3 {
			t.Errorf("%d manifest GETs, want the 2 failures and the retries after them", n)
		}
	})

	t.Run("gives up", func(t *testing.T) {
		const steps = 3
		var gets atomic.Int32
		host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isManifest(r, http.MethodGet) {
				gets.Add(1)
				http.Error(w, "down", http.StatusInternalServerError)
				return
			}
			reg.ServeHTTP(w, r)
		}))
		start := time.Now()
		_, err := Describe(context.Background(), host+"/"+repoPath+"@"+digest, testOptions(steps)...)
		if err == nil {
			t.Fatal("Describe succeeded against a registry that always answers 500")
		}
		if IsAuth(err) || strings.Contains(err.Error(), "docker login") {
			t.Errorf("a 500 explained as an auth error: %v", err)
		}
		// The index GET is the first manifest read and nothing else is read after it
		// fails, so the retry transport's Steps tries are all there can be.
		if n := gets.Load(); n < 2 || n > steps {
			t.Errorf("%d manifest GETs, want 2..%d (retried, within the backoff's Steps)", n, steps)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Describe took %v to give up with millisecond backoff", d)
		}
	})
}

func TestPublishFailingMidwayNamesNewTags(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry()
	digest, _ := pushIndex(t, serve(t, reg))

	const steps = 3
	var puts atomic.Int32
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isManifest(r, http.MethodPut) && puts.Add(1) > 1 {
			http.Error(w, "disk full", http.StatusInternalServerError)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	repo := host + "/" + repoPath
	opts := testOptions(steps)

	err := publish(ctx, repo, digest, []string{"1.2.3", "1.2", "latest"}, opts...)
	if err == nil {
		t.Fatal("Publish succeeded though the registry refused the second tag")
	}
	// 1.2.3 did not exist before, so it cannot be put back everywhere: it is named.
	for _, want := range []string{"tagging " + repo + ":1.2: ", "new tags left in place (they did not exist before): " + repo + ":1.2.3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if IsAuth(err) {
		t.Errorf("IsAuth(%v) = true for a 500", err)
	}
	// One PUT for 1.2.3, then Steps tries for 1.2, and latest never attempted.
	if n := puts.Load(); n > 1+steps {
		t.Errorf("%d manifest PUTs, want at most %d", n, 1+steps)
	}
	for tag, want := range map[string]string{"1.2.3": digest, "1.2": "", "latest": ""} {
		got, err := Resolve(ctx, repo+":"+tag, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Resolve(%s) = %q, want %q", tag, got, want)
		}
	}
}

func TestZeroBackoffStillTriesOnce(t *testing.T) {
	ctx := context.Background()
	host := serve(t, newRegistry())
	digest, _ := pushIndex(t, host)
	repo := host + "/" + repoPath
	opts := []Option{WithKeychain(authn.NewMultiKeychain()), WithBackoff(remote.Backoff{Duration: time.Second})}

	if err := publish(ctx, repo, digest, []string{"latest"}, opts...); err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve(ctx, repo+":latest", opts...); err != nil || got != digest {
		t.Errorf("Resolve(latest) = %q, %v; want %q", got, err, digest)
	}
	if _, err := Describe(ctx, repo+"@"+digest, opts...); err != nil {
		t.Error(err)
	}
}

func TestExplainDockerHub(t *testing.T) {
	refused := &transport.Error{StatusCode: http.StatusUnauthorized}
	err := explain(context.Background(), "reading index alpine", name.DefaultRegistry, refused)
	if !strings.HasSuffix(err.Error(), "run docker login") {
		t.Errorf("error for Docker Hub = %q, want it to end in plain `run docker login`", err)
	}
	if !errors.Is(err, refused) {
		t.Errorf("error %q does not wrap the registry's error", err)
	}
}

// publish points tags of repo at digest with Publish, as a release's tag step does.
func publish(ctx context.Context, repo, digest string, tags []string, opts ...Option) error {
	moves := make([]Move, len(tags))
	for i, t := range tags {
		moves[i] = Move{Repo: repo, Tag: t, Digest: digest}
	}
	return Publish(ctx, moves, nil, opts...)
}

// TestDescribeSingleImage: one platform's release is an image manifest, not an index;
// Describe reads it as an index of that one platform.
func TestDescribeSingleImage(t *testing.T) {
	ctx := context.Background()
	host := serve(t, newRegistry())
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = testfix.WithConfig(t, img, func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture, cf.Config.User = "linux", "arm64", "65534:65534"
	})
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/" + repoPath + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	idx, err := Describe(ctx, ref.String(), testOptions(1)...)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Digest != d.String() || len(idx.Platforms) != 1 || idx.Platforms[0].Digest != d.String() ||
		idx.Platforms[0].Platform != (platform.Platform{OS: "linux", Arch: "arm64"}) || idx.Platforms[0].User != "65534:65534" {
		t.Errorf("Describe(single image) = %+v", idx)
	}
}

// TestPublishFinishesAnInterruptedPublish: a publish that stopped part-way (a release
// killed between tag writes: some exact and floating tags written, the rest not) is
// finished by the same publish run again, which writes only the tags not yet in place
// and ends where one uninterrupted publish ends.
func TestPublishFinishesAnInterruptedPublish(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry()
	digest, _ := pushIndex(t, serve(t, reg))
	var puts []string
	var mu sync.Mutex
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isManifest(r, http.MethodPut) {
			mu.Lock()
			puts = append(puts, path.Base(r.URL.Path))
			mu.Unlock()
		}
		reg.ServeHTTP(w, r)
	}))
	repo := host + "/" + repoPath
	opts := testOptions(1)
	moves := []Move{
		{Repo: repo, Tag: "1.2.3", Digest: digest},
		{Repo: repo, Tag: "1.2", Digest: digest, Floating: true},
		{Repo: repo, Tag: "1", Digest: digest, Floating: true},
		{Repo: repo, Tag: "latest", Digest: digest, Floating: true},
	}
	keepAll := func(_ context.Context, fl []Move) ([]Move, error) { return fl, nil }

	// What the killed release left: its exact tag and its first floating tag.
	if err := Publish(ctx, moves[:2], keepAll, opts...); err != nil {
		t.Fatal(err)
	}
	puts = nil
	if err := Publish(ctx, moves, keepAll, opts...); err != nil {
		t.Fatalf("publishing again over a partial publish: %v", err)
	}
	if want := []string{"1", "latest"}; !slices.Equal(puts, want) {
		t.Errorf("the second publish wrote %v, want only the tags not yet in place, %v", puts, want)
	}
	for _, m := range moves {
		if got, err := Resolve(ctx, repo+":"+m.Tag, opts...); err != nil || got != digest {
			t.Errorf("Resolve(%s) = %q, %v; want %s", m.Tag, got, err, digest)
		}
	}
	// Once more: everything is in place, nothing is written.
	puts = nil
	if err := Publish(ctx, moves, keepAll, opts...); err != nil || len(puts) > 0 {
		t.Errorf("a third publish: %v, wrote %v; want nothing written", err, puts)
	}
}

// TestPublishTagAppliedButFailed: a registry (or the proxy in front of it) that moves
// a tag and then answers 502 does not leave it moved behind "no tag was moved": the
// tag is read back and put where it was with the others.
func TestPublishTagAppliedButFailed(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry()
	old, _ := pushIndex(t, serve(t, reg))
	host := serve(t, reg)
	repo := host + "/" + repoPath
	opts := testOptions(2)
	if err := publish(ctx, repo, old, []string{"1.2"}, opts...); err != nil {
		t.Fatal(err)
	}
	digest, _ := pushIndex(t, host)
	if digest == old {
		t.Fatal("pushIndex gave the same index twice: the case this test is about did not arise")
	}
	var puts atomic.Int32
	lying := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isManifest(r, http.MethodPut) && strings.HasSuffix(r.URL.Path, "/manifests/1.2") && puts.Add(1) <= 2 {
			reg.ServeHTTP(httptest.NewRecorder(), r) // applied
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	lrepo := lying + "/" + repoPath
	err := publish(ctx, lrepo, digest, []string{"1.2"}, opts...)
	if err == nil {
		t.Fatal("Publish succeeded though every answer to the tag's PUT was 502")
	}
	if strings.Contains(err.Error(), "no tag was moved") || !strings.Contains(err.Error(), "put back where they were: "+lrepo+":1.2") {
		t.Errorf("error %q: want the moved tag named as put back", err)
	}
	if got, err := Resolve(ctx, repo+":1.2", opts...); err != nil || got != old {
		t.Errorf("Resolve(1.2) = %q, %v; want it back at %s", got, err, old)
	}
}
