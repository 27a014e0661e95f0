package bench

import (
	"bytes"
	"fmt"
	"go/format"
	"sort"
	"strings"
	"text/template"
)

// largeModule is the module path of the generated service.
const largeModule = "example.com/bench/large"

// lib is one third-party module the generated service uses, and how a package uses it.
type lib struct {
	Module  string // module path
	Version string // pinned, so every run generates the same go.mod
	Import  string // import path
	// Expr is a Go expression of type string that uses the package; it may use the
	// variable name (a string).
	Expr string
	// Std are the standard packages Expr needs besides fmt and strings.
	Std []string
}

// libs are small, common, pure-Go modules (checked to be on the module proxy and
// accepted by go mod tidy on Go 1.26). chi and pflag are used by main too.
var libs = []lib{
	{Module: "github.com/google/uuid", Version: "v1.6.0", Import: "github.com/google/uuid",
		Expr: `name + "-" + uuid.NewString()`},
	{Module: "github.com/oklog/ulid/v2", Version: "v2.1.2", Import: "github.com/oklog/ulid/v2",
		Expr: `name + "-" + ulid.Make().String()`},
	{Module: "github.com/segmentio/ksuid", Version: "v1.0.4", Import: "github.com/segmentio/ksuid",
		Expr: `name + "-" + ksuid.New().String()`},
	{Module: "github.com/dustin/go-humanize", Version: "v1.1.0", Import: "github.com/dustin/go-humanize",
		Expr: `humanize.Bytes(uint64(len(name)) * 1536)`},
	{Module: "github.com/hashicorp/golang-lru/v2", Version: "v2.0.7", Import: "github.com/hashicorp/golang-lru/v2",
		Expr: `func() string { c, err := lru.New[string, int](8); if err != nil { return err.Error() }; c.Add(name, len(name)); return fmt.Sprint(c.Len()) }()`},
	{Module: "github.com/cespare/xxhash/v2", Version: "v2.3.0", Import: "github.com/cespare/xxhash/v2",
		Expr: `fmt.Sprint(xxhash.Sum64String(name))`},
	{Module: "github.com/tidwall/gjson", Version: "v1.20.2", Import: "github.com/tidwall/gjson",
		Expr: `gjson.Get("{\"name\":\""+name+"\"}", "name").String()`},
	{Module: "github.com/pkg/errors", Version: "v0.9.1", Import: "github.com/pkg/errors",
		Expr: `errors.Wrap(fmt.Errorf("%s", name), "wrapped").Error()`},
	{Module: "github.com/BurntSushi/toml", Version: "v1.6.0", Import: "github.com/BurntSushi/toml",
		Expr: `func() string { var v struct{ Name string }; if _, err := toml.Decode("Name = \""+name+"\"", &v); err != nil { return err.Error() }; return v.Name }()`},
	{Module: "gopkg.in/yaml.v3", Version: "v3.0.1", Import: "gopkg.in/yaml.v3",
		Expr: `func() string { var v map[string]string; if err := yaml.Unmarshal([]byte("name: "+name), &v); err != nil { return err.Error() }; return v["name"] }()`},
	{Module: "github.com/rs/zerolog", Version: "v1.35.1", Import: "github.com/rs/zerolog",
		Expr: `func() string { var b strings.Builder; l := zerolog.New(&b); l.Info().Str("name", name).Msg("lib"); return b.String() }()`},
	{Module: "golang.org/x/sync", Version: "v0.22.0", Import: "golang.org/x/sync/errgroup",
		Expr: `func() string { var g errgroup.Group; g.Go(func() error { return nil }); if err := g.Wait(); err != nil { return err.Error() }; return name }()`},
	{Module: "github.com/spf13/pflag", Version: "v1.1.0", Import: "github.com/spf13/pflag",
		Expr: `func() string { fs := pflag.NewFlagSet(name, pflag.ContinueOnError); v := fs.String("name", name, "a name"); return *v }()`},
	{Module: "github.com/go-chi/chi/v5", Version: "v5.5.0", Import: "github.com/go-chi/chi/v5",
		Expr: `func() string { r := chi.NewRouter(); r.Get("/"+name, func(http.ResponseWriter, *http.Request) {}); return fmt.Sprint(len(r.Routes())) }()`,
		Std:  []string{"net/http"}},
}

