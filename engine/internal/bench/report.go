package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/bytesize"
)

// contenderNames are the contenders in the order they run and are shown. mageship
// is mageship's default build path; mageship_nocache (CI scenario only) the same
// without the magefile and engine caches restored; mageship_buildx is
// MAGESHIP_ASSEMBLE=buildx; mageship_container is MAGESHIP_BUILD=container.
var contenderNames = []string{"naive", "mageship", "mageship_nocache", "mageship_buildx", "mageship_container", "ko", "floor"}

// Result is one contender on one service. The first seven fields are the schema
// issue 6 fixes, the three ci_warm_ ones issue 9's; the rest add the samples and
// per-platform detail. A key of a scenario the contender did not run in (the naive
// Dockerfile has no CI scenario; a run may leave a scenario out) is null.
type Result struct {
	ColdMedianS         *float64 `json:"cold_median_s"`
	ColdMinS            *float64 `json:"cold_min_s"`
	WarmMedianS         *float64 `json:"warm_median_s"`
	WarmMinS            *float64 `json:"warm_min_s"`
	WarmModuleDownloads *int     `json:"warm_module_downloads"` // the most of any warm run
	ImageBytes          *int64   `json:"image_bytes"`           // production, linux/amd64, uncompressed; null for the floor
	BinaryBytes         *int64   `json:"binary_bytes"`          // the linux/amd64 binary

	// The CI scenario: jobs on a brand-new BuildKit daemon after a one-line change.
	CIWarmMedianS         *float64 `json:"ci_warm_median_s"`
	CIWarmMinS            *float64 `json:"ci_warm_min_s"`
	CIWarmModuleDownloads *int     `json:"ci_warm_module_downloads"` // the most of any timed CI job

	ImageCompressedBytes *int64 `json:"image_compressed_bytes"` // production, linux/amd64, as pushed (gzip)
	What                 string `json:"what"`
	CIWhat               string `json:"ci_what,omitempty"`

	ColdS                    []float64 `json:"cold_s"`
	WarmS                    []float64 `json:"warm_s"`
	ColdModuleDownloadsByRun []int     `json:"cold_module_downloads_by_run"`
	WarmModuleDownloadsByRun []int     `json:"warm_module_downloads_by_run"`
	WarmProxyRequestsByRun   []int     `json:"warm_proxy_requests_by_run"`

	// CIColdS is the CI scenario's priming job (empty caches, unchanged source), run once.
	CIColdS                    *float64  `json:"ci_cold_s"`
	CIColdModuleDownloads      *int      `json:"ci_cold_module_downloads"`
	CIWarmS                    []float64 `json:"ci_warm_s"`
	CIWarmModuleDownloadsByRun []int     `json:"ci_warm_module_downloads_by_run"`
	CIWarmProxyRequestsByRun   []int     `json:"ci_warm_proxy_requests_by_run"`

	// Images is variant (production, debug) → platform → size.
	Images                map[string]map[string]imageSize `json:"images,omitempty"`
	BinaryBytesByPlatform map[string]int64                `json:"binary_bytes_by_platform"`
}

// Report is results.json.
type Report struct {
	Machine     string                        `json:"machine"`
	Date        string                        `json:"date"` // RFC 3339
	Runs        int                           `json:"runs"`
	Only        []string                      `json:"only,omitempty"`       // set when MAGESHIP_BENCH_ONLY limited the run
	Scenarios   []string                      `json:"scenarios,omitempty"`  // set when MAGESHIP_BENCH_SCENARIOS limited the run
	Contenders  []string                      `json:"contenders,omitempty"` // set when MAGESHIP_BENCH_CONTENDERS limited the run
	Settings    Settings                      `json:"settings"`
	ServiceInfo map[string]serviceInfo        `json:"service_info"`
	Services    map[string]map[string]*Result `json:"services"`
	// Many is the many-images scenario; nil when the run left it out.
	Many *ManyResult `json:"many_images,omitempty"`
}

