package config

import (
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mageship/mageship/engine/internal/buildcontext"
	"github.com/mageship/mageship/engine/internal/project"
)

// What an image needs to run a real service, besides its entrypoint: Args, Env,
// WorkDir, Volumes, Files, Also, HealthPort and Labels. This file checks them (one
// line per mistake, before anything is built) and computes what they put into the
// image (Contents), the one list both assemblers read.

// BinDir is where the entrypoint and the Also binaries are installed.
const BinDir = "/usr/local/bin"

// OurLabels are the OCI labels mageship sets itself; Image.Labels cannot override them.
var OurLabels = []string{
	"org.opencontainers.image.source",
	"org.opencontainers.image.revision",
	"org.opencontainers.image.version",
	"org.opencontainers.image.created",
}

// Copy is one Image.Files entry, resolved.
type Copy struct {
	From string // slash-separated, relative to the module root, clean
	Src  string // From as an absolute host path
	To   string // absolute path in the image, clean
	Dir  bool   // From is a directory: what it holds goes under To
}

// Extra is one Image.Also binary, resolved.
type Extra struct {
	Main   string // main package, relative to the module root, e.g. ./cmd/cli
	Binary string // installed as /usr/local/bin/<Binary>
}

// Path is where the binary is in the image.
func (x Extra) Path() string { return path.Join(BinDir, x.Binary) }

// ProbePort is the port image:test probes: HealthPort, else the first of Ports; 0
// when there is none.
func (img ResolvedImage) ProbePort() int {
	if img.HealthPort != 0 {
		return img.HealthPort
	}
	if len(img.Ports) > 0 {
		return img.Ports[0]
	}
	return 0
}

