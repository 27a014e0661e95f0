package buildcontext

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Symlinks refuses, in one line, the first symlink the build context dir would send
// (after the ignore patterns) whose target is outside dir: BuildKit sends the link,
// not what it points at, so the build inside it cannot open it. The line names the
// link, its target and the fix: the host build path, or a .dockerignore line that
// leaves the link out. A link whose target is inside dir is fine, dangling or not.
func Symlinks(dir string, ignore []string) error {
	dir = filepath.Clean(dir)
	var found error
	err := walk(dir, ignore, func(rel string, d fs.DirEntry) error {
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		link := filepath.Join(dir, filepath.FromSlash(rel))
		target, err := os.Readlink(link)
		if err != nil {
			return err
		}
		if withinDir(dir, linkTarget(dir, link, target)) {
			return nil
		}
		found = fmt.Errorf("build context: %s is a symlink to %s, outside the build context %s, which BuildKit cannot follow: build on the host path (unset MAGESHIP_BUILD, or MAGESHIP_BUILD=host), replace the link with the file, or leave it out with the .dockerignore line %s", rel, target, dir, rel)
		return fs.SkipAll
	})
	if err != nil {
		return fmt.Errorf("auditing build context %s: %w", dir, err)
	}
	return found
}

// linkTarget is where the symlink link (in the context dir) ends up, following the
// chain of links inside dir: absolute, cleaned.
func linkTarget(dir, link, target string) string {
	for range 40 { // the kernel's limit on a chain of links
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(link), target)
		}
		target = filepath.Clean(target)
		if !withinDir(dir, target) {
			return target
		}
		st, err := os.Lstat(target)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return target
		}
		next, err := os.Readlink(target)
		if err != nil {
			return target
		}
		link, target = target, next
	}
	return target
}

// withinDir reports whether p is dir or below it.
func withinDir(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
