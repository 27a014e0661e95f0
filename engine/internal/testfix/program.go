package testfix

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/mageship/mageship/engine/internal/command"
)

// MainSrc is a one-file main package that needs nothing but the runtime.
const MainSrc = "package main\n\nfunc main() { println(\"hello\") }\n"

// CgoSrc is a one-file main package that calls C, so links libc when CGO_ENABLED=1.
const CgoSrc = `package main

// int two(void) { return 2; }
import "C"

func main() { println(C.two()) }
`

// programs caches the compiled programs of this test binary by source and env.
var programs sync.Map // string -> func() ([]byte, error)

// Program compiles src as a one-file main package (go build -trimpath -ldflags="-s
// -w") with env added to this process's environment, and returns the binary. Each
// source and env is compiled once per test binary.
func Program(t testing.TB, src string, env ...string) []byte {
	t.Helper()
	key := src + "\x00" + strings.Join(env, "\x00")
	f, _ := programs.LoadOrStore(key, sync.OnceValues(func() ([]byte, error) { return goBuild(src, env) }))
	b, err := f.(func() ([]byte, error))()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func goBuild(src string, env []string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "testfix-program-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return nil, err
	}
	c := command.Cmd{Name: "go", Args: []string{"build", "-trimpath", "-ldflags=-s -w", "-o", "prog", "main.go"},
		Env: append(os.Environ(), env...), Dir: dir}
	if _, err := command.CombinedOutput(context.Background(), c); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, "prog"))
}

// StaticBinary is MainSrc compiled for linux/arch with CGO_ENABLED=0.
func StaticBinary(t testing.TB, arch string) []byte {
	t.Helper()
	return Program(t, MainSrc, "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
}

// CgoBinary is CgoSrc compiled for this host with CGO_ENABLED=1: a dynamically linked
// ELF binary. It skips t where none can be built (NeedCgo).
func CgoBinary(t testing.TB) []byte {
	t.Helper()
	NeedCgo(t)
	return Program(t, CgoSrc, "CGO_ENABLED=1")
}

// NeedCgo skips t unless this host can build a dynamically linked linux binary: a
// linux host with the C compiler go env CC names.
func NeedCgo(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("a cgo build makes an ELF binary only on a linux host")
	}
	cc := "gcc"
	out, err := command.Output(context.Background(), command.Cmd{Name: "go", Args: []string{"env", "CC"}, Env: os.Environ()})
	if s := strings.TrimSpace(string(out)); err == nil && s != "" {
		cc = s
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) for a cgo build: %v", cc, err)
	}
}

// WriteExecutable writes b as the executable dir/name in a new temporary directory
// and returns its path.
func WriteExecutable(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TailLines returns the last n lines of s, for a failure message that would
// otherwise print a whole build log.
func TailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
