package buildfile

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse reads the file at rel (relative to the module root) of dialect d from data.
// project is the default project and binary name (goreleaser's project_name, promu's
// repository name): the module path's last element.
func Parse(rel string, d Dialect, data []byte, project string) (File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return File{}, fmt.Errorf("reading %s: %v: fix its YAML", rel, err)
	}
	f := File{Path: rel, Dialect: d}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return File{}, fmt.Errorf("%s:%d: the file is not a YAML mapping: fix it, or remove it", rel, root.Line)
	}
	p := parser{file: rel, dialect: d}
	var err error
	switch d {
	case Goreleaser:
		err = p.goreleaser(&f, root, project)
	case Ko:
		err = p.ko(&f, root)
	case Promu:
		err = p.promu(&f, root, project)
	default:
		err = fmt.Errorf("%s: unknown kind of file %q", rel, d)
	}
	return f, err
}

type parser struct {
	file    string
	dialect Dialect
}

// each calls fn for each key of a mapping node, in order.
func each(n *yaml.Node, fn func(key string, k, v *yaml.Node) error) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if err := fn(n.Content[i].Value, n.Content[i], n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (p parser) errorf(n *yaml.Node, text, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", p.file, n.Line, text, fmt.Sprintf(format, args...))
}

// unsupported is the error for a key mageship does not build as the file states.
func (p parser) unsupported(k, v *yaml.Node, why string) error {
	return p.errorf(k, k.Value+": "+oneLine(v), "%s key not supported by mageship (%s): remove it, or set %s=off to build without the file", p.dialect, why, EnvReleaseFile)
}

func oneLine(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strings.TrimSpace(strings.SplitN(n.Value, "\n", 2)[0])
	}
	b, _ := yaml.Marshal(n)
	return strings.Join(strings.Fields(string(b)), " ")
}

// scalar is n's value; an error unless n is a scalar.
func (p parser) scalar(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errorf(n, key+": "+oneLine(n), "expected a single value")
	}
	return n.Value, nil
}

// text is a templated scalar with its line: for a block scalar (| or >), the line
// after the indicator.
func (p parser) text(n *yaml.Node) Text {
	line := n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		line++
	}
	return Text{S: n.Value, File: p.file, Line: line}
}

// texts reads a scalar or a sequence of scalars; split turns a scalar into fields
// (ko's FlagArray).
func (p parser) texts(n *yaml.Node, key string, split bool) ([]Text, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		if split {
			var out []Text
			for _, f := range strings.Fields(n.Value) {
				out = append(out, Text{S: f, File: p.file, Line: n.Line})
			}
			return out, nil
		}
		return []Text{p.text(n)}, nil
	case yaml.SequenceNode:
		var out []Text
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, p.errorf(c, key+": "+oneLine(c), "expected a string")
			}
			out = append(out, p.text(c))
		}
		return out, nil
	}
	return nil, p.errorf(n, key+": "+oneLine(n), "expected a string or a list of strings")
}

// strs reads a list of plain strings (not templated).
func (p parser) strs(n *yaml.Node, key string) ([]string, error) {
	ts, err := p.texts(n, key, false)
	var out []string
	for _, t := range ts {
		if strings.Contains(t.S, "{{") {
			return nil, p.errorf(n, key+": "+t.S, "templates are not supported in %s: write the value itself", key)
		}
		out = append(out, t.S)
	}
	return out, err
}

// takeTags moves -tags flags out of flags into tags (go build takes only the last
// -tags, so mageship passes one).
func takeTags(flags []Text, tags []string) ([]Text, []string) {
	var out []Text
	for i := 0; i < len(flags); i++ {
		s := strings.TrimPrefix(flags[i].S, "-")
		switch {
		case strings.HasPrefix(s, "-tags=") || strings.HasPrefix(s, "tags="):
			_, v, _ := strings.Cut(s, "=")
			tags = appendTags(tags, v)
		case (s == "-tags" || s == "tags") && i+1 < len(flags):
			i++
			tags = appendTags(tags, flags[i].S)
		default:
			out = append(out, flags[i])
		}
	}
	return out, tags
}

