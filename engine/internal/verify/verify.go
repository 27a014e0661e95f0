package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/gobuild"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
)

// Label keys mageship's Dockerfile sets.
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
)

// Paths the checks look at.
const (
	BinDir      = "/usr/local/bin"
	CABundle    = "/etc/ssl/certs/ca-certificates.crt"
	ZoneinfoZip = "/usr/share/zoneinfo.zip"
	ZoneinfoDir = "/usr/share/zoneinfo"
)

// Expect is what an image is checked against. Binary and Platform are required.
type Expect struct {
	Binary   string            // /usr/local/bin/<Binary> is the entrypoint
	Platform platform.Platform // the config's os/architecture/variant, and the binary's architecture
	// User is the expected user, e.g. 65534:65534; it must not be root. Empty: any
	// non-root user is accepted.
	User string
	// Labels are the label keys that must be set and non-empty, e.g. LabelVersion,
	// LabelRevision, LabelSource, LabelCreated; pass what applies.
	Labels []string
	// Version, when set, is the value label org.opencontainers.image.version must have.
	Version string
	// Stamped, when set, is the version the binary must carry: what -X set a variable
	// to (see gobuild.Stamped). Empty: the binary's version is not checked.
	Stamped string
	// Zoneinfo requires /usr/share/zoneinfo.zip (non-empty) or the /usr/share/zoneinfo/ directory.
	Zoneinfo bool
	// MaxBytes is the size budget of the production image: the uncompressed size of
	// its layers, summed (see Result.Bytes). 0 means no budget.
	MaxBytes int64
	// Dirs are directories that must exist and be writable by the image's user
	// (Image.WorkDir and Image.Volumes).
	Dirs []string
	// Files are regular files that must be in the image with these bytes: path in the
	// image -> hex SHA-256 (Image.Files).
	Files map[string]string
	// Also are more binaries in BinDir, each checked as the entrypoint is: static, of
	// the platform's architecture, carrying Stamped (Image.Also).
	Also []string
	// Run is what the image config must say of how the image runs; its empty fields
	// are not checked.
	Run Run
}

// Run is the part of the image config that Image.Args, Env, WorkDir, Volumes and
// Labels set.
type Run struct {
	Cmd     []string          // exactly this CMD
	Env     []string          // each KEY=value among the config's Env
	WorkDir string            // the WorkingDir
	Volumes []string          // each among the config's Volumes
	Labels  map[string]string // each among the config's Labels, with its value
}

// Finding is one broken promise.
type Finding struct {
	Check   string // "shell", "user", "entrypoint", "static-binary", ...
	Image   string // the reference the image was verified as
	Problem string // what is wrong
	Fix     string // what to change
}

// Error returns the finding on one line: "<check>: <image>: <problem>; <fix>".
func (f Finding) Error() string {
	return f.Check + ": " + f.Image + ": " + f.Problem + "; " + f.Fix
}

// Result is what verifying one image found.
type Result struct {
	Image string // the reference the image was verified as
	// Bytes is the uncompressed size of the image: for each layer, the bytes of its
	// uncompressed tar stream (layer.Uncompressed(), headers and padding included),
	// summed. Files that a later layer deletes or replaces still count, as they do
	// on disk.
	Bytes int64
	// BinarySHA256 is the hex SHA-256 of /usr/local/bin/<Binary>; empty when the
	// image does not hold it as a file.
	BinarySHA256 string
	Findings     []Finding // in the order the checks run; at most one per check
}

// Err returns nil when there is no finding, else an error that joins them all, one
// per line (errors.As finds each Finding).
func (r Result) Err() error {
	errs := make([]error, len(r.Findings))
	for i, f := range r.Findings {
		errs[i] = f
	}
	return errors.Join(errs...)
}

