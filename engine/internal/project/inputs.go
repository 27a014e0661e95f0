package project

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Inputs are the files of the module that go build of one main package reads: what a
// build context must hold for the build inside BuildKit to see the same source as go
// build on this machine. Paths are slash-separated and relative to the module root.
type Inputs struct {
	// Files are go.mod, go.sum (when it exists, the module requires anything and has
	// no vendor/), vendor/modules.txt (when it has), and the .go, .s, .h and .syso files
	// of every package of the module (and of vendor/) that the main package links.
	Files []string
	// Embeds are the //go:embed patterns of those packages, with what they match.
	Embeds []Embed
}

// Embed is one //go:embed pattern and the files it matches on disk, as the go command
// expands it: a directory brings in its files, except names starting with . or _ unless
// the pattern starts with all:.
type Embed struct {
	Pos     string   // where the directive is, e.g. "server/assets.go:12"
	Pattern string   // as written, e.g. "static" or "all:templates/*.html"
	Files   []string // what it matches, relative to the module root
}

// Inputs lists the files go build of main reads (see Inputs).
func (p Project) Inputs(main string, tags []string) (Inputs, error) {
	l, err := p.Link(main, tags)
	if err != nil {
		return Inputs{}, err
	}
	in := Inputs{Files: []string{"go.mod"}}
	if p.HasGoSum && p.Requires > 0 && !p.Vendor {
		in.Files = append(in.Files, "go.sum")
	}
	if p.Vendor {
		in.Files = append(in.Files, "vendor/modules.txt")
	}
	for _, pkg := range append(slices.Clone(l.Packages), l.Vendored...) {
		for _, group := range [][]string{pkg.GoFiles, pkg.SFiles, pkg.HFiles, pkg.SysoFiles} {
			for _, f := range group {
				in.Files = append(in.Files, p.rel(filepath.Join(pkg.Dir, f)))
			}
		}
		for _, pattern := range pkg.EmbedPatterns {
			e := Embed{Pattern: pattern}
			if pos := pkg.EmbedPatternPos[pattern]; len(pos) > 0 {
				e.Pos = fmt.Sprintf("%s:%d", p.rel(pos[0].Filename), pos[0].Line)
			}
			files, err := expandEmbed(pkg.Dir, pattern)
			if err != nil {
				return Inputs{}, fmt.Errorf("reading //go:embed %s in %s: %w", pattern, pkg.ImportPath, err)
			}
			for _, f := range files {
				e.Files = append(e.Files, p.rel(f))
			}
			in.Embeds = append(in.Embeds, e)
		}
	}
	return in, nil
}

// rel is abs relative to the module root, slash-separated.
func (p Project) rel(abs string) string {
	r, err := filepath.Rel(p.Dir, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(r)
}

// expandEmbed returns the files a //go:embed pattern of the package in dir matches,
// as cmd/go's resolveEmbed does, leaving its errors to go build: a directory is walked
// for regular files, skipping names that start with . or _ (unless all:) and
// directories of other modules.
func expandEmbed(dir, pattern string) ([]string, error) {
	glob, all := strings.CutPrefix(pattern, "all:")
	matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(glob)))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			if st.Mode().IsRegular() {
				out = append(out, m)
			}
			continue
		}
		err = filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path == m {
				return nil
			}
			if name := d.Name(); !all && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
