package bench

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestChangeLine(t *testing.T) {
	const hello = "\tmux.HandleFunc(\"/healthz\", func(w http.ResponseWriter, r *http.Request) {\n\t\tfmt.Fprintf(w, \"ok %s\\n\", version)\n\t})\n"
	tests := []struct {
		name, src string
		mark      string
		want      string
		err       bool
	}{
		{"first change", hello, localMark(1), strings.Replace(hello, `"ok %s\n"`, `"ok %s r1\n"`, 1), false},
		{"a later change replaces the earlier one", strings.Replace(hello, `"ok %s\n"`, `"ok %s r1\n"`, 1), localMark(2), strings.Replace(hello, `"ok %s\n"`, `"ok %s r2\n"`, 1), false},
		{"a CI change", hello, ciMark(1, "t5x0k2"), strings.Replace(hello, `"ok %s\n"`, `"ok %s c1-t5x0k2\n"`, 1), false},
		{"a later CI change replaces the earlier one", strings.Replace(hello, `"ok %s\n"`, `"ok %s c1-t5x0k2\n"`, 1), ciMark(2, "t5x0k2"), strings.Replace(hello, `"ok %s\n"`, `"ok %s c2-t5x0k2\n"`, 1), false},
		{"no healthz line", "package main\n", localMark(1), "", true},
		{"two healthz lines", hello + hello, localMark(1), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := changeLine(tc.src, tc.mark)
			if (err != nil) != tc.err {
				t.Fatalf("changeLine error = %v, want error %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("changeLine =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestGenerateLarge(t *testing.T) {
	files, err := generateLarge("/src/mageship", largeShape)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]bool{}
	fset := token.NewFileSet()
	for p, src := range files {
		if !strings.HasSuffix(p, ".go") {
			continue
		}
		_, err := parser.ParseFile(fset, p, src, parser.AllErrors)
		if err != nil {
			t.Errorf("%s does not parse: %v", p, err)
			continue
		}
		if p != "magefiles/magefile.go" {
			pkgs[p[:strings.LastIndex(p, "/")]] = true
		}
	}
	if want := largeShape.Layers*largeShape.PerLayer + 2; len(pkgs) != want {
		t.Errorf("%d packages, want %d", len(pkgs), want)
	}
	gomod := files["go.mod"]
	if n := strings.Count(gomod, "\n\t"); n < 10 {
		t.Errorf("go.mod requires %d third-party modules, want at least 10:\n%s", n, gomod)
	}
	for _, want := range []string{"replace github.com/mageship/mageship => /src/mageship\n", "tool github.com/magefile/mage\n"} {
		if !strings.Contains(gomod, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}
	if _, err := changeLine(files["cmd/large/main.go"], localMark(1)); err != nil {
		t.Errorf("the one-line change does not apply to cmd/large/main.go: %v", err)
	}
	// Every module is used by some package.
	all := strings.Join(mapValues(files), "\n")
	for _, l := range libs {
		if !strings.Contains(all, `"`+l.Import+`"`) {
			t.Errorf("no generated package imports %s", l.Import)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
