package release

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mageship/mageship/engine/internal/dist"
	"github.com/mageship/mageship/engine/internal/registry"
	"github.com/mageship/mageship/engine/internal/version"
)

// publish is the one step that moves tags, then the summary. The exact version tags
// are written first, so that a concurrent release sees them; the floating tags (X.Y,
// X, latest and their -debug twins) then follow only where this version is still the
// highest stable one, by git and by the repository's tags read right before they are
// written (floatGate), and are checked again right after (settle).
func (rp *releasePlan) publish(ctx context.Context, o Options) (Summary, error) {
	floating := map[string]bool{}
	for _, f := range version.Floating(rp.info.Version, nil, nil) {
		floating[f.Tag], floating[f.Tag+version.DebugSuffix] = true, true
	}
	var moves []registry.Move
	for _, st := range rp.steps {
		for _, t := range st.tags {
			moves = append(moves, registry.Move{Repo: st.pub.Image, Tag: t, Digest: st.pub.Digest, Floating: floating[t]})
		}
	}
	step := o.Progress.Start("tag", fmt.Sprintf("%d tags", len(moves)))
	if err := rp.reg.Publish(ctx, moves, rp.floatGate(o)); err != nil {
		step.Done(err)
		return Summary{}, err
	}
	rp.settle(ctx, o, floating)
	step.Done(nil)
	sum := Summary{Version: rp.info.Version, Revision: rp.info.Revision, Throttled: rp.reg.Throttled(),
		Retried:   Retried{Pushes: int(rp.pushRetries.Load()), Requests: rp.reg.Transient()},
		GoVersion: rp.goVersion, BaseImages: rp.bases, Steps: o.Progress.Timings()}
	if when := rp.r.Settings.Time(rp.info.Created); !when.IsZero() {
		sum.SourceDateEpoch = when.Unix()
	}
	for _, st := range rp.steps {
		sum.Images = append(sum.Images, st.pub)
	}
	if err := dist.PutJSON(rp.dist, SummaryFile, sum); err != nil {
		return sum, dist.InTheWay(err, "the release is published and tagged, but this summary of it is not written")
	}
	o.Progress.Close() // the summary goes under the steps
	printSummary(o, sum, rp.dist.Name(SummaryFile))
	if err := appendGitHubSummary(o.Getenv, sum); err != nil {
		fmt.Fprintf(o.Stderr, "warning: writing the GitHub job summary: %v\n", err)
	}
	return sum, nil
}

// floatOwners reads repo's tags and returns, for each floating tag of this version,
// the version it belongs on (version.Floating). git's tags need not be weighed again:
// a floating tag is among the moves only where git allowed it.
func (rp *releasePlan) floatOwners(ctx context.Context, repo string) (map[string]string, error) {
	tags, err := rp.reg.ListTags(ctx, repo)
	if err != nil {
		return nil, err
	}
	own := map[string]string{}
	for _, f := range version.Floating(rp.info.Version, nil, tags) {
		own[f.Tag] = f.Owner
	}
	return own, nil
}

// floatGate keeps the floating moves whose tag this version still owns in each
// repository, and notes the others, one line per repository.
func (rp *releasePlan) floatGate(o Options) registry.Gate {
	return func(ctx context.Context, fl []registry.Move) ([]registry.Move, error) {
		owners := map[string]map[string]string{}
		var keep []registry.Move
		var held heldTags
		for _, m := range fl {
			own, ok := owners[m.Repo]
			if !ok {
				var err error
				if own, err = rp.floatOwners(ctx, m.Repo); err != nil {
					return nil, fmt.Errorf("%w: cannot tell whether %s is still the highest version there, so no floating tag moved", err, rp.info.Version)
				}
				owners[m.Repo] = own
			}
			if owner := own[strings.TrimSuffix(m.Tag, version.DebugSuffix)]; owner != rp.info.Version {
				held.add(rp, m, owner)
				continue
			}
			keep = append(keep, m)
		}
		held.note(o.Stderr, "note: %[1]s: %[2]s is released there, higher than %[3]s: not moving %[4]s", rp.info.Version)
		return keep, nil
	}
}

