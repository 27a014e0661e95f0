package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/sbom"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestSBOMOnRigRegistry attaches the SBOM of a real binary to the image holding it,
// one per platform, on the rig's registry (distribution 2.8.2, which has no referrers
// API), reads it back through the referrers tag schema, and compares its modules with
// go version -m of the binary.
func TestSBOMOnRigRegistry(t *testing.T) {
	vars := rigtest.Env(t)
	reg := vars["MAGESHIP_RIG_REGISTRY"]
	repo := fmt.Sprintf("%s/it/sbom-%d", reg, time.Now().UnixNano())
	ctx := t.Context()
	commitTime := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			bin := testfix.BuildHello(t, arch)
			subject := pushBinaryImage(t, repo, bin, arch)
			doc, err := sbom.FromFile(bin, commitTime, sbom.WithName(subject))
			if err != nil {
				t.Fatal(err)
			}
			at, err := sbom.Attach(ctx, subject, doc)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("SBOM of %s attached as %s", subject, at)

			got, err := sbom.Find(ctx, subject)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, doc) {
				t.Fatalf("the SBOM read back differs from the one attached:\n%s", got)
			}
			mods, err := sbom.Modules(got)
			if err != nil {
				t.Fatal(err)
			}
			var list []string
			for _, m := range mods {
				list = append(list, m.Path+" "+m.Version+" "+m.Sum)
			}
			want := testfix.GoVersionM(t, bin)
			if diff := cmp.Diff(want.Deps, list); diff != "" {
				t.Errorf("modules, go version -m (-) vs SBOM read from the registry (+):\n%s", diff)
			}
			if len(list) == 0 {
				t.Error("no dependency module in the SBOM")
			}
			var d sbom.Document
			if err := json.Unmarshal(got, &d); err != nil {
				t.Fatal(err)
			}
			if d.Packages[0].Name != want.Main || !strings.Contains(string(got), sbom.BuildSettingPrefix+"GOARCH="+arch) {
				t.Errorf("main package %s without GOARCH=%s, want %s", d.Packages[0].Name, arch, want.Main)
			}

			// This registry has no referrers API: the artifact is found through the
			// referrers tag schema, an OCI index tagged sha256-<hex of the subject>.
			sd, err := name.NewDigest(subject)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/referrers/%s", reg, sd.Context().RepositoryStr(), sd.DigestStr()))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("the rig's registry answers the referrers API (%s): this test no longer covers the tag schema", resp.Status)
			}
			fallback := sd.Context().Tag(strings.Replace(sd.DigestStr(), ":", "-", 1))
			idx, err := remote.Index(fallback)
			if err != nil {
				t.Fatalf("reading the referrers tag %s: %v", fallback, err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			atDigest := at[strings.Index(at, "@")+1:]
			if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != atDigest ||
				im.Manifests[0].ArtifactType != sbom.MediaType || im.Manifests[0].MediaType != types.OCIManifestSchema1 {
				t.Errorf("referrers tag %s lists %+v, want the SBOM artifact %s", fallback, im.Manifests, atDigest)
			}

			// Attaching again is a no-op: still one referrer.
			if again, err := sbom.Attach(ctx, subject, doc); err != nil || again != at {
				t.Errorf("second Attach = %s, %v; want %s", again, err, at)
			}
			idx, err = remote.Index(fallback)
			if err != nil {
				t.Fatal(err)
			}
			if im, err := idx.IndexManifest(); err != nil || len(im.Manifests) != 1 {
				t.Errorf("after a second Attach the referrers tag lists %v (%v), want one", im, err)
			}
		})
	}
}

// pushBinaryImage pushes a one-layer linux/arch OCI image holding bin as /hello and
// returns it as repo@digest.
func pushBinaryImage(t *testing.T, repo, bin, arch string) string {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(testfix.Tar(t, testfix.Exe("hello", b)), types.OCIUncompressedLayer)
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		t.Fatal(err)
	}
	img = testfix.WithConfig(t, mutate.ConfigMediaType(img, types.OCIConfigJSON), func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture = "linux", arch
		cf.Config.Entrypoint = []string{"/hello"}
	})
	return pushImageByDigest(t, repo, img)
}

// pushImageByDigest pushes img to repo by digest and returns repo@digest.
func pushImageByDigest(t *testing.T, repo string, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(repo + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref.String()
}
