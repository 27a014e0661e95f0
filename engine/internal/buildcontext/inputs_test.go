package buildcontext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/patternmatcher/ignorefile"
)

func TestExcluded(t *testing.T) {
	files := []string{"go.mod", "go.sum", "main.go", "internal/store/store.go", "static/app.js", "static/app.js.map", "docs/keep.md", "docs/drop.md"}
	for _, tc := range []struct {
		name   string
		ignore []string
		want   []string
	}{
		{name: "none"},
		{name: "go.sum", ignore: []string{"go.sum"}, want: []string{"go.sum"}},
		{name: "a directory", ignore: []string{"internal/"}, want: []string{"internal/store/store.go"}},
		{name: "a glob at any depth", ignore: []string{"**/*.map"}, want: []string{"static/app.js.map"}},
		{name: "exclude all, then re-include", ignore: []string{"*", "!go.mod", "!go.sum", "!*.go", "!internal", "!static"},
			want: []string{"docs/keep.md", "docs/drop.md"}},
		{name: "an exception below an excluded directory", ignore: []string{"docs", "!docs/keep.md"}, want: []string{"docs/drop.md"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Excluded(tc.ignore, files)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Excluded (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckInputs: a .dockerignore that leaves out go.sum or a needed package fails in
// one line naming the file, the pattern and the fix.
func TestCheckInputs(t *testing.T) {
	files := []string{"go.mod", "go.sum", "cmd/api/main.go", "internal/greet/greet.go", "internal/greet/names.go"}
	for _, tc := range []struct {
		name   string
		ignore []string
		want   string
	}{
		{name: "nothing needed left out", ignore: []string{".git", "dist/", "**/*.test"}},
		{name: "go.sum", ignore: []string{".git", "go.sum"},
			want: `.dockerignore excludes go.sum (pattern "go.sum"), which go build ./cmd/api reads inside BuildKit: remove that pattern, or build on this machine (MAGESHIP_BUILD=host, the default)`},
		{name: "a package directory", ignore: []string{"internal/"},
			want: `.dockerignore excludes internal/greet/greet.go (pattern "internal/") and 1 more file, which go build ./cmd/api reads inside BuildKit: remove that pattern, or build on this machine (MAGESHIP_BUILD=host, the default)`},
		{name: "Go files by extension", ignore: []string{"*", "!go.*", "!cmd"},
			want: `.dockerignore excludes internal/greet/greet.go (pattern "*") and 1 more file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckInputs(tc.ignore, "/src/svc/.dockerignore", "./cmd/api", files)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("CheckInputs = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("CheckInputs = %v\nwant %s", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("CheckInputs error is not one line: %q", err)
			}
		})
	}
}

// TestCheckEmbeds: an embed that loses everything fails, one that loses some warns.
func TestCheckEmbeds(t *testing.T) {
	embeds := []Embed{
		{Pattern: "static", Pos: "server/assets.go:9", Files: []string{"server/static/app.js", "server/static/app.js.map", "server/static/style.css"}},
		{Pattern: "templates", Pos: "server/assets.go:12", Files: []string{"server/templates/index.html"}},
	}
	for _, tc := range []struct {
		name     string
		ignore   []string
		warnings []string
		err      string
	}{
		{name: "nothing left out"},
		{name: "some files", ignore: []string{"**/*.map"},
			warnings: []string{`.dockerignore excludes 1 of the 3 files //go:embed static matches (server/assets.go:9), e.g. server/static/app.js.map (pattern "**/*.map"): the binary built inside BuildKit embeds the rest only; remove that pattern if it needs them`}},
		{name: "everything", ignore: []string{"**/templates"},
			err: `.dockerignore excludes everything //go:embed templates matches (server/assets.go:12), so go build ./server fails inside BuildKit: remove pattern "**/templates", or build on this machine (MAGESHIP_BUILD=host, the default)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := CheckEmbeds(tc.ignore, "/src/svc/.dockerignore", "./server", embeds)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("CheckEmbeds error = %v\nwant %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.warnings, w); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDefaultIgnoreKeepsAssets: mageship's default .dockerignore leaves the usual
// embedded asset folders and every Go input in the context.
func TestDefaultIgnoreKeepsAssets(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"go.mod", "go.sum", "main.go", "vendor/modules.txt", "static/app.js", "static/css/site.css", "templates/index.html",
		"web/static/img/logo.svg", "assets/fonts/a.woff2", "public/index.html", "migrations/001.sql", "internal/ui/templates/base.tmpl"}
	got, err := Excluded(patterns, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 {
		t.Errorf("the default .dockerignore excludes %v", got)
	}
}
