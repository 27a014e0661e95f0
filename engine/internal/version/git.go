package version

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mageship/mageship/engine/internal/command"
)

// Facts are what git says about a work tree; Gather collects them, Compute reads them.
type Facts struct {
	// ExactTags are the tags on HEAD, lightweight or annotated, semver or not.
	ExactTags []string
	// AllTags are all tags in the repository, semver or not.
	AllTags []string
	// Describe is git describe --tags --long --always output limited to release tags
	// (vX.Y.Z[-pre]): <tag>-<commits since>-g<sha>, or the bare abbreviated sha when no
	// release tag is an ancestor of HEAD.
	Describe string
	// Commit is the full sha of HEAD; empty means no git.
	Commit string
	// CommitTime is the committer time of HEAD, in UTC.
	CommitTime time.Time
	// Dirty reports changes to tracked files or untracked, non-ignored files.
	Dirty bool
	// Commits counts the commits reachable from HEAD. Gather fills it only when
	// Describe holds no tag, the only case Compute reads it.
	Commits int
}

// Errors from Gather and Resolve for a missing git; Resolve falls back to Dev on them
// when Options.AllowNoGit is set.
var (
	ErrNoGit         = errors.New("git not found on PATH")
	ErrNotRepository = errors.New("not a git repository")
	ErrNoCommits     = errors.New("no commits")
)

// Resolve gathers the facts of the work tree in dir and computes its version.
// Changes under the outputs (mageship's output directory) do not make the tree dirty.
// Without a git binary, a repository or a commit it returns an error wrapping
// ErrNoGit, ErrNotRepository or ErrNoCommits, unless o.AllowNoGit is set (version Dev)
// or o.Override is (version Override, no revision or time).
func Resolve(ctx context.Context, dir string, o Options, outputs ...string) (Info, error) {
	if _, err := overrideTag(o.Override); err != nil {
		return Info{}, err
	}
	f, err := gather(ctx, dir, gitRunner(o.Env), outputs...)
	if err != nil {
		noGit := errors.Is(err, ErrNoGit) || errors.Is(err, ErrNotRepository) || errors.Is(err, ErrNoCommits)
		if !noGit || !(o.AllowNoGit || o.Override != "") {
			return Info{}, err
		}
		f = Facts{}
	}
	return Compute(f, o)
}

// Gather runs git in dir ("" for the current directory) to collect the facts
// Compute needs. Changes under the outputs, directories relative to dir or absolute,
// do not count as dirty; outputs outside dir are ignored.
func Gather(ctx context.Context, dir string, outputs ...string) (Facts, error) {
	return gather(ctx, dir, gitRunner(nil), outputs...)
}

// runFunc runs git with args in dir and returns its standard output.
type runFunc func(ctx context.Context, dir string, args ...string) (string, error)

