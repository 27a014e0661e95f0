package launch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// EnvCacheDir names the directory the engine's binaries are cached in; default
// os.UserCacheDir()/mageship.
const EnvCacheDir = "MAGESHIP_CACHE_DIR"

// binary is the engine's file name on this machine.
var binary = "mageship" + map[bool]string{true: ".exe"}[runtime.GOOS == "windows"]

// cacheDir is where engines are cached: MAGESHIP_CACHE_DIR, else the user cache
// directory's mageship/.
func cacheDir(env []string) (string, error) {
	if d := lookupEnv(env, EnvCacheDir); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a cache directory for the mageship engine: %w; set %s to a directory of your own", err, EnvCacheDir)
	}
	return filepath.Join(d, "mageship"), nil
}

// lookupEnv is the value of the last k= in env; empty when it is not there.
func lookupEnv(env []string, k string) string {
	v := ""
	for _, kv := range env {
		if name, val, ok := strings.Cut(kv, "="); ok && name == k {
			v = val
		}
	}
	return v
}

// toolchain is what an engine binary is keyed by besides its source: the Go that
// compiled the targets (the one the go command runs for this machine) and the
// machine's platform.
type toolchain struct {
	goVersion, goos, goarch string
}

func thisToolchain() toolchain {
	return toolchain{goVersion: runtime.Version(), goos: runtime.GOOS, goarch: runtime.GOARCH}
}

// binPath is where the engine of s lives under the cache directory: one directory per
// engine version (or source directory) and Go version, e.g.
// engine/v1.4.0-go1.26.8-linux-amd64/mageship. A fork is told apart from mageship by
// a hash of its module path, a source directory by a hash of its path.
func (s source) binPath(cache string, tc toolchain) string {
	key := fmt.Sprintf("%s-%s-%s", tc.goVersion, tc.goos, tc.goarch)
	switch {
	case s.dir != "":
		key = "dir-" + shortHash(s.dir) + "-" + key
	case s.path != Module:
		key = s.version + "-" + key + "-" + shortHash(s.path)
	default:
		key = s.version + "-" + key
	}
	return filepath.Join(cache, "engine", sanitize(key), binary)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// sanitize keeps a key to characters every file system takes.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_', r == '+':
			return r
		}
		return '_'
	}, s)
}

// buildCommand is the go command that compiles the engine of s into out: go install
// of the published version into a directory of its own (go build takes no @version),
// or go build -o in a source directory, where the go command decides whether out is
// up to date. -v names each package it compiles, which is how the launcher learns
// that a source directory's engine is being rebuilt. -trimpath and CGO_ENABLED=0 are
// the flags the host build path compiles the service with, so that on this machine's
// platform the standard library, two thirds of the engine's compile, is compiled once
// for both; -s -w leave out the symbol table and DWARF. The go command runs with the Go
// settings that would steer it into the service's module (GOFLAGS such as
// -mod=vendor, GOWORK, a cross GOOS/GOARCH) cleared: the engine is built for this
// machine, in its own module.
func (s source) buildCommand(ctx context.Context, env []string, out string) *exec.Cmd {
	var cmd *exec.Cmd
	if s.dir != "" {
		cmd = exec.CommandContext(ctx, "go", "build", "-v", "-trimpath", "-ldflags=-s -w", "-o", out, "."+enginePkg)
		cmd.Dir = filepath.Join(s.dir, "engine")
		cmd.Env = goEnv(env)
		return cmd
	}
	cmd = exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags=-s -w", s.path+"/engine"+enginePkg+"@"+s.version)
	cmd.Dir = filepath.Dir(out)
	cmd.Env = append(goEnv(env), "GOBIN="+filepath.Dir(out))
	return cmd
}

// goEnv is env without the settings that would build the engine for another
// machine or in the service's module or workspace.
func goEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "GOWORK", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GOARM64", "CGO_ENABLED", "GOBIN":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GOWORK=off", "CGO_ENABLED=0")
}

