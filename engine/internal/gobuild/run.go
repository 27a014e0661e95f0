package gobuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/crash"
)

// Exec runs the program name with args in dir, with exactly env as its environment,
// and returns what it wrote to stdout and stderr together. It must stop the program
// when ctx is done.
type Exec func(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error)

// Option configures Run and All.
type Option func(*options)

type options struct {
	exec Exec
	env  []string
}

// WithExec replaces how the go command is run. The default runs it with
// command.CombinedOutput, killing it when ctx is done. Tests use it to see the command.
func WithExec(e Exec) Option {
	return func(o *options) { o.exec = e }
}

// WithEnv sets the base environment that Build.Env adds the platform to.
// The default is os.Environ() at the time Run is called.
func WithEnv(base []string) Option {
	return func(o *options) { o.env = base }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{exec: execCommand}
	for _, opt := range opts {
		opt(o)
	}
	if o.exec == nil {
		return nil, errors.New("gobuild: WithExec(nil): pass a function that runs the command, or leave the option out")
	}
	if o.env == nil {
		o.env = os.Environ()
	}
	return o, nil
}

// execCommand is the default Exec: command.CombinedOutput, whose WaitDelay also
// covers the go command's compile and link children holding the output pipe after it
// is killed. Its error is the process's own (errors.Unwrap of command's): run words
// the failure itself, from the whole output.
func execCommand(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	out, err := command.CombinedOutput(ctx, command.Cmd{Name: name, Args: args, Env: env, Dir: dir})
	if err != nil {
		err = errors.Unwrap(err)
	}
	return out, err
}

// Run validates b, runs go build for it in b.Dir and, for a linux target, checks that
// the binary it wrote is statically linked and built for b.Platform's architecture.
// A failed build's error carries the go command's output. ctx stops the go command.
func Run(ctx context.Context, b Build, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	return run(ctx, b, o)
}

func run(ctx context.Context, b Build, o *options) error {
	if err := b.Validate(); err != nil {
		return err
	}
	out, err := o.exec(ctx, b.Dir, b.Env(o.env), "go", b.Args()...)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go build %s for %s: %w", b.Main, b.Platform, context.Cause(ctx))
		}
		if line, ok := goCommandError(out); ok {
			// The go command itself refused (a toolchain it cannot get, a go.mod it
			// cannot use): its first meaningful line says it all.
			msg := fmt.Sprintf("go build %s for %s: %s", b.Main, b.Platform, line)
			if hint := toolchainHint(line); hint != "" {
				msg += ": " + hint
			}
			return errors.New(msg)
		}
		msg := fmt.Sprintf("go build %s for %s in %s: %v", b.Main, b.Platform, b.Dir, err)
		if hint := cgoHint(b, out); hint != "" {
			msg += ": " + hint
		}
		if out = bytes.TrimSpace(out); len(out) > 0 {
			msg += "\n" + string(out)
		}
		return errors.New(msg)
	}
	if b.Platform.OS != "linux" {
		return nil
	}
	if err := binary.CheckFile(b.outputPath(), b.Platform); err != nil {
		return fmt.Errorf("go build %s for %s: %w", b.Main, b.Platform, err)
	}
	return checkStamped(b)
}

// goCommandError returns the go command's own error when out is one: lines of the
// form "go: ...", after its progress lines ("go: downloading ..."), as one line: the
// first such error with the indented lines that continue it ("to update it: go mod
// tidy"). A compile or package error (file:line: ...) is not one: all its lines matter.
func goCommandError(out []byte) (string, bool) {
	var parts []string
	done := false
	for line := range strings.Lines(string(out)) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "\t"), strings.HasPrefix(line, " "):
			if len(parts) > 0 && !done {
				parts = append(parts, strings.TrimSpace(line))
			}
		case strings.HasPrefix(line, "go: downloading "), strings.HasPrefix(line, "go: finding "), strings.HasPrefix(line, "go: extracting "):
			continue
		case !strings.HasPrefix(line, "go: "):
			return "", false
		case len(parts) == 0:
			parts = append(parts, line)
		default:
			done = true
		}
	}
	return strings.Join(parts, " "), len(parts) > 0
}