// Production checks img, the production variant, verified as ref, against e:
// "shell", "package-manager", "user", "entrypoint", "static-binary", "version" (when
// e.Stamped), "platform", "run", "dirs", "files" and "also" (when e asks for them), "ca-bundle", "zoneinfo" (when e.Zoneinfo), "labels" and
// "size" (when e.MaxBytes > 0). Broken promises are Findings in the Result; the error is for an Expect that
// cannot be checked or an image that cannot be read. It reads every layer up to
// three times (the filesystem, the binary, the size): give it an image whose layers
// are local or cached.
func Production(ref string, img v1.Image, e Expect) (Result, error) {
	if err := e.validate(); err != nil {
		return Result{}, fmt.Errorf("verifying production image %s: %w", ref, err)
	}
	s, err := read(ref, img, e)
	if err != nil {
		return Result{}, fmt.Errorf("verifying production image %s: %w", ref, err)
	}

	if sh, ok := imagefs.HasShell(s.entries); ok {
		s.add("shell", fmt.Sprintf("the image has a shell (%s)", sh),
			"build the production image FROM scratch or distroless static; use the debug variant to get a shell")
	}
	if pms := imagefs.PackageManagers(s.entries); len(pms) > 0 {
		s.add("package-manager", fmt.Sprintf("the image has a package manager (%s)", strings.Join(pms, ", ")),
			"build the production image FROM scratch or distroless static, not a distribution base such as alpine or debian")
	}
	s.checkUser()
	s.checkEntrypoint()
	if s.bin != nil {
		if err := binary.Check(bytes.NewReader(s.bin), e.Platform); err != nil {
			// binary.Check names the file "binary" and ends its message with what to do.
			problem, fix := splitFix(strings.Replace(err.Error(), "binary ", s.binPath+" ", 1),
				"build it with CGO_ENABLED=0 GOOS=linux GOARCH="+e.Platform.Arch)
			s.add("static-binary", problem, fix)
		}
		if e.Stamped != "" && !gobuild.Stamped(s.bin, e.Stamped) {
			s.add("version", fmt.Sprintf("%s does not carry version %s: -X had no effect", s.binPath, e.Stamped),
				"set Image.VersionVar to a package-level string variable the binary links, or to - for none")
		}
	}
	s.checkPlatform()
	if err := s.checkRuntime(img); err != nil {
		return Result{}, fmt.Errorf("verifying production image %s: %w", ref, err)
	}
	if f, ok := s.file(CABundle); !ok || f.Size == 0 {
		s.add("ca-bundle", fmt.Sprintf("%s is %s", CABundle, missingOrEmpty(ok)),
			"COPY /etc/ssl/certs/ca-certificates.crt from the build stage (where the ca-certificates package provides it) into the image")
	}
	if e.Zoneinfo {
		zip, ok := s.file(ZoneinfoZip)
		dir, isDir := s.entries[ZoneinfoDir]
		if !(ok && zip.Size > 0) && !(isDir && dir.Type == tar.TypeDir) {
			s.add("zoneinfo", fmt.Sprintf("neither %s (non-empty) nor the directory %s/ is in the image", ZoneinfoZip, ZoneinfoDir),
				`COPY "$(go env GOROOT)/lib/time/zoneinfo.zip" from the build stage to /usr/share/zoneinfo.zip and set ENV ZONEINFO=/usr/share/zoneinfo.zip`)
		}
	}
	s.checkLabels()
	if e.MaxBytes > 0 && s.res.Bytes > e.MaxBytes {
		s.add("size", fmt.Sprintf("the image is %d bytes uncompressed, %d over the budget of %d", s.res.Bytes, s.res.Bytes-e.MaxBytes, e.MaxBytes),
			`put only the binary and the files it needs in the image (FROM scratch, no extra COPY), strip the binary with -ldflags="-s -w", or raise the size budget`)
	}
	return s.res, nil
}

