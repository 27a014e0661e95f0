package registry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/platform"
)

// uploads counts the blob uploads a registry was asked to start, and among them the
// mounts from library/alpine (this registry answers them with an upload, as a
// registry that does not mount across repositories does).
type uploads struct {
	h http.Handler
	sync.Mutex
	started, mounts int
}

func (u *uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
		u.Lock()
		if r.URL.Query().Get("mount") != "" && r.URL.Query().Get("from") == "library/alpine" {
			u.mounts++
		} else {
			u.started++
		}
		u.Unlock()
	}
	u.h.ServeHTTP(w, r)
}

func TestPushSharesBlobsAndMountsTheBase(t *testing.T) {
	ctx := context.Background()
	u := &uploads{h: newRegistry()}
	host := serve(t, u)
	amd := platform.Platform{OS: "linux", Arch: "amd64"}

	base, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	baseRef := host + "/library/alpine:3.22"
	if err := remote.Write(mustRef(t, baseRef), base, remote.WithAuthFromKeychain(authn.NewMultiKeychain())); err != nil {
		t.Fatal(err)
	}
	u.Lock()
	u.started, u.mounts = 0, 0
	u.Unlock()

	pulled, err := newClient(t, testOptions(1)...).Base(ctx, baseRef, amd)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := random.Layer(1024, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	prod, err := mutate.AppendLayers(empty.Image, shared)
	if err != nil {
		t.Fatal(err)
	}
	debug, err := mutate.AppendLayers(pulled, shared)
	if err != nil {
		t.Fatal(err)
	}

	repo := host + "/team/app"
	c := newClient(t, testOptions(1)...)
	var wg sync.WaitGroup
	digests := make([]string, 2)
	errs := make([]error, 2)
	for i, img := range []v1.Image{prod, debug} {
		wg.Go(func() { digests[i], errs[i] = c.Push(ctx, repo, img) })
	}
	wg.Wait()
	for i, img := range []v1.Image{prod, debug} {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		want, _ := img.Digest()
		if digests[i] != want.String() {
			t.Errorf("Push returned %s, want %s", digests[i], want)
		}
		if _, err := remote.Head(mustRef(t, repo+"@"+digests[i]), remote.WithAuthFromKeychain(authn.NewMultiKeychain())); err != nil {
			t.Errorf("%s@%s is not in the registry: %v", repo, digests[i], err)
		}
	}
	// Uploaded: the shared layer once, and each image's config (the empty image's and
	// the debug image's). This registry keeps blobs across repositories, so the base's
	// layers are found there; a registry that keeps them per repository is asked to
	// mount them, which go-containerregistry does for layers that say where they came
	// from (remote.MountableLayer, as Base's are).
	if u.started != 3 || u.mounts != 0 {
		t.Errorf("%d uploads and %d mounts, want 3 uploads (shared layer once, two configs) and none of the base's layers", u.started, u.mounts)
	}
	layers, err := debug.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers[:2] {
		if _, ok := l.(*remote.MountableLayer); !ok {
			t.Errorf("a base layer is a %T, not a remote.MountableLayer: it would be uploaded, not mounted", l)
		}
	}

	if _, err := newClient(t, testOptions(1)...).Base(ctx, host+"/library/missing:1", amd); err == nil || !strings.Contains(err.Error(), "base image "+host+"/library/missing:1 does not exist") {
		t.Errorf("Base of a missing image: %v", err)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPushErrorIsOneLine(t *testing.T) {
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			http.Error(w, "injected\nfailure", http.StatusBadRequest)
			return
		}
		newRegistryHandler.ServeHTTP(w, r)
	})
	host := serve(t, failing)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newClient(t, testOptions(1)...).Push(context.Background(), host+"/team/app", img)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Push error = %q, want one line naming the registry's answer", err)
	}
}

var newRegistryHandler = newRegistry()
