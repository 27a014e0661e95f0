package buildcontext

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
)

// Image.Files copies files of the repository into the image. They reach the image
// on both build paths (through the build context on the container path, copied by
// mageship on the host path), so the same audit holds them: no file that looks like a
// secret, and, on the container path, none that .dockerignore leaves out.

// AuditFiles walks each of froms (slash-separated, relative to root; a file or a
// directory) and fails, in one line, on the first that is or holds a file that looks
// like a secret (the names and contents Audit looks for).
// A From that is a symlink is audited as what it points at, which is what reaches the
// image, under its own name and its target's; symlinks inside a directory reach the
// image as symlinks and carry no bytes.
func AuditFiles(root string, froms []string) error {
	for _, from := range froms {
		top := filepath.Join(root, filepath.FromSlash(from))
		real, err := filepath.EvalSymlinks(top)
		if err != nil {
			return fmt.Errorf("Image.Files %s: %w", from, err)
		}
		err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			named := p
			if p == real {
				named = top // a file From: its own name, and its target's below
			} else if rel, err := filepath.Rel(real, p); err == nil {
				named = filepath.Join(top, rel)
			}
			return auditName(root, from, named, p)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// auditName fails when the regular file named (a path under root) or its content (at
// data, its target when named is a symlink) looks like a secret.
func auditName(root, from, named, data string) error {
	rel, err := filepath.Rel(root, named)
	if err != nil {
		return err
	}
	rel = filepath.ToSlash(rel)
	secret, err := looksSecret(rel, data)
	if err == nil && !secret && filepath.Base(data) != filepath.Base(named) {
		secret, err = looksSecret(filepath.Base(data), data)
	}
	if err != nil {
		return err
	}
	if secret {
		return fmt.Errorf("Image.Files %s would put %s in the image, and it looks like a secret: take it out of Files (or out of that directory)", from, rel)
	}
	return nil
}

// CheckFiles fails, in one line, when the ignore patterns (from source, as ReadIgnore
// returns them) leave out of the build context any of files (slash-separated,
// relative to the context root: what Image.Files copies, directories walked), which
// the container build path copies from it.
func CheckFiles(ignore []string, source string, files []string) error {
	for _, f := range files {
		out, err := Excluded(ignore, []string{path.Clean(f)})
		if err != nil {
			return err
		}
		if len(out) > 0 {
			return fmt.Errorf("%s excludes %s (pattern %q), which Image.Files copies into the image: add the line !%s to it, or build on this machine (MAGESHIP_BUILD=host, the default)", ignoreName(source), f, culprit(ignore, f), f)
		}
	}
	return nil
}
