package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mageship/mageship/engine/internal/assemble"
	"github.com/mageship/mageship/engine/internal/buildx"
	"github.com/mageship/mageship/engine/internal/crash"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/progress"
	"github.com/mageship/mageship/engine/internal/registry"
)

// pushWaits are the waits before a variant's push is tried again after a transient
// failure BuildKit gave up on (a 5xx or 429 answer, a dropped connection): four tries
// in all. Pushing again is safe: the push is by digest and no tag has moved, and the
// blobs that made it are not uploaded again.
var pushWaits = []time.Duration{2 * time.Second, 6 * time.Second, 18 * time.Second}

// run builds and pushes st by digest, shown as the steps assemble and push, and tries
// again where the failure allows it (retryPush); push counts the compressed bytes of
// the index it pushed.
func (st *releaseStep) run(ctx context.Context, rp *releasePlan, o Options) (buildx.Metadata, error) {
	if st.spec.Direct() {
		return st.assembleDirect(ctx, rp, o) // the host path's default: no buildx (direct.go)
	}
	if err := st.spec.Write(); err != nil {
		return buildx.Metadata{}, err
	}
	b := progress.StartBuild(o.Progress, st.subject(), true)
	var md buildx.Metadata
	retries, err := retryPush(ctx, pushWaits, sleepCtx, func(be *buildx.Error, wait time.Duration) {
		when := "in " + wait.String()
		if wait == 0 {
			when = "at once"
		}
		fmt.Fprintf(o.Stderr, "note: pushing %s (%s): %s; pushing again %s\n", st.pub.Image, st.pub.Variant, firstLine(be.Cause()), when)
	}, func(ctx context.Context) error {
		var err error
		md, err = st.assemble(ctx, o, b)
		return err
	})
	rp.pushRetries.Add(int64(retries))
	if err != nil {
		err = st.failed(err, retries)
	}
	if err == nil {
		if idx, derr := rp.reg.Describe(ctx, st.pub.Image+"@"+md.Digest); derr == nil {
			st.pushed = &idx
			step := b.Push()
			for _, m := range idx.Platforms {
				step.AddBytes(m.Size)
			}
		}
	}
	return md, b.Done(err)
}

// assemble builds st's image for its platforms and pushes it by digest, once, with
// buildx: the one place a variant is assembled. Its output goes to out.
func (st *releaseStep) assemble(ctx context.Context, o Options, out io.Writer) (buildx.Metadata, error) {
	return buildx.Run(ctx, st.spec.Build, buildx.WithStdout(out), buildx.WithStderr(out), buildx.WithEnv(o.Env))
}

// retryPush runs push until it succeeds or fails for good, and returns how many
// times it ran it again. A transient failure (buildx.Error.Transient) is tried again
// after each of waits in turn, told to note first; the blob race, where the registry
// lost one of two concurrent uploads of a shared layer (both variants push their
// COPY --link layers at once), is tried again at once, once: the blob is there now.
func retryPush(ctx context.Context, waits []time.Duration, sleep func(context.Context, time.Duration) error,
	note func(*buildx.Error, time.Duration), push func(context.Context) error) (int, error) {
	retries, raced := 0, false
	for {
		err := push(ctx)
		var be *buildx.Error
		if err == nil || ctx.Err() != nil || !errors.As(err, &be) {
			return retries, err
		}
		switch {
		case be.Kind == buildx.FailureBlobRace && !raced:
			note(be, 0)
			raced = true
		case be.Transient() && len(waits) > 0:
			note(be, waits[0])
			if serr := sleep(ctx, waits[0]); serr != nil {
				return retries, err
			}
			waits = waits[1:]
		default:
			return retries, err
		}
		retries++
	}
}

// failed words a failed build of st in one line that names the image, not the
// build's files: what was pushed where, what the registry answered, and the fix; a
// failure buildx could not classify keeps the tool's last lines below that line.
func (st *releaseStep) failed(err error, retries int) error {
	var be *buildx.Error
	if !errors.As(err, &be) {
		return err
	}
	doing := "building"
	switch be.Kind {
	case buildx.FailurePushStatus, buildx.FailurePushDropped, buildx.FailurePushUnreachable, buildx.FailureAuth, buildx.FailureBlobRace:
		doing = "pushing"
	}
	tries := ""
	if retries > 0 {
		tries = fmt.Sprintf(" (%d tries)", retries+1)
	}
	return &stepError{msg: fmt.Sprintf("%s %s (%s) for %s%s: %s", doing, st.pub.Image, st.pub.Variant, platform.Strings(st.spec.Build.Platforms), tries, be.Cause()), err: err}
}