// shape is how big the generated service is.
type shape struct {
	Layers   int // layers of packages; a package imports two of the layer below
	PerLayer int // packages per layer
	Funcs    int // generated functions per package
}

// largeShape: 40 packages of 30 functions (about 25,000 lines), 14 modules.
var largeShape = shape{Layers: 5, PerLayer: 8, Funcs: 30}

// generateLarge returns the files of the generated service, by path: a module
// with cmd/large (an HTTP server with the same /healthz line as examples/hello),
// internal/model, the layered packages internal/lN/pM, a magefile importing
// mageship's targets, and a go.mod whose require block go mod tidy completes;
// replace points mageship at root.
func generateLarge(root string, sh shape) (map[string]string, error) {
	files := map[string]string{}
	pkgName := func(layer, i int) string { return fmt.Sprintf("p%d%d", layer, i) }
	pkgPath := func(layer, i int) string { return fmt.Sprintf("internal/l%d/%s", layer, pkgName(layer, i)) }

	files["internal/model/model.go"] = modelSrc
	n := 0
	for layer := 0; layer < sh.Layers; layer++ {
		for i := 0; i < sh.PerLayer; i++ {
			d := pkgData{Name: pkgName(layer, i), Module: largeModule, Lib: libs[n%len(libs)]}
			n++
			if layer > 0 {
				for _, j := range []int{i, (i + 3) % sh.PerLayer} {
					d.Deps = append(d.Deps, dep{Path: largeModule + "/" + pkgPath(layer-1, j), Name: pkgName(layer-1, j)})
				}
			}
			for f := 0; f < sh.Funcs; f++ {
				d.Funcs = append(d.Funcs, fn{N: f, Mod: 2 + (f+layer+i)%7, Add: 1 + f*3 + i, Mul: 3 + (f*i)%11, Prefix: string(rune('a' + (f+i)%26))})
			}
			src, err := render(pkgTmpl, d)
			if err != nil {
				return nil, fmt.Errorf("generating %s: %w", pkgPath(layer, i), err)
			}
			files[pkgPath(layer, i)+"/"+d.Name+".go"] = src
		}
	}
	var top []dep
	for i := 0; i < sh.PerLayer; i++ {
		top = append(top, dep{Path: largeModule + "/" + pkgPath(sh.Layers-1, i), Name: pkgName(sh.Layers-1, i)})
	}
	main, err := render(mainTmpl, mainData{Module: largeModule, Top: top})
	if err != nil {
		return nil, fmt.Errorf("generating cmd/large: %w", err)
	}
	files["cmd/large/main.go"] = main
	files["magefiles/magefile.go"] = largeMagefile
	files[".gitignore"] = "/dist/\n"

	var mods []string
	seen := map[string]bool{}
	for _, l := range libs {
		if !seen[l.Module] {
			seen[l.Module] = true
			mods = append(mods, "\t"+l.Module+" "+l.Version)
		}
	}
	sort.Strings(mods)
	files["go.mod"] = "module " + largeModule + "\n\n" +
		"go 1.26.0\n\n" +
		"tool github.com/magefile/mage\n\n" +
		"require (\n" + strings.Join(mods, "\n") + "\n)\n\n" +
		"require (\n\tgithub.com/magefile/mage v1.17.2\n\tgithub.com/mageship/mageship v0.0.0\n)\n\n" +
		"replace github.com/mageship/mageship => " + root + "\n"
	return files, nil
}

type dep struct{ Path, Name string }

type fn struct {
	N, Mod, Add, Mul int
	Prefix           string
}

type pkgData struct {
	Name, Module string
	Lib          lib
	Deps         []dep
	Funcs        []fn
}

type mainData struct {
	Module string
	Top    []dep
}

