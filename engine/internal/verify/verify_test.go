package verify

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// The test binaries, each compiled once per test binary (testfix.Program).
var (
	amd64Bin   = func(t testing.TB) []byte { return testfix.StaticBinary(t, "amd64") }
	arm64Bin   = func(t testing.TB) []byte { return testfix.StaticBinary(t, "arm64") }
	dynamicBin = testfix.CgoBinary
)

// file is one tar entry of a test layer.
type file = testfix.File

var (
	dir, reg, exe, symlink, without = testfix.Dir, testfix.Reg, testfix.Exe, testfix.Symlink, testfix.Without
)

// layer writes files into an uncompressed tar and opens it as a layer; n is the
// tar's length.
func layer(t *testing.T, files []file) (l v1.Layer, n int64) {
	t.Helper()
	b := testfix.Tar(t, files...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, int64(len(b))
}

// spec describes a test image: its layers and the config fields verify reads.
type spec struct {
	layers     [][]file
	os, arch   string
	variant    string
	user       string
	entrypoint []string
	labels     map[string]string
}

// build makes the image of s and returns it with the summed length of its layers.
func build(t *testing.T, s spec) (v1.Image, int64) {
	t.Helper()
	var (
		layers []v1.Layer
		total  int64
	)
	for _, fs := range s.layers {
		l, n := layer(t, fs)
		layers = append(layers, l)
		total += n
	}
	img := testfix.WithConfig(t, testfix.Image(t, layers...), func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture, cf.Variant = s.os, s.arch, s.variant
		cf.Config.User = s.user
		cf.Config.Entrypoint = s.entrypoint
		cf.Config.Labels = s.labels
	})
	return img, total
}

var (
	amd64 = platform.Platform{OS: "linux", Arch: "amd64"}
	arm64 = platform.Platform{OS: "linux", Arch: "arm64"}
)

