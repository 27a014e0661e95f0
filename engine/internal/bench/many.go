package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// manyModule is the module path of the generated many-images repository.
const manyModule = "example.com/bench/many"

// manyImages is how many images the many-images scenario releases.
const manyImages = 10

// manyNames are the binaries (and images) of the many-images repository: svc01,
// svc02, ...
func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("svc%02d", i+1)
	}
	return out
}

// manyMark is the many-images scenario's change before its n-th timing of kind
// ("all" or "one"): "m<n><a|o>-<run>", where run is the bench run's own word, so that
// no earlier bench run has pushed the same binaries.
func manyMark(n int, kind, run string) string {
	return "m" + strconv.Itoa(n) + kind[:1] + "-" + run
}

// manyVersionTag is the tag of the many-images scenario's n-th change.
func manyVersionTag(n int) string { return "v0.3." + strconv.Itoa(n) }

// generateMany returns the files of the many-images repository, by path: one module
// with n small main packages cmd/svcNN, each an HTTP server of its own image, all
// linking internal/shared (which holds the /healthz line, so that one changed line
// there changes every binary), a magefile listing the n images, and a go.mod whose
// go.sum go mod tidy completes; replace points mageship at root.
func generateMany(root string, n int) (map[string]string, error) {
	files := map[string]string{
		"internal/shared/shared.go": manySharedSrc,
		".gitignore":                "/dist/\n",
		"go.mod": "module " + manyModule + "\n\n" +
			"go 1.26.0\n\n" +
			"tool github.com/magefile/mage\n\n" +
			"require (\n\tgithub.com/magefile/mage v1.17.2\n\tgithub.com/mageship/mageship v0.0.0\n)\n\n" +
			"replace github.com/mageship/mageship => " + root + "\n",
	}
	names := manyNames(n)
	for _, name := range names {
		src, err := render(manyMainTmpl, struct{ Module, Name string }{manyModule, name})
		if err != nil {
			return nil, fmt.Errorf("generating cmd/%s: %w", name, err)
		}
		files["cmd/"+name+"/main.go"] = src
	}
	mf, err := render(manyMagefileTmpl, names)
	if err != nil {
		return nil, fmt.Errorf("generating the magefile: %w", err)
	}
	files["magefiles/magefile.go"] = mf
	return files, nil
}

const manySharedSrc = `// Package shared is generated for mageship's benchmark: the server every service of
// the many-images repository runs, so that one line changed here changes them all.
package shared

import (
	"fmt"
	"log"
	"net/http"
	"time"
)

// Serve answers GET /healthz with "ok <version>" and GET / with the service's name.
func Serve(name, version, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", version)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", name, version)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("%s %s listening on %s", name, version, addr)
	return srv.ListenAndServe()
}
`

var manyMainTmpl = newTemplate("manymain", `// Command {{.Name}} is one service of the many-images repository mageship's
// benchmark generates.
package main

import (
	"log"

	"{{.Module}}/internal/shared"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	log.Fatal(shared.Serve("{{.Name}}", version, ":8080"))
}
`)

var manyMagefileTmpl = newTemplate("manymagefile", `//go:build mage

// The many-images repository's magefile: mageship's targets, one image per service.
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
		Images: []config.Image{
{{- range .}}
			{Main: "./cmd/{{.}}", Ports: []int{8080}},
{{- end}}
		},
	})
}
`)

// prepareMany writes the many-images repository into dir, completes its go.sum with
// go mod tidy, and makes it a git repository at v0.1.0.
func prepareMany(ctx context.Context, r *runner, root, dir string, base []string) (service, error) {
	names := manyNames(manyImages)
	s := service{Name: "many", Main: "./cmd/" + names[0], Binary: names[0], File: "internal/shared/shared.go", Src: dir}
	files, err := generateMany(root, manyImages)
	if err != nil {
		return s, err
	}
	if err := testfix.WriteFiles(dir, files); err != nil {
		return s, err
	}
	s.Info.Source = fmt.Sprintf("generated: %d main packages cmd/svcNN, each its own image, over one shared package; standard library only", manyImages)
	if _, err := r.run(ctx, Cmd{Dir: dir, Name: "go", Args: []string{"mod", "tidy"}, Env: base}, "many-tidy"); err != nil {
		return s, fmt.Errorf("completing the many-images repository's go.mod: %w", err)
	}
	return s, gitInit(ctx, r, dir, base, "many")
}