func appendTags(tags []string, list string) []string {
	for _, t := range strings.FieldsFunc(strings.Trim(list, `"'`), func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// mainDir turns a main (a package directory, or a .go file in it) into ./dir or ".".
func mainDir(m string) string {
	if strings.HasSuffix(m, ".go") {
		m = path.Dir(m)
	}
	m = path.Clean(m)
	if m == "." || strings.HasPrefix(m, "../") || path.IsAbs(m) || strings.Contains(m, ".") && !strings.HasPrefix(m, ".") && strings.Contains(strings.SplitN(m, "/", 2)[0], ".") {
		return m // ".", or an import path the caller resolves
	}
	return "./" + m
}

// goreleaser reads a goreleaser v1 or v2 file: builds (or v1's single build), the
// project's env and name, and before.hooks (reported, not run).
func (p parser) goreleaser(f *File, root *yaml.Node, project string) error {
	var builds []*yaml.Node
	var globalEnv []Text
	err := each(root, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "project_name":
			if s, err := p.scalar(v, key); err == nil && s != "" {
				project = s
			}
		case "env":
			globalEnv, err = p.texts(v, key, false)
		case "builds":
			if v.Kind != yaml.SequenceNode {
				return p.errorf(v, key, "expected a list of builds")
			}
			builds = append(builds, v.Content...)
		case "build":
			builds = append(builds, v)
		case "before":
			f.Left = append(f.Left, "before hooks (not run)")
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(builds) == 0 {
		// goreleaser's default: one build of the module root.
		builds = append(builds, &yaml.Node{Kind: yaml.MappingNode, Line: 1})
	}
	for i, bn := range builds {
		b, left, hooks, err := p.goreleaserBuild(bn, i, project)
		if err != nil {
			return err
		}
		if left != "" {
			f.Left = append(f.Left, left)
			continue
		}
		if hooks {
			f.Left = append(f.Left, fmt.Sprintf("build %s hooks (not run)", name(b, i)))
		}
		b.Env = append(slices.Clone(globalEnv), b.Env...)
		f.Builds = append(f.Builds, b)
	}
	return nil
}

// name is how a warning names a build: its id, else its place.
func name(b Build, i int) string {
	if b.ID != "" {
		return b.ID
	}
	return fmt.Sprintf("#%d", i+1)
}

// goreleaserBuild reads one build; left says why it is left out ("" when it is not),
// hooks whether it has hooks, which are not run.
func (p parser) goreleaserBuild(n *yaml.Node, i int, project string) (Build, string, bool, error) {
	b := Build{File: p.file, Line: n.Line, Dialect: Goreleaser, Main: ".", HasLdflags: true, Project: project}
	if n.Kind != yaml.MappingNode {
		return b, "", false, p.errorf(n, "builds", "expected a build (a mapping)")
	}
	var goos, targets []string
	var builder, skip string
	var hooks bool
	var binary *Text
	err := each(n, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "id":
			b.ID, err = p.scalar(v, key)
		case "main":
			b.Main, err = p.scalar(v, key)
			b.Main = mainDir(b.Main)
		case "binary":
			t := p.text(v)
			binary = &t
		case "dir":
			if d, _ := p.scalar(v, key); d != "" && path.Clean(d) != "." {
				return p.unsupported(k, v, "a build in another directory")
			}
		case "goos":
			goos, err = p.strs(v, key)
		case "targets":
			targets, err = p.strs(v, key)
		case "goarch", "goamd64", "go386", "goarm", "goarm64", "gomips", "goppc64", "goriscv64", "ignore",
			"mod_timestamp", "no_unique_dist_dir", "no_main_check":
			// mageship's platforms are its own; file times are the commit's.
		case "builder", "lang":
			builder, err = p.scalar(v, key)
		case "skip":
			skip, err = p.scalar(v, key)
		case "hooks":
			hooks = true
		case "tool", "gobinary":
			if s, _ := p.scalar(v, key); s != "" && s != "go" {
				return p.unsupported(k, v, "mageship runs the go command on PATH")
			}
		case "command":
			if s, _ := p.scalar(v, key); s != "" && s != "build" {
				return p.unsupported(k, v, "mageship runs go build")
			}
		case "buildmode":
			if s, _ := p.scalar(v, key); s != "" && s != "exe" {
				return p.unsupported(k, v, "mageship builds executables")
			}
		case "ldflags":
			b.Ldflags, err = p.texts(v, key, false)
		case "flags":
			b.Flags, err = p.texts(v, key, false)
		case "gcflags", "asmflags":
			var ts []Text
			ts, err = p.texts(v, key, false)
			for _, t := range ts {
				t.S = "-" + key + "=" + t.S
				b.Flags = append(b.Flags, t)
			}
		case "tags":
			var tags []string
			tags, err = p.strs(v, key)
			b.Tags = append(b.Tags, tags...)
		case "env":
			b.Env, err = p.texts(v, key, false)
		case "overrides":
			for _, o := range v.Content {
				var oo struct{ Goos string }
				if o.Decode(&oo) == nil && oo.Goos == "linux" {
					return p.unsupported(k, o, "overrides for linux")
				}
			}
		default:
			return p.unsupported(k, v, "unknown to mageship")
		}
		return err
	})
	if err != nil {
		return b, "", false, err
	}
	switch {
	case builder != "" && builder != "go":
		return b, fmt.Sprintf("build %s (builder %s)", name(b, i), builder), false, nil
	case skip == "true":
		return b, fmt.Sprintf("build %s (skip: true)", name(b, i)), false, nil
	case skip != "" && skip != "false":
		return b, "", false, p.errorf(n, "skip: "+skip, "goreleaser template in skip not supported by mageship: write true or false")
	case !forLinux(goos, targets):
		return b, fmt.Sprintf("build %s (not for linux)", name(b, i)), false, nil
	}
	if len(b.Ldflags) == 0 {
		// goreleaser's default ldflags (internal/builders/golang WithDefaults).
		b.Ldflags = []Text{{S: "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser", File: p.file, Line: n.Line}}
	}
	b.Flags, b.Tags = takeTags(b.Flags, b.Tags)
	if binary != nil {
		s, err := binary.render(Goreleaser, Vars{ProjectName: project}, promuRepo{})
		if err != nil {
			return b, "", false, err
		}
		b.Binary = path.Base(s)
	} else {
		b.Binary = project
	}
	return b, "", hooks, nil
}

// forLinux reports whether a goreleaser build's goos or targets include linux; its
// defaults (linux, darwin, windows) do.
func forLinux(goos, targets []string) bool {
	if len(targets) > 0 {
		return slices.ContainsFunc(targets, func(t string) bool {
			return strings.HasPrefix(t, "linux_") || t == "go_first_class" || t == "go_118_first_class"
		})
	}
	return len(goos) == 0 || slices.Contains(goos, "linux")
}

// ko reads .ko.yaml: builds, defaultEnv, defaultFlags, defaultLdflags. ko always adds
// -trimpath and passes -ldflags only when some are given.
func (p parser) ko(f *File, root *yaml.Node) error {
	var builds []*yaml.Node
	var defEnv, defFlags, defLdflags []Text
	err := each(root, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "builds":
			if v.Kind != yaml.SequenceNode {
				return p.errorf(v, key, "expected a list of builds")
			}
			builds = v.Content
		case "defaultEnv":
			defEnv, err = p.texts(v, key, false)
		case "defaultFlags":
			defFlags, err = p.texts(v, key, true)
		case "defaultLdflags":
			defLdflags, err = p.texts(v, key, false)
		case "defaultBaseImage", "baseImageOverrides", "defaultPlatforms", "defaultRepo":
			f.Left = append(f.Left, key+" (the image's base and platforms are mageship's configuration)")
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, n := range builds {
		b := Build{File: p.file, Line: n.Line, Dialect: Ko}
		var env, flags, ldflags []Text
		err := each(n, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "id":
				b.ID, err = p.scalar(v, key)
			case "main":
				b.Main, err = p.scalar(v, key)
				b.Main = mainDir(b.Main)
			case "dir":
				if d, _ := p.scalar(v, key); d != "" && path.Clean(d) != "." {
					return p.unsupported(k, v, "a build in another directory")
				}
			case "env":
				env, err = p.texts(v, key, false)
			case "flags":
				flags, err = p.texts(v, key, true)
			case "ldflags":
				ldflags, err = p.texts(v, key, false)
			case "linux_capabilities":
				return p.unsupported(k, v, "file capabilities")
			default:
				return p.unsupported(k, v, "unknown to mageship")
			}
			return err
		})
		if err != nil {
			return err
		}
		if b.Main == "" {
			b.Main = "." // ko's default: the directory the build runs in
		}
		if len(env) == 0 {
			env = defEnv
		}
		if len(flags) == 0 {
			flags = defFlags
		}
		if len(ldflags) == 0 {
			ldflags = defLdflags
		}
		b.Env, b.Ldflags, b.HasLdflags = env, ldflags, len(ldflags) > 0
		b.Flags = append(slices.Clone(flags), Text{S: "-trimpath", File: p.file, Line: n.Line})
		b.Flags, b.Tags = takeTags(b.Flags, b.Tags)
		f.Builds = append(f.Builds, b)
	}
	return nil
}

