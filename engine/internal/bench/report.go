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

// contenderNames are the contenders in the order they run and are shown.
var contenderNames = []string{"naive", "mageship", "ko", "floor"}

// Result is one contender on one service. The first seven fields are the schema the
// issue fixes; the rest add the samples and per-platform detail.
type Result struct {
	ColdMedianS         float64 `json:"cold_median_s"`
	ColdMinS            float64 `json:"cold_min_s"`
	WarmMedianS         float64 `json:"warm_median_s"`
	WarmMinS            float64 `json:"warm_min_s"`
	WarmModuleDownloads int     `json:"warm_module_downloads"` // the most of any warm run
	ImageBytes          *int64  `json:"image_bytes"`           // production, linux/amd64, uncompressed; null for the floor
	BinaryBytes         int64   `json:"binary_bytes"`          // the linux/amd64 binary

	ImageCompressedBytes *int64 `json:"image_compressed_bytes"` // production, linux/amd64, as pushed (gzip)
	What                 string `json:"what"`

	ColdS                    []float64 `json:"cold_s"`
	WarmS                    []float64 `json:"warm_s"`
	ColdModuleDownloadsByRun []int     `json:"cold_module_downloads_by_run"`
	WarmModuleDownloadsByRun []int     `json:"warm_module_downloads_by_run"`
	WarmProxyRequestsByRun   []int     `json:"warm_proxy_requests_by_run"`

	// Images is variant (production, debug) → platform → size.
	Images                map[string]map[string]imageSize `json:"images,omitempty"`
	BinaryBytesByPlatform map[string]int64                `json:"binary_bytes_by_platform"`
}

// Report is results.json.
type Report struct {
	Machine     string                        `json:"machine"`
	Date        string                        `json:"date"` // RFC 3339
	Runs        int                           `json:"runs"`
	Only        []string                      `json:"only,omitempty"` // set when MAGESHIP_BENCH_ONLY limited the run
	Settings    Settings                      `json:"settings"`
	ServiceInfo map[string]serviceInfo        `json:"service_info"`
	Services    map[string]map[string]*Result `json:"services"`
}

// Settings are what the run measured against.
type Settings struct {
	Platforms    []string `json:"platforms"`
	Builder      string   `json:"buildx_builder"`
	Registry     string   `json:"registry"`
	BuilderImage string   `json:"builder_image"`
	KoVersion    string   `json:"ko_version"`
	KoBaseImage  string   `json:"ko_base_image"`
}

