package owned

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ManifestFile is the name of the manifest in the output directory: the files
// mageship wrote there, with their sha256.
const ManifestFile = ".mageship-manifest.json"

// manifestAbout heads the manifest, for whoever opens it.
const manifestAbout = "The files mageship wrote in this directory, with their sha256. mageship overwrites only the files listed here whose sha256 is unchanged, and never touches any other file."

type manifest struct {
	About string            `json:"about"`
	Files map[string]string `json:"files"` // slash path relative to the directory -> hex sha256
	// Pending are the files a Put is writing, with their new sha256: recorded before
	// they are written, so that a run killed between writing a file and listing it
	// leaves a file mageship still knows as its own.
	Pending map[string]string `json:"pending,omitempty"`
}

// Dist is mageship's share of an output directory that other tools use too (dist/,
// where goreleaser also writes): the files its manifest lists. mageship writes a file
// there only where there is none, or where the manifest lists the one there with its
// current sha256; every other file stays as it is.
type Dist struct {
	dir     string            // absolute
	name    string            // dir as messages name it: dist, out, /abs/out
	files   map[string]string // the manifest as read
	pending map[string]string // and its files being written when a run stopped
	wrote   map[string]string // what this run wrote
}

// OpenDist reads the manifest of the output directory dir, if there is one; name is
// how messages call dir (e.g. dist). Nothing is created. A file at dir is in the way.
func OpenDist(dir, name string) (*Dist, error) {
	d := &Dist{dir: dir, name: name, wrote: map[string]string{}}
	if err := d.Check(); err != nil {
		return nil, err
	}
	m, err := d.read()
	if err != nil {
		return nil, err
	}
	d.files, d.pending = m.Files, m.Pending
	return d, nil
}

// Dir is the output directory's path.
func (d *Dist) Dir() string { return d.dir }

// Name is how messages call rel, a slash path relative to the directory: dist/SHA256SUMS.
func (d *Dist) Name(rel string) string {
	if rel == "" || rel == "." {
		return d.name
	}
	return path.Join(filepath.ToSlash(d.name), rel)
}

// Path is the file path of rel.
func (d *Dist) Path(rel string) string { return filepath.Join(d.dir, filepath.FromSlash(rel)) }

func (d *Dist) read() (manifest, error) {
	p := d.Path(ManifestFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return manifest{Files: map[string]string{}}, nil
	}
	if err != nil {
		return manifest{}, fmt.Errorf("reading %s: %w", d.Name(ManifestFile), err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Files == nil {
		return manifest{}, &InTheWay{Name: d.Name(ManifestFile), Reason: "it is not a mageship manifest (a JSON object with \"files\")"}
	}
	return m, nil
}

// Check returns an *InTheWay for the first of rels (slash paths relative to the
// directory) that mageship may not write: a file it did not write or that changed
// since, a directory, or a file where a directory must go. It writes nothing; call it
// before any work whose results must land there.
func (d *Dist) Check(rels ...string) error {
	if st, err := os.Stat(d.dir); err == nil && !st.IsDir() {
		return &InTheWay{Name: d.name, Reason: "it is a file, and mageship's output directory must go there"}
	}
	for _, rel := range rels {
		if _, err := d.check(rel); err != nil {
			return err
		}
	}
	return nil
}

// check returns the sha256 of mageship's own file at rel, "" when there is none.
func (d *Dist) check(rel string) (string, error) {
	if err := validRel(rel); err != nil {
		return "", err
	}
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		st, err := os.Stat(d.Path(p))
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", d.Name(p), err)
		}
		if !st.IsDir() {
			return "", &InTheWay{Name: d.Name(p), Reason: "it is a file, and mageship needs a directory there"}
		}
	}
	st, err := os.Lstat(d.Path(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", d.Name(rel), err)
	}
	if !st.Mode().IsRegular() {
		return "", &InTheWay{Name: d.Name(rel), Reason: "it is not a regular file, and mageship did not write it"}
	}
	want, listed := d.files[rel]
	pending, writing := d.pending[rel]
	if !listed && !writing {
		return "", &InTheWay{Name: d.Name(rel), Reason: "mageship did not write it (" + d.Name(ManifestFile) + " does not list it)"}
	}
	got, err := sumFile(d.Path(rel))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", d.Name(rel), err)
	}
	if (!listed || got != want) && (!writing || got != pending) {
		return "", &InTheWay{Name: d.Name(rel), Reason: "mageship wrote it, but it was changed since (its sha256 is not the one " + d.Name(ManifestFile) + " lists)"}
	}
	return got, nil
}

