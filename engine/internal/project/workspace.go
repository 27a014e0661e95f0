package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// Workspace is the go.work above the module, which go build honours unless GOWORK says
// otherwise.
type Workspace struct {
	File string // the go.work, absolute; "" when the module is in no workspace
	// Uses are the workspace's other modules (its use directives but this module's),
	// each with its module path, the path go.work writes and its absolute directory.
	Uses []Replace
	// Needed are the workspace's other modules that the module's main packages import
	// and that go.mod does not replace with a directory: only the go.work brings them
	// into a build. Path is as go.work writes it, relative to the go.work's directory.
	Needed []Replace
}

// findWorkspace returns the go.work the go command would use for the module in dir
// (the nearest one in dir or above it) and the other modules it uses, each as a
// Replace (its module path, the path go.work writes, its absolute directory). A
// go.work that does not use dir is none: the go command would refuse to build.
func findWorkspace(dir string) (string, []Replace) {
	for d := dir; ; {
		file := filepath.Join(d, "go.work")
		if data, err := os.ReadFile(file); err == nil {
			wf, err := modfile.ParseWork(file, data, nil)
			if err != nil {
				return "", nil
			}
			var others []Replace
			inUse := false
			for _, u := range wf.Use {
				abs := u.Path
				if !filepath.IsAbs(abs) {
					abs = filepath.Join(d, abs)
				}
				if filepath.Clean(abs) == dir {
					inUse = true
					continue
				}
				if mod := modulePath(abs); mod != "" {
					others = append(others, Replace{Module: mod, Path: u.Path, Dir: abs})
				}
			}
			if !inUse {
				return "", nil
			}
			return file, others
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}

// modulePath reads the module path of the go.mod in dir, or "".
func modulePath(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return ""
	}
	return modfile.ModulePath(data)
}

// neededWorkspace lists the modules of others that one of the imports belongs to,
// unless go.mod replaces them (then the build brings them in as it does every replace).
// An import belongs to the module with the longest path that prefixes it: with
// example.com/mono and example.com/mono/lib both in the workspace,
// example.com/mono/lib/greet is lib's.
func neededWorkspace(others []Replace, imports []string, replaced map[string]bool) []Replace {
	owner := func(ip string) string {
		best := ""
		for _, m := range others {
			if (ip == m.Module || strings.HasPrefix(ip, m.Module+"/")) && len(m.Module) > len(best) {
				best = m.Module
			}
		}
		for m := range replaced {
			if (ip == m || strings.HasPrefix(ip, m+"/")) && len(m) > len(best) {
				best = m
			}
		}
		return best
	}
	var out []Replace
	for _, m := range others {
		if replaced[m.Module] {
			continue
		}
		if slices.ContainsFunc(imports, func(ip string) bool { return owner(ip) == m.Module }) {
			out = append(out, m)
		}
	}
	return out
}