// compiling is the line printed when the engine is compiled, and done the one after.
func (s source) compiling(tc toolchain) string {
	if s.dir != "" {
		return fmt.Sprintf("mageship: compiling the engine from %s with %s, once per change to its source ...", filepath.Join(s.dir, "engine"), tc.goVersion)
	}
	return fmt.Sprintf("mageship: compiling the engine %s with %s, once per version (about 30 s with an empty Go build cache) ...", s.version, tc.goVersion)
}

func compiled(d time.Duration) string {
	return fmt.Sprintf("mageship: engine compiled in %.1fs", d.Seconds())
}

// engine makes sure the engine of s is built and returns its path, with release to
// call once it has started. A published version is built once, when its binary is
// missing: the warm path is one stat. A source directory is handed to go build every
// time, which does nothing when the binary is up to date. Builds hold the cache's
// lock for that binary, so that concurrent first runs build it once; a published
// version is built in a directory of its own and renamed into place, a source
// directory's binary is started under a shared lock so that no build replaces it
// in between.
func engine(ctx context.Context, s source, env []string, cache string, tc toolchain, log io.Writer) (bin string, release func(), err error) {
	bin = s.binPath(cache, tc)
	if s.dir == "" && exists(bin) {
		return bin, func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", nil, fmt.Errorf("creating the mageship engine's cache directory: %w; set %s to a writable directory", err, EnvCacheDir)
	}
	l, err := lockFile(filepath.Join(filepath.Dir(bin), ".lock"))
	if err != nil {
		return "", nil, fmt.Errorf("locking the mageship engine's cache: %w; set %s to a writable directory", err, EnvCacheDir)
	}
	if s.dir != "" {
		if err := s.build(ctx, env, bin, tc, !exists(bin), log); err != nil {
			l.unlock()
			return "", nil, err
		}
		if err := l.share(); err != nil {
			l.unlock()
			return "", nil, err
		}
		return bin, l.unlock, nil
	}
	defer l.unlock()
	if exists(bin) { // built by another run while this one waited for the lock
		return bin, func() {}, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(bin), ".build-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(tmp)
	if err := s.build(ctx, env, filepath.Join(tmp, binary), tc, true, log); err != nil {
		return "", nil, err
	}
	if err := os.Rename(filepath.Join(tmp, binary), bin); err != nil {
		return "", nil, fmt.Errorf("placing the mageship engine: %w", err)
	}
	return bin, func() {}, nil
}

// build runs the build command; it prints the compiling line at once when announce
// is set, else when the go command names a package it compiles (a relink of
// packages the build cache holds, a few seconds, says nothing).
func (s source) build(ctx context.Context, env []string, out string, tc toolchain, announce bool, log io.Writer) error {
	start := time.Now()
	var once sync.Once
	said := false
	say := func() {
		once.Do(func() {
			said = true
			fmt.Fprintln(log, s.compiling(tc))
		})
	}
	if announce {
		say()
	}
	var output bytes.Buffer
	cmd := s.buildCommand(ctx, env, out)
	w := &notifyWriter{w: &output, first: say}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	if err != nil {
		return buildFailed(s.String(), cmd.Args, err, output.Bytes())
	}
	if said {
		fmt.Fprintln(log, compiled(time.Since(start)))
	}
	return nil
}

// notifyWriter calls first on its first write.
type notifyWriter struct {
	mu    sync.Mutex
	w     io.Writer
	first func()
}

func (n *notifyWriter) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.first()
	return n.w.Write(p)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// buildFailed is a failed engine build as one line: the go command's first error line
// (its -v package names and download notes left out), and the file that holds all
// of its output.
func buildFailed(engine string, args []string, err error, output []byte) error {
	cause := err.Error()
	for _, l := range strings.Split(string(output), "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, ": ") && !strings.HasPrefix(l, "go: downloading ") && !strings.HasPrefix(l, "go: finding ") {
			cause = l
			break
		}
	}
	where := "no log: it could not be written"
	if f, ferr := os.CreateTemp("", "mageship-engine-build-*.log"); ferr == nil {
		fmt.Fprintf(f, "%s\n%s: %v\n\n%s", strings.Join(args, " "), engine, err, output)
		f.Close()
		where = "the go command's output is in " + f.Name()
	}
	return fmt.Errorf("compiling the mageship engine %s failed: %s (%s): check the Go toolchain and the module proxy, then run the target again", engine, cause, where)
}
