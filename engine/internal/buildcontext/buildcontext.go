package buildcontext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/mageship/mageship/engine/internal/bytesize"
)

// DefaultSource is the Report.IgnoreFile (and ReadIgnore source) of patterns that
// came from the fallback text rather than from the context's own .dockerignore.
const DefaultSource = "mageship default"

// Report is what a build context would send to the builder.
type Report struct {
	Dir        string
	IgnoreFile string   // path of the .dockerignore used, DefaultSource for mageship's default text, "" if none; set by the caller from ReadIgnore
	Files      int      // non-directory entries sent: regular files, symlinks (not followed) and others
	Bytes      int64    // sum of the sizes of the regular files sent
	Secrets    []string // slash-separated paths, relative to Dir, of sent files that look like secrets
	VCS        []string // slash-separated paths, relative to Dir, of .git, .hg and .svn directories that would be sent

	vcsFiles map[string]int // files sent under each VCS entry
}

// ReadIgnore returns the ignore patterns of the build context dir: those of
// dir/.dockerignore when it exists, with source its path; otherwise those of the
// fallback text (mageship's default .dockerignore), with source DefaultSource; or
// none, with source "", when fallback is empty too. A .dockerignore that exists but
// cannot be read is an error, never silently replaced by the fallback.
func ReadIgnore(dir, fallback string) (patterns []string, source string, err error) {
	name := filepath.Join(dir, ".dockerignore")
	data, err := os.ReadFile(name)
	switch {
	case err == nil:
		patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", name, err)
		}
		return patterns, name, nil
	case errors.Is(err, fs.ErrNotExist):
		if strings.TrimSpace(fallback) == "" {
			return nil, "", nil
		}
		patterns, err := ignorefile.ReadAll(strings.NewReader(fallback))
		if err != nil {
			return nil, "", fmt.Errorf("reading the %s .dockerignore: %w", DefaultSource, err)
		}
		return patterns, DefaultSource, nil
	default:
		// The path is already in the message; keep only the cause (still wrapped).
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, "", fmt.Errorf("reading %s: %w: fix its permissions or remove it", name, err)
	}
}