func render(t *template.Template, data any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return "", fmt.Errorf("formatting generated code: %w\n%s", err, b.String())
	}
	return string(src), nil
}

func newTemplate(name, text string) *template.Template {
	return template.Must(template.New(name).Option("missingkey=error").Parse(text))
}

const modelSrc = `// Package model is generated for mageship's benchmark: the record every package folds.
package model

// Record is what the generated pipeline passes along.
type Record struct {
	ID    string
	Name  string
	Score int
	Tags  []string
}
`

var pkgTmpl = newTemplate("pkg", `// Package {{.Name}} is generated for mageship's benchmark: a stage of a record
// pipeline that calls the stages below it and uses one third-party module.
package {{.Name}}

import (
	"fmt"
	"strings"
{{- range .Lib.Std}}
	"{{.}}"
{{- end}}

	"{{.Lib.Import}}"

	"{{.Module}}/internal/model"
{{- range .Deps}}
	"{{.Path}}"
{{- end}}
)

// Lib returns a string made with this package's third-party module.
func Lib(name string) string {
	return {{.Lib.Expr}}
}

// Pipeline runs the stages below this one, then every step of this one.
func Pipeline(rs []model.Record) []model.Record {
{{- range .Deps}}
	rs = {{.Name}}.Pipeline(rs)
{{- end}}
{{- range .Funcs}}
	rs = Step{{.N}}(rs)
{{- end}}
	return rs
}

// Describe names this stage and those below it.
func Describe() string {
	parts := []string{"{{.Name}}", Lib("{{.Name}}")}
{{- range .Deps}}
	parts = append(parts, {{.Name}}.Describe())
{{- end}}
	return strings.Join(parts, ",")
}
{{range .Funcs}}
// Step{{.N}} is generated step {{.N}}.
func Step{{.N}}(rs []model.Record) []model.Record {
	out := make([]model.Record, 0, len(rs))
	for i, r := range rs {
		switch {
		case r.Score%{{.Mod}} == 0:
			r.Score += {{.Add}}
			r.Tags = append(r.Tags, fmt.Sprintf("{{$.Name}}-s{{.N}}-%d", i))
		case strings.HasPrefix(r.Name, "{{.Prefix}}"):
			r.Name = strings.ToUpper(r.Name) + "{{.Prefix}}"
		case len(r.Tags) > {{.Mod}}:
			r.Tags = r.Tags[1:]
		default:
			r.Score = (r.Score*{{.Mul}} + {{.Add}}) % 1000
		}
		out = append(out, r)
	}
	return out
}
{{end}}`)

var mainTmpl = newTemplate("main", `// Command large is the service mageship's benchmark generates: an HTTP server whose
// handler runs a pipeline across many packages and third-party modules.
package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/spf13/pflag"

	"{{.Module}}/internal/model"
{{- range .Top}}
	"{{.Path}}"
{{- end}}
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	addr := pflag.String("addr", ":8080", "listen address")
	pflag.Parse()
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "ok %s\n", version)
	})
	r.Get("/", func(w http.ResponseWriter, req *http.Request) {
		rs := []model.Record{ {ID: "1", Name: req.URL.Query().Get("name"), Score: 7} }
{{- range .Top}}
		rs = {{.Name}}.Pipeline(rs)
		fmt.Fprintln(w, {{.Name}}.Describe())
{{- end}}
		fmt.Fprintf(w, "%d records, version %s\n", len(rs), version)
	})
	srv := &http.Server{Addr: *addr, Handler: r, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("large %s listening on %s", version, *addr)
	log.Fatal(srv.ListenAndServe())
}
`)

const largeMagefile = `//go:build mage

// The generated service's magefile: mageship's targets, and the port to probe.
package main

import (
	"github.com/mageship/mageship/pkg/config"

	//mage:import
	_ "github.com/mageship/mageship/pkg/targets"
	//mage:import image
	_ "github.com/mageship/mageship/pkg/targets/image"
)

func init() {
	config.Set(config.Config{
		Images: []config.Image{{Ports: []int{8080}}},
	})
}
`
