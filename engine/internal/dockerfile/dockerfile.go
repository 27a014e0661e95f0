package dockerfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/mageship/mageship/engine/internal/config"
)

// Data is what the template is rendered from: one binary, one image.
type Data struct {
	Prebuilt     bool     // the host build path: the binaries are in the build context, <os>_<arch>[_<variant>]/<Binary>
	BuilderImage string   // Go toolchain image the build stage runs on, e.g. golang:1.26-alpine
	RuntimeImage string   // production base: "scratch" or an image such as gcr.io/distroless/static-debian12:nonroot
	DebugImage   string   // debug base with a shell, e.g. alpine:3.22
	Main         string   // package to build, relative to the module root: "." or "./cmd/hello"
	Binary       string   // file name of the binary, installed as /usr/local/bin/<Binary>
	VersionVar   string   // -X target for the version, e.g. main.version; empty: none
	Ports        []int    // EXPOSEd ports
	Vendor       bool     // the module has vendor/: no download, -mod=vendor
	Modules      []string // module paths the module layer downloads (the service's own requirements)
	Tags         []string // go build -tags
	User         string   // runtime USER, e.g. 65534:65534
	DebugUser    string   // debug USER
	WorkDir      string   // the module's directory in the build stage; see Layout
	Replaces     []Replace

	// What the image needs to run a real service (config.Image's runtime fields).
	Also         []Binary // more binaries built like Binary into /usr/local/bin/ (Image.Also)
	Args         []string // CMD, after the entrypoint (Image.Args)
	Env          []string // KEY=value, set in the image config (Image.Env)
	Labels       map[string]string
	ImageWorkDir string     // WORKDIR of the images (Image.WorkDir); "" for none
	Volumes      []string   // VOLUMEs (Image.Volumes)
	Files        []FileCopy // Image.Files: copied into the build stage, then into the images, owned by root
	OwnedDirs    []string   // WorkDir and the volumes, created for and owned by Owner
	ParentDirs   []string   // the directories above OwnedDirs, which stay root's
	Owner        string     // numeric uid:gid owning OwnedDirs (the image's user)
}

// Binary is one more main package built into the image.
type Binary struct {
	Main   string // package, relative to the module root, e.g. ./cmd/cli
	Binary string // file name in /usr/local/bin/
}

// FileCopy is one Image.Files entry: From in the build context, To in the image.
type FileCopy struct {
	From string // slash-separated, relative to the module root
	To   string // absolute
}

// Runtime fills the runtime fields of d from img (resolved) and its Contents:
// one computation for the host path, the container path and the ejected Dockerfile.
func (d *Data) Runtime(img config.ResolvedImage, contents []config.Entry) {
	for _, x := range img.Extras {
		d.Also = append(d.Also, Binary{Main: x.Main, Binary: x.Binary})
	}
	d.Args, d.Env, d.Labels = img.Args, img.Env, img.Labels
	d.ImageWorkDir, d.Volumes = img.WorkDir, img.Volumes
	for _, c := range img.Copies {
		d.Files = append(d.Files, FileCopy{From: c.From, To: c.To})
	}
	owned := map[string]bool{}
	for _, e := range contents {
		if e.Kind == config.KindOwned {
			d.OwnedDirs = append(d.OwnedDirs, e.Path)
			owned[e.Path] = true
			d.Owner = fmt.Sprintf("%d:%d", e.UID, e.GID)
		}
	}
	seen := map[string]bool{}
	for _, o := range d.OwnedDirs {
		for a := path.Dir(o); a != "/"; a = path.Dir(a) {
			if !owned[a] && !seen[a] {
				seen[a] = true
				d.ParentDirs = append(d.ParentDirs, a)
			}
		}
	}
}

// Replace is a module that go.mod replaces with a directory outside the build
// context: it comes in as the named build context Context, copied to Dir.
type Replace struct {
	Context string // build context name, e.g. gomod-replace-1
	Dir     string // absolute directory in the build stage
}

