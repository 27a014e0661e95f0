package buildfile

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// File is a release-build file that was read.
type File struct {
	Path    string  // relative to the module root, slash-separated
	Dialect Dialect // Goreleaser, Ko or Promu
	Builds  []Build // its linux Go builds, in the file's order
	// Left is what the file states that mageship leaves out (builds that are not Go,
	// skipped or not for linux, hooks), one phrase each, for one warning line.
	Left []string
}

// Build is one linux Go build of a file.
type Build struct {
	File    string // the file's path, for messages
	Line    int    // the build's line
	Dialect Dialect
	ID      string
	// Main is the main package, relative to the module root: "./cmd/x" or ".".
	Main string
	// Binary is the binary's name; "" for go build's.
	Binary string
	// Ldflags are joined with spaces into -ldflags (goreleaser and ko: one element
	// each; promu: its template's lines). HasLdflags is false when the tool passes no
	// -ldflags at all (ko without any).
	Ldflags    []Text
	HasLdflags bool
	// Suffix is appended to the rendered ldflags as is (promu's -extldflags).
	Suffix string
	// Flags are go build flags, one argument each, in order (-trimpath, -gcflags=...).
	Flags []Text
	// Tags are build tags, from the tags key or a -tags flag.
	Tags []string
	// Env are KEY=value lines for the go command, templated.
	Env []Text
	// Project is goreleaser's project_name, for {{.ProjectName}}.
	Project string
	// Promu's repository.path.
	promu promuRepo
}

// Rendered is a build with its templates executed: what go build gets.
type Rendered struct {
	// Ldflags is the -ldflags value; HasLdflags false means no -ldflags at all.
	Ldflags    string
	HasLdflags bool
	Flags      []string
	Env        []string
}

// Render executes b's templates with v.
func (b Build) Render(v Vars) (Rendered, error) {
	r := Rendered{HasLdflags: b.HasLdflags}
	if v.ProjectName == "" {
		v.ProjectName = b.Project
	}
	// The build's env comes first: goreleaser renders it, then adds it to what
	// {{.Env.NAME}} reads in the entries after it and in the ldflags and flags.
	v.Env = maps.Clone(v.Env)
	for _, t := range b.Env {
		s, err := t.render(b.Dialect, v, b.promu)
		if err != nil {
			return Rendered{}, err
		}
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			return Rendered{}, fmt.Errorf("%s:%d: %s: env entry is not KEY=value: write it as NAME=value", t.File, t.Line, t.S)
		}
		r.Env = append(r.Env, s)
		if b.Dialect == Goreleaser {
			if v.Env == nil {
				v.Env = map[string]string{}
			}
			v.Env[k] = val
		}
	}
	var parts []string
	for _, t := range b.Ldflags {
		s, err := t.render(b.Dialect, v, b.promu)
		if err != nil {
			return Rendered{}, err
		}
		switch b.Dialect {
		case Promu:
			parts = append(parts, strings.Split(s, "\n")...)
		default:
			if s != "" || b.Dialect == Ko {
				parts = append(parts, s)
			}
		}
	}
	if b.Suffix != "" {
		parts = append(parts, b.Suffix)
	}
	r.Ldflags = strings.Join(parts, " ")
	for _, t := range b.Flags {
		s, err := t.render(b.Dialect, v, b.promu)
		if err != nil {
			return Rendered{}, err
		}
		if s != "" {
			r.Flags = append(r.Flags, s)
		}
	}

	return r, nil
}

// Check renders b with v and refuses what mageship cannot build as the file states:
// cgo, flags that choose the output or the linker flags outside the ldflags key.
func (b Build) Check(v Vars) error {
	r, err := b.Render(v)
	if err != nil {
		return err
	}
	cgo := -1 // the last CGO_ENABLED entry wins, as in the go command's environment
	for i, kv := range r.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "CGO_ENABLED" {
			cgo = i
		}
	}
	if cgo >= 0 && r.Env[cgo] != "CGO_ENABLED=0" {
		t := b.Env[cgo]
		return fmt.Errorf("%s:%d: %s: cgo is not supported (mageship builds static binaries): set CGO_ENABLED=0 for linux, or leave it out", t.File, t.Line, t.S)
	}
	for i, f := range r.Flags {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if slices.Contains([]string{"o", "ldflags", "toolexec", "C", "race", "msan", "asan", "linkshared"}, name) {
			t := b.Flags[i]
			return fmt.Errorf("%s:%d: %s: flag -%s is not supported in flags: mageship chooses the output, and ldflags belong in the ldflags key", t.File, t.Line, t.S, name)
		}
	}
	return nil
}

// VersionVar returns the variable a -X of b's ldflags sets to a value holding the
// version (goreleaser {{.Version}}, {{.Tag}}..., ko {{.Git.Tag}}, promu {{.Version}}),
// found by rendering with v and with v's version changed: the -X whose value changes.
// "" when none does.
func (b Build) VersionVar(v Vars) string {
	r1, err1 := b.Render(v)
	w := v
	w.Version = "98.76.54"
	r2, err2 := b.Render(w)
	if err1 != nil || err2 != nil {
		return ""
	}
	x1, x2 := xflags(r1.Ldflags), xflags(r2.Ldflags)
	for i := range min(len(x1), len(x2)) {
		if x1[i][0] == x2[i][0] && x1[i][1] != x2[i][1] && strings.Contains(x2[i][1], "98.76.54") {
			return x1[i][0]
		}
	}
	return ""
}

// xflags lists the -X name=value pairs of an ldflags string, quotes removed.
func xflags(ldflags string) [][2]string {
	f := splitQuoted(ldflags)
	var out [][2]string
	for i := 0; i < len(f); i++ {
		arg := f[i]
		switch {
		case arg == "-X" && i+1 < len(f):
			i++
			arg = f[i]
		case strings.HasPrefix(arg, "-X="):
			arg = arg[3:]
		default:
			continue
		}
		if k, val, ok := strings.Cut(arg, "="); ok {
			out = append(out, [2]string{k, val})
		}
	}
	return out
}

// splitQuoted splits s into fields as go build's -ldflags does: spaces separate,
// single or double quotes group.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '\'' || r == '"'):
			quote, in = r, true
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
