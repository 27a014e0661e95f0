package variant

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

	"github.com/mageship/mageship/engine/internal/assemble"
	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/verify"
)

// directContext lays out what compile leaves for one image and platform: a real
// static binary in rootfs/usr/local/bin, the CA bundle, a zoneinfo.zip, and users/.
func directContext(t *testing.T, p platform.Platform) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nvar version = \"dev\"\n\nfunc main() { println(version) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, p.Dir(), "rootfs")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=1.2.3", "-o", filepath.Join(rootfs, "usr", "local", "bin", "hello"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	files := map[string]string{
		p.Dir() + "/rootfs/etc/ssl/certs/ca-certificates.crt": string(caBundle()),
		p.Dir() + "/rootfs/usr/share/zoneinfo.zip":            "zip",
		"users/etc/passwd": passwd,
		"users/etc/group":  group,
	}
	for name, data := range files {
		f := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDirectImagesVerify: what the direct assembler makes of compile's tree passes
// verification unchanged, production on scratch and debug on a base with a shell,
// and the two share the layer that holds the binary.
func TestDirectImagesVerify(t *testing.T) {
	p := platform.Platform{OS: "linux", Arch: "arm64"}
	when := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	img := config.ResolvedImage{Image: config.Image{Name: "localhost:5000/i24-hello", Binary: "hello", User: "65534:65534", Ports: []int{8080},
		Env: []string{"MODE=prod"}, Args: []string{"serve"}, Labels: map[string]string{"team": "a", "org.opencontainers.image.version": "mine"}}, RuntimeImage: config.Scratch}
	s := Spec{Image: img, Variant: Production, Assemble: config.AssembleDirect, Base: config.Scratch, Build: buildx.Build{
		Context: directContext(t, p), Platforms: []platform.Platform{p}, SourceDateEpoch: strconv.FormatInt(when.Unix(), 10),
		BuildArgs: map[string]string{"VERSION": "1.2.3", "REVISION": "abc", "SOURCE": "https://example.com/hello", "CREATED": when.Format(time.RFC3339)},
	}}
	prod, err := s.assembleImage(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	e := verify.Expect{Binary: "hello", Platform: p, User: img.User, Version: "1.2.3", Stamped: "1.2.3", Zoneinfo: true,
		Labels: []string{verify.LabelVersion, verify.LabelRevision, verify.LabelCreated, verify.LabelSource}}
	res, err := verify.Production("prod", prod, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("production image fails verification: %v", err)
	}
	size, err := ContentSize(prod)
	if err != nil || size != res.Bytes {
		t.Errorf("ContentSize = %d, %v; verification says %d", size, err, res.Bytes)
	}
	cf, _ := prod.ConfigFile()
	if got := cf.Config.Labels; got["team"] != "a" || got["org.opencontainers.image.version"] != "1.2.3" {
		t.Errorf("labels %v: want Image.Labels kept and ours winning", got)
	}
	if len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "serve" || cf.Config.Env[len(cf.Config.Env)-1] != "MODE=prod" || !cf.Created.Time.Equal(when) {
		t.Errorf("cmd %q, env %q, created %s: want Image.Args, Image.Env last, %s", cf.Config.Cmd, cf.Config.Env, cf.Created, when)
	}

	// A debug base with a shell.
	shell, err := assemble.Layer([]assemble.Entry{{Path: "/bin/sh", Mode: 0o755, Data: []byte("#!")}, {Path: "/etc/passwd", Mode: 0o644, Data: []byte(passwd)}}, when, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	base, err := assemble.Image(nil, []v1.Layer{shell}, p, assemble.Config{Cmd: []string{"/bin/sh"}, Created: when})
	if err != nil {
		t.Fatal(err)
	}
	s.Variant, s.Base = Debug, "alpine"
	debug, err := s.assembleImage(base, p)
	if err != nil {
		t.Fatal(err)
	}
	dres, err := verify.Debug("debug", debug, e, res.BinarySHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := dres.Err(); err != nil {
		t.Fatalf("debug image fails verification: %v", err)
	}
	pl, _ := prod.Layers()
	dl, _ := debug.Layers()
	top := func(ls []v1.Layer) v1.Hash { d, _ := ls[len(ls)-1].Digest(); return d }
	if len(pl) != 2 || len(dl) != 2 || top(pl) != top(dl) {
		t.Errorf("production has %d layers, debug %d; want users+rootfs and base+rootfs with one rootfs blob (%s, %s)", len(pl), len(dl), top(pl), top(dl))
	}

	// Assembled again: the same digest.
	s.Variant, s.Base = Production, config.Scratch
	again, err := s.assembleImage(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := prod.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two assemblies of the same tree differ: %s, %s", d1, d2)
	}
}

// TestPinBaseAssemblesOnTheResolvedDigest: a base tag that moves after the release
// resolved it does not move the release's images: PinBase names the resolved digest,
// and AssemblePlatforms pulls that one.
func TestPinBaseAssemblesOnTheResolvedDigest(t *testing.T) {
	s := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	tag := strings.TrimPrefix(s.URL, "http://") + "/library/alpine:3.22"
	p := platform.Platform{OS: "linux", Arch: "arm64"}
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	pushBase := func() v1.Hash {
		t.Helper()
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: p.OS, Architecture: p.Arch}); err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		ls, _ := img.Layers()
		d, _ := ls[0].Digest()
		return d
	}
	first := pushBase()
	reg, err := registry.New(registry.WithKeychain(authn.NewMultiKeychain()))
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := reg.Resolve(t.Context(), tag)
	if err != nil {
		t.Fatal(err)
	}
	moved := pushBase() // the tag moves while the release runs

	spec := Spec{Image: config.ResolvedImage{Image: config.Image{Name: "example.com/hello", Binary: "hello", User: "65534:65534"}}, Variant: Debug,
		Assemble: config.AssembleDirect, Base: tag, Build: buildx.Build{Context: directContext(t, p), Platforms: []platform.Platform{p}, SourceDateEpoch: "0",
			BuildArgs: map[string]string{"VERSION": "1.2.3"}}}
	for _, tc := range []struct {
		name  string
		bases map[string]string
		want  v1.Hash
	}{
		{"pinned", map[string]string{tag: resolved}, first},
		{"not resolved: the tag", nil, moved},
	} {
		imgs, err := spec.PinBase(tc.bases).AssemblePlatforms(t.Context(), reg, []platform.Platform{p}, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ls, _ := imgs[0].Layers()
		if d, _ := ls[0].Digest(); d != tc.want {
			t.Errorf("%s: assembled on base layer %s, want %s (resolved first: %s, moved to: %s)", tc.name, d, tc.want, first, moved)
		}
	}
	if got := spec.PinBase(map[string]string{tag: resolved}).Base; got != tag+"@"+resolved {
		t.Errorf("PinBase: Base %q, want %q", got, tag+"@"+resolved)
	}
	byDigest := tag + "@" + resolved
	for _, s := range []Spec{{Base: config.Scratch}, {Base: byDigest}} {
		if got := s.PinBase(map[string]string{s.Base: "sha256:0"}).Base; got != s.Base {
			t.Errorf("PinBase(%q) = %q: want it left as it is", s.Base, got)
		}
	}
}

// TestDirectLabelsHideTheBase: with no revision or source (no git, no remote), the
// direct image does not lend the base image's: the labels are set empty, as the
// Dockerfile's LABEL sets them.
func TestDirectLabelsHideTheBase(t *testing.T) {
	p := platform.Platform{OS: "linux", Arch: "amd64"}
	base, err := assemble.Image(nil, nil, p, assemble.Config{Labels: map[string]string{"org.opencontainers.image.revision": "0123abc", "org.opencontainers.image.source": "https://example.com/base", "vendor": "base"}})
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Image: config.ResolvedImage{Image: config.Image{Name: "example.com/hello", Binary: "hello", User: "65534:65534"}}, Variant: Debug,
		Assemble: config.AssembleDirect, Base: "example.com/base", Build: buildx.Build{Context: directContext(t, p), Platforms: []platform.Platform{p}, SourceDateEpoch: "0",
			BuildArgs: map[string]string{"VERSION": "1.2.3"}}}
	img, err := s.assembleImage(base, p)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	l := cf.Config.Labels
	if l["org.opencontainers.image.revision"] != "" || l["org.opencontainers.image.source"] != "" || l["org.opencontainers.image.version"] != "1.2.3" || l["vendor"] != "base" {
		t.Errorf("labels %v: want the base's revision and source hidden, its other labels kept", l)
	}
}