// Layout places the module and the directories its go.mod replaces modules with in
// the build stage so that the paths go.mod writes still hold. replaces are those paths
// as written: a relative one keeps its place relative to the module (the deepest
// directory holding the module and all relative replacements becomes /src); an
// absolute one is copied to that same absolute path. It returns the module's WORKDIR
// and one directory per replacement, in order.
func Layout(moduleDir string, replaces []string) (string, []string) {
	moduleDir = filepath.Clean(moduleDir)
	root := moduleDir
	for _, r := range replaces {
		if filepath.IsAbs(r) {
			continue
		}
		for d := filepath.Join(moduleDir, r); !within(root, d); {
			root = filepath.Dir(root)
		}
	}
	rel := func(d string) string {
		r, _ := filepath.Rel(root, d)
		return path.Join("/src", filepath.ToSlash(r))
	}
	dirs := make([]string, len(replaces))
	for i, r := range replaces {
		if filepath.IsAbs(r) {
			dirs[i] = filepath.ToSlash(filepath.Clean(r))
		} else {
			dirs[i] = rel(filepath.Join(moduleDir, r))
		}
	}
	return rel(moduleDir), dirs
}

func within(root, dir string) bool {
	r, err := filepath.Rel(root, dir)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

var (
	binaryRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	mainRE   = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	varRE    = regexp.MustCompile(`^[A-Za-z0-9._/-]+\.[A-Za-z_][A-Za-z0-9_]*$`)
	moduleRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]*$`)
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
	userRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$`)
	dirRE    = regexp.MustCompile(`^/[A-Za-z0-9._/@+-]*$`)
	ctxRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	ownerRE  = regexp.MustCompile(`^[0-9]+:[0-9]+$`)
	labelRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	envRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// quoted writes v as a double-quoted Dockerfile word that ENV and LABEL take
// literally: backslash, quote and $ escaped.
func quoted(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(v) + `"`
}

// exec writes args as a Dockerfile JSON array (exec form), "" for none.
func exec(args []string) string {
	if len(args) == 0 {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(args)
	return strings.TrimSpace(b.String())
}

// Validate checks every field the template interpolates, so that nothing a user
// configures can inject Dockerfile syntax.
func (d Data) Validate() error {
	for name, v := range map[string]string{"builder image": d.BuilderImage, "runtime image": d.RuntimeImage, "debug image": d.DebugImage} {
		if v == "" || strings.ContainsAny(v, " \t\n\"'") {
			return fmt.Errorf("invalid %s %q: give an image reference such as alpine:3.22", name, v)
		}
	}
	if !binaryRE.MatchString(d.Binary) {
		return fmt.Errorf("invalid binary name %q: use letters, digits, '.', '_' and '-'", d.Binary)
	}
	if !mainRE.MatchString(d.Main) {
		return fmt.Errorf("invalid main package %q: give a package path such as ./cmd/%s", d.Main, d.Binary)
	}
	if d.VersionVar != "" && !varRE.MatchString(d.VersionVar) {
		return fmt.Errorf("invalid version variable %q: give an import path and a variable, e.g. main.version", d.VersionVar)
	}
	for _, p := range d.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("invalid port %d: ports are 1 to 65535", p)
		}
	}
	for _, m := range d.Modules {
		if !moduleRE.MatchString(m) {
			return fmt.Errorf("invalid module path %q in go.mod: module paths are letters, digits and . _ ~ - /", m)
		}
	}
	for _, t := range d.Tags {
		if !tagRE.MatchString(t) {
			return fmt.Errorf("invalid build tag %q: use letters, digits, '_' and '.'", t)
		}
	}
	if !dirRE.MatchString(d.WorkDir) {
		return fmt.Errorf("invalid work directory %q: give an absolute path such as /src", d.WorkDir)
	}
	for _, r := range d.Replaces {
		if !ctxRE.MatchString(r.Context) || !dirRE.MatchString(r.Dir) {
			return fmt.Errorf("invalid replaced module directory %q (context %q): use an absolute path of letters, digits and . _ - / @ +", r.Dir, r.Context)
		}
	}
	for _, b := range d.Also {
		if !binaryRE.MatchString(b.Binary) || !mainRE.MatchString(b.Main) {
			return fmt.Errorf("invalid Also binary %q (package %q): use letters, digits, '.', '_' and '-'", b.Binary, b.Main)
		}
	}
	dirs := append(append(append(slices.Clone(d.Volumes), d.OwnedDirs...), d.ParentDirs...), d.ImageWorkDir)
	for _, f := range d.Files {
		if !mainRE.MatchString(f.From) {
			return fmt.Errorf("invalid file to copy %q: use letters, digits and . _ - / @ +", f.From)
		}
		dirs = append(dirs, f.To)
	}
	for _, p := range dirs {
		if p != "" && !dirRE.MatchString(p) {
			return fmt.Errorf("invalid path in the image %q: give an absolute path of letters, digits and . _ - / @ +", p)
		}
	}
	if len(d.OwnedDirs) > 0 && !ownerRE.MatchString(d.Owner) {
		return fmt.Errorf("invalid owner %q of WorkDir and Volumes: give a numeric uid:gid such as 65534:65534", d.Owner)
	}
	for _, kv := range d.Env {
		if !envRE.MatchString(kv) {
			return fmt.Errorf("invalid Env entry %q: write it as KEY=value", kv)
		}
	}
	for _, kv := range append(slices.Clone(d.Env), d.Args...) {
		if strings.ContainsAny(kv, "\r\n") {
			return fmt.Errorf("invalid Env or Args entry %q: give it on one line", kv)
		}
	}
	for k, v := range d.Labels {
		if !labelRE.MatchString(k) || strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("invalid label %q=%q: keys are letters, digits and . _ - /, values one line", k, v)
		}
	}
	for name, u := range map[string]string{"user": d.User, "debug user": d.DebugUser} {
		if !userRE.MatchString(u) {
			return fmt.Errorf("invalid %s %q: give uid:gid such as 65534:65534", name, u)
		}
	}
	return nil
}