func validRel(rel string) error {
	if rel == "" || path.IsAbs(rel) || path.Clean(rel) != rel || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || rel == ManifestFile {
		return fmt.Errorf("owned: %q is not a file inside the output directory", rel)
	}
	return nil
}

// File is one file to put into the output directory: Data, or the file at From
// (renamed into place, so it must be on the same file system: see Stage).
type File struct {
	Rel  string      // slash path relative to the directory
	Data []byte      // the content, when From is ""
	From string      // a file to move into place
	Mode fs.FileMode // default 0o644
}

// Put writes files into the directory, each atomically, and records them in the
// manifest. It checks all of them first: when one is in the way, nothing is written.
// An identical file already there is left alone (Unchanged).
func (d *Dist) Put(files ...File) ([]Change, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	old := make([]string, len(files))
	for i, f := range files {
		var err error
		if old[i], err = d.check(f.Rel); err != nil {
			return nil, err
		}
	}
	sums := make([]string, len(files))
	for i, f := range files {
		var err error
		if f.From != "" {
			sums[i], err = sumFile(f.From)
		} else {
			sums[i] = sumBytes(f.Data)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.savePending(files, sums); err != nil {
		return nil, err
	}
	changes := make([]Change, len(files))
	var err error
	for i, f := range files {
		if changes[i], err = d.put(f, old[i], sums[i]); err != nil {
			break
		}
	}
	if serr := d.save(); err == nil {
		err = serr
	}
	return changes, err
}

// savePending records, before they are written, the files Put is about to write.
func (d *Dist) savePending(files []File, sums []string) error {
	m, err := d.read()
	if err != nil {
		return err
	}
	if m.Pending == nil {
		m.Pending = map[string]string{}
	}
	for i, f := range files {
		if m.Files[f.Rel] != sums[i] {
			m.Pending[f.Rel] = sums[i]
		}
	}
	if len(m.Pending) == 0 {
		return nil
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", d.name, err)
	}
	return d.write(m)
}

func (d *Dist) put(f File, old, sum string) (Change, error) {
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	target := d.Path(f.Rel)
	if old != "" && old == sum {
		if st, err := os.Stat(target); err == nil && st.Mode().Perm() == mode {
			d.wrote[f.Rel] = sum
			return Unchanged, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return Unchanged, fmt.Errorf("writing %s: %w", d.Name(f.Rel), err)
	}
	if f.From != "" {
		if err := os.Chmod(f.From, mode); err != nil {
			return Unchanged, err
		}
		if err := os.Rename(f.From, target); err != nil {
			return Unchanged, fmt.Errorf("writing %s: %w", d.Name(f.Rel), err)
		}
	} else if err := replace(target, f.Data, mode); err != nil {
		return Unchanged, err
	}
	d.wrote[f.Rel] = sum
	if old == "" {
		return Created, nil
	}
	return Updated, nil
}

// save writes the manifest: the one on disk now (another mageship may have written
// it since OpenDist), with this run's files laid over it and the files that are gone
// left out.
func (d *Dist) save() error {
	if len(d.wrote) == 0 {
		return nil
	}
	m, err := d.read()
	if err != nil {
		return err
	}
	for rel, sum := range d.wrote {
		m.Files[rel] = sum
		if m.Pending[rel] == sum {
			delete(m.Pending, rel)
		}
	}
	for _, files := range []map[string]string{m.Files, m.Pending} {
		for rel := range files {
			if _, err := os.Lstat(d.Path(rel)); errors.Is(err, fs.ErrNotExist) {
				delete(files, rel)
			}
		}
	}
	return d.write(m)
}

// write writes m as the manifest, unless it says that already.
func (d *Dist) write(m manifest) error {
	m.About = manifestAbout
	if len(m.Pending) == 0 {
		m.Pending = nil
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	d.files, d.pending = m.Files, m.Pending
	if old, err := os.ReadFile(d.Path(ManifestFile)); err == nil && string(old) == string(b) {
		return nil
	}
	return replace(d.Path(ManifestFile), b, 0o644)
}

// Stage creates a temporary directory inside the output directory (creating that if
// need be) for files to Put with From, and returns it; the caller removes it.
func (d *Dist) Stage() (string, error) {
	if err := d.Check(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", d.name, err)
	}
	dir, err := os.MkdirTemp(d.dir, ".mageship-staging-")
	if err != nil {
		return "", fmt.Errorf("creating a staging directory in %s: %w", d.name, err)
	}
	return dir, nil
}