// OwnedDirs are WorkDir and the volumes, each once, in that order: the directories
// created for and owned by the image's user.
func (img ResolvedImage) OwnedDirs() []string {
	var dirs []string
	for _, d := range append([]string{img.WorkDir}, img.Volumes...) {
		if d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

var (
	imagePathRE = regexp.MustCompile(`^/[A-Za-z0-9._/@+-]*$`)
	fromRE      = regexp.MustCompile(`^[A-Za-z0-9._/@+-]+$`)
	envKeyRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelKeyRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	binaryRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// normalizeMain writes a package path as Resolve does Main: ./<clean path>, or ".".
func normalizeMain(m string) string {
	if !strings.HasPrefix(m, ".") {
		m = "./" + m
	}
	m = "./" + path.Clean(m)
	if m == "./." {
		return "."
	}
	return m
}

// mainsLeft are the module's main packages that an image may take by default: those
// that no image names in Also (a CLI shipped inside the server's image is not also
// an image of its own).
func mainsLeft(p project.Project, images []Image) []project.Main {
	also := map[string]bool{}
	for _, img := range images {
		for _, a := range img.Also {
			also[normalizeMain(a)] = true
		}
	}
	var out []project.Main
	for _, m := range p.Mains {
		if !also[normalizeMain(m.Package)] {
			out = append(out, m)
		}
	}
	return out
}

// resolveRuntime checks img's runtime fields and fills Copies and Extras. img has
// its Name, Main, Binary and User resolved.
func resolveRuntime(p project.Project, img *ResolvedImage) error {
	where := "image " + img.Name
	for _, kv := range img.Env {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return fmt.Errorf("%s: Image.Env entry %q has no =: write it as KEY=value", where, kv)
		case !envKeyRE.MatchString(k):
			return fmt.Errorf("%s: Image.Env entry %q: the name must be letters, digits and _, not starting with a digit", where, kv)
		case strings.ContainsAny(v, "\r\n"):
			return fmt.Errorf("%s: Image.Env %s has a line break in its value: give it on one line", where, k)
		}
	}
	for _, a := range img.Args {
		if strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("%s: Image.Args entry %q has a line break: give each argument on one line", where, a)
		}
	}
	if err := imagePath(where, "WorkDir", img.WorkDir, true); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, v := range img.Volumes {
		if err := imagePath(where, "Volumes entry", v, false); err != nil {
			return err
		}
		if seen[v] {
			return fmt.Errorf("%s: Image.Volumes lists %s twice: list each volume once", where, v)
		}
		seen[v] = true
	}
	if len(img.OwnedDirs()) > 0 {
		if _, _, err := Owner(img.User); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if img.HealthPort != 0 && !slices.Contains(img.Ports, img.HealthPort) {
		return fmt.Errorf("%s: Image.HealthPort %d is not in Image.Ports %v: add it to Ports, which the image exposes", where, img.HealthPort, img.Ports)
	}
	for _, k := range slices.Sorted(maps.Keys(img.Labels)) {
		switch v := img.Labels[k]; {
		case slices.Contains(OurLabels, k):
			return fmt.Errorf("%s: Image.Labels sets %s, which mageship sets itself: leave it out (set Config.Source for the source)", where, k)
		case !labelKeyRE.MatchString(k):
			return fmt.Errorf("%s: Image.Labels key %q: use letters, digits and . _ - /, e.g. com.example.team", where, k)
		case strings.ContainsAny(v, "\r\n"):
			return fmt.Errorf("%s: Image.Labels %s has a line break in its value: give it on one line", where, k)
		}
	}

	bins := map[string]string{img.Binary: img.Main} // binary name -> its main
	img.Extras = nil
	for _, a := range img.Also {
		m := normalizeMain(a)
		pkg, err := build.Default.ImportDir(filepath.Join(p.Dir, filepath.FromSlash(m)), 0)
		switch {
		case err != nil:
			return fmt.Errorf("%s: Image.Also %s is not a package of %s: name a main package, e.g. ./cmd/<name>", where, a, p.Module)
		case pkg.Name != "main":
			return fmt.Errorf("%s: Image.Also %s is package %s, not a main package: name a package with func main", where, a, pkg.Name)
		case m == img.Main:
			return fmt.Errorf("%s: Image.Also %s is the image's own Main: leave it out of Also", where, a)
		}
		b := project.ExecName(p.ImportPath(m))
		if !binaryRE.MatchString(b) {
			return fmt.Errorf("%s: Image.Also %s builds a binary named %q: rename its directory to letters, digits, '.', '_' and '-'", where, a, b)
		}
		if other, clash := bins[b]; clash {
			return fmt.Errorf("%s: Image.Also %s builds a binary named %s, and so does %s: both would be %s/%s; ship one of them in another image", where, a, b, other, BinDir, b)
		}
		bins[b] = m
		img.Extras = append(img.Extras, Extra{Main: m, Binary: b})
	}

	img.Copies = nil
	tos := map[string]string{}
	root, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		root = p.Dir
	}
	for _, f := range img.Files {
		c, err := resolveCopy(p.Dir, root, f)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if b := strings.TrimPrefix(c.To, BinDir+"/"); b != c.To {
			if m, clash := bins[b]; clash {
				return fmt.Errorf("%s: Image.Files puts %s over the binary of %s: give it another To", where, c.To, m)
			}
		}
		if c.To == BinDir || c.To == "/" {
			return fmt.Errorf("%s: Image.Files To %s would replace a directory mageship fills: give a path of its own, e.g. /etc/%s/", where, c.To, img.Binary)
		}
		if other, dup := tos[c.To]; dup {
			return fmt.Errorf("%s: Image.Files copies both %s and %s to %s: give each its own To", where, other, c.From, c.To)
		}
		tos[c.To] = c.From
		img.Copies = append(img.Copies, c)
	}
	froms := make([]string, len(img.Copies))
	for i, c := range img.Copies {
		froms[i] = c.From
	}
	if err := buildcontext.AuditFiles(p.Dir, froms); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// imagePath checks an absolute path in the image that Image.<field> names.
func imagePath(where, field, p string, optional bool) error {
	switch {
	case p == "" && optional:
		return nil
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%s: Image.%s %q is not absolute: give a path in the image starting with /, e.g. /data", where, field, p)
	case !imagePathRE.MatchString(p):
		return fmt.Errorf("%s: Image.%s %q: use letters, digits and . _ - / @ +", where, field, p)
	case path.Clean(p) != p || p == "/":
		return fmt.Errorf("%s: Image.%s %q: write it clean and below /, e.g. %s", where, field, p, path.Clean("/"+p))
	}
	return nil
}

// resolveCopy checks one Image.Files entry against the module root dir (root is dir
// with its symlinks resolved).
func resolveCopy(dir, root string, f File) (Copy, error) {
	if f.From == "" {
		return Copy{}, fmt.Errorf("Image.Files entry to %s has no From: name a file or directory of the repository", f.To)
	}
	if filepath.IsAbs(f.From) || strings.HasPrefix(f.From, "/") {
		return Copy{}, fmt.Errorf("Image.Files From %s is an absolute host path: name a file of the repository, relative to the module root", f.From)
	}
	from := path.Clean(filepath.ToSlash(f.From))
	if from == ".." || strings.HasPrefix(from, "../") {
		return Copy{}, fmt.Errorf("Image.Files From %s is outside the repository: name a file below the module root", f.From)
	}
	if from == "." || !fromRE.MatchString(from) {
		return Copy{}, fmt.Errorf("Image.Files From %q: name a file or directory below the module root, in letters, digits and . _ - / @ +", f.From)
	}
	if err := imagePath("Image.Files", "To", f.To, false); err != nil {
		// imagePath names the image first; here the field says it.
		return Copy{}, errors.New(strings.TrimPrefix(err.Error(), "Image.Files: "))
	}
	src := filepath.Join(dir, filepath.FromSlash(from))
	fi, err := os.Stat(src)
	if err != nil {
		if _, lerr := os.Lstat(src); lerr == nil {
			return Copy{}, fmt.Errorf("Image.Files From %s is a symlink to nothing: point it at a file of the repository", f.From)
		}
		return Copy{}, fmt.Errorf("Image.Files From %s does not exist in %s: fix the path (relative to the module root)", f.From, dir)
	}
	if err := inside(root, src, f.From); err != nil {
		return Copy{}, err
	}
	if fi.IsDir() {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink != 0 {
				rel, _ := filepath.Rel(dir, p)
				return inside(root, p, filepath.ToSlash(rel))
			}
			if !d.IsDir() && !d.Type().IsRegular() {
				return fmt.Errorf("Image.Files From %s holds %s, which is neither a file nor a directory: take it out", f.From, p)
			}
			return nil
		})
		if err != nil {
			return Copy{}, err
		}
	} else if !fi.Mode().IsRegular() {
		return Copy{}, fmt.Errorf("Image.Files From %s is neither a file nor a directory: name a file of the repository", f.From)
	}
	if real, err := filepath.EvalSymlinks(src); err == nil {
		// A From that is itself a symlink is copied as what it points at (a directory
		// walked, not a link that would dangle in the image).
		src = real
	}
	return Copy{From: from, Src: src, To: f.To, Dir: fi.IsDir()}, nil
}

