package integration

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/imagefs"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// The fixture testdata/layouts/tsdb is a service like the one issue #21 could not run
// from its image: a server and its CLI (Also), a config file (Files), a data directory
// that is volume and working directory, flags (Args), an environment (Env), and its
// health check on its second port (HealthPort).

const tsdbArgs = `["--config.file=/etc/tsdb/tsdb.yml","--storage.path=/tsdb"]`

// TestRuntimeService releases the fixture for amd64 and arm64 on both build paths,
// runs mage image:test on both platforms (arm64 under emulation), and checks what the
// runtime fields put into each image; the debug variant gets the same.
func TestRuntimeService(t *testing.T) {
	for _, build := range buildPaths {
		t.Run(build, func(t *testing.T) { testRuntimeService(t, build) })
	}
}

func testRuntimeService(t *testing.T, build string) {
	vars := rigtest.Env(t)
	ctx := t.Context()
	dir := tsdbLayout(t)
	rigtest.Git(t, dir, "tag", "v2.3.4")
	repo := fmt.Sprintf("%s/i21-tsdb-%s-%d", vars["MAGESHIP_RIG_REGISTRY"], build, time.Now().UnixNano())
	env := []string{"MAGESHIP_BUILD=" + build, "MAGESHIP_IMAGE=" + repo}

	out := rigtest.Mage(t, dir, vars, env, "release")
	t.Logf("mage release:\n%s", testfix.TailLines(out, 8))
	out = rigtest.Mage(t, dir, vars, env, "image:test")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !strings.Contains(out, fmt.Sprintf("(%s) answered 200 on /-/healthy, port 9090", p)) {
			t.Errorf("mage image:test did not probe %s on port 9090:\n%s", p, out)
		}
	}

	sum := releaseSummary(t, dir)
	conf, err := os.ReadFile(filepath.Join(dir, "etc", "tsdb.yml"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := daemon.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range sum.Images {
		for _, pp := range img.Platforms {
			p, err := platform.Parse(pp.Platform)
			if err != nil {
				t.Fatal(err)
			}
			ref := repo + "@" + pp.Digest
			image, err := imagefs.FromRegistry(ctx, ref, p)
			if err != nil {
				t.Fatal(err)
			}
			checkService(t, image, img.Variant+" "+pp.Platform, conf)
			// The CLI runs, and carries the version.
			cli := rigtest.Run(t, dir, rigtest.Environ(vars), "docker", "run", "--rm", "-q", "--pull", "always", "--platform", pp.Platform, "--entrypoint", "/usr/local/bin/tsdbctl", ref)
			if strings.TrimSpace(cli) != "tsdbctl 2.3.4" {
				t.Errorf("%s %s: tsdbctl printed %q, want %q", img.Variant, pp.Platform, cli, "tsdbctl 2.3.4")
			}
			// Without image:test's tmpfs, Docker makes /tsdb a volume from the image's
			// own directory: the server starts only when that is the user's.
			if img.Variant == "production" {
				body := runService(t, eng, ref, p)
				if want := "ok 2.3.4 mode=server wd=/tsdb retention=15d\n"; body != want {
					t.Errorf("%s: /-/healthy = %q, want %q", pp.Platform, body, want)
				}
			}
		}
	}
}

// tsdbLayout is the fixture as a fresh repository, with the symlink
// web/latest.html -> index.html committed (rigtest.Layout copies regular files only):
// Files keeps a symlink inside a directory as a symlink, on both paths.
func tsdbLayout(t *testing.T) string {
	t.Helper()
	dir := rigtest.Layout(t, "tsdb")
	if err := os.Symlink("index.html", filepath.Join(dir, "web", "latest.html")); err != nil {
		t.Fatal(err)
	}
	rigtest.Git(t, dir, "add", "-A")
	rigtest.Git(t, dir, "commit", "-q", "-m", "a symlink in web/")
	return dir
}

// checkService asserts what the runtime fields put into image.
func checkService(t *testing.T, image v1.Image, what string, conf []byte) {
	t.Helper()
	cf, err := image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if got := jsonString(c.Cmd); got != tsdbArgs {
		t.Errorf("%s: CMD = %s, want %s", what, got, tsdbArgs)
	}
	if !slices.Contains(c.Env, "TSDB_MODE=server") || !slices.Contains(c.Env, "ZONEINFO=/usr/share/zoneinfo.zip") {
		t.Errorf("%s: Env = %v, want TSDB_MODE=server beside ZONEINFO", what, c.Env)
	}
	if c.WorkingDir != "/tsdb" {
		t.Errorf("%s: WorkingDir = %q, want /tsdb", what, c.WorkingDir)
	}
	if _, ok := c.Volumes["/tsdb"]; !ok || len(c.Volumes) != 1 {
		t.Errorf("%s: Volumes = %v, want /tsdb", what, c.Volumes)
	}
	if c.Labels["com.example.team"] != "storage" || c.Labels["org.opencontainers.image.version"] != "2.3.4" {
		t.Errorf("%s: labels = %v, want com.example.team=storage beside mageship's", what, c.Labels)
	}
	entries, err := imagefs.List(image)
	if err != nil {
		t.Fatal(err)
	}
	data := entries["/tsdb"]
	if data.Type != tar.TypeDir || data.UID != 65534 || data.GID != 65534 || data.Mode&0o777 != 0o755 {
		t.Errorf("%s: /tsdb is %+v, want a directory 0755 of 65534:65534", what, data)
	}
	sum := sha256.Sum256(conf)
	f := entries["/etc/tsdb/tsdb.yml"]
	if f.Type != tar.TypeReg || f.SHA256 != hex.EncodeToString(sum[:]) || f.UID != 0 || f.Mode&0o777 != 0o644 {
		t.Errorf("%s: /etc/tsdb/tsdb.yml is %+v, want the repository's bytes, 0644, root's", what, f)
	}
	for _, d := range []string{"/etc", "/etc/tsdb"} {
		if e := entries[d]; e.UID != 0 || e.Mode&0o022 != 0 {
			t.Errorf("%s: %s is %+v, want root's and not writable by others", what, d, e)
		}
	}
	if l := entries["/usr/share/tsdb/web/latest.html"]; l.Type != tar.TypeSymlink || l.Linkname != "index.html" || entries["/usr/share/tsdb/web/index.html"].Type != tar.TypeReg {
		t.Errorf("%s: /usr/share/tsdb/web holds %+v, want index.html and the symlink latest.html to it", what, l)
	}
	if cli := entries["/usr/local/bin/tsdbctl"]; cli.Type != tar.TypeReg || cli.Mode&0o111 == 0 {
		t.Errorf("%s: /usr/local/bin/tsdbctl is %+v, want an executable file", what, cli)
	}
}

// runService runs ref for p as docker run would (its volume made from the image),
// returns the answer on the monitoring port, and removes the container.
func runService(t *testing.T, eng *daemon.Engine, ref string, p platform.Platform) string {
	t.Helper()
	c, err := eng.Start(t.Context(), ref, p, daemon.Run{Port: 9090})
	if c.ID != "" {
		defer eng.Remove(c.ID)
	}
	if err != nil {
		logs, _ := eng.Logs(t.Context(), c.ID)
		t.Fatalf("%s (%s): %v\n%s", ref, p, err, logs)
	}
	body, err := healthz("http://"+c.Addr+"/-/healthy", 60*time.Second)
	if err != nil {
		logs, _ := eng.Logs(t.Context(), c.ID)
		t.Fatalf("%s (%s): %v\ncontainer logs:\n%s", ref, p, err, logs)
	}
	return body
}

func jsonString(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// TestRuntimeEject: the Dockerfile mage dockerfile writes builds the same image as
// mage image on either path: the same files, owners, modes and bytes, the same
// command, environment, working directory and volumes.
func TestRuntimeEject(t *testing.T) {
	vars := rigtest.Env(t)
	dir := tsdbLayout(t)
	rigtest.Git(t, dir, "tag", "v2.3.4")
	out := rigtest.Mage(t, dir, vars, nil, "dockerfile")
	i := strings.Index(out, "build it with: ")
	if i < 0 {
		t.Fatalf("mage dockerfile printed no build command:\n%s", out)
	}
	cmdline := strings.Fields(strings.SplitN(out[i+len("build it with: "):], "\n", 2)[0])
	ejected := fmt.Sprintf("i21-tsdb-ejected:%d", time.Now().UnixNano())
	args := append(cmdline[1:len(cmdline)-1], "--load", "-t", ejected, ".")
	for j, a := range args {
		if a == "VERSION=1.2.3" {
			args[j] = "VERSION=2.3.4"
		}
	}
	rigtest.Run(t, dir, rigtest.Environ(vars), "docker", args...)
	want := describe(t, ejected)
	// mage image of the same commit, with the ejected files removed again (a clean tree).
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, build := range buildPaths {
		repo := fmt.Sprintf("i21-tsdb-%s-%d", build, time.Now().UnixNano())
		rigtest.Mage(t, dir, vars, []string{"MAGESHIP_BUILD=" + build, "MAGESHIP_IMAGE=" + repo}, "image")
		got := describe(t, repo+":2.3.4")
		if got != want {
			t.Errorf("mage image on the %s path differs from the ejected Dockerfile's image:\n--- ejected\n%s\n--- mage image\n%s", build, want, got)
		}
	}
}

// describe lists what makes an image the same as another: its run configuration and,
// for every path, the type, mode, owner and bytes (not the times or the labels, which
// name the build).
func describe(t *testing.T, ref string) string {
	t.Helper()
	image, err := imagefs.FromDaemon(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	vols := make([]string, 0, len(c.Volumes))
	for v := range c.Volumes {
		vols = append(vols, v)
	}
	slices.Sort(vols)
	lines := []string{fmt.Sprintf("user %s entrypoint %v cmd %v env %v workdir %s volumes %v", c.User, c.Entrypoint, c.Cmd, c.Env, c.WorkingDir, vols)}
	entries, err := imagefs.List(image)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range slices.Sorted(maps.Keys(entries)) {
		e := entries[p]
		if p == "/etc/ssl/certs/ca-certificates.crt" {
			// By design the host path's CA bundle is Go's x509roots, the container
			// path's the builder image's: the same place, not the same bytes.
			e.SHA256 = "(CA bundle)"
		}
		lines = append(lines, fmt.Sprintf("%s %c %o %d:%d %s %s", p, e.Type, e.Mode&0o7777, e.UID, e.GID, e.SHA256, e.Linkname))
	}
	return strings.Join(lines, "\n")
}

// TestRuntimeUsageExit: a service started without its flags prints its usage and
// exits 0; image:test says so in one short line, with the file holding all of it,
// instead of the container's 41 lines or a port error.
func TestRuntimeUsageExit(t *testing.T) {
	vars := rigtest.Env(t)
	dir := tsdbLayout(t)
	repo := fmt.Sprintf("i21-tsdb-noargs-%d", time.Now().UnixNano())
	env := []string{"I21_NO_ARGS=1", "MAGESHIP_IMAGE=" + repo}
	rigtest.Mage(t, dir, vars, env, "image")
	out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", "tool", "mage", "image:test")
	if err == nil {
		t.Fatalf("image:test passed for a container that exits at once:\n%s", out)
	}
	if !strings.Contains(out, "the container exited with code 0 without serving on port 9090, after printing 41 lines that start \"usage: tsdb --config.file=FILE --storage.path=DIR\"") ||
		!strings.Contains(out, "set Image.Args") || !strings.Contains(out, "dist/image-test/tsdb-") {
		t.Errorf("image:test did not say the container printed its usage and exited:\n%s", out)
	}
	if strings.Contains(out, "--option40") || strings.Contains(out, "publishes no port") {
		t.Errorf("image:test printed the usage text or a port error:\n%s", out)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "dist", "image-test", "tsdb-*.log"))
	if len(matches) != 1 {
		t.Fatalf("dist/image-test holds %v, want one log", matches)
	}
	if b, _ := os.ReadFile(matches[0]); strings.Count(string(b), "\n") != 41 {
		t.Errorf("%s holds %d lines, want all 41:\n%s", matches[0], strings.Count(string(b), "\n"), b)
	}
}
