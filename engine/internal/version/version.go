package version

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Environment variables read by OptionsFromEnv.
const (
	// EnvVersion overrides the version computed from git.
	EnvVersion = "VERSION"
	// EnvAllowDirty, when true (1), lets a release be built from a dirty work tree.
	EnvAllowDirty = "MAGESHIP_ALLOW_DIRTY"
)

// Dev is the version of a local build outside git when Options.AllowNoGit is set.
const Dev = "dev"

// Options says how to turn the facts into a version. The zero value is the strict
// release setting: no override, a dirty work tree or a missing git repository is an
// error. Local image builds set AllowDirty and AllowNoGit.
type Options struct {
	// Override replaces the computed version, e.g. from VERSION. One leading "v" is
	// dropped; the rest must be a valid image tag. It is the only tag produced.
	// Default: "" (compute the version from git).
	Override string
	// AllowDirty lets a dirty work tree through: the version gets a "-dirty" suffix
	// and earns no floating tags (X.Y, X, latest) and no sha- tag. An Override is
	// used as given. Default: false (a dirty work tree is an error).
	AllowDirty bool
	// AllowNoGit makes the version Dev when there is no git binary, no repository or
	// no commit, instead of an error. Default: false.
	AllowNoGit bool
	// Env is git's environment. Default: os.Environ().
	Env []string
}

// OptionsFromEnv reads the release options from VERSION and MAGESHIP_ALLOW_DIRTY
// through getenv (pass os.Getenv). AllowNoGit stays false.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	o := Options{Override: getenv(EnvVersion)}
	if s := getenv(EnvAllowDirty); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Options{}, fmt.Errorf("%s=%q is not a boolean: set %s=1 to release a -dirty version, or unset it", EnvAllowDirty, s, EnvAllowDirty)
		}
		o.AllowDirty = b
	}
	return o, nil
}

// Info is the version of the code being built and what it earns.
type Info struct {
	// Version is the version without a leading "v": 1.2.3, 2.0.0-rc.1,
	// 1.2.3-4-gabc1234, 0.0.0-7-gabc1234, 1.2.3-dirty, dev, or the override.
	Version string
	// Tags are the image tags, Version first, in a fixed order:
	// X.Y.Z, X.Y, X, latest for a release; version, sha-<7 hex> for other commits.
	Tags []string
	// Revision is the full commit sha of HEAD, for org.opencontainers.image.revision.
	// Empty without git.
	Revision string
	// Created is the commit time of HEAD in UTC, for org.opencontainers.image.created;
	// it keeps builds of one commit reproducible. Zero without git.
	Created time.Time
	// Dirty reports uncommitted changes or untracked files in the work tree.
	Dirty bool
}

// ErrDirty is returned by Compute and Resolve for a dirty work tree when
// Options.AllowDirty is not set.
var ErrDirty = errors.New("work tree has uncommitted changes")

// Compute derives the version and its image tags from the facts. It does no I/O.
//
// An exact semver tag vX.Y.Z on HEAD gives X.Y.Z, plus X.Y, X and latest when it is a
// stable release and the highest stable release of that minor line, major line and
// repository. A prerelease tag gives only itself. Any other commit gives
// <nearest tag>-<commits since>-g<short sha> (0.0.0-<commits>-g<short sha> without a
// tag) and sha-<short sha>. Tags that are not full semver (vX.Y.Z[-pre]) are ignored;
// of several on HEAD the highest wins. Facts without a commit (no git) give Dev when
// o.AllowNoGit is set.
func Compute(f Facts, o Options) (Info, error) {
	override, err := overrideTag(o.Override)
	if err != nil {
		return Info{}, err
	}
	if f.Dirty && !o.AllowDirty {
		return Info{}, fmt.Errorf("%w: commit or stash them, or set %s=1 to release a -dirty version", ErrDirty, EnvAllowDirty)
	}
	info := Info{Revision: f.Commit, Dirty: f.Dirty}
	if !f.CommitTime.IsZero() {
		info.Created = f.CommitTime.UTC()
	}

	switch {
	case override != "":
		info.Version, info.Tags = override, []string{override}
		return info, nil
	case f.Commit == "" && o.AllowNoGit:
		info.Version, info.Tags = Dev, []string{Dev}
		return info, nil
	case f.Commit == "":
		return Info{}, errors.New("computing the version: no commit in the facts: build inside a git repository, or set VERSION")
	}

	if exact := highest(f.ExactTags); exact != "" {
		info.Version = strings.TrimPrefix(exact, "v")
		switch {
		case f.Dirty:
			info.Version += "-dirty"
			info.Tags = []string{info.Version}
		case semver.Prerelease(exact) != "":
			info.Tags = []string{info.Version}
		default:
			info.Tags = []string{info.Version}
			for _, fl := range Floating(exact, f.AllTags, nil) {
				if fl.Moves() {
					info.Tags = append(info.Tags, fl.Tag)
				}
			}
		}
	} else {
		short := shortSHA(f.Commit)
		base, n := "0.0.0", f.Commits
		if tag, distance, ok := parseDescribe(f.Describe); ok {
			base, n = strings.TrimPrefix(tag, "v"), distance
		}
		info.Version = fmt.Sprintf("%s-%d-g%s", base, n, short)
		if f.Dirty {
			info.Version += "-dirty"
			info.Tags = []string{info.Version}
		} else {
			info.Tags = []string{info.Version, "sha-" + short}
		}
	}

	for _, t := range info.Tags {
		if ValidTag(t) != nil {
			return Info{}, fmt.Errorf("computing the version: git gives image tag %q, which is not valid: %s; shorten the git tag, or set VERSION", t, tagRule)
		}
	}
	return info, nil
}

