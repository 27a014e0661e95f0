package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/command"
	"github.com/mageship/mageship/engine/internal/platform"
)

// engineAdvice is the advice engine.New ends its error with; the engine check
// gives it as the fix instead of repeating it in the detail.
const engineAdvice = "; start Docker, or point DOCKER_HOST at a running engine"

// hostPassword matches the password of a URL such as tcp://user:secret@host.
var hostPassword = regexp.MustCompile(`(://[^/\s:@]*):[^/\s@]*@`)

// checkEngine reports on the engine, and returns what it learned for the builder check.
func checkEngine(ctx context.Context, o options) (Check, EngineInfo) {
	c := Check{Name: "engine", Required: true}
	info, err := o.engine(ctx)
	if err != nil {
		c.Detail = hostPassword.ReplaceAllString(strings.TrimSuffix(err.Error(), engineAdvice), "$1:xxxxx@")
		c.Fix = "start Docker, or set DOCKER_HOST to a running engine (docker version shows which one the CLI reaches)"
		return c, EngineInfo{}
	}
	c.OK = true
	c.Detail = fmt.Sprintf("Docker %s, API %s at %s", info.Version, info.APIVersion, redactHost(info.Host))
	return c, info
}

func checkBuildx(ctx context.Context, o options) Check {
	c := Check{Name: "buildx", Required: true}
	v, err := o.buildxVersion(ctx)
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "install the buildx plugin: the docker-buildx-plugin package from Docker's repository, " +
			"docker-buildx on Debian and Ubuntu, or a release from https://github.com/docker/buildx/releases " +
			"saved as ~/.docker/cli-plugins/docker-buildx; check with docker buildx version"
		return c
	}
	c.OK = true
	c.Detail = "buildx " + v
	return c
}

// dockerDriverFix is the fix for a docker-driver builder asked for several platforms.
const dockerDriverFix = "docker buildx create --use --driver docker-container"

// emulatorFix registers QEMU for every platform binfmt knows.
const emulatorFix = "docker run --privileged --rm tonistiigi/binfmt --install all (or apt-get install qemu-user-static binfmt-support)"

// checkBuilder reports whether the builder exists, answers and builds n.Platforms.
// Whether it can build them into one image is Builder.MultiPlatform's answer, the
// one release's preflight acts on; containerdStore is the engine's image store.
func checkBuilder(ctx context.Context, o options, n Need, buildxOK, containerdStore bool) Check {
	c := Check{Name: "builder", Required: true}
	if !buildxOK {
		c.Detail = "not checked: buildx is missing"
		c.Fix = "install buildx first (see the buildx check)"
		return c
	}
	b, err := o.inspect(ctx, n.Builder)
	var notFound *buildx.BuilderNotFoundError
	if errors.As(err, &notFound) {
		c.Detail = fmt.Sprintf("no buildx builder named %q", notFound.Name)
		c.Fix = fmt.Sprintf("docker buildx create --name %s --driver docker-container --bootstrap, or pick a builder docker buildx ls lists", notFound.Name)
		if n.Builder == "" {
			c.Fix += " (the name comes from BUILDX_BUILDER: unset it to use the current builder)"
		}
		return c
	}
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "docker buildx ls shows the builders and their state; docker buildx inspect --bootstrap NAME starts one and says why it cannot"
		return c
	}

	plats := b.Platforms()
	desc := fmt.Sprintf("%s (%s driver)", b.Name, b.Driver)
	if len(plats) == 0 {
		var down []string
		for _, nd := range b.Nodes {
			if nd.Error != "" {
				down = append(down, nd.Name+": "+nd.Error)
			}
		}
		c.Detail = desc + ": no node answers"
		if len(down) > 0 {
			c.Detail += ": " + strings.Join(down, "; ")
		}
		c.Fix = fmt.Sprintf("docker buildx inspect --bootstrap %s says why; if it stays down, docker buildx rm %s and create it again", b.Name, b.Name)
		return c
	}
	desc += ", platforms " + strings.Join(strs(plats), ", ")

	if b.MultiPlatform(n.Platforms, containerdStore) != "" {
		c.Detail = fmt.Sprintf("%s: the docker driver cannot produce a multi-platform image for %s", desc, platform.Strings(n.Platforms))
		c.Fix = dockerDriverFix
		fromEnv, _ := command.LookupEnv(n.Env, "BUILDX_BUILDER")
		switch {
		case n.Builder != "":
			c.Fix += fmt.Sprintf(", then use the new builder instead of %s", n.Builder)
		case fromEnv != "":
			c.Fix += ", then unset BUILDX_BUILDER or set it to the new builder's name"
		}
		return c
	}

	var missing []platform.Platform
	for _, p := range n.Platforms {
		if !b.Supports(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		c.Required = false
		c.Detail = fmt.Sprintf("%s; it does not list %s: mageship cross-compiles, so only a RUN step in a final stage would need it",
			desc, platform.Strings(missing))
		c.Fix = "if a final stage runs a command: " + emulatorFix + ", then restart the builder so it lists the new platforms"
		return c
	}
	c.OK = true
	c.Detail = desc
	return c
}

