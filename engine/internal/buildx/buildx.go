package buildx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/platform"
)

// Build describes one `docker buildx build`. It is passive data: Args checks it and
// turns it into a command line, Run executes it.
type Build struct {
	// Builder is passed as --builder. Empty leaves the choice to buildx: the
	// BUILDX_BUILDER environment variable, else the current builder.
	Builder string
	// Context is the build context directory, the last argument. Required.
	Context string
	// Dockerfile is the path passed to --file. Required.
	Dockerfile string
	// Target is the stage passed to --target. Empty builds the last stage.
	Target string
	// Platforms are passed as one --platform a,b. Empty leaves the builder's default.
	// Each is listed once: config.Resolve, where they come from, refuses duplicates.
	Platforms []platform.Platform
	// Tags are passed as --tag each, in order. OutputPushByDigest takes none.
	Tags []string
	// BuildArgs are passed as --build-arg KEY=VALUE, sorted by key. They end up in
	// the image history and provenance: pass credentials as Secrets instead.
	BuildArgs map[string]string
	// Contexts are extra named build contexts, passed as --build-context NAME=PATH,
	// sorted by name; a Dockerfile reads them with COPY --from=NAME.
	Contexts map[string]string
	// Secrets are passed as --secret id=ID,src=PATH or id=ID,env=VAR: the command
	// line names where a secret is, never its value.
	Secrets []Secret
	// Output says where the result goes. Required: the zero value is refused.
	Output Output
	// MetadataFile is passed as --metadata-file. Required: Run reads the digests
	// from it. Run creates its directory and removes a stale file first.
	MetadataFile string
	// Provenance and SBOM ask BuildKit for those attestations (--provenance=mode=max,
	// --sbom=true). Both false passes --provenance=false --sbom=false, which keeps
	// unknown/unknown attestation manifests out of the index.
	Provenance bool
	SBOM       bool
	// CacheFrom and CacheTo are passed verbatim as --cache-from and --cache-to,
	// e.g. type=registry,ref=ghcr.io/acme/app:buildcache or type=gha.
	CacheFrom []string
	CacheTo   []string
	// SourceDateEpoch, when set (Unix seconds), is handed to the exporter
	// (source-date-epoch=N): the image config's and history's times are that time.
	// It is an exporter option rather than the build arg SOURCE_DATE_EPOCH because
	// the build arg enters every step's cache key, and a new commit would then
	// rebuild even a module layer whose go.mod did not change.
	SourceDateEpoch string
	// RewriteTimestamp also clamps the times of the files in the new layers to
	// SourceDateEpoch (rewrite-timestamp=true, BuildKit 0.13.2 and newer; older
	// ones ignore it), so that files a build stage made do not carry the build's time.
	RewriteTimestamp bool
	// Progress is passed as --progress. Empty means "plain".
	Progress string
}

// Secret is one build secret, mounted in the Dockerfile with
// RUN --mount=type=secret,id=ID. Exactly one of Src and Env is set.
type Secret struct {
	// ID is the id the Dockerfile mounts.
	ID string
	// Src is the path of a file that holds the secret.
	Src string
	// Env is the name of an environment variable that holds the secret.
	Env string
}

// OutputKind says what buildx does with the build result.
type OutputKind int

const (
	// OutputLoad loads a single-platform image into the local Docker engine (--load).
	// The zero OutputKind is none of these, and Args refuses it.
	OutputLoad OutputKind = iota + 1
	// OutputPushByDigest pushes to Output.Repository without any tag
	// (--output type=image,name=REPO,push-by-digest=true,name-canonical=true,push=true):
	// platform images are pushed by digest before any tag moves.
	OutputPushByDigest
)

// String names the kind the way errors mention it.
func (k OutputKind) String() string {
	switch k {
	case OutputLoad:
		return "load"
	case OutputPushByDigest:
		return "push-by-digest"
	}
	return fmt.Sprintf("OutputKind(%d)", int(k))
}

// Output says where a build result goes.
type Output struct {
	Kind OutputKind
	// Repository is the image name without tag or digest that OutputPushByDigest
	// pushes to, e.g. ghcr.io/acme/app. Other kinds take none.
	Repository string
	// NoUnpack loads without unpacking (unpack=false), for OutputLoad with a rewrite of
	// the layers' times on a docker-driver builder of an engine with containerd's
	// image store (Docker Engine 29, Docker Desktop): its exporter refuses
	// rewrite-timestamp together with unpacking ("exporter option rewrite-timestamp
	// conflicts with unpack"). The engine unpacks the image when a container first
	// runs it.
	NoUnpack bool
}

// progressModes are the values buildx v0.38 accepts for --progress.
var progressModes = []string{"auto", "none", "plain", "quiet", "rawjson", "tty"}

