package imagefs

import (
	"archive/tar"
	"context"
	"fmt"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// platformImage is a one-layer image for os/arch whose /arch file names its arch.
func platformImage(t *testing.T, os, arch string) v1.Image {
	t.Helper()
	return testfix.WithConfig(t, image(t, layer(t, reg("arch", arch))), func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture = os, arch
	})
}

func TestFromRegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials of the machine
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	amd64 := platformImage(t, "linux", "amd64")
	arm64 := platformImage(t, "linux", "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	multi := host + "/imagefs/multi:1"
	single := host + "/imagefs/single:1"
	push(t, multi, func(r name.Reference) error { return remote.WriteIndex(r, idx) })
	push(t, single, func(r name.Reference) error { return remote.Write(r, amd64) })

	for _, tc := range []struct {
		name, ref, platform string
		want                v1.Image
		wantErr             string
	}{
		{name: "arm64 from the index", ref: multi, platform: "linux/arm64", want: arm64},
		{name: "amd64 from the index", ref: multi, platform: "linux/amd64", want: amd64},
		{name: "platform missing from the index", ref: multi, platform: "linux/s390x", wantErr: "reading image " + multi + " for linux/s390x from the registry"},
		{name: "single image of the platform", ref: single, platform: "linux/amd64", want: amd64},
		{name: "single image of another platform", ref: single, platform: "linux/arm64", wantErr: "it is a single image for linux/amd64, not an index with linux/arm64"},
		{name: "absent", ref: host + "/imagefs/none:1", platform: "linux/amd64", wantErr: "reading image " + host + "/imagefs/none:1 for linux/amd64 from the registry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := platform.Parse(tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			img, err := FromRegistry(context.Background(), tc.ref, p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("FromRegistry(%s, %s) error = %v, want one containing %q", tc.ref, p, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := img.Digest()
			if err != nil {
				t.Fatal(err)
			}
			want, err := tc.want.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("FromRegistry(%s, %s) digest = %s, want %s", tc.ref, p, got, want)
			}
			b, err := ReadFile(img, "/arch")
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != p.Arch {
				t.Errorf("/arch of the image = %q, want %q", b, p.Arch)
			}
		})
	}

	t.Run("zero platform", func(t *testing.T) {
		if _, err := FromRegistry(context.Background(), multi, platform.Platform{}); err == nil || !strings.Contains(err.Error(), "needs an os and an arch") {
			t.Errorf("FromRegistry with a zero platform: error = %v, want one saying it needs an os and an arch", err)
		}
	})
}

func push(t *testing.T, ref string, write func(name.Reference) error) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(r); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// TestFromDaemon builds a small image on the Docker engine of the rig (scripts/rig up)
// and reads its files back. It fails when the rig is down; -short skips it.
func TestFromDaemon(t *testing.T) {
	base := rigtest.Env(t)["MAGESHIP_DEBUG_IMAGE"]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	dockerfile := "FROM " + base + "\nCOPY hello.txt /hello.txt\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from imagefs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("mageship-imagefs-test:%d-%d", os.Getpid(), time.Now().UnixNano())
	// The classic builder stores the result in the engine whatever BUILDX_BUILDER says.
	docker(ctx, t, []string{"DOCKER_BUILDKIT=0"}, "build", "-q", "-t", tag, dir)
	t.Cleanup(func() { docker(context.Background(), t, nil, "image", "rm", "-f", tag) })

	img, err := FromDaemon(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := List(img)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := entries["/bin/sh"]; !ok {
		t.Errorf("List of %s has no /bin/sh; it has %d entries", tag, len(entries))
	}
	if sh, ok := HasShell(entries); !ok || sh != "/bin/sh" {
		t.Errorf("HasShell = %q, %v; want /bin/sh, true", sh, ok)
	}
	// The rig's alpine is a busybox stand-in, not Alpine: its package managers are
	// whatever busybox applets it links (dpkg), so they are not asserted here.
	if e := entries["/bin/busybox"]; e.Type != tar.TypeReg || e.SHA256 == "" {
		t.Errorf("/bin/busybox = %+v, want a regular file with its SHA-256", e)
	}
	b, err := ReadFile(img, "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "hello from imagefs\n" {
		t.Errorf("/hello.txt = %q", b)
	}

	if _, err := FromDaemon(ctx, "mageship-imagefs-test:does-not-exist"); err == nil || !strings.Contains(err.Error(), "from the Docker engine") {
		t.Errorf("FromDaemon of an absent image: error = %v, want one saying it read from the Docker engine", err)
	}
}

func docker(ctx context.Context, t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
