package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Client is the part of the Docker client the engine calls: the seam for tests and
// for callers that already hold a client.
type Client interface {
	Ping(ctx context.Context, o client.PingOptions) (client.PingResult, error)
	ServerVersion(ctx context.Context, o client.ServerVersionOptions) (client.ServerVersionResult, error)
	Info(ctx context.Context, o client.InfoOptions) (client.SystemInfoResult, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePull(ctx context.Context, ref string, o client.ImagePullOptions) (client.ImagePullResponse, error)
	ImageRemove(ctx context.Context, ref string, o client.ImageRemoveOptions) (client.ImageRemoveResult, error)
	ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, o client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerInspect(ctx context.Context, id string, o client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerLogs(ctx context.Context, id string, o client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerRemove(ctx context.Context, id string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
}

// Engine is a Docker engine that answered a ping.
type Engine struct {
	c          Client
	Host       string
	APIVersion string
}

// New connects to the engine named by the environment (DOCKER_HOST, or the default
// socket), negotiates the API version, and pings it. The client negotiates by default
// (down to API 1.40, so Docker 20.10's 1.41 works); DOCKER_API_VERSION, when set,
// fixes the version instead, as with the docker CLI.
func New(ctx context.Context) (*Engine, error) {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("creating Docker client: %w", err)
	}
	e, err := WithClient(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Docker engine at %s: %w; start Docker, or point DOCKER_HOST at a running engine", c.DaemonHost(), err)
	}
	e.Host = c.DaemonHost()
	e.APIVersion = c.ClientVersion()
	return e, nil
}

// WithClient wraps an existing client after pinging it; the ping negotiates the API
// version unless the client was given a fixed one.
func WithClient(ctx context.Context, c Client) (*Engine, error) {
	p, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		return nil, err
	}
	return &Engine{c: c, APIVersion: p.APIVersion}, nil
}

// Version is the engine's version and API version, e.g. "20.10.24", "1.41".
func (e *Engine) Version(ctx context.Context) (string, string, error) {
	v, err := e.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", "", fmt.Errorf("asking the Docker engine for its version: %w", err)
	}
	return v.Version, v.APIVersion, nil
}

// Image is what the engine says of an image it holds.
type Image struct {
	ID         string
	Size       int64 // uncompressed, as the engine counts it
	User       string
	Entrypoint []string
	Platform   platform.Platform
	Labels     map[string]string
	Ports      []int
}

// Inspect describes a local image; a missing image gives an error saying so.
func (e *Engine) Inspect(ctx context.Context, ref string) (Image, error) {
	r, err := e.c.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return Image{}, fmt.Errorf("image %s is not in the local Docker engine: build it with mage image", ref)
		}
		return Image{}, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	img := Image{ID: r.ID, Size: r.Size, Platform: platform.Platform{OS: r.Os, Arch: r.Architecture, Variant: r.Variant}}
	if r.Config != nil {
		img.User, img.Entrypoint, img.Labels = r.Config.User, r.Config.Entrypoint, r.Config.Labels
		for p := range r.Config.ExposedPorts {
			if n, err := strconv.Atoi(strings.SplitN(p, "/", 2)[0]); err == nil {
				img.Ports = append(img.Ports, n)
			}
		}
	}
	return img, nil
}

// Untag removes the tag ref from the engine (the image goes when no other tag holds it).
func (e *Engine) Untag(ctx context.Context, ref string) error {
	if _, err := e.c.ImageRemove(ctx, ref, client.ImageRemoveOptions{}); err != nil {
		return fmt.Errorf("removing %s from the engine: %w", ref, err)
	}
	return nil
}

// Container is a running container started by Start.
type Container struct {
	ID   string
	Addr string // host:port on 127.0.0.1 that reaches the container's port
}

// Run is how Start runs a container.
type Run struct {
	// Port is the container's TCP port to publish on a free loopback port.
	Port int
	// Tmpfs are paths in the container that get an empty tmpfs each (the image's
	// volumes), owned by UID and GID: the engine gives a tmpfs over a directory of the
	// image root's 0755 whatever its mode option says.
	Tmpfs    []string
	UID, GID int
}