// Debug checks img, the debug variant, verified as ref, against e and the SHA-256
// of the production image's binary (Result.BinarySHA256 of Production): "shell"
// (present), "user", "entrypoint", "identical-binary", "platform", and "run", "dirs",
// "files" and "also" as for Production. Labels,
// zoneinfo, CA bundle and size are not checked. Errors and reads are as for
// Production.
func Debug(ref string, img v1.Image, e Expect, productionBinarySHA256 string) (Result, error) {
	if err := e.validate(); err != nil {
		return Result{}, fmt.Errorf("verifying debug image %s: %w", ref, err)
	}
	if productionBinarySHA256 == "" {
		return Result{}, fmt.Errorf("verifying debug image %s: no SHA-256 of the production binary: verify the production image first and pass its Result.BinarySHA256", ref)
	}
	s, err := read(ref, img, e)
	if err != nil {
		return Result{}, fmt.Errorf("verifying debug image %s: %w", ref, err)
	}
	if _, ok := imagefs.HasShell(s.entries); !ok {
		s.add("shell", "the debug image has no shell (/bin/sh, /bin/busybox, ...)",
			"build the debug variant FROM a base with a shell, such as alpine")
	}
	s.checkUser()
	s.checkEntrypoint()
	if s.res.BinarySHA256 != "" && s.res.BinarySHA256 != productionBinarySHA256 {
		s.add("identical-binary", fmt.Sprintf("%s has SHA-256 %s, the production binary %s", s.binPath, s.res.BinarySHA256, productionBinarySHA256),
			"build both variants from the same build stage")
	}
	s.checkPlatform()
	if err := s.checkRuntime(img); err != nil {
		return Result{}, fmt.Errorf("verifying debug image %s: %w", ref, err)
	}
	return s.res, nil
}

func (e Expect) validate() error {
	if e.Binary == "" || strings.Contains(e.Binary, "/") {
		return fmt.Errorf("invalid binary name %q in Expect: give the file name under %s, e.g. hello", e.Binary, BinDir)
	}
	if e.Platform.OS == "" || e.Platform.Arch == "" {
		return fmt.Errorf("no platform in Expect (%q): give an os and an arch, e.g. linux/amd64", e.Platform)
	}
	if e.User != "" && isRoot(e.User) {
		return fmt.Errorf("expected user %q is root: mageship images run as a non-root uid:gid such as 65534:65534", e.User)
	}
	if e.MaxBytes < 0 {
		return fmt.Errorf("negative size budget %d in Expect: give 0 for none", e.MaxBytes)
	}
	return nil
}

// state is one verification in progress.
type state struct {
	e       Expect
	cf      *v1.ConfigFile
	entries map[string]imagefs.Entry
	binPath string
	bin     []byte // the binary's contents; nil when it is not a regular file in the image
	res     Result
}

func (s *state) add(check, problem, fix string) {
	s.res.Findings = append(s.res.Findings, Finding{Check: check, Image: s.res.Image, Problem: problem, Fix: fix})
}

// read gathers what every check needs: the config, the file list, the binary and the size.
func read(ref string, img v1.Image, e Expect) (*state, error) {
	s := &state{e: e, binPath: path.Join(BinDir, e.Binary), res: Result{Image: ref}}
	var err error
	if s.cf, err = img.ConfigFile(); err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	if s.cf == nil {
		return nil, errors.New("reading the image config: the image has none")
	}
	if s.entries, err = imagefs.List(img); err != nil {
		return nil, err
	}
	if f, ok := s.file(s.binPath); ok {
		s.res.BinarySHA256 = f.SHA256
		if s.bin, err = imagefs.ReadFile(img, f.Path); err != nil {
			return nil, err
		}
	}
	if s.res.Bytes, err = uncompressedSize(img); err != nil {
		return nil, err
	}
	return s, nil
}

// file returns the regular file at p, following hard links and symlinks of the last
// path element (not of the directories above it).
func (s *state) file(p string) (imagefs.Entry, bool) {
	for range 16 {
		e, ok := s.entries[p]
		if !ok {
			return imagefs.Entry{}, false
		}
		switch e.Type {
		case tar.TypeReg:
			return e, true
		case tar.TypeLink:
			p = e.Linkname
		case tar.TypeSymlink:
			if path.IsAbs(e.Linkname) {
				p = path.Clean(e.Linkname)
			} else {
				p = path.Join(path.Dir(p), e.Linkname)
			}
		default:
			return imagefs.Entry{}, false
		}
	}
	return imagefs.Entry{}, false
}

func (s *state) checkUser() {
	u := s.cf.Config.User
	const fix = "set Image.User to a non-root uid:gid such as 65534:65534 (USER in the Dockerfile)"
	switch {
	case u == "":
		s.add("user", "the image sets no user, so it runs as root", fix)
	case isRoot(u):
		s.add("user", fmt.Sprintf("the image runs as root (user %q)", u), fix)
	case s.e.User != "" && u != s.e.User:
		s.add("user", fmt.Sprintf("the image runs as user %q, want %q", u, s.e.User), fix)
	}
}

