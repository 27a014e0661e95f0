package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// requestLog is the method and path of every request a test registry answered.
type requestLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(r.Method + " " + r.URL.Path + "\n")
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts an in-process registry, with or without the referrers API, behind
// filter when one is given, and returns its host:port (loopback: plain HTTP) and the
// log of the requests it answers.
func serve(t *testing.T, referrersAPI bool, filter func(http.Handler) http.Handler) (host string, reqs *requestLog) {
	t.Helper()
	reqs = &requestLog{}
	var h http.Handler = ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(referrersAPI))
	if filter != nil {
		h = filter(h)
	}
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r)
		h.ServeHTTP(w, r)
	})
	s := httptest.NewServer(logged)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), reqs
}

// remoteOptions, for the tests' own registry calls, keep the developer's Docker
// config out and do not wait between tries.
var remoteOptions = []remote.Option{
	remote.WithAuthFromKeychain(authn.NewMultiKeychain()),
	remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}),
}

// testOptions are Attach's and Find's: a registry client that does the same.
var testOptions = func() []ClientOption {
	c, err := registry.New(registry.WithKeychain(authn.NewMultiKeychain()),
		registry.WithBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}))
	if err != nil {
		panic(err)
	}
	return []ClientOption{WithClient(c)}
}()

// pushImage pushes a small random image to host/repo and returns it as repo@digest.
func pushImage(t *testing.T, host, repo string) string {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(host + "/" + repo + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remoteOptions...); err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

func testDoc(t *testing.T, when time.Time) []byte {
	t.Helper()
	doc, err := FromBuildInfo(handBuildInfo(), when)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAttachAndFind(t *testing.T) {
	for _, tc := range []struct {
		name         string
		referrersAPI bool
	}{
		{"registry with the referrers API", true},
		{"registry without it: referrers tag schema", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			host, reqs := serve(t, tc.referrersAPI, nil)
			subject := pushImage(t, host, "mageship/app")
			other := pushImage(t, host, "mageship/app")
			doc := testDoc(t, created)

			at, err := Attach(ctx, subject, doc, testOptions...)
			if err != nil {
				t.Fatal(err)
			}
			pushReferrer(t, subject) // another kind of referrer, which Find passes over
			got, err := Find(ctx, subject, testOptions...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, doc) {
				t.Errorf("Find returned another document:\n%s", got)
			}

			// The artifact is what the OCI 1.1 spec asks of one.
			art, err := remote.Get(mustDigest(t, at), remoteOptions...)
			if err != nil {
				t.Fatal(err)
			}
			var m v1.Manifest
			if err := json.Unmarshal(art.Manifest, &m); err != nil {
				t.Fatal(err)
			}
			sd := mustDigest(t, subject)
			if m.MediaType != types.OCIManifestSchema1 || m.ArtifactType != MediaType ||
				m.Config.MediaType != types.OCIEmptyJSON || m.Config.Size != 2 ||
				m.Config.Digest.String() != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" ||
				len(m.Layers) != 1 || m.Layers[0].MediaType != MediaType ||
				m.Subject == nil || m.Subject.Digest.String() != sd.DigestStr() || m.Subject.MediaType == "" || m.Subject.Size == 0 ||
				m.Annotations[AnnotationCreated] != "2026-11-29T01:02:03Z" {
				t.Errorf("artifact manifest:\n%s", art.Manifest)
			}

			// The referrers tag schema's tag exists exactly when the registry lacks the API.
			fallback := sd.Context().Tag(strings.Replace(sd.DigestStr(), ":", "-", 1))
			idx, terr := remote.Index(fallback, remoteOptions...)
			if tc.referrersAPI {
				if terr == nil {
					t.Errorf("fallback tag %s written although the registry has the referrers API", fallback)
				}
				if !strings.Contains(reqs.String(), "GET /v2/mageship/app/referrers/"+sd.DigestStr()) {
					t.Errorf("the referrers API was not asked:\n%s", reqs)
				}
			} else {
				if terr != nil {
					t.Fatalf("reading the fallback tag %s: %v", fallback, terr)
				}
				im, err := idx.IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				var sboms []string
				for _, d := range im.Manifests {
					if d.ArtifactType == MediaType {
						sboms = append(sboms, d.Digest.String())
					}
				}
				if len(im.Manifests) != 2 || len(sboms) != 1 || sboms[0] != mustDigest(t, at).DigestStr() {
					t.Errorf("fallback index %+v, want the SBOM %s and the other referrer", im.Manifests, at)
				}
			}

			// Attaching the same document again changes nothing.
			again, err := Attach(ctx, subject, doc, testOptions...)
			if err != nil || again != at {
				t.Errorf("second Attach = %s, %v; want %s", again, err, at)
			}
			// A newer document wins.
			newer := testDoc(t, created.Add(time.Hour))
			if _, err := Attach(ctx, subject, newer, testOptions...); err != nil {
				t.Fatal(err)
			}
			got, err = Find(ctx, subject, testOptions...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, newer) {
				t.Errorf("Find after a newer Attach returned the older document")
			}

			// Another image of the repository has none.
			if _, err := Find(ctx, other, testOptions...); err == nil || !strings.Contains(err.Error(), "has no SBOM attached") {
				t.Errorf("Find of an image without SBOM: %v", err)
			}
		})
	}
}

// pushReferrer pushes a random image whose subject is the image at subject.
func pushReferrer(t *testing.T, subject string) {
	t.Helper()
	sd := mustDigest(t, subject)
	desc, err := remote.Head(sd, remoteOptions...)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := mutate.Subject(img, *desc).(v1.Image)
	d, err := ref.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(sd.Context().Digest(d.String()), ref, remoteOptions...); err != nil {
		t.Fatal(err)
	}
}

func mustDigest(t *testing.T, s string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rejectSubjects is a registry that refuses manifests with a subject, as some
// registries refuse OCI 1.1 artifacts.
func rejectSubjects(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			b, _ := io.ReadAll(r.Body)
			if bytes.Contains(b, []byte(`"subject"`)) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unknown field\nsubject"}]}`)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h.ServeHTTP(w, r)
	})
}