// envKey matches an environment variable name.
var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Args returns the command line after `docker`, starting with "buildx", "build",
// with the context directory last. It runs nothing: it checks b and returns the
// first problem found as an error that says what to change.
func (b Build) Args() ([]string, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	args := []string{"buildx", "build"}
	if b.Builder != "" {
		args = append(args, "--builder", b.Builder)
	}
	progress := b.Progress
	if progress == "" {
		progress = "plain"
	}
	args = append(args, "--progress", progress, "--file", b.Dockerfile)
	if b.Target != "" {
		args = append(args, "--target", b.Target)
	}
	if len(b.Platforms) > 0 {
		args = append(args, "--platform", platform.Strings(b.Platforms))
	}
	for _, t := range b.Tags {
		args = append(args, "--tag", t)
	}
	for _, k := range sortedKeys(b.BuildArgs) {
		args = append(args, "--build-arg", k+"="+b.BuildArgs[k])
	}
	for _, k := range sortedKeys(b.Contexts) {
		args = append(args, "--build-context", k+"="+b.Contexts[k])
	}
	for _, s := range b.Secrets {
		if s.Src != "" {
			args = append(args, "--secret", "id="+s.ID+",src="+s.Src)
		} else {
			args = append(args, "--secret", "id="+s.ID+",env="+s.Env)
		}
	}
	for _, c := range b.CacheFrom {
		args = append(args, "--cache-from", c)
	}
	for _, c := range b.CacheTo {
		args = append(args, "--cache-to", c)
	}
	if b.Provenance {
		args = append(args, "--provenance=mode=max")
	} else {
		args = append(args, "--provenance=false")
	}
	args = append(args, "--sbom="+strconv.FormatBool(b.SBOM))
	rewrite := ""
	if b.SourceDateEpoch != "" {
		rewrite = ",source-date-epoch=" + b.SourceDateEpoch
		if b.RewriteTimestamp {
			rewrite += ",rewrite-timestamp=true"
		}
	}
	switch b.Output.Kind {
	case OutputLoad:
		if rewrite == "" {
			args = append(args, "--load")
		} else {
			if b.Output.NoUnpack && b.RewriteTimestamp {
				rewrite += ",unpack=false"
			}
			args = append(args, "--output", "type=docker"+rewrite)
		}
	case OutputPushByDigest:
		args = append(args, "--output", "type=image,name="+b.Output.Repository+",push-by-digest=true,name-canonical=true,push=true"+rewrite)
	}
	args = append(args, "--metadata-file", b.MetadataFile, b.Context)
	return args, nil
}

// validate is the one place that checks a Build.
func (b Build) validate() error {
	switch {
	case b.Context == "":
		return errors.New(`buildx build needs a context directory: set Build.Context, e.g. "."`)
	case b.Context == "-" || b.Dockerfile == "-":
		return errors.New(`buildx build from stdin ("-") is not supported: give a context directory and a Dockerfile path`)
	case strings.HasPrefix(b.Context, "-"):
		return fmt.Errorf("build context %q starts with a dash and would be read as a flag: write it as ./%s", b.Context, b.Context)
	case b.Dockerfile == "":
		return errors.New("buildx build needs a Dockerfile: set Build.Dockerfile to its path")
	case b.MetadataFile == "":
		return errors.New("buildx build needs a metadata file: set Build.MetadataFile, the results are read from it")
	}
	if b.Progress != "" && !slices.Contains(progressModes, b.Progress) {
		return fmt.Errorf("unknown buildx progress mode %q: use one of %s", b.Progress, strings.Join(progressModes, ", "))
	}
	for _, p := range b.Platforms {
		if p.OS == "" || p.Arch == "" {
			return fmt.Errorf("platform %q has no OS or architecture: build it with platform.Parse", p.String())
		}
	}
	for _, t := range b.Tags {
		if t == "" || strings.ContainsAny(t, ", \t\n") {
			return fmt.Errorf("invalid tag %q: write it as repository[:tag], e.g. ghcr.io/acme/app:1.2.3", t)
		}
	}
	if err := checkKeys("build arg", b.BuildArgs); err != nil {
		return err
	}
	if err := checkKeys("build context", b.Contexts); err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, s := range b.Secrets {
		if err := s.validate(); err != nil {
			return err
		}
		if ids[s.ID] {
			return fmt.Errorf("secret id %q is listed twice: give each secret its own id", s.ID)
		}
		ids[s.ID] = true
	}
	for _, c := range append(slices.Clip(b.CacheFrom), b.CacheTo...) {
		if strings.TrimSpace(c) == "" {
			return errors.New("empty cache source or destination: remove it, or write it as type=registry,ref=REPO:TAG")
		}
	}
	return b.Output.validate(b.Platforms, b.Tags)
}

