package platform

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Platform
		wantErr string
	}{
		{in: "linux/amd64", want: Platform{OS: "linux", Arch: "amd64"}},
		{in: " linux/arm64 ", want: Platform{OS: "linux", Arch: "arm64"}},
		{in: "linux/arm64/v8", want: Platform{OS: "linux", Arch: "arm64"}},
		{in: "linux/arm", want: Platform{OS: "linux", Arch: "arm", Variant: "v7"}},
		{in: "linux/arm/v6", want: Platform{OS: "linux", Arch: "arm", Variant: "v6"}},
		{in: "amd64", wantErr: "write it as os/arch"},
		{in: "linux/", wantErr: "write it as os/arch"},
		{in: "linux/amd64/v2/x", wantErr: "write it as os/arch"},
		{in: "windows/amd64", wantErr: "unsupported platform"},
		{in: "linux/mips", wantErr: "unsupported platform"},
		{in: "linux/arm/v9", wantErr: "unsupported variant"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList([]string{"linux/amd64", " linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if s := Strings(got); s != "linux/amd64,linux/arm64" {
		t.Errorf("Strings = %q", s)
	}
	if _, err := ParseList([]string{"linux/amd64", "linux/amd64"}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate: err = %v", err)
	}
	if _, err := ParseList([]string{" ", ""}); err == nil || !strings.Contains(err.Error(), "no platform") {
		t.Errorf("empty: err = %v", err)
	}
}

func TestGoEnv(t *testing.T) {
	p, _ := Parse("linux/arm/v6")
	if diff := cmp.Diff([]string{"GOOS=linux", "GOARCH=arm", "GOARM=6"}, p.GoEnv()); diff != "" {
		t.Error(diff)
	}
	if d := p.Dir(); d != "linux_arm_v6" {
		t.Errorf("Dir = %q", d)
	}
}
