package version

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	sha   = "abc1234def5678901234567890abcdef12345678"
	short = "abc1234"
)

var when = time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 2*60*60))

func TestCompute(t *testing.T) {
	all := []string{"v1.0.0", "v1.1.0", "v1.4.2", "v1.4.3", "v1.5.0", "v2.0.0", "v2.1.0-rc.1", "nightly", "v9", "v9.1", "v9.0.0+meta"}
	for _, tc := range []struct {
		name    string
		f       Facts
		o       Options
		want    Info
		wantErr string
	}{
		{
			name: "stable highest",
			f:    Facts{ExactTags: []string{"v2.0.0"}, AllTags: all, Commit: sha, CommitTime: when},
			want: Info{Version: "2.0.0", Tags: []string{"2.0.0", "2.0", "2", "latest"}, Revision: sha, Created: when.UTC()},
		},
		{
			name: "stable highest of its major line only",
			f:    Facts{ExactTags: []string{"v1.5.0"}, AllTags: all, Commit: sha},
			want: Info{Version: "1.5.0", Tags: []string{"1.5.0", "1.5", "1"}, Revision: sha},
		},
		{
			name: "older line patch, highest of its minor line",
			f:    Facts{ExactTags: []string{"v1.4.3"}, AllTags: all, Commit: sha},
			want: Info{Version: "1.4.3", Tags: []string{"1.4.3", "1.4"}, Revision: sha},
		},
		{
			name: "older line patch, not highest of its minor line",
			f:    Facts{ExactTags: []string{"v1.4.2"}, AllTags: all, Commit: sha},
			want: Info{Version: "1.4.2", Tags: []string{"1.4.2"}, Revision: sha},
		},
		{
			name: "higher prerelease does not take latest",
			f:    Facts{ExactTags: []string{"v2.0.0"}, AllTags: []string{"v2.0.0", "v2.0.1-rc.1", "v3.0.0-beta.1"}, Commit: sha},
			want: Info{Version: "2.0.0", Tags: []string{"2.0.0", "2.0", "2", "latest"}, Revision: sha},
		},
		{
			name: "release missing from all tags",
			f:    Facts{ExactTags: []string{"v3.0.0"}, Commit: sha},
			want: Info{Version: "3.0.0", Tags: []string{"3.0.0", "3.0", "3", "latest"}, Revision: sha},
		},
		{
			name: "v0 line",
			f:    Facts{ExactTags: []string{"v0.3.0"}, AllTags: []string{"v0.2.0", "v0.3.0"}, Commit: sha},
			want: Info{Version: "0.3.0", Tags: []string{"0.3.0", "0.3", "0", "latest"}, Revision: sha},
		},
		{
			name: "prerelease",
			f:    Facts{ExactTags: []string{"v2.1.0-rc.1"}, AllTags: all, Commit: sha},
			want: Info{Version: "2.1.0-rc.1", Tags: []string{"2.1.0-rc.1"}, Revision: sha},
		},
		{
			name: "several tags on HEAD: the highest wins",
			f:    Facts{ExactTags: []string{"nightly", "v2.0.0-rc.1", "v2.0.0", "v1.9.0"}, AllTags: []string{"v1.9.0", "v2.0.0-rc.1", "v2.0.0"}, Commit: sha},
			want: Info{Version: "2.0.0", Tags: []string{"2.0.0", "2.0", "2", "latest"}, Revision: sha},
		},
		{
			name: "non-semver tags on HEAD are ignored",
			f:    Facts{ExactTags: []string{"nightly", "v9", "v9.1", "v9.0.0+meta"}, AllTags: all, Describe: "v2.0.0-3-g" + short, Commit: sha},
			want: Info{Version: "2.0.0-3-g" + short, Tags: []string{"2.0.0-3-g" + short, "sha-" + short}, Revision: sha},
		},
		{
			name: "untagged",
			f:    Facts{AllTags: all, Describe: "v1.2.3-4-gabc1234", Commit: sha, CommitTime: when},
			want: Info{Version: "1.2.3-4-gabc1234", Tags: []string{"1.2.3-4-gabc1234", "sha-abc1234"}, Revision: sha, Created: when.UTC()},
		},
		{
			name: "untagged after a prerelease",
			f:    Facts{AllTags: all, Describe: "v2.1.0-rc.1-12-gabc1234", Commit: sha},
			want: Info{Version: "2.1.0-rc.1-12-gabc1234", Tags: []string{"2.1.0-rc.1-12-gabc1234", "sha-abc1234"}, Revision: sha},
		},
		{
			name: "untagged, describe abbreviates longer than 7",
			f:    Facts{Describe: "v1.2.3-4-gabc1234def", Commit: sha},
			want: Info{Version: "1.2.3-4-gabc1234", Tags: []string{"1.2.3-4-gabc1234", "sha-abc1234"}, Revision: sha},
		},
		{
			name: "no tags at all",
			f:    Facts{Describe: short, Commit: sha, Commits: 5},
			want: Info{Version: "0.0.0-5-gabc1234", Tags: []string{"0.0.0-5-gabc1234", "sha-abc1234"}, Revision: sha},
		},
		{
			name: "describe with a non-release tag counts as no tag",
			f:    Facts{Describe: "nightly-2-gabc1234", Commit: sha, Commits: 9},
			want: Info{Version: "0.0.0-9-gabc1234", Tags: []string{"0.0.0-9-gabc1234", "sha-abc1234"}, Revision: sha},
		},
		{
			name:    "dirty refused",
			f:       Facts{ExactTags: []string{"v2.0.0"}, AllTags: all, Commit: sha, Dirty: true},
			wantErr: "work tree has uncommitted changes: commit or stash them, or set MAGESHIP_ALLOW_DIRTY=1 to release a -dirty version",
		},
		{
			name: "dirty allowed on a release: no floating tags",
			f:    Facts{ExactTags: []string{"v2.0.0"}, AllTags: all, Commit: sha, Dirty: true},
			o:    Options{AllowDirty: true},
			want: Info{Version: "2.0.0-dirty", Tags: []string{"2.0.0-dirty"}, Revision: sha, Dirty: true},
		},
		{
			name: "dirty allowed on a prerelease",
			f:    Facts{ExactTags: []string{"v2.1.0-rc.1"}, AllTags: all, Commit: sha, Dirty: true},
			o:    Options{AllowDirty: true},
			want: Info{Version: "2.1.0-rc.1-dirty", Tags: []string{"2.1.0-rc.1-dirty"}, Revision: sha, Dirty: true},
		},
		{
			name: "dirty allowed on an untagged commit: no sha tag",
			f:    Facts{Describe: "v1.2.3-4-gabc1234", Commit: sha, Dirty: true},
			o:    Options{AllowDirty: true},
			want: Info{Version: "1.2.3-4-gabc1234-dirty", Tags: []string{"1.2.3-4-gabc1234-dirty"}, Revision: sha, Dirty: true},
		},
		{
			name: "VERSION override",
			f:    Facts{ExactTags: []string{"v2.0.0"}, AllTags: all, Commit: sha, CommitTime: when},
			o:    Options{Override: "v7.0.0-custom"},
			want: Info{Version: "7.0.0-custom", Tags: []string{"7.0.0-custom"}, Revision: sha, Created: when.UTC()},
		},
		{
			name: "VERSION override drops only one v",
			f:    Facts{Commit: sha},
			o:    Options{Override: "vvintage"},
			want: Info{Version: "vintage", Tags: []string{"vintage"}, Revision: sha},
		},
		{
			name: "VERSION override of 128 characters",
			f:    Facts{Commit: sha},
			o:    Options{Override: "v" + strings.Repeat("a", 128)},
			want: Info{Version: strings.Repeat("a", 128), Tags: []string{strings.Repeat("a", 128)}, Revision: sha},
		},
		{
			name:    "VERSION override over 128 characters",
			f:       Facts{Commit: sha},
			o:       Options{Override: strings.Repeat("a", 129)},
			wantErr: `VERSION "` + strings.Repeat("a", 129) + `" is not a valid image tag: use letters, digits, '_', '.', '-', at most 128 characters, e.g. VERSION=1.2.3`,
		},
		{
			name:    "VERSION override invalid",
			f:       Facts{Commit: sha},
			o:       Options{Override: "1.2.3+build"},
			wantErr: `VERSION "1.2.3+build" is not a valid image tag: use letters, digits, '_', '.', '-', at most 128 characters, e.g. VERSION=1.2.3`,
		},
		{
			name:    "VERSION override of just v",
			f:       Facts{Commit: sha},
			o:       Options{Override: "v"},
			wantErr: `VERSION "v" is not a valid image tag`,
		},
		{
			name:    "VERSION override does not excuse a dirty tree",
			f:       Facts{Commit: sha, Dirty: true},
			o:       Options{Override: "1.2.3"},
			wantErr: "work tree has uncommitted changes",
		},
		{
			name: "VERSION override on an allowed dirty tree is used as given",
			f:    Facts{Commit: sha, Dirty: true},
			o:    Options{Override: "1.2.3", AllowDirty: true},
			want: Info{Version: "1.2.3", Tags: []string{"1.2.3"}, Revision: sha, Dirty: true},
		},
		{
			name: "VERSION override without git",
			o:    Options{Override: "1.2.3"},
			want: Info{Version: "1.2.3", Tags: []string{"1.2.3"}},
		},
		{
			name: "no git allowed",
			o:    Options{AllowNoGit: true},
			want: Info{Version: "dev", Tags: []string{"dev"}},
		},
		{
			name:    "no git refused",
			wantErr: "no commit in the facts: build inside a git repository, or set VERSION",
		},
		{
			name:    "git tag too long for an image tag",
			f:       Facts{ExactTags: []string{"v1.0.0-" + strings.Repeat("x", 130)}, Commit: sha},
			wantErr: "which is not valid",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compute(tc.f, tc.o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Compute error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compute (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeDirtyIsErrDirty(t *testing.T) {
	_, err := Compute(Facts{Commit: sha, Dirty: true}, Options{})
	if !errors.Is(err, ErrDirty) {
		t.Errorf("Compute error = %v, want ErrDirty", err)
	}
}

// TestComputeTagOrder checks that the tags do not depend on the order git lists tags in.
func TestComputeTagOrder(t *testing.T) {
	tags := []string{"v1.4.3", "v1.4.2", "v1.0.0", "v1.5.0-rc.1", "v1.4.10", "v0.9.0"}
	want := []string{"1.4.10", "1.4", "1", "latest"}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {4, 0, 5, 1, 3, 2}} {
		var all []string
		for _, i := range order {
			all = append(all, tags[i])
		}
		got, err := Compute(Facts{ExactTags: []string{"v1.4.10"}, AllTags: all, Commit: sha}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.Tags); diff != "" {
			t.Errorf("tags for AllTags %v (-want +got):\n%s", all, diff)
		}
	}
}

func TestValidTag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"1.2.3", true},
		{"latest", true},
		{"_x", true},
		{"A-b_c.9", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"-x", false},
		{".x", false},
		{"1.2.3+meta", false},
		{"a/b", false},
		{"a b", false},
		{"é", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			err := ValidTag(tc.in)
			if (err == nil) != tc.want {
				t.Errorf("ValidTag(%q) = %v, want valid %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestDebugTags(t *testing.T) {
	got, err := DebugTags([]string{"1.2.3", "1.2", "1", "latest", "sha-abc1234"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1.2.3-debug", "1.2-debug", "1-debug", "latest-debug", "sha-abc1234-debug"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DebugTags (-want +got):\n%s", diff)
	}
	if _, err := DebugTags([]string{strings.Repeat("a", 123)}); err == nil || !strings.Contains(err.Error(), "not a valid image tag") {
		t.Errorf("DebugTags of a 123-character tag: err = %v, want not a valid image tag", err)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Options
		wantErr string
	}{
		{name: "unset"},
		{name: "version", env: map[string]string{"VERSION": "v1.2.3"}, want: Options{Override: "v1.2.3"}},
		{name: "allow dirty", env: map[string]string{"MAGESHIP_ALLOW_DIRTY": "1"}, want: Options{AllowDirty: true}},
		{name: "allow dirty false", env: map[string]string{"MAGESHIP_ALLOW_DIRTY": "0"}},
		{name: "allow dirty bad", env: map[string]string{"MAGESHIP_ALLOW_DIRTY": "yes"}, wantErr: `MAGESHIP_ALLOW_DIRTY="yes" is not a boolean: set MAGESHIP_ALLOW_DIRTY=1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OptionsFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("OptionsFromEnv error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("OptionsFromEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescribeArgs(t *testing.T) {
	got := describeArgs(sha, []string{"v1.0.0", "v2", "vNext", "nightly", "v1.0.0+meta", "v2.0.0-rc.1"})
	want := []string{"describe", "--tags", "--long", "--always", "--abbrev=7", "--match=v*",
		"--exclude=v2", "--exclude=vNext", "--exclude=v1.0.0+meta", sha}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("describeArgs (-want +got):\n%s", diff)
	}
}

func TestFloating(t *testing.T) {
	moved := func(fs []Float) []string {
		var out []string
		for _, f := range fs {
			if f.Moves() {
				out = append(out, f.Tag)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		v         string
		git, reg  []string
		want      []string          // the tags that move
		wantOwner map[string]string // owners of the tags that do not, where one is higher
	}{
		{name: "first release", v: "1.2.3", want: []string{"1.2", "1", "latest"}},
		{name: "v prefix accepted", v: "v1.2.3", git: []string{"v1.2.3"}, want: []string{"1.2", "1", "latest"}},
		{name: "highest in git and registry", v: "1.2.4", git: []string{"v1.2.3", "v1.2.4"}, reg: []string{"1.2.3", "1.2.3-debug", "1.2", "1", "latest"},
			want: []string{"1.2", "1", "latest"}},
		{name: "stale clone: git lacks the higher version, the registry has it", v: "1.2.3", git: []string{"v1.2.2", "v1.2.3"}, reg: []string{"1.2.2", "1.2.4", "latest"},
			want: nil, wantOwner: map[string]string{"1.2": "1.2.4", "1": "1.2.4", "latest": "1.2.4"}},
		{name: "only the debug twin of the higher version is there", v: "1.2.3", reg: []string{"1.2.4-debug", "latest-debug"},
			want: nil, wantOwner: map[string]string{"1.2": "1.2.4", "1": "1.2.4", "latest": "1.2.4"}},
		{name: "git knows a higher version the registry lacks", v: "1.2.3", git: []string{"v1.2.3", "v1.3.0"}, reg: []string{"1.2.3"},
			want: []string{"1.2"}, wantOwner: map[string]string{"1": "1.3.0", "latest": "1.3.0"}},
		{name: "higher minor line in the registry", v: "1.2.5", reg: []string{"1.2.4", "1.3.0"},
			want: []string{"1.2"}, wantOwner: map[string]string{"1": "1.3.0", "latest": "1.3.0"}},
		{name: "higher major line in the registry", v: "1.9.0", reg: []string{"2.0.0"},
			want: []string{"1.9", "1"}, wantOwner: map[string]string{"latest": "2.0.0"}},
		{name: "the same version already tagged", v: "1.2.3", reg: []string{"1.2.3", "1.2.3-debug", "latest"}, want: []string{"1.2", "1", "latest"}},
		{name: "registry prereleases and builds do not count", v: "1.2.3",
			reg:  []string{"1.2.4-rc.1", "1.2.4-rc.1-debug", "2.0.0-beta.1", "1.2.3-4-gabc1234", "1.2.3-4-gabc1234-debug", "sha-abc1234", "dev", "1.2.9-dirty"},
			want: []string{"1.2", "1", "latest"}},
		{name: "registry tags that are not X.Y.Z do not count", v: "1.2.3",
			reg:  []string{"v9.0.0", "9", "9.1", "09.0.0", "1.02.3", "latest", "9.0.0-debug-debug", "9.0.0.1"},
			want: []string{"1.2", "1", "latest"}},
		{name: "git tags that are not vX.Y.Z do not count", v: "1.2.3", git: []string{"9.0.0", "v9", "v9.1", "v9.0.0+meta", "v2.0.0-rc.1"},
			want: []string{"1.2", "1", "latest"}},
		{name: "lower versions everywhere", v: "1.2.3", git: []string{"v0.9.0", "v1.1.0"}, reg: []string{"1.2.2", "0.1.0", "1.1.9-debug"},
			want: []string{"1.2", "1", "latest"}},
		{name: "v0 line", v: "0.3.0", reg: []string{"0.2.0", "0.3.1"},
			want: nil, wantOwner: map[string]string{"0.3": "0.3.1", "0": "0.3.1", "latest": "0.3.1"}},
		{name: "prerelease has no floating tags", v: "1.2.3-rc.1", want: nil},
		{name: "untagged build has no floating tags", v: "1.2.3-4-gabc1234", want: nil},
		{name: "dirty has no floating tags", v: "1.2.3-dirty", want: nil},
		{name: "dev has no floating tags", v: "dev", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Floating(tc.v, tc.git, tc.reg)
			if diff := cmp.Diff(tc.want, moved(got)); diff != "" {
				t.Errorf("moved tags (-want +got):\n%s", diff)
			}
			owners := map[string]string{}
			for _, f := range got {
				if !f.Moves() {
					owners[f.Tag] = f.Owner
				}
				if f.Version != strings.TrimPrefix(tc.v, "v") {
					t.Errorf("%s: Version %q, want %q", f.Tag, f.Version, strings.TrimPrefix(tc.v, "v"))
				}
			}
			if tc.wantOwner == nil {
				tc.wantOwner = map[string]string{}
			}
			if diff := cmp.Diff(tc.wantOwner, owners); diff != "" {
				t.Errorf("owners of the tags that do not move (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFloatingOrder: Compute's tag order (X.Y, X, latest) is Floating's.
func TestFloatingOrder(t *testing.T) {
	var tags []string
	for _, f := range Floating("3.4.5", nil, nil) {
		tags = append(tags, f.Tag)
	}
	if diff := cmp.Diff([]string{"3.4", "3", "latest"}, tags); diff != "" {
		t.Error(diff)
	}
}