// Settings are what the run measured against.
type Settings struct {
	Platforms    []string `json:"platforms"`
	Builder      string   `json:"buildx_builder"`
	Registry     string   `json:"registry"`
	BuilderImage string   `json:"builder_image"`
	KoVersion    string   `json:"ko_version"`
	KoBaseImage  string   `json:"ko_base_image"`
	// Buildkitd is the BuildKit daemon the CI scenario starts afresh for every job.
	Buildkitd string `json:"ci_buildkitd,omitempty"`
}

// summarize fills the medians, minimums and download counts from the samples of
// the scenarios that have any.
func (r *Result) summarize() {
	r.ColdMedianS, r.ColdMinS = median(r.ColdS), minimum(r.ColdS)
	r.WarmMedianS, r.WarmMinS = median(r.WarmS), minimum(r.WarmS)
	r.WarmModuleDownloads = most(r.WarmModuleDownloadsByRun)
	r.CIWarmMedianS, r.CIWarmMinS = median(r.CIWarmS), minimum(r.CIWarmS)
	r.CIWarmModuleDownloads = most(r.CIWarmModuleDownloadsByRun)
}

// most is the largest of ns, or nil for none.
func most(ns []int) *int {
	if len(ns) == 0 {
		return nil
	}
	m := slices.Max(ns)
	return &m
}

// median is the median of xs, or nil for none.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &m
}

// minimum is the least of xs, or nil for none.
func minimum(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	m := slices.Min(xs)
	return &m
}

// seconds rounds to milliseconds, for the JSON.
func seconds(s float64) float64 {
	return float64(int64(s*1000+0.5)) / 1000
}

// mib is 1 MiB, the margin of the image-size target.
const mib = 1 << 20

