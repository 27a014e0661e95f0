package assemble

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mageship/mageship/engine/internal/platform"
)

var when = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

func entries(t *testing.T) []Entry {
	src := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(src, []byte("binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []Entry{
		{Path: "/usr/local/bin/hello", Mode: 0o755, Source: src},
		{Path: "/etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Data: []byte("pem")},
		{Path: "/data", Mode: 0o750, UID: 65534, GID: 65534, Dir: true},
	}
}

type header struct {
	Name     string
	Type     byte
	Mode     int64
	UID, GID int
	ModTime  time.Time
	Data     string
}

func read(t *testing.T, l v1.Layer) []header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var out []header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, header{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.ModTime.UTC(), string(b)})
	}
}

func TestLayer(t *testing.T) {
	es := entries(t)
	l, err := Layer(es, when.Add(300*time.Millisecond), types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	want := []header{
		{"data/", tar.TypeDir, 0o750, 65534, 65534, when, ""},
		{"etc/", tar.TypeDir, 0o755, 0, 0, when, ""},
		{"etc/ssl/", tar.TypeDir, 0o755, 0, 0, when, ""},
		{"etc/ssl/certs/", tar.TypeDir, 0o755, 0, 0, when, ""},
		{"etc/ssl/certs/ca-certificates.crt", tar.TypeReg, 0o644, 0, 0, when, "pem"},
		{"usr/", tar.TypeDir, 0o755, 0, 0, when, ""},
		{"usr/local/", tar.TypeDir, 0o755, 0, 0, when, ""},
		{"usr/local/bin/", tar.TypeDir, 0o755, 0, 0, when, ""},
		{"usr/local/bin/hello", tar.TypeReg, 0o755, 0, 0, when, "binary"},
	}
	if diff := cmp.Diff(want, read(t, l)); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
	if mt, _ := l.MediaType(); mt != types.OCILayer {
		t.Errorf("media type %s, want %s", mt, types.OCILayer)
	}

	// The same entries in another order, at another moment: the same blob.
	slices.Reverse(es)
	again, err := Layer(es, when, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := l.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("digests differ for the same entries: %s, %s", d1, d2)
	}
}

func TestLayerRefusesBadEntries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"relative", []Entry{{Path: "etc/passwd"}}, `layer entry "etc/passwd": give an absolute path`},
		{"root", []Entry{{Path: "/", Dir: true}}, `layer entry "/": give an absolute path below /`},
		{"twice", []Entry{{Path: "/a"}, {Path: "/a/"}}, "layer entry /a is listed twice"},
		{"under a file", []Entry{{Path: "/a"}, {Path: "/a/b"}}, "layer entry /a/b is inside /a, which is a file"},
		{"missing source", []Entry{{Path: "/a", Source: "/nonexistent/x"}}, "layer entry /a: open /nonexistent/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Layer(tc.entries, when, types.OCILayer)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestImageOnScratch(t *testing.T) {
	l, err := Layer(entries(t), when, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	arm := platform.Platform{OS: "linux", Arch: "arm64"}
	img, err := Image(nil, []v1.Layer{l}, arm, Config{
		User: "65534:65534", Entrypoint: []string{"/usr/local/bin/hello"}, Cmd: []string{"serve"},
		Env: []string{"ZONEINFO=/usr/share/zoneinfo.zip"}, Labels: map[string]string{"org.opencontainers.image.version": "1.2.3"},
		Ports: []int{8080}, WorkDir: "/data", Volumes: []string{"/data"}, Created: when,
	})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := v1.Config{
		User: "65534:65534", Entrypoint: []string{"/usr/local/bin/hello"}, Cmd: []string{"serve"},
		Env:          []string{DefaultPath, "ZONEINFO=/usr/share/zoneinfo.zip"},
		Labels:       map[string]string{"org.opencontainers.image.version": "1.2.3"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}}, WorkingDir: "/data", Volumes: map[string]struct{}{"/data": {}},
	}
	if diff := cmp.Diff(want, cf.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || !cf.Created.Time.Equal(when) {
		t.Errorf("config says %s/%s created %s, want linux/arm64 created %s", cf.OS, cf.Architecture, cf.Created, when)
	}
	if len(cf.History) != 1 || !cf.History[0].Created.Time.Equal(when) || len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("history %v, diff IDs %v: want one of each, at %s", cf.History, cf.RootFS.DiffIDs, when)
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want OCI", mt)
	}
}

func TestImageOnBase(t *testing.T) {
	base, err := random.Image(100, 2)
	if err != nil {
		t.Fatal(err)
	}
	bcf, _ := base.ConfigFile()
	bcf = bcf.DeepCopy()
	bcf.Config.Env = []string{"PATH=/bin", "ZONEINFO=/old"}
	bcf.Config.Cmd = []string{"/bin/sh"}
	bcf.Config.Labels = map[string]string{"base": "yes"}
	if base, err = mutate.ConfigFile(base, bcf); err != nil {
		t.Fatal(err)
	}
	mt, err := LayerMediaType(base)
	if err != nil || mt != types.DockerLayer {
		t.Fatalf("LayerMediaType of a Docker image = %s, %v; want %s", mt, err, types.DockerLayer)
	}
	l, err := Layer(entries(t), when, mt)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Image(base, []v1.Layer{l}, platform.Platform{OS: "linux", Arch: "amd64"}, Config{
		User: "65534:65534", Entrypoint: []string{"/usr/local/bin/hello"}, Env: []string{"ZONEINFO=/usr/share/zoneinfo.zip"},
		Labels: map[string]string{"org.opencontainers.image.version": "1.2.3"}, Created: when,
	})
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if want := []string{"PATH=/bin", "ZONEINFO=/usr/share/zoneinfo.zip"}; !slices.Equal(cf.Config.Env, want) {
		t.Errorf("env %q, want %q", cf.Config.Env, want)
	}
	if cf.Config.Cmd != nil {
		t.Errorf("cmd %q: the entrypoint replaces the base's cmd", cf.Config.Cmd)
	}
	if want := map[string]string{"base": "yes", "org.opencontainers.image.version": "1.2.3"}; !cmp.Equal(cf.Config.Labels, want) {
		t.Errorf("labels %v, want %v", cf.Config.Labels, want)
	}
	layers, _ := img.Layers()
	if len(layers) != 3 || len(cf.RootFS.DiffIDs) != 3 {
		t.Fatalf("%d layers and %d diff IDs, want the base's 2 and ours", len(layers), len(cf.RootFS.DiffIDs))
	}
	d, _ := layers[2].Digest()
	want, _ := l.Digest()
	if d != want {
		t.Errorf("top layer %s, want ours %s", d, want)
	}
}

func TestIndex(t *testing.T) {
	l, err := Layer(entries(t), when, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	var images []v1.Image
	for _, p := range []platform.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm", Variant: "v7"}} {
		img, err := Image(nil, []v1.Layer{l}, p, Config{User: "1:1", Created: when})
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	idx, err := Index(images)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range im.Manifests {
		got = append(got, m.Platform.String())
	}
	if want := []string{"linux/amd64", "linux/arm/v7"}; !slices.Equal(got, want) || im.MediaType != types.OCIImageIndex {
		t.Errorf("index %s lists %v, want an OCI index of %v", im.MediaType, got, want)
	}
	// Built again from the same inputs: the same index digest.
	again, _ := Index(images)
	d1, _ := idx.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("index digests differ: %s, %s", d1, d2)
	}
}
