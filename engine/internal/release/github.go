package release

import (
	"fmt"
	"os"
	"strings"

	"github.com/mageship/mageship/engine/internal/bytesize"
)

// GitHub Actions' own variables: EnvGitHubStepSummary is the file it shows as the
// job's summary (a release appends its table there); EnvGitHubActions is "true" in
// its jobs (a failure is then also an annotation).
const (
	EnvGitHubStepSummary = "GITHUB_STEP_SUMMARY"
	EnvGitHubActions     = "GITHUB_ACTIONS"
)

// githubSummary is the release's table in GitHub's Markdown: one row per image and
// variant.
func githubSummary(s Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### mageship released %s\n\n", s.Version)
	b.WriteString("| Image | Variant | Digest | Platforms (compressed) | Tags | Signature |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, p := range s.Images {
		var plats []string
		for _, pl := range p.Platforms {
			plats = append(plats, fmt.Sprintf("%s %s", pl.Platform, bytesize.Format(pl.Size)))
		}
		tags := "none"
		if len(p.Tags) > 0 {
			tags = "`" + strings.Join(p.Tags, "` `") + "`"
		}
		if len(p.Skipped) > 0 {
			tags += " (not moved: `" + strings.Join(p.Skipped, "` `") + "`)"
		}
		sig := "unsigned"
		if p.Signature != "" {
			sig = "`" + p.Signature + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s | %s |\n", p.Image, p.Variant, p.Digest, strings.Join(plats, "<br>"), tags, sig)
	}
	if len(s.Steps) > 0 {
		b.WriteString("\nSteps: ")
		for i, st := range s.Steps {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(st.Step)
			if st.Subject != "" {
				b.WriteString(" " + st.Subject)
			}
			fmt.Fprintf(&b, " %.1fs", st.Seconds)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// appendGitHubSummary appends the release's table to GITHUB_STEP_SUMMARY, when set.
func appendGitHubSummary(getenv func(string) string, s Summary) error {
	name := getenv(EnvGitHubStepSummary)
	if name == "" {
		return nil
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(githubSummary(s)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
