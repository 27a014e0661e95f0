package dockerfile

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
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
)

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
	}
}