// ManyResult is the many-images scenario: one `mage release` of every image of the
// generated repository against one release per image (MAGESHIP_ONLY=<name>), one
// after another, each after a one-line change that every binary links.
type ManyResult struct {
	Images int `json:"images"`
	// Jobs is MAGESHIP_JOBS's default on this machine, the builds the one release ran
	// at once (MAGESHIP_JOBS is cleared for every release).
	Jobs int    `json:"jobs"`
	What string `json:"what"`

	AllMedianS *float64 `json:"all_median_s"` // one release of every image
	AllMinS    *float64 `json:"all_min_s"`
	// OneByOne is the sum of the single-image releases of one repetition.
	OneByOneMedianS *float64 `json:"one_by_one_median_s"`
	OneByOneMinS    *float64 `json:"one_by_one_min_s"`
	Ratio           *float64 `json:"all_over_one_by_one"` // of the medians

	AllS      []float64   `json:"all_s"`
	OneByOneS []float64   `json:"one_by_one_s"`
	SingleS   [][]float64 `json:"single_s"` // per repetition, each image's release in image order
	// LoadAverage is /proc/loadavg's 1, 5 and 15 minute figures when each timing
	// began and ended, "<timing> <start> -> <end>".
	LoadAverage []string    `json:"load_average"`
	Info        serviceInfo `json:"service_info"`

	// Ko is one ko build of the same mains, one variant, no SBOM, after the same
	// change: what the one release of all images is compared with. Empty when ko is
	// not measured.
	KoWhat    string    `json:"ko_what,omitempty"`
	KoS       []float64 `json:"ko_s,omitempty"`
	KoMedianS *float64  `json:"ko_median_s,omitempty"`
	KoMinS    *float64  `json:"ko_min_s,omitempty"`
	KoRatio   *float64  `json:"all_over_ko,omitempty"` // of the medians
}

// summarize fills the medians, minimums and the ratio from the samples.
func (m *ManyResult) summarize() {
	m.AllMedianS, m.AllMinS = median(m.AllS), minimum(m.AllS)
	m.OneByOneMedianS, m.OneByOneMinS = median(m.OneByOneS), minimum(m.OneByOneS)
	m.Ratio = nil
	if m.AllMedianS != nil && m.OneByOneMedianS != nil && *m.OneByOneMedianS > 0 {
		m.Ratio = ptrTo(seconds(*m.AllMedianS / *m.OneByOneMedianS))
	}
	m.KoMedianS, m.KoMinS, m.KoRatio = median(m.KoS), minimum(m.KoS), nil
	if m.AllMedianS != nil && m.KoMedianS != nil && *m.KoMedianS > 0 {
		m.KoRatio = ptrTo(seconds(*m.AllMedianS / *m.KoMedianS))
	}
}

// addRun records one repetition: the release of every image took all, the single
// releases took singles.
func (m *ManyResult) addRun(all float64, singles []float64) {
	m.AllS = append(m.AllS, seconds(all))
	sum := 0.0
	rounded := make([]float64, len(singles))
	for i, s := range singles {
		sum += s
		rounded[i] = seconds(s)
	}
	m.OneByOneS = append(m.OneByOneS, seconds(sum))
	m.SingleS = append(m.SingleS, rounded)
}

// parseLoadAvg reads the 1, 5 and 15 minute load averages of a /proc/loadavg line.
func parseLoadAvg(s string) (string, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return "", fmt.Errorf("not a /proc/loadavg line: %q", s)
	}
	for _, v := range f[:3] {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "", fmt.Errorf("not a /proc/loadavg line: %q", s)
		}
	}
	return strings.Join(f[:3], " "), nil
}

