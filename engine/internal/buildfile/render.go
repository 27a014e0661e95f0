package buildfile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Vars are the facts a template may use. Every one is fixed by the commit (and
// SOURCE_DATE_EPOCH): nothing is read from the clock, the user or the host.
type Vars struct {
	// Version is the version without a leading v (1.2.3, 1.2.3-4-gabc1234): the git
	// tag's, as for the image tags.
	Version string
	// Commit is the full commit sha; empty without git.
	Commit string
	// Branch is git rev-parse --abbrev-ref HEAD ("HEAD" when detached); empty without git.
	Branch string
	// Date is the commit's time, or SOURCE_DATE_EPOCH when set.
	Date time.Time
	// CommitDate is the commit's time.
	CommitDate time.Time
	// ProjectName is goreleaser's project_name (default: the binary's name).
	ProjectName string
	// ModulePath is the main module's path.
	ModulePath string
	// Dirty reports uncommitted changes.
	Dirty bool
	// Env is the environment, as the target read it once.
	Env map[string]string
}

// Fixed is what promu's {{user}} and {{host}} give: never this machine's.
const Fixed = "mageship"

// Example is a Vars for checking templates before the version is known.
func Example(env map[string]string, module string) Vars {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Vars{Version: "1.2.3", Commit: strings.Repeat("a", 40), Branch: "main", Date: t, CommitDate: t, ModulePath: module, Env: env}
}

// EnvMap turns KEY=value lines into a map; a later line wins.
func EnvMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// Tag is v + the version: on a tagged commit the tag itself (v1.2.3); between tags
// v1.2.3-4-gabc1234, so that the binary names the commit its image tag names, where
// goreleaser's snapshot would give the previous tag. "dev" without git.
func (v Vars) Tag() string {
	if v.Version == "" || v.Version == "dev" {
		return v.Version
	}
	return "v" + v.Version
}

// release is the tag the version comes from: the version without what git describe
// adds (-N-gSHA) or -dirty.
func (v Vars) release() string {
	return describeSuffix.ReplaceAllString(strings.TrimSuffix(v.Version, "-dirty"), "")
}

// Snapshot reports a version that no tag names exactly (goreleaser's --snapshot).
func (v Vars) Snapshot() bool {
	return v.release() != v.Version || v.Version == "dev"
}

var (
	describeSuffix = regexp.MustCompile(`-[0-9]+-g[0-9a-f]{7,40}$`)
	semverParts    = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)\.([0-9]+)(?:-([0-9A-Za-z.-]+))?`)
)

// semver splits the tag into major, minor, patch and prerelease; zeros for none.
func (v Vars) semver() (major, minor, patch int, pre string) {
	m := semverParts.FindStringSubmatch(v.release())
	if m == nil {
		return 0, 0, 0, ""
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	patch, _ = strconv.Atoi(m[3])
	return major, minor, patch, m[4]
}

func (v Vars) short() string {
	if len(v.Commit) > 7 {
		return v.Commit[:7]
	}
	return v.Commit
}

// Dialect is a tool's template language: its variables and functions.
type Dialect string

// The dialects. Mageship is Image.Ldflags': goreleaser's variables and functions.
const (
	Goreleaser Dialect = "goreleaser"
	Ko         Dialect = "ko"
	Promu      Dialect = "promu"
	Mageship   Dialect = "mageship"
)

// data is what a template of d executes on.
func (d Dialect) data(v Vars, promu promuRepo) any {
	switch d {
	case Ko:
		env := map[string]string{"LDFLAGS": ""}
		for k, val := range v.Env {
			env[k] = val
		}
		tree := "clean"
		if v.Dirty {
			tree = "dirty"
		}
		return map[string]any{
			"Env": env,
			"Git": map[string]any{
				"Branch": v.Branch, "Tag": v.Tag(), "ShortCommit": v.short(), "FullCommit": v.Commit,
				"CommitDate": v.CommitDate.UTC().Format(time.RFC3339), "CommitTimestamp": v.CommitDate.UTC().Unix(),
				"IsDirty": v.Dirty, "IsClean": !v.Dirty, "TreeState": tree,
			},
			"Date":      v.Date.UTC().Format(time.RFC3339),
			"Timestamp": v.Date.UTC().Unix(),
		}
	case Promu:
		return struct{ Branch, Name, Owner, Repo, Revision, Version string }{
			Branch: v.Branch, Name: promu.name(), Owner: promu.owner(), Repo: promu.path, Revision: v.Commit, Version: v.Version,
		}
	}
	major, minor, patch, pre := v.semver()
	tree := "clean"
	if v.Dirty {
		tree = "dirty"
	}
	return map[string]any{
		"ProjectName": v.ProjectName, "ModulePath": v.ModulePath,
		"Version": v.Version, "RawVersion": fmt.Sprintf("%d.%d.%d", major, minor, patch), "Tag": v.Tag(),
		"Major": major, "Minor": minor, "Patch": patch, "Prerelease": pre,
		"Commit": v.Commit, "FullCommit": v.Commit, "ShortCommit": v.short(), "Branch": v.Branch,
		"Date": v.Date.UTC().Format(time.RFC3339), "Timestamp": v.Date.UTC().Unix(), "Now": v.Date.UTC(),
		"CommitDate": v.CommitDate.UTC().Format(time.RFC3339), "CommitTimestamp": v.CommitDate.UTC().Unix(),
		"IsSnapshot": v.Snapshot(), "IsGitDirty": v.Dirty, "IsGitClean": !v.Dirty, "GitTreeState": tree,
		"IsNightly": false, "IsDraft": false, "IsSingleTarget": false,
		"Env": v.Env,
	}
}

// funcs are d's functions, each deterministic.
func (d Dialect) funcs(v Vars, promu promuRepo) template.FuncMap {
	switch d {
	case Ko:
		return template.FuncMap{}
	case Promu:
		return template.FuncMap{
			"date":     v.Date.UTC().Format,
			"user":     func() string { return Fixed },
			"host":     func() string { return Fixed },
			"repoPath": func() string { return promu.path },
		}
	}
	return template.FuncMap{
		"envOrDefault": func(name, def string) string {
			if val, ok := v.Env[name]; ok && val != "" {
				return val
			}
			return def
		},
		"isEnvSet": func(name string) bool { _, ok := v.Env[name]; return ok },
		// time formats the build date, which is the commit's (goreleaser: the clock's).
		"time":       v.Date.UTC().Format,
		"tolower":    strings.ToLower,
		"toupper":    strings.ToUpper,
		"trim":       strings.TrimSpace,
		"trimprefix": strings.TrimPrefix,
		"trimsuffix": strings.TrimSuffix,
		"replace":    strings.ReplaceAll,
		"contains":   strings.Contains,
		"split":      strings.Split,
	}
}

// promuRepo is promu's repository.path, which its {{.Name}}, {{.Owner}}, {{.Repo}}
// and {{repoPath}} name.
type promuRepo struct{ path string }

func (r promuRepo) name() string {
	return r.path[strings.LastIndex(r.path, "/")+1:]
}

func (r promuRepo) owner() string {
	p := strings.TrimSuffix(r.path, "/"+r.name())
	return p[strings.LastIndex(p, "/")+1:]
}

// Text is one templated value of a file, with where it is.
type Text struct {
	S    string
	File string // relative to the module root
	// Line is the file's line where S's first line is.
	Line int
}

// render executes t in dialect d. Errors name the file, the line and the text.
func (t Text) render(d Dialect, v Vars, promu promuRepo) (string, error) {
	tmpl, err := template.New(t.File).Option("missingkey=error").Funcs(d.funcs(v, promu)).Parse(t.S)
	if err != nil {
		return "", t.errorf(d, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d.data(v, promu)); err != nil {
		return "", t.errorf(d, err)
	}
	return b.String(), nil
}

// tmplLine finds text/template's line number in its error ("template: NAME:3: ...").
var (
	tmplLine = regexp.MustCompile(`^template: .*?:([0-9]+):(?:[0-9]+:)? ?(.*)$`)
	unsetEnv = regexp.MustCompile(`<\.Env\.(\w+)>: map has no entry`)
)

func (t Text) errorf(d Dialect, err error) error {
	msg := err.Error()
	line, text := t.Line, t.S
	if m := tmplLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		line += n - 1
		msg = m[2]
		if lines := strings.Split(t.S, "\n"); n-1 < len(lines) {
			text = lines[n-1]
		}
	}
	msg = strings.TrimPrefix(msg, "executing \""+t.File+"\" at ")
	fix := "use only the variables and functions the README lists (Release-build files), or set " + EnvReleaseFile + "=off to build without the file"
	if m := unsetEnv.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%d: %s: environment variable %s is not set: set it, or use {{ envOrDefault %q \"default\" }}", t.File, line, strings.TrimSpace(text), m[1], m[1])
	}
	if d == Mageship {
		fix = "use only {{.Version}} {{.Tag}} {{.Commit}} {{.ShortCommit}} {{.Branch}} {{.Date}} and the functions the README lists"
	}
	return fmt.Errorf("%s:%d: %s: %s template not supported by mageship: %s: %s", t.File, line, strings.TrimSpace(text), d, msg, fix)
}

// Ldflags renders Image.Ldflags, goreleaser's variables and functions, into one
// -ldflags value (elements joined with spaces, empty ones dropped).
func Ldflags(flags []string, v Vars) (string, error) {
	var parts []string
	for i, f := range flags {
		s, err := Text{S: f, File: "Image.Ldflags", Line: i + 1}.render(Mageship, v, promuRepo{})
		if err != nil {
			return "", err
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " "), nil
}
