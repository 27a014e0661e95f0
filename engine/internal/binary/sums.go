package binary

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SumsFile is the name of the checksum file WriteSums writes.
const SumsFile = "SHA256SUMS"

// SHA256File returns the lowercase hex SHA-256 digest of the file at path.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("checksum: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteSums writes dir/SHA256SUMS in the format of sha256sum: one line per file,
// "<hex digest>  <path>", with paths relative to dir, slash-separated and sorted, so
// that `cd dir && sha256sum -c SHA256SUMS` verifies them.
//
// As with `cd dir && sha256sum files...`, a relative path in files is relative to dir;
// an absolute path must lie inside dir. A file listed twice is written once.
func WriteSums(dir string, files []string) error {
	sums, err := Sums(dir, files)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), sums, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", SumsFile, err)
	}
	return nil
}

// Sums returns the content WriteSums writes, without writing it.
func Sums(dir string, files []string) ([]byte, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("write %s in %s: no files given: pass the binaries to checksum", SumsFile, dir)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("write %s in %s: %w", SumsFile, dir, err)
	}
	type entry struct{ name, path string }
	var entries []entry
	seen := map[string]bool{}
	for _, file := range files {
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(absDir, path)
		}
		rel, err := filepath.Rel(absDir, filepath.Clean(path))
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("write %s in %s: %s is not inside %s: list files under the directory the sums are written to", SumsFile, dir, file, dir)
		}
		name := filepath.ToSlash(rel)
		if strings.ContainsAny(name, "\\\n\r") {
			return nil, fmt.Errorf("write %s in %s: file name %q has a backslash or newline: rename it", SumsFile, dir, name)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		entries = append(entries, entry{name: name, path: path})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var sb strings.Builder
	for _, e := range entries {
		sum, err := SHA256File(e.path)
		if err != nil {
			return nil, fmt.Errorf("write %s in %s: %w", SumsFile, dir, err)
		}
		fmt.Fprintf(&sb, "%s  %s\n", sum, e.name)
	}
	return []byte(sb.String()), nil
}
