package bench

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name                string
		cold, warm, ci      []float64
		warmDL, ciDL        []int
		wantCold, wantColdM float64
		wantWarm, wantWarmM float64
		wantDL              int
		wantCI, wantCIM     float64
		wantCIDL            int
	}{
		{"odd", []float64{3, 1, 2}, []float64{5, 4, 6}, []float64{9, 7, 8}, []int{0, 2, 1}, []int{0, 0, 4}, 2, 1, 5, 4, 2, 8, 7, 4},
		{"even", []float64{4, 1, 3, 2}, []float64{1, 1}, []float64{2, 4}, []int{0, 0}, []int{1, 1}, 2.5, 1, 1, 1, 0, 3, 2, 1},
		{"one", []float64{7}, []float64{8}, []float64{1.5}, []int{3}, []int{0}, 7, 7, 8, 8, 3, 1.5, 1.5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{ColdS: tc.cold, WarmS: tc.warm, WarmModuleDownloadsByRun: tc.warmDL, CIWarmS: tc.ci, CIWarmModuleDownloadsByRun: tc.ciDL}
			r.summarize()
			got := []float64{*r.ColdMedianS, *r.ColdMinS, *r.WarmMedianS, *r.WarmMinS, float64(*r.WarmModuleDownloads), *r.CIWarmMedianS, *r.CIWarmMinS, float64(*r.CIWarmModuleDownloads)}
			want := []float64{tc.wantCold, tc.wantColdM, tc.wantWarm, tc.wantWarmM, float64(tc.wantDL), tc.wantCI, tc.wantCIM, float64(tc.wantCIDL)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cold median, min, warm median, min, downloads, CI median, min, downloads (-want +got):\n%s", diff)
			}
		})
	}
	if got := []float64{3, 1, 2}; *median(got) != 2 || got[0] != 3 {
		t.Errorf("median sorted its argument in place: %v", got)
	}
	// A scenario without samples stays null.
	r := Result{CIWarmS: []float64{2}, CIWarmModuleDownloadsByRun: []int{0}}
	r.summarize()
	if r.ColdMedianS != nil || r.WarmMinS != nil || r.WarmModuleDownloads != nil || r.CIWarmMedianS == nil {
		t.Errorf("summarize of a CI-only result = %+v", r)
	}
}

func ptr(n int64) *int64 { return &n }

// sec is a time in seconds; num a count.
func sec(x float64) *float64 { return &x }
func num(x int) *int         { return &x }

func sampleReport() Report {
	return Report{
		Machine: "2 CPUs", Date: "2026-11-28T00:00:00Z", Runs: 1, Only: []string{"hello"},
		Settings: Settings{Platforms: []string{"linux/amd64", "linux/arm64"}},
		Services: map[string]map[string]*Result{"hello": {
			"naive": {ColdMedianS: sec(60), ColdMinS: sec(60), WarmMedianS: sec(30), WarmMinS: sec(30), WarmModuleDownloads: num(1), ImageBytes: ptr(300 * mib), BinaryBytes: ptr(8 * mib)},
			"mageship": {ColdMedianS: sec(33), ColdMinS: sec(33), WarmMedianS: sec(2.4), WarmMinS: sec(2.4), WarmModuleDownloads: num(0), ImageBytes: ptr(6*mib + mib/2), ImageCompressedBytes: ptr(3 * mib), BinaryBytes: ptr(6 * mib),
				CIWarmMedianS: sec(3.3), CIWarmMinS: sec(3.1), CIWarmModuleDownloads: num(0), CIColdS: sec(90)},
			"mageship_container": {ColdMedianS: sec(70), ColdMinS: sec(69), WarmMedianS: sec(5), WarmMinS: sec(4.5), WarmModuleDownloads: num(0), ImageBytes: ptr(6*mib + mib/2), BinaryBytes: ptr(6 * mib),
				CIWarmMedianS: sec(40), CIWarmMinS: sec(38), CIWarmModuleDownloads: num(2), CIColdS: sec(120)},
			"ko":    {ColdMedianS: sec(30), ColdMinS: sec(30), WarmMedianS: sec(2), WarmMinS: sec(2), WarmModuleDownloads: num(0), ImageBytes: ptr(8 * mib), BinaryBytes: ptr(6 * mib), CIWarmMedianS: sec(3), CIWarmMinS: sec(2.9), CIWarmModuleDownloads: num(0), CIColdS: sec(31)},
			"floor": {ColdMedianS: sec(20), ColdMinS: sec(20), WarmMedianS: sec(1), WarmMinS: sec(1), WarmModuleDownloads: num(0), BinaryBytes: ptr(6 * mib), CIWarmMedianS: sec(1.5), CIWarmMinS: sec(1.5), CIWarmModuleDownloads: num(0), CIColdS: sec(25)},
		}},
	}
}

