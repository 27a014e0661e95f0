package preflight

import (
	"testing"

	"github.com/mageship/mageship/engine/internal/config"
)

func TestPushByDigestFix(t *testing.T) {
	host := PushByDigestFix(config.Resolved{Build: config.BuildHost, Assemble: config.AssembleBuildx})
	container := PushByDigestFix(config.Resolved{Build: config.BuildContainer, Assemble: config.AssembleBuildx})
	for _, tc := range []struct{ got, want string }{
		{host, "create a builder that can (docker buildx create --use), or assemble without buildx: unset MAGESHIP_ASSEMBLE (direct, the host path's default)"},
		{container, "create a builder that can (docker buildx create --use), or build on the host (unset MAGESHIP_BUILD), whose default assembler needs no builder"},
	} {
		if tc.got != tc.want {
			t.Errorf("fix %q, want %q", tc.got, tc.want)
		}
	}
}
