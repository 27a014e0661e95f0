package bench

import (
	"os"
	"testing"
)

func TestUnstamped(t *testing.T) {
	for v, want := range map[string]bool{"v0.0.0+unknown": true, "": true, "unknown": true, "v0.38.2": false, "v0.34.2-rc1": false} {
		if got := unstamped(v); got != want {
			t.Errorf("unstamped(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestModuleVersion(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A test binary records its main module as (devel), and no dependencies.
	if got := moduleVersion(exe, "github.com/mageship/mageship"); got != "" {
		t.Errorf("moduleVersion(test binary, its own module) = %q, want \"\" for (devel)", got)
	}
	if got := moduleVersion(exe, "example.com/none"); got != "" {
		t.Errorf("moduleVersion of a module the binary lacks = %q, want \"\"", got)
	}
	if got := moduleVersion("/nonexistent", "github.com/google/go-cmp"); got != "" {
		t.Errorf("moduleVersion of a missing file = %q", got)
	}
}