// Parse parses a Dockerfile template; name appears in errors.
func Parse(name, text string) (*template.Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("parsing Dockerfile template %s: it is empty", name)
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{"join": strings.Join}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing Dockerfile template: %w", err)
	}
	return t, nil
}

// Render validates d and executes t with it, then lints the result.
func Render(t *template.Template, d Data) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d.fields()); err != nil {
		return "", fmt.Errorf("rendering Dockerfile template %s: %w", t.Name(), err)
	}
	out := buf.String()
	if err := Lint(out); err != nil {
		return "", fmt.Errorf("rendered Dockerfile from %s: %w", t.Name(), err)
	}
	return out, nil
}

// fields is the map the template sees: a map, so that missingkey=error catches a
// template naming a field that does not exist.
func (d Data) fields() map[string]any {
	var env, labels []string
	for _, kv := range d.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, k+"="+quoted(v))
	}
	for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
		labels = append(labels, k+"="+quoted(d.Labels[k]))
	}
	return map[string]any{
		"Prebuilt":     d.Prebuilt,
		"BuilderImage": d.BuilderImage,
		"RuntimeImage": d.RuntimeImage,
		"DebugImage":   d.DebugImage,
		"Scratch":      d.RuntimeImage == config.Scratch,
		"Main":         d.Main,
		"Binary":       d.Binary,
		"VersionVar":   d.VersionVar,
		"Ports":        d.Ports,
		"Vendor":       d.Vendor,
		"Modules":      d.Modules,
		"Tags":         d.Tags,
		"User":         d.User,
		"DebugUser":    d.DebugUser,
		"WorkDir":      d.WorkDir,
		"Replaces":     d.Replaces,
		"Also":         d.Also,
		"Cmd":          exec(d.Args),
		"Env":          env,
		"Labels":       labels,
		"ImageWorkDir": d.ImageWorkDir,
		"Volumes":      exec(d.Volumes),
		"Files":        d.Files,
		"OwnedDirs":    d.OwnedDirs,
		"ParentDirs":   d.ParentDirs,
		"Owner":        d.Owner,
	}
}