func gather(ctx context.Context, dir string, run runFunc, outputs ...string) (Facts, error) {
	where := dir
	if abs, err := filepath.Abs(dir); err == nil {
		where = abs
	}
	out, err := run(ctx, dir, "rev-parse", "--is-inside-work-tree")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return Facts{}, fmt.Errorf("%w: install git, or set %s", ErrNoGit, EnvVersion)
	case err != nil && strings.Contains(err.Error(), "not a git repository"):
		return Facts{}, fmt.Errorf("%s is %w: run git init, or set %s", where, ErrNotRepository, EnvVersion)
	case err != nil:
		return Facts{}, err
	case strings.TrimSpace(out) != "true":
		return Facts{}, fmt.Errorf("%s is %w with a work tree (it is bare or inside .git): run in a checkout, or set %s", where, ErrNotRepository, EnvVersion)
	}

	// rev-parse --verify --quiet exits 1 without output when HEAD has no commit yet.
	out, err = run(ctx, dir, "rev-parse", "--verify", "--quiet", "HEAD")
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() == 1 {
		return Facts{}, fmt.Errorf("%s has %w yet: make a first commit, or set %s", where, ErrNoCommits, EnvVersion)
	}
	if err != nil {
		return Facts{}, err
	}
	f := Facts{Commit: strings.TrimSpace(out)}

	if out, err = run(ctx, dir, "show", "--no-patch", "--no-show-signature", "--format=%ct", f.Commit); err != nil {
		return Facts{}, err
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return Facts{}, fmt.Errorf("reading the commit time of %s: git show printed %q, not seconds since 1970", f.Commit, out)
	}
	f.CommitTime = time.Unix(sec, 0).UTC()

	// mageship's output directory (binaries, release.json, digests) does not make the
	// tree dirty.
	if out, err = run(ctx, dir, statusArgs(where, outputs)...); err != nil {
		return Facts{}, err
	}
	f.Dirty = strings.TrimSpace(out) != ""

	if out, err = run(ctx, dir, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags"); err != nil {
		return Facts{}, err
	}
	f.AllTags = strings.Fields(out)
	if out, err = run(ctx, dir, "for-each-ref", "--format=%(refname:strip=2)", "--points-at="+f.Commit, "refs/tags"); err != nil {
		return Facts{}, err
	}
	f.ExactTags = strings.Fields(out)

	if out, err = run(ctx, dir, describeArgs(f.Commit, f.AllTags)...); err != nil {
		return Facts{}, err
	}
	f.Describe = strings.TrimSpace(out)
	if _, _, ok := parseDescribe(f.Describe); !ok {
		if out, err = run(ctx, dir, "rev-list", "--count", f.Commit); err != nil {
			return Facts{}, err
		}
		if f.Commits, err = strconv.Atoi(strings.TrimSpace(out)); err != nil {
			return Facts{}, fmt.Errorf("counting the commits of %s: git rev-list printed %q, not a number", f.Commit, out)
		}
	}
	return f, nil
}

// statusArgs returns the git status argv that lists the changes in dir (absolute),
// leaving out the outputs that lie inside it.
func statusArgs(dir string, outputs []string) []string {
	args := []string{"--no-optional-locks", "status", "--porcelain", "--untracked-files=normal", "--", "."}
	for _, o := range outputs {
		if !filepath.IsAbs(o) {
			o = filepath.Join(dir, o)
		}
		rel, err := filepath.Rel(dir, o)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		args = append(args, ":(exclude,literal)"+filepath.ToSlash(rel))
	}
	return args
}

// describeArgs returns the git describe argv that finds the nearest release tag
// (vX.Y.Z[-pre]) of commit: tags starting with "v" that are not releases are excluded
// by name (tag names cannot hold glob characters, so each matches only itself).
func describeArgs(commit string, tags []string) []string {
	args := []string{"describe", "--tags", "--long", "--always", "--abbrev=7", "--match=v*"}
	for _, t := range tags {
		if strings.HasPrefix(t, "v") && !isRelease(t) {
			args = append(args, "--exclude="+t)
		}
	}
	return append(args, commit)
}

// gitEnv returns the environment for git: the caller's, with messages in English
// so that errors can be recognised.
func gitEnv(environ []string) []string {
	return append(environ, "LC_ALL=C")
}

// gitRunner runs git with env (nil: os.Environ()); its errors name the command and
// carry git's standard error.
func gitRunner(env []string) runFunc {
	if env == nil {
		env = os.Environ()
	}
	return func(ctx context.Context, dir string, args ...string) (string, error) {
		return runGit(ctx, dir, env, args...)
	}
}

func runGit(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	out, err := command.Output(ctx, command.Cmd{Name: "git", Args: args, Env: gitEnv(env), Dir: dir})
	if err != nil {
		msg := ""
		var ce *command.Error
		if errors.As(err, &ce) {
			err = ce.Err
			if ce.Output != "" {
				msg = ": " + strings.TrimSpace(ce.Output)
			}
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", fmt.Errorf("running git %s in %q: %w%s", strings.Join(args, " "), dir, err, msg)
	}
	return string(out), nil
}