// runtimeFiles is what mageship's runtime stage puts in a scratch image, with binary
// as /usr/local/bin/hello.
func runtimeFiles(binary []byte) []file {
	return []file{
		dir("etc/"),
		dir("etc/ssl/"),
		dir("etc/ssl/certs/"),
		reg("etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		reg("etc/passwd", "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"),
		reg("etc/group", "nobody:x:65534:\n"),
		dir("usr/"),
		dir("usr/share/"),
		reg("usr/share/zoneinfo.zip", "PK\x05\x06zoneinfo"),
		dir("usr/local/"),
		dir("usr/local/bin/"),
		exe("usr/local/bin/hello", binary),
	}
}

var goodLabels = map[string]string{
	LabelVersion:  "1.2.3",
	LabelRevision: "0123456789abcdef0123456789abcdef01234567",
	LabelSource:   "https://github.com/acme/hello",
	LabelCreated:  "2025-01-02T03:04:05Z",
}

// production is a good production image spec for p with binary.
func production(p platform.Platform, binary []byte) spec {
	return spec{
		layers:     [][]file{runtimeFiles(binary)},
		os:         p.OS,
		arch:       p.Arch,
		variant:    p.Variant,
		user:       "65534:65534",
		entrypoint: []string{"/usr/local/bin/hello"},
		labels:     maps.Clone(goodLabels),
	}
}

func expect(p platform.Platform) Expect {
	return Expect{
		Binary:   "hello",
		Platform: p,
		User:     "65534:65534",
		Labels:   []string{LabelVersion, LabelRevision, LabelSource, LabelCreated},
		Version:  "1.2.3",
		Zoneinfo: true,
		MaxBytes: 64 << 20,
	}
}

func checks(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Check)
	}
	return out
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestProduction(t *testing.T) {
	for _, tc := range []struct {
		name     string
		platform platform.Platform                       // default amd64
		binary   func(testing.TB) []byte                 // default amd64Bin
		cgo      bool                                    // needs a C compiler
		mod      func(s *spec, e *Expect, binary []byte) // breaks one promise
		want     string                                  // the one failing check; "" for none
		contains []string                                // in the finding's Error()
	}{
		{name: "good scratch image"},
		{name: "good arm64 image", platform: arm64, binary: arm64Bin},
		{name: "arm64 config with variant v8", platform: arm64, binary: arm64Bin, mod: func(s *spec, e *Expect, _ []byte) { s.variant = "v8" }},
		{name: "zoneinfo directory instead of the zip", mod: func(s *spec, e *Expect, _ []byte) {
			s.layers[0] = append(without(s.layers[0], "usr/share/zoneinfo.zip"), dir("usr/share/zoneinfo/"), reg("usr/share/zoneinfo/UTC", "TZif"))
		}},
		{name: "no zoneinfo and none expected", mod: func(s *spec, e *Expect, _ []byte) {
			s.layers[0] = without(s.layers[0], "usr/share/zoneinfo.zip")
			e.Zoneinfo = false
		}},
		{name: "binary and CA bundle through symlinks", mod: func(s *spec, e *Expect, b []byte) {
			fs := without(without(s.layers[0], "usr/local/bin/hello"), "etc/ssl/certs/ca-certificates.crt")
			s.layers[0] = append(fs,
				exe("usr/local/bin/hello-1.2.3", b), symlink("usr/local/bin/hello", "hello-1.2.3"),
				reg("etc/ssl/cert.pem", "-----BEGIN CERTIFICATE-----\n"), symlink("etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem"))
		}},
		{name: "service: owned data dir, config file, CLI", mod: func(s *spec, e *Expect, b []byte) {
			s.layers = append(s.layers, []file{
				{Name: "tsdb/", Type: tar.TypeDir, Mode: 0o755, UID: 65534, GID: 65534},
				dir("etc/tsdb/"), reg("etc/tsdb/tsdb.yml", "storage: /tsdb\n"), exe("usr/local/bin/hello-cli", b)})
			e.Dirs, e.Files, e.Also = []string{"/tsdb"}, map[string]string{"/etc/tsdb/tsdb.yml": sha([]byte("storage: /tsdb\n"))}, []string{"hello-cli"}
			e.Stamped = "hello"
		}},
		{name: "template without the run fields", want: "run", contains: []string{`CMD is [], want ["--storage.path=/tsdb"]`, "Env has no TSDB_MODE=server", `the working directory is "", want "/tsdb"`, "/tsdb is not a volume", `label com.example.team is "", want "storage"`, "a template of your own must too"},
			mod: func(s *spec, e *Expect, _ []byte) {
				e.Run = Run{Cmd: []string{"--storage.path=/tsdb"}, Env: []string{"TSDB_MODE=server"}, WorkDir: "/tsdb", Volumes: []string{"/tsdb"}, Labels: map[string]string{"com.example.team": "storage"}}
			}},
		{name: "data dir owned by root", want: "dirs", contains: []string{"/tsdb (owner 0:0, mode 0755) is not writable by user 65534:65534", "--chown"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers = append(s.layers, []file{dir("tsdb/")})
				e.Dirs = []string{"/tsdb"}
			}},
		{name: "data dir missing", want: "dirs", contains: []string{"/var/lib/tsdb is missing"},
			mod: func(s *spec, e *Expect, _ []byte) { e.Dirs = []string{"/var/lib/tsdb"} }},
		{name: "config file with other bytes", want: "files", contains: []string{"/etc/tsdb/tsdb.yml has SHA-256 " + sha([]byte("old\n")) + ", the repository's file " + sha([]byte("new\n"))},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers = append(s.layers, []file{dir("etc/tsdb/"), reg("etc/tsdb/tsdb.yml", "old\n")})
				e.Files = map[string]string{"/etc/tsdb/tsdb.yml": sha([]byte("new\n"))}
			}},
		{name: "config file missing", want: "files", contains: []string{"/etc/tsdb/tsdb.yml is not a file in the image"},
			mod: func(s *spec, e *Expect, _ []byte) { e.Files = map[string]string{"/etc/tsdb/tsdb.yml": sha(nil)} }},
		{name: "CLI for another architecture", want: "also", contains: []string{"/usr/local/bin/hello-cli", "arm64", "CGO_ENABLED=0"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers = append(s.layers, []file{exe("usr/local/bin/hello-cli", arm64Bin(t))})
				e.Also = []string{"hello-cli"}
			}},
		{name: "CLI without the version", want: "also", contains: []string{"/usr/local/bin/hello-cli does not carry version hello"},
			mod: func(s *spec, e *Expect, b []byte) {
				cli := testfix.Program(t, "package main\n\nfunc main() {}\n", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
				s.layers = append(s.layers, []file{exe("usr/local/bin/hello-cli", cli)})
				e.Also, e.Stamped = []string{"hello-cli"}, "hello"
			}},
		{name: "no labels or budget asked for", mod: func(s *spec, e *Expect, _ []byte) {
			s.labels = nil
			e.Labels, e.Version, e.MaxBytes = nil, "", 0
		}},

		{name: "shell", want: "shell", contains: []string{"(/bin/sh)", "FROM scratch or distroless static; use the debug variant to get a shell"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers = append(s.layers, []file{dir("bin/"), symlink("bin/sh", "/bin/busybox")})
			}},
		{name: "package manager", want: "package-manager", contains: []string{"/sbin/apk", "FROM scratch"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers = append(s.layers, []file{dir("sbin/"), exe("sbin/apk", []byte("apk"))})
			}},
		{name: "root user 0", want: "user", contains: []string{`runs as root (user "0")`, "65534:65534"},
			mod: func(s *spec, e *Expect, _ []byte) { s.user = "0" }},
		{name: "root user root:root", want: "user", contains: []string{"runs as root"},
			mod: func(s *spec, e *Expect, _ []byte) { s.user = "root:root" }},
		{name: "root user 0:65534", want: "user", contains: []string{"runs as root"},
			mod: func(s *spec, e *Expect, _ []byte) { s.user = "0:65534" }},
		{name: "no user", want: "user", contains: []string{"sets no user"},
			mod: func(s *spec, e *Expect, _ []byte) { s.user = "" }},
		{name: "other user", want: "user", contains: []string{`user "1000:1000", want "65534:65534"`},
			mod: func(s *spec, e *Expect, _ []byte) { s.user = "1000:1000" }},
		{name: "wrong entrypoint", want: "entrypoint", contains: []string{`["/app"]`, `ENTRYPOINT ["/usr/local/bin/hello"]`},
			mod: func(s *spec, e *Expect, _ []byte) { s.entrypoint = []string{"/app"} }},
		{name: "missing binary", want: "entrypoint", contains: []string{"/usr/local/bin/hello is not a file in the image"},
			mod: func(s *spec, e *Expect, _ []byte) { s.layers[0] = without(s.layers[0], "usr/local/bin/hello") }},
		{name: "binary not executable", want: "entrypoint", contains: []string{"not executable (mode 0644)"},
			mod: func(s *spec, e *Expect, b []byte) {
				s.layers[0] = append(without(s.layers[0], "usr/local/bin/hello"), file{Name: "usr/local/bin/hello", Type: tar.TypeReg, Mode: 0o644, Body: b})
			}},
		{name: "dynamic binary", platform: platform.Host(), binary: dynamicBin, cgo: true, want: "static-binary",
			contains: []string{"static-binary: example.com/hello:1.2.3: /usr/local/bin/hello is dynamically linked", "CGO_ENABLED=0", "cgo"}},
		{name: "binary carries the stamped version", mod: func(s *spec, e *Expect, _ []byte) { e.Stamped = "hello" }},
		{name: "binary without the stamped version", want: "version",
			contains: []string{"version: example.com/hello:1.2.3: /usr/local/bin/hello does not carry version 7.3.1-none: -X had no effect; set Image.VersionVar"},
			mod:      func(s *spec, e *Expect, _ []byte) { e.Stamped = "7.3.1-none" }},
		{name: "arm64 binary in an amd64 image", binary: arm64Bin, want: "static-binary",
			contains: []string{"/usr/local/bin/hello is built for arm64, want amd64; build it with GOOS=linux GOARCH=amd64"}},
		{name: "config for another platform", want: "platform", contains: []string{`config says "linux/arm64", want linux/amd64`, "--platform linux/amd64"},
			mod: func(s *spec, e *Expect, _ []byte) { s.arch = "arm64" }},
		{name: "missing CA bundle", want: "ca-bundle", contains: []string{"ca-certificates.crt is missing", "COPY /etc/ssl/certs/ca-certificates.crt"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers[0] = without(s.layers[0], "etc/ssl/certs/ca-certificates.crt")
			}},
		{name: "empty CA bundle", want: "ca-bundle", contains: []string{"ca-certificates.crt is empty"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers[0] = append(without(s.layers[0], "etc/ssl/certs/ca-certificates.crt"), reg("etc/ssl/certs/ca-certificates.crt", ""))
			}},
		{name: "CA bundle deleted by a later layer", want: "ca-bundle", contains: []string{"ca-certificates.crt is missing"},
			mod: func(s *spec, e *Expect, _ []byte) {
				s.layers = append(s.layers, []file{reg("etc/ssl/certs/.wh.ca-certificates.crt", "")})
			}},
		{name: "missing zoneinfo", want: "zoneinfo", contains: []string{"zoneinfo.zip", "ZONEINFO"},
			mod: func(s *spec, e *Expect, _ []byte) { s.layers[0] = without(s.layers[0], "usr/share/zoneinfo.zip") }},
		{name: "missing label", want: "labels", contains: []string{"label org.opencontainers.image.revision is missing", "REVISION"},
			mod: func(s *spec, e *Expect, _ []byte) { delete(s.labels, LabelRevision) }},
		{name: "empty label", want: "labels", contains: []string{"label org.opencontainers.image.source is empty"},
			mod: func(s *spec, e *Expect, _ []byte) { s.labels[LabelSource] = "" }},
		{name: "wrong version label", want: "labels", contains: []string{`label org.opencontainers.image.version is "1.2.2", want "1.2.3"`},
			mod: func(s *spec, e *Expect, _ []byte) { s.labels[LabelVersion] = "1.2.2" }},
		{name: "version label missing, only Version asked for", want: "labels", contains: []string{`label org.opencontainers.image.version is missing, want "1.2.3"`},
			mod: func(s *spec, e *Expect, _ []byte) {
				delete(s.labels, LabelVersion)
				e.Labels = nil
			}},
		{name: "over budget", want: "size", contains: []string{"over the budget of 1024", "raise the size budget"},
			mod: func(s *spec, e *Expect, _ []byte) { e.MaxBytes = 1024 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cgo {
				testfix.NeedCgo(t)
			}
			p, build0 := tc.platform, tc.binary
			if p == (platform.Platform{}) {
				p = amd64
			}
			if build0 == nil {
				build0 = amd64Bin
			}
			b := build0(t)
			s, e := production(p, b), expect(p)
			if tc.mod != nil {
				tc.mod(&s, &e, b)
			}
			img, size := build(t, s)
			const ref = "example.com/hello:1.2.3"

			res, err := Production(ref, img, e)
			if err != nil {
				t.Fatalf("Production: %v", err)
			}
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if diff := cmp.Diff(want, checks(res.Findings)); diff != "" {
				t.Fatalf("checks that failed (-want +got):\n%s\nfindings: %v", diff, res.Err())
			}
			if res.Image != ref || res.Bytes != size {
				t.Errorf("Image, Bytes = %q, %d; want %q, %d", res.Image, res.Bytes, ref, size)
			}
			if tc.want != "entrypoint" && res.BinarySHA256 != sha(b) {
				t.Errorf("BinarySHA256 = %q, want %q", res.BinarySHA256, sha(b))
			}
			for _, f := range res.Findings {
				t.Log(f)
				if f.Problem == "" || f.Fix == "" {
					t.Errorf("finding %#v lacks a problem or a fix", f)
				}
				for _, c := range tc.contains {
					if !strings.Contains(f.Error(), c) {
						t.Errorf("finding %q does not contain %q", f, c)
					}
				}
			}
		})
	}
}

