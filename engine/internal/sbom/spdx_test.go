package sbom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/testfix"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var created = time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC)

// handBuildInfo has what a real binary of this test cannot be made to have offline:
// a replacement by another module version, one by a local directory, a module without
// a hash, and a build setting with spaces.
func handBuildInfo() *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "example.com/svc/cmd/svc",
		Main:      debug.Module{Path: "example.com/svc", Version: "v1.4.0"},
		Deps: []*debug.Module{
			{Path: "golang.org/x/mod", Version: "v0.43.0", Sum: "h1:MFuq5J6s35W9D3IjkwyWc9vHh0nENOrt5K8Iof4ofmg="},
			{Path: "github.com/BurntSushi/toml", Version: "v1.4.0", Sum: "h1:kuoIxZQy2WRRk1pttg9asf+WVv6tWQuBNVmK8+nqPr0=",
				Replace: &debug.Module{Path: "github.com/fork/toml", Version: "v1.4.1-0.20260101000000-abcdefabcdef", Sum: "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}},
			{Path: "example.com/local", Version: "v0.0.0", Replace: &debug.Module{Path: "../local"}},
			{Path: "gopkg.in/yaml.v3", Version: "v3.0.1+incompatible"},
		},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "-ldflags", Value: "-s -w -X main.version=v1.4.0"},
			{Key: "-trimpath", Value: "true"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "GOARCH", Value: "arm64"},
			{Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		},
	}
}