func strs(ps []platform.Platform) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// qemuArch is the name binfmt_misc registers QEMU under for a GOARCH: qemu-<name>.
func qemuArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i386"
	}
	return goarch // arm, ppc64le, s390x, riscv64
}

// foreign lists the platforms of ps the host cannot run natively. An amd64
// host runs 386 binaries itself, without QEMU.
func foreign(host platform.Platform, ps []platform.Platform) []platform.Platform {
	var out []platform.Platform
	for _, p := range ps {
		if p.Arch == host.Arch || host.Arch == "amd64" && p.Arch == "386" {
			continue
		}
		out = append(out, p)
	}
	return out
}

func checkEmulation(o options, n Need) Check {
	c := Check{Name: "emulation", Required: n.RunForeign}
	fp := foreign(o.host, n.Platforms)
	if len(fp) == 0 {
		c.OK = true
		c.Detail = "no foreign platform: all run natively on " + o.host.String()
		return c
	}
	if o.goos != "linux" {
		c.OK = true
		c.Detail = fmt.Sprintf("not checked on %s: the Docker VM brings its own emulation", o.goos)
		return c
	}

	status, statusErr := firstLine(filepath.Join(o.binfmtDir, "status"))
	mounted := !errors.Is(statusErr, fs.ErrNotExist)
	var found, problems, fixes []string
	addFix := func(f string) {
		if !slices.Contains(fixes, f) {
			fixes = append(fixes, f)
		}
	}
	if mounted && statusErr == nil && status == "disabled" {
		problems = append(problems, "binfmt_misc is disabled")
		addFix("echo 1 | sudo tee " + filepath.Join(o.binfmtDir, "status"))
	}
	for _, p := range fp {
		entry := "qemu-" + qemuArch(p.Arch)
		path := filepath.Join(o.binfmtDir, entry)
		state, err := firstLine(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !mounted:
			problems = append(problems, fmt.Sprintf("%s: %s is not registered: binfmt_misc is not mounted at %s", p, entry, o.binfmtDir))
			addFix("sudo mount -t binfmt_misc binfmt_misc " + o.binfmtDir)
			addFix(emulatorFix)
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s: %s is not registered", p, entry))
			addFix(emulatorFix)
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			addFix(emulatorFix)
		case state != "enabled":
			problems = append(problems, fmt.Sprintf("%s: %s is registered but %s", p, entry, state))
			addFix("echo 1 | sudo tee " + path)
		default:
			found = append(found, fmt.Sprintf("%s (%s)", p, entry))
		}
	}
	if len(problems) == 0 {
		c.OK = true
		c.Detail = strings.Join(found, ", ") + " enabled in " + o.binfmtDir
		return c
	}
	c.Detail = strings.Join(problems, "; ")
	if !n.RunForeign {
		c.Detail += " (needed only to run these platforms here, not to build them)"
	}
	c.Fix = strings.Join(fixes, "; ")
	return c
}

// firstLine reads the first line of a file, trimmed.
func firstLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line), nil
}