func TestProductionManyFindings(t *testing.T) {
	s := production(amd64, []byte("not a binary"))
	s.layers = append(s.layers, []file{dir("bin/"), exe("bin/busybox", []byte("bb")), symlink("bin/sh", "busybox"), dir("sbin/"), exe("sbin/apk", []byte("apk"))})
	s.user, s.entrypoint, s.labels, s.arch = "root", nil, nil, "s390x"
	s.layers[0] = without(without(s.layers[0], "usr/share/zoneinfo.zip"), "etc/ssl/certs/ca-certificates.crt")
	e := expect(amd64)
	e.MaxBytes = 1
	img, _ := build(t, s)
	res, err := Production("hello", img, e)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"shell", "package-manager", "user", "entrypoint", "static-binary", "platform", "ca-bundle", "zoneinfo", "labels", "size"}
	if diff := cmp.Diff(want, checks(res.Findings)); diff != "" {
		t.Errorf("checks that failed, in order (-want +got):\n%s", diff)
	}
	if got := strings.Count(res.Err().Error(), "\n") + 1; got != len(want) {
		t.Errorf("Err() has %d lines, want %d:\n%v", got, len(want), res.Err())
	}
	if !strings.Contains(res.Err().Error(), "/usr/local/bin/hello is not an ELF binary") {
		t.Errorf("Err() does not say the binary is not ELF:\n%v", res.Err())
	}
}

