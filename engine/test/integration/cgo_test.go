package integration

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// cgo two imports deep (issue #26), on the fixture testdata/layouts/cgo-deep:
// cmd/api imports internal/store, which imports example.com/csqlite, a driver that
// needs cgo (import "C") and, without cgo, keeps only a stub Open (as
// github.com/mattn/go-sqlite3 does), while the store uses its Error type. A plain
// CGO_ENABLED=0 go build fails on "undefined: csqlite.Error", which never says cgo.

// cgoRefusal is the line mageship refuses the build with, before anything compiles.
const cgoRefusal = `Error: image {image}: ./cmd/api cannot build for {platform} with CGO_ENABLED=0: package example.com/csqlite needs cgo (sqlite.go imports "C" and it has no pure-Go Error without cgo), ` +
	`pulled in by example.com/cgosvc/internal/store (example.com/cgosvc/cmd/api → example.com/cgosvc/internal/store → example.com/csqlite): ` +
	`mageship builds static binaries with CGO_ENABLED=0 so they run without libc; replace it with a pure-Go package, or set in Image.Tags the build tag that selects the service's pure-Go variant`

// TestCgoDeep: every target that compiles (image, image:debug, binaries, release,
// release:platform, on both build paths) refuses in one line naming the package,
// the import that pulls it in and the fix, before any compile step; CGO_ENABLED=1
// from the user is refused, not overridden; the build tag the driver offers for its
// pure-Go variant builds.
func TestCgoDeep(t *testing.T) {
	t.Parallel()
	l := newLayout(t, "cgo-deep", ".", nil, "MAGESHIP_IMAGE=i26-cgo", "MAGESHIP_PLATFORMS=linux/amd64,linux/arm64")
	l.listTargets(t)
	repo := fmt.Sprintf("%s/i26/cgo-%d", l.vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	for _, tc := range []struct {
		target string
		env    []string
	}{
		{"image", nil},
		{"binaries", nil},
		{"image:debug", nil},
		{"image", []string{"MAGESHIP_BUILD=container"}},
		{"release", []string{"MAGESHIP_IMAGE=" + repo}},
		{"release:platform linux/arm64", []string{"MAGESHIP_IMAGE=" + repo}},
	} {
		env := rigtest.Environ(l.vars, append(slices.Clone(l.env), tc.env...)...)
		out, err := rigtest.Try(l.dir, env, "go", append([]string{"tool", "mage"}, strings.Fields(tc.target)...)...)
		if err == nil {
			t.Errorf("mage %s %v succeeded, want the cgo refusal", tc.target, tc.env)
			continue
		}
		name := "i26-cgo"
		if strings.HasPrefix(tc.target, "release") {
			name = repo
		}
		plat := "linux/amd64"
		if strings.HasSuffix(tc.target, "linux/arm64") {
			plat = "linux/arm64"
		}
		want := strings.NewReplacer("{image}", name, "{platform}", plat).Replace(cgoRefusal)
		if line := errorLine(out); line != want || strings.Count(out, "Error: ") != 1 {
			t.Errorf("mage %s %v: %q\nwant %q\n%s", tc.target, tc.env, line, want, testfix.TailLines(out, 10))
		}
		// Before any compile step: no step started compiling, nothing reached BuildKit.
		before, _, _ := strings.Cut(out, "Error: ")
		if strings.Contains(before, "compile") || strings.Contains(before, "assemble") || strings.Contains(out, "undefined: csqlite.Error") {
			t.Errorf("mage %s %v compiled before refusing:\n%s", tc.target, tc.env, testfix.TailLines(out, 20))
		}
	}

	line := l.fail(t, []string{"CGO_ENABLED=1"}, "binaries")
	want := "Error: CGO_ENABLED=1 is set, but mageship builds static binaries (CGO_ENABLED=0) so its images run without libc: unset CGO_ENABLED, and replace what needs cgo with a pure-Go package"
	if line != want {
		t.Errorf("CGO_ENABLED=1: %q\nwant %q", line, want)
	}

	write(t, filepath.Join(l.dir, "magefiles", "config.go"), "//go:build mage\n\npackage main\n\nimport \"github.com/mageship/mageship/pkg/config\"\n\n"+
		"func init() {\n\tconfig.Set(config.Config{Images: []config.Image{{Tags: []string{\"purego\"}}}})\n}\n")
	l.commit(t)
	out, b := l.namedImage(t, nil, "i26-cgo:"+layoutVersion, "api", "")
	out += l.binaries(t, nil, "api", layoutVersion, b)
	if w := warnings(out); len(w) > 0 {
		t.Errorf("with the purego tag: warnings %q", w)
	}
	l.readers(t, nil)
}