func (s *state) checkEntrypoint() {
	want := []string{s.binPath}
	var problems []string
	if got := s.cf.Config.Entrypoint; !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("the entrypoint is %q, want %q", got, want))
	}
	if f, ok := s.file(s.binPath); !ok {
		problems = append(problems, fmt.Sprintf("%s is not a file in the image", s.binPath))
	} else if f.Mode&0o111 == 0 {
		problems = append(problems, fmt.Sprintf("%s is not executable (mode %#o)", s.binPath, f.Mode))
	}
	if len(problems) > 0 {
		s.add("entrypoint", strings.Join(problems, ", and "),
			fmt.Sprintf(`COPY the binary from the build stage to %s (mode 0755) and set ENTRYPOINT [%q]`, s.binPath, s.binPath))
	}
}

func (s *state) checkPlatform() {
	got := platform.Platform{OS: s.cf.OS, Arch: s.cf.Architecture, Variant: s.cf.Variant}
	if got.Arch == "arm64" && got.Variant == "v8" {
		got.Variant = "" // platform.Parse's form: arm64 has only v8
	}
	if got != s.e.Platform {
		s.add("platform", fmt.Sprintf("the image config says %q, want %s", got, s.e.Platform),
			fmt.Sprintf("build the image for %s (docker buildx build --platform %s), or check it against the platform it was built for", s.e.Platform, s.e.Platform))
	}
}

func (s *state) checkLabels() {
	var problems []string
	labels := s.cf.Config.Labels
	keys := slices.Clone(s.e.Labels)
	if s.e.Version != "" && !slices.Contains(keys, LabelVersion) {
		keys = append(keys, LabelVersion)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		v := labels[k]
		switch {
		case v == "" && k == LabelVersion && s.e.Version != "":
			problems = append(problems, fmt.Sprintf("label %s is %s, want %q", k, missingOrEmpty(hasKey(labels, k)), s.e.Version))
		case v == "":
			problems = append(problems, fmt.Sprintf("label %s is %s", k, missingOrEmpty(hasKey(labels, k))))
		case k == LabelVersion && s.e.Version != "" && v != s.e.Version:
			problems = append(problems, fmt.Sprintf("label %s is %q, want %q", k, v, s.e.Version))
		}
	}
	if len(problems) > 0 {
		s.add("labels", strings.Join(problems, ", and "),
			"build with the VERSION, REVISION, CREATED and SOURCE build args, which mageship's Dockerfile turns into the org.opencontainers.image labels (set Config.Source when the module path is not a URL)")
	}
}

// isRoot reports whether a config User runs as root: empty, 0, root, or with group 0:... / root:....
func isRoot(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "" || name == "0" || name == "root"
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func missingOrEmpty(present bool) string {
	if present {
		return "empty"
	}
	return "missing"
}

// splitFix splits a message of the form "<problem>: <what to do>" at its last ": ";
// a message without one is all problem, and fallback is the fix.
func splitFix(msg, fallback string) (problem, fix string) {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[:i], msg[i+2:]
	}
	return msg, fallback
}

// uncompressedSize sums the bytes of every layer's uncompressed tar stream.
func uncompressedSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, fmt.Errorf("reading the layers: %w", err)
	}
	var total int64
	for i, l := range layers {
		n, err := layerSize(l)
		if err != nil {
			return 0, fmt.Errorf("measuring layer %d of %d: %w", i+1, len(layers), err)
		}
		total += n
	}
	return total, nil
}

func layerSize(l v1.Layer) (n int64, err error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return io.Copy(io.Discard, rc)
}

