package registry

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// faults is a fault-injecting transport: a request that fail matches, the first n
// times (n < 0: always), gets err instead of reaching the registry, or, with err nil,
// the status.
type faults struct {
	inner  http.RoundTripper
	match  func(r *http.Request) bool
	n      int32
	status int
	err    error
	hits   atomic.Int32 // requests that matched
	sent   atomic.Int32 // requests passed on
}

func (f *faults) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.match(r) {
		if k := f.hits.Add(1); f.n < 0 || k <= f.n {
			if r.Body != nil {
				r.Body.Close()
			}
			if f.err != nil {
				return nil, f.err
			}
			return &http.Response{StatusCode: f.status, Status: http.StatusText(f.status), Request: r, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader("injected failure"))}, nil
		}
	}
	f.sent.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func isPost(r *http.Request) bool { return r.Method == http.MethodPost }

// TestCheckPushRetries: the push-access check is retried as every other call, says
// how many tries a 500 took only when there were several, and counts what it retried.
func TestCheckPushRetries(t *testing.T) {
	repo := serve(t, newRegistry()) + "/" + repoPath
	for _, tc := range []struct {
		name      string
		n         int32
		steps     int
		err       error
		wantErr   []string
		transient int
	}{
		{name: "one 500, then through", n: 1, steps: 4, transient: 1},
		{name: "a connection reset, then through", n: 1, steps: 4, err: syscall.ECONNRESET, transient: 1},
		{name: "500 every time", n: -1, steps: 3, transient: 3,
			wantErr: []string{"checking push access to " + repo, "answered 500 Internal Server Error 3 times (", "try again later"}},
		{name: "500 once, no retries asked for", n: -1, steps: 1, transient: 1,
			wantErr: []string{"answered 500 Internal Server Error (", "try again later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &faults{match: isPost, n: tc.n, status: http.StatusInternalServerError, err: tc.err}
			c := newClient(t, append(testOptions(tc.steps), WithTransport(f))...)
			err := c.CheckPush(context.Background(), repo)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("CheckPush through %d faults: %v", tc.n, err)
			}
			if tc.wantErr != nil {
				testfix.OneLine(t, err, tc.wantErr...)
				if strings.Contains(err.Error(), " times (") && tc.steps == 1 {
					t.Errorf("a single try said it tried several times: %v", err)
				}
			}
			if got := c.Transient(); got != tc.transient {
				t.Errorf("Transient() = %d, want %d", got, tc.transient)
			}
			want := tc.transient
			if tc.wantErr == nil {
				want++ // the try that went through
			}
			if got := int(f.hits.Load()); got != want {
				t.Errorf("%d upload POSTs reached the transport, want %d", got, want)
			}
		})
	}
}

// TestPushByDigestRetriesBlobWrites: transient failures of blob uploads (500s, resets)
// are retried and counted; the pushed image is whole.
func TestPushByDigestRetriesBlobWrites(t *testing.T) {
	reg := newRegistry()
	repo := serve(t, reg) + "/" + repoPath
	blobWrite := func(r *http.Request) bool {
		return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
	}
	for _, tc := range []struct {
		name string
		f    *faults
	}{
		{"three 500s", &faults{match: blobWrite, n: 3, status: http.StatusInternalServerError}},
		{"a reset", &faults{match: blobWrite, n: 1, err: syscall.ECONNRESET}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.match = blobWrite
			c := newClient(t, append(testOptions(5), WithTransport(tc.f))...)
			img, err := random.Image(512, 2)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := c.PushByDigest(context.Background(), repo, img)
			if err != nil {
				t.Fatalf("PushByDigest through %d faults: %v", tc.f.n, err)
			}
			d, _ := img.Digest()
			if want := repo + "@" + d.String(); ref != want {
				t.Errorf("PushByDigest = %s, want %s", ref, want)
			}
			if c.Transient() != int(tc.f.n) {
				t.Errorf("Transient() = %d, want %d", c.Transient(), tc.f.n)
			}
			if _, err := newClient(t, testOptions(1)...).Describe(context.Background(), ref); err != nil {
				t.Errorf("the pushed image cannot be read back: %v", err)
			}
		})
	}
}

// TestReferrersReadsInconclusiveTypes: a registry with the referrers API that lists a
// referrer's config media type (go-containerregistry's own) has each such referrer's
// manifest read, once per client, however often the list is read.
func TestReferrersReadsInconclusiveTypes(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "referrers API", false: "tag schema"}[api], func(t *testing.T) {
			reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(api))
			var manifestGets sync.Map
			host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isManifest(r, http.MethodGet) {
					n, _ := manifestGets.LoadOrStore(r.URL.Path, new(atomic.Int32))
					n.(*atomic.Int32).Add(1)
				}
				reg.ServeHTTP(w, r)
			}))
			repo := host + "/" + repoPath
			c := newClient(t, testOptions(1)...)
			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			subject, err := c.PushByDigest(context.Background(), repo, img)
			if err != nil {
				t.Fatal(err)
			}
			const bundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
			sig := artifact(t, img, bundle)
			sbom := artifact(t, img, "application/spdx+json")
			for _, a := range []v1.Image{sig, sbom} {
				if _, err := c.PushByDigest(context.Background(), repo, a); err != nil {
					t.Fatal(err)
				}
			}
			sigDigest, _ := sig.Digest()
			for range 3 {
				got, err := c.Referrers(context.Background(), subject, bundle)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || got[0].Digest != sigDigest || got[0].ArtifactType != bundle {
					t.Fatalf("Referrers(%s) = %+v, want the one signature %s", bundle, got, sigDigest)
				}
			}
			manifestGets.Range(func(k, v any) bool {
				if n := v.(*atomic.Int32).Load(); n > 1 && strings.Contains(k.(string), "sha256:") {
					t.Errorf("%s read %d times, want once", k, n)
				}
				return true
			})
		})
	}
}

// artifact is an OCI 1.1 artifact of type at that refers to subject: the empty
// config, one layer, as cosign v3 and mageship's SBOMs write them.
func artifact(t *testing.T, subject v1.Image, at string) v1.Image {
	t.Helper()
	sd, _ := subject.Digest()
	sm, _ := subject.MediaType()
	raw, _ := subject.RawManifest()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIEmptyJSON)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer([]byte(at), types.MediaType(at))})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.Subject(img, v1.Descriptor{MediaType: sm, Digest: sd, Size: int64(len(raw))}).(v1.Image)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	m.ArtifactType = at
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return &rawManifest{Image: img, raw: b}
}

// rawManifest is img with its manifest replaced by raw (to set artifactType, which
// mutate does not).
type rawManifest struct {
	v1.Image
	raw []byte
}

func (r *rawManifest) RawManifest() ([]byte, error) { return r.raw, nil }
func (r *rawManifest) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(strings.NewReader(string(r.raw)))
	return h, err
}
func (r *rawManifest) Manifest() (*v1.Manifest, error) {
	return v1.ParseManifest(strings.NewReader(string(r.raw)))
}
