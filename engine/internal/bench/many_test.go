package bench

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestManyNames(t *testing.T) {
	got := manyNames(10)
	if len(got) != 10 || got[0] != "svc01" || got[9] != "svc10" {
		t.Errorf("manyNames(10) = %v", got)
	}
}

func TestGenerateMany(t *testing.T) {
	files, err := generateMany("/src/mageship", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 14 {
		t.Errorf("%d files, want 10 mains, the shared package, the magefile, go.mod, .gitignore", len(files))
	}
	fset := token.NewFileSet()
	for _, name := range manyNames(10) {
		src, ok := files["cmd/"+name+"/main.go"]
		if !ok {
			t.Fatalf("no cmd/%s/main.go", name)
		}
		f, err := parser.ParseFile(fset, name+".go", src, 0)
		if err != nil {
			t.Fatalf("cmd/%s/main.go: %v\n%s", name, err, src)
		}
		if f.Name.Name != "main" || f.Scope.Lookup("version") == nil {
			t.Errorf("cmd/%s/main.go is not a main package with a version variable:\n%s", name, src)
		}
		for _, want := range []string{`"example.com/bench/many/internal/shared"`, `shared.Serve("` + name + `", version, ":8080")`} {
			if !strings.Contains(src, want) {
				t.Errorf("cmd/%s/main.go lacks %s", name, want)
			}
		}
		if n := strings.Count(files["magefiles/magefile.go"], `{Main: "./cmd/`+name+`", Ports: []int{8080}}`); n != 1 {
			t.Errorf("the magefile lists %s %d times, want once:\n%s", name, n, files["magefiles/magefile.go"])
		}
	}
	if _, err := parser.ParseFile(fset, "magefile.go", files["magefiles/magefile.go"], 0); err != nil {
		t.Errorf("magefile: %v", err)
	}
	if !strings.HasPrefix(files["magefiles/magefile.go"], "//go:build mage\n") {
		t.Error("the magefile lacks its build constraint")
	}
	if !strings.Contains(files["go.mod"], "replace github.com/mageship/mageship => /src/mageship\n") {
		t.Errorf("go.mod does not point mageship at the checkout:\n%s", files["go.mod"])
	}
	// The one-line change is in the package every binary links, and is one line.
	changed, err := changeLine(files["internal/shared/shared.go"], manyMark(1, "all", "x1"))
	if err != nil {
		t.Fatal(err)
	}
	before, after := strings.Split(files["internal/shared/shared.go"], "\n"), strings.Split(changed, "\n")
	diff := 0
	for i := range before {
		if i >= len(after) || before[i] != after[i] {
			diff++
		}
	}
	if diff != 1 || len(before) != len(after) {
		t.Errorf("the change is not one line: %d lines differ:\n%s", diff, changed)
	}
}

func TestManyMark(t *testing.T) {
	a, o := manyMark(2, "all", "t5x9"), manyMark(2, "one", "t5x9")
	if a != "m2a-t5x9" || o != "m2o-t5x9" {
		t.Errorf("manyMark = %q, %q", a, o)
	}
	for _, m := range []string{a, o} {
		if !healthzLine.MatchString(`"ok %s ` + m + `\n"`) {
			t.Errorf("a change marked %q would not be found again by the next change", m)
		}
	}
	if manyVersionTag(3) != "v0.3.3" {
		t.Errorf("manyVersionTag(3) = %s", manyVersionTag(3))
	}
}

func TestManyResult(t *testing.T) {
	var m ManyResult
	m.summarize()
	if m.AllMedianS != nil || m.Ratio != nil {
		t.Errorf("no samples: %+v", m)
	}
	m.addRun(30, []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5.0004})
	m.addRun(20, []float64{4, 4, 4, 4, 4, 4, 4, 4, 4, 4})
	m.summarize()
	if diff := cmp.Diff([]float64{50, 40}, m.OneByOneS); diff != "" {
		t.Errorf("one by one sums (-want +got):\n%s", diff)
	}
	if *m.AllMedianS != 25 || *m.AllMinS != 20 || *m.OneByOneMedianS != 45 || *m.OneByOneMinS != 40 {
		t.Errorf("summary = all %v (%v), one by one %v (%v)", *m.AllMedianS, *m.AllMinS, *m.OneByOneMedianS, *m.OneByOneMinS)
	}
	if *m.Ratio != 0.556 {
		t.Errorf("ratio = %v, want 25/45 = 0.556", *m.Ratio)
	}
	if len(m.SingleS) != 2 || len(m.SingleS[0]) != 10 || m.SingleS[0][9] != 5 {
		t.Errorf("single releases = %v", m.SingleS)
	}
	m.Images, m.Jobs, m.What = 10, 2, "what was run"
	m.LoadAverage = []string{"all, run 1: 1.00 2.00 3.00 -> 2.00 2.00 3.00"}
	md := m.markdown()
	for _, want := range []string{"## Many-images scenario", "what was run.", "| 10 | 2 | 25.0 (20.0) | 45.0 (40.0) | 0.56× |", "all, run 1: 1.00 2.00 3.00 -> 2.00 2.00 3.00"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	rep := Report{Many: &m, Services: map[string]map[string]*Result{}}
	if md := rep.Markdown(); !strings.Contains(md, "| 10 | 2 | 25.0 (20.0) |") || strings.Contains(md, "## Contenders") {
		t.Errorf("results.md of the many-images scenario alone lacks its table, or has a contenders section:\n%s", md)
	}
}

func TestParseLoadAvg(t *testing.T) {
	got, err := parseLoadAvg("1.95 2.10 2.47 3/512 12345\n")
	if err != nil || got != "1.95 2.10 2.47" {
		t.Errorf("parseLoadAvg = %q, %v", got, err)
	}
	for _, bad := range []string{"", "1.0 2.0", "a b c d e"} {
		if _, err := parseLoadAvg(bad); err == nil {
			t.Errorf("parseLoadAvg(%q): no error", bad)
		}
	}
}
