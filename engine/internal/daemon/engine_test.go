package daemon

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/platform"
)

func TestCreateOptions(t *testing.T) {
	arm64 := platform.Platform{OS: "linux", Arch: "arm64"}
	o, port, err := createOptions("tsdb:dev", arm64, Run{Port: 9090, Tmpfs: []string{"/tsdb", "/var/lib/tsdb"}, UID: 65534, GID: 65533})
	if err != nil {
		t.Fatal(err)
	}
	if port.String() != "9090/tcp" {
		t.Errorf("port = %s, want 9090/tcp", port)
	}
	if diff := cmp.Diff(map[string]string{"/tsdb": "uid=65534,gid=65533", "/var/lib/tsdb": "uid=65534,gid=65533"}, o.HostConfig.Tmpfs); diff != "" {
		t.Errorf("Tmpfs (-want +got):\n%s", diff)
	}
	b := o.HostConfig.PortBindings[port]
	if len(b) != 1 || b[0].HostIP.String() != "127.0.0.1" || b[0].HostPort != "" {
		t.Errorf("binding = %+v, want 127.0.0.1 on a free port", b)
	}
	if o.Platform.Architecture != "arm64" || o.Config.Image != "tsdb:dev" || len(o.Config.Cmd) != 0 || len(o.Config.Env) != 0 {
		t.Errorf("config = %+v, platform %+v: want the image's own Args and Env, for arm64", o.Config, o.Platform)
	}
	o, _, _ = createOptions("hello:dev", arm64, Run{Port: 8080})
	if o.HostConfig.Tmpfs != nil {
		t.Errorf("Tmpfs = %v without volumes", o.HostConfig.Tmpfs)
	}
}
