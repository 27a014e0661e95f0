package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mageship/mageship/engine/internal/platform"
)

// Client is the part of the Docker client the engine calls: the seam for tests and
// for callers that already hold a client.
type Client interface {
	Ping(ctx context.Context) (types.Ping, error)
	ServerVersion(ctx context.Context) (types.Version, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, o image.PullOptions) (io.ReadCloser, error)
	ImageRemove(ctx context.Context, ref string, o image.RemoveOptions) ([]image.DeleteResponse, error)
	ContainerCreate(ctx context.Context, c *container.Config, h *container.HostConfig, n *network.NetworkingConfig, p *ocispec.Platform, name string) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, id string, o container.StartOptions) error
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	ContainerLogs(ctx context.Context, id string, o container.LogsOptions) (io.ReadCloser, error)
	ContainerRemove(ctx context.Context, id string, o container.RemoveOptions) error
}

// Engine is a Docker engine that answered a ping.
type Engine struct {
	c          Client
	Host       string
	APIVersion string
}

// New connects to the engine named by the environment (DOCKER_HOST, or the default
// socket), negotiates the API version, and pings it.
func New(ctx context.Context) (*Engine, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
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

// WithClient wraps an existing client after pinging it.
func WithClient(ctx context.Context, c Client) (*Engine, error) {
	p, err := c.Ping(ctx)
	if err != nil {
		return nil, err
	}
	return &Engine{c: c, APIVersion: p.APIVersion}, nil
}

// Version is the engine's version and API version, e.g. "20.10.24", "1.41".
func (e *Engine) Version(ctx context.Context) (string, string, error) {
	v, err := e.c.ServerVersion(ctx)
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
		if client.IsErrNotFound(err) {
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
	if _, err := e.c.ImageRemove(ctx, ref, image.RemoveOptions{}); err != nil {
		return fmt.Errorf("removing %s from the engine: %w", ref, err)
	}
	return nil
}

// Container is a running container started by Start.
type Container struct {
	ID   string
	Addr string // host:port on 127.0.0.1 that reaches the container's port
}

// Start runs ref for platform p with port published on a free loopback port.
// The caller must Remove it.
func (e *Engine) Start(ctx context.Context, ref string, p platform.Platform, port int) (Container, error) {
	cport := nat.Port(strconv.Itoa(port) + "/tcp")
	cfg := &container.Config{Image: ref, ExposedPorts: nat.PortSet{cport: {}}}
	host := &container.HostConfig{PortBindings: nat.PortMap{cport: {{HostIP: "127.0.0.1"}}}}
	plat := &ocispec.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}
	created, err := e.c.ContainerCreate(ctx, cfg, host, nil, plat, "")
	if err != nil && (client.IsErrNotFound(err) || strings.Contains(err.Error(), "does not match the specified platform")) {
		// Like docker run: pull the image for the platform, then create again.
		if perr := e.pull(ctx, ref, p); perr != nil {
			return Container{}, perr
		}
		created, err = e.c.ContainerCreate(ctx, cfg, host, nil, plat, "")
	}
	if err != nil {
		return Container{}, fmt.Errorf("creating a container of %s for %s: %w", ref, p, err)
	}
	c := Container{ID: created.ID}
	if err := e.c.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		return c, fmt.Errorf("starting a container of %s for %s: %w", ref, p, err)
	}
	info, err := e.c.ContainerInspect(ctx, c.ID)
	if err != nil {
		return c, fmt.Errorf("inspecting container %s: %w", short(c.ID), err)
	}
	if info.NetworkSettings == nil || len(info.NetworkSettings.Ports[cport]) == 0 {
		return c, fmt.Errorf("container %s of %s publishes no port for %s", short(c.ID), ref, cport)
	}
	b := info.NetworkSettings.Ports[cport][0]
	c.Addr = net.JoinHostPort("127.0.0.1", b.HostPort)
	return c, nil
}

// pull fetches ref for platform p into the engine.
func (e *Engine) pull(ctx context.Context, ref string, p platform.Platform) error {
	rc, err := e.c.ImagePull(ctx, ref, image.PullOptions{Platform: p.String()})
	if err != nil {
		return fmt.Errorf("pulling %s for %s: %w", ref, p, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("pulling %s for %s: %w", ref, p, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("pulling %s for %s: %s", ref, p, msg.Error)
		}
	}
}

// Running says whether the container is still running, and its exit code if not.
func (e *Engine) Running(ctx context.Context, id string) (bool, int, error) {
	info, err := e.c.ContainerInspect(ctx, id)
	if err != nil {
		return false, 0, err
	}
	if info.State == nil {
		return false, 0, errors.New("container has no state")
	}
	return info.State.Running, info.State.ExitCode, nil
}

// Logs returns the container's stdout and stderr.
func (e *Engine) Logs(ctx context.Context, id string) (string, error) {
	rc, err := e.c.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
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
	return e.c.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true})
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
