package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// freshBuilder is a brand-new BuildKit daemon, with an empty state directory and its
// own socket, and the buildx builder (remote driver) on it: what a hosted CI job
// starts with.
type freshBuilder struct {
	Name string // the buildx builder
	Dir  string // holds the socket, the daemon's state (root/) and nothing else
}

// sock is the daemon's socket, as a path.
func (b freshBuilder) sock() string { return filepath.Join(b.Dir, "buildkitd.sock") }

// daemonCmd is the BuildKit daemon of b: the rig's binary and configuration (the
// plain-HTTP local registries), the OCI worker on the host network as the rig's own
// daemon has it, so that build steps reach the bench's loopback module proxy.
func (b freshBuilder) daemonCmd(buildkitd, config string, base []string) Cmd {
	return Cmd{
		Dir:  b.Dir,
		Name: buildkitd,
		Args: []string{
			"--config", config,
			"--addr", "unix://" + b.sock(),
			"--root", filepath.Join(b.Dir, "root"),
			"--oci-worker=true", "--containerd-worker=false",
			"--oci-worker-net", "host",
		},
		Env: base,
	}
}

// createCmd registers the daemon as buildx builder b.Name.
func (b freshBuilder) createCmd(base []string) Cmd {
	return Cmd{Name: "docker", Args: []string{"buildx", "create", "--name", b.Name, "--driver", "remote", "unix://" + b.sock()}, Env: base}
}

// inspectCmd asks buildx to reach the builder's daemon.
func (b freshBuilder) inspectCmd(base []string) Cmd {
	return Cmd{Name: "docker", Args: []string{"buildx", "inspect", "--bootstrap", b.Name}, Env: base}
}

// rmCmd removes the builder from buildx (the daemon stays, to be stopped).
func (b freshBuilder) rmCmd(base []string) Cmd {
	return Cmd{Name: "docker", Args: []string{"buildx", "rm", b.Name}, Env: base}
}

// startFreshBuilder starts a BuildKit daemon with an empty state under a new
// temporary directory (short, for the socket's path), waits until it answers and
// registers it with buildx as name. stop removes the builder, stops the daemon and
// removes its directory; it must be called (also after an error, when it is not
// nil) and reports what it could not clean up.
func startFreshBuilder(ctx context.Context, r *runner, c Config, name, log string) (b freshBuilder, stop func() error, err error) {
	dir, err := os.MkdirTemp("", "mageship-bench-bk-")
	if err != nil {
		return b, nil, err
	}
	b = freshBuilder{Name: name, Dir: dir}
	dc := b.daemonCmd(c.Buildkitd, c.BuildkitConfig, c.Env)
	if err := os.MkdirAll(r.logs, 0o755); err != nil {
		return b, nil, err
	}
	logPath := filepath.Join(r.logs, log+"-buildkitd.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return b, nil, err
	}
	fmt.Fprintf(lf, "$ %s\n", dc)
	// Not tied to ctx, and not run to completion: command.Run does not fit a daemon
	// that outlives this call. stop ends it gracefully, also after an interrupt.
	cmd := exec.Command(dc.Name, dc.Args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dc.Dir, dc.Env, lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		removeAll(dir)
		return b, nil, fmt.Errorf("starting a brand-new BuildKit daemon (%s): %w", dc, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); lf.Close(); close(exited) }()
	created := false
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var errs []error
		if created {
			if _, err := r.run(ctx, b.rmCmd(c.Env), log+"-builder-rm"); err != nil {
				errs = append(errs, err)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		unmountUnder(dir)
		if err := removeAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("removing the BuildKit daemon's state %s: %w", dir, err))
		}
		if len(errs) > 0 {
			return fmt.Errorf("tearing down the brand-new builder %s: %w", name, errors.Join(errs...))
		}
		return nil
	}
	fail := func(err error) (freshBuilder, func() error, error) {
		return b, stop, err
	}
	if err := waitSocket(ctx, b.sock(), exited, time.Minute); err != nil {
		return fail(fmt.Errorf("the brand-new BuildKit daemon %s: %w; its log %s ends:\n%s", dc, err, logPath, tailFile(logPath, 20)))
	}
	if _, err := r.run(ctx, b.createCmd(c.Env), log+"-builder-create"); err != nil {
		return fail(err)
	}
	created = true
	if _, err := r.run(ctx, b.inspectCmd(c.Env), log+"-builder-inspect"); err != nil {
		return fail(err)
	}
	return b, stop, nil
}

// waitSocket waits until something accepts connections on the unix socket sock,
// failing when exited closes first or after timeout.
func waitSocket(ctx context.Context, sock string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		if conn, err := net.Dial("unix", sock); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("it exited before it answered")
		case <-deadline:
			return fmt.Errorf("it did not answer on %s within %s", sock, timeout)
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unmountUnder lazily unmounts whatever a stopped daemon left mounted under dir
// (after a graceful stop there is nothing), deepest first, so that dir can go.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 4 && strings.HasPrefix(fs[4], dir+"/") {
			points = append(points, fs[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}