func (o Output) validate(platforms []platform.Platform, tags []string) error {
	if o.Repository != "" && o.Kind != OutputPushByDigest {
		return fmt.Errorf("output repository %q is set but output is %s: only push-by-digest uses it, name the image with Tags", o.Repository, o.Kind)
	}
	switch o.Kind {
	case 0:
		return errors.New("buildx build needs an output: set Build.Output to OutputLoad or OutputPushByDigest")
	case OutputLoad:
		if len(platforms) > 1 {
			return fmt.Errorf("--load takes one platform; use release to push several (got %s)", platform.Strings(platforms))
		}
	case OutputPushByDigest:
		if o.Repository == "" {
			return errors.New("push-by-digest needs a repository name: set Output.Repository, e.g. ghcr.io/acme/app")
		}
		if err := checkRepository(o.Repository); err != nil {
			return err
		}
		if len(tags) > 0 {
			return fmt.Errorf("push-by-digest pushes no tags, but %d are given: drop Build.Tags and tag the index afterwards", len(tags))
		}
	default:
		return fmt.Errorf("unknown output kind %d: use OutputLoad or OutputPushByDigest", int(o.Kind))
	}
	return nil
}

// checkRepository rejects a push-by-digest name that is not a bare repository.
func checkRepository(repo string) error {
	last := repo[strings.LastIndex(repo, "/")+1:]
	switch {
	case strings.ContainsAny(last, ":@"):
		return fmt.Errorf("push-by-digest repository %q has a tag or digest: give the bare repository, e.g. ghcr.io/acme/app", repo)
	case strings.ContainsAny(repo, ", \t\n\""), strings.HasSuffix(repo, "/"):
		return fmt.Errorf("invalid push-by-digest repository %q: write it as registry/path, e.g. ghcr.io/acme/app", repo)
	case strings.ToLower(repo) != repo:
		return fmt.Errorf("push-by-digest repository %q has upper-case letters: registries take lower-case repository names", repo)
	}
	return nil
}

func (s Secret) validate() error {
	switch {
	case s.ID == "":
		return errors.New("secret has no id: set Secret.ID to the id the Dockerfile mounts")
	case (s.Src == "") == (s.Env == ""):
		return fmt.Errorf("secret %q needs exactly one of Src (a file) or Env (a variable name)", s.ID)
	case strings.ContainsAny(s.ID+s.Src+s.Env, ",\"\n"):
		return fmt.Errorf("secret %q has a comma, quote or newline in its id, src or env, which buildx would split: rename it", s.ID)
	case s.Env != "" && !envKey.MatchString(s.Env):
		return fmt.Errorf("secret %q reads variable %q, which is not a valid variable name", s.ID, s.Env)
	}
	return nil
}