func TestAttachErrors(t *testing.T) {
	ctx := context.Background()
	host, _ := serve(t, false, rejectSubjects)
	subject := pushImage(t, host, "mageship/app")
	doc := testDoc(t, created)
	sd := mustDigest(t, subject)

	for _, tc := range []struct {
		name    string
		subject string
		doc     []byte
		want    []string
	}{
		{"registry refuses artifacts", subject, doc, []string{"attaching the SBOM to " + subject, "refused the SBOM artifact", "MANIFEST_INVALID", "MAGESHIP_SBOM=off"}},
		{"a tag, not a digest", host + "/mageship/app:latest", doc, []string{"not an image reference by digest"}},
		{"no such image", host + "/mageship/app@sha256:" + strings.Repeat("0", 64), doc, []string{"attaching the SBOM: reading " + host, "not found"}},
		{"not SPDX", subject, []byte(`{"bomFormat":"CycloneDX"}`), []string{"not SPDX JSON"}},
		{"unreachable registry", "127.0.0.1:1/mageship/app@" + sd.DigestStr(), doc, []string{"cannot reach registry 127.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Attach(ctx, tc.subject, tc.doc, testOptions...)
			testfix.OneLine(t, err, tc.want...)
		})
	}
	// Nothing referring to the image was left behind.
	fallback := sd.Context().Tag(strings.Replace(sd.DigestStr(), ":", "-", 1))
	if _, err := remote.Head(fallback, remoteOptions...); err == nil {
		t.Errorf("fallback tag %s exists after a refused Attach", fallback)
	}
}

// TestAttachAfterCutShort: a release cut short after the SBOM's manifest was written and
// before its subject's referrers tag was (here: the tag's write fails) leaves an SBOM no
// one can find. Attaching it again, which pushes nothing new, writes the tag.
func TestAttachAfterCutShort(t *testing.T) {
	var failTag atomic.Bool
	failTag.Store(true)
	host, reqs := serve(t, false, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failTag.Load() && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/sha256-") {
				http.Error(w, "injected failure", http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	subject := pushImage(t, host, "mageship/app")
	doc := testDoc(t, created)
	if _, err := Attach(t.Context(), subject, doc, testOptions...); err == nil {
		t.Fatalf("Attach succeeded although the referrers tag could not be written:\n%s", reqs)
	}
	if _, err := Find(t.Context(), subject, testOptions...); err == nil {
		t.Fatal("the SBOM is findable after the cut-short attach: the case this test is about did not arise")
	}
	failTag.Store(false)
	at, err := Attach(t.Context(), subject, doc, testOptions...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Find(t.Context(), subject, testOptions...)
	if err != nil {
		t.Fatalf("after attaching again (%s): %v", at, err)
	}
	if !bytes.Equal(got, doc) {
		t.Errorf("Find returned another document:\n%s", got)
	}
}
