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
		cold, warm          []float64
		warmDL              []int
		wantCold, wantColdM float64
		wantWarm, wantWarmM float64
		wantDL              int
	}{
		{"odd", []float64{3, 1, 2}, []float64{5, 4, 6}, []int{0, 2, 1}, 2, 1, 5, 4, 2},
		{"even", []float64{4, 1, 3, 2}, []float64{1, 1}, []int{0, 0}, 2.5, 1, 1, 1, 0},
		{"one", []float64{7}, []float64{8}, []int{3}, 7, 7, 8, 8, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{ColdS: tc.cold, WarmS: tc.warm, WarmModuleDownloadsByRun: tc.warmDL}
			r.summarize()
			got := []float64{r.ColdMedianS, r.ColdMinS, r.WarmMedianS, r.WarmMinS, float64(r.WarmModuleDownloads)}
			want := []float64{tc.wantCold, tc.wantColdM, tc.wantWarm, tc.wantWarmM, float64(tc.wantDL)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cold median, min, warm median, min, downloads (-want +got):\n%s", diff)
			}
		})
	}
	if got := []float64{3, 1, 2}; median(got) != 2 || got[0] != 3 {
		t.Errorf("median sorted its argument in place: %v", got)
	}
}

func ptr(n int64) *int64 { return &n }

func sampleReport() Report {
	return Report{
		Machine: "2 CPUs", Date: "2026-11-28T00:00:00Z", Runs: 1, Only: []string{"hello"},
		Settings: Settings{Platforms: []string{"linux/amd64", "linux/arm64"}},
		Services: map[string]map[string]*Result{"hello": {
			"naive":    {ColdMedianS: 60, ColdMinS: 60, WarmMedianS: 30, WarmMinS: 30, WarmModuleDownloads: 1, ImageBytes: ptr(300 * mib), BinaryBytes: 8 * mib},
			"mageship": {ColdMedianS: 33, ColdMinS: 33, WarmMedianS: 2.4, WarmMinS: 2.4, ImageBytes: ptr(6*mib + mib/2), ImageCompressedBytes: ptr(3 * mib), BinaryBytes: 6 * mib},
			"ko":       {ColdMedianS: 30, ColdMinS: 30, WarmMedianS: 2, WarmMinS: 2, ImageBytes: ptr(8 * mib), BinaryBytes: 6 * mib},
			"floor":    {ColdMedianS: 20, ColdMinS: 20, WarmMedianS: 1, WarmMinS: 1, BinaryBytes: 6 * mib},
		}},
	}
}

func TestMarkdown(t *testing.T) {
	md := sampleReport().Markdown()
	for _, want := range []string{
		"**Partial run**: only hello",
		"| hello | naive | 60.0 (60.0) | 30.0 (30.0) | 1 | 300.0 MiB | 8.0 MiB | 2.00× | 15.00× | 3.00× | 30.00× |",
		"| hello | mageship | 33.0 (33.0) | 2.4 (2.4) | 0 | 6.5 MiB / 3.0 MiB | 6.0 MiB | 1.10× | 1.20× | 1.65× | 2.40× |",
		"| hello | floor | 20.0 (20.0) | 1.0 (1.0) | 0 | – | 6.0 MiB | 0.67× | 0.50× | 1.00× | 1.00× |",
		"mageship cold at most 1.1 × ko's: 1.10× (met)",
		"mageship warm at most 1.2 × ko's: 1.20× (met)",
		"zero module downloads on a source-only change: 0 (met)",
		"production image at most the binary + 1 MiB: image 6.5 MiB, binary 6.0 MiB, 512.0 KiB over (met)",
		"at least 30 × smaller than the naive image: 46.2× (met)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	// The table's rows come in contender order.
	if strings.Index(md, "| hello | naive") > strings.Index(md, "| hello | mageship") || strings.Index(md, "| hello | ko") > strings.Index(md, "| hello | floor") {
		t.Errorf("rows out of order:\n%s", md)
	}
}

func TestTargetsMissed(t *testing.T) {
	rep := sampleReport()
	m := rep.Services["hello"]["mageship"]
	m.ColdMedianS, m.WarmModuleDownloads, m.ImageBytes = 40, 2, ptr(9*mib)
	got := strings.Join(targets(rep.Services["hello"]), "\n")
	for _, want := range []string{
		"mageship cold at most 1.1 × ko's: 1.33× (**missed**)",
		"zero module downloads on a source-only change: 2 (**missed**)",
		"3.0 MiB over (**missed**)",
		"at least 30 × smaller than the naive image: 33.3× (met)",
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
		for _, k := range []string{"cold_median_s", "cold_min_s", "warm_median_s", "warm_min_s", "warm_module_downloads", "image_bytes", "binary_bytes"} {
			if _, ok := r[k]; !ok {
				t.Errorf("services.hello.%s lacks %q", name, k)
			}
		}
		if name == "floor" && r["image_bytes"] != nil {
			t.Errorf("services.hello.floor.image_bytes = %v, want null", r["image_bytes"])
		}
	}
}