func checkKeys(what string, m map[string]string) error {
	for k := range m {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			return fmt.Errorf("invalid %s name %q: use a name without spaces or '='", what, k)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describe names the build in errors: "Dockerfile (target app) for linux/amd64".
func (b Build) describe() string {
	s := b.Dockerfile
	if b.Target != "" {
		s += " (target " + b.Target + ")"
	}
	if len(b.Platforms) == 0 {
		return s + " for the builder's default platform"
	}
	return s + " for " + platform.Strings(b.Platforms)
}

// Exec runs the program name with args and the environment env, streaming its
// output to stdout and stderr, and returns when it has exited. Cancelling ctx
// must stop it. The default runs the real program; tests pass a fake.
type Exec func(ctx context.Context, name string, args, env []string, stdout, stderr io.Writer) error

// Option changes how Run, Version and Inspect run docker.
type Option func(*runner)

// WithExec runs docker through e. Default (and when e is nil): command.Run, a child
// process that gets SIGINT when ctx is done, so buildx can cancel its BuildKit
// session, and SIGKILL 5 seconds later.
func WithExec(e Exec) Option {
	return func(r *runner) { r.exec = e }
}

// WithStdout sends the build's standard output to w. Default os.Stdout; nil
// discards it. Version and Inspect read their own output and ignore it.
func WithStdout(w io.Writer) Option {
	return func(r *runner) { r.stdout = w }
}

// WithStderr sends the build's progress and errors to w. Default os.Stderr; nil
// discards them. The last lines go into Run's error either way.
func WithStderr(w io.Writer) Option {
	return func(r *runner) { r.stderr = w }
}

// WithEnv sets the environment of the docker process (BUILDX_BUILDER, DOCKER_HOST,
// DOCKER_CONFIG pass through it). Default: os.Environ().
func WithEnv(env []string) Option {
	return func(r *runner) { r.env = env }
}

type runner struct {
	exec           Exec
	stdout, stderr io.Writer
	env            []string
}

// newRunner applies opts over the defaults; it is the one place options are checked.
func newRunner(opts []Option) runner {
	r := runner{exec: execDocker, stdout: os.Stdout, stderr: os.Stderr}
	for _, o := range opts {
		o(&r)
	}
	if r.exec == nil {
		r.exec = execDocker
	}
	if r.stdout == nil {
		r.stdout = io.Discard
	}
	if r.stderr == nil {
		r.stderr = io.Discard
	}
	if r.env == nil {
		r.env = os.Environ()
	}
	return r
}

// waitDelay is how long a cancelled docker process has, after SIGINT, to stop
// its BuildKit session before it is killed.
const waitDelay = 5 * time.Second

// execDocker is the default Exec: a real child process tied to ctx, run by
// command.Run. Its error is the process's own (errors.Unwrap of command's): Run,
// Version and Inspect word the failure themselves, with the tail they keep through
// the Exec seam, which fakes write to as well.
func execDocker(ctx context.Context, name string, args, env []string, stdout, stderr io.Writer) error {
	err := command.Run(ctx, command.Cmd{Name: name, Args: args, Env: env, Stdout: stdout, Stderr: stderr, Interrupt: true, WaitDelay: waitDelay})
	if err == nil {
		return nil
	}
	err = errors.Unwrap(err)
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("docker CLI not found on PATH: install Docker and the buildx plugin (%w)", err)
	}
	return err
}

// stderrLines is how many of the last stderr lines a failed run's error carries.
const stderrLines = command.TailLines

// Run runs `docker buildx build` for b and returns what buildx wrote to
// b.MetadataFile. Output streams to os.Stdout and os.Stderr unless options say
// otherwise; cancelling ctx interrupts buildx, then kills it. A failed build's
// error wraps the exit error and ends with the last lines buildx printed.
func Run(ctx context.Context, b Build, opts ...Option) (Metadata, error) {
	r := newRunner(opts)
	args, err := b.Args()
	if err != nil {
		return Metadata{}, err
	}
	env := r.env
	if err := checkSecretEnv(b.Secrets, env); err != nil {
		return Metadata{}, err
	}
	if err := os.MkdirAll(filepath.Dir(b.MetadataFile), 0o755); err != nil {
		return Metadata{}, fmt.Errorf("creating the directory of buildx metadata file: %w", err)
	}
	if fi, err := os.Stat(b.MetadataFile); err == nil && fi.IsDir() {
		return Metadata{}, fmt.Errorf("buildx metadata file %s is a directory: point Build.MetadataFile at a file in it", b.MetadataFile)
	}
	if err := os.Remove(b.MetadataFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Metadata{}, fmt.Errorf("removing stale buildx metadata file: %w", err)
	}

	tail := command.NewTail(stderrLines)
	err = r.exec(ctx, "docker", args, env, r.stdout, io.MultiWriter(r.stderr, tail))
	if err != nil {
		return Metadata{}, runError(ctx, "buildx build of "+b.describe(), err, tail.String())
	}

	m, err := ReadMetadata(b.MetadataFile)
	if err != nil {
		return Metadata{}, fmt.Errorf("buildx build of %s succeeded but its result is unreadable: %w", b.describe(), err)
	}
	if m.Digest == "" {
		return m, fmt.Errorf("buildx build of %s wrote no containerimage.digest to %s: check that the builder's driver supports --output %s", b.describe(), b.MetadataFile, b.Output.Kind)
	}
	return m, nil
}

// checkSecretEnv fails before the build when a secret's variable is unset:
// BuildKit would otherwise mount an empty secret.
func checkSecretEnv(secrets []Secret, env []string) error {
	for _, s := range secrets {
		if s.Env == "" {
			continue
		}
		if _, found := command.LookupEnv(env, s.Env); !found {
			return fmt.Errorf("secret %q reads $%s, which is not set: export %s", s.ID, s.Env, s.Env)
		}
	}
	return nil
}

// runError builds the error of a failed docker command: the cancellation, a
// problem the user can fix with a known command, or an *Error that classifies the
// failure (classify) and keeps the last stderr lines.
func runError(ctx context.Context, what string, err error, stderr string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s stopped: %w (%v)", what, ctxErr, err)
	}
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if missingPlugin(stderr) {
		return fmt.Errorf("%s failed: docker buildx plugin not found: install it (the docker-buildx-plugin package, or Docker Desktop) and check with docker buildx version: %w", what, err)
	}
	return classify(what, stderr, err)
}

// missingPlugin reports whether docker said it has no buildx subcommand. Without
// the plugin, docker either says so or rejects the first buildx flag with its
// own usage line (buildx's would read "Usage:  docker buildx ...").
func missingPlugin(stderr string) bool {
	return strings.Contains(stderr, "unknown command: docker buildx") ||
		strings.Contains(stderr, "'buildx' is not a docker command") ||
		strings.Contains(stderr, "unknown flag") && strings.Contains(stderr, "Usage:  docker [OPTIONS] COMMAND")
}