func checkLogin(ctx context.Context, o options, n Need) Check {
	c := Check{Name: "login"}
	if len(n.Images) == 0 {
		c.OK = true
		c.Detail = "no image to push"
		return c
	}
	var regs []name.Registry
	var found, problems, fixes []string
	anyRemote, failedRemote := false, false
	for _, img := range n.Images {
		ref, err := name.ParseReference(img)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q is not an image name: %v", img, err))
			fixes = append(fixes, "write images as registry/repository, e.g. ghcr.io/acme/app")
			failedRemote = true
			continue
		}
		if r := ref.Context().Registry; !slices.Contains(regs, r) {
			regs = append(regs, r)
		}
	}
	for _, r := range regs {
		host := r.RegistryStr()
		local := loopback(host)
		anyRemote = anyRemote || !local
		ok, err := hasCredentials(ctx, o.keychain, r)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: reading credentials: %v", host, err))
			fixes = append(fixes, "check the Docker config file (~/.docker/config.json, or config.json in $DOCKER_CONFIG) and its credential helper")
		case ok:
			found = append(found, host+": credentials found (helper or config)")
			continue
		case local:
			problems = append(problems, host+": no credentials (fine if it takes anonymous pushes)")
			fixes = append(fixes, loginCommand(r))
		default:
			problems = append(problems, host+": no credentials")
			fixes = append(fixes, loginCommand(r))
		}
		failedRemote = failedRemote || !local
	}
	c.Detail = strings.Join(append(found, problems...), "; ")
	if len(problems) == 0 {
		c.OK, c.Required = true, anyRemote
		return c
	}
	c.Required = failedRemote
	c.Fix = strings.Join(fixes, "; ")
	return c
}

// hasCredentials reports whether k has non-anonymous credentials for r. It looks
// at them only to see that they are not empty.
func hasCredentials(ctx context.Context, k authn.Keychain, r name.Registry) (bool, error) {
	auth, err := authn.Resolve(ctx, k, r)
	if err != nil {
		return false, err
	}
	if auth == nil || auth == authn.Anonymous {
		return false, nil
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return false, err
	}
	return cfg != nil && *cfg != (authn.AuthConfig{}), nil
}

// loginCommand is the docker login command for r; Docker Hub needs no host.
func loginCommand(r name.Registry) string {
	if r.RegistryStr() == name.DefaultRegistry {
		return "docker login"
	}
	return "docker login " + r.RegistryStr()
}

// loopback reports whether a registry host[:port] is this machine.
func loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkConfig reports the configuration, or why it did not resolve and what to change.
// Without either there is nothing to report.
func checkConfig(n Need) Check {
	c := Check{Name: "config", Required: true}
	switch {
	case n.ConfigErr != nil:
		c.Detail, c.Fix = splitFix(n.ConfigErr.Error())
	case n.Config != "":
		c.OK, c.Detail = true, n.Config
	default:
		return Check{}
	}
	return c
}

// fixVerbs start the fix that mageship's configuration errors end with, after ": ".
var fixVerbs = []string{"add", "commit", "delete", "give", "install", "leave", "list", "move", "name",
	"point", "put", "remove", "rename", "run", "set", "start", "unset", "use", "write"}

// splitFix cuts a configuration error such as `several main packages (./a, ./b): list
// the images to ship in ...` into what is wrong and the fix, at the last ": " that a
// fix follows.
func splitFix(msg string) (detail, fix string) {
	for i := strings.LastIndex(msg, ": "); i > 0; i = strings.LastIndex(msg[:i], ": ") {
		rest := msg[i+2:]
		first, _, _ := strings.Cut(rest, " ")
		if slices.Contains(fixVerbs, first) {
			return msg[:i], rest
		}
	}
	return msg, "change the setting it names (config.Set in your magefile, or the MAGESHIP_* variable), then run mage doctor again"
}

// checkDist warns when git would commit what mageship writes into n.Dist: it asks
// git whether a file there is ignored (a file git already tracks is not).
func checkDist(ctx context.Context, o options, n Need) Check {
	if n.Dist == "" {
		return Check{}
	}
	c := Check{Name: "dist"}
	rel, err := filepath.Rel(n.Dir, n.Dist)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		rel = n.Dist
	}
	probe := filepath.Join(n.Dist, ".mageship-manifest.json")
	out, err := command.CombinedOutput(ctx, command.Cmd{Name: "git", Args: []string{"check-ignore", "-q", probe}, Dir: n.Dir, Env: n.Env})
	var exit *exec.ExitError
	switch {
	case err == nil:
		c.OK, c.Detail = true, rel+" is ignored by git"
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		c.Detail = rel + " is not ignored by git: git add -A would commit the logs, binaries and manifest mageship writes there"
		c.Fix = fmt.Sprintf("echo '/%s/' >> .gitignore", filepath.ToSlash(rel))
		if filepath.IsAbs(rel) {
			c.Fix = "add " + rel + " to the .gitignore of its repository"
		}
	default:
		// Not a git repository, a directory outside it, or no git: nothing to commit.
		c.OK = true
		c.Detail = "not checked: " + firstOutputLine(out, err)
	}
	return c
}

// firstOutputLine is the first line of a failed command's output, else its error.
func firstOutputLine(out []byte, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); line != "" {
		return line
	}
	return err.Error()
}
