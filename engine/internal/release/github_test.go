package release

import (
	"testing"

	"github.com/mageship/mageship/engine/internal/progress"
)

func TestGitHubSummary(t *testing.T) {
	s := Summary{Version: "1.2.4", Images: []Published{{
		Image: "localhost:5000/acme/hello", Variant: "production", Digest: "sha256:aaa",
		Tags: []string{"1.2.4", "1.2"}, Skipped: []string{"1", "latest"}, Signature: "localhost:5000/acme/hello@sha256:sig",
		Platforms: []PublishedPlatform{{Platform: "linux/amd64", Size: 2 << 20}, {Platform: "linux/arm64", Size: 3 << 20}},
	}}, Steps: []progress.Timing{{Step: "resolve", Seconds: 0.4}, {Step: "compile", Subject: "linux/amd64", Seconds: 0.61}}}
	want := "### mageship released 1.2.4\n\n" +
		"| Image | Variant | Digest | Platforms (compressed) | Tags | Signature |\n" +
		"|---|---|---|---|---|---|\n" +
		"| `localhost:5000/acme/hello` | production | `sha256:aaa` | linux/amd64 2.0 MiB<br>linux/arm64 3.0 MiB | `1.2.4` `1.2` (not moved: `1` `latest`) | `localhost:5000/acme/hello@sha256:sig` |\n" +
		"\nSteps: resolve 0.4s, compile linux/amd64 0.6s\n"
	if got := githubSummary(s); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