// Markdown renders results.md: a table per scenario of every service and
// contender with ratios to ko and to the floor (medians), then the issues' targets,
// each met or missed.
func (rep Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mageship benchmark\n\n")
	fmt.Fprintf(&b, "Run %s on %s.\n", rep.Date, rep.Machine)
	fmt.Fprintf(&b, "Each timing %d time(s), shown as median (min) in seconds; ratios are of medians. ", rep.Runs)
	fmt.Fprintf(&b, "Platforms %s; registry %s; builder image %s; ko %s on %s. ",
		strings.Join(rep.Settings.Platforms, ", "), rep.Settings.Registry, rep.Settings.BuilderImage, rep.Settings.KoVersion, rep.Settings.KoBaseImage)
	b.WriteString("mageship is the default build path (MAGESHIP_BUILD and MAGESHIP_ASSEMBLE unset: host+direct), mageship_buildx MAGESHIP_ASSEMBLE=buildx, mageship_container MAGESHIP_BUILD=container; mageship_nocache (CI scenario only) is mageship without the magefile and engine caches restored.\n")
	var partial []string
	if len(rep.Only) > 0 {
		partial = append(partial, "only "+strings.Join(rep.Only, ", ")+" (MAGESHIP_BENCH_ONLY)")
	}
	if len(rep.Scenarios) > 0 {
		partial = append(partial, "scenarios "+strings.Join(rep.Scenarios, ", ")+" (MAGESHIP_BENCH_SCENARIOS)")
	}
	if len(rep.Contenders) > 0 {
		partial = append(partial, "contenders "+strings.Join(rep.Contenders, ", ")+" (MAGESHIP_BENCH_CONTENDERS)")
	}
	if len(partial) > 0 {
		fmt.Fprintf(&b, "\n**Partial run**: %s.\n", strings.Join(partial, "; "))
	}
	if rep.has(func(r *Result) bool { return r.ColdMedianS != nil }) {
		b.WriteString("\n## Local scenario\n\nOn the rig's builder: cold (every cache emptied), then warm after a one-line change.\n\n")
		b.WriteString("| service | contender | cold s | warm s | warm module downloads | image amd64 (uncompressed / gzip) | binary amd64 | cold ÷ ko | warm ÷ ko | cold ÷ floor | warm ÷ floor |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		cold := func(x *Result) *float64 { return x.ColdMedianS }
		warm := func(x *Result) *float64 { return x.WarmMedianS }
		rep.rows(func(svc, name string, r *Result, cs map[string]*Result) {
			if r.ColdMedianS == nil {
				return
			}
			img := "–"
			if r.ImageBytes != nil {
				img = bytesize.Format(*r.ImageBytes)
				if r.ImageCompressedBytes != nil {
					img += " / " + bytesize.Format(*r.ImageCompressedBytes)
				}
			}
			bin := "–"
			if r.BinaryBytes != nil {
				bin = bytesize.Format(*r.BinaryBytes)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				svc, name, secs(r.ColdMedianS, r.ColdMinS), secs(r.WarmMedianS, r.WarmMinS), count(r.WarmModuleDownloads), img, bin,
				ratio(r, cs["ko"], cold), ratio(r, cs["ko"], warm), ratio(r, cs["floor"], cold), ratio(r, cs["floor"], warm))
		})
	}
	if rep.has(func(r *Result) bool { return r.CIWarmMedianS != nil }) {
		b.WriteString("\n## CI scenario\n\nEvery job of a contender that uses BuildKit on a brand-new BuildKit daemon with an empty state; restored from the previous job: " +
			"GOCACHE and GOMODCACHE (every contender), the compiled magefile (MAGEFILE_CACHE) and the engine's binary (MAGESHIP_CACHE_DIR) (every mageship contender but mageship_nocache), " +
			"and the exported BuildKit cache (mageship_container). CI warm: after a one-line change; CI cold: the priming job (empty caches), once.\n\n")
		b.WriteString("| service | contender | CI warm s | CI warm module downloads | CI cold s | CI warm ÷ ko | CI warm ÷ floor |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
		ci := func(x *Result) *float64 { return x.CIWarmMedianS }
		rep.rows(func(svc, name string, r *Result, cs map[string]*Result) {
			if r.CIWarmMedianS == nil {
				return
			}
			cold := "–"
			if r.CIColdS != nil {
				cold = fmt.Sprintf("%.1f", *r.CIColdS)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
				svc, name, secs(r.CIWarmMedianS, r.CIWarmMinS), count(r.CIWarmModuleDownloads), cold,
				ratio(r, cs["ko"], ci), ratio(r, cs["floor"], ci))
		})
	}
	if m := rep.Many; m != nil && m.AllMedianS != nil {
		b.WriteString(m.markdown())
	}
	for _, t := range []struct {
		title string
		check func(map[string]*Result) []string
	}{{"Targets (issue 6)", targets}, {"Targets (issue 9)", targets9}} {
		var lines []string
		for _, svc := range rep.serviceOrder() {
			for _, l := range t.check(rep.Services[svc]) {
				lines = append(lines, fmt.Sprintf("- %s: %s\n", svc, l))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n## %s\n\n%s", t.title, strings.Join(lines, ""))
		}
	}
	if len(rep.Services) > 0 {
		b.WriteString("\n## Contenders\n\n")
	}
	for _, name := range contenderNames {
		for _, svc := range rep.serviceOrder() {
			if r, ok := rep.Services[svc][name]; ok {
				if r.What != "" {
					fmt.Fprintf(&b, "- **%s**: %s\n", name, r.What)
				}
				if r.CIWhat != "" {
					fmt.Fprintf(&b, "- **%s**, CI scenario: %s\n", name, r.CIWhat)
				}
				break
			}
		}
	}
	b.WriteString("\nMethod: bench/README.md. Raw samples, per-platform image and binary sizes: results.json.\n")
	return b.String()
}

// has reports whether any result satisfies f.
func (rep Report) has(f func(*Result) bool) bool {
	for _, cs := range rep.Services {
		for _, r := range cs {
			if f(r) {
				return true
			}
		}
	}
	return false
}

// rows calls row for every result, by service and then contender order.
func (rep Report) rows(row func(svc, name string, r *Result, cs map[string]*Result)) {
	for _, svc := range rep.serviceOrder() {
		cs := rep.Services[svc]
		for _, name := range contenderNames {
			if r, ok := cs[name]; ok {
				row(svc, name, r, cs)
			}
		}
	}
}

func (rep Report) serviceOrder() []string {
	var out []string
	for _, s := range serviceNames {
		if _, ok := rep.Services[s]; ok {
			out = append(out, s)
		}
	}
	return out
}

// secs is "median (min)", or "–" when not measured.
func secs(med, least *float64) string {
	if med == nil || least == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f (%.1f)", *med, *least)
}

// count is n, or "–" when not measured.
func count(n *int) string {
	if n == nil {
		return "–"
	}
	return fmt.Sprint(*n)
}

// ratio is f(r) ÷ f(to), or "–" when either is not measured.
func ratio(r, to *Result, f func(*Result) *float64) string {
	q, ok := quotient(r, to, f)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f×", q)
}

func quotient(r, to *Result, f func(*Result) *float64) (float64, bool) {
	if r == nil || to == nil || f(r) == nil || f(to) == nil || *f(to) == 0 {
		return 0, false
	}
	return *f(r) / *f(to), true
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// targets checks issue 6's targets on one service's results.
func targets(cs map[string]*Result) []string {
	m, ko, naive := cs["mageship"], cs["ko"], cs["naive"]
	if m == nil || m.ColdMedianS == nil {
		return nil
	}
	var out []string
	if c, ok := quotient(m, ko, func(x *Result) *float64 { return x.ColdMedianS }); ok {
		out = append(out, fmt.Sprintf("mageship cold at most 1.1 × ko's: %.2f× (%s)", c, verdict(c <= 1.1)))
	}
	if w, ok := quotient(m, ko, func(x *Result) *float64 { return x.WarmMedianS }); ok {
		out = append(out, fmt.Sprintf("mageship warm at most 1.2 × ko's: %.2f× (%s)", w, verdict(w <= 1.2)))
	}
	if m.WarmModuleDownloads != nil {
		out = append(out, fmt.Sprintf("zero module downloads on a source-only change: %d (%s)", *m.WarmModuleDownloads, verdict(*m.WarmModuleDownloads == 0)))
	}
	if m.ImageBytes != nil && m.BinaryBytes != nil {
		over := *m.ImageBytes - *m.BinaryBytes
		out = append(out, fmt.Sprintf("production image at most the binary + 1 MiB: image %s, binary %s, %s over (%s)",
			bytesize.Format(*m.ImageBytes), bytesize.Format(*m.BinaryBytes), bytesize.Format(over), verdict(over <= mib)))
		if naive != nil && naive.ImageBytes != nil && *m.ImageBytes > 0 {
			r := float64(*naive.ImageBytes) / float64(*m.ImageBytes)
			out = append(out, fmt.Sprintf("at least 30 × smaller than the naive image: %.1f× (%s)", r, verdict(r >= 30)))
		}
	}
	return out
}

// targets9 checks issue 9's targets for mageship's default path (reported, not
// asserted): the CI scenario at most 1.2 × ko with no module downloads, the local
// warm release at most 1.2 × ko, the local cold one at most 1.0 × ko.
func targets9(cs map[string]*Result) []string {
	m, ko := cs["mageship"], cs["ko"]
	if m == nil {
		return nil
	}
	var out []string
	if q, ok := quotient(m, ko, func(x *Result) *float64 { return x.CIWarmMedianS }); ok {
		out = append(out, fmt.Sprintf("mageship CI job after a one-line change at most 1.2 × ko's: %.2f× (%s)", q, verdict(q <= 1.2)))
	}
	if m.CIWarmModuleDownloads != nil {
		out = append(out, fmt.Sprintf("zero module downloads in that CI job: %d (%s)", *m.CIWarmModuleDownloads, verdict(*m.CIWarmModuleDownloads == 0)))
	}
	if q, ok := quotient(m, ko, func(x *Result) *float64 { return x.WarmMedianS }); ok {
		out = append(out, fmt.Sprintf("mageship local warm release at most 1.2 × ko's: %.2f× (%s)", q, verdict(q <= 1.2)))
	}
	if q, ok := quotient(m, ko, func(x *Result) *float64 { return x.ColdMedianS }); ok {
		out = append(out, fmt.Sprintf("mageship local cold release at most 1.0 × ko's: %.2f× (%s)", q, verdict(q <= 1.0)))
	}
	return out
}

// write writes results.json and results.md into dir.
func (rep Report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(rep.Markdown()), 0o644)
}