// createOptions computes the container Start creates.
func createOptions(ref string, p platform.Platform, run Run) (client.ContainerCreateOptions, network.Port, error) {
	cport, err := network.ParsePort(strconv.Itoa(run.Port) + "/tcp")
	if err != nil {
		return client.ContainerCreateOptions{}, cport, fmt.Errorf("running a container of %s for %s: %w", ref, p, err)
	}
	host := &container.HostConfig{PortBindings: network.PortMap{cport: {{HostIP: netip.AddrFrom4([4]byte{127, 0, 0, 1})}}}}
	if len(run.Tmpfs) > 0 {
		host.Tmpfs = map[string]string{}
		for _, t := range run.Tmpfs {
			host.Tmpfs[t] = fmt.Sprintf("uid=%d,gid=%d", run.UID, run.GID)
		}
	}
	return client.ContainerCreateOptions{
		Config:     &container.Config{Image: ref, ExposedPorts: network.PortSet{cport: {}}},
		HostConfig: host,
		Platform:   &ocispec.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant},
	}, cport, nil
}

// ErrNoPort is what Start's error wraps when the container started but has no
// published port: most often because it has exited already, which its state says.
var ErrNoPort = errors.New("it has no published port (has it exited?)")

// Start runs ref for platform p as run says, with its Args and Env as the image
// sets them. The caller must Remove it. When the container exits before its port is
// published, the error comes with the Container, so that the caller can read its
// state and logs.
func (e *Engine) Start(ctx context.Context, ref string, p platform.Platform, run Run) (Container, error) {
	opts, cport, err := createOptions(ref, p, run)
	if err != nil {
		return Container{}, err
	}
	created, err := e.c.ContainerCreate(ctx, opts)
	if err != nil && (cerrdefs.IsNotFound(err) || strings.Contains(err.Error(), "does not match the specified platform")) {
		// Like docker run: pull the image for the platform, then create again.
		if perr := e.pull(ctx, ref, p); perr != nil {
			return Container{}, perr
		}
		created, err = e.c.ContainerCreate(ctx, opts)
	}
	if err != nil {
		return Container{}, fmt.Errorf("creating a container of %s for %s: %w", ref, p, err)
	}
	c := Container{ID: created.ID}
	if _, err := e.c.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		return c, fmt.Errorf("starting a container of %s for %s: %w", ref, p, err)
	}
	res, err := e.c.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		return c, fmt.Errorf("inspecting container %s: %w", short(c.ID), err)
	}
	info := res.Container
	if info.NetworkSettings == nil || len(info.NetworkSettings.Ports[cport]) == 0 {
		return c, fmt.Errorf("container %s of %s publishes no port for %s: %w", short(c.ID), ref, cport, ErrNoPort)
	}
	b := info.NetworkSettings.Ports[cport][0]
	c.Addr = net.JoinHostPort("127.0.0.1", b.HostPort)
	return c, nil
}

// pull fetches ref for platform p into the engine.
func (e *Engine) pull(ctx context.Context, ref string, p platform.Platform) error {
	plat := ocispec.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}
	rc, err := e.c.ImagePull(ctx, ref, client.ImagePullOptions{Platforms: []ocispec.Platform{plat}})
	if err != nil {
		return fmt.Errorf("pulling %s for %s: %w", ref, p, err)
	}
	defer rc.Close()
	// Wait reads the progress stream to its end and returns the first error the
	// engine reports in it.
	if err := rc.Wait(ctx); err != nil {
		return fmt.Errorf("pulling %s for %s: %w", ref, p, err)
	}
	return nil
}

// Running says whether the container is still running, and its exit code if not.
func (e *Engine) Running(ctx context.Context, id string) (bool, int, error) {
	res, err := e.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return false, 0, err
	}
	info := res.Container
	if info.State == nil {
		return false, 0, errors.New("container has no state")
	}
	return info.State.Running, info.State.ExitCode, nil
}

// Logs returns the container's stdout and stderr.
func (e *Engine) Logs(ctx context.Context, id string) (string, error) {
	rc, err := e.c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", fmt.Errorf("reading logs of container %s: %w", short(id), err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		return out.String(), fmt.Errorf("reading logs of container %s: %w", short(id), err)
	}
	return out.String(), nil
}

// Remove stops and removes the container; it uses a fresh context so that cleanup
// still happens after the caller's context is cancelled.
func (e *Engine) Remove(id string) error {
	_, err := e.c.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true})
	return err
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