// inside fails when p, named name, resolves (through symlinks) outside root.
func inside(root, p, name string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("Image.Files %s: %w", name, err)
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("Image.Files %s is a symlink to %s, outside the repository: copy the file into the repository, or name its target", name, real)
	}
	return nil
}

// Owner reads a uid:gid (or uid, or one of the users mageship's passwd names: root,
// nobody, nonroot) as numbers.
func Owner(user string) (uid, gid int, err error) {
	names := map[string]int{"root": 0, "nobody": 65534, "nonroot": 65532}
	num := func(s string) (int, bool) {
		if n, ok := names[s]; ok {
			return n, true
		}
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 0
	}
	u, g, hasGroup := strings.Cut(user, ":")
	uid, ok1 := num(u)
	gid, ok2 := uid, true
	if hasGroup {
		gid, ok2 = num(g)
	}
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("Image.User %q owns WorkDir and Volumes, so it must be numeric: give uid:gid, e.g. 65534:65534", user)
	}
	return uid, gid, nil
}

// Kind is what an Entry is.
type Kind int

const (
	// KindFile is a regular file of Image.Files: owned by root, not writable by others.
	KindFile Kind = iota
	// KindDir is a directory that Image.Files makes (a To directory, or one above a To): root's.
	KindDir
	// KindOwned is WorkDir or a volume: owned by the image's user.
	KindOwned
	// KindParent is a directory above WorkDir or a volume: root's.
	KindParent
	// KindBinary is an Also binary, built for the image's platform from Main.
	KindBinary
	// KindSymlink is a symlink inside a directory of Image.Files, kept as a symlink
	// (as COPY keeps it); it points inside the repository.
	KindSymlink
)

