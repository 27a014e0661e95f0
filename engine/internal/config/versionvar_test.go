package config

import (
	"strings"
	"testing"

	"github.com/mageship/mageship/engine/internal/project"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// TestZeroConfig resolves repositories with no configuration, or with a VersionVar,
// as the layouts of issue #11 have them: the binary's name, the variable -X stamps,
// and the one-line warning when the repository leaves it to guess.
func TestZeroConfig(t *testing.T) {
	for _, tc := range []struct {
		name        string
		module      string
		files       map[string]string
		image       Image
		wantBinary  string
		wantVar     string
		wantWarning string // a substring; "" for no warning
	}{
		{name: "vN module, root main, pkg/version.VERSION", module: "github.com/acme/proxy/v7",
			files: map[string]string{
				"main.go":                "package main\nimport \"github.com/acme/proxy/v7/pkg/version\"\nfunc main(){ println(version.VERSION) }\n",
				"pkg/version/version.go": "package version\nvar VERSION = \"undefined\"\n",
			},
			wantBinary: "proxy", wantVar: "github.com/acme/proxy/v7/pkg/version.VERSION"},
		{name: "vN module, cmd main, main.Version", module: "github.com/acme/proxy/v7",
			files:      map[string]string{"cmd/proxyd/main.go": "package main\nvar Version string\nfunc main(){}\n"},
			wantBinary: "proxyd", wantVar: "main.Version"},
		{name: "server, internal/buildinfo", module: "example.com/svc",
			files: map[string]string{
				"server/main.go":           "package main\nimport _ \"example.com/svc/internal/buildinfo\"\nfunc main(){}\n",
				"internal/buildinfo/bi.go": "package buildinfo\nvar Version = \"dev\"\n",
			},
			wantBinary: "server", wantVar: "example.com/svc/internal/buildinfo.Version"},
		{name: "no version variable", module: "example.com/svc",
			files:      map[string]string{"main.go": "package main\nfunc main(){}\n"},
			wantBinary: "svc", wantVar: "",
			wantWarning: "image svc: no version variable in . (a package-level string version, Version or VERSION in the main package or in a package of the module named version or buildinfo), so the binary gets no version: set Image.VersionVar"},
		{name: "several version packages", module: "example.com/svc",
			files: map[string]string{
				"main.go":                  "package main\nimport (\n\t_ \"example.com/svc/internal/buildinfo\"\n\t_ \"example.com/svc/pkg/version\"\n)\nfunc main(){}\n",
				"internal/buildinfo/bi.go": "package buildinfo\nvar Version string\n",
				"pkg/version/v.go":         "package version\nvar Version string\n",
			},
			wantBinary: "svc", wantVar: "",
			wantWarning: "image svc: several version variables (example.com/svc/internal/buildinfo.Version, example.com/svc/pkg/version.Version) and none in the main package"},
		{name: "configured variable that does not exist", module: "example.com/svc",
			files:      map[string]string{"main.go": "package main\nvar version string\nfunc main(){}\n"},
			image:      Image{VersionVar: "main.Version"},
			wantBinary: "svc", wantVar: "",
			wantWarning: "image svc: Image.VersionVar main.Version does not exist: main has no package-level variable Version, so -X cannot stamp the version and the binary gets none: set Image.VersionVar to a package-level string variable the binary links, or to - for none"},
		{name: "configured variable in another module", module: "example.com/svc",
			files:      map[string]string{"main.go": "package main\nimport _ \"github.com/prometheus/common/version\"\nfunc main(){}\n"},
			image:      Image{VersionVar: "github.com/prometheus/common/version.Version"},
			wantBinary: "svc", wantVar: "github.com/prometheus/common/version.Version"},
		{name: "none wanted", module: "example.com/svc",
			files:      map[string]string{"main.go": "package main\nfunc main(){}\n"},
			image:      Image{VersionVar: "-", Binary: "api"},
			wantBinary: "api", wantVar: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.files["go.mod"] = "module " + tc.module + "\ngo 1.26\n"
			testfix.WriteTree(t, dir, tc.files)
			p, err := project.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Resolve(p, Config{Images: []Image{tc.image}}, env())
			if err != nil {
				t.Fatal(err)
			}
			img := r.Images[0]
			if img.Binary != tc.wantBinary || img.Name != tc.wantBinary || img.VersionVar != tc.wantVar {
				t.Errorf("binary %q, name %q, VersionVar %q; want %q, %q, %q", img.Binary, img.Name, img.VersionVar, tc.wantBinary, tc.wantBinary, tc.wantVar)
			}
			switch {
			case tc.wantWarning == "" && len(r.Warnings) > 0:
				t.Errorf("warnings %q, want none", r.Warnings)
			case tc.wantWarning != "" && (len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], tc.wantWarning)):
				t.Errorf("warnings %q, want one with %q", r.Warnings, tc.wantWarning)
			}
			for _, w := range r.Warnings {
				if strings.Contains(w, "\n") {
					t.Errorf("warning is not one line: %q", w)
				}
			}
		})
	}
}

// TestSeveralMainsError: main packages in different places and no configuration give
// one line that lists them.
func TestSeveralMainsError(t *testing.T) {
	dir := t.TempDir()
	testfix.WriteTree(t, dir, map[string]string{
		"go.mod":                "module example.com/svc\ngo 1.26\n",
		"server/main.go":        "package main\nfunc main(){}\n",
		"tools/migrate/main.go": "package main\nfunc main(){}\n",
	})
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(p, Config{}, env())
	want := "several main packages (./server, ./tools/migrate): list the images to ship in config.Set(config.Config{Images: ...}) in your magefile"
	if err == nil || err.Error() != want {
		t.Errorf("Resolve: %v, want %q", err, want)
	}
}
