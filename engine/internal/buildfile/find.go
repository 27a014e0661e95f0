package buildfile

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// GoreleaserNames are the files goreleaser reads at the root when no --config is
// given, in its order.
var GoreleaserNames = []string{".goreleaser.yml", ".goreleaser.yaml", "goreleaser.yml", "goreleaser.yaml"}

// Candidate is a release-build file found in a repository.
type Candidate struct {
	Path    string // relative to the module root, slash-separated
	Dialect Dialect
	// Why says how it was found ("named by .github/workflows/release.yml:12").
	Why string
}

// configFlag is a goreleaser --config/-f argument naming a YAML file.
var configFlag = regexp.MustCompile(`(?:^|\s)(?:--config|-f)(?:=|\s+)["']?([^\s"']+\.ya?ml)`)

// Find lists the release-build files of the module in fsys, in the order mageship
// prefers them: goreleaser's (the path a CI workflow passes with --config or -f, else
// goreleaser's default names), ko's (KO_CONFIG_PATH, a file or a directory holding
// .ko.yaml, when koConfigPath is set, else .ko.yaml), promu's .promu.yml. goreleaser
// comes first: it states how the release binaries are built, where a .ko.yaml often
// serves development images and takes its ldflags from a Makefile's environment. Only
// files that exist are listed. The CI files read are .github/workflows/*.yml|yaml and
// .gitlab-ci.yml; a line counts when it mentions goreleaser or names a file whose name
// does.
func Find(fsys fs.FS, koConfigPath string) ([]Candidate, error) {
	var out []Candidate
	exists := func(p string) bool {
		fi, err := fs.Stat(fsys, p)
		return err == nil && fi.Mode().IsRegular()
	}
	named, err := workflowConfigs(fsys)
	if err != nil {
		return nil, err
	}
	found := false
	for _, c := range named {
		if exists(c.Path) {
			out = append(out, c)
			found = true
			break
		}
	}
	if !found {
		for _, n := range GoreleaserNames {
			if exists(n) {
				out = append(out, Candidate{Path: n, Dialect: Goreleaser})
				break
			}
		}
	}
	switch {
	case koConfigPath != "":
		p := filepath.ToSlash(koConfigPath)
		if fi, err := fs.Stat(fsys, p); err == nil && fi.IsDir() {
			p = path.Join(p, ".ko.yaml")
		}
		if !exists(p) {
			return nil, fmt.Errorf("KO_CONFIG_PATH=%s: no such file: point it at the .ko.yaml (or its directory), or unset it", koConfigPath)
		}
		out = append(out, Candidate{Path: p, Dialect: Ko, Why: "KO_CONFIG_PATH"})
	default:
		for _, n := range []string{".ko.yaml", ".ko.yml"} {
			if exists(n) {
				out = append(out, Candidate{Path: n, Dialect: Ko})
				break
			}
		}
	}
	if exists(".promu.yml") {
		out = append(out, Candidate{Path: ".promu.yml", Dialect: Promu})
	}
	return out, nil
}

// workflowConfigs are the goreleaser config paths CI files pass, in file order.
func workflowConfigs(fsys fs.FS) ([]Candidate, error) {
	var files []string
	for _, pat := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
		m, err := fs.Glob(fsys, pat)
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	files = append(files, ".gitlab-ci.yml")
	var out []Candidate
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range configFlag.FindAllStringSubmatch(line, -1) {
				p := path.Clean(strings.TrimPrefix(m[1], "./"))
				if !strings.Contains(strings.ToLower(line), "goreleaser") && !strings.Contains(strings.ToLower(path.Base(p)), "goreleaser") {
					continue
				}
				out = append(out, Candidate{Path: p, Dialect: Goreleaser, Why: fmt.Sprintf("named by %s:%d", f, i+1)})
			}
		}
	}
	return out, nil
}

// EnvReleaseFile chooses the release-build file: "off" reads none, a path (relative
// to the module root) reads that one, whose name says its kind (.ko.yaml, .promu.yml,
// else goreleaser's); unset, Find decides.
const EnvReleaseFile = "MAGESHIP_RELEASE_FILE"

// Dialect of a file named by its path: ko's and promu's names, else goreleaser.
func dialectOf(p string) Dialect {
	switch path.Base(p) {
	case ".ko.yaml", ".ko.yml":
		return Ko
	case ".promu.yml", ".promu.yaml":
		return Promu
	}
	return Goreleaser
}

// Read finds the release-build files of the module at dir and reads the first that
// has a linux Go build. The others found are returned by path, to be named in a
// warning. choose is MAGESHIP_RELEASE_FILE; project is the default project name. A
// file is nil when there is none.
func Read(dir, choose, koConfigPath, project string) (*File, []string, error) {
	switch choose {
	case "off":
		return nil, nil, nil
	case "":
	default:
		rel := filepath.ToSlash(choose)
		if filepath.IsAbs(choose) {
			r, err := filepath.Rel(dir, choose)
			if err != nil || strings.HasPrefix(r, "..") {
				return nil, nil, fmt.Errorf("%s=%s is outside the module %s: name a file in it, or off", EnvReleaseFile, choose, dir)
			}
			rel = filepath.ToSlash(r)
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, nil, fmt.Errorf("%s=%s: %v: name a goreleaser, ko or promu file of the module, or off", EnvReleaseFile, choose, err)
		}
		f, err := Parse(rel, dialectOf(rel), data, project)
		return &f, nil, err
	}
	if koConfigPath != "" && filepath.IsAbs(koConfigPath) {
		if rel, err := filepath.Rel(dir, koConfigPath); err == nil && !strings.HasPrefix(rel, "..") {
			koConfigPath = rel
		} else {
			return nil, nil, fmt.Errorf("KO_CONFIG_PATH=%s is outside the module %s: put the .ko.yaml in the module, or unset it", koConfigPath, dir)
		}
	}
	cands, err := Find(os.DirFS(dir), koConfigPath)
	if err != nil {
		return nil, nil, err
	}
	var chosen *File
	var others []string
	for _, c := range cands {
		if chosen != nil {
			others = append(others, c.Path)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c.Path)))
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", c.Path, err)
		}
		f, err := Parse(c.Path, c.Dialect, data, project)
		if err != nil {
			return nil, nil, err
		}
		if len(f.Builds) == 0 {
			others = append(others, c.Path)
			continue
		}
		chosen = &f
	}
	return chosen, others, nil
}