// loadAvg is the machine's load average now, or "unknown".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	l, err := parseLoadAvg(string(b))
	if err != nil {
		return "unknown"
	}
	return l
}

// benchMany runs the many-images scenario in dir: it generates the repository,
// compiles its magefile once, primes the caches with one release of every image
// (untimed), then per repetition changes the shared line and times one release of
// every image, changes it again and times the single-image releases one after
// another. Every release gets the same Go caches (kept across the scenario), the
// counting proxy, and the rig's builder; MAGESHIP_JOBS is left to its default.
//
// With ko (its binary; "" for none), a copy of the repository with a .ko.yaml gets the
// same changes, and after each one ko builds all the mains in one ko build, timed.
func benchMany(ctx context.Context, r *runner, c Config, dir string, p *proxy, ko, word string) (*ManyResult, error) {
	fmt.Fprintf(c.Stdout, "bench: preparing the %d-image repository\n", manyImages)
	svc, err := prepareMany(ctx, r, c.Root, filepath.Join(dir, "src"), c.Env)
	if err != nil {
		return nil, err
	}
	if err := fillModuleCache(ctx, r, &svc, c.Env); err != nil {
		return nil, err
	}
	md := filepath.Join(dir, "mageship")
	if err := copyTree(svc.Src, md, true); err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "mage-many")
	if _, err := r.run(ctx, mageCompileCmd(md, bin, c.Env), "many-mage-compile"); err != nil {
		return nil, fmt.Errorf("compiling the magefile of the many-images repository: %w", err)
	}
	caches := filepath.Join(dir, "caches")
	env := goEnv(c.Env, goSettings{Proxy: p.URL, Cache: filepath.Join(caches, "gocache"), ModCache: filepath.Join(caches, "gomodcache")})
	image := imageRepo(c.Registry, "mageship", "many")
	all := mageRelease{Bin: bin, Dir: md, Image: image, Platforms: c.Platforms}
	names := manyNames(manyImages)
	res := &ManyResult{
		Images: manyImages,
		Jobs:   max(runtime.NumCPU(), 2),
		What: fmt.Sprintf("mage release (compiled magefile, default path, MAGESHIP_JOBS unset) of %d images, production and debug for %s, pushed by digest to %s/<name>, verified, tagged; "+
			"against %d releases of one image each (MAGESHIP_ONLY=<name>) one after another; each timing after a one-line change in the package every binary links, warm Go caches and builder",
			manyImages, platform.Strings(c.Platforms), image, manyImages),
		Info: svc.Info,
	}
	fmt.Fprintf(c.Stdout, "bench: many: priming (one release of all %d images, untimed)\n", manyImages)
	if _, err := r.run(ctx, all.Cmd(env), "many-prime"); err != nil {
		return nil, fmt.Errorf("priming release: %w", err)
	}
	var koAll koBuild
	kd := filepath.Join(dir, "ko")
	// ko's own build cache (the module cache is shared): it compiles what it builds,
	// and does not link packages mageship's release compiled.
	koEnv := goEnv(c.Env, goSettings{Proxy: p.URL, Cache: filepath.Join(caches, "ko-gocache"), ModCache: filepath.Join(caches, "gomodcache")})
	if ko != "" {
		if err := copyTree(svc.Src, kd, true); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(kd, ".ko.yaml"), []byte(koManyConfig(names)), 0o644); err != nil {
			return nil, err
		}
		if err := gitCommit(ctx, r, kd, c.Env, "bench: .ko.yaml", "", "many-ko-commit"); err != nil {
			return nil, err
		}
		koAll = koBuild{Ko: ko, Dir: kd, Main: "./cmd/" + names[0], Repo: imageRepo(c.Registry, "ko", "many"), Base: c.KoBaseImage, Platforms: c.Platforms, Tag: "latest"}
		for _, n := range names[1:] {
			koAll.More = append(koAll.More, "./cmd/"+n)
		}
		res.KoWhat = fmt.Sprintf("ko build %s --base-import-paths --sbom=none of the %d mains in one invocation, for %s on %s, pushed to %s/<name>", c.KoVersion, manyImages, platform.Strings(c.Platforms), c.KoBaseImage, koAll.Repo)
		if _, err := r.run(ctx, koAll.Cmd(koEnv), "many-ko-prime"); err != nil {
			return nil, fmt.Errorf("priming ko build: %w", err)
		}
	}
	for i := 1; i <= c.Runs; i++ {
		log := fmt.Sprintf("many-%d", i)
		if err := svc.change(ctx, r, md, manyMark(i, "all", word), manyVersionTag(2*i-1), c.Env, log+"-change-all"); err != nil {
			return nil, err
		}
		load := loadAvg()
		d, err := timed(func() error { _, err := r.run(ctx, all.Cmd(env), log+"-all"); return err })
		if err != nil {
			return nil, fmt.Errorf("release of all %d images: %w", manyImages, err)
		}
		res.LoadAverage = append(res.LoadAverage, fmt.Sprintf("all, run %d: %s -> %s", i, load, loadAvg()))
		if ko != "" {
			if err := svc.change(ctx, r, kd, manyMark(i, "all", word), manyVersionTag(2*i-1), c.Env, log+"-ko-change"); err != nil {
				return nil, err
			}
			load := loadAvg()
			k, err := timed(func() error { _, err := r.run(ctx, koAll.Cmd(koEnv), log+"-ko"); return err })
			if err != nil {
				return nil, fmt.Errorf("ko build of all %d mains: %w", manyImages, err)
			}
			res.KoS = append(res.KoS, seconds(k.Seconds()))
			res.LoadAverage = append(res.LoadAverage, fmt.Sprintf("ko, run %d: %s -> %s", i, load, loadAvg()))
		}

		if err := svc.change(ctx, r, md, manyMark(i, "one", word), manyVersionTag(2*i), c.Env, log+"-change-one"); err != nil {
			return nil, err
		}
		load = loadAvg()
		singles := make([]float64, len(names))
		for k, name := range names {
			one := all
			one.Only = name
			s, err := timed(func() error { _, err := r.run(ctx, one.Cmd(env), log+"-"+name); return err })
			if err != nil {
				return nil, fmt.Errorf("release of %s alone: %w", name, err)
			}
			singles[k] = s.Seconds()
		}
		res.LoadAverage = append(res.LoadAverage, fmt.Sprintf("one by one, run %d: %s -> %s", i, load, loadAvg()))
		res.addRun(d.Seconds(), singles)
		fmt.Fprintf(c.Stdout, "bench: many run %d/%d: one release of %d images %6.1f s; %d single releases one after another %6.1f s (sum); load average %s\n",
			i, c.Runs, manyImages, res.AllS[len(res.AllS)-1], manyImages, res.OneByOneS[len(res.OneByOneS)-1], loadAvg())
	}
	res.summarize()
	return res, nil
}

// markdown is the many-images scenario's section of results.md.
func (m *ManyResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Many-images scenario\n\n%s.\n\n", m.What)
	b.WriteString("| images | builds at once (MAGESHIP_JOBS default) | one release of all s | single releases one after another, sum s | all ÷ one by one |\n")
	b.WriteString("|---:|---:|---:|---:|---:|\n")
	r := "–"
	if m.Ratio != nil {
		r = fmt.Sprintf("%.2f×", *m.Ratio)
	}
	fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", m.Images, m.Jobs, secs(m.AllMedianS, m.AllMinS), secs(m.OneByOneMedianS, m.OneByOneMinS), r)
	if m.KoWhat != "" {
		k := "–"
		if m.KoRatio != nil {
			k = fmt.Sprintf("%.2f×", *m.KoRatio)
		}
		fmt.Fprintf(&b, "\nAgainst %s: ko %s s; mageship's one release of all ÷ ko: %s.\n", m.KoWhat, secs(m.KoMedianS, m.KoMinS), k)
	}
	if len(m.LoadAverage) > 0 {
		fmt.Fprintf(&b, "\nLoad average (1, 5, 15 min) when each timing began and ended: %s.\n", strings.Join(m.LoadAverage, "; "))
	}
	return b.String()
}