// promu reads .promu.yml: build.binaries, flags, ldflags, extldflags, tags (linux,
// else all), static; go.cgo is refused.
func (p parser) promu(f *File, root *yaml.Node, project string) error {
	var cfg struct {
		Repository struct{ Path string }
		Go         struct{ CGo bool }
		Build      struct {
			Binaries   []struct{ Name, Path string }
			Flags      string
			LDFlags    string
			ExtLDFlags []string
			Tags       map[string][]string
			Static     *bool
		}
	}
	if err := root.Decode(&cfg); err != nil {
		return fmt.Errorf("reading %s: %v: fix it as promu's README describes", p.file, err)
	}
	ldflags := []Text{{S: "-X main.Version={{.Version}}", File: p.file, Line: 1}}
	var flagsLine int
	err := each(root, func(key string, k, v *yaml.Node) error {
		switch key {
		case "go":
			if cfg.Go.CGo {
				return p.unsupported(k, v, "cgo: mageship builds static binaries")
			}
		case "build":
			return each(v, func(key string, k, v *yaml.Node) error {
				switch key {
				case "ldflags":
					if strings.TrimSpace(v.Value) != "" {
						ldflags = []Text{p.text(v)}
					}
				case "flags":
					flagsLine = v.Line
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	repo := cfg.Repository.Path
	if repo == "" {
		repo = project
	}
	ext := slices.Clone(cfg.Build.ExtLDFlags)
	if (cfg.Build.Static == nil || *cfg.Build.Static) && !slices.Contains(ext, "-static") {
		ext = append(ext, "-static")
	}
	suffix := ""
	if len(ext) > 0 {
		suffix = fmt.Sprintf("-extldflags '%s'", strings.Join(ext, " "))
	}
	tags, ok := cfg.Build.Tags["linux"]
	if !ok {
		tags = cfg.Build.Tags["all"]
	}
	var flags []Text
	for _, fl := range strings.Fields(cfg.Build.Flags) {
		if strings.ContainsAny(fl, `"'`) {
			return fmt.Errorf("%s:%d: flags: %s: quoted flags not supported by mageship: write each flag without quotes", p.file, flagsLine, cfg.Build.Flags)
		}
		flags = append(flags, Text{S: fl, File: p.file, Line: flagsLine})
	}
	binaries := cfg.Build.Binaries
	if len(binaries) == 0 {
		binaries = append(binaries, struct{ Name, Path string }{Name: path.Base(repo), Path: "."})
	}
	for _, bin := range binaries {
		b := Build{File: p.file, Dialect: Promu, ID: bin.Name, Binary: bin.Name, Main: mainDir(bin.Path),
			Ldflags: ldflags, HasLdflags: true, Suffix: suffix, Flags: flags, Tags: slices.Clone(tags), promu: promuRepo{path: repo}}
		b.Flags, b.Tags = takeTags(b.Flags, b.Tags)
		f.Builds = append(f.Builds, b)
	}
	return nil
}