// debugSpec is a good debug image spec: the runtime files on a base with a shell (and apk).
func debugSpec(binary []byte) spec {
	s := production(amd64, binary)
	s.layers = append([][]file{{dir("bin/"), exe("bin/busybox", []byte("busybox")), symlink("bin/sh", "/bin/busybox"), dir("sbin/"), exe("sbin/apk", []byte("apk"))}}, s.layers...)
	return s
}

func TestDebug(t *testing.T) {
	b := amd64Bin(t)
	prod, _ := build(t, production(amd64, b))
	pres, err := Production("hello", prod, expect(amd64))
	if err != nil || pres.Err() != nil {
		t.Fatalf("Production of the good image: %v, %v", err, pres.Err())
	}
	other := append(slices.Clone(b), 0)
	for _, tc := range []struct {
		name     string
		mod      func(s *spec)
		want     string
		contains []string
	}{
		{name: "good debug image"},
		{name: "different binary", want: "identical-binary", contains: []string{sha(other), "build both variants from the same build stage"},
			mod: func(s *spec) {
				s.layers[1] = append(without(s.layers[1], "usr/local/bin/hello"), exe("usr/local/bin/hello", other))
			}},
		{name: "no shell", want: "shell", contains: []string{"no shell", "alpine"},
			mod: func(s *spec) { s.layers = s.layers[1:] }},
		{name: "root user", want: "user", mod: func(s *spec) { s.user = "0:0" }},
		{name: "wrong entrypoint", want: "entrypoint", mod: func(s *spec) { s.entrypoint = []string{"/bin/sh"} }},
		{name: "missing binary", want: "entrypoint", mod: func(s *spec) { s.layers[1] = without(s.layers[1], "usr/local/bin/hello") }},
		{name: "other platform", want: "platform", mod: func(s *spec) { s.arch = "arm64" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := debugSpec(b)
			if tc.mod != nil {
				tc.mod(&s)
			}
			img, size := build(t, s)
			res, err := Debug("hello:debug", img, expect(amd64), pres.BinarySHA256)
			if err != nil {
				t.Fatalf("Debug: %v", err)
			}
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if diff := cmp.Diff(want, checks(res.Findings)); diff != "" {
				t.Fatalf("checks that failed (-want +got):\n%s\nfindings: %v", diff, res.Err())
			}
			if res.Bytes != size {
				t.Errorf("Bytes = %d, want %d", res.Bytes, size)
			}
			for _, f := range res.Findings {
				t.Log(f)
				for _, c := range tc.contains {
					if !strings.Contains(f.Error(), c) {
						t.Errorf("finding %q does not contain %q", f, c)
					}
				}
			}
		})
	}
}

