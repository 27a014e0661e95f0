package config

import (
	"fmt"
	"strings"
)

// EnvCgo is the go command's switch for cgo. mageship's images are static by design
// (scratch or distroless static: no libc), so every build runs with CGO_ENABLED=0, and
// a CGO_ENABLED=1 the user set is refused rather than silently overridden.
const EnvCgo = "CGO_ENABLED"

// checkCgoEnv refuses a CGO_ENABLED other than 0 in the environment, in one line.
func checkCgoEnv(getenv func(string) string) error {
	switch v := strings.TrimSpace(getenv(EnvCgo)); v {
	case "", "0":
		return nil
	default:
		return fmt.Errorf("%s=%s is set, but mageship builds static binaries (CGO_ENABLED=0) so its images run without libc: unset %s, and replace what needs cgo with a pure-Go package", EnvCgo, v, EnvCgo)
	}
}
