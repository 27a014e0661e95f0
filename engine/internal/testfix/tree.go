package testfix

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// CopyTree copies the regular files under src into dst, keeping their permission
// bits, and leaves out the directories whose path relative to src is in skip (such as
// "dist"). It fails t on error.
func CopyTree(t testing.TB, src, dst string, skip ...string) {
	t.Helper()
	if err := CopyFiles(src, dst, skip...); err != nil {
		t.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}

// CopyFiles is CopyTree for a caller without a testing.TB (the benchmark harness).
func CopyFiles(src, dst string, skip ...string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if slices.Contains(skip, filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
}

// WriteTree writes files (slash path relative to dir -> content) under dir, creating
// the directories they need. It fails t on error.
func WriteTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	if err := WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
}

// WriteFiles is WriteTree for a caller without a testing.TB (the benchmark harness).
func WriteFiles(dir string, files map[string]string) error {
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}
