package integration

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/binary"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
)

// TestExamplesListTargets runs mage -l in each example, through Mage itself, and
// compares the targets with what the README promises.
func TestExamplesListTargets(t *testing.T) {
	want := []string{"binaries", "dockerfile", "dockerignore", "doctor", "image", "image:debug", "image:sbom", "image:test", "image:verify", "release", "release:merge", "release:platform"}
	root := rigtest.Root(t)
	for _, ex := range []string{"hello", "multi"} {
		t.Run(ex, func(t *testing.T) {
			out := rigtest.Run(t, filepath.Join(root, "examples", ex), nil, "go", "tool", "mage", "-l")
			var got []string
			sc := bufio.NewScanner(strings.NewReader(out))
			inTargets := false
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "Targets:") {
					inTargets = true
					continue
				}
				if inTargets && strings.HasPrefix(line, "  ") {
					got = append(got, strings.Fields(line)[0])
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("mage -l in examples/%s lists %v, want %v\n%s", ex, got, want, out)
			}
		})
	}
}

// TestHelloBinaries cross-compiles on the host and checks each binary and the sums.
func TestHelloBinaries(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.3.0")
	rigtest.Mage(t, dir, vars, []string{"MAGESHIP_PLATFORMS=linux/amd64,linux/arm64"}, "binaries")
	sums, err := os.ReadFile(filepath.Join(dir, "dist", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		plat, _ := platform.Parse(p)
		path := filepath.Join(dir, "dist", plat.Dir(), "hello")
		if err := binary.CheckFile(path, plat); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		sum, err := binary.SHA256File(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(sums), sum+"  "+plat.Dir()+"/hello\n") {
			t.Errorf("SHA256SUMS lacks %s for %s:\n%s", sum, p, sums)
		}
	}
	// The arm64 binary runs on this amd64 host under user-mode emulation and reports
	// the version it was stamped with.
	port := freePort(t)
	cmd := exec.CommandContext(t.Context(), filepath.Join(dir, "dist", "linux_arm64", "hello"))
	cmd.Env = append(os.Environ(), "PORT="+port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	body, err := healthz("http://127.0.0.1:"+port+"/healthz", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if body != "ok 0.3.0\n" {
		t.Errorf("arm64 binary /healthz = %q, want %q", body, "ok 0.3.0\n")
	}
}

// TestHelloDockerfileEject writes the Dockerfile into the repository and builds it
// with the command mage dockerfile printed, as a user who ejects would.
func TestHelloDockerfileEject(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	out := rigtest.Mage(t, dir, vars, nil, "dockerfile")
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("mage dockerfile did not write %s: %v\n%s", f, err, out)
		}
	}
	i := strings.Index(out, "build it with: ")
	if i < 0 {
		t.Fatalf("mage dockerfile printed no build command:\n%s", out)
	}
	cmdline := strings.Fields(strings.SplitN(out[i+len("build it with: "):], "\n", 2)[0])
	if cmdline[0] != "docker" {
		t.Fatalf("build command %v does not start with docker", cmdline)
	}
	args := append(cmdline[1:len(cmdline)-1], "--load", "-t", "hello-ejected:1", ".")
	rigtest.Run(t, dir, rigtest.Environ(vars), "docker", args...)
	info := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}}", "hello-ejected:1")
	if strings.TrimSpace(info) != `65534:65534 ["/usr/local/bin/hello"]` {
		t.Errorf("ejected build: %s", info)
	}
}
