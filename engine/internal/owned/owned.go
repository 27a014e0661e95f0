package owned

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Change is what a write did to a file.
type Change int

const (
	// Unchanged: the file already held these bytes; it was not touched.
	Unchanged Change = iota
	// Created: there was no file.
	Created
	// Updated: mageship's own earlier file was replaced.
	Updated
)

func (c Change) String() string {
	switch c {
	case Created:
		return "created"
	case Updated:
		return "updated"
	}
	return "unchanged"
}

// InTheWay is the error for a file at a path mageship wants to write that it may not
// overwrite: mageship did not write it, or it was changed since. Callers add the fix.
type InTheWay struct {
	Name   string // the file as messages name it, e.g. dist/SHA256SUMS
	Reason string // why it is not mageship's to overwrite
}

func (e *InTheWay) Error() string {
	return e.Name + " is in the way: " + e.Reason
}

// Create writes data to path only when nothing is there, and reports whether it did.
// The file appears whole or not at all.
func Create(path string, data []byte, perm fs.FileMode) (bool, error) {
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	}
	tmp, err := writeTemp(filepath.Dir(path), data, perm)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	// A hard link, unlike a rename, fails when the name is taken meanwhile.
	err = os.Link(tmp, path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// A file system without hard links: an exclusive create instead.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	return true, nil
}

// replace writes data over path atomically: a temporary file beside it, renamed.
func replace(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(filepath.Dir(path), data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir and returns its path.
func writeTemp(dir string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".mageship-tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing in %s: %w", dir, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing in %s: %w", dir, err)
	}
	return f.Name(), nil
}

func sumBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sumFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