// settle reads each repository's tags again once the floating tags are written.
// Registries have no compare-and-swap on tags: a concurrent release of a higher
// version may have read the tags before this one's exact tag was there, and written
// its floating tags before this one did. Where a higher version shows up now, the
// floating tags this release moved go to that version's own tag (X.Y.Z or
// X.Y.Z-debug) again. A failure here is a warning: the release itself is done.
//
// What is left: a release stopped (killed, or its registry gone) between writing its
// floating tags and this check leaves them behind; a registry whose tag list lags
// behind its writes (eventually consistent listing) hides a higher version from both
// reads; and a concurrent release that fails puts the tags it moved back where it read
// them at its start.
func (rp *releasePlan) settle(ctx context.Context, o Options, floating map[string]bool) {
	owners := map[string]map[string]string{}
	var moves []registry.Move
	var held heldTags
	for _, st := range rp.steps {
		for _, t := range st.pub.Tags {
			if !floating[t] {
				continue
			}
			own, ok := owners[st.pub.Image]
			if !ok {
				var err error
				if own, err = rp.floatOwners(ctx, st.pub.Image); err != nil {
					fmt.Fprintf(o.Stderr, "warning: checking, after tagging, that no higher version of %s was released meanwhile: %v; check where its floating tags point\n", st.pub.Image, err)
					own = map[string]string{}
				}
				owners[st.pub.Image] = own
			}
			base := strings.TrimSuffix(t, version.DebugSuffix)
			owner := own[base]
			if owner == "" || owner == rp.info.Version {
				continue
			}
			ref := st.pub.Image + ":" + owner + strings.TrimPrefix(t, base)
			d, err := rp.reg.Resolve(ctx, ref)
			if err != nil || d == "" {
				fmt.Fprintf(o.Stderr, "warning: %s is released in %s, but %s cannot be read (%v): %s:%s stays on %s\n", owner, st.pub.Image, ref, err, st.pub.Image, t, rp.info.Version)
				continue
			}
			moves = append(moves, registry.Move{Repo: st.pub.Image, Tag: t, Digest: d})
			held.add(rp, registry.Move{Repo: st.pub.Image, Tag: t, Digest: st.pub.Digest}, owner)
		}
	}
	if len(moves) == 0 {
		return
	}
	if err := rp.reg.Publish(ctx, moves, nil); err != nil {
		fmt.Fprintf(o.Stderr, "warning: a higher version was released while this one was tagging, and putting the floating tags on it failed: %v\n", err)
		return
	}
	held.note(o.Stderr, "note: %[1]s: %[2]s was released while %[3]s was being tagged: moved %[4]s back to %[2]s", rp.info.Version)
}

// heldTags are floating tags that stay with (or went back to) a higher version: per
// repository and owner, in the order met.
type heldTags struct {
	keys []heldKey
	tags map[heldKey][]string
}

type heldKey struct{ repo, owner string }

// add records m's tag as held by owner, in its step's summary too.
func (h *heldTags) add(rp *releasePlan, m registry.Move, owner string) {
	for _, st := range rp.steps {
		if st.pub.Image == m.Repo && st.pub.Digest == m.Digest {
			st.pub.Tags = slices.DeleteFunc(slices.Clone(st.pub.Tags), func(t string) bool { return t == m.Tag })
			st.pub.Skipped = append(st.pub.Skipped, m.Tag)
		}
	}
	if h.tags == nil {
		h.tags = map[heldKey][]string{}
	}
	k := heldKey{m.Repo, owner}
	if _, ok := h.tags[k]; !ok {
		h.keys = append(h.keys, k)
	}
	h.tags[k] = append(h.tags[k], m.Tag)
}

// note prints one line per repository and owner: format gets the repository, the
// owner, this version and the tags.
func (h *heldTags) note(w io.Writer, format, ver string) {
	for _, k := range h.keys {
		fmt.Fprintf(w, format+"\n", k.repo, k.owner, ver, strings.Join(h.tags[k], ", "))
	}
}