func TestMarkdown(t *testing.T) {
	md := sampleReport().Markdown()
	for _, want := range []string{
		"**Partial run**: only hello (MAGESHIP_BENCH_ONLY).",
		"## Local scenario",
		"| hello | naive | 60.0 (60.0) | 30.0 (30.0) | 1 | 300.0 MiB | 8.0 MiB | 2.00× | 15.00× | 3.00× | 30.00× |",
		"| hello | mageship | 33.0 (33.0) | 2.4 (2.4) | 0 | 6.5 MiB / 3.0 MiB | 6.0 MiB | 1.10× | 1.20× | 1.65× | 2.40× |",
		"| hello | mageship_container | 70.0 (69.0) | 5.0 (4.5) | 0 | 6.5 MiB | 6.0 MiB | 2.33× | 2.50× | 3.50× | 5.00× |",
		"| hello | floor | 20.0 (20.0) | 1.0 (1.0) | 0 | – | 6.0 MiB | 0.67× | 0.50× | 1.00× | 1.00× |",
		"## CI scenario",
		"| service | contender | CI warm s | CI warm module downloads | CI cold s | CI warm ÷ ko | CI warm ÷ floor |",
		"| hello | mageship | 3.3 (3.1) | 0 | 90.0 | 1.10× | 2.20× |",
		"| hello | mageship_container | 40.0 (38.0) | 2 | 120.0 | 13.33× | 26.67× |",
		"| hello | ko | 3.0 (2.9) | 0 | 31.0 | 1.00× | 2.00× |",
		"mageship cold at most 1.1 × ko's: 1.10× (met)",
		"mageship warm at most 1.2 × ko's: 1.20× (met)",
		"zero module downloads on a source-only change: 0 (met)",
		"production image at most the binary + 1 MiB: image 6.5 MiB, binary 6.0 MiB, 512.0 KiB over (met)",
		"at least 30 × smaller than the naive image: 46.2× (met)",
		"## Targets (issue 9)",
		"- hello: mageship CI job after a one-line change at most 1.2 × ko's: 1.10× (met)",
		"- hello: zero module downloads in that CI job: 0 (met)",
		"- hello: mageship local warm release at most 1.2 × ko's: 1.20× (met)",
		"- hello: mageship local cold release at most 1.0 × ko's: 1.10× (**missed**)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	// The table's rows come in contender order; the naive Dockerfile has no CI row.
	if strings.Index(md, "| hello | naive") > strings.Index(md, "| hello | mageship |") ||
		strings.Index(md, "| hello | mageship |") > strings.Index(md, "| hello | mageship_container |") ||
		strings.Index(md, "| hello | ko") > strings.Index(md, "| hello | floor") {
		t.Errorf("rows out of order:\n%s", md)
	}
	if ci := md[strings.Index(md, "## CI scenario"):]; strings.Contains(ci, "| hello | naive") {
		t.Errorf("the CI table has a naive row:\n%s", ci)
	}
}

// TestMarkdownCIOnly renders a run of the CI scenario alone: no local table, no
// issue 6 targets, and the partial run says so.
func TestMarkdownCIOnly(t *testing.T) {
	rep := sampleReport()
	rep.Scenarios, rep.Contenders = []string{"ci"}, []string{"mageship", "ko"}
	for name, r := range rep.Services["hello"] {
		if name != "mageship" && name != "ko" {
			delete(rep.Services["hello"], name)
			continue
		}
		*r = Result{CIWarmMedianS: r.CIWarmMedianS, CIWarmMinS: r.CIWarmMinS, CIWarmModuleDownloads: r.CIWarmModuleDownloads, CIColdS: r.CIColdS}
	}
	md := rep.Markdown()
	for _, want := range []string{
		"**Partial run**: only hello (MAGESHIP_BENCH_ONLY); scenarios ci (MAGESHIP_BENCH_SCENARIOS); contenders mageship, ko (MAGESHIP_BENCH_CONTENDERS).",
		"| hello | mageship | 3.3 (3.1) | 0 | 90.0 | 1.10× | – |",
		"- hello: mageship CI job after a one-line change at most 1.2 × ko's: 1.10× (met)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	for _, not := range []string{"## Local scenario", "Targets (issue 6)", "local warm release"} {
		if strings.Contains(md, not) {
			t.Errorf("results.md of a CI-only run has %q:\n%s", not, md)
		}
	}
}

func TestTargetsMissed(t *testing.T) {
	rep := sampleReport()
	m := rep.Services["hello"]["mageship"]
	m.ColdMedianS, m.WarmModuleDownloads, m.ImageBytes = sec(40), num(2), ptr(9*mib)
	m.CIWarmMedianS, m.CIWarmModuleDownloads = sec(4), num(1)
	got := strings.Join(append(targets(rep.Services["hello"]), targets9(rep.Services["hello"])...), "\n")
	for _, want := range []string{
		"mageship cold at most 1.1 × ko's: 1.33× (**missed**)",
		"zero module downloads on a source-only change: 2 (**missed**)",
		"3.0 MiB over (**missed**)",
		"at least 30 × smaller than the naive image: 33.3× (met)",
		"mageship CI job after a one-line change at most 1.2 × ko's: 1.33× (**missed**)",
		"zero module downloads in that CI job: 1 (**missed**)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("targets lack %q:\n%s", want, got)
		}
	}
}

// TestSchema checks results.json's keys: the issue fixes them.
func TestSchema(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "date", "services"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("results.json lacks top-level %q", k)
		}
	}
	for name, c := range doc["services"].(map[string]any)["hello"].(map[string]any) {
		r := c.(map[string]any)
		for _, k := range []string{"cold_median_s", "cold_min_s", "warm_median_s", "warm_min_s", "warm_module_downloads", "image_bytes", "binary_bytes",
			"ci_warm_median_s", "ci_warm_min_s", "ci_warm_module_downloads"} {
			if _, ok := r[k]; !ok {
				t.Errorf("services.hello.%s lacks %q", name, k)
			}
		}
		if name == "floor" && r["image_bytes"] != nil {
			t.Errorf("services.hello.floor.image_bytes = %v, want null", r["image_bytes"])
		}
		if name == "naive" && r["ci_warm_median_s"] != nil {
			t.Errorf("services.hello.naive.ci_warm_median_s = %v, want null: it has no CI scenario", r["ci_warm_median_s"])
		}
		if name == "mageship" && (r["ci_warm_median_s"] != 3.3 || r["ci_warm_module_downloads"] != 0.0) {
			t.Errorf("services.hello.mageship CI keys = %v, %v", r["ci_warm_median_s"], r["ci_warm_module_downloads"])
		}
	}
}
