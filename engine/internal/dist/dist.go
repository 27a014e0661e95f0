package dist

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/owned"
)

// Open opens mageship's share of the output directory (MAGESHIP_DIST).
func Open(r config.Resolved) (*owned.Dist, error) {
	d, err := owned.OpenDist(r.Dist, RepoName(r, r.Dist))
	if err != nil {
		return nil, InTheWay(err, "")
	}
	return d, nil
}

// PutJSON writes v as indented JSON to rel in the output directory.
func PutJSON(d *owned.Dist, rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = d.Put(owned.File{Rel: rel, Data: append(b, '\n')})
	return err
}

// InTheWay adds the fix, and what state things are in (when not ""), to an error
// about a file in the output directory that mageship may not overwrite.
func InTheWay(err error, state string) error {
	var itw *owned.InTheWay
	if !errors.As(err, &itw) {
		return err
	}
	if state != "" {
		state = " (" + state + ")"
	}
	return fmt.Errorf("%w%s; mageship never overwrites a file it did not write: move it away, or set %s to a directory of mageship's own, e.g. %s=out", err, state, config.EnvDist, config.EnvDist)
}

// RepoName is how messages name a path: relative to the module root when inside it.
func RepoName(r config.Resolved, path string) string {
	rel, err := filepath.Rel(r.Project.Dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return filepath.ToSlash(rel)
}
