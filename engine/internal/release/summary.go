package release

import (
	"fmt"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/bytesize"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/registry"
)

// Published is one variant of one image as a release left it.
type Published struct {
	Image     string              `json:"image"`
	Variant   string              `json:"variant"`
	Digest    string              `json:"digest"` // the index
	Tags      []string            `json:"tags"`
	Platforms []PublishedPlatform `json:"platforms"`
	Ref       string              `json:"ref"` // image@digest
	// Skipped are the floating tags (X.Y, X, latest) this release did not move,
	// because a higher version is released in the repository.
	Skipped []string `json:"skipped_tags,omitempty"`
	// Signature is the cosign signature of the index (a Sigstore bundle attached to it
	// as a referrer), repository@digest; empty when MAGESHIP_COSIGN_KEY is unset.
	Signature string `json:"signature,omitempty"`
}

// PublishedPlatform is one platform's manifest in a published index.
type PublishedPlatform struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Size     int64  `json:"compressed_bytes"`
	SBOM     string `json:"sbom,omitempty"` // the SPDX SBOM attached to it, repository@digest
}

// SummaryFile is where, in the output directory, Run and Merge write
// their summary.
const SummaryFile = "release.json"

// Summary is what Release writes to <dist>/release.json.
type Summary struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	// SourceDateEpoch is the time every image records (the commit's, or the caller's
	// SOURCE_DATE_EPOCH); GoVersion built the binaries; BaseImages are the digests the
	// base images' tags named when the release began. With the commit, what a
	// verifier needs to rebuild and compare.
	SourceDateEpoch int64             `json:"source_date_epoch,omitempty"`
	GoVersion       string            `json:"go_version,omitempty"`
	BaseImages      map[string]string `json:"base_images,omitempty"`
	Images          []Published       `json:"images"`
	// Throttled is what the registries' 429 answers to mageship's own calls cost:
	// checks, verification's reads, SBOMs, signature lookups, tags.
	Throttled registry.Throttled `json:"registry_throttled"`
	// Retried is what was tried again after a transient failure.
	Retried Retried `json:"retried"`
	// Steps are the steps the release took, with their times; a push step's bytes are
	// the compressed size of the images its index lists (BuildKit does not say how
	// many of them it uploaded and how many the registry had).
	Steps []progress.Timing `json:"steps,omitempty"`
}

// Retried counts what a release tried again after a transient failure (a 5xx or 429
// answer, a dropped connection).
type Retried struct {
	// Pushes are variants' whole pushes run again after BuildKit gave up (and the
	// blob race's one push again).
	Pushes int `json:"pushes"`
	// Requests are mageship's own registry requests tried again.
	Requests int `json:"registry_requests"`
}

// String is the summary's line: "2 pushes, 1 registry request", leaving out what is 0.
func (r Retried) String() string {
	var parts []string
	if r.Pushes > 0 {
		parts = append(parts, fmt.Sprintf("%d push%s", r.Pushes, map[bool]string{true: "", false: "es"}[r.Pushes == 1]))
	}
	if r.Requests > 0 {
		parts = append(parts, fmt.Sprintf("%d registry request%s", r.Requests, map[bool]string{true: "", false: "s"}[r.Requests == 1]))
	}
	return strings.Join(parts, ", ")
}

func printSummary(o Options, s Summary, file string) {
	fmt.Fprintf(o.Stdout, "released version %s (%s)\n", s.Version, time.Now().UTC().Format(time.RFC3339))
	for _, p := range s.Images {
		fmt.Fprintf(o.Stdout, "  %s (%s)\n    index %s\n    tags: %s\n", p.Image, p.Variant, p.Digest, strings.Join(p.Tags, ", "))
		for _, pl := range p.Platforms {
			fmt.Fprintf(o.Stdout, "    %-11s  %7s  %s\n", pl.Platform, bytesize.Format(pl.Size), pl.Digest)
		}
	}
	if s.Throttled.Waits() > 0 {
		fmt.Fprintln(o.Stdout, "  registry throttling: "+s.Throttled.String())
	}
	if s.Retried != (Retried{}) {
		fmt.Fprintln(o.Stdout, "  retried after transient failures: "+s.Retried.String())
	}
	if steps := o.Progress.Summary(); steps != "" {
		fmt.Fprintln(o.Stdout, "  steps: "+steps)
	}
	fmt.Fprintln(o.Stdout, "  summary: "+file)
}