// Entry is one path the runtime fields put into an image, beside what every image
// has (the entrypoint, CA bundle, zoneinfo, passwd). Every entry carries the commit's
// time (SOURCE_DATE_EPOCH), which the assembler applies.
type Entry struct {
	Path     string // absolute, in the image
	Kind     Kind
	Mode     fs.FileMode // permission bits
	UID, GID int
	Src      string // KindFile: the host file to copy
	Main     string // KindBinary: the main package
	Link     string // KindSymlink: the target, as written
}

// Contents lists, sorted by path and each path once, what img's runtime fields put
// into it: the Also binaries (0755, root), the files of Files (their mode without
// write for group and others, root; the directories they need, 0755, root; a symlink
// inside a directory of Files stays a symlink, as COPY keeps it, while a From that is
// a symlink is copied as what it points at), WorkDir
// and the volumes (0755, the image's user) and the directories above them (0755,
// root). It reads the Files sources' directory trees and modes, nothing else. When
// paths coincide, a WorkDir or volume wins over a directory Files makes.
func Contents(img ResolvedImage) ([]Entry, error) {
	byPath := map[string]Entry{}
	put := func(e Entry) {
		if old, ok := byPath[e.Path]; ok && old.Kind == KindOwned {
			return
		}
		byPath[e.Path] = e
	}
	dirsAbove := func(p string) {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			put(Entry{Path: d, Kind: KindDir, Mode: 0o755})
		}
	}
	for _, x := range img.Extras {
		put(Entry{Path: x.Path(), Kind: KindBinary, Mode: 0o755, Main: x.Main})
	}
	for _, c := range img.Copies {
		dirsAbove(c.To)
		if !c.Dir {
			fi, err := os.Stat(c.Src)
			if err != nil {
				return nil, err
			}
			put(Entry{Path: c.To, Kind: KindFile, Mode: fileMode(fi.Mode()), Src: c.Src})
			continue
		}
		err := filepath.WalkDir(c.Src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(c.Src, p)
			if err != nil {
				return err
			}
			to := path.Join(c.To, filepath.ToSlash(rel))
			if d.Type()&fs.ModeSymlink != 0 {
				link, err := os.Readlink(p)
				if err != nil {
					return err
				}
				put(Entry{Path: to, Kind: KindSymlink, Mode: 0o777, Link: filepath.ToSlash(link)})
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.IsDir() {
				put(Entry{Path: to, Kind: KindDir, Mode: 0o755})
				return nil
			}
			put(Entry{Path: to, Kind: KindFile, Mode: fileMode(fi.Mode()), Src: p})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if dirs := img.OwnedDirs(); len(dirs) > 0 {
		uid, gid, err := Owner(img.User)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			byPath[d] = Entry{Path: d, Kind: KindOwned, Mode: 0o755, UID: uid, GID: gid}
		}
		for _, d := range dirs {
			for a := path.Dir(d); a != "/"; a = path.Dir(a) {
				if _, ok := byPath[a]; !ok {
					byPath[a] = Entry{Path: a, Kind: KindParent, Mode: 0o755}
				}
			}
		}
	}
	out := make([]Entry, 0, len(byPath))
	for _, e := range byPath {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// fileMode is the mode a file of Image.Files gets in the image: 0755 when any execute
// bit is set, else 0644, as git records it, whatever the checkout's umask made of it
// (0600 under umask 077 would be unreadable by the image's user and change the digest).
func fileMode(m fs.FileMode) fs.FileMode {
	if m.Perm()&0o111 != 0 {
		return 0o755
	}
	return 0o644
}