// summarize fills the medians, minimums and the warm download count from the samples.
func (r *Result) summarize() {
	r.ColdMedianS, r.ColdMinS = median(r.ColdS), minimum(r.ColdS)
	r.WarmMedianS, r.WarmMinS = median(r.WarmS), minimum(r.WarmS)
	r.WarmModuleDownloads = 0
	for _, n := range r.WarmModuleDownloadsByRun {
		r.WarmModuleDownloads = max(r.WarmModuleDownloads, n)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minimum(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Min(xs)
}

// seconds rounds to milliseconds, for the JSON.
func seconds(s float64) float64 {
	return float64(int64(s*1000+0.5)) / 1000
}

// mib is 1 MiB, the margin of the image-size target.
const mib = 1 << 20

// Markdown renders results.md: one table of every service and contender with
// ratios to ko and to the floor (medians), then the targets, each met or
// missed.
func (rep Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mageship benchmark\n\n")
	fmt.Fprintf(&b, "Run %s on %s.\n", rep.Date, rep.Machine)
	fmt.Fprintf(&b, "Each timing %d time(s), shown as median (min) in seconds; ratios are of medians. ", rep.Runs)
	fmt.Fprintf(&b, "Platforms %s; registry %s; builder image %s; ko %s on %s.\n",
		strings.Join(rep.Settings.Platforms, ", "), rep.Settings.Registry, rep.Settings.BuilderImage, rep.Settings.KoVersion, rep.Settings.KoBaseImage)
	if len(rep.Only) > 0 {
		fmt.Fprintf(&b, "\n**Partial run**: only %s (MAGESHIP_BENCH_ONLY).\n", strings.Join(rep.Only, ", "))
	}
	b.WriteString("\n| service | contender | cold s | warm s | warm module downloads | image amd64 (uncompressed / gzip) | binary amd64 | cold ÷ ko | warm ÷ ko | cold ÷ floor | warm ÷ floor |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, svc := range rep.serviceOrder() {
		cs := rep.Services[svc]
		for _, name := range contenderNames {
			r, ok := cs[name]
			if !ok {
				continue
			}
			img := "–"
			if r.ImageBytes != nil {
				img = bytesize.Format(*r.ImageBytes)
				if r.ImageCompressedBytes != nil {
					img += " / " + bytesize.Format(*r.ImageCompressedBytes)
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %.1f (%.1f) | %.1f (%.1f) | %d | %s | %s | %s | %s | %s | %s |\n",
				svc, name, r.ColdMedianS, r.ColdMinS, r.WarmMedianS, r.WarmMinS, r.WarmModuleDownloads, img, bytesize.Format(r.BinaryBytes),
				ratio(r.ColdMedianS, cs["ko"], func(x *Result) float64 { return x.ColdMedianS }),
				ratio(r.WarmMedianS, cs["ko"], func(x *Result) float64 { return x.WarmMedianS }),
				ratio(r.ColdMedianS, cs["floor"], func(x *Result) float64 { return x.ColdMedianS }),
				ratio(r.WarmMedianS, cs["floor"], func(x *Result) float64 { return x.WarmMedianS }))
		}
	}
	b.WriteString("\n## Targets (issue 6)\n\n")
	for _, svc := range rep.serviceOrder() {
		for _, t := range targets(rep.Services[svc]) {
			fmt.Fprintf(&b, "- %s: %s\n", svc, t)
		}
	}
	b.WriteString("\n## Contenders\n\n")
	for _, name := range contenderNames {
		for _, svc := range rep.serviceOrder() {
			if r, ok := rep.Services[svc][name]; ok {
				fmt.Fprintf(&b, "- **%s**: %s\n", name, r.What)
				break
			}
		}
	}
	b.WriteString("\nMethod: bench/README.md. Raw samples, per-platform image and binary sizes: results.json.\n")
	return b.String()
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

func ratio(x float64, to *Result, f func(*Result) float64) string {
	if to == nil || f(to) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x/f(to))
}

// targets checks the targets on one service's results.
func targets(cs map[string]*Result) []string {
	m, ko, naive := cs["mageship"], cs["ko"], cs["naive"]
	if m == nil {
		return nil
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	var out []string
	if ko != nil && ko.ColdMedianS > 0 && ko.WarmMedianS > 0 {
		c, w := m.ColdMedianS/ko.ColdMedianS, m.WarmMedianS/ko.WarmMedianS
		out = append(out,
			fmt.Sprintf("mageship cold at most 1.1 × ko's: %.2f× (%s)", c, verdict(c <= 1.1)),
			fmt.Sprintf("mageship warm at most 1.2 × ko's: %.2f× (%s)", w, verdict(w <= 1.2)))
	}
	out = append(out, fmt.Sprintf("zero module downloads on a source-only change: %d (%s)", m.WarmModuleDownloads, verdict(m.WarmModuleDownloads == 0)))
	if m.ImageBytes != nil {
		over := *m.ImageBytes - m.BinaryBytes
		out = append(out, fmt.Sprintf("production image at most the binary + 1 MiB: image %s, binary %s, %s over (%s)",
			bytesize.Format(*m.ImageBytes), bytesize.Format(m.BinaryBytes), bytesize.Format(over), verdict(over <= mib)))
		if naive != nil && naive.ImageBytes != nil && *m.ImageBytes > 0 {
			r := float64(*naive.ImageBytes) / float64(*m.ImageBytes)
			out = append(out, fmt.Sprintf("at least 30 × smaller than the naive image: %.1f× (%s)", r, verdict(r >= 30)))
		}
	}
	return out
}

// human is a size in KiB, MiB or GiB with one decimal.

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