// checkRuntime checks what the image's runtime fields promise: Dirs writable by the
// user, Files with their bytes, the Also binaries static, of the right architecture
// and stamped. It reads the Also binaries from img.
func (s *state) checkRuntime(img v1.Image) error {
	s.checkRun()
	user := s.e.User
	if user == "" {
		user = s.cf.Config.User
	}
	var problems []string
	for _, d := range s.e.Dirs {
		e, ok := s.entries[d]
		switch {
		case !ok:
			problems = append(problems, d+" is missing")
		case e.Type != tar.TypeDir:
			problems = append(problems, d+" is not a directory")
		case !writable(e, user):
			problems = append(problems, fmt.Sprintf("%s (owner %d:%d, mode %#o) is not writable by user %s", d, e.UID, e.GID, e.Mode&0o7777, user))
		}
	}
	if len(problems) > 0 {
		s.add("dirs", strings.Join(problems, ", and "),
			"COPY --chown=<uid:gid of the user> the WorkDir and Volumes directories into the image (mageship's Dockerfile does)")
	}
	problems = nil
	for _, p := range slices.Sorted(maps.Keys(s.e.Files)) {
		f, ok := s.file(p)
		switch {
		case !ok:
			problems = append(problems, p+" is not a file in the image")
		case f.SHA256 != s.e.Files[p]:
			problems = append(problems, fmt.Sprintf("%s has SHA-256 %s, the repository's file %s", p, f.SHA256, s.e.Files[p]))
		}
	}
	if len(problems) > 0 {
		s.add("files", strings.Join(problems, ", and "), "build again from the committed files (Image.Files)")
	}
	problems = nil
	for _, b := range s.e.Also {
		p := path.Join(BinDir, b)
		f, ok := s.file(p)
		if !ok {
			problems = append(problems, p+" is not a file in the image")
			continue
		}
		bin, err := imagefs.ReadFile(img, f.Path)
		if err != nil {
			return err
		}
		if err := binary.Check(bytes.NewReader(bin), s.e.Platform); err != nil {
			problems = append(problems, strings.Replace(err.Error(), "binary ", p+" ", 1))
		}
		if s.e.Stamped != "" && !gobuild.Stamped(bin, s.e.Stamped) {
			problems = append(problems, fmt.Sprintf("%s does not carry version %s", p, s.e.Stamped))
		}
	}
	if len(problems) > 0 {
		s.add("also", strings.Join(problems, ", and "),
			"build each Image.Also binary with CGO_ENABLED=0 for the image's platform and give its main package the variable Image.VersionVar names")
	}
	return nil
}

// checkRun compares the image config with e.Run.
func (s *state) checkRun() {
	c, r := s.cf.Config, s.e.Run
	var problems []string
	if len(r.Cmd) > 0 && !slices.Equal(c.Cmd, r.Cmd) {
		problems = append(problems, fmt.Sprintf("CMD is %q, want %q", c.Cmd, r.Cmd))
	}
	for _, kv := range r.Env {
		if !slices.Contains(c.Env, kv) {
			problems = append(problems, fmt.Sprintf("Env has no %s", kv))
		}
	}
	if r.WorkDir != "" && c.WorkingDir != r.WorkDir {
		problems = append(problems, fmt.Sprintf("the working directory is %q, want %q", c.WorkingDir, r.WorkDir))
	}
	for _, v := range r.Volumes {
		if _, ok := c.Volumes[v]; !ok {
			problems = append(problems, fmt.Sprintf("%s is not a volume", v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		if c.Labels[k] != r.Labels[k] {
			problems = append(problems, fmt.Sprintf("label %s is %q, want %q", k, c.Labels[k], r.Labels[k]))
		}
	}
	if len(problems) > 0 {
		s.add("run", strings.Join(problems, ", and "),
			"render the Image's Args, Env, WorkDir, Volumes and Labels into CMD, ENV, WORKDIR, VOLUME and LABEL (mageship's Dockerfile.tmpl does; a template of your own must too)")
	}
}

// writable reports whether user (uid[:gid], numeric) may create files in directory e.
func writable(e imagefs.Entry, user string) bool {
	u, g, _ := strings.Cut(user, ":")
	uid, uerr := strconv.Atoi(u)
	gid, gerr := strconv.Atoi(g)
	switch {
	case uerr == nil && uid == 0:
		return true
	case uerr == nil && e.UID == uid:
		return e.Mode&0o300 == 0o300
	case gerr == nil && e.GID == gid:
		return e.Mode&0o030 == 0o030
	}
	return e.Mode&0o003 == 0o003
}
