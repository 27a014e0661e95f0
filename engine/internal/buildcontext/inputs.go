package buildcontext

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/patternmatcher"
)

// A .dockerignore that leaves out a file go build reads breaks the build inside
// BuildKit, late and in the go command's words (missing go.sum entry, package not
// found), or, for an embedded directory that loses some of its files, not at all: the
// binary silently embeds less than the one go build makes on the host. These checks
// say so before the build, in one line naming the file and the pattern.

// Embed is what one //go:embed directive of the build matches.
type Embed struct {
	Pattern string   // as written, e.g. "static"
	Pos     string   // where, e.g. "server/assets.go:12"
	Files   []string // slash-separated, relative to the context directory
}

// Excluded returns those of files (slash-separated, relative to the context
// directory) that the ignore patterns leave out of the build context, matching each
// as BuildKit does: the path with its parent directories' results.
func Excluded(ignore []string, files []string) ([]string, error) {
	if len(ignore) == 0 {
		return nil, nil
	}
	pm, err := newMatcher(ignore)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		var info patternmatcher.MatchInfo
		var excluded bool
		elems := strings.Split(path.Clean(f), "/")
		for i := range elems {
			excluded, info, err = pm.MatchesUsingParentResults(strings.Join(elems[:i+1], "/"), info)
			if err != nil {
				return nil, fmt.Errorf("matching %s: %w", f, err)
			}
		}
		if excluded {
			out = append(out, f)
		}
	}
	return out, nil
}

// culprit returns the last exclusion pattern (not a ! exception) that matches f or a
// directory above it: the line of the .dockerignore to change.
func culprit(ignore []string, f string) string {
	found := ""
	for _, p := range ignore {
		if strings.HasPrefix(p, "!") {
			continue
		}
		pm, err := patternmatcher.New([]string{p})
		if err != nil {
			continue
		}
		if ok, _ := pm.MatchesOrParentMatches(f); ok {
			found = p
		}
	}
	return found
}

// CheckInputs fails when the ignore patterns (from ignoreFile, as ReadIgnore named
// it) leave out a file that go build of main reads: go.mod, go.sum, a Go file of a
// package it links.
func CheckInputs(ignore []string, ignoreFile, main string, files []string) error {
	out, err := Excluded(ignore, files)
	if err != nil || len(out) == 0 {
		return err
	}
	more := ""
	if len(out) > 1 {
		more = " and 1 more file"
		if len(out) > 2 {
			more = fmt.Sprintf(" and %d more files", len(out)-1)
		}
	}
	return fmt.Errorf("%s excludes %s (pattern %q)%s, which go build %s reads inside BuildKit: remove that pattern, or build on this machine (MAGESHIP_BUILD=host, the default)",
		ignoreName(ignoreFile), out[0], culprit(ignore, out[0]), more, main)
}

// CheckEmbeds checks what the //go:embed directives of main's packages match against
// the ignore patterns: an error when one loses every file it matches (go build fails),
// a warning for each that loses some (the binary embeds fewer files than on the host).
func CheckEmbeds(ignore []string, ignoreFile, main string, embeds []Embed) ([]string, error) {
	var warnings []string
	for _, e := range embeds {
		out, err := Excluded(ignore, e.Files)
		if err != nil {
			return nil, err
		}
		switch {
		case len(out) == 0:
		case len(out) == len(e.Files):
			return nil, fmt.Errorf("%s excludes everything //go:embed %s matches (%s), so go build %s fails inside BuildKit: remove pattern %q, or build on this machine (MAGESHIP_BUILD=host, the default)",
				ignoreName(ignoreFile), e.Pattern, e.Pos, main, culprit(ignore, out[0]))
		default:
			warnings = append(warnings, fmt.Sprintf("%s excludes %d of the %s //go:embed %s matches (%s), e.g. %s (pattern %q): the binary built inside BuildKit embeds the rest only; remove that pattern if it needs them",
				ignoreName(ignoreFile), len(out), plural(len(e.Files), "file"), e.Pattern, e.Pos, out[0], culprit(ignore, out[0])))
		}
	}
	return warnings, nil
}

// ignoreName is how messages name the ignore file: its base name, or mageship's default.
func ignoreName(source string) string {
	switch source {
	case "":
		return "the build context"
	case DefaultSource:
		return "mageship's default .dockerignore"
	}
	return path.Base(strings.ReplaceAll(source, "\\", "/"))
}