var (
	// needsGo matches "go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)".
	needsGo = regexp.MustCompile(`requires go >= (\S+) \(running go (\S+); GOTOOLCHAIN=local\)`)
	// noToolchain matches "go: download go1.99.0 for linux/amd64: toolchain not available"
	// and "go: download go1.99.0: golang.org/toolchain@...: 403 Forbidden".
	noToolchain = regexp.MustCompile(`^go: download (go\S+?)(?: for \S+)?: `)
)

// toolchainHint says what to do about a go command error on the Go toolchain, or "".
func toolchainHint(line string) string {
	if m := needsGo.FindStringSubmatch(line); m != nil {
		return fmt.Sprintf("install Go %s or newer on this machine, or let the go command fetch it (GOTOOLCHAIN=auto)", m[1])
	}
	if m := noToolchain.FindStringSubmatch(line); m != nil {
		return fmt.Sprintf("go.mod asks for %s (its toolchain or go line) and the go command cannot download it: install it, or build with the Go you have (GOTOOLCHAIN=local) where go.mod's go line allows", m[1])
	}
	return ""
}

// excluded finds the directories whose Go files the go command left out, as in
// "build constraints exclude all Go files in /src/x/lib".
var excluded = regexp.MustCompile(`(?m)build constraints exclude all Go files in (.+)$`)

// cgoHint explains a failure caused by building a cgo package with CGO_ENABLED=0, or
// returns "". With cgo off, the go command drops files that import "C", and reports
// the package as having no Go files left (or its C files as not allowed).
func cgoHint(b Build, out []byte) string {
	const why = "mageship builds with CGO_ENABLED=0 so that the binary runs in an image without libc; " +
		`remove the import "C" (or the dependency that has it), or use a pure-Go replacement`
	if bytes.Contains(out, []byte("not allowed when not using cgo")) {
		return "a package has C files, so it needs cgo, but " + why
	}
	var dirs []string
	for _, m := range excluded.FindAllSubmatch(out, -1) {
		dirs = append(dirs, strings.TrimSpace(string(m[1])))
	}
	if len(dirs) == 0 {
		return ""
	}
	bc := build.Default
	bc.GOOS, bc.GOARCH = b.Platform.OS, b.Platform.Arch
	bc.CgoEnabled = true
	bc.BuildTags = b.Tags
	for _, dir := range dirs {
		pkg, err := bc.ImportDir(dir, 0)
		if err == nil && len(pkg.CgoFiles) > 0 {
			return fmt.Sprintf(`the package in %s needs cgo (%s imports "C"), but %s`, dir, pkg.CgoFiles[0], why)
		}
	}
	return "if the package in " + dirs[0] + ` imports "C", it needs cgo, but ` + why
}

// All runs the builds in parallel, at most runtime.NumCPU() at a time. When one fails
// it stops the others and returns that first error. Every build is validated, and
// no two may write the same Output, before any starts.
func All(ctx context.Context, builds []Build, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	outputs := map[string]int{}
	for i, b := range builds {
		if err := b.Validate(); err != nil {
			return err
		}
		out := filepath.Clean(b.outputPath())
		if j, ok := outputs[out]; ok {
			return fmt.Errorf("builds of %s for %s and %s both write %s: give each build its own Output, e.g. dist/%s/name",
				b.Main, builds[j].Platform, b.Platform, out, b.Platform.Dir())
		}
		outputs[out] = i
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		slots    = make(chan struct{}, runtime.NumCPU())
	)
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			cancel(err)
		})
	}
	for _, b := range builds {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := crash.Recover(func() error { return run(ctx, b, o) })(); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// The caller's ctx ended before a build failed on its own.
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}