// overrideTag validates an override and drops its leading "v".
func overrideTag(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	t := strings.TrimPrefix(s, "v")
	if ValidTag(t) != nil {
		return "", fmt.Errorf("%s %q is not a valid image tag: %s, e.g. %s=1.2.3", EnvVersion, s, tagRule, EnvVersion)
	}
	return t, nil
}

// isRelease reports whether a git tag is a full semver version vX.Y.Z[-pre]: not the
// shorthand vX or vX.Y and without +build metadata, which image tags cannot carry.
func isRelease(tag string) bool {
	return semver.IsValid(tag) && semver.Canonical(tag) == tag
}

func isStable(tag string) bool {
	return isRelease(tag) && semver.Prerelease(tag) == ""
}

// highest returns the highest release tag in tags, or "".
func highest(tags []string) string {
	best := ""
	for _, t := range tags {
		if isRelease(t) && (best == "" || semver.Compare(t, best) > 0) {
			best = t
		}
	}
	return best
}

// Float is the decision about one floating tag (X.Y, X or latest) of a stable release.
type Float struct {
	// Tag is X.Y, X or latest.
	Tag string
	// Version is the release asked about, X.Y.Z.
	Version string
	// Owner is the version the tag belongs on: the highest stable version of the tag's
	// line (X.Y.*, X.*.* or all) among Version and the versions already released.
	Owner string
}

// Moves reports whether the release may move the tag: no higher stable version of the
// tag's line is released.
func (f Float) Moves() bool { return f.Owner == f.Version }

// Floating decides, for the stable release v (vX.Y.Z or X.Y.Z), each of its floating
// tags X.Y, X and latest, in that order: a tag moves only when no stable version known
// from git or from the image repository is higher within that minor line, major line,
// or at all. gitTags are git tag names (vX.Y.Z); registryTags are the repository's
// image tags, where X.Y.Z and its debug twin X.Y.Z-debug name the stable version
// X.Y.Z. Everything else in either list (prereleases, vX, X.Y, latest, sha-...,
// build metadata) is ignored. A v that is not a stable release has no floating tags:
// Floating returns nil. It does no I/O.
func Floating(v string, gitTags, registryTags []string) []Float {
	v = "v" + strings.TrimPrefix(v, "v")
	if !isStable(v) {
		return nil
	}
	known := make([]string, 0, len(gitTags)+len(registryTags))
	for _, t := range gitTags {
		if isStable(t) {
			known = append(known, t)
		}
	}
	for _, t := range registryTags {
		// An image tag names a version without the v; the v form is not what
		// mageship writes, and a tag like v1 or 1.2 is a floating tag itself.
		t = "v" + strings.TrimSuffix(t, DebugSuffix)
		if !strings.HasPrefix(t, "vv") && isStable(t) {
			known = append(known, t)
		}
	}
	owner := func(line func(string) string) string {
		best := v
		for _, t := range known {
			if line(t) == line(v) && semver.Compare(t, best) > 0 {
				best = t
			}
		}
		return strings.TrimPrefix(best, "v")
	}
	ver := strings.TrimPrefix(v, "v")
	return []Float{
		{Tag: strings.TrimPrefix(semver.MajorMinor(v), "v"), Version: ver, Owner: owner(semver.MajorMinor)},
		{Tag: strings.TrimPrefix(semver.Major(v), "v"), Version: ver, Owner: owner(semver.Major)},
		{Tag: "latest", Version: ver, Owner: owner(func(string) string { return "" })},
	}
}

// describeRE matches git describe --long output: <tag>-<distance>-g<abbreviated sha>.
var describeRE = regexp.MustCompile(`^(.+)-([0-9]+)-g[0-9a-f]+$`)

// parseDescribe splits git describe --long output into its tag and distance. ok is
// false when git found no tag (--always prints the bare sha) or the tag is not a release.
func parseDescribe(s string) (tag string, distance int, ok bool) {
	m := describeRE.FindStringSubmatch(s)
	if m == nil || !isRelease(m[1]) {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], n, true
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// tagRE is the grammar of an image tag in a Docker/OCI reference.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

const tagRule = "use letters, digits, '_', '.', '-', at most 128 characters"

// ValidTag checks that s can be used as an image tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func ValidTag(s string) error {
	if !tagRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid image tag: %s", s, tagRule)
	}
	return nil
}

// DebugSuffix is appended to every tag of a debug image variant.
const DebugSuffix = "-debug"

// DebugTags maps tags to their debug variants in the same order: 1.2.3 to
// 1.2.3-debug, latest to latest-debug. It fails when a result would exceed 128
// characters.
func DebugTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		d := t + DebugSuffix
		if ValidTag(d) != nil {
			return nil, fmt.Errorf("making the debug tag of %q: %q is not a valid image tag: %s; shorten VERSION or the git tag", t, d, tagRule)
		}
		out = append(out, d)
	}
	return out, nil
}