func TestFindingError(t *testing.T) {
	f := Finding{Check: "user", Image: "ghcr.io/acme/hello:1.2.3", Problem: `the image runs as root (user "0")`, Fix: "set Image.User to a non-root uid:gid"}
	want := `user: ghcr.io/acme/hello:1.2.3: the image runs as root (user "0"); set Image.User to a non-root uid:gid`
	if got := f.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestResultErr(t *testing.T) {
	if err := (Result{Image: "x"}).Err(); err != nil {
		t.Errorf("Err() with no finding = %v, want nil", err)
	}
	a := Finding{Check: "shell", Image: "x", Problem: "p1", Fix: "f1"}
	b := Finding{Check: "size", Image: "x", Problem: "p2", Fix: "f2"}
	err := Result{Image: "x", Findings: []Finding{a, b}}.Err()
	if want := "shell: x: p1; f1\nsize: x: p2; f2"; err == nil || err.Error() != want {
		t.Fatalf("Err() = %v, want %q", err, want)
	}
	var f Finding
	if !errors.As(err, &f) || f != a {
		t.Errorf("errors.As(Err(), &Finding) = %v, want %v", f, a)
	}
}

func TestInvalidExpect(t *testing.T) {
	img, _ := build(t, production(amd64, []byte("x")))
	for _, tc := range []struct {
		name string
		mod  func(e *Expect)
		want string
	}{
		{name: "no binary", mod: func(e *Expect) { e.Binary = "" }, want: "invalid binary name"},
		{name: "binary with a path", mod: func(e *Expect) { e.Binary = "bin/hello" }, want: "invalid binary name"},
		{name: "no platform", mod: func(e *Expect) { e.Platform = platform.Platform{} }, want: "no platform"},
		{name: "root user", mod: func(e *Expect) { e.User = "0:0" }, want: "is root"},
		{name: "negative budget", mod: func(e *Expect) { e.MaxBytes = -1 }, want: "negative size budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := expect(amd64)
			tc.mod(&e)
			if _, err := Production("hello", img, e); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Production: err = %v, want one containing %q", err, tc.want)
			}
			if _, err := Debug("hello", img, e, "abc"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Debug: err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Debug("hello", img, expect(amd64), ""); err == nil || !strings.Contains(err.Error(), "verify the production image first") {
		t.Errorf("Debug without the production SHA-256: err = %v", err)
	}
}
