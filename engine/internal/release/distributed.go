package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"

	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/preflight"
)

// DigestsDir is where release:platform writes, and release:merge reads, the
// per-platform digests, inside the output directory (dist/ by default). CI copies it
// between jobs.
const DigestsDir = "digests"

// PlatformDigest is one variant of one image pushed by digest for one platform.
type PlatformDigest struct {
	Image    string `json:"image"`
	Variant  string `json:"variant"`
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Version  string `json:"version"`
}

// rel is the digest's file in the output directory, a slash path.
func (d PlatformDigest) rel() string {
	p, _ := platform.Parse(d.Platform)
	return path.Join(DigestsDir, fmt.Sprintf("%s-%s-%s.json", path.Base(d.Image), d.Variant, p.Dir()))
}

// Platform builds both variants of every image for the one platform p (on a
// runner of that platform, say), pushes them by digest, verifies them, and writes
// their digests under <dist>/digests/. No tag is written: release:merge does that.
// That the digest files are mageship's to write is checked before anything is built.
func Platform(ctx context.Context, p string, o Options) ([]PlatformDigest, error) {
	plat, err := platform.Parse(p)
	if err != nil {
		return nil, err
	}
	step := o.Progress.StartCheck("resolve")
	rp, err := planRelease(ctx, o, []platform.Platform{plat})
	if err != nil {
		step.Done(err)
		return nil, err
	}
	defer os.RemoveAll(rp.dir)
	var rels []string
	for _, st := range rp.steps {
		rels = append(rels, PlatformDigest{Image: st.pub.Image, Variant: st.pub.Variant, Platform: plat.String()}.rel())
	}
	if err = rp.dist.Check(rels...); err != nil {
		err = dist.InTheWay(err, "nothing was built")
	} else if err = rp.checkBeforeBuild(ctx, o); err == nil {
		err = rp.resolveBases(ctx) // the direct assembler builds on these digests
	}
	step.Done(err)
	if err != nil {
		return nil, err
	}
	if err := rp.compile(ctx, o); err != nil {
		return nil, err
	}
	var out []PlatformDigest
	for _, st := range rp.steps {
		md, err := st.run(ctx, rp, o)
		if err != nil {
			return out, err
		}
		ref := st.pub.Image + "@" + md.Digest
		m, err := rp.reg.DescribeImage(ctx, ref)
		if err != nil {
			return out, fmt.Errorf("verifying %s: %w", ref, err)
		}
		if m.Platform != plat {
			return out, fmt.Errorf("verifying %s: it is a %s image, want %s", ref, m.Platform, plat)
		}
		if err := verifyManifest(m, st.spec, rp.info.Version); err != nil {
			return out, fmt.Errorf("verifying %s: %w", ref, err)
		}
		d := PlatformDigest{Image: st.pub.Image, Variant: st.pub.Variant, Platform: plat.String(), Digest: md.Digest, Version: rp.info.Version}
		if err := dist.PutJSON(rp.dist, d.rel(), d); err != nil {
			return out, dist.InTheWay(err, ref+" is pushed")
		}
		out = append(out, d)
		fmt.Fprintf(o.Stdout, "pushed %s (%s, %s) by digest; wrote %s\n", ref, d.Variant, d.Platform, rp.dist.Name(d.rel()))
	}
	return out, nil
}

// openRelease plans a release of every configured platform and checks, before
// anything is pushed, what a release that writes release.json and moves tags needs:
// that release.json is mageship's to write (else the error ends with nothingDone) and
// that signing, when asked for, can run. On success the caller removes rp.dir. Run
// and Merge both begin with these steps (Run then checks push access and runs the
// preflight).
func openRelease(ctx context.Context, o Options, nothingDone string) (*releasePlan, error) {
	rp, err := planRelease(ctx, o, nil)
	if err != nil {
		return nil, err
	}
	if err := rp.dist.Check(SummaryFile); err != nil {
		os.RemoveAll(rp.dir)
		return nil, dist.InTheWay(err, nothingDone)
	}
	if err := checkSigning(rp.r); err != nil {
		os.RemoveAll(rp.dir)
		return nil, err
	}
	return rp, nil
}

// checkBeforeBuild asks the registries whether the credentials allow pushing, then
// runs the preflight for rp's platforms: what Run and Platform check after
// planning and before building.
func (rp *releasePlan) checkBeforeBuild(ctx context.Context, o Options) error {
	if err := rp.checkPush(ctx); err != nil {
		return err
	}
	return preflight.Check(ctx, rp.reg, rp.r, rp.plats, rp.r.Settings.Attest(), true, o.Stderr)
}

// Merge reads the digests release:platform wrote for every configured platform,
// writes each image's multi-platform index by digest, verifies it, and then moves all
// the tags in one step, as Run does.
func Merge(ctx context.Context, o Options) (Summary, error) {
	rp, err := openRelease(ctx, o, "no index was written")
	if err != nil {
		return Summary{}, err
	}
	defer os.RemoveAll(rp.dir)
	if err := rp.resolveBases(ctx); err != nil {
		return Summary{}, err
	}
	inDist := rp.dist.Name(DigestsDir)
	shas := &binaryDigests{m: map[string]string{}}
	for _, st := range rp.steps {
		var digests []string
		for _, p := range rp.r.Platforms {
			want := PlatformDigest{Image: st.pub.Image, Variant: st.pub.Variant, Platform: p.String()}
			b, err := os.ReadFile(rp.dist.Path(want.rel()))
			if err != nil {
				return Summary{}, fmt.Errorf("no digest of %s (%s) for %s in %s: run mage release:platform %s for this commit and copy its %s here", st.pub.Image, st.pub.Variant, p, inDist, p, inDist)
			}
			var got PlatformDigest
			if err := json.Unmarshal(b, &got); err != nil {
				return Summary{}, fmt.Errorf("reading %s: %w", rp.dist.Name(want.rel()), err)
			}
			if got.Version != rp.info.Version {
				return Summary{}, fmt.Errorf("%s was pushed for version %s, but this commit is version %s: run release:platform and release:merge on the same commit", rp.dist.Name(want.rel()), got.Version, rp.info.Version)
			}
			digests = append(digests, got.Digest)
		}
		d, err := rp.reg.Merge(ctx, st.pub.Image, digests)
		if err != nil {
			return Summary{}, fmt.Errorf("%w (no tag was moved)", err)
		}
		st.pub.Digest, st.pub.Ref = d, st.pub.Image+"@"+d
		if err := st.verify(ctx, rp, shas, o); err != nil {
			return Summary{}, err
		}
	}
	if err := rp.sign(ctx, o); err != nil {
		return Summary{}, err
	}
	return rp.publish(ctx, o)
}
