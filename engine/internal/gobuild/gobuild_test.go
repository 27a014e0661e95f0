package gobuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mageship/mageship/engine/internal/platform"
)

var (
	amd64 = platform.Platform{OS: "linux", Arch: "amd64"}
	arm64 = platform.Platform{OS: "linux", Arch: "arm64"}
	armv7 = platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"}
)

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build Build
		want  []string
	}{
		{
			name:  "plain",
			build: Build{Main: ".", Output: "dist/linux_amd64/hello", Platform: amd64},
			want:  []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", "dist/linux_amd64/hello", "."},
		},
		{
			name:  "version",
			build: Build{Main: "./cmd/hello", Output: "out", Platform: amd64, VersionVar: "main.version", Version: "1.2.3"},
			want:  []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version=1.2.3", "-o", "out", "./cmd/hello"},
		},
		{
			name: "version in another package and extra ldflags",
			build: Build{Main: "./cmd/hello", Output: "out", Platform: amd64,
				VersionVar: "github.com/acme/x/internal/version.Version", Version: "v1.2.3-rc.1+abc",
				LDFlags: []string{"-X main.commit=abc123", "-extldflags=-static"}},
			want: []string{"build", "-trimpath", "-buildvcs=false", "-ldflags",
				"-s -w -X github.com/acme/x/internal/version.Version=v1.2.3-rc.1+abc -X main.commit=abc123 -extldflags=-static",
				"-o", "out", "./cmd/hello"},
		},
		{
			name:  "tags",
			build: Build{Main: ".", Output: "out", Platform: amd64, Tags: []string{"netgo", "osusergo"}},
			want:  []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-tags", "netgo,osusergo", "-o", "out", "."},
		},
		{
			name:  "vendor",
			build: Build{Main: ".", Output: "out", Platform: armv7, Mod: "vendor", VersionVar: "main.version", Version: "v9", Tags: []string{"a"}},
			want:  []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version=v9", "-tags", "a", "-mod=vendor", "-o", "out", "."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.build.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if diff := cmp.Diff(tc.want, tc.build.Args()); diff != "" {
				t.Errorf("Args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	base := []string{
		"PATH=/usr/bin", "CGO_ENABLED=1", "GOOS=darwin", "GOFLAGS=-mod=mod", "GOARCH=386",
		"GOPROXY=https://proxy.example", "GOARM=5", "GOPRIVATE=github.com/acme/*", "GOAMD64=v3", "CGO_ENABLED_X=keep",
	}
	keep := []string{"PATH=/usr/bin", "GOFLAGS=-mod=mod", "GOPROXY=https://proxy.example", "GOPRIVATE=github.com/acme/*", "GOAMD64=v3", "CGO_ENABLED_X=keep"}
	for _, tc := range []struct {
		name     string
		platform platform.Platform
		want     []string
	}{
		{name: "linux/amd64", platform: amd64, want: append(keep[:len(keep):len(keep)], "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")},
		{name: "linux/arm64", platform: arm64, want: append(keep[:len(keep):len(keep)], "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")},
		{name: "linux/arm/v7", platform: armv7, want: append(keep[:len(keep):len(keep)], "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=7")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Build{Main: ".", Output: "out", Platform: tc.platform}
			if diff := cmp.Diff(tc.want, b.Env(base)); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}, (Build{Platform: amd64}).Env(nil)); diff != "" {
		t.Errorf("Env(nil) (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	ok := Build{Main: "./cmd/hello", Output: "out", Platform: amd64, VersionVar: "main.version", Version: "v1.2.3"}
	for _, tc := range []struct {
		name    string
		edit    func(*Build)
		wantErr string
	}{
		{name: "ok", edit: func(*Build) {}},
		{name: "empty version", edit: func(b *Build) { b.Version = "" }},
		{name: "no main", edit: func(b *Build) { b.Main = "" }, wantErr: "Main is empty"},
		{name: "flag as main", edit: func(b *Build) { b.Main = "-race" }, wantErr: "looks like a flag"},
		{name: "no output", edit: func(b *Build) { b.Output = "" }, wantErr: "Output is empty"},
		{name: "no platform", edit: func(b *Build) { b.Platform = platform.Platform{} }, wantErr: "no OS or architecture"},
		{name: "arm without variant", edit: func(b *Build) { b.Platform = platform.Platform{OS: "linux", Arch: "arm"} }, wantErr: "use linux/arm/v6 or linux/arm/v7"},
		{name: "version with space", edit: func(b *Build) { b.Version = "1.2.3 beta" }, wantErr: "contains whitespace"},
		{name: "version with quote", edit: func(b *Build) { b.Version = `1.2.3"` }, wantErr: "a quote"},
		{name: "version with single quote", edit: func(b *Build) { b.Version = `it's` }, wantErr: "a quote"},
		{name: "version var without package", edit: func(b *Build) { b.VersionVar = "version" }, wantErr: "write it as importpath.name"},
		{name: "version without var: none stamped", edit: func(b *Build) { b.VersionVar = "" }},
		{name: "version without var is not checked", edit: func(b *Build) { b.VersionVar, b.Version = "", "1 2" }},
		{name: "tag with comma", edit: func(b *Build) { b.Tags = []string{"a,b"} }, wantErr: "build tag"},
		{name: "empty tag", edit: func(b *Build) { b.Tags = []string{""} }, wantErr: "build tag"},
		{name: "bad mod", edit: func(b *Build) { b.Mod = "vendored" }, wantErr: "not a -mod value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ok
			tc.edit(&b)
			err := b.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestVendorMode(t *testing.T) {
	dir := t.TempDir()
	if got := VendorMode(dir); got != "" {
		t.Errorf("VendorMode without vendor/ = %q, want \"\"", got)
	}
	if err := os.Mkdir(filepath.Join(dir, "vendor"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := VendorMode(dir); got != "" {
		t.Errorf("VendorMode with an empty vendor/ = %q, want \"\"", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "vendor", "modules.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := VendorMode(dir); got != "vendor" {
		t.Errorf("VendorMode with vendor/modules.txt = %q, want \"vendor\"", got)
	}
}