func TestFromBuildInfoGolden(t *testing.T) {
	got, err := FromBuildInfo(handBuildInfo(), created)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "buildinfo.spdx.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("SBOM differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestFromBuildInfoIsDeterministic(t *testing.T) {
	a, err := FromBuildInfo(handBuildInfo(), created)
	if err != nil {
		t.Fatal(err)
	}
	// The same modules listed in another order, the time in another zone.
	bi := handBuildInfo()
	for i, j := 0, len(bi.Deps)-1; i < j; i, j = i+1, j-1 {
		bi.Deps[i], bi.Deps[j] = bi.Deps[j], bi.Deps[i]
	}
	b, err := FromBuildInfo(bi, created.In(time.FixedZone("X", 5*3600)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("the same build information gave different documents:\n%s", cmp.Diff(string(a), string(b)))
	}
	c, err := FromBuildInfo(handBuildInfo(), created.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if namespace(t, a) == namespace(t, c) {
		t.Errorf("a different creation time kept the documentNamespace %s", namespace(t, a))
	}
	d, err := FromBuildInfo(handBuildInfo(), created, WithName("localhost:5000/svc@sha256:00 linux/arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if namespace(t, a) == namespace(t, d) {
		t.Errorf("a different name kept the documentNamespace %s", namespace(t, a))
	}
}

func namespace(t *testing.T, doc []byte) string {
	t.Helper()
	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.DocumentNamespace, NamespacePrefix) || len(d.DocumentNamespace) != len(NamespacePrefix)+64 {
		t.Fatalf("documentNamespace %q is not %s<sha256>", d.DocumentNamespace, NamespacePrefix)
	}
	return d.DocumentNamespace
}

func TestFromBuildInfoErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		created time.Time
		want    string
	}{
		{"no build info", nil, created, "records no main module"},
		{"no main module", &debug.BuildInfo{GoVersion: "go1.26.8"}, created, "records no main module"},
		{"no time", handBuildInfo(), time.Time{}, "no creation time given"},
		{"module twice", &debug.BuildInfo{Main: debug.Module{Path: "m"}, Deps: []*debug.Module{{Path: "a", Version: "v1.0.0"}, {Path: "a", Version: "v1.0.0"}}}, created, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromBuildInfo(tc.bi, tc.created)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestModulesRoundTrip(t *testing.T) {
	doc, err := FromBuildInfo(handBuildInfo(), created)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Modules(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []Module{
		{Path: "example.com/local"}, // replaced by ../local: the original path, no version
		{Path: "github.com/fork/toml", Version: "v1.4.1-0.20260101000000-abcdefabcdef", Sum: "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{Path: "golang.org/x/mod", Version: "v0.43.0", Sum: "h1:MFuq5J6s35W9D3IjkwyWc9vHh0nENOrt5K8Iof4ofmg="},
		{Path: "gopkg.in/yaml.v3", Version: "v3.0.1+incompatible"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
}

func TestPurl(t *testing.T) {
	for _, tc := range []struct{ path, version, want string }{
		{"golang.org/x/mod", "v0.43.0", "pkg:golang/golang.org/x/mod@v0.43.0"},
		{"github.com/BurntSushi/toml", "v1.4.0", "pkg:golang/github.com/BurntSushi/toml@v1.4.0"},
		{"gopkg.in/yaml.v3", "v3.0.1+incompatible", "pkg:golang/gopkg.in/yaml.v3@v3.0.1%2Bincompatible"},
		{"example.com/svc", "", "pkg:golang/example.com/svc"},
		{"stdlib", "1.26.8", "pkg:golang/stdlib@1.26.8"},
	} {
		if got := purl(tc.path, tc.version); got != tc.want {
			t.Errorf("purl(%q, %q) = %q, want %q", tc.path, tc.version, got, tc.want)
		}
	}
}

// TestFromFileMatchesGoVersionM compiles a small program with one dependency (from the
// module cache: golang.org/x/mod, which this module requires) and compares the SBOM
// with what go version -m reads from the same binary.
func TestFromFileMatchesGoVersionM(t *testing.T) {
	bin := testfix.BuildHello(t)
	doc, err := FromFile(bin, created)
	if err != nil {
		t.Fatal(err)
	}
	again, err := FromFile(bin, created)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, again) {
		t.Error("two SBOMs of the same binary differ")
	}
	fromBytes, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	viaReader, err := FromBinary(bytes.NewReader(fromBytes), created)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, viaReader) {
		t.Error("FromBinary and FromFile of the same binary differ")
	}

	want := testfix.GoVersionM(t, bin)
	mods, err := Modules(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mods {
		got = append(got, m.Path+" "+m.Version+" "+m.Sum)
	}
	if diff := cmp.Diff(want.Deps, got); diff != "" {
		t.Errorf("dependency modules, go version -m (-) vs SBOM (+):\n%s", diff)
	}
	if len(mods) == 0 || mods[0].Path != "golang.org/x/mod" || !strings.HasPrefix(mods[0].Sum, "h1:") {
		t.Errorf("modules %v, want golang.org/x/mod with its h1 hash", mods)
	}

	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	main := d.Packages[0]
	if main.Name != want.Main || main.PrimaryPackagePurpose != "APPLICATION" {
		t.Errorf("first package %s (%s), want the main module %s", main.Name, main.PrimaryPackagePurpose, want.Main)
	}
	if d.Relationships[0] != (Relationship{"SPDXRef-DOCUMENT", "DESCRIBES", main.SPDXID}) {
		t.Errorf("first relationship %+v, want the document describing %s", d.Relationships[0], main.SPDXID)
	}
	var settings []string
	for _, a := range main.Annotations {
		settings = append(settings, strings.TrimPrefix(a.Comment, BuildSettingPrefix))
	}
	if diff := cmp.Diff(want.Settings, settings); diff != "" {
		t.Errorf("build settings, go version -m (-) vs SBOM (+):\n%s", diff)
	}
	var stdlib *Package
	for i, p := range d.Packages {
		if p.Name == "stdlib" {
			stdlib = &d.Packages[i]
		}
	}
	if stdlib == nil || stdlib.VersionInfo != want.GoVersion || stdlib.VersionInfo != runtime.Version() {
		t.Errorf("stdlib package %+v, want version %s", stdlib, want.GoVersion)
	}
	if want := "pkg:golang/stdlib@" + strings.TrimPrefix(runtime.Version(), "go"); stdlib != nil && stdlib.ExternalRefs[0].ReferenceLocator != want {
		t.Errorf("stdlib purl %s, want %s", stdlib.ExternalRefs[0].ReferenceLocator, want)
	}
	for _, r := range d.Relationships[1:] {
		if r.SPDXElementID != main.SPDXID || r.RelationshipType != "DEPENDS_ON" {
			t.Errorf("relationship %+v, want %s DEPENDS_ON a module", r, main.SPDXID)
		}
	}
	if len(d.Relationships) != len(d.Packages) {
		t.Errorf("%d relationships for %d packages, want one each", len(d.Relationships), len(d.Packages))
	}
}

func TestFromFileNotAGoBinary(t *testing.T) {
	p := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := FromFile(p, created)
	if err == nil || !strings.Contains(err.Error(), "reading the build information of "+p) {
		t.Fatalf("error %v, want one naming %s", err, p)
	}
	if _, err := FromFile(filepath.Join(t.TempDir(), "missing"), created); err == nil {
		t.Fatal("no error for a missing file")
	}
}