// Audit walks the build context dir as the builder would send it, after excluding
// what the ignore patterns (as returned by ReadIgnore) exclude, and reports the
// files, bytes, secrets and version-control directories it would send. Symlinks are
// counted but not followed. Excluded directories are not walked unless an exception
// pattern could re-include something below them, as BuildKit does. The returned
// Report's IgnoreFile is empty: the caller knows where the patterns came from.
func Audit(dir string, ignore []string) (Report, error) {
	dir = filepath.Clean(dir)
	r := Report{Dir: dir}
	err := walk(dir, ignore, func(rel string, d fs.DirEntry) error {
		if d.IsDir() {
			if root := vcsRoot(rel, true); root != "" {
				r.addVCS(root, 0)
			}
			return nil
		}
		r.Files++
		if root := vcsRoot(rel, false); root != "" {
			r.addVCS(root, 1)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		r.Bytes += fi.Size()
		secret, err := looksSecret(rel, filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if secret {
			r.Secrets = append(r.Secrets, rel)
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("auditing build context %s: %w", dir, err)
	}
	return r, nil
}

// walk calls sent, in lexical order, for every entry below dir (not dir itself)
// that the ignore patterns do not exclude, with its slash-separated path relative
// to dir. It matches as BuildKit does (tonistiigi/fsutil filter.go): each path
// against the patterns with its parent directory's results, and an excluded
// directory is not entered unless an exception pattern could re-include something
// below it. Unlike BuildKit it does not call sent for the parent directories of a
// re-included file when the directories themselves are excluded.
func walk(dir string, ignore []string, sent func(rel string, d fs.DirEntry) error) error {
	pm, err := newMatcher(ignore)
	if err != nil {
		return err
	}
	prefixOnly := exceptionsArePrefixes(pm)

	type visited struct {
		withSep string
		info    patternmatcher.MatchInfo
	}
	var parents []visited // the directories above the current entry, outermost first

	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, walkErr error) error {
		if p == dir {
			if walkErr == nil && !d.IsDir() {
				return fmt.Errorf("%s is not a directory: give the directory the build sends", dir)
			}
			return walkErr
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		isDir := d != nil && d.IsDir()

		for len(parents) > 0 && !strings.HasPrefix(rel, parents[len(parents)-1].withSep) {
			parents = parents[:len(parents)-1]
		}
		var parentInfo patternmatcher.MatchInfo
		if len(parents) > 0 {
			parentInfo = parents[len(parents)-1].info
		}
		excluded, info, err := pm.MatchesUsingParentResults(rel, parentInfo)
		if err != nil {
			return fmt.Errorf("matching %s: %w", rel, err)
		}
		if walkErr != nil {
			// Like BuildKit: an unreadable path that is excluded anyway does not matter.
			if excluded && errors.Is(walkErr, fs.ErrPermission) {
				return skip(isDir)
			}
			return walkErr
		}
		if isDir {
			parents = append(parents, visited{withSep: rel + "/", info: info})
			if excluded && !mayReinclude(pm, prefixOnly, rel) {
				return fs.SkipDir
			}
		}
		if excluded {
			return nil
		}
		return sent(rel, d)
	})
}

// newMatcher compiles the patterns, naming the first bad one if any.
func newMatcher(patterns []string) (*patternmatcher.PatternMatcher, error) {
	pm, err := patternmatcher.New(patterns)
	if err == nil {
		return pm, nil
	}
	for _, p := range patterns {
		if _, perr := patternmatcher.New([]string{p}); perr != nil {
			return nil, fmt.Errorf("invalid .dockerignore pattern %q: %w: fix or remove it", p, perr)
		}
	}
	return nil, fmt.Errorf("invalid .dockerignore patterns: %w", err)
}

// exceptionsArePrefixes reports whether every exception ("!") pattern is a plain
// path (at most a trailing /* or /**), so that comparing prefixes tells whether an
// excluded directory can hold a re-included file. This is BuildKit's test
// (tonistiigi/fsutil filter.go); with a wildcard exception every directory is walked.
func exceptionsArePrefixes(pm *patternmatcher.PatternMatcher) bool {
	chars := "*[]?^"
	if filepath.Separator != '\\' {
		chars += `\`
	}
	for _, p := range pm.Patterns() {
		if p.Exclusion() && strings.ContainsAny(withoutTrailingGlob(p), chars) {
			return false
		}
	}
	return true
}

// mayReinclude reports whether an exception pattern could re-include something
// below the excluded directory rel, so that it must still be walked.
func mayReinclude(pm *patternmatcher.PatternMatcher, prefixOnly bool, rel string) bool {
	if !pm.Exclusions() {
		return false
	}
	if !prefixOnly {
		return true
	}
	dirSep := filepath.FromSlash(rel) + string(filepath.Separator)
	for _, p := range pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(withoutTrailingGlob(p)+string(filepath.Separator), dirSep) {
			return true
		}
	}
	return false
}

func withoutTrailingGlob(p *patternmatcher.Pattern) string {
	s := p.String() // in native separators
	s = strings.TrimSuffix(s, string(filepath.Separator)+"**")
	return strings.TrimSuffix(s, string(filepath.Separator)+"*")
}

func skip(isDir bool) error {
	if isDir {
		return fs.SkipDir
	}
	return nil
}

var vcsDirs = map[string]bool{".git": true, ".hg": true, ".svn": true}

// vcsRoot returns the outermost .git, .hg or .svn directory that rel is or lies in,
// or "". A file named .git (a worktree or submodule pointer) is not one.
func vcsRoot(rel string, isDir bool) string {
	parts := strings.Split(rel, "/")
	n := len(parts)
	if !isDir {
		n-- // the last part is the file itself
	}
	for i := range n {
		if vcsDirs[parts[i]] {
			return strings.Join(parts[:i+1], "/")
		}
	}
	return ""
}

func (r *Report) addVCS(root string, files int) {
	if r.vcsFiles == nil {
		r.vcsFiles = map[string]int{}
	}
	if _, ok := r.vcsFiles[root]; !ok {
		r.VCS = append(r.VCS, root)
	}
	r.vcsFiles[root] += files
}

// Names (base names, any depth) that are secrets whatever they hold.
var secretNames = map[string]bool{
	".netrc":           true,
	"credentials.json": true,
	"id_rsa":           true,
	"id_dsa":           true,
	"id_ecdsa":         true,
	"id_ecdsa_sk":      true,
	"id_ed25519":       true,
	"id_ed25519_sk":    true,
}

// Paths (at the end of rel, any depth) that are secrets whatever they hold.
var secretPaths = []string{".aws/credentials", ".docker/config.json"}

// privateKey matches a PEM (or PGP armor) private key header: RSA, EC, OpenSSH,
// PKCS#8, encrypted PKCS#8.
var privateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`)

// headSize is how much of a file is read to judge its content.
const headSize = 64 << 10

// looksSecret reports whether the regular file at abs (rel in the context) looks like
// a secret, reading it only for the kinds judged by content.
func looksSecret(rel, abs string) (bool, error) {
	base := path.Base(rel)
	switch {
	case base == ".env" || strings.HasPrefix(base, ".env."):
		return true, nil
	case secretNames[base]:
		return true, nil
	}
	for _, p := range secretPaths {
		if rel == p || strings.HasSuffix(rel, "/"+p) {
			return true, nil
		}
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".p12", ".pfx":
		return true, nil
	case ".pem", ".key":
		head, err := readHead(abs)
		if err != nil {
			return false, err
		}
		return privateKey.Match(head), nil
	}
	if base == ".npmrc" || base == ".pypirc" {
		head, err := readHead(abs)
		if err != nil {
			return false, err
		}
		return hasCredential(head), nil
	}
	return false, nil
}

func readHead(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, headSize))
}

// envRef is a whole value that only names an environment variable, as .npmrc allows:
// the secret is not in the file.
var envRef = regexp.MustCompile(`^["']?\$\{[A-Za-z_][A-Za-z0-9_]*\}["']?$`)

// hasCredential reports whether an .npmrc or .pypirc sets a token, password or
// _auth to a literal value: "//registry.npmjs.org/:_authToken=npm_...",
// "_auth=...", "password = ...", "password: ...".
func hasCredential(text []byte) bool {
	for line := range strings.Lines(string(text)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		i := strings.IndexByte(line, '=')
		if i < 0 {
			i = strings.IndexByte(line, ':')
		}
		if i < 0 {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(line[:i]))
		if j := strings.LastIndexByte(key, ':'); j >= 0 { // npm's "//host/:_authToken"
			key = key[j+1:]
		}
		value := strings.TrimSpace(line[i+1:])
		if value == "" || envRef.MatchString(value) {
			continue
		}
		if strings.Contains(key, "token") || strings.Contains(key, "password") || key == "_auth" {
			return true
		}
	}
	return false
}

// maxListed is how many secrets Err names before summing up the rest.
const maxListed = 10

// Err returns an error naming the secrets the build context would send, or nil
// when it would send none.
func (r Report) Err() error {
	if len(r.Secrets) == 0 {
		return nil
	}
	list := strings.Join(r.Secrets, ", ")
	if len(r.Secrets) > maxListed {
		list = fmt.Sprintf("%s and %d more", strings.Join(r.Secrets[:maxListed], ", "), len(r.Secrets)-maxListed)
	}
	return fmt.Errorf("build context %s would send secrets (%s): add them to .dockerignore, or delete them", r.Dir, list)
}

// Warnings returns one line for each version-control directory the build context
// would send.
func (r Report) Warnings() []string {
	var w []string
	for _, v := range r.VCS {
		w = append(w, fmt.Sprintf("%s would be sent into the build context (%s): add %s to .dockerignore",
			v, plural(r.vcsFiles[v], "file"), v))
	}
	return w
}

// String summarises the report in one line, such as
// "build context: 123 files, 4.5 MiB (ignore file: .dockerignore)".
func (r Report) String() string {
	ignore := "no ignore file"
	switch r.IgnoreFile {
	case "":
	case DefaultSource:
		ignore = "ignore file: " + DefaultSource
	default:
		name := r.IgnoreFile
		if rel, err := filepath.Rel(r.Dir, name); err == nil && filepath.IsAbs(name) == filepath.IsAbs(r.Dir) && filepath.IsLocal(rel) {
			name = filepath.ToSlash(rel)
		}
		ignore = "ignore file: " + name
	}
	return fmt.Sprintf("build context: %s, %s (%s)", plural(r.Files, "file"), bytesize.Format(r.Bytes), ignore)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// humanBytes formats n in binary units with one decimal: "512 B", "4.5 MiB".