// pushFailed words a failed direct push of t in one line that names the image, its
// variant and platforms, then the registry's answer as the registry client explained
// it (which says how many times a transient answer came: each request was tried
// again under the client's retry policy before the push gave up).
func (st *releaseStep) pushFailed(t registry.Pushable, err error) error {
	cause := err.Error()
	if d, derr := t.Digest(); derr == nil {
		cause = strings.TrimPrefix(cause, "pushing "+st.pub.Image+"@"+d.String()+": ")
	}
	return &stepError{msg: fmt.Sprintf("pushing %s (%s) for %s: %s", st.pub.Image, st.pub.Variant, platform.Strings(st.spec.Build.Platforms), cause), err: err}
}

// stepError is a step's failure worded by the step; the tool's error is in its chain.
type stepError struct {
	msg string
	err error
}

func (e *stepError) Error() string { return e.msg }

func (e *stepError) Unwrap() error { return e.err }

// firstLine is s up to its first line break.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// runAll runs every step's build concurrently, at most r.Jobs at a time, and records
// the digests. The first failure cancels the others.
func (rp *releasePlan) runAll(ctx context.Context, o Options) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(rp.r.Jobs, 1))
	errs := make([]error, len(rp.steps))
	for i, st := range rp.steps {
		g.Go(crash.Recover(func() error {
			if ctx.Err() != nil {
				errs[i] = context.Cause(ctx) // stopped before its turn came
				return errs[i]
			}
			md, err := st.run(ctx, rp, o)
			if err != nil {
				errs[i] = err
				return err
			}
			st.pub.Digest = md.Digest
			st.pub.Ref = st.pub.Image + "@" + md.Digest
			return nil
		}))
	}
	g.Wait()
	// Report the failure that caused the others to stop, not their cancellation.
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return joinLine(errs)
}

// lineErrors are failures of things done at once, in one line: a user reads one
// line saying what was wrong.
type lineErrors []error

func (e lineErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e lineErrors) Unwrap() []error { return e }

// joinLine is errors.Join's one-line twin: nil when every error is nil, the error
// itself when there is one.
func joinLine(errs []error) error {
	var e lineErrors
	for _, err := range errs {
		if err != nil {
			e = append(e, err)
		}
	}
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}

// assembleDirect makes st's images for its platforms and pushes them by digest: an
// index for several platforms, the image itself for one (as buildx does, and as
// release:merge expects), shown as the steps assemble and push. It is the direct
// assembler's twin of running st.spec.Build.
func (st *releaseStep) assembleDirect(ctx context.Context, rp *releasePlan, o Options) (buildx.Metadata, error) {
	b := progress.StartBuild(o.Progress, st.subject(), true)
	images, err := st.spec.PinBase(rp.bases).AssemblePlatforms(ctx, rp.reg, st.spec.Build.Platforms, b)
	if err != nil {
		return buildx.Metadata{}, b.Done(err)
	}
	var t registry.Pushable = images[0]
	if len(images) > 1 {
		if t, err = assemble.Index(images); err != nil {
			return buildx.Metadata{}, b.Done(err)
		}
	}
	step := b.Push()
	d, err := rp.reg.Push(ctx, st.pub.Image, t)
	if err != nil {
		return buildx.Metadata{}, b.Done(st.pushFailed(t, err))
	}
	idx, err := rp.reg.Describe(ctx, st.pub.Image+"@"+d)
	if err != nil {
		return buildx.Metadata{}, b.Done(fmt.Errorf("reading back %s@%s: %w", st.pub.Image, d, err))
	}
	fmt.Fprintf(b, "pushed %s@%s\n", st.pub.Image, d)
	st.pushed = &idx
	for _, m := range idx.Platforms {
		step.AddBytes(m.Size)
	}
	return buildx.Metadata{Digest: d}, b.Done(nil)
}
