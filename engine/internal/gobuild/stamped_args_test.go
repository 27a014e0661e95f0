package gobuild

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStampArgs: a release-build file's ldflags replace "-s -w" (none at all when it
// states none), its flags follow mageship's, and the -X of VersionVar is added only
// when no ldflags set that variable already.
func TestStampArgs(t *testing.T) {
	base := func(s Stamp, v string) Build {
		return Build{Main: "./cmd/a", Output: "out", Platform: amd64, VersionVar: v, Version: "1.2.3", Stamp: s}
	}
	for _, tc := range []struct {
		name  string
		build Build
		want  []string
	}{
		{"file ldflags set the version", base(Stamp{File: true, Ldflags: "-s -X 'main.version=1.2.3'", Flags: []string{"-trimpath", "-a"}}, "main.version"),
			[]string{"build", "-trimpath", "-buildvcs=false", "-a", "-ldflags", "-s -X 'main.version=1.2.3'", "-o", "out", "./cmd/a"}},
		{"file ldflags, the magefile's VersionVar added", base(Stamp{File: true, Ldflags: "-w"}, "main.other"),
			[]string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-w -X main.other=1.2.3", "-o", "out", "./cmd/a"}},
		{"ko with no ldflags", base(Stamp{File: true, Flags: []string{"-trimpath"}}, ""),
			[]string{"build", "-trimpath", "-buildvcs=false", "-o", "out", "./cmd/a"}},
		{"Image.Ldflags after mageship's", base(Stamp{Ldflags: "-X main.commit=abc -X main.version=1.2.3"}, "main.version"),
			[]string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.commit=abc -X main.version=1.2.3", "-o", "out", "./cmd/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.build.Args()); diff != "" {
				t.Errorf("Args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStampEnv(t *testing.T) {
	b := Build{Platform: arm64, Stamp: Stamp{Env: []string{"GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=darwin", "GOEXPERIMENT=jsonv2"}}}
	got := b.Env([]string{"PATH=/bin", "GOTOOLCHAIN=auto", "GOARCH=386"})
	want := []string{"PATH=/bin", "GOTOOLCHAIN=local", "GOEXPERIMENT=jsonv2", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
}
