package doctor

import (
	"context"
	"fmt"
	"net/url"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/daemon"
	"github.com/mageship/mageship/engine/internal/platform"
)

// EngineInfo is what the engine check learns from a Docker engine that answered.
type EngineInfo struct {
	Host       string // e.g. unix:///var/run/docker.sock
	Version    string // e.g. 20.10.24
	APIVersion string // the engine's API version, e.g. 1.41
	// ContainerdStore says the engine keeps images in containerd's image store
	// (daemon.Info.ContainerdStore), where a docker-driver builder builds several
	// platforms into one image.
	ContainerdStore bool
}

// EngineProbe reaches the Docker engine and says what it is.
type EngineProbe func(ctx context.Context) (EngineInfo, error)

// BuildxVersion returns the version of the buildx plugin, e.g. "v0.38.0".
type BuildxVersion func(ctx context.Context) (string, error)

// BuildxInspect describes a buildx builder; an empty name is the one buildx would use.
type BuildxInspect func(ctx context.Context, builder string) (buildx.Builder, error)

// Option changes where Run looks.
type Option func(*options)

// WithEngine probes the engine with p. Default: daemon.New and Engine.Version,
// which read DOCKER_HOST.
func WithEngine(p EngineProbe) Option { return func(o *options) { o.engine = p } }

// WithBuildxVersion reads the buildx version with v. Default: buildx.Version.
func WithBuildxVersion(v BuildxVersion) Option { return func(o *options) { o.buildxVersion = v } }

// WithBuildxInspect inspects the builder with i. Default: buildx.Inspect, which
// bootstraps the builder.
func WithBuildxInspect(i BuildxInspect) Option { return func(o *options) { o.inspect = i } }

// WithBinfmtDir reads binfmt_misc registrations from dir. Default
// /proc/sys/fs/binfmt_misc.
func WithBinfmtDir(dir string) Option { return func(o *options) { o.binfmtDir = dir } }

// WithKeychain looks credentials up in k. Default authn.DefaultKeychain (the
// Docker config file and its credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// WithHost sets the platform this machine runs natively, against which foreign
// platforms are told apart. Default platform.Host().
func WithHost(p platform.Platform) Option { return func(o *options) { o.host = p } }

type options struct {
	engine        EngineProbe
	buildxVersion BuildxVersion
	inspect       BuildxInspect
	binfmtDir     string
	keychain      authn.Keychain
	host          platform.Platform
	goos          string // the OS whose binfmt_misc is read; only linux has one
}

// newOptions applies opts over the defaults; it is the one place options are checked.
// env is the environment of the default probes' docker commands (nil: os.Environ()).
func newOptions(opts []Option, env []string) options {
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	if o.engine == nil {
		o.engine = probeEngine
	}
	if o.buildxVersion == nil {
		o.buildxVersion = func(ctx context.Context) (string, error) { return buildx.Version(ctx, buildx.WithEnv(env)) }
	}
	if o.inspect == nil {
		o.inspect = func(ctx context.Context, b string) (buildx.Builder, error) {
			return buildx.Inspect(ctx, b, buildx.WithEnv(env))
		}
	}
	if o.binfmtDir == "" {
		o.binfmtDir = "/proc/sys/fs/binfmt_misc"
	}
	if o.keychain == nil {
		o.keychain = authn.DefaultKeychain
	}
	if o.host == (platform.Platform{}) {
		o.host = platform.Host()
	}
	if o.goos == "" {
		o.goos = runtime.GOOS
	}
	return o
}

// probeEngine is the default EngineProbe.
func probeEngine(ctx context.Context) (EngineInfo, error) {
	e, err := daemon.New(ctx)
	if err != nil {
		return EngineInfo{}, err
	}
	v, api, err := e.Version(ctx)
	if err != nil {
		return EngineInfo{}, fmt.Errorf("engine at %s answered a ping, but: %w", redactHost(e.Host), err)
	}
	info, err := e.Info(ctx)
	return EngineInfo{Host: e.Host, Version: v, APIVersion: api, ContainerdStore: err == nil && info.ContainerdStore()}, nil
}

// redactHost hides a password in a DOCKER_HOST such as tcp://user:secret@host:2376.
func redactHost(h string) string {
	u, err := url.Parse(h)
	if err != nil || u.User == nil {
		return h
	}
	if _, ok := u.User.Password(); !ok {
		return h
	}
	return u.Redacted()
}
